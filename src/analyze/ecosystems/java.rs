//! The java ecosystem: Maven and Gradle builds (wrappers, multi-module reactors, Kotlin DSL) and the
//! Spring Boot, Quarkus, Micronaut or plain `main` services they produce.
//!
//! Facts set besides the common ones (`build_context`, `service_in_context`, `manifests`,
//! `install_command`, `lint_command`, `test_command`, `runtime_image`, `build_image`, `lockfile` for
//! Gradle lockfiles):
//! - `build_tool`: the build program as the image runs it (`sh ./mvnw`, `mvn`, `sh ./gradlew`, `gradle`);
//! - `package_args`: its arguments that build the service's runnable output;
//! - `go_offline`: dependency-resolution arguments run before the sources are copied (single-module
//!   builds only: a reactor cannot resolve its own unbuilt modules);
//! - `dependency_copies`: `COPY` argument lines (`src… dest`) for that step, relative to the context;
//! - `cache_dir`: the build tool's cache, mounted as a BuildKit cache (`/root/.m2`, `/root/.gradle`);
//! - `layout`: how the output is laid out in the image: `boot-tools` (Spring Boot ≥ 3.3 layered
//!   extraction), `boot-layertools` (2.4–3.2), `jar` (a self-contained jar), `classpath` (a jar plus
//!   its runtime dependencies and a main class), `install-dist` (Gradle `installDist`), `quarkus`;
//! - `artifact`: the built jar (or output folder) relative to the build context, a glob when its name
//!   is not literal in the build file; `main_class`, `launcher` when the layout needs them;
//! - `cmd`: the exec-form start command inside the image; `dependency_dir` (classpath layout);
//! - `java_version`: the release the images use (declared, else `default_runtime_version`).
//!
//! The Java version comes from `.java-version`, `.sdkmanrc`, `.tool-versions` / `mise.toml` (what
//! developers run), else from the build file (Maven `maven.compiler.release` / `java.version` /
//! `maven.compiler.source` or the compiler plugin's `<release>`; a Gradle toolchain or
//! `sourceCompatibility`). Build and test commands run in the service folder (a module reaches the
//! root's wrapper and reactor), the install command in the build root, the image build in the build
//! root.

use super::version::tool_version;
use super::{Detection, Detector, dir_name, service_path};
use crate::analyze::tree::{self, RepoTree, join};
use crate::profile::{Ecosystem, PackageManager, Service};
use regex::Regex;
use std::collections::BTreeMap;
use std::sync::LazyLock;

pub struct Java;

/// The Java release used when the repository declares none: 25, the LTS current in late 2026.
pub const DEFAULT_JAVA: &str = "25";

const GRADLE_BUILD: [&str; 2] = ["build.gradle.kts", "build.gradle"];
const GRADLE_SETTINGS: [&str; 2] = ["settings.gradle.kts", "settings.gradle"];
/// How deep in-repository parent poms and nested reactors are followed.
const MAX_DEPTH: usize = 6;
/// At most this many source files are read per service when looking for `main`, ports and routes.
const MAX_SOURCES: usize = 300;

impl Detector for Java {
    fn detect(&self, tree: &RepoTree, dir: &str) -> Option<Detection> {
        if tree.exists(&join(dir, "pom.xml")) {
            return Some(maven_detection(tree, dir));
        }
        if GRADLE_BUILD
            .iter()
            .chain(GRADLE_SETTINGS.iter())
            .any(|f| tree.exists(&join(dir, f)))
        {
            return Some(gradle_detection(tree, dir));
        }
        None
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tool {
    Maven,
    Gradle,
}

/// How the built program is laid out in the runtime image.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Layout {
    BootTools,
    BootLayertools { launcher: &'static str },
    Jar,
    Classpath { main_class: String },
    InstallDist { main_class: String },
    Quarkus,
}

/// One runnable module of a build, as understood from its build files.
#[derive(Debug)]
struct JavaApp {
    name: String,
    /// The build root (where the wrapper, settings or reactor pom live), relative to the repository.
    root: String,
    /// The module folder relative to `root`, `""` when it is the root.
    module: String,
    /// How the build tool selects the module from the build root: the Gradle project path (`:app`)
    /// or Maven's `:artifactId` (independent of the working directory, unlike a folder path); empty
    /// for the root project.
    project_selector: String,
    tool: Tool,
    wrapper: bool,
    framework: Option<&'static str>,
    layout: Layout,
    /// The built output relative to the module folder.
    artifact: String,
    port: Option<u16>,
    health_path: Option<String>,
    /// A version the build file declares, with the file it is in.
    declared_version: Option<(String, String)>,
    lint: Option<&'static str>,
    has_tests: bool,
    /// Files that define dependencies, relative to `root`.
    manifests: Vec<String>,
    lockfile: Option<String>,
    /// Folders relative to `root` the build reads before any source (`.mvn`, `gradle`, `buildSrc`),
    /// copied whole with the manifests.
    copy_dirs: Vec<String>,
    multi_module: bool,
}

// ---------------------------------------------------------------------------------------------
// Maven

#[derive(Debug, Clone, Default)]
struct Coord {
    group: String,
    artifact: String,
    version: Option<String>,
}

#[derive(Debug, Default)]
struct Pom {
    path: String,
    artifact_id: Option<String>,
    group_id: Option<String>,
    version: Option<String>,
    packaging: Option<String>,
    parent: Option<Coord>,
    parent_relative_path: Option<String>,
    properties: BTreeMap<String, String>,
    modules: Vec<String>,
    dependencies: Vec<Coord>,
    managed: Vec<Coord>,
    plugins: Vec<Coord>,
    final_name: Option<String>,
    main_class: Option<String>,
    compiler_release: Option<String>,
}

fn element<'a, 'i>(node: roxmltree::Node<'a, 'i>, name: &str) -> Option<roxmltree::Node<'a, 'i>> {
    node.children()
        .find(|c| c.is_element() && c.tag_name().name() == name)
}

fn text_of(node: roxmltree::Node, name: &str) -> Option<String> {
    element(node, name)
        .and_then(|n| n.text())
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
}

fn coord(node: roxmltree::Node) -> Coord {
    Coord {
        group: text_of(node, "groupId").unwrap_or_default(),
        artifact: text_of(node, "artifactId").unwrap_or_default(),
        version: text_of(node, "version"),
    }
}

fn coords(parent: Option<roxmltree::Node>, list: &str, item: &str) -> Vec<Coord> {
    parent
        .and_then(|p| element(p, list))
        .map(|l| {
            l.children()
                .filter(|c| c.is_element() && c.tag_name().name() == item)
                .map(coord)
                .collect()
        })
        .unwrap_or_default()
}

/// Parses a `pom.xml`; None when it is not well-formed XML with a `<project>` root.
fn parse_pom(text: &str, path: &str) -> Option<Pom> {
    let doc = roxmltree::Document::parse(text).ok()?;
    let project = doc.root_element();
    if project.tag_name().name() != "project" {
        return None;
    }
    let build = element(project, "build");
    let mut pom = Pom {
        path: path.to_string(),
        artifact_id: text_of(project, "artifactId"),
        group_id: text_of(project, "groupId"),
        version: text_of(project, "version"),
        packaging: text_of(project, "packaging"),
        ..Pom::default()
    };
    if let Some(parent) = element(project, "parent") {
        pom.parent = Some(coord(parent));
        pom.parent_relative_path =
            element(parent, "relativePath").map(|n| n.text().unwrap_or("").trim().to_string());
    }
    if let Some(props) = element(project, "properties") {
        for p in props.children().filter(|c| c.is_element()) {
            pom.properties.insert(
                p.tag_name().name().to_string(),
                p.text().unwrap_or("").trim().to_string(),
            );
        }
    }
    if let Some(modules) = element(project, "modules") {
        pom.modules = modules
            .children()
            .filter(|c| c.is_element() && c.tag_name().name() == "module")
            .filter_map(|c| c.text().map(|t| t.trim().to_string()))
            .filter(|t| !t.is_empty())
            .collect();
    }
    pom.dependencies = coords(Some(project), "dependencies", "dependency");
    pom.managed = coords(
        element(project, "dependencyManagement"),
        "dependencies",
        "dependency",
    );
    pom.plugins = coords(build, "plugins", "plugin");
    if let Some(build) = build {
        pom.final_name = text_of(build, "finalName");
        pom.main_class = build
            .descendants()
            .filter(|n| n.is_element() && n.tag_name().name() == "mainClass")
            .find_map(|n| n.text().map(|t| t.trim().to_string()))
            .filter(|t| !t.is_empty());
        // `<release>` (or `<source>`) in the compiler plugin's configuration.
        if let Some(plugins) = element(build, "plugins") {
            for plugin in plugins.children().filter(|c| c.is_element()) {
                if text_of(plugin, "artifactId").as_deref() == Some("maven-compiler-plugin")
                    && let Some(config) = element(plugin, "configuration")
                {
                    pom.compiler_release =
                        text_of(config, "release").or_else(|| text_of(config, "source"));
                }
            }
        }
    }
    Some(pom)
}

fn load_pom(tree: &RepoTree, dir: &str) -> Option<Pom> {
    let path = join(dir, "pom.xml");
    parse_pom(&tree.read_text(&path)?, &path)
}

/// The in-repository parent poms of `pom` (nearest first), followed through `<relativePath>`.
fn parent_chain(tree: &RepoTree, dir: &str, pom: &Pom) -> Vec<Pom> {
    let mut chain = Vec::new();
    let mut current_dir = dir.to_string();
    let mut parent = pom.parent.clone();
    let mut relative = pom.parent_relative_path.clone();
    while let Some(p) = parent {
        if chain.len() >= MAX_DEPTH {
            break;
        }
        let rel = relative.unwrap_or_else(|| "../pom.xml".to_string());
        if rel.is_empty() {
            break;
        }
        let rel = rel.trim_end_matches("pom.xml").trim_end_matches('/');
        let Some(pdir) = tree::resolve(&current_dir, rel) else {
            break;
        };
        let Some(found) = load_pom(tree, &pdir) else {
            break;
        };
        if found.artifact_id.as_deref() != Some(p.artifact.as_str()) {
            break;
        }
        parent = found.parent.clone();
        relative = found.parent_relative_path.clone();
        current_dir = pdir;
        chain.push(found);
    }
    chain
}

/// Replaces `${name}` references from `props`, a few rounds deep; unknown references stay.
fn interpolate(value: &str, props: &BTreeMap<String, String>) -> String {
    let mut out = value.to_string();
    for _ in 0..5 {
        if !out.contains("${") {
            break;
        }
        let mut next = String::new();
        let mut rest = out.as_str();
        while let Some(start) = rest.find("${") {
            next.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            match after.find('}') {
                Some(end) => {
                    let key = &after[..end];
                    match props.get(key) {
                        Some(v) => next.push_str(v),
                        None => {
                            next.push_str("${");
                            next.push_str(key);
                            next.push('}');
                        }
                    }
                    rest = &after[end + 1..];
                }
                None => {
                    next.push_str(&rest[start..]);
                    rest = "";
                }
            }
        }
        next.push_str(rest);
        if next == out {
            break;
        }
        out = next;
    }
    out
}

/// Everything a module sees through inheritance: properties (with where each is declared), plugins
/// and dependencies of its in-repository parents and itself.
struct EffectivePom<'a> {
    pom: &'a Pom,
    chain: &'a [Pom],
    properties: BTreeMap<String, String>,
    property_source: BTreeMap<String, String>,
}

impl<'a> EffectivePom<'a> {
    fn new(pom: &'a Pom, chain: &'a [Pom]) -> Self {
        let mut properties = BTreeMap::new();
        let mut property_source = BTreeMap::new();
        for p in chain.iter().rev().chain(std::iter::once(pom)) {
            for (k, v) in &p.properties {
                properties.insert(k.clone(), v.clone());
                property_source.insert(k.clone(), p.path.clone());
            }
        }
        let version = pom
            .version
            .clone()
            .or_else(|| pom.parent.as_ref().and_then(|p| p.version.clone()));
        let group = pom
            .group_id
            .clone()
            .or_else(|| pom.parent.as_ref().map(|p| p.group.clone()));
        for (key, value) in [
            ("project.artifactId", pom.artifact_id.clone()),
            ("artifactId", pom.artifact_id.clone()),
            ("project.version", version.clone()),
            ("version", version),
            ("project.groupId", group),
            (
                "project.parent.version",
                pom.parent.as_ref().and_then(|p| p.version.clone()),
            ),
        ] {
            if let Some(v) = value {
                properties.entry(key.to_string()).or_insert(v);
            }
        }
        EffectivePom {
            pom,
            chain,
            properties,
            property_source,
        }
    }

    fn resolve(&self, value: &str) -> String {
        interpolate(value, &self.properties)
    }

    fn all(&self) -> impl Iterator<Item = &Pom> {
        std::iter::once(self.pom).chain(self.chain.iter())
    }

    fn plugin(&self, artifact: &str) -> Option<&Coord> {
        self.all()
            .flat_map(|p| p.plugins.iter())
            .find(|c| c.artifact == artifact)
    }

    fn depends_on(&self, pred: impl Fn(&Coord) -> bool) -> bool {
        self.all().flat_map(|p| p.dependencies.iter()).any(pred)
    }

    /// The Spring Boot version from the parent pom, the imported BOM or the plugin.
    fn spring_boot_version(&self) -> Option<String> {
        let from_parent = std::iter::once(self.pom)
            .chain(self.chain.iter())
            .filter_map(|p| p.parent.as_ref())
            .find(|c| c.artifact == "spring-boot-starter-parent")
            .and_then(|c| c.version.clone());
        let from_bom = self
            .all()
            .flat_map(|p| p.managed.iter())
            .find(|c| c.artifact == "spring-boot-dependencies")
            .and_then(|c| c.version.clone());
        let from_plugin = self
            .plugin("spring-boot-maven-plugin")
            .and_then(|c| c.version.clone());
        from_parent
            .or(from_bom)
            .or(from_plugin)
            .map(|v| self.resolve(&v))
            .filter(|v| !v.contains("${"))
    }

    /// The Java version the build targets, with the pom that declares it.
    fn java_version(&self) -> Option<(String, String)> {
        for key in [
            "maven.compiler.release",
            "java.version",
            "maven.compiler.source",
            "maven.compiler.target",
        ] {
            if let Some(raw) = self.properties.get(key)
                && let Some(v) = normalize_java_version(&self.resolve(raw))
            {
                let source = self
                    .property_source
                    .get(key)
                    .cloned()
                    .unwrap_or_else(|| self.pom.path.clone());
                return Some((v, source));
            }
        }
        self.all().find_map(|p| {
            let raw = p.compiler_release.as_ref()?;
            normalize_java_version(&self.resolve(raw)).map(|v| (v, p.path.clone()))
        })
    }
}

fn maven_detection(tree: &RepoTree, dir: &str) -> Detection {
    let mut detection = Detection::default();
    let Some(pom) = load_pom(tree, dir) else {
        return detection;
    };
    let wrapper = tree.exists(&join(dir, "mvnw"));
    let mut module_dirs = Vec::new();
    collect_modules(tree, dir, &pom, 0, &mut module_dirs);
    let multi_module = !module_dirs.is_empty();

    let mut manifests: Vec<String> = Vec::new();
    if wrapper {
        manifests.push("mvnw".to_string());
        if tree.exists(&join(dir, ".mvn/wrapper/maven-wrapper.properties")) {
            manifests.push(".mvn/wrapper/maven-wrapper.properties".to_string());
        }
    }
    manifests.push("pom.xml".to_string());
    for m in &module_dirs {
        manifests.push(join(relative_to(m, dir), "pom.xml"));
    }

    let mut candidates: Vec<(String, Pom)> = Vec::new();
    if pom.packaging.as_deref().unwrap_or("jar") != "pom" {
        candidates.push((dir.to_string(), pom));
    }
    for m in &module_dirs {
        detection.claimed.push(m.clone());
        if let Some(p) = load_pom(tree, m) {
            candidates.push((m.clone(), p));
        }
    }
    for (module_dir, pom) in candidates {
        let chain = parent_chain(tree, &module_dir, &pom);
        if let Some(app) = maven_app(
            tree,
            dir,
            &module_dir,
            &pom,
            &chain,
            wrapper,
            multi_module,
            &manifests,
        ) {
            detection.services.push(service_of(tree, app));
        }
    }
    detection
}

/// The module folders of a reactor (nested reactors included), relative to the repository.
fn collect_modules(tree: &RepoTree, dir: &str, pom: &Pom, depth: usize, out: &mut Vec<String>) {
    if depth >= MAX_DEPTH {
        return;
    }
    for m in &pom.modules {
        let rel = m.trim_end_matches("pom.xml").trim_end_matches('/');
        let Some(mdir) = tree::resolve(dir, rel) else {
            continue;
        };
        if mdir == dir || out.contains(&mdir) || !mdir.starts_with(dir) {
            continue;
        }
        if let Some(child) = load_pom(tree, &mdir) {
            out.push(mdir.clone());
            collect_modules(tree, &mdir, &child, depth + 1, out);
        }
    }
}

/// `path` relative to `base` (which contains it).
fn relative_to<'a>(path: &'a str, base: &str) -> &'a str {
    if base.is_empty() {
        path
    } else {
        path.strip_prefix(base)
            .map(|r| r.trim_start_matches('/'))
            .unwrap_or(path)
    }
}

#[allow(clippy::too_many_arguments)]
fn maven_app(
    tree: &RepoTree,
    root: &str,
    module_dir: &str,
    pom: &Pom,
    chain: &[Pom],
    wrapper: bool,
    multi_module: bool,
    manifests: &[String],
) -> Option<JavaApp> {
    let eff = EffectivePom::new(pom, chain);
    let sources = JavaSources::read(tree, module_dir);
    let boot = eff.plugin("spring-boot-maven-plugin").is_some();
    let quarkus = eff.plugin("quarkus-maven-plugin").is_some();
    let micronaut = eff.plugin("micronaut-maven-plugin").is_some()
        || eff.all().any(|p| {
            p.parent
                .as_ref()
                .is_some_and(|c| c.artifact == "micronaut-parent")
        });

    let final_name = pom
        .final_name
        .clone()
        .or_else(|| chain.iter().find_map(|p| p.final_name.clone()))
        .unwrap_or_else(|| "${project.artifactId}-${project.version}".to_string());
    let final_name = eff.resolve(&final_name);
    // An executable Spring Boot war runs with `java -jar` like a jar.
    let war = pom.packaging.as_deref() == Some("war");
    let extension = if war { "war" } else { "jar" };
    let jar = if final_name.contains("${") {
        format!("target/*.{extension}")
    } else {
        format!("target/{final_name}.{extension}")
    };

    let main_class = pom
        .main_class
        .clone()
        .or_else(|| eff.properties.get("exec.mainClass").cloned())
        .map(|m| eff.resolve(&m))
        .filter(|m| !m.contains("${"))
        .or_else(|| sources.main_class.clone());

    let (framework, layout, artifact) = if boot {
        let layout = if war {
            Layout::Jar
        } else {
            spring_boot_layout(eff.spring_boot_version().as_deref())
        };
        (Some("spring-boot"), layout, jar)
    } else if quarkus {
        (
            Some("quarkus"),
            Layout::Quarkus,
            "target/quarkus-app".to_string(),
        )
    } else if micronaut {
        (Some("micronaut"), Layout::Jar, jar)
    } else if eff.plugin("maven-shade-plugin").is_some() && main_class.is_some() {
        (None, Layout::Jar, jar)
    } else if let Some(main_class) = main_class {
        (None, Layout::Classpath { main_class }, jar)
    } else {
        return None;
    };

    let config = AppConfig::read(tree, module_dir);
    let (port, health_path) = port_and_health(
        framework,
        &config,
        &sources,
        eff.depends_on(|c| c.artifact == "spring-boot-starter-actuator"),
        eff.depends_on(|c| c.artifact.contains("smallrye-health")),
        eff.depends_on(|c| c.artifact == "micronaut-management"),
    );
    let lint = if eff.plugin("maven-checkstyle-plugin").is_some() {
        Some("checkstyle:check")
    } else if eff.plugin("spotless-maven-plugin").is_some() {
        Some("spotless:check")
    } else if eff.plugin("maven-pmd-plugin").is_some() {
        Some("pmd:check")
    } else {
        None
    };
    let name = pom
        .artifact_id
        .clone()
        .filter(|a| !a.contains("${"))
        .unwrap_or_else(|| dir_name(tree, module_dir));
    Some(JavaApp {
        name,
        root: root.to_string(),
        module: relative_to(module_dir, root).to_string(),
        project_selector: if relative_to(module_dir, root).is_empty() {
            String::new()
        } else {
            pom.artifact_id
                .clone()
                .filter(|a| !a.contains("${"))
                .map(|a| format!(":{a}"))
                .unwrap_or_else(|| relative_to(module_dir, root).to_string())
        },
        tool: Tool::Maven,
        wrapper,
        framework,
        layout,
        artifact,
        port,
        health_path,
        declared_version: eff.java_version(),
        lint,
        has_tests: has_tests(tree, root),
        manifests: manifests.to_vec(),
        lockfile: None,
        copy_dirs: [".mvn"]
            .iter()
            .filter(|d| tree.is_dir(&join(root, d)))
            .map(|d| d.to_string())
            .collect(),
        multi_module,
    })
}

/// Spring Boot's layered extraction for the version in use: `tools` from 3.3, `layertools` from 2.4
/// (when layered jars became the default); otherwise the fat jar as it is.
fn spring_boot_layout(version: Option<&str>) -> Layout {
    let Some((major, minor)) = version.and_then(major_minor) else {
        return Layout::Jar;
    };
    if (major, minor) >= (3, 3) {
        Layout::BootTools
    } else if (major, minor) >= (3, 2) {
        Layout::BootLayertools {
            launcher: "org.springframework.boot.loader.launch.JarLauncher",
        }
    } else if (major, minor) >= (2, 4) {
        Layout::BootLayertools {
            launcher: "org.springframework.boot.loader.JarLauncher",
        }
    } else {
        Layout::Jar
    }
}

fn major_minor(version: &str) -> Option<(u32, u32)> {
    let mut parts = version.split(|c: char| !c.is_ascii_digit());
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next().and_then(|m| m.parse().ok()).unwrap_or(0);
    Some((major, minor))
}

/// A Java version as an image tag uses it: `1.8` → `8`, `21.0.2-tem` → `21`, `temurin-17` → `17`.
pub fn normalize_java_version(raw: &str) -> Option<String> {
    let start = raw.find(|c: char| c.is_ascii_digit())?;
    // A vendor prefix (`temurin-`, `openjdk-`, `corretto-`) is fine; a `${…}` placeholder is not.
    if raw[..start].contains('$') || raw[..start].contains('{') {
        return None;
    }
    let digits: Vec<&str> = raw[start..]
        .split(|c: char| !c.is_ascii_digit())
        .take(2)
        .collect();
    let mut major: u32 = digits.first()?.parse().ok()?;
    if major == 1 {
        major = digits.get(1)?.parse().ok()?;
    }
    (5..=40).contains(&major).then(|| major.to_string())
}

// ---------------------------------------------------------------------------------------------
// Gradle

static SETTINGS_NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"rootProject\.name\s*=\s*["']([^"']+)["']"#).unwrap());
static INCLUDE_LINE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?m)^\s*include\b\s*\(?(.*)$").unwrap());
static QUOTED: LazyLock<Regex> = LazyLock::new(|| Regex::new(r#"["']([^"']+)["']"#).unwrap());
static INCLUDE_BUILD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"includeBuild\s*\(?\s*["']([\w./-]+)["']"#).unwrap());
static BOOT_PLUGIN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?m)^[^/\n]*(?:id\s*\(?\s*|apply\s*\(?\s*plugin\s*[:=]\s*)["']org\.springframework\.boot["']\s*\)?(.*)$"#).unwrap()
});
static PLUGIN_VERSION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"version\s*\(?\s*["']([^"']+)["']"#).unwrap());
static APPLY_FALSE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\bapply\s*\(?\s*false").unwrap());
static APPLICATION_PLUGIN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?m)(?:\bid\s*\(?\s*["']application["']|^\s*application\s*$|apply\s*\(?\s*plugin\s*[:=]\s*["']application["'])"#).unwrap()
});
static GRADLE_MAIN_CLASS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"\bmainClass(?:Name)?\s*(?:=|\.set\s*\()\s*["']([\w.$]+)["']"#).unwrap()
});
static QUARKUS_PLUGIN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"\bid\s*\(?\s*["']io\.quarkus["']"#).unwrap());
static MICRONAUT_PLUGIN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"["']io\.micronaut\.application["']"#).unwrap());
static TOOLCHAIN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:JavaLanguageVersion\.of\s*\(\s*|jvmToolchain\s*\(\s*)(\d+)").unwrap()
});
static COMPATIBILITY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"\b(?:source|target)Compatibility\s*(?:=|\.set\s*\()\s*(?:JavaVersion\.(?:VERSION_)?([\d_]+)|["']?(\d+(?:\.\d+)?)["']?)"#).unwrap()
});
static GRADLE_CHECKSTYLE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?m)(?:\bid\s*\(?\s*["']checkstyle["']|^\s*checkstyle\s*$)"#).unwrap()
});

/// The text of the first of `names` that exists in `dir`, with its path.
fn first_file(tree: &RepoTree, dir: &str, names: &[&str]) -> Option<(String, String)> {
    names.iter().find_map(|n| {
        let path = join(dir, n);
        tree.read_text(&path).map(|t| (path, t))
    })
}

/// Removes `//` line comments and `/* */` block comments so commented-out plugins do not count.
fn strip_comments(text: &str) -> String {
    static BLOCK: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?s)/\*.*?\*/").unwrap());
    static LINE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?m)(^|\s)//.*$").unwrap());
    LINE.replace_all(&BLOCK.replace_all(text, ""), "$1")
        .into_owned()
}

/// Project folders named by `include` in a settings script, relative to the settings folder.
fn gradle_includes(settings: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in INCLUDE_LINE.captures_iter(settings) {
        for q in QUOTED.captures_iter(&line[1]) {
            let project = q[1].trim_start_matches(':').replace(':', "/");
            if !project.is_empty() && !out.contains(&project) {
                out.push(project);
            }
        }
    }
    out
}

/// The Spring Boot plugin as a build script applies it: (applied here, version if given).
fn boot_plugin(script: &str) -> (bool, Option<String>) {
    let mut applied = false;
    let mut version = None;
    for c in BOOT_PLUGIN.captures_iter(script) {
        let rest = &c[1];
        if let Some(v) = PLUGIN_VERSION.captures(rest) {
            version = Some(v[1].to_string());
        }
        if !APPLY_FALSE.is_match(rest) {
            applied = true;
        }
    }
    (applied, version)
}

/// A Spring Boot plugin declared through a version catalog alias (`alias(libs.plugins.spring.boot)`).
fn catalog_boot_plugin(script: &str, catalog: Option<&str>) -> (bool, Option<String>) {
    let Some(catalog) = catalog else {
        return (false, None);
    };
    let Ok(doc) = catalog.parse::<toml::Table>() else {
        return (false, None);
    };
    let Some(plugins) = doc.get("plugins").and_then(|p| p.as_table()) else {
        return (false, None);
    };
    let versions = doc.get("versions").and_then(|v| v.as_table());
    for (alias, spec) in plugins {
        let (id, version) = match spec {
            toml::Value::String(s) => {
                let (id, v) = s.split_once(':').unwrap_or((s, ""));
                (id.to_string(), (!v.is_empty()).then(|| v.to_string()))
            }
            toml::Value::Table(t) => {
                let id = t.get("id").and_then(|v| v.as_str()).unwrap_or("");
                let version = match t.get("version") {
                    Some(toml::Value::String(s)) => Some(s.clone()),
                    Some(toml::Value::Table(v)) => v
                        .get("ref")
                        .and_then(|r| r.as_str())
                        .and_then(|r| versions?.get(r)?.as_str().map(String::from)),
                    _ => None,
                };
                (id.to_string(), version)
            }
            _ => continue,
        };
        if id != "org.springframework.boot" {
            continue;
        }
        let accessor = format!("libs.plugins.{}", alias.replace(['-', '_'], "."));
        if let Some(line) = script.lines().find(|l| l.contains(&accessor)) {
            return (!APPLY_FALSE.is_match(line), version);
        }
    }
    (false, None)
}

/// The Java version a Gradle script targets: toolchain first, then source/target compatibility.
fn gradle_java_version(script: &str) -> Option<String> {
    if let Some(c) = TOOLCHAIN.captures(script) {
        return normalize_java_version(&c[1]);
    }
    let c = COMPATIBILITY.captures(script)?;
    let raw = c
        .get(1)
        .map(|m| m.as_str().replace('_', "."))
        .or_else(|| c.get(2).map(|m| m.as_str().to_string()))?;
    normalize_java_version(&raw)
}

fn gradle_detection(tree: &RepoTree, dir: &str) -> Detection {
    let mut detection = Detection::default();
    let settings = first_file(tree, dir, &GRADLE_SETTINGS);
    let settings_text = settings
        .as_ref()
        .map(|(_, t)| strip_comments(t))
        .unwrap_or_default();
    let root_script = first_file(tree, dir, &GRADLE_BUILD).map(|(p, t)| (p, strip_comments(&t)));
    let wrapper = tree.exists(&join(dir, "gradlew"));
    let catalog = tree.read_text(&join(dir, "gradle/libs.versions.toml"));
    let root_name = SETTINGS_NAME
        .captures(&settings_text)
        .map(|c| c[1].to_string())
        .unwrap_or_else(|| dir_name(tree, dir));
    let includes: Vec<String> = gradle_includes(&settings_text)
        .into_iter()
        .filter(|p| tree.is_dir(&join(dir, p)))
        .collect();

    let mut manifests: Vec<String> = Vec::new();
    if wrapper {
        manifests.push("gradlew".to_string());
    }
    for f in [
        "gradle/wrapper/gradle-wrapper.properties",
        "gradle/libs.versions.toml",
        "gradle.properties",
    ] {
        if tree.exists(&join(dir, f)) {
            manifests.push(f.to_string());
        }
    }
    if let Some((p, _)) = &settings {
        manifests.push(relative_to(p, dir).to_string());
    }
    if let Some((p, _)) = &root_script {
        manifests.push(relative_to(p, dir).to_string());
    }
    for inc in &includes {
        if let Some((p, _)) = first_file(tree, &join(dir, inc), &GRADLE_BUILD) {
            manifests.push(relative_to(&p, dir).to_string());
        }
    }
    let lockfile = ["gradle.lockfile", "settings-gradle.lockfile"]
        .iter()
        .find(|f| tree.exists(&join(dir, f)))
        .map(|f| f.to_string());
    if let Some(l) = &lockfile {
        manifests.push(l.clone());
    }

    let mut copy_dirs: Vec<String> = ["gradle", "buildSrc"]
        .iter()
        .map(|d| d.to_string())
        .collect();
    for c in INCLUDE_BUILD.captures_iter(&settings_text) {
        copy_dirs.push(c[1].trim_start_matches("./").to_string());
    }
    copy_dirs.retain(|d| tree.is_dir(&join(dir, d)));
    copy_dirs.dedup();

    // Plugin versions may be declared once in the root script or the settings' pluginManagement.
    let root_text = root_script.as_ref().map(|(_, t)| t.as_str()).unwrap_or("");
    let shared_boot_version = boot_plugin(root_text)
        .1
        .or_else(|| boot_plugin(&settings_text).1);

    let mut projects: Vec<(String, String, String)> = Vec::new(); // (module rel, name, gradle path)
    if root_script.is_some() {
        projects.push((String::new(), root_name, String::new()));
    }
    for inc in &includes {
        detection.claimed.push(join(dir, inc));
        let name = inc.rsplit('/').next().unwrap_or(inc).to_string();
        projects.push((inc.clone(), name, format!(":{}", inc.replace('/', ":"))));
    }
    for (module, name, gradle_path) in projects {
        let module_dir = join(dir, &module);
        let Some((script_path, script)) =
            first_file(tree, &module_dir, &GRADLE_BUILD).map(|(p, t)| (p, strip_comments(&t)))
        else {
            continue;
        };
        let app = gradle_app(
            tree,
            GradleProject {
                root: dir,
                module: &module,
                name,
                gradle_path,
                script_path: &script_path,
                script: &script,
                root_script: root_text,
                catalog: catalog.as_deref(),
                shared_boot_version: shared_boot_version.as_deref(),
                wrapper,
                multi_module: !includes.is_empty(),
                manifests: &manifests,
                lockfile: lockfile.clone(),
                copy_dirs: &copy_dirs,
            },
        );
        if let Some(app) = app {
            detection.services.push(service_of(tree, app));
        }
    }
    detection
}

struct GradleProject<'a> {
    root: &'a str,
    module: &'a str,
    name: String,
    gradle_path: String,
    script_path: &'a str,
    script: &'a str,
    root_script: &'a str,
    catalog: Option<&'a str>,
    shared_boot_version: Option<&'a str>,
    wrapper: bool,
    multi_module: bool,
    manifests: &'a [String],
    lockfile: Option<String>,
    copy_dirs: &'a [String],
}

fn gradle_app(tree: &RepoTree, p: GradleProject) -> Option<JavaApp> {
    let module_dir = join(p.root, p.module);
    let sources = JavaSources::read(tree, &module_dir);
    let (mut boot, mut boot_version) = boot_plugin(p.script);
    if !boot {
        (boot, boot_version) = catalog_boot_plugin(p.script, p.catalog);
    }
    let boot_version = boot_version
        .or_else(|| p.shared_boot_version.map(String::from))
        .or_else(|| catalog_boot_plugin(p.root_script, p.catalog).1);
    let quarkus = QUARKUS_PLUGIN.is_match(p.script);
    let micronaut = MICRONAUT_PLUGIN.is_match(p.script);
    let application = APPLICATION_PLUGIN.is_match(p.script) || micronaut;
    let main_class = GRADLE_MAIN_CLASS
        .captures(p.script)
        .map(|c| c[1].to_string())
        .or_else(|| sources.main_class.clone());

    let (framework, layout, artifact) = if boot {
        (
            Some("spring-boot"),
            spring_boot_layout(boot_version.as_deref()),
            "build/libs/*.jar".to_string(),
        )
    } else if quarkus {
        (
            Some("quarkus"),
            Layout::Quarkus,
            "build/quarkus-app".to_string(),
        )
    } else if application && let Some(main_class) = main_class {
        (
            micronaut.then_some("micronaut"),
            Layout::InstallDist { main_class },
            "build/install/*/lib".to_string(),
        )
    } else {
        return None;
    };
    let config = AppConfig::read(tree, &module_dir);
    let (port, health_path) = port_and_health(
        framework,
        &config,
        &sources,
        p.script.contains("spring-boot-starter-actuator"),
        p.script.contains("smallrye-health"),
        p.script.contains("micronaut-management"),
    );
    let declared_version = gradle_java_version(p.script)
        .map(|v| (v, p.script_path.to_string()))
        .or_else(|| {
            let root_path = first_file(tree, p.root, &GRADLE_BUILD)?.0;
            gradle_java_version(p.root_script).map(|v| (v, root_path))
        });
    let lint = if GRADLE_CHECKSTYLE.is_match(p.script) {
        Some("checkstyleMain")
    } else if p.script.contains("com.diffplug.spotless") {
        Some("spotlessCheck")
    } else {
        None
    };
    Some(JavaApp {
        name: p.name,
        root: p.root.to_string(),
        module: p.module.to_string(),
        project_selector: p.gradle_path,
        tool: Tool::Gradle,
        wrapper: p.wrapper,
        framework,
        layout,
        artifact,
        port,
        health_path,
        declared_version,
        lint,
        has_tests: has_tests(tree, p.root),
        manifests: p.manifests.to_vec(),
        lockfile: p.lockfile,
        copy_dirs: p.copy_dirs.to_vec(),
        multi_module: p.multi_module,
    })
}

// ---------------------------------------------------------------------------------------------
// Application sources and configuration

/// What the module's own Java/Kotlin sources say: the class with `main`, ports and routes.
#[derive(Debug, Default)]
struct JavaSources {
    main_class: Option<String>,
    port: Option<u16>,
    health_path: Option<String>,
}

static PACKAGE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?m)^\s*package\s+([\w.]+)\s*;?").unwrap());
static JAVA_MAIN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\bstatic\s+(?:public\s+)?void\s+main\s*\(").unwrap());
static KOTLIN_MAIN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?m)^fun\s+main\s*\(").unwrap());
static CODE_PORT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r#"getOrDefault\(\s*"(?:SERVER_)?PORT"\s*,\s*"(\d{2,5})"\s*\)"#,
        r#"|"(?:SERVER_)?PORT"\s*\)\s*\)?\s*\.orElse\(\s*"(\d{2,5})"\s*\)"#,
        r#"|new\s+InetSocketAddress\(\s*(?:"[^"]*"\s*,\s*)?(\d{2,5})\s*\)"#,
        r#"|\bPORT\s*=\s*(\d{2,5})\b"#,
    ))
    .unwrap()
});
static CODE_HEALTH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?:createContext|get|Get|GetMapping|route)\s*\(\s*(?:value\s*=\s*)?"(/(?:healthz?|health/\w+|ping|livez|readyz|status))""#).unwrap()
});

impl JavaSources {
    fn read(tree: &RepoTree, module_dir: &str) -> Self {
        let mut found = JavaSources::default();
        let mut read = 0;
        for lang_dir in ["src/main/java", "src/main/kotlin"] {
            let base = join(module_dir, lang_dir);
            for f in tree.files_under(&base) {
                let kotlin = f.path.ends_with(".kt");
                if !(f.path.ends_with(".java") || kotlin) {
                    continue;
                }
                if read >= MAX_SOURCES {
                    return found;
                }
                read += 1;
                let Some(text) = tree.read_text(&f.path) else {
                    continue;
                };
                if found.main_class.is_none()
                    && (if kotlin {
                        KOTLIN_MAIN.is_match(&text)
                    } else {
                        JAVA_MAIN.is_match(&text)
                    })
                {
                    let stem = f.path.rsplit('/').next().unwrap_or("");
                    let class = match stem.strip_suffix(".kt") {
                        Some(k) => format!("{}Kt", capitalize(k)),
                        None => stem.trim_end_matches(".java").to_string(),
                    };
                    found.main_class = Some(match PACKAGE.captures(&text) {
                        Some(p) => format!("{}.{class}", &p[1]),
                        None => class,
                    });
                }
                if found.port.is_none()
                    && let Some(c) = CODE_PORT.captures(&text)
                {
                    found.port = (1..=4)
                        .find_map(|i| c.get(i))
                        .and_then(|m| m.as_str().parse().ok());
                }
                if found.health_path.is_none()
                    && let Some(c) = CODE_HEALTH.captures(&text)
                {
                    found.health_path = Some(c[1].to_string());
                }
            }
        }
        found
    }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

/// `src/main/resources/application.{properties,yml,yaml}`: flat `key → value` of the default profile.
#[derive(Debug, Default)]
struct AppConfig {
    values: BTreeMap<String, String>,
}

impl AppConfig {
    fn read(tree: &RepoTree, module_dir: &str) -> Self {
        let mut config = AppConfig::default();
        let resources = join(module_dir, "src/main/resources");
        for name in ["application.yml", "application.yaml"] {
            if let Some(text) = tree.read_text(&join(&resources, name)) {
                for (k, v) in flatten_yaml(&text) {
                    config.values.entry(k).or_insert(v);
                }
            }
        }
        // Properties win over YAML, as in Spring Boot when both exist.
        if let Some(text) = tree.read_text(&join(&resources, "application.properties")) {
            for line in text.lines() {
                let line = line.trim();
                // A multi-document file: later documents belong to profiles.
                if line.starts_with("#---") || line.starts_with("!---") {
                    break;
                }
                if line.starts_with('#') || line.starts_with('!') {
                    continue;
                }
                if let Some((k, v)) = line.split_once(['=', ':']) {
                    config
                        .values
                        .insert(k.trim().to_string(), v.trim().to_string());
                }
            }
        }
        config
    }

    fn port(&self, key: &str) -> Option<u16> {
        config_port(self.values.get(key)?)
    }
}

/// A port value: `8081`, or the default of a `${PORT:8081}` placeholder.
fn config_port(value: &str) -> Option<u16> {
    let value = value.trim().trim_matches(['"', '\'']);
    if let Ok(p) = value.parse() {
        return Some(p);
    }
    let inner = value.strip_prefix("${")?.strip_suffix('}')?;
    let (_, default) = inner.split_once(':')?;
    config_port(default)
}

/// The scalar keys of the first YAML document, flattened to dotted paths (`server.port`). Lists and
/// multi-line values are skipped: only ports and paths are looked up.
fn flatten_yaml(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stack: Vec<(usize, String)> = Vec::new();
    let mut seen_content = false;
    for raw in text.lines() {
        let trimmed = raw.trim_end();
        if trimmed.starts_with("---") {
            if seen_content {
                break;
            }
            continue;
        }
        let content = trimmed.trim_start();
        if content.is_empty() || content.starts_with('#') || content.starts_with('-') {
            continue;
        }
        seen_content = true;
        let indent = trimmed.len() - content.len();
        let Some((key, value)) = content.split_once(':') else {
            continue;
        };
        while stack.last().is_some_and(|(i, _)| *i >= indent) {
            stack.pop();
        }
        let key = key.trim().trim_matches(['"', '\'']);
        let value = value.split(" #").next().unwrap_or("").trim();
        let mut path: Vec<&str> = stack.iter().map(|(_, k)| k.as_str()).collect();
        path.push(key);
        if value.is_empty() {
            stack.push((indent, key.to_string()));
        } else {
            out.push((path.join("."), value.to_string()));
        }
    }
    out
}

fn port_and_health(
    framework: Option<&str>,
    config: &AppConfig,
    sources: &JavaSources,
    actuator: bool,
    smallrye_health: bool,
    micronaut_management: bool,
) -> (Option<u16>, Option<String>) {
    match framework {
        Some("spring-boot") => {
            let port = config.port("server.port").or(Some(8080));
            let health = actuator.then(|| {
                let base = config
                    .values
                    .get("management.endpoints.web.base-path")
                    .map(|b| {
                        b.trim_matches(['"', '\''])
                            .trim_end_matches('/')
                            .to_string()
                    })
                    .filter(|b| b.starts_with('/'))
                    .unwrap_or_else(|| "/actuator".to_string());
                format!("{base}/health")
            });
            // A separate management port is not the service port: the check would miss it.
            let health = if config.values.contains_key("management.server.port") {
                None
            } else {
                health
            };
            (port, health)
        }
        Some("quarkus") => (
            config.port("quarkus.http.port").or(Some(8080)),
            smallrye_health.then(|| "/q/health".to_string()),
        ),
        Some("micronaut") => (
            config.port("micronaut.server.port").or(Some(8080)),
            micronaut_management.then(|| "/health".to_string()),
        ),
        _ => (sources.port, sources.health_path.clone()),
    }
}

fn has_tests(tree: &RepoTree, root: &str) -> bool {
    tree.files_under(root).any(|f| {
        let rel = relative_to(&f.path, root);
        rel.starts_with("src/test/") || rel.contains("/src/test/")
    })
}

// ---------------------------------------------------------------------------------------------
// From an app to a service

/// A Java version from `.java-version`, `.sdkmanrc` (`java=21.0.2-tem`), `.tool-versions` or `mise.toml`.
fn version_file(tree: &RepoTree, dirs: &[&str]) -> Option<(String, String)> {
    for dir in dirs {
        let path = join(dir, ".java-version");
        if let Some(v) = tree
            .read_text(&path)
            .and_then(|t| t.lines().next().and_then(normalize_java_version))
        {
            return Some((v, path));
        }
        let path = join(dir, ".sdkmanrc");
        if let Some(text) = tree.read_text(&path) {
            for line in text.lines() {
                if let Some(v) = line.trim().strip_prefix("java=")
                    && let Some(v) = normalize_java_version(v)
                {
                    return Some((v, path));
                }
            }
        }
    }
    let declared = tool_version(tree, dirs.first().copied().unwrap_or(""), &["java"])?;
    normalize_java_version(&declared.version).map(|v| (v, declared.source))
}

fn service_of(tree: &RepoTree, app: JavaApp) -> Service {
    let dir = join(&app.root, &app.module);
    let (package_manager, wrapper_cmd, plain_cmd) = match app.tool {
        Tool::Maven => (PackageManager::Maven, "./mvnw", "mvn"),
        Tool::Gradle => (PackageManager::Gradle, "./gradlew", "gradle"),
    };
    let mut s = Service::new(
        app.name.clone(),
        service_path(&dir),
        Ecosystem::Java,
        package_manager,
    );
    s.framework = app.framework.map(String::from);
    let version = version_file(tree, &[dir.as_str(), app.root.as_str()]).or(app.declared_version);
    if let Some((v, source)) = &version {
        s.runtime_version = Some(v.clone());
        s.runtime_version_source = Some(source.clone());
    }
    let v = version
        .map(|(v, _)| v)
        .unwrap_or_else(|| DEFAULT_JAVA.to_string());
    s.port = app.port;
    // The path goes into the image's health check command: only plain URL path characters.
    s.health_path = app.health_path.clone().filter(|p| {
        p.starts_with('/')
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || "/-_.~".contains(c))
    });

    // Commands for CI and developers run in the service folder (installing runs in the build root);
    // the image build runs in the build root. A module reaches the root's wrapper and reactor pom.
    let up = "../".repeat(if app.module.is_empty() {
        0
    } else {
        app.module.split('/').count()
    });
    let root_cmd = if app.wrapper { wrapper_cmd } else { plain_cmd };
    let user_cmd = match (app.wrapper, up.is_empty()) {
        (true, false) => format!("{up}{}", wrapper_cmd.trim_start_matches("./")),
        _ => root_cmd.to_string(),
    };
    let image_cmd = if app.wrapper {
        format!("sh {wrapper_cmd}")
    } else {
        plain_cmd.to_string()
    };
    let module_prefix = if app.module.is_empty() {
        String::new()
    } else {
        format!("{}/", app.module)
    };
    let artifact = format!("{module_prefix}{}", app.artifact);

    // (image build arguments, build, install, test and lint commands)
    let (package_args, build, install, test, lint) = match app.tool {
        Tool::Maven => {
            let (select, reactor) = if app.module.is_empty() {
                (String::new(), String::new())
            } else {
                (
                    format!(" -pl {} -am", app.project_selector),
                    format!(" -f {up}pom.xml -pl {} -am", app.project_selector),
                )
            };
            let extra = if matches!(app.layout, Layout::Classpath { .. }) {
                " dependency:copy-dependencies -DincludeScope=runtime"
            } else {
                ""
            };
            (
                format!("-B -ntp package{extra} -DskipTests{select}"),
                format!("{user_cmd} -B package -DskipTests{reactor}"),
                // A reactor cannot resolve its own modules before building them: no separate step.
                (!app.multi_module).then(|| format!("{root_cmd} -B -ntp dependency:go-offline")),
                format!("{user_cmd} -B -ntp verify{reactor}"),
                app.lint.map(|l| format!("{user_cmd} -B -ntp {l}{reactor}")),
            )
        }
        Tool::Gradle => {
            let task = match app.layout {
                Layout::BootTools | Layout::BootLayertools { .. } | Layout::Jar => "bootJar",
                Layout::InstallDist { .. } | Layout::Classpath { .. } => "installDist",
                Layout::Quarkus => "quarkusBuild",
            };
            // Gradle runs the tasks of the project whose folder it is started in.
            (
                if app.project_selector.is_empty() {
                    format!("--no-daemon {task}")
                } else {
                    format!("--no-daemon {}:{task}", app.project_selector)
                },
                format!("{user_cmd} --no-daemon {task}"),
                Some(format!("{root_cmd} --no-daemon dependencies")),
                format!("{user_cmd} --no-daemon check"),
                app.lint.map(|l| format!("{user_cmd} --no-daemon {l}")),
            )
        }
    };
    s.build_command = Some(build);
    let own = &app.artifact;
    s.start_command = Some(match &app.layout {
        Layout::Classpath { main_class } => {
            format!("java -cp '{own}:target/dependency/*' {main_class}")
        }
        Layout::InstallDist { main_class } => format!("java -cp '{own}/*' {main_class}"),
        Layout::Quarkus => format!("java -jar {own}/quarkus-run.jar"),
        _ => format!("java -jar {own}"),
    });
    let args: Vec<String> = match &app.layout {
        Layout::BootTools | Layout::Jar => vec!["-jar".into(), "app.jar".into()],
        Layout::BootLayertools { launcher } => vec![launcher.to_string()],
        Layout::Classpath { main_class } => {
            vec!["-cp".into(), "app.jar:lib/*".into(), main_class.clone()]
        }
        Layout::InstallDist { main_class } => {
            vec!["-cp".into(), "lib/*".into(), main_class.clone()]
        }
        Layout::Quarkus => vec!["-jar".into(), "quarkus-run.jar".into()],
    };
    // The heap follows the container's memory limit rather than the host's.
    let cmd: Vec<String> = ["java", "-XX:MaxRAMPercentage=75"]
        .into_iter()
        .map(String::from)
        .chain(args)
        .collect();

    s.fact("build_context", service_path(&app.root));
    s.fact("service_in_context", module_prefix.clone());
    s.fact("manifests", app.manifests.clone());
    if let Some(l) = &app.lockfile {
        s.fact("lockfile", l.clone());
    }
    if let Some(install) = &install {
        s.fact("install_command", install.clone());
    }
    if app.has_tests {
        s.fact("test_command", test);
    }
    if let Some(l) = lint {
        s.fact("lint_command", l);
    }
    let build_image = match (app.tool, app.wrapper) {
        (_, true) => format!("eclipse-temurin:{v}-jdk-noble"),
        (Tool::Maven, false) => format!("maven:3.9-eclipse-temurin-{v}-noble"),
        // Gradle 9 is the first to run on Java 25; older projects stay on Gradle 8.
        (Tool::Gradle, false) => {
            let gradle = if v.parse::<u32>().unwrap_or(0) >= 25 {
                9
            } else {
                8
            };
            format!("gradle:{gradle}-jdk{v}-noble")
        }
    };
    s.fact("build_image", build_image);
    s.fact("runtime_image", format!("eclipse-temurin:{v}-jre-noble"));
    s.fact("java_version", v);
    s.fact("default_runtime_version", DEFAULT_JAVA);
    s.fact("build_tool", image_cmd);
    s.fact("package_args", package_args);
    if !app.multi_module {
        s.fact(
            "go_offline",
            match app.tool {
                Tool::Maven => "-B -ntp dependency:go-offline",
                Tool::Gradle => "--no-daemon dependencies",
            },
        );
        let mut copies: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for d in &app.copy_dirs {
            copies.insert(format!("{d}/"), vec![format!("{d}/")]);
        }
        for m in &app.manifests {
            if app
                .copy_dirs
                .iter()
                .any(|d| m.starts_with(&format!("{d}/")))
            {
                continue;
            }
            let dest = match m.rsplit_once('/') {
                Some((d, _)) => format!("{d}/"),
                None => "./".to_string(),
            };
            copies.entry(dest).or_default().push(m.clone());
        }
        let lines: Vec<String> = copies
            .into_iter()
            .map(|(dest, files)| format!("{} {dest}", files.join(" ")))
            .collect();
        s.fact("dependency_copies", lines);
    }
    s.fact(
        "cache_dir",
        match app.tool {
            Tool::Maven => "/root/.m2",
            Tool::Gradle => "/root/.gradle",
        },
    );
    let layout = match &app.layout {
        Layout::BootTools => "boot-tools",
        Layout::BootLayertools { launcher } => {
            s.fact("launcher", *launcher);
            "boot-layertools"
        }
        Layout::Jar => "jar",
        Layout::Classpath { main_class } => {
            s.fact("main_class", main_class.clone());
            s.fact(
                "dependency_dir",
                format!("{module_prefix}target/dependency"),
            );
            "classpath"
        }
        Layout::InstallDist { main_class } => {
            s.fact("main_class", main_class.clone());
            "install-dist"
        }
        Layout::Quarkus => "quarkus",
    };
    s.fact("layout", layout);
    s.fact("artifact", artifact);
    s.fact("cmd", cmd);
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::tree::tree_of;

    #[test]
    fn gradle_multi_project_serves_the_boot_module() {
        let (_dir, tree) = tree_of(&[
            (
                "settings.gradle.kts",
                "rootProject.name = \"shop\"\ninclude(\"api\", \"lib\")\n",
            ),
            (
                "build.gradle.kts",
                "plugins {\n  id(\"org.springframework.boot\") version \"3.3.2\" apply false\n}\n",
            ),
            (
                "api/build.gradle.kts",
                "plugins {\n  java\n  id(\"org.springframework.boot\")\n}\ndependencies { implementation(project(\":lib\")) }\n",
            ),
            ("api/src/main/java/a/Api.java", "package a; class Api {}"),
            ("lib/build.gradle.kts", "plugins { `java-library` }\n"),
            ("gradlew", "#!/bin/sh\n"),
        ]);
        let found = Java.detect(&tree, "").unwrap();
        assert_eq!(found.services.len(), 1);
        let s = &found.services[0];
        assert_eq!(s.path, "api");
        assert_eq!(s.facts["package_args"], "--no-daemon :api:bootJar");
        assert_eq!(s.facts["artifact"], "api/build/libs/*.jar");
        assert_eq!(s.facts["layout"], "boot-tools");
        assert_eq!(
            s.build_command.as_deref(),
            Some("../gradlew --no-daemon bootJar")
        );
        assert_eq!(found.claimed, vec!["api", "lib"]);
    }

    #[test]
    fn version_files_win_over_the_build_file() {
        let pom = r#"<project><artifactId>a</artifactId><version>1</version>
<properties><maven.compiler.release>17</maven.compiler.release></properties>
<build><plugins><plugin><artifactId>maven-jar-plugin</artifactId><configuration><archive><manifest>
<mainClass>a.Main</mainClass></manifest></archive></configuration></plugin></plugins></build></project>"#;
        let (_dir, tree) = tree_of(&[
            ("pom.xml", pom),
            (".tool-versions", "java temurin-21.0.5+11.0.LTS\n"),
        ]);
        let s = &Java.detect(&tree, "").unwrap().services[0];
        assert_eq!(s.runtime_version.as_deref(), Some("21"));
        assert_eq!(s.runtime_version_source.as_deref(), Some(".tool-versions"));
        assert_eq!(s.facts["layout"], "classpath");
        let (_dir, tree) = tree_of(&[("pom.xml", pom)]);
        let s = &Java.detect(&tree, "").unwrap().services[0];
        assert_eq!(s.runtime_version.as_deref(), Some("17"));
        assert_eq!(s.port, None);
    }

    #[test]
    fn profile_documents_do_not_change_the_default_port() {
        let (_dir, tree) = tree_of(&[(
            "src/main/resources/application.properties",
            "server.port=${PORT:8085}\n# comment\n#---\nspring.config.activate.on-profile=dev\nserver.port=9999\n",
        )]);
        let config = AppConfig::read(&tree, "");
        assert_eq!(config.port("server.port"), Some(8085));
    }

    #[test]
    fn quarkus_and_micronaut_services() {
        let (_dir, tree) = tree_of(&[
            (
                "pom.xml",
                r#"<project><artifactId>q</artifactId><version>1</version>
<dependencies><dependency><groupId>io.quarkus</groupId><artifactId>quarkus-smallrye-health</artifactId></dependency></dependencies>
<build><plugins><plugin><groupId>io.quarkus.platform</groupId><artifactId>quarkus-maven-plugin</artifactId></plugin></plugins></build></project>"#,
            ),
            (
                "src/main/resources/application.properties",
                "quarkus.http.port=8090\n",
            ),
        ]);
        let s = &Java.detect(&tree, "").unwrap().services[0];
        assert_eq!(s.framework.as_deref(), Some("quarkus"));
        assert_eq!(
            (s.port, s.health_path.as_deref()),
            (Some(8090), Some("/q/health"))
        );
        assert_eq!(s.facts["artifact"], "target/quarkus-app");

        let (_dir, tree) = tree_of(&[(
            "build.gradle.kts",
            "plugins {\n  id(\"io.micronaut.application\") version \"4.4.4\"\n}\napplication { mainClass = \"demo.Application\" }\ndependencies { implementation(\"io.micronaut:micronaut-management\") }\n",
        )]);
        let s = &Java.detect(&tree, "").unwrap().services[0];
        assert_eq!(s.framework.as_deref(), Some("micronaut"));
        assert_eq!(s.facts["layout"], "install-dist");
        assert_eq!(s.facts["main_class"], "demo.Application");
        assert_eq!(
            (s.port, s.health_path.as_deref()),
            (Some(8080), Some("/health"))
        );
    }

    #[test]
    fn a_library_or_a_broken_pom_is_no_service() {
        let (_dir, tree) = tree_of(&[(
            "pom.xml",
            "<project><artifactId>util</artifactId><version>1</version></project>",
        )]);
        assert!(Java.detect(&tree, "").unwrap().services.is_empty());
        let (_dir, tree) = tree_of(&[("pom.xml", "<project><artifactId>util</artifact")]);
        assert!(Java.detect(&tree, "").unwrap().services.is_empty());
    }

    #[test]
    fn java_versions_normalise_to_the_major_release() {
        for (raw, want) in [
            ("1.8", Some("8")),
            ("17", Some("17")),
            ("21.0.2-tem", Some("21")),
            ("temurin-21.0.2+13.0.LTS", Some("21")),
            ("corretto-17.0.9", Some("17")),
            ("11.0.22", Some("11")),
            ("${java.version}", None),
            ("latest", None),
            ("", None),
        ] {
            assert_eq!(normalize_java_version(raw).as_deref(), want, "{raw}");
        }
    }

    #[test]
    fn pom_properties_resolve_through_placeholders() {
        let pom = parse_pom(
            r#"<?xml version="1.0"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <artifactId>shop</artifactId>
  <version>${revision}</version>
  <properties>
    <revision>1.4.0</revision>
    <jdk>17</jdk>
    <maven.compiler.release>${jdk}</maven.compiler.release>
  </properties>
</project>"#,
            "pom.xml",
        )
        .unwrap();
        let eff = EffectivePom::new(&pom, &[]);
        assert_eq!(
            eff.java_version(),
            Some(("17".to_string(), "pom.xml".to_string()))
        );
        assert_eq!(
            eff.resolve("${project.artifactId}-${project.version}"),
            "shop-1.4.0"
        );
        assert_eq!(eff.resolve("${missing}"), "${missing}");
    }

    #[test]
    fn compiler_plugin_release_counts_when_no_property_does() {
        let pom = parse_pom(
            r#"<project><artifactId>a</artifactId><build><plugins><plugin>
<artifactId>maven-compiler-plugin</artifactId><configuration><release>11</release></configuration>
</plugin></plugins></build></project>"#,
            "a/pom.xml",
        )
        .unwrap();
        assert_eq!(
            EffectivePom::new(&pom, &[]).java_version(),
            Some(("11".to_string(), "a/pom.xml".to_string()))
        );
    }

    #[test]
    fn malformed_poms_are_unknown_not_a_panic() {
        assert!(parse_pom("<project><artifactId>x</artifactId>", "pom.xml").is_none());
        assert!(parse_pom("", "pom.xml").is_none());
        assert!(parse_pom("<settings/>", "pom.xml").is_none());
    }

    #[test]
    fn gradle_toolchain_forms() {
        for (script, want) in [
            (
                "java { toolchain { languageVersion = JavaLanguageVersion.of(21) } }",
                Some("21"),
            ),
            (
                "java { toolchain { languageVersion.set(JavaLanguageVersion.of(17)) } }",
                Some("17"),
            ),
            ("kotlin { jvmToolchain(21) }", Some("21")),
            ("sourceCompatibility = JavaVersion.VERSION_17", Some("17")),
            (
                "java.sourceCompatibility = JavaVersion.VERSION_1_8",
                Some("8"),
            ),
            ("sourceCompatibility = '11'", Some("11")),
            ("sourceCompatibility = 1.8", Some("8")),
            ("dependencies { }", None),
        ] {
            assert_eq!(gradle_java_version(script).as_deref(), want, "{script}");
        }
    }

    #[test]
    fn spring_boot_plugin_declarations() {
        assert_eq!(
            boot_plugin("plugins {\n id 'org.springframework.boot' version '3.3.4'\n}"),
            (true, Some("3.3.4".to_string()))
        );
        assert_eq!(
            boot_plugin(
                "plugins {\n id(\"org.springframework.boot\") version \"3.2.0\" apply false\n}"
            ),
            (false, Some("3.2.0".to_string()))
        );
        assert_eq!(
            boot_plugin("apply plugin: 'org.springframework.boot'"),
            (true, None)
        );
        let catalog = "[versions]\nboot = \"3.4.1\"\n[plugins]\nspring-boot = { id = \"org.springframework.boot\", version.ref = \"boot\" }\n";
        assert_eq!(
            catalog_boot_plugin("plugins { alias(libs.plugins.spring.boot) }", Some(catalog)),
            (true, Some("3.4.1".to_string()))
        );
    }

    #[test]
    fn settings_includes_become_folders() {
        assert_eq!(
            gradle_includes(
                "rootProject.name = 'x'\ninclude 'api', ':libs:core'\ninclude(\":web\")"
            ),
            vec!["api", "libs/core", "web"]
        );
    }

    #[test]
    fn yaml_and_placeholder_ports() {
        let flat = flatten_yaml(
            "spring:\n  application:\n    name: x\nserver:\n  port: ${PORT:8081}\n---\nserver:\n  port: 9999\n",
        );
        assert!(flat.contains(&("server.port".to_string(), "${PORT:8081}".to_string())));
        assert!(!flat.iter().any(|(_, v)| v == "9999"));
        assert_eq!(config_port("${PORT:8081}"), Some(8081));
        assert_eq!(config_port("${PORT}"), None);
        assert_eq!(config_port("9000"), Some(9000));
    }

    #[test]
    fn spring_boot_versions_choose_the_extraction() {
        assert_eq!(spring_boot_layout(Some("3.3.4")), Layout::BootTools);
        assert_eq!(
            spring_boot_layout(Some("3.2.1")),
            Layout::BootLayertools {
                launcher: "org.springframework.boot.loader.launch.JarLauncher"
            }
        );
        assert_eq!(
            spring_boot_layout(Some("2.7.18")),
            Layout::BootLayertools {
                launcher: "org.springframework.boot.loader.JarLauncher"
            }
        );
        assert_eq!(spring_boot_layout(Some("2.3.0")), Layout::Jar);
        assert_eq!(spring_boot_layout(None), Layout::Jar);
    }
}
