//! After a run publishes: build each service's image, scan it and the generated configuration with
//! Trivy, and put the findings where reviewers look (the pull request's scan section, a check run
//! with annotations, a SARIF upload to code scanning).

use super::{JobError, timed};
use crate::build::{BuildSettings, Engine};
use crate::generate::{Context, GenerateSettings, Generation};
use crate::github::{ApiError, GitHub, Permissions, PullRequest, RepoClient};
use crate::profile::{Cloud, RepoProfile};
use crate::queue::PUBLISH_BRANCH;
use crate::repo_config::RepoSettings;
use crate::report::{self, combine_sarif, replace_scan_section, scan_check_run, scan_section};
use crate::scan::workspace::{Workspace, WorkspaceScan, build_and_scan};
use crate::scan::{BuildOutcome, ScanOutcome, ScanRun, ServiceScan, Trivy};
use serde_json::json;
use std::path::Path;

/// The scan check run's name.
pub const SCAN_CHECK_NAME: &str = "opsmith scan";

/// What a scan needs from the run that published.
pub struct ScanInput<'a> {
    /// The clone, with the generated files written under `.opsmith/out`.
    pub dir: &'a Path,
    pub profile: &'a RepoProfile,
    pub generation: &'a Generation,
    pub settings: &'a RepoSettings,
    pub cloud: Cloud,
    /// `owner/name`, and the head commit of the pull request's branch.
    pub repository: &'a str,
    pub head_sha: &'a str,
}

/// How images are built for scans.
#[derive(Debug, Clone, Default)]
pub struct ScanSettings {
    pub build: BuildSettings,
}

/// Builds, scans and reports. A build that failed is reported like any result, then ends the job
/// failed with its step named.
pub async fn scan_and_report(
    github: &GitHub,
    repo: &RepoClient<'_>,
    installation_id: i64,
    pull: &PullRequest,
    input: &ScanInput<'_>,
    settings: &ScanSettings,
) -> Result<String, JobError> {
    let out = input.dir.join(".opsmith/out");
    write_artifacts(&out, input.generation)
        .map_err(|e| JobError::Retry(format!("cannot write the generated files: {e}")))?;
    let context = Context::new(input.profile, &GenerateSettings { cloud: input.cloud });
    let scanned = timed("scan", run_scan(input, &out, &context, settings)).await;

    let sarif_note = match &scanned {
        Ok(scanned) => upload_sarif(github, installation_id, input, scanned).await?,
        Err(_) => None,
    };
    let run = match scanned {
        Ok(scanned) => scanned.run,
        Err(reason) => unscanned(input, &context, &reason),
    };

    let mut section = scan_section(&run);
    if let Some(note) = &sarif_note {
        section.push_str(&format!("\n\n_{}_\n", report::markdown::text(note, 300)));
    }
    let body = replace_scan_section(&pull.body, &section);
    if body != pull.body {
        repo.update_pull(pull.number, &pull.title, &body).await?;
    }

    let check = scan_check_run(&run);
    let mut batches = check.annotation_batches();
    let output = |annotations: &[report::Annotation]| json!({ "title": check.title, "summary": check.summary, "annotations": annotations });
    let id = repo
        .create_check_run(&json!({
            "name": SCAN_CHECK_NAME,
            "head_sha": input.head_sha,
            "status": "completed",
            "conclusion": check.conclusion.as_str(),
            "output": output(batches.next().unwrap_or_default()),
        }))
        .await?;
    for batch in batches {
        repo.update_check_run(id, &json!({ "output": output(batch) }))
            .await?;
    }

    match failed_build(&run) {
        Some(reason) => Err(JobError::Stop(reason)),
        None => Ok(format!("scan: {}", check.title)),
    }
}

async fn run_scan(
    input: &ScanInput<'_>,
    out: &Path,
    context: &Context,
    settings: &ScanSettings,
) -> Result<WorkspaceScan, String> {
    let trivy = Trivy::locate().map_err(|e| format!("scan skipped: {e}"))?;
    let engine = Engine::connect().await;
    let name = input
        .repository
        .rsplit('/')
        .next()
        .unwrap_or(input.repository);
    let tag: String = input.head_sha.chars().take(12).collect();
    let workspace = Workspace {
        dir: input.dir,
        out,
        context,
        repository: name,
        tag: &tag,
        images: &input.settings.images,
        build: &settings.build,
        threshold: input.settings.severity_threshold,
    };
    let repository = input.repository.to_string();
    // Build output goes to the job log, line by line.
    let mut log = move |line: &str| tracing::info!(repository = %repository, "{line}");
    let engine = engine.as_ref().map_err(String::as_str);
    Ok(build_and_scan(&workspace, &trivy, engine, &mut log).await)
}

/// The run when nothing could be scanned (no Trivy): every service skipped with the reason.
fn unscanned(input: &ScanInput<'_>, context: &Context, reason: &str) -> ScanRun {
    ScanRun {
        services: context
            .services
            .iter()
            .map(|view| ServiceScan {
                name: view.service.name.clone(),
                image: String::new(),
                build: BuildOutcome::Skipped {
                    reason: reason.to_string(),
                },
                scan: ScanOutcome::NotRun,
            })
            .collect(),
        configuration: ScanOutcome::Failed(reason.to_string()),
        threshold: input.settings.severity_threshold,
    }
}

/// Uploads the scans' SARIF to code scanning with a token of its own (the installation may not
/// have granted `security_events`); returns a note for the report when it was not uploaded.
async fn upload_sarif(
    github: &GitHub,
    installation_id: i64,
    input: &ScanInput<'_>,
    scanned: &WorkspaceScan,
) -> Result<Option<String>, JobError> {
    let Ok(trivy) = Trivy::locate() else {
        return Ok(None);
    };
    let mut parts = Vec::new();
    for (service, scan) in &scanned.image_scans {
        match trivy.sarif_of(scan).await {
            Ok(sarif) => parts.push((format!("image/{service}"), sarif)),
            Err(e) => return Ok(Some(format!("SARIF not uploaded: {e}"))),
        }
    }
    if let Some(scan) = &scanned.configuration_scan {
        match trivy.sarif_of(scan).await {
            Ok(sarif) => parts.push(("config".to_string(), sarif)),
            Err(e) => return Ok(Some(format!("SARIF not uploaded: {e}"))),
        }
    }
    if parts.is_empty() {
        return Ok(None);
    }
    let parts: Vec<(&str, &[u8])> = parts
        .iter()
        .map(|(c, s)| (c.as_str(), s.as_slice()))
        .collect();
    let upload = match combine_sarif(&parts).and_then(|sarif| {
        report::sarif_upload(
            &sarif,
            input.head_sha,
            &format!("refs/heads/{PUBLISH_BRANCH}"),
        )
    }) {
        Ok(upload) => upload,
        Err(e) => return Ok(Some(format!("SARIF not uploaded: {e}"))),
    };
    let security = github
        .repo(
            installation_id,
            input.repository,
            &Permissions::from([("security_events", "write"), ("metadata", "read")]),
        )
        .map_err(|e| JobError::Stop(e.to_string()))?;
    match security.upload_sarif(&upload).await {
        Ok(()) => Ok(None),
        // Not granted (422 when minting the token, 403 on the upload) or code scanning is off.
        Err(ApiError::Status {
            status: 403 | 404 | 422,
            message,
            ..
        }) => Ok(Some(format!(
            "SARIF not uploaded to code scanning (the App needs the security_events permission, \
             and code scanning must be on): {message}"
        ))),
        Err(e) if !e.is_transient() => Ok(Some(format!("SARIF not uploaded: {e}"))),
        Err(e) => Err(e.into()),
    }
}

/// The first failed build, as the job's failure reason.
fn failed_build(run: &ScanRun) -> Option<String> {
    run.services.iter().find_map(|s| match &s.build {
        BuildOutcome::Failed { step, .. } => Some(format!(
            "the image of {} failed to build at step {step}",
            s.name
        )),
        _ => None,
    })
}

fn write_artifacts(out: &Path, generation: &Generation) -> std::io::Result<()> {
    if out.exists() {
        std::fs::remove_dir_all(out)?;
    }
    for artifact in &generation.artifacts {
        let path = out.join(&artifact.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, &artifact.contents)?;
    }
    Ok(())
}
