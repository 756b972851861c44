//! The composition root: builds the live service from settings and runs server + worker.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use koppeling_domain::ports::Clock;
use koppeling_domain::sync::{Service, SyncConfig};
use koppeling_domain::text::redact_url;
use koppeling_email::{AnyNotifier, SmtpConfig};
use koppeling_radar360::SeaOrmStore;
use koppeling_snelstart::{SnelStartAccounting, SnelStartConfig};
use secrecy::SecretString;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::metrics::Metrics;
use crate::settings::{Required, Settings};
use crate::worker::{self, WorkerConfig};

/// The wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// The live service: what runs in production.
pub type LiveService = Service<SeaOrmStore, SnelStartAccounting, AnyNotifier, SystemClock>;

/// Connects and migrates the store.
///
/// # Errors
/// A connection or migration failure.
pub async fn connect_store(settings: &Settings) -> anyhow::Result<SeaOrmStore> {
    let master_key = settings.master_key()?;
    let previous_keys = settings.previous_master_keys()?;
    let store = SeaOrmStore::connect(&settings.database.url, master_key)
        .await
        .with_context(|| {
            format!(
                "database.url: cannot connect to {}",
                redact_url(&settings.database.url)
            )
        })?
        .with_previous_keys(previous_keys);
    store
        .migrate()
        .await
        .context("migrating the database failed")?;
    Ok(store)
}

/// Builds the live service on `store`.
///
/// # Errors
/// A missing subscription key or a bad SMTP setting.
pub fn build_service(
    settings: &Settings,
    store: SeaOrmStore,
    subscription_key: SecretString,
    worker_id: String,
) -> anyhow::Result<Arc<LiveService>> {
    Ok(build_parts(settings, store, subscription_key, worker_id)?.service)
}

/// The service and, beside it, the SnelStart adapter's call counters for `/metrics` (the
/// composition root keeps them; the service has no escape hatch to its adapters).
pub struct Parts {
    /// The application service.
    pub service: Arc<LiveService>,
    /// The SnelStart calls by endpoint and status.
    pub calls: crate::metrics::CallSource,
}

/// Builds the [`Parts`] an application runs on.
///
/// # Errors
/// A setting the adapters refuse (SnelStart URLs, SMTP).
pub fn build_parts(
    settings: &Settings,
    store: SeaOrmStore,
    subscription_key: SecretString,
    worker_id: String,
) -> anyhow::Result<Parts> {
    let accounting = SnelStartAccounting::new(SnelStartConfig {
        api_url: settings.snelstart.api_url.clone(),
        auth_url: settings.snelstart.auth_url.clone(),
        subscription_key,
        timeout: Duration::from_secs(settings.snelstart.timeout_secs),
        calls_per_minute: settings.snelstart.calls_per_minute,
        calls_per_hour: settings.snelstart.calls_per_hour,
        concurrency: settings.snelstart.concurrency,
    })?;
    let smtp = settings.smtp.url.as_ref().map(|url| SmtpConfig {
        url: url.clone(),
        from: settings.smtp.from.clone(),
    });
    let notifier = AnyNotifier::from_config(smtp.as_ref())?;
    let config = SyncConfig {
        lease: Duration::from_secs(settings.sync.lease_secs),
        worker_id,
        ui_base_url: settings.ui_base_url(),
        dedupe: Duration::from_secs(settings.notify.dedupe_hours * 3600),
        notify_retry: Duration::from_millis(settings.notify.retry_base_ms),
        notify_retry_max: Duration::from_millis(settings.notify.retry_max_ms),
        connect: koppeling_domain::sync::ConnectConfig {
            app_short_name: settings
                .snelstart
                .app_short_name
                .clone()
                .filter(|a| !a.trim().is_empty()),
            activation_url: settings.snelstart.activation_url.clone(),
            public_url: settings.public_url(),
        },
        ..SyncConfig::default()
    };
    let calls = {
        let accounting = accounting.clone();
        Arc::new(move || accounting.metrics()) as crate::metrics::CallSource
    };
    Ok(Parts {
        service: Arc::new(Service::new(
            store,
            accounting,
            notifier,
            SystemClock,
            config,
        )),
        calls,
    })
}

/// A unique id for this process's leases.
#[must_use]
pub fn worker_id() -> String {
    format!("{}-{}", std::process::id(), uuid::Uuid::new_v4().simple())
}

/// The running service: HTTP API + UI and the background sync.
pub struct Application {
    listener: TcpListener,
    service: Arc<LiveService>,
    store: SeaOrmStore,
    settings: Settings,
    api_token: SecretString,
    metrics: Arc<Metrics>,
}

impl Application {
    /// Connects, migrates, composes and binds `http.listen`.
    ///
    /// # Errors
    /// One line naming what is wrong.
    pub async fn build(mut settings: Settings) -> anyhow::Result<Self> {
        settings.require(&[
            Required::ApiToken,
            Required::SubscriptionKey,
            Required::MasterKey,
        ])?;
        let api_token = settings.api_token()?;
        koppeling_web::validate_config(&koppeling_web::WebConfig {
            api_token: api_token.clone(),
            previous_api_tokens: settings.api.previous_tokens.clone(),
            secure_cookies: settings.secure_cookies(),
            public_url: settings.public_url(),
            trusted_proxies: settings.http.trusted_proxies.clone(),
        })
        .map_err(|e| anyhow::anyhow!(e))?;
        let subscription_key = settings.subscription_key()?;
        let store = connect_store(&settings).await?;
        let listener = TcpListener::bind(settings.listen_addr()?)
            .await
            .with_context(|| format!("http.listen: cannot bind {}", settings.http.listen))?;
        // Links in e-mails name the bound port, also when `http.listen` asked for port 0.
        if settings.ui.base_url.is_none() && settings.http.public_url.is_none() {
            settings.ui.base_url = Some(format!("http://{}", listener.local_addr()?));
        }
        let parts = build_parts(&settings, store.clone(), subscription_key, worker_id())?;
        Ok(Self::from_parts(
            listener, parts, store, settings, api_token,
        ))
    }

    /// Assembles an application from built parts (the demo uses this).
    #[must_use]
    pub fn from_parts(
        listener: TcpListener,
        parts: Parts,
        store: SeaOrmStore,
        settings: Settings,
        api_token: SecretString,
    ) -> Self {
        let Parts { service, calls } = parts;
        Self {
            listener,
            service,
            store,
            settings,
            api_token,
            metrics: Arc::new(Metrics::new(Some(calls))),
        }
    }

    /// The bound address.
    ///
    /// # Errors
    /// When the socket has no address.
    pub fn local_addr(&self) -> anyhow::Result<SocketAddr> {
        Ok(self.listener.local_addr()?)
    }

    /// The bound port.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    /// The process metrics served at `/metrics`.
    #[must_use]
    pub fn metrics(&self) -> Arc<Metrics> {
        self.metrics.clone()
    }

    /// The service.
    #[must_use]
    pub fn service(&self) -> Arc<LiveService> {
        self.service.clone()
    }

    /// Serves until `shutdown` resolves: stops claiming, finishes in-flight attempts, exits.
    ///
    /// # Errors
    /// A server failure.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let (stop_tx, stop_rx) = watch::channel(false);
        let wake = self.store.work_notify();
        let worker_config = WorkerConfig {
            workers: self.settings.sync.workers,
            sweep: Duration::from_secs(self.settings.sync.sweep_secs),
            // Every 2 s, or as often as a shortened retry back-off needs.
            notify_every: Duration::from_millis(self.settings.notify.retry_base_ms)
                .clamp(Duration::from_millis(50), Duration::from_secs(2)),
        };
        let mut tasks = tokio::task::JoinSet::new();
        tasks.spawn(worker::run(
            self.service.clone(),
            wake,
            worker_config.clone(),
            self.metrics.clone(),
            stop_rx.clone(),
        ));
        tasks.spawn(worker::run_notifications(
            self.service.clone(),
            worker_config.notify_every,
            self.metrics.clone(),
            stop_rx.clone(),
        ));
        tasks.spawn(crate::worker::run_listener(
            self.store.clone(),
            stop_rx.clone(),
        ));
        tasks.spawn(worker::run_probe(
            self.service.clone(),
            Duration::from_secs(300),
            stop_rx.clone(),
        ));
        tasks.spawn(worker::run_documents(
            self.service.clone(),
            self.store.work_notify(),
            Duration::from_millis(500),
            stop_rx.clone(),
        ));
        tasks.spawn(worker::run_readback(
            self.service.clone(),
            Duration::from_secs(self.settings.readback.interval_secs),
            koppeling_domain::sync::ReadbackConfig {
                calls_per_hour: self.settings.snelstart.calls_per_hour,
                budget_share: self.settings.readback.budget_share,
                full_scan_hours: self.settings.readback.full_scan_hours,
            },
            stop_rx.clone(),
        ));
        if let (Some(url), Some(secret)) = (&self.settings.events.url, &self.settings.events.secret)
        {
            let sink = crate::events::HttpEventSink::new(url.clone(), secret.clone())?;
            tasks.spawn(worker::run_event_push(
                self.service.clone(),
                sink,
                Duration::from_millis(500),
                stop_rx.clone(),
            ));
        }
        tasks.spawn(worker::run_gauges(
            self.service.clone(),
            self.metrics.clone(),
            Duration::from_secs(5),
            stop_rx.clone(),
        ));

        let metrics = self.metrics.clone();
        let metrics_fn: koppeling_web::MetricsFn = Arc::new(move || metrics.render());
        let router = koppeling_web::router(
            self.service.clone(),
            koppeling_web::WebConfig {
                api_token: self.api_token.clone(),
                previous_api_tokens: self.settings.api.previous_tokens.clone(),
                secure_cookies: self.settings.secure_cookies(),
                public_url: self.settings.public_url(),
                trusted_proxies: self.settings.http.trusted_proxies.clone(),
            },
            metrics_fn,
        );
        tracing::info!(
            addr = %self.listener.local_addr()?,
            public_url = %self.settings.public_url(),
            database = %redact_url(&self.settings.database.url),
            snelstart = %self.settings.snelstart.api_url,
            snelstart_auth = %self.settings.snelstart.auth_url,
            smtp = %self.settings.smtp.url.as_deref().map_or_else(|| "(log only)".to_owned(), redact_url),
            "koppeling serving"
        );
        let mut server_stop = stop_rx.clone();
        // The edge (issue 13): connection cap, header and request timeouts, load shedding;
        // handlers see the peer's address (`ConnectInfo<SocketAddr>`), for log-in throttling.
        let edge = crate::edge::EdgeConfig {
            header_timeout: Duration::from_secs(self.settings.http.header_timeout_secs),
            request_timeout: Duration::from_secs(self.settings.http.request_timeout_secs),
            max_connections: usize::try_from(self.settings.http.max_connections)
                .unwrap_or(usize::MAX),
            max_concurrent_requests: usize::try_from(self.settings.http.max_concurrent_requests)
                .unwrap_or(usize::MAX),
        };
        let server = crate::edge::serve(self.listener, router, edge, async move {
            let _ = server_stop.wait_for(|stop| *stop).await;
        });
        let server = tokio::spawn(server);
        shutdown.await;
        tracing::info!("shutting down: no new claims, finishing in-flight work");
        let _ = stop_tx.send(true);
        while tasks.join_next().await.is_some() {}
        server.await??;
        Ok(())
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
