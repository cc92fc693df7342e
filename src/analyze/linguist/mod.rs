//! Language detection the way GitHub's linguist does it, from linguist's own data files.
//!
//! STUB: the real strategies (modeline, filename, shebang, extension, heuristics) are being built.

use crate::analyze::tree::RepoTree;

/// linguist's `.gitattributes` overrides for one path; `None` means "not set".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attributes {
    pub vendored: Option<bool>,
    pub generated: Option<bool>,
    pub documentation: Option<bool>,
    pub detectable: Option<bool>,
    pub language: Option<String>,
}

/// Every `.gitattributes` file of a tree, ready to answer for any path.
#[derive(Debug, Default)]
pub struct GitAttributes {}

impl GitAttributes {
    pub fn load(_tree: &RepoTree) -> Self {
        GitAttributes {}
    }

    pub fn for_path(&self, _path: &str) -> Attributes {
        Attributes::default()
    }
}

/// The verdict on one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Classified {
    /// The language as linguist names it, None when unknown or binary.
    pub language: Option<&'static str>,
    /// The name the language is counted under in repository statistics (its group), when the file counts
    /// at all: not vendored, documentation or generated, and a programming or markup language.
    pub stats_language: Option<&'static str>,
}

/// linguist's data, loaded once.
pub struct Linguist {}

impl Linguist {
    pub fn get() -> &'static Linguist {
        static L: Linguist = Linguist {};
        &L
    }

    /// Classifies one file from its path (relative, `/`-separated), its first bytes and its attributes.
    pub fn classify(&self, _path: &str, _head: &[u8], _attrs: &Attributes) -> Classified {
        Classified {
            language: None,
            stats_language: None,
        }
    }

    /// Whether linguist's `vendor.yml` marks the path as vendored (dependencies, build output, …).
    pub fn is_vendored(&self, _path: &str) -> bool {
        false
    }

    /// Whether linguist's `documentation.yml` marks the path as documentation.
    pub fn is_documentation(&self, _path: &str) -> bool {
        false
    }
}
