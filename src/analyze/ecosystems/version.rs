//! Runtime version declarations shared by several ecosystems (`.tool-versions`, `mise.toml`).

use crate::analyze::tree::{self, RepoTree, join};

/// A declared runtime version and the file it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclaredVersion {
    pub version: String,
    pub source: String,
}

/// Looks for `tool` (asdf/mise names: `nodejs`/`node`, `python`, `golang`/`go`, `rust`, `java`, `ruby`,
/// `php`, `elixir`, `dotnet`, `deno`, `bun`) in `.tool-versions` and `mise.toml` of `dir`, then of each
/// parent up to the root.
pub fn tool_version(tree: &RepoTree, dir: &str, tools: &[&str]) -> Option<DeclaredVersion> {
    let mut current = Some(dir.to_string());
    while let Some(d) = current {
        let path = join(&d, ".tool-versions");
        if let Some(text) = tree.read_text(&path) {
            for line in text.lines() {
                let line = line.split('#').next().unwrap_or("").trim();
                let mut parts = line.split_whitespace();
                if let (Some(name), Some(version)) = (parts.next(), parts.next())
                    && tools.contains(&name)
                {
                    return Some(DeclaredVersion {
                        version: version.to_string(),
                        source: path,
                    });
                }
            }
        }
        for mise in [".mise.toml", "mise.toml"] {
            let path = join(&d, mise);
            if let Some(text) = tree.read_text(&path)
                && let Ok(doc) = text.parse::<toml::Table>()
                && let Some(tools_table) = doc.get("tools").and_then(|t| t.as_table())
            {
                for tool in tools {
                    let version = match tools_table.get(*tool) {
                        Some(toml::Value::String(s)) => Some(s.clone()),
                        Some(toml::Value::Array(a)) => {
                            a.first().and_then(|v| v.as_str()).map(String::from)
                        }
                        Some(toml::Value::Table(t)) => {
                            t.get("version").and_then(|v| v.as_str()).map(String::from)
                        }
                        _ => None,
                    };
                    if let Some(version) = version {
                        return Some(DeclaredVersion {
                            version,
                            source: path,
                        });
                    }
                }
            }
        }
        current = tree::parent(&d).map(String::from);
    }
    None
}
