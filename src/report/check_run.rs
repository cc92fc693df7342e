//! The check run's title and summary for a generation run.

use super::SUMMARY_MAX;
use super::sections::{
    family_counts, file_sections, files, languages_line, plural, services_table,
};
use crate::generate::Generation;
use crate::profile::RepoProfile;
use std::fmt::Write;

const SERVICES_BUDGET: usize = 16_000;

/// `(title, summary)` for the check run on the pull request's head commit; the summary stays under
/// GitHub's 65,535 characters.
pub fn check_run_summary(profile: &RepoProfile, generation: &Generation) -> (String, String) {
    let generated = generation.artifacts.len();
    let mut title = if profile.services.is_empty() {
        format!("No deployable service; {} proposed", files(generated))
    } else {
        format!(
            "{} proposed for {}",
            files(generated),
            plural(profile.services.len(), "service", "services")
        )
    };
    if !generation.kept.is_empty() {
        let _ = write!(title, ", {} kept", generation.kept.len());
    }

    let mut summary = format!("**Languages:** {}\n\n", languages_line(profile));
    summary.push_str(&services_table(profile, SERVICES_BUDGET));
    summary.push('\n');
    if generated + generation.kept.len() > 0 {
        summary.push_str(&family_counts(generation));
        summary.push('\n');
    }
    let budget = SUMMARY_MAX.saturating_sub(summary.len());
    summary.push_str(&file_sections(generation, budget));
    (title, summary)
}
