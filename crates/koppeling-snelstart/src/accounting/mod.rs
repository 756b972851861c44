//! `SnelStartAccounting`: the `Accounting` port on top of the client, with the reference-data caches.

mod activation;
mod classify;
pub(crate) mod mapping;
mod readback;
mod reconcile;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::NaiveDateTime;
use koppeling_domain::booking::{RevenueLedger, SalesBooking};
use koppeling_domain::koppeling::{Connection, KoppelingSettings};
use koppeling_domain::ports::{
    Accounting, AccountingError, Rejection, RemoteBooking, RemoteRelatie, Scoped,
};
use koppeling_domain::problem::Problem;
use koppeling_domain::readback::{RemoteBookingDetail, RemoteInvoice, RemotePayment};
use koppeling_domain::reconciliation::{LedgerRole, Listed, Mutation, Period};
use koppeling_domain::relation::{RelatieCode, RelatieData};
use secrecy::SecretString;
use tokio::time::Instant;

use crate::client::wire::{Grootboek, Grootboekfunctie};
use crate::client::{
    CallError, CallMetrics, ClientConfig, KeyId, Limits, SnelStartClient, Target, key_id,
};
use classify::{Op, classify};

/// How long ledgers and landen are trusted before they are fetched again.
const REFERENCE_TTL: Duration = Duration::from_secs(600);
/// The longest a call waits for the administratie's limits before it gives up with
/// `Transient { retry_after }` so that the caller can re-queue the work.
const MAX_WAIT: Duration = Duration::from_secs(2);

/// The adapter's settings (product §5, `snelstart.*`).
#[derive(Debug, Clone)]
pub struct SnelStartConfig {
    /// `snelstart.api_url`, e.g. `https://b2bapi.snelstart.nl/v2`.
    pub api_url: String,
    /// `snelstart.auth_url`, e.g. `https://auth.snelstart.nl/b2b/token`.
    pub auth_url: String,
    /// `snelstart.subscription_key`: the integrator's `Ocp-Apim-Subscription-Key`.
    pub subscription_key: SecretString,
    /// `snelstart.timeout_secs`: per request.
    pub timeout: Duration,
    /// `snelstart.calls_per_minute` per administratie (0 = no limit).
    pub calls_per_minute: u32,
    /// `snelstart.calls_per_hour` per administratie (0 = no limit).
    pub calls_per_hour: u32,
    /// `snelstart.concurrency` per administratie (0 = no limit).
    pub concurrency: u32,
}

/// A cached value and when it was fetched.
struct Cached<T> {
    value: Arc<T>,
    fetched: Instant,
}

/// Reference data of one SnelStart administration (one administratie and koppelsleutel).
#[derive(Default)]
struct References {
    /// All grootboeken; the lock is held while fetching so callers share one fetch.
    ledgers: tokio::sync::Mutex<Option<Cached<Vec<Grootboek>>>>,
    /// ISO-2 country code → land id.
    landen: tokio::sync::Mutex<Option<Cached<HashMap<String, String>>>>,
}

/// The SnelStart B2B API v2 behind the [`Accounting`] port. Cheap to clone.
#[derive(Clone)]
pub struct SnelStartAccounting {
    inner: Arc<Inner>,
}

struct Inner {
    client: SnelStartClient,
    /// Per (administratie, koppelsleutel hash): a new key may open another administration.
    references: Mutex<HashMap<(String, KeyId), Arc<References>>>,
}

impl std::fmt::Debug for SnelStartAccounting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SnelStartAccounting")
            .field("client", &self.inner.client)
            .finish_non_exhaustive()
    }
}

impl SnelStartAccounting {
    /// Builds the adapter (no network traffic).
    ///
    /// # Errors
    /// When a URL or the subscription key is unusable.
    pub fn new(cfg: SnelStartConfig) -> anyhow::Result<Self> {
        use anyhow::Context as _;
        let client = SnelStartClient::new(ClientConfig {
            api_url: cfg.api_url,
            auth_url: cfg.auth_url,
            subscription_key: cfg.subscription_key,
            timeout: cfg.timeout,
            limits: Limits {
                calls_per_minute: cfg.calls_per_minute,
                calls_per_hour: cfg.calls_per_hour,
                concurrency: cfg.concurrency,
            },
            max_wait: MAX_WAIT,
        })
        .context("configuring the SnelStart client")?;
        Ok(Self {
            inner: Arc::new(Inner {
                client,
                references: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// The raw client (shares tokens, limits and counters with this adapter).
    #[must_use]
    pub fn client(&self) -> &SnelStartClient {
        &self.inner.client
    }

    /// Calls by endpoint template and status, for `/metrics`.
    #[must_use]
    pub fn metrics(&self) -> CallMetrics {
        self.inner.client.metrics()
    }

    fn references(&self, conn: &Connection) -> Arc<References> {
        let key = (
            conn.administratie.as_str().to_owned(),
            key_id(conn.key.expose()),
        );
        let mut map = self
            .inner
            .references
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        map.entry(key).or_default().clone()
    }

    /// The grootboeken, from the cache when younger than `max_age`; the flag says whether
    /// they were fetched just now.
    async fn ledgers(
        &self,
        conn: &Connection,
        max_age: Duration,
    ) -> Result<(Arc<Vec<Grootboek>>, bool), CallError> {
        let refs = self.references(conn);
        let mut guard = refs.ledgers.lock().await;
        if let Some(cached) = guard.as_ref().filter(|c| c.fetched.elapsed() < max_age) {
            return Ok((cached.value.clone(), false));
        }
        let rows = self.inner.client.grootboeken(&target(conn)).await?;
        let value = Arc::new(rows);
        *guard = Some(Cached {
            value: value.clone(),
            fetched: Instant::now(),
        });
        Ok((value, true))
    }

    async fn forget_ledgers(&self, conn: &Connection) {
        *self.references(conn).ledgers.lock().await = None;
    }

    /// The land id of an ISO-2 code, from the cached `/landen`.
    async fn land_id(&self, conn: &Connection, iso2: &str) -> Result<String, AccountingError> {
        let wanted = iso2.trim().to_ascii_uppercase();
        let refs = self.references(conn);
        let mut guard = refs.landen.lock().await;
        let mut fetched_now = false;
        loop {
            let fresh = guard
                .as_ref()
                .filter(|c| c.fetched.elapsed() < REFERENCE_TTL);
            if let Some(cached) = fresh {
                if let Some(id) = cached.value.get(&wanted) {
                    return Ok(id.clone());
                }
                if fetched_now {
                    return Err(AccountingError::Rejected {
                        rejection: Rejection::CountryUnknown {
                            country: wanted.to_owned(),
                        },
                        message: format!(
                            "country {wanted:?} is not among SnelStart's landen; use an ISO 3166-1 alpha-2 code that SnelStart knows (such as NL, BE, DE) in the relation's address"
                        ),
                    });
                }
            }
            // Not cached, stale, or unknown in a cache that may be old: fetch once.
            let rows = self
                .inner
                .client
                .landen(&target(conn))
                .await
                .map_err(|e| classify(e, Op::Read))?;
            let map: HashMap<String, String> = rows
                .iter()
                .filter_map(|land| Some((land.iso2()?, land.id.clone()?)))
                .collect();
            *guard = Some(Cached {
                value: Arc::new(map),
                fetched: Instant::now(),
            });
            fetched_now = true;
        }
    }

    /// The grootboek ids of `lines`, re-fetching the ledgers once when the cache cannot
    /// resolve them (a ledger may have been added or re-activated meanwhile).
    async fn ledger_ids(
        &self,
        conn: &Connection,
        booking: &SalesBooking,
    ) -> Result<Vec<String>, AccountingError> {
        let (ledgers, fresh) = self
            .ledgers(conn, REFERENCE_TTL)
            .await
            .map_err(|e| classify(e, Op::Read))?;
        match resolve_all(&ledgers, booking) {
            Ok(ids) => Ok(ids),
            Err(_) if !fresh => {
                let (ledgers, _) = self
                    .ledgers(conn, Duration::ZERO)
                    .await
                    .map_err(|e| classify(e, Op::Read))?;
                resolve_all(&ledgers, booking).map_err(|message| AccountingError::Rejected {
                    rejection: Rejection::LedgerUnresolved,
                    message,
                })
            }
            Err(message) => Err(AccountingError::Rejected {
                rejection: Rejection::LedgerUnresolved,
                message,
            }),
        }
    }
}

fn target(conn: &Connection) -> Target<'_> {
    Target {
        koppelsleutel: conn.key.expose(),
        partition: conn.administratie.as_str(),
    }
}

fn resolve_all(ledgers: &[Grootboek], booking: &SalesBooking) -> Result<Vec<String>, String> {
    booking
        .lines
        .iter()
        .map(|line| resolve_ledger(ledgers, line.ledger))
        .collect()
}

/// The grootboek id for a line: the configured number, else the lowest-numbered active
/// ledger with the grootboekfunctie.
pub(crate) fn resolve_ledger(
    ledgers: &[Grootboek],
    wanted: RevenueLedger,
) -> Result<String, String> {
    if let Some(number) = wanted.number {
        let ledger = ledgers
            .iter()
            .find(|g| g.nummer == Some(number))
            .ok_or_else(|| {
                format!(
                    "revenue ledger {number} does not exist in SnelStart; create it there or choose another revenue ledger in the koppeling's settings"
                )
            })?;
        if !ledger.is_active() {
            return Err(format!(
                "revenue ledger {number} is inactive (nonactief) in SnelStart; activate it there or choose another revenue ledger in the koppeling's settings"
            ));
        }
        return ledger
            .id
            .clone()
            .ok_or_else(|| format!("SnelStart sent revenue ledger {number} without an id"));
    }
    let function = Grootboekfunctie::revenue(wanted.function).ok_or_else(|| {
        format!(
            "{} is not a SnelStart revenue code (12, 11 or 10)",
            wanted.function
        )
    })?;
    ledgers
        .iter()
        .filter(|g| g.is_active() && g.grootboekfunctie == Some(function) && g.id.is_some())
        .min_by_key(|g| g.nummer.unwrap_or(i32::MAX))
        .and_then(|g| g.id.clone())
        .ok_or_else(|| {
            format!(
                "SnelStart has no active revenue ledger with grootboekfunctie {} ({function}); create or activate one there, or configure a revenue ledger number in the koppeling's settings",
                wanted.function
            )
        })
}

impl Accounting for SnelStartAccounting {
    #[tracing::instrument(skip_all, fields(adm = %conn.administratie))]
    async fn check_activation(
        &self,
        conn: &Connection,
        settings: &KoppelingSettings,
    ) -> Result<Vec<Problem>, AccountingError> {
        activation::check(self, conn, settings).await
    }

    #[tracing::instrument(skip_all, fields(adm = %conn.administratie, code = code.get()))]
    async fn find_relatie(
        &self,
        conn: &Connection,
        code: RelatieCode,
    ) -> Result<Option<RemoteRelatie>, AccountingError> {
        let rows = self
            .inner
            .client
            .relaties_by_code(&target(conn), code.get())
            .await
            .map_err(|e| classify(e, Op::Read))?;
        Ok(rows.into_iter().find_map(|r| {
            Some(RemoteRelatie {
                is_klant: r.is_klant(),
                inactive: r.nonactief == Some(true),
                id: r.id?,
            })
        }))
    }

    #[tracing::instrument(skip_all, fields(adm = %conn.administratie, code = data.code.get()))]
    async fn create_relatie(
        &self,
        conn: &Connection,
        data: &RelatieData,
    ) -> Result<String, AccountingError> {
        let land = if mapping::has_address(data) {
            Some(self.land_id(conn, &data.country).await?)
        } else {
            None
        };
        let body = mapping::new_relatie(data, land.as_deref());
        let created = self
            .inner
            .client
            .create_relatie(&target(conn), &body)
            .await
            .map_err(|e| classify(e, Op::Write))?;
        created.id.ok_or_else(|| AccountingError::UnknownOutcome {
            message: "SnelStart created the relatie but its answer has no id".into(),
        })
    }

    #[tracing::instrument(skip_all, fields(adm = %conn.administratie, code = data.code.get()))]
    async fn update_relatie(
        &self,
        conn: &Connection,
        id: &str,
        data: &RelatieData,
    ) -> Result<(), AccountingError> {
        let land = if mapping::has_address(data) {
            Some(self.land_id(conn, &data.country).await?)
        } else {
            None
        };
        let current = self
            .inner
            .client
            .relatie_json(&target(conn), id)
            .await
            .map_err(|e| classify(e, Op::Read))?;
        let serde_json::Value::Object(current) = current else {
            return Err(AccountingError::Transient {
                retry_after: None,
                message: format!("SnelStart's answer for relatie {id} is not a JSON object"),
            });
        };
        let body =
            serde_json::Value::Object(mapping::merged_relatie(current, id, data, land.as_deref()));
        self.inner
            .client
            .put_relatie_json(&target(conn), id, &body)
            .await
            .map_err(|e| classify(e, Op::Write))?;
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(adm = %conn.administratie, invoice = %booking.invoice_number))]
    async fn book_sale(
        &self,
        conn: &Connection,
        booking: &SalesBooking,
        klant_id: &str,
    ) -> Result<String, AccountingError> {
        let ledger_ids = self.ledger_ids(conn, booking).await?;
        let body = mapping::verkoopboeking(booking, klant_id, &ledger_ids);
        let created = match self
            .inner
            .client
            .create_verkoopboeking(&target(conn), &body)
            .await
        {
            Ok(created) => created,
            Err(e) => {
                let err = classify(e, Op::Write);
                if let AccountingError::Rejected {
                    rejection: Rejection::LedgerUnusable { .. },
                    ..
                } = &err
                {
                    self.forget_ledgers(conn).await;
                }
                return Err(err);
            }
        };
        created.id.ok_or_else(|| AccountingError::UnknownOutcome {
            message: "SnelStart booked the verkoopboeking but its answer has no id".into(),
        })
    }

    #[tracing::instrument(skip_all, fields(adm = %conn.administratie, invoice = %invoice_number))]
    async fn find_booking(
        &self,
        conn: &Connection,
        invoice_number: &str,
    ) -> Result<Option<RemoteBooking>, AccountingError> {
        let rows = self
            .inner
            .client
            .verkoopfacturen_by_nummer(&target(conn), invoice_number)
            .await
            .map_err(|e| classify(e, Op::Read))?;
        // SnelStart's `eq` may match regardless of case: prefer the row with exactly this
        // number; the domain adopts only an exact match.
        let mut found: Vec<RemoteBooking> = rows
            .into_iter()
            .filter_map(|f| {
                Some(RemoteBooking {
                    id: f.verkoop_boeking?.id?,
                    number: f.factuurnummer,
                    klant_id: f.relatie.and_then(|r| r.id),
                    total: f.factuur_bedrag.map(|a| a.0),
                })
            })
            .collect();
        let exact = found
            .iter()
            .position(|b| b.number.as_deref() == Some(invoice_number));
        Ok(match exact {
            Some(at) => Some(found.swap_remove(at)),
            None => found.into_iter().next(),
        })
    }

    #[tracing::instrument(skip_all, fields(adm = %conn.administratie))]
    async fn invoices_since(
        &self,
        conn: &Connection,
        since: Option<NaiveDateTime>,
        skip: usize,
    ) -> Result<Vec<RemoteInvoice>, AccountingError> {
        let since = since.map(readback::stamp);
        let rows = self
            .inner
            .client
            .verkoopfacturen_since(
                &target(conn),
                since.as_deref(),
                u32::try_from(skip).unwrap_or(u32::MAX),
            )
            .await
            .map_err(|e| classify(e, Op::Read))?;
        Ok(rows.into_iter().filter_map(readback::invoice).collect())
    }

    #[tracing::instrument(skip_all, fields(adm = %conn.administratie))]
    async fn payments_since(
        &self,
        conn: &Connection,
        since: Option<NaiveDateTime>,
    ) -> Result<Scoped<Vec<RemotePayment>>, AccountingError> {
        let since = since.map(readback::stamp);
        let mut payments = Vec::new();
        for (kas, scope) in [(false, "bankieren:read"), (true, "kas:read")] {
            match self
                .inner
                .client
                .betalingen_since(&target(conn), kas, since.as_deref())
                .await
            {
                Ok(rows) => payments.extend(rows.into_iter().filter_map(readback::payment)),
                Err(e) if readback::is_missing_scope(&e) => {
                    return Ok(Scoped::MissingScope(scope.to_owned()));
                }
                Err(e) => return Err(classify(e, Op::Read)),
            }
        }
        Ok(Scoped::Granted(payments))
    }

    #[tracing::instrument(skip_all, fields(adm = %conn.administratie, booking = %booking_id, size = content.len()))]
    async fn upload_document(
        &self,
        conn: &Connection,
        booking_id: &str,
        file_name: &str,
        content: &[u8],
    ) -> Result<Scoped<String>, AccountingError> {
        use base64::Engine;
        let body = crate::client::wire::DocumentContent {
            content: base64::engine::general_purpose::STANDARD.encode(content),
            file_name: file_name.to_owned(),
            parent_identifier: booking_id.to_owned(),
        };
        match self
            .inner
            .client
            .upload_verkoopboeking_document(&target(conn), &body)
            .await
        {
            Ok(created) => {
                created
                    .id
                    .map(Scoped::Granted)
                    .ok_or_else(|| AccountingError::UnknownOutcome {
                        message: "SnelStart stored the document but its answer has no id".into(),
                    })
            }
            Err(e) if readback::is_missing_scope(&e) => {
                Ok(Scoped::MissingScope("documenten:write".to_owned()))
            }
            Err(CallError::Api(e)) if e.status == 404 => Err(AccountingError::Rejected {
                rejection: koppeling_domain::ports::Rejection::BookingGone,
                message: e.message,
            }),
            Err(e) => Err(classify(e, Op::Write)),
        }
    }

    #[tracing::instrument(skip_all, fields(adm = %conn.administratie, booking = %booking_id))]
    async fn booking_documents(
        &self,
        conn: &Connection,
        booking_id: &str,
    ) -> Result<Scoped<Vec<koppeling_domain::document::RemoteDocument>>, AccountingError> {
        match self
            .inner
            .client
            .verkoopboeking_documents(&target(conn), booking_id)
            .await
        {
            Ok(rows) => Ok(Scoped::Granted(
                rows.into_iter()
                    .filter_map(|r| {
                        Some(koppeling_domain::document::RemoteDocument {
                            id: r.id?,
                            file_name: r.file_name?,
                        })
                    })
                    .collect(),
            )),
            Err(e) if readback::is_missing_scope(&e) => {
                Ok(Scoped::MissingScope("documenten:read".to_owned()))
            }
            Err(CallError::Api(e)) if e.status == 404 => Err(AccountingError::Rejected {
                rejection: koppeling_domain::ports::Rejection::BookingGone,
                message: e.message,
            }),
            Err(e) => Err(classify(e, Op::Read)),
        }
    }

    #[tracing::instrument(skip_all, fields(adm = %conn.administratie, booking = %booking_id))]
    async fn booking_detail(
        &self,
        conn: &Connection,
        booking_id: &str,
    ) -> Result<Option<RemoteBookingDetail>, AccountingError> {
        match self
            .inner
            .client
            .verkoopboeking(&target(conn), booking_id)
            .await
        {
            Ok(row) => Ok(Some(readback::detail(&row))),
            Err(CallError::Api(api)) if api.status == 404 => Ok(None),
            Err(e) => Err(classify(e, Op::Read)),
        }
    }

    #[tracing::instrument(skip_all, fields(adm = %conn.administratie))]
    async fn invoices_in_period(
        &self,
        conn: &Connection,
        period: Period,
    ) -> Result<Vec<Listed>, AccountingError> {
        let rows = self
            .inner
            .client
            .verkoopfacturen_in_period(&target(conn), period.from, period.to)
            .await
            .map_err(|e| classify(e, Op::Read))?;
        Ok(rows.into_iter().filter_map(reconcile::listed).collect())
    }

    #[tracing::instrument(skip_all, fields(adm = %conn.administratie))]
    async fn reconciliation_ledgers(
        &self,
        conn: &Connection,
        settings: &KoppelingSettings,
    ) -> Result<HashMap<String, LedgerRole>, AccountingError> {
        let (ledgers, _) = self
            .ledgers(conn, REFERENCE_TTL)
            .await
            .map_err(|e| classify(e, Op::Read))?;
        Ok(reconcile::ledger_roles(&ledgers, settings))
    }

    #[tracing::instrument(skip_all, fields(adm = %conn.administratie))]
    async fn ledger_mutations(
        &self,
        conn: &Connection,
        period: Period,
        ledger_ids: &[String],
    ) -> Result<Vec<Mutation>, AccountingError> {
        let rows = self
            .inner
            .client
            .grootboekmutaties(&target(conn), period.from, period.to, ledger_ids)
            .await
            .map_err(|e| classify(e, Op::Read))?;
        Ok(rows.into_iter().filter_map(reconcile::mutation).collect())
    }

    #[tracing::instrument(skip_all, fields(adm = %conn.administratie, code = code.get()))]
    async fn invoice_numbers_of_relatie(
        &self,
        conn: &Connection,
        relatie_id: Option<String>,
        code: RelatieCode,
    ) -> Result<Vec<String>, AccountingError> {
        let id = match relatie_id {
            Some(id) => Some(id),
            None => self.find_relatie(conn, code).await?.map(|r| r.id),
        };
        let Some(id) = id else {
            return Ok(Vec::new());
        };
        let rows = self
            .inner
            .client
            .verkoopfacturen_of_relatie(&target(conn), &id)
            .await
            .map_err(|e| classify(e, Op::Read))?;
        Ok(rows.into_iter().filter_map(|f| f.factuurnummer).collect())
    }
}

#[cfg(test)]
mod tests;
