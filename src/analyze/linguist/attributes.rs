//! `.gitattributes` files (root and nested) and the linguist attributes they set on paths.

use super::Attributes;
use crate::analyze::tree::RepoTree;
use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

#[derive(Debug, Clone, Copy)]
enum Key {
    Vendored,
    Generated,
    Documentation,
    Detectable,
    Language,
}

/// One attribute as git states it.
#[derive(Debug, Clone)]
enum State {
    Set,
    Unset,
    Unspecified,
    Value(String),
}

/// One `.gitattributes` file: its folder and its linguist lines.
#[derive(Debug)]
struct AttributesFile {
    /// The folder holding the file, with a trailing `/`, or "" for the root.
    dir: String,
    globs: GlobSet,
    /// Per glob (same index), what the line sets.
    lines: Vec<Vec<(Key, State)>>,
}

/// Every `.gitattributes` file of a tree, ready to answer for any path.
#[derive(Debug, Default)]
pub struct GitAttributes {
    /// Shallow before deep: deeper files and later lines win.
    files: Vec<AttributesFile>,
}

impl GitAttributes {
    pub fn load(tree: &RepoTree) -> Self {
        let mut files = Vec::new();
        for f in tree.files() {
            let (dir, name) = match f.path.rsplit_once('/') {
                Some((d, n)) => (format!("{d}/"), n),
                None => (String::new(), f.path.as_str()),
            };
            if name != ".gitattributes" {
                continue;
            }
            if let Some(text) = tree.read_text(&f.path)
                && let Some(file) = AttributesFile::parse(dir, &text)
            {
                files.push(file);
            }
        }
        files.sort_by_key(|f| f.dir.matches('/').count());
        GitAttributes { files }
    }

    /// Parses one `.gitattributes` text found in `dir` ("" for the root, else ending in `/`).
    pub fn from_text(dir: &str, text: &str) -> Self {
        GitAttributes {
            files: AttributesFile::parse(dir.to_string(), text)
                .into_iter()
                .collect(),
        }
    }

    pub fn for_path(&self, path: &str) -> Attributes {
        let mut attrs = Attributes::default();
        if self.files.is_empty() {
            return attrs;
        }
        let mut hits = Vec::new();
        for file in &self.files {
            let Some(rel) = path.strip_prefix(file.dir.as_str()) else {
                continue;
            };
            file.globs.matches_into(rel, &mut hits);
            hits.sort_unstable();
            for &i in &hits {
                for (key, state) in &file.lines[i] {
                    apply(&mut attrs, *key, state);
                }
            }
        }
        attrs
    }
}

fn apply(attrs: &mut Attributes, key: Key, state: &State) {
    let flag = match state {
        State::Set => Some(true),
        State::Unset => Some(false),
        State::Unspecified => None,
        // linguist: any value but "false" counts as true.
        State::Value(v) => Some(v != "false"),
    };
    match key {
        Key::Vendored => attrs.vendored = flag,
        Key::Generated => attrs.generated = flag,
        Key::Documentation => attrs.documentation = flag,
        Key::Detectable => attrs.detectable = flag,
        Key::Language => {
            attrs.language = match state {
                State::Value(v) => Some(v.clone()),
                _ => None,
            }
        }
    }
}

impl AttributesFile {
    fn parse(dir: String, text: &str) -> Option<AttributesFile> {
        let mut builder = GlobSetBuilder::new();
        let mut lines = Vec::new();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with("[attr]") {
                continue;
            }
            let mut words = line.split_ascii_whitespace();
            let Some(pattern) = words.next() else {
                continue;
            };
            let sets: Vec<(Key, State)> = words.filter_map(attribute).collect();
            // Negative patterns are not allowed in gitattributes; a trailing `/` matches no file.
            if sets.is_empty() || pattern.starts_with('!') || pattern.ends_with('/') {
                continue;
            }
            let glob = if pattern.trim_start_matches('/').contains('/') {
                pattern.trim_start_matches('/').to_string()
            } else {
                format!("**/{pattern}")
            };
            let Ok(glob) = GlobBuilder::new(&glob)
                .literal_separator(true)
                .backslash_escape(true)
                .build()
            else {
                continue;
            };
            builder.add(glob);
            lines.push(sets);
        }
        if lines.is_empty() {
            return None;
        }
        Some(AttributesFile {
            dir,
            globs: builder.build().ok()?,
            lines,
        })
    }
}

/// One `attr`, `-attr`, `!attr` or `attr=value` word, when it is a linguist attribute.
fn attribute(word: &str) -> Option<(Key, State)> {
    let (name, state) = if let Some(n) = word.strip_prefix('-') {
        (n, State::Unset)
    } else if let Some(n) = word.strip_prefix('!') {
        (n, State::Unspecified)
    } else if let Some((n, v)) = word.split_once('=') {
        (n, State::Value(v.to_string()))
    } else {
        (word, State::Set)
    };
    let key = match name {
        "linguist-vendored" => Key::Vendored,
        "linguist-generated" => Key::Generated,
        "linguist-documentation" => Key::Documentation,
        "linguist-detectable" => Key::Detectable,
        "linguist-language" => Key::Language,
        _ => return None,
    };
    Some((key, state))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_and_precedence() {
        let a = GitAttributes::from_text(
            "",
            "*.js linguist-vendored\nlib/keep.js -linguist-vendored\n/docs/** linguist-documentation=false\n*.inc linguist-language=PHP\n",
        );
        assert_eq!(a.for_path("x/y/a.js").vendored, Some(true));
        assert_eq!(a.for_path("lib/keep.js").vendored, Some(false));
        assert_eq!(a.for_path("docs/a/b.md").documentation, Some(false));
        assert_eq!(a.for_path("src/docs/b.md").documentation, None);
        assert_eq!(a.for_path("a/b.inc").language.as_deref(), Some("PHP"));
        assert_eq!(a.for_path("a/b.rs"), Attributes::default());
    }

    #[test]
    fn nested_file_is_relative_to_its_folder() {
        let a = GitAttributes::from_text("sub/", "gen/*.rs linguist-generated\n");
        assert_eq!(a.for_path("sub/gen/a.rs").generated, Some(true));
        assert_eq!(a.for_path("gen/a.rs").generated, None);
    }
}
