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
    /// The Ruby alternatives (one, or several that linguist joins with `Regexp.union`).
    pub sources: Vec<String>,
    compiled: OnceLock<Result<Pattern, String>>,
}

impl LazyPattern {
    fn new(sources: Vec<String>) -> LazyPattern {
        LazyPattern {
            sources,
            compiled: OnceLock::new(),
        }
    }

    pub fn compile(&self) -> Result<&Pattern, &str> {
        self.compiled
            .get_or_init(|| Pattern::compile_ruby_union(&self.sources))
            .as_ref()
            .map_err(String::as_str)
    }

    fn is_match(&self, text: &Text) -> bool {
        self.compile().is_ok_and(|p| p.is_match(text))
    }
}

enum Condition {
    Always,
    Never,
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

    /// A rule's condition, with linguist's precedence (`Heuristics.parse_rule`): `and`, else `pattern`, else
    /// `negative_pattern`, else `named_pattern`, else always. A rule giving both `pattern` and
    /// `negative_pattern` is therefore decided by its `pattern` alone, as in linguist.
    fn condition(&mut self, r: RuleEntry, named: &HashMap<String, usize>) -> Condition {
        // Every pattern is kept (and so compiled by the tests), even one the precedence leaves unused.
        let pattern = r.pattern.map(|p| self.add(p));
        let negative = r.negative_pattern.map(|p| self.add(p));
        if let Some(and) = r.and {
            return Condition::All(and.into_iter().map(|a| self.condition(a, named)).collect());
        }
        if let Some(i) = pattern {
            return Condition::Matches(i);
        }
        if let Some(i) = negative {
            return Condition::NotMatches(i);
        }
        if let Some(n) = r.named_pattern {
            return match named.get(&n) {
                Some(&i) => Condition::Matches(i),
                None => {
                    self.unknown_languages.push(format!("named pattern {n}"));
                    Condition::Never
                }
            };
        }
        Condition::Always
    }

    fn add(&mut self, p: OneOrMany) -> usize {
        self.patterns.push(LazyPattern::new(p.into_vec()));
        self.patterns.len() - 1
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
            Condition::Never => false,
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
