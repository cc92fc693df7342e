//! The durable store of webhook deliveries and the jobs they trigger, on SQLite or PostgreSQL.
//!
//! A delivery and its jobs are committed in one transaction before the intake answers 202, so
//! nothing is lost if the process dies afterwards. Workers [`Store::claim`] jobs with a lease
//! (renewed while they run); a job whose lease expired belongs to a dead worker and is taken again.
//! Failures are retried with exponential backoff up to a cap of attempts. Jobs for one repository
//! never run at the same time: a partial unique index on running jobs enforces it in the database,
//! across processes.
//!
//! Times are unix milliseconds from the store's [`Clock`]; replicas sharing a PostgreSQL database
//! are assumed to have synchronised clocks (leases are minutes long, skew is milliseconds).
//!
//! SQLite runs in WAL mode with `synchronous=FULL`: a commit is on disk before `record` returns, so
//! a 202 survives a power loss too, not only a crash of opsmith (`NORMAL` would only give the
//! latter, and GitHub never redelivers by itself). One connection writes: writers wait their turn
//! in order instead of in SQLite's sleeping busy handler, inside `BEGIN IMMEDIATE` so no
//! transaction has to upgrade a read lock (`busy_timeout` covers another process on the same
//! file). Deliveries that arrive together are committed together, one disk flush per group, so
//! `FULL` costs no throughput. On SQLite the payload is kept LZ4-compressed (a third of the bytes to
//! write, flush and copy), and committed pages are copied from the WAL into the database file by a
//! background checkpoint rather than by the writer (figures in BENCHMARKS.md).

mod triggers;

pub use triggers::{NewJob, PUBLISH_BRANCH, Triggers};

use crate::server::{Delivery, DeliveryStore, StoreError};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{ColumnIndex, Decode, QueryBuilder, Row, Type};
use std::collections::HashSet;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::{Notify, mpsc, oneshot};

/// What a job does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobKind {
    /// First run on a repository after the App was installed on it.
    Onboard,
    /// Regenerate and update the open pull request (push to the default branch, re-run, …).
    Refresh,
    /// A comment command (`/opsmith …`).
    Command,
}

impl JobKind {
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Onboard => "onboard",
            JobKind::Refresh => "refresh",
            JobKind::Command => "command",
        }
    }

    fn parse(text: &str) -> Result<Self, QueueError> {
        match text {
            "onboard" => Ok(JobKind::Onboard),
            "refresh" => Ok(JobKind::Refresh),
            "command" => Ok(JobKind::Command),
            other => Err(QueueError::Corrupt(format!("unknown job kind {other:?}"))),
        }
    }
}

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobStatus {
    Queued,
    Running,
    Succeeded,
    Failed,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Succeeded => "succeeded",
            JobStatus::Failed => "failed",
        }
    }

    fn parse(text: &str) -> Result<Self, QueueError> {
        match text {
            "queued" => Ok(JobStatus::Queued),
            "running" => Ok(JobStatus::Running),
            "succeeded" => Ok(JobStatus::Succeeded),
            "failed" => Ok(JobStatus::Failed),
            other => Err(QueueError::Corrupt(format!("unknown job status {other:?}"))),
        }
    }
}

/// A stored job. Times are unix milliseconds.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub id: i64,
    pub kind: JobKind,
    /// `owner/name`.
    pub repository: String,
    pub installation_id: i64,
    /// The delivery that triggered it, if any.
    pub delivery_id: Option<String>,
    pub args: serde_json::Value,
    pub status: JobStatus,
    /// Claims so far, the current one included; with `lease_owner` it identifies one run.
    pub attempts: i64,
    pub max_attempts: i64,
    /// Not claimable before this time (backoff, pacing).
    pub run_after: i64,
    /// The worker running it (or that ran it last).
    pub lease_owner: Option<String>,
    pub lease_expires_at: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Jobs waiting and running, for `/metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QueueDepth {
    /// Queued jobs, including those waiting for their backoff or pacing delay.
    pub queued: i64,
    pub running: i64,
}

/// What happened to a job that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Queued again, claimable from this time (unix ms).
    At(i64),
    /// Attempts exhausted (or the failure is permanent): the job is `failed`.
    GaveUp,
}

/// The store's notion of now: the system clock, or a hand-moved one for tests and replays.
#[derive(Debug, Clone, Default)]
pub struct Clock(Option<Arc<AtomicI64>>);

impl Clock {
    pub fn system() -> Self {
        Clock(None)
    }

    /// A clock that stands still at `start_ms` until [`Clock::advance`] moves it.
    pub fn manual(start_ms: i64) -> Self {
        Clock(Some(Arc::new(AtomicI64::new(start_ms))))
    }

    /// Moves a manual clock forward; no effect on the system clock.
    pub fn advance(&self, by: Duration) {
        if let Some(now) = &self.0 {
            now.fetch_add(millis(by), Ordering::SeqCst);
        }
    }

    /// Unix milliseconds.
    pub fn now_ms(&self) -> i64 {
        match &self.0 {
            Some(now) => now.load(Ordering::SeqCst),
            None => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
        }
    }
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

/// How the store behaves; [`StoreSettings::default`] is what `opsmith serve` uses.
#[derive(Debug, Clone)]
pub struct StoreSettings {
    pub triggers: Triggers,
    /// Claims before a job is given up (a dead worker's claim counts).
    pub max_attempts: i64,
    /// The first retry waits `backoff_base × 2^attempts`, …
    pub backoff_base: Duration,
    /// … but never longer than this.
    pub backoff_cap: Duration,
    /// Connections in the pool.
    pub max_connections: u32,
    pub clock: Clock,
}

impl Default for StoreSettings {
    fn default() -> Self {
        StoreSettings {
            triggers: Triggers::default(),
            max_attempts: 5,
            backoff_base: Duration::from_secs(15),
            backoff_cap: Duration::from_secs(30 * 60),
            max_connections: 8,
            clock: Clock::system(),
        }
    }
}

impl StoreSettings {
    /// How long a job waits after its `attempts`-th claim failed.
    pub fn backoff(&self, attempts: i64) -> Duration {
        let factor = 1u32
            .checked_shl(u32::try_from(attempts.clamp(0, 31)).unwrap_or(31))
            .unwrap_or(u32::MAX);
        self.backoff_base
            .saturating_mul(factor)
            .min(self.backoff_cap)
    }
}

/// A failure of the store.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("unsupported database URL {0:?}: expected sqlite://PATH or postgres://…")]
    UnsupportedUrl(String),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database schema migration: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// The job is no longer this worker's: its lease expired and it was taken again, or it ended.
    #[error("job {job_id}: the lease of {worker} for attempt {attempt} is no longer held")]
    LeaseLost {
        job_id: i64,
        worker: String,
        attempt: i64,
    },
    #[error("unreadable row: {0}")]
    Corrupt(String),
    #[error("the store is closed")]
    Closed,
}

#[derive(Debug, Clone)]
enum Backend {
    /// One write connection (writers queue here, in order, rather than in SQLite's sleeping busy
    /// handler), a pool of readers, and the recorder that commits deliveries in groups.
    Sqlite {
        writes: SqlitePool,
        reads: SqlitePool,
        recorder: mpsc::Sender<PendingRecording>,
    },
    Postgres(PgPool),
}

/// Runs `$body` with `$pool` bound to the store's pool for writes or for reads; the SQL is shared.
macro_rules! on_pool {
    ($store:expr, writes $pool:ident => $body:expr) => {
        match &$store.backend {
            Backend::Sqlite { writes: $pool, .. } => $body,
            Backend::Postgres($pool) => $body,
        }
    };
    ($store:expr, reads $pool:ident => $body:expr) => {
        match &$store.backend {
            Backend::Sqlite { reads: $pool, .. } => $body,
            Backend::Postgres($pool) => $body,
        }
    };
}

/// Deliveries the SQLite recorder commits in one transaction at most.
const RECORD_GROUP: usize = 256;
/// How soon after a group commit its pages are copied from the WAL into the database file, off the
/// writer (commits in between share the checkpoint). Small copies keep each of the database file's
/// flushes short, and with them the wait of the WAL flushes queued behind: p99 fell from 10 ms
/// (every 50 ms) to 4 ms (BENCHMARKS.md).
const CHECKPOINT_DELAY: Duration = Duration::from_millis(5);
/// WAL pages after which the writer checkpoints itself: a backstop, should the background
/// checkpoints fall behind or never find the WAL quiet enough to start it over (32 MB).
const WRITER_AUTOCHECKPOINT_PAGES: u32 = 8_000;

/// A delivery and the jobs it triggers, ready to be written.
#[derive(Debug)]
struct Recording {
    id: String,
    event: String,
    action: Option<String>,
    installation_id: Option<i64>,
    repository: Option<String>,
    payload: StoredPayload,
    received_at: i64,
    jobs: Vec<NewJob>,
    max_attempts: i64,
}

impl Recording {
    /// A delivery that triggers no job is kept for the record only.
    fn status(&self) -> &'static str {
        if self.jobs.is_empty() {
            "ignored"
        } else {
            "queued"
        }
    }
}

/// A payload as the store keeps it.
#[derive(Debug, Clone)]
enum StoredPayload {
    /// Verbatim (PostgreSQL compresses large values itself); shared, so that binding it to a
    /// statement does not copy it.
    Text(Arc<str>),
    /// LZ4 block with its length in front (SQLite): a third of the bytes to write, flush and
    /// checkpoint. Stored as a BLOB, which is how a reader tells it from verbatim text.
    Lz4(Vec<u8>),
}

impl StoredPayload {
    /// The verbatim text; `None` for a compressed payload, which the NOT NULL column then refuses
    /// rather than storing it as something it is not.
    fn verbatim(&self) -> Option<&str> {
        match self {
            StoredPayload::Text(text) => Some(text),
            StoredPayload::Lz4(_) => None,
        }
    }
}

#[derive(Debug)]
struct PendingRecording {
    recording: Recording,
    reply: oneshot::Sender<Result<bool, QueueError>>,
}

/// Inserts a delivery and, when it is new, its jobs, inside the open transaction `$tx`;
/// evaluates to whether it was new.
macro_rules! insert_recording {
    ($tx:expr, $recording:expr) => {{
        let r: &Recording = $recording;
        let new = sqlx::query(INSERT_DELIVERY)
            .bind(&r.id)
            .bind(&r.event)
            .bind(r.action.as_deref())
            .bind(r.installation_id)
            .bind(r.repository.as_deref())
            .bind(r.payload.verbatim())
            .bind(r.received_at)
            .bind(r.status())
            .execute(&mut *$tx)
            .await?
            .rows_affected()
            == 1;
        if new {
            for job in &r.jobs {
                sqlx::query(INSERT_JOB)
                    .bind(job.kind.as_str())
                    .bind(&job.repository)
                    .bind(job.installation_id)
                    .bind(&r.id)
                    .bind(job.args.to_string())
                    .bind(r.max_attempts)
                    .bind(r.received_at.saturating_add(millis(job.delay)))
                    .bind(r.received_at)
                    .execute(&mut *$tx)
                    .await?;
            }
        }
        new
    }};
}

/// The store of deliveries and jobs; cheap to clone (pools are shared).
#[derive(Debug, Clone)]
pub struct Store {
    backend: Backend,
    settings: Arc<StoreSettings>,
}

/// The columns `job_from_row` reads, as a literal for `concat!`.
macro_rules! job_columns {
    () => {
        "id, kind, repository, installation_id, delivery_id, args, status, attempts, \
         max_attempts, run_after, lease_owner, lease_expires_at, last_error, created_at, updated_at"
    };
}

const INSERT_DELIVERY: &str = "INSERT INTO deliveries \
    (id, event, action, installation_id, repository, payload, received_at, status) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING";

const INSERT_JOB: &str = "INSERT INTO jobs \
    (kind, repository, installation_id, delivery_id, args, status, attempts, max_attempts, \
     run_after, created_at, updated_at) \
    VALUES ($1, $2, $3, $4, $5, 'queued', 0, $6, $7, $8, $8) RETURNING id";

/// Requeues (or, attempts exhausted, fails) running jobs whose lease expired: their worker died.
/// `SKIP LOCKED` (PostgreSQL) leaves rows another claimer is reaping to it instead of waiting.
macro_rules! reap_sql {
    ($lock:literal) => {
        concat!(
            "UPDATE jobs SET \
               status = CASE WHEN attempts >= max_attempts THEN 'failed' ELSE 'queued' END, \
               last_error = 'the lease of ' || COALESCE(lease_owner, '?') || \
                 ' expired during attempt ' || CAST(attempts AS TEXT) || ' (worker gone)', \
               lease_expires_at = NULL, updated_at = $1 \
             WHERE id IN (SELECT id FROM jobs \
               WHERE status = 'running' AND lease_expires_at <= $1 ",
            $lock,
            ")"
        )
    };
}

/// Takes the oldest runnable job of a repository with no running job.
macro_rules! claim_sql {
    ($lock:literal) => {
        concat!(
            "UPDATE jobs SET status = 'running', lease_owner = $1, lease_expires_at = $2, \
               attempts = attempts + 1, updated_at = $3 \
             WHERE id = (SELECT j.id FROM jobs j \
               WHERE j.status = 'queued' AND j.run_after <= $3 \
                 AND NOT EXISTS (SELECT 1 FROM jobs r \
                   WHERE r.repository = j.repository AND r.status = 'running') \
               ORDER BY j.id LIMIT 1 ",
            $lock,
            ") RETURNING ",
            job_columns!()
        )
    };
}

/// The fence of every update by a worker: the job is still running under this very claim.
const HELD: &str = "id = $1 AND status = 'running' AND lease_owner = $2 AND attempts = $3";

impl Store {
    /// Opens (creating a SQLite file if missing) and migrates the database at `url`:
    /// `sqlite://PATH` or `postgres://…`.
    pub async fn connect(url: &str) -> Result<Store, QueueError> {
        Store::connect_with(url, StoreSettings::default()).await
    }

    pub async fn connect_with(url: &str, settings: StoreSettings) -> Result<Store, QueueError> {
        let backend = if url.starts_with("sqlite:") {
            if url.contains(":memory:") || url.contains("mode=memory") {
                // Each connection would see a database of its own, and nothing would be durable.
                return Err(QueueError::UnsupportedUrl(url.to_string()));
            }
            let options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true);
            let writes = SqlitePoolOptions::new()
                .max_connections(1)
                .connect_with(options.clone().pragma(
                    "wal_autocheckpoint",
                    WRITER_AUTOCHECKPOINT_PAGES.to_string(),
                ))
                .await?;
            migrator(include_str!(
                "../../migrations/sqlite/0001_deliveries_and_jobs.sql"
            ))
            .run(&writes)
            .await?;
            let reads = SqlitePoolOptions::new()
                .max_connections(settings.max_connections.max(1))
                .connect_with(options)
                .await?;
            let (recorder, inbox) = mpsc::channel(RECORD_GROUP * 4);
            let committed = Arc::new(Notify::new());
            spawn_recorder(writes.clone(), inbox, committed.clone())?;
            tokio::spawn(run_checkpointer(
                reads.clone(),
                recorder.downgrade(),
                committed,
            ));
            Backend::Sqlite {
                writes,
                reads,
                recorder,
            }
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = PgPoolOptions::new()
                .max_connections(settings.max_connections.max(1))
                // An unreachable server should stop start-up in seconds, not after sqlx's 30 s default.
                .acquire_timeout(std::time::Duration::from_secs(5))
                .connect(url)
                .await?;
            migrator(include_str!(
                "../../migrations/postgres/0001_deliveries_and_jobs.sql"
            ))
            .run(&pool)
            .await?;
            Backend::Postgres(pool)
        } else {
            return Err(QueueError::UnsupportedUrl(url.to_string()));
        };
        Ok(Store {
            backend,
            settings: Arc::new(settings),
        })
    }

    pub fn settings(&self) -> &StoreSettings {
        &self.settings
    }

    fn now(&self) -> i64 {
        self.settings.clock.now_ms()
    }

    /// Stores a delivery and the jobs it triggers in one transaction. `Ok(false)`: its id was
    /// recorded before, and nothing was queued again.
    pub async fn record_delivery(&self, delivery: &Delivery) -> Result<bool, QueueError> {
        let recording = Recording {
            id: delivery.id.clone(),
            event: delivery.event.clone(),
            action: delivery.action.clone(),
            installation_id: delivery.installation_id,
            repository: delivery.repository.clone(),
            payload: match &self.backend {
                Backend::Sqlite { .. } => {
                    StoredPayload::Lz4(lz4_flex::compress_prepend_size(&delivery.payload))
                }
                _ => StoredPayload::Text(match std::str::from_utf8(&delivery.payload) {
                    Ok(text) => Arc::from(text),
                    Err(_) => Arc::from(String::from_utf8_lossy(&delivery.payload)),
                }),
            },
            received_at: self.now(),
            jobs: self.settings.triggers.jobs_for(delivery),
            max_attempts: self.settings.max_attempts,
        };
        match &self.backend {
            Backend::Sqlite { recorder, .. } => {
                let (reply, answer) = oneshot::channel();
                recorder
                    .send(PendingRecording { recording, reply })
                    .await
                    .map_err(|_| QueueError::Closed)?;
                answer.await.map_err(|_| QueueError::Closed)?
            }
            Backend::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                let new = insert_recording!(tx, &recording);
                tx.commit().await?;
                Ok(new)
            }
        }
    }

    /// The payload of a recorded delivery, exactly as GitHub signed it (stored compressed on SQLite).
    pub async fn delivery_payload(&self, id: &str) -> Result<Option<String>, QueueError> {
        match &self.backend {
            Backend::Sqlite { reads, .. } => {
                // A BLOB is an LZ4 block; TEXT is verbatim (rows written before compression).
                let Some(row) = sqlx::query(
                    "SELECT typeof(payload) = 'blob', CAST(payload AS BLOB) FROM deliveries \
                     WHERE id = $1",
                )
                .bind(id)
                .fetch_optional(reads)
                .await?
                else {
                    return Ok(None);
                };
                let stored: Vec<u8> = row.try_get(1)?;
                let bytes = if row.try_get::<bool, _>(0)? {
                    lz4_flex::decompress_size_prepended(&stored)
                        .map_err(|e| QueueError::Corrupt(format!("payload of {id}: {e}")))?
                } else {
                    stored
                };
                // Invalid UTF-8 is replaced as PostgreSQL's TEXT column has it replaced.
                Ok(Some(String::from_utf8(bytes).unwrap_or_else(|e| {
                    String::from_utf8_lossy(e.as_bytes()).into_owned()
                })))
            }
            Backend::Postgres(pool) => {
                Ok(sqlx::query("SELECT payload FROM deliveries WHERE id = $1")
                    .bind(id)
                    .fetch_optional(pool)
                    .await?
                    .map(|row| row.try_get(0))
                    .transpose()?)
            }
        }
    }

    /// Queues one job that no delivery triggered (e.g. an operator's request); returns its id.
    pub async fn enqueue(&self, job: &NewJob) -> Result<i64, QueueError> {
        let now = self.now();
        on_pool!(self, writes pool => {
            let id: i64 = sqlx::query(INSERT_JOB)
                .bind(job.kind.as_str())
                .bind(&job.repository)
                .bind(job.installation_id)
                .bind(None::<String>)
                .bind(job.args.to_string())
                .bind(self.settings.max_attempts)
                .bind(now.saturating_add(millis(job.delay)))
                .bind(now)
                .fetch_one(pool)
                .await?
                .try_get(0)?;
            Ok(id)
        })
    }

    /// Atomically takes the oldest runnable job (queued and due, or left by a worker whose lease
    /// expired) whose repository has no job running, marks it running under `worker`'s lease and
    /// counts the attempt. `None` when nothing is runnable now.
    pub async fn claim(&self, worker: &str, lease: Duration) -> Result<Option<Job>, QueueError> {
        match &self.backend {
            Backend::Sqlite { writes: pool, .. } => {
                let now = self.now();
                // BEGIN IMMEDIATE: claimers queue on the write lock, so the check and the update
                // see the same state.
                let mut tx = pool.begin_write().await?;
                sqlx::query(reap_sql!(""))
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                let row = sqlx::query(claim_sql!(""))
                    .bind(worker)
                    .bind(now.saturating_add(millis(lease)))
                    .bind(now)
                    .fetch_optional(&mut *tx)
                    .await?;
                tx.commit().await?;
                row.as_ref().map(job_from_row).transpose()
            }
            Backend::Postgres(pool) => {
                // Two claimers may pick different jobs of one repository at once (each sees the
                // other's claim only after it commits); the unique index on running jobs makes the
                // second one fail, and it tries again with the newer state.
                let mut tries = 0;
                loop {
                    let now = self.now();
                    let attempt = async {
                        let mut tx = pool.begin().await?;
                        sqlx::query(reap_sql!("FOR UPDATE SKIP LOCKED"))
                            .bind(now)
                            .execute(&mut *tx)
                            .await?;
                        let row = sqlx::query(claim_sql!("FOR UPDATE OF j SKIP LOCKED"))
                            .bind(worker)
                            .bind(now.saturating_add(millis(lease)))
                            .bind(now)
                            .fetch_optional(&mut *tx)
                            .await?;
                        tx.commit().await?;
                        Ok::<_, sqlx::Error>(row)
                    };
                    match attempt.await {
                        Ok(row) => return row.as_ref().map(job_from_row).transpose(),
                        Err(error) if tries < 20 && is_contention(&error) => tries += 1,
                        Err(error) => return Err(error.into()),
                    }
                }
            }
        }
    }

    /// Extends the lease of a running job; `LeaseLost` if it is no longer this claim's.
    pub async fn renew(&self, job: &Job, lease: Duration) -> Result<(), QueueError> {
        let now = self.now();
        let updated = on_pool!(self, writes pool => {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "UPDATE jobs SET lease_expires_at = $4, updated_at = $5 WHERE {HELD}"
            )))
            .bind(job.id)
            .bind(job.lease_owner.as_deref())
            .bind(job.attempts)
            .bind(now.saturating_add(millis(lease)))
            .bind(now)
            .execute(pool)
            .await?
            .rows_affected()
        });
        lease_held(job, updated)
    }

    /// Marks a running job done.
    pub async fn succeed(&self, job: &Job) -> Result<(), QueueError> {
        let now = self.now();
        let updated = on_pool!(self, writes pool => {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "UPDATE jobs SET status = 'succeeded', lease_expires_at = NULL, updated_at = $4 \
                 WHERE {HELD}"
            )))
            .bind(job.id)
            .bind(job.lease_owner.as_deref())
            .bind(job.attempts)
            .bind(now)
            .execute(pool)
            .await?
            .rows_affected()
        });
        lease_held(job, updated)
    }

    /// Records a failed attempt: the job is queued again after `backoff_base × 2^attempts` (capped)
    /// or, attempts exhausted, ends `failed` with `reason`.
    pub async fn fail(&self, job: &Job, reason: &str) -> Result<Retry, QueueError> {
        let retry = if job.attempts >= job.max_attempts {
            Retry::GaveUp
        } else {
            Retry::At(
                self.now()
                    .saturating_add(millis(self.settings.backoff(job.attempts))),
            )
        };
        self.end_attempt(job, reason, retry).await?;
        Ok(retry)
    }

    /// Ends a running job `failed` at once: retrying cannot help (e.g. an invalid configuration).
    pub async fn give_up(&self, job: &Job, reason: &str) -> Result<(), QueueError> {
        self.end_attempt(job, reason, Retry::GaveUp).await
    }

    async fn end_attempt(&self, job: &Job, reason: &str, retry: Retry) -> Result<(), QueueError> {
        let now = self.now();
        let (status, run_after) = match retry {
            Retry::At(at) => (JobStatus::Queued, at),
            Retry::GaveUp => (JobStatus::Failed, job.run_after),
        };
        let updated = on_pool!(self, writes pool => {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "UPDATE jobs SET status = $4, run_after = $5, last_error = $6, \
                 lease_expires_at = NULL, updated_at = $7 WHERE {HELD}"
            )))
            .bind(job.id)
            .bind(job.lease_owner.as_deref())
            .bind(job.attempts)
            .bind(status.as_str())
            .bind(run_after)
            .bind(reason)
            .bind(now)
            .execute(pool)
            .await?
            .rows_affected()
        });
        lease_held(job, updated)
    }

    /// Jobs queued (due or not) and running.
    pub async fn queue_depth(&self) -> Result<QueueDepth, QueueError> {
        let rows = on_pool!(self, reads pool => {
            sqlx::query(
                "SELECT status, COUNT(*) FROM jobs WHERE status IN ('queued', 'running') \
                 GROUP BY status",
            )
            .fetch_all(pool)
            .await?
            .iter()
            .map(|row| Ok((row.try_get::<String, _>(0)?, row.try_get::<i64, _>(1)?)))
            .collect::<Result<Vec<_>, sqlx::Error>>()?
        });
        let mut depth = QueueDepth::default();
        for (status, count) in rows {
            match status.as_str() {
                "queued" => depth.queued = count,
                _ => depth.running = count,
            }
        }
        Ok(depth)
    }

    /// One job by id.
    pub async fn job(&self, id: i64) -> Result<Option<Job>, QueueError> {
        on_pool!(self, reads pool => {
            sqlx::query(concat!("SELECT ", job_columns!(), " FROM jobs WHERE id = $1"))
                .bind(id)
                .fetch_optional(pool)
                .await?
                .as_ref()
                .map(job_from_row)
                .transpose()
        })
    }

    /// The jobs a delivery triggered, oldest first.
    pub async fn jobs_of_delivery(&self, delivery_id: &str) -> Result<Vec<Job>, QueueError> {
        on_pool!(self, reads pool => {
            sqlx::query(concat!(
                "SELECT ",
                job_columns!(),
                " FROM jobs WHERE delivery_id = $1 ORDER BY id"
            ))
            .bind(delivery_id)
            .fetch_all(pool)
            .await?
            .iter()
            .map(job_from_row)
            .collect()
        })
    }

    /// Answers when the database does.
    pub async fn ping(&self) -> Result<(), QueueError> {
        on_pool!(self, reads pool => {
            sqlx::query("SELECT 1").execute(pool).await?;
            Ok(())
        })
    }

    /// Closes the pool, waiting for connections in use to be returned.
    pub async fn close(&self) {
        match &self.backend {
            Backend::Sqlite { writes, reads, .. } => {
                writes.close().await;
                reads.close().await;
            }
            Backend::Postgres(pool) => pool.close().await,
        }
    }
}

impl DeliveryStore for Store {
    async fn record(&self, delivery: Delivery) -> Result<bool, StoreError> {
        self.record_delivery(&delivery)
            .await
            .map_err(StoreError::new)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        Store::ping(self).await.map_err(StoreError::new)
    }
}

/// Runs the recorder on a thread of its own: its turns (begin, insert, commit, each a round trip
/// to SQLite's connection thread) then never wait behind the HTTP tasks, which keeps the time
/// between group commits, and so each delivery's wait for its 202, short. It ends with the store.
fn spawn_recorder(
    writes: SqlitePool,
    inbox: mpsc::Receiver<PendingRecording>,
    committed: Arc<Notify>,
) -> Result<(), QueueError> {
    std::thread::Builder::new()
        .name("opsmith-recorder".into())
        .spawn(move || {
            match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime.block_on(run_recorder(writes, inbox, committed)),
                // Dropping the inbox fails every recording with `Closed`: the intake answers 500.
                Err(error) => tracing::error!(%error, "cannot start the delivery recorder"),
            }
        })
        .map(drop)
        .map_err(|e| QueueError::Database(sqlx::Error::Io(e)))
}

/// Commits waiting deliveries together, one transaction (and one disk flush) per group: with
/// `synchronous=FULL`, flushing once per webhook would cap the intake at the disk's flush rate.
/// `committed` is told after each group, and once more when the store is gone.
async fn run_recorder(
    writes: SqlitePool,
    mut inbox: mpsc::Receiver<PendingRecording>,
    committed: Arc<Notify>,
) {
    let mut group = Vec::with_capacity(RECORD_GROUP);
    while inbox.recv_many(&mut group, RECORD_GROUP).await > 0 {
        let recordings: Vec<&Recording> = group.iter().map(|p| &p.recording).collect();
        match record_group(&writes, &recordings).await {
            Ok(news) => {
                for (pending, new) in group.drain(..).zip(news) {
                    let _ = pending.reply.send(Ok(new));
                }
            }
            Err(error) if group.len() == 1 => {
                if let Some(pending) = group.pop() {
                    let _ = pending.reply.send(Err(error));
                }
            }
            // One delivery the database refuses must not fail the others: write each alone.
            Err(_) => {
                for pending in group.drain(..) {
                    let result = record_group(&writes, &[&pending.recording])
                        .await
                        .map(|news| news[0]);
                    let _ = pending.reply.send(result);
                }
            }
        }
        committed.notify_one();
    }
    committed.notify_one();
}

/// Copies committed pages from the WAL into the database file off the recorder's path, so that a
/// commit rarely has to (the writer's own autocheckpoint remains as a backstop). Sleeps while
/// nothing is committed; ends with the store.
async fn run_checkpointer(
    reads: SqlitePool,
    store: mpsc::WeakSender<PendingRecording>,
    committed: Arc<Notify>,
) {
    let mut failing = false;
    loop {
        committed.notified().await;
        if store.upgrade().is_none() || reads.is_closed() {
            return;
        }
        tokio::time::sleep(CHECKPOINT_DELAY).await;
        match sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&reads)
            .await
        {
            Ok(_) => failing = false,
            Err(_) if reads.is_closed() => return,
            // Once per spell of failures, not 20 times a second.
            Err(error) if !failing => {
                failing = true;
                tracing::warn!(%error, "WAL checkpoint failed");
            }
            Err(_) => {}
        }
    }
}

/// Writes a group of deliveries with one multi-row insert per table: each statement is a round
/// trip to SQLite's connection thread, which would otherwise dominate the cost of a delivery.
async fn record_group(
    writes: &SqlitePool,
    recordings: &[&Recording],
) -> Result<Vec<bool>, QueueError> {
    let mut tx = writes.begin_write().await?;
    let mut deliveries = QueryBuilder::<sqlx::Sqlite>::new(
        "INSERT INTO deliveries \
         (id, event, action, installation_id, repository, payload, received_at, status) ",
    );
    deliveries.push_values(recordings, |mut row, r| {
        row.push_bind(&r.id)
            .push_bind(&r.event)
            .push_bind(r.action.as_deref())
            .push_bind(r.installation_id)
            .push_bind(r.repository.as_deref());
        match &r.payload {
            StoredPayload::Text(text) => row.push_bind(Arc::clone(text)),
            StoredPayload::Lz4(block) => row.push_bind(block.clone()),
        };
        row.push_bind(r.received_at).push_bind(r.status());
    });
    deliveries.push(" ON CONFLICT (id) DO NOTHING RETURNING id");
    let inserted = deliveries
        .build()
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|row| row.try_get::<String, _>(0))
        .collect::<Result<HashSet<_>, _>>()?;
    // The same id twice in one group: the first one is the new one.
    let mut seen = HashSet::new();
    let news: Vec<bool> = recordings
        .iter()
        .map(|r| inserted.contains(&r.id) && seen.insert(r.id.as_str()))
        .collect();
    let jobs: Vec<(&Recording, &NewJob)> = recordings
        .iter()
        .zip(&news)
        .filter(|(_, new)| **new)
        .flat_map(|(r, _)| r.jobs.iter().map(move |job| (*r, job)))
        .collect();
    // 11 parameters a row, well under SQLite's 32,766 per statement.
    for chunk in jobs.chunks(1_000) {
        let mut insert = QueryBuilder::<sqlx::Sqlite>::new(
            "INSERT INTO jobs (kind, repository, installation_id, delivery_id, args, status, \
             attempts, max_attempts, run_after, created_at, updated_at) ",
        );
        insert.push_values(chunk, |mut row, (r, job)| {
            row.push_bind(job.kind.as_str())
                .push_bind(&job.repository)
                .push_bind(job.installation_id)
                .push_bind(&r.id)
                .push_bind(job.args.to_string())
                .push_bind(JobStatus::Queued.as_str())
                .push_bind(0_i64)
                .push_bind(r.max_attempts)
                .push_bind(r.received_at.saturating_add(millis(job.delay)))
                .push_bind(r.received_at)
                .push_bind(r.received_at);
        });
        insert.build().execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(news)
}

fn migrator(sql: &'static str) -> Migrator {
    Migrator::with_migrations(vec![Migration::new(
        1,
        "deliveries and jobs".into(),
        MigrationType::Simple,
        sqlx::SqlSafeStr::into_sql_str(sql),
        false,
    )])
}

/// How each backend opens a write transaction.
trait WritePool {
    type Db: sqlx::Database;
    fn begin_write(
        &self,
    ) -> impl Future<Output = Result<sqlx::Transaction<'static, Self::Db>, sqlx::Error>> + Send;
}

impl WritePool for SqlitePool {
    type Db = sqlx::Sqlite;
    /// Takes the write lock now, not at the first write: no deadlock, no stale read.
    fn begin_write(
        &self,
    ) -> impl Future<Output = Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error>> + Send
    {
        self.begin_with("BEGIN IMMEDIATE")
    }
}

impl WritePool for PgPool {
    type Db = sqlx::Postgres;
    fn begin_write(
        &self,
    ) -> impl Future<Output = Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error>> + Send
    {
        self.begin()
    }
}

/// Serialization failures, deadlocks and unique violations: the claim raced another one.
fn is_contention(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Database(e) => {
            matches!(e.code().as_deref(), Some("23505" | "40001" | "40P01"))
        }
        _ => false,
    }
}

fn lease_held(job: &Job, updated: u64) -> Result<(), QueueError> {
    if updated == 1 {
        Ok(())
    } else {
        Err(QueueError::LeaseLost {
            job_id: job.id,
            worker: job.lease_owner.clone().unwrap_or_default(),
            attempt: job.attempts,
        })
    }
}

fn job_from_row<R>(row: &R) -> Result<Job, QueueError>
where
    R: Row,
    &'static str: ColumnIndex<R>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
{
    let args: String = row.try_get("args")?;
    Ok(Job {
        id: row.try_get("id")?,
        kind: JobKind::parse(&row.try_get::<String, _>("kind")?)?,
        repository: row.try_get("repository")?,
        installation_id: row.try_get("installation_id")?,
        delivery_id: row.try_get("delivery_id")?,
        args: serde_json::from_str(&args)
            .map_err(|e| QueueError::Corrupt(format!("job args: {e}")))?,
        status: JobStatus::parse(&row.try_get::<String, _>("status")?)?,
        attempts: row.try_get("attempts")?,
        max_attempts: row.try_get("max_attempts")?,
        run_after: row.try_get("run_after")?,
        lease_owner: row.try_get("lease_owner")?,
        lease_expires_at: row.try_get("lease_expires_at")?,
        last_error: row.try_get("last_error")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let settings = StoreSettings {
            backoff_base: Duration::from_secs(10),
            backoff_cap: Duration::from_secs(100),
            ..StoreSettings::default()
        };
        assert_eq!(settings.backoff(0), Duration::from_secs(10));
        assert_eq!(settings.backoff(1), Duration::from_secs(20));
        assert_eq!(settings.backoff(3), Duration::from_secs(80));
        assert_eq!(settings.backoff(4), Duration::from_secs(100));
        assert_eq!(settings.backoff(1000), Duration::from_secs(100));
    }

    #[test]
    fn manual_clock_moves_only_when_told() {
        let clock = Clock::manual(1_000);
        assert_eq!(clock.now_ms(), 1_000);
        clock.advance(Duration::from_millis(250));
        assert_eq!(clock.now_ms(), 1_250);
        assert!(Clock::system().now_ms() > 1_600_000_000_000);
    }
}
