//! The dotnet ecosystem. NOT BUILT YET: recognises nothing.

use super::{Detection, Detector};
use crate::analyze::tree::RepoTree;

pub struct Dotnet;

impl Detector for Dotnet {
    fn detect(&self, _tree: &RepoTree, _dir: &str) -> Option<Detection> {
        None
    }
}
