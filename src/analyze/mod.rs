//! Analysis: a directory tree in, a [`RepoProfile`] out. Pure: reads files, starts no process, uses no network.

pub mod ecosystems;
pub mod linguist;
pub mod tree;

use crate::profile::{FileLanguage, LanguageShare, RepoProfile, Service};
use linguist::{GitAttributes, Linguist};
use std::collections::{BTreeSet, HashMap};
use std::path::Path;
pub use tree::{RepoTree, TreeError};

/// What to compute besides the defaults.
#[derive(Debug, Clone, Copy, Default)]
pub struct AnalyzeOptions {
    /// Keep the language of every file in `RepoProfile::files`.
    pub per_file: bool,
}

/// Analyzes the directory at `root`.
pub fn analyze(root: &Path, options: AnalyzeOptions) -> Result<RepoProfile, TreeError> {
    let tree = RepoTree::scan(root)?;
    Ok(analyze_tree(&tree, &root.display().to_string(), options))
}

/// Analyzes an already listed tree; `root_name` is how the root is shown.
pub fn analyze_tree(tree: &RepoTree, root_name: &str, options: AnalyzeOptions) -> RepoProfile {
    let (languages, files) = languages(tree, options.per_file);
    let services = discover_services(tree);
    let existing_files = tree
        .files()
        .iter()
        .filter(|f| is_generated_kind(&f.path))
        .map(|f| f.path.clone())
        .collect();
    RepoProfile {
        root: root_name.to_string(),
        languages,
        services,
        files,
        existing_files,
        warnings: tree.warnings.clone(),
    }
}

/// Files of the kinds opsmith generates: when the repository has one, it is kept and used as is.
fn is_generated_kind(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    matches!(
        name,
        "Dockerfile"
            | ".dockerignore"
            | "compose.yaml"
            | "compose.yml"
            | "docker-compose.yml"
            | "docker-compose.yaml"
    ) || path.starts_with(".github/workflows/")
        || path.starts_with("deploy/terraform/")
        || path.starts_with("deploy/monitoring/")
}

/// Classifies every file (in parallel, reading only each file's first bytes) and sums bytes per language.
fn languages(tree: &RepoTree, per_file: bool) -> (Vec<LanguageShare>, Option<Vec<FileLanguage>>) {
    let linguist = Linguist::get();
    let attributes = GitAttributes::load(tree);
    let files = tree.files();
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 8);
    let chunk = files.len().div_ceil(threads).max(1);

    type Part = (HashMap<&'static str, u64>, Vec<Option<&'static str>>);
    let parts: Vec<Part> = std::thread::scope(|scope| {
        let handles: Vec<_> = files
            .chunks(chunk)
            .map(|part| {
                let attributes = &attributes;
                scope.spawn(move || {
                    let mut bytes: HashMap<&'static str, u64> = HashMap::new();
                    let mut langs = Vec::with_capacity(if per_file { part.len() } else { 0 });
                    let mut buf = Vec::with_capacity(tree::HEAD_BYTES);
                    for f in part {
                        buf.clear();
                        let path = f
                            .raw_path
                            .as_ref()
                            .map_or_else(|| tree.root().join(&f.path), |r| tree.root().join(r));
                        let head: &[u8] = match read_head_into(&path, &mut buf) {
                            Ok(()) => &buf,
                            Err(_) => &[],
                        };
                        let verdict =
                            linguist.classify(&f.path, head, &attributes.for_path(&f.path));
                        if let Some(stats) = verdict.stats_language {
                            *bytes.entry(stats).or_default() += f.size;
                        }
                        if per_file {
                            langs.push(verdict.language);
                        }
                    }
                    (bytes, langs)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("classifier thread panicked"))
            .collect()
    });

    let mut totals: HashMap<&'static str, u64> = HashMap::new();
    let mut per_file_langs = Vec::new();
    for (bytes, langs) in parts {
        for (k, v) in bytes {
            *totals.entry(k).or_default() += v;
        }
        per_file_langs.extend(langs);
    }
    let sum: u64 = totals.values().sum();
    let mut shares: Vec<LanguageShare> = totals
        .into_iter()
        .map(|(name, bytes)| LanguageShare {
            name: name.to_string(),
            bytes,
            percent: if sum == 0 {
                0.0
            } else {
                (bytes as f64 * 10000.0 / sum as f64).round() / 100.0
            },
        })
        .collect();
    shares.sort_by(|a, b| b.bytes.cmp(&a.bytes).then_with(|| a.name.cmp(&b.name)));
    let files = per_file.then(|| {
        files
            .iter()
            .zip(per_file_langs)
            .map(|(f, l)| FileLanguage {
                path: f.path.clone(),
                language: l.map(String::from),
            })
            .collect()
    });
    (shares, files)
}

fn read_head_into(path: &Path, buf: &mut Vec<u8>) -> std::io::Result<()> {
    use std::io::Read;
    std::fs::File::open(path)?
        .take(tree::HEAD_BYTES as u64)
        .read_to_end(buf)?;
    Ok(())
}

/// Folder names that hold tests, examples, dependencies or build output, never a deployable service.
const NOT_SERVICE_DIRS: &[&str] = &[
    "node_modules",
    "vendor",
    "third_party",
    "test",
    "tests",
    "spec",
    "__tests__",
    "fixtures",
    "testdata",
    "example",
    "examples",
    "samples",
    "docs",
    "doc",
    "target",
    "dist",
    "build",
    "out",
    ".opsmith",
    ".github",
    ".git",
];

/// Walks the directories top-down and asks the detectors about each one not yet accounted for.
fn discover_services(tree: &RepoTree) -> Vec<Service> {
    let linguist = Linguist::get();
    let mut dirs: Vec<&str> = tree
        .dirs()
        .filter(|d| {
            d.is_empty()
                || !(d
                    .split('/')
                    .any(|part| NOT_SERVICE_DIRS.contains(&part) || part.starts_with('.'))
                    || linguist.is_vendored(&format!("{d}/"))
                    || linguist.is_documentation(&format!("{d}/")))
        })
        .collect();
    dirs.sort_by_key(|d| {
        (
            if d.is_empty() {
                0
            } else {
                d.matches('/').count() + 1
            },
            *d,
        )
    });

    let mut claimed: BTreeSet<String> = BTreeSet::new();
    let mut services = Vec::new();
    for dir in dirs {
        if is_claimed(&claimed, dir) {
            continue;
        }
        for detector in ecosystems::detectors() {
            if let Some(found) = detector.detect(tree, dir) {
                if !found.services.is_empty() {
                    // A service owns its folder and everything below it.
                    claimed.insert(dir.to_string());
                }
                claimed.extend(found.claimed);
                services.extend(found.services);
                break;
            }
        }
    }
    for s in &mut services {
        s.name = service_name(&s.name);
        // The repository's own Dockerfile is used as is: the port it exposes and the command it runs
        // are the ones that count.
        let dockerfile = tree::join(if s.path == "." { "" } else { &s.path }, "Dockerfile");
        if let Some(text) = tree.read_text(&dockerfile) {
            if let Some(port) = dockerfile_port(&text) {
                s.port = Some(port);
            }
            if let Some(command) = dockerfile_command(&text) {
                s.start_command = Some(command);
            }
        }
    }
    services.sort_by(|a, b| a.path.cmp(&b.path).then_with(|| a.name.cmp(&b.name)));
    let mut seen = BTreeSet::new();
    for s in &mut services {
        let mut name = s.name.clone();
        let mut n = 2;
        while !seen.insert(name.clone()) {
            name = format!("{}-{n}", s.name);
            n += 1;
        }
        s.name = name;
    }
    services
}

/// The first port a Dockerfile `EXPOSE`s (`EXPOSE 8080`, `EXPOSE 8080/tcp`).
fn dockerfile_port(dockerfile: &str) -> Option<u16> {
    dockerfile.lines().find_map(|line| {
        let mut words = line.split_whitespace();
        if !words.next()?.eq_ignore_ascii_case("EXPOSE") {
            return None;
        }
        words.find_map(|w| w.split('/').next()?.parse().ok())
    })
}

/// The command the image runs: ENTRYPOINT and CMD of the last stage, exec form (JSON) or shell form.
fn dockerfile_command(dockerfile: &str) -> Option<String> {
    let (mut entrypoint, mut cmd) = (None, None);
    for line in dockerfile.lines() {
        let line = line.trim();
        let Some((word, rest)) = line.split_once(char::is_whitespace) else {
            continue;
        };
        let slot = match word.to_ascii_uppercase().as_str() {
            "FROM" => {
                (entrypoint, cmd) = (None, None);
                continue;
            }
            "ENTRYPOINT" => &mut entrypoint,
            "CMD" => &mut cmd,
            _ => continue,
        };
        let rest = rest.trim();
        *slot = Some(match serde_json::from_str::<Vec<String>>(rest) {
            Ok(words) => words.join(" "),
            Err(_) => rest.to_string(),
        });
    }
    match (entrypoint, cmd) {
        (Some(e), Some(c)) => Some(format!("{e} {c}")),
        (e, c) => e.or(c),
    }
}

fn is_claimed(claimed: &BTreeSet<String>, dir: &str) -> bool {
    claimed
        .iter()
        .any(|c| c == dir || c.is_empty() && !dir.is_empty() || dir.starts_with(&format!("{c}/")))
}

/// A service name usable as an image name and a DNS label: lower-case letters, digits and dashes.
pub fn service_name(raw: &str) -> String {
    let raw = raw.rsplit('/').next().unwrap_or(raw);
    let out: String = crate::profile::slug(raw).chars().take(40).collect();
    let out = out.trim_end_matches('-');
    if out.is_empty() {
        "app".to_string()
    } else {
        out.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_names_are_dns_labels() {
        assert_eq!(service_name("@shop/Web_App"), "web-app");
        assert_eq!(service_name("My API!!"), "my-api");
        assert_eq!(service_name("___"), "app");
        assert_eq!(service_name(&"x".repeat(80)).len(), 40);
    }

    #[test]
    fn exposed_port_of_a_dockerfile() {
        assert_eq!(
            dockerfile_port("FROM x\nexpose 8080/tcp 9090\n"),
            Some(8080)
        );
        assert_eq!(dockerfile_port("FROM x\nEXPOSE ${PORT}\n"), None);
        assert_eq!(dockerfile_port("FROM x\n# EXPOSE 1\n"), None);
    }

    #[test]
    fn command_of_a_dockerfile() {
        let df = "FROM a AS build\nCMD [\"make\"]\nFROM b\nCMD [\"uvicorn\", \"main:app\", \"--port\", \"9000\"]\n";
        assert_eq!(
            dockerfile_command(df).as_deref(),
            Some("uvicorn main:app --port 9000")
        );
        let df = "FROM b\nENTRYPOINT [\"/app/server\"]\nCMD --verbose\n";
        assert_eq!(
            dockerfile_command(df).as_deref(),
            Some("/app/server --verbose")
        );
        assert_eq!(dockerfile_command("FROM b\nRUN x\n"), None);
    }

    #[test]
    fn claimed_dirs_cover_their_subtrees() {
        let claimed: BTreeSet<String> = ["apps/web".to_string()].into();
        assert!(is_claimed(&claimed, "apps/web"));
        assert!(is_claimed(&claimed, "apps/web/src"));
        assert!(!is_claimed(&claimed, "apps/web2"));
        let root: BTreeSet<String> = [String::new()].into();
        assert!(is_claimed(&root, "anything"));
    }
}
