//! `RepoTree`: the list of files under an analyzed directory and bounded reads of their contents.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Bytes read from each file to classify it (shebang, modeline, heuristics, binary check).
pub const HEAD_BYTES: usize = 8 * 1024;
/// Largest manifest or source file the ecosystem detectors read in full.
pub const TEXT_LIMIT: u64 = 1024 * 1024;

/// One regular file of the tree. Symlinks are never followed and never listed.
#[derive(Debug, Clone)]
pub struct TreeFile {
    /// Relative to the root, `/`-separated; lossy when the name is not UTF-8.
    pub path: String,
    pub size: u64,
    /// The name exactly as on disk, when `path` had to be made lossy.
    pub raw_path: Option<PathBuf>,
}

/// The files of a directory tree, as a git work tree would hold them (`.gitignore` honoured, `.git` skipped).
#[derive(Debug, Default)]
pub struct RepoTree {
    root: PathBuf,
    /// Sorted by path.
    files: Vec<TreeFile>,
    /// Every directory that holds at least one listed file, `""` for the root.
    dirs: BTreeSet<String>,
    pub warnings: Vec<String>,
}

impl RepoTree {
    /// Builds a tree from an explicit file list, for tests and for callers that already walked.
    pub fn from_files(
        root: impl Into<PathBuf>,
        mut files: Vec<TreeFile>,
        warnings: Vec<String>,
    ) -> Self {
        files.sort_by(|a, b| a.path.cmp(&b.path));
        files.dedup_by(|a, b| a.path == b.path);
        let mut dirs = BTreeSet::new();
        dirs.insert(String::new());
        for f in &files {
            let mut p = f.path.as_str();
            while let Some(i) = p.rfind('/') {
                p = &p[..i];
                if !dirs.insert(p.to_string()) {
                    break;
                }
            }
        }
        RepoTree {
            root: root.into(),
            files,
            dirs,
            warnings,
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn files(&self) -> &[TreeFile] {
        &self.files
    }

    /// Directories holding files, `""` for the root, sorted.
    pub fn dirs(&self) -> impl Iterator<Item = &str> {
        self.dirs.iter().map(String::as_str)
    }

    pub fn is_dir(&self, rel: &str) -> bool {
        self.dirs.contains(rel.trim_end_matches('/'))
    }

    pub fn exists(&self, rel: &str) -> bool {
        self.find(rel).is_some()
    }

    pub fn find(&self, rel: &str) -> Option<&TreeFile> {
        self.files
            .binary_search_by(|f| f.path.as_str().cmp(rel))
            .ok()
            .map(|i| &self.files[i])
    }

    /// Every file below `dir` (recursively); `""` means the whole tree.
    pub fn files_under<'a>(&'a self, dir: &str) -> impl Iterator<Item = &'a TreeFile> + 'a {
        let prefix = if dir.is_empty() {
            String::new()
        } else {
            format!("{dir}/")
        };
        let start = self
            .files
            .partition_point(|f| f.path.as_str() < prefix.as_str());
        self.files[start..]
            .iter()
            .take_while(move |f| f.path.starts_with(&prefix))
    }

    /// File names directly inside `dir`.
    pub fn names_in<'a>(&'a self, dir: &str) -> impl Iterator<Item = &'a str> + 'a {
        let skip = if dir.is_empty() { 0 } else { dir.len() + 1 };
        self.files_under(dir)
            .map(move |f| &f.path[skip..])
            .filter(|rest| !rest.contains('/'))
    }

    /// Sub-directory names directly inside `dir`.
    pub fn subdirs_of<'a>(&'a self, dir: &str) -> impl Iterator<Item = &'a str> + 'a {
        let prefix = if dir.is_empty() {
            String::new()
        } else {
            format!("{dir}/")
        };
        let len = prefix.len();
        self.dirs
            .range(prefix.clone()..)
            .take_while(move |d| d.starts_with(&prefix))
            .filter_map(move |d| {
                let rest = &d[len..];
                (!rest.is_empty() && !rest.contains('/')).then_some(rest)
            })
    }

    fn disk_path(&self, rel: &str) -> PathBuf {
        match self.find(rel).and_then(|f| f.raw_path.clone()) {
            Some(raw) => self.root.join(raw),
            None => self.root.join(rel),
        }
    }

    /// The whole file as UTF-8 text (invalid sequences replaced), or None when it is missing,
    /// larger than [`TEXT_LIMIT`] or unreadable.
    pub fn read_text(&self, rel: &str) -> Option<String> {
        let file = self.find(rel)?;
        if file.size > TEXT_LIMIT {
            return None;
        }
        let bytes = read_prefix(&self.disk_path(rel), TEXT_LIMIT as usize).ok()?;
        Some(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// The first [`HEAD_BYTES`] of a file.
    pub fn read_head(&self, rel: &str) -> Option<Vec<u8>> {
        self.find(rel)?;
        read_prefix(&self.disk_path(rel), HEAD_BYTES).ok()
    }
}

/// Reads at most `limit` bytes from the start of a file.
pub fn read_prefix(path: &Path, limit: usize) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(limit.min(64 * 1024));
    File::open(path)?.take(limit as u64).read_to_end(&mut buf)?;
    Ok(buf)
}

/// The folder holding `path` (`""` for a top-level entry); None for the root itself.
pub fn parent(path: &str) -> Option<&str> {
    if path.is_empty() {
        None
    } else {
        Some(path.rsplit_once('/').map_or("", |(d, _)| d))
    }
}

/// `path` relative to `base` (`path` is `base` or below it); `""` when they are the same.
pub fn relative_to(path: &str, base: &str) -> String {
    if base.is_empty() {
        return path.to_string();
    }
    if path == base {
        return String::new();
    }
    path.strip_prefix(&format!("{base}/"))
        .unwrap_or(path)
        .to_string()
}

/// `dir/rel` with `.` and `..` resolved (`\` accepted as a separator); None when it leaves the root.
pub fn resolve(dir: &str, rel: &str) -> Option<String> {
    let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    for part in rel.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

/// Joins a directory (`""` for the root) and a relative name.
pub fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() || dir == "." {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

/// Why a directory cannot be analyzed at all.
#[derive(Debug, thiserror::Error)]
pub enum TreeError {
    #[error("{0}: no such directory")]
    Missing(String),
    #[error("{0}: is a file, not a directory")]
    NotADirectory(String),
    #[error("{0}: cannot read directory: {1}")]
    Unreadable(String, std::io::Error),
}

impl RepoTree {
    /// Lists the files under `root` without following symlinks. Unreadable entries below the root become
    /// warnings; an unusable root is an error.
    pub fn scan(root: &Path) -> Result<RepoTree, TreeError> {
        let shown = root.display().to_string();
        let meta = match std::fs::metadata(root) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(TreeError::Missing(shown));
            }
            Err(e) => return Err(TreeError::Unreadable(shown, e)),
        };
        if !meta.is_dir() {
            return Err(TreeError::NotADirectory(shown));
        }
        std::fs::read_dir(root).map_err(|e| TreeError::Unreadable(shown.clone(), e))?;

        let walker = ignore::WalkBuilder::new(root)
            .hidden(false)
            .parents(false)
            .ignore(false)
            .git_global(false)
            .git_exclude(false)
            .require_git(false)
            .follow_links(false)
            .threads(2)
            .filter_entry(|e| e.file_name() != ".git" && e.file_name() != ".opsmith")
            .build_parallel();

        let (tx, rx) = std::sync::mpsc::channel::<Result<TreeFile, String>>();
        walker.run(|| {
            let tx = tx.clone();
            Box::new(move |entry| {
                let msg = match entry {
                    Err(e) => Some(Err(e.to_string())),
                    Ok(e) => match e.file_type() {
                        Some(t) if t.is_file() => {
                            let size = e.metadata().map(|m| m.len()).unwrap_or(0);
                            let rel = e.path().strip_prefix(root).unwrap_or(e.path());
                            Some(Ok(tree_file(rel, size)))
                        }
                        Some(t) if t.is_symlink() => Some(Err(format!(
                            "{}: symlink not followed",
                            e.path().strip_prefix(root).unwrap_or(e.path()).display()
                        ))),
                        _ => None,
                    },
                };
                if let Some(m) = msg {
                    let _ = tx.send(m);
                }
                ignore::WalkState::Continue
            })
        });
        drop(tx);
        let mut files = Vec::new();
        let mut warnings = Vec::new();
        let mut symlinks = 0usize;
        for m in rx {
            match m {
                Ok(f) => {
                    if f.raw_path.is_some() {
                        warnings.push(format!(
                            "{}: file name is not valid UTF-8 (shown lossily)",
                            f.path
                        ));
                    }
                    files.push(f)
                }
                Err(w) if w.ends_with("symlink not followed") => symlinks += 1,
                Err(w) => warnings.push(w),
            }
        }
        if symlinks > 0 {
            warnings.push(format!("{symlinks} symlink(s) not followed"));
        }
        warnings.sort();
        Ok(RepoTree::from_files(root, files, warnings))
    }
}

fn tree_file(rel: &Path, size: u64) -> TreeFile {
    let lossy: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let path = lossy.join("/");
    let raw_path = rel.to_str().is_none().then(|| rel.to_path_buf());
    TreeFile {
        path,
        size,
        raw_path,
    }
}

/// A tree on disk from `(path, contents)` pairs, for the detectors' unit tests.
#[cfg(test)]
pub(crate) fn tree_of(files: &[(&str, &str)]) -> (tempfile::TempDir, RepoTree) {
    let dir = tempfile::tempdir().unwrap();
    for (path, body) in files {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, body).unwrap();
    }
    let tree = RepoTree::scan(dir.path()).unwrap();
    (dir, tree)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_arithmetic() {
        assert_eq!(parent(""), None);
        assert_eq!(parent("api"), Some(""));
        assert_eq!(parent("apps/web/src"), Some("apps/web"));
        assert_eq!(relative_to("svc/api", "svc"), "api");
        assert_eq!(relative_to("svc", "svc"), "");
        assert_eq!(relative_to("svc", ""), "svc");
        assert_eq!(
            resolve("src/Web", "..\\Lib/./Lib.csproj").as_deref(),
            Some("src/Lib/Lib.csproj")
        );
        assert_eq!(resolve("a", "../../b"), None);
    }

    #[test]
    fn listing_queries() {
        let (_dir, tree) = tree_of(&[("a/b/c.txt", "x"), ("a/d.txt", "y"), ("e.txt", "z")]);
        assert_eq!(tree.names_in("a").collect::<Vec<_>>(), ["d.txt"]);
        assert_eq!(tree.subdirs_of("").collect::<Vec<_>>(), ["a"]);
        assert_eq!(tree.subdirs_of("a").collect::<Vec<_>>(), ["b"]);
        assert_eq!(tree.files_under("a").count(), 2);
        assert!(tree.is_dir("a/b") && !tree.is_dir("a/x"));
        assert_eq!(tree.read_text("e.txt").as_deref(), Some("z"));
        assert_eq!(tree.read_text("missing"), None);
    }
}
