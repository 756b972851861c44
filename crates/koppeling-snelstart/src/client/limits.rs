//! Client-side call limits per partition (administratie): sliding minute/hour windows, a concurrency cap and the `Retry-After` block.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use super::untrusted::{clamp_wait, later};

/// SnelStart's per-administratie limits (README §11); `0` means "no limit".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Calls in any 60 seconds.
    pub calls_per_minute: u32,
    /// Calls in any hour.
    pub calls_per_hour: u32,
    /// Calls in flight at once.
    pub concurrency: u32,
}

impl Default for Limits {
    /// The production tier: 500/min, 5,000/h, 50 concurrent.
    fn default() -> Self {
        Self {
            calls_per_minute: 500,
            calls_per_hour: 5000,
            concurrency: 50,
        }
    }
}

/// A sliding window counted in buckets; a bucket counts until it has wholly left the
/// window, so the limit is never exceeded in any span of `span` (at most one bucket of extra
/// waiting).
#[derive(Debug)]
struct Window {
    limit: u32,
    span: Duration,
    bucket: Duration,
    origin: Instant,
    /// (bucket index, calls in it), oldest first.
    buckets: VecDeque<(u64, u32)>,
    total: u32,
}

impl Window {
    fn new(limit: u32, span: Duration, bucket: Duration, origin: Instant) -> Self {
        Self {
            limit,
            span,
            bucket,
            origin,
            buckets: VecDeque::new(),
            total: 0,
        }
    }

    fn index(&self, at: Instant) -> u64 {
        let elapsed = at.saturating_duration_since(self.origin).as_millis();
        u64::try_from(elapsed / self.bucket.as_millis().max(1)).unwrap_or(u64::MAX)
    }

    /// When the calls of bucket `index` stop counting.
    fn frees_at(&self, index: u64) -> Instant {
        let end = self
            .bucket
            .saturating_mul(u32::try_from(index + 1).unwrap_or(u32::MAX));
        later(later(self.origin, end), self.span)
    }

    fn evict(&mut self, now: Instant) {
        while let Some(&(index, count)) = self.buckets.front() {
            if self.frees_at(index) <= now {
                self.buckets.pop_front();
                self.total -= count;
            } else {
                break;
            }
        }
    }

    /// `None` when a call fits now, else how long until one does.
    fn wait(&mut self, now: Instant) -> Option<Duration> {
        if self.limit == 0 {
            return None;
        }
        self.evict(now);
        if self.total < self.limit {
            return None;
        }
        let mut remaining = self.total;
        for &(index, count) in &self.buckets {
            remaining -= count;
            if remaining < self.limit {
                return Some(self.frees_at(index).saturating_duration_since(now));
            }
        }
        Some(self.span)
    }

    fn record(&mut self, now: Instant) {
        if self.limit == 0 {
            return;
        }
        let index = self.index(now);
        match self.buckets.back_mut() {
            Some((last, count)) if *last == index => *count += 1,
            _ => self.buckets.push_back((index, 1)),
        }
        self.total += 1;
    }
}

#[derive(Debug)]
struct PartitionState {
    minute: Window,
    hour: Window,
    /// No call before this instant (SnelStart's `Retry-After`).
    blocked_until: Option<Instant>,
}

/// The limits of one administratie.
#[derive(Debug)]
struct Partition {
    /// Calls in flight.
    slots: Arc<Semaphore>,
    /// The windows and the block.
    state: Mutex<PartitionState>,
}

/// Why the limiter refused to wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Throttled {
    /// When a call may be made again.
    pub retry_after: Duration,
}

/// A call slot; the concurrency permit is released on drop.
#[derive(Debug)]
pub(crate) struct Permit {
    _slot: OwnedSemaphorePermit,
    partition: Arc<Partition>,
}

/// The limits of every partition, created on first use.
#[derive(Debug)]
pub(crate) struct Limiter {
    limits: Limits,
    /// Longest wait inside a call; longer waits return [`Throttled`] so the caller re-queues.
    max_wait: Duration,
    partitions: Mutex<HashMap<String, Arc<Partition>>>,
}

impl Limiter {
    pub(crate) fn new(limits: Limits, max_wait: Duration) -> Self {
        Self {
            limits,
            max_wait,
            partitions: Mutex::new(HashMap::new()),
        }
    }

    fn partition(&self, name: &str) -> Arc<Partition> {
        let mut map = self
            .partitions
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(p) = map.get(name) {
            return p.clone();
        }
        let now = Instant::now();
        let permits = if self.limits.concurrency == 0 {
            Semaphore::MAX_PERMITS
        } else {
            self.limits.concurrency as usize
        };
        let partition = Arc::new(Partition {
            slots: Arc::new(Semaphore::new(permits)),
            state: Mutex::new(PartitionState {
                minute: Window::new(
                    self.limits.calls_per_minute,
                    Duration::from_secs(60),
                    Duration::from_secs(1),
                    now,
                ),
                hour: Window::new(
                    self.limits.calls_per_hour,
                    Duration::from_secs(3600),
                    Duration::from_secs(60),
                    now,
                ),
                blocked_until: None,
            }),
        });
        map.insert(name.to_owned(), partition.clone());
        partition
    }

    /// Takes a concurrency slot and one call from the windows of `partition`, waiting at
    /// most `max_wait`.
    pub(crate) async fn acquire(&self, partition: &str) -> Result<Permit, Throttled> {
        let partition = self.partition(partition);
        let deadline = later(Instant::now(), self.max_wait);
        let slot = match tokio::time::timeout_at(deadline, partition.slots.clone().acquire_owned())
            .await
        {
            Ok(Ok(slot)) => slot,
            _ => {
                return Err(Throttled {
                    retry_after: Duration::from_secs(1),
                });
            }
        };
        let permit = Permit {
            _slot: slot,
            partition,
        };
        self.another_call(&permit).await?;
        Ok(permit)
    }

    /// Counts one more call under an already held permit (the retry after a 401).
    pub(crate) async fn another_call(&self, permit: &Permit) -> Result<(), Throttled> {
        let deadline = later(Instant::now(), self.max_wait);
        loop {
            let now = Instant::now();
            let wait = {
                let mut state = permit
                    .partition
                    .state
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                match state.blocked_until {
                    Some(until) if until > now => Some(until - now),
                    _ => {
                        let minute = state.minute.wait(now);
                        let hour = state.hour.wait(now);
                        match minute.max(hour) {
                            None => {
                                state.minute.record(now);
                                state.hour.record(now);
                                None
                            }
                            some => some,
                        }
                    }
                }
            };
            match wait {
                None => return Ok(()),
                Some(wait) if later(now, wait) > deadline => {
                    return Err(Throttled {
                        retry_after: clamp_wait(wait),
                    });
                }
                Some(wait) => tokio::time::sleep(wait).await,
            }
        }
    }

    /// After SnelStart's 429 (or 403 with `Retry-After`): no call for `partition` until
    /// `retry_after` (at most an hour) has passed.
    pub(crate) fn block(&self, partition: &str, retry_after: Duration) {
        let partition = self.partition(partition);
        let until = later(Instant::now(), clamp_wait(retry_after));
        let mut state = partition
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        state.blocked_until = Some(state.blocked_until.map_or(until, |b| b.max(until)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(per_minute: u32, per_hour: u32, concurrency: u32) -> Limiter {
        Limiter::new(
            Limits {
                calls_per_minute: per_minute,
                calls_per_hour: per_hour,
                concurrency,
            },
            Duration::from_secs(2),
        )
    }

    #[tokio::test(start_paused = true)]
    async fn a_full_minute_window_makes_the_caller_re_queue_instead_of_sleeping_long() {
        let limiter = limiter(3, 0, 0);
        for _ in 0..3 {
            drop(limiter.acquire("a").await.unwrap());
        }
        let err = limiter.acquire("a").await.unwrap_err();
        assert!(err.retry_after > Duration::from_secs(58), "{err:?}");
        // Another administratie is not affected.
        assert!(limiter.acquire("b").await.is_ok());
        tokio::time::advance(Duration::from_secs(61)).await;
        assert!(limiter.acquire("a").await.is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn a_short_wait_is_slept_through() {
        let limiter = limiter(2, 0, 0);
        drop(limiter.acquire("a").await.unwrap());
        tokio::time::advance(Duration::from_millis(59_500)).await;
        drop(limiter.acquire("a").await.unwrap());
        let start = Instant::now();
        drop(limiter.acquire("a").await.unwrap());
        let waited = start.elapsed();
        assert!(waited >= Duration::from_millis(500), "{waited:?}");
        assert!(waited <= Duration::from_secs(2), "{waited:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn the_hour_window_counts_too() {
        let limiter = limiter(0, 2, 0);
        drop(limiter.acquire("a").await.unwrap());
        drop(limiter.acquire("a").await.unwrap());
        let err = limiter.acquire("a").await.unwrap_err();
        assert!(err.retry_after > Duration::from_secs(3500));
    }

    #[tokio::test(start_paused = true)]
    async fn retry_after_blocks_the_partition() {
        let limiter = limiter(0, 0, 0);
        limiter.block("a", Duration::from_secs(30));
        let err = limiter.acquire("a").await.unwrap_err();
        assert!(err.retry_after > Duration::from_secs(29));
        limiter.block("b", Duration::from_millis(1500));
        let start = Instant::now();
        assert!(limiter.acquire("b").await.is_ok());
        assert!(start.elapsed() >= Duration::from_millis(1500));
    }

    #[tokio::test(start_paused = true)]
    async fn an_absurd_retry_after_blocks_for_at_most_an_hour_and_never_panics() {
        let limiter = limiter(0, 0, 0);
        limiter.block("a", Duration::MAX);
        let err = limiter.acquire("a").await.unwrap_err();
        assert!(err.retry_after <= Duration::from_secs(3600), "{err:?}");
        assert!(err.retry_after > Duration::from_secs(3599), "{err:?}");
        // Another administratie is not affected.
        assert!(limiter.acquire("b").await.is_ok());
        tokio::time::advance(Duration::from_secs(3601)).await;
        assert!(limiter.acquire("a").await.is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn an_endless_max_wait_does_not_overflow() {
        let limiter = Limiter::new(
            Limits {
                calls_per_minute: 1,
                calls_per_hour: 0,
                concurrency: 0,
            },
            Duration::MAX,
        );
        drop(limiter.acquire("a").await.unwrap());
        let start = Instant::now();
        drop(limiter.acquire("a").await.unwrap());
        assert!(start.elapsed() <= Duration::from_secs(61));
    }

    #[tokio::test(start_paused = true)]
    async fn concurrency_is_capped() {
        let limiter = limiter(0, 0, 1);
        let held = limiter.acquire("a").await.unwrap();
        let err = limiter.acquire("a").await.unwrap_err();
        assert_eq!(err.retry_after, Duration::from_secs(1));
        drop(held);
        assert!(limiter.acquire("a").await.is_ok());
    }
}
