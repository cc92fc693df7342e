//! The one status comment opsmith edits in place while it works on a comment command.

use super::STATUS_MARKER;
use super::markdown::text;
use serde::{Deserialize, Serialize};

/// Longest reason shown in a status comment, in characters.
const MAX_REASON_CHARS: usize = 4_000;
/// Most lines of a reason shown.
const MAX_REASON_LINES: usize = 40;

/// Where a comment command stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum CommandState {
    /// Acknowledged, waiting for a worker.
    Received,
    /// A worker runs it; `stage` names the step (`cloning`, `generating`, `scanning`…).
    Running { stage: String },
    /// Done; the pull request that holds the result.
    Succeeded { pr_url: String },
    /// Ended without a result.
    Failed { reason: String },
    /// Not run: who asked may not, or the command is not one opsmith knows.
    Refused { reason: String },
}

/// The status comment's body. It starts with [`STATUS_MARKER`] so opsmith finds its own comment
/// again and edits it rather than adding another.
pub fn status_comment(state: CommandState) -> String {
    let line = match &state {
        CommandState::Received => "👀 Command received; it starts shortly.".to_string(),
        CommandState::Running { stage } => format!("⏳ Running: {}…", text(stage, 100)),
        CommandState::Succeeded { pr_url } => {
            format!("✅ Done: see [the pull request]({}).", link_target(pr_url))
        }
        CommandState::Failed { reason } => format!(
            "❌ Failed.\n\n{}\n\nComment the command again to retry.",
            quote(reason)
        ),
        CommandState::Refused { reason } => format!("🚫 Not run.\n\n{}", quote(reason)),
    };
    format!("{STATUS_MARKER}\n**opsmith** · {line}\n")
}

/// A reason as a block quote, each line escaped, cut to a readable size.
fn quote(reason: &str) -> String {
    let mut out = Vec::new();
    let mut chars = 0;
    let lines: Vec<&str> = reason.trim().lines().collect();
    for (i, line) in lines.iter().enumerate() {
        if i == MAX_REASON_LINES || chars >= MAX_REASON_CHARS {
            out.push(format!("> …{} more lines", lines.len() - i));
            break;
        }
        let shown = text(line, MAX_REASON_CHARS - chars);
        chars += line.chars().count();
        out.push(format!("> {shown}"));
    }
    if out.is_empty() {
        out.push("> (no reason given)".to_string());
    }
    out.join("\n")
}

/// A URL safe inside `(…)` of a Markdown link: characters that could end or break the link are
/// percent-encoded; anything but http(s) is refused.
fn link_target(url: &str) -> String {
    let url = url.trim();
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return "#".to_string();
    }
    let mut out = String::with_capacity(url.len());
    for c in url.chars() {
        match c {
            '(' | ')' | '<' | '>' | '"' | '\'' | '`' | '\\' | '[' | ']' => {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    out.push_str(&format!("%{b:02X}"));
                }
            }
            c if c.is_whitespace() || c.is_control() => out.push_str("%20"),
            c => out.push(c),
        }
    }
    out
}
