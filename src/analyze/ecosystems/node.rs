//! The node ecosystem: `package.json` projects (npm, yarn classic and berry, pnpm, bun), their
//! frameworks, and npm/yarn/pnpm/nx/turborepo workspaces.
//!
//! Facts set besides the shared contract (FACTS.md): `default_runtime_version`, `package_manager_version`,
//! `yarn_flavour` (`classic`/`berry`), `serve` (`node`: a server process; `static`: built files served
//! by a static web server), `static_dir` (built files, relative to the service), `next_standalone`,
//! `has_public`, `cmd` (the exec-form start command), `start_env` (`[name, value]` pairs the start
//! script set), `manifest_copies` (`{dir, files}` groups to copy before the install), `docker_install`,
//! `build_steps` (`{dir, command}` in dependency order, run from the build context), `prune_command`,
//! `cache_dir`, `bin_path` (the `node_modules/.bin` folders for `PATH`), `pm_setup` (makes the package
//! manager available in the build stage), `runtime_user`, `bun_version`, `husky` (git hooks to switch
//! off in the image build).

use super::{Detection, Detector, dir_name, service_path, version};
use crate::analyze::tree::{RepoTree, join, relative_to};
use crate::profile::{Ecosystem, PackageManager, Service};
use regex::Regex;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::sync::LazyLock;

/// Node's active LTS line when the repository declares no version (Node 24 "Krypton", LTS since
/// October 2025). Also what `lts/*` and open ranges such as `>=18` resolve to.
pub const DEFAULT_NODE: &str = "24";

/// corepack installed in Node 25+ images, which no longer bundle it.
const COREPACK_VERSION: &str = "0.36.0";
/// yarn 1 (frozen since 2024) installed in Node 26+ images, which no longer bundle it.
const YARN_CLASSIC_VERSION: &str = "1.22.22";

pub struct Node;

impl Detector for Node {
    fn detect(&self, tree: &RepoTree, dir: &str) -> Option<Detection> {
        let pkg = Package::read(tree, dir)?;
        if let Some(globs) = workspace_globs(tree, dir, &pkg) {
            return Some(detect_workspace(tree, dir, &pkg, &globs));
        }
        let tooling = Tooling::of(tree, dir, &pkg);
        let workspace = Workspace::single(tree, dir, &pkg, &tooling);
        // A package that deploys nothing (a library, a root holding only dev tooling) is left to the
        // other detectors and claims nothing.
        let service = service_for(tree, &pkg, &workspace)?;
        Some(Detection {
            services: vec![service],
            claimed: Vec::new(),
        })
    }
}

/// A parsed `package.json`.
#[derive(Debug, Clone)]
pub(crate) struct Package {
    dir: String,
    json: Map<String, Value>,
}

impl Package {
    /// None when the file is missing, malformed or not a JSON object.
    fn read(tree: &RepoTree, dir: &str) -> Option<Package> {
        let text = tree.read_text(&join(dir, "package.json"))?;
        Package::parse(dir, &text)
    }

    fn parse(dir: &str, text: &str) -> Option<Package> {
        match serde_json::from_str::<Value>(text.trim_start_matches('\u{feff}')) {
            Ok(Value::Object(json)) => Some(Package {
                dir: dir.to_string(),
                json,
            }),
            _ => None,
        }
    }

    fn str_field(&self, key: &str) -> Option<&str> {
        self.json.get(key).and_then(Value::as_str)
    }

    fn name(&self) -> Option<&str> {
        self.str_field("name").filter(|n| !n.trim().is_empty())
    }

    fn script(&self, name: &str) -> Option<&str> {
        self.json
            .get("scripts")?
            .get(name)?
            .as_str()
            .map(str::trim)
            .filter(|s| !s.is_empty())
    }

    fn deps_in<'a>(&'a self, section: &str) -> impl Iterator<Item = &'a str> + 'a {
        self.json
            .get(section)
            .and_then(Value::as_object)
            .into_iter()
            .flat_map(|m| m.keys().map(String::as_str))
    }

    /// Whether `name` is a dependency of any kind (runtime, dev, peer, optional).
    fn has_dep(&self, name: &str) -> bool {
        [
            "dependencies",
            "devDependencies",
            "peerDependencies",
            "optionalDependencies",
        ]
        .iter()
        .any(|s| self.deps_in(s).any(|d| d == name))
    }

    fn all_deps(&self) -> Vec<&str> {
        let mut out: Vec<&str> = ["dependencies", "devDependencies", "optionalDependencies"]
            .iter()
            .flat_map(|s| self.deps_in(s))
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Whether the package installs a command (`bin`): a command-line tool unless it also serves.
    fn has_bin(&self) -> bool {
        self.json.get("bin").is_some_and(|b| !b.is_null())
    }
}

/// Package manager facts, shared by every member of a workspace.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Tooling {
    pub manager: PackageManager,
    /// `classic` (yarn 1) or `berry` (yarn 2+); None for other managers.
    pub yarn_flavour: Option<&'static str>,
    /// From the `packageManager` field (corepack), e.g. `9.1.0`.
    pub manager_version: Option<String>,
    /// Lockfile name in the workspace root folder.
    pub lockfile: Option<String>,
}

const LOCKFILES: &[(&str, PackageManager)] = &[
    ("pnpm-lock.yaml", PackageManager::Pnpm),
    ("bun.lock", PackageManager::Bun),
    ("bun.lockb", PackageManager::Bun),
    ("yarn.lock", PackageManager::Yarn),
    ("package-lock.json", PackageManager::Npm),
    ("npm-shrinkwrap.json", PackageManager::Npm),
];

impl Tooling {
    /// The manager of the package in `dir`: the corepack `packageManager` field first, then lockfiles.
    pub(crate) fn of(tree: &RepoTree, dir: &str, pkg: &Package) -> Tooling {
        let declared = pkg.str_field("packageManager").and_then(|pm| {
            let (name, ver) = pm.split_once('@').unwrap_or((pm, ""));
            let manager = match name.trim() {
                "npm" => PackageManager::Npm,
                "yarn" => PackageManager::Yarn,
                "pnpm" => PackageManager::Pnpm,
                "bun" => PackageManager::Bun,
                _ => return None,
            };
            // `pnpm@9.1.0+sha512.abc…`: the hash is not part of the version.
            let ver = ver.split('+').next().unwrap_or("").trim();
            Some((manager, (!ver.is_empty()).then(|| ver.to_string())))
        });
        let found_lock = LOCKFILES
            .iter()
            .find(|(name, _)| tree.exists(&join(dir, name)));
        let (manager, manager_version) = match (&declared, found_lock) {
            (Some((m, v)), _) => (*m, v.clone()),
            (None, Some((_, m))) => (*m, None),
            (None, None) => (PackageManager::Npm, None),
        };
        let lockfile = LOCKFILES
            .iter()
            .find(|(name, m)| *m == manager && tree.exists(&join(dir, name)))
            .map(|(name, _)| name.to_string());
        let yarn_flavour = (manager == PackageManager::Yarn).then(|| {
            let head = tree
                .read_head(&join(dir, "yarn.lock"))
                .map(|b| String::from_utf8_lossy(&b).into_owned());
            yarn_flavour(
                manager_version.as_deref(),
                tree.exists(&join(dir, ".yarnrc.yml")),
                head.as_deref(),
            )
        });
        Tooling {
            manager,
            yarn_flavour,
            manager_version,
            lockfile,
        }
    }

    fn berry(&self) -> bool {
        self.yarn_flavour == Some("berry")
    }

    /// How a developer or CI installs dependencies reproducibly.
    fn install_command(&self) -> String {
        let locked = self.lockfile.is_some();
        match (self.manager, locked) {
            (PackageManager::Npm, true) => "npm ci".into(),
            (PackageManager::Npm, false) => "npm install".into(),
            (PackageManager::Pnpm, true) => "pnpm install --frozen-lockfile".into(),
            (PackageManager::Pnpm, false) => "pnpm install".into(),
            (PackageManager::Bun, true) => "bun install --frozen-lockfile".into(),
            (PackageManager::Bun, false) => "bun install".into(),
            (_, true) if self.berry() => "yarn install --immutable".into(),
            (_, true) => "yarn install --frozen-lockfile".into(),
            _ => "yarn install".into(),
        }
    }

    /// `npm run build`, `yarn build`, `bun run build`: a package script, run in the package folder.
    fn run(&self, script: &str) -> String {
        match self.manager {
            PackageManager::Yarn => format!("yarn {script}"),
            PackageManager::Pnpm => format!("pnpm {script}"),
            PackageManager::Bun => format!("bun run {script}"),
            _ => format!("npm run {script}"),
        }
    }

    fn test(&self) -> String {
        match self.manager {
            PackageManager::Yarn => "yarn test".into(),
            PackageManager::Pnpm => "pnpm test".into(),
            // `bun test` is bun's own runner, not the package's script.
            PackageManager::Bun => "bun run test".into(),
            _ => "npm test".into(),
        }
    }

    /// Where the manager keeps its download cache in the build container (a BuildKit cache mount).
    fn cache_dir(&self) -> &'static str {
        match self.manager {
            PackageManager::Pnpm => "/root/.local/share/pnpm/store",
            PackageManager::Bun => "/root/.bun/install/cache",
            PackageManager::Yarn if self.berry() => "/root/.yarn/berry/cache",
            PackageManager::Yarn => "/usr/local/share/.cache/yarn",
            _ => "/root/.npm",
        }
    }

    /// Installs production dependencies only, for images that build nothing.
    fn production_install(&self) -> String {
        let locked = self.lockfile.is_some();
        match self.manager {
            PackageManager::Npm if locked => "npm ci --omit=dev".into(),
            PackageManager::Npm => "npm install --omit=dev".into(),
            PackageManager::Pnpm if locked => "pnpm install --frozen-lockfile --prod".into(),
            PackageManager::Pnpm => "pnpm install --prod".into(),
            PackageManager::Bun if locked => "bun install --frozen-lockfile --production".into(),
            PackageManager::Bun => "bun install --production".into(),
            PackageManager::Yarn if self.berry() => {
                "yarn workspaces focus --all --production".into()
            }
            _ if locked => "yarn install --frozen-lockfile --production".into(),
            _ => "yarn install --production".into(),
        }
    }

    /// The build-stage command that makes the package manager available, or `""` when the image
    /// already has it. corepack left Node 25 and yarn 1 left the Node 26 images, so those install
    /// them with npm (pinned).
    /// `tool_pin` is a version from `.tool-versions` / `mise.toml`, activated when package.json's
    /// `packageManager` names none.
    fn setup_command(&self, node_major: u32, tool_pin: Option<&str>) -> String {
        let corepack = self.manager == PackageManager::Pnpm || self.berry();
        let activate = match (&self.manager_version, tool_pin) {
            (None, Some(v)) => format!(
                " && corepack prepare {}@{v} --activate",
                self.manager.as_str()
            ),
            _ => String::new(),
        };
        match self.manager {
            _ if corepack && node_major >= 25 => format!(
                "npm install --global corepack@{COREPACK_VERSION} && corepack enable{activate}"
            ),
            _ if corepack => format!("corepack enable{activate}"),
            PackageManager::Yarn if node_major >= 26 => {
                format!("npm install --global yarn@{YARN_CLASSIC_VERSION}")
            }
            _ => String::new(),
        }
    }

    /// Removes development dependencies from an installed tree, run from the build context root.
    fn prune_command(&self) -> String {
        match self.manager {
            // `pnpm prune` is not workspace-aware (it can unlink members, or stop at a purge prompt
            // without a TTY), so: drop every node_modules, reinstall production packages from the
            // store. No lifecycle scripts: `prepare: husky` would fail once husky is gone.
            PackageManager::Pnpm => "find . -name node_modules -type d -prune -exec rm -rf {} + \
                 && pnpm install --prod --frozen-lockfile --prefer-offline --ignore-scripts"
                .into(),
            PackageManager::Bun => {
                "rm -rf node_modules && bun install --production --frozen-lockfile --ignore-scripts"
                    .into()
            }
            PackageManager::Yarn if self.berry() => {
                "yarn workspaces focus --all --production".into()
            }
            PackageManager::Yarn => {
                "yarn install --production --frozen-lockfile --ignore-scripts --prefer-offline"
                    .into()
            }
            _ => "npm prune --omit=dev".into(),
        }
    }
}

/// `classic` or `berry`: the `packageManager` version, else `.yarnrc.yml` (berry only), else the
/// lockfile header (`# yarn lockfile v1` is yarn 1; berry lockfiles open with `__metadata:`).
fn yarn_flavour(declared: Option<&str>, yarnrc_yml: bool, lock_head: Option<&str>) -> &'static str {
    if let Some(major) = declared.and_then(|v| v.split('.').next()?.parse::<u32>().ok()) {
        return if major >= 2 { "berry" } else { "classic" };
    }
    if yarnrc_yml {
        return "berry";
    }
    match lock_head {
        Some(h) if h.contains("# yarn lockfile v1") => "classic",
        Some(h) if h.contains("__metadata:") => "berry",
        _ => "classic",
    }
}

/// Normalises a declared Node version to something the `node:<tag>-bookworm-slim` images carry:
/// `v20.11.1` → `20.11.1`, `20.x` → `20`, `^20.11.0` → `20` (newest 20.x), `~20.11.0` → `20.11`,
/// `>=18` → the default LTS when it satisfies the bound, else the bound's major, `>=18 <21` → `20`,
/// `18 || 20` → `20`, `lts/*` → the default LTS, `lts/iron` → `20`. None for `*`, `latest` and
/// anything unparsable (the template then uses the default).
pub fn normalize_node_version(raw: &str) -> Option<String> {
    let v = raw.trim().trim_matches('"').trim();
    let lower = v.to_ascii_lowercase();
    if let Some(codename) = lower.strip_prefix("lts/") {
        return match codename {
            "*" | "" | "-0" => Some(DEFAULT_NODE.to_string()),
            "argon" => Some("4".into()),
            "boron" => Some("6".into()),
            "carbon" => Some("8".into()),
            "dubnium" => Some("10".into()),
            "erbium" => Some("12".into()),
            "fermium" => Some("14".into()),
            "gallium" => Some("16".into()),
            "hydrogen" => Some("18".into()),
            "iron" => Some("20".into()),
            "jod" => Some("22".into()),
            "krypton" => Some("24".into()),
            _ => None,
        };
    }
    if matches!(lower.as_str(), "lts" | "node" | "stable") {
        return Some(DEFAULT_NODE.to_string());
    }
    v.split("||")
        .filter_map(normalize_range)
        .max_by_key(|s| version_key(s))
}

fn version_key(v: &str) -> Vec<u32> {
    v.split('.').map(|p| p.parse().unwrap_or(0)).collect()
}

/// One range alternative (no `||`) to an image tag.
fn normalize_range(range: &str) -> Option<String> {
    let range = range.trim();
    // Hyphen range `18 - 20`: the upper end.
    if let Some((_, hi)) = range.split_once(" - ") {
        return exact_tag(hi.trim());
    }
    let parts: Vec<&str> = range.split_whitespace().collect();
    if parts.is_empty() {
        return None;
    }
    let mut lower: Option<u32> = None;
    let mut upper: Option<u32> = None; // largest allowed major
    for part in parts {
        let (op, ver) = split_operator(part);
        let nums = numeric_parts(ver);
        let major = *nums.first()?;
        match op {
            "^" => return Some(major.to_string()),
            "~" => {
                return Some(match nums.get(1) {
                    Some(minor) => format!("{major}.{minor}"),
                    None => major.to_string(),
                });
            }
            "" | "=" | "v" => return exact_tag(ver),
            ">=" | ">" => lower = Some(lower.map_or(major, |l| l.max(major))),
            "<" => {
                // `<21` or `<21.0.0` allows 20; `<20.5` allows some 20.x.
                let cap = if nums.iter().skip(1).all(|n| *n == 0) {
                    major.saturating_sub(1)
                } else {
                    major
                };
                upper = Some(upper.map_or(cap, |u| u.min(cap)));
            }
            "<=" => upper = Some(upper.map_or(major, |u| u.min(major))),
            _ => return None,
        }
    }
    let default: u32 = DEFAULT_NODE.parse().unwrap_or(24);
    let pick = match (lower, upper) {
        (Some(lo), None) => default.max(lo),
        (None, Some(hi)) => default.min(hi),
        (Some(lo), Some(hi)) if lo <= hi => default.min(hi).max(lo),
        _ => return None,
    };
    Some(pick.to_string())
}

fn split_operator(part: &str) -> (&str, &str) {
    for op in [">=", "<=", ">", "<", "^", "~", "="] {
        if let Some(rest) = part.strip_prefix(op) {
            return (op, rest.trim_start_matches('v'));
        }
    }
    match part.strip_prefix('v') {
        Some(rest) => ("v", rest),
        None => ("", part),
    }
}

/// Leading numeric components: `20.11.x` → [20, 11], `18` → [18].
fn numeric_parts(ver: &str) -> Vec<u32> {
    ver.split('.')
        .map_while(|p| p.parse::<u32>().ok())
        .collect()
}

/// An exact or partial version as an image tag (`20.11.1`, `20.11`, `20`); wildcards cut it short.
fn exact_tag(ver: &str) -> Option<String> {
    let nums = numeric_parts(ver.trim_start_matches('v'));
    if nums.is_empty() {
        return None;
    }
    Some(
        nums.iter()
            .take(3)
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join("."),
    )
}

/// The Node version a service of another ecosystem (Rails, Laravel) builds its front-end assets with:
/// `.nvmrc` / `.node-version` in `dir`, then `.tool-versions` / `mise.toml`, else [`DEFAULT_NODE`].
pub fn asset_node_version(tree: &RepoTree, dir: &str) -> String {
    [".nvmrc", ".node-version"]
        .into_iter()
        .filter_map(|name| tree.read_text(&join(dir, name)))
        .find_map(|text| {
            text.lines()
                .map(|l| l.split('#').next().unwrap_or("").trim())
                .find(|l| !l.is_empty())
                .and_then(normalize_node_version)
        })
        .or_else(|| {
            version::tool_version(tree, dir, &["nodejs", "node"])
                .and_then(|d| normalize_node_version(&d.version))
        })
        .unwrap_or_else(|| DEFAULT_NODE.to_string())
}

/// The declared Node version and its file: `.nvmrc`, `.node-version` (the package folder, then the
/// workspace root), `.tool-versions` / `mise.toml`, `volta.node`, then `engines.node`.
fn node_version(
    tree: &RepoTree,
    pkg: &Package,
    root: Option<&Package>,
) -> Option<(String, String)> {
    let mut dirs = vec![pkg.dir.as_str()];
    if let Some(r) = root
        && r.dir != pkg.dir
    {
        dirs.push(r.dir.as_str());
    }
    for d in &dirs {
        for name in [".nvmrc", ".node-version"] {
            let path = join(d, name);
            if let Some(text) = tree.read_text(&path) {
                let first = text
                    .lines()
                    .map(|l| l.split('#').next().unwrap_or("").trim())
                    .find(|l| !l.is_empty());
                if let Some(v) = first.and_then(normalize_node_version) {
                    return Some((v, path));
                }
            }
        }
    }
    if let Some(declared) = version::tool_version(tree, &pkg.dir, &["nodejs", "node"])
        && let Some(v) = normalize_node_version(&declared.version)
    {
        return Some((v, declared.source));
    }
    let pkgs: Vec<&Package> = std::iter::once(pkg).chain(root).collect();
    for p in &pkgs {
        if let Some(v) = p
            .json
            .get("volta")
            .and_then(|v| v.get("node"))
            .and_then(Value::as_str)
            .and_then(normalize_node_version)
        {
            return Some((v, join(&p.dir, "package.json")));
        }
    }
    for p in &pkgs {
        if let Some(v) = p
            .json
            .get("engines")
            .and_then(|v| v.get("node"))
            .and_then(Value::as_str)
            .and_then(normalize_node_version)
        {
            return Some((v, join(&p.dir, "package.json")));
        }
    }
    None
}

/// The workspace a package builds in: the folder holding the lockfile and its manifests.
struct Workspace {
    root_dir: String,
    root_pkg: Package,
    tooling: Tooling,
    /// Member folder → package, for every member (empty for a single package).
    members: BTreeMap<String, Package>,
    /// Files relative to the workspace root that the install needs.
    manifests: Vec<String>,
}

impl Workspace {
    fn single(tree: &RepoTree, dir: &str, pkg: &Package, tooling: &Tooling) -> Workspace {
        Workspace {
            root_dir: dir.to_string(),
            root_pkg: pkg.clone(),
            tooling: tooling.clone(),
            members: BTreeMap::new(),
            manifests: install_manifests(tree, dir, tooling, &[]),
        }
    }

    fn is_workspace(&self) -> bool {
        !self.members.is_empty()
    }

    /// Member folders `name` depends on (transitively), dependencies first, ending with `dir` itself.
    fn build_order(&self, dir: &str) -> Vec<String> {
        let mut order = Vec::new();
        self.visit(dir, &mut order, 0);
        order
    }

    fn visit(&self, dir: &str, order: &mut Vec<String>, depth: usize) {
        if order.iter().any(|d| d == dir) || depth > 32 {
            return;
        }
        if let Some(pkg) = self.members.get(dir) {
            for dep in pkg.all_deps() {
                if let Some((member_dir, _)) =
                    self.members.iter().find(|(_, m)| m.name() == Some(dep))
                    && member_dir != dir
                {
                    self.visit(member_dir, order, depth + 1);
                }
            }
        }
        order.push(dir.to_string());
    }
}

/// The files an install reads, relative to the workspace root: package manager config, the lockfile,
/// the root `package.json` and every member's.
fn install_manifests(
    tree: &RepoTree,
    root: &str,
    tooling: &Tooling,
    member_dirs: &[String],
) -> Vec<String> {
    let mut out = vec!["package.json".to_string()];
    if let Some(lock) = &tooling.lockfile {
        out.push(lock.clone());
    }
    for name in [
        "pnpm-workspace.yaml",
        ".npmrc",
        ".yarnrc.yml",
        ".yarnrc",
        ".pnpmfile.cjs",
        "bunfig.toml",
    ] {
        if tree.exists(&join(root, name)) {
            out.push(name.to_string());
        }
    }
    // A `yarnPath` release or yarn plugins must be present before `yarn install` runs.
    if tooling.berry() {
        for sub in [".yarn/releases", ".yarn/plugins"] {
            let prefix = if root.is_empty() {
                String::new()
            } else {
                format!("{root}/")
            };
            for f in tree.files_under(&join(root, sub)) {
                out.push(f.path[prefix.len()..].to_string());
            }
        }
    }
    for m in member_dirs {
        let rel = relative_to(m, root);
        out.push(join(&rel, "package.json"));
    }
    out
}

/// The workspace member globs of a root package, or None when it is not a workspace root.
fn workspace_globs(tree: &RepoTree, dir: &str, pkg: &Package) -> Option<Vec<String>> {
    let from_strings = |v: &Value| -> Option<Vec<String>> {
        v.as_array().map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect()
        })
    };
    if let Some(ws) = pkg.json.get("workspaces") {
        let globs = from_strings(ws).or_else(|| ws.get("packages").and_then(from_strings));
        if let Some(globs) = globs
            && !globs.is_empty()
        {
            return Some(globs);
        }
    }
    #[derive(serde::Deserialize)]
    struct PnpmWorkspace {
        #[serde(default)]
        packages: Vec<String>,
    }
    if let Some(text) = tree.read_text(&join(dir, "pnpm-workspace.yaml"))
        && let Ok(ws) = serde_saphyr::from_str::<PnpmWorkspace>(&text)
        && !ws.packages.is_empty()
    {
        return Some(ws.packages);
    }
    // nx and turborepo without a package manager workspace: nx's conventional folders.
    if tree.exists(&join(dir, "nx.json")) || tree.exists(&join(dir, "turbo.json")) {
        return Some(vec!["apps/*".into(), "packages/*".into(), "libs/*".into()]);
    }
    None
}

/// Member folders (tree paths) of the workspace rooted at `dir`: folders with a `package.json` that
/// a member glob matches and no `!` glob excludes.
fn workspace_members(tree: &RepoTree, dir: &str, globs: &[String]) -> Vec<String> {
    let build = |negated: bool| {
        let mut b = globset::GlobSetBuilder::new();
        for g in globs {
            let (neg, pat) = match g.strip_prefix('!') {
                Some(p) => (true, p),
                None => (false, g.as_str()),
            };
            if neg != negated {
                continue;
            }
            let pat = pat.trim().trim_start_matches("./").trim_end_matches('/');
            if let Ok(glob) = globset::GlobBuilder::new(pat)
                .literal_separator(true)
                .build()
            {
                b.add(glob);
            }
        }
        b.build().ok()
    };
    let (Some(include), Some(exclude)) = (build(false), build(true)) else {
        return Vec::new();
    };
    let mut members = Vec::new();
    for f in tree.files_under(dir) {
        let Some(member) = f.path.strip_suffix("/package.json") else {
            continue;
        };
        let rel = relative_to(member, dir);
        if rel.is_empty()
            || member == dir
            || rel
                .split('/')
                .any(|p| p == "node_modules" || p.starts_with('.'))
        {
            continue;
        }
        if include.is_match(&rel) && !exclude.is_match(&rel) {
            members.push(member.to_string());
        }
    }
    members
}

fn detect_workspace(tree: &RepoTree, dir: &str, root_pkg: &Package, globs: &[String]) -> Detection {
    let tooling = Tooling::of(tree, dir, root_pkg);
    let member_dirs = workspace_members(tree, dir, globs);
    let members: BTreeMap<String, Package> = member_dirs
        .iter()
        .filter_map(|m| Package::read(tree, m).map(|p| (m.clone(), p)))
        .collect();
    let manifest_dirs: Vec<String> = members.keys().cloned().collect();
    let workspace = Workspace {
        root_dir: dir.to_string(),
        root_pkg: root_pkg.clone(),
        manifests: install_manifests(tree, dir, &tooling, &manifest_dirs),
        tooling,
        members,
    };
    let mut services = Vec::new();
    // The root itself is a service only when it runs something of its own, not when its scripts
    // hand over to the members (`turbo run start`, `pnpm -r start`).
    let root_delegates = ["start", "start:prod"]
        .iter()
        .filter_map(|n| root_pkg.script(n))
        .any(delegates_to_members);
    if !root_delegates && let Some(s) = service_for(tree, root_pkg, &workspace) {
        services.push(s);
    }
    for pkg in workspace.members.values() {
        if let Some(s) = service_for(tree, pkg, &workspace) {
            services.push(s);
        }
    }
    Detection {
        services,
        claimed: member_dirs,
    }
}

/// A script that runs the workspace members' scripts rather than a program of its own.
fn delegates_to_members(script: &str) -> bool {
    script.split_whitespace().any(|w| {
        matches!(
            w,
            "turbo"
                | "nx"
                | "lerna"
                | "-r"
                | "--recursive"
                | "--filter"
                | "-F"
                | "-w"
                | "--workspace"
                | "--workspaces"
                | "workspace"
                | "workspaces"
                | "run-p"
                | "run-s"
                | "npm-run-all"
                | "concurrently"
        ) || w.starts_with("--filter=")
            || w.starts_with("--workspace=")
    })
}

/// How the built application runs.
#[derive(Debug, Clone, PartialEq)]
enum Serve {
    /// A Node (or bun) server process.
    Server,
    /// Files in this folder (relative to the package) served by a static web server.
    Static(String),
}

/// What the framework analysis found about one package.
#[derive(Debug, Clone)]
struct App {
    framework: Option<&'static str>,
    serve: Serve,
    /// The framework's production port, when it has one.
    default_port: Option<u16>,
    /// The production start command when the package has no `start` script.
    default_start: Option<String>,
    next_standalone: bool,
    /// For static files: the page unknown paths fall back to (client-side routing).
    spa_fallback: Option<String>,
}

/// Recognises the package's framework and how it runs; None for a package that deploys nothing.
fn analyze_app(tree: &RepoTree, pkg: &Package) -> Option<App> {
    let dir = pkg.dir.as_str();
    let server = |framework, port, start: Option<&str>| App {
        framework: Some(framework),
        serve: Serve::Server,
        default_port: port,
        default_start: start.map(String::from),
        next_standalone: false,
        spa_fallback: None,
    };
    let statics = |framework: Option<&'static str>, out: String| App {
        framework,
        serve: Serve::Static(out),
        default_port: Some(8080),
        default_start: None,
        next_standalone: false,
        spa_fallback: None,
    };
    if pkg.has_dep("next") {
        let config = read_first(tree, dir, "next.config", &["js", "mjs", "ts", "cjs", "mts"]);
        let output = config.as_deref().and_then(|c| capture(&NEXT_OUTPUT, c));
        if output.as_deref() == Some("export") {
            return Some(statics(Some("next"), "out".into()));
        }
        let standalone = output.as_deref() == Some("standalone");
        let mut app = server(
            "next",
            Some(3000),
            Some(if standalone {
                "node server.js"
            } else {
                "next start"
            }),
        );
        app.next_standalone = standalone;
        return Some(app);
    }
    if pkg.has_dep("nuxt") {
        return Some(server(
            "nuxt",
            Some(3000),
            Some("node .output/server/index.mjs"),
        ));
    }
    if pkg.has_dep("@remix-run/node")
        || pkg.has_dep("@remix-run/serve")
        || pkg.has_dep("@remix-run/dev")
    {
        // Remix 2 with Vite builds to build/server/; the classic compiler to build/index.js.
        let vite = pkg.has_dep("vite");
        let entry = if vite {
            "./build/server/index.js"
        } else {
            "./build/index.js"
        };
        return Some(server(
            "remix",
            Some(3000),
            Some(&format!("remix-serve {entry}")),
        ));
    }
    if pkg.has_dep("@react-router/dev")
        || pkg.has_dep("@react-router/serve")
        || pkg.has_dep("@react-router/node")
    {
        let config = read_first(tree, dir, "react-router.config", &["ts", "js", "mjs"]);
        if config.as_deref().is_some_and(|c| SSR_FALSE.is_match(c)) {
            return Some(statics(Some("react-router"), "build/client".into()));
        }
        return Some(server(
            "react-router",
            Some(3000),
            Some("react-router-serve ./build/server/index.js"),
        ));
    }
    if pkg.has_dep("@sveltejs/kit") {
        if pkg.has_dep("@sveltejs/adapter-static") {
            let config = read_first(tree, dir, "svelte.config", &["js", "mjs", "ts"]);
            let out = config
                .as_deref()
                .and_then(|c| capture(&SVELTE_PAGES, c))
                .unwrap_or_else(|| "build".into());
            // `fallback: '200.html'` is SPA mode: unknown paths are served that page.
            let mut app = statics(Some("sveltekit"), out);
            app.spa_fallback = config.as_deref().and_then(|c| capture(&SVELTE_FALLBACK, c));
            return Some(app);
        }
        // adapter-node writes a server to build/ (adapter-auto needs a platform: node is the
        // closest to a container).
        return Some(server("sveltekit", Some(3000), Some("node build")));
    }
    if pkg.has_dep("astro") {
        let config = read_first(tree, dir, "astro.config", &["mjs", "ts", "js", "mts"]);
        let out = config
            .as_deref()
            .and_then(|c| capture(&OUT_DIR, c))
            .unwrap_or_else(|| "dist".into());
        if pkg.has_dep("@astrojs/node") {
            return Some(server(
                "astro",
                Some(4321),
                Some(&format!("node ./{out}/server/entry.mjs")),
            ));
        }
        return Some(statics(Some("astro"), out));
    }
    if pkg.has_dep("@nestjs/core") {
        return Some(server("nestjs", Some(3000), Some("node dist/main")));
    }
    let plain_server = [
        ("express", "express"),
        ("fastify", "fastify"),
        ("koa", "koa"),
        ("hono", "hono"),
    ]
    .into_iter()
    .find(|(dep, _)| pkg.deps_in("dependencies").any(|d| d == *dep));
    let start = pkg.script("start").filter(|s| !is_dev_watch(s));
    // Vite with an index.html and no SSR framework or server: a single-page app built to files.
    if plain_server.is_none() && tree.exists(&join(dir, "index.html")) && pkg.has_dep("vite") {
        let config = read_first(tree, dir, "vite.config", &["ts", "js", "mjs", "mts"]);
        let out = config
            .as_deref()
            .and_then(|c| capture(&OUT_DIR, c))
            .unwrap_or_else(|| "dist".into());
        return Some(statics(Some("vite"), out));
    }
    if plain_server.is_none() && pkg.has_dep("react-scripts") {
        return Some(statics(Some("create-react-app"), "build".into()));
    }
    if let Some((_, framework)) = plain_server {
        // fastify and hono's node server listen on 3000 when given no port.
        let port = matches!(framework, "fastify" | "hono").then_some(3000);
        return Some(App {
            framework: Some(framework),
            serve: Serve::Server,
            default_port: port,
            default_start: default_node_start(tree, pkg),
            next_standalone: false,
            spa_fallback: None,
        });
    }
    if start.is_some() || tree.exists(&join(dir, "server.js")) {
        return Some(App {
            framework: None,
            serve: Serve::Server,
            default_port: None,
            default_start: default_node_start(tree, pkg),
            next_standalone: false,
            spa_fallback: None,
        });
    }
    None
}

/// A start script that only rebuilds, watches or runs a development server (a library's `start`,
/// `nest start`, `nodemon`), not a production server.
fn is_dev_watch(script: &str) -> bool {
    let mut words = script.split_whitespace();
    let first = words.next().unwrap_or("");
    let second = words.next().unwrap_or("");
    matches!(
        first,
        "tsc"
            | "tsup"
            | "rollup"
            | "webpack"
            | "storybook"
            | "start-storybook"
            | "vite"
            | "vitest"
            | "nodemon"
            | "ts-node-dev"
    ) || matches!(
        (first, second),
        ("nest", "start") | ("next", "dev") | ("astro", "dev")
    ) || script.contains("--watch")
}

/// Whether the start command's program comes from a package listed only in `devDependencies`.
fn runs_dev_dependency(pkg: &Package, bin: &str) -> bool {
    // Binaries whose package has another name.
    let package = match bin {
        "remix-serve" => "@remix-run/serve",
        "react-router-serve" => "@react-router/serve",
        "nest" => "@nestjs/cli",
        "ts-node-dev" => "ts-node-dev",
        other => other,
    };
    pkg.deps_in("devDependencies").any(|d| d == package)
        && !pkg.deps_in("dependencies").any(|d| d == package)
}

/// `node server.js` (npm's own default for `npm start`), else `node <main>`.
fn default_node_start(tree: &RepoTree, pkg: &Package) -> Option<String> {
    if tree.exists(&join(&pkg.dir, "server.js")) {
        return Some("node server.js".into());
    }
    let main = pkg.str_field("main")?;
    let main = main.trim_start_matches("./");
    let js = [".js", ".mjs", ".cjs"].iter().any(|e| main.ends_with(e));
    (js || tree.exists(&join(&pkg.dir, &format!("{main}.js")))).then(|| format!("node {main}"))
}

static NEXT_OUTPUT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"output\s*:\s*['"`](standalone|export)['"`]"#).unwrap());
static OUT_DIR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"outDir\s*:\s*['"`]\.?/?([\w./-]+?)/?['"`]"#).unwrap());
static SVELTE_PAGES: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"pages\s*:\s*['"`]\.?/?([\w./-]+?)/?['"`]"#).unwrap());
static SVELTE_FALLBACK: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"fallback\s*:\s*['"`]([\w.-]+\.html)['"`]"#).unwrap());
static SSR_FALSE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"ssr\s*:\s*false").unwrap());

fn capture(re: &Regex, text: &str) -> Option<String> {
    re.captures(text)
        .and_then(|c| c.get(1))
        .map(|m| m.as_str().to_string())
}

/// The first of `stem.ext` that exists in `dir`, read.
fn read_first(tree: &RepoTree, dir: &str, stem: &str, exts: &[&str]) -> Option<String> {
    exts.iter()
        .find_map(|e| tree.read_text(&join(dir, &format!("{stem}.{e}"))))
}

/// Port patterns, most specific first: a default after `||`/`??` (`process.env.PORT || 8080`), a
/// literal `listen(3000)`, then a `port: 4000` / `port = 4000` / `PORT=4000` setting.
static PORT_PATTERNS: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    [
        r#"(?i)\bport\b[^\n;]{0,40}?(?:\|\||\?\?)\s*\(?\s*['"`]?(\d{2,5})\b"#,
        r"\.listen\(\s*(\d{2,5})\b",
        r#"(?i)\bport\s*[:=]\s*['"`]?(\d{2,5})\b"#,
    ]
    .iter()
    .map(|p| Regex::new(p).unwrap())
    .collect()
});

/// The port the code listens on, from source text (shared with the deno detector).
pub(crate) fn port_in_code(text: &str) -> Option<u16> {
    for re in PORT_PATTERNS.iter() {
        for cap in re.captures_iter(text) {
            if let Some(p) = cap[1].parse::<u16>().ok().filter(|p| *p >= 80) {
                return Some(p);
            }
        }
    }
    None
}

/// `-p 4000`, `--port 4000`, `--port=4000` or a `PORT=4000` prefix in a start command.
pub(crate) fn port_in_command(cmd: &str) -> Option<u16> {
    static RE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?:^|\s)(?:-p|--port)(?:\s+|=)(\d{2,5})\b|(?:^|\s)PORT=(\d{2,5})\b").unwrap()
    });
    let cap = RE.captures(cmd)?;
    cap.get(1).or(cap.get(2))?.as_str().parse().ok()
}

/// A health route in source text: a string literal `/health`, `/healthz`, `/api/health`, … or a
/// NestJS `@Get('health')` / `@Controller('health')` (shared with the deno detector).
pub(crate) fn health_in_code(text: &str) -> Option<String> {
    static LITERAL: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"['"`](/(?:api/)?(?:healthz|health|healthcheck|livez|readyz|ping))['"`]"#)
            .unwrap()
    });
    static NEST: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r#"@(?:Get|Controller)\(\s*['"`](healthz|health|healthcheck|livez|readyz|ping)['"`]"#,
        )
        .unwrap()
    });
    if let Some(c) = LITERAL.captures(text) {
        return Some(c[1].to_string());
    }
    NEST.captures(text).map(|c| format!("/{}", &c[1]))
}

/// A health route from file-system routing (Next, SvelteKit, Remix/React Router, Astro, Nuxt).
pub(crate) fn health_in_routes(tree: &RepoTree, dir: &str) -> Option<String> {
    static ROUTE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r"^(?:src/)?(?:app/api|pages/api|app/routes/api|routes/api|server/api|pages|routes|app/routes|app)/(healthz|health|healthcheck|livez|readyz|ping)(?:/(?:route|\+server)\.[jt]s|\.[jt]sx?|/index\.[jt]s)$",
        )
        .unwrap()
    });
    let prefix = if dir.is_empty() {
        String::new()
    } else {
        format!("{dir}/")
    };
    for f in tree.files_under(dir) {
        let rel = &f.path[prefix.len()..];
        if rel.starts_with("node_modules/") {
            continue;
        }
        if let Some(c) = ROUTE.captures(rel) {
            let api = rel.contains("/api/");
            return Some(if api {
                format!("/api/{}", &c[1])
            } else {
                format!("/{}", &c[1])
            });
        }
    }
    None
}

/// Source files worth reading for ports and routes: the entry files first, then other sources.
fn source_files(tree: &RepoTree, pkg: &Package) -> Vec<String> {
    let dir = pkg.dir.as_str();
    let mut out: Vec<String> = Vec::new();
    let mut push = |p: String| {
        if tree.exists(&p) && !out.contains(&p) {
            out.push(p);
        }
    };
    let mut targets: Vec<String> = Vec::new();
    if let Some(main) = pkg.str_field("main") {
        targets.push(main.trim_start_matches("./").to_string());
    }
    for script in ["start", "start:prod", "dev"] {
        if let Some(s) = pkg.script(script) {
            targets.extend(
                s.split_whitespace()
                    .filter(|w| w.contains('.') || w.contains('/'))
                    .filter(|w| !w.starts_with('-'))
                    .map(|w| w.trim_start_matches("./").to_string()),
            );
        }
    }
    for t in targets {
        // A compiled entry (`dist/main.js`) comes from a source file (`src/main.ts`).
        let stem = t
            .trim_end_matches(".js")
            .trim_end_matches(".mjs")
            .trim_end_matches(".cjs")
            .trim_end_matches(".ts")
            .to_string();
        let mut candidates = vec![t.clone()];
        for ext in ["js", "ts", "mjs", "cjs"] {
            candidates.push(format!("{stem}.{ext}"));
            for out_dir in ["dist/", "build/", "lib/"] {
                if let Some(rest) = stem.strip_prefix(out_dir) {
                    candidates.push(format!("src/{rest}.{ext}"));
                }
            }
        }
        for c in candidates {
            push(join(dir, &c));
        }
    }
    for base in ["src/", "", "server/"] {
        for stem in ["index", "server", "main", "app"] {
            for ext in ["ts", "js", "mjs", "cjs", "mts"] {
                push(join(dir, &format!("{base}{stem}.{ext}")));
            }
        }
    }
    // Then any other source file, bounded.
    let prefix = if dir.is_empty() {
        String::new()
    } else {
        format!("{dir}/")
    };
    let extra: Vec<String> = tree
        .files_under(dir)
        .filter(|f| f.size <= 256 * 1024)
        .map(|f| f.path.clone())
        .filter(|p| {
            let rel = &p[prefix.len()..];
            let top = rel.split('/').next().unwrap_or("");
            rel.contains('/')
                && matches!(top, "src" | "app" | "server" | "routes" | "lib" | "api")
                && [".js", ".ts", ".mjs", ".cjs", ".mts", ".jsx", ".tsx"]
                    .iter()
                    .any(|e| p.ends_with(e))
                && !p.contains(".test.")
                && !p.contains(".spec.")
        })
        .take(200)
        .collect();
    for p in extra {
        push(p);
    }
    out
}

/// A start command as exec-form words plus the `NAME=value` settings that preceded them.
type ExecForm = (Vec<String>, Vec<(String, String)>);

/// Splits a start command into the exec form and its leading `NAME=value` settings. None when the
/// command needs a shell (operators, substitutions, quotes).
fn exec_form(cmd: &str) -> Option<ExecForm> {
    if cmd.chars().any(|c| {
        matches!(
            c,
            '&' | '|' | ';' | '<' | '>' | '$' | '`' | '(' | ')' | '*' | '"' | '\''
        )
    }) {
        return None;
    }
    let mut words: Vec<&str> = cmd.split_whitespace().collect();
    if words.first() == Some(&"cross-env") {
        words.remove(0);
    }
    let mut env = Vec::new();
    while let Some(w) = words.first() {
        match w.split_once('=') {
            Some((k, v))
                if !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') =>
            {
                if k != "NODE_ENV" {
                    env.push((k.to_string(), v.to_string()));
                }
                words.remove(0);
            }
            _ => break,
        }
    }
    if words.is_empty() {
        return None;
    }
    Some((words.into_iter().map(String::from).collect(), env))
}

/// Builds the service for one package, or None when it deploys nothing.
fn service_for(tree: &RepoTree, pkg: &Package, ws: &Workspace) -> Option<Service> {
    let app = analyze_app(tree, pkg)?;
    // A `bin` package without a server framework is a command-line tool.
    if pkg.has_bin() && app.framework.is_none() && pkg.script("start").is_none() {
        return None;
    }
    let dir = pkg.dir.as_str();
    let tooling = &ws.tooling;
    let name = pkg
        .name()
        .map(|n| n.rsplit('/').next().unwrap_or(n).to_string())
        .unwrap_or_else(|| dir_name(tree, dir));
    let mut s = Service::new(name, service_path(dir), Ecosystem::Node, tooling.manager);
    s.framework = app.framework.map(String::from);
    let root_pkg = (ws.root_dir != pkg.dir).then_some(&ws.root_pkg);
    if let Some((v, src)) = node_version(tree, pkg, root_pkg) {
        s.runtime_version = Some(v);
        s.runtime_version_source = Some(src);
    }
    let in_context = relative_to(dir, &ws.root_dir);
    let service_in_context = if in_context.is_empty() {
        String::new()
    } else {
        format!("{in_context}/")
    };

    // Start command: `start:prod` or `start` unless it is a dev server, else the framework's.
    let start_script = ["start:prod", "start"]
        .iter()
        .filter_map(|name| pkg.script(name))
        .find(|s| !is_dev_watch(s));
    let start = match (&app.serve, app.next_standalone) {
        (Serve::Static(_), _) => None,
        (_, true) => app.default_start.clone(),
        _ => start_script.map(String::from).or(app.default_start.clone()),
    };
    s.start_command = start.clone();
    if pkg.script("build").is_some() {
        s.build_command = Some(tooling.run("build"));
    }

    // Port: the start command, then the code, then the framework.
    let sources = source_files(tree, pkg);
    let mut health = None;
    let mut code_port = None;
    for f in &sources {
        let Some(text) = tree.read_text(f) else {
            continue;
        };
        if code_port.is_none() {
            code_port = port_in_code(&text);
        }
        if health.is_none() {
            health = health_in_code(&text);
        }
        if code_port.is_some() && health.is_some() {
            break;
        }
    }
    s.port = match &app.serve {
        Serve::Static(_) => Some(8080),
        Serve::Server => start
            .as_deref()
            .and_then(port_in_command)
            .or(code_port)
            .or(app.default_port),
    };
    if app.serve == Serve::Server {
        s.health_path = health.or_else(|| health_in_routes(tree, dir));
    }

    // Facts shared with CI, compose and the Dockerfile.
    let workspace = ws.is_workspace();
    s.fact("build_context", service_path(&ws.root_dir));
    s.fact("service_in_context", service_in_context.clone());
    s.fact("manifests", json!(ws.manifests));
    if let Some(lock) = &tooling.lockfile {
        s.fact("lockfile", lock.clone());
    }
    s.fact("install_command", tooling.install_command());
    if pkg.script("lint").is_some() {
        s.fact("lint_command", tooling.run("lint"));
    }
    if pkg
        .script("test")
        .is_some_and(|t| !t.contains("no test specified"))
    {
        s.fact("test_command", tooling.test());
    }
    s.fact("default_runtime_version", DEFAULT_NODE);
    if let Some(v) = &tooling.manager_version {
        s.fact("package_manager_version", v.clone());
    }
    if let Some(f) = tooling.yarn_flavour {
        s.fact("yarn_flavour", f);
    }
    let node_tag = s
        .runtime_version
        .clone()
        .unwrap_or_else(|| DEFAULT_NODE.to_string());
    let node_image = format!("node:{node_tag}-bookworm-slim");
    let bun = tooling.manager == PackageManager::Bun;
    let bun_tag = tooling
        .manager_version
        .as_deref()
        .filter(|_| bun)
        .and_then(exact_tag)
        .unwrap_or_else(|| "1".into());
    let build_image = if bun {
        format!("oven/bun:{bun_tag}-debian")
    } else {
        node_image.clone()
    };
    s.fact("build_image", build_image);
    let node_major: u32 = node_tag
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(24);
    s.fact(
        "pm_setup",
        if bun {
            String::new()
        } else {
            let name = tooling.manager.as_str();
            let pin = version::tool_version(tree, dir, &[name])
                .map(|d| d.version)
                .filter(|v| {
                    v.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
                });
            tooling.setup_command(node_major, pin.as_deref())
        },
    );
    s.fact("cache_dir", tooling.cache_dir());
    let steps = build_steps(ws, pkg);
    let builds = steps.as_array().is_some_and(|a| !a.is_empty());
    // Lifecycle scripts (`prepare: husky`, `postinstall: patch-package`) often call development
    // tools, so a production-only install would fail: those packages install everything and prune.
    // The exec-form start command (servers only).
    let server_start: ExecForm = {
        let (mut cmd, env) = start
            .as_deref()
            .and_then(exec_form)
            .unwrap_or_else(|| (vec!["npm".into(), "start".into()], Vec::new()));
        if cmd.first().is_some_and(|c| c == "bunx") {
            cmd[0] = "bun".into();
            cmd.insert(1, "x".into());
        }
        if bun && cmd.first().is_some_and(|c| c == "npm") {
            cmd = vec!["bun".into(), "run".into(), "start".into()];
        }
        (cmd, env)
    };
    // A start command that runs a development dependency needs it at run time
    // (`tsx src/index.ts`, `node --import tsx …`, `node -r ts-node/register …`).
    let starts_dev_tool = app.serve == Serve::Server
        && server_start.0.iter().any(|word| {
            let package = word.split('/').next().unwrap_or(word);
            runs_dev_dependency(pkg, word) || runs_dev_dependency(pkg, package)
        });
    let lifecycle = [pkg, &ws.root_pkg].iter().any(|p| {
        ["preinstall", "install", "postinstall", "prepare"]
            .iter()
            .any(|s| p.script(s).is_some())
    });
    s.fact(
        "husky",
        pkg.has_dep("husky") || ws.root_pkg.has_dep("husky"),
    );
    if starts_dev_tool {
        // Keep every dependency: the start command needs a development one.
        s.fact("docker_install", tooling.install_command());
        s.fact("prune_command", "");
    } else if builds || lifecycle || matches!(app.serve, Serve::Static(_)) {
        s.fact("docker_install", tooling.install_command());
        s.fact("prune_command", tooling.prune_command());
    } else {
        // Nothing to build: production dependencies straight away, nothing to prune.
        s.fact("docker_install", tooling.production_install());
        s.fact("prune_command", "");
    }
    s.fact("manifest_copies", manifest_copies(&ws.manifests));
    s.fact("build_steps", steps);
    if bun {
        s.fact("bun_version", bun_tag.clone());
    }

    match &app.serve {
        Serve::Static(out) => {
            s.fact("serve", "static");
            s.fact("static_dir", out.clone());
            // Single-page apps route on the client: unknown paths get the app's page.
            let fallback = app.spa_fallback.clone().or_else(|| {
                matches!(
                    app.framework,
                    Some("vite" | "create-react-app" | "react-router")
                )
                .then(|| "index.html".to_string())
            });
            s.fact("spa", fallback.is_some());
            s.fact("spa_fallback", fallback.unwrap_or_default());
            s.fact("runtime_image", "nginxinc/nginx-unprivileged:1.27-bookworm");
            s.fact("runtime_user", "nginx");
        }
        Serve::Server => {
            s.fact("serve", "node");
            let (cmd, env) = server_start.clone();
            let runs_on_bun = bun && cmd.first().is_some_and(|c| c == "bun");
            s.fact("cmd", json!(cmd));
            // `PORT=` from the start script is already the service's port (set once, with HOST).
            let env: Vec<Value> = env
                .iter()
                .filter(|(k, _)| !(k == "PORT" && s.port.is_some()))
                .map(|(k, v)| json!([k, v]))
                .collect();
            s.fact("start_env", json!(env));
            // Node 18 brought a global fetch; older runtimes check with the http module.
            s.fact("healthcheck_fetch", runs_on_bun || node_major >= 18);
            if runs_on_bun {
                s.fact("runtime_image", format!("oven/bun:{bun_tag}-slim"));
                s.fact("runtime_user", "bun");
            } else {
                s.fact("runtime_image", node_image);
                s.fact("runtime_user", "node");
            }
            s.fact("next_standalone", app.next_standalone);
            s.fact("has_public", tree.is_dir(&join(dir, "public")));
            let mut bins = vec![format!("/app/{service_in_context}node_modules/.bin")];
            if workspace {
                bins.push("/app/node_modules/.bin".into());
            }
            bins.dedup();
            s.fact("bin_path", bins.join(":"));
        }
    }
    Some(s)
}

/// Manifests grouped by folder, for one `COPY` each: `[{dir: "", files: [...]}, {dir: "apps/web/", …}]`.
fn manifest_copies(manifests: &[String]) -> Value {
    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for m in manifests {
        let dir = match m.rsplit_once('/') {
            Some((d, _)) => format!("{d}/"),
            None => String::new(),
        };
        groups.entry(dir).or_default().push(m.clone());
    }
    json!(
        groups
            .into_iter()
            .map(|(dir, files)| json!({"dir": dir, "files": files}))
            .collect::<Vec<_>>()
    )
}

/// The builds to run from the build context, dependencies first: `[{dir, command, workdir,
/// back_to_root}]` where `dir` is the package folder relative to the context (`""` for the root),
/// `command` runs its `build` script, `workdir` is the WORKDIR to switch to first (`""`: unchanged) and
/// `back_to_root` asks for `WORKDIR /app` after the last step.
fn build_steps(ws: &Workspace, pkg: &Package) -> Value {
    let order = if ws.is_workspace() && ws.members.contains_key(&pkg.dir) {
        ws.build_order(&pkg.dir)
    } else {
        vec![pkg.dir.clone()]
    };
    let steps: Vec<(String, String)> = order
        .iter()
        .filter_map(|d| {
            let p = if *d == pkg.dir {
                pkg
            } else {
                ws.members.get(d)?
            };
            p.script("build")?;
            let rel = relative_to(d, &ws.root_dir);
            let dir = if rel.is_empty() {
                String::new()
            } else {
                format!("{rel}/")
            };
            Some((dir, ws.tooling.run("build")))
        })
        .collect();
    // Each step says which WORKDIR to switch to first ("" when it stays), and the last one switches
    // back to the context root.
    let mut current = String::new();
    let mut out = Vec::new();
    for (i, (dir, command)) in steps.iter().enumerate() {
        let workdir = if *dir == current {
            String::new()
        } else {
            format!("/app/{}", dir.trim_end_matches('/'))
        };
        current = dir.clone();
        let back = i + 1 == steps.len() && !current.is_empty();
        out.push(json!({"dir": dir, "command": command, "workdir": workdir.trim_end_matches('/'), "back_to_root": back}));
    }
    json!(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::tree::tree_of;

    #[test]
    fn version_ranges_become_image_tags() {
        let cases = [
            ("20", Some("20")),
            ("v20.11.1", Some("20.11.1")),
            ("20.x", Some("20")),
            ("20.11.x", Some("20.11")),
            ("^20.11.0", Some("20")),
            ("~20.11.0", Some("20.11")),
            (">=18", Some(DEFAULT_NODE)),
            (">=18.0.0", Some(DEFAULT_NODE)),
            (">=26", Some("26")),
            (">=18 <21", Some("20")),
            (">=18.0.0 <=20", Some("20")),
            ("<23.0.0", Some("22")),
            ("18 || 20", Some("20")),
            ("^18.0.0 || ^20.0.0", Some("20")),
            ("16 - 20", Some("20")),
            ("lts/*", Some(DEFAULT_NODE)),
            ("lts/iron", Some("20")),
            ("lts/jod", Some("22")),
            ("*", None),
            ("latest", None),
            ("banana", None),
            ("", None),
        ];
        for (raw, want) in cases {
            assert_eq!(
                normalize_node_version(raw).as_deref(),
                want,
                "normalising {raw:?}"
            );
        }
    }

    #[test]
    fn ports_come_from_listen_calls_and_env_defaults() {
        let cases = [
            ("app.listen(3000, () => {})", Some(3000)),
            ("app.listen(PORT || 8080)", Some(8080)),
            (
                "const port = process.env.PORT ?? 3001;\napp.listen(port)",
                Some(3001),
            ),
            (
                "const port = parseInt(process.env.PORT || '4000', 10);",
                Some(4000),
            ),
            ("server.listen({ port: 4000 })", Some(4000)),
            (
                "await app.listen(Number(process.env.PORT) || 5050);",
                Some(5050),
            ),
            ("Deno.serve({ port: 8000 }, handler)", Some(8000)),
            ("const x = 1;", None),
            // A literal below 80 is a count, not a port.
            ("port: 1", None),
        ];
        for (code, want) in cases {
            assert_eq!(port_in_code(code), want, "port in {code:?}");
        }
        assert_eq!(port_in_command("next start -p 4000"), Some(4000));
        assert_eq!(port_in_command("PORT=5000 node server.js"), Some(5000));
        assert_eq!(port_in_command("node server.js"), None);
    }

    #[test]
    fn yarn_flavour_from_version_rc_and_lockfile() {
        assert_eq!(yarn_flavour(Some("4.1.0"), false, None), "berry");
        assert_eq!(yarn_flavour(Some("1.22.22"), true, None), "classic");
        assert_eq!(yarn_flavour(None, true, None), "berry");
        let classic = "# THIS IS AN AUTOGENERATED FILE. DO NOT EDIT THIS FILE DIRECTLY.\n# yarn lockfile v1\n";
        assert_eq!(yarn_flavour(None, false, Some(classic)), "classic");
        let berry =
            "# This file is generated by running \"yarn install\"\n\n__metadata:\n  version: 8\n";
        assert_eq!(yarn_flavour(None, false, Some(berry)), "berry");
        assert_eq!(yarn_flavour(None, false, None), "classic");
    }

    #[test]
    fn malformed_package_json_is_not_a_package() {
        assert!(Package::parse("", "{ \"name\": ").is_none());
        assert!(Package::parse("", "[1, 2]").is_none());
        assert!(Package::parse("", "").is_none());
        let p = Package::parse("", "\u{feff}{\"name\": \"x\", \"scripts\": {\"start\": 5}}")
            .expect("a BOM and odd field types are tolerated");
        assert_eq!(p.name(), Some("x"));
        assert_eq!(p.script("start"), None);
    }

    #[test]
    fn start_commands_become_exec_form() {
        let (cmd, env) = exec_form("NODE_ENV=production PORT=4000 node dist/main.js").unwrap();
        assert_eq!(cmd, ["node", "dist/main.js"]);
        assert_eq!(env, [("PORT".to_string(), "4000".to_string())]);
        assert_eq!(exec_form("next start").unwrap().0, ["next", "start"]);
        assert!(exec_form("npm run build && node dist").is_none());
        assert!(exec_form("node -r dotenv/config \"src/index.js\"").is_none());
    }

    #[test]
    fn a_root_with_only_dev_tooling_is_no_service_and_claims_nothing() {
        let (_dir, tree) = tree_of(&[
            (
                "package.json",
                r#"{"private": true, "scripts": {"format": "prettier -w ."},
                   "devDependencies": {"prettier": "^3", "husky": "^9"}}"#,
            ),
            (
                "services/api/package.json",
                r#"{"name": "api", "dependencies": {"express": "^4"},
                   "scripts": {"start": "node index.js"}}"#,
            ),
            (
                "services/api/index.js",
                "require('express')().listen(3000);",
            ),
        ]);
        assert!(Node.detect(&tree, "").is_none());
        let api = Node
            .detect(&tree, "services/api")
            .expect("the api is a node service");
        assert_eq!(api.services.len(), 1);
        assert_eq!(api.services[0].port, Some(3000));
        assert!(api.claimed.is_empty());
    }

    #[test]
    fn workspace_members_deploy_unless_they_are_libraries_or_tools() {
        let (_dir, tree) = tree_of(&[
            (
                "package.json",
                r#"{"private": true, "workspaces": ["apps/*", "packages/*"]}"#,
            ),
            ("package-lock.json", r#"{"lockfileVersion": 3}"#),
            (
                "apps/site/package.json",
                r#"{"name": "@x/site", "dependencies": {"next": "15.0.0", "@x/lib": "*"},
                   "scripts": {"build": "next build", "start": "next start"}}"#,
            ),
            (
                "packages/lib/package.json",
                r#"{"name": "@x/lib", "main": "dist/index.js", "scripts": {"build": "tsc"}}"#,
            ),
            (
                "packages/cli/package.json",
                r#"{"name": "@x/cli", "bin": {"x": "cli.js"}, "dependencies": {"commander": "^12"}}"#,
            ),
            ("packages/broken/package.json", "{ not json"),
        ]);
        let found = Node.detect(&tree, "").expect("a workspace root");
        let names: Vec<&str> = found.services.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["site"]);
        assert_eq!(
            found.claimed,
            [
                "apps/site",
                "packages/broken",
                "packages/cli",
                "packages/lib"
            ]
        );
        let site = &found.services[0];
        assert_eq!(site.facts["build_context"], ".");
        assert_eq!(site.facts["service_in_context"], "apps/site/");
        assert_eq!(site.facts["lockfile"], "package-lock.json");
        let steps: Vec<&str> = site.facts["build_steps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["dir"].as_str().unwrap())
            .collect();
        assert_eq!(
            steps,
            ["packages/lib/", "apps/site/"],
            "the library builds first"
        );
    }

    #[test]
    fn nx_without_workspaces_uses_its_apps_and_libs_folders() {
        let (_dir, tree) = tree_of(&[
            (
                "package.json",
                r#"{"private": true, "devDependencies": {"nx": "20.1.2"}}"#,
            ),
            ("nx.json", "{}"),
            (
                "apps/orders/package.json",
                r#"{"name": "orders", "dependencies": {"fastify": "^5"},
                   "scripts": {"start": "node main.js"}}"#,
            ),
            (
                "apps/orders/main.js",
                "require('fastify')().listen({ port: 3300 });",
            ),
            (
                "libs/money/package.json",
                r#"{"name": "money", "main": "index.js"}"#,
            ),
        ]);
        let found = Node.detect(&tree, "").expect("an nx workspace");
        assert_eq!(found.claimed, ["apps/orders", "libs/money"]);
        assert_eq!(found.services.len(), 1);
        assert_eq!(found.services[0].port, Some(3300));
        assert_eq!(found.services[0].framework.as_deref(), Some("fastify"));
    }

    #[test]
    fn a_workspace_root_that_starts_its_members_is_not_a_service() {
        let (_dir, tree) = tree_of(&[
            (
                "package.json",
                r#"{"private": true, "workspaces": ["apps/*"],
                   "scripts": {"start": "turbo run start", "build": "turbo run build"}}"#,
            ),
            (
                "apps/api/package.json",
                r#"{"name": "api", "dependencies": {"koa": "^2"},
                   "scripts": {"start": "node server.js"}}"#,
            ),
            (
                "apps/api/server.js",
                "new (require('koa'))().listen(process.env.PORT || 7000);",
            ),
        ]);
        let found = Node.detect(&tree, "").unwrap();
        let paths: Vec<&str> = found.services.iter().map(|s| s.path.as_str()).collect();
        assert_eq!(paths, ["apps/api"]);
        assert_eq!(found.services[0].port, Some(7000));
        assert_eq!(found.services[0].framework.as_deref(), Some("koa"));
    }

    /// The framework, how it is served, the port and the start command of a single package.
    fn app_of(files: &[(&str, &str)]) -> (Option<String>, String, Option<u16>, Option<String>) {
        let (_dir, tree) = tree_of(files);
        let s = Node
            .detect(&tree, "")
            .expect("a service")
            .services
            .remove(0);
        let serve = match s.facts["serve"].as_str().unwrap() {
            "static" => format!("static {}", s.facts["static_dir"].as_str().unwrap()),
            other => other.to_string(),
        };
        (s.framework, serve, s.port, s.start_command)
    }

    #[test]
    fn frameworks_decide_how_the_app_is_served() {
        let (fw, serve, port, _) = app_of(&[
            (
                "package.json",
                r#"{"devDependencies": {"vite": "^5", "react": "^18"}}"#,
            ),
            ("index.html", "<div id=root></div>"),
            (
                "vite.config.ts",
                "export default { build: { outDir: 'public-dist' } }",
            ),
        ]);
        assert_eq!(
            (fw.as_deref(), serve.as_str(), port),
            (Some("vite"), "static public-dist", Some(8080))
        );

        let (fw, serve, port, start) = app_of(&[
            (
                "package.json",
                r#"{"dependencies": {"astro": "^4", "@astrojs/node": "^8"}}"#,
            ),
            ("astro.config.mjs", "export default { output: 'server' }"),
        ]);
        assert_eq!(
            (fw.as_deref(), serve.as_str(), port),
            (Some("astro"), "node", Some(4321))
        );
        assert_eq!(start.as_deref(), Some("node ./dist/server/entry.mjs"));

        let (_, serve, _, _) = app_of(&[
            (
                "package.json",
                r#"{"dependencies": {"next": "15"}, "scripts": {"build": "next build"}}"#,
            ),
            ("next.config.js", "module.exports = { output: 'export' }"),
        ]);
        assert_eq!(serve, "static out");

        let (fw, serve, _, _) = app_of(&[
            (
                "package.json",
                r#"{"devDependencies": {"@sveltejs/kit": "^2", "@sveltejs/adapter-static": "^3"}}"#,
            ),
            (
                "svelte.config.js",
                "adapter({ pages: 'site', fallback: '200.html' })",
            ),
        ]);
        assert_eq!(
            (fw.as_deref(), serve.as_str()),
            (Some("sveltekit"), "static site")
        );

        let (fw, serve, _, _) = app_of(&[
            (
                "package.json",
                r#"{"dependencies": {"@react-router/dev": "^7", "react-router": "^7"}}"#,
            ),
            ("react-router.config.ts", "export default { ssr: false }"),
        ]);
        assert_eq!(
            (fw.as_deref(), serve.as_str()),
            (Some("react-router"), "static build/client")
        );

        let (fw, serve, port, start) = app_of(&[(
            "package.json",
            r#"{"dependencies": {"next": "15"},
               "scripts": {"start": "PORT=4000 next start", "dev": "next dev"}}"#,
        )]);
        assert_eq!(
            (fw.as_deref(), serve.as_str(), port),
            (Some("next"), "node", Some(4000))
        );
        assert_eq!(start.as_deref(), Some("PORT=4000 next start"));
    }

    #[test]
    fn start_scripts_that_run_dev_tools_keep_dev_dependencies() {
        let (_dir, tree) = tree_of(&[(
            "package.json",
            r#"{"dependencies": {"express": "^4"}, "devDependencies": {"tsx": "^4"},
               "scripts": {"start": "tsx src/index.ts"}}"#,
        )]);
        let s = Node.detect(&tree, "").unwrap().services.remove(0);
        assert_eq!(s.facts["prune_command"], "");
        assert_eq!(s.facts["cmd"], json!(["tsx", "src/index.ts"]));

        let (_dir, tree) = tree_of(&[(
            "package.json",
            r#"{"dependencies": {"express": "^4"}, "devDependencies": {"ts-node": "^10"},
               "scripts": {"start": "node -r ts-node/register src/index.ts"}}"#,
        )]);
        let s = Node.detect(&tree, "").unwrap().services.remove(0);
        assert_eq!(s.facts["prune_command"], "");

        // A scoped package's path is not mistaken for a development tool.
        let (_dir, tree) = tree_of(&[(
            "package.json",
            r#"{"dependencies": {"express": "^4"}, "devDependencies": {"eslint": "^9"},
               "scripts": {"start": "node dist/index.js", "build": "tsc"}}"#,
        )]);
        let s = Node.detect(&tree, "").unwrap().services.remove(0);
        assert_ne!(s.facts["prune_command"], "");
    }

    #[test]
    fn paths_relative_to_a_workspace_root() {
        assert_eq!(relative_to("web", "web"), "");
        assert_eq!(relative_to("apps/api", ""), "apps/api");
        assert_eq!(relative_to("repo/apps/api", "repo"), "apps/api");
    }

    #[test]
    fn health_routes_in_code() {
        assert_eq!(
            health_in_code("app.get('/healthz', (req, res) => res.send('ok'))").as_deref(),
            Some("/healthz")
        );
        assert_eq!(
            health_in_code("@Controller('health')\nexport class HealthController {}").as_deref(),
            Some("/health")
        );
        assert_eq!(health_in_code("app.get('/users', h)"), None);
    }
}
