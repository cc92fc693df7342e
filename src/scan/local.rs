//! `opsmith scan DIR`: a local directory generated (when needed), each service's image built and
//! scanned, the generated configuration scanned, and the result printed as text or JSON.

use std::path::Path;

use serde_json::{Value, json};

use super::workspace::{Workspace, build_and_scan, safe_name};
use super::{BuildOutcome, Conclusion, ScanOutcome, ScanReport, ScanRun, Trivy, TrivyScan};
use crate::analyze::{AnalyzeOptions, analyze};
use crate::build::{BuildSettings, Engine};
use crate::generate::{Context, GenerateSettings, generate};
use crate::repo_config::{self, RepoSettings};

/// Where `opsmith generate` and `opsmith scan` write inside the scanned directory.
const OUT: &str = ".opsmith/out";
/// One CycloneDX SBOM per image.
const SBOMS: &str = ".opsmith/sbom";

/// What the user asked for.
pub struct LocalScan<'a> {
    pub dir: &'a Path,
    /// `--image NAME=REF` redirections; they win over `images:` in `.github/opsmith.yml`.
    pub images: &'a [(String, String)],
}

/// A scan that ran, with what it needs to print.
pub struct LocalScanResult {
    pub run: ScanRun,
    /// Each service's folder in the repository (`.` for the root), in `run.services` order.
    pub service_dirs: Vec<String>,
    /// Notes for the user (what was generated, where the SBOMs are).
    pub notes: Vec<String>,
}

/// Parses `NAME=REF`.
pub fn parse_image_redirection(value: &str) -> Result<(String, String), String> {
    match value.split_once('=') {
        Some((from, to)) if !from.trim().is_empty() && !to.trim().is_empty() => {
            if from.chars().chain(to.chars()).any(char::is_whitespace) {
                return Err(format!(
                    "--image {value}: image references contain no spaces"
                ));
            }
            Ok((from.to_string(), to.to_string()))
        }
        _ => Err(format!(
            "--image {value}: expected NAME=REF, e.g. python:3.12-slim=registry.internal/python:3.12-slim"
        )),
    }
}

/// Runs the whole scan. `progress` gets one line per step and the build output. An `Err` is a
/// problem the user must fix before anything can be scanned (bad input, no Trivy, no engine).
pub async fn scan_directory(
    request: &LocalScan<'_>,
    progress: &mut (dyn FnMut(&str) + Send),
) -> Result<LocalScanResult, String> {
    let dir = request.dir;
    if !dir.is_dir() {
        return Err(format!("{}: not a directory", dir.display()));
    }
    let settings = repo_settings(dir)?;
    let mut images = settings.images.clone();
    for (from, to) in request.images {
        images.insert(from.clone(), to.clone());
    }
    let trivy = Trivy::locate().map_err(|e| e.to_string())?;
    let engine = Engine::connect().await?;

    let mut profile =
        analyze(dir, AnalyzeOptions { per_file: false }).map_err(|e| e.to_string())?;
    profile
        .services
        .retain(|s| !settings.skips_service(&s.name) && settings.includes_path(&s.path));
    let generate_settings = GenerateSettings {
        cloud: settings.cloud.unwrap_or_default(),
    };
    let mut notes: Vec<String> = profile
        .warnings
        .iter()
        .map(|w| format!("warning: {w}"))
        .collect();
    let out = dir.join(OUT);
    if out.is_dir() {
        notes.push(format!(
            "used the files already in {} (delete it to generate them again)",
            out.display()
        ));
    } else {
        let generation = generate(&profile, &generate_settings).map_err(|e| e.to_string())?;
        for artifact in &generation.artifacts {
            let path = out.join(&artifact.path);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| format!("{}: cannot create directory: {e}", parent.display()))?;
            }
            std::fs::write(&path, &artifact.contents)
                .map_err(|e| format!("{}: cannot write: {e}", path.display()))?;
        }
        notes.push(format!(
            "generated {} file(s) into {}",
            generation.artifacts.len(),
            out.display()
        ));
    }

    let context = Context::new(&profile, &generate_settings);
    let repository = dir
        .canonicalize()
        .ok()
        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "repository".into());
    let workspace = Workspace {
        dir,
        out: &out,
        context: &context,
        repository: &repository,
        tag: "local",
        images: &images,
        build: &BuildSettings::default(),
        threshold: settings.severity_threshold,
    };
    let scanned = build_and_scan(&workspace, &trivy, Ok(&engine), progress).await;
    for (service, scan) in &scanned.image_scans {
        notes.push(write_sbom(&trivy, scan, dir, service).await);
    }
    Ok(LocalScanResult {
        run: scanned.run,
        service_dirs: scanned.service_dirs,
        notes,
    })
}

fn repo_settings(dir: &Path) -> Result<RepoSettings, String> {
    let path = dir.join(repo_config::PATH);
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => Some(bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(format!("{}: cannot read: {e}", path.display())),
    };
    RepoSettings::from_bytes(bytes.as_deref()).map_err(|e| e.to_string())
}

/// Writes the image's CycloneDX SBOM under `.opsmith/sbom/`; the note says where, or why not.
async fn write_sbom(trivy: &Trivy, scan: &TrivyScan, dir: &Path, service: &str) -> String {
    let sbom = trivy.sbom_of(scan).await;
    let path = dir
        .join(SBOMS)
        .join(format!("{}.cdx.json", safe_name(service)));
    let written = sbom.map_err(|e| e.to_string()).and_then(|bytes| {
        std::fs::create_dir_all(path.parent().expect("has a parent"))
            .and_then(|()| std::fs::write(&path, bytes))
            .map_err(|e| e.to_string())
    });
    match written {
        Ok(()) => format!("SBOM of {service}: {}", path.display()),
        Err(e) => format!("no SBOM for {service}: {e}"),
    }
}

/// The process exit code for a finished scan: 1 when the run failed (a finding at or above the
/// threshold, or a build that failed), else 0.
pub fn exit_code(run: &ScanRun) -> u8 {
    match run.conclusion() {
        Conclusion::Failure => 1,
        Conclusion::Neutral | Conclusion::Success => 0,
    }
}

/// Index of the service a configuration file belongs to: the one whose folder is the longest prefix
/// of the file's path (the root service takes what no other does).
fn owner(file: &str, service_dirs: &[String]) -> Option<usize> {
    service_dirs
        .iter()
        .enumerate()
        .filter(|(_, d)| {
            let d = d.trim_end_matches('/');
            d == "." || d.is_empty() || file.strip_prefix(d).is_some_and(|r| r.starts_with('/'))
        })
        .max_by_key(|(_, d)| if d.as_str() == "." { 0 } else { d.len() })
        .map(|(i, _)| i)
}

/// `--json`: `{"services":[{"name","image","build":{"ok","seconds","error"},"vulnerabilities",
/// "findings","secrets","misconfigurations"}]}`; configuration findings in no service's folder
/// (Terraform, monitoring) go in a top-level `misconfigurations`.
pub fn json_report(result: &LocalScanResult) -> Value {
    let run = &result.run;
    let mut per_service: Vec<Vec<Value>> = vec![Vec::new(); run.services.len()];
    let mut unowned = Vec::new();
    if let Some(config) = run.configuration.report() {
        for m in &config.misconfigurations {
            let value = json!({
                "id": m.id, "severity": m.severity, "title": m.title, "file": m.file,
                "line": m.line, "resolution": m.resolution,
            });
            match owner(&m.file, &result.service_dirs) {
                Some(i) => per_service[i].push(value),
                None => unowned.push(value),
            }
        }
    }
    let services: Vec<Value> = run
        .services
        .iter()
        .zip(per_service)
        .map(|(s, misconfigurations)| {
            let (ok, seconds, error) = match &s.build {
                BuildOutcome::Built { seconds, .. } => (true, Some(*seconds), None),
                BuildOutcome::Failed {
                    step,
                    log_tail,
                    seconds,
                } => (
                    false,
                    Some(*seconds),
                    Some(format!(
                        "failed at step {step}{}",
                        log_tail
                            .last()
                            .map(|l| format!(": {l}"))
                            .unwrap_or_default()
                    )),
                ),
                BuildOutcome::Skipped { reason } => (false, None, Some(reason.clone())),
            };
            let error = error.or_else(|| match &s.scan {
                ScanOutcome::Failed(e) => Some(format!("scan failed: {e}")),
                _ => None,
            });
            let empty = ScanReport::default();
            let report = s.scan.report().unwrap_or(&empty);
            json!({
                "name": s.name,
                "image": s.image,
                "build": { "ok": ok, "seconds": seconds, "error": error },
                "vulnerabilities": report.vulnerabilities,
                "findings": report.findings.iter().map(|f| json!({
                    "id": f.id, "package": f.package, "installed": f.installed,
                    "fixed": f.fixed, "severity": f.severity, "title": f.title,
                })).collect::<Vec<_>>(),
                "secrets": report.secrets,
                "misconfigurations": misconfigurations,
            })
        })
        .collect();
    let mut top = json!({ "services": services });
    if !unowned.is_empty() {
        top["misconfigurations"] = Value::Array(unowned);
    }
    top
}

/// The human-readable report: per service, then the configuration, then the verdict.
pub fn text_report(result: &LocalScanResult) -> String {
    use std::fmt::Write;
    let run = &result.run;
    let mut out = String::new();
    for s in &run.services {
        let _ = write!(out, "{}  {}  ", clean(&s.name), clean(&s.image));
        match &s.build {
            BuildOutcome::Built { seconds, .. } => {
                let _ = writeln!(out, "built in {seconds:.1} s");
            }
            BuildOutcome::Failed {
                step,
                log_tail,
                seconds,
            } => {
                let _ = writeln!(
                    out,
                    "build FAILED at step {} after {seconds:.1} s",
                    clean(step)
                );
                for line in log_tail {
                    let _ = writeln!(out, "  | {}", clean(line));
                }
            }
            BuildOutcome::Skipped { reason } => {
                let _ = writeln!(out, "{}", clean(reason));
            }
        }
        match &s.scan {
            ScanOutcome::Scanned(report) => findings_text(&mut out, report),
            ScanOutcome::Failed(e) => {
                let _ = writeln!(out, "  scan failed: {}", clean(e));
            }
            ScanOutcome::NotRun => {}
        }
    }
    match &run.configuration {
        ScanOutcome::Scanned(report) => {
            let _ = writeln!(
                out,
                "generated configuration: {} misconfiguration(s)",
                report.misconfigurations.len()
            );
            findings_text(&mut out, report);
        }
        ScanOutcome::Failed(e) => {
            let _ = writeln!(out, "generated configuration: scan failed: {}", clean(e));
        }
        ScanOutcome::NotRun => {}
    }
    let _ = writeln!(
        out,
        "result: {} (severity threshold: {})",
        run.conclusion().as_str(),
        run.threshold.as_str()
    );
    out
}

fn findings_text(out: &mut String, report: &ScanReport) {
    use std::fmt::Write;
    let v = &report.vulnerabilities;
    if !report.findings.is_empty() || !report.secrets.is_empty() {
        let _ = writeln!(
            out,
            "  vulnerabilities: {} critical, {} high, {} medium, {} low, {} unknown; secrets: {}",
            v.critical,
            v.high,
            v.medium,
            v.low,
            v.unknown,
            report.secrets.len()
        );
    }
    for f in &report.findings {
        let _ = writeln!(
            out,
            "  {:<8} {}  {} {}  {}  {}",
            f.severity.label(),
            clean(&f.id),
            clean(&f.package),
            clean(&f.installed),
            f.fixed
                .as_deref()
                .map_or("no fix yet".to_string(), |v| format!(
                    "fixed in {}",
                    clean(v)
                )),
            clean(&f.title)
        );
    }
    for s in &report.secrets {
        let _ = writeln!(
            out,
            "  {:<8} secret {} in {}{} ({})",
            s.severity.label(),
            clean(&s.rule),
            clean(&s.file),
            s.line.map(|l| format!(":{l}")).unwrap_or_default(),
            clean(&s.title)
        );
    }
    for m in &report.misconfigurations {
        let _ = writeln!(
            out,
            "  {:<8} {} {}{}  {}",
            m.severity.label(),
            clean(&m.id),
            clean(&m.file),
            m.line.map(|l| format!(":{l}")).unwrap_or_default(),
            clean(&m.title)
        );
    }
}

/// Text from a repository or a tool as it may reach a terminal: no control characters (escape
/// sequences could rewrite the screen), bounded.
fn clean(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(300)
        .collect();
    if s.chars().count() > 300 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_redirections() {
        assert_eq!(
            parse_image_redirection("python:3.12-slim=registry.internal/python:3.12-slim").unwrap(),
            (
                "python:3.12-slim".to_string(),
                "registry.internal/python:3.12-slim".to_string()
            )
        );
        assert!(
            parse_image_redirection("python")
                .unwrap_err()
                .contains("NAME=REF")
        );
        assert!(parse_image_redirection("=x").is_err());
        assert!(parse_image_redirection("a=b c").is_err());
    }

    #[test]
    fn configuration_files_go_to_the_service_whose_folder_holds_them() {
        let dirs = vec![
            "api".to_string(),
            "web".to_string(),
            "web/admin".to_string(),
        ];
        assert_eq!(owner("api/Dockerfile", &dirs), Some(0));
        assert_eq!(owner("web/admin/Dockerfile", &dirs), Some(2));
        assert_eq!(owner("webx/Dockerfile", &dirs), None);
        assert_eq!(owner("deploy/terraform/ecs.tf", &dirs), None);
        let root = vec![".".to_string(), "api".to_string()];
        assert_eq!(owner("deploy/terraform/ecs.tf", &root), Some(0));
        assert_eq!(owner("api/Dockerfile", &root), Some(1));
    }

    #[test]
    fn terminal_text_has_no_control_characters() {
        assert_eq!(clean("a\u{1b}[2Jb\nc"), "a [2Jb c");
    }
}
