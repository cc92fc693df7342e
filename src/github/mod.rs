//! The App's GitHub REST client: App JWTs, installation tokens narrowed to one repository and
//! refreshed before they expire, the calls a run makes, and GitHub's rate-limit rules.
//!
//! Every call goes through [`GitHub::call`]: `retry-after` and `x-ratelimit-reset` are honoured,
//! 5xx answers and transport errors are retried with exponential backoff, attempts are capped, and
//! mutations for one installation are sent one at a time (GitHub's secondary limits punish
//! concurrent content creation). Tokens are `secrecy` values: they appear in no log and no error.

mod calls;

pub use calls::{IssueComment, PullHead, PullRequest, RepoClient, RepoInfo};

use axum::http::{HeaderMap, Method, Request, header};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use octocrab::Octocrab;
use octocrab::service::middleware::retry::RetryConfig;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const JSON_MEDIA_TYPE: &str = "application/vnd.github+json";
/// A file's contents as they are, instead of base64 inside JSON.
const RAW_MEDIA_TYPE: &str = "application/vnd.github.raw+json";

/// Counter of API calls, by operation and HTTP status (`error` when no answer came).
pub const API_CALLS: &str = "opsmith_github_api_calls_total";
/// Gauge: `x-ratelimit-remaining` of the last answer.
pub const RATE_LIMIT_REMAINING: &str = "opsmith_github_rate_limit_remaining";

/// How the client talks to GitHub.
#[derive(Debug, Clone)]
pub struct ClientSettings {
    /// REST base URL without a trailing slash (`https://api.github.com`).
    pub api_url: String,
    /// Tries per call, the first included.
    pub max_attempts: u32,
    /// First backoff after a 5xx or transport error; doubled each time.
    pub backoff_base: Duration,
    /// The longest opsmith waits inside one call (for `retry-after` or a reset); a longer wait
    /// fails the call as rate-limited, and the job is retried later by the queue instead.
    pub max_wait: Duration,
    /// One request's time limit.
    pub request_timeout: Duration,
}

impl ClientSettings {
    pub fn new(api_url: &str) -> ClientSettings {
        ClientSettings {
            api_url: api_url.trim_end_matches('/').to_string(),
            max_attempts: 6,
            backoff_base: Duration::from_secs(1),
            max_wait: Duration::from_secs(120),
            request_timeout: Duration::from_secs(30),
        }
    }
}

/// What a call failed with. Never holds a token.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("GitHub answered {status} to {operation}: {message}")]
    Status {
        operation: &'static str,
        status: u16,
        message: String,
    },
    #[error("GitHub rate-limited {operation}; it may be retried in {} s", wait.as_secs())]
    RateLimited {
        operation: &'static str,
        wait: Duration,
    },
    #[error("no answer from GitHub to {operation}: {message}")]
    Transport {
        operation: &'static str,
        message: String,
    },
    #[error("GitHub's answer to {operation} could not be read: {message}")]
    Malformed {
        operation: &'static str,
        message: String,
    },
    #[error("the App's private key cannot sign a JWT: {0}")]
    Key(String),
    #[error("{0} is not a valid GitHub name")]
    InvalidName(String),
}

impl ApiError {
    /// Whether trying the whole job again later may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            ApiError::Status { status, .. } => *status >= 500 || *status == 429 || *status == 401,
            ApiError::RateLimited { .. } | ApiError::Transport { .. } => true,
            ApiError::Malformed { .. } | ApiError::Key(_) | ApiError::InvalidName(_) => false,
        }
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// The permissions an installation token is narrowed to (`contents` → `write`, …).
pub type Permissions = BTreeMap<&'static str, &'static str>;

/// Who a request is made as.
#[derive(Clone, Copy)]
enum Auth<'a> {
    /// The App itself (a JWT): app-level endpoints.
    App,
    /// An installation token for one repository.
    Repo(&'a TokenScope),
}

/// Which token a request needs: one installation, one repository, some permissions.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TokenScope {
    pub installation_id: i64,
    /// The repository name without its owner (what `repositories` in the token request takes).
    pub repository: String,
    pub permissions: Vec<(&'static str, &'static str)>,
}

struct CachedToken {
    secret: SecretString,
    minted_at: SystemTime,
    expires_at: SystemTime,
}

impl CachedToken {
    /// Fresh enough to start a request with: more than a quarter of its life and more than a
    /// minute left, so a clone or push that starts with it finishes before it expires.
    fn is_fresh(&self, now: SystemTime) -> bool {
        let life = self
            .expires_at
            .duration_since(self.minted_at)
            .unwrap_or_default();
        let left = self.expires_at.duration_since(now).unwrap_or_default();
        left > (life / 4)
            .max(Duration::from_secs(1))
            .min(Duration::from_secs(15 * 60))
    }
}

/// The App's client. Cheap to share (`Arc`); tokens are cached per repository and permission set.
pub struct GitHub {
    octo: Octocrab,
    app_id: u64,
    key: EncodingKey,
    settings: ClientSettings,
    tokens: Mutex<HashMap<TokenScope, Arc<CachedToken>>>,
    mutations: Mutex<HashMap<i64, Arc<tokio::sync::Mutex<()>>>>,
}

impl std::fmt::Debug for GitHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitHub")
            .field("api_url", &self.settings.api_url)
            .field("app_id", &self.app_id)
            .finish_non_exhaustive()
    }
}

impl GitHub {
    /// A client for the App `app_id` signing with `private_key` (PEM).
    pub fn new(
        app_id: u64,
        private_key: &SecretString,
        settings: ClientSettings,
    ) -> Result<GitHub, ApiError> {
        let key = EncodingKey::from_rsa_pem(private_key.expose_secret().as_bytes())
            .map_err(|e| ApiError::Key(e.to_string()))?;
        let octo = Octocrab::builder()
            .base_uri(settings.api_url.as_str())
            .map_err(|_| ApiError::InvalidName(settings.api_url.clone()))?
            // opsmith retries itself: it needs the headers, the caps and the metrics.
            .add_retry_config(RetryConfig::None)
            .set_connect_timeout(Some(Duration::from_secs(10)))
            .set_read_timeout(Some(settings.request_timeout))
            .build()
            .map_err(|e| ApiError::Transport {
                operation: "client setup",
                message: e.to_string(),
            })?;
        Ok(GitHub {
            octo,
            app_id,
            key,
            settings,
            tokens: Mutex::default(),
            mutations: Mutex::default(),
        })
    }

    pub fn settings(&self) -> &ClientSettings {
        &self.settings
    }

    /// A client for one repository (`owner/name`) of an installation, with a token narrowed to
    /// that repository and `permissions`.
    pub fn repo(
        &self,
        installation_id: i64,
        full_name: &str,
        permissions: &Permissions,
    ) -> Result<RepoClient<'_>, ApiError> {
        RepoClient::new(self, installation_id, full_name, permissions)
    }

    /// The App's slug (`GET /app`), which is also its bot's login without `[bot]`.
    pub async fn app_slug(&self) -> Result<String, ApiError> {
        let app = self
            .call(
                "apps.get-authenticated",
                Method::GET,
                "/app",
                Auth::App,
                None,
            )
            .await?;
        app.get("slug")
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or(ApiError::Malformed {
                operation: "apps.get-authenticated",
                message: "no slug".into(),
            })
    }

    /// A JWT for the App: RS256, issued a minute in the past (clock skew), valid nine minutes.
    fn app_jwt(&self) -> Result<String, ApiError> {
        #[derive(Serialize)]
        struct Claims {
            iat: u64,
            exp: u64,
            iss: u64,
        }
        let now = unix_seconds(SystemTime::now());
        let claims = Claims {
            iat: now.saturating_sub(60),
            exp: now + 9 * 60,
            iss: self.app_id,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::RS256), &claims, &self.key)
            .map_err(|e| ApiError::Key(e.to_string()))
    }

    /// The installation token for `scope`, minted (`POST /app/installations/{id}/access_tokens`,
    /// narrowed to one repository and the permissions asked) when none is cached or the cached one
    /// is getting old.
    async fn token(&self, scope: &TokenScope) -> Result<SecretString, ApiError> {
        let now = SystemTime::now();
        if let Some(cached) = self.tokens.lock().unwrap().get(scope)
            && cached.is_fresh(now)
        {
            return Ok(cached.secret.clone());
        }
        let permissions: serde_json::Map<String, Value> = scope
            .permissions
            .iter()
            .map(|(k, v)| (k.to_string(), Value::from(*v)))
            .collect();
        let body = serde_json::json!({
            "repositories": [scope.repository],
            "permissions": permissions,
        });
        let path = format!("/app/installations/{}/access_tokens", scope.installation_id);
        let minted = self
            .call(
                "apps.create-installation-access-token",
                Method::POST,
                &path,
                Auth::App,
                Some(&body),
            )
            .await?;
        let malformed = |message: &str| ApiError::Malformed {
            operation: "apps.create-installation-access-token",
            message: message.into(),
        };
        let secret = minted
            .get("token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| malformed("no token"))?;
        let expires_at = minted
            .get("expires_at")
            .and_then(Value::as_str)
            .and_then(parse_utc_timestamp)
            .ok_or_else(|| malformed("no readable expires_at"))?;
        let token = Arc::new(CachedToken {
            secret: SecretString::from(secret.to_string()),
            minted_at: now,
            expires_at,
        });
        let secret = token.secret.clone();
        self.tokens.lock().unwrap().insert(scope.clone(), token);
        Ok(secret)
    }

    fn forget_token(&self, scope: &TokenScope) {
        self.tokens.lock().unwrap().remove(scope);
    }

    fn mutation_lock(&self, installation_id: i64) -> Arc<tokio::sync::Mutex<()>> {
        self.mutations
            .lock()
            .unwrap()
            .entry(installation_id)
            .or_default()
            .clone()
    }

    /// One REST call with GitHub's retry rules; returns the JSON answer (`null` for an empty one).
    async fn call(
        &self,
        operation: &'static str,
        method: Method,
        path: &str,
        auth: Auth<'_>,
        body: Option<&Value>,
    ) -> Result<Value, ApiError> {
        let text = self
            .call_text(operation, method, path, auth, body, JSON_MEDIA_TYPE, None)
            .await?;
        parse_json(operation, &text)
    }

    /// One REST call with GitHub's retry rules, asking for `accept`; returns the answer's text.
    /// `attempts` caps the tries below the client's setting (a best-effort call tries once).
    #[allow(clippy::too_many_arguments)]
    async fn call_text(
        &self,
        operation: &'static str,
        method: Method,
        path: &str,
        auth: Auth<'_>,
        body: Option<&Value>,
        accept: &'static str,
        attempts: Option<u32>,
    ) -> Result<String, ApiError> {
        let max_attempts = attempts.map_or(self.settings.max_attempts, |a| {
            a.clamp(1, self.settings.max_attempts)
        });
        let is_mutation = method != Method::GET && method != Method::HEAD;
        let lock = match auth {
            Auth::Repo(scope) if is_mutation => Some(self.mutation_lock(scope.installation_id)),
            _ => None,
        };
        let _one_at_a_time = match &lock {
            Some(lock) => Some(lock.lock().await),
            None => None,
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            let last = attempt >= max_attempts;
            let wait = match self
                .send(operation, &method, path, auth, body, accept)
                .await
            {
                Ok(Answer {
                    status,
                    headers,
                    text,
                }) => {
                    if (200..300).contains(&status) {
                        return Ok(text);
                    }
                    if status == 401
                        && let Auth::Repo(scope) = auth
                    {
                        // A revoked or expired token: mint a new one and try again.
                        self.forget_token(scope);
                    }
                    let failure = ApiError::Status {
                        operation,
                        status,
                        message: error_message(&text),
                    };
                    match retry_wait(status, &headers, &text, attempt, &self.settings) {
                        Some(wait) if wait > self.settings.max_wait => {
                            return Err(ApiError::RateLimited { operation, wait });
                        }
                        Some(_) if last => return Err(failure),
                        Some(wait) => wait,
                        None => return Err(failure),
                    }
                }
                Err(failure) => {
                    if last {
                        return Err(failure);
                    }
                    backoff(attempt, &self.settings)
                }
            };
            tracing::debug!(
                operation,
                attempt,
                wait_ms = wait.as_millis() as u64,
                "retrying a GitHub call"
            );
            tokio::time::sleep(wait).await;
        }
    }

    /// Sends one request and reads the whole answer.
    async fn send(
        &self,
        operation: &'static str,
        method: &Method,
        path: &str,
        auth: Auth<'_>,
        body: Option<&Value>,
        accept: &'static str,
    ) -> Result<Answer, ApiError> {
        let authorization = match auth {
            Auth::App => Some(format!("Bearer {}", self.app_jwt()?)),
            // Boxed: minting a token is itself a call.
            Auth::Repo(scope) => Some(format!(
                "Bearer {}",
                Box::pin(self.token(scope)).await?.expose_secret()
            )),
        };
        let mut builder = Request::builder()
            .method(method.clone())
            .uri(path)
            .header(header::ACCEPT, accept)
            .header("x-github-api-version", "2022-11-28");
        if let Some(value) = authorization {
            let mut value = header::HeaderValue::from_str(&value)
                .map_err(|_| ApiError::Key("the token is not a valid header value".into()))?;
            value.set_sensitive(true);
            builder = builder.header(header::AUTHORIZATION, value);
        }
        let transport = |message: String| ApiError::Transport { operation, message };
        let request = self
            .octo
            .build_request(builder, body)
            .map_err(|e| transport(e.to_string()))?;
        let exchange = async {
            let response = self.octo.execute(request).await?;
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let text = self.octo.body_to_string(response).await?;
            Ok::<_, octocrab::Error>(Answer {
                status,
                headers,
                text,
            })
        };
        let answer = match tokio::time::timeout(self.settings.request_timeout, exchange).await {
            Err(_) => Err(transport(format!(
                "timed out after {} s",
                self.settings.request_timeout.as_secs()
            ))),
            Ok(Err(e)) => Err(transport(describe_transport_error(&e))),
            Ok(Ok(answer)) => Ok(answer),
        };
        let status = match &answer {
            Ok(a) => status_label(a.status),
            Err(_) => "error",
        };
        metrics::counter!(API_CALLS, "operation" => operation, "status" => status).increment(1);
        if let Ok(a) = &answer
            && let Some(remaining) = header_number(&a.headers, "x-ratelimit-remaining")
        {
            metrics::gauge!(RATE_LIMIT_REMAINING).set(remaining as f64);
        }
        answer
    }
}

struct Answer {
    status: u16,
    headers: HeaderMap,
    text: String,
}

/// How long to wait before trying again, or None when the answer is final. Follows GitHub's
/// rules: `retry-after` first; then a reset time when the quota is spent; 5xx with exponential
/// backoff; a secondary limit without headers waits at least a minute.
fn retry_wait(
    status: u16,
    headers: &HeaderMap,
    text: &str,
    attempt: u32,
    settings: &ClientSettings,
) -> Option<Duration> {
    let rate_limited = status == 429 || status == 403;
    if rate_limited {
        if let Some(seconds) = header_number(headers, "retry-after") {
            return Some(Duration::from_secs(seconds));
        }
        if header_number(headers, "x-ratelimit-remaining") == Some(0) {
            let reset = header_number(headers, "x-ratelimit-reset").unwrap_or(0);
            let now = unix_seconds(SystemTime::now());
            return Some(Duration::from_secs(reset.saturating_sub(now) + 1));
        }
        if status == 429 || text.to_ascii_lowercase().contains("rate limit") {
            return Some(backoff(attempt, settings).max(Duration::from_secs(60)));
        }
        // A plain 403 is a refusal (missing permission), not a limit.
        return None;
    }
    if status == 401 {
        // Retried once with a fresh token.
        return (attempt == 1).then_some(Duration::ZERO);
    }
    (status >= 500).then(|| backoff(attempt, settings))
}

/// `base × 2^(attempt-1)`, capped at a minute, with up to 25% jitter so replicas do not retry in step.
fn backoff(attempt: u32, settings: &ClientSettings) -> Duration {
    let exponential = settings
        .backoff_base
        .saturating_mul(1u32 << attempt.saturating_sub(1).min(16))
        .min(Duration::from_secs(60));
    let jitter = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .subsec_nanos()
        % 250;
    exponential + exponential.mul_f64(f64::from(jitter) / 1000.0)
}

fn header_number(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

pub(super) fn parse_json(operation: &'static str, text: &str) -> Result<Value, ApiError> {
    if text.trim().is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_str(text).map_err(|e| ApiError::Malformed {
        operation,
        message: e.to_string(),
    })
}

/// GitHub's `message` (and the first validation error), cut short; never the whole body.
fn error_message(text: &str) -> String {
    let parsed: Option<Value> = serde_json::from_str(text).ok();
    let mut message = parsed
        .as_ref()
        .and_then(|v| v.get("message"))
        .and_then(Value::as_str)
        .unwrap_or("(no message)")
        .to_string();
    if let Some(detail) = parsed
        .as_ref()
        .and_then(|v| v.get("errors"))
        .and_then(|e| e.get(0))
        .and_then(|e| e.get("message").or_else(|| e.get("code")))
        .and_then(Value::as_str)
    {
        message.push_str(": ");
        message.push_str(detail);
    }
    message.chars().take(300).collect()
}

fn describe_transport_error(error: &octocrab::Error) -> String {
    // octocrab's Display of a hyper error is "Hyper error"; the source chain says what happened.
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text.chars().take(300).collect()
}

fn status_label(status: u16) -> &'static str {
    match status {
        200 => "200",
        201 => "201",
        202 => "202",
        204 => "204",
        304 => "304",
        400 => "400",
        401 => "401",
        403 => "403",
        404 => "404",
        409 => "409",
        422 => "422",
        429 => "429",
        500 => "500",
        502 => "502",
        503 => "503",
        504 => "504",
        s if s < 300 => "2xx",
        s if s < 500 => "4xx",
        _ => "5xx",
    }
}

fn unix_seconds(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

/// `2016-07-11T22:14:10Z` (what GitHub sends) as a time; other offsets and fractions are accepted.
pub fn parse_utc_timestamp(text: &str) -> Option<SystemTime> {
    let text = text.trim();
    let (date, rest) = text.split_once('T')?;
    let mut date_parts = date.split('-');
    let year: i64 = date_parts.next()?.parse().ok()?;
    let month: i64 = date_parts.next()?.parse().ok()?;
    let day: i64 = date_parts.next()?.parse().ok()?;
    let (clock, offset_seconds) = if let Some(clock) = rest.strip_suffix('Z') {
        (clock, 0)
    } else {
        let split = rest.rfind(['+', '-'])?;
        let (clock, offset) = rest.split_at(split);
        let sign = if offset.starts_with('-') { -1 } else { 1 };
        let (h, m) = offset[1..].split_once(':')?;
        let offset = h.parse::<i64>().ok()? * 3600 + m.parse::<i64>().ok()? * 60;
        (clock, sign * offset)
    };
    let clock = clock.split('.').next()?;
    let mut clock_parts = clock.split(':');
    let hour: i64 = clock_parts.next()?.parse().ok()?;
    let minute: i64 = clock_parts.next()?.parse().ok()?;
    let second: i64 = clock_parts.next()?.parse().ok()?;
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_seconds;
    u64::try_from(seconds)
        .ok()
        .map(|s| UNIX_EPOCH + Duration::from_secs(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, v.parse().unwrap());
        }
        map
    }

    fn settings() -> ClientSettings {
        ClientSettings {
            backoff_base: Duration::from_millis(100),
            ..ClientSettings::new("http://localhost")
        }
    }

    #[test]
    fn timestamps_are_read_as_github_writes_them() {
        let t = parse_utc_timestamp("2016-07-11T22:14:10Z").unwrap();
        assert_eq!(unix_seconds(t), 1_468_275_250);
        let offset = parse_utc_timestamp("2016-07-12T00:14:10+02:00").unwrap();
        assert_eq!(t, offset);
        assert_eq!(
            unix_seconds(parse_utc_timestamp("2026-11-25T21:30:00.123Z").unwrap()),
            1_795_642_200
        );
        for bad in [
            "",
            "2016-07-11",
            "2016-13-11T00:00:00Z",
            "yesterday",
            "2016-07-11T25:00:00Z",
        ] {
            assert!(parse_utc_timestamp(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn retry_after_is_honoured_before_anything_else() {
        let h = headers(&[("retry-after", "7"), ("x-ratelimit-remaining", "0")]);
        for status in [403, 429] {
            assert_eq!(
                retry_wait(status, &h, "", 1, &settings()),
                Some(Duration::from_secs(7))
            );
        }
    }

    #[test]
    fn a_spent_quota_waits_until_the_reset() {
        let reset = unix_seconds(SystemTime::now()) + 30;
        let h = headers(&[
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", &reset.to_string()),
        ]);
        let wait = retry_wait(403, &h, "", 1, &settings()).unwrap();
        assert!((29..=32).contains(&wait.as_secs()), "{wait:?}");
    }

    #[test]
    fn a_plain_403_is_final_and_a_secondary_limit_waits_a_minute() {
        let none = HeaderMap::new();
        assert_eq!(
            retry_wait(
                403,
                &none,
                r#"{"message":"Resource not accessible by integration"}"#,
                1,
                &settings()
            ),
            None
        );
        let wait = retry_wait(
            403,
            &none,
            r#"{"message":"You have exceeded a secondary rate limit"}"#,
            1,
            &settings(),
        )
        .unwrap();
        assert!(wait >= Duration::from_secs(60));
        assert!(retry_wait(429, &none, "", 1, &settings()).unwrap() >= Duration::from_secs(60));
    }

    #[test]
    fn server_errors_back_off_exponentially_and_client_errors_do_not_retry() {
        let none = HeaderMap::new();
        let first = retry_wait(502, &none, "", 1, &settings()).unwrap();
        let third = retry_wait(502, &none, "", 3, &settings()).unwrap();
        assert!(first >= Duration::from_millis(100) && first < Duration::from_millis(130));
        assert!(third >= Duration::from_millis(400) && third < Duration::from_millis(510));
        for status in [400, 404, 409, 422] {
            assert_eq!(
                retry_wait(status, &none, "", 1, &settings()),
                None,
                "{status}"
            );
        }
        assert_eq!(
            retry_wait(401, &none, "", 1, &settings()),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_wait(401, &none, "", 2, &settings()), None);
    }

    #[test]
    fn backoff_is_capped() {
        let slow = ClientSettings {
            backoff_base: Duration::from_secs(10),
            ..settings()
        };
        assert!(backoff(12, &slow) <= Duration::from_secs(75));
    }

    #[test]
    fn error_messages_carry_githubs_reason_and_not_the_body() {
        let text = r#"{"message":"Validation Failed","errors":[{"resource":"PullRequest","code":"custom","message":"A pull request already exists for o:opsmith/devops."}]}"#;
        assert_eq!(
            error_message(text),
            "Validation Failed: A pull request already exists for o:opsmith/devops."
        );
        assert_eq!(error_message("<html>oops</html>"), "(no message)");
    }

    #[test]
    fn tokens_are_refreshed_well_before_they_expire() {
        let minted_at = UNIX_EPOCH + Duration::from_secs(1_000_000);
        let token = CachedToken {
            secret: SecretString::from("t".to_string()),
            minted_at,
            expires_at: minted_at + Duration::from_secs(3600),
        };
        assert!(token.is_fresh(minted_at + Duration::from_secs(40 * 60)));
        assert!(!token.is_fresh(minted_at + Duration::from_secs(46 * 60)));
        let short = CachedToken {
            expires_at: minted_at + Duration::from_secs(8),
            ..token
        };
        assert!(short.is_fresh(minted_at + Duration::from_secs(5)));
        assert!(!short.is_fresh(minted_at + Duration::from_secs(7)));
    }
}
