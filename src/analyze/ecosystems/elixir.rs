//! The elixir ecosystem: Mix projects (`mix.exs`, `mix.lock`) shipped as `mix release`s; Phoenix, and
//! plain OTP applications serving HTTP with Bandit or Plug.Cowboy.
//!
//! Facts set besides the common ones (see the facts contract): `default_runtime_version`, `otp_version`
//! (major), `default_otp_version`, `release_name` (the `bin/<name>` of the release), `config_files`
//! (compile-time config copied before `deps.compile`), `runtime_config` (bool: `config/runtime.exs`),
//! `source_dirs` (folders copied before `mix compile`: lib, priv, apps, …), `assets_deploy` (bool: the
//! `assets.deploy` alias), `has_rel` (bool: a `rel/` folder), `health_command`, `runtime_env`
//! (variables `config/runtime.exs` requires at boot).

use super::version::tool_version;
use super::{Detection, Detector, dir_name, service_path};
use crate::analyze::tree::{RepoTree, join};
use crate::profile::{Ecosystem, PackageManager, Service};
use regex::Regex;
use std::sync::LazyLock;

pub struct Elixir;

/// Elixir and Erlang/OTP used when the repository declares none: current in late 2026.
pub const DEFAULT_ELIXIR: &str = "1.18";
pub const DEFAULT_OTP: &str = "27";

impl Detector for Elixir {
    fn detect(&self, tree: &RepoTree, dir: &str) -> Option<Detection> {
        let mix_path = join(dir, "mix.exs");
        if !tree.exists(&mix_path) {
            return None;
        }
        let mix = tree.read_text(&mix_path).unwrap_or_default();
        let project = MixProject::parse(&mix);

        // An umbrella's apps are part of its release(s): claim them so they are not services too.
        let mut claimed = Vec::new();
        let mut dep_texts = vec![mix.clone()];
        if let Some(apps) = &project.apps_path {
            let apps_dir = join(dir, apps);
            claimed.push(apps_dir.clone());
            for app in tree.subdirs_of(&apps_dir) {
                if let Some(text) = tree.read_text(&join(&join(&apps_dir, app), "mix.exs")) {
                    dep_texts.push(text);
                }
            }
        }
        let deps: Vec<String> = dep_texts.iter().flat_map(|t| dependencies(t)).collect();
        let has = |name: &str| deps.iter().any(|d| d == name);
        let phoenix = has("phoenix");
        let http = phoenix || has("bandit") || has("plug_cowboy");
        let deployable = http || !project.releases.is_empty() || project.has_mod;
        if !deployable {
            // A library: Elixir's folder, nothing to deploy.
            return Some(Detection {
                services: Vec::new(),
                claimed,
            });
        }

        let release = project
            .releases
            .first()
            .cloned()
            .or_else(|| project.app.clone())
            .unwrap_or_else(|| dir_name(tree, dir).replace('-', "_"));
        let mut service = Service::new(
            project.app.clone().unwrap_or_else(|| release.clone()),
            service_path(dir),
            Ecosystem::Elixir,
            PackageManager::Mix,
        );
        service.framework = if phoenix {
            Some("phoenix".to_string())
        } else if has("bandit") || has("plug_cowboy") {
            Some("plug".to_string())
        } else {
            None
        };

        let versions = declared_versions(tree, dir, &project);
        if let Some((v, source)) = &versions.elixir {
            service.runtime_version = Some(v.clone());
            service.runtime_version_source = Some(source.clone());
        }
        let elixir = versions
            .elixir
            .as_ref()
            .map(|(v, _)| v.clone())
            .unwrap_or_else(|| DEFAULT_ELIXIR.to_string());
        service.fact("default_runtime_version", DEFAULT_ELIXIR);
        service.fact("default_otp_version", DEFAULT_OTP);
        if let Some(otp) = &versions.otp {
            service.fact("otp_version", otp.clone());
        }
        // With a declared Elixir but no declared OTP, the image's own OTP for that Elixir is the safe
        // choice: an older Elixir may not support opsmith's default OTP.
        let build_image = match (&versions.otp, &versions.elixir) {
            (Some(otp), _) => format!("elixir:{elixir}-otp-{otp}-slim"),
            (None, Some(_)) => format!("elixir:{elixir}-slim"),
            (None, None) => format!("elixir:{elixir}-otp-{DEFAULT_OTP}-slim"),
        };
        service.fact("build_image", build_image);
        service.fact("runtime_image", "debian:bookworm-slim");
        service.fact("build_context", service.path.clone());
        service.fact("service_in_context", "");
        service.fact("release_name", release.clone());
        // With several declared releases `mix release` needs the name.
        service.fact("releases_declared", !project.releases.is_empty());

        let mut manifests = vec!["mix.exs".to_string()];
        if tree.exists(&join(dir, "mix.lock")) {
            manifests.push("mix.lock".to_string());
            service.fact("lockfile", "mix.lock");
        }
        // Umbrella apps' own mix.exs files are needed to resolve dependencies.
        if let Some(apps) = &project.apps_path {
            let apps_dir = join(dir, apps);
            for app in tree.subdirs_of(&apps_dir) {
                let rel = format!("{apps}/{app}/mix.exs");
                if tree.exists(&join(dir, &rel)) {
                    manifests.push(rel);
                }
            }
        }
        service.fact("manifests", manifests);
        service.fact("install_command", "mix deps.get");
        if has("credo") {
            service.fact("lint_command", "mix credo --strict");
        } else if tree.exists(&join(dir, ".formatter.exs")) {
            service.fact("lint_command", "mix format --check-formatted");
        }
        let has_tests = tree.is_dir(&join(dir, "test"))
            || project.apps_path.as_ref().is_some_and(|a| {
                tree.files_under(&join(dir, a))
                    .any(|f| f.path.contains("/test/"))
            });
        if has_tests {
            service.fact("test_command", "mix test");
        }

        let config_files: Vec<String> = ["config/config.exs", "config/prod.exs"]
            .into_iter()
            .filter(|c| tree.exists(&join(dir, c)))
            .map(String::from)
            .collect();
        service.fact("config_files", config_files);
        service.fact(
            "runtime_config",
            tree.exists(&join(dir, "config/runtime.exs")),
        );
        let source_dirs: Vec<String> = ["priv", "lib"]
            .into_iter()
            .map(String::from)
            .chain(project.apps_path.clone())
            .filter(|d| tree.is_dir(&join(dir, d)))
            .collect();
        service.fact("source_dirs", source_dirs);
        let assets_deploy = project.assets_deploy && tree.is_dir(&join(dir, "assets"));
        service.fact("assets_deploy", assets_deploy);
        service.fact("has_rel", tree.is_dir(&join(dir, "rel")));
        let runtime_exs = tree
            .read_text(&join(dir, "config/runtime.exs"))
            .unwrap_or_default();
        service.fact("runtime_env", required_env(&runtime_exs));
        service.build_command = Some(if assets_deploy {
            "mix assets.deploy && mix release".to_string()
        } else {
            "mix release".to_string()
        });
        service.start_command = Some(format!("bin/{release} start"));

        if http {
            let port = port(tree, dir).unwrap_or(4000);
            service.port = Some(port);
            service.health_path = health_path(tree, dir);
            let path = service
                .health_path
                .clone()
                .unwrap_or_else(|| "/".to_string());
            // bash's /dev/tcp speaks HTTP without adding curl to the image; 2xx and 3xx count as up.
            let script = format!(
                "exec 3<>/dev/tcp/127.0.0.1/{port} && printf 'GET {path} HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' [23][0-9][0-9] '"
            );
            service.fact(
                "health_command",
                vec!["bash".to_string(), "-c".to_string(), script],
            );
        }
        Some(Detection {
            services: vec![service],
            claimed,
        })
    }
}

/// What `mix.exs` says about the project, read with patterns (it is Elixir code, not data).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct MixProject {
    pub app: Option<String>,
    /// The `elixir:` requirement as written (`~> 1.16`).
    pub elixir_requirement: Option<String>,
    /// Release names in the order declared.
    pub releases: Vec<String>,
    pub apps_path: Option<String>,
    /// Whether the application has a callback module (`mod: {App.Application, []}`): something runs.
    pub has_mod: bool,
    /// Whether an `assets.deploy` alias exists (Phoenix 1.6+).
    pub assets_deploy: bool,
}

impl MixProject {
    pub fn parse(text: &str) -> MixProject {
        static APP: LazyLock<Regex> =
            LazyLock::new(|| Regex::new(r"\bapp:\s*:([a-z_][a-zA-Z0-9_]*)").unwrap());
        static ELIXIR: LazyLock<Regex> =
            LazyLock::new(|| Regex::new(r#"\belixir:\s*"([^"]+)""#).unwrap());
        static RELEASES: LazyLock<Regex> =
            LazyLock::new(|| Regex::new(r"\breleases:\s*\[\s*([a-z_][a-zA-Z0-9_]*):").unwrap());
        static APPS_PATH: LazyLock<Regex> =
            LazyLock::new(|| Regex::new(r#"\bapps_path:\s*"([^"]+)""#).unwrap());
        static MOD: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\bmod:\s*\{").unwrap());
        let code = strip_comments(text);
        MixProject {
            app: APP.captures(&code).map(|c| c[1].to_string()),
            elixir_requirement: ELIXIR.captures(&code).map(|c| c[1].to_string()),
            releases: RELEASES
                .captures_iter(&code)
                .map(|c| c[1].to_string())
                .collect(),
            apps_path: APPS_PATH
                .captures(&code)
                .map(|c| c[1].trim_end_matches('/').to_string())
                .filter(|p| !p.is_empty() && !p.contains("..")),
            has_mod: MOD.is_match(&code),
            assets_deploy: code.contains("\"assets.deploy\""),
        }
    }
}

/// The code without `#` comments (a `#` inside a string is rare in mix.exs and only shortens a line).
fn strip_comments(text: &str) -> String {
    text.lines()
        .map(|l| match l.find('#') {
            Some(i) if !l[..i].contains('"') => &l[..i],
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Dependency names declared as `{:name, …}` tuples.
fn dependencies(mix: &str) -> Vec<String> {
    static DEP: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"\{\s*:([a-z_][a-z0-9_]*)\s*,").unwrap());
    let code = strip_comments(mix);
    // Only the deps function (or list) is meant; a missing `deps` keeps every tuple, which is harmless.
    let body = code
        .find("defp deps")
        .or_else(|| code.find("def deps"))
        .map(|i| &code[i..])
        .unwrap_or(&code);
    DEP.captures_iter(body).map(|c| c[1].to_string()).collect()
}

/// `~> 1.16` → `1.16`; `~> 1.15.7` → `1.15`; `>= 1.14.0` → `1.14`; `1.17.3` → `1.17.3`; None otherwise.
pub fn normalise_elixir_requirement(requirement: &str) -> Option<String> {
    let req = requirement.split(" or ").next().unwrap_or("").trim();
    let (exact, rest) = match req
        .strip_prefix("~>")
        .or_else(|| req.strip_prefix(">="))
        .or_else(|| req.strip_prefix("=="))
    {
        Some(r) => (req.starts_with("=="), r.trim()),
        None => (true, req),
    };
    let rest = rest.split_whitespace().next().unwrap_or("");
    let parts: Vec<&str> = rest.split('.').collect();
    if parts.len() < 2
        || parts.len() > 3
        || parts
            .iter()
            .any(|p| p.is_empty() || !p.chars().all(|c| c.is_ascii_digit()))
    {
        return None;
    }
    if exact {
        Some(parts.join("."))
    } else {
        Some(parts[..2].join("."))
    }
}

struct Versions {
    /// Elixir version and the file it came from.
    elixir: Option<(String, String)>,
    /// Erlang/OTP major release.
    otp: Option<String>,
}

/// `.tool-versions`/`mise.toml` (`elixir 1.16.2-otp-26`, `erlang 26.2.5`) first, being exact; then
/// mix.exs's `elixir:` requirement.
fn declared_versions(tree: &RepoTree, dir: &str, project: &MixProject) -> Versions {
    let mut elixir = None;
    let mut otp = None;
    if let Some(d) = tool_version(tree, dir, &["elixir"]) {
        let (version, otp_suffix) = match d.version.split_once("-otp-") {
            Some((v, o)) => (v.to_string(), Some(o.to_string())),
            None => (d.version.clone(), None),
        };
        if let Some(v) = normalise_elixir_requirement(&version) {
            elixir = Some((v, d.source));
        }
        otp = otp_suffix.and_then(|o| otp_major(&o));
    }
    if let Some(d) = tool_version(tree, dir, &["erlang"]) {
        otp = otp_major(&d.version).or(otp);
    }
    if elixir.is_none()
        && let Some(v) = project
            .elixir_requirement
            .as_deref()
            .and_then(normalise_elixir_requirement)
    {
        elixir = Some((v, join(dir, "mix.exs")));
    }
    Versions { elixir, otp }
}

/// `26.2.5` → `26`; `OTP-27` → `27`.
fn otp_major(raw: &str) -> Option<String> {
    let raw = raw.trim().trim_start_matches("OTP-");
    let major = raw.split('.').next()?;
    (!major.is_empty() && major.len() <= 3 && major.chars().all(|c| c.is_ascii_digit()))
        .then(|| major.to_string())
}

/// The HTTP port: `System.get_env("PORT") || "4000"` in config/runtime.exs, `port: 4001` in the
/// endpoint or Bandit/Cowboy child spec.
fn port(tree: &RepoTree, dir: &str) -> Option<u16> {
    let mut files: Vec<String> = ["config/runtime.exs", "config/prod.exs", "config/config.exs"]
        .into_iter()
        .map(|f| join(dir, f))
        .collect();
    files.extend(
        tree.files_under(&join(dir, "lib"))
            .filter(|f| f.path.ends_with(".ex"))
            .take(200)
            .map(|f| f.path.clone()),
    );
    files
        .iter()
        .filter_map(|f| tree.read_text(f))
        .find_map(|t| port_in(&t))
}

pub fn port_in(code: &str) -> Option<u16> {
    static ENV_DEFAULT: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r#"System\.get_env\(\s*"PORT"\s*(?:,\s*"(\d{2,5})"\s*\)|\)\s*\|\|\s*"?(\d{2,5})"?)"#,
        )
        .unwrap()
    });
    static LITERAL: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"\bport:\s*(\d{2,5})\b").unwrap());
    let code = strip_comments(code);
    ENV_DEFAULT
        .captures(&code)
        .and_then(|c| c.get(1).or_else(|| c.get(2)))
        .or_else(|| LITERAL.captures(&code).and_then(|c| c.get(1)))
        .and_then(|m| m.as_str().parse::<u16>().ok())
        .filter(|p| *p > 0)
}

/// Variables `config/runtime.exs` insists on: `System.fetch_env!("X")` or
/// `System.get_env("X") || raise …`.
pub fn required_env(runtime_exs: &str) -> Vec<String> {
    static REQUIRED: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r#"System\.(?:fetch_env!\(\s*"([A-Z][A-Z0-9_]*)"\s*\)|get_env\(\s*"([A-Z][A-Z0-9_]*)"\s*\)\s*\|\|\s*raise)"#,
        )
        .unwrap()
    });
    let code = strip_comments(runtime_exs);
    let mut names: Vec<String> = Vec::new();
    for c in REQUIRED.captures_iter(&code) {
        let name = c
            .get(1)
            .or_else(|| c.get(2))
            .map(|m| m.as_str().to_string());
        if let Some(name) = name
            && !names.contains(&name)
        {
            names.push(name);
        }
    }
    names
}

/// A health route in a Phoenix router or a Plug.Router (`get "/health", …` / `get "/health" do`).
fn health_path(tree: &RepoTree, dir: &str) -> Option<String> {
    static ROUTE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"(?m)^\s*(?:get|forward)\s*\(?\s*"(/[A-Za-z0-9_/-]*)""#).unwrap()
    });
    tree.files_under(&join(dir, "lib"))
        .filter(|f| f.path.ends_with(".ex"))
        .take(300)
        .filter_map(|f| tree.read_text(&f.path))
        .find_map(|text| {
            ROUTE
                .captures_iter(&text)
                .map(|c| c[1].to_string())
                .find(|p| {
                    matches!(
                        p.rsplit('/').next(),
                        Some("health" | "healthz" | "up" | "ping" | "livez" | "healthcheck")
                    )
                })
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::tree::tree_of;

    const MIX: &str = r#"defmodule Shop.MixProject do
  use Mix.Project

  def project do
    [
      app: :shop,
      version: "0.1.0",
      elixir: "~> 1.16",
      # releases: [ignored: []],
      releases: [shop_web: [include_executables_for: [:unix]]],
      aliases: aliases(),
      deps: deps()
    ]
  end

  def application do
    [mod: {Shop.Application, []}, extra_applications: [:logger]]
  end

  defp deps do
    [
      {:phoenix, "~> 1.7.14"},
      # {:credo, "~> 1.7"},
      {:bandit, "~> 1.5"}
    ]
  end

  defp aliases do
    ["assets.deploy": ["tailwind shop --minify", "esbuild shop --minify", "phx.digest"]]
  end
end
"#;

    #[test]
    fn mix_project() {
        let p = MixProject::parse(MIX);
        assert_eq!(p.app.as_deref(), Some("shop"));
        assert_eq!(p.elixir_requirement.as_deref(), Some("~> 1.16"));
        assert_eq!(p.releases, vec!["shop_web"]);
        assert!(p.has_mod);
        // `"assets.deploy":` as a keyword key.
        assert!(p.assets_deploy);
        assert_eq!(dependencies(MIX), vec!["phoenix", "bandit"]);
    }

    #[test]
    fn malformed_mix_is_unknown_not_a_panic() {
        for text in [
            "",
            "defmodule",
            "app: :",
            "elixir: \"~>\"",
            "\u{0}\u{ffff}#\"#",
        ] {
            let p = MixProject::parse(text);
            assert!(p.releases.is_empty());
            assert_eq!(
                p.elixir_requirement
                    .as_deref()
                    .and_then(normalise_elixir_requirement),
                None
            );
        }
    }

    #[test]
    fn elixir_versions() {
        let v = normalise_elixir_requirement;
        assert_eq!(v("~> 1.16").as_deref(), Some("1.16"));
        assert_eq!(v("~> 1.15.7").as_deref(), Some("1.15"));
        assert_eq!(v(">= 1.14.0").as_deref(), Some("1.14"));
        assert_eq!(v("1.17.3").as_deref(), Some("1.17.3"));
        assert_eq!(v("== 1.17.3").as_deref(), Some("1.17.3"));
        assert_eq!(v("~> 1.16 or ~> 1.17").as_deref(), Some("1.16"));
        assert_eq!(v("~> 1"), None);
        assert_eq!(v("main"), None);
        assert_eq!(otp_major("26.2.5").as_deref(), Some("26"));
        assert_eq!(otp_major("OTP-27").as_deref(), Some("27"));
        assert_eq!(otp_major("ref:master"), None);
    }

    #[test]
    fn ports() {
        assert_eq!(
            port_in("port = String.to_integer(System.get_env(\"PORT\") || \"4000\")"),
            Some(4000)
        );
        assert_eq!(
            port_in("port: String.to_integer(System.get_env(\"PORT\", \"8080\"))"),
            Some(8080)
        );
        assert_eq!(
            port_in("{Bandit, plug: Api.Router, scheme: :http, port: 4001}"),
            Some(4001)
        );
        assert_eq!(port_in("# port: 9999\n"), None);
        assert_eq!(port_in("System.get_env(\"PORT\")"), None);
    }

    #[test]
    fn a_library_is_not_a_service() {
        let (_d, tree) = tree_of(&[
            (
                "mix.exs",
                "defmodule Lib.MixProject do\n  def project, do: [app: :lib, deps: deps()]\n  defp deps, do: [{:jason, \"~> 1.4\"}]\nend\n",
            ),
            ("lib/lib.ex", "defmodule Lib do\nend\n"),
        ]);
        assert!(Elixir.detect(&tree, "").unwrap().services.is_empty());
    }

    #[test]
    fn umbrella_claims_its_apps_and_sees_their_deps() {
        let (_d, tree) = tree_of(&[
            (
                "mix.exs",
                "defmodule Shop.Umbrella.MixProject do\n  def project do\n    [apps_path: \"apps\", releases: [shop: [applications: [shop_web: :permanent]]]]\n  end\nend\n",
            ),
            (
                "apps/shop_web/mix.exs",
                "defmodule ShopWeb.MixProject do\n  def project, do: [app: :shop_web, deps: deps()]\n  defp deps, do: [{:phoenix, \"~> 1.7\"}]\nend\n",
            ),
            (
                "apps/shop_web/lib/shop_web.ex",
                "defmodule ShopWeb do\nend\n",
            ),
        ]);
        let found = Elixir.detect(&tree, "").unwrap();
        assert_eq!(found.claimed, vec!["apps"]);
        let s = &found.services[0];
        assert_eq!(s.name, "shop");
        assert_eq!(s.framework.as_deref(), Some("phoenix"));
        assert_eq!(s.port, Some(4000));
        assert_eq!(
            s.facts["manifests"],
            serde_json::json!(["mix.exs", "apps/shop_web/mix.exs"])
        );
        assert_eq!(s.facts["source_dirs"], serde_json::json!(["apps"]));
    }

    #[test]
    fn tool_versions_give_elixir_and_otp() {
        let (_d, tree) = tree_of(&[
            (
                "mix.exs",
                "defmodule W.MixProject do\n  def project, do: [app: :w, elixir: \"~> 1.15\", releases: [w: []]]\nend\n",
            ),
            (".tool-versions", "erlang 26.2.5\nelixir 1.16.3-otp-26\n"),
        ]);
        let s = &Elixir.detect(&tree, "").unwrap().services[0];
        assert_eq!(s.runtime_version.as_deref(), Some("1.16.3"));
        assert_eq!(s.runtime_version_source.as_deref(), Some(".tool-versions"));
        assert_eq!(s.facts["otp_version"], "26");
        // A worker release: no port, no HTTP health check.
        assert_eq!(s.port, None);
        assert!(!s.facts.contains_key("health_command"));
    }

    #[test]
    fn required_runtime_variables() {
        let runtime = r#"import Config
if config_env() == :prod do
  database_url =
    System.get_env("DATABASE_URL") ||
      raise """
      environment variable DATABASE_URL is missing.
      """
  secret = System.fetch_env!("SECRET_KEY_BASE")
  # token = System.fetch_env!("COMMENTED_OUT")
  host = System.get_env("PHX_HOST") || "example.com"
end
"#;
        assert_eq!(
            required_env(runtime),
            vec!["DATABASE_URL", "SECRET_KEY_BASE"]
        );
        assert!(required_env("").is_empty());
    }
}
