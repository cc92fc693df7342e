//! The `RepoProfile`: what analysis found in a repository, and the contract between analyze and generate.

use serde::Serialize;
use std::collections::BTreeMap;

/// Everything opsmith knows about one repository tree.
#[derive(Debug, Clone, Serialize, Default)]
pub struct RepoProfile {
    /// The analyzed directory, as given.
    pub root: String,
    /// Languages by bytes, largest first, as GitHub's linguist would report them.
    pub languages: Vec<LanguageShare>,
    /// Every deployable unit, ordered by path.
    pub services: Vec<Service>,
    /// Every file with its language; filled only when asked for (`--per-file`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub files: Option<Vec<FileLanguage>>,
    /// Repository files that opsmith would otherwise generate (Dockerfiles, workflows, compose files):
    /// they are kept and used as they are. Paths relative to the root, `/`-separated.
    #[serde(skip)]
    pub existing_files: Vec<String>,
    /// Things the analysis could not read or chose to skip, one sentence each.
    #[serde(skip)]
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LanguageShare {
    pub name: String,
    pub bytes: u64,
    /// Share of the counted bytes, 0–100, rounded to two decimals.
    pub percent: f64,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FileLanguage {
    pub path: String,
    pub language: Option<String>,
}

/// One deployable unit: a program with its own manifest that becomes one container image.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Service {
    pub name: String,
    /// Directory of the service relative to the repository root, `/`-separated; `.` for the root.
    pub path: String,
    pub ecosystem: Ecosystem,
    pub package_manager: PackageManager,
    /// Lower-case kebab-case (`next`, `spring-boot`, `aspnet-core`), None for a plain program.
    pub framework: Option<String>,
    /// The runtime version the repository declares, as declared but normalised (`20`, `3.12`, `1.22`).
    pub runtime_version: Option<String>,
    /// The file (relative to the repository root) that declared `runtime_version`.
    pub runtime_version_source: Option<String>,
    pub port: Option<u16>,
    pub build_command: Option<String>,
    pub start_command: Option<String>,
    pub health_path: Option<String>,
    /// Ecosystem-specific facts the templates need (lockfile, entry module, binary name, …).
    /// Keys are documented by the ecosystem module that sets them.
    #[serde(skip)]
    pub facts: BTreeMap<String, serde_json::Value>,
}

impl Service {
    /// A service with the required facts and every optional one unknown.
    pub fn new(
        name: impl Into<String>,
        path: impl Into<String>,
        ecosystem: Ecosystem,
        package_manager: PackageManager,
    ) -> Self {
        Service {
            name: name.into(),
            path: path.into(),
            ecosystem,
            package_manager,
            framework: None,
            runtime_version: None,
            runtime_version_source: None,
            port: None,
            build_command: None,
            start_command: None,
            health_path: None,
            facts: BTreeMap::new(),
        }
    }

    /// Records one template fact.
    pub fn fact(&mut self, key: &str, value: impl Into<serde_json::Value>) {
        self.facts.insert(key.to_string(), value.into());
    }
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Ecosystem {
    Node,
    Deno,
    Python,
    Go,
    Rust,
    Java,
    Dotnet,
    Ruby,
    Php,
    Elixir,
    Static,
}

impl Ecosystem {
    pub const ALL: [Ecosystem; 11] = [
        Ecosystem::Node,
        Ecosystem::Deno,
        Ecosystem::Python,
        Ecosystem::Go,
        Ecosystem::Rust,
        Ecosystem::Java,
        Ecosystem::Dotnet,
        Ecosystem::Ruby,
        Ecosystem::Php,
        Ecosystem::Elixir,
        Ecosystem::Static,
    ];

    /// The JSON name, also the name of the ecosystem's template folder.
    pub fn as_str(self) -> &'static str {
        match self {
            Ecosystem::Node => "node",
            Ecosystem::Deno => "deno",
            Ecosystem::Python => "python",
            Ecosystem::Go => "go",
            Ecosystem::Rust => "rust",
            Ecosystem::Java => "java",
            Ecosystem::Dotnet => "dotnet",
            Ecosystem::Ruby => "ruby",
            Ecosystem::Php => "php",
            Ecosystem::Elixir => "elixir",
            Ecosystem::Static => "static",
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "lowercase")]
pub enum PackageManager {
    Npm,
    Yarn,
    Pnpm,
    Bun,
    Deno,
    Pip,
    Poetry,
    Uv,
    Pipenv,
    Pdm,
    Go,
    Cargo,
    Maven,
    Gradle,
    Dotnet,
    Bundler,
    Composer,
    Mix,
    None,
}

impl PackageManager {
    pub fn as_str(self) -> &'static str {
        match self {
            PackageManager::Npm => "npm",
            PackageManager::Yarn => "yarn",
            PackageManager::Pnpm => "pnpm",
            PackageManager::Bun => "bun",
            PackageManager::Deno => "deno",
            PackageManager::Pip => "pip",
            PackageManager::Poetry => "poetry",
            PackageManager::Uv => "uv",
            PackageManager::Pipenv => "pipenv",
            PackageManager::Pdm => "pdm",
            PackageManager::Go => "go",
            PackageManager::Cargo => "cargo",
            PackageManager::Maven => "maven",
            PackageManager::Gradle => "gradle",
            PackageManager::Dotnet => "dotnet",
            PackageManager::Bundler => "bundler",
            PackageManager::Composer => "composer",
            PackageManager::Mix => "mix",
            PackageManager::None => "none",
        }
    }
}

/// `name` as an identifier for images, jobs and cloud resources: lower-case ASCII letters and digits,
/// every run of anything else as one `-`, no `-` at either end (`@scope/Web_App` → `scope-web-app`).
pub fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

/// Target cloud for the generated infrastructure.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, Default, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Cloud {
    #[default]
    Aws,
    Gcp,
    Azure,
}

impl Cloud {
    pub fn as_str(self) -> &'static str {
        match self {
            Cloud::Aws => "aws",
            Cloud::Gcp => "gcp",
            Cloud::Azure => "azure",
        }
    }
}
