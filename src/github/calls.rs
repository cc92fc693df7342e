//! The REST calls a run makes on one repository, with typed answers holding only what opsmith reads.

use super::{
    ApiError, Auth, GitHub, JSON_MEDIA_TYPE, Permissions, RAW_MEDIA_TYPE, TokenScope, parse_json,
};
use axum::http::Method;
use secrecy::SecretString;
use serde_json::{Value, json};

/// What a run needs to know about the repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoInfo {
    pub default_branch: String,
    /// HTTPS clone URL (`https://github.com/o/r.git`).
    pub clone_url: String,
    pub archived: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueComment {
    pub id: i64,
    pub body: String,
    pub author: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullRequest {
    pub number: i64,
    pub html_url: String,
    pub body: String,
    pub title: String,
    pub head_sha: String,
}

/// Where a pull request's changes come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullHead {
    pub branch: String,
    pub sha: String,
    /// `owner/name` of the head repository (a fork's differs).
    pub repository: String,
}

/// Calls on one repository of an installation, with a token narrowed to it.
pub struct RepoClient<'a> {
    github: &'a GitHub,
    owner: String,
    name: String,
    scope: TokenScope,
    /// Tries per call, when fewer than the client's (best-effort calls).
    attempts: Option<u32>,
}

/// Pages read at most when listing comments (100 each): a thread longer than that is not searched
/// further for opsmith's status comment, and a new one is made.
const MAX_COMMENT_PAGES: u32 = 10;

impl<'a> RepoClient<'a> {
    pub(super) fn new(
        github: &'a GitHub,
        installation_id: i64,
        full_name: &str,
        permissions: &Permissions,
    ) -> Result<RepoClient<'a>, ApiError> {
        let (owner, name) = full_name
            .split_once('/')
            .filter(|(o, n)| is_valid_name(o) && is_valid_name(n))
            .ok_or_else(|| ApiError::InvalidName(format!("{full_name:?}")))?;
        Ok(RepoClient {
            github,
            owner: owner.to_string(),
            name: name.to_string(),
            scope: TokenScope {
                installation_id,
                repository: name.to_string(),
                permissions: permissions.iter().map(|(k, v)| (*k, *v)).collect(),
            },
            attempts: None,
        })
    }

    /// The same client, trying each call once: for best-effort calls whose work a later run
    /// repeats anyway (an acknowledgement), which must not pile up retries when GitHub is slow.
    pub fn trying_once(mut self) -> Self {
        self.attempts = Some(1);
        self
    }

    pub fn full_name(&self) -> String {
        format!("{}/{}", self.owner, self.name)
    }

    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// The repository's name without its owner.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// An installation token for git over HTTPS; minted again when the cached one is getting old,
    /// so ask right before each clone or push.
    pub async fn git_token(&self) -> Result<SecretString, ApiError> {
        self.github.token(&self.scope).await
    }

    async fn call(
        &self,
        operation: &'static str,
        method: Method,
        tail: &str,
        body: Option<&Value>,
    ) -> Result<Value, ApiError> {
        let path = format!("/repos/{}/{}{tail}", self.owner, self.name);
        let text = self
            .github
            .call_text(
                operation,
                method,
                &path,
                Auth::Repo(&self.scope),
                body,
                JSON_MEDIA_TYPE,
                self.attempts,
            )
            .await?;
        parse_json(operation, &text)
    }

    pub async fn info(&self) -> Result<RepoInfo, ApiError> {
        let repo = self.call("repos.get", Method::GET, "", None).await?;
        let text = |key: &str| repo.get(key).and_then(Value::as_str).map(str::to_string);
        Ok(RepoInfo {
            default_branch: text("default_branch")
                .ok_or_else(|| malformed("repos.get", "default_branch"))?,
            clone_url: text("clone_url").ok_or_else(|| malformed("repos.get", "clone_url"))?,
            archived: repo
                .get("archived")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        })
    }

    /// A file's contents at `reference` (a branch, tag or commit; the default branch when None), or
    /// None when there is no such file. Files above `max_bytes` are refused.
    pub async fn file_at(
        &self,
        path: &str,
        reference: Option<&str>,
        max_bytes: usize,
    ) -> Result<Option<String>, ApiError> {
        let safe = |part: &str| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_./".contains(&b))
        };
        if !safe(path) || path.split('/').any(|c| c.is_empty() || c == "..") {
            return Err(ApiError::InvalidName(format!("{path:?}")));
        }
        let mut tail = format!("/contents/{path}");
        if let Some(reference) = reference {
            if !safe(reference) {
                return Err(ApiError::InvalidName(format!("{reference:?}")));
            }
            tail.push_str("?ref=");
            tail.push_str(reference);
        }
        let full = format!("/repos/{}/{}{tail}", self.owner, self.name);
        let answer = self
            .github
            .call_text(
                "repos.get-content",
                Method::GET,
                &full,
                Auth::Repo(&self.scope),
                None,
                RAW_MEDIA_TYPE,
                self.attempts,
            )
            .await;
        match answer {
            Err(ApiError::Status { status: 404, .. }) => Ok(None),
            Err(e) => Err(e),
            Ok(text) if text.len() > max_bytes => Err(ApiError::Malformed {
                operation: "repos.get-content",
                message: format!("{path} is larger than {max_bytes} bytes"),
            }),
            Ok(text) => Ok(Some(text)),
        }
    }

    /// The pull request `number`: its head branch, commit and repository.
    pub async fn pull(&self, number: i64) -> Result<PullHead, ApiError> {
        let tail = format!("/pulls/{number}");
        let answer = self.call("pulls.get", Method::GET, &tail, None).await?;
        let head = answer.get("head");
        let text = |key: &str| {
            head.and_then(|h| h.get(key))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        Ok(PullHead {
            branch: text("ref"),
            sha: text("sha"),
            repository: head
                .and_then(|h| h.get("repo"))
                .and_then(|r| r.get("full_name"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
        })
    }

    /// The user's permission on the repository: the finer `role_name` when GitHub sends one
    /// (`maintain`, `triage`, custom roles), else `permission`.
    pub async fn permission_of(&self, login: &str) -> Result<String, ApiError> {
        if !is_valid_name(login) {
            return Err(ApiError::InvalidName(format!("{login:?}")));
        }
        let tail = format!("/collaborators/{login}/permission");
        let answer = self
            .call(
                "repos.get-collaborator-permission-level",
                Method::GET,
                &tail,
                None,
            )
            .await;
        let answer = match answer {
            // Not a collaborator at all.
            Err(ApiError::Status { status: 404, .. }) => return Ok("none".into()),
            other => other?,
        };
        let field = |key: &str| answer.get(key).and_then(Value::as_str).map(str::to_string);
        Ok(field("role_name")
            .filter(|r| !r.is_empty())
            .or_else(|| field("permission"))
            .unwrap_or_else(|| "none".into()))
    }

    /// Adds a reaction (`eyes`, `+1`, …) to an issue or pull request comment; adding it twice is
    /// harmless (GitHub answers 200 the second time).
    pub async fn react_to_comment(&self, comment_id: i64, content: &str) -> Result<(), ApiError> {
        let tail = format!("/issues/comments/{comment_id}/reactions");
        self.call(
            "reactions.create-for-issue-comment",
            Method::POST,
            &tail,
            Some(&json!({ "content": content })),
        )
        .await
        .map(drop)
    }

    /// The comments of an issue or pull request, oldest first (up to 1,000).
    pub async fn comments(&self, issue: i64) -> Result<Vec<IssueComment>, ApiError> {
        let mut all = Vec::new();
        for page in 1..=MAX_COMMENT_PAGES {
            let tail = format!("/issues/{issue}/comments?per_page=100&page={page}");
            let answer = self
                .call("issues.list-comments", Method::GET, &tail, None)
                .await?;
            let items = answer.as_array().cloned().unwrap_or_default();
            let full_page = items.len() >= 100;
            all.extend(items.iter().filter_map(comment_of));
            if !full_page {
                break;
            }
        }
        Ok(all)
    }

    pub async fn create_comment(&self, issue: i64, body: &str) -> Result<IssueComment, ApiError> {
        let tail = format!("/issues/{issue}/comments");
        let answer = self
            .call(
                "issues.create-comment",
                Method::POST,
                &tail,
                Some(&json!({ "body": body })),
            )
            .await?;
        comment_of(&answer).ok_or_else(|| malformed("issues.create-comment", "id"))
    }

    /// Edits a comment in place (PATCH; octocrab's own `update_comment` sends POST).
    pub async fn update_comment(&self, comment_id: i64, body: &str) -> Result<(), ApiError> {
        let tail = format!("/issues/comments/{comment_id}");
        self.call(
            "issues.update-comment",
            Method::PATCH,
            &tail,
            Some(&json!({ "body": body })),
        )
        .await
        .map(drop)
    }

    /// The open pull request from `branch` of this repository, if any.
    pub async fn open_pull_from(&self, branch: &str) -> Result<Option<PullRequest>, ApiError> {
        let tail = format!(
            "/pulls?state=open&head={}%3A{}&per_page=10",
            self.owner,
            branch.replace('/', "%2F")
        );
        let answer = self.call("pulls.list", Method::GET, &tail, None).await?;
        Ok(answer
            .as_array()
            .and_then(|pulls| pulls.iter().find_map(pull_of)))
    }

    pub async fn create_pull(
        &self,
        title: &str,
        head: &str,
        base: &str,
        body: &str,
    ) -> Result<PullRequest, ApiError> {
        let answer = self
            .call(
                "pulls.create",
                Method::POST,
                "/pulls",
                Some(&json!({
                    "title": title,
                    "head": head,
                    "base": base,
                    "body": body,
                    "maintainer_can_modify": false,
                })),
            )
            .await?;
        pull_of(&answer).ok_or_else(|| malformed("pulls.create", "number"))
    }

    pub async fn update_pull(&self, number: i64, title: &str, body: &str) -> Result<(), ApiError> {
        let tail = format!("/pulls/{number}");
        self.call(
            "pulls.update",
            Method::PATCH,
            &tail,
            Some(&json!({ "title": title, "body": body })),
        )
        .await
        .map(drop)
    }

    /// Creates a completed check run on `head_sha`; returns its id.
    pub async fn create_check_run(&self, fields: &Value) -> Result<i64, ApiError> {
        let answer = self
            .call("checks.create", Method::POST, "/check-runs", Some(fields))
            .await?;
        answer
            .get("id")
            .and_then(Value::as_i64)
            .ok_or_else(|| malformed("checks.create", "id"))
    }
}

impl RepoClient<'_> {
    /// Adds to a check run: more annotations (GitHub takes 50 per request), a new conclusion.
    pub async fn update_check_run(&self, id: i64, fields: &Value) -> Result<(), ApiError> {
        let tail = format!("/check-runs/{id}");
        self.call("checks.update", Method::PATCH, &tail, Some(fields))
            .await
            .map(drop)
    }

    /// Uploads a SARIF report to code scanning (`POST /repos/{owner}/{repo}/code-scanning/sarifs`).
    pub async fn upload_sarif(&self, upload: &crate::report::SarifUpload) -> Result<(), ApiError> {
        let body = serde_json::to_value(upload).map_err(|e| ApiError::Malformed {
            operation: "code-scanning.upload-sarif",
            message: e.to_string(),
        })?;
        self.call(
            "code-scanning.upload-sarif",
            Method::POST,
            "/code-scanning/sarifs",
            Some(&body),
        )
        .await
        .map(drop)
    }
}

fn malformed(operation: &'static str, field: &str) -> ApiError {
    ApiError::Malformed {
        operation,
        message: format!("no {field}"),
    }
}

fn comment_of(value: &Value) -> Option<IssueComment> {
    Some(IssueComment {
        id: value.get("id")?.as_i64()?,
        body: value
            .get("body")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        author: value
            .get("user")
            .and_then(|u| u.get("login"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
    })
}

fn pull_of(value: &Value) -> Option<PullRequest> {
    let text = |key: &str| {
        value
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    Some(PullRequest {
        number: value.get("number")?.as_i64()?,
        html_url: text("html_url"),
        body: text("body"),
        title: text("title"),
        head_sha: value
            .get("head")
            .and_then(|h| h.get("sha"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
    })
}

/// Owner, repository and user names as GitHub allows them; anything else (slashes, `..`, spaces,
/// percent signs from a crafted payload) never reaches a URL path.
fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 100
        && name != "."
        && name != ".."
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

#[cfg(test)]
mod tests {
    use super::is_valid_name;

    #[test]
    fn names_that_could_change_the_url_are_refused() {
        for good in ["octo-org", "my.repo", "a_b", "x"] {
            assert!(is_valid_name(good), "{good}");
        }
        for bad in [
            "",
            ".",
            "..",
            "a/b",
            "a b",
            "a%2Fb",
            "a?b",
            "é",
            &"x".repeat(101),
        ] {
            assert!(!is_valid_name(bad), "{bad}");
        }
    }
}
