//! Process metrics: one `prometheus-client` registry (issue 14) holding the attempt outcomes
//! and latency, the notification send failures, the invoice gauges (queue depth), the unsent
//! notifications and, read on each scrape, the SnelStart calls. Served at `/metrics` in the
//! OpenMetrics text format; the metric names are those of earlier releases.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use koppeling_domain::notification::DispatchReport;
use koppeling_domain::ports::{Outcome, StatusCounts};
use koppeling_snelstart::CallMetrics;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// The content type of [`Metrics::render`].
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

const BUCKETS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0];

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabel {
    outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabel {
    status: &'static str,
}

/// Where the SnelStart call counters are read on each scrape.
pub type CallSource = Arc<dyn Fn() -> CallMetrics + Send + Sync>;

/// The SnelStart call counters, read from the adapter on each scrape.
struct SnelStartCalls(CallSource);

impl fmt::Debug for SnelStartCalls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SnelStartCalls")
    }
}

impl Collector for SnelStartCalls {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), fmt::Error> {
        let calls = (self.0)();
        let mut family = encoder.encode_descriptor(
            "koppeling_snelstart_calls",
            "SnelStart calls by method, endpoint and outcome.",
            None,
            prometheus_client::metrics::MetricType::Counter,
        )?;
        for call in &calls.calls {
            let labels = [
                ("method", call.method),
                ("endpoint", call.endpoint),
                ("outcome", call.outcome.as_str()),
            ];
            ConstCounter::new(call.count).encode(family.encode_family(&labels)?)?;
        }
        Ok(())
    }
}

/// The registry and the handles the worker updates.
pub struct Metrics {
    registry: Registry,
    attempts: Family<OutcomeLabel, Counter>,
    attempt_seconds: Histogram,
    send_failures: Counter,
    invoices: Family<StatusLabel, Gauge>,
    unsent: Gauge,
}

impl fmt::Debug for Metrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new(None)
    }
}

impl Metrics {
    /// A registry with every metric at zero; `calls` adds the SnelStart call counters.
    #[must_use]
    pub fn new(calls: Option<CallSource>) -> Self {
        let mut registry = Registry::default();
        let attempts = Family::<OutcomeLabel, Counter>::default();
        registry.register(
            "koppeling_attempts",
            "Sync attempts by outcome.",
            attempts.clone(),
        );
        // Every outcome is shown from the start, also at 0.
        for outcome in ["synced", "failed", "skipped", "retry", "released"] {
            let _ = attempts.get_or_create(&OutcomeLabel { outcome });
        }
        let attempt_seconds = Histogram::new(BUCKETS);
        registry.register(
            "koppeling_attempt_seconds",
            "Duration of one sync attempt.",
            attempt_seconds.clone(),
        );
        let send_failures = Counter::default();
        registry.register(
            "koppeling_notification_send_failures",
            "Failed sends of a notification mail (each is retried).",
            send_failures.clone(),
        );
        let invoices = Family::<StatusLabel, Gauge>::default();
        registry.register(
            "koppeling_invoices",
            "Invoices by sync status (queue depth = queued).",
            invoices.clone(),
        );
        let unsent = Gauge::default();
        registry.register(
            "koppeling_notifications_unsent",
            "Notifications that wait to be mailed to a Beheerder (retried until sent).",
            unsent.clone(),
        );
        if let Some(calls) = calls {
            registry.register_collector(Box::new(SnelStartCalls(calls)));
        }
        Self {
            registry,
            attempts,
            attempt_seconds,
            send_failures,
            invoices,
            unsent,
        }
    }

    /// Records one attempt.
    pub fn record(&self, outcome: &Outcome, took: Duration) {
        let outcome = match outcome {
            Outcome::Synced { .. } => "synced",
            Outcome::Failed { .. } => "failed",
            Outcome::Skipped { .. } => "skipped",
            Outcome::Retry { .. } => "retry",
            Outcome::Release { .. } | Outcome::Unqueued => "released",
        };
        self.attempts.get_or_create(&OutcomeLabel { outcome }).inc();
        self.attempt_seconds.observe(took.as_secs_f64());
    }

    /// Records one round of notification dispatch (its failed sends).
    pub fn record_dispatch(&self, report: &DispatchReport) {
        self.send_failures
            .inc_by(u64::try_from(report.failed).unwrap_or(u64::MAX));
    }

    /// Sets the invoice gauges and the unsent-notification gauge.
    pub fn set_counts(&self, totals: &StatusCounts, unsent: Option<u64>) {
        for (status, n) in [
            ("queued", totals.queued),
            ("in_progress", totals.in_progress),
            ("synced", totals.synced),
            ("failed", totals.failed),
            ("skipped", totals.skipped),
        ] {
            self.invoices
                .get_or_create(&StatusLabel { status })
                .set(i64::try_from(n).unwrap_or(i64::MAX));
        }
        if let Some(unsent) = unsent {
            self.unsent.set(i64::try_from(unsent).unwrap_or(i64::MAX));
        }
    }

    /// The OpenMetrics text of every metric ([`CONTENT_TYPE`]).
    #[must_use]
    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            tracing::error!(error = %e, "could not encode the metrics");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_metric_renders_under_its_name_with_the_counts_recorded() {
        let calls: CallSource = Arc::new(|| {
            let mut m = CallMetrics::default();
            m.calls.push(koppeling_snelstart::CallCount::new(
                "POST",
                "/verkoopboekingen",
                "201".to_owned(),
                51,
            ));
            m
        });
        let metrics = Metrics::new(Some(calls));
        metrics.record(
            &Outcome::Synced {
                snelstart_id: "x".to_owned(),
            },
            Duration::from_millis(30),
        );
        metrics.set_counts(
            &StatusCounts {
                queued: 2,
                synced: 4,
                ..StatusCounts::default()
            },
            Some(1),
        );
        let text = metrics.render();
        for line in [
            "koppeling_attempts_total{outcome=\"synced\"} 1",
            "koppeling_attempts_total{outcome=\"failed\"} 0",
            "koppeling_attempt_seconds_count 1",
            "koppeling_attempt_seconds_bucket{le=\"0.05\"} 1",
            "koppeling_attempt_seconds_bucket{le=\"0.025\"} 0",
            "koppeling_notification_send_failures_total 0",
            "koppeling_invoices{status=\"synced\"} 4",
            "koppeling_invoices{status=\"queued\"} 2",
            "koppeling_notifications_unsent 1",
            "koppeling_snelstart_calls_total{method=\"POST\",endpoint=\"/verkoopboekingen\",outcome=\"201\"} 51",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "{line} missing in:\n{text}"
            );
        }
        assert!(text.ends_with("# EOF\n"));
    }
}
