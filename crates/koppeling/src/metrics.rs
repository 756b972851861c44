//! Process metrics in Prometheus text format: outcomes, attempt latency, queue depth.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use koppeling_domain::notification::DispatchReport;
use koppeling_domain::ports::Outcome;

const BUCKETS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0];

/// Counters updated by the worker.
#[derive(Default)]
pub struct Metrics {
    synced: AtomicU64,
    failed: AtomicU64,
    skipped: AtomicU64,
    retried: AtomicU64,
    released: AtomicU64,
    latency_buckets: [AtomicU64; 10],
    latency_count: AtomicU64,
    latency_sum_micros: AtomicU64,
    notification_send_failures: AtomicU64,
}

impl Metrics {
    /// Records one attempt.
    pub fn record(&self, outcome: &Outcome, took: Duration) {
        let counter = match outcome {
            Outcome::Synced { .. } => &self.synced,
            Outcome::Failed { .. } => &self.failed,
            Outcome::Skipped { .. } => &self.skipped,
            Outcome::Retry { .. } => &self.retried,
            Outcome::Release { .. } | Outcome::Unqueued => &self.released,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        let secs = took.as_secs_f64();
        for (i, bound) in BUCKETS.iter().enumerate() {
            if secs <= *bound {
                self.latency_buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.latency_count.fetch_add(1, Ordering::Relaxed);
        self.latency_sum_micros.fetch_add(
            u64::try_from(took.as_micros()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    /// Records one round of notification dispatch (its failed sends).
    pub fn record_dispatch(&self, report: &DispatchReport) {
        self.notification_send_failures.fetch_add(
            u64::try_from(report.failed).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    /// Renders the counters, plus `extra` lines (queue depth, SnelStart calls).
    #[must_use]
    pub fn render(&self, extra: &str) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP koppeling_attempts_total Sync attempts by outcome.\n# TYPE koppeling_attempts_total counter"
        );
        for (name, c) in [
            ("synced", &self.synced),
            ("failed", &self.failed),
            ("skipped", &self.skipped),
            ("retry", &self.retried),
            ("released", &self.released),
        ] {
            let _ = writeln!(
                out,
                "koppeling_attempts_total{{outcome=\"{name}\"}} {}",
                c.load(Ordering::Relaxed)
            );
        }
        let _ = writeln!(
            out,
            "# HELP koppeling_attempt_seconds Duration of one sync attempt.\n# TYPE koppeling_attempt_seconds histogram"
        );
        for (i, bound) in BUCKETS.iter().enumerate() {
            let _ = writeln!(
                out,
                "koppeling_attempt_seconds_bucket{{le=\"{bound}\"}} {}",
                self.latency_buckets[i].load(Ordering::Relaxed)
            );
        }
        let count = self.latency_count.load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "koppeling_attempt_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        let micros = self.latency_sum_micros.load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "koppeling_attempt_seconds_sum {}.{:06}",
            micros / 1_000_000,
            micros % 1_000_000
        );
        let _ = writeln!(out, "koppeling_attempt_seconds_count {count}");
        let _ = writeln!(
            out,
            "# HELP koppeling_notification_send_failures_total Failed sends of a notification mail (each is retried).\n# TYPE koppeling_notification_send_failures_total counter\nkoppeling_notification_send_failures_total {}",
            self.notification_send_failures.load(Ordering::Relaxed)
        );
        out.push_str(extra);
        out
    }
}
