//! Webhook intake: signatures, limits, parsing, deduplication and store failures, through the
//! router (no sockets), on an in-memory store and on the SQLite and PostgreSQL stores; settings
//! through the binary.

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{Request, StatusCode};
use opsmith::server::signature::WebhookVerifier;
use opsmith::server::{Delivery, DeliveryStore, Intake, MAX_PAYLOAD_BYTES, StoreError, router};
use secrecy::SecretString;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tower::ServiceExt;

const SECRET: &str = "It's a Secret to Everybody";
const SUBSCRIBED: &[&str] = &[
    "push",
    "issue_comment",
    "pull_request",
    "check_run",
    "installation",
    "installation_repositories",
];

/// Keeps deliveries in memory; can be told to fail or to be unreachable.
#[derive(Default)]
struct MemoryStore {
    deliveries: Mutex<Vec<Delivery>>,
    failing: AtomicBool,
    down: AtomicBool,
    stuck: AtomicBool,
}

impl MemoryStore {
    fn all(&self) -> Vec<Delivery> {
        self.deliveries.lock().unwrap().clone()
    }
}

impl DeliveryStore for MemoryStore {
    async fn record(&self, delivery: Delivery) -> Result<bool, StoreError> {
        if self.failing.load(Ordering::SeqCst) {
            return Err(StoreError::new("disk full"));
        }
        if self.stuck.load(Ordering::SeqCst) {
            std::future::pending::<()>().await;
        }
        let mut all = self.deliveries.lock().unwrap();
        if all.iter().any(|d| d.id == delivery.id) {
            return Ok(false);
        }
        all.push(delivery);
        Ok(true)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(StoreError::new("connection refused"));
        }
        Ok(())
    }
}

fn app() -> (Router, Arc<MemoryStore>) {
    let store = Arc::new(MemoryStore::default());
    let intake = Intake::new(store.clone(), &SecretString::from(SECRET));
    (router(Arc::new(intake)), store)
}

fn sign(body: &[u8]) -> String {
    WebhookVerifier::new(SECRET.as_bytes()).sign(body)
}

/// A POST /webhook request with the given headers (`None` leaves a header out).
fn webhook_request(
    event: Option<&str>,
    delivery: Option<&str>,
    signature: Option<&str>,
    body: impl Into<Body>,
) -> Request<Body> {
    let mut request = Request::post("/webhook").header("content-type", "application/json");
    if let Some(event) = event {
        request = request.header("x-github-event", event);
    }
    if let Some(delivery) = delivery {
        request = request.header("x-github-delivery", delivery);
    }
    if let Some(signature) = signature {
        request = request.header("x-hub-signature-256", signature);
    }
    request.body(body.into()).unwrap()
}

async fn send(app: &Router, request: Request<Body>) -> (StatusCode, String) {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    (status, String::from_utf8_lossy(&body).into_owned())
}

async fn post_signed(
    app: &Router,
    event: &str,
    delivery: &str,
    body: &[u8],
) -> (StatusCode, String) {
    let signature = sign(body);
    send(
        app,
        webhook_request(
            Some(event),
            Some(delivery),
            Some(&signature),
            Bytes::copy_from_slice(body),
        ),
    )
    .await
}

const COMMENT: &[u8] = br#"{"action":"created","installation":{"id":42},"repository":{"full_name":"octo/hello"},"comment":{"body":"/opsmith generate"}}"#;

#[tokio::test]
async fn githubs_signature_vector_passes_verification() {
    let (app, store) = app();
    let signature = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
    let (status, _) = send(
        &app,
        webhook_request(Some("push"), Some("d-1"), Some(signature), "Hello, World!"),
    )
    .await;
    // Verified, then refused only because `Hello, World!` is not JSON.
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(store.all().is_empty());
}

#[tokio::test]
async fn bad_missing_sha1_and_truncated_signatures_are_refused() {
    let (app, store) = app();
    let good = sign(COMMENT);
    let sha1 = "sha1=0123456789abcdef0123456789abcdef01234567".to_owned();
    let truncated = good[..good.len() - 1].to_owned();
    let upper_prefix = good.replacen("sha256=", "SHA256=", 1);
    let no_prefix = good.trim_start_matches("sha256=").to_owned();
    let other_secret = WebhookVerifier::new(b"not the secret").sign(COMMENT);
    let other_body = sign(b"{}");
    let not_hex = format!("sha256={}", "z".repeat(64));
    let cases: Vec<(&str, Option<String>)> = vec![
        ("missing", None),
        ("sha1", Some(sha1)),
        ("truncated", Some(truncated)),
        ("upper-case prefix", Some(upper_prefix)),
        ("no prefix", Some(no_prefix)),
        ("another secret", Some(other_secret)),
        ("another body", Some(other_body)),
        ("not hex", Some(not_hex)),
        ("empty", Some(String::new())),
    ];
    for (name, signature) in cases {
        let (status, _) = send(
            &app,
            webhook_request(
                Some("issue_comment"),
                Some("d-2"),
                signature.as_deref(),
                COMMENT,
            ),
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{name}");
    }
    assert!(store.all().is_empty());
    // The same request, correctly signed, goes through.
    let (status, _) = post_signed(&app, "issue_comment", "d-2", COMMENT).await;
    assert_eq!(status, StatusCode::ACCEPTED);
}

#[tokio::test]
async fn signature_is_checked_before_headers_and_body() {
    let (app, _) = app();
    // Neither event header nor JSON: the missing signature is what is reported.
    let (status, _) = send(&app, webhook_request(None, None, None, "not json")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn bodies_above_25_mb_get_413_and_big_ones_below_pass() {
    let (app, store) = app();
    let too_big = vec![b' '; MAX_PAYLOAD_BYTES + 1];
    let signature = sign(&too_big);
    let (status, _) = send(
        &app,
        webhook_request(Some("push"), Some("big"), Some(&signature), too_big),
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(store.all().is_empty());

    // 3 MB is above axum's 2 MB default limit and well within GitHub's cap.
    let padding = "x".repeat(3 * 1024 * 1024);
    let body = format!(
        r#"{{"ref":"refs/heads/main","repository":{{"full_name":"o/r"}},"pad":"{padding}"}}"#
    );
    let (status, _) = post_signed(&app, "push", "big-ok", body.as_bytes()).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(store.all()[0].payload.len(), body.len());
}

#[tokio::test]
async fn bodies_that_are_not_json_objects_get_400() {
    let (app, store) = app();
    for body in [
        &b"not json"[..],
        b"",
        b"{\"action\":",
        b"[1,2]",
        b"\"text\"",
        b"{} trailing",
    ] {
        let (status, _) = post_signed(&app, "push", "d-3", body).await;
        assert_eq!(
            status,
            StatusCode::BAD_REQUEST,
            "{}",
            String::from_utf8_lossy(body)
        );
    }
    assert!(store.all().is_empty());
}

#[tokio::test]
async fn missing_event_or_delivery_headers_get_400() {
    let (app, store) = app();
    let signature = sign(COMMENT);
    for (event, delivery) in [(None, Some("d-4")), (Some("issue_comment"), None)] {
        let (status, _) = send(
            &app,
            webhook_request(event, delivery, Some(&signature), COMMENT),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }
    assert!(store.all().is_empty());
}

#[tokio::test]
async fn unknown_events_and_actions_are_accepted_and_marked_ignored() {
    let (app, store) = app();
    let (status, text) = post_signed(&app, "sponsorship", "d-5", br#"{"action":"created"}"#).await;
    assert_eq!((status, text.as_str()), (StatusCode::ACCEPTED, "ignored"));
    let (status, text) =
        post_signed(&app, "issue_comment", "d-6", br#"{"action":"deleted"}"#).await;
    assert_eq!((status, text.as_str()), (StatusCode::ACCEPTED, "ignored"));
    let (status, text) = post_signed(&app, "issue_comment", "d-7", COMMENT).await;
    assert_eq!((status, text.as_str()), (StatusCode::ACCEPTED, "queued"));
    let handled: Vec<(String, bool)> = store.all().into_iter().map(|d| (d.id, d.handled)).collect();
    assert_eq!(
        handled,
        [
            ("d-5".into(), false),
            ("d-6".into(), false),
            ("d-7".into(), true)
        ]
    );
}

#[tokio::test]
async fn a_redelivery_is_accepted_and_stored_once() {
    let (app, store) = app();
    let first = post_signed(&app, "issue_comment", "same-id", COMMENT).await;
    let second = post_signed(&app, "issue_comment", "same-id", COMMENT).await;
    assert_eq!(first, (StatusCode::ACCEPTED, "queued".to_owned()));
    assert_eq!(second, (StatusCode::ACCEPTED, "duplicate".to_owned()));
    assert_eq!(store.all().len(), 1);
}

#[tokio::test]
async fn a_failing_store_gives_500_never_202() {
    let (app, store) = app();
    store.failing.store(true, Ordering::SeqCst);
    let (status, text) = post_signed(&app, "issue_comment", "d-8", COMMENT).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        !text.contains("disk full"),
        "store details stay in the log: {text}"
    );
    // Once the store is back, GitHub's redelivery (same id) is taken.
    store.failing.store(false, Ordering::SeqCst);
    let (status, _) = post_signed(&app, "issue_comment", "d-8", COMMENT).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(store.all().len(), 1);
}

#[tokio::test]
async fn a_store_that_hangs_gives_500_before_github_gives_up() {
    let store = Arc::new(MemoryStore::default());
    store.stuck.store(true, Ordering::SeqCst);
    let intake = Intake::new(store.clone(), &SecretString::from(SECRET))
        .with_store_timeout(std::time::Duration::from_millis(200));
    let app = router(Arc::new(intake));
    let (status, _) = post_signed(&app, "issue_comment", "d-9", COMMENT).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(store.all().is_empty());
}

#[tokio::test]
async fn health_readiness_and_metrics() {
    let (app, store) = app();
    let get = |path: &str| Request::get(path).body(Body::empty()).unwrap();
    assert_eq!(send(&app, get("/healthz")).await.0, StatusCode::OK);
    assert_eq!(send(&app, get("/readyz")).await.0, StatusCode::OK);
    store.down.store(true, Ordering::SeqCst);
    assert_eq!(
        send(&app, get("/readyz")).await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(send(&app, get("/healthz")).await.0, StatusCode::OK);

    post_signed(&app, "pull_request", "m-1", br#"{"action":"opened"}"#).await;
    send(&app, webhook_request(Some("push"), Some("m-2"), None, "{}")).await;
    let (status, text) = send(&app, get("/metrics")).await;
    assert_eq!(status, StatusCode::OK);
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines.iter().any(|l| l.starts_with(
            r#"opsmith_webhook_deliveries_total{event="pull_request",outcome="queued"}"#
        )),
        "{text}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with(
            r#"opsmith_webhook_deliveries_total{event="unverified",outcome="unauthorized"}"#
        )),
        "{text}"
    );
}

fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/github/webhook-examples")
}

/// Every example payload: (file name, event, raw body).
fn examples() -> Vec<(String, String, Vec<u8>)> {
    let mut all: Vec<_> = std::fs::read_dir(examples_dir())
        .expect("../shared/github/webhook-examples")
        .map(|entry| {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let event = name.split('.').next().unwrap().to_owned();
            (name, event, std::fs::read(&path).unwrap())
        })
        .collect();
    all.sort();
    all
}

/// What the intake should have recorded, read with a general JSON parser.
fn expected_fields(body: &[u8]) -> (Option<String>, Option<i64>, Option<String>) {
    let value: serde_json::Value = serde_json::from_slice(body).unwrap();
    (
        value["action"].as_str().map(str::to_owned),
        value["installation"]["id"].as_i64(),
        value["repository"]["full_name"].as_str().map(str::to_owned),
    )
}

#[tokio::test]
async fn every_example_payload_of_the_subscribed_events_is_recorded_right() {
    let (app, store) = app();
    let mut count = 0;
    for (name, event, body) in examples() {
        if !SUBSCRIBED.contains(&event.as_str()) {
            continue;
        }
        count += 1;
        let (status, _) = post_signed(&app, &event, &name, &body).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{name}");
        let recorded = store.all().into_iter().find(|d| d.id == name).expect(&name);
        let (action, installation_id, repository) = expected_fields(&body);
        assert_eq!(recorded.event, event, "{name}");
        assert_eq!(recorded.action, action, "{name}");
        assert_eq!(recorded.installation_id, installation_id, "{name}");
        assert_eq!(recorded.repository, repository, "{name}");
        assert_eq!(&recorded.payload[..], &body[..], "{name}");
        if event.starts_with("installation") {
            assert!(recorded.installation_id.is_some(), "{name}");
        } else {
            assert!(recorded.repository.is_some(), "{name}");
        }
    }
    assert_eq!(count, 64, "examples of the subscribed events");
    let ignored: Vec<String> = store
        .all()
        .into_iter()
        .filter(|d| !d.handled)
        .map(|d| d.id)
        .collect();
    // Only the actions opsmith does not act on are marked ignored.
    assert_eq!(
        ignored,
        [
            "check_run.completed.0.json",
            "check_run.completed.1.json",
            "check_run.completed.2.json",
            "check_run.created.0.json",
            "check_run.created.1.json",
            "check_run.created.2.json",
            "installation.deleted.0.json",
            "installation.deleted.1.json",
            "installation.new_permissions_accepted.0.json",
            "installation.suspend.0.json",
            "installation.unsuspend.0.json",
            "installation_repositories.removed.0.json",
            "issue_comment.deleted.0.json",
            "issue_comment.deleted.1.json",
            "issue_comment.edited.0.json",
            "issue_comment.edited.1.json",
        ]
    );
}

#[tokio::test]
async fn every_example_payload_of_any_event_is_accepted() {
    let (app, store) = app();
    let examples = examples();
    for (name, event, body) in &examples {
        let (status, _) = post_signed(&app, event, name, body).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{name}");
    }
    assert_eq!(store.all().len(), examples.len());
    assert!(examples.len() >= 300);
}

mod stores {
    //! The same intake on the queue's SQLite and PostgreSQL stores: what the router answers is
    //! what was committed. PostgreSQL needs `OPSMITH_TEST_POSTGRES_URL` (scripts/test sets it).

    use super::*;
    use opsmith::queue::Store;
    use sqlx::Row;
    use std::sync::atomic::AtomicUsize;

    type DeliveryRow = (String, String, Option<String>, Option<i64>, Option<String>);
    const SELECT_DELIVERIES: &str =
        "SELECT id, event, action, installation_id, repository FROM deliveries ORDER BY id";

    /// A database of its own: a SQLite file in a temporary folder, or a fresh PostgreSQL schema.
    enum Database {
        Sqlite {
            url: String,
            _dir: tempfile::TempDir,
        },
        Postgres {
            base: String,
            schema: String,
        },
    }

    impl Database {
        async fn sqlite() -> Database {
            let dir = tempfile::tempdir().unwrap();
            let url = format!("sqlite://{}", dir.path().join("opsmith.db").display());
            Database::Sqlite { url, _dir: dir }
        }

        async fn postgres() -> Database {
            let base = std::env::var("OPSMITH_TEST_POSTGRES_URL")
                .expect("OPSMITH_TEST_POSTGRES_URL is not set: run the tests through scripts/test");
            static NEXT: AtomicUsize = AtomicUsize::new(0);
            let schema = format!(
                "intake_test_{}_{}",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::SeqCst)
            );
            admin(&base, &format!("CREATE SCHEMA {schema}")).await;
            Database::Postgres { base, schema }
        }

        fn url(&self) -> String {
            match self {
                Database::Sqlite { url, .. } => url.clone(),
                Database::Postgres { base, schema } => {
                    let separator = if base.contains('?') { '&' } else { '?' };
                    format!("{base}{separator}options[search_path]={schema}")
                }
            }
        }

        async fn app(&self) -> (Router, Store) {
            let store = Store::connect(&self.url()).await.unwrap();
            let intake = Intake::new(store.clone(), &SecretString::from(SECRET));
            (router(Arc::new(intake)), store)
        }

        async fn delivery_rows(&self) -> Vec<DeliveryRow> {
            match self {
                Database::Sqlite { url, .. } => {
                    let pool = sqlx::SqlitePool::connect(url).await.unwrap();
                    let rows = sqlx::query(SELECT_DELIVERIES)
                        .fetch_all(&pool)
                        .await
                        .unwrap();
                    pool.close().await;
                    rows.iter().map(RowLike::fields).collect()
                }
                Database::Postgres { .. } => {
                    let pool = sqlx::PgPool::connect(&self.url()).await.unwrap();
                    let rows = sqlx::query(SELECT_DELIVERIES)
                        .fetch_all(&pool)
                        .await
                        .unwrap();
                    pool.close().await;
                    rows.iter().map(RowLike::fields).collect()
                }
            }
        }

        async fn drop(self) {
            if let Database::Postgres { base, schema } = &self {
                admin(base, &format!("DROP SCHEMA {schema} CASCADE")).await;
            }
        }
    }

    trait RowLike {
        fn fields(&self) -> DeliveryRow;
    }

    impl RowLike for sqlx::sqlite::SqliteRow {
        fn fields(&self) -> DeliveryRow {
            (
                self.get(0),
                self.get(1),
                self.get(2),
                self.get(3),
                self.get(4),
            )
        }
    }

    impl RowLike for sqlx::postgres::PgRow {
        fn fields(&self) -> DeliveryRow {
            (
                self.get(0),
                self.get(1),
                self.get(2),
                self.get(3),
                self.get(4),
            )
        }
    }

    async fn admin(url: &str, statement: &str) {
        use sqlx::Connection;
        let mut connection = sqlx::PgConnection::connect(url)
            .await
            .unwrap_or_else(|e| panic!("connect to PostgreSQL: {e} (run scripts/test)"));
        sqlx::query(sqlx::AssertSqlSafe(statement.to_owned()))
            .execute(&mut connection)
            .await
            .unwrap_or_else(|e| panic!("{statement}: {e}"));
    }

    async fn refused_requests_leave_no_row_and_redeliveries_one(database: Database) {
        let (app, store) = database.app().await;
        let bad = send(
            &app,
            webhook_request(
                Some("issue_comment"),
                Some("s-1"),
                Some("sha256=00"),
                COMMENT,
            ),
        )
        .await;
        assert_eq!(bad.0, StatusCode::UNAUTHORIZED);
        let not_json = post_signed(&app, "issue_comment", "s-1", b"nope").await;
        assert_eq!(not_json.0, StatusCode::BAD_REQUEST);
        assert!(database.delivery_rows().await.is_empty());

        let first = post_signed(&app, "issue_comment", "s-1", COMMENT).await;
        assert_eq!(first.0, StatusCode::ACCEPTED);
        let again = post_signed(&app, "issue_comment", "s-1", COMMENT).await;
        assert_eq!(again, (StatusCode::ACCEPTED, "duplicate".to_owned()));
        assert_eq!(
            database.delivery_rows().await,
            [(
                "s-1".to_owned(),
                "issue_comment".to_owned(),
                Some("created".to_owned()),
                Some(42),
                Some("octo/hello".to_owned())
            )]
        );
        let jobs = store.jobs_of_delivery("s-1").await.unwrap();
        assert!(jobs.len() <= 1, "a redelivery queues nothing new: {jobs:?}");
        let get = Request::get("/readyz").body(Body::empty()).unwrap();
        assert_eq!(send(&app, get).await.0, StatusCode::OK);
        store.close().await;
        database.drop().await;
    }

    async fn every_subscribed_example_is_committed_with_its_fields(database: Database) {
        let (app, store) = database.app().await;
        let mut expected = Vec::new();
        for (name, event, body) in examples() {
            if !SUBSCRIBED.contains(&event.as_str()) {
                continue;
            }
            let (status, _) = post_signed(&app, &event, &name, &body).await;
            assert_eq!(status, StatusCode::ACCEPTED, "{name}");
            let (action, installation, repository) = expected_fields(&body);
            expected.push((name, event, action, installation, repository));
        }
        expected.sort();
        assert_eq!(database.delivery_rows().await, expected);
        store.close().await;
        database.drop().await;
    }

    async fn a_closed_database_gives_500_and_503(database: Database) {
        let (app, store) = database.app().await;
        store.close().await;
        let (status, _) = post_signed(&app, "issue_comment", "s-2", COMMENT).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        let get = Request::get("/readyz").body(Body::empty()).unwrap();
        assert_eq!(send(&app, get).await.0, StatusCode::SERVICE_UNAVAILABLE);
        assert!(database.delivery_rows().await.is_empty());
        database.drop().await;
    }

    #[tokio::test]
    async fn sqlite_refused_requests_leave_no_row_and_redeliveries_one() {
        refused_requests_leave_no_row_and_redeliveries_one(Database::sqlite().await).await;
    }

    #[tokio::test]
    async fn sqlite_every_subscribed_example_is_committed_with_its_fields() {
        every_subscribed_example_is_committed_with_its_fields(Database::sqlite().await).await;
    }

    #[tokio::test]
    async fn sqlite_a_closed_database_gives_500_and_503() {
        a_closed_database_gives_500_and_503(Database::sqlite().await).await;
    }

    #[tokio::test]
    async fn postgres_refused_requests_leave_no_row_and_redeliveries_one() {
        refused_requests_leave_no_row_and_redeliveries_one(Database::postgres().await).await;
    }

    #[tokio::test]
    async fn postgres_every_subscribed_example_is_committed_with_its_fields() {
        every_subscribed_example_is_committed_with_its_fields(Database::postgres().await).await;
    }

    #[tokio::test]
    async fn postgres_a_closed_database_gives_500_and_503() {
        a_closed_database_gives_500_and_503(Database::postgres().await).await;
    }
}

mod settings {
    //! `opsmith serve` start-up through the real binary: one line naming the setting, exit 2,
    //! and never a secret in the output.

    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    const WEBHOOK_SECRET: &str = "whsec-do-not-print-7f3a9";
    const KEY_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/keys/app-test.pem");

    fn key_pem() -> String {
        std::fs::read_to_string(KEY_PATH).unwrap()
    }

    fn serve(vars: &[(&str, &str)], args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_opsmith"));
        command.env_clear().arg("serve").args(args);
        for (name, value) in vars {
            command.env(name, value);
        }
        command
    }

    /// A complete, valid set of settings, with `overrides` applied (`""` removes a variable).
    fn vars<'a>(work: &'a str, overrides: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
        let mut all = vec![
            ("OPSMITH_APP_ID", "12345"),
            ("OPSMITH_PRIVATE_KEY_PATH", KEY_PATH),
            ("OPSMITH_WEBHOOK_SECRET", WEBHOOK_SECRET),
            ("OPSMITH_LISTEN", "127.0.0.1:1"),
            ("OPSMITH_WORK_DIR", work),
        ];
        for (name, value) in overrides {
            all.retain(|(n, _)| n != name);
            if !value.is_empty() {
                all.push((name, value));
            }
        }
        all
    }

    fn assert_refused(command: &mut Command, names: &str) {
        let output = command.output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert_eq!(output.status.code(), Some(2), "{names}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
        assert!(stderr.contains(names), "{names} named: {stderr}");
        for output in [&stderr, &stdout] {
            assert!(!output.contains(WEBHOOK_SECRET), "{output}");
            assert!(!output.contains("PRIVATE KEY"), "{output}");
            assert!(!output.contains("db-password"), "{output}");
        }
    }

    #[test]
    fn each_missing_or_malformed_setting_is_named_in_one_line() {
        let dir = tempfile::tempdir().unwrap();
        let work = dir.path().join("work");
        let work = work.to_str().unwrap();
        let a_file = dir.path().join("a-file");
        std::fs::write(&a_file, "x").unwrap();
        let a_file = a_file.to_str().unwrap();
        let occupied = TcpListener::bind("127.0.0.1:0").unwrap();
        let taken = occupied.local_addr().unwrap().to_string();
        let inline_key = key_pem();
        let broken_key = format!(
            "-----BEGIN RSA PRIVATE KEY-----\n{WEBHOOK_SECRET}\n-----END RSA PRIVATE KEY-----\n"
        );

        assert_refused(&mut serve(&[], &[]), "OPSMITH_APP_ID");
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[("OPSMITH_APP_ID", "")], "OPSMITH_APP_ID"),
            (&[("OPSMITH_APP_ID", "my-app")], "OPSMITH_APP_ID"),
            (&[("OPSMITH_APP_ID", "-4")], "OPSMITH_APP_ID"),
            (
                &[("OPSMITH_PRIVATE_KEY_PATH", "")],
                "OPSMITH_PRIVATE_KEY_PATH",
            ),
            (
                &[("OPSMITH_PRIVATE_KEY_PATH", "/nonexistent/key.pem")],
                "OPSMITH_PRIVATE_KEY_PATH",
            ),
            (
                &[("OPSMITH_PRIVATE_KEY_PATH", a_file)],
                "OPSMITH_PRIVATE_KEY_PATH",
            ),
            (
                &[("OPSMITH_PRIVATE_KEY", inline_key.as_str())],
                "OPSMITH_PRIVATE_KEY",
            ),
            (
                &[
                    ("OPSMITH_PRIVATE_KEY_PATH", ""),
                    ("OPSMITH_PRIVATE_KEY", broken_key.as_str()),
                ],
                "OPSMITH_PRIVATE_KEY is not an RSA private key",
            ),
            (&[("OPSMITH_WEBHOOK_SECRET", "")], "OPSMITH_WEBHOOK_SECRET"),
            (
                &[("OPSMITH_GITHUB_API_URL", "api.github.com")],
                "OPSMITH_GITHUB_API_URL",
            ),
            (
                &[("OPSMITH_DATABASE_URL", "mysql://db-password@db/x")],
                "OPSMITH_DATABASE_URL",
            ),
            (&[("OPSMITH_LISTEN", "3000")], "OPSMITH_LISTEN"),
            (&[("OPSMITH_WORK_DIR", a_file)], "OPSMITH_WORK_DIR"),
            (
                &[(
                    "OPSMITH_DATABASE_URL",
                    "sqlite:///nonexistent/dir/opsmith.db",
                )],
                "OPSMITH_DATABASE_URL",
            ),
            (&[("OPSMITH_LISTEN", taken.as_str())], "OPSMITH_LISTEN"),
        ];
        for (overrides, names) in cases {
            assert_refused(&mut serve(&vars(work, overrides), &[]), names);
        }
        assert_refused(
            &mut serve(&vars(work, &[]), &["--env-file", "/nonexistent/.env"]),
            "--env-file",
        );
    }

    #[test]
    fn an_unreachable_database_is_named_without_its_password() {
        let dir = tempfile::tempdir().unwrap();
        let work = dir.path().join("work");
        let overrides = [(
            "OPSMITH_DATABASE_URL",
            "postgres://opsmith:db-password@127.0.0.1:1/opsmith",
        )];
        assert_refused(
            &mut serve(&vars(work.to_str().unwrap(), &overrides), &[]),
            "OPSMITH_DATABASE_URL",
        );
    }

    #[test]
    fn the_env_file_supplies_settings_and_the_environment_wins() {
        let dir = tempfile::tempdir().unwrap();
        let env_file = dir.path().join(".env");
        std::fs::write(
            &env_file,
            format!(
                "# written by opsmith setup\nOPSMITH_APP_ID=7\nOPSMITH_PRIVATE_KEY_PATH={KEY_PATH}\n\
                 OPSMITH_WEBHOOK_SECRET=\"{WEBHOOK_SECRET}\"\nOPSMITH_LISTEN=not-an-address\n"
            ),
        )
        .unwrap();
        let env_file = env_file.to_str().unwrap();
        // Everything but the listen address comes from the file, which gets that one wrong.
        assert_refused(&mut serve(&[], &["--env-file", env_file]), "OPSMITH_LISTEN");
        // The environment's value replaces the file's: now the database URL is the first fault.
        assert_refused(
            &mut serve(
                &[
                    ("OPSMITH_LISTEN", "127.0.0.1:0"),
                    ("OPSMITH_DATABASE_URL", "redis://x"),
                ],
                &["--env-file", env_file],
            ),
            "OPSMITH_DATABASE_URL",
        );
    }

    fn http_get(port: u16, path: &str) -> Option<String> {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
        )
        .ok()?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer).ok()?;
        Some(answer)
    }

    #[test]
    fn serve_starts_on_sqlite_answers_and_stops_on_sigterm() {
        let dir = tempfile::tempdir().unwrap();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let listen = format!("127.0.0.1:{port}");
        let database = format!("sqlite://{}", dir.path().join("opsmith.db").display());
        let work = dir.path().join("work");
        let child = serve(
            &vars(
                work.to_str().unwrap(),
                &[
                    ("OPSMITH_LISTEN", &listen),
                    ("OPSMITH_DATABASE_URL", &database),
                ],
            ),
            &[],
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();

        let started = Instant::now();
        let health = loop {
            if let Some(answer) = http_get(port, "/healthz") {
                break answer;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "serve did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        assert!(health.starts_with("HTTP/1.1 200"), "{health}");
        let ready = http_get(port, "/readyz").unwrap();
        assert!(ready.starts_with("HTTP/1.1 200"), "{ready}");
        assert!(work.is_dir(), "the work directory is created");

        let terminated = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(terminated.success());
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "{output:?}");
        let logs = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(!logs.contains(WEBHOOK_SECRET), "{logs}");
        assert!(!logs.contains("PRIVATE KEY"), "{logs}");
    }
}
