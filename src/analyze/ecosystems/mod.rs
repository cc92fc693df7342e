//! The ecosystems opsmith recognises: one module each, each turning a directory into services.
//!
//! Adding an ecosystem means one module here (a [`Detector`]) and one template folder
//! `templates/ecosystems/<name>/` (Dockerfile, .dockerignore, CI job).

use crate::analyze::tree::RepoTree;
use crate::profile::Service;

pub mod deno;
pub mod dotnet;
pub mod elixir;
pub mod go;
pub mod java;
pub mod node;
pub mod php;
pub mod python;
pub mod ruby;
pub mod rust;
pub mod static_site;
pub mod version;

/// What a detector found in one directory.
#[derive(Debug, Default)]
pub struct Detection {
    /// The deployable services found (a workspace root may give several, a library none).
    pub services: Vec<Service>,
    /// Directories this detection accounts for besides the one asked about (workspace members, asset
    /// folders); the discovery does not look at them again.
    pub claimed: Vec<String>,
}

/// Recognises one ecosystem in a directory of the tree.
pub trait Detector: Sync {
    /// Looks at `dir` (`""` for the root) and returns None when the directory is not of this ecosystem.
    /// A directory that is of this ecosystem but holds no deployable program returns a `Detection` with
    /// no services, so that its members or sub-folders are still claimed correctly.
    fn detect(&self, tree: &RepoTree, dir: &str) -> Option<Detection>;
}

/// Detectors in the order they are asked: the first that recognises a directory owns it. Back-end
/// ecosystems come before Node (a Rails or Phoenix app also has a `package.json` for its assets),
/// and plain static sites come last.
pub fn detectors() -> &'static [&'static dyn Detector] {
    &[
        &elixir::Elixir,
        &ruby::Ruby,
        &php::Php,
        &python::Python,
        &java::Java,
        &dotnet::Dotnet,
        &go::Go,
        &rust::Rust,
        &deno::Deno,
        &node::Node,
        &static_site::StaticSite,
    ]
}

/// The name a service in `dir` gets when its manifest names none: the folder's name, or for the root
/// the name of the analyzed directory itself.
pub fn dir_name(tree: &RepoTree, dir: &str) -> String {
    match dir.rsplit('/').next() {
        Some(last) if !last.is_empty() => last.to_string(),
        _ => tree
            .root()
            .canonicalize()
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "app".to_string()),
    }
}

/// The service path as shown in the profile: `.` for the root.
pub fn service_path(dir: &str) -> String {
    if dir.is_empty() {
        ".".to_string()
    } else {
        dir.to_string()
    }
}
