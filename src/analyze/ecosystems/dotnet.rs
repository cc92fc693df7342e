//! The dotnet ecosystem: C# and F# projects (`*.csproj`, `*.fsproj`) and solutions (`*.sln`,
//! `*.slnx`), with the ASP.NET Core and worker services among them.
//!
//! Versions: `runtime_version` is the project's `TargetFramework` (`net8.0` → `8.0`), what the runtime
//! image runs; the SDK image follows `global.json` when it pins one (an exact SDK tag when its
//! `rollForward` policy allows only patch roll-forward, else that SDK's `major.minor`), else the same
//! version as the runtime.
//!
//! Port: `launchSettings.json` only configures `dotnet run` on a developer machine, so it is ignored.
//! In the image the port is the one the code binds (`app.Urls.Add`, `UseUrls`, `app.Run(url)`,
//! `ListenAnyIP`), else the `Kestrel:Endpoints` / `urls` of `appsettings.json`, else the official
//! images' default: 8080 from .NET 8 on (`ASPNETCORE_HTTP_PORTS`), and for older runtimes 8080 too, set
//! through `ASPNETCORE_URLS` by the Dockerfile because their default port 80 needs root.
//!
//! Facts set besides the common ones: `project_file` (relative to the build context), `assembly`
//! (the published `.dll` name without extension), `sdk_version`, `dependency_copies` (`COPY` argument
//! lines for the restore layer), `sdk_source` (the `global.json` that pins the SDK, relative to the
//! repository), `sdk_exact` (the exact SDK version when it pins a feature band), `app_user` (whether
//! the runtime image has the `app` user: .NET 8+), `web`, `cmd`, `default_runtime_version`.

use super::version::tool_version;
use super::{Detection, Detector, service_path};
use crate::analyze::tree::{self, RepoTree, join};
use crate::profile::{Ecosystem, PackageManager, Service};
use regex::Regex;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

pub struct Dotnet;

/// The .NET release used when a project declares none: 10.0, the LTS current in late 2026.
pub const DEFAULT_DOTNET: &str = "10.0";
/// At most this many projects are read per solution, and source files per project.
const MAX_PROJECTS: usize = 200;
const MAX_SOURCES: usize = 300;

impl Detector for Dotnet {
    fn detect(&self, tree: &RepoTree, dir: &str) -> Option<Detection> {
        let names: Vec<&str> = tree.names_in(dir).collect();
        let solutions: Vec<String> = names
            .iter()
            .filter(|n| n.ends_with(".sln") || n.ends_with(".slnx"))
            .map(|n| join(dir, n))
            .collect();
        let projects: Vec<String> = names
            .iter()
            .filter(|n| is_project_file(n))
            .map(|n| join(dir, n))
            .collect();
        if !solutions.is_empty() {
            return Some(solution_detection(tree, dir, &solutions));
        }
        if projects.is_empty() {
            return None;
        }
        let mut detection = Detection::default();
        for path in projects {
            let Some(project) = Project::load(tree, &path) else {
                continue;
            };
            if project.kind().is_none() {
                continue;
            }
            let closure = reference_closure(tree, &project);
            let mut dirs: Vec<&str> = closure.iter().map(|p| p.dir.as_str()).collect();
            dirs.push(&project.dir);
            let context = common_ancestor(&dirs);
            let tests = test_projects_under(tree, &context);
            if let Some(s) = service_of(tree, &project, &closure, &context, None, &tests) {
                detection.services.push(s);
            }
        }
        Some(detection)
    }
}

fn is_project_file(name: &str) -> bool {
    name.ends_with(".csproj") || name.ends_with(".fsproj") || name.ends_with(".vbproj")
}

/// What a project builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// An ASP.NET Core app (`Microsoft.NET.Sdk.Web`).
    Web,
    /// A generic-host program without HTTP (`Microsoft.NET.Sdk.Worker`, or an executable using
    /// `Microsoft.Extensions.Hosting`).
    Worker,
}

/// One MSBuild project file, with the properties of the `Directory.Build.props` above it.
#[derive(Debug, Clone, Default)]
struct Project {
    path: String,
    dir: String,
    /// The file name without extension.
    name: String,
    sdk: String,
    properties: BTreeMap<String, String>,
    /// Where each property was declared (the project or a `Directory.Build.props`).
    property_source: BTreeMap<String, String>,
    packages: Vec<String>,
    /// Referenced project files, relative to the repository.
    references: Vec<String>,
}

impl Project {
    fn load(tree: &RepoTree, path: &str) -> Option<Project> {
        let text = tree.read_text(path)?;
        let dir = tree::parent(path).unwrap_or("").to_string();
        let mut project = parse_project(&text, path)?;
        // MSBuild imports the nearest Directory.Build.props; the project's own values win.
        if let Some((props_path, props)) = nearest_build_props(tree, &dir) {
            for (k, v) in props.properties {
                if !project.properties.contains_key(&k) {
                    project.properties.insert(k.clone(), v);
                    project.property_source.insert(k, props_path.clone());
                }
            }
            for p in props.packages {
                if !project.packages.contains(&p) {
                    project.packages.push(p);
                }
            }
        }
        project.references = project
            .references
            .iter()
            .filter_map(|r| tree::resolve(&dir, r))
            .collect();
        project.dir = dir;
        Some(project)
    }

    fn property(&self, name: &str) -> Option<String> {
        let raw = self.properties.get(name)?;
        let value = expand(raw, &self.properties);
        (!value.is_empty() && !value.contains("$(")).then_some(value)
    }

    fn is_test(&self) -> bool {
        self.property("IsTestProject")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
            || self.packages.iter().any(|p| {
                p.eq_ignore_ascii_case("Microsoft.NET.Test.Sdk")
                    || p.eq_ignore_ascii_case("xunit")
                    || p.eq_ignore_ascii_case("NUnit")
                    || p.eq_ignore_ascii_case("MSTest.TestFramework")
            })
            || self.sdk.contains("MSTest.Sdk")
    }

    fn kind(&self) -> Option<Kind> {
        if self.is_test() || self.target_version().is_none() {
            return None;
        }
        if self.sdk.contains("Microsoft.NET.Sdk.Web") {
            return Some(Kind::Web);
        }
        let exe = self
            .property("OutputType")
            .is_some_and(|o| o.eq_ignore_ascii_case("exe"));
        let hosted = self
            .packages
            .iter()
            .any(|p| p.eq_ignore_ascii_case("Microsoft.Extensions.Hosting"));
        if self.sdk.contains("Microsoft.NET.Sdk.Worker") || (exe && hosted) {
            return Some(Kind::Worker);
        }
        None
    }

    /// The target framework version (`8.0`) with the file declaring it; the highest of several.
    fn target_version(&self) -> Option<(String, String)> {
        let (key, raw) = ["TargetFramework", "TargetFrameworks"]
            .iter()
            .find_map(|k| self.property(k).map(|v| (*k, v)))?;
        let best = raw
            .split(';')
            .filter_map(|tfm| tfm_version(tfm.trim()))
            .max_by_key(|v| version_key(v))?;
        let source = self
            .property_source
            .get(key)
            .cloned()
            .unwrap_or_else(|| self.path.clone());
        Some((best, source))
    }

    fn assembly(&self) -> String {
        self.property("AssemblyName")
            .unwrap_or_else(|| self.name.clone())
    }

    fn fsharp(&self) -> bool {
        self.path.ends_with(".fsproj")
    }
}

/// Parses an MSBuild project (or props) file; None when it is not well-formed XML.
fn parse_project(text: &str, path: &str) -> Option<Project> {
    let doc = roxmltree::Document::parse(text).ok()?;
    let root = doc.root_element();
    if root.tag_name().name() != "Project" {
        return None;
    }
    let file = path.rsplit('/').next().unwrap_or(path);
    let mut project = Project {
        path: path.to_string(),
        name: file
            .rsplit_once('.')
            .map_or(file, |(stem, _)| stem)
            .to_string(),
        sdk: root.attribute("Sdk").unwrap_or("").to_string(),
        ..Project::default()
    };
    for node in root.descendants().filter(|n| n.is_element()) {
        match node.tag_name().name() {
            "Sdk" | "Import" if project.sdk.is_empty() => {
                if let Some(sdk) = node.attribute("Name").or_else(|| node.attribute("Sdk")) {
                    project.sdk = sdk.to_string();
                }
            }
            "PackageReference" => {
                if let Some(p) = node
                    .attribute("Include")
                    .or_else(|| node.attribute("Update"))
                {
                    project.packages.push(p.to_string());
                }
            }
            "ProjectReference" => {
                if let Some(p) = node.attribute("Include") {
                    project.references.push(p.replace('\\', "/"));
                }
            }
            _ => {}
        }
    }
    for group in root
        .children()
        .filter(|n| n.is_element() && n.tag_name().name() == "PropertyGroup")
    {
        // Conditional groups (per configuration or platform) only fill what is still unset.
        let conditional = group.attribute("Condition").is_some();
        for p in group.children().filter(|n| n.is_element()) {
            let key = p.tag_name().name().to_string();
            if conditional && project.properties.contains_key(&key) {
                continue;
            }
            if p.attribute("Condition").is_some() && project.properties.contains_key(&key) {
                continue;
            }
            project
                .properties
                .insert(key.clone(), p.text().unwrap_or("").trim().to_string());
            project.property_source.insert(key, path.to_string());
        }
    }
    Some(project)
}

fn nearest_build_props(tree: &RepoTree, dir: &str) -> Option<(String, Project)> {
    let mut current = Some(dir.to_string());
    while let Some(d) = current {
        let path = join(&d, "Directory.Build.props");
        if let Some(text) = tree.read_text(&path) {
            return parse_project(&text, &path).map(|p| (path, p));
        }
        current = (!d.is_empty()).then(|| tree::parent(&d).unwrap_or("").to_string());
    }
    None
}

/// Expands `$(Name)` references from `props`, a few rounds deep.
fn expand(value: &str, props: &BTreeMap<String, String>) -> String {
    static REFERENCE: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"\$\(([A-Za-z_][\w.]*)\)").unwrap());
    let mut out = value.to_string();
    for _ in 0..5 {
        if !out.contains("$(") {
            break;
        }
        let next = REFERENCE
            .replace_all(&out, |c: &regex::Captures| {
                props
                    .get(&c[1])
                    .cloned()
                    .unwrap_or_else(|| c[0].to_string())
            })
            .into_owned();
        if next == out {
            break;
        }
        out = next;
    }
    out
}

/// `net8.0` → `8.0`, `netcoreapp3.1` → `3.1`, `net10.0-windows` → `10.0`; .NET Framework (`net48`)
/// and .NET Standard do not run in a Linux container: None.
pub fn tfm_version(tfm: &str) -> Option<String> {
    let tfm = tfm.to_ascii_lowercase();
    let rest = tfm
        .strip_prefix("netcoreapp")
        .or_else(|| tfm.strip_prefix("net"))?;
    if rest.starts_with("standard") {
        return None;
    }
    let version = rest.split('-').next()?;
    let (major, minor) = version.split_once('.')?;
    let major: u32 = major.parse().ok()?;
    let minor: u32 = minor.parse().ok()?;
    (2..=40)
        .contains(&major)
        .then(|| format!("{major}.{minor}"))
}

fn version_key(v: &str) -> (u32, u32, u32) {
    let mut parts = v
        .split(|c: char| !c.is_ascii_digit())
        .map(|p| p.parse().unwrap_or(0));
    (
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
    )
}

/// The deepest folder containing every one of `dirs`.
fn common_ancestor(dirs: &[&str]) -> String {
    let mut common: Option<Vec<&str>> = None;
    for d in dirs {
        let parts: Vec<&str> = d.split('/').filter(|p| !p.is_empty()).collect();
        common = Some(match common {
            None => parts,
            Some(c) => c
                .iter()
                .zip(parts.iter())
                .take_while(|(a, b)| a == b)
                .map(|(a, _)| *a)
                .collect(),
        });
    }
    common.unwrap_or_default().join("/")
}

/// The projects `project` references, directly or not (bounded).
fn reference_closure(tree: &RepoTree, project: &Project) -> Vec<Project> {
    let mut seen: BTreeSet<String> = BTreeSet::from([project.path.clone()]);
    let mut queue: Vec<String> = project.references.clone();
    let mut out = Vec::new();
    while let Some(path) = queue.pop() {
        if out.len() >= MAX_PROJECTS || !seen.insert(path.clone()) {
            continue;
        }
        if let Some(p) = Project::load(tree, &path) {
            queue.extend(p.references.iter().cloned());
            out.push(p);
        }
    }
    out
}

static SLN_PROJECT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?m)^Project\("\{[^}]*\}"\)\s*=\s*"[^"]*"\s*,\s*"([^"]+\.(?:cs|fs|vb)proj)""#)
        .unwrap()
});

/// Project files a solution lists, relative to the repository.
fn solution_projects(tree: &RepoTree, solution: &str) -> Vec<String> {
    let Some(text) = tree.read_text(solution) else {
        return Vec::new();
    };
    let dir = tree::parent(solution).unwrap_or("");
    let listed: Vec<String> = if solution.ends_with(".slnx") {
        match roxmltree::Document::parse(&text) {
            Ok(doc) => doc
                .descendants()
                .filter(|n| n.is_element() && n.tag_name().name() == "Project")
                .filter_map(|n| n.attribute("Path").map(String::from))
                .collect(),
            Err(_) => Vec::new(),
        }
    } else {
        SLN_PROJECT
            .captures_iter(&text)
            .map(|c| c[1].to_string())
            .collect()
    };
    listed
        .iter()
        .filter_map(|p| tree::resolve(dir, p))
        .filter(|p| tree.exists(p))
        .take(MAX_PROJECTS)
        .collect()
}

fn solution_detection(tree: &RepoTree, dir: &str, solutions: &[String]) -> Detection {
    let mut detection = Detection::default();
    let mut paths: Vec<String> = Vec::new();
    for s in solutions {
        for p in solution_projects(tree, s) {
            if !paths.contains(&p) {
                paths.push(p);
            }
        }
    }
    let projects: Vec<Project> = paths
        .iter()
        .filter_map(|p| Project::load(tree, p))
        .collect();
    let mut dirs: Vec<&str> = projects.iter().map(|p| p.dir.as_str()).collect();
    dirs.push(dir);
    let context = common_ancestor(&dirs);
    let tests: Vec<String> = projects
        .iter()
        .filter(|p| p.is_test())
        .map(|p| p.path.clone())
        .collect();
    let solution = solutions.first().map(String::as_str);
    for project in &projects {
        if project.dir != dir && !detection.claimed.contains(&project.dir) {
            detection.claimed.push(project.dir.clone());
        }
        if project.kind().is_none() {
            continue;
        }
        let closure = reference_closure(tree, project);
        // Every project of the solution is restored with the solution, so all are copied first.
        let all: Vec<Project> = projects
            .iter()
            .filter(|p| p.path != project.path)
            .cloned()
            .chain(closure)
            .collect();
        if let Some(s) = service_of(tree, project, &all, &context, solution, &tests) {
            detection.services.push(s);
        }
    }
    detection
}

/// Test projects anywhere under `dir` (outside build output).
fn test_projects_under(tree: &RepoTree, dir: &str) -> Vec<String> {
    tree.files_under(dir)
        .filter(|f| {
            let name = f.path.rsplit('/').next().unwrap_or("");
            is_project_file(name) && !f.path.contains("/bin/") && !f.path.contains("/obj/")
        })
        .take(MAX_PROJECTS)
        .filter_map(|f| Project::load(tree, &f.path))
        .filter(Project::is_test)
        .map(|p| p.path)
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Sources and configuration

static CODE_URL_PORT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?:UseUrls|Urls\.Add|\.Run|\.RunAsync)\s*\(\s*(?:\[\|\s*)?"https?://[^"/\s]*?:(\d{2,5})"#)
        .unwrap()
});
static CODE_LISTEN_PORT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"Listen(?:AnyIP|Localhost)?\s*\(\s*(?:IPAddress\.\w+\s*,\s*)?(\d{2,5})\s*[,)]")
        .unwrap()
});
static CODE_ENV_PORT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"GetEnvironmentVariable\s*\(?\s*"PORT"\s*\)?\s*(?:\?\?|\|>\s*Option\.ofObj\s*\|>\s*Option\.defaultValue)\s*"(\d{2,5})""#)
        .unwrap()
});
static HEALTH_CHECKS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"MapHealthChecks\s*\(\s*"(/[^"]*)""#).unwrap());
static HEALTH_ROUTE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?:MapGet\s*\(\s*|\broute\s+|\bGET\s*>=>\s*route\s+)"(/(?:healthz?|health/\w+|livez|readyz|ping))""#)
        .unwrap()
});

#[derive(Debug, Default)]
struct SourceFacts {
    port: Option<u16>,
    health_path: Option<String>,
}

fn read_sources(tree: &RepoTree, dir: &str) -> SourceFacts {
    let mut facts = SourceFacts::default();
    let mut read = 0;
    for f in tree.files_under(dir) {
        let rel = &f.path[dir.len()..];
        if !(f.path.ends_with(".cs") || f.path.ends_with(".fs"))
            || rel.contains("/bin/")
            || rel.contains("/obj/")
        {
            continue;
        }
        if read >= MAX_SOURCES {
            break;
        }
        read += 1;
        let Some(text) = tree.read_text(&f.path) else {
            continue;
        };
        if facts.port.is_none() {
            facts.port = [&*CODE_URL_PORT, &*CODE_LISTEN_PORT, &*CODE_ENV_PORT]
                .iter()
                .find_map(|re| re.captures(&text))
                .and_then(|c| c[1].parse().ok());
        }
        if facts.health_path.is_none() {
            facts.health_path = HEALTH_CHECKS
                .captures(&text)
                .or_else(|| HEALTH_ROUTE.captures(&text))
                .map(|c| c[1].to_string());
        }
    }
    facts
}

/// The port of `appsettings.json`: `Kestrel:Endpoints:*:Url`, else `urls`.
fn appsettings_port(tree: &RepoTree, dir: &str) -> Option<u16> {
    let text = tree.read_text(&join(dir, "appsettings.json"))?;
    let value: serde_json::Value = serde_json::from_str(&text).ok().or_else(|| {
        // appsettings files often carry `//` comments, which JSON does not allow.
        let stripped: String = text
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        serde_json::from_str(&stripped).ok()
    })?;
    let endpoints = value
        .get("Kestrel")
        .and_then(|k| k.get("Endpoints"))
        .and_then(|e| e.as_object());
    let urls = endpoints
        .into_iter()
        .flat_map(|e| e.values())
        .filter_map(|e| e.get("Url").and_then(|u| u.as_str()))
        .chain(value.get("urls").and_then(|u| u.as_str()))
        .map(String::from)
        .collect::<Vec<_>>();
    urls.iter()
        .flat_map(|u| u.split(';'))
        .filter(|u| u.trim_start().starts_with("http://"))
        .chain(urls.iter().flat_map(|u| u.split(';')))
        .find_map(url_port)
}

fn url_port(url: &str) -> Option<u16> {
    let rest = url.trim().split_once("://")?.1;
    let host_port = rest.split('/').next()?;
    host_port.rsplit_once(':')?.1.parse().ok()
}

// ---------------------------------------------------------------------------------------------
// From a project to a service

/// The SDK `global.json` pins: (image tag, version as declared, file).
fn global_json_sdk(tree: &RepoTree, from_dir: &str) -> Option<(String, String, String)> {
    let mut current = Some(from_dir.to_string());
    while let Some(d) = current {
        let path = join(&d, "global.json");
        if let Some(text) = tree.read_text(&path) {
            let value: serde_json::Value = serde_json::from_str(&text).ok()?;
            let sdk = value.get("sdk")?;
            let version = sdk.get("version")?.as_str()?.trim().to_string();
            let roll = sdk
                .get("rollForward")
                .and_then(|r| r.as_str())
                .unwrap_or("latestPatch")
                .to_ascii_lowercase();
            let (major, minor, _) = version_key(&version);
            if major == 0 {
                return None;
            }
            // Only patch roll-forward allowed: the image must carry that exact feature band.
            let tag = if matches!(roll.as_str(), "patch" | "latestpatch" | "disable") {
                version.clone()
            } else {
                format!("{major}.{minor}")
            };
            return Some((tag, version, path));
        }
        current = (!d.is_empty()).then(|| tree::parent(&d).unwrap_or("").to_string());
    }
    None
}

/// The Debian release of the official images for a .NET version.
fn debian_suffix(version: &str) -> &'static str {
    match version_key(version).0 {
        0..=5 => "-bullseye-slim",
        6 | 7 => "-bookworm-slim",
        _ => "-trixie-slim",
    }
}

/// `to` relative to the folder `from` (both relative to the repository).
fn relative_path(from: &str, to: &str) -> String {
    let from_parts: Vec<&str> = from.split('/').filter(|p| !p.is_empty()).collect();
    let to_parts: Vec<&str> = to.split('/').filter(|p| !p.is_empty()).collect();
    let common = from_parts
        .iter()
        .zip(to_parts.iter())
        .take_while(|(a, b)| a == b)
        .count();
    let mut out: Vec<&str> = vec![".."; from_parts.len() - common];
    out.extend(&to_parts[common..]);
    out.join("/")
}

fn in_context(context: &str, path: &str) -> String {
    relative_path(context, path)
}

fn service_of(
    tree: &RepoTree,
    project: &Project,
    others: &[Project],
    context: &str,
    solution: Option<&str>,
    tests: &[String],
) -> Option<Service> {
    let kind = project.kind()?;
    let mut s = Service::new(
        project.assembly(),
        service_path(&project.dir),
        Ecosystem::Dotnet,
        PackageManager::Dotnet,
    );
    let target = project.target_version();
    if let Some((v, source)) = &target {
        s.runtime_version = Some(v.clone());
        s.runtime_version_source = Some(source.clone());
    }
    let runtime = target
        .as_ref()
        .map(|(v, _)| v.clone())
        .unwrap_or_else(|| DEFAULT_DOTNET.to_string());
    let mut sdk_source = None;
    let (sdk_tag, sdk_version) = match global_json_sdk(tree, &project.dir) {
        Some((tag, version, path)) if version_key(&version) >= version_key(&runtime) => {
            sdk_source = Some(path);
            (tag, version_key(&version))
        }
        _ => match tool_version(tree, &project.dir, &["dotnet", "dotnet-core"]) {
            Some(d) if version_key(&d.version) >= version_key(&runtime) => {
                let (ma, mi, _) = version_key(&d.version);
                (format!("{ma}.{mi}"), (ma, mi, 0))
            }
            _ => (runtime.clone(), version_key(&runtime)),
        },
    };
    // An exact SDK tag (`8.0.100`) exists only in the images' default (Debian) flavour.
    let sdk_image = if sdk_tag.matches('.').count() >= 2 {
        format!("mcr.microsoft.com/dotnet/sdk:{sdk_tag}")
    } else {
        format!(
            "mcr.microsoft.com/dotnet/sdk:{sdk_tag}{}",
            debian_suffix(&sdk_tag)
        )
    };
    let runtime_repo = match kind {
        Kind::Web => "aspnet",
        Kind::Worker => "runtime",
    };
    let runtime_image = format!(
        "mcr.microsoft.com/dotnet/{runtime_repo}:{runtime}{}",
        debian_suffix(&runtime)
    );

    if kind == Kind::Web {
        s.framework = Some("aspnet-core".to_string());
        let sources = read_sources(tree, &project.dir);
        s.port = sources
            .port
            .or_else(|| appsettings_port(tree, &project.dir))
            .or(Some(8080));
        s.health_path = sources.health_path.filter(|p| {
            p.chars()
                .all(|c| c.is_ascii_alphanumeric() || "/-_.~".contains(c))
        });
    }
    let assembly = project.assembly();
    s.build_command = Some("dotnet publish -c Release -o publish".to_string());
    s.start_command = Some(format!("dotnet publish/{assembly}.dll"));

    // Files the restore needs, relative to the build context.
    let mut manifests: Vec<String> = Vec::new();
    let mut push = |p: String| {
        if !manifests.contains(&p) {
            manifests.push(p);
        }
    };
    let mut dirs: Vec<&str> = vec![project.dir.as_str()];
    dirs.extend(others.iter().map(|p| p.dir.as_str()));
    for d in &dirs {
        // Build-wide files from each project folder up to the context.
        let mut current = Some(d.to_string());
        while let Some(c) = current {
            for name in [
                "global.json",
                "Directory.Build.props",
                "Directory.Build.targets",
                "Directory.Packages.props",
                "NuGet.config",
                "nuget.config",
                "NuGet.Config",
            ] {
                let path = join(&c, name);
                if tree.exists(&path) {
                    push(in_context(context, &path));
                }
            }
            current =
                (c != context && !c.is_empty()).then(|| tree::parent(&c).unwrap_or("").to_string());
        }
    }
    if let Some(sln) = solution {
        push(in_context(context, sln));
    }
    for p in std::iter::once(project).chain(others.iter()) {
        push(in_context(context, &p.path));
        let lock = join(&p.dir, "packages.lock.json");
        if tree.exists(&lock) {
            push(in_context(context, &lock));
        }
    }
    let lockfile = join(&project.dir, "packages.lock.json");
    let locked = tree.exists(&lockfile);
    if locked {
        s.fact("lockfile", in_context(context, &lockfile));
    }

    let project_file = in_context(context, &project.path);
    let service_in_context = match relative_path(context, &project.dir) {
        r if r.is_empty() => String::new(),
        r => format!("{r}/"),
    };
    let locked_flag = if locked { " --locked-mode" } else { "" };
    // Installing runs in the build context; the other commands in the service folder.
    let restore_target = solution
        .map(|sln| in_context(context, sln))
        .filter(|_| !service_in_context.is_empty())
        .map(|t| format!(" {t}"))
        .unwrap_or_default();
    s.fact(
        "install_command",
        format!("dotnet restore{restore_target}{locked_flag}"),
    );
    let whole = solution.map(|sln| relative_path(&project.dir, sln));
    if !tests.is_empty() {
        let target = match (&whole, tests) {
            (Some(sln), _) => format!(" {sln}"),
            (None, [only]) => format!(" {}", relative_path(&project.dir, only)),
            _ => String::new(),
        };
        s.fact("test_command", format!("dotnet test{target}"));
    }
    if tree.exists(&join(context, ".editorconfig"))
        || tree.exists(&join(&project.dir, ".editorconfig"))
    {
        let target = whole.map(|w| format!(" {w}")).unwrap_or_default();
        s.fact(
            "lint_command",
            format!("dotnet format{target} --verify-no-changes"),
        );
    }

    let mut copies: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for m in &manifests {
        let dest = match m.rsplit_once('/') {
            Some((d, _)) => format!("{d}/"),
            None => "./".to_string(),
        };
        copies.entry(dest).or_default().push(m.clone());
    }
    let copy_lines: Vec<String> = copies
        .into_iter()
        .map(|(dest, files)| format!("{} {dest}", files.join(" ")))
        .collect();

    s.fact("build_context", service_path(context));
    s.fact("service_in_context", service_in_context);
    s.fact("manifests", manifests.clone());
    s.fact("dependency_copies", copy_lines);
    s.fact("project_file", project_file);
    s.fact("assembly", assembly.clone());
    s.fact("fsharp", project.fsharp());
    s.fact("web", kind == Kind::Web);
    s.fact("locked", locked);
    s.fact(
        "sdk_version",
        format!("{}.{}", sdk_version.0, sdk_version.1),
    );
    if let Some(path) = sdk_source {
        // Relative to the repository root, like `runtime_version_source`.
        s.fact("sdk_source", path);
    }
    if sdk_tag.matches('.').count() >= 2 {
        s.fact("sdk_exact", sdk_tag.clone());
    }
    s.fact("dotnet_version", runtime.clone());
    s.fact("build_image", sdk_image);
    s.fact("runtime_image", runtime_image);
    // The `app` user (UID in `APP_UID`) and port 8080 are built into the images from .NET 8 on.
    s.fact("app_user", version_key(&runtime).0 >= 8);
    s.fact("default_runtime_version", DEFAULT_DOTNET);
    s.fact("cmd", vec!["dotnet".to_string(), format!("{assembly}.dll")]);
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::tree::tree_of;

    #[test]
    fn a_project_referencing_a_sibling_builds_from_their_common_folder() {
        let (_dir, tree) = tree_of(&[
            (
                "src/Web/Web.csproj",
                r#"<Project Sdk="Microsoft.NET.Sdk.Web"><PropertyGroup><TargetFramework>net7.0</TargetFramework></PropertyGroup>
<ItemGroup><ProjectReference Include="..\Lib\Lib.csproj" /></ItemGroup></Project>"#,
            ),
            (
                "src/Web/Program.cs",
                r#"var app = WebApplication.Create(args); app.Urls.Add("http://0.0.0.0:5000"); app.Run();"#,
            ),
            (
                "src/Lib/Lib.csproj",
                r#"<Project Sdk="Microsoft.NET.Sdk"><PropertyGroup><TargetFramework>net7.0</TargetFramework></PropertyGroup></Project>"#,
            ),
        ]);
        assert!(Dotnet.detect(&tree, "src").is_none());
        let found = Dotnet.detect(&tree, "src/Web").unwrap();
        let s = &found.services[0];
        assert_eq!(s.facts["build_context"], "src");
        assert_eq!(s.facts["service_in_context"], "Web/");
        assert_eq!(s.facts["project_file"], "Web/Web.csproj");
        assert_eq!(s.port, Some(5000));
        assert_eq!(s.facts["app_user"], false);
        assert_eq!(
            s.facts["runtime_image"],
            "mcr.microsoft.com/dotnet/aspnet:7.0-bookworm-slim"
        );
        assert!(Dotnet.detect(&tree, "src/Lib").unwrap().services.is_empty());
    }

    #[test]
    fn an_slnx_solution_lists_its_services_and_tests() {
        let web = r#"<Project Sdk="Microsoft.NET.Sdk.Web"><PropertyGroup><TargetFramework>net10.0</TargetFramework></PropertyGroup></Project>"#;
        let test = r#"<Project Sdk="Microsoft.NET.Sdk"><PropertyGroup><TargetFramework>net10.0</TargetFramework></PropertyGroup>
<ItemGroup><PackageReference Include="Microsoft.NET.Test.Sdk" Version="17.12.0" /></ItemGroup></Project>"#;
        let (_dir, tree) = tree_of(&[
            (
                "App.slnx",
                r#"<Solution><Folder Name="/src/"><Project Path="src/A/A.csproj" /><Project Path="src/B/B.fsproj" /></Folder>
<Folder Name="/tests/"><Project Path="tests/A.Tests/A.Tests.csproj" /></Folder></Solution>"#,
            ),
            ("src/A/A.csproj", web),
            ("src/B/B.fsproj", web),
            ("tests/A.Tests/A.Tests.csproj", test),
            ("global.json", r#"{"sdk": {"version": "10.0.100"}}"#),
        ]);
        let found = Dotnet.detect(&tree, "").unwrap();
        let paths: Vec<&str> = found.services.iter().map(|s| s.path.as_str()).collect();
        assert_eq!(paths, vec!["src/A", "src/B"]);
        assert_eq!(found.claimed, vec!["src/A", "src/B", "tests/A.Tests"]);
        let a = &found.services[0];
        assert_eq!(a.facts["test_command"], "dotnet test ../../App.slnx");
        assert_eq!(a.facts["install_command"], "dotnet restore App.slnx");
        // `latestPatch` (the default) pins the feature band: the exact SDK image.
        assert_eq!(
            a.facts["build_image"],
            "mcr.microsoft.com/dotnet/sdk:10.0.100"
        );
    }

    #[test]
    fn a_worker_runs_on_the_plain_runtime_without_a_port() {
        let (_dir, tree) = tree_of(&[(
            "Jobs.csproj",
            r#"<Project Sdk="Microsoft.NET.Sdk.Worker"><PropertyGroup><TargetFramework>net10.0</TargetFramework></PropertyGroup></Project>"#,
        )]);
        let s = &Dotnet.detect(&tree, "").unwrap().services[0];
        assert_eq!(s.port, None);
        assert_eq!(s.framework, None);
        assert_eq!(
            s.facts["runtime_image"],
            "mcr.microsoft.com/dotnet/runtime:10.0-trixie-slim"
        );
    }

    #[test]
    fn target_frameworks_become_runtime_versions() {
        for (tfm, want) in [
            ("net8.0", Some("8.0")),
            ("net10.0", Some("10.0")),
            ("netcoreapp3.1", Some("3.1")),
            ("net8.0-windows", Some("8.0")),
            ("NET9.0", Some("9.0")),
            ("net48", None),
            ("netstandard2.0", None),
            ("", None),
        ] {
            assert_eq!(tfm_version(tfm).as_deref(), want, "{tfm}");
        }
    }

    #[test]
    fn project_properties_and_kind() {
        let p = parse_project(
            r#"<Project Sdk="Microsoft.NET.Sdk.Web">
  <PropertyGroup>
    <Tfm>net8.0</Tfm>
    <TargetFrameworks>$(Tfm);net9.0</TargetFrameworks>
    <AssemblyName>Shop.Api</AssemblyName>
  </PropertyGroup>
  <ItemGroup><ProjectReference Include="..\Shop.Core\Shop.Core.csproj" /></ItemGroup>
</Project>"#,
            "src/Api/Api.csproj",
        )
        .unwrap();
        assert_eq!(
            p.target_version(),
            Some(("9.0".to_string(), "src/Api/Api.csproj".to_string()))
        );
        assert_eq!(p.kind(), Some(Kind::Web));
        assert_eq!(p.assembly(), "Shop.Api");
        assert_eq!(p.references, vec!["../Shop.Core/Shop.Core.csproj"]);
    }

    #[test]
    fn test_projects_and_libraries_are_not_services() {
        let test = parse_project(
            r#"<Project Sdk="Microsoft.NET.Sdk"><PropertyGroup><TargetFramework>net8.0</TargetFramework></PropertyGroup>
<ItemGroup><PackageReference Include="Microsoft.NET.Test.Sdk" Version="17.11.1" /></ItemGroup></Project>"#,
            "tests/A.Tests/A.Tests.csproj",
        )
        .unwrap();
        assert!(test.is_test());
        assert_eq!(test.kind(), None);
        let lib = parse_project(
            r#"<Project Sdk="Microsoft.NET.Sdk"><PropertyGroup><TargetFramework>net8.0</TargetFramework></PropertyGroup></Project>"#,
            "src/Lib/Lib.csproj",
        )
        .unwrap();
        assert_eq!(lib.kind(), None);
        let worker = parse_project(
            r#"<Project Sdk="Microsoft.NET.Sdk.Worker"><PropertyGroup><TargetFramework>net8.0</TargetFramework></PropertyGroup></Project>"#,
            "Worker/Worker.csproj",
        )
        .unwrap();
        assert_eq!(worker.kind(), Some(Kind::Worker));
    }

    #[test]
    fn malformed_project_files_are_unknown_not_a_panic() {
        assert!(parse_project("<Project Sdk=\"Microsoft.NET.Sdk.Web\">", "a.csproj").is_none());
        assert!(parse_project("", "a.csproj").is_none());
        assert!(parse_project("<Other/>", "a.csproj").is_none());
    }

    #[test]
    fn solution_files_list_projects() {
        let sln = "Microsoft Visual Studio Solution File, Format Version 12.00\nProject(\"{FAE04EC0-301F-11D3-BF4B-00C04F79EFBC}\") = \"Api\", \"src\\Api\\Api.csproj\", \"{1}\"\nEndProject\nProject(\"{2150E333-8FDC-42A3-9474-1A3956D46DE8}\") = \"src\", \"src\", \"{2}\"\nEndProject\n";
        let found: Vec<String> = SLN_PROJECT
            .captures_iter(sln)
            .map(|c| c[1].replace('\\', "/"))
            .collect();
        assert_eq!(found, vec!["src/Api/Api.csproj"]);
    }

    #[test]
    fn ports_from_code_and_urls() {
        assert!(CODE_URL_PORT.is_match(r#"app.Urls.Add("http://0.0.0.0:5000");"#));
        assert!(CODE_URL_PORT.is_match(r#"builder.WebHost.UseUrls("http://*:5005")"#));
        assert!(CODE_URL_PORT.is_match(r#".UseUrls([| "http://0.0.0.0:5000" |])"#));
        assert!(CODE_LISTEN_PORT.is_match("options.ListenAnyIP(9000);"));
        assert_eq!(url_port("http://+:5001"), Some(5001));
        assert_eq!(url_port("http://localhost:5001/"), Some(5001));
        assert_eq!(url_port("http://localhost"), None);
    }

    #[test]
    fn paths_between_folders() {
        assert_eq!(relative_path("src/Api", "Shop.sln"), "../../Shop.sln");
        assert_eq!(
            relative_path("", "src/Api/Api.csproj"),
            "src/Api/Api.csproj"
        );
        assert_eq!(relative_path("src/Api", "src/Api"), "");
        assert_eq!(common_ancestor(&["src/Api", "src/Lib"]), "src");
        assert_eq!(common_ancestor(&["src/Api", ""]), "");
    }
}
