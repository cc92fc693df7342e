//! Reporting: the pull request body, the check run summary and the status comment, as Markdown. Pure.
//!
//! Everything taken from a repository (service names, paths, reasons) or a tool is escaped, and every
//! text stays under GitHub's size limits whatever its inputs. Lengths are counted in UTF-8 bytes, which
//! is never less than GitHub's count in characters.

mod check_run;
pub mod markdown;
mod pull_request;
mod scan;
mod sections;
mod status;

pub use check_run::check_run_summary;
pub use pull_request::{pull_request_body, replace_scan_section};
pub use scan::{
    Annotation, MAX_ANNOTATIONS_PER_REQUEST, SARIF_MAX_COMPRESSED, SCAN_SECTION_MAX, SarifError,
    SarifUpload, ScanCheckRun, combine_sarif, sarif_upload, scan_check_run, scan_section,
};
pub use sections::{Family, KEPT_REASON};
pub use status::{CommandState, status_comment};

/// GitHub's limit for a pull request body or a comment, in characters.
pub const BODY_LIMIT: usize = 65_536;
/// GitHub's limit for a check run summary, in characters.
pub const SUMMARY_LIMIT: usize = 65_535;
/// What opsmith writes at most, leaving a margin under the limits.
const BODY_MAX: usize = 65_000;
const SUMMARY_MAX: usize = 65_000;

/// Opens the scan section of the pull request body.
pub const SCAN_START: &str = "<!-- opsmith:scan:start -->";
/// Closes the scan section of the pull request body.
pub const SCAN_END: &str = "<!-- opsmith:scan:end -->";
/// The scan section's contents before a scan ran.
pub const SCAN_PLACEHOLDER: &str = "Scan not run yet.";
/// Starts opsmith's status comment, so it can find the comment again and edit it.
pub const STATUS_MARKER: &str = "<!-- opsmith:status -->";
