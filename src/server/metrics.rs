//! The process-wide Prometheus recorder and the intake's own counters.
//!
//! Any module may record with the `metrics` macros; `GET /metrics` renders whatever was recorded.

use metrics::Counter;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;

pub const DELIVERIES: &str = "opsmith_webhook_deliveries_total";

/// What became of one `POST /webhook` request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(usize)]
pub enum Outcome {
    /// New, stored, and an event opsmith acts on.
    Queued,
    /// New and stored, but an event or action opsmith does not act on.
    Ignored,
    /// Its delivery id was recorded before.
    Duplicate,
    /// 401: missing, malformed or wrong signature.
    Unauthorized,
    /// 413: above the 25 MB cap.
    TooLarge,
    /// 400: missing headers or a body that is not JSON.
    BadRequest,
    /// 500: the store failed or timed out.
    StoreFailed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Queued => "queued",
            Outcome::Ignored => "ignored",
            Outcome::Duplicate => "duplicate",
            Outcome::Unauthorized => "unauthorized",
            Outcome::TooLarge => "too_large",
            Outcome::BadRequest => "bad_request",
            Outcome::StoreFailed => "store_failed",
        }
    }
}

/// Event label values: `unverified` (before the signature was checked), `other` (an event not
/// listed), then the events worth a series of their own. A fixed set keeps the series bounded and
/// lets each counter be looked up once and then reused without allocating.
const EVENT_LABELS: &[&str] = &[
    "unverified",
    "other",
    "check_run",
    "check_suite",
    "installation",
    "installation_repositories",
    "installation_target",
    "issue_comment",
    "issues",
    "ping",
    "pull_request",
    "pull_request_review",
    "pull_request_review_comment",
    "push",
    "repository",
];
const OUTCOMES: usize = 7;
const SLOTS: usize = EVENT_LABELS.len() * OUTCOMES;

/// An index into the event label values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventLabel(usize);

impl EventLabel {
    pub const UNVERIFIED: EventLabel = EventLabel(0);

    /// The label for a verified delivery's `X-GitHub-Event`.
    pub fn of(event: &str) -> EventLabel {
        EventLabel(
            EVENT_LABELS
                .iter()
                .skip(2)
                .position(|known| *known == event)
                .map_or(1, |i| i + 2),
        )
    }

    pub fn as_str(self) -> &'static str {
        EVENT_LABELS[self.0]
    }
}

pub fn count_delivery(event: EventLabel, outcome: Outcome) {
    static COUNTERS: [OnceLock<Counter>; SLOTS] = [const { OnceLock::new() }; SLOTS];
    COUNTERS[event.0 * OUTCOMES + outcome as usize]
        .get_or_init(|| {
            prometheus();
            metrics::counter!(DELIVERIES, "event" => event.as_str(), "outcome" => outcome.as_str())
        })
        .increment(1);
}

/// The handle of the global recorder, installed on first use. If some other recorder was
/// installed first, the handle renders an empty registry rather than failing start-up.
pub fn prometheus() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_ok() {
            metrics::describe_counter!(
                DELIVERIES,
                "Webhook deliveries received, by event and outcome."
            );
        } else {
            tracing::warn!("a metrics recorder was installed before opsmith's; /metrics is empty");
        }
        handle
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_outcomes_fit_the_counter_table() {
        assert_eq!(Outcome::StoreFailed as usize, OUTCOMES - 1);
        assert_eq!(EventLabel::of("push").as_str(), "push");
        assert_eq!(EventLabel::of("sponsorship").as_str(), "other");
        assert_eq!(EventLabel::UNVERIFIED.as_str(), "unverified");
    }
}
