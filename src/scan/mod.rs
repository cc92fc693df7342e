//! Scanning with Trivy: finding and running it, and its JSON read into typed results (`ScanReport`)
//! that carry no secret's matched text.

pub mod local;
mod parse;
mod trivy;
pub mod workspace;

use serde::Serialize;

use crate::repo_config;

pub use trivy::{DEFAULT_TIMEOUT, ScanError, TRIVY_PATH_VAR, Target, Trivy, TrivyScan};

/// A finding's severity as Trivy reports it; anything Trivy calls otherwise (or nothing) is `Unknown`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Unknown,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    /// From most to least severe, the order reports list them in.
    pub const DESCENDING: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Unknown,
    ];

    /// Reads Trivy's severity name, case-insensitively; unknown names give `Unknown`.
    pub fn parse(value: &str) -> Severity {
        match value.trim().to_ascii_lowercase().as_str() {
            "critical" => Severity::Critical,
            "high" => Severity::High,
            "medium" => Severity::Medium,
            "low" => Severity::Low,
            _ => Severity::Unknown,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Unknown => "unknown",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// The name in capitals, as Trivy and the reports show it.
    pub fn label(self) -> &'static str {
        match self {
            Severity::Unknown => "UNKNOWN",
            Severity::Low => "LOW",
            Severity::Medium => "MEDIUM",
            Severity::High => "HIGH",
            Severity::Critical => "CRITICAL",
        }
    }

    /// Whether a finding of this severity fails a run with `threshold`. An unknown severity never
    /// does: it is reported, and the run ends neutral.
    pub fn meets(self, threshold: repo_config::Severity) -> bool {
        self != Severity::Unknown && self >= Severity::from(threshold)
    }
}

impl From<repo_config::Severity> for Severity {
    fn from(threshold: repo_config::Severity) -> Self {
        match threshold {
            repo_config::Severity::Low => Severity::Low,
            repo_config::Severity::Medium => Severity::Medium,
            repo_config::Severity::High => Severity::High,
            repo_config::Severity::Critical => Severity::Critical,
        }
    }
}

/// How many vulnerabilities there are of each severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct SeverityCounts {
    pub critical: usize,
    pub high: usize,
    pub medium: usize,
    pub low: usize,
    pub unknown: usize,
}

impl SeverityCounts {
    pub fn get(&self, severity: Severity) -> usize {
        match severity {
            Severity::Critical => self.critical,
            Severity::High => self.high,
            Severity::Medium => self.medium,
            Severity::Low => self.low,
            Severity::Unknown => self.unknown,
        }
    }

    pub fn add(&mut self, severity: Severity) {
        match severity {
            Severity::Critical => self.critical += 1,
            Severity::High => self.high += 1,
            Severity::Medium => self.medium += 1,
            Severity::Low => self.low += 1,
            Severity::Unknown => self.unknown += 1,
        }
    }

    pub fn total(&self) -> usize {
        self.critical + self.high + self.medium + self.low + self.unknown
    }
}

/// A known vulnerability in an installed package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// `CVE-…`, `GHSA-…`.
    pub id: String,
    pub package: String,
    pub installed: String,
    /// The version that fixes it, when there is one.
    pub fixed: Option<String>,
    pub severity: Severity,
    pub title: String,
    pub url: Option<String>,
}

/// A secret found in a file. Deliberately holds no matched text: only where it is and what kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SecretFinding {
    /// Trivy's rule, e.g. `aws-access-key-id`.
    pub rule: String,
    pub category: String,
    pub severity: Severity,
    pub file: String,
    pub line: Option<u32>,
    pub title: String,
}

/// A failed configuration check (Dockerfile, Terraform, …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Misconfiguration {
    /// e.g. `DS-0002`.
    pub id: String,
    pub severity: Severity,
    pub title: String,
    /// Relative to the scanned folder.
    pub file: String,
    /// The first line at fault; `None` when the check is about the file as a whole.
    pub line: Option<u32>,
    pub end_line: Option<u32>,
    /// What is wrong here, in Trivy's words.
    pub message: String,
    pub resolution: String,
}

/// What one or more Trivy runs found.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct ScanReport {
    pub vulnerabilities: SeverityCounts,
    /// Most severe first.
    pub findings: Vec<Finding>,
    pub secrets: Vec<SecretFinding>,
    pub misconfigurations: Vec<Misconfiguration>,
}

impl ScanReport {
    /// Reads Trivy's `--format json` output. Missing fields are tolerated; text that is not a JSON
    /// object is an error.
    pub fn from_trivy_json(bytes: &[u8]) -> Result<ScanReport, ScanError> {
        parse::report(bytes)
    }

    /// Adds another run's results (an image scan and a configuration scan, say).
    pub fn merge(&mut self, other: ScanReport) {
        for finding in other.findings {
            if !self.findings.contains(&finding) {
                self.vulnerabilities.add(finding.severity);
                self.findings.push(finding);
            }
        }
        parse::sort_findings(&mut self.findings);
        self.secrets.extend(other.secrets);
        self.misconfigurations.extend(other.misconfigurations);
    }

    pub fn is_clean(&self) -> bool {
        self.findings.is_empty() && self.secrets.is_empty() && self.misconfigurations.is_empty()
    }

    /// Every finding's severity: vulnerabilities, secrets and misconfigurations.
    pub fn severities(&self) -> impl Iterator<Item = Severity> + '_ {
        self.findings
            .iter()
            .map(|f| f.severity)
            .chain(self.secrets.iter().map(|s| s.severity))
            .chain(self.misconfigurations.iter().map(|m| m.severity))
    }
}

/// The check run's conclusion for a scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Conclusion {
    Success,
    Neutral,
    Failure,
}

impl Conclusion {
    /// GitHub's name for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Conclusion::Success => "success",
            Conclusion::Neutral => "neutral",
            Conclusion::Failure => "failure",
        }
    }
}

/// Failure when a finding is at or above `threshold`, neutral when there are findings below it,
/// success when there are none.
pub fn conclusion(report: &ScanReport, threshold: repo_config::Severity) -> Conclusion {
    let mut any = false;
    for severity in report.severities() {
        if severity.meets(threshold) {
            return Conclusion::Failure;
        }
        any = true;
    }
    if any {
        Conclusion::Neutral
    } else {
        Conclusion::Success
    }
}

/// How a service's image build ended (the reports show it as the build module gives it).
pub use crate::build::BuildOutcome;

/// Whether a scan ran and what it gave.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum ScanOutcome {
    #[default]
    NotRun,
    Scanned(ScanReport),
    /// Trivy could not scan; the message says why.
    Failed(String),
}

impl ScanOutcome {
    pub fn report(&self) -> Option<&ScanReport> {
        match self {
            ScanOutcome::Scanned(report) => Some(report),
            _ => None,
        }
    }
}

/// One service's build and image scan.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceScan {
    pub name: String,
    /// The image tag built (or that would have been).
    pub image: String,
    pub build: BuildOutcome,
    pub scan: ScanOutcome,
}

/// Everything one scan run of a repository produced: each service's image, and the configuration
/// scan of the generated files.
#[derive(Debug, Clone, PartialEq)]
pub struct ScanRun {
    pub services: Vec<ServiceScan>,
    pub configuration: ScanOutcome,
    pub threshold: repo_config::Severity,
}

impl ScanRun {
    /// Failure when a build failed or a finding is at or above the threshold; neutral when something
    /// was found below it or could not run; success when everything ran and found nothing.
    pub fn conclusion(&self) -> Conclusion {
        let mut result = Conclusion::Success;
        for service in &self.services {
            match &service.build {
                BuildOutcome::Failed { .. } => return Conclusion::Failure,
                BuildOutcome::Skipped { .. } => result = result.max(Conclusion::Neutral),
                BuildOutcome::Built { .. } => {}
            }
        }
        let scans = self
            .services
            .iter()
            .map(|s| &s.scan)
            .chain(std::iter::once(&self.configuration));
        for scan in scans {
            match scan {
                ScanOutcome::Scanned(report) => {
                    result = result.max(conclusion(report, self.threshold));
                }
                ScanOutcome::Failed(_) => result = result.max(Conclusion::Neutral),
                ScanOutcome::NotRun => {}
            }
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use repo_config::Severity as Threshold;

    fn with_severities(severities: &[Severity]) -> ScanReport {
        let mut report = ScanReport::default();
        for (i, s) in severities.iter().enumerate() {
            report.findings.push(Finding {
                id: format!("CVE-2024-{i}"),
                package: "p".into(),
                installed: "1".into(),
                fixed: None,
                severity: *s,
                title: String::new(),
                url: None,
            });
            report.vulnerabilities.add(*s);
        }
        report
    }

    #[test]
    fn conclusion_fails_at_or_above_the_threshold() {
        let high = with_severities(&[Severity::Low, Severity::High]);
        assert_eq!(conclusion(&high, Threshold::Critical), Conclusion::Neutral);
        assert_eq!(conclusion(&high, Threshold::High), Conclusion::Failure);
        assert_eq!(conclusion(&high, Threshold::Low), Conclusion::Failure);
        assert_eq!(
            conclusion(&ScanReport::default(), Threshold::Low),
            Conclusion::Success
        );
        // The default threshold is critical.
        assert_eq!(conclusion(&high, Threshold::default()), Conclusion::Neutral);
        assert_eq!(
            conclusion(
                &with_severities(&[Severity::Critical]),
                Threshold::default()
            ),
            Conclusion::Failure
        );
    }

    #[test]
    fn unknown_severity_is_reported_but_never_fails() {
        let unknown = with_severities(&[Severity::Unknown]);
        assert_eq!(conclusion(&unknown, Threshold::Low), Conclusion::Neutral);
        assert_eq!(Severity::parse("NEGLIGIBLE"), Severity::Unknown);
        assert_eq!(Severity::parse(" High "), Severity::High);
    }

    #[test]
    fn secrets_and_misconfigurations_count_towards_the_conclusion() {
        let mut report = ScanReport::default();
        report.secrets.push(SecretFinding {
            rule: "aws-access-key-id".into(),
            category: "AWS".into(),
            severity: Severity::Critical,
            file: "a".into(),
            line: Some(1),
            title: "AWS Access Key ID".into(),
        });
        assert_eq!(
            conclusion(&report, Threshold::Critical),
            Conclusion::Failure
        );
        let mut report = ScanReport::default();
        report.misconfigurations.push(Misconfiguration {
            id: "DS-0002".into(),
            severity: Severity::High,
            title: "root".into(),
            file: "Dockerfile".into(),
            line: None,
            end_line: None,
            message: String::new(),
            resolution: String::new(),
        });
        assert_eq!(conclusion(&report, Threshold::High), Conclusion::Failure);
        assert_eq!(
            conclusion(&report, Threshold::Critical),
            Conclusion::Neutral
        );
    }

    #[test]
    fn merge_counts_each_finding_once() {
        let mut a = with_severities(&[Severity::Low, Severity::High]);
        a.merge(with_severities(&[
            Severity::Low,
            Severity::Critical,
            Severity::Medium,
        ]));
        // CVE-2024-0 (low) is the same finding in both.
        assert_eq!(a.findings.len(), 4);
        assert_eq!(a.vulnerabilities.total(), 4);
        assert_eq!(a.findings[0].severity, Severity::Critical);
    }

    #[test]
    fn a_failed_build_fails_the_run_and_a_skipped_one_is_neutral() {
        let service = |build| ServiceScan {
            name: "api".into(),
            image: "opsmith/x-api:local".into(),
            build,
            scan: ScanOutcome::NotRun,
        };
        let run = |build| ScanRun {
            services: vec![service(build)],
            configuration: ScanOutcome::Scanned(ScanReport::default()),
            threshold: Threshold::Critical,
        };
        assert_eq!(
            run(BuildOutcome::Failed {
                step: "RUN false".into(),
                log_tail: vec![],
                seconds: 1.0
            })
            .conclusion(),
            Conclusion::Failure
        );
        assert_eq!(
            run(BuildOutcome::Skipped {
                reason: "no engine".into()
            })
            .conclusion(),
            Conclusion::Neutral
        );
        assert_eq!(
            run(BuildOutcome::Built {
                image: "opsmith/test:1".into(),
                seconds: 1.0
            })
            .conclusion(),
            Conclusion::Success
        );
    }
}
