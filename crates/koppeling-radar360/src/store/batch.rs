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

/// A queued job: its number, the job, where its answer goes.
type Entry<J, T> = (u64, J, oneshot::Sender<R<T>>);

/// The jobs waiting for the next batch, and the lock of the batch being written.
pub(super) struct Batcher<J, T> {
    queued: std::sync::Mutex<(u64, Vec<Entry<J, T>>)>,
    leader: Arc<tokio::sync::Mutex<()>>,
}

impl<J, T> Default for Batcher<J, T> {
    fn default() -> Self {
        Self {
            queued: std::sync::Mutex::new((0, Vec::new())),
            leader: Arc::default(),
        }
    }
}

/// Takes a caller's job out of the queue when the caller goes away before a batch took it:
/// a request given up while it waited is then not written at all (and not at some later
/// batch, after its client had left). Once a batch took it, it is written.
struct Withdraw<'a, J, T> {
    queued: &'a std::sync::Mutex<(u64, Vec<Entry<J, T>>)>,
    number: u64,
}

impl<J, T> Drop for Withdraw<'_, J, T> {
    fn drop(&mut self) {
        lock(self.queued).1.retain(|(n, _, _)| *n != self.number);
    }
}

impl<J: Send + 'static, T: Send + 'static> Batcher<J, T> {
    /// Queues `job` and answers its result once the batch holding it committed. `write`
    /// writes a whole batch in one transaction: one result per job, in order, or an error
    /// that fails the whole batch (nothing written).
    ///
    /// The batch is written by a task of its own on the writer thread, holding the leader
    /// lock until every job is answered, so a caller that goes away (an HTTP client hanging
    /// up) neither abandons the others' writes nor lets the next batch start before this
    /// one ended. A caller that goes away while its job still waits takes it back
    /// ([`Withdraw`]).
    pub(super) async fn submit<F, Fut>(&self, job: J, write: F) -> R<T>
    where
        F: FnOnce(Vec<J>) -> Fut,
        Fut: Future<Output = R<Vec<R<T>>>> + Send + 'static,
    {
        let (answer, mut answered) = oneshot::channel();
        let number = {
            let mut queued = lock(&self.queued);
            queued.0 += 1;
            let number = queued.0;
            queued.1.push((number, job, answer));
            number
        };
        let withdraw = Withdraw {
            queued: &self.queued,
            number,
        };
        let leader = self.leader.clone().lock_owned().await;
        if let Ok(result) = answered.try_recv() {
            return result;
        }
        let (jobs, answers): (Vec<J>, Vec<oneshot::Sender<R<T>>>) =
            std::mem::take(&mut lock(&self.queued).1)
                .into_iter()
                .map(|(_, job, answer)| (job, answer))
                .unzip();
        drop(withdraw);
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

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// Writes each batch by recording it; answers each job with its value doubled.
    fn recorder(
        seen: &Arc<Mutex<Vec<Vec<u32>>>>,
    ) -> impl FnOnce(Vec<u32>) -> std::future::Ready<R<Vec<R<u32>>>> + use<> {
        let seen = seen.clone();
        move |jobs| {
            seen.lock().unwrap().push(jobs.clone());
            std::future::ready(Ok(jobs.into_iter().map(|j| Ok(j * 2)).collect()))
        }
    }

    #[tokio::test]
    async fn jobs_queued_meanwhile_are_one_batch_answered_each_its_own() {
        let batcher = Arc::new(Batcher::<u32, u32>::default());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let held = batcher.leader.clone().lock_owned().await;
        let mut tasks = Vec::new();
        for j in 1..=5 {
            let (batcher, seen) = (batcher.clone(), seen.clone());
            tasks.push(tokio::spawn(async move {
                batcher.submit(j, recorder(&seen)).await
            }));
        }
        while lock(&batcher.queued).1.len() < 5 {
            tokio::task::yield_now().await;
        }
        drop(held);
        for (j, task) in (1..=5).zip(tasks) {
            assert_eq!(task.await.unwrap().unwrap(), j * 2);
        }
        assert_eq!(
            *seen.lock().unwrap(),
            vec![vec![1, 2, 3, 4, 5]],
            "one batch, in order"
        );
    }

    #[tokio::test]
    async fn a_caller_that_goes_away_before_its_batch_is_not_written() {
        let batcher = Arc::new(Batcher::<u32, u32>::default());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let held = batcher.leader.clone().lock_owned().await;
        let gone = {
            let (batcher, seen) = (batcher.clone(), seen.clone());
            tokio::spawn(async move { batcher.submit(7, recorder(&seen)).await })
        };
        while lock(&batcher.queued).1.is_empty() {
            tokio::task::yield_now().await;
        }
        gone.abort();
        assert!(gone.await.unwrap_err().is_cancelled());
        assert!(lock(&batcher.queued).1.is_empty(), "taken back");
        drop(held);
        assert_eq!(batcher.submit(8, recorder(&seen)).await.unwrap(), 16);
        assert_eq!(*seen.lock().unwrap(), vec![vec![8]], "7 never written");
    }

    #[tokio::test]
    async fn an_error_of_the_batch_is_every_job_s_error() {
        let batcher = Batcher::<u32, u32>::default();
        let result = batcher
            .submit(1, |_| {
                std::future::ready(Err(StoreError::Busy("held".into())))
            })
            .await;
        assert!(matches!(result, Err(StoreError::Busy(m)) if m == "held"));
    }
}
