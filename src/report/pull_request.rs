//! The pull request body: what opsmith detected, why each file is there, how to review, and the scan section.

use super::markdown::{self, MAX_ITEM_CHARS, code, text};
use super::sections::{
    Family, and_list, file_sections, files, languages_line, plural, services_table,
};
use super::{BODY_MAX, SCAN_END, SCAN_PLACEHOLDER, SCAN_START};
use crate::generate::Generation;
use crate::profile::RepoProfile;
use std::fmt::Write;

/// Room the body always leaves for the scan section, so a later scan report fits without squeezing
/// the rest.
const SCAN_RESERVE: usize = 24_000;
/// Room for the services table.
const SERVICES_BUDGET: usize = 12_000;
/// Room for the analysis notes.
const WARNINGS_BUDGET: usize = 3_000;
/// Room for the text after the scan section (kept when the section is replaced).
const SUFFIX_MAX: usize = 2_000;
/// At most this many `</details>` are added to close what a cut scan report left open.
const MAX_CLOSERS: usize = 20;

const SCAN_HEADING: &str = "### Image and configuration scan";

/// The pull request body, under GitHub's 65,536 characters whatever the inputs. `scan` is the rendered
/// scan report (Markdown without a top heading); `None` leaves a placeholder for
/// [`replace_scan_section`] to fill later.
pub fn pull_request_body(
    profile: &RepoProfile,
    generation: &Generation,
    scan: Option<&str>,
) -> String {
    let mut head = String::new();
    head.push_str(&intro(profile, generation));
    head.push_str("### What opsmith detected\n\n");
    let _ = write!(head, "**Languages:** {}\n\n", languages_line(profile));
    head.push_str(&services_table(profile, SERVICES_BUDGET));
    head.push('\n');
    head.push_str(&warnings(profile));
    head.push_str("### Why each file is there\n\n");

    let review = review_section(generation);
    let frame = scan_frame(SCAN_PLACEHOLDER);
    let files_budget =
        BODY_MAX.saturating_sub(SCAN_RESERVE + head.len() + review.len() + frame.len());
    let mut body = head;
    body.push_str(&file_sections(generation, files_budget));
    body.push_str(&review);
    body.push_str(&frame);
    match scan {
        Some(scan) => replace_scan_section(&body, scan),
        None => body,
    }
}

fn intro(profile: &RepoProfile, generation: &Generation) -> String {
    let families: Vec<&str> = Family::ALL
        .into_iter()
        .filter(|f| *f != Family::Other)
        .filter(|f| {
            generation
                .artifacts
                .iter()
                .any(|a| Family::of(&a.path) == *f)
        })
        .map(|f| match f {
            Family::Container => "container images",
            Family::Cicd => "CI/CD workflows",
            Family::Infrastructure => "infrastructure",
            _ => "monitoring",
        })
        .collect();
    let mut out = format!(
        "opsmith analyzed this repository and proposes **{}** for **{}**",
        files(generation.artifacts.len()),
        plural(profile.services.len(), "service", "services"),
    );
    if !families.is_empty() {
        let _ = write!(out, ": {}", and_list(&families));
    }
    out.push('.');
    if !generation.kept.is_empty() {
        let _ = write!(
            out,
            " It keeps {} the repository already has.",
            plural(generation.kept.len(), "file", "files")
        );
    }
    out.push_str(" Review it like any other change: every file is yours to edit.\n\n");
    out
}

/// The analysis notes, folded: files opsmith could not read or chose to skip.
fn warnings(profile: &RepoProfile) -> String {
    if profile.warnings.is_empty() {
        return String::new();
    }
    let mut out = format!(
        "<details><summary>Analysis notes ({})</summary>\n\n",
        profile.warnings.len()
    );
    for (i, w) in profile.warnings.iter().enumerate() {
        let item = format!("- {}\n", text(w, MAX_ITEM_CHARS));
        if out.len() + item.len() + 100 > WARNINGS_BUDGET {
            let _ = writeln!(out, "- …{} more", profile.warnings.len() - i);
            break;
        }
        out.push_str(&item);
    }
    out.push_str("\n</details>\n\n");
    out
}

fn review_section(generation: &Generation) -> String {
    let mut out = String::from("### Reviewing and merging\n\n");
    out.push_str(
        "- The files sit in one commit on this pull request's branch, on top of the default branch. \
         opsmith updates this pull request in place when the default branch changes; it never \
         overwrites commits someone else pushed to the branch and comments instead.\n",
    );
    let infra_readme = generation
        .artifacts
        .iter()
        .find(|a| Family::of(&a.path) == Family::Infrastructure && a.path.ends_with("README.md"));
    if let Some(readme) = infra_readme {
        let _ = writeln!(
            out,
            "- The infrastructure needs a state backend and a cloud identity before its first apply: \
             see {}.",
            code(&readme.path, false)
        );
    } else if generation
        .artifacts
        .iter()
        .any(|a| Family::of(&a.path) == Family::Infrastructure)
    {
        out.push_str("- The infrastructure needs a state backend and a cloud identity before its first apply.\n");
    }
    out.push_str(
        "- Commands, for people with write access, as a comment here: `/opsmith generate` regenerates \
         (add `--cloud aws`, `gcp` or `azure` to change the target cloud), `/opsmith scan` builds and \
         scans the images again, `/opsmith help` lists the commands.\n\n",
    );
    out
}

/// The scan section as it sits in the body: heading, markers, contents.
fn scan_frame(contents: &str) -> String {
    format!("{SCAN_HEADING}\n\n{SCAN_START}\n{contents}\n{SCAN_END}\n")
}

/// Replaces what is between the scan markers with `scan` (adding the section at the end when the
/// markers are missing), keeping the body under GitHub's limit: the scan report is cut with a notice
/// when it does not fit. Replacing twice with the same report gives the same body.
pub fn replace_scan_section(body: &str, scan: &str) -> String {
    let (prefix, suffix) = match body.find(SCAN_START) {
        Some(start) => {
            let after = start + SCAN_START.len();
            // Without an end marker the rest was the old section: it is replaced too.
            let suffix = body[after..]
                .find(SCAN_END)
                .map_or("", |end| &body[after + end + SCAN_END.len()..]);
            (body[..start].to_string(), suffix.to_string())
        }
        None => {
            let before = body.trim_end();
            let mut prefix = String::from(before);
            if !before.is_empty() {
                prefix.push_str("\n\n");
            }
            let _ = write!(prefix, "{SCAN_HEADING}\n\n");
            (prefix, "\n".to_string())
        }
    };
    let suffix = markdown::cut(&suffix, SUFFIX_MAX).to_string();
    let frame_len = SCAN_START.len() + SCAN_END.len() + 2;
    let prefix = fit_prefix(
        prefix,
        BODY_MAX.saturating_sub(SCAN_RESERVE + suffix.len() + frame_len),
    );
    let budget = BODY_MAX.saturating_sub(prefix.len() + suffix.len() + frame_len);
    format!(
        "{prefix}{SCAN_START}\n{}\n{SCAN_END}{suffix}",
        scan_contents(scan, budget)
    )
}

/// The text before the scan section, cut with a notice when someone made it too long to leave the
/// scan report its room. Text already within `max` is returned as is, so replacing is idempotent.
fn fit_prefix(prefix: String, max: usize) -> String {
    if prefix.len() <= max {
        return prefix;
    }
    const NOTICE: &str = "\n\n…description truncated to stay under GitHub's limit.\n\n";
    let room = max.saturating_sub(NOTICE.len() + markdown::closers_room(MAX_CLOSERS));
    let kept = markdown::cut(&prefix, room);
    format!("{kept}{}{NOTICE}", markdown::closers(kept, MAX_CLOSERS))
}

/// The scan report as it goes between the markers: markers inside it defused, cut with a notice when
/// longer than `budget` bytes.
fn scan_contents(scan: &str, budget: usize) -> String {
    let scan = scan.trim();
    if scan.is_empty() {
        return SCAN_PLACEHOLDER.to_string();
    }
    // Text that looks like a marker would make the next replacement cut in the wrong place.
    let scan = scan
        .replace(SCAN_START, "<!-- opsmith scan start -->")
        .replace(SCAN_END, "<!-- opsmith scan end -->");
    if scan.len() <= budget {
        return scan;
    }
    let notice_room = 120;
    let kept = markdown::cut(
        &scan,
        budget.saturating_sub(notice_room + markdown::closers_room(MAX_CLOSERS)),
    );
    let left_out = scan[kept.len()..].chars().count();
    format!(
        "{kept}{}\n\n…scan report truncated to stay under GitHub's limit ({left_out} more characters left out).",
        markdown::closers(kept, MAX_CLOSERS)
    )
}
