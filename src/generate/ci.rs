//! The GitHub Actions workflows: `.github/workflows/ci.yml` (install, lint, test and build of every
//! service) and `.github/workflows/container.yml` (image build, push to GHCR, Trivy scan).
//!
//! `ci.yml` has one job per service; the job's steps after the checkout come from the ecosystem's
//! `templates/ecosystems/<ecosystem>/ci-steps.yml`. The contract of that template:
//!
//! - It sees the shared [`Context`], `service` (the [`ServiceView`]) and `ci` (a [`Job`]): every path
//!   in `ci` is relative to the REPOSITORY root (what `actions/*` inputs and `hashFiles` expect; join
//!   service- or context-relative fact paths with `ci.dir_prefix` / `ci.context_prefix`), every
//!   command is a string or null, so `{% if ci.lint %}` is the test for "declared".
//! - It renders a YAML sequence of steps starting at column 0; this module indents it under `steps:`.
//! - `run:` steps run in the service folder (`defaults.run.working-directory`). Installing runs in
//!   `ci.install_dir` when that is set (the workspace root of a workspace member).
//! - Setting the variable `install` (a command, or `""` for none) and including `ci/commands.yml`
//!   emits the install, lint, test and build steps in that order (`ci/install.yml` and
//!   `ci/checks.yml` are its two halves, for steps in between). `ci/pnpm.yml` sets up pnpm (variables
//!   `package_json`, `declared`); `ci/node-assets.yml` sets up Node and installs the JavaScript
//!   dependencies a non-Node service builds its assets with (facts `js_package_manager`,
//!   `js_manifests`, `node_version`).
//! - Facts read beyond FACTS.md, all optional: `default_runtime_version`, `package_manager_version`
//!   and `yarn_flavour` and `build_steps` (node), `sdk_version` (dotnet), `otp_version` and
//!   `default_otp_version` (elixir), `php_extensions` and `php_extensions_unsupported`, `node_assets`
//!   (php), `js_bundling` (ruby), `runtime_image` (compose).

use super::{Artifact, Context, GenerateError, ServiceView, templates, with_header};
use crate::profile::slug;
use serde::Serialize;

const CI_PATH: &str = ".github/workflows/ci.yml";
const CONTAINER_PATH: &str = ".github/workflows/container.yml";

/// One service as both workflows see it.
#[derive(Debug, Clone, Serialize)]
pub struct Job {
    /// The service's name, as the repository spells it.
    pub name: String,
    /// Job id: lower-case letters, digits and `-`, unique in the workflow.
    pub id: String,
    /// Lower-case name (letters, digits, `-`; starts with a letter) usable as an image repository
    /// component, a cache scope and a compose service; unique among the services.
    pub slug: String,
    /// The service folder (`.` for the root): the working directory of `run:` steps.
    pub workdir: String,
    /// The Docker build context.
    pub context: String,
    /// `workdir` with a trailing `/`, empty for the root: prefix for paths relative to the service.
    pub dir_prefix: String,
    /// `context` with a trailing `/`, empty for the root: prefix for paths relative to the context.
    pub context_prefix: String,
    /// The Dockerfile (the repository's own one when it has one).
    pub dockerfile: String,
    /// Where installing dependencies runs when it is not the service folder (a workspace root).
    pub install_dir: Option<String>,
    /// The lockfile, for cache keys.
    pub lockfile: Option<String>,
    /// The dependency manifests (and lockfile), for cache keys.
    pub manifests: Vec<String>,
    /// What dependency caches key on: the lockfile, else the manifests.
    pub cache_paths: Vec<String>,
    /// `actions/cache` key: the OS, the slug and a hash of the lockfile (else the manifests); null
    /// when the service has neither.
    pub cache_key: Option<String>,
    /// `actions/cache` restore key: the key without the hash.
    pub cache_restore_key: String,
    /// The `${{ hashFiles(…) }}` part of `cache_key`, for templates that compose their own key.
    pub cache_hash: Option<String>,
    /// The declared runtime version, else the detector's `default_runtime_version` fact.
    pub runtime_version: Option<String>,
    pub install: Option<String>,
    pub lint: Option<String>,
    pub test: Option<String>,
    pub build: Option<String>,
}

/// The services' jobs, in the context's service order, with unique ids and slugs.
pub fn jobs(context: &Context) -> Vec<Job> {
    let mut taken: Vec<String> = Vec::new();
    context
        .services
        .iter()
        .map(|view| {
            let mut slug = slug(&view.service.name);
            if slug.is_empty() {
                slug = format!("{}-service", view.service.ecosystem.as_str());
            } else if !slug.starts_with(|c: char| c.is_ascii_lowercase()) {
                // Job ids must start with a letter.
                slug = format!("svc-{slug}");
            }
            let base = slug.clone();
            let mut n = 2;
            while taken.contains(&slug) {
                slug = format!("{base}-{n}");
                n += 1;
            }
            taken.push(slug.clone());
            job(view, slug)
        })
        .collect()
}

fn job(view: &ServiceView, slug: String) -> Job {
    let s = &view.service;
    let fact = |key: &str| {
        view.facts
            .get(key)
            .and_then(|v| v.as_str())
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    let context = normalize(&view.context);
    let workdir = normalize(&s.path);
    let in_context = |p: &str| join(&context, p);
    let manifests: Vec<String> = view
        .facts
        .get("manifests")
        .and_then(|v| v.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|m| m.as_str())
                .map(in_context)
                .collect()
        })
        .unwrap_or_default();
    let lockfile = fact("lockfile").map(|l| in_context(&l));
    let cache_paths: Vec<String> = match &lockfile {
        Some(l) => vec![l.clone()],
        None => manifests.clone(),
    };
    let cache_restore_key = format!("${{{{ runner.os }}}}-{slug}-");
    let cache_hash = (!cache_paths.is_empty()).then(|| {
        // Expression strings are single-quoted; a quote inside doubles.
        let args: Vec<String> = cache_paths
            .iter()
            .map(|p| format!("'{}'", p.replace('\'', "''")))
            .collect();
        format!("${{{{ hashFiles({}) }}}}", args.join(", "))
    });
    let cache_key = cache_hash
        .as_ref()
        .map(|hash| format!("{cache_restore_key}{hash}"));
    Job {
        name: s.name.clone(),
        id: slug.clone(),
        install_dir: (context != workdir).then(|| context.clone()),
        cache_key,
        cache_hash,
        cache_restore_key,
        cache_paths,
        lockfile,
        manifests,
        runtime_version: s
            .runtime_version
            .clone()
            .or_else(|| fact("default_runtime_version")),
        install: fact("install_command"),
        lint: fact("lint_command"),
        test: fact("test_command"),
        build: s.build_command.clone().filter(|c| !c.trim().is_empty()),
        dockerfile: normalize(&view.dockerfile),
        dir_prefix: prefix(&workdir),
        context_prefix: prefix(&context),
        workdir,
        context,
        slug,
    }
}

/// `./a/b/` → `a/b`, `` → `.`.
fn normalize(path: &str) -> String {
    let parts: Vec<&str> = path
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    if parts.is_empty() {
        ".".to_string()
    } else {
        parts.join("/")
    }
}

/// `a/b` → `a/b/`, `.` → ``.
fn prefix(dir: &str) -> String {
    if dir == "." {
        String::new()
    } else {
        format!("{dir}/")
    }
}

/// `dir` joined with a path relative to it, normalized.
fn join(dir: &str, rel: &str) -> String {
    normalize(&format!("{dir}/{rel}"))
}

/// `ci.yml` and `container.yml`, one job per service in each; nothing for a repository without a
/// service, nor where the repository has the same workflow as `.yaml`.
pub fn artifacts(context: &Context) -> Result<Vec<Artifact>, GenerateError> {
    if context.services.is_empty() {
        return Ok(Vec::new());
    }
    let jobs = jobs(context);
    let mut ci_jobs = Vec::new();
    for (view, job) in context.services.iter().zip(&jobs) {
        let eco = view.service.ecosystem.as_str();
        let name = format!("ecosystems/{eco}/ci-steps.yml");
        let steps = if templates::exists(&name) {
            let extra = [
                (
                    "service",
                    serde_json::to_value(view).expect("service serializes"),
                ),
                ("ci", serde_json::to_value(job).expect("job serializes")),
            ];
            indent(&templates::render(&name, context, &extra)?, 6)
        } else {
            String::new()
        };
        let mut value = serde_json::to_value(job).expect("job serializes");
        value["steps"] = steps.into();
        value["title"] = format!("{} ({eco})", view.service.name).into();
        // Compiled toolchains with cold caches take longest.
        value["timeout"] = match eco {
            "rust" | "java" | "dotnet" => 45,
            _ => 30,
        }
        .into();
        ci_jobs.push(value);
    }
    let ci = templates::render("ci/ci.yml", context, &[("jobs", ci_jobs.into())])?;
    let container = templates::render(
        "ci/container.yml",
        context,
        &[("jobs", serde_json::to_value(&jobs).expect("jobs serialize"))],
    )?;
    let summary = context.summary();
    // The same workflow under the other YAML extension is the repository's own: keep it, add none.
    let has_own = |path: &str| {
        context
            .existing_files
            .contains(&path.replace(".yml", ".yaml"))
    };
    let mut out = vec![
        Artifact {
            path: CI_PATH.to_string(),
            contents: with_header("#", &summary, tidy(&ci)),
            reason: format!(
                "installs, lints, tests and builds every service on pull requests and on main ({summary})"
            ),
        },
        Artifact {
            path: CONTAINER_PATH.to_string(),
            contents: with_header("#", &summary, tidy(&container)),
            reason: format!(
                "builds each service's image, scans it with Trivy (results in code scanning) and pushes it to GHCR on main and v* tags ({summary})"
            ),
        },
    ];
    out.retain(|a| !has_own(&a.path));
    Ok(out)
}

/// Indents every line by `n` spaces, dropping the blank lines template tags leave.
fn indent(text: &str, n: usize) -> String {
    let pad = " ".repeat(n);
    let mut out = String::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        out.push_str(&pad);
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Drops trailing spaces, collapses runs of blank lines left by template tags, ends with one newline.
pub(super) fn tidy(text: &str) -> String {
    let mut out = String::new();
    let mut blank = true;
    for line in text.lines() {
        let line = line.trim_end();
        if line.is_empty() {
            if !blank {
                out.push('\n');
            }
            blank = true;
        } else {
            out.push_str(line);
            out.push('\n');
            blank = false;
        }
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_lower_case_and_dashed() {
        assert_eq!(slug("My_Web App"), "my-web-app");
        assert_eq!(slug("--api--"), "api");
        assert_eq!(slug("@scope/pkg"), "scope-pkg");
        assert_eq!(slug("日本"), "");
    }

    #[test]
    fn paths_are_normalized() {
        assert_eq!(normalize(""), ".");
        assert_eq!(normalize("./apps/web/"), "apps/web");
        assert_eq!(join(".", "package-lock.json"), "package-lock.json");
        assert_eq!(join("apps/web", "./go.sum"), "apps/web/go.sum");
    }
}
