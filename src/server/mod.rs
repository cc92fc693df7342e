//! The App's HTTP front: webhook intake, health, readiness and metrics routes.
//!
//! The durable store behind the intake is reached only through [`DeliveryStore`]; `src/queue/`
//! implements it on SQLite and PostgreSQL.

pub mod metrics;
pub mod signature;

use crate::server::metrics::{EventLabel, Outcome, count_delivery};
use crate::server::signature::WebhookVerifier;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use std::borrow::Cow;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tower_http::catch_panic::CatchPanicLayer;

/// GitHub never sends a payload above 25 MB.
pub const MAX_PAYLOAD_BYTES: usize = 25 * 1024 * 1024;
/// GitHub marks a delivery failed after 10 s; answer 500 before that so the failure is ours to see.
const STORE_TIMEOUT: Duration = Duration::from_secs(8);
const PING_TIMEOUT: Duration = Duration::from_secs(2);

/// One verified webhook delivery, as the store receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// `X-GitHub-Delivery` (a GUID; a redelivery keeps the same id).
    pub id: String,
    /// `X-GitHub-Event`, e.g. `issue_comment`.
    pub event: String,
    /// The payload's `action`, when it has one (`push` has none).
    pub action: Option<String>,
    /// `installation.id` from the payload.
    pub installation_id: Option<i64>,
    /// `repository.full_name` (`owner/name`) from the payload.
    pub repository: Option<String>,
    /// False when opsmith does not act on this event/action: keep it for the record, queue no job.
    pub handled: bool,
    /// The raw body exactly as GitHub signed it; valid UTF-8 JSON.
    pub payload: Bytes,
}

/// A failure of the durable store; the intake answers 500 so the delivery can be redelivered.
#[derive(Debug, thiserror::Error)]
#[error("delivery store: {0}")]
pub struct StoreError(#[source] pub Box<dyn std::error::Error + Send + Sync>);

impl StoreError {
    pub fn new(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        StoreError(error.into())
    }
}

/// Where verified deliveries go before the intake answers 202.
pub trait DeliveryStore: Send + Sync + 'static {
    /// Persists the delivery durably (committed) and returns `Ok(true)` when it is new and
    /// `Ok(false)` when its id was recorded before (then nothing is queued again).
    /// Only after `Ok` does the intake answer 202.
    fn record(&self, delivery: Delivery) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Answers `Ok` when the store is reachable (used by `GET /readyz`).
    fn ping(&self) -> impl Future<Output = Result<(), StoreError>> + Send;
}

impl<T: DeliveryStore> DeliveryStore for Arc<T> {
    fn record(&self, delivery: Delivery) -> impl Future<Output = Result<bool, StoreError>> + Send {
        T::record(self, delivery)
    }

    fn ping(&self) -> impl Future<Output = Result<(), StoreError>> + Send {
        T::ping(self)
    }
}

/// Whether opsmith acts on this event and action (anything else is stored and ignored).
pub fn is_handled(event: &str, action: Option<&str>) -> bool {
    matches!(
        (event, action),
        ("installation", Some("created"))
            | ("installation_repositories", Some("added"))
            | ("push", _)
            | ("issue_comment", Some("created"))
            | ("pull_request", Some(_))
            | ("check_run", Some("rerequested" | "requested_action"))
    )
}

/// Told about each comment delivery once it is recorded, before the reply: acknowledges a command
/// at once (a reaction) while its job waits for a worker. It must not block: spawn, or drop.
pub trait Acknowledge: Send + Sync + 'static {
    fn recorded(&self, delivery: &Delivery);
}

/// What the routes share: the store and the keyed webhook secret.
pub struct Intake<S> {
    store: S,
    verifier: WebhookVerifier,
    store_timeout: Duration,
    acknowledger: Option<Arc<dyn Acknowledge>>,
}

impl<S: DeliveryStore> Intake<S> {
    pub fn new(store: S, webhook_secret: &secrecy::SecretString) -> Intake<S> {
        use secrecy::ExposeSecret;
        Intake {
            store,
            verifier: WebhookVerifier::new(webhook_secret.expose_secret().as_bytes()),
            store_timeout: STORE_TIMEOUT,
            acknowledger: None,
        }
    }

    /// Acknowledges comment commands as soon as they are recorded.
    pub fn with_acknowledger(mut self, acknowledger: Arc<dyn Acknowledge>) -> Intake<S> {
        self.acknowledger = Some(acknowledger);
        self
    }

    /// How long a delivery may take to be recorded before the intake answers 500 (default 8 s).
    pub fn with_store_timeout(mut self, timeout: Duration) -> Intake<S> {
        self.store_timeout = timeout;
        self
    }

    pub fn store(&self) -> &S {
        &self.store
    }
}

/// The App's routes: `POST /webhook`, `GET /healthz`, `GET /readyz`, `GET /metrics`.
pub fn router<S: DeliveryStore>(intake: Arc<Intake<S>>) -> Router {
    // Install the recorder now so that counts from the first request on are kept.
    metrics::prometheus();
    Router::new()
        .route(
            "/webhook",
            post(webhook::<S>).layer(DefaultBodyLimit::max(MAX_PAYLOAD_BYTES)),
        )
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz::<S>))
        .route("/metrics", get(render_metrics))
        .layer(CatchPanicLayer::new())
        .with_state(intake)
}

/// Serves `router` on `listen` until `shutdown` resolves; requests in flight are finished first,
/// so every 202 sent was preceded by a committed store write.
pub async fn serve<S: DeliveryStore>(
    listen: SocketAddr,
    intake: Arc<Intake<S>>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    tracing::info!(address = %listener.local_addr()?, "opsmith is listening");
    let upkeep = tokio::spawn(async {
        let mut every = tokio::time::interval(Duration::from_secs(5));
        loop {
            every.tick().await;
            metrics::prometheus().run_upkeep();
        }
    });
    let served = axum::serve(listener, router(intake))
        .with_graceful_shutdown(shutdown)
        .await;
    upkeep.abort();
    served
}

/// The few payload fields the intake needs; everything else is skipped while parsing.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow, default)]
    action: Option<Cow<'a, str>>,
    #[serde(default)]
    installation: Option<InstallationRef>,
    #[serde(borrow, default)]
    repository: Option<RepositoryRef<'a>>,
}

#[derive(Deserialize)]
struct InstallationRef {
    #[serde(default)]
    id: Option<i64>,
}

#[derive(Deserialize)]
struct RepositoryRef<'a> {
    #[serde(borrow, default)]
    full_name: Option<Cow<'a, str>>,
}

fn reply(event: EventLabel, outcome: Outcome, status: StatusCode, text: &'static str) -> Response {
    count_delivery(event, outcome);
    (status, text).into_response()
}

/// A header value as text, when present, printable ASCII and not too long.
fn header_text<'h>(headers: &'h HeaderMap, name: &str, max: usize) -> Option<&'h str> {
    let value = headers.get(name)?.to_str().ok()?;
    (!value.is_empty() && value.len() <= max && !value.contains(' ')).then_some(value)
}

async fn webhook<S: DeliveryStore>(
    State(intake): State<Arc<Intake<S>>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let unverified = EventLabel::UNVERIFIED;
    let body = match body {
        Ok(body) => body,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return reply(
                unverified,
                Outcome::TooLarge,
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload above 25 MB",
            );
        }
        Err(_) => {
            return reply(
                unverified,
                Outcome::BadRequest,
                StatusCode::BAD_REQUEST,
                "unreadable body",
            );
        }
    };

    let signature = headers
        .get("x-hub-signature-256")
        .map(HeaderValue::as_bytes);
    if let Err(error) = intake.verifier.verify(signature, &body) {
        tracing::debug!(?error, "webhook signature refused");
        return reply(
            unverified,
            Outcome::Unauthorized,
            StatusCode::UNAUTHORIZED,
            "bad signature",
        );
    }

    let (Some(event), Some(id)) = (
        header_text(&headers, "x-github-event", 100),
        header_text(&headers, "x-github-delivery", 100),
    ) else {
        return reply(
            unverified,
            Outcome::BadRequest,
            StatusCode::BAD_REQUEST,
            "missing X-GitHub-Event or X-GitHub-Delivery",
        );
    };
    let label = EventLabel::of(event);

    let envelope: Envelope = match serde_json::from_slice(&body) {
        Ok(envelope) => envelope,
        Err(_) => {
            return reply(
                label,
                Outcome::BadRequest,
                StatusCode::BAD_REQUEST,
                "body is not a JSON object",
            );
        }
    };
    let handled = is_handled(event, envelope.action.as_deref());
    let delivery = Delivery {
        id: id.to_owned(),
        event: event.to_owned(),
        action: envelope.action.map(Cow::into_owned),
        installation_id: envelope.installation.and_then(|i| i.id),
        repository: envelope
            .repository
            .and_then(|r| r.full_name)
            .map(Cow::into_owned),
        handled,
        payload: body,
    };

    // Only new comment deliveries are acknowledged; the copy shares the body's bytes.
    let to_acknowledge = (handled && event == "issue_comment" && intake.acknowledger.is_some())
        .then(|| delivery.clone());
    match tokio::time::timeout(intake.store_timeout, intake.store.record(delivery)).await {
        Ok(Ok(true)) if handled => {
            if let (Some(acknowledger), Some(delivery)) = (&intake.acknowledger, &to_acknowledge) {
                acknowledger.recorded(delivery);
            }
            reply(label, Outcome::Queued, StatusCode::ACCEPTED, "queued")
        }
        Ok(Ok(true)) => reply(label, Outcome::Ignored, StatusCode::ACCEPTED, "ignored"),
        Ok(Ok(false)) => reply(label, Outcome::Duplicate, StatusCode::ACCEPTED, "duplicate"),
        Ok(Err(error)) => {
            tracing::error!(delivery = id, event, %error, "could not record the delivery");
            reply(
                label,
                Outcome::StoreFailed,
                StatusCode::INTERNAL_SERVER_ERROR,
                "could not record the delivery",
            )
        }
        Err(_) => {
            tracing::error!(delivery = id, event, "recording the delivery timed out");
            reply(
                label,
                Outcome::StoreFailed,
                StatusCode::INTERNAL_SERVER_ERROR,
                "could not record the delivery",
            )
        }
    }
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz<S: DeliveryStore>(State(intake): State<Arc<Intake<S>>>) -> Response {
    match tokio::time::timeout(PING_TIMEOUT, intake.store.ping()).await {
        Ok(Ok(())) => (StatusCode::OK, "ready").into_response(),
        Ok(Err(error)) => {
            tracing::warn!(%error, "store not ready");
            (StatusCode::SERVICE_UNAVAILABLE, "store unavailable").into_response()
        }
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "store timed out").into_response(),
    }
}

async fn render_metrics() -> Response {
    let handle = metrics::prometheus();
    handle.run_upkeep();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle.render(),
    )
        .into_response()
}
