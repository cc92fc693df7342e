//! Acknowledging a comment command the moment the intake records it: an 👀 reaction, sent once and
//! best-effort, so people see at once that opsmith heard them even while the job waits its turn.
//! The job reacts again when it runs (GitHub keeps one reaction per user and content).

use crate::github::{GitHub, Permissions};
use crate::queue::{JobKind, Triggers};
use crate::server::{Acknowledge, Delivery};
use std::sync::Arc;
use tokio::sync::Semaphore;

/// Acknowledgements in flight at most; beyond that the job's own reaction does it.
const IN_FLIGHT: usize = 16;

pub struct Acknowledger {
    github: Arc<GitHub>,
    triggers: Triggers,
    in_flight: Arc<Semaphore>,
}

impl Acknowledger {
    pub fn new(github: Arc<GitHub>, triggers: Triggers) -> Acknowledger {
        Acknowledger {
            github,
            triggers,
            in_flight: Arc::new(Semaphore::new(IN_FLIGHT)),
        }
    }
}

impl Acknowledge for Acknowledger {
    fn recorded(&self, delivery: &Delivery) {
        let Ok(permit) = self.in_flight.clone().try_acquire_owned() else {
            return;
        };
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let (github, triggers, delivery) =
            (self.github.clone(), self.triggers.clone(), delivery.clone());
        // Off the request's path: reading the payload again costs the reply nothing.
        handle.spawn(async move {
            let _permit = permit;
            // The same decision the store made: a command job from a person's comment.
            let Some(job) = triggers
                .jobs_for(&delivery)
                .into_iter()
                .find(|j| j.kind == JobKind::Command)
            else {
                return;
            };
            let Some(comment_id) = job.args.get("comment_id").and_then(|v| v.as_i64()) else {
                return;
            };
            let permissions = Permissions::from([
                ("issues", "write"),
                ("pull_requests", "write"),
                ("metadata", "read"),
            ]);
            let reacted = match github.repo(job.installation_id, &job.repository, &permissions) {
                Ok(repo) => repo.trying_once().react_to_comment(comment_id, "eyes").await,
                Err(e) => Err(e),
            };
            if let Err(e) = reacted {
                tracing::debug!(repository = %job.repository, error = %e, "no early acknowledgement; the job reacts when it runs");
            }
        });
    }
}
