//! Language detection the way GitHub's linguist does it, from linguist's own data files.
//!
//! Strategies run in linguist's order (modeline, filename, shebang, extension, XML, manpage, heuristics);
//! each narrows the candidates, and the first that leaves exactly one decides. linguist would hand
//! candidates still ambiguous after the heuristics to its Bayesian classifier, which opsmith does not ship:
//! `Linguist::fallback` makes a deterministic choice instead (primary extension, then how widely used).
//!
//! Known differences: only the file's first [`HEAD_LIMIT`] bytes are seen (linguist's heuristics read
//! 50 KiB), so a modeline in the last lines counts only for files that fit; binary means a NUL byte or many
//! control bytes (UTF-16 text counts as binary); generated files are a subset of linguist's `generated.rb`
//! plus the common "DO NOT EDIT" / `@generated` markers.

mod attributes;
mod generated;
pub mod heuristics;
pub mod languages;
mod modeline;
pub mod pattern;
mod shebang;

pub use attributes::GitAttributes;
use heuristics::Heuristics;
use languages::{LangId, LanguageType, Languages};
use pattern::Text;
use std::sync::OnceLock;

const LANGUAGES_YML: &str = include_str!("../../../data/linguist/languages.yml");
const HEURISTICS_YML: &str = include_str!("../../../data/linguist/heuristics.yml");
const VENDOR_YML: &str = include_str!("../../../data/linguist/vendor.yml");
const DOCUMENTATION_YML: &str = include_str!("../../../data/linguist/documentation.yml");

/// How much of a file the caller reads (`head`); a head this long may not be the whole file.
pub const HEAD_LIMIT: usize = crate::analyze::tree::HEAD_BYTES;

/// linguist's `.gitattributes` overrides for one path; `None` means "not set".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attributes {
    pub vendored: Option<bool>,
    pub generated: Option<bool>,
    pub documentation: Option<bool>,
    pub detectable: Option<bool>,
    pub language: Option<String>,
}

/// The verdict on one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Classified {
    /// The language as linguist names it, None when unknown or binary.
    pub language: Option<&'static str>,
    /// The name the language is counted under in repository statistics (its group), when the file counts
    /// at all: not vendored, documentation or generated, and a programming or markup language.
    pub stats_language: Option<&'static str>,
}

/// The step that decided a file's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// Empty or binary content: no language.
    Content,
    Modeline,
    Filename,
    Shebang,
    Extension,
    Xml,
    Heuristics,
    /// The deterministic stand-in for linguist's classifier (also: nothing matched at all).
    Fallback,
}

/// linguist's data, loaded once.
pub struct Linguist {
    pub languages: Languages,
    pub heuristics: Heuristics,
    vendor: PathRules,
    documentation: PathRules,
    xml: Option<LangId>,
    roff: [Option<LangId>; 2],
}

/// A list of path regexes from `vendor.yml` or `documentation.yml`, compiled lazily as one alternation.
struct PathRules {
    sources: Vec<String>,
    regex: OnceLock<Option<regex::bytes::Regex>>,
}

impl PathRules {
    fn parse(yaml: &str) -> PathRules {
        let sources: Vec<String> = serde_saphyr::from_str(yaml).unwrap_or_default();
        PathRules {
            sources,
            regex: OnceLock::new(),
        }
    }

    fn regex(&self) -> Option<&regex::bytes::Regex> {
        self.regex
            .get_or_init(|| {
                let joined = self
                    .sources
                    .iter()
                    .map(|s| format!("(?:{})", pattern::translate(s, false)))
                    .collect::<Vec<_>>()
                    .join("|");
                regex::bytes::RegexBuilder::new(&joined)
                    .unicode(false)
                    .size_limit(64 << 20)
                    // Room for the lazy DFA of a few hundred alternations, so states are not rebuilt.
                    .dfa_size_limit(32 << 20)
                    .build()
                    .ok()
            })
            .as_ref()
    }

    fn is_match(&self, path: &str) -> bool {
        self.regex().is_some_and(|r| r.is_match(path.as_bytes()))
    }
}

/// A small set of candidate languages, kept on the stack.
#[derive(Clone, Copy)]
struct Candidates {
    ids: [LangId; 32],
    len: usize,
}

impl Candidates {
    const EMPTY: Candidates = Candidates {
        ids: [0; 32],
        len: 0,
    };

    fn from(ids: &[LangId]) -> Candidates {
        let mut c = Candidates::EMPTY;
        for &id in ids.iter().take(32) {
            c.ids[c.len] = id;
            c.len += 1;
        }
        c
    }

    fn as_slice(&self) -> &[LangId] {
        &self.ids[..self.len]
    }

    /// linguist's narrowing step: a strategy's answer, intersected with the candidates so far when there
    /// are any; an empty result leaves the candidates as they were.
    fn narrow(&mut self, found: &[LangId]) {
        if found.is_empty() {
            return;
        }
        let next = if self.len == 0 {
            Candidates::from(found)
        } else {
            let mut n = Candidates::EMPTY;
            for &id in self.as_slice() {
                if found.contains(&id) {
                    n.ids[n.len] = id;
                    n.len += 1;
                }
            }
            n
        };
        if next.len > 0 {
            *self = next;
        }
    }

    fn single(&self) -> Option<LangId> {
        (self.len == 1).then(|| self.ids[0])
    }
}

impl Linguist {
    pub fn get() -> &'static Linguist {
        static L: OnceLock<Linguist> = OnceLock::new();
        L.get_or_init(Linguist::load)
    }

    fn load() -> Linguist {
        let languages = Languages::parse(LANGUAGES_YML);
        let heuristics = Heuristics::parse(HEURISTICS_YML, &languages);
        Linguist {
            xml: languages.by_name("XML"),
            roff: [languages.by_name("Roff Manpage"), languages.by_name("Roff")],
            heuristics,
            languages,
            vendor: PathRules::parse(VENDOR_YML),
            documentation: PathRules::parse(DOCUMENTATION_YML),
        }
    }

    /// Classifies one file from its path (relative, `/`-separated), its first bytes and its attributes.
    pub fn classify(&'static self, path: &str, head: &[u8], attrs: &Attributes) -> Classified {
        // `linguist-language` wins when it names a known language (by name or alias); else detect.
        let id = attrs
            .language
            .as_deref()
            .and_then(|name| self.languages.by_alias(name))
            .or_else(|| self.detect(path, head));
        let Some(id) = id else {
            return Classified {
                language: None,
                stats_language: None,
            };
        };
        let lang = self.languages.get(id);
        // Cheapest checks first: most data and prose files stop at the type.
        let counted = attrs.detectable.unwrap_or(matches!(
            lang.kind,
            LanguageType::Programming | LanguageType::Markup
        )) && !attrs.vendored.unwrap_or_else(|| self.is_vendored(path))
            && !attrs
                .documentation
                .unwrap_or_else(|| self.is_documentation(path))
            && !attrs
                .generated
                .unwrap_or_else(|| generated::is_generated(path, head));
        Classified {
            language: Some(lang.name.as_str()),
            stats_language: counted.then(|| self.languages.get(lang.group).name.as_str()),
        }
    }

    /// The language of a file from its path and first bytes, None for binary, empty or unknown files.
    pub fn detect(&self, path: &str, head: &[u8]) -> Option<LangId> {
        self.explain(path, head).0
    }

    /// The language's name and the strategy that decided it (for tests and diagnostics).
    pub fn explain_name(&self, path: &str, head: &[u8]) -> (Option<&str>, Strategy) {
        let (id, strategy) = self.explain(path, head);
        (id.map(|id| self.languages.get(id).name.as_str()), strategy)
    }

    /// [`Linguist::detect`], also saying which strategy decided.
    pub fn explain(&self, path: &str, head: &[u8]) -> (Option<LangId>, Strategy) {
        if head.is_empty() || is_binary(head) {
            return (None, Strategy::Content);
        }
        let name = path.rsplit('/').next().unwrap_or(path);

        // Modeline (the function tests cheaply for an editor setting before running any regex).
        if let Some(mode) = modeline::modeline(head, head.len() < HEAD_LIMIT)
            && let Some(id) = self.languages.by_alias(&mode)
        {
            return (Some(id), Strategy::Modeline);
        }

        let mut candidates = Candidates::EMPTY;
        candidates.narrow(self.languages.by_filename(name));
        if let Some(id) = candidates.single() {
            return (Some(id), Strategy::Filename);
        }

        if let Some(interpreter) = shebang::interpreter(head) {
            candidates.narrow(self.languages.by_interpreter(interpreter));
            if let Some(id) = candidates.single() {
                return (Some(id), Strategy::Shebang);
            }
        }

        let mut lower_buf = [0u8; 256];
        let lower = lowercase(name, &mut lower_buf);
        // Generic extensions never decide alone: only a heuristic (or an earlier strategy) can.
        let extension = if GENERIC_EXTENSIONS.iter().any(|e| lower.ends_with(e)) {
            None
        } else {
            self.extension(&lower)
        };
        if let Some((_, ids)) = extension {
            candidates.narrow(ids);
            if let Some(id) = candidates.single() {
                return (Some(id), Strategy::Extension);
            }
        }

        if candidates.len == 0 {
            // XML: an XML declaration in the first two lines.
            let two_lines = head
                .split(|&b| b == b'\n')
                .take(2)
                .fold(0, |n, l| n + l.len() + 1)
                .min(head.len());
            if memchr::memmem::find(&head[..two_lines], b"<?xml version=").is_some() {
                return (self.xml, Strategy::Xml);
            }
            // Manpage: conventional man page extensions.
            if is_manpage_name(&lower) {
                let roff: Vec<LangId> = self.roff.iter().flatten().copied().collect();
                candidates.narrow(&roff);
            }
        }

        if let Some(index) = self.heuristics.find(&lower) {
            let found = self.heuristics.run(index, &Text::new(head));
            if found.len() == 1 {
                return (Some(found[0]), Strategy::Heuristics);
            }
            if !found.is_empty() {
                candidates = Candidates::from(found);
            }
        }

        (
            self.fallback(&candidates, extension.map(|(e, _)| e)),
            Strategy::Fallback,
        )
    }

    /// The deterministic stand-in for linguist's Bayesian classifier, for candidates the heuristics left
    /// ambiguous: first a language whose primary (first-listed) extension is the file's extension, then
    /// the more widely used language ([`WIDELY_USED`]), then programming over markup over data over prose,
    /// then languages.yml order (alphabetical).
    fn fallback(&self, candidates: &Candidates, extension: Option<&str>) -> Option<LangId> {
        candidates.as_slice().iter().copied().min_by_key(|&id| {
            let lang = self.languages.get(id);
            let primary = extension.is_some() && lang.primary_extension.as_deref() == extension;
            let usage = WIDELY_USED
                .iter()
                .position(|n| *n == lang.name)
                .unwrap_or(WIDELY_USED.len());
            (!primary, usage, lang.kind.rank(), id)
        })
    }

    /// The longest extension of a lower-cased file name that some language declares (`.d.ts` before
    /// `.ts`), with its languages. A dotfile's whole name counts as its extension, as in linguist.
    fn extension<'a>(&self, lower: &'a str) -> Option<(&'a str, &[LangId])> {
        let max = self.languages.max_extension_dots;
        let skip = lower.matches('.').count().saturating_sub(max);
        lower.match_indices('.').skip(skip).find_map(|(i, _)| {
            let ext = &lower[i..];
            let ids = self.languages.by_extension(ext);
            (!ids.is_empty()).then_some((ext, ids))
        })
    }

    /// Whether linguist's `vendor.yml` marks the path as vendored (dependencies, build output, …).
    pub fn is_vendored(&self, path: &str) -> bool {
        self.vendor.is_match(path)
    }

    /// Whether linguist's `documentation.yml` marks the path as documentation.
    pub fn is_documentation(&self, path: &str) -> bool {
        self.documentation.is_match(path)
    }
}

/// linguist's `generic.yml`: extensions too common to name a language by themselves.
const GENERIC_EXTENSIONS: &[&str] = &[
    ".1",
    ".2",
    ".3",
    ".4",
    ".5",
    ".6",
    ".7",
    ".8",
    ".9",
    ".action",
    ".alg",
    ".app",
    ".cmp",
    ".msg",
    ".network",
    ".pkg",
    ".resource",
    ".sol",
    ".srv",
    ".stl",
    ".tag",
    ".target",
    ".url",
];

/// Languages by how common they are on GitHub, most common first: the fallback's tie-breaker (a `.rs` file
/// no heuristic recognises is far more likely Rust than RenderScript).
const WIDELY_USED: &[&str] = &[
    "JavaScript",
    "Python",
    "TypeScript",
    "Java",
    "C#",
    "C++",
    "PHP",
    "Shell",
    "C",
    "Go",
    "Ruby",
    "Rust",
    "Kotlin",
    "Swift",
    "HTML",
    "CSS",
    "Markdown",
    "Dart",
    "Objective-C",
    "Scala",
    "Lua",
    "PowerShell",
    "R",
    "Perl",
    "MATLAB",
    "Haskell",
    "Elixir",
    "Groovy",
    "Clojure",
    "Julia",
    "Vue",
    "SQL",
    "Makefile",
    "Dockerfile",
    "TeX",
    "Assembly",
    "Erlang",
    "OCaml",
    "F#",
    "Fortran",
    "Visual Basic .NET",
    "Pascal",
    "Prolog",
    "JSON",
    "YAML",
    "XML",
    "Text",
];

/// Lower-cases an ASCII file name into `buf` without allocating when it fits.
fn lowercase<'a>(name: &'a str, buf: &'a mut [u8; 256]) -> std::borrow::Cow<'a, str> {
    if !name.bytes().any(|b| b.is_ascii_uppercase()) {
        return std::borrow::Cow::Borrowed(name);
    }
    if name.len() <= buf.len() {
        let out = &mut buf[..name.len()];
        out.copy_from_slice(name.as_bytes());
        out.make_ascii_lowercase();
        if let Ok(s) = std::str::from_utf8(out) {
            return std::borrow::Cow::Borrowed(s);
        }
    }
    std::borrow::Cow::Owned(name.to_ascii_lowercase())
}

/// linguist's MANPAGE_EXTS: `.1`–`.9` with optional suffix, `.0p`, `.n`, `.man`, `.mdoc`, each optionally `.in`.
fn is_manpage_name(lower: &str) -> bool {
    let base = lower.strip_suffix(".in").unwrap_or(lower);
    let Some((_, ext)) = base.rsplit_once('.') else {
        return false;
    };
    let b = ext.as_bytes();
    match b.first() {
        Some(b'1'..=b'9') => {
            b.len() == 1
                || (!b[1].is_ascii_digit()
                    && b[1..]
                        .iter()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_'))
        }
        _ => matches!(ext, "0p" | "n" | "man" | "mdoc"),
    }
}

/// A NUL byte, or more than one byte in ten of the first KiB that no text file holds (controls other than
/// whitespace, ESC, backspace and form feed), marks binary content.
fn is_binary(head: &[u8]) -> bool {
    if memchr::memchr(0, head).is_some() {
        return true;
    }
    let sample = &head[..head.len().min(1024)];
    let odd = sample
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0c | 0x1b | 0x08))
        .count();
    odd * 10 > sample.len()
}

#[cfg(test)]
mod tests {
    #[test]
    fn path_rules_load() {
        let r: Result<Vec<String>, _> = serde_saphyr::from_str(super::VENDOR_YML);
        assert!(r.is_ok(), "{:?}", r.err().map(|e| e.to_string()));
        let l = super::Linguist::get();
        assert!(l.vendor.regex().is_some());
        assert!(l.documentation.regex().is_some());
    }

    #[test]
    fn fallback_ranking_names_real_languages() {
        let l = super::Linguist::get();
        let unknown: Vec<&&str> = super::WIDELY_USED
            .iter()
            .filter(|n| l.languages.by_name(n).is_none())
            .collect();
        assert!(unknown.is_empty(), "{unknown:?}");
    }
}
