//! The Shebang strategy: the interpreter named on a `#!` first line, the way linguist reads it.

use std::sync::OnceLock;

/// The interpreter's name: `#!/usr/bin/env -S python3.11 -u` gives `python3`.
pub fn interpreter(head: &[u8]) -> Option<&str> {
    if !head.starts_with(b"#!") {
        return None;
    }
    let line_end = memchr::memchr(b'\n', head).unwrap_or(head.len());
    let line = std::str::from_utf8(&head[2..line_end]).ok()?;
    let mut words = line.split_ascii_whitespace().peekable();
    let path = words.next()?;
    let mut script = path.rsplit('/').next().unwrap_or(path);
    if script == "env" {
        // Skip env's flags (-i, -u, -S, --long=…) and variable assignments.
        while let Some(w) = words.peek() {
            let flag = w.starts_with("--")
                || (w.starts_with('-') && w[1..].chars().all(|c| "i0uCSv".contains(c)));
            let assignment = w.split_once('=').is_some_and(|(k, _)| {
                !k.is_empty() && k.chars().all(|c| c.is_alphanumeric() || c == '_')
            });
            if flag || assignment {
                words.next();
            } else {
                break;
            }
        }
        script = words.next()?;
    }
    // "python2.6" -> "python2"
    if let Some(dot) = script.rfind('.')
        && dot + 1 < script.len()
        && script[dot + 1..].bytes().all(|b| b.is_ascii_digit())
    {
        script = &script[..dot];
    }
    if script == "sh"
        && let Some(exec) = exec_hack(head)
    {
        script = exec;
    }
    // `osascript -l Lang` may name a language without an interpreter: leave it to the other strategies.
    if script == "osascript" && line.contains("-l") {
        return None;
    }
    let script = script.rsplit('/').next().unwrap_or(script);
    (!script.is_empty()).then_some(script)
}

/// Multi-line shebang hacks: a `sh` script whose first lines `exec` another interpreter on itself.
fn exec_hack(head: &[u8]) -> Option<&str> {
    static RE: OnceLock<Option<regex::bytes::Regex>> = OnceLock::new();
    let re = RE
        .get_or_init(|| regex::bytes::Regex::new(r#"exec (\w+)[\s'"]+\$0[\s'"]+\$@"#).ok())
        .as_ref()?;
    let mut end = 0;
    for _ in 0..5 {
        match memchr::memchr(b'\n', &head[end..]) {
            Some(i) => end += i + 1,
            None => {
                end = head.len();
                break;
            }
        }
    }
    let m = re.captures(&head[..end])?.get(1)?;
    std::str::from_utf8(m.as_bytes()).ok()
}

#[cfg(test)]
mod tests {
    use super::interpreter;

    #[test]
    fn interpreters() {
        assert_eq!(interpreter(b"#!/usr/bin/env python3.11\n"), Some("python3"));
        assert_eq!(
            interpreter(b"#!/usr/bin/env -S deno run -A\n"),
            Some("deno")
        );
        assert_eq!(interpreter(b"#!/usr/bin/env FOO=1 -i node\n"), Some("node"));
        assert_eq!(interpreter(b"#! /bin/bash -e\n"), Some("bash"));
        assert_eq!(interpreter(b"#!perl -w\n"), Some("perl"));
        assert_eq!(interpreter(b"#!/usr/bin/env\n"), None);
        assert_eq!(
            interpreter(b"#!/bin/sh\nexec tclsh \"$0\" \"$@\"\n"),
            Some("tclsh")
        );
        assert_eq!(interpreter(b"no shebang"), None);
    }
}
