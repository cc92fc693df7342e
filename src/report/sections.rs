//! The report parts shared by the pull request body and the check run: languages, services, files.

use super::markdown::{MAX_ITEM_CHARS, code, prose, text};
use crate::generate::Generation;
use crate::profile::RepoProfile;
use std::fmt::Write;

/// What a generated file is for, the way a reviewer groups them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Family {
    Container,
    Cicd,
    Infrastructure,
    Monitoring,
    Other,
}

impl Family {
    pub const ALL: [Family; 5] = [
        Family::Container,
        Family::Cicd,
        Family::Infrastructure,
        Family::Monitoring,
        Family::Other,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Family::Container => "Container",
            Family::Cicd => "CI/CD",
            Family::Infrastructure => "Infrastructure",
            Family::Monitoring => "Monitoring",
            Family::Other => "Other",
        }
    }

    /// The family of a repository path, from where opsmith puts each kind of file.
    pub fn of(path: &str) -> Family {
        let name = path.rsplit('/').next().unwrap_or(path);
        let under =
            |dir: &str| path.starts_with(&format!("{dir}/")) || path.contains(&format!("/{dir}/"));
        if path.starts_with(".github/workflows/") {
            Family::Cicd
        } else if under("monitoring") {
            Family::Monitoring
        } else if under("terraform")
            || [
                ".tf",
                ".tfvars",
                ".hcl",
                ".tf.example",
                ".tfvars.example",
                ".hcl.example",
            ]
            .iter()
            .any(|ext| name.ends_with(ext))
        {
            Family::Infrastructure
        } else if name.starts_with("Dockerfile")
            || name.ends_with(".dockerignore")
            || name.starts_with("compose.")
            || name.starts_with("docker-compose.")
            || name == "Containerfile"
        {
            Family::Container
        } else {
            Family::Other
        }
    }
}

/// Why a kept file is listed.
pub const KEPT_REASON: &str = "kept: the repository's own file is used as is";

/// How many entries a family shows before folding them into `<details>`.
const FOLD_AT: usize = 12;
/// How many service rows the table shows before folding the rest into `<details>`.
const SERVICE_ROWS_SHOWN: usize = 25;
/// Room kept for closing tags and a truncation notice when a list is cut short.
const NOTICE_ROOM: usize = 160;

/// `Go 55% · Python 23.4% · JavaScript 21.59%`: the five largest languages.
pub fn languages_line(profile: &RepoProfile) -> String {
    if profile.languages.is_empty() {
        return "No programming language detected.".to_string();
    }
    let shown: Vec<String> = profile
        .languages
        .iter()
        .take(5)
        .map(|l| format!("{} {}%", text(&l.name, 60), percent(l.percent)))
        .collect();
    let mut line = shown.join(" · ");
    let more = profile.languages.len().saturating_sub(5);
    if more > 0 {
        let _ = write!(line, " · {more} more");
    }
    line
}

/// `55`, `23.4`, `21.59`: two decimals at most, no trailing zeros.
fn percent(value: f64) -> String {
    let fixed = format!("{value:.2}");
    fixed
        .trim_end_matches('0')
        .trim_end_matches('.')
        .to_string()
}

const SERVICE_HEADER: &str = "| Service | Path | Ecosystem | Package manager | Framework | Runtime | Port | Health check |\n|---|---|---|---|---|---|---|---|\n";

/// The services table within `budget` bytes: the first rows shown, the rest folded, then a notice.
pub fn services_table(profile: &RepoProfile, budget: usize) -> String {
    if profile.services.is_empty() {
        return "No deployable service found: opsmith found no program with a manifest it knows.\n"
            .to_string();
    }
    let mut out = String::from(SERVICE_HEADER);
    let total = profile.services.len();
    let mut folded = false;
    for (i, s) in profile.services.iter().enumerate() {
        let row = service_row(s);
        let opening = if i == SERVICE_ROWS_SHOWN {
            format!(
                "\n<details><summary>{} more services</summary>\n\n{SERVICE_HEADER}",
                total - i
            )
        } else {
            String::new()
        };
        if out.len() + opening.len() + row.len() + NOTICE_ROOM > budget {
            if folded {
                out.push_str("\n</details>\n");
            }
            let _ = writeln!(out, "\n…{} more services not shown.", total - i);
            return out;
        }
        if !opening.is_empty() {
            folded = true;
            out.push_str(&opening);
        }
        out.push_str(&row);
    }
    if folded {
        out.push_str("\n</details>\n");
    }
    out
}

fn service_row(s: &crate::profile::Service) -> String {
    let dash = || "–".to_string();
    let runtime = match (&s.runtime_version, &s.runtime_version_source) {
        (Some(v), Some(src)) => format!("{} from {}", text(v, 40), code(src, true)),
        (Some(v), None) => text(v, 40),
        _ => "not declared".to_string(),
    };
    format!(
        "| {} | {} | {} | {} | {} | {} | {} | {} |\n",
        text(&s.name, 100),
        code(&s.path, true),
        s.ecosystem.as_str(),
        s.package_manager.as_str(),
        s.framework.as_deref().map_or_else(dash, |f| text(f, 60)),
        runtime,
        s.port.map_or_else(dash, |p| p.to_string()),
        s.health_path
            .as_deref()
            .map_or_else(dash, |h| code(h, true)),
    )
}

/// Each family of files under a `####` heading, each path with why it is there, within `budget` bytes.
/// Long families are folded; when the files do not fit, each family gets an even share of the room
/// (what one leaves unused goes to the next) and ends with a notice naming how many files it left out,
/// so every family stays visible.
pub fn file_sections(generation: &Generation, budget: usize) -> String {
    if generation.artifacts.is_empty() && generation.kept.is_empty() {
        return "No file generated.\n".to_string();
    }
    let families: Vec<FamilyFiles> = Family::ALL
        .into_iter()
        .filter_map(|family| {
            let generated: Vec<(&str, &str)> = generation
                .artifacts
                .iter()
                .filter(|a| Family::of(&a.path) == family)
                .map(|a| (a.path.as_str(), a.reason.as_str()))
                .collect();
            let generated_count = generated.len();
            let entries: Vec<(&str, &str)> = generated
                .into_iter()
                .chain(
                    generation
                        .kept
                        .iter()
                        .filter(|p| Family::of(p) == family)
                        .map(|p| (p.as_str(), KEPT_REASON)),
                )
                .collect();
            (!entries.is_empty()).then_some(FamilyFiles {
                family,
                entries,
                generated: generated_count,
            })
        })
        .collect();
    let mut out = String::new();
    let mut left_out = 0;
    for (i, files) in families.iter().enumerate() {
        let share = budget.saturating_sub(out.len()) / (families.len() - i);
        match family_section(files, share) {
            Some(section) => out.push_str(&section),
            None => left_out += files.entries.len(),
        }
    }
    if left_out > 0 {
        with_notice(&mut out, left_out);
    }
    out
}

/// A family's files: generated ones first, as (path, reason), then the kept ones.
struct FamilyFiles<'a> {
    family: Family,
    entries: Vec<(&'a str, &'a str)>,
    generated: usize,
}

/// One family's section within `budget` bytes, or None when not even its heading fits.
fn family_section(files_of: &FamilyFiles, budget: usize) -> Option<String> {
    let (family, entries, generated) = (files_of.family, &files_of.entries, files_of.generated);
    let kept = entries.len() - generated;
    let mut out = format!("#### {}: {}", family.title(), files(generated));
    if kept > 0 {
        let _ = write!(out, ", {kept} kept");
    }
    out.push_str("\n\n");
    let fold = entries.len() > FOLD_AT;
    if fold {
        let _ = write!(
            out,
            "<details><summary>Show the {} files</summary>\n\n",
            entries.len()
        );
    }
    if out.len() + NOTICE_ROOM > budget {
        return None;
    }
    for (shown, (path, reason)) in entries.iter().enumerate() {
        let item = format!(
            "- {}: {}\n",
            code(path, false),
            prose(reason, MAX_ITEM_CHARS)
        );
        if out.len() + item.len() + NOTICE_ROOM > budget {
            if fold {
                out.push_str("\n</details>\n");
            }
            with_notice(&mut out, entries.len() - shown);
            return Some(out);
        }
        out.push_str(&item);
    }
    out.push_str(if fold { "\n</details>\n\n" } else { "\n" });
    Some(out)
}

fn with_notice(out: &mut String, more: usize) {
    let _ = writeln!(out, "\n…{more} more files, see the branch.\n");
}

/// `1 file`, `34 files`.
pub fn files(n: usize) -> String {
    plural(n, "file", "files")
}

/// `a`, `a and b`, `a, b and c`.
pub fn and_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => one.to_string(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

pub fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// A table of how many files each family has, generated and kept.
pub fn family_counts(generation: &Generation) -> String {
    let mut out = String::from("| Family | Generated | Kept |\n|---|---|---|\n");
    for family in Family::ALL {
        let generated = generation
            .artifacts
            .iter()
            .filter(|a| Family::of(&a.path) == family)
            .count();
        let kept = generation
            .kept
            .iter()
            .filter(|p| Family::of(p) == family)
            .count();
        if generated + kept > 0 {
            let _ = writeln!(out, "| {} | {generated} | {kept} |", family.title());
        }
    }
    out
}
