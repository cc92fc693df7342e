//! The python ecosystem: pip, poetry, uv, pipenv and pdm projects, and the Django, Flask and FastAPI
//! apps among them, with the entry point, server command, port and health route the image needs.
//!
//! Facts set besides the common ones (`build_context`, `service_in_context`, `manifests`, `lockfile`,
//! `install_command`, `lint_command`, `test_command`, `runtime_image`, `build_image`):
//! - `cmd`: the start command as an exec-form argument list;
//! - `extra_requirements`: pinned server packages the image installs because the start command needs
//!   them and the project does not depend on them (`gunicorn==…`);
//! - `requirements`: for pip projects, the requirements file installed (relative to the service);
//!   `requirements_need_source`: whether it installs the project itself (`-e .`), so the source must be
//!   in place first;
//! - `pythonpath`: a source root to put on `PYTHONPATH` (`src` for src layouts);
//! - `django_settings`: the settings module of a Django project; `collectstatic`: whether
//!   `STATIC_ROOT` is set, so the image collects static files at build time;
//! - `uv_package`: in a uv workspace, the member's project name (`uv sync --package`);
//! - `install_project`: whether the project itself is an installable package (pip/uv);
//! - `writable_dirs`: folders of the app (relative to it) the app user must be able to write, the
//!   code itself staying read-only (Flask's `instance/`).

use super::version::tool_version;
use super::{Detection, Detector, dir_name, service_path};
use crate::analyze::tree::{self, RepoTree, join, relative_to};
use crate::profile::{Ecosystem, PackageManager, Service};
use regex::Regex;
use std::collections::BTreeSet;
use std::sync::LazyLock;

pub struct Python;

/// The Python release used when the repository declares none; the Dockerfile template states the same.
pub const DEFAULT_PYTHON: &str = "3.14";
/// Minor releases with official `-slim-bookworm` images, oldest first. The first supported one that
/// satisfies a `requires-python` range is the one the image uses.
const PYTHON_RELEASES: &[(u32, u32)] =
    &[(3, 8), (3, 9), (3, 10), (3, 11), (3, 12), (3, 13), (3, 14)];
/// The oldest release still receiving fixes in late 2026 (3.10 reached its end of life in October
/// 2026), preferred over older ones a range also allows.
const OLDEST_SUPPORTED: (u32, u32) = (3, 11);

/// Tool versions the images install, pinned so builds are reproducible.
const GUNICORN: &str = "gunicorn==27.0.1";
const UVICORN: &str = "uvicorn==0.54.0";

/// Folders never scanned for application code.
const SKIPPED_DIRS: &[&str] = &[
    "tests",
    "test",
    "testing",
    "migrations",
    "venv",
    ".venv",
    "env",
    "site-packages",
    "node_modules",
    "docs",
    "build",
    "dist",
    "__pycache__",
    "scripts",
];
/// At most this many `.py` files are read per service.
const MAX_SOURCES: usize = 400;

/// Files from another ecosystem that own a directory when Python finds no app there.
const OTHER_MANIFESTS: &[&str] = &[
    "package.json",
    "go.mod",
    "Cargo.toml",
    "pom.xml",
    "build.gradle",
    "build.gradle.kts",
    "Gemfile",
    "composer.json",
    "mix.exs",
    "deno.json",
];

impl Detector for Python {
    fn detect(&self, tree: &RepoTree, dir: &str) -> Option<Detection> {
        let names: BTreeSet<&str> = tree.names_in(dir).collect();
        let requirements = requirement_files(tree, dir, &names);
        let is_python = [
            "pyproject.toml",
            "Pipfile",
            "Pipfile.lock",
            "setup.py",
            "setup.cfg",
            "poetry.lock",
            "uv.lock",
            "pdm.lock",
        ]
        .iter()
        .any(|m| names.contains(m))
            || !requirements.is_empty();
        if !is_python {
            return None;
        }
        let project = Project::read(tree, dir, &names, requirements);
        if let Some(members) = project.uv_workspace_members(tree, dir) {
            return Some(uv_workspace(tree, dir, &names, project, &members));
        }
        let other_ecosystem = OTHER_MANIFESTS.iter().any(|m| names.contains(m));
        match project.service(tree, dir, &names) {
            // Beside another ecosystem's manifest, only a Python web app outranks it: a helper script
            // or tooling manifest does not make a Go or Node project a Python one.
            Some(service) if !other_ecosystem || service.framework.is_some() => Some(Detection {
                services: vec![service],
                claimed: Vec::new(),
            }),
            _ if other_ecosystem => None,
            // A library: no service, nothing else claims the folder.
            _ => Some(Detection::default()),
        }
    }
}

/// A uv workspace: the root's own app (if any) and each member's, all built from the workspace root
/// so that the shared `uv.lock` and every member's `pyproject.toml` are in the build context.
fn uv_workspace(
    tree: &RepoTree,
    dir: &str,
    names: &BTreeSet<&str>,
    root: Project,
    members: &[String],
) -> Detection {
    let mut manifests = vec!["pyproject.toml".to_string()];
    let lockfile = names.contains("uv.lock").then(|| "uv.lock".to_string());
    manifests.extend(lockfile.clone());
    for m in members {
        manifests.push(join(&relative_to(m, dir), "pyproject.toml"));
    }
    let mut detection = Detection::default();
    let mut projects: Vec<(String, Project, BTreeSet<&str>)> = Vec::new();
    projects.push((dir.to_string(), root, names.clone()));
    for m in members {
        let member_names: BTreeSet<&str> = tree.names_in(m).collect();
        let requirements = requirement_files(tree, m, &member_names);
        let mut project = Project::read(tree, m, &member_names, requirements);
        project.package_manager = PackageManager::Uv;
        projects.push((m.clone(), project, member_names));
        detection.claimed.push(m.clone());
    }
    for (folder, project, folder_names) in projects {
        let Some(mut service) = project.service(tree, &folder, &folder_names) else {
            continue;
        };
        let rel = relative_to(&folder, dir);
        service.fact("build_context", service_path(dir));
        service.fact(
            "service_in_context",
            if rel.is_empty() {
                String::new()
            } else {
                format!("{rel}/")
            },
        );
        service.fact("manifests", manifests.clone());
        service.facts.remove("lockfile");
        if let Some(lock) = &lockfile {
            service.fact("lockfile", lock.clone());
        }
        let frozen = if lockfile.is_some() { "--frozen " } else { "" };
        if let Some(package) = project.name() {
            service.fact("uv_package", package.clone());
            service.fact(
                "install_command",
                format!("uv sync {frozen}--package {package}"),
            );
        }
        detection.services.push(service);
    }
    detection
}

/// `requirements.txt` first, then other `requirements*.txt` in the folder, then `requirements/*.txt`.
fn requirement_files(tree: &RepoTree, dir: &str, names: &BTreeSet<&str>) -> Vec<String> {
    let mut files: Vec<String> = names
        .iter()
        .filter(|n| n.starts_with("requirements") && n.ends_with(".txt"))
        .map(|n| n.to_string())
        .collect();
    files.sort_by_key(|n| (n != "requirements.txt", n.clone()));
    let sub = join(dir, "requirements");
    if tree.is_dir(&sub) {
        let mut nested: Vec<String> = tree
            .names_in(&sub)
            .filter(|n| n.ends_with(".txt"))
            .map(|n| format!("requirements/{n}"))
            .collect();
        nested.sort_by_key(|n| (!is_production_requirements(n), n.clone()));
        files.extend(nested);
    }
    files
}

fn is_production_requirements(name: &str) -> bool {
    let stem = name
        .rsplit('/')
        .next()
        .unwrap_or(name)
        .trim_end_matches(".txt");
    matches!(
        stem,
        "requirements" | "prod" | "production" | "base" | "main" | "requirements-prod"
    )
}

fn is_dev_requirements(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    ["dev", "test", "lint", "ci", "doc", "local"]
        .iter()
        .any(|w| lower.contains(w))
}

/// The manifests of one Python folder, parsed.
struct Project {
    pyproject: toml::Table,
    pipfile: toml::Table,
    package_manager: PackageManager,
    /// Runtime dependencies, normalised names (`flask`, `django`, `uvicorn`).
    deps: BTreeSet<String>,
    /// Development dependencies (tests, linters).
    dev_deps: BTreeSet<String>,
    /// Requirement files relative to the service; the first production one is installed by pip.
    requirements: Vec<String>,
}

impl Project {
    fn read(tree: &RepoTree, dir: &str, names: &BTreeSet<&str>, requirements: Vec<String>) -> Self {
        let parse = |name: &str| -> toml::Table {
            tree.read_text(&join(dir, name))
                .and_then(|t| t.parse::<toml::Table>().ok())
                .unwrap_or_default()
        };
        let pyproject = parse("pyproject.toml");
        let pipfile = parse("Pipfile");
        let tool = |name: &str| pyproject.get("tool").and_then(|t| t.get(name)).is_some();
        let build_backend = pyproject
            .get("build-system")
            .and_then(|b| b.get("build-backend"))
            .and_then(|b| b.as_str())
            .unwrap_or("");
        let package_manager = if names.contains("uv.lock") {
            PackageManager::Uv
        } else if names.contains("poetry.lock") {
            PackageManager::Poetry
        } else if names.contains("pdm.lock") {
            PackageManager::Pdm
        } else if names.contains("Pipfile.lock") || names.contains("Pipfile") {
            PackageManager::Pipenv
        } else if tool("uv") {
            PackageManager::Uv
        } else if tool("poetry") || build_backend.starts_with("poetry") {
            PackageManager::Poetry
        } else if tool("pdm") || build_backend.starts_with("pdm") {
            PackageManager::Pdm
        } else {
            PackageManager::Pip
        };

        let mut deps = BTreeSet::new();
        let mut dev_deps = BTreeSet::new();
        if let Some(project) = pyproject.get("project") {
            for d in string_list(project.get("dependencies")) {
                deps.extend(requirement_name(&d));
            }
            if let Some(extras) = project
                .get("optional-dependencies")
                .and_then(|o| o.as_table())
            {
                for list in extras.values() {
                    for d in string_list(Some(list)) {
                        dev_deps.extend(requirement_name(&d));
                    }
                }
            }
        }
        if let Some(groups) = pyproject
            .get("dependency-groups")
            .and_then(|g| g.as_table())
        {
            for list in groups.values() {
                for d in string_list(Some(list)) {
                    dev_deps.extend(requirement_name(&d));
                }
            }
        }
        if let Some(poetry) = pyproject.get("tool").and_then(|t| t.get("poetry")) {
            deps.extend(table_keys(poetry.get("dependencies")));
            dev_deps.extend(table_keys(poetry.get("dev-dependencies")));
            if let Some(groups) = poetry.get("group").and_then(|g| g.as_table()) {
                for group in groups.values() {
                    dev_deps.extend(table_keys(group.get("dependencies")));
                }
            }
        }
        if let Some(groups) = pyproject
            .get("tool")
            .and_then(|t| t.get("pdm"))
            .and_then(|pdm| pdm.get("dev-dependencies"))
            .and_then(|g| g.as_table())
        {
            for list in groups.values() {
                for d in string_list(Some(list)) {
                    dev_deps.extend(requirement_name(&d));
                }
            }
        }
        if let Some(uv) = pyproject.get("tool").and_then(|t| t.get("uv")) {
            for d in string_list(uv.get("dev-dependencies")) {
                dev_deps.extend(requirement_name(&d));
            }
        }
        deps.extend(table_keys(pipfile.get("packages")));
        dev_deps.extend(table_keys(pipfile.get("dev-packages")));
        for file in &requirements {
            let target = if is_dev_requirements(file) {
                &mut dev_deps
            } else {
                &mut deps
            };
            target.extend(requirements_in(tree, &join(dir, file), 0));
        }
        if let Some(text) = tree.read_text(&join(dir, "setup.py")) {
            static INSTALL_REQUIRES: LazyLock<Regex> = LazyLock::new(|| {
                Regex::new(r#"install_requires\s*=\s*\[([^\]]*)\]"#).expect("valid regex")
            });
            static QUOTED: LazyLock<Regex> =
                LazyLock::new(|| Regex::new(r#"["']([^"']+)["']"#).expect("valid regex"));
            if let Some(list) = INSTALL_REQUIRES.captures(&text) {
                for q in QUOTED.captures_iter(&list[1]) {
                    deps.extend(requirement_name(&q[1]));
                }
            }
        }
        if let Some(text) = tree.read_text(&join(dir, "setup.cfg")) {
            let mut in_requires = false;
            for line in text.lines() {
                if line.trim_start().starts_with("install_requires") {
                    in_requires = true;
                    if let Some((_, rest)) = line.split_once('=') {
                        deps.extend(requirement_name(rest));
                    }
                } else if in_requires && line.starts_with([' ', '\t']) {
                    deps.extend(requirement_name(line));
                } else {
                    in_requires = false;
                }
            }
        }
        Project {
            pyproject,
            pipfile,
            package_manager,
            deps,
            dev_deps,
            requirements,
        }
    }

    /// The project name from `[project]` or `[tool.poetry]`.
    fn name(&self) -> Option<String> {
        self.pyproject
            .get("project")
            .and_then(|p| p.get("name"))
            .or_else(|| {
                self.pyproject
                    .get("tool")
                    .and_then(|t| t.get("poetry"))
                    .and_then(|p| p.get("name"))
            })
            .and_then(|n| n.as_str())
            .map(String::from)
    }

    /// The member folders of a uv workspace rooted here (`[tool.uv.workspace] members` globs
    /// expanded against folders holding a `pyproject.toml`, minus `exclude`); None when this is no
    /// workspace root.
    fn uv_workspace_members(&self, tree: &RepoTree, dir: &str) -> Option<Vec<String>> {
        let workspace = self
            .pyproject
            .get("tool")?
            .get("uv")?
            .get("workspace")?
            .as_table()?;
        let globs = |key: &str| {
            let mut builder = globset::GlobSetBuilder::new();
            for p in string_list(workspace.get(key)) {
                let p = p.trim_start_matches("./").trim_end_matches('/');
                if let Ok(glob) = globset::GlobBuilder::new(p).literal_separator(true).build() {
                    builder.add(glob);
                }
            }
            builder
                .build()
                .unwrap_or_else(|_| globset::GlobSet::empty())
        };
        let (members, excluded) = (globs("members"), globs("exclude"));
        let prefix = if dir.is_empty() { 0 } else { dir.len() + 1 };
        let mut out: Vec<String> = tree
            .files_under(dir)
            .filter_map(|f| f.path.strip_suffix("/pyproject.toml"))
            .filter(|m| {
                m.get(prefix..)
                    .is_some_and(|rel| members.is_match(rel) && !excluded.is_match(rel))
            })
            .map(String::from)
            .collect();
        out.sort();
        Some(out)
    }

    fn depends_on(&self, name: &str) -> bool {
        self.deps.contains(name)
    }

    fn uses(&self, name: &str) -> bool {
        self.deps.contains(name) || self.dev_deps.contains(name)
    }

    /// The service this folder deploys, or None for a library or a folder of tooling manifests.
    fn service(&self, tree: &RepoTree, dir: &str, names: &BTreeSet<&str>) -> Option<Service> {
        let sources = SourceScan::run(tree, dir);
        let procfile_web = tree
            .read_text(&join(dir, "Procfile"))
            .and_then(|t| procfile_command(&t, "web"));
        let app = self.find_app(tree, dir, &sources, procfile_web.as_deref())?;

        let name = self.name().unwrap_or_else(|| dir_name(tree, dir));
        let mut service = Service::new(
            name,
            service_path(dir),
            Ecosystem::Python,
            self.package_manager,
        );
        service.framework = app.framework.map(String::from);
        if let Some((version, source)) = self.runtime_version(tree, dir) {
            service.runtime_version = Some(version);
            service.runtime_version_source = Some(source);
        }

        // The port: what the repository's own start command or server config says, else what the
        // code asks for (`uvicorn.run(port=…)`, a `PORT` default), else 8000.
        let gunicorn_conf = [
            "gunicorn.conf.py",
            "gunicorn_config.py",
            "gunicorn.config.py",
        ]
        .iter()
        .find_map(|n| tree.read_text(&join(dir, n)));
        let port = procfile_web
            .as_deref()
            .and_then(port_in_command)
            .or_else(|| gunicorn_conf.as_deref().and_then(port_in_gunicorn_conf))
            .or_else(|| {
                self.script_commands()
                    .iter()
                    .find_map(|c| port_in_command(c))
            })
            // Flask's and Django's `run` ports are their development servers': in the container the
            // app runs under gunicorn, on gunicorn's port.
            .or(sources
                .port
                .filter(|_| !matches!(app.framework, Some("flask" | "django"))))
            .unwrap_or(8000);
        service.port = app.serves_http.then_some(port);
        service.health_path = sources.health_path.clone();

        let mut extra = Vec::new();
        let cmd: Vec<String> = match (&procfile_web, &app.kind) {
            (Some(line), _) => command_words(
                &line
                    .replace("${PORT}", "$PORT")
                    .replace("$PORT", &port.to_string()),
            ),
            (None, AppKind::Wsgi(target)) => {
                if !self.depends_on("gunicorn") {
                    extra.push(GUNICORN.to_string());
                }
                let mut c = vec!["gunicorn".to_string(), target.clone()];
                if gunicorn_conf.is_none() {
                    c.extend(["--bind".to_string(), format!("0.0.0.0:{port}")]);
                }
                c
            }
            (None, AppKind::Asgi(target)) => {
                if self.depends_on("gunicorn") {
                    if !self.depends_on("uvicorn") && !self.depends_on("uvicorn-worker") {
                        extra.push(UVICORN.to_string());
                    }
                    let mut c = vec![
                        "gunicorn".to_string(),
                        target.clone(),
                        "--worker-class".to_string(),
                        "uvicorn.workers.UvicornWorker".to_string(),
                    ];
                    if gunicorn_conf.is_none() {
                        c.extend(["--bind".to_string(), format!("0.0.0.0:{port}")]);
                    }
                    c
                } else {
                    if !self.depends_on("uvicorn") {
                        extra.push(UVICORN.to_string());
                    }
                    vec![
                        "uvicorn".to_string(),
                        target.clone(),
                        "--host".to_string(),
                        "0.0.0.0".to_string(),
                        "--port".to_string(),
                        port.to_string(),
                    ]
                }
            }
            (None, AppKind::Script(path)) => vec!["python".to_string(), path.clone()],
        };
        service.start_command = Some(shell_line(&cmd));
        service.fact("cmd", cmd);
        if !extra.is_empty() {
            service.fact("extra_requirements", extra);
        }
        if app.framework == Some("flask") {
            // Flask keeps its instance folder (SQLite files, instance config) beside the app.
            service.fact("writable_dirs", vec!["instance"]);
        }
        if let Some(root) = &app.pythonpath {
            service.fact("pythonpath", root.clone());
        }
        if let Some(settings) = &app.django_settings {
            service.fact("django_settings", settings.clone());
            let settings_file = join(dir, &format!("{}.py", settings.replace('.', "/")));
            if tree
                .read_text(&settings_file)
                .is_some_and(|t| t.contains("STATIC_ROOT"))
            {
                service.fact("collectstatic", true);
            }
        }

        let version = service
            .runtime_version
            .clone()
            .unwrap_or_else(|| DEFAULT_PYTHON.to_string());
        let image = format!("python:{version}-slim-bookworm");
        service.fact("runtime_image", image.clone());
        service.fact("build_image", image);
        service.fact("build_context", service_path(dir));
        service.fact("service_in_context", "");
        self.install_facts(&mut service, tree, dir, names);
        Some(service)
    }

    /// Production commands in `[tool.pdm.scripts]`, `[tool.poe.tasks]` and Pipfile `[scripts]`.
    fn script_commands(&self) -> Vec<String> {
        let mut out = Vec::new();
        let tool = self.pyproject.get("tool");
        for table in [
            tool.and_then(|t| t.get("pdm"))
                .and_then(|p| p.get("scripts")),
            tool.and_then(|t| t.get("poe")).and_then(|p| p.get("tasks")),
            self.pipfile.get("scripts"),
        ]
        .into_iter()
        .flatten()
        .filter_map(|t| t.as_table())
        {
            for (key, v) in table {
                if ["dev", "debug", "test", "lint"]
                    .iter()
                    .any(|w| key.contains(w))
                {
                    continue;
                }
                match v {
                    toml::Value::String(s) => out.push(s.clone()),
                    toml::Value::Table(t) => {
                        if let Some(s) = t
                            .get("cmd")
                            .or_else(|| t.get("shell"))
                            .and_then(|s| s.as_str())
                        {
                            out.push(s.to_string());
                        }
                    }
                    _ => {}
                }
            }
        }
        // Development servers do not say what production listens on.
        out.retain(|c| {
            !["flask run", "runserver", "--reload", "--debug"]
                .iter()
                .any(|dev| c.contains(dev))
        });
        out
    }

    /// Decides what the folder runs: a Django project, a Flask or FastAPI app, a Procfile command or a
    /// `__main__` script. None when it is a library.
    fn find_app(
        &self,
        tree: &RepoTree,
        dir: &str,
        sources: &SourceScan,
        procfile_web: Option<&str>,
    ) -> Option<App> {
        // Django: manage.py names the settings module; the WSGI (or ASGI) module sits beside it.
        if let Some(manage) = tree.read_text(&join(dir, "manage.py"))
            && (manage.contains("django") || self.uses("django"))
        {
            static SETTINGS: LazyLock<Regex> = LazyLock::new(|| {
                Regex::new(r#"DJANGO_SETTINGS_MODULE["']\s*,\s*["']([\w.]+)["']"#)
                    .expect("valid regex")
            });
            let settings = SETTINGS.captures(&manage).map(|c| c[1].to_string());
            let package = settings
                .as_deref()
                .and_then(|s| s.rsplit_once('.'))
                .map(|(p, _)| p.to_string())
                .or_else(|| {
                    tree.subdirs_of(dir)
                        .find(|d| tree.exists(&join(&join(dir, d), "wsgi.py")))
                        .map(String::from)
                });
            let package = package?;
            let pkg_dir = join(dir, &package.replace('.', "/"));
            let asgi = tree.exists(&join(&pkg_dir, "asgi.py"))
                && (self.depends_on("uvicorn") || self.depends_on("channels"))
                && !self.depends_on("gunicorn");
            let kind = if asgi {
                AppKind::Asgi(format!("{package}.asgi:application"))
            } else {
                AppKind::Wsgi(format!("{package}.wsgi:application"))
            };
            return Some(App {
                framework: Some("django"),
                kind,
                serves_http: true,
                pythonpath: None,
                django_settings: settings.or(Some(format!("{package}.settings"))),
            });
        }
        if let Some(found) = &sources.asgi_app {
            return Some(App {
                framework: Some(found.framework),
                kind: AppKind::Asgi(found.target.clone()),
                serves_http: true,
                pythonpath: found.pythonpath.clone(),
                django_settings: None,
            });
        }
        if let Some(found) = &sources.wsgi_app {
            return Some(App {
                framework: Some(found.framework),
                kind: AppKind::Wsgi(found.target.clone()),
                serves_http: true,
                pythonpath: found.pythonpath.clone(),
                django_settings: None,
            });
        }
        if let Some(line) = procfile_web {
            let words = command_words(line);
            let framework = if self.uses("fastapi") {
                Some("fastapi")
            } else if self.uses("flask") {
                Some("flask")
            } else {
                None
            };
            return Some(App {
                framework,
                kind: AppKind::Script(words.join(" ")),
                serves_http: true,
                pythonpath: None,
                django_settings: None,
            });
        }
        if let Some(script) = &sources.main_script {
            return Some(App {
                framework: None,
                kind: AppKind::Script(script.clone()),
                serves_http: sources.port.is_some(),
                pythonpath: None,
                django_settings: None,
            });
        }
        None
    }

    /// The declared Python version, normalised to a minor release (`3.12`), and its file.
    fn runtime_version(&self, tree: &RepoTree, dir: &str) -> Option<(String, String)> {
        // Exact pins first, nearest folder first.
        let mut current = Some(dir.to_string());
        while let Some(d) = current {
            let path = join(&d, ".python-version");
            if let Some(v) = tree
                .read_text(&path)
                .and_then(|t| t.lines().find_map(python_minor))
            {
                return Some((v, path));
            }
            current = tree::parent(&d).map(String::from);
        }
        let path = join(dir, "runtime.txt");
        if let Some(v) = tree.read_text(&path).and_then(|t| python_minor(&t)) {
            return Some((v, path));
        }
        if let Some(declared) = tool_version(tree, dir, &["python"])
            && let Some(v) = python_minor(&declared.version)
        {
            return Some((v, declared.source));
        }
        if let Some(v) = self
            .pipfile
            .get("requires")
            .and_then(|r| {
                r.get("python_full_version")
                    .or_else(|| r.get("python_version"))
            })
            .and_then(|v| v.as_str())
            .and_then(python_minor)
        {
            return Some((v, join(dir, "Pipfile")));
        }
        let ranges = [
            self.pyproject
                .get("project")
                .and_then(|p| p.get("requires-python")),
            self.pyproject
                .get("tool")
                .and_then(|t| t.get("poetry"))
                .and_then(|p| p.get("dependencies"))
                .and_then(|d| d.get("python")),
        ];
        ranges
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str())
            .find_map(python_from_range)
            .map(|v| (v, join(dir, "pyproject.toml")))
    }

    /// Manifests, lockfile and the install, lint and test commands CI runs.
    fn install_facts(
        &self,
        service: &mut Service,
        tree: &RepoTree,
        dir: &str,
        names: &BTreeSet<&str>,
    ) {
        let has = |n: &str| names.contains(n);
        let mut manifests: Vec<String> = Vec::new();
        let (lockfile, install, runner) = match self.package_manager {
            PackageManager::Uv => {
                manifests.extend(["pyproject.toml".to_string()]);
                let lock = has("uv.lock").then(|| "uv.lock".to_string());
                let install = if lock.is_some() {
                    "uv sync --frozen"
                } else {
                    "uv sync"
                };
                (lock, install.to_string(), "uv run ")
            }
            PackageManager::Poetry => {
                manifests.push("pyproject.toml".to_string());
                let lock = has("poetry.lock").then(|| "poetry.lock".to_string());
                (
                    lock,
                    "poetry install --no-interaction".to_string(),
                    "poetry run ",
                )
            }
            PackageManager::Pdm => {
                manifests.push("pyproject.toml".to_string());
                let lock = has("pdm.lock").then(|| "pdm.lock".to_string());
                let install = if lock.is_some() {
                    "pdm sync --dev"
                } else {
                    "pdm install --dev"
                };
                (lock, install.to_string(), "pdm run ")
            }
            PackageManager::Pipenv => {
                manifests.push("Pipfile".to_string());
                let lock = has("Pipfile.lock").then(|| "Pipfile.lock".to_string());
                let install = if lock.is_some() {
                    "pipenv sync --dev"
                } else {
                    "pipenv install --dev"
                };
                (lock, install.to_string(), "pipenv run ")
            }
            _ => {
                let main = self
                    .requirements
                    .iter()
                    .find(|r| !is_dev_requirements(r))
                    .cloned();
                let mut install = Vec::new();
                match &main {
                    Some(req) => {
                        install.push(format!("pip install -r {req}"));
                        service.fact("requirements", req.clone());
                        // The image needs the file and those it includes (`-r base.txt`).
                        manifests.push(req.clone());
                        for included in included_requirements(tree, dir, req) {
                            if !manifests.contains(&included) {
                                manifests.push(included);
                            }
                        }
                        // `-e .` or `.` installs the project itself: pip needs the source first.
                        let installs_source = manifests.iter().any(|m| {
                            tree.read_text(&join(dir, m)).is_some_and(|t| {
                                t.lines().any(|l| {
                                    let l = l.trim();
                                    l == "."
                                        || l.starts_with("-e .")
                                        || l.starts_with("--editable .")
                                        || l.starts_with("./")
                                        || l.starts_with("-e file:")
                                })
                            })
                        });
                        if installs_source {
                            service.fact("requirements_need_source", true);
                        }
                    }
                    None if has("pyproject.toml") || has("setup.py") || has("setup.cfg") => {
                        install.push("pip install .".to_string());
                        service.fact("install_project", true);
                        for m in ["pyproject.toml", "setup.py", "setup.cfg"] {
                            if has(m) {
                                manifests.push(m.to_string());
                            }
                        }
                    }
                    None => {}
                }
                for dev in self.requirements.iter().filter(|r| is_dev_requirements(r)) {
                    install.push(format!("pip install -r {dev}"));
                }
                (main, install.join(" && "), "")
            }
        };
        if let Some(lock) = &lockfile
            && !manifests.contains(lock)
        {
            manifests.push(lock.clone());
        }
        if let Some(lock) = lockfile {
            service.fact("lockfile", lock);
        }
        service.fact("manifests", manifests);
        if !install.is_empty() {
            service.fact("install_command", install);
        }

        let tool_config = |section: &str| {
            self.pyproject
                .get("tool")
                .and_then(|t| t.get(section))
                .is_some()
        };
        let ini_section = |file: &str, section: &str| {
            tree.read_text(&join(dir, file))
                .is_some_and(|t| t.contains(&format!("[{section}]")))
        };
        let lint =
            if tool_config("ruff") || has("ruff.toml") || has(".ruff.toml") || self.uses("ruff") {
                Some("ruff check .")
            } else if has(".flake8")
                || ini_section("setup.cfg", "flake8")
                || ini_section("tox.ini", "flake8")
                || self.uses("flake8")
            {
                Some("flake8")
            } else if tool_config("pylint") || has(".pylintrc") || self.uses("pylint") {
                Some("pylint .")
            } else {
                None
            };
        if let Some(lint) = lint {
            service.fact("lint_command", format!("{runner}{lint}"));
        }
        let has_tests = tree.files_under(dir).any(|f| {
            let name = f.path.rsplit('/').next().unwrap_or("");
            name.ends_with(".py")
                && (name.starts_with("test_") || name.ends_with("_test.py") || name == "tests.py")
        });
        let pytest = self.uses("pytest")
            || tool_config("pytest")
            || has("pytest.ini")
            || has("conftest.py")
            || ini_section("setup.cfg", "tool:pytest")
            || ini_section("tox.ini", "pytest");
        if pytest {
            service.fact("test_command", format!("{runner}pytest"));
        } else if has_tests && service.framework.as_deref() == Some("django") {
            service.fact("test_command", format!("{runner}python manage.py test"));
        } else if has_tests {
            service.fact(
                "test_command",
                format!("{runner}python -m unittest discover"),
            );
        }
    }
}

/// What the folder runs.
struct App {
    framework: Option<&'static str>,
    kind: AppKind,
    serves_http: bool,
    pythonpath: Option<String>,
    django_settings: Option<String>,
}

enum AppKind {
    /// A WSGI callable, `module:app`, served by gunicorn.
    Wsgi(String),
    /// An ASGI callable, served by uvicorn (or gunicorn with uvicorn workers).
    Asgi(String),
    /// A command line run as is (a `__main__` script, a Procfile command).
    Script(String),
}

/// A web application object found in the code.
struct FoundApp {
    framework: &'static str,
    /// `module:variable`, or `module:factory()` for an app factory.
    target: String,
    pythonpath: Option<String>,
}

/// What the `.py` files of a service say about how it runs.
#[derive(Default)]
struct SourceScan {
    wsgi_app: Option<FoundApp>,
    asgi_app: Option<FoundApp>,
    main_script: Option<String>,
    port: Option<u16>,
    health_path: Option<String>,
}

static FLASK_APP: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m)^(\w+)\s*(?::\s*[\w.]+\s*)?=\s*(?:flask\.)?Flask\(").expect("valid regex")
});
static FASTAPI_APP: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m)^(\w+)\s*(?::\s*[\w.]+\s*)?=\s*(?:fastapi\.)?FastAPI\(").expect("valid regex")
});
static STARLETTE_APP: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m)^(\w+)\s*(?::\s*[\w.]+\s*)?=\s*Starlette\(").expect("valid regex")
});
static APP_FACTORY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?m)^def (create_app|make_app)\(\s*\)").expect("valid regex"));
static MAIN_GUARD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?m)^if\s+__name__\s*==\s*["']__main__["']\s*:"#).expect("valid regex")
});
static RUN_PORT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:uvicorn\.run|\.run|web\.run_app|serve)\([^)]*?\bport\s*=\s*(\d{2,5})")
        .expect("valid regex")
});
static PORT_ENV_DEFAULT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?:os\.environ\.get|os\.getenv|environ\.get|getenv)\(\s*["']PORT["']\s*,\s*["']?(\d{2,5})"#,
    )
    .expect("valid regex")
});
static HEALTH_ROUTE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"@\w+(?:\.\w+)*\.(?:get|route|api_route)\(\s*["'](/(?:health|healthz|healthcheck|health-check|ping|livez|readyz|status|up)/?)["']"#,
    )
    .expect("valid regex")
});
static DJANGO_HEALTH_ROUTE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?:path|re_path|url)\(\s*r?["']\^?((?:health|healthz|healthcheck|health-check|ping|livez|readyz|up)/?)\$?["']"#,
    )
    .expect("valid regex")
});

impl SourceScan {
    fn run(tree: &RepoTree, dir: &str) -> Self {
        let prefix = if dir.is_empty() { 0 } else { dir.len() + 1 };
        // Sub-folders with their own Python manifests are projects of their own, found separately.
        let nested: Vec<String> = tree
            .files_under(dir)
            .map(|f| &f.path[prefix..])
            .filter_map(|rel| {
                let (folder, name) = rel.rsplit_once('/')?;
                matches!(
                    name,
                    "pyproject.toml" | "setup.py" | "requirements.txt" | "Pipfile"
                )
                .then(|| format!("{folder}/"))
            })
            .collect();
        let mut files: Vec<&str> = tree
            .files_under(dir)
            .map(|f| &f.path[prefix..])
            .filter(|rel| {
                rel.ends_with(".py")
                    && !rel
                        .split('/')
                        .any(|part| SKIPPED_DIRS.contains(&part) || part.starts_with('.'))
                    && !nested.iter().any(|n| rel.starts_with(n.as_str()))
            })
            .take(MAX_SOURCES)
            .collect();
        // Likely entry files first, then shallow files before deep ones.
        files.sort_by_key(|rel| {
            let name = rel.rsplit('/').next().unwrap_or(rel);
            let preferred = matches!(
                name,
                "main.py"
                    | "app.py"
                    | "wsgi.py"
                    | "asgi.py"
                    | "server.py"
                    | "api.py"
                    | "application.py"
                    | "__init__.py"
            );
            (rel.matches('/').count(), !preferred, rel.to_string())
        });
        let mut scan = SourceScan::default();
        for rel in files {
            let Some(text) = tree.read_text(&join(dir, rel)) else {
                continue;
            };
            let (module, pythonpath) = module_of(rel);
            if scan.asgi_app.is_none() {
                let found = FASTAPI_APP
                    .captures(&text)
                    .map(|c| ("fastapi", c[1].to_string()))
                    .or_else(|| {
                        STARLETTE_APP
                            .captures(&text)
                            .map(|c| ("starlette", c[1].to_string()))
                    });
                if let Some((framework, var)) = found {
                    scan.asgi_app = Some(FoundApp {
                        framework,
                        target: format!("{module}:{var}"),
                        pythonpath: pythonpath.clone(),
                    });
                }
            }
            if scan.wsgi_app.is_none() {
                if let Some(c) = FLASK_APP.captures(&text) {
                    scan.wsgi_app = Some(FoundApp {
                        framework: "flask",
                        target: format!("{module}:{}", &c[1]),
                        pythonpath: pythonpath.clone(),
                    });
                } else if text.contains("Flask(")
                    && let Some(c) = APP_FACTORY.captures(&text)
                {
                    scan.wsgi_app = Some(FoundApp {
                        framework: "flask",
                        target: format!("{module}:{}()", &c[1]),
                        pythonpath: pythonpath.clone(),
                    });
                }
            }
            if scan.main_script.is_none()
                && pythonpath.is_none()
                && !rel.contains('/')
                && MAIN_GUARD.is_match(&text)
                && !matches!(rel, "setup.py" | "manage.py" | "noxfile.py" | "conftest.py")
            {
                scan.main_script = Some(rel.to_string());
            }
            if scan.port.is_none() {
                scan.port = RUN_PORT
                    .captures(&text)
                    .or_else(|| PORT_ENV_DEFAULT.captures(&text))
                    .and_then(|c| c[1].parse().ok());
            }
            if scan.health_path.is_none() {
                scan.health_path = HEALTH_ROUTE
                    .captures(&text)
                    .map(|c| c[1].to_string())
                    .or_else(|| {
                        DJANGO_HEALTH_ROUTE
                            .captures(&text)
                            .map(|c| format!("/{}", &c[1]))
                    });
            }
        }
        scan
    }
}

/// The importable module of a source file, and the source root it needs on `PYTHONPATH` (`src`).
fn module_of(rel: &str) -> (String, Option<String>) {
    let (root, rest) = match rel.strip_prefix("src/") {
        Some(rest) => (Some("src".to_string()), rest),
        None => (None, rel),
    };
    let path = rest.trim_end_matches(".py");
    let path = path.strip_suffix("/__init__").unwrap_or(path);
    (path.replace('/', "."), root)
}

/// The normalised project name of a PEP 508 requirement (`Flask[async]>=3` → `flask`).
fn requirement_name(line: &str) -> Option<String> {
    let line = line
        .split('#')
        .next()?
        .trim()
        .trim_matches(|c| c == '"' || c == '\'');
    if line.is_empty() || line.starts_with('-') || line.contains("://") {
        return None;
    }
    let end = line
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.'))
        .unwrap_or(line.len());
    let name = &line[..end];
    (!name.is_empty()).then(|| name.to_ascii_lowercase().replace(['_', '.'], "-"))
}

/// The requirement files `file` includes with `-r`, relative to the service, recursively.
fn included_requirements(tree: &RepoTree, dir: &str, file: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut pending = vec![file.to_string()];
    while let Some(current) = pending.pop() {
        let Some(text) = tree.read_text(&join(dir, &current)) else {
            continue;
        };
        let base = tree::parent(&current).unwrap_or("").to_string();
        for line in text.lines() {
            let line = line.trim();
            if let Some(included) = line
                .strip_prefix("-r ")
                .or_else(|| line.strip_prefix("--requirement "))
                .or_else(|| line.strip_prefix("-c "))
                .or_else(|| line.strip_prefix("--constraint "))
            {
                let path = normalise_path(&join(&base, included.trim()));
                if path != file && !path.starts_with("..") && !out.contains(&path) && out.len() < 16
                {
                    out.push(path.clone());
                    pending.push(path);
                }
            }
        }
    }
    out
}

/// Resolves `.` and `..` in a relative path; a path leaving the service folder stays as written.
fn normalise_path(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(|p| *p != "..") => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    parts.join("/")
}

/// Requirement names in a requirements file, following `-r other.txt` includes a few levels deep.
fn requirements_in(tree: &RepoTree, path: &str, depth: usize) -> Vec<String> {
    let Some(text) = tree.read_text(path) else {
        return Vec::new();
    };
    let base = tree::parent(path).unwrap_or("").to_string();
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if let Some(included) = line
            .strip_prefix("-r ")
            .or_else(|| line.strip_prefix("--requirement "))
        {
            if depth < 3 {
                out.extend(requirements_in(
                    tree,
                    &join(&base, included.trim()),
                    depth + 1,
                ));
            }
        } else {
            out.extend(requirement_name(line));
        }
    }
    out
}

fn string_list(value: Option<&toml::Value>) -> Vec<String> {
    value
        .and_then(|v| v.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

fn table_keys(value: Option<&toml::Value>) -> Vec<String> {
    value
        .and_then(|v| v.as_table())
        .map(|t| {
            t.keys()
                .filter(|k| k.as_str() != "python")
                .filter_map(|k| requirement_name(k))
                .collect()
        })
        .unwrap_or_default()
}

/// `3.12.1`, `python-3.12.1`, `cpython@3.12`, `3.12` → `3.12`. None for other interpreters.
fn python_minor(text: &str) -> Option<String> {
    let t = text.trim().to_ascii_lowercase();
    let t = t.split('#').next().unwrap_or("").trim();
    if t.is_empty() || t.starts_with("pypy") || t.starts_with("graalpy") {
        return None;
    }
    let t = t
        .trim_start_matches("cpython")
        .trim_start_matches("python")
        .trim_start_matches(['-', '@', ' ']);
    let mut parts = t.split('.');
    let major: u32 = parts.next()?.trim().parse().ok()?;
    let minor: u32 = parts
        .next()?
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect::<String>()
        .parse()
        .ok()?;
    (major == 3).then(|| format!("{major}.{minor}"))
}

/// The image release for a version range (`>=3.11`, `~=3.12`, `^3.11`, `>=3.9,<3.13`, `3.12.*`): the
/// oldest still-supported minor release the range allows, else the oldest published one it allows.
pub fn python_from_range(spec: &str) -> Option<String> {
    // Alternatives (`^3.10 || ^3.11`) are rare: the first one decides.
    let first = spec.split('|').next().unwrap_or(spec);
    let clauses: Vec<Clause> = first
        .split(',')
        .filter_map(|c| Clause::parse(c.trim()))
        .collect();
    if clauses.is_empty() {
        return None;
    }
    let allowed = |release: &&(u32, u32)| clauses.iter().all(|c| c.allows(**release));
    PYTHON_RELEASES
        .iter()
        .filter(|r| **r >= OLDEST_SUPPORTED)
        .find(allowed)
        .or_else(|| PYTHON_RELEASES.iter().find(allowed))
        .map(|(major, minor)| format!("{major}.{minor}"))
}

/// One comparison of a version range.
struct Clause {
    op: String,
    version: Vec<u32>,
    wildcard: bool,
}

impl Clause {
    fn parse(text: &str) -> Option<Clause> {
        let text = text.trim();
        let op_len = text
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(text.len());
        let op = text[..op_len].trim().to_string();
        let rest = text[op_len..].trim();
        let wildcard = rest.ends_with(".*") || rest.ends_with(".x");
        let version: Vec<u32> = rest
            .trim_end_matches(".*")
            .trim_end_matches(".x")
            .split('.')
            .map_while(|p| p.parse().ok())
            .collect();
        if version.is_empty() {
            return None;
        }
        let op = if op.is_empty() { "==".to_string() } else { op };
        Some(Clause {
            op,
            version,
            wildcard,
        })
    }

    /// Whether some patch release of `major.minor` satisfies the clause.
    fn allows(&self, (major, minor): (u32, u32)) -> bool {
        let v = &self.version;
        let cmp_minor = (major, minor).cmp(&(v[0], v.get(1).copied().unwrap_or(0)));
        let patch_given = v.len() > 2;
        use std::cmp::Ordering::*;
        match self.op.as_str() {
            ">=" => cmp_minor != Less,
            ">" => cmp_minor == Greater || (cmp_minor == Equal && patch_given),
            "<" => cmp_minor == Less || (cmp_minor == Equal && patch_given && v[2] > 0),
            "<=" => cmp_minor != Greater,
            "==" | "=" | "===" => {
                if v.len() == 1 {
                    major == v[0]
                } else {
                    cmp_minor == Equal
                }
            }
            "!=" => !(cmp_minor == Equal && (self.wildcard || v.len() == 2)),
            // `~=3.12` is >=3.12,<4; `~=3.12.1` is >=3.12.1,<3.13.
            "~=" => {
                if patch_given {
                    cmp_minor == Equal
                } else {
                    cmp_minor != Less && major == v[0]
                }
            }
            // Poetry's `~3.11` is >=3.11,<3.12; `^3.11` is >=3.11,<4.
            "~" => {
                if v.len() >= 2 {
                    cmp_minor == Equal
                } else {
                    major == v[0]
                }
            }
            "^" => cmp_minor != Less && major == v[0],
            _ => true,
        }
    }
}

/// The command of a Procfile process type (`web: gunicorn app:app`).
fn procfile_command(text: &str, process: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let (name, cmd) = line.split_once(':')?;
        (name.trim() == process).then(|| cmd.trim().to_string())
    })
}

static PORT_FLAG: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?:--port[= ]|-p |--bind[= ]|-b |0\.0\.0\.0:|\[::\]:|localhost:|127\.0\.0\.1:|runserver\s+(?:[\w.]+:)?)(\d{2,5})\b",
    )
    .expect("valid regex")
});

/// The port a server command line binds (`--port 8080`, `--bind 0.0.0.0:8000`, `-b :5000`).
pub fn port_in_command(cmd: &str) -> Option<u16> {
    static BIND_COLON: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?:--bind[= ]|-b )[\w.\[\]:]*:(\d{2,5})\b").expect("valid regex")
    });
    BIND_COLON
        .captures(cmd)
        .or_else(|| PORT_FLAG.captures(cmd))
        .and_then(|c| c[1].parse().ok())
}

/// `bind = "0.0.0.0:8000"` (or a list) in a gunicorn configuration file.
fn port_in_gunicorn_conf(text: &str) -> Option<u16> {
    static BIND: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"(?m)^bind\s*=\s*\[?\s*["'][^"']*:(\d{2,5})["']"#).expect("valid regex")
    });
    BIND.captures(text)
        .or_else(|| PORT_ENV_DEFAULT.captures(text))
        .and_then(|c| c[1].parse().ok())
}

/// Splits a command line into words, honouring simple quotes; `$PORT` was already substituted.
fn command_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quote: Option<char> = None;
    let mut started = false;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                started = true;
            }
            (None, c) if c.is_whitespace() => {
                if started || !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                    started = false;
                }
            }
            (None, c) => word.push(c),
        }
    }
    if started || !word.is_empty() {
        words.push(word);
    }
    words
}

/// The argument list as a shell line, quoting words that need it.
fn shell_line(words: &[String]) -> String {
    words
        .iter()
        .map(|w| {
            if w.is_empty()
                || w.contains(|c: char| {
                    c.is_whitespace() || matches!(c, '(' | ')' | '"' | '\'' | '$' | '&' | '|' | ';')
                })
            {
                format!("'{}'", w.replace('\'', "'\\''"))
            } else {
                w.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_pick_the_oldest_supported_release_they_allow() {
        let cases = [
            (">=3.11", Some("3.11")),
            ("~=3.12", Some("3.12")),
            ("^3.11", Some("3.11")),
            (">=3.9,<3.13", Some("3.11")),
            (">=3.8, <3.10", Some("3.8")),
            ("==3.12.*", Some("3.12")),
            ("~3.11", Some("3.11")),
            (">=3.11.4", Some("3.11")),
            (">3.11", Some("3.12")),
            ("<3.13", Some("3.11")),
            ("3.12", Some("3.12")),
            (">=3.6", Some("3.11")),
            ("^3.10 || ^3.11", Some("3.11")),
            (">=3.8, <3.11", Some("3.8")),
            (">=2.7", Some("3.11")),
            ("<3", None),
            ("garbage", None),
            ("", None),
        ];
        for (spec, want) in cases {
            assert_eq!(python_from_range(spec).as_deref(), want, "{spec}");
        }
    }

    #[test]
    fn exact_versions_become_minor_releases() {
        assert_eq!(python_minor("3.12.1\n").as_deref(), Some("3.12"));
        assert_eq!(python_minor("python-3.11.9").as_deref(), Some("3.11"));
        assert_eq!(python_minor("3.13").as_deref(), Some("3.13"));
        assert_eq!(python_minor("pypy3.10").as_deref(), None);
        assert_eq!(python_minor("2.7.18").as_deref(), None);
        assert_eq!(python_minor("latest").as_deref(), None);
    }

    #[test]
    fn requirement_names_are_normalised() {
        assert_eq!(
            requirement_name("Flask[async]>=3.0").as_deref(),
            Some("flask")
        );
        assert_eq!(
            requirement_name("uvicorn[standard]==0.30 ; python_version>'3.8'").as_deref(),
            Some("uvicorn")
        );
        assert_eq!(
            requirement_name("zope.interface").as_deref(),
            Some("zope-interface")
        );
        assert_eq!(requirement_name("-e ."), None);
        assert_eq!(requirement_name("# comment"), None);
        assert_eq!(requirement_name("git+https://x/y.git"), None);
    }

    #[test]
    fn ports_come_from_server_command_lines() {
        assert_eq!(
            port_in_command("gunicorn app:app --bind 0.0.0.0:5000"),
            Some(5000)
        );
        assert_eq!(port_in_command("gunicorn -b :9000 app:app"), Some(9000));
        assert_eq!(
            port_in_command("uvicorn main:app --host 0.0.0.0 --port 8080"),
            Some(8080)
        );
        assert_eq!(port_in_command("uvicorn main:app --port=7000"), Some(7000));
        assert_eq!(
            port_in_command("python manage.py runserver 0.0.0.0:8001"),
            Some(8001)
        );
        assert_eq!(
            port_in_command("gunicorn app:app --bind 0.0.0.0:$PORT"),
            None
        );
        assert_eq!(port_in_command("celery -A proj worker"), None);
    }

    #[test]
    fn ports_come_from_code() {
        let code = "if __name__ == '__main__':\n    uvicorn.run(app, host='0.0.0.0', port=8081)\n";
        assert_eq!(
            RUN_PORT.captures(code).map(|c| c[1].to_string()).as_deref(),
            Some("8081")
        );
        let env = r#"port = int(os.environ.get("PORT", "5001"))"#;
        assert_eq!(
            PORT_ENV_DEFAULT
                .captures(env)
                .map(|c| c[1].to_string())
                .as_deref(),
            Some("5001")
        );
        let env = "port = int(os.getenv('PORT', 8002))";
        assert_eq!(
            PORT_ENV_DEFAULT
                .captures(env)
                .map(|c| c[1].to_string())
                .as_deref(),
            Some("8002")
        );
        assert_eq!(
            port_in_gunicorn_conf("bind = \"0.0.0.0:8123\"\nworkers = 2\n"),
            Some(8123)
        );
    }

    #[test]
    fn command_lines_split_into_exec_form_words() {
        assert_eq!(
            command_words(r#"gunicorn "app:create_app()" --bind 0.0.0.0:8000"#),
            ["gunicorn", "app:create_app()", "--bind", "0.0.0.0:8000"]
        );
        let words = vec!["gunicorn".to_string(), "app:create_app()".to_string()];
        assert_eq!(shell_line(&words), "gunicorn 'app:create_app()'");
    }

    #[test]
    fn modules_follow_src_layouts() {
        assert_eq!(module_of("app.py"), ("app".to_string(), None));
        assert_eq!(module_of("api/main.py"), ("api.main".to_string(), None));
        assert_eq!(
            module_of("src/shop/__init__.py"),
            ("shop".to_string(), Some("src".to_string()))
        );
    }

    #[test]
    fn malformed_manifests_are_unknown_not_fatal() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("pyproject.toml"), "[project\nname = ").unwrap();
        std::fs::write(dir.path().join("Pipfile"), "\u{0}\u{1}[[[").unwrap();
        std::fs::write(
            dir.path().join("app.py"),
            "from flask import Flask\napp = Flask(__name__)\n",
        )
        .unwrap();
        let tree = RepoTree::scan(dir.path()).unwrap();
        let found = Python.detect(&tree, "").expect("a python folder");
        assert_eq!(found.services.len(), 1);
        assert_eq!(found.services[0].framework.as_deref(), Some("flask"));
        assert_eq!(found.services[0].port, Some(8000));
    }

    #[test]
    fn nested_projects_are_not_the_parent_app() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("requirements-dev.txt"), "ruff==0.14.3\n").unwrap();
        std::fs::create_dir_all(dir.path().join("services/api")).unwrap();
        std::fs::write(
            dir.path().join("services/api/requirements.txt"),
            "fastapi\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("services/api/main.py"),
            "from fastapi import FastAPI\napp = FastAPI()\n",
        )
        .unwrap();
        let tree = RepoTree::scan(dir.path()).unwrap();
        assert!(
            Python
                .detect(&tree, "")
                .expect("python")
                .services
                .is_empty()
        );
        let api = Python.detect(&tree, "services/api").expect("python");
        assert_eq!(
            api.services[0].start_command.as_deref(),
            Some("uvicorn main:app --host 0.0.0.0 --port 8000")
        );
    }

    #[test]
    fn a_helper_script_beside_another_manifest_leaves_the_folder_alone() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("requirements.txt"), "jinja2\n").unwrap();
        std::fs::write(dir.path().join("go.mod"), "module x\n\ngo 1.23\n").unwrap();
        std::fs::write(
            dir.path().join("gen.py"),
            "def main():\n    pass\n\n\nif __name__ == \"__main__\":\n    main()\n",
        )
        .unwrap();
        let tree = RepoTree::scan(dir.path()).unwrap();
        assert!(Python.detect(&tree, "").is_none());
    }

    #[test]
    fn a_library_is_not_a_service() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("pyproject.toml"),
            "[project]\nname = \"lib\"\nrequires-python = \">=3.11\"\n",
        )
        .unwrap();
        std::fs::create_dir_all(dir.path().join("src/lib")).unwrap();
        std::fs::write(
            dir.path().join("src/lib/__init__.py"),
            "def add(a, b):\n    return a + b\n",
        )
        .unwrap();
        let tree = RepoTree::scan(dir.path()).unwrap();
        let found = Python.detect(&tree, "").expect("a python folder");
        assert!(found.services.is_empty());
    }

    #[test]
    fn the_template_states_the_same_default_release() {
        let template = include_str!("../../../templates/ecosystems/python/Dockerfile");
        let expected =
            format!(r#"runtime_version | default(value="{DEFAULT_PYTHON}", boolean=true)"#);
        assert!(template.contains(&expected), "{expected}");
    }
}
