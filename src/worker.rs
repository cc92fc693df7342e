//! The workers: claim jobs from the queue, run them while renewing their lease, record how they
//! ended, and keep the queue-depth gauges current.

use crate::job::{JobError, Runner};
use crate::queue::{Job, QueueError, Retry, Store};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// Gauge: jobs by `state` (`queued`, `running`), across every process sharing the database.
pub const QUEUE_DEPTH: &str = "opsmith_queue_depth";
/// Counter: jobs ended, by `kind` and `outcome` (`succeeded`, `retried`, `failed`, `lost`).
pub const JOBS: &str = "opsmith_jobs_total";
/// Histogram: a job's whole run, in seconds, by `kind`.
pub const JOB_SECONDS: &str = "opsmith_job_seconds";

#[derive(Debug, Clone)]
pub struct WorkerSettings {
    pub count: usize,
    /// A claim's lease; renewed every third of it while the job runs.
    pub lease: Duration,
    /// How long an idle worker waits before asking for work again.
    pub idle_poll: Duration,
    /// A run taking longer is abandoned and retried.
    pub job_timeout: Duration,
}

impl WorkerSettings {
    pub fn new(count: usize, lease: Duration) -> WorkerSettings {
        WorkerSettings {
            count,
            lease,
            idle_poll: Duration::from_millis(500),
            job_timeout: Duration::from_secs(30 * 60),
        }
    }
}

/// Runs `settings.count` workers until `stop` turns true; a job in progress is finished first
/// (its lease keeps it this process's), then the workers return.
pub async fn run(
    store: Store,
    runner: Arc<Runner>,
    settings: WorkerSettings,
    stop: watch::Receiver<bool>,
) {
    let process = format!("{}-{}", hostname(), std::process::id());
    let mut workers = tokio::task::JoinSet::new();
    for n in 0..settings.count {
        let worker = Worker {
            id: format!("{process}-{n}-{}", unique_suffix()),
            store: store.clone(),
            runner: runner.clone(),
            settings: settings.clone(),
        };
        let stop = stop.clone();
        workers.spawn(async move { worker.serve(stop).await });
    }
    if settings.count > 0 {
        let store = store.clone();
        let mut stop = stop.clone();
        workers.spawn(async move {
            let mut every = tokio::time::interval(Duration::from_secs(5));
            loop {
                tokio::select! {
                    _ = every.tick() => {}
                    _ = stop.changed() => return,
                }
                if let Ok(depth) = store.queue_depth().await {
                    metrics::gauge!(QUEUE_DEPTH, "state" => "queued").set(depth.queued as f64);
                    metrics::gauge!(QUEUE_DEPTH, "state" => "running").set(depth.running as f64);
                }
            }
        });
    }
    while workers.join_next().await.is_some() {}
}

struct Worker {
    id: String,
    store: Store,
    runner: Arc<Runner>,
    settings: WorkerSettings,
}

impl Worker {
    async fn serve(&self, mut stop: watch::Receiver<bool>) {
        while !*stop.borrow() {
            match self.store.claim(&self.id, self.settings.lease).await {
                Ok(Some(job)) => self.run(job).await,
                Ok(None) => {
                    tokio::select! {
                        _ = tokio::time::sleep(self.settings.idle_poll) => {}
                        _ = stop.changed() => {}
                    }
                }
                Err(e) => {
                    tracing::warn!(worker = %self.id, error = %e, "cannot claim a job");
                    tokio::time::sleep(self.settings.idle_poll * 4).await;
                }
            }
        }
    }

    async fn run(&self, job: Job) {
        let started = Instant::now();
        let kind = job.kind.as_str();
        tracing::info!(job = job.id, kind, repository = %job.repository, attempt = job.attempts, "job started");
        let (lost_tx, mut lost) = watch::channel(false);
        let renewal = {
            let store = self.store.clone();
            let job = job.clone();
            let lease = self.settings.lease;
            tokio::spawn(async move {
                let mut every = tokio::time::interval(lease / 3);
                every.tick().await;
                loop {
                    every.tick().await;
                    match store.renew(&job, lease).await {
                        Ok(()) => {}
                        Err(QueueError::LeaseLost { .. }) => {
                            let _ = lost_tx.send(true);
                            return;
                        }
                        Err(e) => {
                            tracing::warn!(job = job.id, error = %e, "cannot renew the lease")
                        }
                    }
                }
            })
        };
        let outcome = tokio::select! {
            outcome = tokio::time::timeout(self.settings.job_timeout, self.runner.run(&job)) => {
                outcome.unwrap_or_else(|_| Err(JobError::Retry(format!(
                    "the run took longer than {} s", self.settings.job_timeout.as_secs()
                ))))
            }
            // Another worker holds it now: stop working on it, its result is theirs to record.
            _ = lost.wait_for(|lost| *lost) => {
                renewal.abort();
                tracing::warn!(job = job.id, "lease lost; the job was taken by another worker");
                metrics::counter!(JOBS, "kind" => kind, "outcome" => "lost").increment(1);
                return;
            }
        };
        renewal.abort();
        let recorded = match &outcome {
            Ok(done) => {
                tracing::info!(job = job.id, kind, repository = %job.repository, result = %done, "job succeeded");
                self.store.succeed(&job).await.map(|()| "succeeded")
            }
            Err(JobError::Retry(reason)) => {
                tracing::warn!(job = job.id, kind, repository = %job.repository, reason = %reason, "job attempt failed");
                self.store
                    .fail(&job, reason)
                    .await
                    .map(|retry| match retry {
                        Retry::At(_) => "retried",
                        Retry::GaveUp => "failed",
                    })
            }
            Err(JobError::Stop(reason)) => {
                tracing::warn!(job = job.id, kind, repository = %job.repository, reason = %reason, "job failed");
                self.store.give_up(&job, reason).await.map(|()| "failed")
            }
        };
        match recorded {
            Ok(outcome) => {
                metrics::counter!(JOBS, "kind" => kind, "outcome" => outcome).increment(1);
                metrics::histogram!(JOB_SECONDS, "kind" => kind)
                    .record(started.elapsed().as_secs_f64());
            }
            Err(e) => tracing::warn!(job = job.id, error = %e, "cannot record how the job ended"),
        }
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "opsmith".into())
}

/// Distinguishes this process's workers from a previous process with the same PID (containers).
fn unique_suffix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    format!("{:x}", nanos & 0xffff_ffff)
}
