//! Generation: a [`RepoProfile`] and settings in, artifacts (path + contents) out. Pure: no I/O.

pub mod ci;
pub mod compose;
pub mod deploy;
mod docker;
pub mod monitoring;
pub mod templates;

use crate::profile::{Cloud, RepoProfile, Service};
use serde::Serialize;
use std::collections::BTreeMap;

/// Choices that are not facts about the repository.
#[derive(Debug, Clone, Default)]
pub struct GenerateSettings {
    pub cloud: Cloud,
}

/// One generated file, laid out as it would sit in the repository.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Artifact {
    /// Relative to the repository root, `/`-separated.
    pub path: String,
    pub contents: String,
    /// Why the file is there, one sentence for the pull request body.
    pub reason: String,
}

/// The result of a generation.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Generation {
    pub artifacts: Vec<Artifact>,
    /// Files the repository already has where opsmith would have written one: kept and used as they are.
    pub kept: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    #[error("template {template}: {message}")]
    Template { template: String, message: String },
}

/// Generates every artifact the profile calls for. A repository file at an artifact's path wins: the
/// artifact is dropped and the path listed in `kept`.
pub fn generate(
    profile: &RepoProfile,
    settings: &GenerateSettings,
) -> Result<Generation, GenerateError> {
    let context = Context::new(profile, settings);
    let mut artifacts = Vec::new();
    artifacts.extend(docker::artifacts(&context)?);
    artifacts.extend(compose::artifacts(&context)?);
    artifacts.extend(ci::artifacts(&context)?);
    artifacts.extend(deploy::artifacts(&context)?);
    artifacts.extend(monitoring::artifacts(&context)?);

    let mut generation = Generation::default();
    for artifact in artifacts {
        if profile.existing_files.contains(&artifact.path) {
            generation.kept.push(artifact.path);
        } else {
            generation.artifacts.push(artifact);
        }
    }
    generation.artifacts.sort_by(|a, b| a.path.cmp(&b.path));
    generation.kept.sort();
    Ok(generation)
}

/// What every template sees.
#[derive(Debug, Clone, Serialize)]
pub struct Context {
    pub cloud: Cloud,
    pub services: Vec<ServiceView>,
    /// The services' ecosystems, each once, in a stable order.
    pub ecosystems: Vec<String>,
    /// The repository's own files that opsmith would otherwise generate (see `RepoProfile`).
    pub existing_files: Vec<String>,
}

/// A service as the templates see it: the profile's fields, its facts, and derived names.
#[derive(Debug, Clone, Serialize)]
pub struct ServiceView {
    #[serde(flatten)]
    pub service: Service,
    pub facts: BTreeMap<String, serde_json::Value>,
    /// The service folder with a trailing `/`, empty for the root: prefix for paths in the repository.
    pub dir: String,
    /// Path of the Dockerfile that builds the service (the repository's own one when it has one).
    pub dockerfile: String,
    /// Whether `dockerfile` is the repository's own file rather than a generated one.
    pub dockerfile_kept: bool,
    /// Docker build context relative to the repository root (`.` for the root): the `build_context`
    /// fact (a workspace root) or else the service folder.
    pub context: String,
    /// Where the `.dockerignore` for this build goes: at the context root when the context is the
    /// service folder, else beside the Dockerfile as `Dockerfile.dockerignore` (BuildKit reads it there),
    /// so workspace members sharing one context do not fight over one file.
    pub dockerignore: String,
    /// One line naming the facts the service's artifacts come from.
    pub summary: String,
}

impl Context {
    pub fn new(profile: &RepoProfile, settings: &GenerateSettings) -> Self {
        let services: Vec<ServiceView> = profile
            .services
            .iter()
            .map(|s| {
                let dir = if s.path == "." {
                    String::new()
                } else {
                    format!("{}/", s.path)
                };
                let dockerfile = format!("{dir}Dockerfile");
                let context = s
                    .facts
                    .get("build_context")
                    .and_then(|v| v.as_str())
                    .unwrap_or(&s.path)
                    .to_string();
                let dockerignore = if context == s.path {
                    format!("{dir}.dockerignore")
                } else {
                    format!("{dockerfile}.dockerignore")
                };
                ServiceView {
                    context,
                    dockerignore,
                    service: s.clone(),
                    facts: s.facts.clone(),
                    dockerfile_kept: profile.existing_files.contains(&dockerfile),
                    dockerfile,
                    dir,
                    summary: service_summary(s),
                }
            })
            .collect();
        let mut ecosystems: Vec<String> = Vec::new();
        for s in &profile.services {
            let e = s.ecosystem.as_str().to_string();
            if !ecosystems.contains(&e) {
                ecosystems.push(e);
            }
        }
        Context {
            cloud: settings.cloud,
            services,
            ecosystems,
            existing_files: profile.existing_files.clone(),
        }
    }

    /// One line naming the services, for repository-wide files.
    pub fn summary(&self) -> String {
        let names: Vec<String> = self
            .services
            .iter()
            .map(|s| format!("{} ({})", s.service.name, s.service.ecosystem.as_str()))
            .collect();
        format!("{} service(s): {}", names.len(), names.join(", "))
    }
}

/// `node 20 (.nvmrc), npm, next, port 3000`.
fn service_summary(s: &Service) -> String {
    let mut parts = vec![match (&s.runtime_version, &s.runtime_version_source) {
        (Some(v), Some(src)) => format!("{} {v} ({src})", s.ecosystem.as_str()),
        (Some(v), None) => format!("{} {v}", s.ecosystem.as_str()),
        _ => s.ecosystem.as_str().to_string(),
    }];
    parts.push(s.package_manager.as_str().to_string());
    if let Some(f) = &s.framework {
        parts.push(f.clone());
    }
    if let Some(p) = s.port {
        parts.push(format!("port {p}"));
    }
    parts.join(", ")
}

/// Prefixes `body` with the one-line "generated by opsmith" comment, using the format's comment marker.
pub fn with_header(comment: &str, facts: &str, body: String) -> String {
    format!(
        "{comment} Generated by opsmith from: {facts}. Review before merging; edit freely.\n{body}"
    )
}
