//! Markdown escaping and size-bounded cutting for text that comes from repositories or tools.

/// Longest piece of untrusted text shown in one place (a cell, a list item), in characters.
pub const MAX_ITEM_CHARS: usize = 300;

/// Control characters and the invisible ones that reorder or hide text ("trojan source").
fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}'
        )
}

/// Untrusted text as one line of inert Markdown: no HTML, emphasis, links, code, math or mentions, and
/// no `|` that could split a table cell. At most `max_chars` characters, then `…`.
pub fn text(s: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max_chars.saturating_mul(2)));
    let mut shown = 0;
    for c in s.chars() {
        let whitespace = matches!(c, '\n' | '\r' | '\t');
        if is_hidden(c) && !whitespace {
            continue;
        }
        if shown == max_chars {
            out.push('…');
            break;
        }
        shown += 1;
        match c {
            _ if whitespace => out.push(' '),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            // A zero-width space after `@` keeps GitHub from notifying a user or team.
            '@' => out.push_str("@&#8203;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '~' | '$' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// Untrusted text (a path, a name) as an inline code span when it can be one safely, else as [`text`].
/// In a table cell `|` is escaped: GitHub's table parser removes that backslash even inside code.
pub fn code(s: &str, in_table: bool) -> String {
    let plain = !s.is_empty()
        && !s.starts_with(' ')
        && !s.ends_with(' ')
        && !s
            .chars()
            .any(|c| matches!(c, '`' | '<' | '>') || is_hidden(c));
    if !plain {
        return text(s, MAX_ITEM_CHARS);
    }
    let (shown, cut) = match s.char_indices().nth(MAX_ITEM_CHARS) {
        Some((at, _)) => (&s[..at], "…"),
        None => (s, ""),
    };
    let shown = if in_table {
        shown.replace('|', "\\|")
    } else {
        shown.to_string()
    };
    format!("`{shown}{cut}`")
}

/// Untrusted prose that may hold `code spans` (a reason naming a command): each span shown as
/// [`code`], the rest as [`text`]; unpaired backticks make it all [`text`]. At most `max_chars`
/// characters, then `…`.
pub fn prose(s: &str, max_chars: usize) -> String {
    let (shown, cut) = match s.char_indices().nth(max_chars) {
        Some((at, _)) => (&s[..at], "…"),
        None => (s, ""),
    };
    if shown.matches('`').count() % 2 == 1 {
        return text(s, max_chars);
    }
    let mut out = String::new();
    for (i, part) in shown.split('`').enumerate() {
        if i % 2 == 0 {
            out.push_str(&text(part, max_chars));
        } else {
            out.push_str(&code(part, false));
        }
    }
    out.push_str(cut);
    out
}

/// The longest prefix of `s` no longer than `max_bytes`, ending on a line break when one is close by so
/// a table row or list item is not cut in half.
pub fn cut(s: &str, max_bytes: usize) -> &str {
    if s.len() <= max_bytes {
        return s;
    }
    let head = &s[..s.floor_char_boundary(max_bytes)];
    match head.rfind('\n') {
        Some(at) if head.len() - at < 2_000 => &head[..=at],
        _ => head,
    }
}

/// Closing tags for the `<details>` blocks and code fences `s` leaves open (at most `max_closers`
/// `</details>`), so text cut short does not swallow what follows it.
pub fn closers(s: &str, max_closers: usize) -> String {
    let mut out = String::new();
    let fences = s
        .lines()
        .filter(|l| {
            let l = l.trim_start();
            l.starts_with("```") || l.starts_with("~~~")
        })
        .count();
    if fences % 2 == 1 {
        let fence = s
            .lines()
            .rev()
            .map(str::trim_start)
            .find(|l| l.starts_with("```") || l.starts_with("~~~"))
            .map(|l| if l.starts_with('~') { "~~~" } else { "```" })
            .unwrap_or("```");
        out.push('\n');
        out.push_str(fence);
    }
    let opened = s.matches("<details").count();
    let closed = s.matches("</details>").count();
    for _ in 0..opened.saturating_sub(closed).min(max_closers) {
        out.push_str("\n</details>");
    }
    out
}

/// Bytes [`closers`] may add at most for `max_closers`.
pub fn closers_room(max_closers: usize) -> usize {
    4 + max_closers * "\n</details>".len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_inert_markdown() {
        assert_eq!(
            text("a|b<script>\n@team *x* `y`", 100),
            "a\\|b&lt;script&gt; @&#8203;team \\*x\\* \\`y\\`"
        );
        assert_eq!(text("abcdef", 3), "abc…");
        assert_eq!(text("abc", 3), "abc");
        assert_eq!(text("a\u{202E}b", 3), "ab");
    }

    #[test]
    fn code_falls_back_to_text_when_unsafe() {
        assert_eq!(code("api/x|y", true), "`api/x\\|y`");
        assert_eq!(code("api/x|y", false), "`api/x|y`");
        assert_eq!(code("a`b", false), "a\\`b");
        assert_eq!(code("<!-- x -->", false), "&lt;!-- x --&gt;");
        assert_eq!(code("", false), "");
    }

    #[test]
    fn prose_keeps_paired_code_spans() {
        assert_eq!(prose("run `make up` now", 100), "run `make up` now");
        assert_eq!(prose("a `<b>` c", 100), "a &lt;b&gt; c");
        assert_eq!(prose("odd ` tick", 100), "odd \\` tick");
        assert_eq!(prose("`abcdef`", 4), "\\`abc…");
    }

    #[test]
    fn cut_respects_char_and_line_boundaries() {
        assert_eq!(cut("ab\ncdé", 6), "ab\n");
        assert_eq!(cut("éé", 3), "é");
        assert_eq!(cut("short", 10), "short");
    }

    #[test]
    fn closers_close_what_is_open() {
        assert_eq!(closers("<details>\n```\ncode", 5), "\n```\n</details>");
        assert_eq!(closers("<details></details>", 5), "");
        assert!(closers(&"<details>".repeat(100), 3).len() <= closers_room(3));
    }
}
