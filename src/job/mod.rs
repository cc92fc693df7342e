//! One run of a job: token, clone, the repository's settings, analyze, generate, publish (one branch,
//! one pull request kept up to date, a check run), and the replies to comment commands.
//!
//! Every step is idempotent, so a run repeated after a crash or a failed attempt converges on the
//! same result: the branch is pushed with a lease, the pull request is looked up before it is
//! created, and the status comment is found again and edited in place.

mod acknowledge;
mod branch;
mod scan;

pub use acknowledge::Acknowledger;
pub use scan::{SCAN_CHECK_NAME, ScanSettings};

use crate::command::{self, Command, Parsed, Permission};
use crate::generate::{GenerateSettings, Generation, generate};
use crate::git::{self, Author, CloneLimits, GitError, Lease};
use crate::github::{ApiError, GitHub, Permissions, PullRequest, RepoClient};
use crate::profile::{Cloud, RepoProfile};
use crate::queue::{Job, JobKind, PUBLISH_BRANCH};
use crate::repo_config::{self, RepoSettings};
use crate::report::{
    self, CommandState, STATUS_MARKER, check_run_summary, pull_request_body, replace_scan_section,
    status_comment,
};
use branch::{Action, Prepared};
use scan::ScanInput;
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::json;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

/// Histogram of run stages, in seconds, by `stage`.
pub const STAGE_SECONDS: &str = "opsmith_job_stage_seconds";

/// The pull request's title.
pub const PULL_TITLE: &str = "Ship it: Dockerfiles, CI/CD, Terraform and monitoring (opsmith)";
/// The check run's name.
pub const CHECK_NAME: &str = "opsmith";

/// What a run may do with its token: everything it needs and nothing more (no administration, no
/// secrets). GitHub refuses a push by an App that adds or changes a file under `.github/workflows/`
/// unless the token has `workflows: write`, and opsmith proposes workflows.
pub fn run_permissions() -> Permissions {
    Permissions::from([
        ("contents", "write"),
        ("workflows", "write"),
        ("pull_requests", "write"),
        ("issues", "write"),
        ("checks", "write"),
        ("metadata", "read"),
    ])
}

/// How a run ended without success. Reasons are for people and the job table: no secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobError {
    /// Worth another attempt later (GitHub down, rate-limited, network).
    Retry(String),
    /// Another attempt would fail the same way (invalid settings, missing permission).
    Stop(String),
}

impl JobError {
    pub fn reason(&self) -> &str {
        match self {
            JobError::Retry(r) | JobError::Stop(r) => r,
        }
    }
}

impl From<ApiError> for JobError {
    fn from(e: ApiError) -> Self {
        if e.is_transient() {
            JobError::Retry(e.to_string())
        } else {
            JobError::Stop(e.to_string())
        }
    }
}

impl From<GitError> for JobError {
    fn from(e: GitError) -> Self {
        match e {
            GitError::AuthRejected { .. } | GitError::Git(_) => JobError::Retry(e.to_string()),
            _ => JobError::Stop(e.to_string()),
        }
    }
}

/// What a publishing run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Published {
    Opened(PullRequest),
    Updated(PullRequest),
    /// What would be generated is already on the branch.
    Unchanged(PullRequest),
    /// Someone else's commits are on the branch: left as they are, and said so on the pull request.
    ForeignCommits(Option<PullRequest>),
    /// A refresh with no open pull request (closed or merged by its owners): nothing is reopened.
    NoOpenPull,
    /// Everything opsmith would propose is already on the default branch.
    NothingToPropose,
    Archived,
}

impl Published {
    pub fn describe(&self) -> String {
        match self {
            Published::Opened(p) => format!("opened pull request #{}", p.number),
            Published::Updated(p) => format!("updated pull request #{}", p.number),
            Published::Unchanged(p) => format!("pull request #{} already up to date", p.number),
            Published::ForeignCommits(_) => {
                format!("{PUBLISH_BRANCH} has commits by someone else; left as it is")
            }
            Published::NoOpenPull => "no open opsmith pull request to refresh".into(),
            Published::NothingToPropose => "nothing to propose".into(),
            Published::Archived => "repository archived".into(),
        }
    }
}

/// What a publishing run is asked to do.
#[derive(Default)]
struct Publish {
    /// The cloud a command asked for.
    cloud: Option<Cloud>,
    /// Settings that replace the clone's `.github/opsmith.yml` (a pull request's preview).
    settings: Option<RepoSettings>,
    /// False for refreshes: a pull request closed by its owners is not reopened.
    create: bool,
    /// Build and scan even if nothing changed (`/opsmith scan`).
    scan: bool,
}

/// Runs jobs. One per process, shared by the workers.
pub struct Runner {
    github: Arc<GitHub>,
    work_dir: PathBuf,
    app_slug: String,
    author: Author,
    limits: CloneLimits,
    scan_settings: ScanSettings,
}

/// A comment command's arguments, as `queue::triggers` stored them.
#[derive(Deserialize)]
struct CommandArgs {
    command: String,
    issue_number: i64,
    #[serde(default)]
    is_pull_request: bool,
    comment_id: i64,
    author: String,
}

impl Runner {
    pub fn new(github: Arc<GitHub>, work_dir: PathBuf, app_slug: &str) -> Runner {
        let login = format!("{app_slug}[bot]");
        Runner {
            github,
            work_dir,
            app_slug: app_slug.to_string(),
            author: Author {
                email: format!("{login}@users.noreply.github.com"),
                name: login,
            },
            limits: CloneLimits::default(),
            scan_settings: ScanSettings::default(),
        }
    }

    /// How images are built for scans (limits, network).
    pub fn with_scan_settings(mut self, settings: ScanSettings) -> Runner {
        self.scan_settings = settings;
        self
    }

    /// Runs one job to its end; the `Ok` text says what was done.
    pub async fn run(&self, job: &Job) -> Result<String, JobError> {
        let repo = self
            .github
            .repo(job.installation_id, &job.repository, &run_permissions())
            .map_err(|e| JobError::Stop(e.to_string()))?;
        match job.kind {
            JobKind::Onboard => {
                let publish = Publish {
                    create: true,
                    ..Publish::default()
                };
                Ok(self.publish(&repo, job, publish).await?.describe())
            }
            JobKind::Refresh => Ok(self
                .publish(&repo, job, Publish::default())
                .await?
                .describe()),
            JobKind::Command => self.command(&repo, job).await,
        }
    }

    /// A comment command: acknowledged with a reaction, checked against the author's permission on
    /// the repository, answered in the one status comment of the issue or pull request.
    async fn command(&self, repo: &RepoClient<'_>, job: &Job) -> Result<String, JobError> {
        let args: CommandArgs = serde_json::from_value(job.args.clone())
            .map_err(|e| JobError::Stop(format!("unreadable command job: {e}")))?;
        match repo.react_to_comment(args.comment_id, "eyes").await {
            Err(e) if e.is_transient() => return Err(e.into()),
            // A deleted comment still gets its answer.
            Err(e) => tracing::info!(job = job.id, error = %e, "no reaction"),
            Ok(()) => {}
        }
        let status = StatusComment {
            repo,
            issue: args.issue_number,
            login: format!("{}[bot]", self.app_slug),
        };
        let permission = timed("permission", repo.permission_of(&args.author)).await?;
        if !Permission::allows_commands(&permission) {
            status
                .set(&status_comment(CommandState::Refused {
                    reason: command::refusal_text(&args.author),
                }))
                .await?;
            return Ok(format!(
                "refused: {} has {permission} permission",
                args.author
            ));
        }
        // The default branch's settings decide who may run commands: a pull request cannot change that.
        let settings = match self.settings_at(repo, None).await? {
            Ok(settings) => settings,
            Err(reason) => {
                status
                    .set(&status_comment(CommandState::Failed {
                        reason: reason.clone(),
                    }))
                    .await?;
                return Err(JobError::Stop(reason));
            }
        };
        if !settings.allows_command_user(&args.author) {
            status
                .set(&status_comment(CommandState::Refused {
                    reason: format!(
                        "Commands here are limited to the people listed under `command_users` in \
                         `{}`. Ask one of them, or a maintainer to add you.",
                        repo_config::PATH
                    ),
                }))
                .await?;
            return Ok(format!("refused: {} is not in command_users", args.author));
        }
        let line = format!("/opsmith {}", args.command);
        let (cloud, scan) = match command::parse(&line, &self.app_slug) {
            Parsed::Command(Command::Generate { cloud }) => (cloud, false),
            Parsed::Command(Command::Scan) => (None, true),
            Parsed::Command(Command::Help) | Parsed::NotForUs => {
                status
                    .set(&reply(&command::help_text(&self.app_slug)))
                    .await?;
                return Ok("replied with the help".into());
            }
            Parsed::Invalid { help } => {
                status.set(&reply(&help)).await?;
                return Ok("replied with the help (unknown command)".into());
            }
        };
        // On a pull request that changes `.github/opsmith.yml`, its own settings are previewed.
        let preview = match self.pull_request_settings(repo, job, &args).await? {
            Some(Err(reason)) => {
                status
                    .set(&status_comment(CommandState::Failed {
                        reason: reason.clone(),
                    }))
                    .await?;
                return Err(JobError::Stop(reason));
            }
            Some(Ok(settings)) => Some(settings),
            None => None,
        };
        let stage = if scan {
            "generating, building the images and scanning them"
        } else {
            "analyzing the repository and generating"
        };
        status
            .set(&status_comment(CommandState::Running {
                stage: stage.into(),
            }))
            .await?;
        let publish = Publish {
            cloud,
            settings: preview,
            create: true,
            scan,
        };
        let outcome = self.publish(repo, job, publish).await;
        let state = match &outcome {
            Ok(Published::Opened(p) | Published::Updated(p) | Published::Unchanged(p)) => {
                CommandState::Succeeded {
                    pr_url: p.html_url.clone(),
                }
            }
            Ok(Published::ForeignCommits(_)) => CommandState::Failed {
                reason: foreign_commits_text(),
            },
            Ok(other) => CommandState::Failed {
                reason: other.describe(),
            },
            Err(JobError::Stop(reason)) => CommandState::Failed {
                reason: reason.clone(),
            },
            // The next attempt updates the comment again; the last one says it failed.
            Err(JobError::Retry(reason)) if job.attempts >= job.max_attempts => {
                CommandState::Failed {
                    reason: reason.clone(),
                }
            }
            Err(JobError::Retry(_)) => return outcome.map(|p| p.describe()),
        };
        status.set(&status_comment(state)).await?;
        outcome.map(|p| p.describe())
    }

    /// `.github/opsmith.yml` at `reference` (the default branch when None), read through the API:
    /// the outer error fails the run, the inner one is the file's problem, for its authors.
    async fn settings_at(
        &self,
        repo: &RepoClient<'_>,
        reference: Option<&str>,
    ) -> Result<Result<RepoSettings, String>, JobError> {
        let text = match repo
            .file_at(repo_config::PATH, reference, repo_config::MAX_BYTES)
            .await
        {
            Ok(text) => text,
            Err(ApiError::Malformed { message, .. }) => {
                return Ok(Err(format!("{}: {message}", repo_config::PATH)));
            }
            Err(e) => return Err(e.into()),
        };
        Ok(RepoSettings::from_bytes(text.as_deref().map(str::as_bytes))
            .map_err(|e| format!("{}: {}", repo_config::PATH, e.message)))
    }

    /// The settings of the pull request a command was written on, when it comes from a branch of
    /// this repository (not a fork, not opsmith's own); None elsewhere.
    async fn pull_request_settings(
        &self,
        repo: &RepoClient<'_>,
        job: &Job,
        args: &CommandArgs,
    ) -> Result<Option<Result<RepoSettings, String>>, JobError> {
        if !args.is_pull_request {
            return Ok(None);
        }
        let head = repo.pull(args.issue_number).await?;
        if head.repository != job.repository || head.branch == PUBLISH_BRANCH || head.sha.is_empty()
        {
            return Ok(None);
        }
        Ok(Some(self.settings_at(repo, Some(&head.sha)).await?))
    }

    /// Generates and proposes: one commit on `opsmith/devops` on top of the default branch, one pull
    /// request created once and then updated in place, and a check run on its head; then builds and
    /// scans what changed and reports it in the pull request.
    async fn publish(
        &self,
        repo: &RepoClient<'_>,
        job: &Job,
        publish: Publish,
    ) -> Result<Published, JobError> {
        let Publish {
            cloud,
            settings,
            create,
            scan,
        } = publish;
        let info = timed("repository", repo.info()).await?;
        if info.archived {
            return Ok(Published::Archived);
        }
        let open = repo.open_pull_from(PUBLISH_BRANCH).await?;
        if open.is_none() && !create {
            return Ok(Published::NoOpenPull);
        }
        let token = repo.git_token().await?;
        let work = WorkDir(
            self.work_dir
                .join(format!("job-{}-{}", job.id, job.attempts)),
        );
        // The clone's folder carries the repository's name, which names a root service (as it
        // does when someone runs opsmith in their own checkout).
        let checkout = work.0.join(repo.name());
        let prepared = {
            let request = branch::Request {
                dir: checkout.clone(),
                url: info.clone_url.clone(),
                token,
                limits: self.limits.clone(),
                author: self.author.clone(),
                cloud,
                settings,
                repository_name: job.repository.clone(),
            };
            let started = Instant::now();
            let prepared = tokio::task::spawn_blocking(move || branch::prepare(&request))
                .await
                .map_err(|e| JobError::Retry(format!("the run's worker thread failed: {e}")))??;
            metrics::histogram!(STAGE_SECONDS, "stage" => "prepare")
                .record(started.elapsed().as_secs_f64());
            prepared
        };
        let Prepared {
            repository,
            settings,
            cloud,
            profile,
            generation,
            action,
            base_branch,
        } = match prepared {
            Ok(prepared) => prepared,
            Err(invalid) => return self.reject_settings(repo, job, &invalid).await,
        };

        let mut pushed_head = None;
        match action {
            Action::NothingToPropose => return Ok(Published::NothingToPropose),
            Action::Foreign => {
                if let Some(pull) = &open {
                    let status = StatusComment {
                        repo,
                        issue: pull.number,
                        login: format!("{}[bot]", self.app_slug),
                    };
                    status
                        .set(&status_comment(CommandState::Failed {
                            reason: foreign_commits_text(),
                        }))
                        .await?;
                }
                return Ok(Published::ForeignCommits(open));
            }
            Action::Unchanged => {}
            Action::Push { commit, lease } => {
                let token = repo.git_token().await?;
                let url = info.clone_url.clone();
                let started = Instant::now();
                let pushed = tokio::task::spawn_blocking(move || {
                    git::push(
                        &repository,
                        &url,
                        token.expose_secret(),
                        PUBLISH_BRANCH,
                        lease,
                    )
                })
                .await
                .map_err(|e| JobError::Retry(format!("the run's worker thread failed: {e}")))?;
                metrics::histogram!(STAGE_SECONDS, "stage" => "push")
                    .record(started.elapsed().as_secs_f64());
                match pushed {
                    Ok(()) => pushed_head = Some(commit.to_string()),
                    // The branch moved since it was read: someone pushed. Their commits stay.
                    Err(GitError::StaleLease { .. }) if matches!(lease, Lease::At(_)) => {
                        return Ok(Published::ForeignCommits(open));
                    }
                    // It appeared since it was read (another run or a person): look again later.
                    Err(e @ (GitError::StaleLease { .. } | GitError::Rejected { .. }))
                        if lease == Lease::Absent =>
                    {
                        return Err(JobError::Retry(e.to_string()));
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        }

        let started = Instant::now();
        let body = pull_request_body(&profile, &generation, None);
        let (published, head_sha) = match open {
            Some(mut pull) => {
                let body = keep_scan_section(&body, &pull.body);
                if pull.body != body || pull.title != PULL_TITLE {
                    repo.update_pull(pull.number, PULL_TITLE, &body).await?;
                    pull.body = body;
                    pull.title = PULL_TITLE.to_string();
                }
                let head = pushed_head.clone().unwrap_or_else(|| pull.head_sha.clone());
                if pushed_head.is_some() {
                    (Published::Updated(pull), head)
                } else {
                    (Published::Unchanged(pull), head)
                }
            }
            None => {
                let created = repo
                    .create_pull(PULL_TITLE, PUBLISH_BRANCH, &base_branch, &body)
                    .await;
                let pull = match created {
                    Ok(pull) => pull,
                    // Created by an earlier attempt whose answer was lost: use that one.
                    Err(ApiError::Status { status: 422, .. }) => {
                        repo.open_pull_from(PUBLISH_BRANCH).await?.ok_or_else(|| {
                            JobError::Retry("the pull request could not be created yet".into())
                        })?
                    }
                    Err(e) => return Err(e.into()),
                };
                let head = pull.head_sha.clone();
                (Published::Opened(pull), head)
            }
        };
        let rerequested = job.args.get("check_run_id").is_some_and(|v| !v.is_null());
        if pushed_head.is_some() || matches!(published, Published::Opened(_)) || rerequested {
            let (title, summary) = check_run_summary(&profile, &generation);
            let conclusion = if profile.services.is_empty() {
                "neutral"
            } else {
                "success"
            };
            repo.create_check_run(&json!({
                "name": CHECK_NAME,
                "head_sha": head_sha,
                "status": "completed",
                "conclusion": conclusion,
                "output": { "title": title, "summary": summary },
            }))
            .await?;
        }
        metrics::histogram!(STAGE_SECONDS, "stage" => "publish")
            .record(started.elapsed().as_secs_f64());

        // Scan what changed, what was asked for, and what an interrupted run left unscanned.
        let pull = match &published {
            Published::Opened(p) | Published::Updated(p) | Published::Unchanged(p) => p,
            _ => return Ok(published),
        };
        let never_scanned = pull.body.contains(report::SCAN_PLACEHOLDER);
        if pushed_head.is_some() || scan || never_scanned {
            let input = ScanInput {
                dir: &checkout,
                profile: &profile,
                generation: &generation,
                settings: &settings,
                cloud,
                repository: &job.repository,
                head_sha: &head_sha,
            };
            scan::scan_and_report(
                &self.github,
                repo,
                job.installation_id,
                pull,
                &input,
                &self.scan_settings,
            )
            .await?;
        }
        Ok(published)
    }

    /// An invalid `.github/opsmith.yml`: said where its authors look (the command's status comment,
    /// or a failed check run on the default branch), and the job ends failed.
    async fn reject_settings(
        &self,
        repo: &RepoClient<'_>,
        job: &Job,
        invalid: &branch::InvalidSettings,
    ) -> Result<Published, JobError> {
        let reason = format!("{}: {}", repo_config::PATH, invalid.message);
        if job.kind != JobKind::Command {
            repo.create_check_run(&json!({
                "name": CHECK_NAME,
                "head_sha": invalid.head,
                "status": "completed",
                "conclusion": "failure",
                "output": {
                    "title": format!("Invalid {}", repo_config::PATH),
                    "summary": report::markdown::prose(&reason, 4_000),
                },
            }))
            .await?;
        }
        Err(JobError::Stop(reason))
    }
}

/// opsmith's one comment on an issue or pull request, found again and edited in place.
struct StatusComment<'r, 'a> {
    repo: &'r RepoClient<'a>,
    issue: i64,
    login: String,
}

impl StatusComment<'_, '_> {
    async fn set(&self, body: &str) -> Result<(), JobError> {
        let comments = self.repo.comments(self.issue).await?;
        let mine = comments.iter().rev().find(|c| {
            c.author.eq_ignore_ascii_case(&self.login) && c.body.starts_with(STATUS_MARKER)
        });
        match mine {
            Some(c) if c.body == body => Ok(()),
            Some(c) => Ok(self.repo.update_comment(c.id, body).await?),
            None => self
                .repo
                .create_comment(self.issue, body)
                .await
                .map(drop)
                .map_err(Into::into),
        }
    }
}

/// A status comment holding a Markdown reply (the help).
fn reply(markdown: &str) -> String {
    format!("{STATUS_MARKER}\n{markdown}")
}

fn foreign_commits_text() -> String {
    format!(
        "Someone else pushed commits to `{PUBLISH_BRANCH}`, so opsmith did not overwrite them. \
         Merge or close this pull request and delete the branch to get a fresh proposal."
    )
}

/// The new body with the old body's scan section, so a refresh does not erase the last scan.
fn keep_scan_section(new_body: &str, old_body: &str) -> String {
    let section = old_body.find(report::SCAN_START).and_then(|start| {
        let inner = &old_body[start + report::SCAN_START.len()..];
        inner.find(report::SCAN_END).map(|end| inner[..end].trim())
    });
    match section {
        Some(scan) if !scan.is_empty() && scan != report::SCAN_PLACEHOLDER => {
            replace_scan_section(new_body, scan)
        }
        _ => new_body.to_string(),
    }
}

/// Records how long an async stage took.
async fn timed<T>(stage: &'static str, future: impl Future<Output = T>) -> T {
    let started = Instant::now();
    let out = future.await;
    metrics::histogram!(STAGE_SECONDS, "stage" => stage).record(started.elapsed().as_secs_f64());
    out
}

/// A run's clone, removed when the run ends however it ends.
struct WorkDir(PathBuf);

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Settings applied to an analysis: services skipped or outside `paths` are dropped.
fn apply_settings(profile: &mut RepoProfile, settings: &RepoSettings) {
    profile
        .services
        .retain(|s| !settings.skips_service(&s.name) && settings.includes_path(&s.path));
}

fn generation_for(profile: &RepoProfile, cloud: Cloud) -> Result<Generation, String> {
    generate(profile, &GenerateSettings { cloud }).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refresh_keeps_the_last_scan_report() {
        let new = pull_request_body(&RepoProfile::default(), &Generation::default(), None);
        let old = replace_scan_section(&new, "**2 critical** vulnerabilities");
        let kept = keep_scan_section(&new, &old);
        assert!(kept.contains("**2 critical** vulnerabilities"));
        assert_eq!(keep_scan_section(&new, "no markers here"), new);
        assert_eq!(keep_scan_section(&new, &new), new);
    }

    #[test]
    fn errors_from_github_and_git_split_into_retry_and_stop() {
        let retry = JobError::from(ApiError::Status {
            operation: "pulls.create",
            status: 502,
            message: "Bad Gateway".into(),
        });
        assert!(matches!(retry, JobError::Retry(_)));
        let stop = JobError::from(ApiError::Status {
            operation: "pulls.create",
            status: 403,
            message: "Resource not accessible by integration".into(),
        });
        assert!(matches!(stop, JobError::Stop(_)));
        assert!(matches!(
            JobError::from(GitError::TooLarge { limit: 1 }),
            JobError::Stop(_)
        ));
        assert!(matches!(
            JobError::from(GitError::AuthRejected { url: "u".into() }),
            JobError::Retry(_)
        ));
    }

    #[test]
    fn the_token_asks_for_no_more_than_a_run_needs() {
        let permissions = run_permissions();
        assert_eq!(permissions.get("metadata"), Some(&"read"));
        assert!(!permissions.contains_key("administration"));
        assert!(!permissions.contains_key("security_events"));
    }
}
