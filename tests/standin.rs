//! The GitHub stand-in itself: octocrab's ordinary App flow passes GitHub's contract, requests
//! GitHub would not understand are caught, authentication behaves like GitHub's, faults inject.

#[path = "support/git_server.rs"]
mod git_server;
#[path = "support/github.rs"]
mod github;
#[path = "support/openapi.rs"]
mod openapi;

use github::{AppKey, Fault, StandIn};
use octocrab::Octocrab;
use octocrab::models::{AppId, CheckRunId, CommentId, InstallationId};
use octocrab::params::checks::{CheckRunConclusion, CheckRunOutput, CheckRunStatus};
use octocrab::service::middleware::retry::RetryConfig;
use opsmith::git::{self, Author, CloneLimits, Lease};
use serde_json::{Value, json};
use std::time::Duration;

const INSTALLATION: u64 = 7;

fn crypto() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

fn stand_in() -> StandIn {
    crypto();
    let stand_in = StandIn::start();
    stand_in.install(INSTALLATION, "acme");
    stand_in.add_repo(INSTALLATION, "acme", "shop", &[("README.md", b"# shop\n")]);
    stand_in
}

fn app_client(stand_in: &StandIn, key: &AppKey) -> Octocrab {
    Octocrab::builder()
        .base_uri(stand_in.url.as_str())
        .unwrap()
        .add_retry_config(RetryConfig::None)
        .app(
            AppId(stand_in.app_id),
            jsonwebtoken::EncodingKey::from_rsa_pem(key.private_pem.as_bytes()).unwrap(),
        )
        .build()
        .unwrap()
}

fn token_client(stand_in: &StandIn, token: &str) -> Octocrab {
    Octocrab::builder()
        .base_uri(stand_in.url.as_str())
        .unwrap()
        .add_retry_config(RetryConfig::None)
        .personal_token(token.to_string())
        .build()
        .unwrap()
}

fn status_of(e: &octocrab::Error) -> Option<u16> {
    match e {
        octocrab::Error::GitHub { source, .. } => Some(source.status_code.as_u16()),
        _ => None,
    }
}

/// Pushes `opsmith/devops` (one commit on main) through the real git server.
fn push_devops_branch(stand_in: &StandIn) -> git2::Oid {
    let token = stand_in.mint_token(INSTALLATION, Duration::from_secs(600));
    let url = stand_in.clone_url("acme", "shop");
    let dir = tempfile::tempdir().unwrap();
    let clone =
        git::clone_default_branch(&url, &token, dir.path(), &CloneLimits::default()).unwrap();
    let author = Author {
        name: "opsmith".into(),
        email: "opsmith@example.com".into(),
    };
    let files = [("Dockerfile".to_string(), b"FROM scratch\n".to_vec())];
    let commit = git::commit_tree(
        &clone.repo,
        "opsmith/devops",
        clone.head,
        &files,
        "artifacts",
        &author,
    )
    .unwrap();
    git::push(&clone.repo, &url, &token, "opsmith/devops", Lease::Absent).unwrap();
    commit
}

#[tokio::test]
async fn octocrabs_app_flow_passes_the_contract() {
    let stand_in = stand_in();
    let head_sha = push_devops_branch(&stand_in).to_string();
    stand_in
        .world()
        .user_permissions
        .insert("alice".into(), "maintain".into());

    let app = app_client(&stand_in, &stand_in.app_key);
    let me: Value = app.get("/app", None::<&()>).await.unwrap();
    assert_eq!(me["id"], json!(stand_in.app_id));
    let installation: Value = app.get("/app/installations/7", None::<&()>).await.unwrap();
    assert_eq!(installation["account"]["login"], "acme");

    let octo = app.installation(InstallationId(INSTALLATION)).unwrap();
    let repo: Value = octo.get("/repos/acme/shop", None::<&()>).await.unwrap();
    assert_eq!(repo["default_branch"], "main");
    assert_eq!(repo["clone_url"], json!(stand_in.clone_url("acme", "shop")));
    let listed: Value = octo
        .get("/installation/repositories", None::<&()>)
        .await
        .unwrap();
    assert_eq!(listed["total_count"], 1);

    let permission: Value = octo
        .get(
            "/repos/acme/shop/collaborators/alice/permission",
            None::<&()>,
        )
        .await
        .unwrap();
    assert_eq!(permission["permission"], "write");
    assert_eq!(permission["role_name"], "maintain");
    let stranger: Value = octo
        .get(
            "/repos/acme/shop/collaborators/mallory/permission",
            None::<&()>,
        )
        .await
        .unwrap();
    assert_eq!(stranger["permission"], "none");

    let pulls = octo.pulls("acme", "shop");
    let pr = pulls
        .create("Ship it", "opsmith/devops", "main")
        .body("What opsmith found")
        .send()
        .await
        .unwrap();
    assert_eq!(pr.number, 1);
    assert_eq!(pr.head.sha, head_sha);
    let duplicate = pulls
        .create("Ship it", "opsmith/devops", "main")
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_of(&duplicate), Some(422));

    let found = pulls
        .list()
        .head("acme:opsmith/devops")
        .send()
        .await
        .unwrap();
    assert_eq!(found.items.len(), 1);
    let none = pulls.list().head("acme:elsewhere").send().await.unwrap();
    assert!(none.items.is_empty());
    let updated = pulls.update(1).body("Refreshed").send().await.unwrap();
    assert_eq!(updated.body.as_deref(), Some("Refreshed"));
    assert_eq!(
        pulls.get(1).await.unwrap().body.as_deref(),
        Some("Refreshed")
    );
    // The pull request follows its branch, as on GitHub.
    let moved = stand_in
        .git
        .commit_on("acme", "shop", "opsmith/devops", "NOTES", b"n\n");
    assert_eq!(pulls.get(1).await.unwrap().head.sha, moved.to_string());

    let issues = octo.issues("acme", "shop");
    let comment = issues.create_comment(1, "Working on it").await.unwrap();
    issues
        .create_comment_reaction(
            comment.id,
            octocrab::models::reactions::ReactionContent::Eyes,
        )
        .await
        .unwrap();
    // octocrab's `update_comment` POSTs; GitHub documents PATCH (see the test below).
    let _: Value = octo
        .patch(
            format!("/repos/acme/shop/issues/comments/{}", comment.id),
            Some(&json!({"body": "Done"})),
        )
        .await
        .unwrap();
    let comments = issues.list_comments(1).send().await.unwrap();
    assert_eq!(comments.items.len(), 1);
    assert_eq!(comments.items[0].body.as_deref(), Some("Done"));

    let checks = octo.checks("acme", "shop");
    let run = checks
        .create_check_run("opsmith", &head_sha)
        .status(CheckRunStatus::InProgress)
        .send()
        .await
        .unwrap();
    checks
        .update_check_run(CheckRunId(run.id.0))
        .conclusion(CheckRunConclusion::Success)
        .output(CheckRunOutput {
            title: "opsmith".into(),
            summary: "3 files".into(),
            text: None,
            annotations: vec![],
            images: vec![],
        })
        .send()
        .await
        .unwrap();

    stand_in.assert_no_violations();
    let world = stand_in.world();
    assert!(world.unserved.is_empty(), "{:?}", world.unserved);
    assert_eq!(world.open_pulls("acme/shop").len(), 1);
    assert_eq!(world.comments[0].edits, 1);
    assert_eq!(world.reactions.len(), 1);
    assert_eq!(world.check_runs[0].fields["conclusion"], "success");
    assert_eq!(world.check_runs[0].fields["output"]["summary"], "3 files");
    assert_eq!(
        world
            .calls("POST", "/app/installations/7/access_tokens")
            .len(),
        1,
        "token cached"
    );
}

#[tokio::test]
async fn a_request_github_would_not_understand_is_a_violation() {
    let stand_in = stand_in();
    let octo = token_client(
        &stand_in,
        &stand_in.mint_token(INSTALLATION, Duration::from_secs(60)),
    );
    let err = octo
        .post::<_, Value>(
            "/repos/acme/shop/pulls",
            Some(&json!({"title": "t", "base": "main"})),
        )
        .await
        .unwrap_err();
    assert_eq!(status_of(&err), Some(422));
    let err = octo
        .delete::<Value, _, _>("/repos/acme/shop/pulls/1", None::<&()>)
        .await
        .unwrap_err();
    assert_eq!(status_of(&err), Some(404));
    let world = stand_in.world();
    assert_eq!(world.violations.len(), 2, "{:?}", world.violations);
    assert!(
        world.violations[0].contains("head"),
        "{}",
        world.violations[0]
    );
    assert!(
        world.violations[1].contains("allows only"),
        "{}",
        world.violations[1]
    );
    assert!(world.pulls.is_empty());
}

#[tokio::test]
async fn octocrabs_update_comment_uses_an_undocumented_method() {
    // octocrab 0.54 sends POST to /repos/{o}/{r}/issues/comments/{id}; the contract says PATCH.
    // opsmith must edit its status comment with `patch` instead.
    let stand_in = stand_in();
    let octo = token_client(
        &stand_in,
        &stand_in.mint_token(INSTALLATION, Duration::from_secs(60)),
    );
    let issues = octo.issues("acme", "shop");
    let comment = issues.create_comment(1, "first").await.unwrap();
    let err = issues
        .update_comment(CommentId(comment.id.0), "second")
        .await
        .unwrap_err();
    assert_eq!(status_of(&err), Some(404));
    let world = stand_in.world();
    assert_eq!(world.violations.len(), 1);
    assert!(world.violations[0].starts_with("POST /repos/acme/shop/issues/comments/"));
    assert_eq!(world.comments[0].body, "first");
}

#[tokio::test]
async fn a_jwt_signed_with_another_key_is_refused() {
    let stand_in = stand_in();
    let impostor = app_client(&stand_in, &AppKey::generate());
    let err = impostor
        .get::<Value, _, _>("/app", None::<&()>)
        .await
        .unwrap_err();
    assert_eq!(status_of(&err), Some(401));
    let octo = impostor.installation(InstallationId(INSTALLATION)).unwrap();
    let err = octo
        .get::<Value, _, _>("/repos/acme/shop", None::<&()>)
        .await
        .unwrap_err();
    assert_eq!(status_of(&err), Some(401));
    // An installation token is no App JWT.
    let token = token_client(
        &stand_in,
        &stand_in.mint_token(INSTALLATION, Duration::from_secs(60)),
    );
    let err = token
        .get::<Value, _, _>("/app", None::<&()>)
        .await
        .unwrap_err();
    assert_eq!(status_of(&err), Some(401));
    assert!(
        stand_in.world().tokens.len() == 1,
        "no token minted for the impostor"
    );
    stand_in.assert_no_violations();
}

#[tokio::test]
async fn expired_and_unknown_installation_tokens_are_refused() {
    let stand_in = stand_in();
    let fresh = token_client(
        &stand_in,
        &stand_in.mint_token(INSTALLATION, Duration::from_secs(60)),
    );
    let repo: Value = fresh.get("/repos/acme/shop", None::<&()>).await.unwrap();
    assert_eq!(repo["full_name"], "acme/shop");
    for token in [
        stand_in.mint_token(INSTALLATION, Duration::ZERO),
        "ghs_unknown".to_string(),
    ] {
        let octo = token_client(&stand_in, &token);
        let err = octo
            .get::<Value, _, _>("/repos/acme/shop", None::<&()>)
            .await
            .unwrap_err();
        assert_eq!(status_of(&err), Some(401));
    }
    stand_in.assert_no_violations();
}

#[tokio::test]
async fn tokens_are_narrowed_to_the_repositories_and_permissions_asked() {
    let stand_in = stand_in();
    stand_in.add_repo(INSTALLATION, "acme", "other", &[("a", b"a")]);
    let app = app_client(&stand_in, &stand_in.app_key);
    let minted: Value = app
        .post(
            "/app/installations/7/access_tokens",
            Some(&json!({"repositories": ["shop"], "permissions": {"contents": "read", "pull_requests": "read"}})),
        )
        .await
        .unwrap();
    let token = minted["token"].as_str().unwrap();
    assert!(minted["expires_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(minted["repositories"].as_array().unwrap().len(), 1);
    let octo = token_client(&stand_in, token);
    let _: Value = octo.get("/repos/acme/shop", None::<&()>).await.unwrap();
    let err = octo
        .get::<Value, _, _>("/repos/acme/other", None::<&()>)
        .await
        .unwrap_err();
    assert_eq!(status_of(&err), Some(404));
    let err = octo
        .pulls("acme", "shop")
        .create("t", "main", "main")
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_of(&err), Some(403));

    let too_much = app
        .post::<_, Value>(
            "/app/installations/7/access_tokens",
            Some(&json!({"permissions": {"administration": "write"}})),
        )
        .await
        .unwrap_err();
    assert_eq!(status_of(&too_much), Some(422));
    stand_in.assert_no_violations();
}

#[tokio::test]
async fn a_short_token_lifetime_expires_tokens() {
    let stand_in = stand_in();
    stand_in.world().token_ttl = Duration::from_secs(1);
    let app = app_client(&stand_in, &stand_in.app_key);
    let minted: Value = app
        .post("/app/installations/7/access_tokens", None::<&()>)
        .await
        .unwrap();
    let octo = token_client(&stand_in, minted["token"].as_str().unwrap());
    let _: Value = octo.get("/repos/acme/shop", None::<&()>).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let err = octo
        .get::<Value, _, _>("/repos/acme/shop", None::<&()>)
        .await
        .unwrap_err();
    assert_eq!(status_of(&err), Some(401));
}

#[tokio::test]
async fn faults_answer_with_the_configured_statuses_and_headers() {
    let stand_in = stand_in();
    let octo = token_client(
        &stand_in,
        &stand_in.mint_token(INSTALLATION, Duration::from_secs(600)),
    );
    {
        let mut world = stand_in.world();
        world.faults.fraction = 0.5;
        world.faults.kinds = vec![
            Fault::Status(502),
            Fault::RetryAfter {
                status: 429,
                seconds: 7,
            },
            Fault::RetryAfter {
                status: 403,
                seconds: 3,
            },
            Fault::RateLimitExhausted { reset_in: 60 },
        ];
    }
    let mut answers = Vec::new();
    for _ in 0..8 {
        let response = octo
            ._get(format!("{}/repos/acme/shop", stand_in.url))
            .await
            .unwrap();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_string())
        };
        answers.push((
            response.status().as_u16(),
            header("retry-after"),
            header("x-ratelimit-remaining"),
        ));
    }
    let statuses: Vec<u16> = answers.iter().map(|a| a.0).collect();
    assert_eq!(statuses, [200, 502, 200, 429, 200, 403, 200, 403]);
    assert_eq!(answers[3].1.as_deref(), Some("7"));
    assert_eq!(answers[5].1.as_deref(), Some("3"));
    assert_eq!(answers[7].2.as_deref(), Some("0"));
    assert_eq!(answers[0].2.as_deref(), Some("4999"));
    assert_eq!(stand_in.world().faults.injected, 4);

    // A delay longer than the client's read timeout is a timeout.
    {
        let mut world = stand_in.world();
        world.faults.fraction = 1.0;
        world.faults.kinds = vec![Fault::Delay(Duration::from_secs(2))];
    }
    let impatient = Octocrab::builder()
        .base_uri(stand_in.url.as_str())
        .unwrap()
        .add_retry_config(RetryConfig::None)
        .set_read_timeout(Some(Duration::from_millis(300)))
        .personal_token(stand_in.mint_token(INSTALLATION, Duration::from_secs(60)))
        .build()
        .unwrap();
    let err = impatient
        .get::<Value, _, _>("/repos/acme/shop", None::<&()>)
        .await
        .unwrap_err();
    assert_eq!(
        status_of(&err),
        None,
        "a transport error, not an answer: {err}"
    );
    stand_in.assert_no_violations();
}

#[tokio::test]
async fn the_manifest_code_converts_once() {
    let stand_in = stand_in();
    stand_in.world().manifest_codes.insert("abc123".into());
    let anonymous = Octocrab::builder()
        .base_uri(stand_in.url.as_str())
        .unwrap()
        .add_retry_config(RetryConfig::None)
        .build()
        .unwrap();
    let app: Value = anonymous
        .post("/app-manifests/abc123/conversions", None::<&()>)
        .await
        .unwrap();
    assert_eq!(app["id"], json!(stand_in.app_id));
    for field in ["slug", "client_id", "pem", "webhook_secret"] {
        assert!(app[field].is_string(), "{field} in {app}");
    }
    let again = anonymous
        .post::<_, Value>("/app-manifests/abc123/conversions", None::<&()>)
        .await
        .unwrap_err();
    assert_eq!(status_of(&again), Some(404));
    stand_in.assert_no_violations();
}

/// `gzip | base64`, as GitHub wants a SARIF upload.
fn gzip_base64(text: &str) -> String {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut gzip = Command::new("gzip")
        .arg("-c")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    gzip.stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let gzipped = gzip.wait_with_output().unwrap().stdout;
    let mut base64 = Command::new("base64")
        .arg("-w0")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    base64.stdin.take().unwrap().write_all(&gzipped).unwrap();
    String::from_utf8(base64.wait_with_output().unwrap().stdout).unwrap()
}

#[tokio::test]
async fn sarif_uploads_must_be_gzipped_and_base64() {
    let stand_in = stand_in();
    let octo = token_client(
        &stand_in,
        &stand_in.mint_token(INSTALLATION, Duration::from_secs(60)),
    );
    let sha = "0123456789012345678901234567890123456789";
    let sarif = r#"{"version":"2.1.0","runs":[]}"#;
    let accepted: Value = octo
        .post(
            "/repos/acme/shop/code-scanning/sarifs",
            Some(
                &json!({"commit_sha": sha, "ref": "refs/heads/main", "sarif": gzip_base64(sarif)}),
            ),
        )
        .await
        .unwrap();
    assert!(accepted["id"].is_string());
    let plain = octo
        .post::<_, Value>(
            "/repos/acme/shop/code-scanning/sarifs",
            Some(&json!({"commit_sha": sha, "ref": "refs/heads/main", "sarif": sarif})),
        )
        .await
        .unwrap_err();
    assert_eq!(status_of(&plain), Some(400));
    let missing_ref = octo
        .post::<_, Value>(
            "/repos/acme/shop/code-scanning/sarifs",
            Some(&json!({"commit_sha": sha, "sarif": gzip_base64(sarif)})),
        )
        .await
        .unwrap_err();
    assert_eq!(status_of(&missing_ref), Some(422));
    let world = stand_in.world();
    assert_eq!(world.sarifs.len(), 1);
    assert_eq!(world.sarifs[0].commit_sha, sha);
    assert_eq!(world.violations.len(), 1, "only the request without `ref`");
}

fn app_jwt(stand_in: &StandIn, iat_offset: i64, exp_offset: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let claims = json!({"iat": now + iat_offset, "exp": now + exp_offset, "iss": stand_in.app_id});
    let key =
        jsonwebtoken::EncodingKey::from_rsa_pem(stand_in.app_key.private_pem.as_bytes()).unwrap();
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256),
        &claims,
        &key,
    )
    .unwrap()
}

#[tokio::test]
async fn app_jwts_must_be_current_and_short_lived() {
    let stand_in = stand_in();
    let get_app = |jwt: String| {
        let octo = token_client(&stand_in, &jwt);
        async move { octo.get::<Value, _, _>("/app", None::<&()>).await }
    };
    assert!(get_app(app_jwt(&stand_in, -60, 540)).await.is_ok());
    for (iat, exp, why) in [
        (-60, 1200, "exp more than 10 minutes ahead"),
        (-700, -10, "expired"),
        (300, 540, "issued in the future"),
    ] {
        let err = get_app(app_jwt(&stand_in, iat, exp)).await.unwrap_err();
        assert_eq!(status_of(&err), Some(401), "{why}");
    }
    stand_in.assert_no_violations();
}
