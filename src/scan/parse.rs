//! Trivy's JSON report (`--format json`, schema 2) read into a [`ScanReport`], tolerating missing
//! fields; a secret's `Match` and `Code` (which hold the secret itself) are never read.

use serde_json::Value;

use super::{Finding, Misconfiguration, ScanError, ScanReport, SecretFinding, Severity};

/// Longest text kept from one field: titles and messages are shown, never whole descriptions.
const MAX_FIELD_CHARS: usize = 1_000;

pub(super) fn report(bytes: &[u8]) -> Result<ScanReport, ScanError> {
    let value: Value =
        serde_json::from_slice(bytes).map_err(|e| ScanError::Output(format!("not JSON ({e})")))?;
    let Some(top) = value.as_object() else {
        return Err(ScanError::Output(
            "not a Trivy JSON report (expected an object)".into(),
        ));
    };
    let mut report = ScanReport::default();
    for result in top
        .get("Results")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let target = string(result, "Target").unwrap_or_default();
        for v in list(result, "Vulnerabilities") {
            let finding = vulnerability(v);
            if !report.findings.contains(&finding) {
                report.vulnerabilities.add(finding.severity);
                report.findings.push(finding);
            }
        }
        for s in list(result, "Secrets") {
            report.secrets.push(secret(s, &target));
        }
        for m in list(result, "Misconfigurations") {
            // Only failed checks are findings; `--include-non-failures` would add passes.
            let status = string(m, "Status").unwrap_or_default();
            if status.is_empty() || status.eq_ignore_ascii_case("FAIL") {
                report.misconfigurations.push(misconfiguration(m, &target));
            }
        }
    }
    sort_findings(&mut report.findings);
    report
        .secrets
        .sort_by(|a, b| (b.severity, &a.file, a.line).cmp(&(a.severity, &b.file, b.line)));
    report.misconfigurations.sort_by(|a, b| {
        (b.severity, &a.file, a.line, &a.id).cmp(&(a.severity, &b.file, b.line, &b.id))
    });
    Ok(report)
}

/// Most severe first, then by id and package, so reports are stable.
pub(super) fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        (b.severity, &a.id, &a.package, &a.installed).cmp(&(
            a.severity,
            &b.id,
            &b.package,
            &b.installed,
        ))
    });
}

fn vulnerability(v: &Value) -> Finding {
    let title = string(v, "Title")
        .or_else(|| string(v, "Description").map(|d| first_sentence(&d)))
        .unwrap_or_default();
    let url = string(v, "PrimaryURL").or_else(|| {
        v.get("References")
            .and_then(Value::as_array)
            .and_then(|refs| refs.iter().find_map(|r| r.as_str().map(str::to_string)))
    });
    Finding {
        id: string(v, "VulnerabilityID").unwrap_or_else(|| "unknown".into()),
        package: string(v, "PkgName").unwrap_or_default(),
        installed: string(v, "InstalledVersion").unwrap_or_default(),
        fixed: string(v, "FixedVersion"),
        severity: severity(v),
        title,
        url,
    }
}

fn secret(s: &Value, target: &str) -> SecretFinding {
    SecretFinding {
        rule: string(s, "RuleID").unwrap_or_else(|| "unknown".into()),
        category: string(s, "Category").unwrap_or_default(),
        severity: severity(s),
        file: target.to_string(),
        line: line(s.get("StartLine")),
        title: string(s, "Title").unwrap_or_default(),
    }
}

fn misconfiguration(m: &Value, target: &str) -> Misconfiguration {
    let cause = m.get("CauseMetadata");
    let start = line(cause.and_then(|c| c.get("StartLine")));
    Misconfiguration {
        id: string(m, "ID")
            .or_else(|| string(m, "AVDID"))
            .unwrap_or_else(|| "unknown".into()),
        severity: severity(m),
        title: string(m, "Title").unwrap_or_default(),
        file: target.to_string(),
        line: start,
        end_line: line(cause.and_then(|c| c.get("EndLine"))).filter(|end| Some(*end) >= start),
        message: string(m, "Message").unwrap_or_default(),
        resolution: string(m, "Resolution").unwrap_or_default(),
    }
}

fn list<'a>(v: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    v.get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|item| item.is_object())
}

/// A non-empty string field, trimmed and bounded; numbers are accepted as text.
fn string(v: &Value, key: &str) -> Option<String> {
    let text = match v.get(key)? {
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    if text.is_empty() {
        return None;
    }
    Some(match text.char_indices().nth(MAX_FIELD_CHARS) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text,
    })
}

fn severity(v: &Value) -> Severity {
    string(v, "Severity").map_or(Severity::Unknown, |s| Severity::parse(&s))
}

fn line(v: Option<&Value>) -> Option<u32> {
    v.and_then(Value::as_u64)
        .filter(|n| *n > 0)
        .and_then(|n| u32::try_from(n).ok())
}

fn first_sentence(text: &str) -> String {
    let end = text.find(". ").map_or(text.len(), |at| at + 1);
    text[..end].chars().take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROOTFS: &str = include_str!("testdata/rootfs-vuln.json");
    const SECRET: &str = include_str!("testdata/secret.json");
    const CONFIG: &str = include_str!("testdata/config.json");

    #[test]
    fn reads_a_real_vulnerability_report() {
        // Trivy 0.76 on a debootstrap bookworm minbase rootfs with the test database.
        let report = report(ROOTFS.as_bytes()).unwrap();
        assert_eq!(report.vulnerabilities.low, 1);
        assert_eq!(report.vulnerabilities.total(), 1);
        let tar = &report.findings[0];
        assert_eq!(tar.id, "CVE-2005-2541");
        assert_eq!(tar.package, "tar");
        assert_eq!(tar.severity, Severity::Low);
        assert_eq!(tar.fixed, None);
        assert!(tar.installed.starts_with("1.34"), "{}", tar.installed);
        assert!(tar.title.starts_with("tar: does not properly warn"));
        assert_eq!(
            tar.url.as_deref(),
            Some("https://avd.aquasec.com/nvd/cve-2005-2541")
        );
        assert!(!report.findings.iter().any(|f| f.id == "CVE-2023-38545"));
    }

    #[test]
    fn reads_a_real_secret_report_without_the_secret() {
        let report = report(SECRET.as_bytes()).unwrap();
        let rules: Vec<(&str, &str, Option<u32>)> = report
            .secrets
            .iter()
            .map(|s| (s.rule.as_str(), s.file.as_str(), s.line))
            .collect();
        assert_eq!(
            rules,
            [
                ("aws-access-key-id", "credentials.ini", Some(3)),
                ("aws-secret-access-key", "credentials.ini", Some(4)),
            ]
        );
        assert_eq!(report.secrets[0].severity, Severity::Critical);
        assert_eq!(report.secrets[0].category, "AWS");
    }

    #[test]
    fn matched_text_is_dropped_at_parse_time() {
        // Trivy masks what it matched, but its `Code` shows the lines around a finding, and a secret
        // it did not recognise, or a masking it got wrong, shows there in full.
        let key = ["AKIA", "OPSMITHFAKEKEY00"].concat();
        let mut doc: Value = serde_json::from_str(SECRET).unwrap();
        let secret = &mut doc["Results"][0]["Secrets"][0];
        secret["Match"] = Value::String(format!("aws_access_key_id = {key}"));
        secret["Code"]["Lines"][2]["Content"] = Value::String(key.clone());
        secret["Title"] = Value::String("AWS Access Key ID".into());
        let report = report(doc.to_string().as_bytes()).unwrap();
        assert_eq!(report.secrets.len(), 2);
        let shown = format!("{report:?}{}", serde_json::to_string(&report).unwrap());
        assert!(!shown.contains(&key), "{shown}");
        assert!(!shown.contains("OPSMITHFAKE"), "{shown}");
    }

    #[test]
    fn reads_a_real_configuration_report_with_file_and_line() {
        let report = report(CONFIG.as_bytes()).unwrap();
        assert_eq!(report.misconfigurations.len(), 1);
        let m = &report.misconfigurations[0];
        assert_eq!(m.id, "DS-0017");
        assert_eq!(m.file, "Dockerfile");
        assert_eq!((m.line, m.end_line), (Some(28), Some(28)));
        assert_eq!(m.severity, Severity::High);
        assert!(m.resolution.contains("install"), "{}", m.resolution);
    }

    #[test]
    fn tolerates_missing_fields_and_unknown_severities() {
        let doc = r#"{"Results":[
            {"Vulnerabilities":[{"Severity":"NEGLIGIBLE"},{"VulnerabilityID":"CVE-1","PkgName":"a","Severity":3,"FixedVersion":""}]},
            {"Target":"x","Secrets":[{}],"Misconfigurations":[{"Status":"PASS","ID":"p"},{"ID":"m","CauseMetadata":{"StartLine":-1}}]},
            {"Vulnerabilities":null,"Secrets":"no"},
            "not an object"
        ]}"#;
        let report = report(doc.as_bytes()).unwrap();
        assert_eq!(report.vulnerabilities.unknown, 2);
        assert_eq!(
            report.findings.iter().filter(|f| f.fixed.is_some()).count(),
            0
        );
        assert_eq!(report.secrets[0].rule, "unknown");
        assert_eq!(report.secrets[0].file, "x");
        assert_eq!(report.misconfigurations.len(), 1);
        assert_eq!(report.misconfigurations[0].line, None);
        // No results at all is a clean report.
        assert!(self::report(b"{}").unwrap().is_clean());
        assert!(self::report(br#"{"Results":null}"#).unwrap().is_clean());
    }

    #[test]
    fn malformed_json_is_an_error() {
        for bad in [&b"{"[..], b"", b"[]", b"\"text\"", b"\xff\xfe"] {
            let err = report(bad).unwrap_err();
            assert!(err.to_string().contains("Trivy"), "{err}");
        }
    }
}
