//! The durable store of deliveries and jobs: every test runs on SQLite and on PostgreSQL.
//!
//! PostgreSQL tests need `OPSMITH_TEST_POSTGRES_URL` (scripts/test starts the server and sets it);
//! each test works in a schema of its own so they run in parallel.

use axum::body::Bytes;
use opsmith::queue::{
    Clock, Job, JobKind, JobStatus, NewJob, QueueError, Retry, Store, StoreSettings,
};
use opsmith::server::{Delivery, DeliveryStore};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Unix ms the manual clocks start at.
const T0: i64 = 1_800_000_000_000;
const LEASE: Duration = Duration::from_secs(30);

#[derive(Clone, Copy)]
enum Backend {
    Sqlite,
    Postgres,
}

/// A database of its own for one test: a SQLite file in a temporary folder, or a fresh schema.
struct TestDatabase {
    url: String,
    schema: Option<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDatabase {
    async fn new(backend: Backend) -> TestDatabase {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temporary folder");
                TestDatabase {
                    url: format!("sqlite://{}", dir.path().join("opsmith.db").display()),
                    schema: None,
                    _dir: Some(dir),
                }
            }
            Backend::Postgres => {
                let base = std::env::var("OPSMITH_TEST_POSTGRES_URL").unwrap_or_else(|_| {
                    panic!(
                        "OPSMITH_TEST_POSTGRES_URL is not set: run the tests through scripts/test, \
                         which starts PostgreSQL and sets it"
                    )
                });
                static NEXT: AtomicUsize = AtomicUsize::new(0);
                let schema = format!(
                    "queue_test_{}_{}_{}",
                    std::process::id(),
                    NEXT.fetch_add(1, Ordering::SeqCst),
                    Clock::system().now_ms() % 1_000_000
                );
                admin(&base, &format!("CREATE SCHEMA {schema}")).await;
                let separator = if base.contains('?') { '&' } else { '?' };
                TestDatabase {
                    url: format!("{base}{separator}options[search_path]={schema}"),
                    schema: Some((base, schema)),
                    _dir: None,
                }
            }
        }
    }

    async fn store(&self, settings: StoreSettings) -> Store {
        Store::connect_with(&self.url, settings)
            .await
            .unwrap_or_else(|e| panic!("connect {}: {e}", self.url))
    }

    async fn drop_schema(self) {
        if let Some((base, schema)) = &self.schema {
            admin(base, &format!("DROP SCHEMA {schema} CASCADE")).await;
        }
    }
}

async fn admin(url: &str, statement: &str) {
    use sqlx::Connection;
    let mut connection = sqlx::PgConnection::connect(url).await.unwrap_or_else(|e| {
        panic!("connect to {url}: {e} (is PostgreSQL running? run scripts/test)")
    });
    sqlx::query(sqlx::AssertSqlSafe(statement.to_string()))
        .execute(&mut connection)
        .await
        .unwrap_or_else(|e| panic!("{statement}: {e}"));
}

fn settings(clock: &Clock) -> StoreSettings {
    StoreSettings {
        clock: clock.clone(),
        backoff_base: Duration::from_secs(10),
        backoff_cap: Duration::from_secs(3600),
        max_attempts: 3,
        max_connections: 4,
        ..StoreSettings::default()
    }
}

fn example(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/github/webhook-examples")
        .join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("example payload is JSON")
}

fn delivery(id: &str, event: &str, payload: &Value) -> Delivery {
    Delivery {
        id: id.to_string(),
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

/// A signed-off `/opsmith generate` comment on `repository`.
fn command(id: &str, repository: &str) -> Delivery {
    let mut payload = example("issue_comment.created.3");
    payload["comment"]["body"] = "/opsmith generate".into();
    payload["repository"]["full_name"] = repository.into();
    delivery(id, "issue_comment", &payload)
}

fn refresh(repository: &str) -> NewJob {
    NewJob {
        kind: JobKind::Refresh,
        repository: repository.to_string(),
        installation_id: 1,
        args: json!({}),
        delay: Duration::ZERO,
    }
}

async fn job(store: &Store, id: i64) -> Job {
    store.job(id).await.expect("read job").expect("job exists")
}

/// Runs a test body once per backend: `name::sqlite` and `name::postgres`.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                super::$name(super::Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                super::$name(super::Backend::Postgres).await
            }
        }
    )*};
}

on_both_backends!(
    record_queues_the_triggered_jobs,
    duplicate_delivery_is_queued_once,
    concurrent_duplicates_are_queued_once,
    claim_then_succeed,
    failure_backs_off_exponentially,
    exhausted_attempts_fail_with_the_reason,
    expired_lease_is_taken_again,
    one_repository_runs_one_job_at_a_time,
    onboarding_is_paced,
    many_workers_run_each_job_once,
    payload_is_kept_exactly_as_signed,
);

async fn record_queues_the_triggered_jobs(backend: Backend) {
    let db = TestDatabase::new(backend).await;
    let clock = Clock::manual(T0);
    let store = db.store(settings(&clock)).await;
    store.ping().await.expect("ping");

    assert!(
        DeliveryStore::record(&store, command("c-1", "octo/app"))
            .await
            .expect("record")
    );
    let jobs = store.jobs_of_delivery("c-1").await.unwrap();
    assert_eq!(jobs.len(), 1);
    let queued = &jobs[0];
    assert_eq!(queued.kind, JobKind::Command);
    assert_eq!(queued.repository, "octo/app");
    assert_eq!(queued.installation_id, 1);
    assert_eq!(queued.delivery_id.as_deref(), Some("c-1"));
    assert_eq!(queued.status, JobStatus::Queued);
    assert_eq!(queued.attempts, 0);
    assert_eq!(queued.max_attempts, 3);
    assert_eq!(queued.run_after, T0);
    assert_eq!(queued.args["command"], "generate");

    let push = example("push.4");
    assert!(
        store
            .record_delivery(&delivery("p-1", "push", &push))
            .await
            .unwrap()
    );
    let refreshes = store.jobs_of_delivery("p-1").await.unwrap();
    assert_eq!(refreshes.len(), 1);
    assert_eq!(refreshes[0].kind, JobKind::Refresh);

    // Recorded, but no job: an ordinary comment.
    let chat = example("issue_comment.created.3");
    assert!(
        store
            .record_delivery(&delivery("n-1", "issue_comment", &chat))
            .await
            .unwrap()
    );
    assert!(store.jobs_of_delivery("n-1").await.unwrap().is_empty());
    assert!(
        !store
            .record_delivery(&delivery("n-1", "issue_comment", &chat))
            .await
            .unwrap()
    );

    // Committed: another connection (a restarted process) sees the jobs.
    store.close().await;
    let reopened = db.store(settings(&clock)).await;
    let depth = reopened.queue_depth().await.unwrap();
    assert_eq!((depth.queued, depth.running), (2, 0));
    assert_eq!(
        reopened.job(queued.id).await.unwrap().as_ref(),
        Some(queued)
    );
    reopened.close().await;
    db.drop_schema().await;
}

/// The payload comes back byte for byte as GitHub signed it (SQLite keeps it compressed), also
/// after a restart, and a redelivery does not replace it.
async fn payload_is_kept_exactly_as_signed(backend: Backend) {
    let db = TestDatabase::new(backend).await;
    let store = db.store(settings(&Clock::manual(T0))).await;
    // The example file verbatim: its indentation and key order are part of what was signed.
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/github/webhook-examples/issue_comment.created.3.json");
    let signed = std::fs::read_to_string(&path).expect("example payload");
    let mut first = command("s-1", "octo/app");
    first.payload = Bytes::from(signed.clone());
    assert!(store.record_delivery(&first).await.unwrap());
    let mut redelivery = first.clone();
    redelivery.payload = Bytes::from_static(b"{}");
    assert!(!store.record_delivery(&redelivery).await.unwrap());
    assert_eq!(
        store.delivery_payload("s-1").await.unwrap(),
        Some(signed.clone())
    );
    assert_eq!(store.delivery_payload("never-sent").await.unwrap(), None);
    if let Backend::Sqlite = backend {
        // Kept as an LZ4 block: a BLOB, far smaller than the JSON.
        let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
        let (kind, size): (String, i64) =
            sqlx::query_as("SELECT typeof(payload), length(payload) FROM deliveries")
                .fetch_one(&pool)
                .await
                .unwrap();
        pool.close().await;
        assert_eq!(kind, "blob");
        assert!(size * 3 < signed.len() as i64, "{size} bytes stored");
    }

    store.close().await;
    let reopened = db.store(settings(&Clock::manual(T0))).await;
    assert_eq!(
        reopened.delivery_payload("s-1").await.unwrap(),
        Some(signed)
    );
    reopened.close().await;
    db.drop_schema().await;
}

async fn duplicate_delivery_is_queued_once(backend: Backend) {
    let db = TestDatabase::new(backend).await;
    let store = db.store(settings(&Clock::manual(T0))).await;
    assert!(
        store
            .record_delivery(&command("d-1", "octo/app"))
            .await
            .unwrap()
    );
    assert!(
        !store
            .record_delivery(&command("d-1", "octo/app"))
            .await
            .unwrap()
    );
    assert!(
        !DeliveryStore::record(&store, command("d-1", "octo/other"))
            .await
            .unwrap()
    );
    assert_eq!(store.jobs_of_delivery("d-1").await.unwrap().len(), 1);
    assert_eq!(store.queue_depth().await.unwrap().queued, 1);
    store.close().await;
    db.drop_schema().await;
}

/// Redeliveries racing the original (and each other) still queue the job once.
async fn concurrent_duplicates_are_queued_once(backend: Backend) {
    let db = TestDatabase::new(backend).await;
    let store = db.store(settings(&Clock::manual(T0))).await;
    let mut tasks = Vec::new();
    for i in 0..40 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let id = format!("race-{}", i % 4);
            let new = store
                .record_delivery(&command(&id, "octo/app"))
                .await
                .unwrap();
            (id, new)
        }));
    }
    let mut new_ids = Vec::new();
    for task in tasks {
        let (id, new) = task.await.unwrap();
        if new {
            new_ids.push(id);
        }
    }
    new_ids.sort();
    assert_eq!(new_ids, ["race-0", "race-1", "race-2", "race-3"]);
    for id in &new_ids {
        assert_eq!(store.jobs_of_delivery(id).await.unwrap().len(), 1, "{id}");
    }
    assert_eq!(store.queue_depth().await.unwrap().queued, 4);
    store.close().await;
    db.drop_schema().await;
}

async fn claim_then_succeed(backend: Backend) {
    let db = TestDatabase::new(backend).await;
    let clock = Clock::manual(T0);
    let store = db.store(settings(&clock)).await;
    assert_eq!(store.claim("w1", LEASE).await.unwrap(), None);
    store
        .record_delivery(&command("c-1", "octo/app"))
        .await
        .unwrap();

    let claimed = store.claim("w1", LEASE).await.unwrap().expect("a job");
    assert_eq!(claimed.status, JobStatus::Running);
    assert_eq!(claimed.attempts, 1);
    assert_eq!(claimed.lease_owner.as_deref(), Some("w1"));
    assert_eq!(claimed.lease_expires_at, Some(T0 + 30_000));
    assert_eq!(job(&store, claimed.id).await, claimed);
    let depth = store.queue_depth().await.unwrap();
    assert_eq!((depth.queued, depth.running), (0, 1));
    assert_eq!(store.claim("w2", LEASE).await.unwrap(), None);

    clock.advance(Duration::from_secs(5));
    store.succeed(&claimed).await.unwrap();
    let done = job(&store, claimed.id).await;
    assert_eq!(done.status, JobStatus::Succeeded);
    assert_eq!(done.attempts, 1);
    assert_eq!(done.lease_expires_at, None);
    assert_eq!(done.updated_at, T0 + 5_000);
    assert_eq!(store.queue_depth().await.unwrap(), Default::default());
    assert_eq!(store.claim("w1", LEASE).await.unwrap(), None);
    assert!(matches!(
        store.succeed(&claimed).await,
        Err(QueueError::LeaseLost { .. })
    ));
    store.close().await;
    db.drop_schema().await;
}

async fn failure_backs_off_exponentially(backend: Backend) {
    let db = TestDatabase::new(backend).await;
    let clock = Clock::manual(T0);
    let store = db.store(settings(&clock)).await;
    store
        .record_delivery(&command("c-1", "octo/app"))
        .await
        .unwrap();

    let first = store.claim("w1", LEASE).await.unwrap().expect("a job");
    // 10 s × 2^1 after the first attempt.
    assert_eq!(
        store.fail(&first, "clone: connection reset").await.unwrap(),
        Retry::At(T0 + 20_000)
    );
    let waiting = job(&store, first.id).await;
    assert_eq!(waiting.status, JobStatus::Queued);
    assert_eq!(waiting.run_after, T0 + 20_000);
    assert_eq!(
        waiting.last_error.as_deref(),
        Some("clone: connection reset")
    );
    assert_eq!(waiting.lease_expires_at, None);
    assert_eq!(store.queue_depth().await.unwrap().queued, 1);

    assert_eq!(store.claim("w1", LEASE).await.unwrap(), None);
    clock.advance(Duration::from_millis(19_999));
    assert_eq!(store.claim("w1", LEASE).await.unwrap(), None);
    clock.advance(Duration::from_millis(1));
    let second = store.claim("w2", LEASE).await.unwrap().expect("due again");
    assert_eq!((second.id, second.attempts), (first.id, 2));
    assert_eq!(second.lease_owner.as_deref(), Some("w2"));
    // 10 s × 2^2 after the second.
    assert_eq!(
        store.fail(&second, "502").await.unwrap(),
        Retry::At(T0 + 20_000 + 40_000)
    );
    // The first claim's report arrives late: it no longer counts.
    assert!(matches!(
        store.fail(&first, "late").await,
        Err(QueueError::LeaseLost { .. })
    ));
    store.close().await;
    db.drop_schema().await;
}

async fn exhausted_attempts_fail_with_the_reason(backend: Backend) {
    let db = TestDatabase::new(backend).await;
    let clock = Clock::manual(T0);
    let store = db.store(settings(&clock)).await;
    store
        .record_delivery(&command("c-1", "octo/app"))
        .await
        .unwrap();

    for attempt in 1..=3 {
        let claimed = store.claim("w1", LEASE).await.unwrap().expect("runnable");
        assert_eq!(claimed.attempts, attempt);
        let retry = store
            .fail(&claimed, &format!("boom {attempt}"))
            .await
            .unwrap();
        if attempt < 3 {
            assert!(matches!(retry, Retry::At(_)));
            clock.advance(Duration::from_secs(3600));
        } else {
            assert_eq!(retry, Retry::GaveUp);
        }
    }
    let failed = store.jobs_of_delivery("c-1").await.unwrap().remove(0);
    assert_eq!(failed.status, JobStatus::Failed);
    assert_eq!(failed.attempts, 3);
    assert_eq!(failed.last_error.as_deref(), Some("boom 3"));
    clock.advance(Duration::from_secs(24 * 3600));
    assert_eq!(store.claim("w1", LEASE).await.unwrap(), None);
    assert_eq!(store.queue_depth().await.unwrap(), Default::default());

    // A permanent failure ends the job at the first attempt.
    let id = store.enqueue(&refresh("octo/app")).await.unwrap();
    let claimed = store.claim("w1", LEASE).await.unwrap().expect("runnable");
    assert_eq!(claimed.id, id);
    store
        .give_up(&claimed, ".github/opsmith.yml: cloud: unknown value")
        .await
        .unwrap();
    let given_up = job(&store, id).await;
    assert_eq!((given_up.status, given_up.attempts), (JobStatus::Failed, 1));
    assert_eq!(
        given_up.last_error.as_deref(),
        Some(".github/opsmith.yml: cloud: unknown value")
    );
    store.close().await;
    db.drop_schema().await;
}

async fn expired_lease_is_taken_again(backend: Backend) {
    let db = TestDatabase::new(backend).await;
    let clock = Clock::manual(T0);
    let store = db.store(settings(&clock)).await;
    let id = store.enqueue(&refresh("octo/app")).await.unwrap();

    let first = store.claim("w1", LEASE).await.unwrap().expect("runnable");
    clock.advance(Duration::from_secs(25));
    assert_eq!(
        store.claim("w2", LEASE).await.unwrap(),
        None,
        "lease is live"
    );
    store.renew(&first, LEASE).await.unwrap();
    assert_eq!(job(&store, id).await.lease_expires_at, Some(T0 + 55_000));
    clock.advance(Duration::from_secs(29));
    assert_eq!(
        store.claim("w2", LEASE).await.unwrap(),
        None,
        "renewed lease is live"
    );

    // w1 died: its lease runs out and w2 takes the job.
    clock.advance(Duration::from_secs(1));
    let second = store
        .claim("w2", LEASE)
        .await
        .unwrap()
        .expect("lease expired");
    assert_eq!((second.id, second.attempts), (id, 2));
    assert_eq!(second.lease_owner.as_deref(), Some("w2"));
    assert!(second.last_error.as_deref().unwrap().contains("w1"));
    assert!(matches!(
        store.renew(&first, LEASE).await,
        Err(QueueError::LeaseLost { job_id, .. }) if job_id == id
    ));
    assert!(matches!(
        store.succeed(&first).await,
        Err(QueueError::LeaseLost { .. })
    ));
    store.succeed(&second).await.unwrap();
    assert_eq!(job(&store, id).await.status, JobStatus::Succeeded);

    // A job that keeps killing its worker ends failed once its attempts are spent.
    let doomed = store.enqueue(&refresh("octo/doomed")).await.unwrap();
    for attempt in 1..=3 {
        let claimed = store.claim("w3", LEASE).await.unwrap().expect("runnable");
        assert_eq!((claimed.id, claimed.attempts), (doomed, attempt));
        clock.advance(LEASE);
    }
    assert_eq!(store.claim("w3", LEASE).await.unwrap(), None);
    let failed = job(&store, doomed).await;
    assert_eq!(failed.status, JobStatus::Failed);
    assert!(failed.last_error.as_deref().unwrap().contains("expired"));
    store.close().await;
    db.drop_schema().await;
}

async fn one_repository_runs_one_job_at_a_time(backend: Backend) {
    let db = TestDatabase::new(backend).await;
    let clock = Clock::manual(T0);
    let store = db.store(settings(&clock)).await;
    let a1 = store.enqueue(&refresh("octo/a")).await.unwrap();
    let a2 = store.enqueue(&refresh("octo/a")).await.unwrap();
    let b1 = store.enqueue(&refresh("octo/b")).await.unwrap();

    let first = store.claim("w1", LEASE).await.unwrap().expect("a1");
    assert_eq!(first.id, a1);
    let second = store.claim("w2", LEASE).await.unwrap().expect("b1");
    assert_eq!(second.id, b1, "another repository runs in parallel");
    assert_eq!(
        store.claim("w3", LEASE).await.unwrap(),
        None,
        "octo/a is busy"
    );

    // A failed attempt frees the repository too.
    store.fail(&first, "boom").await.unwrap();
    let third = store.claim("w3", LEASE).await.unwrap().expect("a2");
    assert_eq!(third.id, a2);
    assert_eq!(store.claim("w1", LEASE).await.unwrap(), None);
    store.succeed(&third).await.unwrap();
    clock.advance(Duration::from_secs(60));
    let again = store.claim("w1", LEASE).await.unwrap().expect("a1 again");
    assert_eq!((again.id, again.attempts), (a1, 2));
    store.close().await;
    db.drop_schema().await;
}

async fn onboarding_is_paced(backend: Backend) {
    let db = TestDatabase::new(backend).await;
    let clock = Clock::manual(T0);
    let mut settings = settings(&clock);
    settings.triggers.onboarding_pace = Duration::from_secs(4);
    let store = db.store(settings).await;
    let mut payload = example("installation.created.0");
    let template = payload["repositories"][0].clone();
    payload["repositories"] = (0..3)
        .map(|i| {
            let mut repository = template.clone();
            repository["full_name"] = format!("octo/r{i}").into();
            repository
        })
        .collect();
    assert!(
        store
            .record_delivery(&delivery("i-1", "installation", &payload))
            .await
            .unwrap()
    );
    let jobs = store.jobs_of_delivery("i-1").await.unwrap();
    let due: Vec<_> = jobs
        .iter()
        .map(|j| (j.repository.as_str(), j.run_after))
        .collect();
    assert_eq!(
        due,
        [
            ("octo/r0", T0),
            ("octo/r1", T0 + 4_000),
            ("octo/r2", T0 + 8_000)
        ]
    );
    assert!(jobs.iter().all(|j| j.kind == JobKind::Onboard));
    assert_eq!(
        store.claim("w", LEASE).await.unwrap().unwrap().repository,
        "octo/r0"
    );
    assert_eq!(store.claim("w", LEASE).await.unwrap(), None);
    clock.advance(Duration::from_secs(4));
    assert_eq!(
        store.claim("w", LEASE).await.unwrap().unwrap().repository,
        "octo/r1"
    );
    store.close().await;
    db.drop_schema().await;
}

/// One job's run as a worker saw it.
struct Run {
    job: i64,
    repository: String,
    started: Instant,
    ended: Instant,
}

async fn many_workers_run_each_job_once(backend: Backend) {
    const JOBS: usize = 200;
    const REPOSITORIES: usize = 6;
    const WORKERS: usize = 8;
    let db = TestDatabase::new(backend).await;
    let clock = Clock::system();
    // Two stores with pools of their own, like two opsmith processes on one database.
    let stores = [
        db.store(settings(&clock)).await,
        db.store(settings(&clock)).await,
    ];
    for i in 0..JOBS {
        let delivery = command(&format!("c-{i}"), &format!("octo/r{}", i % REPOSITORIES));
        assert!(stores[i % 2].record_delivery(&delivery).await.unwrap());
    }

    let mut workers = Vec::new();
    for w in 0..WORKERS {
        let store = stores[w % 2].clone();
        workers.push(tokio::spawn(async move {
            let worker = format!("worker-{w}");
            let mut runs = Vec::new();
            loop {
                match store
                    .claim(&worker, Duration::from_secs(600))
                    .await
                    .unwrap()
                {
                    Some(job) => {
                        let started = Instant::now();
                        tokio::time::sleep(Duration::from_millis((job.id % 3) as u64)).await;
                        let ended = Instant::now();
                        store.succeed(&job).await.unwrap();
                        runs.push(Run {
                            job: job.id,
                            repository: job.repository,
                            started,
                            ended,
                        });
                    }
                    None => {
                        let depth = store.queue_depth().await.unwrap();
                        if depth.queued == 0 && depth.running == 0 {
                            return runs;
                        }
                        tokio::time::sleep(Duration::from_millis(2)).await;
                    }
                }
            }
        }));
    }
    let mut runs = Vec::new();
    let mut busy_workers = 0;
    for worker in workers {
        let done = worker.await.expect("worker panicked");
        busy_workers += usize::from(!done.is_empty());
        runs.extend(done);
    }

    assert_eq!(runs.len(), JOBS, "every job ran once");
    let ids: HashSet<i64> = runs.iter().map(|r| r.job).collect();
    assert_eq!(ids.len(), JOBS, "no job ran twice");
    assert!(busy_workers > 1, "work was shared");
    for id in &ids {
        let job = job(&stores[0], *id).await;
        assert_eq!((job.status, job.attempts), (JobStatus::Succeeded, 1));
    }
    let mut by_repository: BTreeMap<&str, Vec<&Run>> = BTreeMap::new();
    for run in &runs {
        by_repository.entry(&run.repository).or_default().push(run);
    }
    assert_eq!(by_repository.len(), REPOSITORIES);
    for (repository, runs) in &mut by_repository {
        runs.sort_by_key(|r| r.started);
        for pair in runs.windows(2) {
            assert!(
                pair[0].ended <= pair[1].started,
                "{repository}: jobs {} and {} ran at the same time",
                pair[0].job,
                pair[1].job
            );
        }
    }
    for store in &stores {
        store.close().await;
    }
    db.drop_schema().await;
}

#[tokio::test]
async fn unsupported_database_urls_are_refused() {
    for url in [
        "mysql://localhost/opsmith",
        "opsmith.db",
        "sqlite::memory:",
        "sqlite://file?mode=memory",
    ] {
        assert!(
            matches!(
                Store::connect(url).await,
                Err(QueueError::UnsupportedUrl(refused)) if refused == url
            ),
            "{url}"
        );
    }
}
