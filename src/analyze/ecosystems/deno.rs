//! The deno ecosystem. NOT BUILT YET: recognises nothing.

use super::{Detection, Detector};
use crate::analyze::tree::RepoTree;

pub struct Deno;

impl Detector for Deno {
    fn detect(&self, _tree: &RepoTree, _dir: &str) -> Option<Detection> {
        None
    }
}
