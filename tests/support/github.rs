//! A GitHub stand-in for tests: the REST endpoints opsmith uses, with GitHub's authentication
//! rules (App JWT, installation tokens), every request checked against GitHub's OpenAPI contract,
//! fault injection, and a real git smart-HTTP server under `/git/{owner}/{repo}.git`.
//!
//! The git routes speak the smart-HTTP protocol, not REST, so they skip the contract check.
//!
//! Test files include it with `#[path]` next to `openapi.rs` and `git_server.rs`:
//! `#[path = "support/openapi.rs"] mod openapi;` and so on, all three at the crate root.

#![allow(dead_code)]

use crate::git_server::{self, GitRepos};
use crate::openapi;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, Response, StatusCode};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// An RSA key pair for a test App, made with `openssl` at test time (never a real key).
#[derive(Clone)]
pub struct AppKey {
    pub private_pem: String,
    pub public_pem: String,
}

impl AppKey {
    pub fn generate() -> AppKey {
        let dir = tempfile::tempdir().unwrap();
        let private = dir.path().join("app.pem");
        let run = |args: &[&str]| {
            let out = std::process::Command::new("openssl")
                .args(args)
                .output()
                .expect("openssl is installed");
            assert!(
                out.status.success(),
                "openssl {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            out.stdout
        };
        run(&[
            "genrsa",
            "-traditional",
            "-out",
            private.to_str().unwrap(),
            "2048",
        ]);
        let public = run(&["rsa", "-in", private.to_str().unwrap(), "-pubout"]);
        AppKey {
            private_pem: std::fs::read_to_string(&private).unwrap(),
            public_pem: String::from_utf8(public).unwrap(),
        }
    }

    /// One key per test process: generating RSA keys is slow.
    pub fn shared() -> AppKey {
        static KEY: OnceLock<AppKey> = OnceLock::new();
        KEY.get_or_init(AppKey::generate).clone()
    }
}

/// One recorded request.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub status: u16,
}

#[derive(Debug, Clone)]
pub struct Installation {
    pub id: u64,
    pub account: String,
    /// What the App was granted, e.g. `contents: write`.
    pub permissions: BTreeMap<String, String>,
    /// `owner/name` of the repositories the installation covers.
    pub repos: BTreeSet<String>,
}

#[derive(Debug, Clone)]
pub struct Repo {
    pub id: u64,
    pub owner: String,
    pub name: String,
    pub default_branch: String,
    pub installation_id: u64,
}

#[derive(Debug, Clone)]
pub struct Token {
    pub installation_id: u64,
    pub repos: BTreeSet<String>,
    pub permissions: BTreeMap<String, String>,
    pub expires_at: SystemTime,
}

#[derive(Debug, Clone)]
pub struct Pull {
    pub id: u64,
    pub number: u64,
    pub repo: String,
    pub title: String,
    pub body: Option<String>,
    pub head: String,
    pub base: String,
    pub state: String,
    pub head_sha: String,
}

#[derive(Debug, Clone)]
pub struct Comment {
    pub id: u64,
    pub repo: String,
    pub issue_number: u64,
    pub body: String,
    pub user: String,
    pub edits: u32,
}

#[derive(Debug, Clone)]
pub struct Reaction {
    pub comment_id: u64,
    pub content: String,
}

#[derive(Debug, Clone)]
pub struct CheckRun {
    pub id: u64,
    pub repo: String,
    /// Everything sent so far, later updates merged over earlier ones.
    pub fields: Map<String, Value>,
}

#[derive(Debug, Clone)]
pub struct SarifUpload {
    pub id: String,
    pub repo: String,
    pub commit_sha: String,
    pub reference: String,
    pub gzipped_bytes: usize,
}

/// An answer injected instead of the real one.
#[derive(Debug, Clone)]
pub enum Fault {
    /// 500, 502, 503…
    Status(u16),
    /// 429 or 403 with `retry-after` seconds (secondary rate limit).
    RetryAfter { status: u16, seconds: u64 },
    /// 403 with `x-ratelimit-remaining: 0` and `x-ratelimit-reset` this many seconds ahead.
    RateLimitExhausted { reset_in: u64 },
    /// Answer normally, but only after this long (for client timeouts).
    Delay(Duration),
}

/// Which API calls fail: a fraction of them (spread evenly, deterministic), cycling through `kinds`.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    pub fraction: f64,
    pub kinds: Vec<Fault>,
    seen: u64,
    pub injected: u64,
}

impl Faults {
    fn next(&mut self) -> Option<Fault> {
        if self.kinds.is_empty() || self.fraction <= 0.0 {
            return None;
        }
        let n = self.seen as f64;
        self.seen += 1;
        if ((n + 1.0) * self.fraction).floor() > (n * self.fraction).floor() {
            let fault = self.kinds[(self.injected as usize) % self.kinds.len()].clone();
            self.injected += 1;
            Some(fault)
        } else {
            None
        }
    }
}

/// Everything the stand-in knows; tests read and change it through `StandIn::world()`.
pub struct World {
    pub git: Arc<GitRepos>,
    pub app_id: u64,
    pub app_slug: String,
    pub app_public_pem: String,
    pub requests: Vec<Recorded>,
    /// Requests GitHub would not understand (contract failures); tests assert this stays empty.
    pub violations: Vec<String>,
    /// Requests GitHub understands but the stand-in does not serve.
    pub unserved: Vec<String>,
    pub installations: BTreeMap<u64, Installation>,
    pub repos: BTreeMap<String, Repo>,
    pub tokens: HashMap<String, Token>,
    /// How long minted installation tokens live (GitHub: one hour).
    pub token_ttl: Duration,
    /// Repository permission per user login (`admin`, `maintain`, `write`, `triage`, `read`, `none`).
    pub user_permissions: HashMap<String, String>,
    pub pulls: Vec<Pull>,
    pub comments: Vec<Comment>,
    pub reactions: Vec<Reaction>,
    pub check_runs: Vec<CheckRun>,
    pub sarifs: Vec<SarifUpload>,
    /// Codes `POST /app-manifests/{code}/conversions` accepts (each once).
    pub manifest_codes: BTreeSet<String>,
    pub faults: Faults,
    next_id: u64,
    next_number: HashMap<String, u64>,
}

impl World {
    fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// Recorded requests matching `method` and a path prefix.
    pub fn calls(&self, method: &str, path_prefix: &str) -> Vec<&Recorded> {
        self.requests
            .iter()
            .filter(|r| r.method == method && r.path.starts_with(path_prefix))
            .collect()
    }

    pub fn open_pulls(&self, repo: &str) -> Vec<&Pull> {
        self.pulls
            .iter()
            .filter(|p| p.repo == repo && p.state == "open")
            .collect()
    }
}

/// The running stand-in. Dropping it stops the server.
pub struct StandIn {
    /// `http://127.0.0.1:PORT`, the API base URL (no trailing slash).
    pub url: String,
    pub app_id: u64,
    pub app_key: AppKey,
    pub git: Arc<GitRepos>,
    world: Arc<Mutex<World>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for StandIn {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[derive(Clone)]
struct Shared {
    world: Arc<Mutex<World>>,
    git: Arc<GitRepos>,
    base_url: String,
}

impl StandIn {
    /// Starts on 127.0.0.1 with a fresh port, on its own runtime thread, so both blocking and async
    /// tests can use it.
    pub fn start() -> StandIn {
        let app_key = AppKey::shared();
        let app_id = 4242;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let git = Arc::new(GitRepos::default());
        let world = Arc::new(Mutex::new(World {
            git: git.clone(),
            app_id,
            app_slug: "opsmith-test".into(),
            app_public_pem: app_key.public_pem.clone(),
            requests: Vec::new(),
            violations: Vec::new(),
            unserved: Vec::new(),
            installations: BTreeMap::new(),
            repos: BTreeMap::new(),
            tokens: HashMap::new(),
            token_ttl: Duration::from_secs(3600),
            user_permissions: HashMap::new(),
            pulls: Vec::new(),
            comments: Vec::new(),
            reactions: Vec::new(),
            check_runs: Vec::new(),
            sarifs: Vec::new(),
            manifest_codes: BTreeSet::new(),
            faults: Faults::default(),
            next_id: 1000,
            next_number: HashMap::new(),
        }));
        // Load the 13 MB contract before the first request rather than inside one.
        let _ = openapi::contract();
        let shared = Shared {
            world: world.clone(),
            git: git.clone(),
            base_url: url.clone(),
        };
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                let app = axum::Router::new().fallback(move |request: Request<Body>| {
                    let shared = shared.clone();
                    async move { handle(shared, request).await }
                });
                tokio::select! {
                    _ = axum::serve(listener, app) => {}
                    _ = stopped => {}
                }
            });
            runtime.shutdown_background();
        });
        StandIn {
            url,
            app_id,
            app_key,
            git,
            world,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// The stand-in's state. Drop the guard before the next request: the server needs the lock.
    pub fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap()
    }

    /// Adds an installation of the App on `account` with the permissions opsmith's manifest asks for.
    pub fn install(&self, installation_id: u64, account: &str) {
        let permissions = [
            ("contents", "write"),
            // GitHub refuses pushes that touch .github/workflows/ without it.
            ("workflows", "write"),
            ("pull_requests", "write"),
            ("issues", "write"),
            ("checks", "write"),
            ("metadata", "read"),
            ("security_events", "write"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        self.world().installations.insert(
            installation_id,
            Installation {
                id: installation_id,
                account: account.into(),
                permissions,
                repos: BTreeSet::new(),
            },
        );
    }

    /// Adds a repository (with a bare git repository holding `files` on `main`) to an installation.
    pub fn add_repo(&self, installation_id: u64, owner: &str, name: &str, files: &[(&str, &[u8])]) {
        self.git.create(owner, name, "main", files);
        let mut world = self.world();
        let id = world.id();
        let full = format!("{owner}/{name}");
        world
            .installations
            .get_mut(&installation_id)
            .expect("install() first")
            .repos
            .insert(full.clone());
        world.repos.insert(
            full,
            Repo {
                id,
                owner: owner.into(),
                name: name.into(),
                default_branch: "main".into(),
                installation_id,
            },
        );
    }

    /// Mints a token directly (as `POST .../access_tokens` would), for tests of git alone.
    pub fn mint_token(&self, installation_id: u64, ttl: Duration) -> String {
        let mut world = self.world();
        let installation = world.installations[&installation_id].clone();
        let token = new_token();
        world.tokens.insert(
            token.clone(),
            Token {
                installation_id,
                repos: installation.repos,
                permissions: installation.permissions,
                expires_at: SystemTime::now() + ttl,
            },
        );
        token
    }

    pub fn clone_url(&self, owner: &str, name: &str) -> String {
        format!("{}/git/{owner}/{name}.git", self.url)
    }

    /// Asserts GitHub would have understood every request so far.
    pub fn assert_no_violations(&self) {
        let world = self.world();
        assert!(
            world.violations.is_empty(),
            "contract violations: {:#?}",
            world.violations
        );
    }
}

fn new_token() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut out = String::from("ghs_");
    for _ in 0..3 {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_nanos(),
        );
        out.push_str(&format!("{:016x}", h.finish()));
    }
    out
}

async fn handle(shared: Shared, request: Request<Body>) -> Response<Body> {
    let (parts, body) = request.into_parts();
    let method = parts.method.clone();
    let path = parts.uri.path().to_string();
    let query = parts.uri.query().unwrap_or_default().to_string();
    let bytes = axum::body::to_bytes(body, 64 * 1024 * 1024)
        .await
        .unwrap_or_default()
        .to_vec();
    let response = if let Some(rest) = path.strip_prefix("/git/") {
        serve_git(&shared, &method, rest, &query, &parts.headers, bytes).await
    } else {
        serve_api(&shared, &method, &path, &query, &parts.headers, &bytes).await
    };
    shared.world.lock().unwrap().requests.push(Recorded {
        method: method.to_string(),
        path: if query.is_empty() {
            path
        } else {
            format!("{path}?{query}")
        },
        status: response.status().as_u16(),
    });
    response
}

async fn serve_git(
    shared: &Shared,
    method: &Method,
    rest: &str,
    query: &str,
    headers: &HeaderMap,
    body: Vec<u8>,
) -> Response<Body> {
    let mut parts = rest.splitn(3, '/');
    let (owner, repo_git) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    let name = repo_git.strip_suffix(".git").unwrap_or(repo_git);
    let full = format!("{owner}/{name}");
    let path_info = format!("/{rest}");
    let push = git_server::is_push(&path_info, query);
    // (covers the repository, may write): GitHub answers 401 to bad credentials and 403 to a
    // valid token that may read but not push.
    let access = {
        let world = shared.world.lock().unwrap();
        basic_token(headers).and_then(|token| {
            let t = world.tokens.get(&token)?;
            let live = t.expires_at > SystemTime::now() && t.repos.contains(&full);
            let level = t
                .permissions
                .get("contents")
                .map(String::as_str)
                .unwrap_or("none");
            live.then_some(rank(level) >= rank("write"))
        })
    };
    match access {
        None => {
            return Response::builder()
                .status(StatusCode::UNAUTHORIZED)
                .header("www-authenticate", "Basic realm=\"GitHub\"")
                .body(Body::from("Invalid username or token."))
                .unwrap();
        }
        Some(false) if push => {
            return Response::builder()
                .status(StatusCode::FORBIDDEN)
                .body(Body::from(format!("Permission to {full}.git denied.")))
                .unwrap();
        }
        Some(_) => {}
    }
    git_server::serve(
        shared.git.root(),
        method.as_str(),
        &path_info,
        query,
        headers,
        body,
    )
    .await
}

/// The password of a Basic `x-access-token:<token>` header.
fn basic_token(headers: &HeaderMap) -> Option<String> {
    let value = headers.get("authorization")?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = String::from_utf8(base64_decode(encoded.trim())?).ok()?;
    let (user, password) = decoded.split_once(':')?;
    (user == "x-access-token").then(|| password.to_string())
}

fn base64_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        } as u32)
    };
    let clean: Vec<u8> = text
        .bytes()
        .filter(|c| !c.is_ascii_whitespace() && *c != b'=')
        .collect();
    let mut out = Vec::with_capacity(clean.len() * 3 / 4);
    for chunk in clean.chunks(4) {
        let mut acc = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            acc |= value(*c)? << (18 - 6 * i);
        }
        let bytes = acc.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    Some(out)
}

fn rank(level: &str) -> u8 {
    match level {
        "read" => 1,
        "write" => 2,
        "admin" => 3,
        _ => 0,
    }
}

/// An API answer: status and JSON.
struct Answer {
    status: StatusCode,
    body: Value,
    headers: Vec<(&'static str, String)>,
}

fn answer(status: u16, body: Value) -> Answer {
    Answer {
        status: StatusCode::from_u16(status).unwrap(),
        body,
        headers: Vec::new(),
    }
}

fn error(status: u16, message: &str) -> Answer {
    answer(
        status,
        json!({"message": message, "documentation_url": "https://docs.github.com/rest", "status": status.to_string()}),
    )
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

async fn serve_api(
    shared: &Shared,
    method: &Method,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    bytes: &[u8],
) -> Response<Body> {
    let body: Option<Value> = if bytes.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        match serde_json::from_slice(bytes) {
            Ok(v) => Some(v),
            Err(e) => {
                let message = format!("{method} {path}: body is not JSON: {e}");
                shared
                    .world
                    .lock()
                    .unwrap()
                    .violations
                    .push(message.clone());
                return respond(error(400, "Problems parsing JSON"));
            }
        }
    };
    if let Err(violation) = openapi::check(method.as_str(), path, body.as_ref()) {
        let status = if violation.contains("no such path") || violation.contains("allows only") {
            404
        } else {
            422
        };
        shared
            .world
            .lock()
            .unwrap()
            .violations
            .push(violation.clone());
        return respond(error(status, &violation));
    }
    let fault = shared.world.lock().unwrap().faults.next();
    match fault {
        Some(Fault::Delay(d)) => tokio::time::sleep(d).await,
        Some(fault) => return respond(fault_answer(fault)),
        None => {}
    }
    let mut world = shared.world.lock().unwrap();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let request = ApiRequest {
        method,
        segments: &segments,
        query,
        headers,
        body: body.unwrap_or(Value::Null),
        base_url: &shared.base_url,
        git: &shared.git,
    };
    let answer = route(&mut world, &request);
    if answer.status == StatusCode::NOT_IMPLEMENTED {
        world.unserved.push(format!("{method} {path}"));
    }
    respond(answer)
}

fn fault_answer(fault: Fault) -> Answer {
    match fault {
        Fault::Status(status) => error(status, "Server Error"),
        Fault::RetryAfter { status, seconds } => {
            let mut a = error(
                status,
                "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
            );
            a.headers.push(("retry-after", seconds.to_string()));
            a
        }
        Fault::RateLimitExhausted { reset_in } => {
            let mut a = error(403, "API rate limit exceeded for installation.");
            a.headers.push(("x-ratelimit-remaining", "0".into()));
            a.headers
                .push(("x-ratelimit-reset", (now_secs() + reset_in).to_string()));
            a
        }
        Fault::Delay(_) => unreachable!("delays answer normally"),
    }
}

fn respond(answer: Answer) -> Response<Body> {
    // A raw media type answer (file contents) carries its own content type and a text body.
    let raw = answer.headers.iter().any(|(k, _)| *k == "content-type");
    let mut response = Response::builder().status(answer.status);
    if !raw {
        response = response.header("content-type", "application/json; charset=utf-8");
    }
    response = response
        .header("x-github-request-id", "0000:STANDIN")
        .header("x-ratelimit-limit", "5000")
        .header("x-ratelimit-resource", "core");
    let sets_limit = answer
        .headers
        .iter()
        .any(|(k, _)| *k == "x-ratelimit-remaining");
    if !sets_limit {
        response = response
            .header("x-ratelimit-remaining", "4999")
            .header("x-ratelimit-reset", (now_secs() + 3600).to_string());
    }
    for (name, value) in answer.headers {
        response = response.header(name, value);
    }
    let body = match &answer.body {
        _ if answer.status == StatusCode::NO_CONTENT => Body::empty(),
        Value::String(text) if raw => Body::from(text.clone()),
        other => Body::from(other.to_string()),
    };
    response.body(body).unwrap()
}

struct ApiRequest<'a> {
    method: &'a Method,
    segments: &'a [&'a str],
    query: &'a str,
    headers: &'a HeaderMap,
    body: Value,
    base_url: &'a str,
    git: &'a GitRepos,
}

impl ApiRequest<'_> {
    fn bearer(&self) -> Option<&str> {
        let value = self.headers.get("authorization")?.to_str().ok()?;
        value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .or_else(|| value.strip_prefix("token "))
            .map(str::trim)
    }

    fn query_param(&self, name: &str) -> Option<String> {
        self.query.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            (k == name).then(|| {
                v.replace("%3A", ":")
                    .replace("%3a", ":")
                    .replace("%2F", "/")
            })
        })
    }

    fn str_field(&self, name: &str) -> Option<String> {
        self.body
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_string)
    }
}

/// Checks the App JWT like GitHub: RS256 signed by the App's key, `iss` the App id, `exp` in the
/// future but at most 10 minutes ahead, `iat` not in the future.
fn verify_app_jwt(world: &World, request: &ApiRequest) -> Result<(), Answer> {
    use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode};
    let token = request
        .bearer()
        .ok_or_else(|| error(401, "Requires authentication"))?;
    let key = DecodingKey::from_rsa_pem(world.app_public_pem.as_bytes())
        .map_err(|_| error(500, "stand-in key"))?;
    let mut validation = Validation::new(Algorithm::RS256);
    // Not "iss": jsonwebtoken only sees string issuers, and octocrab sends a number.
    validation.set_required_spec_claims(&["exp", "iat"]);
    validation.leeway = 0;
    let claims = decode::<Value>(token, &key, &validation)
        .map_err(|e| error(401, &format!("A JSON web token could not be decoded: {e}")))?
        .claims;
    let now = now_secs() as i64;
    let exp = claims["exp"].as_i64().unwrap_or(0);
    let iat = claims["iat"].as_i64().unwrap_or(i64::MAX);
    if exp > now + 600 {
        return Err(error(
            401,
            "'Expiration time' claim ('exp') is too far in the future",
        ));
    }
    if iat > now + 60 {
        return Err(error(
            401,
            "'Issued at' claim ('iat') must be an Integer representing a time in the past",
        ));
    }
    // octocrab sends a numeric `iss`; GitHub also accepts the client id as a string.
    let iss_ok = match &claims["iss"] {
        Value::Number(n) => n.as_u64() == Some(world.app_id),
        Value::String(s) => s == &world.app_id.to_string() || s == &format!("Iv1.{}", world.app_id),
        _ => false,
    };
    if !iss_ok {
        return Err(error(401, "'Issuer' claim ('iss') must be an Integer"));
    }
    Ok(())
}

/// Checks an installation token covers `repo` (when given) with `permission` at `level`.
fn verify_token(
    world: &World,
    request: &ApiRequest,
    repo: Option<&str>,
    permission: &str,
    level: &str,
) -> Result<Token, Answer> {
    let token = request
        .bearer()
        .and_then(|t| world.tokens.get(t))
        .ok_or_else(|| error(401, "Bad credentials"))?;
    if token.expires_at <= SystemTime::now() {
        return Err(error(401, "Bad credentials"));
    }
    if let Some(repo) = repo
        && !token.repos.contains(repo)
    {
        return Err(error(404, "Not Found"));
    }
    let held = token
        .permissions
        .get(permission)
        .map(String::as_str)
        .unwrap_or("none");
    if rank(held) < rank(level) {
        return Err(error(403, "Resource not accessible by integration"));
    }
    Ok(token.clone())
}

fn route(world: &mut World, request: &ApiRequest) -> Answer {
    let m = request.method.as_str();
    match (m, request.segments) {
        ("POST", ["app-manifests", code, "conversions"]) => manifest_conversion(world, code),
        ("GET", ["app"]) => with_jwt(world, request, |world, _| app_json(world)),
        ("GET", ["app", "installations", id]) => with_jwt(world, request, |world, _| {
            match id
                .parse()
                .ok()
                .and_then(|id: u64| world.installations.get(&id))
            {
                Some(i) => answer(200, installation_json(world, i)),
                None => error(404, "Not Found"),
            }
        }),
        ("GET", ["repos", owner, repo, "installation"]) => with_jwt(world, request, |world, _| {
            let full = format!("{owner}/{repo}");
            match world
                .repos
                .get(&full)
                .and_then(|r| world.installations.get(&r.installation_id))
            {
                Some(i) => answer(200, installation_json(world, i)),
                None => error(404, "Not Found"),
            }
        }),
        ("POST", ["app", "installations", id, "access_tokens"]) => {
            with_jwt(world, request, |world, request| {
                access_token(world, request, id)
            })
        }
        ("GET", ["installation", "repositories"]) => {
            match verify_token(world, request, None, "metadata", "read") {
                Ok(token) => {
                    let repos: Vec<Value> = token
                        .repos
                        .iter()
                        .filter_map(|r| world.repos.get(r))
                        .map(|r| repo_json(request.base_url, r))
                        .collect();
                    answer(
                        200,
                        json!({"total_count": repos.len(), "repository_selection": "selected", "repositories": repos}),
                    )
                }
                Err(a) => a,
            }
        }
        (_, ["repos", owner, repo, rest @ ..]) => {
            let full = format!("{owner}/{repo}");
            if !world.repos.contains_key(&full) {
                // GitHub hides what a token cannot see; unknown or not, the answer is the same.
                return match verify_token(world, request, None, "metadata", "read") {
                    Err(a) => a,
                    Ok(_) => error(404, "Not Found"),
                };
            }
            repo_route(world, request, &full, m, rest)
        }
        _ => error(501, "The stand-in does not serve this endpoint"),
    }
}

fn with_jwt(
    world: &mut World,
    request: &ApiRequest,
    serve: impl FnOnce(&mut World, &ApiRequest) -> Answer,
) -> Answer {
    match verify_app_jwt(world, request) {
        Ok(()) => serve(world, request),
        Err(a) => a,
    }
}

fn repo_route(
    world: &mut World,
    request: &ApiRequest,
    full: &str,
    m: &str,
    rest: &[&str],
) -> Answer {
    let (permission, level) = match (m, rest) {
        ("GET", [] | ["collaborators", ..]) => ("metadata", "read"),
        (_, ["pulls", ..]) => ("pull_requests", if m == "GET" { "read" } else { "write" }),
        (_, ["issues", ..]) => ("issues", if m == "GET" { "read" } else { "write" }),
        (_, ["check-runs", ..]) => ("checks", if m == "GET" { "read" } else { "write" }),
        (_, ["contents", ..]) => ("contents", if m == "GET" { "read" } else { "write" }),
        (_, ["code-scanning", ..]) => {
            ("security_events", if m == "GET" { "read" } else { "write" })
        }
        _ => ("metadata", "read"),
    };
    if let Err(a) = verify_token(world, request, Some(full), permission, level) {
        return a;
    }
    let base = request.base_url;
    match (m, rest) {
        ("GET", []) => answer(200, repo_json(base, &world.repos[full])),
        ("GET", ["collaborators", user, "permission"]) => {
            let permission = world
                .user_permissions
                .get(*user)
                .cloned()
                .unwrap_or_else(|| "none".into());
            let role = permission.as_str();
            // `permission` folds maintain into write and triage into read, as GitHub does.
            let folded = match permission.as_str() {
                "maintain" => "write",
                "triage" => "read",
                other => other,
            };
            answer(
                200,
                json!({
                    "permission": folded,
                    "role_name": role,
                    "user": user_json(user),
                }),
            )
        }
        ("GET", ["contents", path @ ..]) => {
            let path = path.join("/");
            let repo = &world.repos[full];
            let reference = request
                .query_param("ref")
                .unwrap_or_else(|| repo.default_branch.clone());
            let Some(bytes) = request
                .git
                .file_at(&repo.owner, &repo.name, &reference, &path)
            else {
                return error(404, "Not Found");
            };
            let raw = request
                .headers
                .get("accept")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.contains("application/vnd.github.raw"));
            if raw {
                return Answer {
                    status: StatusCode::OK,
                    body: Value::String(String::from_utf8_lossy(&bytes).into_owned()),
                    headers: vec![(
                        "content-type",
                        "application/vnd.github.raw+json; charset=utf-8".into(),
                    )],
                };
            }
            let name = path.rsplit('/').next().unwrap_or_default().to_string();
            answer(
                200,
                json!({
                    "type": "file", "encoding": "base64", "size": bytes.len(), "name": name,
                    "path": path, "content": base64_encode(&bytes), "sha": "0".repeat(40),
                }),
            )
        }
        ("POST", ["pulls"]) => create_pull(world, request, full),
        ("GET", ["pulls"]) => {
            let state = request
                .query_param("state")
                .unwrap_or_else(|| "open".into());
            let head = request.query_param("head");
            let owner = &world.repos[full].owner;
            let pulls: Vec<Value> = world
                .pulls
                .iter()
                .filter(|p| p.repo == full && (state == "all" || p.state == state))
                .filter(|p| {
                    head.as_ref()
                        .is_none_or(|h| *h == format!("{owner}:{}", p.head))
                })
                .map(|p| pull_json(world, base, p))
                .collect();
            answer(200, Value::Array(pulls))
        }
        ("GET", ["pulls", number]) => match find_pull(world, full, number) {
            Some(i) => answer(200, pull_json(world, base, &world.pulls[i])),
            None => error(404, "Not Found"),
        },
        ("PATCH", ["pulls", number]) => match find_pull(world, full, number) {
            Some(i) => {
                let pull = &mut world.pulls[i];
                if let Some(t) = request.str_field("title") {
                    pull.title = t;
                }
                if let Some(b) = request.str_field("body") {
                    pull.body = Some(b);
                }
                if let Some(s) = request.str_field("state") {
                    pull.state = s;
                }
                if let Some(b) = request.str_field("base") {
                    pull.base = b;
                }
                let pull = world.pulls[i].clone();
                answer(200, pull_json(world, base, &pull))
            }
            None => error(404, "Not Found"),
        },
        ("POST", ["issues", number, "comments"]) => {
            let Some(issue_number) = number.parse().ok() else {
                return error(404, "Not Found");
            };
            let body = request.str_field("body").unwrap_or_default();
            if body.chars().count() > 65_536 {
                return error(
                    422,
                    "Validation Failed: body is too long (maximum is 65536 characters)",
                );
            }
            let id = world.id();
            let comment = Comment {
                id,
                repo: full.into(),
                issue_number,
                body,
                user: format!("{}[bot]", world.app_slug),
                edits: 0,
            };
            world.comments.push(comment.clone());
            answer(201, comment_json(base, &comment))
        }
        ("GET", ["issues", number, "comments"]) => {
            let number: u64 = number.parse().unwrap_or(0);
            let comments: Vec<Value> = world
                .comments
                .iter()
                .filter(|c| c.repo == full && c.issue_number == number)
                .map(|c| comment_json(base, c))
                .collect();
            answer(200, Value::Array(comments))
        }
        ("GET", ["issues", "comments", id]) => match find_comment(world, full, id) {
            Some(i) => answer(200, comment_json(base, &world.comments[i])),
            None => error(404, "Not Found"),
        },
        ("PATCH", ["issues", "comments", id]) => match find_comment(world, full, id) {
            Some(i) => {
                let body = request.str_field("body").unwrap_or_default();
                if body.chars().count() > 65_536 {
                    return error(
                        422,
                        "Validation Failed: body is too long (maximum is 65536 characters)",
                    );
                }
                world.comments[i].body = body;
                world.comments[i].edits += 1;
                answer(200, comment_json(base, &world.comments[i]))
            }
            None => error(404, "Not Found"),
        },
        ("POST", ["issues", "comments", id, "reactions"]) => match find_comment(world, full, id) {
            Some(i) => {
                let comment_id = world.comments[i].id;
                let content = request.str_field("content").unwrap_or_default();
                let exists = world
                    .reactions
                    .iter()
                    .any(|r| r.comment_id == comment_id && r.content == content);
                if !exists {
                    world.reactions.push(Reaction {
                        comment_id,
                        content: content.clone(),
                    });
                }
                let id = world.id();
                answer(
                    if exists { 200 } else { 201 },
                    json!({"id": id, "node_id": format!("REA_{id}"), "user": user_json(&format!("{}[bot]", world.app_slug)), "content": content, "created_at": rfc3339(SystemTime::now())}),
                )
            }
            None => error(404, "Not Found"),
        },
        ("POST", ["check-runs"]) => {
            let id = world.id();
            let fields = request.body.as_object().cloned().unwrap_or_default();
            let run = CheckRun {
                id,
                repo: full.into(),
                fields,
            };
            world.check_runs.push(run.clone());
            answer(201, check_run_json(base, &run))
        }
        ("PATCH", ["check-runs", id]) => {
            let id: u64 = id.parse().unwrap_or(0);
            match world
                .check_runs
                .iter_mut()
                .find(|r| r.id == id && r.repo == full)
            {
                Some(run) => {
                    for (k, v) in request.body.as_object().cloned().unwrap_or_default() {
                        run.fields.insert(k, v);
                    }
                    let run = run.clone();
                    answer(200, check_run_json(base, &run))
                }
                None => error(404, "Not Found"),
            }
        }
        ("POST", ["code-scanning", "sarifs"]) => {
            let sarif = request.str_field("sarif").unwrap_or_default();
            let Some(gzipped) = base64_decode(&sarif) else {
                return error(400, "sarif: not base64");
            };
            if !gzipped.starts_with(&[0x1f, 0x8b]) {
                return error(400, "sarif: not gzip-compressed");
            }
            if gzipped.len() > 10 * 1024 * 1024 {
                return error(413, "Payload Too Large");
            }
            let id = format!("{:x}", world.id());
            world.sarifs.push(SarifUpload {
                id: id.clone(),
                repo: full.into(),
                commit_sha: request.str_field("commit_sha").unwrap_or_default(),
                reference: request.str_field("ref").unwrap_or_default(),
                gzipped_bytes: gzipped.len(),
            });
            answer(
                202,
                json!({"id": id, "url": format!("{base}/repos/{full}/code-scanning/sarifs/{id}")}),
            )
        }
        _ => error(501, "The stand-in does not serve this endpoint"),
    }
}

fn find_pull(world: &World, full: &str, number: &str) -> Option<usize> {
    let number: u64 = number.parse().ok()?;
    world
        .pulls
        .iter()
        .position(|p| p.repo == full && p.number == number)
}

fn find_comment(world: &World, full: &str, id: &str) -> Option<usize> {
    let id: u64 = id.parse().ok()?;
    world
        .comments
        .iter()
        .position(|c| c.repo == full && c.id == id)
}

fn create_pull(world: &mut World, request: &ApiRequest, full: &str) -> Answer {
    let repo = world.repos[full].clone();
    let head = request.str_field("head").unwrap_or_default();
    let branch = head
        .strip_prefix(&format!("{}:", repo.owner))
        .unwrap_or(&head)
        .to_string();
    let base = request.str_field("base").unwrap_or_default();
    let Some(head_sha) = request.git.branch_head(&repo.owner, &repo.name, &branch) else {
        return answer(
            422,
            json!({"message": "Validation Failed", "errors": [{"resource": "PullRequest", "field": "head", "code": "invalid"}]}),
        );
    };
    if request
        .git
        .branch_head(&repo.owner, &repo.name, &base)
        .is_none()
    {
        return answer(
            422,
            json!({"message": "Validation Failed", "errors": [{"resource": "PullRequest", "field": "base", "code": "invalid"}]}),
        );
    }
    if world
        .pulls
        .iter()
        .any(|p| p.repo == full && p.head == branch && p.base == base && p.state == "open")
    {
        return answer(
            422,
            json!({"message": "Validation Failed", "errors": [{"resource": "PullRequest", "code": "custom", "message": format!("A pull request already exists for {}:{branch}.", repo.owner)}]}),
        );
    }
    let body = request.str_field("body");
    if body.as_ref().is_some_and(|b| b.chars().count() > 65_536) {
        return error(
            422,
            "Validation Failed: body is too long (maximum is 65536 characters)",
        );
    }
    let id = world.id();
    let counter = world.next_number.entry(full.to_string()).or_insert(0);
    *counter += 1;
    let pull = Pull {
        id,
        number: *counter,
        repo: full.into(),
        title: request.str_field("title").unwrap_or_default(),
        body,
        head: branch,
        base,
        state: "open".into(),
        head_sha: head_sha.to_string(),
    };
    world.pulls.push(pull.clone());
    answer(201, pull_json(world, request.base_url, &pull))
}

fn access_token(world: &mut World, request: &ApiRequest, id: &str) -> Answer {
    let Some(installation) = id
        .parse()
        .ok()
        .and_then(|id: u64| world.installations.get(&id))
        .cloned()
    else {
        return error(404, "Not Found");
    };
    let mut repos = installation.repos.clone();
    let named: Vec<String> = request
        .body
        .get("repositories")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(|n| format!("{}/{n}", installation.account))
                .collect()
        })
        .unwrap_or_default();
    let ids: Vec<u64> = request
        .body
        .get("repository_ids")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_u64).collect())
        .unwrap_or_default();
    if !named.is_empty() || !ids.is_empty() {
        let mut narrowed = BTreeSet::new();
        for full in &named {
            if !installation.repos.contains(full) {
                return error(
                    422,
                    "There is at least one repository that does not exist or is not accessible to the parent installation.",
                );
            }
            narrowed.insert(full.clone());
        }
        for rid in &ids {
            match world.repos.values().find(|r| {
                r.id == *rid
                    && installation
                        .repos
                        .contains(&format!("{}/{}", r.owner, r.name))
            }) {
                Some(r) => {
                    narrowed.insert(format!("{}/{}", r.owner, r.name));
                }
                None => {
                    return error(
                        422,
                        "There is at least one repository that does not exist or is not accessible to the parent installation.",
                    );
                }
            }
        }
        repos = narrowed;
    }
    let mut permissions = installation.permissions.clone();
    if let Some(asked) = request.body.get("permissions").and_then(Value::as_object) {
        permissions = BTreeMap::new();
        for (name, level) in asked {
            let level = level.as_str().unwrap_or_default();
            let granted = installation
                .permissions
                .get(name)
                .map(String::as_str)
                .unwrap_or("none");
            if rank(level) > rank(granted) {
                return error(
                    422,
                    "The permissions requested are not granted to this installation.",
                );
            }
            permissions.insert(name.clone(), level.to_string());
        }
        permissions
            .entry("metadata".into())
            .or_insert_with(|| "read".into());
    }
    let token = new_token();
    let expires_at = SystemTime::now() + world.token_ttl;
    world.tokens.insert(
        token.clone(),
        Token {
            installation_id: installation.id,
            repos: repos.clone(),
            permissions: permissions.clone(),
            expires_at,
        },
    );
    let repositories: Vec<Value> = repos
        .iter()
        .filter_map(|r| world.repos.get(r))
        .map(|r| repo_json(request.base_url, r))
        .collect();
    answer(
        201,
        json!({
            "token": token,
            "expires_at": rfc3339(expires_at),
            "permissions": permissions,
            "repository_selection": "selected",
            "repositories": repositories,
        }),
    )
}

fn manifest_conversion(world: &mut World, code: &str) -> Answer {
    if !world.manifest_codes.remove(code) {
        return error(404, "Not Found");
    }
    let mut app = app_json_value(world);
    let fields = app.as_object_mut().unwrap();
    fields.insert("client_id".into(), json!(format!("Iv1.{}", world.app_id)));
    fields.insert("client_secret".into(), json!("stand-in-client-secret"));
    fields.insert("webhook_secret".into(), json!("stand-in-webhook-secret"));
    fields.insert(
        "pem".into(),
        json!("-----BEGIN RSA PRIVATE KEY-----\nstand-in\n-----END RSA PRIVATE KEY-----\n"),
    );
    answer(201, app)
}

/// A documented example response, with `overrides` merged over it (objects merged recursively).
fn shaped(method: &str, template: &str, status: &str, overrides: Value) -> Value {
    let mut value = openapi::contract()
        .example_response(method, template, status)
        .unwrap_or_else(|| json!({}));
    merge(&mut value, overrides);
    value
}

fn merge(into: &mut Value, from: Value) {
    match (into, from) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                match a.get_mut(&k) {
                    Some(existing) if existing.is_object() && v.is_object() => merge(existing, v),
                    _ => {
                        a.insert(k, v);
                    }
                }
            }
        }
        (slot, value) => *slot = value,
    }
}

fn user_json(login: &str) -> Value {
    let api = format!("https://api.github.com/users/{login}");
    let kind = if login.ends_with("[bot]") {
        "Bot"
    } else {
        "User"
    };
    json!({
        "login": login, "id": 1, "node_id": "MDQ6VXNlcjE=", "avatar_url": "https://github.com/images/error/octocat_happy.gif",
        "gravatar_id": "", "url": format!("https://api.github.com/users/{login}"), "html_url": format!("https://github.com/{login}"),
        "followers_url": format!("{api}/followers"), "following_url": format!("{api}/following{{/other_user}}"),
        "gists_url": format!("{api}/gists{{/gist_id}}"), "starred_url": format!("{api}/starred{{/owner}}{{/repo}}"),
        "subscriptions_url": format!("{api}/subscriptions"), "organizations_url": format!("{api}/orgs"),
        "repos_url": format!("{api}/repos"), "events_url": format!("{api}/events{{/privacy}}"),
        "received_events_url": format!("{api}/received_events"), "type": kind, "site_admin": false
    })
}

fn app_json_value(world: &World) -> Value {
    shaped(
        "get",
        "/app",
        "200",
        json!({
            "id": world.app_id, "slug": world.app_slug, "name": world.app_slug,
            "owner": user_json("octo-org"),
        }),
    )
}

fn app_json(world: &World) -> Answer {
    answer(200, app_json_value(world))
}

fn installation_json(world: &World, installation: &Installation) -> Value {
    shaped(
        "get",
        "/app/installations/{installation_id}",
        "200",
        json!({
            "id": installation.id,
            "app_id": world.app_id,
            "app_slug": world.app_slug,
            "account": user_json(&installation.account),
            "repository_selection": "selected",
            "permissions": installation.permissions,
            "access_tokens_url": format!("https://api.github.com/app/installations/{}/access_tokens", installation.id),
            "target_type": "Organization",
        }),
    )
}

fn repo_json(base: &str, repo: &Repo) -> Value {
    let full = format!("{}/{}", repo.owner, repo.name);
    shaped(
        "get",
        "/repos/{owner}/{repo}",
        "200",
        json!({
            "id": repo.id,
            "name": repo.name,
            "full_name": full,
            "owner": user_json(&repo.owner),
            "private": true,
            "html_url": format!("https://github.com/{full}"),
            "url": format!("{base}/repos/{full}"),
            "clone_url": format!("{base}/git/{full}.git"),
            "default_branch": repo.default_branch,
            "archived": false,
            "disabled": false,
            "fork": false,
        }),
    )
}

fn pull_json(world: &World, base: &str, pull: &Pull) -> Value {
    let repo = &world.repos[&pull.repo];
    let repo_value = repo_json(base, repo);
    let base_sha = live_sha(world, repo, &pull.base).unwrap_or_default();
    // After the branch is gone GitHub keeps showing the last head it saw.
    let head_sha = live_sha(world, repo, &pull.head).unwrap_or_else(|| pull.head_sha.clone());
    let url = format!("{base}/repos/{}/pulls/{}", pull.repo, pull.number);
    shaped(
        "post",
        "/repos/{owner}/{repo}/pulls",
        "201",
        json!({
            "id": pull.id,
            "number": pull.number,
            "url": url,
            "html_url": format!("https://github.com/{}/pull/{}", pull.repo, pull.number),
            "issue_url": format!("{base}/repos/{}/issues/{}", pull.repo, pull.number),
            "comments_url": format!("{base}/repos/{}/issues/{}/comments", pull.repo, pull.number),
            "state": pull.state,
            "title": pull.title,
            "body": pull.body,
            "user": user_json(&format!("{}[bot]", world.app_slug)),
            "locked": false,
            "draft": false,
            "merged": false,
            "closed_at": null,
            "merged_at": null,
            "head": {"label": format!("{}:{}", repo.owner, pull.head), "ref": pull.head, "sha": head_sha, "repo": repo_value.clone(), "user": user_json(&repo.owner)},
            "base": {"label": format!("{}:{}", repo.owner, pull.base), "ref": pull.base, "sha": base_sha, "repo": repo_value, "user": user_json(&repo.owner)},
        }),
    )
}

/// A branch's current commit in the git server, as GitHub reports a pull request's live head/base.
fn live_sha(world: &World, repo: &Repo, branch: &str) -> Option<String> {
    world
        .git
        .branch_head(&repo.owner, &repo.name, branch)
        .map(|oid| oid.to_string())
}

fn comment_json(base: &str, comment: &Comment) -> Value {
    let now = rfc3339(SystemTime::now());
    shaped(
        "post",
        "/repos/{owner}/{repo}/issues/{issue_number}/comments",
        "201",
        json!({
            "id": comment.id,
            "node_id": format!("IC_{}", comment.id),
            "body": comment.body,
            "user": user_json(&comment.user),
            "url": format!("{base}/repos/{}/issues/comments/{}", comment.repo, comment.id),
            "html_url": format!("https://github.com/{}/issues/{}#issuecomment-{}", comment.repo, comment.issue_number, comment.id),
            "issue_url": format!("{base}/repos/{}/issues/{}", comment.repo, comment.issue_number),
            "author_association": "NONE",
            "created_at": now,
            "updated_at": now,
        }),
    )
}

fn check_run_json(base: &str, run: &CheckRun) -> Value {
    let field = |k: &str| run.fields.get(k).cloned().unwrap_or(Value::Null);
    let status = if run.fields.contains_key("conclusion") {
        json!("completed")
    } else {
        run.fields.get("status").cloned().unwrap_or(json!("queued"))
    };
    shaped(
        "post",
        "/repos/{owner}/{repo}/check-runs",
        "201",
        json!({
            "id": run.id,
            "name": field("name"),
            "head_sha": field("head_sha"),
            "status": status,
            "conclusion": field("conclusion"),
            "url": format!("{base}/repos/{}/check-runs/{}", run.repo, run.id),
            "output": run.fields.get("output").cloned().unwrap_or(json!({"title": null, "summary": null, "text": null, "annotations_count": 0, "annotations_url": format!("{base}/repos/{}/check-runs/{}/annotations", run.repo, run.id)})),
        }),
    )
}

/// UTC `YYYY-MM-DDTHH:MM:SSZ`.
fn rfc3339(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips() {
        assert_eq!(base64_encode(b"Hello, World!"), "SGVsbG8sIFdvcmxkIQ==");
        for text in [&b""[..], b"a", b"ab", b"abc", b"\x00\xff\x10 binary"] {
            assert_eq!(base64_decode(&base64_encode(text)).unwrap(), text);
        }
    }

    #[test]
    fn timestamps_are_rfc3339_utc() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(1_795_000_000)),
            "2026-11-18T11:06:40Z"
        );
    }

    #[test]
    fn base64_round_trips_basic_credentials() {
        assert_eq!(
            base64_decode("eC1hY2Nlc3MtdG9rZW46YWJj").unwrap(),
            b"x-access-token:abc"
        );
        assert_eq!(base64_decode("YQ==").unwrap(), b"a");
    }

    #[test]
    fn faults_hit_the_configured_fraction() {
        let mut faults = Faults {
            fraction: 0.2,
            kinds: vec![Fault::Status(500), Fault::Status(502)],
            ..Faults::default()
        };
        let hits = (0..100).filter(|_| faults.next().is_some()).count();
        assert_eq!(hits, 20);
    }
}
