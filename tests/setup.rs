//! `opsmith setup` end to end: the real binary serves the manifest page, takes GitHub's redirect, exchanges
//! the code with the GitHub stand-in and writes the env file; bad states, rejected codes and existing
//! files write nothing.

#[path = "support/git_server.rs"]
mod git_server;
#[path = "support/github.rs"]
mod github;
#[path = "support/openapi.rs"]
mod openapi;

use github::StandIn;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::Duration;

const STAND_IN_PEM: &str =
    "-----BEGIN RSA PRIVATE KEY-----\nstand-in\n-----END RSA PRIVATE KEY-----\n";
const STAND_IN_SECRET: &str = "stand-in-webhook-secret";

/// One `opsmith setup` process and the page address it printed.
struct SetupRun {
    child: Child,
    stdout: BufReader<ChildStdout>,
    /// `http://127.0.0.1:PORT`
    base: String,
}

fn setup_command(stand_in: &StandIn, env_file: &Path, extra: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_opsmith"));
    command
        .args([
            "setup",
            "--api-url",
            &stand_in.url,
            "--listen",
            "127.0.0.1:0",
            "--env-file",
        ])
        .arg(env_file)
        .args(extra)
        .env_remove("OPSMITH_GITHUB_API_URL")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

fn start(stand_in: &StandIn, env_file: &Path, extra: &[&str]) -> SetupRun {
    let mut child = setup_command(stand_in, env_file, extra).spawn().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let base = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| {
            let _ = child.kill();
            panic!("setup printed no page address: {line:?}")
        })
        .trim_end_matches('/')
        .to_owned();
    SetupRun {
        child,
        stdout,
        base,
    }
}

impl SetupRun {
    /// Waits for the process; returns (exit code, rest of stdout, stderr).
    fn finish(mut self) -> (Option<i32>, String, String) {
        let status = self.child.wait().unwrap();
        let mut out = String::new();
        self.stdout.read_to_string(&mut out).unwrap();
        let mut err = String::new();
        self.child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        (status.code(), out, err)
    }
}

struct Answer {
    status: u16,
    headers: HashMap<String, String>,
    body: String,
}

/// A plain HTTP/1.1 GET, as a browser sends it.
fn get(base: &str, path: &str, host: Option<&str>) -> Answer {
    let authority = base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(authority).unwrap();
    // A safety net against a hung server, not a timing assertion.
    stream
        .set_read_timeout(Some(Duration::from_secs(120)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        host.unwrap_or(authority)
    )
    .unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").expect("an HTTP answer");
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Answer {
        status,
        headers,
        body: body.to_owned(),
    }
}

fn html_unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

fn attribute<'a>(html: &'a str, after: &str, name: &str) -> &'a str {
    let start = html
        .find(after)
        .unwrap_or_else(|| panic!("{after} in {html}"));
    let rest = &html[start..];
    let marker = format!("{name}=\"");
    let from = rest.find(&marker).unwrap() + marker.len();
    let len = rest[from..].find('"').unwrap();
    &rest[from..from + len]
}

/// The form's target and the manifest it carries, read from the page as a browser would submit them.
fn form_of(page: &str) -> (String, Value) {
    let action = html_unescape(attribute(page, "<form", "action"));
    assert!(page.contains(r#"<form method="post""#), "{page}");
    assert!(page.contains(r#"name="manifest""#), "{page}");
    let manifest = html_unescape(attribute(page, r#"name="manifest""#, "value"));
    (action, serde_json::from_str(&manifest).unwrap())
}

fn state_of(action: &str) -> String {
    let state = action
        .split_once("?state=")
        .expect("state in the form's URL")
        .1;
    assert_eq!(state.len(), 64, "{state}");
    assert!(state.chars().all(|c| c.is_ascii_hexdigit()), "{state}");
    state.to_owned()
}

fn mode_of(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn stand_in() -> StandIn {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    StandIn::start()
}

#[test]
fn registers_the_app_and_writes_a_private_env_file() {
    let stand_in = stand_in();
    stand_in.world().manifest_codes.insert("c0de42".into());
    let dir = tempfile::tempdir().unwrap();
    let env_file = dir.path().join(".env");
    let run = start(&stand_in, &env_file, &[]);

    let page = get(&run.base, "/", None);
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.headers["content-type"].starts_with("text/html"));
    assert!(page.headers["content-security-policy"].contains("default-src 'none'"));
    let (action, manifest) = form_of(&page.body);
    let state = state_of(&action);
    assert_eq!(
        action,
        format!("https://github.com/settings/apps/new?state={state}")
    );
    assert_eq!(
        manifest["default_permissions"],
        json!({
            "contents": "write", "pull_requests": "write", "issues": "write",
            "checks": "write", "metadata": "read", "security_events": "write",
            "workflows": "write",
        })
    );
    assert_eq!(
        manifest["default_events"],
        json!(["push", "issue_comment", "pull_request", "check_run"])
    );
    assert_eq!(manifest["redirect_url"], format!("{}/callback", run.base));
    assert_eq!(manifest["public"], json!(false));
    // Without --webhook-url the hook is registered but sends nothing.
    assert_eq!(manifest["hook_attributes"]["active"], json!(false));
    // Everything else is app-manifest.yml, field for field.
    let mut file: Value =
        serde_saphyr::from_str(&std::fs::read_to_string("app-manifest.yml").unwrap()).unwrap();
    file["redirect_url"] = manifest["redirect_url"].clone();
    file["hook_attributes"]["active"] = json!(false);
    assert_eq!(manifest, file);

    // A page asked for under another name (DNS rebinding) is refused.
    let rebound = get(&run.base, "/", Some("evil.example:80"));
    assert_eq!(rebound.status, 400);
    assert!(!rebound.body.contains(&state));

    let done = get(
        &run.base,
        &format!("/callback?code=c0de42&state={state}"),
        None,
    );
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(
        done.body
            .contains("https://github.com/apps/opsmith-test/installations/new"),
        "{}",
        done.body
    );
    let (code, out, err) = run.finish();
    assert_eq!(code, Some(0), "stdout: {out}\nstderr: {err}");
    assert!(
        out.contains("https://github.com/apps/opsmith-test/installations/new"),
        "{out}"
    );
    for secret in ["stand-in\n", "BEGIN RSA", STAND_IN_SECRET] {
        assert!(!out.contains(secret) && !err.contains(secret), "{out}{err}");
        assert!(!done.body.contains(secret), "{}", done.body);
    }

    assert_eq!(mode_of(&env_file), 0o600);
    let values = opsmith::config::read_env_file(&env_file).unwrap();
    assert_eq!(values["OPSMITH_APP_ID"], stand_in.app_id.to_string());
    assert_eq!(values["OPSMITH_APP_SLUG"], "opsmith-test");
    assert_eq!(values["OPSMITH_PRIVATE_KEY"], STAND_IN_PEM);
    assert_eq!(values["OPSMITH_WEBHOOK_SECRET"], STAND_IN_SECRET);
    assert_eq!(values["OPSMITH_GITHUB_API_URL"], stand_in.url);

    let world = stand_in.world();
    assert_eq!(
        world
            .calls("POST", "/app-manifests/c0de42/conversions")
            .len(),
        1
    );
    assert!(world.manifest_codes.is_empty());
    drop(world);
    stand_in.assert_no_violations();
}

#[test]
fn organization_enterprise_host_webhook_and_name_reach_the_form_escaped() {
    let stand_in = stand_in();
    stand_in.world().manifest_codes.insert("c0de43".into());
    let dir = tempfile::tempdir().unwrap();
    let env_file = dir.path().join("opsmith.env");
    let run = start(
        &stand_in,
        &env_file,
        &[
            "--github-url",
            "https://ghe.example.com/",
            "--org",
            "acme",
            "--webhook-url",
            "https://opsmith.acme.dev/webhook",
            "--name",
            "opsmith <acme> \"ops\"",
        ],
    );
    let page = get(&run.base, "/", None);
    assert_eq!(page.status, 200);
    assert!(!page.body.contains("<acme>"), "{}", page.body);
    assert!(
        page.body.contains("opsmith &lt;acme&gt; &quot;ops&quot;"),
        "{}",
        page.body
    );
    let (action, manifest) = form_of(&page.body);
    let state = state_of(&action);
    assert_eq!(
        action,
        format!("https://ghe.example.com/organizations/acme/settings/apps/new?state={state}")
    );
    assert_eq!(manifest["name"], "opsmith <acme> \"ops\"");
    assert_eq!(
        manifest["hook_attributes"],
        json!({"url": "https://opsmith.acme.dev/webhook", "active": true})
    );

    let done = get(
        &run.base,
        &format!("/callback?code=c0de43&state={state}"),
        None,
    );
    assert_eq!(done.status, 200, "{}", done.body);
    let (code, out, err) = run.finish();
    assert_eq!(code, Some(0), "stdout: {out}\nstderr: {err}");
    assert!(
        out.contains("https://ghe.example.com/apps/opsmith-test/installations/new"),
        "{out}"
    );
    // The webhook URL was given: no step asks to set it.
    assert!(!out.contains("Set the webhook URL"), "{out}");
    assert_eq!(mode_of(&env_file), 0o600);
    stand_in.assert_no_violations();
}

#[test]
fn a_wrong_state_is_refused_and_writes_nothing() {
    let stand_in = stand_in();
    stand_in.world().manifest_codes.insert("c0de44".into());
    let dir = tempfile::tempdir().unwrap();
    let env_file = dir.path().join(".env");
    let run = start(&stand_in, &env_file, &[]);
    let page = get(&run.base, "/", None);
    let state = state_of(&form_of(&page.body).0);
    let forged = if state.starts_with('0') { "1" } else { "0" }.to_owned() + &state[1..];

    for query in [
        format!("code=c0de44&state={forged}"),
        "code=c0de44".to_owned(),
        format!("code=c0de44&state={}", &state[..63]),
    ] {
        let refused = get(&run.base, &format!("/callback?{query}"), None);
        assert_eq!(refused.status, 400, "{query}: {}", refused.body);
        assert!(!env_file.exists(), "{query}");
    }
    // The code was never sent to GitHub.
    assert!(stand_in.world().calls("POST", "/app-manifests/").is_empty());
    assert!(stand_in.world().manifest_codes.contains("c0de44"));

    // The setup keeps waiting for GitHub's real redirect.
    let done = get(
        &run.base,
        &format!("/callback?code=c0de44&state={state}"),
        None,
    );
    assert_eq!(done.status, 200, "{}", done.body);
    let (code, out, err) = run.finish();
    assert_eq!(code, Some(0), "stdout: {out}\nstderr: {err}");
    assert_eq!(mode_of(&env_file), 0o600);
    stand_in.assert_no_violations();
}

#[test]
fn a_code_github_rejects_is_a_clear_error_and_writes_nothing() {
    let stand_in = stand_in();
    let dir = tempfile::tempdir().unwrap();
    let env_file = dir.path().join(".env");
    let run = start(&stand_in, &env_file, &[]);
    let page = get(&run.base, "/", None);
    let state = state_of(&form_of(&page.body).0);

    let failed = get(
        &run.base,
        &format!("/callback?code=expired99&state={state}"),
        None,
    );
    assert_eq!(failed.status, 502, "{}", failed.body);
    assert!(failed.body.contains("did not convert"), "{}", failed.body);
    let (code, out, err) = run.finish();
    assert_eq!(code, Some(2), "stdout: {out}\nstderr: {err}");
    assert!(
        err.contains("GitHub did not convert the manifest code (HTTP 404"),
        "{err}"
    );
    assert!(err.contains("run opsmith setup again"), "{err}");
    assert!(
        !err.contains("expired99"),
        "the code stays out of messages: {err}"
    );
    assert!(!env_file.exists());
    assert_eq!(
        stand_in
            .world()
            .calls("POST", "/app-manifests/expired99/conversions")
            .len(),
        1
    );
    stand_in.assert_no_violations();
}

#[test]
fn an_existing_env_file_is_kept_without_force_and_replaced_private_with_it() {
    let stand_in = stand_in();
    let dir = tempfile::tempdir().unwrap();
    let env_file = dir.path().join(".env");
    std::fs::write(&env_file, "KEEP=1\n").unwrap();
    std::fs::set_permissions(&env_file, std::fs::Permissions::from_mode(0o644)).unwrap();

    let refused = setup_command(&stand_in, &env_file, &[]).output().unwrap();
    assert_eq!(refused.status.code(), Some(2));
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        err.contains("already exists: pass --force to replace it"),
        "{err}"
    );
    assert!(refused.stdout.is_empty(), "no page was served");
    assert_eq!(std::fs::read_to_string(&env_file).unwrap(), "KEEP=1\n");

    stand_in.world().manifest_codes.insert("c0de45".into());
    let run = start(&stand_in, &env_file, &["--force"]);
    let state = state_of(&form_of(&get(&run.base, "/", None).body).0);
    let done = get(
        &run.base,
        &format!("/callback?code=c0de45&state={state}"),
        None,
    );
    assert_eq!(done.status, 200, "{}", done.body);
    let (code, out, err) = run.finish();
    assert_eq!(code, Some(0), "stdout: {out}\nstderr: {err}");
    assert_eq!(mode_of(&env_file), 0o600);
    let values = opsmith::config::read_env_file(&env_file).unwrap();
    assert!(!values.contains_key("KEEP"));
    assert_eq!(values["OPSMITH_PRIVATE_KEY"], STAND_IN_PEM);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    stand_in.assert_no_violations();
}

#[test]
fn bad_flags_are_one_line_errors() {
    let stand_in = stand_in();
    let dir = tempfile::tempdir().unwrap();
    for (flags, expected) in [
        (vec!["--github-url", "github.com"], "--github-url must be"),
        (
            vec!["--webhook-url", "ftp://x/webhook"],
            "--webhook-url must be",
        ),
        (vec!["--org", "acme/../x"], "--org must be"),
    ] {
        let output = setup_command(&stand_in, &dir.path().join(".env"), &flags)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{flags:?}");
        let err = String::from_utf8_lossy(&output.stderr);
        assert!(
            err.contains(expected) && err.lines().count() == 1,
            "{flags:?}: {err}"
        );
    }
    let missing_dir = dir.path().join("no/such/dir/.env");
    let output = setup_command(&stand_in, &missing_dir, &[])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("is not a directory"));
}

#[test]
fn an_env_file_that_appears_meanwhile_is_kept_and_the_key_saved_beside_it() {
    let stand_in = stand_in();
    stand_in.world().manifest_codes.insert("c0de46".into());
    let dir = tempfile::tempdir().unwrap();
    let env_file = dir.path().join(".env");
    let run = start(&stand_in, &env_file, &[]);
    let state = state_of(&form_of(&get(&run.base, "/", None).body).0);
    std::fs::write(&env_file, "MINE=1\n").unwrap();

    let done = get(
        &run.base,
        &format!("/callback?code=c0de46&state={state}"),
        None,
    );
    assert_eq!(done.status, 200, "{}", done.body);
    let (code, out, err) = run.finish();
    assert_eq!(code, Some(0), "stdout: {out}\nstderr: {err}");
    assert_eq!(std::fs::read_to_string(&env_file).unwrap(), "MINE=1\n");
    let beside = dir.path().join(".env.opsmith-test");
    assert!(out.contains(&beside.display().to_string()), "{out}");
    assert_eq!(mode_of(&beside), 0o600);
    let values = opsmith::config::read_env_file(&beside).unwrap();
    assert_eq!(values["OPSMITH_PRIVATE_KEY"], STAND_IN_PEM);
    stand_in.assert_no_violations();
}
