//! The static ecosystem: plain sites (a `Staticfile`, or an `index.html` at the root or in `public/`,
//! `site/`, `www/`) with no other manifest, served as they are by a static web server.
//!
//! Facts set besides the shared contract (FACTS.md): `site_dir` (the folder served, relative to the
//! service, `""` for the service folder itself), `spa` (unknown paths fall back to `/index.html`, from
//! the Staticfile's `pushstate: enabled`), `runtime_user`.

use super::{Detection, Detector, dir_name, service_path};
use crate::analyze::tree::{RepoTree, join};
use crate::profile::{Ecosystem, PackageManager, Service};
use serde_json::json;

/// Debian-based nginx that runs as uid 101 and listens on 8080, so the site needs no root at all.
pub const STATIC_IMAGE: &str = "nginxinc/nginx-unprivileged:1.27-bookworm";

/// Folders that commonly hold a plain site's pages.
const SITE_FOLDERS: [&str; 3] = ["public", "site", "www"];

/// Manifests of programs: a folder with one of these is not a plain site.
const OTHER_MANIFESTS: &[&str] = &[
    "deno.json",
    "deno.jsonc",
    "composer.json",
    "Gemfile",
    "requirements.txt",
    "pyproject.toml",
    "Pipfile",
    "setup.py",
    "go.mod",
    "Cargo.toml",
    "pom.xml",
    "build.gradle",
    "build.gradle.kts",
    "mix.exs",
];

/// Folders whose `index.html` is a generated report, not a site.
const REPORT_FOLDERS: &[&str] = &[
    "coverage",
    "htmlcov",
    "report",
    "reports",
    "storybook-static",
    "playwright-report",
    "site-packages",
];

pub struct StaticSite;

impl Detector for StaticSite {
    fn detect(&self, tree: &RepoTree, dir: &str) -> Option<Detection> {
        let name = dir.rsplit('/').next().unwrap_or(dir);
        let staticfile = tree.read_text(&join(dir, "Staticfile"));
        let depth = if dir.is_empty() {
            0
        } else {
            dir.matches('/').count() + 1
        };
        if staticfile.is_none()
            && (depth > 1 || REPORT_FOLDERS.contains(&name) || has_other_manifest(tree, dir))
        {
            return None;
        }
        let site_dir = match &staticfile {
            Some(text) => staticfile_root(text)
                .filter(|r| tree.is_dir(&join(dir, r)))
                .map(|r| format!("{r}/"))
                .unwrap_or_default(),
            None if tree.exists(&join(dir, "index.html")) => String::new(),
            // `public/index.html` at the root: the root is the service only when nothing else in
            // the repository is a program (a root service owns the whole tree); otherwise the site
            // folder is asked on its own.
            None if dir.is_empty() => SITE_FOLDERS
                .iter()
                .find(|f| tree.exists(&format!("{f}/index.html")))
                .filter(|f| !program_outside(tree, f))
                .map(|f| format!("{f}/"))?,
            None => return None,
        };
        let spa = staticfile.as_deref().is_some_and(staticfile_pushstate);

        // A top-level `public/` or `site/` is the repository's site: it takes the repository's name.
        let service_name = if depth == 1 && SITE_FOLDERS.contains(&name) {
            dir_name(tree, "")
        } else {
            dir_name(tree, dir)
        };
        let mut s = Service::new(
            service_name,
            service_path(dir),
            Ecosystem::Static,
            PackageManager::None,
        );
        s.port = Some(8080);
        s.fact("build_context", service_path(dir));
        s.fact("service_in_context", "");
        s.fact("manifests", json!([]));
        s.fact("site_dir", site_dir);
        s.fact("spa", spa);
        s.fact("runtime_image", STATIC_IMAGE);
        s.fact("runtime_user", "nginx");
        Some(Detection {
            services: vec![s],
            claimed: Vec::new(),
        })
    }
}

/// Whether `dir` holds the manifest of a program (another ecosystem, or a `package.json` that builds
/// or runs something, which the node detector judged not deployable).
fn has_other_manifest(tree: &RepoTree, dir: &str) -> bool {
    if OTHER_MANIFESTS.iter().any(|m| tree.exists(&join(dir, m))) {
        return true;
    }
    if tree
        .names_in(dir)
        .any(|n| n.ends_with(".csproj") || n.ends_with(".fsproj") || n.ends_with(".sln"))
    {
        return true;
    }
    // A package.json that only holds formatting or lint tooling does not make a program.
    match tree.read_text(&join(dir, "package.json")) {
        None => false,
        Some(text) => match serde_json::from_str::<serde_json::Value>(&text) {
            Ok(pkg) => {
                let scripts = pkg.get("scripts");
                ["build", "start"]
                    .iter()
                    .any(|s| scripts.and_then(|v| v.get(s)).is_some())
                    || pkg
                        .get("dependencies")
                        .and_then(|d| d.as_object())
                        .is_some_and(|d| !d.is_empty())
            }
            Err(_) => false,
        },
    }
}

/// Whether a file outside `site` is the manifest of a program of any ecosystem.
fn program_outside(tree: &RepoTree, site: &str) -> bool {
    let prefix = format!("{site}/");
    tree.files().iter().any(|f| {
        if f.path.starts_with(&prefix) || f.path.contains("node_modules/") {
            return false;
        }
        let name = f.path.rsplit('/').next().unwrap_or("");
        let dir = f.path.rsplit_once('/').map_or("", |(d, _)| d);
        OTHER_MANIFESTS.contains(&name)
            || name.ends_with(".csproj")
            || name == "Staticfile"
            || (name == "package.json" && has_other_manifest(tree, dir))
    })
}

/// The `root:` of a Cloud Foundry Staticfile (`root: public`).
fn staticfile_root(text: &str) -> Option<String> {
    staticfile_value(text, "root")
        .map(|r| r.trim_matches(['"', '\'']).trim_matches('/').to_string())
        .filter(|r| !r.is_empty() && r != "." && !r.contains(".."))
}

/// `pushstate: enabled` serves `index.html` for unknown paths (client-side routing).
fn staticfile_pushstate(text: &str) -> bool {
    staticfile_value(text, "pushstate").is_some_and(|v| v.eq_ignore_ascii_case("enabled"))
}

fn staticfile_value(text: &str, key: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let (k, v) = line.split_once(':')?;
        (k.trim() == key).then(|| v.split('#').next().unwrap_or("").trim().to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staticfile_settings() {
        let text = "root: dist/ # the built site\npushstate: enabled\n";
        assert_eq!(staticfile_root(text).as_deref(), Some("dist"));
        assert!(staticfile_pushstate(text));
        assert_eq!(staticfile_root("root: ../etc"), None);
        assert!(!staticfile_pushstate("gzip: on"));
    }
}
