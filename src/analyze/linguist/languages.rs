//! linguist's `languages.yml`: every language with its type, group, extensions, file names, interpreters and aliases.

use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};

/// Index of a language in [`Languages::list`].
pub type LangId = u16;

/// linguist's language types; only programming and markup count in statistics by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LanguageType {
    Programming,
    Markup,
    Data,
    Prose,
}

impl LanguageType {
    /// Rank used by the deterministic fallback: programming first, then markup, data, prose.
    pub fn rank(self) -> u8 {
        match self {
            LanguageType::Programming => 0,
            LanguageType::Markup => 1,
            LanguageType::Data => 2,
            LanguageType::Prose => 3,
        }
    }
}

#[derive(Debug)]
pub struct Language {
    pub name: String,
    pub kind: LanguageType,
    /// The language this one is counted under in statistics (itself when it has no group).
    pub group: LangId,
    /// First-listed extension, lower-cased.
    pub primary_extension: Option<String>,
}

#[derive(Deserialize)]
struct LanguageEntry {
    #[serde(rename = "type")]
    kind: String,
    group: Option<String>,
    #[serde(default)]
    aliases: Vec<String>,
    #[serde(default)]
    extensions: Vec<String>,
    #[serde(default)]
    filenames: Vec<String>,
    #[serde(default)]
    interpreters: Vec<String>,
}

/// All languages and the lookups the strategies need.
#[derive(Debug, Default)]
pub struct Languages {
    pub list: Vec<Language>,
    by_extension: HashMap<String, Vec<LangId>>,
    by_filename: HashMap<String, Vec<LangId>>,
    by_interpreter: HashMap<String, Vec<LangId>>,
    by_alias: HashMap<String, LangId>,
    by_name: HashMap<String, LangId>,
    /// Longest extension (in dot-separated segments) any language declares, to bound the lookups.
    pub max_extension_dots: usize,
}

impl Languages {
    pub fn parse(yaml: &str) -> Languages {
        // Sorted by name in byte order, as languages.yml itself is: the order is part of the fallback.
        let entries: BTreeMap<String, LanguageEntry> = match serde_saphyr::from_str(yaml) {
            Ok(e) => e,
            Err(_) => return Languages::default(),
        };
        let mut out = Languages::default();
        for (i, (name, _)) in entries.iter().enumerate() {
            out.by_name.insert(name.clone(), i as LangId);
        }
        for (i, (name, entry)) in entries.iter().enumerate() {
            let id = i as LangId;
            let kind = match entry.kind.as_str() {
                "programming" => LanguageType::Programming,
                "markup" => LanguageType::Markup,
                "prose" => LanguageType::Prose,
                _ => LanguageType::Data,
            };
            let group = entry
                .group
                .as_ref()
                .and_then(|g| out.by_name.get(g).copied())
                .unwrap_or(id);
            out.by_alias.insert(name.to_lowercase(), id);
            out.by_alias
                .entry(name.to_lowercase().replace(char::is_whitespace, "-"))
                .or_insert(id);
            for alias in &entry.aliases {
                out.by_alias.entry(alias.to_lowercase()).or_insert(id);
            }
            for ext in &entry.extensions {
                let ext = ext.to_lowercase();
                out.max_extension_dots = out.max_extension_dots.max(ext.matches('.').count());
                push_unique(out.by_extension.entry(ext).or_default(), id);
            }
            for file in &entry.filenames {
                push_unique(out.by_filename.entry(file.clone()).or_default(), id);
            }
            for interpreter in &entry.interpreters {
                push_unique(
                    out.by_interpreter.entry(interpreter.clone()).or_default(),
                    id,
                );
            }
            out.list.push(Language {
                name: name.clone(),
                kind,
                group,
                primary_extension: entry.extensions.first().map(|e| e.to_lowercase()),
            });
        }
        out
    }

    pub fn get(&self, id: LangId) -> &Language {
        &self.list[id as usize]
    }

    /// The language with exactly this name.
    pub fn by_name(&self, name: &str) -> Option<LangId> {
        self.by_name.get(name).copied()
    }

    /// A language by name or alias, case-insensitively (the way modelines and `linguist-language` name it).
    pub fn by_alias(&self, name: &str) -> Option<LangId> {
        let lower = name.trim().to_lowercase();
        if lower.is_empty() {
            return None;
        }
        self.by_alias
            .get(&lower)
            .or_else(|| self.by_alias.get(&lower.replace(char::is_whitespace, "-")))
            .or_else(|| lower.split(',').next().and_then(|f| self.by_alias.get(f)))
            .copied()
    }

    /// Languages declaring this lower-cased extension (with its leading dot).
    pub fn by_extension(&self, ext: &str) -> &[LangId] {
        self.by_extension.get(ext).map_or(&[], Vec::as_slice)
    }

    /// Languages declaring this exact file name.
    pub fn by_filename(&self, name: &str) -> &[LangId] {
        self.by_filename.get(name).map_or(&[], Vec::as_slice)
    }

    /// Languages run by this interpreter.
    pub fn by_interpreter(&self, interpreter: &str) -> &[LangId] {
        self.by_interpreter
            .get(interpreter)
            .map_or(&[], Vec::as_slice)
    }
}

fn push_unique(list: &mut Vec<LangId>, id: LangId) {
    if !list.contains(&id) {
        list.push(id);
    }
}
