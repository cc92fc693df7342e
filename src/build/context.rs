//! The build context: the files of a directory that `.dockerignore` lets through, as a tar archive.
//!
//! Pure over the directory: symlinks are archived as links and never followed, so nothing outside the
//! context is read; sockets, FIFOs and devices are left out.

use regex::Regex;
use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

/// The largest context sent to the engine.
pub const MAX_CONTEXT_BYTES: u64 = 2 << 30;

/// `.dockerignore` rules, matched the way the Docker CLI matches them.
#[derive(Debug, Default)]
pub struct IgnoreRules {
    rules: Vec<Rule>,
    has_exceptions: bool,
}

#[derive(Debug)]
struct Rule {
    pattern: Regex,
    /// `!pattern`: lets back in what an earlier rule excluded.
    exception: bool,
}

impl IgnoreRules {
    /// Parses a `.dockerignore` file's text; patterns that cannot be compiled are ignored.
    pub fn parse(text: &str) -> IgnoreRules {
        let mut rules = Vec::new();
        for line in text.lines() {
            let line = line.trim_start_matches('\u{feff}');
            if line.starts_with('#') {
                continue;
            }
            let mut pattern = line.trim();
            let exception = pattern.starts_with('!');
            if exception {
                pattern = pattern[1..].trim();
            }
            if pattern.is_empty() {
                continue;
            }
            let cleaned = clean_pattern(pattern);
            if let Ok(regex) = Regex::new(&pattern_regex(&cleaned)) {
                rules.push(Rule {
                    pattern: regex,
                    exception,
                });
            }
        }
        let has_exceptions = rules.iter().any(|r| r.exception);
        IgnoreRules {
            rules,
            has_exceptions,
        }
    }

    /// Whether `path` (relative, `/`-separated) is left out: the last rule matching it, or one of its
    /// parent folders, decides.
    pub fn excludes(&self, path: &str) -> bool {
        let parents: Vec<&str> = path.split('/').collect();
        let mut excluded = false;
        for rule in &self.rules {
            let mut matched = rule.pattern.is_match(path);
            if !matched && parents.len() > 1 {
                matched =
                    (1..parents.len()).any(|n| rule.pattern.is_match(&parents[..n].join("/")));
            }
            if matched {
                excluded = !rule.exception;
            }
        }
        excluded
    }
}

/// `filepath.Clean` of a pattern, made relative: `./a//b/` is `a/b`, `/a` is `a`.
fn clean_pattern(pattern: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in pattern.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|p| *p != "..") {
                    parts.pop();
                } else if !pattern.starts_with('/') {
                    parts.push("..");
                }
            }
            p => parts.push(p),
        }
    }
    if parts.is_empty() {
        ".".to_string()
    } else {
        parts.join("/")
    }
}

/// Go's `filepath.Match` syntax plus `**`, as the Docker CLI's pattern matcher translates it.
fn pattern_regex(pattern: &str) -> String {
    let mut out = String::from("^");
    let chars: Vec<char> = pattern.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        match c {
            '*' if chars.get(i) == Some(&'*') => {
                i += 1;
                if chars.get(i) == Some(&'/') {
                    i += 1;
                }
                if i == chars.len() {
                    out.push_str(".*");
                } else {
                    out.push_str("(.*/)?");
                }
            }
            '*' => out.push_str("[^/]*"),
            '?' => out.push_str("[^/]"),
            '.' | '$' | '+' | '(' | ')' | '|' | '^' | '{' | '}' => {
                out.push('\\');
                out.push(c);
            }
            '\\' => match chars.get(i) {
                Some(next) => {
                    out.push_str(&regex::escape(&next.to_string()));
                    i += 1;
                }
                None => out.push_str("\\\\"),
            },
            c => out.push(c),
        }
    }
    out.push('$');
    out
}

/// One entry of the context, relative to its root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContextEntry {
    Dir(String),
    File(String),
    Symlink { path: String, target: PathBuf },
}

impl ContextEntry {
    pub fn path(&self) -> &str {
        match self {
            ContextEntry::Dir(p) | ContextEntry::File(p) => p,
            ContextEntry::Symlink { path, .. } => path,
        }
    }
}

/// The entries of `root` the context carries, sorted, honouring the ignore file: `<Dockerfile>.dockerignore`
/// beside the Dockerfile when there is one (as BuildKit reads it), else `root/.dockerignore`. The
/// Dockerfile (relative to `root`) and `.dockerignore` are always carried, as the Docker CLI does.
pub fn context_entries(root: &Path, dockerfile: &str) -> io::Result<Vec<ContextEntry>> {
    let mut rules = None;
    for ignore_file in [
        format!("{dockerfile}.dockerignore"),
        ".dockerignore".to_string(),
    ] {
        match fs::read_to_string(root.join(ignore_file)) {
            Ok(text) => {
                rules = Some(IgnoreRules::parse(&text));
                break;
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    let rules = rules.unwrap_or_default();
    let always = [clean_pattern(dockerfile), ".dockerignore".to_string()];
    let mut entries = Vec::new();
    walk(root, "", &rules, &always, &mut entries)?;
    Ok(entries)
}

fn walk(
    dir: &Path,
    prefix: &str,
    rules: &IgnoreRules,
    always: &[String],
    entries: &mut Vec<ContextEntry>,
) -> io::Result<()> {
    let mut children: Vec<(String, PathBuf)> = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        // Names that are not UTF-8 cannot be matched against rules nor named in a Dockerfile.
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        children.push((name, entry.path()));
    }
    children.sort();
    for (name, path) in children {
        let rel = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        let meta = fs::symlink_metadata(&path)?;
        let kept = !rules.excludes(&rel) || always.contains(&rel);
        let kind = meta.file_type();
        if kind.is_dir() {
            if kept {
                entries.push(ContextEntry::Dir(rel.clone()));
            }
            // An excluded folder may still hold files an exception lets back in.
            if kept
                || rules.has_exceptions
                || always.iter().any(|a| a.starts_with(&format!("{rel}/")))
            {
                walk(&path, &rel, rules, always, entries)?;
            }
        } else if !kept {
            continue;
        } else if kind.is_symlink() {
            entries.push(ContextEntry::Symlink {
                path: rel,
                target: fs::read_link(&path)?,
            });
        } else if kind.is_file() {
            entries.push(ContextEntry::File(rel));
        }
    }
    Ok(())
}

/// The context as an uncompressed tar, files owned by root, with `replacements` (relative path →
/// contents) standing in for the files of those paths, e.g. a Dockerfile with redirected images.
pub fn context_archive(
    root: &Path,
    dockerfile: &str,
    replacements: &[(String, Vec<u8>)],
) -> io::Result<Vec<u8>> {
    let entries = context_entries(root, dockerfile)?;
    let mut builder = tar::Builder::new(Vec::new());
    builder.follow_symlinks(false);
    let mut total: u64 = 0;
    for entry in &entries {
        let rel = entry.path();
        if Path::new(rel)
            .components()
            .any(|c| !matches!(c, Component::Normal(_)))
        {
            continue;
        }
        let full = root.join(rel);
        let meta = fs::symlink_metadata(&full)?;
        let mut header = tar::Header::new_gnu();
        header.set_metadata(&meta);
        header.set_uid(0);
        header.set_gid(0);
        match entry {
            ContextEntry::Dir(_) => {
                header.set_size(0);
                builder.append_data(&mut header, rel, io::empty())?;
            }
            ContextEntry::Symlink { target, .. } => {
                // A replaced link (the Dockerfile) is archived as the file it stands for.
                if let Some((_, contents)) = replacements.iter().find(|(p, _)| p == rel) {
                    let mut file = tar::Header::new_gnu();
                    file.set_mode(0o644);
                    file.set_size(contents.len() as u64);
                    total += contents.len() as u64;
                    builder.append_data(&mut file, rel, contents.as_slice())?;
                } else {
                    header.set_size(0);
                    builder.append_link(&mut header, rel, target)?;
                }
            }
            ContextEntry::File(_) => {
                if let Some((_, contents)) = replacements.iter().find(|(p, _)| p == rel) {
                    header.set_size(contents.len() as u64);
                    total += contents.len() as u64;
                    builder.append_data(&mut header, rel, contents.as_slice())?;
                } else {
                    total += meta.len();
                    if total > MAX_CONTEXT_BYTES {
                        return Err(io::Error::other(format!(
                            "the build context is larger than {} MiB",
                            MAX_CONTEXT_BYTES >> 20
                        )));
                    }
                    builder.append_data(&mut header, rel, fs::File::open(&full)?)?;
                }
            }
        }
    }
    builder.into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn ignores(rules: &str, path: &str) -> bool {
        IgnoreRules::parse(rules).excludes(path)
    }

    #[test]
    fn patterns_match_like_the_docker_cli() {
        let cases: &[(&str, &str, bool)] = &[
            ("node_modules", "node_modules", true),
            ("node_modules", "node_modules/express/index.js", true),
            ("node_modules", "src/node_modules", false),
            ("**/node_modules", "src/node_modules/a.js", true),
            ("*.md", "README.md", true),
            ("*.md", "docs/guide.md", false),
            ("**/*.md", "docs/guide.md", true),
            ("docs/*.md", "docs/guide.md", true),
            ("/build", "build/out.bin", true),
            ("./dist/", "dist/app.js", true),
            ("a?c", "abc", true),
            ("a?c", "a/c", false),
            ("[ab].txt", "b.txt", true),
            ("[ab].txt", "c.txt", false),
            ("file.txt", "fileXtxt", false),
            ("a/**", "a/b/c", true),
            ("a/**/z", "a/z", true),
            ("a/**/z", "a/b/c/z", true),
            ("# a comment", "# a comment", false),
            ("\\#hash", "#hash", true),
            ("  spaced  ", "spaced", true),
        ];
        for (rules, path, want) in cases {
            assert_eq!(ignores(rules, path), *want, "{rules:?} on {path:?}");
        }
    }

    #[test]
    fn the_last_matching_rule_wins_and_exceptions_let_files_back_in() {
        let rules = "*.md\n!README.md\n";
        assert!(ignores(rules, "CHANGES.md"));
        assert!(!ignores(rules, "README.md"));
        let rules = "!README.md\n*.md\n";
        assert!(ignores(rules, "README.md"));
        let rules = "logs\n!logs/keep.txt\n";
        assert!(ignores(rules, "logs/today.txt"));
        assert!(!ignores(rules, "logs/keep.txt"));
    }

    fn paths(entries: &[ContextEntry]) -> Vec<&str> {
        entries.iter().map(|e| e.path()).collect()
    }

    #[test]
    fn the_context_honours_dockerignore_but_keeps_the_dockerfile() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("src")).unwrap();
        fs::create_dir_all(root.join("node_modules/x")).unwrap();
        fs::create_dir_all(root.join("logs")).unwrap();
        fs::write(root.join("src/app.js"), "x").unwrap();
        fs::write(root.join("node_modules/x/i.js"), "x").unwrap();
        fs::write(root.join("logs/a.log"), "x").unwrap();
        fs::write(root.join("logs/keep.log"), "x").unwrap();
        fs::write(root.join("Dockerfile"), "FROM scratch\n").unwrap();
        fs::write(root.join(".env"), "SECRET=1").unwrap();
        fs::write(
            root.join(".dockerignore"),
            "node_modules\nlogs\n!logs/keep.log\n.env\nDockerfile\n.dockerignore\n",
        )
        .unwrap();
        let entries = context_entries(root, "Dockerfile").unwrap();
        assert_eq!(
            paths(&entries),
            [
                ".dockerignore",
                "Dockerfile",
                "logs/keep.log",
                "src",
                "src/app.js"
            ]
        );
    }

    #[test]
    fn a_dockerfile_specific_ignore_file_wins() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("api")).unwrap();
        fs::create_dir_all(root.join("web")).unwrap();
        fs::write(root.join("api/Dockerfile"), "FROM scratch\n").unwrap();
        fs::write(root.join("api/Dockerfile.dockerignore"), "web\n").unwrap();
        fs::write(root.join("web/index.js"), "x").unwrap();
        fs::write(root.join(".dockerignore"), "api\n").unwrap();
        let entries = context_entries(root, "api/Dockerfile").unwrap();
        assert_eq!(
            paths(&entries),
            [
                ".dockerignore",
                "api",
                "api/Dockerfile",
                "api/Dockerfile.dockerignore"
            ]
        );
    }

    #[test]
    fn symlinks_are_archived_as_links_and_never_followed() {
        let outside = tempfile::tempdir().unwrap();
        fs::write(outside.path().join("secret.txt"), "outside").unwrap();
        fs::create_dir(outside.path().join("tree")).unwrap();
        fs::write(outside.path().join("tree/deep.txt"), "outside").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::write(root.join("Dockerfile"), "FROM scratch\n").unwrap();
        symlink(outside.path().join("secret.txt"), root.join("leak.txt")).unwrap();
        symlink(outside.path().join("tree"), root.join("leakdir")).unwrap();
        symlink(".", root.join("loop")).unwrap();

        let archive = context_archive(root, "Dockerfile", &[]).unwrap();
        let mut tar = tar::Archive::new(archive.as_slice());
        let mut seen = Vec::new();
        for entry in tar.entries().unwrap() {
            let mut entry = entry.unwrap();
            let path = entry.path().unwrap().to_string_lossy().into_owned();
            let kind = entry.header().entry_type();
            let mut body = String::new();
            io::Read::read_to_string(&mut entry, &mut body).unwrap();
            assert!(
                !body.contains("outside"),
                "{path} carries a file from outside"
            );
            seen.push((path, kind.is_symlink()));
        }
        assert_eq!(
            seen,
            [
                ("Dockerfile".to_string(), false),
                ("leak.txt".to_string(), true),
                ("leakdir".to_string(), true),
                ("loop".to_string(), true),
            ]
        );
    }

    #[test]
    fn a_replacement_stands_in_for_the_file_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("Dockerfile"), "FROM python:3.12\n").unwrap();
        let archive = context_archive(
            dir.path(),
            "Dockerfile",
            &[("Dockerfile".into(), b"FROM mirror/python:3.12\n".to_vec())],
        )
        .unwrap();
        let mut tar = tar::Archive::new(archive.as_slice());
        let mut entry = tar.entries().unwrap().next().unwrap().unwrap();
        let mut body = String::new();
        io::Read::read_to_string(&mut entry, &mut body).unwrap();
        assert_eq!(body, "FROM mirror/python:3.12\n");
    }
}
