//! `opsmith setup`: registers the GitHub App through GitHub's manifest flow and writes its credentials
//! to an env file that only its owner can read.
//!
//! The flow: a local page whose button posts `app-manifest.yml` (as JSON) to GitHub with a random
//! `state`; GitHub creates the App and redirects the browser to `/callback?code=…&state=…`; the code is
//! exchanged once (`POST /app-manifests/{code}/conversions`, no authentication) for the App's id, slug,
//! private key and webhook secret. Neither the key nor the secret is ever printed.

use crate::config;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use octocrab::Octocrab;
use octocrab::service::middleware::retry::RetryConfig;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use std::collections::HashMap;
use std::fmt;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The App's manifest, embedded at build time so the binary registers the App from any directory;
/// `app-manifest.yml` at the repository root is the single source.
pub const MANIFEST_YAML: &str = include_str!("../app-manifest.yml");

const DEFAULT_GITHUB_URL: &str = "https://github.com";
const DEFAULT_API_URL: &str = "https://api.github.com";

/// The manifest fields GitHub's manifest flow accepts.
const MANIFEST_FIELDS: &[&str] = &[
    "name",
    "url",
    "hook_attributes",
    "redirect_url",
    "callback_urls",
    "setup_url",
    "description",
    "public",
    "default_events",
    "default_permissions",
    "request_oauth_on_install",
    "setup_on_update",
];

/// `opsmith setup` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct SetupArgs {
    /// GitHub's web address (GitHub Enterprise Server: https://HOST).
    #[arg(long, default_value = DEFAULT_GITHUB_URL)]
    pub github_url: String,
    /// GitHub's REST API, where the code GitHub sends back is exchanged for the App's credentials.
    #[arg(long, env = config::GITHUB_API_URL, default_value = DEFAULT_API_URL)]
    pub api_url: String,
    /// Register the App under this organization instead of your user account.
    #[arg(long, value_name = "ORG")]
    pub org: Option<String>,
    /// Address of the local setup page (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:3000")]
    pub listen: SocketAddr,
    /// The public URL GitHub posts webhooks to (opsmith serve's POST /webhook). Without it the
    /// webhook is registered inactive and must be set in the App's settings later.
    #[arg(long, value_name = "URL")]
    pub webhook_url: Option<String>,
    /// Where to write the App's credentials (created with mode 0600).
    #[arg(long, value_name = "PATH", default_value = ".env")]
    pub env_file: PathBuf,
    /// The App's name on GitHub (unique across GitHub; default: the manifest's name).
    #[arg(long)]
    pub name: Option<String>,
    /// Replace an existing env file.
    #[arg(long)]
    pub force: bool,
}

/// A failure of setup; `Display` is the one line shown to the operator (never a secret).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SetupError(pub String);

fn fail(message: impl Into<String>) -> SetupError {
    SetupError(message.into())
}

/// What GitHub returned for a converted manifest code.
pub struct RegisteredApp {
    pub id: u64,
    pub slug: String,
    pub pem: SecretString,
    /// GitHub may return none (null); `serve` then refuses to start until one is set.
    pub webhook_secret: Option<SecretString>,
}

impl fmt::Debug for RegisteredApp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegisteredApp")
            .field("id", &self.id)
            .field("slug", &self.slug)
            .field("pem", &"[redacted]")
            .field("webhook_secret", &"[redacted]")
            .finish()
    }
}

impl RegisteredApp {
    /// Reads the conversion answer, checking every value can sit in an env file unchanged.
    pub fn from_conversion(answer: &Value) -> Result<RegisteredApp, SetupError> {
        let id = answer["id"]
            .as_u64()
            .filter(|id| *id > 0)
            .ok_or_else(|| fail("GitHub's answer has no App id"))?;
        let slug = answer["slug"]
            .as_str()
            .filter(|s| is_slug(s))
            .ok_or_else(|| fail("GitHub's answer has no valid App slug"))?
            .to_owned();
        let pem = answer["pem"]
            .as_str()
            .filter(|pem| pem.trim_start().starts_with("-----BEGIN ") && is_pem_text(pem))
            .ok_or_else(|| fail("GitHub's answer has no private key in PEM form"))?;
        let webhook_secret = match &answer["webhook_secret"] {
            Value::Null => None,
            Value::String(secret) if is_env_secret(secret) => {
                Some(SecretString::from(secret.clone()))
            }
            _ => {
                return Err(fail(
                    "GitHub's answer has a webhook secret opsmith cannot store",
                ));
            }
        };
        Ok(RegisteredApp {
            id,
            slug,
            pem: SecretString::from(pem.replace('\r', "")),
            webhook_secret,
        })
    }
}

fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 100
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// PEM text with nothing an env-file parser would interpret (quotes, `\`, `$`).
fn is_pem_text(pem: &str) -> bool {
    pem.chars().all(|c| {
        c.is_ascii_alphanumeric()
            || matches!(c, '-' | '+' | '/' | '=' | ' ' | ':' | ',' | '\n' | '\r')
    })
}

/// A secret that fits in single quotes on one line.
fn is_env_secret(secret: &str) -> bool {
    !secret.is_empty()
        && secret
            .chars()
            .all(|c| c.is_ascii_graphic() && c != '\'' && c != '\\')
}

/// The env file `setup` writes: read back by `config::read_env_file` (and docker compose's
/// `env_file`) with every value unchanged. The PEM is one double-quoted line with `\n` escapes.
pub fn env_file_text(app: &RegisteredApp, api_url: &str) -> String {
    let mut text = format!(
        "# The GitHub App {slug} (id {id}), registered by `opsmith setup`.\n\
         # Holds the App's private key and webhook secret: keep it private and out of version control.\n\
         {}={id}\n{}={slug}\n",
        config::APP_ID,
        config::APP_SLUG,
        slug = app.slug,
        id = app.id,
    );
    if api_url != DEFAULT_API_URL {
        text += &format!("{}={api_url}\n", config::GITHUB_API_URL);
    }
    match &app.webhook_secret {
        Some(secret) => {
            text += &format!("{}='{}'\n", config::WEBHOOK_SECRET, secret.expose_secret())
        }
        None => {
            text += &format!(
                "# GitHub set no webhook secret: set one in the App's settings and here.\n{}=\n",
                config::WEBHOOK_SECRET
            )
        }
    }
    text += &format!(
        "{}=\"{}\"\n",
        config::PRIVATE_KEY,
        app.pem.expose_secret().replace('\n', "\\n")
    );
    text
}

/// The embedded manifest as the JSON GitHub takes, checked for the fields the flow needs.
pub fn manifest() -> Result<Value, SetupError> {
    let manifest: Value = serde_saphyr::from_str(MANIFEST_YAML)
        .map_err(|e| fail(format!("app-manifest.yml is not valid YAML: {e}")))?;
    let fields = manifest
        .as_object()
        .ok_or_else(|| fail("app-manifest.yml must be a mapping"))?;
    if let Some(unknown) = fields
        .keys()
        .find(|k| !MANIFEST_FIELDS.contains(&k.as_str()))
    {
        return Err(fail(format!(
            "app-manifest.yml: {unknown} is not a manifest field"
        )));
    }
    for required in ["name", "url"] {
        if !manifest[required].is_string() {
            return Err(fail(format!(
                "app-manifest.yml: {required} must be a string"
            )));
        }
    }
    if !manifest["hook_attributes"]["url"].is_string() {
        return Err(fail(
            "app-manifest.yml: hook_attributes.url must be a string",
        ));
    }
    let permissions_ok = manifest["default_permissions"]
        .as_object()
        .is_some_and(|p| {
            p.values()
                .all(|v| matches!(v.as_str(), Some("read" | "write")))
        });
    if !permissions_ok {
        return Err(fail(
            "app-manifest.yml: default_permissions must map each permission to read or write",
        ));
    }
    let events_ok = manifest["default_events"]
        .as_array()
        .is_some_and(|e| e.iter().all(Value::is_string));
    if !events_ok {
        return Err(fail(
            "app-manifest.yml: default_events must be a list of event names",
        ));
    }
    Ok(manifest)
}

/// The manifest for this run: its name, webhook URL (inactive when none is given) and redirect URL.
pub fn manifest_for(
    name: Option<&str>,
    webhook_url: Option<&str>,
    redirect_url: &str,
) -> Result<Value, SetupError> {
    let mut manifest = manifest()?;
    if let Some(name) = name {
        manifest["name"] = Value::from(name);
    }
    match webhook_url {
        Some(url) => {
            manifest["hook_attributes"]["url"] = Value::from(url);
            manifest["hook_attributes"]["active"] = Value::from(true);
        }
        // The placeholder stays, but GitHub sends nothing to it.
        None => manifest["hook_attributes"]["active"] = Value::from(false),
    }
    manifest["redirect_url"] = Value::from(redirect_url);
    Ok(manifest)
}

/// Escapes text for HTML element content and attribute values.
pub fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// An http(s) URL without query or fragment, without a trailing `/`.
fn web_url(flag: &str, url: &str) -> Result<String, SetupError> {
    let url = url.trim();
    let uri = url.parse::<axum::http::Uri>().ok();
    let ok = uri.as_ref().is_some_and(|u| {
        matches!(u.scheme_str(), Some("http" | "https"))
            && u.host().is_some_and(|h| !h.is_empty())
            && u.query().is_none()
            && !url.contains('#')
    });
    if !ok {
        return Err(fail(format!(
            "{flag} must be an http:// or https:// URL, such as https://github.com"
        )));
    }
    Ok(url.trim_end_matches('/').to_owned())
}

fn random_hex(bytes: usize) -> Result<String, SetupError> {
    let mut buffer = vec![0u8; bytes];
    rustls::crypto::aws_lc_rs::default_provider()
        .secure_random
        .fill(&mut buffer)
        .map_err(|_| fail("cannot get random bytes from the system"))?;
    Ok(hex::encode(buffer))
}

fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Everything one setup run decided before it started listening.
struct Plan {
    github_url: String,
    api_url: String,
    org: Option<String>,
    webhook_url: Option<String>,
    env_file: PathBuf,
    name: Option<String>,
    force: bool,
    listen: SocketAddr,
}

impl Plan {
    fn from_args(args: SetupArgs) -> Result<Plan, SetupError> {
        let github_url = web_url("--github-url", &args.github_url)?;
        let api_url = web_url("--api-url", &args.api_url)?;
        let webhook_url = match args.webhook_url.as_deref() {
            Some(url) => Some(web_url("--webhook-url", url)?),
            None => None,
        };
        if let Some(org) = &args.org
            && (org.is_empty() || !org.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        {
            return Err(fail(
                "--org must be an organization's login (letters, digits and -)",
            ));
        }
        let name = args.name.map(|n| n.trim().to_owned());
        if name
            .as_deref()
            .is_some_and(|n| n.is_empty() || n.chars().any(char::is_control))
        {
            return Err(fail("--name must be a non-empty name on one line"));
        }
        if !args.force && std::fs::symlink_metadata(&args.env_file).is_ok() {
            return Err(fail(format!(
                "{} already exists: pass --force to replace it",
                args.env_file.display()
            )));
        }
        let parent = parent_dir(&args.env_file);
        if !parent.is_dir() {
            return Err(fail(format!(
                "--env-file {}: {} is not a directory",
                args.env_file.display(),
                parent.display()
            )));
        }
        Ok(Plan {
            github_url,
            api_url,
            org: args.org,
            webhook_url,
            env_file: args.env_file,
            name,
            force: args.force,
            listen: args.listen,
        })
    }

    /// Where the form posts the manifest.
    fn new_app_url(&self, state: &str) -> String {
        match &self.org {
            Some(org) => format!(
                "{}/organizations/{org}/settings/apps/new?state={state}",
                self.github_url
            ),
            None => format!("{}/settings/apps/new?state={state}", self.github_url),
        }
    }

    fn app_settings_url(&self, slug: &str) -> String {
        match &self.org {
            Some(org) => format!(
                "{}/organizations/{org}/settings/apps/{slug}",
                self.github_url
            ),
            None => format!("{}/settings/apps/{slug}", self.github_url),
        }
    }

    fn install_url(&self, slug: &str) -> String {
        format!("{}/apps/{slug}/installations/new", self.github_url)
    }
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Creates `path` readable by its owner only, from the first byte on. Without `force` an existing
/// file is never touched; with it the text goes to a new private file that is renamed over it.
pub fn write_private_file(path: &Path, text: &str, force: bool) -> Result<(), SetupError> {
    let shown = path.display();
    if !force {
        let mut file = create_private(path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                fail(format!(
                    "{shown} already exists: pass --force to replace it"
                ))
            } else {
                fail(format!("{shown}: cannot create: {e}"))
            }
        })?;
        if let Err(e) = file
            .write_all(text.as_bytes())
            .and_then(|()| file.sync_all())
        {
            drop(file);
            let _ = std::fs::remove_file(path);
            return Err(fail(format!("{shown}: cannot write: {e}")));
        }
        return Ok(());
    }
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "env".into());
    let temporary = parent_dir(path).join(format!(".{file_name}.{}.tmp", random_hex(8)?));
    let written = create_private(&temporary)
        .and_then(|mut file| {
            file.write_all(text.as_bytes())
                .and_then(|()| file.sync_all())
        })
        .and_then(|()| std::fs::rename(&temporary, path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temporary);
        return Err(fail(format!("{shown}: cannot write: {e}")));
    }
    Ok(())
}

#[cfg(unix)]
fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
}

/// What a finished run reports.
struct Registered {
    slug: String,
    id: u64,
    has_webhook_secret: bool,
    /// The env file, or the fallback next to it when the env file could not be written.
    written_to: PathBuf,
}

/// The running flow, shared by the page and the callback.
struct Flow {
    plan: Plan,
    page: String,
    state: String,
    /// `Host` values the page answers to (empty: any, when listening on every address).
    hosts: Vec<String>,
    client: Octocrab,
    /// Set once a callback with the right state began its exchange: a code works only once.
    claimed: AtomicBool,
    outcome: Mutex<Option<Result<Registered, SetupError>>>,
    finished: tokio::sync::Notify,
}

impl Flow {
    fn finish(&self, outcome: Result<Registered, SetupError>) {
        *self.outcome.lock().unwrap_or_else(|e| e.into_inner()) = Some(outcome);
        self.finished.notify_one();
    }

    fn host_allowed(&self, headers: &HeaderMap) -> bool {
        self.hosts.is_empty()
            || headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .is_some_and(|h| self.hosts.iter().any(|allowed| allowed == h))
    }
}

/// Runs the whole flow: returns once the credentials are written, or with the reason they were not.
pub fn run(args: SetupArgs) -> Result<(), SetupError> {
    let plan = Plan::from_args(args)?;
    // Exactly one rustls provider, before any TLS client is built.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| fail(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(run_flow(plan))
}

/// The address a browser on this machine reaches the page at (an unspecified address means loopback).
fn browser_address(bound: SocketAddr) -> SocketAddr {
    let ip = match bound.ip() {
        std::net::IpAddr::V4(ip) if ip.is_unspecified() => std::net::Ipv4Addr::LOCALHOST.into(),
        std::net::IpAddr::V6(ip) if ip.is_unspecified() => std::net::Ipv6Addr::LOCALHOST.into(),
        ip => ip,
    };
    SocketAddr::new(ip, bound.port())
}

async fn run_flow(plan: Plan) -> Result<(), SetupError> {
    let listener = tokio::net::TcpListener::bind(plan.listen)
        .await
        .map_err(|e| fail(format!("--listen {}: cannot listen: {e}", plan.listen)))?;
    let bound = listener
        .local_addr()
        .map_err(|e| fail(format!("--listen {}: {e}", plan.listen)))?;
    let page_addr = browser_address(bound);
    let base = format!("http://{page_addr}");
    let manifest = manifest_for(
        plan.name.as_deref(),
        plan.webhook_url.as_deref(),
        &format!("{base}/callback"),
    )?;
    let state = random_hex(32)?;
    let page = setup_page(&plan, &manifest, &state);
    // A page bound to one address answers only to its own name, so a rebinding DNS name cannot read it.
    let hosts = if bound.ip().is_unspecified() {
        Vec::new()
    } else {
        vec![page_addr.to_string(), format!("localhost:{}", bound.port())]
    };
    let client = Octocrab::builder()
        .base_uri(plan.api_url.as_str())
        .map_err(|e| fail(format!("--api-url {}: {e}", plan.api_url)))?
        // A code converts once: a retried POST whose first answer was lost would only fail.
        .add_retry_config(RetryConfig::None)
        .set_connect_timeout(Some(Duration::from_secs(10)))
        .set_read_timeout(Some(Duration::from_secs(60)))
        .build()
        .map_err(|e| fail(format!("cannot build the GitHub client: {e}")))?;
    let flow = Arc::new(Flow {
        plan,
        page,
        state,
        hosts,
        client,
        claimed: AtomicBool::new(false),
        outcome: Mutex::new(None),
        finished: tokio::sync::Notify::new(),
    });
    let app = axum::Router::new()
        .route("/", axum::routing::get(serve_page))
        .route("/callback", axum::routing::get(callback))
        .with_state(flow.clone());

    println!(
        "Open {base}/ in a browser signed in to GitHub and press the button to register the App."
    );
    let _ = std::io::stdout().flush();

    let stopping = Arc::new(tokio::sync::Notify::new());
    let stop = {
        let (flow, stopping) = (flow.clone(), stopping.clone());
        async move {
            tokio::select! {
                _ = flow.finished.notified() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
            stopping.notify_one();
        }
    };
    let server = axum::serve(listener, app).with_graceful_shutdown(stop);
    tokio::select! {
        served = server.into_future() => {
            served.map_err(|e| fail(format!("the setup page stopped: {e}")))?;
        }
        // The last answer gets a few seconds to reach the browser; an idle connection does not hold us.
        _ = async { stopping.notified().await; tokio::time::sleep(Duration::from_secs(5)).await } => {}
    }

    let outcome = flow
        .outcome
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take();
    match outcome {
        None => Err(fail(
            "setup stopped before GitHub sent the App back: nothing was written",
        )),
        Some(Err(e)) => Err(e),
        Some(Ok(registered)) => {
            print!("{}", next_steps(&flow.plan, &registered));
            Ok(())
        }
    }
}

fn next_steps(plan: &Plan, registered: &Registered) -> String {
    let env_file = registered.written_to.display();
    let settings = plan.app_settings_url(&registered.slug);
    let mut out = format!(
        "Registered the GitHub App {slug} (id {id}) and wrote its credentials to {env_file} (mode 0600).\n",
        slug = registered.slug,
        id = registered.id,
    );
    if registered.written_to != plan.env_file {
        out += &format!(
            "{} could not be written, so they are in {env_file}: rename it when you are ready.\n",
            plan.env_file.display()
        );
    }
    out += "Next:\n";
    if plan.webhook_url.is_none() {
        out += &format!(
            "  - Set the webhook URL to your server's public https://…/webhook and make the webhook active: {settings}\n"
        );
    }
    if !registered.has_webhook_secret {
        out += &format!(
            "  - GitHub set no webhook secret: set one at {settings} and as {} in {env_file}\n",
            config::WEBHOOK_SECRET
        );
    }
    out += &format!(
        "  - Install the App on the repositories it should serve: {}\n",
        plan.install_url(&registered.slug)
    );
    out += &format!(
        "  - Start it: opsmith serve --env-file {env_file}   (or with compose.yaml: docker compose up -d)\n"
    );
    out
}

/// The page whose button posts the manifest to GitHub; every value in it is escaped.
fn setup_page(plan: &Plan, manifest: &Value, state: &str) -> String {
    let list = |items: Vec<String>| -> String {
        items
            .iter()
            .map(|i| format!("<li><code>{}</code></li>", html_escape(i)))
            .collect()
    };
    let permissions = manifest["default_permissions"]
        .as_object()
        .map(|p| {
            p.iter()
                .map(|(k, v)| format!("{k}: {}", v.as_str().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default();
    let events = manifest["default_events"]
        .as_array()
        .map(|e| {
            e.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let owner = match &plan.org {
        Some(org) => format!("the organization {org}"),
        None => "your account".to_owned(),
    };
    let webhook = match &plan.webhook_url {
        Some(url) => format!("Webhooks go to {url}."),
        None => "The webhook is registered inactive: set its URL in the App's settings afterwards."
            .to_owned(),
    };
    format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Register {name} on GitHub</title>
<style>body{{font-family:system-ui,sans-serif;max-width:42rem;margin:3rem auto;padding:0 1rem;line-height:1.5}}button{{font-size:1.1rem;padding:.5rem 1rem}}</style>
</head>
<body>
<h1>Register the GitHub App {name}</h1>
<p>The button sends opsmith's App manifest to {github} to create the App under {owner}. GitHub shows
what the App asks for; once you confirm, GitHub sends you back here and opsmith writes the App's id,
private key and webhook secret to {env_file}.</p>
<p>{webhook}</p>
<h2>Permissions</h2>
<ul>{permissions}</ul>
<h2>Events</h2>
<ul>{events}</ul>
<form method="post" action="{action}">
<input type="hidden" name="manifest" value="{manifest}">
<button type="submit">Create the App on GitHub</button>
</form>
</body>
</html>
"#,
        name = html_escape(manifest["name"].as_str().unwrap_or("opsmith")),
        github = html_escape(&plan.github_url),
        owner = html_escape(&owner),
        env_file = html_escape(&plan.env_file.display().to_string()),
        webhook = html_escape(&webhook),
        permissions = list(permissions),
        events = list(events),
        action = html_escape(&plan.new_app_url(state)),
        manifest = html_escape(&manifest.to_string()),
    )
}

fn message_page(title: &str, lines: &[String]) -> String {
    let body: String = lines
        .iter()
        .map(|l| format!("<p>{}</p>\n", html_escape(l)))
        .collect();
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{title}</title>\n</head>\n<body>\n<h1>{title}</h1>\n{body}</body>\n</html>\n",
        title = html_escape(title),
    )
}

fn html_response(status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'",
        ),
    );
    // The callback URL carries the code: it must not travel on in a Referer.
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn wrong_host() -> Response {
    html_response(
        StatusCode::BAD_REQUEST,
        message_page(
            "Wrong address",
            &["Open the setup page at the address opsmith setup printed.".to_owned()],
        ),
    )
}

async fn serve_page(State(flow): State<Arc<Flow>>, headers: HeaderMap) -> Response {
    if !flow.host_allowed(&headers) {
        return wrong_host();
    }
    html_response(StatusCode::OK, flow.page.clone())
}

async fn callback(
    State(flow): State<Arc<Flow>>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    if !flow.host_allowed(&headers) {
        return wrong_host();
    }
    let state_matches = params
        .get("state")
        .is_some_and(|state| same_secret(state, &flow.state));
    if !state_matches {
        return html_response(
            StatusCode::BAD_REQUEST,
            message_page(
                "Not this setup's callback",
                &["The state in this address is not the one this setup page sent to GitHub, so nothing was written. Register the App from the page opsmith setup printed.".to_owned()],
            ),
        );
    }
    let code = params.get("code").filter(|code| {
        !code.is_empty()
            && code.len() <= 256
            && code
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    });
    let Some(code) = code else {
        return html_response(
            StatusCode::BAD_REQUEST,
            message_page(
                "No code from GitHub",
                &["GitHub's redirect carries no valid code, so nothing was written.".to_owned()],
            ),
        );
    };
    if flow.claimed.swap(true, Ordering::SeqCst) {
        return html_response(
            StatusCode::CONFLICT,
            message_page(
                "Already handled",
                &["This setup run already exchanged GitHub's code.".to_owned()],
            ),
        );
    }

    let result = register(&flow, code).await;
    let response = match &result {
        Ok(registered) => html_response(
            StatusCode::OK,
            message_page(
                "The App is registered",
                &[
                    format!(
                        "GitHub created the App {} (id {}); its credentials are in {}.",
                        registered.slug,
                        registered.id,
                        registered.written_to.display()
                    ),
                    format!(
                        "Next, install it on your repositories: {}",
                        flow.plan.install_url(&registered.slug)
                    ),
                    "The terminal lists the remaining steps; you can close this page.".to_owned(),
                ],
            ),
        ),
        Err((status, error)) => html_response(
            *status,
            message_page("Setup failed", std::slice::from_ref(&error.0)),
        ),
    };
    flow.finish(result.map_err(|(_, error)| error));
    response
}

/// Exchanges the code and writes the env file; the status is the page's answer on failure.
async fn register(flow: &Flow, code: &str) -> Result<Registered, (StatusCode, SetupError)> {
    let bad_gateway = |e: SetupError| (StatusCode::BAD_GATEWAY, e);
    let answer: Value = flow
        .client
        .post(format!("/app-manifests/{code}/conversions"), None::<&()>)
        .await
        .map_err(|e| bad_gateway(conversion_error(&flow.plan.api_url, &e)))?;
    let app = RegisteredApp::from_conversion(&answer).map_err(bad_gateway)?;
    let text = env_file_text(&app, &flow.plan.api_url);
    let env_file = &flow.plan.env_file;
    // GitHub hands out the private key once: if the env file cannot be written (it appeared since
    // start-up, say), the key goes to a new private file beside it rather than being lost.
    let written_to = match write_private_file(env_file, &text, flow.plan.force) {
        Ok(()) => env_file.clone(),
        Err(first) => {
            let mut fallback = env_file.as_os_str().to_owned();
            fallback.push(format!(".{}", app.slug));
            let fallback = PathBuf::from(fallback);
            write_private_file(&fallback, &text, false).map_err(|_| {
                let e = fail(format!(
                    "{first}; the App {} was created but its credentials could not be saved: generate a new private key in its settings",
                    app.slug
                ));
                (StatusCode::INTERNAL_SERVER_ERROR, e)
            })?;
            fallback
        }
    };
    Ok(Registered {
        slug: app.slug,
        id: app.id,
        has_webhook_secret: app.webhook_secret.is_some(),
        written_to,
    })
}

fn conversion_error(api_url: &str, error: &octocrab::Error) -> SetupError {
    match error {
        octocrab::Error::GitHub { source, .. } => fail(format!(
            "GitHub did not convert the manifest code (HTTP {}: {}); a code works once and for an hour only: run opsmith setup again (if GitHub created the App, delete it or generate a new private key in its settings)",
            source.status_code.as_u16(),
            source.message
        )),
        other => fail(format!(
            "cannot exchange the manifest code at {api_url}: {other}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // A 2048-bit test key generated for these tests only.
    const TEST_KEY: &str = include_str!("../tests/keys/app-test.pem");

    fn conversion(pem: &str, secret: Value) -> Value {
        serde_json::json!({
            "id": 99, "slug": "opsmith-acme", "pem": pem, "webhook_secret": secret,
            "client_id": "Iv1.abc", "client_secret": "not-kept",
        })
    }

    #[test]
    fn manifest_asks_for_exactly_least_privilege() {
        let manifest = manifest().unwrap();
        assert_eq!(
            manifest["default_permissions"],
            serde_json::json!({
                "contents": "write", "pull_requests": "write", "issues": "write",
                "checks": "write", "metadata": "read", "security_events": "write",
                "workflows": "write",
            })
        );
        // installation and installation_repositories reach every App and cannot be subscribed to.
        assert_eq!(
            manifest["default_events"],
            serde_json::json!(["push", "issue_comment", "pull_request", "check_run"])
        );
        assert_eq!(manifest["public"], Value::Bool(false));
        assert_eq!(manifest["name"], "opsmith");
    }

    #[test]
    fn run_values_replace_the_placeholders() {
        let with_hook = manifest_for(
            Some("opsmith-acme"),
            Some("https://opsmith.acme.dev/webhook"),
            "http://127.0.0.1:4000/callback",
        )
        .unwrap();
        assert_eq!(with_hook["name"], "opsmith-acme");
        assert_eq!(
            with_hook["hook_attributes"],
            serde_json::json!({"url": "https://opsmith.acme.dev/webhook", "active": true})
        );
        assert_eq!(with_hook["redirect_url"], "http://127.0.0.1:4000/callback");
        let without = manifest_for(None, None, "http://127.0.0.1:4000/callback").unwrap();
        assert_eq!(without["hook_attributes"]["active"], Value::Bool(false));
    }

    #[test]
    fn env_file_reads_back_into_settings_unchanged() {
        let answer = conversion(TEST_KEY, Value::from("0123abcdef$x"));
        let app = RegisteredApp::from_conversion(&answer).unwrap();
        let text = env_file_text(&app, "https://ghe.example.com/api/v3");
        let values = config::parse_env_file(&text).unwrap();
        assert_eq!(values[config::PRIVATE_KEY], TEST_KEY);
        assert_eq!(values[config::WEBHOOK_SECRET], "0123abcdef$x");
        let settings = config::Settings::from_lookup(|name| values.get(name).cloned()).unwrap();
        assert_eq!(settings.app_id, 99);
        assert_eq!(settings.app_slug, "opsmith-acme");
        assert_eq!(settings.github_api_url, "https://ghe.example.com/api/v3");
        assert_eq!(settings.private_key.expose_secret(), TEST_KEY);
        assert_eq!(settings.webhook_secret.expose_secret(), "0123abcdef$x");
        // One line per setting: the PEM's newlines are escaped.
        assert_eq!(text.lines().filter(|l| !l.starts_with('#')).count(), 5);
    }

    #[test]
    fn default_api_url_is_not_written() {
        let app = RegisteredApp::from_conversion(&conversion(TEST_KEY, Value::from("s"))).unwrap();
        let text = env_file_text(&app, DEFAULT_API_URL);
        assert!(!text.contains(config::GITHUB_API_URL), "{text}");
    }

    #[test]
    fn missing_webhook_secret_leaves_the_setting_empty() {
        let app = RegisteredApp::from_conversion(&conversion(TEST_KEY, Value::Null)).unwrap();
        let values = config::parse_env_file(&env_file_text(&app, DEFAULT_API_URL)).unwrap();
        assert_eq!(values[config::WEBHOOK_SECRET], "");
    }

    #[test]
    fn values_an_env_file_cannot_hold_are_refused() {
        for (pem, secret) in [
            ("-----BEGIN RSA PRIVATE KEY-----\n\"x\n", Value::from("s")),
            ("not a pem", Value::from("s")),
            (TEST_KEY, Value::from("it's")),
            (TEST_KEY, Value::from("two\nlines")),
            (TEST_KEY, Value::from(7)),
        ] {
            let error = RegisteredApp::from_conversion(&conversion(pem, secret)).unwrap_err();
            assert!(!error.0.contains("BEGIN"), "{error}");
        }
        let bad_slug =
            serde_json::json!({"id": 1, "slug": "a b", "pem": TEST_KEY, "webhook_secret": "s"});
        assert!(RegisteredApp::from_conversion(&bad_slug).is_err());
        let no_id = serde_json::json!({"slug": "a", "pem": TEST_KEY, "webhook_secret": "s"});
        assert!(RegisteredApp::from_conversion(&no_id).is_err());
    }

    #[test]
    fn debug_never_shows_the_key_or_secret() {
        let app =
            RegisteredApp::from_conversion(&conversion(TEST_KEY, Value::from("hush-123"))).unwrap();
        let debug = format!("{app:?}");
        assert!(
            !debug.contains("hush-123") && !debug.contains("BEGIN"),
            "{debug}"
        );
        assert!(debug.contains("opsmith-acme"), "{debug}");
    }

    #[test]
    fn html_escape_covers_markup_and_quotes() {
        assert_eq!(
            html_escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn urls_and_names_are_checked() {
        assert_eq!(
            web_url("--github-url", "https://ghe.example.com/").unwrap(),
            "https://ghe.example.com"
        );
        for bad in [
            "ftp://x",
            "github.com",
            "https://x/?a=1",
            "https://x/#f",
            "",
        ] {
            assert!(web_url("--github-url", bad).is_err(), "{bad}");
        }
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd") && !same_secret("abc", "ab"));
    }

    #[test]
    fn private_file_is_created_0600_and_never_replaced_without_force() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".env");
        write_private_file(&path, "A=1\n", false).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let error = write_private_file(&path, "A=2\n", false).unwrap_err();
        assert!(error.0.contains("--force"), "{error}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "A=1\n");

        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        write_private_file(&path, "A=3\n", true).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "A=3\n");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        // No temporary file is left behind.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
