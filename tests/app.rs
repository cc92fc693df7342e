//! The App end to end: the real `opsmith serve` binary, signed webhooks over HTTP, the GitHub
//! stand-in (every request checked against GitHub's OpenAPI description) with its real git server.
//!
//! PostgreSQL tests need `OPSMITH_TEST_POSTGRES_URL` (scripts/test starts the server and sets it).

#[path = "support/containers.rs"]
mod containers;
#[path = "support/git_server.rs"]
mod git_server;
#[path = "support/github.rs"]
mod github;
#[path = "support/openapi.rs"]
mod openapi;

use github::{Fault, StandIn};
use hmac::{Hmac, KeyInit, Mac};
use opsmith::queue::{JobStatus, Store, StoreSettings};
use serde_json::{Value, json};
use sha2::Sha256;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const INSTALLATION: u64 = 7;
const OWNER: &str = "acme";
const SECRET: &str = "webhook secret for the app tests";
/// The issue the test comments are on.
const ISSUE: u64 = 100;

/// A running `opsmith serve`.
struct App {
    child: Child,
    addr: SocketAddr,
    log: PathBuf,
}

impl App {
    fn start(stand_in: &StandIn, database_url: &str, dir: &Path, name: &str) -> App {
        App::start_with(stand_in, database_url, dir, name, &[])
    }

    /// Starts with `env` on top; without a `DOCKER_HOST` there, the App sees no Docker engine
    /// (whatever the machine runs), so builds are skipped and runs stay quick.
    fn start_with(
        stand_in: &StandIn,
        database_url: &str,
        dir: &Path,
        name: &str,
        env: &[(&str, String)],
    ) -> App {
        let addr = free_address();
        let log = dir.join(format!("{name}.log"));
        let out = std::fs::File::create(&log).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_opsmith"))
            .arg("serve")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("OPSMITH_APP_ID", stand_in.app_id.to_string())
            .env("OPSMITH_PRIVATE_KEY", &stand_in.app_key.private_pem)
            .env("OPSMITH_WEBHOOK_SECRET", SECRET)
            .env("OPSMITH_GITHUB_API_URL", &stand_in.url)
            .env("OPSMITH_DATABASE_URL", database_url)
            .env("OPSMITH_LISTEN", addr.to_string())
            .env("OPSMITH_WORK_DIR", dir.join(format!("{name}-work")))
            .env("OPSMITH_WORKERS", "2")
            .env("OPSMITH_JOB_LEASE_SECONDS", "3")
            .env("RUST_LOG", "opsmith=info")
            .env(
                "DOCKER_HOST",
                format!("unix://{}", dir.join("no-engine.sock").display()),
            )
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .stdin(Stdio::null())
            .spawn()
            .expect("start opsmith serve");
        let mut app = App { child, addr, log };
        let started = Instant::now();
        while http(app.addr, "GET", "/healthz", &[], b"").map(|(s, _)| s) != Some(200) {
            if let Ok(Some(status)) = app.child.try_wait() {
                panic!("opsmith serve exited ({status}):\n{}", app.log_text());
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "opsmith serve did not come up:\n{}",
                app.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        app
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGKILL: no clean-up of any kind.
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn deliver(&self, event: &str, delivery: &str, payload: &Value) -> u16 {
        let body = serde_json::to_vec(payload).unwrap();
        let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
        mac.update(&body);
        let signature = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
        let headers = [
            ("X-GitHub-Event", event),
            ("X-GitHub-Delivery", delivery),
            ("X-Hub-Signature-256", signature.as_str()),
            ("Content-Type", "application/json"),
        ];
        http(self.addr, "POST", "/webhook", &headers, &body)
            .map(|(status, _)| status)
            .unwrap_or_else(|| panic!("no answer to the webhook:\n{}", self.log_text()))
    }
}

impl Drop for App {
    fn drop(&mut self) {
        self.kill();
    }
}

fn free_address() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

/// One HTTP/1.1 exchange; None when the server cannot be reached.
fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .ok()?;
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).ok()?;
    stream.write_all(body).ok()?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).ok()?;
    let text = String::from_utf8_lossy(&answer).to_string();
    let status = text.split(' ').nth(1)?.parse().ok()?;
    Some((status, text))
}

/// The files of a fixture, as the stand-in's git server takes them.
fn fixture_files(name: &str) -> Vec<(String, Vec<u8>)> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    let mut files = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let relative = path
                    .strip_prefix(&root)
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .to_string();
                files.push((relative, std::fs::read(&path).unwrap()));
            }
        }
    }
    files.sort();
    files
}

fn stand_in_with(repos: &[&str]) -> StandIn {
    stand_in_holding(&fixture_files("node-npm-express"), repos)
}

/// A stand-in with `repos`, each holding `files` on `main`; alice may write, bob may read.
fn stand_in_holding(files: &[(String, Vec<u8>)], repos: &[&str]) -> StandIn {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let stand_in = StandIn::start();
    stand_in.install(INSTALLATION, OWNER);
    let files: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(p, c)| (p.as_str(), c.as_slice()))
        .collect();
    for repo in repos {
        stand_in.add_repo(INSTALLATION, OWNER, repo, &files);
    }
    let mut world = stand_in.world();
    world
        .user_permissions
        .insert("alice".into(), "write".into());
    world.user_permissions.insert("bob".into(), "read".into());
    drop(world);
    stand_in
}

/// Adds a user's comment to the stand-in (as if typed on GitHub) and returns its webhook payload.
fn comment(stand_in: &StandIn, repo: &str, issue: u64, id: u64, login: &str, body: &str) -> Value {
    stand_in.world().comments.push(github::Comment {
        id,
        repo: format!("{OWNER}/{repo}"),
        issue_number: issue,
        body: body.into(),
        user: login.into(),
        edits: 0,
    });
    json!({
        "action": "created",
        "installation": { "id": INSTALLATION },
        "repository": repository(repo),
        "issue": { "number": issue, "title": "Ship it", "state": "open" },
        "comment": {
            "id": id,
            "body": body,
            "user": { "login": login, "type": "User" },
            "author_association": "MEMBER",
        },
        "sender": { "login": login, "type": "User" },
    })
}

fn repository(repo: &str) -> Value {
    json!({
        "id": 1,
        "name": repo,
        "full_name": format!("{OWNER}/{repo}"),
        "default_branch": "main",
        "owner": { "login": OWNER, "type": "Organization" },
    })
}

fn wait_until(what: &str, timeout: Duration, app: &App, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(
            started.elapsed() < timeout,
            "timed out waiting until {what}; opsmith's log:\n{}",
            app.log_text()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The contents of `path` on `branch` of a repository in the stand-in's git server.
fn file_on(stand_in: &StandIn, repo: &str, branch: &str, path: &str) -> Option<Vec<u8>> {
    let git = git2::Repository::open_bare(stand_in.git.git_dir(OWNER, repo)).ok()?;
    let commit = git
        .find_reference(&format!("refs/heads/{branch}"))
        .ok()?
        .peel_to_commit()
        .ok()?;
    let entry = commit.tree().ok()?.get_path(Path::new(path)).ok()?;
    Some(git.find_blob(entry.id()).ok()?.content().to_vec())
}

fn bot_comments(stand_in: &StandIn, repo: &str, issue: u64) -> Vec<String> {
    let full = format!("{OWNER}/{repo}");
    stand_in
        .world()
        .comments
        .iter()
        .filter(|c| c.repo == full && c.issue_number == issue && c.user.ends_with("[bot]"))
        .map(|c| c.body.clone())
        .collect()
}

fn sqlite_url(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("opsmith.db").display())
}

#[test]
fn a_comment_command_opens_one_pull_request_that_pushes_keep_up_to_date() {
    let stand_in = stand_in_with(&["shop"]);
    let dir = tempfile::tempdir().unwrap();
    let app = App::start(&stand_in, &sqlite_url(dir.path()), dir.path(), "app");

    // `/opsmith generate` by someone with write permission → a pull request.
    let payload = comment(&stand_in, "shop", ISSUE, 5001, "alice", "/opsmith generate");
    assert_eq!(app.deliver("issue_comment", "delivery-1", &payload), 202);
    wait_until(
        "the command is answered",
        Duration::from_secs(90),
        &app,
        || {
            bot_comments(&stand_in, "shop", ISSUE)
                .iter()
                .any(|c| c.contains("Done"))
        },
    );
    let (pull, head) = {
        let world = stand_in.world();
        let open = world.open_pulls("acme/shop");
        assert_eq!(open.len(), 1, "one pull request");
        let pull = open[0].clone();
        assert_eq!(
            (pull.head.as_str(), pull.base.as_str()),
            ("opsmith/devops", "main")
        );
        let body = pull.body.clone().unwrap_or_default();
        assert!(body.contains(opsmith::report::SCAN_START), "{body}");
        assert!(body.contains("Dockerfile"), "{body}");
        assert!(
            world
                .reactions
                .iter()
                .any(|r| r.comment_id == 5001 && r.content == "eyes"),
            "the command is acknowledged with a reaction"
        );
        let head = stand_in
            .git
            .branch_head(OWNER, "shop", "opsmith/devops")
            .unwrap();
        let checks: Vec<_> = world
            .check_runs
            .iter()
            .filter(|c| {
                c.fields["head_sha"] == json!(head.to_string()) && c.fields["name"] == "opsmith"
            })
            .collect();
        assert_eq!(checks.len(), 1, "one check run on the branch head");
        assert_eq!(checks[0].fields["conclusion"], "success");
        // Every token was narrowed to the one repository.
        assert!(world.tokens.values().all(|t| t.repos.len() == 1));
        (pull, head)
    };
    let status = bot_comments(&stand_in, "shop", ISSUE);
    assert_eq!(
        status.len(),
        1,
        "one status comment, edited in place: {status:?}"
    );
    assert!(status[0].contains(&format!("/pull/{}", pull.number)) || status[0].contains("pull"));
    let dockerfile = file_on(&stand_in, "shop", "opsmith/devops", "Dockerfile")
        .expect("Dockerfile on the branch");
    assert!(String::from_utf8_lossy(&dockerfile).contains("FROM node:"));
    assert!(
        file_on(
            &stand_in,
            "shop",
            "opsmith/devops",
            ".github/workflows/ci.yml"
        )
        .is_some()
    );
    assert!(file_on(&stand_in, "shop", "opsmith/devops", "package.json").is_some());

    // The same delivery again (a redelivery): accepted, nothing runs.
    let calls_before = stand_in.world().requests.len();
    assert_eq!(app.deliver("issue_comment", "delivery-1", &payload), 202);
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        stand_in.world().requests.len(),
        calls_before,
        "a redelivery calls GitHub for nothing"
    );

    // A push to main that changes what would be generated → the same pull request, updated.
    let own_dockerfile = b"FROM node:22-bookworm-slim\nWORKDIR /app\nCOPY . .\nEXPOSE 8080\nCMD [\"node\", \"src/server.js\"]\n";
    let main = stand_in
        .git
        .commit_on(OWNER, "shop", "main", "Dockerfile", own_dockerfile);
    let push = json!({
        "ref": "refs/heads/main",
        "after": main.to_string(),
        "deleted": false,
        "installation": { "id": INSTALLATION },
        "repository": repository("shop"),
        "sender": { "login": "alice", "type": "User" },
    });
    assert_eq!(app.deliver("push", "delivery-2", &push), 202);
    wait_until(
        "the branch is rebuilt on the new main",
        Duration::from_secs(90),
        &app,
        || stand_in.git.branch_head(OWNER, "shop", "opsmith/devops") != Some(head),
    );
    wait_until(
        "the pull request is refreshed",
        Duration::from_secs(30),
        &app,
        || {
            let world = stand_in.world();
            let named = |name: &str| {
                world
                    .check_runs
                    .iter()
                    .filter(|c| c.fields["name"] == name)
                    .count()
            };
            named("opsmith") == 2 && named("opsmith scan") == 2
        },
    );
    {
        let world = stand_in.world();
        assert_eq!(world.pulls.len(), 1, "never a second pull request");
        assert_eq!(world.open_pulls("acme/shop")[0].number, pull.number);
    }
    let git = git2::Repository::open_bare(stand_in.git.git_dir(OWNER, "shop")).unwrap();
    let new_head = stand_in
        .git
        .branch_head(OWNER, "shop", "opsmith/devops")
        .unwrap();
    let commit = git.find_commit(new_head).unwrap();
    assert_eq!(
        commit.parent_id(0).unwrap(),
        main,
        "one commit on top of the new main"
    );
    assert_eq!(
        file_on(&stand_in, "shop", "opsmith/devops", "Dockerfile").unwrap(),
        own_dockerfile.to_vec(),
        "the repository's own Dockerfile is kept, not replaced"
    );

    // A read-only user → a polite refusal, and the pull request is left alone.
    let calls_to_pulls = stand_in
        .world()
        .calls("PATCH", "/repos/acme/shop/pulls")
        .len();
    let refused = comment(
        &stand_in,
        "shop",
        ISSUE + 1,
        5002,
        "bob",
        "/opsmith generate --cloud gcp",
    );
    assert_eq!(app.deliver("issue_comment", "delivery-3", &refused), 202);
    wait_until(
        "the refusal is posted",
        Duration::from_secs(60),
        &app,
        || {
            bot_comments(&stand_in, "shop", ISSUE + 1)
                .iter()
                .any(|c| c.contains("Not run"))
        },
    );
    assert_eq!(
        stand_in.git.branch_head(OWNER, "shop", "opsmith/devops"),
        Some(new_head)
    );
    assert_eq!(
        stand_in
            .world()
            .calls("PATCH", "/repos/acme/shop/pulls")
            .len(),
        calls_to_pulls
    );
    assert_eq!(stand_in.world().pulls.len(), 1);

    stand_in.assert_no_violations();
    assert!(
        stand_in.world().unserved.is_empty(),
        "{:?}",
        stand_in.world().unserved
    );
}

/// `count` comment deliveries spread over `repos`, each with its own comment and delivery id.
fn command_deliveries(
    stand_in: &StandIn,
    repos: &[&str],
    count: usize,
    tag: &str,
) -> Vec<(String, Value)> {
    (0..count)
        .map(|n| {
            let repo = repos[n % repos.len()];
            let id = 20_000 + n as u64;
            let payload = comment(stand_in, repo, ISSUE, id, "alice", "/opsmith generate");
            (format!("{tag}-{n}"), payload)
        })
        .collect()
}

/// The jobs of every delivery, from the App's own database.
async fn jobs(store: &Store, deliveries: &[(String, Value)]) -> Vec<opsmith::queue::Job> {
    let mut all = Vec::new();
    for (id, _) in deliveries {
        all.extend(store.jobs_of_delivery(id).await.unwrap());
    }
    all
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Waits until every delivery's job has ended (succeeded or failed) and returns them, read from
/// the App's own database.
fn ended_jobs(
    rt: &tokio::runtime::Runtime,
    url: &str,
    deliveries: &[(String, Value)],
    app: &App,
) -> Vec<opsmith::queue::Job> {
    let store = rt
        .block_on(Store::connect_with(url, StoreSettings::default()))
        .unwrap();
    wait_until("every job has ended", Duration::from_secs(400), app, || {
        let all = rt.block_on(jobs(&store, deliveries));
        all.len() == deliveries.len()
            && all
                .iter()
                .all(|j| matches!(j.status, JobStatus::Succeeded | JobStatus::Failed))
    });
    let all = rt.block_on(jobs(&store, deliveries));
    rt.block_on(store.close());
    all
}

fn assert_one_pull_per_repository(stand_in: &StandIn, repos: &[&str]) {
    let world = stand_in.world();
    for repo in repos {
        let full = format!("{OWNER}/{repo}");
        let pulls = world.pulls.iter().filter(|p| p.repo == full).count();
        assert_eq!(pulls, 1, "{full}: {pulls} pull requests");
    }
}

#[test]
fn killed_mid_run_and_restarted_every_job_completes_once() {
    let repos = ["alpha", "beta", "gamma", "delta", "epsilon"];
    let stand_in = stand_in_with(&repos);
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(dir.path());
    let deliveries = command_deliveries(&stand_in, &repos, 200, "crash");

    let mut first = App::start(&stand_in, &url, dir.path(), "first");
    for (id, payload) in &deliveries {
        assert_eq!(first.deliver("issue_comment", id, payload), 202);
    }
    // Kill it while a job is running: the database must show one still running afterwards (a job
    // can end between the look and the kill; then start again and retry).
    let rt = runtime();
    let store = rt
        .block_on(Store::connect_with(&url, StoreSettings::default()))
        .unwrap();
    let mut interrupted = false;
    for round in 0..10 {
        wait_until("a job is running", Duration::from_secs(120), &first, || {
            rt.block_on(store.queue_depth())
                .is_ok_and(|depth| depth.running > 0)
        });
        first.kill();
        let jobs_now = rt.block_on(jobs(&store, &deliveries));
        if jobs_now.iter().any(|j| j.status == JobStatus::Running) {
            interrupted = true;
            break;
        }
        first = App::start(&stand_in, &url, dir.path(), &format!("again-{round}"));
    }
    rt.block_on(store.close());
    assert!(interrupted, "no kill landed while a job was running");

    let second = App::start(&stand_in, &url, dir.path(), "second");
    let all = ended_jobs(&rt, &url, &deliveries, &second);
    let failed: Vec<_> = all
        .iter()
        .filter(|j| j.status != JobStatus::Succeeded)
        .collect();
    assert!(failed.is_empty(), "jobs that did not succeed: {failed:#?}");
    assert!(
        all.iter().any(|j| j.attempts > 1),
        "the interrupted job was taken again after its lease expired"
    );
    assert_one_pull_per_repository(&stand_in, &repos);
    stand_in.assert_no_violations();
}

#[test]
fn with_a_fifth_of_api_calls_failing_every_job_ends_and_no_pull_request_is_doubled() {
    let repos = ["one", "two", "three", "four"];
    let stand_in = stand_in_with(&repos);
    {
        let mut world = stand_in.world();
        world.faults.fraction = 0.2;
        world.faults.kinds = vec![
            Fault::Status(502),
            Fault::RetryAfter {
                status: 429,
                seconds: 1,
            },
            Fault::Status(500),
            Fault::RetryAfter {
                status: 403,
                seconds: 1,
            },
            Fault::RateLimitExhausted { reset_in: 1 },
            Fault::Status(503),
        ];
    }
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(dir.path());
    let deliveries = command_deliveries(&stand_in, &repos, 20, "faults");
    let app = App::start(&stand_in, &url, dir.path(), "app");
    for (id, payload) in &deliveries {
        assert_eq!(app.deliver("issue_comment", id, payload), 202);
    }
    let rt = runtime();
    let all = ended_jobs(&rt, &url, &deliveries, &app);
    let injected = stand_in.world().faults.injected;
    assert!(injected >= 20, "only {injected} faults were injected");
    assert_one_pull_per_repository(&stand_in, &repos);
    let succeeded = all
        .iter()
        .filter(|j| j.status == JobStatus::Succeeded)
        .count();
    assert_eq!(succeeded, 20, "retries absorb the faults: {all:#?}");
    stand_in.assert_no_violations();
}

#[test]
fn two_processes_on_one_postgresql_database_run_each_job_once() {
    let base = std::env::var("OPSMITH_TEST_POSTGRES_URL").expect(
        "OPSMITH_TEST_POSTGRES_URL is not set: run the tests through scripts/test, which starts PostgreSQL",
    );
    let rt = runtime();
    let schema = format!("app_test_{}", std::process::id());
    let admin = |statement: String| {
        rt.block_on(async {
            use sqlx::Connection;
            let mut connection = sqlx::PgConnection::connect(&base).await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(statement))
                .execute(&mut connection)
                .await
                .unwrap();
        })
    };
    admin(format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
    admin(format!("CREATE SCHEMA {schema}"));
    let separator = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{separator}options[search_path]={schema}");

    let repos = ["north", "south", "east", "west"];
    let stand_in = stand_in_with(&repos);
    let dir = tempfile::tempdir().unwrap();
    let deliveries = command_deliveries(&stand_in, &repos, 200, "shared");
    let one = App::start(&stand_in, &url, dir.path(), "one");
    let two = App::start(&stand_in, &url, dir.path(), "two");
    for (n, (id, payload)) in deliveries.iter().enumerate() {
        let app = if n % 2 == 0 { &one } else { &two };
        assert_eq!(app.deliver("issue_comment", id, payload), 202);
    }
    let all = ended_jobs(&rt, &url, &deliveries, &one);
    assert!(
        all.iter().all(|j| j.status == JobStatus::Succeeded),
        "{all:#?}"
    );
    let twice: Vec<_> = all.iter().filter(|j| j.attempts != 1).collect();
    assert!(twice.is_empty(), "jobs claimed more than once: {twice:#?}");
    let processes: std::collections::BTreeSet<String> = all
        .iter()
        .filter_map(|j| j.lease_owner.as_deref())
        .map(|owner| owner.rsplitn(3, '-').nth(2).unwrap_or(owner).to_string())
        .collect();
    assert_eq!(processes.len(), 2, "both processes ran jobs: {processes:?}");
    assert_one_pull_per_repository(&stand_in, &repos);
    stand_in.assert_no_violations();
    drop((one, two));
    admin(format!("DROP SCHEMA {schema} CASCADE"));
}

#[test]
fn installing_the_app_onboards_every_repository_it_was_given() {
    let repos = ["first", "second"];
    let stand_in = stand_in_with(&repos);
    // Tokens live four seconds here: runs must mint fresh ones instead of using stale ones.
    stand_in.world().token_ttl = Duration::from_secs(4);
    let dir = tempfile::tempdir().unwrap();
    let app = App::start(&stand_in, &sqlite_url(dir.path()), dir.path(), "app");
    let installed = json!({
        "action": "created",
        "installation": { "id": INSTALLATION, "account": { "login": OWNER } },
        "repositories": repos.iter().map(|r| json!({
            "id": 1, "name": r, "full_name": format!("{OWNER}/{r}"), "private": true,
        })).collect::<Vec<_>>(),
        "sender": { "login": "alice", "type": "User" },
    });
    assert_eq!(app.deliver("installation", "install-1", &installed), 202);
    wait_until(
        "both repositories have a pull request",
        Duration::from_secs(90),
        &app,
        || {
            repos
                .iter()
                .all(|r| stand_in.world().open_pulls(&format!("{OWNER}/{r}")).len() == 1)
        },
    );
    assert_one_pull_per_repository(&stand_in, &repos);

    // The work shows in the metrics.
    let (status, metrics) = http(app.addr, "GET", "/metrics", &[], b"").unwrap();
    assert_eq!(status, 200);
    for series in [
        "opsmith_github_api_calls_total{operation=\"pulls.create\",status=\"201\"}",
        "opsmith_jobs_total{kind=\"onboard\",outcome=\"succeeded\"}",
        "opsmith_job_stage_seconds_count{stage=\"prepare\"}",
        "opsmith_queue_depth{state=\"queued\"}",
        "opsmith_webhook_deliveries_total",
    ] {
        assert!(
            metrics.contains(series),
            "{series} missing from /metrics:\n{metrics}"
        );
    }
    stand_in.assert_no_violations();
}

#[test]
fn commits_pushed_by_someone_else_to_the_branch_are_never_overwritten() {
    let stand_in = stand_in_with(&["shop"]);
    let dir = tempfile::tempdir().unwrap();
    let app = App::start(&stand_in, &sqlite_url(dir.path()), dir.path(), "app");
    let payload = comment(&stand_in, "shop", ISSUE, 7001, "alice", "/opsmith generate");
    assert_eq!(app.deliver("issue_comment", "first", &payload), 202);
    wait_until(
        "the pull request is open",
        Duration::from_secs(90),
        &app,
        || stand_in.world().open_pulls("acme/shop").len() == 1,
    );
    let number = stand_in.world().open_pulls("acme/shop")[0].number;

    // Someone fixes something on opsmith's branch, then asks for a new generation.
    let theirs = stand_in.git.commit_on(
        OWNER,
        "shop",
        "opsmith/devops",
        "NOTES.md",
        b"hand-written\n",
    );
    let synchronize = json!({
        "action": "synchronize",
        "number": number,
        "pull_request": {
            "number": number,
            "head": { "ref": "opsmith/devops", "sha": theirs.to_string(), "repo": repository("shop") },
        },
        "installation": { "id": INSTALLATION },
        "repository": repository("shop"),
        "sender": { "login": "alice", "type": "User" },
    });
    assert_eq!(app.deliver("pull_request", "sync", &synchronize), 202);
    let again = comment(
        &stand_in,
        "shop",
        ISSUE,
        7002,
        "alice",
        "/opsmith generate --cloud gcp",
    );
    assert_eq!(app.deliver("issue_comment", "second", &again), 202);
    wait_until(
        "the command says why nothing was pushed",
        Duration::from_secs(60),
        &app,
        || {
            bot_comments(&stand_in, "shop", ISSUE)
                .iter()
                .any(|c| c.contains("did not overwrite"))
        },
    );
    wait_until(
        "the pull request says it too",
        Duration::from_secs(60),
        &app,
        || {
            bot_comments(&stand_in, "shop", number)
                .iter()
                .any(|c| c.contains("did not overwrite"))
        },
    );
    assert_eq!(
        stand_in.git.branch_head(OWNER, "shop", "opsmith/devops"),
        Some(theirs),
        "their commit is still the branch head"
    );
    assert_eq!(stand_in.world().pulls.len(), 1);
    stand_in.assert_no_violations();
}

#[test]
fn help_unknown_commands_and_an_invalid_settings_file_get_clear_answers() {
    let stand_in = stand_in_with(&["shop"]);
    let dir = tempfile::tempdir().unwrap();
    let app = App::start(&stand_in, &sqlite_url(dir.path()), dir.path(), "app");

    let help = comment(&stand_in, "shop", 1, 8001, "alice", "/opsmith help");
    assert_eq!(app.deliver("issue_comment", "help", &help), 202);
    let typo = comment(&stand_in, "shop", 2, 8002, "alice", "@opsmith-test genrate");
    assert_eq!(app.deliver("issue_comment", "typo", &typo), 202);
    wait_until("both are answered", Duration::from_secs(60), &app, || {
        !bot_comments(&stand_in, "shop", 1).is_empty()
            && !bot_comments(&stand_in, "shop", 2).is_empty()
    });
    assert!(bot_comments(&stand_in, "shop", 1)[0].contains("/opsmith generate"));
    let reply = &bot_comments(&stand_in, "shop", 2)[0];
    assert!(reply.contains("generate"), "did you mean: {reply}");

    stand_in.git.commit_on(
        OWNER,
        "shop",
        "main",
        ".github/opsmith.yml",
        b"cloud: mars\n",
    );
    let generate = comment(&stand_in, "shop", 3, 8003, "alice", "/opsmith generate");
    assert_eq!(app.deliver("issue_comment", "invalid", &generate), 202);
    wait_until(
        "the invalid file is named",
        Duration::from_secs(60),
        &app,
        || {
            bot_comments(&stand_in, "shop", 3)
                .iter()
                .any(|c| c.contains("Failed"))
        },
    );
    let reply = &bot_comments(&stand_in, "shop", 3)[0];
    assert!(
        reply.contains("opsmith.yml") && reply.contains("cloud"),
        "{reply}"
    );
    assert!(
        stand_in.world().pulls.is_empty(),
        "nothing is proposed from an invalid file"
    );
    // No comment by a bot is a command: opsmith's own replies start nothing.
    let own = comment(
        &stand_in,
        "shop",
        4,
        8004,
        "opsmith-test[bot]",
        "/opsmith generate",
    );
    let mut own = own;
    own["comment"]["user"]["type"] = json!("Bot");
    let calls = stand_in.world().requests.len();
    assert_eq!(app.deliver("issue_comment", "own", &own), 202);
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(stand_in.world().requests.len(), calls);
    stand_in.assert_no_violations();
}

#[test]
fn command_users_come_from_the_default_branch_and_a_pull_request_previews_its_own_settings() {
    let stand_in = stand_in_with(&["shop"]);
    stand_in
        .world()
        .user_permissions
        .insert("carol".into(), "maintain".into());
    stand_in.git.commit_on(
        OWNER,
        "shop",
        "main",
        ".github/opsmith.yml",
        b"command_users: [carol]\n",
    );
    // A pull request from a branch of the repository that moves the deployment to GCP.
    let git = git2::Repository::open_bare(stand_in.git.git_dir(OWNER, "shop")).unwrap();
    let main = stand_in.git.branch_head(OWNER, "shop", "main").unwrap();
    git.reference("refs/heads/move-to-gcp", main, false, "branch")
        .unwrap();
    let head = stand_in.git.commit_on(
        OWNER,
        "shop",
        "move-to-gcp",
        ".github/opsmith.yml",
        b"cloud: gcp\ncommand_users: [carol]\n",
    );
    let number = {
        let mut world = stand_in.world();
        world.pulls.push(github::Pull {
            id: 9_000,
            number: 42,
            repo: "acme/shop".into(),
            title: "Move to GCP".into(),
            body: None,
            head: "move-to-gcp".into(),
            base: "main".into(),
            state: "open".into(),
            head_sha: head.to_string(),
        });
        42
    };
    let dir = tempfile::tempdir().unwrap();
    let app = App::start(&stand_in, &sqlite_url(dir.path()), dir.path(), "app");

    // alice may write to the repository, but the settings limit commands to carol.
    let alice = comment(
        &stand_in,
        "shop",
        number,
        9001,
        "alice",
        "/opsmith generate",
    );
    assert_eq!(app.deliver("issue_comment", "alice", &alice), 202);
    wait_until("alice is refused", Duration::from_secs(60), &app, || {
        bot_comments(&stand_in, "shop", number)
            .iter()
            .any(|c| c.contains("limited to the people listed"))
    });
    assert!(
        stand_in.world().open_pulls("acme/shop").len() == 1,
        "only the GCP pull request"
    );

    let mut carol = comment(
        &stand_in,
        "shop",
        number,
        9002,
        "carol",
        "/opsmith generate",
    );
    carol["issue"]["pull_request"] = json!({ "url": "https://example.invalid/pulls/42" });
    assert_eq!(app.deliver("issue_comment", "carol", &carol), 202);
    wait_until(
        "opsmith's pull request is open",
        Duration::from_secs(90),
        &app,
        || stand_in.world().open_pulls("acme/shop").len() == 2,
    );
    assert!(
        file_on(
            &stand_in,
            "shop",
            "opsmith/devops",
            "deploy/terraform/main.tf"
        )
        .is_some(),
        "the pull request's settings (cloud: gcp) were previewed"
    );
    assert!(
        file_on(
            &stand_in,
            "shop",
            "opsmith/devops",
            "deploy/terraform/ecs.tf"
        )
        .is_none()
    );
    stand_in.assert_no_violations();
}

/// What lets the App build and scan: the tests' Docker engine (`scripts/test` starts one and sets
/// `DOCKER_HOST`) and Trivy with the small offline database in `cache`. None, said loudly, when no
/// engine is set outside CI; under CI a missing engine fails the test.
fn scanning_env(cache: &Path) -> Option<Vec<(&'static str, String)>> {
    let Some(host) = std::env::var("DOCKER_HOST")
        .ok()
        .filter(|h| !h.trim().is_empty())
    else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but DOCKER_HOST is not: scripts/test starts the engine these tests need"
        );
        eprintln!("SKIPPED: DOCKER_HOST is not set (scripts/test starts a Docker engine)");
        return None;
    };
    let db = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/trivy-db/db");
    std::fs::create_dir_all(cache.join("db")).unwrap();
    for file in ["trivy.db", "metadata.json"] {
        std::fs::copy(db.join(file), cache.join("db").join(file)).unwrap();
    }
    Some(vec![
        ("DOCKER_HOST", host),
        ("TRIVY_CACHE_DIR", cache.display().to_string()),
        ("TRIVY_SKIP_DB_UPDATE", "true".into()),
        ("TRIVY_OFFLINE_SCAN", "true".into()),
    ])
}

/// A fake AWS key pair, assembled so that this file holds no key-shaped text.
fn fake_keys() -> (String, String) {
    (
        ["AKIA", "OPSMITHAPPTEST00"].concat(),
        ["opsmithFake", "AppSecretAccessKey00000000x"].concat(),
    )
}

fn open_pull_body(stand_in: &StandIn, repo: &str) -> Option<String> {
    let world = stand_in.world();
    let open = world.open_pulls(&format!("{OWNER}/{repo}"));
    open.first().map(|p| p.body.clone().unwrap_or_default())
}

#[test]
fn the_pull_request_carries_the_image_scan_its_check_run_and_the_sarif_upload() {
    let cache = tempfile::tempdir().unwrap();
    let Some(env) = scanning_env(cache.path()) else {
        return;
    };
    let (key_id, secret_key) = fake_keys();
    let mut files = fixture_files("python-pip-flask");
    files.push((
        "config/aws.ini".into(),
        format!("[default]\naws_access_key_id = {key_id}\naws_secret_access_key = {secret_key}\n")
            .into_bytes(),
    ));
    let stand_in = stand_in_holding(&files, &["shop"]);
    let dir = tempfile::tempdir().unwrap();
    let app = App::start_with(&stand_in, &sqlite_url(dir.path()), dir.path(), "app", &env);
    let payload = comment(&stand_in, "shop", ISSUE, 6001, "alice", "/opsmith generate");
    assert_eq!(app.deliver("issue_comment", "scan-1", &payload), 202);
    wait_until(
        "the command is done",
        Duration::from_secs(600),
        &app,
        || {
            bot_comments(&stand_in, "shop", ISSUE)
                .iter()
                .any(|c| c.contains("Done") || c.contains("Failed"))
        },
    );
    let body = open_pull_body(&stand_in, "shop").expect("a pull request");
    assert!(
        bot_comments(&stand_in, "shop", ISSUE)[0].contains("Done"),
        "{:?}\n{}",
        bot_comments(&stand_in, "shop", ISSUE),
        app.log_text()
    );
    let section = &body[body.find(opsmith::report::SCAN_START).unwrap()..];
    assert!(
        section.contains("CVE-2005-2541"),
        "tar's advisory is listed:\n{section}"
    );
    assert!(
        !section.contains("CVE-2023-38545"),
        "curl is not installed:\n{section}"
    );
    assert!(
        section.contains("aws.ini"),
        "the planted key is a secret finding:\n{section}"
    );
    assert!(
        !body.contains(&key_id) && !body.contains(&secret_key),
        "the secret itself never shows"
    );

    let head = stand_in
        .git
        .branch_head(OWNER, "shop", "opsmith/devops")
        .unwrap()
        .to_string();
    let world = stand_in.world();
    let scan_check = world
        .check_runs
        .iter()
        .find(|c| c.fields["name"] == "opsmith scan")
        .expect("a scan check run");
    assert_eq!(scan_check.fields["head_sha"], json!(head));
    // The planted key is a critical finding: at the default threshold (critical) the check fails.
    assert_eq!(
        scan_check.fields["conclusion"], "failure",
        "{:?}",
        scan_check.fields
    );
    let summary = scan_check.fields["output"]["summary"]
        .as_str()
        .unwrap_or_default();
    assert!(!summary.contains(&key_id) && !summary.contains(&secret_key));
    assert_eq!(world.sarifs.len(), 1, "one SARIF upload");
    assert_eq!(world.sarifs[0].commit_sha, head);
    assert_eq!(world.sarifs[0].reference, "refs/heads/opsmith/devops");
    drop(world);
    stand_in.assert_no_violations();
}

#[test]
fn a_build_that_fails_is_named_in_the_pull_request_and_the_job_fails_with_its_reason() {
    let cache = tempfile::tempdir().unwrap();
    let Some(env) = scanning_env(cache.path()) else {
        return;
    };
    let stand_in = stand_in_holding(&fixture_files("python-build-fails"), &["shop"]);
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(dir.path());
    let app = App::start_with(&stand_in, &url, dir.path(), "app", &env);
    let payload = comment(&stand_in, "shop", ISSUE, 6101, "alice", "/opsmith generate");
    let deliveries = vec![("fails-1".to_string(), payload)];
    assert_eq!(
        app.deliver("issue_comment", "fails-1", &deliveries[0].1),
        202
    );
    let rt = runtime();
    let jobs = ended_jobs(&rt, &url, &deliveries, &app);
    assert_eq!(jobs[0].status, JobStatus::Failed);
    let reason = jobs[0].last_error.clone().unwrap_or_default();
    assert!(reason.contains("failed to build at step"), "{reason}");
    assert!(
        reason.contains("check_settings.py"),
        "the step is named: {reason}"
    );

    let body = open_pull_body(&stand_in, "shop").expect("the pull request still opens");
    let section = &body[body.find(opsmith::report::SCAN_START).unwrap()..];
    assert!(
        section.contains("check_settings.py"),
        "the failing step:\n{section}"
    );
    assert!(
        bot_comments(&stand_in, "shop", ISSUE)[0].contains("Failed"),
        "the command says it failed"
    );

    // The worker goes on serving.
    let help = comment(&stand_in, "shop", ISSUE + 1, 6102, "alice", "/opsmith help");
    assert_eq!(app.deliver("issue_comment", "fails-2", &help), 202);
    wait_until(
        "the next command is answered",
        Duration::from_secs(60),
        &app,
        || !bot_comments(&stand_in, "shop", ISSUE + 1).is_empty(),
    );
    stand_in.assert_no_violations();
}

/// A fixture's files under `prefix/`.
fn fixture_files_in(name: &str, prefix: &str) -> Vec<(String, Vec<u8>)> {
    fixture_files(name)
        .into_iter()
        .map(|(path, contents)| (format!("{prefix}/{path}"), contents))
        .collect()
}

#[test]
fn python_node_go_and_static_apps_are_built_run_scanned_and_reported() {
    let cache = tempfile::tempdir().unwrap();
    let Some(env) = scanning_env(cache.path()) else {
        return;
    };
    // A monorepo with a Python, a Go and a Node service, and a static site in a repository of its own.
    let mut monorepo = fixture_files_in("python-pip-flask", "api");
    monorepo.extend(fixture_files_in("go-nethttp", "clock"));
    monorepo.extend(fixture_files_in("node-npm-express", "web"));
    let stand_in = stand_in_holding(&monorepo, &["shop"]);
    let site = fixture_files("static-plain");
    let site: Vec<(&str, &[u8])> = site
        .iter()
        .map(|(p, c)| (p.as_str(), c.as_slice()))
        .collect();
    stand_in.add_repo(INSTALLATION, OWNER, "site", &site);
    let dir = tempfile::tempdir().unwrap();
    let app = App::start_with(&stand_in, &sqlite_url(dir.path()), dir.path(), "app", &env);
    for (n, repo) in ["shop", "site"].iter().enumerate() {
        let id = 6_200 + n as u64;
        let payload = comment(&stand_in, repo, ISSUE, id, "alice", "/opsmith generate");
        assert_eq!(
            app.deliver("issue_comment", &format!("four-{repo}"), &payload),
            202
        );
    }
    for repo in ["shop", "site"] {
        wait_until(
            &format!("{repo} is done"),
            Duration::from_secs(900),
            &app,
            || {
                bot_comments(&stand_in, repo, ISSUE)
                    .iter()
                    .any(|c| c.contains("Done") || c.contains("Failed"))
            },
        );
        assert!(
            bot_comments(&stand_in, repo, ISSUE)[0].contains("Done"),
            "{repo}: {:?}\n{}",
            bot_comments(&stand_in, repo, ISSUE),
            app.log_text()
        );
    }

    // Each image the App built runs and answers on the port the analysis found.
    let checkout = tempfile::tempdir().unwrap();
    for (repo, files) in [
        ("shop", monorepo.clone()),
        ("site", fixture_files("static-plain")),
    ] {
        let root = checkout.path().join(repo);
        for (path, contents) in &files {
            let path = root.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, contents).unwrap();
        }
        let profile =
            opsmith::analyze::analyze(&root, opsmith::analyze::AnalyzeOptions::default()).unwrap();
        let head = stand_in
            .git
            .branch_head(OWNER, repo, "opsmith/devops")
            .unwrap()
            .to_string();
        for service in &profile.services {
            let image = opsmith::build::image_tag(repo, &service.name, &head[..12]);
            let port = service.port.expect("a port");
            let running = containers::Container::run(&image, port);
            let path = service.health_path.as_deref().unwrap_or("/");
            let (status, body) = running.get(path);
            assert!(
                (200..300).contains(&status),
                "{image} GET {path}: {status} {body}"
            );
        }
        let body = open_pull_body(&stand_in, repo).unwrap();
        let section = &body[body.find(opsmith::report::SCAN_START).unwrap()..];
        assert!(
            section.contains("CVE-2005-2541"),
            "{repo}: tar's advisory:\n{section}"
        );
        assert!(
            !section.contains("CVE-2023-38545"),
            "{repo}: curl is not installed"
        );
        for service in &profile.services {
            assert!(
                section.contains(&service.name),
                "{repo}: {} is reported",
                service.name
            );
        }
    }
    let world = stand_in.world();
    for repo in ["shop", "site"] {
        let full = format!("{OWNER}/{repo}");
        assert!(
            world
                .check_runs
                .iter()
                .any(|c| c.repo == full && c.fields["name"] == "opsmith scan"),
            "{repo}: a scan check run"
        );
        assert_eq!(
            world.sarifs.iter().filter(|s| s.repo == full).count(),
            1,
            "{repo}: one SARIF upload"
        );
    }
    drop(world);
    stand_in.assert_no_violations();
}

#[test]
fn a_command_is_acknowledged_at_once_even_before_a_worker_takes_it() {
    let stand_in = stand_in_with(&["shop"]);
    let dir = tempfile::tempdir().unwrap();
    // A process that takes webhooks but runs no job.
    let app = App::start_with(
        &stand_in,
        &sqlite_url(dir.path()),
        dir.path(),
        "intake",
        &[("OPSMITH_WORKERS", "0".into())],
    );
    let payload = comment(&stand_in, "shop", ISSUE, 9501, "alice", "/opsmith generate");
    assert_eq!(app.deliver("issue_comment", "early", &payload), 202);
    wait_until("the 👀 reaction", Duration::from_secs(20), &app, || {
        stand_in
            .world()
            .reactions
            .iter()
            .any(|r| r.comment_id == 9501 && r.content == "eyes")
    });
    assert!(stand_in.world().pulls.is_empty(), "no job ran");
    // A comment that is not a command gets no reaction.
    let chat = comment(&stand_in, "shop", ISSUE, 9502, "alice", "looks good to me");
    assert_eq!(app.deliver("issue_comment", "chat", &chat), 202);
    std::thread::sleep(Duration::from_secs(1));
    assert!(
        !stand_in
            .world()
            .reactions
            .iter()
            .any(|r| r.comment_id == 9502)
    );
    stand_in.assert_no_violations();
}

#[test]
fn without_the_security_events_permission_the_sarif_upload_is_skipped_with_a_note() {
    let stand_in = stand_in_with(&["shop"]);
    stand_in
        .world()
        .installations
        .get_mut(&INSTALLATION)
        .unwrap()
        .permissions
        .remove("security_events");
    let dir = tempfile::tempdir().unwrap();
    // No engine: the images are not built, the generated files are still scanned.
    let app = App::start(&stand_in, &sqlite_url(dir.path()), dir.path(), "app");
    let payload = comment(&stand_in, "shop", ISSUE, 9601, "alice", "/opsmith generate");
    assert_eq!(app.deliver("issue_comment", "no-sarif", &payload), 202);
    wait_until("the command is done", Duration::from_secs(90), &app, || {
        bot_comments(&stand_in, "shop", ISSUE)
            .iter()
            .any(|c| c.contains("Done"))
    });
    let body = open_pull_body(&stand_in, "shop").unwrap();
    let section = &body[body.find(opsmith::report::SCAN_START).unwrap()..];
    assert!(
        section.contains("build skipped: no Docker engine"),
        "{section}"
    );
    assert!(section.contains("SARIF not uploaded"), "{section}");
    assert!(stand_in.world().sarifs.is_empty());
    stand_in.assert_no_violations();
}

#[test]
fn the_scan_command_scans_again_and_updates_the_report_in_place() {
    let stand_in = stand_in_with(&["shop"]);
    let dir = tempfile::tempdir().unwrap();
    let app = App::start(&stand_in, &sqlite_url(dir.path()), dir.path(), "app");
    let scans = || {
        stand_in
            .world()
            .check_runs
            .iter()
            .filter(|c| c.fields["name"] == "opsmith scan")
            .count()
    };
    let generate = comment(&stand_in, "shop", ISSUE, 9701, "alice", "/opsmith generate");
    assert_eq!(app.deliver("issue_comment", "generate", &generate), 202);
    wait_until("the first scan", Duration::from_secs(90), &app, || {
        scans() == 1
    });
    let head = stand_in.git.branch_head(OWNER, "shop", "opsmith/devops");

    let scan = comment(&stand_in, "shop", ISSUE, 9702, "alice", "/opsmith scan");
    assert_eq!(app.deliver("issue_comment", "scan", &scan), 202);
    wait_until("the second scan", Duration::from_secs(90), &app, || {
        scans() == 2
    });
    wait_until("the command is done", Duration::from_secs(30), &app, || {
        bot_comments(&stand_in, "shop", ISSUE)
            .iter()
            .any(|c| c.contains("Done"))
    });
    let body = open_pull_body(&stand_in, "shop").unwrap();
    assert_eq!(
        body.matches(opsmith::report::SCAN_START).count(),
        1,
        "one scan section, replaced in place"
    );
    assert!(!body.contains(opsmith::report::SCAN_PLACEHOLDER));
    assert_eq!(
        stand_in.git.branch_head(OWNER, "shop", "opsmith/devops"),
        head,
        "nothing new to push"
    );
    assert_eq!(stand_in.world().pulls.len(), 1);
    stand_in.assert_no_violations();
}
