//! Counters of SnelStart calls by method, endpoint template and outcome, for `/metrics`.

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};

/// One counter.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CallCount {
    /// `GET`, `POST`, `PUT`.
    pub method: &'static str,
    /// The endpoint template, e.g. `/relaties/{id}` or `/b2b/token`.
    pub endpoint: &'static str,
    /// The HTTP status (`"201"`), or `timeout`, `connect`, `transport`, `throttled`.
    pub outcome: String,
    /// How many.
    pub count: u64,
}

impl CallCount {
    /// One counter (for callers that render or compare snapshots).
    #[must_use]
    pub fn new(method: &'static str, endpoint: &'static str, outcome: String, count: u64) -> Self {
        Self {
            method,
            endpoint,
            outcome,
            count,
        }
    }
}

/// A snapshot of the call counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CallMetrics {
    /// Counters ordered by method, endpoint and outcome.
    pub calls: Vec<CallCount>,
}

impl CallMetrics {
    /// The total of the counters that match.
    #[must_use]
    pub fn count(&self, method: &str, endpoint: &str, outcome: Option<&str>) -> u64 {
        self.calls
            .iter()
            .filter(|c| {
                c.method == method
                    && c.endpoint == endpoint
                    && outcome.is_none_or(|o| c.outcome == o)
            })
            .map(|c| c.count)
            .sum()
    }
}

/// What a call came to: an HTTP status or a failure without one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Outcome {
    /// The HTTP status.
    Status(u16),
    /// `timeout`, `connect`, `transport`, `throttled`.
    Failure(&'static str),
}

/// The live counters.
#[derive(Debug, Default)]
pub(crate) struct Recorder {
    counts: Mutex<BTreeMap<(&'static str, &'static str, Outcome), u64>>,
}

impl Recorder {
    pub(crate) fn record(&self, method: &'static str, endpoint: &'static str, outcome: Outcome) {
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        *counts.entry((method, endpoint, outcome)).or_insert(0) += 1;
    }

    pub(crate) fn snapshot(&self) -> CallMetrics {
        let counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        CallMetrics {
            calls: counts
                .iter()
                .map(|((method, endpoint, outcome), count)| CallCount {
                    method,
                    endpoint,
                    outcome: match outcome {
                        Outcome::Status(status) => status.to_string(),
                        Outcome::Failure(what) => (*what).to_owned(),
                    },
                    count: *count,
                })
                .collect(),
        }
    }
}
