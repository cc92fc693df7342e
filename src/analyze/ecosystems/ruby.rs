//! The ruby ecosystem: Bundler projects (`Gemfile`, `Gemfile.lock`) served by Rails, Sinatra or plain Rack.
//!
//! Facts set besides the common ones (see the facts contract): `default_runtime_version`,
//! `bundler_version` (`BUNDLED WITH`), `rails_version`, `rails_command` (`./bin/rails`), `entrypoint`
//! (the app's `bin/docker-entrypoint`), `bootsnap`
//! (bool), `bootsnap_dirs`, `rails_assets` (bool: `assets:precompile` applies),
//! `secret_key_base_env`, `js_bundling` (bool: assets need Node at build time), `js_package_manager`
//! (`npm`/`yarn`), `js_manifests`, `node_version`, `apt_build_packages` / `apt_runtime_packages`
//! (Debian packages native gems need), `cmd` (exec-form start command as a list), `health_command`
//! (exec-form HEALTHCHECK command as a list), `writable_dirs` (folders the runtime user must own),
//! `runtime_env` (Rails: variables production needs that the image cannot carry).

use super::version::tool_version;
use super::{Detection, Detector, dir_name, service_path};
use crate::analyze::tree::{RepoTree, join};
use crate::profile::{Ecosystem, PackageManager, Service};
use regex::Regex;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

pub struct Ruby;

/// Ruby used when the repository declares none: current in late 2026.
pub const DEFAULT_RUBY: &str = "3.4";

impl Detector for Ruby {
    fn detect(&self, tree: &RepoTree, dir: &str) -> Option<Detection> {
        // Without a Gemfile not even Rack can be installed reproducibly: not a Ruby service.
        let gemfile = ["Gemfile", "gems.rb"]
            .into_iter()
            .map(|n| join(dir, n))
            .find(|p| tree.exists(p))?;
        let gemfile_text = tree.read_text(&gemfile).unwrap_or_default();
        let lock_name = if gemfile.ends_with("gems.rb") {
            "gems.locked"
        } else {
            "Gemfile.lock"
        };
        let lock_path = join(dir, lock_name);
        let lock = tree
            .read_text(&lock_path)
            .map(|t| GemfileLock::parse(&t))
            .unwrap_or_default();
        let gems = Gems::new(&gemfile_text, &lock);

        let Some(app) = classify(tree, dir, &gems) else {
            // A gem library or a script collection: not a service, but still Ruby's folder.
            return Some(Detection::default());
        };

        let mut service = Service::new(
            app.name.clone().unwrap_or_else(|| dir_name(tree, dir)),
            service_path(dir),
            Ecosystem::Ruby,
            PackageManager::Bundler,
        );
        service.framework = app.framework.map(String::from);
        service.port = Some(app.port);
        service.health_path = app.health_path.clone();
        service.start_command = Some(app.cmd.join(" "));

        if let Some((version, source)) =
            ruby_version(tree, &gemfile, &lock_path, &gemfile_text, &lock)
        {
            service.runtime_version = Some(version);
            service.runtime_version_source = Some(source);
        }
        let image_version = service
            .runtime_version
            .clone()
            .unwrap_or_else(|| DEFAULT_RUBY.to_string());
        service.fact("default_runtime_version", DEFAULT_RUBY);
        service.fact(
            "runtime_image",
            format!("ruby:{image_version}-slim-bookworm"),
        );
        service.fact("build_context", service.path.clone());
        service.fact("service_in_context", "");

        let mut manifests = vec![file_name(&gemfile).to_string()];
        if tree.exists(&lock_path) {
            manifests.push(lock_name.to_string());
            service.fact("lockfile", lock_name);
            service.fact("install_command", "BUNDLE_FROZEN=true bundle install");
        } else {
            service.fact("install_command", "bundle install");
        }
        service.fact("manifests", manifests);
        if let Some(v) = &lock.bundled_with {
            service.fact("bundler_version", v.clone());
        }
        if let Some(cmd) = lint_command(tree, dir, &gems) {
            service.fact("lint_command", cmd);
        }
        if let Some(cmd) = test_command(tree, dir, &gems, app.framework) {
            service.fact("test_command", cmd);
        }
        if gems.has("bootsnap") {
            service.fact("bootsnap", true);
            // `bootsnap precompile` fails on a folder that does not exist.
            service.fact("bootsnap_dirs", existing_dirs(tree, dir, &["app", "lib"]));
        }
        if app.framework == Some("rails") {
            if let Some(v) = gems.version("rails").or_else(|| gems.version("railties")) {
                service.fact("rails_version", v.to_string());
            }
            let assets = gems.has("sprockets-rails")
                || gems.has("propshaft")
                || tree.is_dir(&join(dir, "app/assets"));
            service.fact("rails_assets", assets);
            let secret_env = if rails_at_least(&gems, 7, 1) {
                "SECRET_KEY_BASE_DUMMY=1"
            } else {
                "SECRET_KEY_BASE=placeholder-for-asset-precompilation"
            };
            service.fact("secret_key_base_env", secret_env);
            let rails = if tree.exists(&join(dir, "bin/rails")) {
                "./bin/rails"
            } else {
                "bundle exec rails"
            };
            service.fact("rails_command", rails);
            // Rails 7.1+ generates this script (it prepares the database, then runs the command).
            if tree.exists(&join(dir, "bin/docker-entrypoint")) {
                service.fact("entrypoint", "bin/docker-entrypoint");
            }
            if assets {
                service.build_command = Some(format!("{secret_env} {rails} assets:precompile"));
            }
            js_bundling(tree, dir, &gems, &mut service);
        }
        let (build_pkgs, runtime_pkgs) = native_packages(&gems);
        service.fact("apt_build_packages", build_pkgs);
        service.fact("apt_runtime_packages", runtime_pkgs);
        service.fact("cmd", app.cmd.clone());
        service.fact("health_command", health_command(app.port, &app.health_path));
        service.fact("writable_dirs", app.writable_dirs.clone());
        if app.framework == Some("rails") {
            service.fact("runtime_env", rails_runtime_env(tree, dir));
        }
        Some(Detection {
            services: vec![service],
            claimed: Vec::new(),
        })
    }
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// What kind of Ruby web app a folder holds.
#[derive(Debug, Clone, PartialEq)]
struct App {
    name: Option<String>,
    framework: Option<&'static str>,
    port: u16,
    health_path: Option<String>,
    /// Exec-form start command.
    cmd: Vec<String>,
    writable_dirs: Vec<String>,
}

/// Rails, Sinatra or Rack; None for a folder with no web server to run (a gem, a script collection).
fn classify(tree: &RepoTree, dir: &str, gems: &Gems) -> Option<App> {
    let application_rb = tree
        .read_text(&join(dir, "config/application.rb"))
        .unwrap_or_default();
    if application_rb.contains("Rails::Application")
        || tree.exists(&join(dir, "bin/rails")) && gems.has("rails")
    {
        return Some(rails_app(tree, dir, &application_rb));
    }
    let config_ru = join(dir, "config.ru");
    let puma = puma_config(tree, dir);
    let sinatra_file = sinatra_main(tree, dir);
    let is_sinatra = gems.has("sinatra") || sinatra_file.is_some();
    if tree.exists(&config_ru) {
        // Served through config.ru either way; the framework name helps the summary.
        let framework = if is_sinatra {
            Some("sinatra")
        } else {
            ["hanami", "roda", "grape"]
                .into_iter()
                .find(|g| gems.has(g))
                .or(Some("rack"))
        };
        let (port, cmd) = if let Some((path, port)) = &puma {
            let port = port.unwrap_or(9292);
            (port, words(&["bundle", "exec", "puma", "-C", path]))
        } else if gems.has("puma") {
            (
                9292,
                words(&["bundle", "exec", "puma", "-b", "tcp://0.0.0.0:9292"]),
            )
        } else {
            let mut cmd = words(&["bundle", "exec", "rackup"]);
            cmd.extend(words(&["--host", "0.0.0.0", "--port", "9292"]));
            (9292, cmd)
        };
        return Some(App {
            name: None,
            framework,
            port,
            health_path: health_route_in_files(tree, dir),
            cmd,
            writable_dirs: existing_dirs(tree, dir, &["tmp", "log"]),
        });
    }
    if let Some((main, port)) = sinatra_file {
        let port = port.unwrap_or(4567);
        let cmd = words(&[
            "bundle",
            "exec",
            "ruby",
            &main,
            "-o",
            "0.0.0.0",
            "-p",
            &port.to_string(),
        ]);
        return Some(App {
            name: None,
            framework: Some("sinatra"),
            port,
            health_path: health_route_in_files(tree, dir),
            cmd,
            writable_dirs: existing_dirs(tree, dir, &["tmp", "log"]),
        });
    }
    None
}

fn words(ws: &[&str]) -> Vec<String> {
    ws.iter().map(|w| w.to_string()).collect()
}

fn existing_dirs(tree: &RepoTree, dir: &str, names: &[&str]) -> Vec<String> {
    names
        .iter()
        .filter(|n| tree.is_dir(&join(dir, n)))
        .map(|n| n.to_string())
        .collect()
}

fn rails_app(tree: &RepoTree, dir: &str, application_rb: &str) -> App {
    static MODULE: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?m)^\s*module\s+([A-Z][A-Za-z0-9_]*)").unwrap());
    let name = MODULE
        .captures(application_rb)
        .map(|c| snake_case(&c[1]))
        .filter(|n| !n.is_empty());
    let port = puma_config(tree, dir).and_then(|(_, p)| p).unwrap_or(3000);
    let routes = tree
        .read_text(&join(dir, "config/routes.rb"))
        .unwrap_or_default();
    let health_path = rails_health_route(&routes);
    let server = if tree.exists(&join(dir, "bin/rails")) {
        words(&["./bin/rails", "server"])
    } else {
        words(&["bundle", "exec", "rails", "server"])
    };
    let mut cmd = server;
    cmd.extend(words(&["-b", "0.0.0.0", "-p", &port.to_string()]));
    App {
        name,
        framework: Some("rails"),
        port,
        health_path,
        cmd,
        // Rails writes logs, pid files, caches and SQLite/Active Storage files here.
        writable_dirs: words(&["db", "log", "storage", "tmp"]),
    }
}

/// Environment variables a Rails app needs in production that the image cannot carry: the key that
/// unlocks its credentials (or the secret itself), and those `config/database.yml` reads.
fn rails_runtime_env(tree: &RepoTree, dir: &str) -> Vec<String> {
    static ENV: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"ENV(?:\[|\.fetch\()\s*["']([A-Z][A-Z0-9_]*)["']\s*(\)|\]|,)"#).unwrap()
    });
    let mut env = Vec::new();
    let credentials = [
        "config/credentials.yml.enc",
        "config/credentials/production.yml.enc",
    ];
    if credentials.iter().any(|c| tree.exists(&join(dir, c))) {
        env.push("RAILS_MASTER_KEY".to_string());
    } else {
        env.push("SECRET_KEY_BASE".to_string());
    }
    let database = tree
        .read_text(&join(dir, "config/database.yml"))
        .unwrap_or_default();
    if let Some(i) = database.find("\nproduction:") {
        // Variables with a default (`ENV.fetch("X", …)`, `ENV.fetch("X") { … }`) are optional.
        for c in ENV.captures_iter(&database[i..]) {
            let optional = &c[2] == ","
                || database[i..][c.get(0).unwrap().end()..]
                    .trim_start()
                    .starts_with('{');
            if !optional && !env.iter().any(|e| e == &c[1]) {
                env.push(c[1].to_string());
            }
        }
    }
    env
}

/// `MyBlogApp` → `my_blog_app`.
fn snake_case(s: &str) -> String {
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The Rails 7.1+ health check route (`get "up" => "rails/health#show"`), or another evident one.
fn rails_health_route(routes: &str) -> Option<String> {
    static ROUTE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r#"(?m)^\s*get\s+["']/?([A-Za-z0-9_/-]+)["']\s*(?:=>|,\s*to:)\s*["']([^"']+)["']"#,
        )
        .unwrap()
    });
    let mut fallback = None;
    for c in ROUTE.captures_iter(routes) {
        let path = format!("/{}", c[1].trim_start_matches('/'));
        if &c[2] == "rails/health#show" {
            return Some(path);
        }
        if fallback.is_none() && is_health_name(&path) {
            fallback = Some(path);
        }
    }
    fallback
}

fn is_health_name(path: &str) -> bool {
    matches!(
        path,
        "/up"
            | "/health"
            | "/healthz"
            | "/healthcheck"
            | "/ping"
            | "/status"
            | "/livez"
            | "/readyz"
    )
}

/// A health route declared in a Sinatra/Roda/Rack app: `get '/health' do`, `map "/healthz"`, or a
/// plain Rack app comparing the path (`path == "/healthz"`, `when "/up"`).
fn health_route_in_files(tree: &RepoTree, dir: &str) -> Option<String> {
    static ROUTE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r#"(?m)(?:^\s*(?:get|map|r\.get|r\.on)\s*\(?|==|\bwhen)\s*["'](/[A-Za-z0-9_/-]*)["']"#,
        )
        .unwrap()
    });
    ruby_sources(tree, dir).find_map(|text| {
        ROUTE
            .captures_iter(&text)
            .map(|c| c[1].to_string())
            .find(|p| is_health_name(p))
    })
}

/// The Ruby files at the top of the folder, in `app/` and `lib/`, plus `config.ru`; bounded.
fn ruby_sources<'a>(tree: &'a RepoTree, dir: &'a str) -> impl Iterator<Item = String> + 'a {
    let prefix_len = if dir.is_empty() { 0 } else { dir.len() + 1 };
    tree.files_under(dir)
        .filter(move |f| {
            let rel = &f.path[prefix_len..];
            (rel.ends_with(".rb") || rel == "config.ru")
                && (!rel.contains('/')
                    || rel.starts_with("app/")
                    || rel.starts_with("lib/")
                    || rel.starts_with("config/"))
        })
        .take(200)
        .filter_map(|f| tree.read_text(&f.path))
}

/// The top-level file that runs a classic Sinatra app (`require 'sinatra'`), with its `set :port`.
fn sinatra_main(tree: &RepoTree, dir: &str) -> Option<(String, Option<u16>)> {
    static REQUIRE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"(?m)^\s*require\s*\(?\s*["']sinatra(?:/base)?["']"#).unwrap()
    });
    let mut files: Vec<&str> = tree
        .names_in(dir)
        .filter(|n| n.ends_with(".rb") && *n != "Gemfile")
        .collect();
    // The conventional names first.
    files.sort_by_key(|n| {
        (
            !matches!(*n, "app.rb" | "server.rb" | "main.rb" | "application.rb"),
            n.to_string(),
        )
    });
    files.into_iter().find_map(|name| {
        let text = tree.read_text(&join(dir, name))?;
        REQUIRE
            .is_match(&text)
            .then(|| (name.to_string(), sinatra_port(&text)))
    })
}

/// `set :port, 8080` (or `set :port, ENV.fetch("PORT", 8080)`).
fn sinatra_port(text: &str) -> Option<u16> {
    static SET: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?m)^\s*set\s*\(?\s*:port\s*,([^\n]*)").unwrap());
    SET.captures(text).and_then(|c| last_number(&c[1]))
}

fn last_number(s: &str) -> Option<u16> {
    static NUM: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\b(\d{2,5})\b").unwrap());
    NUM.captures_iter(s)
        .last()
        .and_then(|c| c[1].parse::<u16>().ok())
        .filter(|p| *p > 0)
}

/// Puma's configuration file (relative to the service) and the port it sets, if any.
fn puma_config(tree: &RepoTree, dir: &str) -> Option<(String, Option<u16>)> {
    ["config/puma.rb", "puma.rb"].into_iter().find_map(|rel| {
        let text = tree.read_text(&join(dir, rel))?;
        Some((rel.to_string(), puma_port(&text)))
    })
}

/// `port ENV.fetch("PORT", 3000)`, `port ENV.fetch("PORT") { 3000 }`, `port 8080`,
/// `bind "tcp://0.0.0.0:9000"`.
fn puma_port(text: &str) -> Option<u16> {
    static PORT: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?m)^\s*port\s*\(?([^\n#]*)").unwrap());
    static BIND: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"(?m)^\s*bind\s*\(?\s*["']tcp://[^"':]*:(\d{1,5})["']"#).unwrap()
    });
    PORT.captures(text)
        .and_then(|c| last_number(&c[1]))
        .or_else(|| BIND.captures(text).and_then(|c| c[1].parse::<u16>().ok()))
}

/// The exec-form HEALTHCHECK command: Ruby's own HTTP client, since slim images have no curl.
fn health_command(port: u16, health_path: &Option<String>) -> Vec<String> {
    let path = health_path.as_deref().unwrap_or("/");
    let script = format!(
        "exit(Net::HTTP.get_response(URI('http://127.0.0.1:{port}{path}')).code.to_i < 400 ? 0 : 1)"
    );
    words(&["ruby", "-rnet/http", "-e", &script])
}

/// The declared Ruby version, normalised for an image tag (`3.3.0`, `3.3`), and where it came from.
fn ruby_version(
    tree: &RepoTree,
    gemfile_path: &str,
    lock_path: &str,
    gemfile: &str,
    lock: &GemfileLock,
) -> Option<(String, String)> {
    let dir = gemfile_path.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
    let mut current = Some(dir.to_string());
    // The nearest folder that declares a version wins, as with rbenv, chruby, asdf and mise; in the
    // service folder itself the Gemfile and its lock count too.
    while let Some(cur) = current {
        let path = join(&cur, ".ruby-version");
        if let Some(v) = tree
            .read_text(&path)
            .and_then(|t| normalise_ruby_version(t.lines().next().unwrap_or("")))
        {
            return Some((v, path));
        }
        if cur == dir {
            if let Some(v) = gemfile_ruby(gemfile) {
                return Some((v, gemfile_path.to_string()));
            }
            if let Some(v) = lock
                .ruby_version
                .as_deref()
                .and_then(normalise_ruby_version)
            {
                return Some((v, lock_path.to_string()));
            }
        }
        // `tool_version` looks upwards itself: only a declaration in this very folder counts here.
        if let Some(d) = tool_version(tree, &cur, &["ruby"])
            && d.source.rsplit_once('/').map(|(p, _)| p).unwrap_or("") == cur
            && let Some(v) = normalise_ruby_version(&d.version)
        {
            return Some((v, d.source));
        }
        current = (!cur.is_empty()).then(|| {
            cur.rsplit_once('/')
                .map(|(p, _)| p.to_string())
                .unwrap_or_default()
        });
    }
    None
}

/// `ruby "3.3.0"`, `ruby '~> 3.2.0'` in a Gemfile (`ruby file: ".ruby-version"` is read via that file).
fn gemfile_ruby(gemfile: &str) -> Option<String> {
    static RUBY: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r#"(?m)^\s*ruby\s*\(?\s*["']([^"']+)["']"#).unwrap());
    RUBY.captures(gemfile)
        .and_then(|c| normalise_ruby_version(&c[1]))
}

/// `ruby-3.3.0` → `3.3.0`; `3.3.0p0` → `3.3.0`; `~> 3.2.0` → `3.2`; `~> 3.2` → `3`; ranges → None.
pub fn normalise_ruby_version(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let raw = raw.strip_prefix("ruby-").unwrap_or(raw);
    let raw = raw.strip_prefix("ruby ").unwrap_or(raw).trim();
    let (pessimistic, rest) = match raw.strip_prefix("~>") {
        Some(r) => (true, r.trim()),
        None => (false, raw.strip_prefix('=').unwrap_or(raw).trim()),
    };
    let numeric: String = rest
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    let parts: Vec<&str> = numeric.split('.').filter(|p| !p.is_empty()).collect();
    if parts.is_empty() || parts[0].is_empty() || parts.len() > 3 {
        return None;
    }
    // What follows the number may only be a patch level (`p0`) or a pre-release we drop.
    let after = &rest[numeric.len()..];
    if !(after.is_empty() || after.starts_with('p') || after.starts_with('-')) {
        return None;
    }
    let kept = if pessimistic {
        if parts.len() < 2 {
            return None;
        }
        &parts[..parts.len() - 1]
    } else {
        &parts[..]
    };
    Some(kept.join("."))
}

/// What `Gemfile.lock` says: every resolved gem with its version, the direct dependencies, Ruby and
/// Bundler versions.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct GemfileLock {
    pub specs: BTreeMap<String, String>,
    pub dependencies: BTreeSet<String>,
    pub ruby_version: Option<String>,
    pub bundled_with: Option<String>,
    pub platforms: Vec<String>,
}

impl GemfileLock {
    /// Lenient: unknown sections and malformed lines are skipped.
    pub fn parse(text: &str) -> GemfileLock {
        let mut lock = GemfileLock::default();
        let mut section = "";
        for line in text.lines() {
            if line.trim().is_empty() {
                continue;
            }
            if !line.starts_with(' ') {
                section = line.trim();
                continue;
            }
            let indent = line.len() - line.trim_start().len();
            let content = line.trim();
            match section {
                "GEM" | "PATH" | "GIT" | "PLUGIN SOURCE" if indent == 4 => {
                    if let Some((name, rest)) = content.split_once(' ') {
                        let version = rest.trim_matches(|c| c == '(' || c == ')');
                        // `nokogiri (1.16.7-x86_64-linux)`: keep the version, not the platform.
                        let version = version.split('-').next().unwrap_or(version);
                        lock.specs
                            .entry(name.to_string())
                            .or_insert_with(|| version.to_string());
                    } else {
                        lock.specs.entry(content.to_string()).or_default();
                    }
                }
                "DEPENDENCIES" if indent == 2 => {
                    let name = content
                        .split([' ', '!'])
                        .next()
                        .unwrap_or(content)
                        .to_string();
                    lock.dependencies.insert(name);
                }
                "PLATFORMS" if indent == 2 => lock.platforms.push(content.to_string()),
                "RUBY VERSION" if lock.ruby_version.is_none() => {
                    lock.ruby_version = Some(content.to_string());
                }
                "BUNDLED WITH" if lock.bundled_with.is_none() => {
                    lock.bundled_with = Some(content.to_string());
                }
                _ => {}
            }
        }
        lock
    }
}

/// The gems a project uses: the lockfile's resolution when there is one, else the Gemfile's `gem` lines.
struct Gems {
    versions: BTreeMap<String, String>,
    /// The gems the project asks for itself (Gemfile lines, the lock's DEPENDENCIES).
    direct: BTreeSet<String>,
}

impl Gems {
    fn new(gemfile: &str, lock: &GemfileLock) -> Gems {
        static GEM: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r#"(?m)^\s*gem\s*\(?\s*["']([A-Za-z0-9_.-]+)["']"#).unwrap()
        });
        let mut versions = lock.specs.clone();
        let mut direct = lock.dependencies.clone();
        for c in GEM.captures_iter(gemfile) {
            versions.entry(c[1].to_string()).or_default();
            direct.insert(c[1].to_string());
        }
        Gems { versions, direct }
    }

    fn has_direct(&self, name: &str) -> bool {
        self.direct.contains(name)
    }

    fn has(&self, name: &str) -> bool {
        self.versions.contains_key(name)
    }

    fn version(&self, name: &str) -> Option<&str> {
        self.versions
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
}

fn rails_at_least(gems: &Gems, major: u32, minor: u32) -> bool {
    let Some(v) = gems.version("rails").or_else(|| gems.version("railties")) else {
        // Unknown: assume a current Rails.
        return true;
    };
    let mut parts = v.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let (ma, mi) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    (ma, mi) >= (major, minor)
}

fn lint_command(tree: &RepoTree, dir: &str, gems: &Gems) -> Option<String> {
    // standard depends on rubocop, so it is asked about first.
    if gems.has("standard") {
        return Some("bundle exec standardrb".to_string());
    }
    if gems.has("rubocop") || tree.exists(&join(dir, ".rubocop.yml")) {
        if tree.exists(&join(dir, "bin/rubocop")) {
            return Some("bin/rubocop".to_string());
        }
        return Some("bundle exec rubocop".to_string());
    }
    None
}

fn test_command(
    tree: &RepoTree,
    dir: &str,
    gems: &Gems,
    framework: Option<&str>,
) -> Option<String> {
    let has_spec = tree.is_dir(&join(dir, "spec"));
    let has_test = tree.is_dir(&join(dir, "test"));
    if has_spec && (gems.has("rspec") || gems.has("rspec-rails") || gems.has("rspec-core")) {
        return Some("bundle exec rspec".to_string());
    }
    if has_test {
        if framework == Some("rails") {
            return Some("bin/rails test".to_string());
        }
        if tree.exists(&join(dir, "Rakefile")) {
            return Some("bundle exec rake test".to_string());
        }
        return Some(
            "bundle exec ruby -Itest -e 'Dir.glob(\"./test/**/*_test.rb\").each { |f| require f }'"
                .to_string(),
        );
    }
    None
}

/// Debian packages to compile native gems (build stage) and the shared libraries they load at run
/// time (runtime stage). Native gems with precompiled platform builds (nokogiri, sqlite3 2.x) need none.
fn native_packages(gems: &Gems) -> (Vec<String>, Vec<String>) {
    let mut build: BTreeSet<&str> = ["build-essential", "git", "pkg-config", "libyaml-dev"]
        .into_iter()
        .collect();
    let mut runtime: BTreeSet<&str> = BTreeSet::new();
    let table: &[(&str, &[&str], &[&str])] = &[
        ("pg", &["libpq-dev"], &["libpq5"]),
        ("mysql2", &["default-libmysqlclient-dev"], &["libmariadb3"]),
        ("trilogy", &[], &[]),
        ("ruby-vips", &[], &["libvips42"]),
        ("rmagick", &["libmagickwand-dev"], &["imagemagick"]),
    ];
    for (gem, b, r) in table {
        if gems.has(gem) {
            build.extend(b.iter());
            runtime.extend(r.iter());
        }
    }
    // image_processing pulls in mini_magick too, but Rails uses vips unless the app asks for MiniMagick.
    if gems.has_direct("mini_magick") {
        runtime.insert("imagemagick");
    }
    // sqlite3 before 2.0 compiles against the system library.
    if let Some(v) = gems.version("sqlite3")
        && v.split('.').next().and_then(|m| m.parse::<u32>().ok()) < Some(2)
    {
        build.insert("libsqlite3-dev");
        runtime.insert("libsqlite3-0");
    }
    (
        build.into_iter().map(String::from).collect(),
        runtime.into_iter().map(String::from).collect(),
    )
}

/// Rails assets built by jsbundling/cssbundling (`yarn build`) need Node in the build stage.
fn js_bundling(tree: &RepoTree, dir: &str, gems: &Gems, service: &mut Service) {
    let package_json = join(dir, "package.json");
    let bundling = gems.has("jsbundling-rails") || gems.has("cssbundling-rails");
    if !bundling || !tree.exists(&package_json) {
        return;
    }
    service.fact("js_bundling", true);
    let (pm, lock) = if tree.exists(&join(dir, "yarn.lock")) {
        ("yarn", Some("yarn.lock"))
    } else if tree.exists(&join(dir, "package-lock.json")) {
        ("npm", Some("package-lock.json"))
    } else {
        ("npm", None)
    };
    service.fact("js_package_manager", pm);
    let mut js_manifests = vec!["package.json".to_string()];
    if let Some(l) = lock {
        js_manifests.push(l.to_string());
    }
    service.fact("js_manifests", js_manifests);
    let node = super::node::asset_node_version(tree, dir);
    service.fact("node_version", node);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::tree::tree_of;

    const LOCK: &str = "GIT
  remote: https://github.com/example/thing.git
  revision: abc
  specs:
    thing (0.1.0)

GEM
  remote: https://rubygems.org/
  specs:
    actionpack (7.2.1)
      rack (>= 2.2.4)
    nokogiri (1.16.7-x86_64-linux)
      racc (~> 1.4)
    puma (6.4.3)
      nio4r (~> 2.0)
    rails (7.2.1)

PLATFORMS
  ruby
  x86_64-linux

DEPENDENCIES
  puma (>= 5.0)
  rails (~> 7.2.1)
  thing!

RUBY VERSION
   ruby 3.3.5p100

BUNDLED WITH
   2.5.16
";

    #[test]
    fn lockfile_sections() {
        let lock = GemfileLock::parse(LOCK);
        assert_eq!(lock.specs.get("rails").map(String::as_str), Some("7.2.1"));
        assert_eq!(
            lock.specs.get("nokogiri").map(String::as_str),
            Some("1.16.7")
        );
        assert_eq!(lock.specs.get("thing").map(String::as_str), Some("0.1.0"));
        // Dependencies of specs (six spaces) are not specs.
        assert!(!lock.specs.contains_key("racc"));
        assert!(lock.dependencies.contains("thing"));
        assert!(lock.dependencies.contains("puma"));
        assert_eq!(lock.platforms, vec!["ruby", "x86_64-linux"]);
        assert_eq!(lock.ruby_version.as_deref(), Some("ruby 3.3.5p100"));
        assert_eq!(
            lock.ruby_version
                .as_deref()
                .and_then(normalise_ruby_version)
                .as_deref(),
            Some("3.3.5")
        );
        assert_eq!(lock.bundled_with.as_deref(), Some("2.5.16"));
    }

    #[test]
    fn malformed_lockfile_is_empty_not_a_panic() {
        for text in [
            "",
            "\n\n",
            "GEM\n    (\n  specs:\n    x",
            "    rails (7",
            "\u{feff}GEM\n\t\tjunk",
        ] {
            let lock = GemfileLock::parse(text);
            assert!(lock.bundled_with.is_none());
        }
        assert_eq!(
            GemfileLock::parse("GEM\n  specs:\n    rails (7\n")
                .specs
                .get("rails")
                .map(String::as_str),
            Some("7")
        );
    }

    #[test]
    fn ruby_versions() {
        assert_eq!(
            normalise_ruby_version("ruby-3.3.0").as_deref(),
            Some("3.3.0")
        );
        assert_eq!(normalise_ruby_version("3.2.2\n").as_deref(), Some("3.2.2"));
        assert_eq!(normalise_ruby_version("~> 3.2.0").as_deref(), Some("3.2"));
        assert_eq!(normalise_ruby_version("~> 3.2").as_deref(), Some("3"));
        assert_eq!(normalise_ruby_version(">= 3.1"), None);
        assert_eq!(normalise_ruby_version("jruby-9.4.0.0"), None);
        assert_eq!(normalise_ruby_version(""), None);
        assert_eq!(
            gemfile_ruby("source 'https://rubygems.org'\nruby \"3.3.0\"\ngem 'rails'\n").as_deref(),
            Some("3.3.0")
        );
        assert_eq!(gemfile_ruby("ruby file: \".ruby-version\"\n"), None);
    }

    #[test]
    fn puma_ports() {
        assert_eq!(puma_port("port ENV.fetch(\"PORT\", 3000)\n"), Some(3000));
        assert_eq!(puma_port("port ENV.fetch(\"PORT\") { 8080 }\n"), Some(8080));
        assert_eq!(puma_port("  port 9000 # the public port\n"), Some(9000));
        assert_eq!(puma_port("bind \"tcp://0.0.0.0:4000\"\n"), Some(4000));
        assert_eq!(puma_port("port ENV.fetch(\"PORT\")\n"), None);
        assert_eq!(puma_port("threads 5, 5\n"), None);
        assert_eq!(sinatra_port("set :port, 8080\n"), Some(8080));
        assert_eq!(sinatra_port("set :bind, '0.0.0.0'\n"), None);
    }

    #[test]
    fn rails_routes() {
        let routes = "Rails.application.routes.draw do\n  get \"up\" => \"rails/health#show\", as: :rails_health_check\n  root \"posts#index\"\nend\n";
        assert_eq!(rails_health_route(routes).as_deref(), Some("/up"));
        assert_eq!(
            rails_health_route("  get '/healthz', to: 'health#show'\n").as_deref(),
            Some("/healthz")
        );
        assert_eq!(
            rails_health_route("  get 'posts', to: 'posts#index'\n"),
            None
        );
        assert_eq!(snake_case("MyBlogApp"), "my_blog_app");
    }

    #[test]
    fn a_gem_is_not_a_service() {
        let (_d, tree) = tree_of(&[
            ("Gemfile", "source \"https://rubygems.org\"\ngemspec\n"),
            (
                "tiny.gemspec",
                "Gem::Specification.new { |s| s.name = 'tiny' }\n",
            ),
            ("lib/tiny.rb", "module Tiny; end\n"),
        ]);
        let found = Ruby.detect(&tree, "").expect("a ruby folder");
        assert!(found.services.is_empty());
    }

    #[test]
    fn plain_rack_app_with_a_path_check() {
        let (_d, tree) = tree_of(&[
            ("Gemfile", "gem 'rack'\n"),
            (
                "config.ru",
                "run ->(env) { env['PATH_INFO'] == '/healthz' ? [200, {}, ['ok']] : [404, {}, []] }\n",
            ),
        ]);
        let s = &Ruby.detect(&tree, "").unwrap().services[0];
        assert_eq!(s.framework.as_deref(), Some("rack"));
        assert_eq!(s.port, Some(9292));
        assert_eq!(s.health_path.as_deref(), Some("/healthz"));
        assert_eq!(
            s.start_command.as_deref(),
            Some("bundle exec rackup --host 0.0.0.0 --port 9292")
        );
        // No lockfile: no deployment mode, no frozen install.
        assert!(!s.facts.contains_key("lockfile"));
        assert_eq!(s.facts["install_command"], "bundle install");
    }

    #[test]
    fn garbage_manifests_do_not_panic() {
        let (_d, tree) = tree_of(&[
            ("Gemfile", "\u{0}\u{1}gem (\nruby \"\"\n"),
            ("Gemfile.lock", "GEM\n    \n  specs:\n    (\nRUBY VERSION\n"),
            (
                "config/application.rb",
                "module\nclass X < Rails::Application\n",
            ),
            ("config/puma.rb", "port ENV.fetch('PORT', 99999999)\n"),
        ]);
        let s = &Ruby.detect(&tree, "").unwrap().services[0];
        assert_eq!(s.framework.as_deref(), Some("rails"));
        // An out-of-range port falls back to Rails' default.
        assert_eq!(s.port, Some(3000));
        assert_eq!(s.runtime_version, None);
    }

    #[test]
    fn versions_from_parent_folders_and_tool_files() {
        let (_d, tree) = tree_of(&[
            (".ruby-version", "ruby-3.3.1\n"),
            ("api/Gemfile", "gem 'puma'\n"),
            ("api/config.ru", "run ->(env) { [200, {}, ['ok']] }\n"),
            ("worker/Gemfile", "gem 'sinatra'\n"),
            ("worker/app.rb", "require 'sinatra'\nget('/') { 'hi' }\n"),
            ("worker/.tool-versions", "nodejs 22.1.0\nruby 3.2.4\n"),
        ]);
        let api = &Ruby.detect(&tree, "api").unwrap().services[0];
        assert_eq!(api.path, "api");
        assert_eq!(api.runtime_version.as_deref(), Some("3.3.1"));
        assert_eq!(api.runtime_version_source.as_deref(), Some(".ruby-version"));
        assert_eq!(api.port, Some(9292));
        let worker = &Ruby.detect(&tree, "worker").unwrap().services[0];
        // The service's own .tool-versions is nearer than the root .ruby-version.
        assert_eq!(worker.runtime_version.as_deref(), Some("3.2.4"));
        assert_eq!(
            worker.runtime_version_source.as_deref(),
            Some("worker/.tool-versions")
        );
        assert_eq!(worker.port, Some(4567));
        assert_eq!(
            worker.start_command.as_deref(),
            Some("bundle exec ruby app.rb -o 0.0.0.0 -p 4567")
        );
    }

    #[test]
    fn tool_versions_when_nothing_else_declares_ruby() {
        let (_d, tree) = tree_of(&[
            ("Gemfile", "gem 'sinatra'\n"),
            ("app.rb", "require \"sinatra/base\"\n"),
            (".tool-versions", "ruby 3.2.4\n"),
        ]);
        let s = &Ruby.detect(&tree, "").unwrap().services[0];
        assert_eq!(s.runtime_version.as_deref(), Some("3.2.4"));
        assert_eq!(s.runtime_version_source.as_deref(), Some(".tool-versions"));
    }

    #[test]
    fn rails_production_variables() {
        let (_d, tree) = tree_of(&[
            (
                "config/database.yml",
                "development:\n  database: <%= ENV[\"DEV_DB\"] %>\nproduction:\n  url: <%= ENV[\"DATABASE_URL\"] %>\n  pool: <%= ENV.fetch(\"RAILS_MAX_THREADS\") { 5 } %>\n  password: <%= ENV.fetch(\"DB_PASSWORD\") %>\n  host: <%= ENV.fetch(\"DB_HOST\", \"localhost\") %>\n",
            ),
            ("config/credentials.yml.enc", "abc--def--ghi"),
        ]);
        assert_eq!(
            rails_runtime_env(&tree, ""),
            vec!["RAILS_MASTER_KEY", "DATABASE_URL", "DB_PASSWORD"]
        );
    }
}
