//! SQLite's group commit: writes that arrive while another batch is being written are
//! written together, in one transaction under one hold of the writer lock.
//!
//! On SQLite every write transaction holds the process's one writer lock ([`super::db::WriteTx`])
//! and every statement inside it is a round trip to a connection thread, so what limits
//! throughput is the number of statements under that lock. A batch pays `BEGIN`, `COMMIT`,
//! the pool checkout and the hand-over of the lock once for all its jobs, and its writer may
//! merge their statements (multi-row inserts). Used by `writes` for the hot path's writes:
//! attempt outcomes, invoice PUTs and claims.
//!
//! Invariants:
//! * **An answer only after the commit**: every caller waits for its own result, sent once
//!   its batch committed (or failed as a whole: then every caller of the batch gets the
//!   error and nothing of the batch was written). A crash before the commit is the same
//!   case as a crash before a single write's commit.
//! * **No task of its own**: the first caller that takes the leader lock writes everything
//!   queued at that moment, its own job included; a caller that finds its answer already
//!   sent when it gets the lock returns it. The leader answers before it lets go of the
//!   lock, so a queued job is always either answered or still queued.
//! * **Arrival order**: a batch holds its jobs in the order they were queued, and a batch is
//!   written only after the one before it committed, so two writes of the same row take
//!   effect in the order their callers queued them.

use std::future::Future;
use std::sync::Arc;

use anyhow::anyhow;
use tokio::sync::oneshot;

use super::db::{self, R, other};
use super::lock;
use koppeling_domain::ports::StoreError;

/// The jobs waiting for the next batch, and the lock of the batch being written.
pub(super) struct Batcher<J, T> {
    queued: std::sync::Mutex<Vec<(J, oneshot::Sender<R<T>>)>>,
    leader: Arc<tokio::sync::Mutex<()>>,
}

impl<J, T> Default for Batcher<J, T> {
    fn default() -> Self {
        Self {
            queued: std::sync::Mutex::new(Vec::new()),
            leader: Arc::default(),
        }
    }
}

impl<J: Send + 'static, T: Send + 'static> Batcher<J, T> {
    /// Queues `job` and answers its result once the batch holding it committed. `write`
    /// writes a whole batch in one transaction: one result per job, in order, or an error
    /// that fails the whole batch (nothing written).
    ///
    /// The batch is written by a task of its own on the writer thread, holding the leader
    /// lock until every job is answered, so a caller that goes away (an HTTP client hanging up) neither
    /// abandons the others' writes nor lets the next batch start before this one ended.
    pub(super) async fn submit<F, Fut>(&self, job: J, write: F) -> R<T>
    where
        F: FnOnce(Vec<J>) -> Fut,
        Fut: Future<Output = R<Vec<R<T>>>> + Send + 'static,
    {
        let (answer, mut answered) = oneshot::channel();
        lock(&self.queued).push((job, answer));
        let leader = self.leader.clone().lock_owned().await;
        if let Ok(result) = answered.try_recv() {
            return result;
        }
        let (jobs, answers): (Vec<J>, Vec<oneshot::Sender<R<T>>>) =
            std::mem::take(&mut *lock(&self.queued)).into_iter().unzip();
        let written = write(jobs);
        // On the writer thread (see `db::on_writer_thread`), to its end even when this
        // caller goes away.
        tokio::spawn(db::on_writer_thread(async move {
            answer_all(answers, written.await);
            drop(leader);
            Ok(())
        }));
        answered
            .await
            .unwrap_or_else(|_| Err(other(anyhow!("the batch with this write was abandoned"))))
    }
}

/// Sends each job its result, or every job the batch's error.
fn answer_all<T>(answers: Vec<oneshot::Sender<R<T>>>, results: R<Vec<R<T>>>) {
    match results {
        Ok(results) => {
            debug_assert_eq!(results.len(), answers.len());
            for (answer, result) in answers.into_iter().zip(results) {
                let _ = answer.send(result);
            }
        }
        Err(error) => {
            let text = format!("{error:#}");
            for answer in answers {
                let _ = answer.send(Err(match &error {
                    StoreError::Busy(m) => StoreError::Busy(m.clone()),
                    _ => other(anyhow!("{text}")),
                }));
            }
        }
    }
}
