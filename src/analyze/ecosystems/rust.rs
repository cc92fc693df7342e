//! The rust ecosystem. NOT BUILT YET: recognises nothing.

use super::{Detection, Detector};
use crate::analyze::tree::RepoTree;

pub struct Rust;

impl Detector for Rust {
    fn detect(&self, _tree: &RepoTree, _dir: &str) -> Option<Detection> {
        None
    }
}
