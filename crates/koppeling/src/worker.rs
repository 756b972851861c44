//! The background sync: event-driven claims with a periodic sweep, bounded concurrency,
//! notification dispatch, and one pass for `sync --once`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use koppeling_domain::ids::AdministratieCode;
use koppeling_domain::ports::{Accounting, Clock, Notifier, Outcome, Store, StoreError};
use koppeling_domain::sync::{AttemptReport, Service};
use tokio::sync::{Notify, Semaphore, watch};
use tokio::task::JoinSet;

use crate::metrics::Metrics;
use crate::progress::Progress;

/// Whether a store failure is a busy database: transient, so it is logged at warn level and
/// the work is retried (by the next claim, or after the lease expires), not an error.
fn is_busy(error: &StoreError) -> bool {
    matches!(error, StoreError::Busy(_))
}

/// How the worker runs.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Invoices in flight at once.
    pub workers: u32,
    /// The safety-net sweep.
    pub sweep: Duration,
    /// How often pending notifications are grouped and sent.
    pub notify_every: Duration,
}

/// Runs until `shutdown` turns true: claims due work whenever `wake` fires, a slot frees,
/// or the sweep interval passes; finishes in-flight attempts before returning.
pub async fn run<S, A, N, C>(
    service: Arc<Service<S, A, N, C>>,
    wake: Arc<Notify>,
    config: WorkerConfig,
    metrics: Arc<Metrics>,
    mut shutdown: watch::Receiver<bool>,
) where
    S: Store,
    A: Accounting,
    N: Notifier,
    C: Clock,
{
    let slots = Arc::new(Semaphore::new(config.workers.max(1) as usize));
    // A busy worker claims at least this many at once (a quarter of its slots).
    let batch = (config.workers.max(1) as usize).div_ceil(4);
    let mut in_flight: JoinSet<()> = JoinSet::new();
    let slot_freed = Arc::new(Notify::new());
    // Claims announce this process and renew its administratie leases: claim at least
    // three times per lease period, busy or idle.
    let heartbeat = (service.config().lease / 3).max(Duration::from_millis(100));
    let mut last_claim = Instant::now();
    loop {
        if *shutdown.borrow() {
            break;
        }
        while in_flight.try_join_next().is_some() {}
        let free = u32::try_from(slots.available_permits()).unwrap_or(0);
        let mut claimed = 0;
        // With every slot busy, a claim of nothing still renews the leases.
        if free > 0 || last_claim.elapsed() >= heartbeat {
            last_claim = Instant::now();
            match service.claim(free, None).await {
                Ok(claims) => {
                    claimed = claims.len();
                    // One query loads the whole batch; should it fail, each attempt loads
                    // its own job.
                    let jobs = if claims.is_empty() {
                        Vec::new()
                    } else {
                        service.load_jobs(&claims).await.unwrap_or_else(|error| {
                            tracing::warn!(error = %error, "loading a batch of jobs failed; loading them one by one");
                            Vec::new()
                        })
                    };
                    let mut jobs = jobs.into_iter();
                    for claim in claims {
                        let job = jobs.next();
                        let Ok(permit) = slots.clone().acquire_owned().await else {
                            break;
                        };
                        let service = service.clone();
                        let metrics = metrics.clone();
                        let slot_freed = slot_freed.clone();
                        in_flight.spawn(async move {
                            let started = Instant::now();
                            let report = match job {
                                Some(job) => service.process_loaded(&claim, job).await,
                                None => service.process(&claim).await,
                            };
                            match report {
                                Ok(report) => metrics.record(&report.outcome, started.elapsed()),
                                Err(error) if is_busy(&error) => tracing::warn!(adm = %claim.administratie, invoice = %claim.invoice_id, error = %error, "recording the attempt failed (database busy); the lease will expire and the invoice is looked up"),
                                Err(error) => tracing::error!(adm = %claim.administratie, invoice = %claim.invoice_id, error = %error, "recording the attempt failed; the lease will expire and the invoice is looked up"),
                            }
                            drop(permit);
                            slot_freed.notify_one();
                        });
                    }
                }
                Err(error) => {
                    if is_busy(&error) {
                        tracing::warn!(error = %error, "claiming work failed (database busy); retrying in a second");
                    } else {
                        tracing::error!(error = %error, "claiming work failed");
                    }
                    tokio::select! {
                        () = tokio::time::sleep(Duration::from_secs(1)) => {}
                        _ = shutdown.changed() => {}
                    }
                    continue;
                }
            }
        }
        if claimed > 0 && slots.available_permits() > 0 {
            continue; // There may be more due work.
        }
        if free == 0 || claimed == free as usize {
            // Every slot is busy and more work is probably due: gather a batch of free slots
            // before claiming again, instead of one claim (a write transaction) per freed
            // slot, and without asking when work is next due.
            gather(
                &slots,
                &slot_freed,
                batch,
                CLAIM_LINGER,
                heartbeat,
                &mut shutdown,
            )
            .await;
            continue;
        }
        let sleep = next_sleep(&service, config.sweep.min(heartbeat)).await;
        tokio::select! {
            () = wake.notified() => {}
            () = slot_freed.notified(), if claimed > 0 => {}
            () = tokio::time::sleep(sleep) => {}
            _ = shutdown.changed() => {}
        }
    }
    // Stop claiming; let in-flight attempts finish so nothing is left in progress, then
    // hand the administraties over to the other processes at once.
    while in_flight.join_next().await.is_some() {}
    if let Err(error) = service.release().await {
        tracing::warn!(error = %error, "releasing the administratie leases failed; they expire after the lease period");
    }
    tracing::info!("sync worker stopped");
}

/// How long a busy worker waits for more slots to free before claiming a smaller batch.
const CLAIM_LINGER: Duration = Duration::from_millis(10);

/// Waits until a slot is free (or `heartbeat` passed), then at most `linger` more until
/// `batch` slots are.
async fn gather(
    slots: &Semaphore,
    slot_freed: &Notify,
    batch: usize,
    linger: Duration,
    heartbeat: Duration,
    shutdown: &mut watch::Receiver<bool>,
) {
    let beat = tokio::time::Instant::now() + heartbeat;
    while slots.available_permits() == 0 {
        tokio::select! {
            () = slot_freed.notified() => {}
            () = tokio::time::sleep_until(beat) => return,
            _ = shutdown.changed() => return,
        }
    }
    let deadline = tokio::time::Instant::now() + linger;
    while slots.available_permits() < batch {
        tokio::select! {
            () = slot_freed.notified() => {}
            () = tokio::time::sleep_until(deadline) => return,
            _ = shutdown.changed() => return,
        }
    }
}

async fn next_sleep<S: Store, A: Accounting, N: Notifier, C: Clock>(
    service: &Service<S, A, N, C>,
    sweep: Duration,
) -> Duration {
    match service.next_due_at().await {
        Ok(Some(at)) => {
            let until = (at - service.now()).to_std().unwrap_or(Duration::ZERO);
            until.clamp(Duration::from_millis(20), sweep)
        }
        _ => sweep,
    }
}

/// Sends pending notifications every `every` until shutdown; failed sends are counted in
/// `metrics`.
pub async fn run_notifications<S, A, N, C>(
    service: Arc<Service<S, A, N, C>>,
    every: Duration,
    metrics: Arc<Metrics>,
    mut shutdown: watch::Receiver<bool>,
) where
    S: Store,
    A: Accounting,
    N: Notifier,
    C: Clock,
{
    loop {
        match service.dispatch_notifications().await {
            Ok(report) => metrics.record_dispatch(&report),
            Err(error) => tracing::error!(error = %error, "dispatching notifications failed"),
        }
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            _ = shutdown.changed() => {
                if let Ok(report) = service.dispatch_notifications().await {
                    metrics.record_dispatch(&report);
                }
                break;
            }
        }
    }
}

/// Waits `pause`; whether shutdown was asked for meanwhile (then it returns at once).
async fn shutdown_during(pause: Duration, shutdown: &mut watch::Receiver<bool>) -> bool {
    tokio::select! {
        () = tokio::time::sleep(pause) => false,
        _ = shutdown.changed() => true,
    }
}

/// Probes a refused subscription key every `every` until shutdown (see
/// `Service::probe_subscription`).
pub async fn run_probe<S, A, N, C>(
    service: Arc<Service<S, A, N, C>>,
    every: Duration,
    mut shutdown: watch::Receiver<bool>,
) where
    S: Store,
    A: Accounting,
    N: Notifier,
    C: Clock,
{
    // The first probe runs at start-up: an operator who fixed the key and restarted should
    // not wait out a full interval.
    loop {
        match service.probe_subscription().await {
            Ok(Some(false)) => tracing::error!(
                next_probe_in_secs = every.as_secs(),
                "SnelStart still refuses the subscription key (snelstart.subscription_key); every koppeling stays paused; next probe in {}s",
                every.as_secs()
            ),
            Ok(Some(true) | None) => {}
            Err(error) => tracing::error!(error = %error, "probing the subscription key failed"),
        }
        if shutdown_during(every, &mut shutdown).await {
            break;
        }
    }
}

/// Runs the read-back (product §8.2) of the administraties this worker holds, each at most
/// every `interval` and only while none of its bookings is due (bookings first).
pub async fn run_readback<S, A, N, C>(
    service: Arc<Service<S, A, N, C>>,
    interval: Duration,
    config: koppeling_domain::sync::ReadbackConfig,
    mut shutdown: watch::Receiver<bool>,
) where
    S: Store,
    A: Accounting,
    N: Notifier,
    C: Clock,
{
    if config.budget_share.is_zero() {
        tracing::info!("read-back off (readback.budget_share = 0)");
        return;
    }
    let tick = interval.clamp(Duration::from_millis(200), Duration::from_secs(10));
    loop {
        if shutdown_during(tick, &mut shutdown).await {
            break;
        }
        let due = match service.readback_due(interval).await {
            Ok(due) => due,
            Err(error) => {
                tracing::warn!(error = %error, "finding the read-back's work failed");
                continue;
            }
        };
        for adm in due {
            if *shutdown.borrow() {
                return;
            }
            match service.readback(&adm, &config).await {
                Ok(report) => tracing::debug!(
                    adm = %adm,
                    calls = report.calls,
                    payments = report.payments,
                    drift = report.drift,
                    full_scan = report.full_scan,
                    out_of_budget = report.out_of_budget,
                    "read-back pass"
                ),
                Err(error) => {
                    tracing::warn!(adm = %adm, error = %error, "read-back pass failed; tried again next interval")
                }
            }
        }
    }
}

/// How many documents one pass of [`run_documents`] claims.
const DOCUMENT_BATCH: u32 = 8;

/// Attaches the waiting documents of booked invoices (product §8.4) until shutdown: a pass
/// whenever work is announced (a booking synced, a document stored or offered again) and
/// every `tick` (retries that came due), only for the administraties this worker holds.
pub async fn run_documents<S, A, N, C>(
    service: Arc<Service<S, A, N, C>>,
    wake: Arc<tokio::sync::Notify>,
    tick: Duration,
    mut shutdown: watch::Receiver<bool>,
) where
    S: Store,
    A: Accounting,
    N: Notifier,
    C: Clock,
{
    loop {
        let busy = match service.attach_documents(DOCUMENT_BATCH).await {
            Ok(n) => n > 0,
            Err(error) => {
                tracing::warn!(error = %error, "claiming documents failed; trying again shortly");
                false
            }
        };
        if *shutdown.borrow() {
            break;
        }
        if busy {
            continue;
        }
        tokio::select! {
            () = wake.notified() => {}
            () = tokio::time::sleep(tick) => {}
            _ = shutdown.changed() => break,
        }
    }
}

/// Pushes events to `events.url` (product §8.2) until shutdown: checked every
/// `every`, each administratie in order, with the domain's back-off.
pub async fn run_event_push<S, A, N, C, E>(
    service: Arc<Service<S, A, N, C>>,
    sink: E,
    every: Duration,
    mut shutdown: watch::Receiver<bool>,
) where
    S: Store,
    A: Accounting,
    N: Notifier,
    C: Clock,
    E: koppeling_domain::ports::EventSink,
{
    loop {
        if shutdown_during(every, &mut shutdown).await {
            break;
        }
        if let Err(error) = service.push_events(&sink).await {
            tracing::warn!(error = %error, "pushing events failed");
        }
    }
}

/// Refreshes the invoice-status gauges for `/metrics` every `every` until shutdown.
pub async fn run_gauges<S, A, N, C>(
    service: Arc<Service<S, A, N, C>>,
    metrics: Arc<Metrics>,
    every: Duration,
    mut shutdown: watch::Receiver<bool>,
) where
    S: Store,
    A: Accounting,
    N: Notifier,
    C: Clock,
{
    loop {
        match service.totals().await {
            Ok((totals, unsent)) => metrics.set_counts(&totals, Some(unsent)),
            Err(error) => tracing::debug!(error = %error, "could not refresh the gauges"),
        }
        if shutdown_during(every, &mut shutdown).await {
            break;
        }
    }
}

/// The result of one pass.
#[derive(Debug, Default, Clone)]
pub struct PassSummary {
    /// Every attempt made.
    pub reports: Vec<AttemptReport>,
    /// How long each attempt of `reports` took (same order).
    pub took: Vec<Duration>,
}

impl PassSummary {
    /// Counts this pass's attempts in `metrics`, as the background worker counts its own
    /// (so `/metrics` after the demo's pass agrees with the invoice gauges).
    pub fn record(&self, metrics: &Metrics) {
        for (report, took) in self.reports.iter().zip(&self.took) {
            metrics.record(&report.outcome, *took);
        }
    }
}

impl PassSummary {
    /// Whether any invoice failed.
    #[must_use]
    pub fn any_failed(&self) -> bool {
        self.reports
            .iter()
            .any(|r| matches!(r.outcome, Outcome::Failed { .. }))
    }

    /// Count of an outcome kind.
    #[must_use]
    pub fn count(&self, kind: &str) -> usize {
        self.reports
            .iter()
            .filter(|r| match &r.outcome {
                Outcome::Synced { .. } => kind == "synced",
                Outcome::Failed { .. } => kind == "failed",
                Outcome::Skipped { .. } => kind == "skipped",
                Outcome::Retry { .. } => kind == "retry",
                Outcome::Release { .. } => kind == "released",
                Outcome::Unqueued => kind == "unqueued",
            })
            .count()
    }
}

/// One pass over due work (`sync --once`): processes everything due, waits out back-offs
/// and `Retry-After`s of at most `max_wait`, leaves longer ones queued.
///
/// # Errors
/// A store failure.
pub async fn run_once<S, A, N, C>(
    service: &Arc<Service<S, A, N, C>>,
    adm: Option<AdministratieCode>,
    workers: u32,
    max_wait: Duration,
    progress: Option<&Progress>,
) -> anyhow::Result<PassSummary>
where
    S: Store,
    A: Accounting,
    N: Notifier,
    C: Clock,
{
    let mut summary = PassSummary::default();
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let claims = service.claim(workers.max(1) * 4, adm.clone()).await?;
        if claims.is_empty() {
            match service.next_due_at().await? {
                Some(at) if Instant::now() < deadline => {
                    let wait = (at - service.now()).to_std().unwrap_or(Duration::ZERO);
                    if wait > max_wait {
                        break;
                    }
                    // Only wait for work this pass could take (the right administratie).
                    tokio::time::sleep(wait + Duration::from_millis(10)).await;
                    let again = service.claim(workers.max(1) * 4, adm.clone()).await?;
                    if again.is_empty() {
                        break;
                    }
                    process_all(service, again, workers, &mut summary, progress).await;
                    continue;
                }
                _ => break,
            }
        }
        process_all(service, claims, workers, &mut summary, progress).await;
    }
    // The documents of what was booked (product §8.4), while this pass holds the leases.
    for _ in 0..10_000 {
        if service.attach_documents(DOCUMENT_BATCH).await? == 0 {
            break;
        }
    }
    service.release().await?;
    service.dispatch_notifications().await?;
    Ok(summary)
}

async fn process_all<S, A, N, C>(
    service: &Arc<Service<S, A, N, C>>,
    claims: Vec<koppeling_domain::ports::Claim>,
    workers: u32,
    summary: &mut PassSummary,
    progress: Option<&Progress>,
) where
    S: Store,
    A: Accounting,
    N: Notifier,
    C: Clock,
{
    let slots = Arc::new(Semaphore::new(workers.max(1) as usize));
    let mut set = JoinSet::new();
    for claim in claims {
        let service = service.clone();
        let slots = slots.clone();
        set.spawn(async move {
            let _permit = slots.acquire_owned().await;
            let started = Instant::now();
            service
                .process(&claim)
                .await
                .map(|report| (report, started.elapsed()))
        });
    }
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok(Ok((report, took))) => {
                summary.took.push(took);
                summary.reports.push(report);
                if let Some(progress) = progress {
                    progress.inc(1);
                }
            }
            Ok(Err(error)) if is_busy(&error) => {
                tracing::warn!(error = %error, "recording an attempt failed (database busy)");
            }
            Ok(Err(error)) => tracing::error!(error = %error, "recording an attempt failed"),
            Err(error) => tracing::error!(error = %error, "a sync task panicked"),
        }
    }
}

/// On PostgreSQL, forwards other processes' work notifications to this one (no-op on SQLite).
pub async fn run_listener(
    store: koppeling_radar360::SeaOrmStore,
    mut shutdown: watch::Receiver<bool>,
) {
    let handle = match store.listen_pg().await {
        Ok(handle) => handle,
        Err(error) => {
            tracing::warn!(error = %error, "LISTEN for work failed; relying on the periodic sweep");
            None
        }
    };
    let _ = shutdown.wait_for(|s| *s).await;
    if let Some(handle) = handle {
        handle.abort();
    }
}
