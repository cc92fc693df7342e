//! The go ecosystem. NOT BUILT YET: recognises nothing.

use super::{Detection, Detector};
use crate::analyze::tree::RepoTree;

pub struct Go;

impl Detector for Go {
    fn detect(&self, _tree: &RepoTree, _dir: &str) -> Option<Detection> {
        None
    }
}
