//! The rust ecosystem: Cargo packages and workspaces, one service per package that builds a binary,
//! with the web framework, port and health route the code shows.
//!
//! Facts set besides the common ones: `package` (the Cargo package name, for `cargo build -p`),
//! `binary` (the binary the image runs: `default-run`, else the one named like the package, else the
//! only one), `binaries` (every binary of the package), `workspace` (whether the package is a
//! workspace member built from the workspace root), `rust_image_version` (the image tag's version when
//! the repository pins one a build can use; the template's default otherwise), `env` (environment the
//! program needs in the container, e.g. Rocket's `ROCKET_ADDRESS`), `runtime_files` (files and folders
//! of the package the program reads at run time: `Rocket.toml`, `static/`, `templates/`).

use super::version::tool_version;
use super::{Detection, Detector, service_path};
use crate::analyze::tree::{self, RepoTree, join, relative_to};
use crate::profile::{Ecosystem, PackageManager, Service};
use regex::Regex;
use std::collections::BTreeMap;
use std::sync::LazyLock;

pub struct Rust;

/// The Rust release the images use when the repository pins none; the Dockerfile template states the
/// same.
pub const DEFAULT_RUST: &str = "1.95";
/// At most this many `.rs` files are read per package.
const MAX_SOURCES: usize = 1000;

impl Detector for Rust {
    fn detect(&self, tree: &RepoTree, dir: &str) -> Option<Detection> {
        let manifest = join(dir, "Cargo.toml");
        if !tree.exists(&manifest) {
            return None;
        }
        // A manifest that does not parse is a Rust folder we know nothing more about.
        let Some(doc) = tree
            .read_text(&manifest)
            .and_then(|t| t.parse::<toml::Table>().ok())
        else {
            return Some(Detection::default());
        };
        let toolchain = Toolchain::find(tree, dir, &doc);
        let mut detection = Detection::default();
        match doc.get("workspace").and_then(|w| w.as_table()) {
            Some(workspace) => {
                let members = workspace_members(tree, dir, workspace);
                let mut manifests = vec!["Cargo.toml".to_string()];
                if tree.exists(&join(dir, "Cargo.lock")) {
                    manifests.push("Cargo.lock".to_string());
                }
                for m in &members {
                    manifests.push(join(&relative_to(m, dir), "Cargo.toml"));
                }
                let ws = WorkspaceRoot { dir, manifests };
                if doc.get("package").is_some() {
                    detection.services.extend(package_service(
                        tree,
                        dir,
                        &doc,
                        Some(&ws),
                        &toolchain,
                    ));
                }
                for m in &members {
                    detection.claimed.push(m.clone());
                    let Some(member_doc) = tree
                        .read_text(&join(m, "Cargo.toml"))
                        .and_then(|t| t.parse::<toml::Table>().ok())
                    else {
                        continue;
                    };
                    let member_toolchain = Toolchain::find(tree, m, &member_doc).or(&toolchain);
                    detection.services.extend(package_service(
                        tree,
                        m,
                        &member_doc,
                        Some(&ws),
                        &member_toolchain,
                    ));
                }
            }
            None => {
                detection
                    .services
                    .extend(package_service(tree, dir, &doc, None, &toolchain));
            }
        }
        Some(detection)
    }
}

/// The workspace a member is built from.
struct WorkspaceRoot<'a> {
    dir: &'a str,
    /// Relative to the workspace folder.
    manifests: Vec<String>,
}

/// The Rust version a folder declares: a pinned toolchain, or the package's minimum `rust-version`.
#[derive(Debug, Clone, Default, PartialEq)]
struct Toolchain {
    version: Option<String>,
    source: Option<String>,
    /// A pinned toolchain (`rust-toolchain.toml`, `.tool-versions`), which the image must match;
    /// `rust-version` is only a minimum, which a newer compiler also satisfies.
    pinned: bool,
}

impl Toolchain {
    fn find(tree: &RepoTree, dir: &str, doc: &toml::Table) -> Toolchain {
        // rust-toolchain files apply to their folder and below: look upwards.
        let mut current = Some(dir.to_string());
        while let Some(d) = current {
            for name in ["rust-toolchain.toml", "rust-toolchain"] {
                let path = join(&d, name);
                if let Some(text) = tree.read_text(&path) {
                    return Toolchain {
                        version: toolchain_channel(&text),
                        source: Some(path),
                        pinned: true,
                    };
                }
            }
            current = tree::parent(&d).map(String::from);
        }
        if let Some(declared) = tool_version(tree, dir, &["rust"])
            && let Some(v) = rust_release(&declared.version)
        {
            return Toolchain {
                version: Some(v),
                source: Some(declared.source),
                pinned: true,
            };
        }
        let rust_version = doc
            .get("package")
            .and_then(|p| p.get("rust-version"))
            .and_then(|v| v.as_str())
            .or_else(|| {
                doc.get("workspace")
                    .and_then(|w| w.get("package"))
                    .and_then(|p| p.get("rust-version"))
                    .and_then(|v| v.as_str())
            });
        match rust_version.and_then(rust_release) {
            Some(v) => Toolchain {
                version: Some(v),
                source: Some(join(dir, "Cargo.toml")),
                pinned: false,
            },
            None => Toolchain::default(),
        }
    }

    /// This toolchain, or `other` when this one declares nothing.
    fn or(self, other: &Toolchain) -> Toolchain {
        if self.version.is_some() || self.source.is_some() {
            self
        } else {
            other.clone()
        }
    }

    /// The version for the image tag when the template's default will not do: a pinned release, or a
    /// minimum newer than the default.
    fn image_version(&self) -> Option<String> {
        let v = self.version.as_ref()?;
        if self.pinned || version_key(v) > version_key(DEFAULT_RUST) {
            Some(v.clone())
        } else {
            None
        }
    }
}

fn version_key(v: &str) -> Vec<u32> {
    v.split('.').map_while(|p| p.parse().ok()).collect()
}

/// The channel of a `rust-toolchain(.toml)` file when it names a release (`1.80.0`, `1.80`); None for
/// `stable`, `nightly-…` and other channels no image tag names.
pub fn toolchain_channel(text: &str) -> Option<String> {
    let channel = match text.parse::<toml::Table>() {
        Ok(doc) => doc
            .get("toolchain")
            .and_then(|t| t.get("channel"))
            .and_then(|c| c.as_str())
            .map(String::from),
        // The legacy file holds just the channel.
        Err(_) => text
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with('#'))
            .map(String::from),
    }?;
    rust_release(&channel)
}

/// `1.80.0` → `1.80.0`, `1.80` → `1.80`; None for anything but a 1.x release number.
pub fn rust_release(text: &str) -> Option<String> {
    let t = text.trim();
    let parts: Vec<&str> = t.split('.').collect();
    if !(2..=3).contains(&parts.len())
        || parts[0] != "1"
        || !parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
    {
        return None;
    }
    Some(t.to_string())
}

/// The member folders of a workspace (relative to the repository root): `members` globs expanded
/// against the folders that hold a `Cargo.toml`, minus `exclude`.
fn workspace_members(tree: &RepoTree, dir: &str, workspace: &toml::Table) -> Vec<String> {
    let patterns = |key: &str| -> Vec<String> {
        workspace
            .get(key)
            .and_then(|m| m.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str())
                    .map(|s| s.trim_start_matches("./").trim_end_matches('/').to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    let members = glob_set(&patterns("members"));
    let excluded = glob_set(&patterns("exclude"));
    let prefix = if dir.is_empty() { 0 } else { dir.len() + 1 };
    let mut out: Vec<String> = tree
        .files_under(dir)
        .filter(|f| f.path.ends_with("/Cargo.toml"))
        .filter_map(|f| {
            let member = &f.path[..f.path.len() - "/Cargo.toml".len()];
            let rel = member.get(prefix..)?;
            (!rel.is_empty() && members.is_match(rel) && !excluded.is_match(rel))
                .then(|| member.to_string())
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

fn glob_set(patterns: &[String]) -> globset::GlobSet {
    let mut builder = globset::GlobSetBuilder::new();
    for p in patterns {
        if let Ok(glob) = globset::GlobBuilder::new(p).literal_separator(true).build() {
            builder.add(glob);
        }
    }
    builder
        .build()
        .unwrap_or_else(|_| globset::GlobSet::empty())
}

/// Web frameworks by dependency name, in order of preference.
const FRAMEWORKS: &[(&str, &str)] = &[
    ("axum", "axum"),
    ("actix-web", "actix-web"),
    ("rocket", "rocket"),
    ("warp", "warp"),
    ("poem", "poem"),
    ("tide", "tide"),
    ("salvo", "salvo"),
];

/// The service of one package, or None for a library.
fn package_service(
    tree: &RepoTree,
    dir: &str,
    doc: &toml::Table,
    workspace: Option<&WorkspaceRoot>,
    toolchain: &Toolchain,
) -> Option<Service> {
    let package = doc.get("package")?.as_table()?;
    let name = package.get("name")?.as_str()?.to_string();
    let binaries = binaries(tree, dir, &name, package, doc);
    let binary = package
        .get("default-run")
        .and_then(|d| d.as_str())
        .filter(|d| binaries.iter().any(|b| b == d))
        .map(String::from)
        .or_else(|| binaries.iter().find(|b| **b == name).cloned())
        .or_else(|| (binaries.len() == 1).then(|| binaries[0].clone()))
        .or_else(|| binaries.first().cloned())?;

    let mut service = Service::new(
        name.clone(),
        service_path(dir),
        Ecosystem::Rust,
        PackageManager::Cargo,
    );
    service.runtime_version = toolchain.version.clone();
    service.runtime_version_source = toolchain
        .source
        .clone()
        .filter(|_| toolchain.version.is_some());

    let deps = dependency_names(doc);
    service.framework = FRAMEWORKS
        .iter()
        .find(|(dep, _)| deps.iter().any(|d| d == dep))
        .map(|(_, f)| f.to_string());
    let sources = package_sources(tree, dir);
    let serves_http = service.framework.is_some()
        || deps
            .iter()
            .any(|d| matches!(d.as_str(), "hyper" | "tonic" | "tiny_http"))
        || sources.iter().any(|t| t.contains("TcpListener::bind"));
    let mut env: BTreeMap<String, String> = BTreeMap::new();
    if serves_http {
        let port = if service.framework.as_deref() == Some("rocket") {
            rocket_port(tree, dir).unwrap_or(8000)
        } else {
            sources.iter().find_map(|t| port_in_rust(t)).unwrap_or(
                match service.framework.as_deref() {
                    Some("axum") => 3000,
                    _ => 8080,
                },
            )
        };
        service.port = Some(port);
        service.health_path = sources.iter().find_map(|t| health_in_rust(t));
        if service.framework.as_deref() == Some("rocket") {
            // Rocket listens on 127.0.0.1 unless told otherwise.
            env.insert("ROCKET_ADDRESS".into(), "0.0.0.0".into());
            env.insert("ROCKET_PORT".into(), port.to_string());
        }
    }

    let context = workspace.map(|w| w.dir).unwrap_or(dir);
    let in_workspace = workspace.is_some();
    let package_flag = if in_workspace {
        format!(" -p {name}")
    } else {
        String::new()
    };
    let has_lock = tree.exists(&join(context, "Cargo.lock"));
    let locked = if has_lock { " --locked" } else { "" };
    service.build_command = Some(format!(
        "cargo build --release{locked}{package_flag} --bin {binary}"
    ));
    service.start_command = Some(format!("target/release/{binary}"));

    if let Some(v) = toolchain.image_version() {
        service.fact("rust_image_version", v.clone());
        service.fact("build_image", format!("rust:{v}-bookworm"));
    } else {
        service.fact("build_image", format!("rust:{DEFAULT_RUST}-bookworm"));
    }
    service.fact("runtime_image", "gcr.io/distroless/cc-debian12:nonroot");
    service.fact("package", name.clone());
    service.fact("binary", binary);
    service.fact("binaries", binaries);
    service.fact("workspace", in_workspace);
    if !env.is_empty() {
        service.fact("env", serde_json::to_value(&env).unwrap_or_default());
    }
    // Files the program reads at run time from its working folder.
    let runtime_files: Vec<String> = ["Rocket.toml", "static", "templates", "public", "assets"]
        .iter()
        .filter(|f| tree.exists(&join(dir, f)) || tree.is_dir(&join(dir, f)))
        .map(|f| f.to_string())
        .collect();
    if !runtime_files.is_empty() {
        service.fact("runtime_files", runtime_files);
    }
    service.fact("build_context", service_path(context));
    let rel = relative_to(dir, context);
    service.fact(
        "service_in_context",
        if rel.is_empty() {
            String::new()
        } else {
            format!("{rel}/")
        },
    );
    let manifests = match workspace {
        Some(w) => w.manifests.clone(),
        None => {
            let mut m = vec!["Cargo.toml".to_string()];
            if has_lock {
                m.push("Cargo.lock".to_string());
            }
            m
        }
    };
    service.fact("manifests", manifests);
    if has_lock {
        service.fact("lockfile", "Cargo.lock");
    }
    service.fact("install_command", format!("cargo fetch{locked}"));
    service.fact(
        "lint_command",
        format!("cargo clippy{locked}{package_flag} --all-targets"),
    );
    let has_tests = tree
        .files_under(dir)
        .any(|f| f.path.ends_with(".rs") && f.path.contains("/tests/"))
        || sources.iter().any(|t| {
            t.contains("#[test]") || t.contains("#[tokio::test]") || t.contains("#[cfg(test)]")
        });
    if has_tests {
        service.fact("test_command", format!("cargo test{locked}{package_flag}"));
    }
    Some(service)
}

/// The binaries a package builds: `[[bin]]` entries, `src/main.rs` and `src/bin/*`.
fn binaries(
    tree: &RepoTree,
    dir: &str,
    name: &str,
    package: &toml::Table,
    doc: &toml::Table,
) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    // The source files explicit `[[bin]]` entries use, so auto-discovery does not count them twice.
    let mut explicit_paths: Vec<String> = Vec::new();
    for bin in doc
        .get("bin")
        .and_then(|b| b.as_array())
        .into_iter()
        .flatten()
    {
        if let Some(n) = bin.get("name").and_then(|n| n.as_str()) {
            out.push(n.to_string());
            let path = bin
                .get("path")
                .and_then(|p| p.as_str())
                .map(|p| p.trim_start_matches("./").to_string())
                .unwrap_or_else(|| {
                    if n == name {
                        "src/main.rs".to_string()
                    } else {
                        format!("src/bin/{n}.rs")
                    }
                });
            explicit_paths.push(path);
        }
    }
    let autobins = package
        .get("autobins")
        .and_then(|a| a.as_bool())
        .unwrap_or(true);
    let taken = |out: &[String], path: &str, bin: &str| {
        explicit_paths.iter().any(|p| p == path) || out.iter().any(|b| b == bin)
    };
    if autobins {
        if tree.exists(&join(dir, "src/main.rs")) && !taken(&out, "src/main.rs", name) {
            out.push(name.to_string());
        }
        let bin_dir = join(dir, "src/bin");
        for file in tree.names_in(&bin_dir) {
            if let Some(stem) = file.strip_suffix(".rs")
                && !taken(&out, &format!("src/bin/{file}"), stem)
            {
                out.push(stem.to_string());
            }
        }
        for sub in tree.subdirs_of(&bin_dir) {
            if tree.exists(&join(&join(&bin_dir, sub), "main.rs"))
                && !taken(&out, &format!("src/bin/{sub}/main.rs"), sub)
            {
                out.push(sub.to_string());
            }
        }
    }
    out
}

/// Names of the package's normal dependencies (including `package = "…"` renames' real names).
fn dependency_names(doc: &toml::Table) -> Vec<String> {
    let mut out = Vec::new();
    let mut tables: Vec<&toml::Table> = Vec::new();
    if let Some(t) = doc.get("dependencies").and_then(|d| d.as_table()) {
        tables.push(t);
    }
    if let Some(targets) = doc.get("target").and_then(|t| t.as_table()) {
        for target in targets.values() {
            if let Some(t) = target.get("dependencies").and_then(|d| d.as_table()) {
                tables.push(t);
            }
        }
    }
    for table in tables {
        for (key, value) in table {
            let real = value.get("package").and_then(|p| p.as_str()).unwrap_or(key);
            out.push(real.to_string());
        }
    }
    out
}

/// The text of the package's own `.rs` sources (not tests, benches or examples).
fn package_sources(tree: &RepoTree, dir: &str) -> Vec<String> {
    let prefix = if dir.is_empty() { 0 } else { dir.len() + 1 };
    let mut files: Vec<&str> = tree
        .files_under(dir)
        .map(|f| f.path.as_str())
        .filter(|p| p.ends_with(".rs") && p[prefix..].starts_with("src/"))
        .take(MAX_SOURCES)
        .collect();
    // main.rs and the binaries first: that is where servers are usually started.
    files.sort_by_key(|p| {
        (
            !(p.ends_with("main.rs") || p.contains("/src/bin/")),
            p.to_string(),
        )
    });
    files
        .into_iter()
        .filter_map(|p| tree.read_text(p))
        .collect()
}

static SOCKET_ADDR_ARRAY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\(\s*\[\s*\d+\s*,\s*\d+\s*,\s*\d+\s*,\s*\d+\s*\]\s*,\s*(\d{2,5})\s*\)")
        .expect("valid regex")
});
static ADDR_STRING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#""(?:0\.0\.0\.0|127\.0\.0\.1|localhost|\[::\]|::)?:(\d{2,5})""#)
        .expect("valid regex")
});
static BIND_TUPLE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"\(\s*"(?:0\.0\.0\.0|127\.0\.0\.1|localhost|::|\[::\])"\s*,\s*(\d{2,5})\s*\)"#)
        .expect("valid regex")
});
static PORT_ENV_DEFAULT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?s)var(?:_os)?\(\s*"(?:PORT|HTTP_PORT|APP_PORT|SERVER_PORT)"\s*\).{0,160}?"?(\d{2,5})"?"#).expect("valid regex")
});
static PORT_CONST: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)const\s+\w*PORT\w*\s*:\s*u16\s*=\s*(\d{2,5})").expect("valid regex")
});

/// The port a Rust server listens on, from its code.
pub fn port_in_rust(text: &str) -> Option<u16> {
    [
        &*PORT_ENV_DEFAULT,
        &*SOCKET_ADDR_ARRAY,
        &*BIND_TUPLE,
        &*ADDR_STRING,
        &*PORT_CONST,
    ]
    .iter()
    .find_map(|re| re.captures(text).and_then(|c| c[1].parse().ok()))
}

static HEALTH_ROUTE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?:route|resource|at|#\[(?:get|head)|path!?)\(\s*"/?((?:health|healthz|healthcheck|ping|livez|readyz|status|up)/?)""#,
    )
    .expect("valid regex")
});

/// A health route the Rust code registers.
pub fn health_in_rust(text: &str) -> Option<String> {
    HEALTH_ROUTE.captures(text).map(|c| format!("/{}", &c[1]))
}

/// Rocket's port from `Rocket.toml` (`[release]`, then `[default]`, then `[global]`) or `.env`.
fn rocket_port(tree: &RepoTree, dir: &str) -> Option<u16> {
    let doc = tree
        .read_text(&join(dir, "Rocket.toml"))
        .and_then(|t| t.parse::<toml::Table>().ok());
    if let Some(doc) = doc {
        for profile in ["release", "default", "global"] {
            if let Some(port) = doc
                .get(profile)
                .and_then(|p| p.get("port"))
                .and_then(|p| p.as_integer())
                .and_then(|p| u16::try_from(p).ok())
            {
                return Some(port);
            }
        }
    }
    tree.read_text(&join(dir, ".env")).and_then(|t| {
        t.lines().find_map(|l| {
            l.trim()
                .strip_prefix("ROCKET_PORT=")
                .and_then(|v| v.trim_matches('"').parse().ok())
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::tree::TreeFile;

    fn tree_of(paths: &[&str]) -> RepoTree {
        RepoTree::from_files(
            "/nonexistent",
            paths
                .iter()
                .map(|p| TreeFile {
                    path: p.to_string(),
                    size: 1,
                    raw_path: None,
                })
                .collect(),
            Vec::new(),
        )
    }

    #[test]
    fn workspace_globs_expand_to_member_folders() {
        let tree = tree_of(&[
            "Cargo.toml",
            "crates/api/Cargo.toml",
            "crates/core/Cargo.toml",
            "crates/core/nested/Cargo.toml",
            "crates/old/Cargo.toml",
            "tools/gen/Cargo.toml",
            "services/web/Cargo.toml",
        ]);
        let ws: toml::Table =
            "members = [\"crates/*\", \"./services/web/\"]\nexclude = [\"crates/old\"]\n"
                .parse()
                .unwrap();
        assert_eq!(
            workspace_members(&tree, "", &ws),
            ["crates/api", "crates/core", "services/web"]
        );
        let ws: toml::Table = "members = [\"[\"]\n".parse().unwrap();
        assert!(workspace_members(&tree, "", &ws).is_empty());
    }

    #[test]
    fn toolchain_files() {
        assert_eq!(
            toolchain_channel("[toolchain]\nchannel = \"1.80.0\"\ncomponents = [\"clippy\"]\n")
                .as_deref(),
            Some("1.80.0")
        );
        assert_eq!(toolchain_channel("1.79\n").as_deref(), Some("1.79"));
        assert_eq!(
            toolchain_channel("[toolchain]\nchannel = \"stable\"\n"),
            None
        );
        assert_eq!(toolchain_channel("nightly-2024-05-01\n"), None);
        assert_eq!(toolchain_channel("[toolchain\nchannel ="), None);
    }

    #[test]
    fn ports_from_code() {
        let cases = [
            (
                "let addr = SocketAddr::from(([0, 0, 0, 0], 3001));",
                Some(3001),
            ),
            (
                r#"let listener = TcpListener::bind("0.0.0.0:8081").await?;"#,
                Some(8081),
            ),
            (
                r#"HttpServer::new(app).bind(("0.0.0.0", 8082))?.run()"#,
                Some(8082),
            ),
            (
                r#"let port: u16 = std::env::var("PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(8083);"#,
                Some(8083),
            ),
            (
                r#"let port = env::var("PORT").unwrap_or_else(|_| "8084".to_string());"#,
                Some(8084),
            ),
            ("const DEFAULT_PORT: u16 = 8085;", Some(8085)),
            (r#"let url = "postgres://localhost/db";"#, None),
        ];
        for (code, want) in cases {
            assert_eq!(port_in_rust(code), want, "{code}");
        }
    }

    #[test]
    fn health_routes() {
        assert_eq!(
            health_in_rust(r#".route("/healthz", get(healthz))"#).as_deref(),
            Some("/healthz")
        );
        assert_eq!(
            health_in_rust("#[get(\"/health\")]").as_deref(),
            Some("/health")
        );
        assert_eq!(
            health_in_rust(r#"warp::path("ping")"#).as_deref(),
            Some("/ping")
        );
        assert_eq!(health_in_rust(r#".route("/users", get(list))"#), None);
    }

    #[test]
    fn binaries_from_bin_sections_and_layout() {
        let tree = tree_of(&["src/main.rs", "src/bin/migrate.rs", "src/bin/admin/main.rs"]);
        let manifests = [
            (
                "[package]\nname = \"shop\"\n[[bin]]\nname = \"serve\"\npath = \"src/main.rs\"\n",
                vec!["serve", "migrate", "admin"],
            ),
            (
                "[package]\nname = \"shop\"\n",
                vec!["shop", "migrate", "admin"],
            ),
            ("[package]\nname = \"shop\"\nautobins = false\n", vec![]),
        ];
        for (manifest, want) in manifests {
            let doc: toml::Table = manifest.parse().unwrap();
            let package = doc["package"].as_table().unwrap();
            assert_eq!(
                binaries(&tree, "", "shop", package, &doc),
                want,
                "{manifest}"
            );
        }
    }

    #[test]
    fn malformed_manifest_is_not_fatal() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("Cargo.toml"), "[package\nname = ").unwrap();
        let tree = RepoTree::scan(dir.path()).unwrap();
        let found = Rust.detect(&tree, "").expect("a rust folder");
        assert!(found.services.is_empty());
    }

    #[test]
    fn the_template_states_the_same_default_release() {
        let template = include_str!("../../../templates/ecosystems/rust/Dockerfile");
        let expected = format!(r#"rust_image_version | default(value="{DEFAULT_RUST}")"#);
        assert!(template.contains(&expected), "{expected}");
    }
}
