//! Building and scanning a checked-out repository whose generated files sit in a folder of their
//! own: one image per service (built from a copy of its context with the generated Dockerfile in
//! place), Trivy on each image, and `trivy config` on the generated files. The CLI and the App's
//! jobs share it.

use std::collections::BTreeMap;
use std::path::Path;

use super::{ScanOutcome, ScanRun, ServiceScan, Target, Trivy, TrivyScan};
use crate::build::{BuildOutcome, BuildRequest, BuildSettings, Engine, image_tag};
use crate::generate::{Context, ServiceView};
use crate::repo_config;

/// Build contexts with the generated Dockerfile in place, one folder per service, removed after use.
const STAGING: &str = ".opsmith/build";

/// What to build and scan.
pub struct Workspace<'a> {
    /// The repository's checkout.
    pub dir: &'a Path,
    /// The generated files, laid out as they would sit in the repository.
    pub out: &'a Path,
    /// The services and where their Dockerfiles go.
    pub context: &'a Context,
    /// Image names: `opsmith/<repository>-<service>:<tag>`.
    pub repository: &'a str,
    pub tag: &'a str,
    /// Base image redirections, `NAME` → `REF`.
    pub images: &'a BTreeMap<String, String>,
    pub build: &'a BuildSettings,
    pub threshold: repo_config::Severity,
}

/// The result, with Trivy's whole reports kept for SARIF and SBOMs.
pub struct WorkspaceScan {
    pub run: ScanRun,
    /// Each service's folder in the repository (`.` for the root), in `run.services` order.
    pub service_dirs: Vec<String>,
    /// Image scans by service name.
    pub image_scans: Vec<(String, TrivyScan)>,
    pub configuration_scan: Option<TrivyScan>,
}

/// Builds and scans every service. `engine` is the Docker engine or why there is none: then every
/// build is skipped with that reason and only the configuration is scanned.
pub async fn build_and_scan(
    workspace: &Workspace<'_>,
    trivy: &Trivy,
    engine: Result<&Engine, &str>,
    progress: &mut (dyn FnMut(&str) + Send),
) -> WorkspaceScan {
    let mut services = Vec::new();
    let mut service_dirs = Vec::new();
    let mut image_scans = Vec::new();
    for view in &workspace.context.services {
        let name = &view.service.name;
        let tag = image_tag(workspace.repository, name, workspace.tag);
        let build = match engine {
            Ok(engine) => {
                progress(&format!("building {name} as {tag}"));
                build_service(engine, workspace, view, &tag, progress).await
            }
            Err(reason) => BuildOutcome::Skipped {
                reason: reason.to_string(),
            },
        };
        let scan = match (&build, engine) {
            (BuildOutcome::Built { image, .. }, Ok(engine)) => {
                progress(&format!("scanning {image}"));
                let target = Target::Image {
                    docker_host: engine.host(),
                    image,
                };
                match trivy.scan(&target).await {
                    Ok(scan) => {
                        let report = scan.report.clone();
                        image_scans.push((name.clone(), scan));
                        ScanOutcome::Scanned(report)
                    }
                    Err(e) => ScanOutcome::Failed(e.to_string()),
                }
            }
            _ => ScanOutcome::NotRun,
        };
        services.push(ServiceScan {
            name: name.clone(),
            image: tag,
            build,
            scan,
        });
        service_dirs.push(view.service.path.clone());
    }
    // The staging folders are gone; their parent too when nothing else is in it.
    let _ = std::fs::remove_dir(workspace.dir.join(STAGING));

    let (configuration, configuration_scan) = if workspace.out.is_dir() {
        progress("scanning the generated configuration");
        match trivy.scan(&Target::Config(workspace.out)).await {
            Ok(scan) => (ScanOutcome::Scanned(scan.report.clone()), Some(scan)),
            Err(e) => (ScanOutcome::Failed(e.to_string()), None),
        }
    } else {
        (ScanOutcome::NotRun, None)
    };
    WorkspaceScan {
        run: ScanRun {
            services,
            configuration,
            threshold: workspace.threshold,
        },
        service_dirs,
        image_scans,
        configuration_scan,
    }
}

/// Builds one service from a copy of its build context with the generated Dockerfile and
/// `.dockerignore` in place (the checkout itself is left untouched).
async fn build_service(
    engine: &Engine,
    workspace: &Workspace<'_>,
    view: &ServiceView,
    tag: &str,
    progress: &mut (dyn FnMut(&str) + Send),
) -> BuildOutcome {
    let stage = workspace
        .dir
        .join(STAGING)
        .join(safe_name(&view.service.name));
    let context_dir = workspace.dir.join(&view.context);
    let Some(dockerfile) = relative_to_context(&view.dockerfile, &view.context) else {
        return BuildOutcome::Skipped {
            reason: format!(
                "the Dockerfile {} is outside the build context {}",
                view.dockerfile, view.context
            ),
        };
    };
    if let Err(e) = stage_context(&context_dir, &stage, workspace.out, view) {
        let _ = std::fs::remove_dir_all(&stage);
        return BuildOutcome::Skipped {
            reason: format!("cannot prepare the build context: {e}"),
        };
    }
    if !stage.join(&dockerfile).is_file() {
        let _ = std::fs::remove_dir_all(&stage);
        return BuildOutcome::Skipped {
            reason: format!(
                "no Dockerfile at {}: opsmith generates none for this kind of service",
                view.dockerfile
            ),
        };
    }
    let request = BuildRequest {
        context: &stage,
        dockerfile: &dockerfile,
        tag: tag.to_string(),
        images: workspace.images,
    };
    let mut log = |line: &str| progress(&format!("  | {line}"));
    let outcome = engine.build(&request, workspace.build, &mut log).await;
    let _ = std::fs::remove_dir_all(&stage);
    outcome
}

fn relative_to_context(path: &str, context: &str) -> Option<String> {
    if context == "." || context.is_empty() {
        return Some(path.to_string());
    }
    path.strip_prefix(context.trim_end_matches('/'))
        .and_then(|rest| rest.strip_prefix('/'))
        .map(str::to_string)
}

/// A service name as a file name.
pub fn safe_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Copies `context` to `stage` (hard links where it can; `.git` and `.opsmith` left out), then puts
/// the service's generated Dockerfile and ignore file from `out` in place.
fn stage_context(
    context: &Path,
    stage: &Path,
    out: &Path,
    view: &ServiceView,
) -> std::io::Result<()> {
    if stage.exists() {
        std::fs::remove_dir_all(stage)?;
    }
    std::fs::create_dir_all(stage)?;
    copy_tree(context, stage)?;
    for generated in [&view.dockerfile, &view.dockerignore] {
        let source = out.join(generated);
        if !source.is_file() {
            continue;
        }
        let Some(relative) = relative_to_context(generated, &view.context) else {
            continue;
        };
        let target = stage.join(relative);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        // A hard link to the repository's file must not be written through.
        let _ = std::fs::remove_file(&target);
        std::fs::copy(&source, &target)?;
    }
    Ok(())
}

fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        if name == ".git" || name == ".opsmith" {
            continue;
        }
        let source = entry.path();
        let target = to.join(&name);
        let kind = entry.file_type()?;
        if kind.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(&source)?, &target)?;
        } else if kind.is_dir() {
            std::fs::create_dir(&target)?;
            copy_tree(&source, &target)?;
        } else if kind.is_file() && std::fs::hard_link(&source, &target).is_err() {
            std::fs::copy(&source, &target)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dockerfile_relative_to_the_context() {
        assert_eq!(
            relative_to_context("api/Dockerfile", "api").as_deref(),
            Some("Dockerfile")
        );
        assert_eq!(
            relative_to_context("apps/web/Dockerfile", ".").as_deref(),
            Some("apps/web/Dockerfile")
        );
        assert_eq!(relative_to_context("apix/Dockerfile", "api"), None);
    }
}
