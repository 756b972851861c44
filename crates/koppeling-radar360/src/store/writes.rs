//! SQLite: the writes of the hot path in one group commit. Attempt outcomes (`group`),
//! invoice PUTs (`invoice`) and claims (`queue`) queued while a batch is being written are
//! written together, in one transaction under one hold of the writer lock (the batching
//! itself: [`super::batch`]). Each kind keeps its own rules and its own per-job answers;
//! the batch only saves the transactions (each `BEGIN`/`COMMIT` with its WAL write, and
//! the hand-over of the lock) that the three kinds took one after the other before.
//!
//! Order inside the transaction: outcomes first, then PUTs, then claims, so a claim can take
//! an invoice a PUT of the same batch queued, or one an outcome released.

use anyhow::anyhow;
use koppeling_domain::ports::{Claim, ClaimRequest};

use super::SeaOrmStore;
use super::batch::Batcher;
use super::db::{R, other};
use super::{group, invoice, queue};

/// One write of the hot path.
pub(super) enum Write {
    Finish(group::Job),
    Put(invoice::PutJob),
    Claim(ClaimRequest),
}

/// Its answer.
pub(super) enum Answer {
    Finish(bool),
    Put(invoice::Written),
    Claim(Vec<Claim>),
}

/// A write's place among the writes of its kind in a batch.
enum Place {
    Finish(usize),
    Put(usize),
    Claim(usize),
}

/// The writes waiting for the next batch.
pub(super) type Writes = Batcher<Write, Answer>;

/// Queues `write` and answers it once its batch committed.
pub(super) async fn submit(st: &SeaOrmStore, write: Write) -> R<Answer> {
    let store = st.clone();
    st.writes
        .submit(
            write,
            move |batch| async move { write_all(&store, batch).await },
        )
        .await
}

/// An answer of another kind than the write asked for (a bug).
pub(super) fn mismatch() -> koppeling_domain::ports::StoreError {
    other(anyhow!(
        "the write batch answered with another kind of answer"
    ))
}

/// One transaction for the whole batch: each write's answer in batch order, or an error
/// for all of them (nothing written).
async fn write_all(st: &SeaOrmStore, batch: Vec<Write>) -> R<Vec<R<Answer>>> {
    let n = batch.len();
    let mut finishes = Vec::new();
    let mut puts = Vec::new();
    let mut claims = Vec::new();
    // Where each write's answer comes from.
    let mut place = Vec::with_capacity(n);
    for write in batch {
        match write {
            Write::Finish(job) => {
                place.push(Place::Finish(finishes.len()));
                finishes.push(job);
            }
            Write::Put(job) => {
                place.push(Place::Put(puts.len()));
                puts.push(job);
            }
            Write::Claim(req) => {
                place.push(Place::Claim(claims.len()));
                claims.push(req);
            }
        }
    }
    let tx = st.db.begin().await?;
    let mut finished = if finishes.is_empty() {
        Vec::new()
    } else {
        group::write_in(st, &tx, &finishes).await?
    }
    .into_iter()
    .map(Some)
    .collect::<Vec<_>>();
    let mut written = if puts.is_empty() {
        Vec::new()
    } else {
        invoice::put_in(st, &tx, &puts).await?
    }
    .into_iter()
    .map(Some)
    .collect::<Vec<_>>();
    let mut claimed = Vec::with_capacity(claims.len());
    for req in &claims {
        claimed.push(Some(queue::claim_on(st, &*tx, req).await?));
    }
    tx.commit().await?;
    let mut answers = Vec::with_capacity(n);
    for at in place {
        let answer = match at {
            Place::Finish(k) => finished[k].take().map(|r| r.map(Answer::Finish)),
            Place::Put(k) => written[k].take().map(|r| r.map(Answer::Put)),
            Place::Claim(k) => claimed[k].take().map(|c| Ok(Answer::Claim(c))),
        };
        answers.push(answer.unwrap_or_else(|| Err(mismatch())));
    }
    Ok(answers)
}
