//! The node ecosystem. NOT BUILT YET: recognises nothing.

use super::{Detection, Detector};
use crate::analyze::tree::RepoTree;

pub struct Node;

impl Detector for Node {
    fn detect(&self, _tree: &RepoTree, _dir: &str) -> Option<Detection> {
        None
    }
}
