//! Which webhook deliveries become jobs, and with which arguments: a pure function of the payload.

use super::JobKind;
use crate::server::Delivery;
use serde::Deserialize;
use serde_json::json;
use std::time::Duration;

/// The branch opsmith publishes to; pushes by others to it are answered with a refresh.
pub const PUBLISH_BRANCH: &str = "opsmith/devops";

/// A job a delivery asks for, before it is stored.
#[derive(Debug, Clone, PartialEq)]
pub struct NewJob {
    pub kind: JobKind,
    /// `owner/name`.
    pub repository: String,
    pub installation_id: i64,
    /// What the run needs to know about its trigger (a JSON object).
    pub args: serde_json::Value,
    /// How long after the delivery the job may start (paces onboarding of large organisations).
    pub delay: Duration,
}

/// The settings the trigger decision depends on.
#[derive(Debug, Clone)]
pub struct Triggers {
    /// The App's slug: `@<slug> generate` is a command like `/opsmith generate`.
    pub app_slug: String,
    /// Delay between the onboarding runs of one installation, so that installing opsmith on a large
    /// organisation does not trip GitHub's secondary rate limits (80 content-creating requests/min).
    pub onboarding_pace: Duration,
}

impl Default for Triggers {
    fn default() -> Self {
        Triggers {
            app_slug: "opsmith".to_string(),
            onboarding_pace: Duration::from_secs(5),
        }
    }
}

/// The parts of a payload the decision reads; everything else is skipped while parsing.
#[derive(Deserialize, Default)]
#[serde(default)]
struct Payload {
    installation: Option<IdOnly>,
    repository: Option<Repository>,
    repositories: Vec<Repository>,
    repositories_added: Vec<Repository>,
    #[serde(rename = "ref")]
    git_ref: Option<String>,
    deleted: bool,
    after: Option<String>,
    comment: Option<Comment>,
    issue: Option<Issue>,
    check_run: Option<CheckRun>,
    pull_request: Option<PullRequest>,
    sender: Option<User>,
}

#[derive(Deserialize)]
struct IdOnly {
    id: i64,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Repository {
    id: Option<i64>,
    full_name: Option<String>,
    default_branch: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct User {
    login: String,
    #[serde(rename = "type")]
    kind: String,
}

impl User {
    fn is_bot(&self) -> bool {
        self.kind.eq_ignore_ascii_case("bot") || self.login.ends_with("[bot]")
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Comment {
    id: i64,
    body: Option<String>,
    user: User,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Issue {
    number: i64,
    pull_request: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CheckRun {
    id: i64,
    head_sha: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PullRequest {
    number: i64,
    head: Branch,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Branch {
    #[serde(rename = "ref")]
    name: String,
    sha: String,
    repo: Option<Repository>,
}

impl Triggers {
    /// The jobs a delivery triggers; none for events opsmith does not act on, for payloads that
    /// cannot be read, and for deliveries without an installation (nothing to act as).
    pub fn jobs_for(&self, delivery: &Delivery) -> Vec<NewJob> {
        if !delivery.handled {
            return Vec::new();
        }
        let Ok(payload) = serde_json::from_slice::<Payload>(&delivery.payload) else {
            return Vec::new();
        };
        let Some(installation_id) = payload
            .installation
            .as_ref()
            .map(|i| i.id)
            .or(delivery.installation_id)
        else {
            return Vec::new();
        };
        let reason = match &delivery.action {
            Some(action) => format!("{}.{action}", delivery.event),
            None => delivery.event.clone(),
        };
        let repository = payload
            .repository
            .as_ref()
            .and_then(|r| r.full_name.clone())
            .or_else(|| delivery.repository.clone());
        let one = |kind, args: serde_json::Value| match &repository {
            Some(repository) => vec![NewJob {
                kind,
                repository: repository.clone(),
                installation_id,
                args,
                delay: Duration::ZERO,
            }],
            None => Vec::new(),
        };

        match (delivery.event.as_str(), delivery.action.as_deref()) {
            ("installation", Some("created")) => {
                self.onboarding(installation_id, &reason, &payload.repositories)
            }
            ("installation_repositories", Some("added")) => {
                self.onboarding(installation_id, &reason, &payload.repositories_added)
            }
            ("push", _) => {
                let default_branch = payload
                    .repository
                    .as_ref()
                    .and_then(|r| r.default_branch.as_deref());
                let to_default = matches!(
                    (payload.git_ref.as_deref(), default_branch),
                    (Some(r), Some(b)) if r.strip_prefix("refs/heads/") == Some(b)
                );
                if !to_default || payload.deleted {
                    return Vec::new();
                }
                one(
                    JobKind::Refresh,
                    json!({ "reason": reason, "after": payload.after }),
                )
            }
            ("issue_comment", Some("created")) => {
                let (Some(comment), Some(issue)) = (&payload.comment, &payload.issue) else {
                    return Vec::new();
                };
                if comment.user.is_bot() {
                    return Vec::new();
                }
                let Some(command) = comment
                    .body
                    .as_deref()
                    .and_then(|body| self.command_in(body))
                else {
                    return Vec::new();
                };
                one(
                    JobKind::Command,
                    json!({
                        "reason": reason,
                        "command": command,
                        "issue_number": issue.number,
                        "is_pull_request": issue.pull_request.is_some(),
                        "comment_id": comment.id,
                        "author": comment.user.login,
                    }),
                )
            }
            ("check_run", Some("rerequested")) => {
                // GitHub sends this only to the App that created the check run: it is ours.
                let Some(check_run) = &payload.check_run else {
                    return Vec::new();
                };
                one(
                    JobKind::Refresh,
                    json!({
                        "reason": reason,
                        "head_sha": check_run.head_sha,
                        "check_run_id": check_run.id,
                    }),
                )
            }
            // Someone else pushed to (or reopened) opsmith's own pull request: refresh it, so the
            // run notices foreign commits and says so instead of overwriting them. opsmith's own
            // pushes come from a bot and are not answered (no loop).
            ("pull_request", Some("synchronize" | "reopened")) => {
                let Some(pull_request) = &payload.pull_request else {
                    return Vec::new();
                };
                let same_repository = pull_request
                    .head
                    .repo
                    .as_ref()
                    .is_some_and(|r| r.full_name.is_some() && r.full_name == repository);
                let by_bot = payload.sender.as_ref().is_some_and(User::is_bot);
                if pull_request.head.name != PUBLISH_BRANCH || !same_repository || by_bot {
                    return Vec::new();
                }
                one(
                    JobKind::Refresh,
                    json!({
                        "reason": reason,
                        "pull_request": pull_request.number,
                        "head_sha": pull_request.head.sha,
                    }),
                )
            }
            _ => Vec::new(),
        }
    }

    fn onboarding(
        &self,
        installation_id: i64,
        reason: &str,
        repositories: &[Repository],
    ) -> Vec<NewJob> {
        repositories
            .iter()
            .filter_map(|r| Some((r.full_name.clone()?, r.id)))
            .enumerate()
            .map(|(i, (repository, repository_id))| NewJob {
                kind: JobKind::Onboard,
                repository,
                installation_id,
                args: json!({ "reason": reason, "repository_id": repository_id }),
                delay: self
                    .onboarding_pace
                    .saturating_mul(u32::try_from(i).unwrap_or(u32::MAX)),
            })
            .collect()
    }

    /// The command text when a comment addresses opsmith, decided exactly as the command parser
    /// does ([`crate::command::command_line`]): a line starting with `/opsmith` or `@<slug>`, outside
    /// quotes and code. Invalid commands are queued too, so that the reply can carry the help.
    pub fn command_in(&self, body: &str) -> Option<String> {
        crate::command::command_line(body, &self.app_slug).map(|(_, rest)| rest.trim().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Bytes;
    use serde_json::Value;
    use std::path::PathBuf;

    fn example(name: &str) -> Value {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/github/webhook-examples")
            .join(format!("{name}.json"));
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        serde_json::from_str(&text).expect("example payload is JSON")
    }

    fn delivery(event: &str, payload: &Value) -> Delivery {
        Delivery {
            id: "d-1".to_string(),
            event: event.to_string(),
            action: payload["action"].as_str().map(str::to_string),
            installation_id: payload["installation"]["id"].as_i64(),
            repository: payload["repository"]["full_name"]
                .as_str()
                .map(str::to_string),
            handled: true,
            payload: Bytes::from(payload.to_string()),
        }
    }

    fn jobs(event: &str, payload: &Value) -> Vec<NewJob> {
        Triggers::default().jobs_for(&delivery(event, payload))
    }

    #[test]
    fn installation_created_onboards_each_repository_paced() {
        let mut payload = example("installation.created.0");
        let jobs_one = jobs("installation", &payload);
        assert_eq!(jobs_one.len(), 1);
        assert_eq!(jobs_one[0].kind, JobKind::Onboard);
        assert_eq!(jobs_one[0].repository, "Codertocat/Hello-World");
        assert_eq!(jobs_one[0].installation_id, 957387);
        assert_eq!(jobs_one[0].delay, Duration::ZERO);

        let mut second = payload["repositories"][0].clone();
        second["full_name"] = "Codertocat/Second".into();
        payload["repositories"].as_array_mut().unwrap().push(second);
        let paced = jobs("installation", &payload);
        let names: Vec<_> = paced.iter().map(|j| j.repository.as_str()).collect();
        assert_eq!(names, ["Codertocat/Hello-World", "Codertocat/Second"]);
        assert_eq!(paced[1].delay, Triggers::default().onboarding_pace);
    }

    #[test]
    fn repositories_added_onboards_the_added_ones() {
        let payload = example("installation_repositories.added.0");
        let jobs = jobs("installation_repositories", &payload);
        assert_eq!(jobs.len(), 1);
        assert_eq!(jobs[0].kind, JobKind::Onboard);
        assert_eq!(jobs[0].repository, "Codertocat/Space");
        assert_eq!(jobs[0].args["reason"], "installation_repositories.added");
    }

    #[test]
    fn other_installation_actions_queue_nothing() {
        for name in [
            "installation.deleted.0",
            "installation.suspend.0",
            "installation_repositories.removed.0",
        ] {
            let payload = example(name);
            let event = name.split('.').next().unwrap();
            assert!(jobs(event, &payload).is_empty(), "{name}");
        }
    }

    #[test]
    fn push_to_the_default_branch_refreshes() {
        let payload = example("push.4");
        assert_eq!(payload["ref"], "refs/heads/master");
        let jobs = jobs("push", &payload);
        assert_eq!(jobs.len(), 1);
        assert_eq!(jobs[0].kind, JobKind::Refresh);
        assert_eq!(jobs[0].repository, "Codertocat/Hello-World");
        assert_eq!(jobs[0].installation_id, 1);
        assert_eq!(jobs[0].args["after"], payload["after"]);
    }

    #[test]
    fn push_of_a_tag_or_another_branch_queues_nothing() {
        let mut payload = example("push.3");
        assert_eq!(payload["ref"], "refs/tags/simple-tag");
        assert!(jobs("push", &payload).is_empty());
        payload["ref"] = "refs/heads/feature".into();
        payload["deleted"] = false.into();
        assert!(jobs("push", &payload).is_empty());
        // A branch named like the default one in another namespace is not the default branch.
        payload["ref"] = "refs/tags/master".into();
        assert!(jobs("push", &payload).is_empty());
    }

    #[test]
    fn push_without_installation_queues_nothing() {
        let payload = example("push.0");
        assert!(payload.get("installation").is_none());
        let mut to_default = payload.clone();
        to_default["ref"] = "refs/heads/master".into();
        to_default["deleted"] = false.into();
        assert!(jobs("push", &to_default).is_empty());
    }

    #[test]
    fn ordinary_comment_queues_nothing() {
        let payload = example("issue_comment.created.3");
        assert!(jobs("issue_comment", &payload).is_empty());
    }

    #[test]
    fn slash_command_and_mention_queue_a_command() {
        let mut payload = example("issue_comment.created.3");
        for (body, command) in [
            ("/opsmith generate --cloud gcp", "generate --cloud gcp"),
            ("  /opsmith scan\r\nthanks", "scan"),
            ("@opsmith help", "help"),
            ("@OPSMITH generate", "generate"),
            (
                "thanks!\n/opsmith generate --cloud gcp",
                "generate --cloud gcp",
            ),
            ("/opsmith", ""),
        ] {
            payload["comment"]["body"] = body.into();
            let jobs = jobs("issue_comment", &payload);
            assert_eq!(jobs.len(), 1, "{body}");
            assert_eq!(jobs[0].kind, JobKind::Command);
            assert_eq!(jobs[0].args["command"], command, "{body}");
            assert_eq!(jobs[0].args["issue_number"], 1);
            assert_eq!(jobs[0].args["author"], "Codertocat");
            assert_eq!(jobs[0].args["comment_id"], payload["comment"]["id"]);
        }
        for body in [
            "/opsmithx generate",
            "please /opsmith generate",
            "@OpsMith-App generate",
            "```\n/opsmith generate\n```",
            "> /opsmith generate",
            "@someone hi",
        ] {
            payload["comment"]["body"] = body.into();
            assert!(jobs("issue_comment", &payload).is_empty(), "{body}");
        }
    }

    #[test]
    fn configured_slug_is_a_mention() {
        let mut payload = example("issue_comment.created.3");
        payload["comment"]["body"] = "@devops-bot generate".into();
        let triggers = Triggers {
            app_slug: "devops-bot".to_string(),
            ..Triggers::default()
        };
        let jobs = triggers.jobs_for(&delivery("issue_comment", &payload));
        assert_eq!(jobs.len(), 1);
        assert_eq!(jobs[0].args["command"], "generate");
    }

    #[test]
    fn comments_by_bots_are_ignored() {
        let mut payload = example("issue_comment.created.3");
        payload["comment"]["body"] = "/opsmith generate".into();
        payload["comment"]["user"]["type"] = "Bot".into();
        assert!(jobs("issue_comment", &payload).is_empty());
    }

    #[test]
    fn edited_comment_is_not_a_command() {
        let mut payload = example("issue_comment.edited.0");
        payload["comment"]["body"] = "/opsmith generate".into();
        payload["installation"] = json!({ "id": 1 });
        assert!(jobs("issue_comment", &payload).is_empty());
    }

    #[test]
    fn check_run_rerequested_refreshes() {
        let mut payload = example("check_run.rerequested.0");
        let jobs = jobs("check_run", &payload);
        assert_eq!(jobs.len(), 1);
        assert_eq!(jobs[0].kind, JobKind::Refresh);
        assert_eq!(jobs[0].repository, "github/hello-world");
        assert_eq!(jobs[0].args["head_sha"], payload["check_run"]["head_sha"]);
        payload["action"] = "completed".into();
        assert!(self::jobs("check_run", &payload).is_empty());
    }

    #[test]
    fn foreign_push_to_the_publish_branch_refreshes() {
        let mut payload = example("pull_request.synchronize.0");
        assert!(jobs("pull_request", &payload).is_empty(), "an ordinary PR");
        let repository = payload["repository"]["full_name"].clone();
        payload["pull_request"]["head"]["ref"] = PUBLISH_BRANCH.into();
        payload["pull_request"]["head"]["repo"]["full_name"] = repository;
        payload["installation"] = json!({ "id": 7 });
        payload["sender"]["type"] = "User".into();
        let refresh = jobs("pull_request", &payload);
        assert_eq!(refresh.len(), 1);
        assert_eq!(refresh[0].kind, JobKind::Refresh);
        assert_eq!(refresh[0].installation_id, 7);
        payload["sender"]["type"] = "Bot".into();
        assert!(
            jobs("pull_request", &payload).is_empty(),
            "opsmith's own push"
        );
        let mut opened = example("pull_request.opened.1");
        opened["pull_request"]["head"]["ref"] = PUBLISH_BRANCH.into();
        assert!(jobs("pull_request", &opened).is_empty());
    }

    #[test]
    fn unhandled_or_unreadable_deliveries_queue_nothing() {
        let payload = example("push.4");
        let mut unhandled = delivery("push", &payload);
        unhandled.handled = false;
        assert!(Triggers::default().jobs_for(&unhandled).is_empty());
        let mut broken = delivery("push", &payload);
        broken.payload = Bytes::from_static(b"{not json");
        assert!(Triggers::default().jobs_for(&broken).is_empty());
    }
}
