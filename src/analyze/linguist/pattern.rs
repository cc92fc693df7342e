//! Ruby (Onigmo) regular expressions from linguist's data, translated and compiled for Rust.
//!
//! Differences handled: in Ruby `^`/`$` are always line anchors (we compile multi-line) and the `m` flag
//! means dot-matches-newline (Rust `s`); `\h`/`\H` are hex digits; `\Z`; `\<`/`\>` are plain characters;
//! `\g<name>` calls a named group (inlined here); a `{` that starts no repetition is a literal. Patterns the
//! `regex` crate cannot express (lookaround, possessive quantifiers, atomic groups, backreferences) go to
//! `fancy-regex`, guarded by a relaxed `regex` prefilter (lookarounds dropped, possessive made greedy) so
//! the backtracking engine only runs on texts that can match.

use std::borrow::Cow;
use std::cell::OnceCell;

/// A text to match, with its UTF-8 view made only when a `fancy-regex` pattern needs it.
pub struct Text<'a> {
    pub bytes: &'a [u8],
    utf8: OnceCell<Cow<'a, str>>,
}

impl<'a> Text<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Text {
            bytes,
            utf8: OnceCell::new(),
        }
    }

    fn str(&self) -> &str {
        self.utf8
            .get_or_init(|| String::from_utf8_lossy(self.bytes))
    }
}

/// A compiled pattern.
#[derive(Debug)]
pub enum Pattern {
    Fast(regex::bytes::Regex),
    Fancy {
        prefilter: Option<regex::bytes::Regex>,
        regex: Box<fancy_regex::Regex>,
    },
}

impl Pattern {
    /// Compiles a Ruby pattern, with `^`/`$` as line anchors.
    pub fn compile_ruby(ruby: &str) -> Result<Pattern, String> {
        Pattern::compile_ruby_union(&[ruby])
    }

    /// Compiles the union of Ruby patterns (Ruby's `Regexp.union`: each alternative keeps its own flags).
    pub fn compile_ruby_union<S: AsRef<str>>(alternatives: &[S]) -> Result<Pattern, String> {
        let union = |relax: bool| {
            let parts: Vec<String> = alternatives
                .iter()
                .map(|a| translate(a.as_ref(), relax))
                .collect();
            if parts.len() == 1 {
                parts.into_iter().next().unwrap_or_default()
            } else {
                parts
                    .iter()
                    .map(|p| format!("(?:{p})"))
                    .collect::<Vec<_>>()
                    .join("|")
            }
        };
        let exact = union(false);
        if let Ok(re) = fast(&exact) {
            return Ok(Pattern::Fast(re));
        }
        let regex = fancy_regex::RegexBuilder::new(&format!("(?m){exact}"))
            .backtrack_limit(200_000)
            .build()
            .map_err(|e| {
                let shown: Vec<&str> = alternatives.iter().map(AsRef::as_ref).collect();
                format!("{}: {e}", shown.join(" | "))
            })?;
        let prefilter = fast(&union(true)).ok();
        Ok(Pattern::Fancy {
            prefilter,
            regex: Box::new(regex),
        })
    }

    pub fn is_match(&self, text: &Text) -> bool {
        match self {
            Pattern::Fast(re) => re.is_match(text.bytes),
            Pattern::Fancy { prefilter, regex } => {
                if prefilter.as_ref().is_some_and(|p| !p.is_match(text.bytes)) {
                    return false;
                }
                // A pattern that backtracks too much counts as no match, as linguist treats its timeout.
                regex.is_match(text.str()).unwrap_or(false)
            }
        }
    }

    pub fn is_fancy(&self) -> bool {
        matches!(self, Pattern::Fancy { .. })
    }
}

fn fast(pattern: &str) -> Result<regex::bytes::Regex, regex::Error> {
    // Linguist matches blob data as binary: ASCII classes, `.` matching any byte.
    regex::bytes::RegexBuilder::new(pattern)
        .multi_line(true)
        .unicode(false)
        .size_limit(32 << 20)
        .build()
}

/// Translates Ruby syntax to Rust syntax. With `relax`, lookarounds are dropped and possessive quantifiers
/// and atomic groups become plain ones: the result matches at least everything the exact pattern matches.
pub fn translate(ruby: &str, relax: bool) -> String {
    let chars: Vec<char> = inline_subroutines(ruby).chars().collect();
    let extended = ruby.trim_start().starts_with("(?x") || ruby.trim_start().starts_with("(?ix");
    let mut out = String::with_capacity(ruby.len() + 16);
    let mut class_depth = 0usize;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' && i + 1 < chars.len() {
            let n = chars[i + 1];
            i += 2;
            match n {
                'h' if class_depth > 0 => out.push_str("0-9a-fA-F"),
                'h' => out.push_str("[0-9a-fA-F]"),
                'H' if class_depth == 0 => out.push_str("[^0-9a-fA-F]"),
                'Z' if class_depth == 0 => out.push_str("(?:\\n?\\z)"),
                '<' | '>' | '/' | '\'' | '"' | '%' | '@' | '`' | '!' | ',' | ';' | ':' | '=' => {
                    out.push(n)
                }
                _ => {
                    out.push('\\');
                    out.push(n);
                }
            }
            continue;
        }
        if class_depth > 0 {
            match c {
                '[' if chars.get(i + 1) == Some(&':') => {
                    // POSIX class such as [:alpha:]: copy through.
                    while i < chars.len() {
                        out.push(chars[i]);
                        if chars[i] == ']' {
                            break;
                        }
                        i += 1;
                    }
                }
                '[' => {
                    class_depth += 1;
                    out.push('[');
                    i = class_start(&chars, i + 1, &mut out);
                    continue;
                }
                ']' => {
                    class_depth -= 1;
                    out.push(']');
                }
                ' ' => out.push_str("\\x20"),
                '#' => out.push_str("\\#"),
                _ => out.push(c),
            }
            i += 1;
            continue;
        }
        match c {
            '#' if extended => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
                continue;
            }
            '[' => {
                class_depth = 1;
                out.push('[');
                i = class_start(&chars, i + 1, &mut out);
                continue;
            }
            '(' if chars.get(i + 1) == Some(&'?') => {
                let rest: String = chars[i + 2..chars.len().min(i + 5)].iter().collect();
                let lookaround = ["=", "!", "<=", "<!"].iter().any(|p| rest.starts_with(p));
                if lookaround && relax {
                    i = group_end(&chars, i) + 1;
                    continue;
                }
                if rest.starts_with('>') {
                    out.push_str(if relax { "(?:" } else { "(?>" });
                    i += 3;
                    continue;
                }
                // Inline flags: Ruby `m` is Rust `s`.
                let mut j = i + 2;
                while j < chars.len() && matches!(chars[j], 'i' | 'm' | 'x' | '-') {
                    j += 1;
                }
                if j > i + 2 && matches!(chars.get(j), Some(')') | Some(':')) {
                    out.push_str("(?");
                    for &f in &chars[i + 2..j] {
                        out.push(if f == 'm' { 's' } else { f });
                    }
                    i = j;
                    continue;
                }
                out.push(c);
            }
            '{' => {
                let mut j = i + 1;
                while j < chars.len() && (chars[j].is_ascii_digit() || chars[j] == ',') {
                    j += 1;
                }
                let body: String = chars[i + 1..j].iter().collect();
                let valid = chars.get(j) == Some(&'}')
                    && !body.is_empty()
                    && body.matches(',').count() <= 1
                    && body != ",";
                if valid {
                    out.push('{');
                    if body.starts_with(',') {
                        out.push('0');
                    }
                    out.push_str(&body);
                    out.push('}');
                    i = j + 1;
                    if relax && chars.get(i) == Some(&'+') {
                        i += 1;
                    }
                    continue;
                }
                out.push_str("\\{");
            }
            '}' => out.push_str("\\}"),
            '*' | '+' | '?' if relax && chars.get(i + 1) == Some(&'+') => {
                out.push(c);
                i += 2;
                continue;
            }
            _ => out.push(c),
        }
        i += 1;
    }
    out
}

/// Copies a class's leading `^` and a literal `]` right after the opening bracket; returns the next index.
fn class_start(chars: &[char], mut i: usize, out: &mut String) -> usize {
    if chars.get(i) == Some(&'^') {
        out.push('^');
        i += 1;
    }
    if chars.get(i) == Some(&']') {
        out.push_str("\\]");
        i += 1;
    }
    i
}

/// Index of the `)` closing the group opened at `open`.
fn group_end(chars: &[char], open: usize) -> usize {
    let mut depth = 0usize;
    let mut class = 0usize;
    let mut i = open;
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 1,
            '[' => class += 1,
            ']' if class > 0 => class -= 1,
            '(' if class == 0 => depth += 1,
            ')' if class == 0 => {
                depth -= 1;
                if depth == 0 {
                    return i;
                }
            }
            _ => {}
        }
        i += 1;
    }
    chars.len().saturating_sub(1)
}

/// Replaces each `\g<name>` (a call of the named group) with a non-capturing copy of the group's body.
fn inline_subroutines(ruby: &str) -> Cow<'_, str> {
    if !ruby.contains("\\g<") {
        return Cow::Borrowed(ruby);
    }
    let mut text = ruby.to_string();
    while let Some(at) = text.find("\\g<") {
        let Some(close) = text[at..].find('>') else {
            break;
        };
        let name = text[at + 3..at + close].to_string();
        let open = format!("(?<{name}>");
        let body = match text.find(&open) {
            Some(start) => {
                let chars: Vec<char> = text.chars().collect();
                let start_chars = text[..start].chars().count();
                let end = group_end(&chars, start_chars);
                let inner: String = chars[start_chars + open.chars().count()..end]
                    .iter()
                    .collect();
                format!("(?:{inner})")
            }
            None => String::new(),
        };
        text.replace_range(at..at + close + 1, &body);
    }
    Cow::Owned(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(ruby: &str, text: &str) -> bool {
        Pattern::compile_ruby(ruby)
            .unwrap()
            .is_match(&Text::new(text.as_bytes()))
    }

    #[test]
    fn caret_and_dollar_are_line_anchors() {
        assert!(matches("^foo$", "a\nfoo\nb"));
    }

    #[test]
    fn ruby_m_flag_is_dot_all() {
        assert!(matches("(?m)a.b", "a\nb"));
        assert!(!matches("a.b", "a\nb"));
    }

    #[test]
    fn hex_digit_class() {
        assert!(matches(r"^\h+$", "c0ffee"));
        assert!(!matches(r"^\h+$", "coffee"));
    }

    #[test]
    fn lookbehind_goes_to_fancy_with_prefilter() {
        let p = Pattern::compile_ruby(r"(?<!\{)\{\$\w+").unwrap();
        assert!(p.is_fancy());
        assert!(p.is_match(&Text::new(b"x {$name}")));
        assert!(!p.is_match(&Text::new(b"x {{$name}")));
    }

    #[test]
    fn union_keeps_each_alternatives_flags() {
        let p = Pattern::compile_ruby_union(&["(?i)abc", "XYZ"]).unwrap();
        assert!(p.is_match(&Text::new(b"ABC")));
        assert!(p.is_match(&Text::new(b"XYZ")));
        assert!(!p.is_match(&Text::new(b"xyz")));
    }

    #[test]
    fn literal_brace_and_subroutine_call() {
        assert!(matches(r"\s*(=|{|:)", "a {"));
        assert!(matches(r"(?<v>ab)-\g<v>", "ab-ab"));
        assert!(!matches(r"(?<v>ab)-\g<v>", "ab-cd"));
    }
}
