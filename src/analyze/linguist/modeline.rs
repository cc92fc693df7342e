//! The Modeline strategy: a Vim or Emacs modeline in the first or last five lines names the language.

use std::sync::OnceLock;

/// Lines searched at each end of the file, as linguist does.
const SEARCH_SCOPE: usize = 5;

// linguist's EMACS_MODELINE and VIM_MODELINE, in Rust syntax (they need lookaround: fancy-regex).
const EMACS: &str = r"(?i)-\*-(?:[ \t]*(?=[^:;\s]+[ \t]*-\*-)|(?:.*?[ \t;]|(?<=-\*-))[ \t]*mode[ \t]*:[ \t]*)([^:;\s]+)(?=[ \t;]|(?<![-*])-\*-).*?-\*-";
const VIM: &str = r"(?m)(?:(?:^|[ \t])(?:vi|Vi(?=m))(?:m[<=>]?[0-9]+|m)?|[ \t]ex)(?=:(?=[ \t]*set?[ \t][^\r\n:]+:)|:(?![ \t]*set?[ \t]))(?:(?:[ \t]*:[ \t]*|[ \t])\w*(?:[ \t]*=(?:[^\\\s]|\\.)*)?)*[ \t:](?:filetype|ft|syntax)[ \t]*=(\w+)(?=$|\s|:)";
/// Necessary for a Vim modeline, cheap to test: keeps the backtracking regex off most files.
const VIM_PREFILTER: &str = r"(?:vi|Vi|[ \t]ex)[^\n]*(?:filetype|ft|syntax)[ \t]*=";

struct Regexes {
    emacs: fancy_regex::Regex,
    vim: fancy_regex::Regex,
    vim_prefilter: regex::bytes::Regex,
}

fn regexes() -> Option<&'static Regexes> {
    static R: OnceLock<Option<Regexes>> = OnceLock::new();
    R.get_or_init(|| {
        Some(Regexes {
            emacs: fancy_regex::Regex::new(EMACS).ok()?,
            vim: fancy_regex::Regex::new(VIM).ok()?,
            vim_prefilter: regex::bytes::Regex::new(VIM_PREFILTER).ok()?,
        })
    })
    .as_ref()
}

/// The mode or filetype name a modeline gives, if any. `complete` says whether `head` is the whole file
/// (only then are its last lines the file's last lines).
pub fn modeline(head: &[u8], complete: bool) -> Option<String> {
    let header = first_lines(head, SEARCH_SCOPE);
    // Vimball archives carry a modeline that does not describe them.
    if memchr::memmem::find(header, b"UseVimball").is_some() {
        return None;
    }
    let footer = if complete {
        last_lines(head, SEARCH_SCOPE)
    } else {
        &[]
    };
    find(header).or_else(|| find(footer))
}

fn find(part: &[u8]) -> Option<String> {
    if part.is_empty() {
        return None;
    }
    let has_emacs = memchr::memmem::find(part, b"-*-").is_some();
    let r = regexes()?;
    let has_vim = r.vim_prefilter.is_match(part);
    if !has_emacs && !has_vim {
        return None;
    }
    let text = String::from_utf8_lossy(part);
    for (wanted, re) in [(has_emacs, &r.emacs), (has_vim, &r.vim)] {
        if !wanted {
            continue;
        }
        if let Ok(Some(c)) = re.captures(&text)
            && let Some(m) = c.get(1)
        {
            return Some(m.as_str().to_string());
        }
    }
    None
}

fn first_lines(head: &[u8], n: usize) -> &[u8] {
    let mut end = 0;
    for _ in 0..n {
        match memchr::memchr(b'\n', &head[end..]) {
            Some(i) => end += i + 1,
            None => return head,
        }
    }
    &head[..end]
}

fn last_lines(head: &[u8], n: usize) -> &[u8] {
    let body = head.strip_suffix(b"\n").unwrap_or(head);
    let mut start = body.len();
    for _ in 0..n {
        match memchr::memrchr(b'\n', &body[..start]) {
            Some(i) => start = i,
            None => return body,
        }
    }
    &body[start + 1..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vim_and_emacs() {
        assert_eq!(
            modeline(b"# vim: set ft=ruby:\nx\n", true).as_deref(),
            Some("ruby")
        );
        assert_eq!(
            modeline(b"x\n/* vim: syntax=c */\n", true).as_deref(),
            Some("c")
        );
        assert_eq!(
            modeline(b"# -*- mode: python -*-\n", true).as_deref(),
            Some("python")
        );
        assert_eq!(modeline(b"// -*- c++ -*-\n", true).as_deref(), Some("c++"));
        assert_eq!(modeline(b"no modeline here\nvim is nice\n", true), None);
    }

    #[test]
    fn footer_only_when_complete() {
        let mut text = b"a\n".repeat(20);
        text.extend_from_slice(b"# vim: ft=perl\n");
        assert_eq!(modeline(&text, true).as_deref(), Some("perl"));
        assert_eq!(modeline(&text, false), None);
    }
}
