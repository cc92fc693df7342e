//! linguist's `heuristics.yml`: content rules that decide between the languages sharing an extension.

use super::languages::{LangId, Languages};
use super::pattern::{Pattern, Text};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v,
        }
    }
}

#[derive(Deserialize)]
struct RuleEntry {
    language: Option<OneOrMany>,
    pattern: Option<OneOrMany>,
    negative_pattern: Option<OneOrMany>,
    named_pattern: Option<String>,
    and: Option<Vec<RuleEntry>>,
}

#[derive(Deserialize)]
struct DisambiguationEntry {
    extensions: Vec<String>,
    rules: Vec<RuleEntry>,
}

#[derive(Deserialize)]
struct HeuristicsFile {
    disambiguations: Vec<DisambiguationEntry>,
    #[serde(default)]
    named_patterns: BTreeMap<String, OneOrMany>,
}

/// A pattern compiled on first use.
pub struct LazyPattern {
    /// The Ruby source (several alternatives already joined as a union).
    pub source: String,
    compiled: OnceLock<Option<Pattern>>,
}

impl LazyPattern {
    fn new(sources: Vec<String>) -> LazyPattern {
        // Ruby's Regexp.union keeps each alternative's own flags: wrap each in its own group.
        let source = if sources.len() == 1 {
            sources.into_iter().next().unwrap_or_default()
        } else {
            sources
                .iter()
                .map(|s| format!("(?:{s})"))
                .collect::<Vec<_>>()
                .join("|")
        };
        LazyPattern {
            source,
            compiled: OnceLock::new(),
        }
    }

    pub fn compile(&self) -> Result<&Pattern, String> {
        self.compiled
            .get_or_init(|| Pattern::compile_ruby(&self.source).ok())
            .as_ref()
            .ok_or_else(|| {
                Pattern::compile_ruby(&self.source)
                    .err()
                    .unwrap_or_default()
            })
    }

    fn is_match(&self, text: &Text) -> bool {
        self.compile().is_ok_and(|p| p.is_match(text))
    }
}

enum Condition {
    Always,
    Matches(usize),
    NotMatches(usize),
    All(Vec<Condition>),
}

struct Rule {
    languages: Vec<LangId>,
    condition: Condition,
}

struct Disambiguation {
    rules: Vec<Rule>,
}

/// All disambiguations, looked up by extension.
pub struct Heuristics {
    disambiguations: Vec<Disambiguation>,
    /// Lower-cased extension -> first disambiguation listing it (linguist applies the first that matches).
    by_extension: HashMap<String, usize>,
    pub patterns: Vec<LazyPattern>,
    /// Language names the rules use that languages.yml does not know (should stay empty).
    pub unknown_languages: Vec<String>,
}

impl Heuristics {
    pub fn parse(yaml: &str, languages: &Languages) -> Heuristics {
        let mut h = Heuristics {
            disambiguations: Vec::new(),
            by_extension: HashMap::new(),
            patterns: Vec::new(),
            unknown_languages: Vec::new(),
        };
        let file: HeuristicsFile = match serde_saphyr::from_str(yaml) {
            Ok(f) => f,
            Err(e) => {
                h.unknown_languages.push(format!("heuristics.yml: {e}"));
                return h;
            }
        };
        let mut named = HashMap::new();
        for (name, p) in file.named_patterns {
            named.insert(name, h.patterns.len());
            h.patterns.push(LazyPattern::new(p.into_vec()));
        }
        for (index, d) in file.disambiguations.into_iter().enumerate() {
            for ext in &d.extensions {
                h.by_extension.entry(ext.to_lowercase()).or_insert(index);
            }
            let rules = d
                .rules
                .into_iter()
                .map(|mut r| {
                    let names = r
                        .language
                        .take()
                        .map(OneOrMany::into_vec)
                        .unwrap_or_default();
                    let mut ids = Vec::new();
                    for n in names {
                        match languages.by_name(&n) {
                            Some(id) => ids.push(id),
                            None => h.unknown_languages.push(n),
                        }
                    }
                    let condition = h.condition(r, &named);
                    Rule {
                        languages: ids,
                        condition,
                    }
                })
                .collect();
            h.disambiguations.push(Disambiguation { rules });
        }
        h
    }

    /// A rule's condition. A rule with both `pattern` and `negative_pattern` needs both to hold.
    fn condition(&mut self, r: RuleEntry, named: &HashMap<String, usize>) -> Condition {
        let mut all = Vec::new();
        if let Some(and) = r.and {
            all.push(Condition::All(
                and.into_iter().map(|a| self.condition(a, named)).collect(),
            ));
        }
        if let Some(p) = r.pattern {
            self.patterns.push(LazyPattern::new(p.into_vec()));
            all.push(Condition::Matches(self.patterns.len() - 1));
        }
        if let Some(p) = r.negative_pattern {
            self.patterns.push(LazyPattern::new(p.into_vec()));
            all.push(Condition::NotMatches(self.patterns.len() - 1));
        }
        if let Some(n) = r.named_pattern {
            match named.get(&n) {
                Some(&i) => all.push(Condition::Matches(i)),
                None => self.unknown_languages.push(format!("named pattern {n}")),
            }
        }
        match all.len() {
            0 => Condition::Always,
            1 => all.pop().unwrap_or(Condition::Always),
            _ => Condition::All(all),
        }
    }

    /// The disambiguation for a lower-cased file name: the first in the file listing an extension the name
    /// ends with.
    pub fn find(&self, lower_name: &str) -> Option<usize> {
        if self.by_extension.is_empty() {
            return None;
        }
        lower_name
            .match_indices('.')
            .filter_map(|(i, _)| self.by_extension.get(&lower_name[i..]).copied())
            .min()
    }

    /// Runs a disambiguation's rules in order: the languages of the first rule that holds, empty when none does.
    pub fn run(&self, index: usize, text: &Text) -> &[LangId] {
        for rule in &self.disambiguations[index].rules {
            if self.holds(&rule.condition, text) {
                return &rule.languages;
            }
        }
        &[]
    }

    fn holds(&self, c: &Condition, text: &Text) -> bool {
        match c {
            Condition::Always => true,
            Condition::Matches(i) => self.patterns[*i].is_match(text),
            Condition::NotMatches(i) => !self.patterns[*i].is_match(text),
            Condition::All(list) => list.iter().all(|c| self.holds(c, text)),
        }
    }

    /// Every extension some disambiguation covers.
    pub fn extensions(&self) -> impl Iterator<Item = &str> {
        self.by_extension.keys().map(String::as_str)
    }
}
