//! The deno ecosystem: folders with a `deno.json` / `deno.jsonc` (tasks, imports), served with
//! `Deno.serve`, oak, hono or Fresh.
//!
//! Facts set besides the shared contract (FACTS.md): `default_runtime_version`, `config` (the config
//! file name), `entry` (the main module, relative to the service), `cmd` (the exec-form start
//! command), `cache_command` (pre-compiles the entry in the build stage), `has_build`,
//! `manifest_copies` (`{dir, files}` groups to copy before the download). Members of a Deno
//! workspace (`"workspace": [...]` in the root config) build from the workspace root.

use super::node::{health_in_code, health_in_routes, port_in_code, port_in_command};
use super::{Detection, Detector, dir_name, service_path, version};
use crate::analyze::tree::{RepoTree, join, relative_to};
use crate::profile::{Ecosystem, PackageManager, Service};
use serde_json::{Map, Value, json};

/// The Deno release used when the repository pins none (`.dvmrc`, `.tool-versions`, `mise.toml`).
pub const DEFAULT_DENO: &str = "2.9.3";

/// Permissions for a server started without a `start` task: network, environment and files.
const SERVER_PERMISSIONS: [&str; 3] = ["--allow-net", "--allow-env", "--allow-read"];

pub struct Deno;

impl Detector for Deno {
    fn detect(&self, tree: &RepoTree, dir: &str) -> Option<Detection> {
        let (config_name, config) = read_config(tree, dir)?;
        let members = workspace_members(tree, dir, &config);
        if members.is_empty() {
            let context = Context::single(tree, dir, config_name);
            let service = service_for(tree, dir, config_name, &config, &context);
            return Some(Detection {
                services: service.into_iter().collect(),
                claimed: Vec::new(),
            });
        }
        // A Deno workspace: one lockfile and root config for all members, so each member builds
        // from the root.
        let lock = tree.exists(&join(dir, "deno.lock"));
        let mut manifests = vec![config_name.to_string()];
        if lock {
            manifests.push("deno.lock".into());
        }
        let mut configs = Vec::new();
        for m in &members {
            if let Some((name, member_config)) = read_config(tree, m) {
                manifests.push(join(&relative_to(m, dir), name));
                configs.push((m.clone(), name, member_config));
            }
        }
        let context = Context {
            root: dir.to_string(),
            lock,
            manifests,
        };
        let services = configs
            .iter()
            .filter_map(|(m, name, member_config)| {
                service_for(tree, m, name, member_config, &context)
            })
            .collect();
        Some(Detection {
            services,
            claimed: members,
        })
    }
}

/// Where a service builds: its own folder, or the root of the Deno workspace it belongs to.
struct Context {
    root: String,
    /// Whether the root has a `deno.lock`.
    lock: bool,
    /// Files relative to `root` that the dependency download needs.
    manifests: Vec<String>,
}

impl Context {
    fn single(tree: &RepoTree, dir: &str, config_name: &str) -> Context {
        let lock = tree.exists(&join(dir, "deno.lock"));
        let mut manifests = vec![config_name.to_string()];
        if lock {
            manifests.push("deno.lock".into());
        }
        if tree.exists(&join(dir, "package.json")) {
            manifests.push("package.json".into());
        }
        Context {
            root: dir.to_string(),
            lock,
            manifests,
        }
    }
}

fn read_config(tree: &RepoTree, dir: &str) -> Option<(&'static str, Map<String, Value>)> {
    ["deno.json", "deno.jsonc"].iter().find_map(|name| {
        let text = tree.read_text(&join(dir, name))?;
        Some((*name, parse_jsonc(&text)?))
    })
}

/// Member folders (tree paths) named by the config's `workspace` list (`./api`, `packages/*`).
fn workspace_members(tree: &RepoTree, dir: &str, config: &Map<String, Value>) -> Vec<String> {
    let Some(list) = config.get("workspace").and_then(Value::as_array) else {
        return Vec::new();
    };
    let mut members = Vec::new();
    for entry in list.iter().filter_map(Value::as_str) {
        let rel = entry.trim_start_matches("./").trim_end_matches('/');
        if rel.is_empty() || rel.split('/').any(|p| p == "..") {
            continue;
        }
        let candidates: Vec<String> = match rel.strip_suffix("/*") {
            Some(parent) => {
                let parent = join(dir, parent);
                tree.subdirs_of(&parent).map(|d| join(&parent, d)).collect()
            }
            None => vec![join(dir, rel)],
        };
        for c in candidates {
            if read_config(tree, &c).is_some() && !members.contains(&c) {
                members.push(c);
            }
        }
    }
    members
}

/// Parses JSON with comments and trailing commas (`deno.jsonc`); None when it is not an object.
fn parse_jsonc(text: &str) -> Option<Map<String, Value>> {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.trim_start_matches('\u{feff}').chars().peekable();
    let mut in_string = false;
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            if c == '\\' {
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match (c, chars.peek()) {
            ('"', _) => {
                in_string = true;
                out.push(c);
            }
            ('/', Some('/')) => {
                for n in chars.by_ref() {
                    if n == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            ('/', Some('*')) => {
                chars.next();
                let mut prev = ' ';
                for n in chars.by_ref() {
                    if prev == '*' && n == '/' {
                        break;
                    }
                    prev = n;
                }
            }
            _ => out.push(c),
        }
    }
    // Trailing commas before a closing bracket.
    let cleaned = regex::Regex::new(r",(\s*[}\]])")
        .ok()?
        .replace_all(&out, "$1")
        .into_owned();
    match serde_json::from_str::<Value>(&cleaned) {
        Ok(Value::Object(map)) => Some(map),
        _ => None,
    }
}

fn task<'a>(config: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    let t = config.get("tasks")?.get(name)?;
    // Deno 2 also allows `{"command": "...", "description": "..."}`.
    t.as_str()
        .or_else(|| t.get("command").and_then(Value::as_str))
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// Every import specifier and target the config maps (`imports`).
fn imports(config: &Map<String, Value>) -> Vec<String> {
    config
        .get("imports")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .flat_map(|(k, v)| [k.clone(), v.as_str().unwrap_or("").to_string()])
                .collect()
        })
        .unwrap_or_default()
}

fn framework(imports: &[String], sources: &str) -> Option<&'static str> {
    let uses =
        |needle: &str| imports.iter().any(|i| i.contains(needle)) || sources.contains(needle);
    if uses("$fresh/") || uses("@fresh/core") || uses("fresh@") {
        Some("fresh")
    } else if uses("@oak/oak") || uses("/x/oak") {
        Some("oak")
    } else if uses("@hono/hono") || uses("npm:hono") || uses("/x/hono") {
        Some("hono")
    } else {
        None
    }
}

/// The module a task runs: the first argument that names a script file.
fn module_in(command: &str) -> Option<String> {
    command
        .split_whitespace()
        .find(|w| {
            !w.starts_with('-')
                && [".ts", ".tsx", ".js", ".mjs", ".jsx"]
                    .iter()
                    .any(|e| w.ends_with(e))
        })
        .map(|w| w.trim_start_matches("./").to_string())
}

fn service_for(
    tree: &RepoTree,
    dir: &str,
    config_name: &str,
    config: &Map<String, Value>,
    context: &Context,
) -> Option<Service> {
    // The production start: a task that does not watch or run the dev server (Fresh's `start` runs
    // `dev.ts --watch`; its `preview` serves the build).
    let runs_dev = |t: &str| t.contains("--watch") || t.contains("dev.ts");
    let start_name = ["start", "serve", "preview"]
        .into_iter()
        .find(|n| task(config, n).is_some_and(|t| !runs_dev(t)))
        .or_else(|| {
            ["start", "serve"]
                .into_iter()
                .find(|n| task(config, n).is_some())
        });
    let start_task = start_name.and_then(|n| task(config, n));
    let entry = start_task
        .and_then(module_in)
        .filter(|m| tree.exists(&join(dir, m)))
        .or_else(|| {
            [
                "main.ts",
                "server.ts",
                "src/main.ts",
                "src/server.ts",
                "main.js",
            ]
            .iter()
            .find(|m| tree.exists(&join(dir, m)))
            .map(|m| m.to_string())
        });
    // A library (no start task and no entry module, or a package that only `exports` modules)
    // deploys nothing.
    if start_task.is_none() && (entry.is_none() || config.contains_key("exports")) {
        return None;
    }
    let mut sources = String::new();
    let mut files: Vec<String> = entry.iter().map(|e| join(dir, e)).collect();
    for f in tree.files_under(dir).take(400) {
        let rel = &f.path;
        if (rel.ends_with(".ts") || rel.ends_with(".tsx") || rel.ends_with(".js"))
            && !rel.contains("_test.")
            && !rel.contains(".test.")
            && f.size <= 256 * 1024
            && !files.contains(rel)
            && files.len() < 60
        {
            files.push(rel.clone());
        }
    }
    let mut port = None;
    let mut health = None;
    for f in &files {
        if let Some(text) = tree.read_text(f) {
            if port.is_none() {
                port = port_in_code(&text);
            }
            if health.is_none() {
                health = health_in_code(&text);
            }
            if sources.len() < 512 * 1024 {
                sources.push_str(&text);
            }
        }
    }
    if let Some(p) = start_task.and_then(port_in_command) {
        port = Some(p);
    }
    let imports = imports(config);
    let framework = framework(&imports, &sources);
    // `Deno.serve`, `deno serve` and the web frameworks listen on 8000 unless told otherwise; a
    // program that serves nothing (a worker) has no port.
    let serves = sources.contains("Deno.serve")
        || framework.is_some()
        || start_task.is_some_and(|t| t.starts_with("deno serve"));
    if port.is_none() && serves {
        port = Some(8000);
    }

    let mut s = Service::new(
        config
            .get("name")
            .and_then(Value::as_str)
            .map(|n| n.rsplit('/').next().unwrap_or(n).to_string())
            .unwrap_or_else(|| dir_name(tree, dir)),
        service_path(dir),
        Ecosystem::Deno,
        PackageManager::Deno,
    );
    s.framework = framework.map(String::from);
    s.port = port;
    s.health_path = health.or_else(|| health_in_routes(tree, dir));
    if let Some((v, src)) = deno_version(tree, dir, &context.root) {
        s.runtime_version = Some(v);
        s.runtime_version_source = Some(src);
    }
    let has_build = task(config, "build").is_some();
    if has_build {
        s.build_command = Some("deno task build".into());
    }
    let fallback_run = entry.as_ref().map(|e| {
        let mut cmd = vec!["deno".to_string(), "run".to_string()];
        cmd.extend(SERVER_PERMISSIONS.iter().map(|p| p.to_string()));
        cmd.push(e.clone());
        cmd
    });
    let cmd: Vec<String> = match start_task {
        Some(t)
            if t.starts_with("deno ") && !t.contains(['&', '|', ';', '$', '>', '<', '\'', '"']) =>
        {
            t.split_whitespace()
                .filter(|w| !w.starts_with("--watch"))
                .map(String::from)
                .collect()
        }
        Some(_) => vec![
            "deno".into(),
            "task".into(),
            start_name.unwrap_or("start").into(),
        ],
        None => fallback_run.clone().unwrap_or_default(),
    };
    s.start_command = Some(
        start_task
            .map(String::from)
            .unwrap_or_else(|| cmd.join(" ")),
    );

    let lock = context.lock;
    if lock {
        s.fact("lockfile", "deno.lock");
    }
    let in_context = relative_to(dir, &context.root);
    let service_in_context = if in_context.is_empty() {
        String::new()
    } else {
        format!("{in_context}/")
    };
    s.fact("build_context", service_path(&context.root));
    s.fact("service_in_context", service_in_context);
    s.fact("manifests", json!(context.manifests));
    s.fact("manifest_copies", manifest_copies(&context.manifests));
    s.fact(
        "install_command",
        if lock {
            "deno install --frozen"
        } else {
            "deno install"
        },
    );
    if config.contains_key("lint") || task(config, "lint").is_some() {
        s.fact(
            "lint_command",
            if task(config, "lint").is_some() {
                "deno task lint"
            } else {
                "deno lint"
            },
        );
    }
    let has_tests = tree.files_under(dir).any(|f| {
        let name = f.path.rsplit('/').next().unwrap_or("");
        name.contains("_test.") || name.contains(".test.")
    });
    if task(config, "test").is_some() {
        s.fact("test_command", "deno task test");
    } else if has_tests {
        s.fact("test_command", "deno test --allow-all");
    }
    let tag = s
        .runtime_version
        .clone()
        .unwrap_or_else(|| DEFAULT_DENO.into());
    let image = format!("denoland/deno:{tag}");
    s.fact("runtime_image", image.clone());
    s.fact("build_image", image);
    s.fact("default_runtime_version", DEFAULT_DENO);
    s.fact("config", config_name);
    s.fact("has_build", has_build);
    s.fact("cmd", json!(cmd));
    s.fact(
        "cache_command",
        entry
            .as_ref()
            .map(|e| format!("deno cache {e}"))
            .unwrap_or_default(),
    );
    if let Some(e) = &entry {
        s.fact("entry", e.clone());
    }
    Some(s)
}

/// Manifests grouped by folder, for one `COPY` each: `[{dir: "", files: [...]}, {dir: "api/", …}]`.
fn manifest_copies(manifests: &[String]) -> Value {
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    for m in manifests {
        let dir = m
            .rsplit_once('/')
            .map_or(String::new(), |(d, _)| format!("{d}/"));
        match groups.iter_mut().find(|(d, _)| *d == dir) {
            Some((_, files)) => files.push(m.clone()),
            None => groups.push((dir, vec![m.clone()])),
        }
    }
    json!(
        groups
            .into_iter()
            .map(|(dir, files)| json!({"dir": dir, "files": files}))
            .collect::<Vec<_>>()
    )
}

/// `.dvmrc` (the service folder, then the workspace root), then `.tool-versions` / `mise.toml`: a
/// version such as `2.1.4` or `v2.1.4`.
fn deno_version(tree: &RepoTree, dir: &str, root: &str) -> Option<(String, String)> {
    for d in [dir, root] {
        let path = join(d, ".dvmrc");
        if let Some(text) = tree.read_text(&path)
            && let Some(v) = normalize_deno_version(text.trim())
        {
            return Some((v, path));
        }
    }
    let declared = version::tool_version(tree, dir, &["deno"])?;
    Some((normalize_deno_version(&declared.version)?, declared.source))
}

/// Deno images are tagged by full release (`2.1.4`): only a complete version is usable as a tag.
fn normalize_deno_version(raw: &str) -> Option<String> {
    let v = raw.trim().trim_start_matches('v');
    let parts: Vec<&str> = v.split('.').collect();
    (parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit())))
    .then(|| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jsonc_comments_and_trailing_commas() {
        let text = r#"{
  // the tasks
  "tasks": { "start": "deno run --allow-net main.ts", },
  /* an URL with // inside a string stays */
  "imports": { "@std/http": "jsr:@std/http@^1.0.0", "x": "https://deno.land/x/oak@v17.1.3/mod.ts" },
}"#;
        let config = parse_jsonc(text).expect("jsonc parses");
        assert_eq!(task(&config, "start"), Some("deno run --allow-net main.ts"));
        assert!(imports(&config).iter().any(|i| i.contains("/x/oak")));
        assert!(parse_jsonc("{ \"tasks\": ").is_none());
    }

    #[test]
    fn deno_versions_must_be_complete() {
        assert_eq!(normalize_deno_version("v2.1.4").as_deref(), Some("2.1.4"));
        assert_eq!(normalize_deno_version("2.1"), None);
        assert_eq!(normalize_deno_version("latest"), None);
    }

    #[test]
    fn task_modules() {
        assert_eq!(
            module_in("deno run -A --watch=static/ ./main.ts").as_deref(),
            Some("main.ts")
        );
        assert_eq!(module_in("deno task other"), None);
    }
}
