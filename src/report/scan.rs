//! The scan report: the pull request body's scan section, the scan check run (summary and
//! annotations) and the SARIF upload body for code scanning. Pure.

use std::fmt::Write;
use std::io::Write as _;

use base64::Engine as _;
use serde::Serialize;
use serde_json::Value;

use super::SUMMARY_MAX;
use super::markdown::{MAX_ITEM_CHARS, code, text};
use crate::scan::{
    BuildOutcome, Conclusion, Finding, Misconfiguration, ScanOutcome, ScanReport, ScanRun,
    SecretFinding, Severity,
};

/// Room the scan section takes in the pull request body: what the body keeps free for it.
pub const SCAN_SECTION_MAX: usize = 24_000;
/// GitHub takes at most this many annotations per check run request.
pub const MAX_ANNOTATIONS_PER_REQUEST: usize = 50;
/// Code scanning refuses larger SARIF files (gzip-compressed size).
pub const SARIF_MAX_COMPRESSED: usize = 10 * 1024 * 1024;
/// A failed build shows at most this many of its last log lines.
const LOG_TAIL_LINES: usize = 50;
/// Room kept for the closing notice.
const NOTICE_ROOM: usize = 300;
/// GitHub's limits for an annotation's title and message are larger; these keep them readable.
const ANNOTATION_TITLE_CHARS: usize = 250;
const ANNOTATION_MESSAGE_CHARS: usize = 4_000;

/// The scan section of the pull request body (Markdown between the scan markers), at most
/// [`SCAN_SECTION_MAX`] bytes: rows that do not fit are left out with a notice.
pub fn scan_section(run: &ScanRun) -> String {
    render(run, SCAN_SECTION_MAX)
}

/// The scan check run: title, summary, conclusion, and the misconfigurations as annotations on the
/// scanned configuration files.
#[derive(Debug, Clone, PartialEq)]
pub struct ScanCheckRun {
    pub title: String,
    /// Markdown, under GitHub's 65,535 characters.
    pub summary: String,
    pub conclusion: Conclusion,
    pub annotations: Vec<Annotation>,
}

impl ScanCheckRun {
    /// The annotations as GitHub takes them: at most 50 per request, the rest in later updates.
    pub fn annotation_batches(&self) -> std::slice::Chunks<'_, Annotation> {
        self.annotations.chunks(MAX_ANNOTATIONS_PER_REQUEST)
    }
}

/// A check run annotation, in GitHub's shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Annotation {
    pub path: String,
    pub start_line: u32,
    pub end_line: u32,
    /// `failure`, `warning` or `notice`.
    pub annotation_level: &'static str,
    pub message: String,
    pub title: String,
}

/// The check run for a scan run.
pub fn scan_check_run(run: &ScanRun) -> ScanCheckRun {
    let annotations = run
        .configuration
        .report()
        .map(|r| {
            r.misconfigurations
                .iter()
                .map(|m| annotation(m, run))
                .collect()
        })
        .unwrap_or_default();
    ScanCheckRun {
        title: check_title(run),
        summary: render(run, SUMMARY_MAX),
        conclusion: run.conclusion(),
        annotations,
    }
}

fn annotation(m: &Misconfiguration, run: &ScanRun) -> Annotation {
    let level = if m.severity.meets(run.threshold) {
        "failure"
    } else if m.severity >= Severity::Medium {
        "warning"
    } else {
        "notice"
    };
    let start = m.line.unwrap_or(1);
    let mut message = m.message.clone();
    if message.is_empty() {
        message.clone_from(&m.title);
    }
    if !m.resolution.is_empty() {
        let _ = write!(message, "\n\nResolution: {}", m.resolution);
    }
    Annotation {
        path: m.file.clone(),
        start_line: start,
        end_line: m.end_line.unwrap_or(start).max(start),
        annotation_level: level,
        message: plain(&message, ANNOTATION_MESSAGE_CHARS),
        title: plain(
            &format!("{} {}: {}", m.severity.label(), m.id, m.title),
            ANNOTATION_TITLE_CHARS,
        ),
    }
}

/// Plain text (annotations are not Markdown): no control characters but line breaks, bounded.
fn plain(s: &str, max_chars: usize) -> String {
    let mut out: String = without_escapes(s)
        .chars()
        .filter(|c| *c == '\n' || !c.is_control())
        .take(max_chars)
        .collect();
    if s.chars().count() > max_chars {
        out.push('…');
    }
    out
}

fn check_title(run: &ScanRun) -> String {
    let failed: Vec<&str> = run
        .services
        .iter()
        .filter(|s| matches!(s.build, BuildOutcome::Failed { .. }))
        .map(|s| s.name.as_str())
        .collect();
    let mut parts = Vec::new();
    if !failed.is_empty() {
        let names = failed.join(", ");
        parts.push(format!(
            "build failed: {}",
            names.chars().take(80).collect::<String>()
        ));
    }
    let totals = totals(run);
    let counts: Vec<String> = Severity::DESCENDING
        .into_iter()
        .filter(|s| totals.vulnerabilities.get(*s) > 0)
        .map(|s| format!("{} {}", totals.vulnerabilities.get(s), s.as_str()))
        .collect();
    if !counts.is_empty() {
        parts.push(format!(
            "{} {}",
            counts.join(", "),
            if totals.vulnerabilities.total() == 1 {
                "vulnerability"
            } else {
                "vulnerabilities"
            }
        ));
    }
    if totals.secrets > 0 {
        parts.push(count(totals.secrets, "secret", "secrets"));
    }
    if totals.misconfigurations > 0 {
        parts.push(count(
            totals.misconfigurations,
            "misconfiguration",
            "misconfigurations",
        ));
    }
    if parts.is_empty() {
        let skipped = run
            .services
            .iter()
            .any(|s| matches!(s.build, BuildOutcome::Skipped { .. }));
        return if skipped {
            "Build skipped; no findings in what was scanned".into()
        } else {
            "No findings".into()
        };
    }
    let mut title = plain(&parts.join("; "), ANNOTATION_TITLE_CHARS).replace('\n', " ");
    if let Some(first) = title.get(..1) {
        title = first.to_uppercase() + &title[1..];
    }
    title
}

struct Totals {
    vulnerabilities: crate::scan::SeverityCounts,
    secrets: usize,
    misconfigurations: usize,
}

fn totals(run: &ScanRun) -> Totals {
    let mut totals = Totals {
        vulnerabilities: Default::default(),
        secrets: 0,
        misconfigurations: 0,
    };
    let reports = run
        .services
        .iter()
        .filter_map(|s| s.scan.report())
        .chain(run.configuration.report());
    for report in reports {
        for s in Severity::DESCENDING {
            for _ in 0..report.vulnerabilities.get(s) {
                totals.vulnerabilities.add(s);
            }
        }
        totals.secrets += report.secrets.len();
        totals.misconfigurations += report.misconfigurations.len();
    }
    totals
}

fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Markdown under `max` bytes, built in order of importance; what does not fit is counted and named
/// in a closing notice.
struct Writer {
    out: String,
    max: usize,
    left_out: usize,
}

impl Writer {
    fn room(&self) -> usize {
        self.max.saturating_sub(self.out.len() + NOTICE_ROOM)
    }

    fn push(&mut self, s: &str) -> bool {
        if s.len() <= self.room() {
            self.out.push_str(s);
            true
        } else {
            false
        }
    }

    /// A table (inside `open`/`close`, e.g. a `<details>`), with as many rows as fit; the rest are
    /// counted as left out and named under the table.
    fn table(&mut self, open: &str, header: &str, rows: &[String], close: &str) {
        let Some(first) = rows.first() else {
            return;
        };
        const MORE_ROOM: usize = 60;
        if open.len() + header.len() + first.len() + close.len() + MORE_ROOM > self.room() {
            self.left_out += rows.len();
            return;
        }
        self.out.push_str(open);
        self.out.push_str(header);
        let mut shown = 0;
        for row in rows {
            if row.len() + close.len() + MORE_ROOM > self.room() {
                break;
            }
            self.out.push_str(row);
            shown += 1;
        }
        let missing = rows.len() - shown;
        if missing > 0 {
            self.left_out += missing;
            let _ = write!(self.out, "\n…{missing} more not shown here.\n");
        }
        self.out.push_str(close);
    }

    fn finish(mut self) -> String {
        if self.left_out > 0 {
            let _ = write!(
                self.out,
                "\n…{} more rows left out to stay under GitHub's size limit: `opsmith scan --json` \
                 lists every finding, and code scanning has them when the SARIF upload is enabled.\n",
                self.left_out
            );
        }
        self.out
    }
}

fn render(run: &ScanRun, max: usize) -> String {
    let mut w = Writer {
        out: String::new(),
        max,
        left_out: 0,
    };
    w.push(&verdict(run));
    summary_table(&mut w, run);
    for service in &run.services {
        let name = code(&service.name, false);
        let details = service.scan.report().is_some_and(|r| !r.is_clean());
        let problem = !matches!(service.build, BuildOutcome::Built { .. })
            || matches!(service.scan, ScanOutcome::Failed(_));
        if !details && !problem {
            continue;
        }
        if !w.push(&format!("#### {name}\n\n")) {
            w.left_out += 1;
            continue;
        }
        build_notes(&mut w, &service.build);
        match &service.scan {
            ScanOutcome::Failed(message) => {
                w.push(&format!(
                    "Image scan failed: {}\n\n",
                    text(message, MAX_ITEM_CHARS)
                ));
            }
            ScanOutcome::Scanned(report) => report_details(&mut w, report, run),
            ScanOutcome::NotRun => {}
        }
    }
    match &run.configuration {
        ScanOutcome::Scanned(report) if !report.is_clean() => {
            if w.push("#### Generated configuration\n\n") {
                report_details(&mut w, report, run);
            } else {
                w.left_out += report.misconfigurations.len();
            }
        }
        ScanOutcome::Failed(message) => {
            w.push(&format!(
                "Configuration scan failed: {}\n\n",
                text(message, MAX_ITEM_CHARS)
            ));
        }
        _ => {}
    }
    w.finish()
}

fn verdict(run: &ScanRun) -> String {
    let threshold = run.threshold.as_str();
    let line = match run.conclusion() {
        Conclusion::Failure => {
            let mut reasons = Vec::new();
            if run
                .services
                .iter()
                .any(|s| matches!(s.build, BuildOutcome::Failed { .. }))
            {
                reasons.push("an image did not build".to_string());
            }
            let reports = run
                .services
                .iter()
                .filter_map(|s| s.scan.report())
                .chain(run.configuration.report());
            if reports
                .flat_map(ScanReport::severities)
                .any(|s| s.meets(run.threshold))
            {
                reasons.push(format!("findings at or above the `{threshold}` threshold"));
            }
            format!("**Failed**: {}.", reasons.join(" and "))
        }
        Conclusion::Neutral => format!(
            "**Passed with notes**: nothing at or above the `{threshold}` threshold, but something \
             was found below it or could not run."
        ),
        Conclusion::Success => {
            "**Clean**: no vulnerabilities, secrets or misconfigurations found.".to_string()
        }
    };
    format!("{line} The threshold is `severity_threshold` in `.github/opsmith.yml`.\n\n")
}

fn summary_table(w: &mut Writer, run: &ScanRun) {
    let header = "| Service | Image | Build | Critical | High | Medium | Low | Unknown | Secrets | Misconfigurations |\n\
                  | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n";
    let mut rows: Vec<String> = run
        .services
        .iter()
        .map(|s| {
            let build = match &s.build {
                BuildOutcome::Built { seconds, .. } => format!("built in {seconds:.1} s"),
                BuildOutcome::Failed { seconds, .. } => format!("**failed** after {seconds:.1} s"),
                BuildOutcome::Skipped { .. } => "skipped".to_string(),
            };
            let counts = match &s.scan {
                ScanOutcome::Scanned(r) => counts_cells(r),
                ScanOutcome::Failed(_) => "scan failed | | | | | | ".to_string(),
                ScanOutcome::NotRun => "– | – | – | – | – | – | –".to_string(),
            };
            format!(
                "| {} | {} | {build} | {counts} |\n",
                code(&s.name, true),
                code(&s.image, true)
            )
        })
        .collect();
    match &run.configuration {
        ScanOutcome::Scanned(r) => rows.push(format!(
            "| generated configuration | | | {} |\n",
            counts_cells(r)
        )),
        ScanOutcome::Failed(_) => {
            rows.push("| generated configuration | | | scan failed | | | | | | |\n".into())
        }
        ScanOutcome::NotRun => {}
    }
    w.table("", header, &rows, "\n");
}

fn counts_cells(r: &ScanReport) -> String {
    let v = &r.vulnerabilities;
    format!(
        "{} | {} | {} | {} | {} | {} | {}",
        v.critical,
        v.high,
        v.medium,
        v.low,
        v.unknown,
        r.secrets.len(),
        r.misconfigurations.len()
    )
}

fn build_notes(w: &mut Writer, build: &BuildOutcome) {
    match build {
        BuildOutcome::Built { .. } => {}
        BuildOutcome::Skipped { reason } => {
            let reason = reason.strip_prefix("build skipped: ").unwrap_or(reason);
            w.push(&format!(
                "build skipped: {}\n\n",
                text(reason, MAX_ITEM_CHARS)
            ));
        }
        BuildOutcome::Failed {
            step,
            log_tail,
            seconds,
        } => {
            w.push(&format!(
                "**Build failed** at step {} after {seconds:.1} s. Its last log lines:\n\n",
                code(step, false)
            ));
            let lines: Vec<String> = log_tail[log_tail.len().saturating_sub(LOG_TAIL_LINES)..]
                .iter()
                .map(|l| log_line(l))
                .collect();
            // Keep the end of the log, which says why, when all of it does not fit.
            for skip in 0..=lines.len() {
                let block = fenced(&lines[skip..]);
                if w.push(&block) {
                    w.left_out += skip;
                    break;
                }
                if skip == lines.len() {
                    w.left_out += lines.len();
                }
            }
        }
    }
}

/// One build log line as it can sit in a code block: no terminal escapes or control characters,
/// bounded.
fn log_line(line: &str) -> String {
    let clean: String = without_escapes(line)
        .chars()
        .filter(|c| *c == '\t' || !c.is_control())
        .collect();
    match clean.char_indices().nth(MAX_ITEM_CHARS) {
        Some((at, _)) => format!("{}…", &clean[..at]),
        None => clean,
    }
}

/// Terminal colour and cursor sequences (`ESC [ … letter`) removed.
fn without_escapes(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.peek() == Some(&'[') {
                chars.next();
                for n in chars.by_ref() {
                    if n.is_ascii_alphabetic() || n == '~' {
                        break;
                    }
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}

/// Lines in a fenced code block whose fence no line can close.
fn fenced(lines: &[String]) -> String {
    let longest_run = lines
        .iter()
        .flat_map(|l| l.split(|c| c != '`').map(str::len))
        .max()
        .unwrap_or(0);
    let fence = "`".repeat(longest_run.max(2) + 1);
    let mut out = format!("{fence}text\n");
    for line in lines {
        out.push_str(line);
        out.push('\n');
    }
    let _ = write!(out, "{fence}\n\n");
    out
}

fn report_details(w: &mut Writer, report: &ScanReport, run: &ScanRun) {
    let severity = |s: Severity| {
        if s.meets(run.threshold) {
            format!("**{}**", s.label())
        } else {
            s.label().to_string()
        }
    };
    let (fixable, unfixed): (Vec<&Finding>, Vec<&Finding>) =
        report.findings.iter().partition(|f| f.fixed.is_some());
    if !fixable.is_empty() {
        let rows: Vec<String> = fixable
            .iter()
            .map(|f| {
                format!(
                    "| {} | {} | {} | {} | {} | {} |\n",
                    severity(f.severity),
                    finding_link(f),
                    code(&f.package, true),
                    code(&f.installed, true),
                    code(f.fixed.as_deref().unwrap_or_default(), true),
                    text(&f.title, 160)
                )
            })
            .collect();
        w.table(
            &format!(
                "**{}** with a fix:\n\n",
                count(fixable.len(), "vulnerability", "vulnerabilities")
            ),
            "| Severity | ID | Package | Installed | Fixed in | Title |\n| --- | --- | --- | --- | --- | --- |\n",
            &rows,
            "\n",
        );
    }
    if !unfixed.is_empty() {
        let rows: Vec<String> = unfixed
            .iter()
            .map(|f| {
                format!(
                    "| {} | {} | {} | {} | {} |\n",
                    severity(f.severity),
                    finding_link(f),
                    code(&f.package, true),
                    code(&f.installed, true),
                    text(&f.title, 160)
                )
            })
            .collect();
        w.table(
            &format!(
                "<details><summary>{} without a fix yet</summary>\n\n",
                count(unfixed.len(), "vulnerability", "vulnerabilities")
            ),
            "| Severity | ID | Package | Installed | Title |\n| --- | --- | --- | --- | --- |\n",
            &rows,
            "\n</details>\n\n",
        );
    }
    if !report.secrets.is_empty() {
        let rows: Vec<String> = report
            .secrets
            .iter()
            .map(|s: &SecretFinding| {
                format!(
                    "| {} | {} | {} | {} | {} |\n",
                    severity(s.severity),
                    code(&s.rule, true),
                    code(&s.file, true),
                    s.line.map_or("–".to_string(), |l| l.to_string()),
                    text(&s.title, 160)
                )
            })
            .collect();
        w.table(
            &format!(
                "**{}** (the secret itself is never shown: remove it from the image and rotate it):\n\n",
                count(report.secrets.len(), "secret", "secrets")
            ),
            "| Severity | Rule | File | Line | Kind |\n| --- | --- | --- | ---: | --- |\n",
            &rows,
            "\n",
        );
    }
    if !report.misconfigurations.is_empty() {
        let rows: Vec<String> = report
            .misconfigurations
            .iter()
            .map(|m| {
                let place = match m.line {
                    Some(line) => format!("{}:{line}", m.file),
                    None => m.file.clone(),
                };
                format!(
                    "| {} | {} | {} | {} | {} |\n",
                    severity(m.severity),
                    code(&m.id, true),
                    code(&place, true),
                    text(&m.title, 160),
                    text(&m.resolution, 200)
                )
            })
            .collect();
        w.table(
            &format!(
                "**{}**:\n\n",
                count(
                    report.misconfigurations.len(),
                    "misconfiguration",
                    "misconfigurations"
                )
            ),
            "| Severity | Check | Where | Title | Resolution |\n| --- | --- | --- | --- | --- |\n",
            &rows,
            "\n",
        );
    }
}

/// The finding's id, linked to its advisory when the link is a plain web address.
fn finding_link(f: &Finding) -> String {
    let id = text(&f.id, 80);
    match f.url.as_deref().filter(|u| safe_url(u)) {
        Some(url) => format!("[{id}]({url})"),
        None => id,
    }
}

/// A web address that cannot break out of a Markdown link or a table cell.
fn safe_url(url: &str) -> bool {
    (url.starts_with("https://") || url.starts_with("http://"))
        && url.len() <= 500
        && url
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._~:/?#=&%+,;".contains(c))
}

/// Why a SARIF file cannot be uploaded.
#[derive(Debug, thiserror::Error)]
pub enum SarifError {
    #[error("the SARIF file is not JSON: {0}")]
    NotJson(String),
    #[error("the SARIF file has no `runs` list")]
    NotSarif,
    #[error(
        "the SARIF file is {size} bytes compressed; code scanning takes at most {SARIF_MAX_COMPRESSED}"
    )]
    TooLarge { size: usize },
}

/// The body of `POST /repos/{owner}/{repo}/code-scanning/sarifs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SarifUpload {
    pub commit_sha: String,
    #[serde(rename = "ref")]
    pub git_ref: String,
    /// The SARIF file, gzip-compressed and base64-encoded.
    pub sarif: String,
    pub tool_name: String,
}

/// The upload body for Trivy's SARIF (`--format sarif`), with any secret's matched text removed,
/// refused when larger than code scanning takes.
pub fn sarif_upload(
    sarif: &[u8],
    commit_sha: &str,
    git_ref: &str,
) -> Result<SarifUpload, SarifError> {
    let mut doc: Value =
        serde_json::from_slice(sarif).map_err(|e| SarifError::NotJson(e.to_string()))?;
    scrub_secret_matches(&mut doc)?;
    let bytes = serde_json::to_vec(&doc).expect("a JSON value serializes");
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder
        .write_all(&bytes)
        .expect("compressing into memory does not fail");
    let compressed = encoder
        .finish()
        .expect("compressing into memory does not fail");
    if compressed.len() > SARIF_MAX_COMPRESSED {
        return Err(SarifError::TooLarge {
            size: compressed.len(),
        });
    }
    Ok(SarifUpload {
        commit_sha: commit_sha.to_string(),
        git_ref: git_ref.to_string(),
        sarif: base64::engine::general_purpose::STANDARD.encode(compressed),
        tool_name: "opsmith (Trivy)".to_string(),
    })
}

/// Several SARIF files (an image scan per service, the configuration scan) as one, each run tagged
/// with its category so code scanning keeps them apart.
pub fn combine_sarif(parts: &[(&str, &[u8])]) -> Result<Vec<u8>, SarifError> {
    let mut combined: Option<Value> = None;
    for (category, sarif) in parts {
        let mut doc: Value =
            serde_json::from_slice(sarif).map_err(|e| SarifError::NotJson(e.to_string()))?;
        let runs = doc
            .get_mut("runs")
            .and_then(Value::as_array_mut)
            .ok_or(SarifError::NotSarif)?;
        for run in runs.iter_mut().filter(|r| r.is_object()) {
            run["automationDetails"] = serde_json::json!({ "id": format!("{category}/") });
        }
        match combined.as_mut() {
            None => combined = Some(doc),
            Some(all) => {
                let more = std::mem::take(runs);
                all["runs"]
                    .as_array_mut()
                    .expect("checked above")
                    .extend(more);
            }
        }
    }
    let doc = combined.unwrap_or_else(|| {
        serde_json::json!({
            "version": "2.1.0",
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "runs": []
        })
    });
    Ok(serde_json::to_vec(&doc).expect("a JSON value serializes"))
}

/// Trivy masks a secret in its SARIF `Match:` lines, but the text around a secret it did not
/// recognise is shown in full: those lines are removed from secret rules and their results.
fn scrub_secret_matches(doc: &mut Value) -> Result<(), SarifError> {
    let runs = doc
        .get_mut("runs")
        .and_then(Value::as_array_mut)
        .ok_or(SarifError::NotSarif)?;
    for run in runs {
        let mut secret_rules = Vec::new();
        let rules = run
            .pointer_mut("/tool/driver/rules")
            .and_then(Value::as_array_mut);
        for rule in rules.into_iter().flatten() {
            let is_secret = rule
                .pointer("/properties/tags")
                .and_then(Value::as_array)
                .is_some_and(|tags| tags.iter().any(|t| t.as_str() == Some("secret")));
            if !is_secret {
                continue;
            }
            if let Some(id) = rule.get("id").and_then(Value::as_str) {
                secret_rules.push(id.to_string());
            }
            let short = rule
                .pointer("/shortDescription/text")
                .and_then(Value::as_str)
                .unwrap_or("Secret")
                .to_string();
            if let Some(object) = rule.as_object_mut() {
                object.insert(
                    "fullDescription".into(),
                    serde_json::json!({ "text": short }),
                );
                object.insert(
                    "help".into(),
                    serde_json::json!({ "text": short, "markdown": text(&short, MAX_ITEM_CHARS) }),
                );
            }
        }
        let results = run.get_mut("results").and_then(Value::as_array_mut);
        for result in results.into_iter().flatten() {
            let rule = result.get("ruleId").and_then(Value::as_str).unwrap_or("");
            if !secret_rules.iter().any(|r| r == rule) {
                continue;
            }
            if let Some(message) = result.pointer_mut("/message/text") {
                let kept: Vec<&str> = message
                    .as_str()
                    .unwrap_or("")
                    .lines()
                    .filter(|l| !l.trim_start().starts_with("Match:"))
                    .collect();
                *message = Value::String(kept.join("\n"));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repo_config::Severity as Threshold;
    use crate::report::{BODY_LIMIT, replace_scan_section};
    use crate::scan::ServiceScan;
    use std::io::Read;

    const ROOTFS: &str = include_str!("../scan/testdata/rootfs-vuln.json");
    const SECRET: &str = include_str!("../scan/testdata/secret.json");
    const CONFIG: &str = include_str!("../scan/testdata/config.json");
    const VULN_SARIF: &str = include_str!("../scan/testdata/rootfs-vuln.sarif");
    const SECRET_SARIF: &str = include_str!("../scan/testdata/secret.sarif");

    fn parsed(json: &str) -> ScanReport {
        ScanReport::from_trivy_json(json.as_bytes()).unwrap()
    }

    /// A run from real Trivy output: the image report is the rootfs scan plus the secret scan.
    fn real_run() -> ScanRun {
        let mut image = parsed(ROOTFS);
        image.merge(parsed(SECRET));
        ScanRun {
            services: vec![
                ServiceScan {
                    name: "web".into(),
                    image: "opsmith/shop-web:local".into(),
                    build: BuildOutcome::Built {
                        image: "opsmith/test:1".into(),
                        seconds: 12.34,
                    },
                    scan: ScanOutcome::Scanned(image),
                },
                ServiceScan {
                    name: "worker".into(),
                    image: "opsmith/shop-worker:local".into(),
                    build: BuildOutcome::Failed {
                        step: "RUN pip install -r requirements.txt".into(),
                        log_tail: vec![
                            "Collecting flask".into(),
                            "\u{1b}[31mERROR: No matching distribution found for flask\u{1b}[0m"
                                .into(),
                        ],
                        seconds: 3.5,
                    },
                    scan: ScanOutcome::NotRun,
                },
            ],
            configuration: ScanOutcome::Scanned(parsed(CONFIG)),
            threshold: Threshold::Critical,
        }
    }

    #[test]
    fn section_from_a_real_report() {
        let section = scan_section(&real_run());
        insta::assert_snapshot!(section);
        assert!(section.contains("CVE-2005-2541"));
        assert!(section.contains("`Dockerfile:28`"));
        assert!(section.contains("No matching distribution found for flask"));
        assert!(!section.contains('\u{1b}'));
    }

    #[test]
    fn the_secret_never_appears() {
        // Put the key where Trivy's JSON and SARIF carry matched text, as if Trivy had not masked it.
        let key = ["AKIA", "OPSMITHFAKEKEY00"].concat();
        let mut doc: Value = serde_json::from_str(SECRET).unwrap();
        doc["Results"][0]["Secrets"][0]["Match"] = Value::String(key.clone());
        doc["Results"][0]["Secrets"][0]["Code"]["Lines"][2]["Content"] = Value::String(key.clone());
        let mut run = real_run();
        run.services[0].scan = ScanOutcome::Scanned(parsed(&doc.to_string()));
        let check = scan_check_run(&run);
        let section = scan_section(&run);
        let body = replace_scan_section("intro", &section);
        let annotations = serde_json::to_string(&check.annotations).unwrap();
        for shown in [&section, &body, &check.summary, &check.title, &annotations] {
            assert!(!shown.contains(&key), "{shown}");
        }
        assert!(section.contains("aws-access-key-id"));

        let sarif = SECRET_SARIF.replace("********************", &key);
        assert!(sarif.contains(&key));
        let upload = sarif_upload(sarif.as_bytes(), "0123", "refs/heads/x").unwrap();
        let uploaded = unpack(&upload.sarif);
        assert!(!uploaded.contains(&key), "{uploaded}");
        assert!(uploaded.contains("aws-access-key-id"));
    }

    #[test]
    fn repository_text_is_escaped() {
        let mut run = real_run();
        run.services[0].name = "<img src=x>|@team".into();
        run.services[1].build = BuildOutcome::Failed {
            step: "RUN echo `x` <b>".into(),
            log_tail: vec![
                "```".into(),
                "<!-- opsmith:scan:end -->".into(),
                "@admin".into(),
            ],
            seconds: 1.0,
        };
        let section = scan_section(&run);
        assert!(!section.contains("<img"), "{section}");
        assert!(
            section.contains("&lt;img src=x&gt;\\|@&#8203;team"),
            "{section}"
        );
        assert!(!section.contains("<b>"), "{section}");
        // The log's own fence cannot close the block: the block's fence is longer.
        assert!(section.contains("````text\n```\n"), "{section}");
    }

    fn many_findings(n: usize) -> ScanReport {
        let mut report = ScanReport::default();
        for i in 0..n {
            let severity = Severity::DESCENDING[i % 5];
            report.findings.push(Finding {
                id: format!("CVE-2024-{i:05}"),
                package: format!("package-{i}"),
                installed: "1.0.0".into(),
                fixed: (i % 3 == 0).then(|| "1.0.1".into()),
                severity,
                title: "A long title that says what is wrong with the package ".repeat(3),
                url: Some(format!("https://avd.aquasec.com/nvd/cve-2024-{i:05}")),
            });
            report.vulnerabilities.add(severity);
            report.misconfigurations.push(Misconfiguration {
                id: format!("DS-{i:04}"),
                severity,
                title: "Check".into(),
                file: format!("svc{i}/Dockerfile"),
                line: Some(3),
                end_line: Some(4),
                message: "m".into(),
                resolution: "r".into(),
            });
        }
        report
    }

    #[test]
    fn thousands_of_findings_stay_under_the_limits() {
        let mut run = real_run();
        run.services[0].scan = ScanOutcome::Scanned(many_findings(5_000));
        run.configuration = ScanOutcome::Scanned(many_findings(3_000));
        let section = scan_section(&run);
        assert!(section.len() <= SCAN_SECTION_MAX, "{}", section.len());
        assert!(section.contains("more rows left out"), "{section}");
        // Every <details> opened is closed.
        assert_eq!(
            section.matches("<details>").count(),
            section.matches("</details>").count()
        );
        let long_body = "intro\n".repeat(10_000);
        for body in ["", "intro", long_body.as_str()] {
            let full = replace_scan_section(body, &section);
            assert!(full.chars().count() < BODY_LIMIT, "{}", full.len());
        }
        let check = scan_check_run(&run);
        assert!(check.summary.chars().count() <= crate::report::SUMMARY_LIMIT);
        assert_eq!(check.annotations.len(), 3_000);
        let batches: Vec<usize> = check.annotation_batches().map(<[_]>::len).collect();
        assert_eq!(batches.len(), 60);
        assert!(batches.iter().all(|n| *n <= MAX_ANNOTATIONS_PER_REQUEST));
    }

    #[test]
    fn a_long_build_log_keeps_its_end() {
        let mut run = real_run();
        run.services[1].build = BuildOutcome::Failed {
            step: "RUN make".into(),
            log_tail: (0..200)
                .map(|i| format!("line {i} {}", "x".repeat(400)))
                .collect(),
            seconds: 1.0,
        };
        let section = scan_section(&run);
        assert!(section.contains("line 199"));
        assert!(!section.contains("line 149 "), "only the last 50 lines");
        assert!(section.contains("line 150 "));
    }

    #[test]
    fn check_run_annotates_misconfigurations() {
        let run = real_run();
        let check = scan_check_run(&run);
        assert_eq!(check.conclusion, Conclusion::Failure);
        assert!(
            check.title.starts_with("Build failed: worker"),
            "{}",
            check.title
        );
        assert_eq!(
            check.annotations,
            [Annotation {
                path: "Dockerfile".into(),
                start_line: 28,
                end_line: 28,
                annotation_level: "warning",
                message: "The instruction 'RUN <package-manager> update' should always be followed by \
                          '<package-manager> install' in the same RUN statement.\n\nResolution: Combine \
                          '<package-manager> update' and '<package-manager> install' instructions to single one"
                    .into(),
                title: "HIGH DS-0017: 'RUN <package-manager> update' instruction alone".into(),
            }]
        );
        let mut strict = real_run();
        strict.threshold = Threshold::High;
        assert_eq!(
            scan_check_run(&strict).annotations[0].annotation_level,
            "failure"
        );
    }

    #[test]
    fn clean_and_skipped_runs() {
        let run = ScanRun {
            services: vec![ServiceScan {
                name: "api".into(),
                image: "opsmith/x-api:local".into(),
                build: BuildOutcome::Skipped {
                    reason: "build skipped: no Docker engine at unix:///var/run/docker.sock".into(),
                },
                scan: ScanOutcome::NotRun,
            }],
            configuration: ScanOutcome::Scanned(ScanReport::default()),
            threshold: Threshold::Critical,
        };
        let section = scan_section(&run);
        assert!(
            section.contains("build skipped: no Docker engine at unix:///var/run/docker.sock"),
            "{section}"
        );
        assert!(!section.contains("build skipped: build skipped"));
        let check = scan_check_run(&run);
        assert_eq!(check.conclusion, Conclusion::Neutral);
        assert_eq!(
            check.title,
            "Build skipped; no findings in what was scanned"
        );
    }

    fn unpack(encoded: &str) -> String {
        let compressed = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .unwrap();
        let mut out = String::new();
        flate2::read::GzDecoder::new(&compressed[..])
            .read_to_string(&mut out)
            .unwrap();
        out
    }

    #[test]
    fn sarif_upload_is_gzip_and_base64() {
        let upload = sarif_upload(VULN_SARIF.as_bytes(), "abc123", "refs/pull/1/head").unwrap();
        let body = serde_json::to_value(&upload).unwrap();
        assert_eq!(body["commit_sha"], "abc123");
        assert_eq!(body["ref"], "refs/pull/1/head");
        let doc: Value = serde_json::from_str(&unpack(&upload.sarif)).unwrap();
        assert_eq!(doc["runs"][0]["results"][0]["ruleId"], "CVE-2005-2541");
        assert!(matches!(
            sarif_upload(b"{", "a", "b"),
            Err(SarifError::NotJson(_))
        ));
        assert!(matches!(
            sarif_upload(b"{}", "a", "b"),
            Err(SarifError::NotSarif)
        ));
    }

    #[test]
    fn sarif_over_ten_megabytes_compressed_is_refused() {
        // Random-looking text compresses badly: about 14 MB of it stays above 10 MB gzipped.
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let noise: String = (0..14_000_000)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                char::from(b'!' + (state % 90) as u8)
            })
            .filter(|c| *c != '"' && *c != '\\')
            .collect();
        let sarif = format!(r#"{{"version":"2.1.0","runs":[{{"results":[],"noise":"{noise}"}}]}}"#);
        match sarif_upload(sarif.as_bytes(), "a", "b") {
            Err(SarifError::TooLarge { size }) => assert!(size > SARIF_MAX_COMPRESSED),
            other => panic!("expected TooLarge, got {other:?}"),
        }
    }

    #[test]
    fn combined_sarif_keeps_runs_apart() {
        let combined = combine_sarif(&[
            ("opsmith/web/image", VULN_SARIF.as_bytes()),
            ("opsmith/web/secrets", SECRET_SARIF.as_bytes()),
        ])
        .unwrap();
        let doc: Value = serde_json::from_slice(&combined).unwrap();
        let ids: Vec<&str> = doc["runs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["automationDetails"]["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["opsmith/web/image/", "opsmith/web/secrets/"]);
        assert!(matches!(
            combine_sarif(&[("x", b"[]")]),
            Err(SarifError::NotSarif)
        ));
    }
}
