//! Reconciliation and the preview before ticking (product §8.3): the orchestration. The
//! rules are in [`crate::reconciliation`]. Nothing here writes: not to the store, not to
//! SnelStart.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use super::{MAX_RETRY_AFTER, Service, ServiceError};
use crate::ids::{AdministratieCode, ResourceId};
use crate::invoice::Invoice;
use crate::koppeling::{Connection, Koppeling};
use crate::ports::{Accounting, AccountingError, Clock, InvoiceFilter, Store, SyncState};
use crate::reconciliation::{
    Input, Period, Preview, Reconciliation, expected_from, preview, reconcile, to_confirm,
};
use crate::relation::RelatieCode;

/// The store's page size for invoice lists.
const STORE_PAGE: usize = 100;
/// At most this many booked invoices missing from the period's listing are read in full
/// (one call each); beyond it they count as gone from the period.
pub const MAX_CONFIRM: usize = 50;

/// A SnelStart failure of a read made for the Beheerder: 503, with `Retry-After` when the
/// administratie's budget (or SnelStart) says when.
fn unavailable(e: AccountingError) -> ServiceError {
    match e {
        AccountingError::Transient {
            retry_after: Some(wait),
            message,
        } => ServiceError::Throttled {
            retry_after: wait.clamp(Duration::from_secs(1), MAX_RETRY_AFTER),
            message,
        },
        other => ServiceError::Unavailable(other.to_string()),
    }
}

impl<S, A, N, C> Service<S, A, N, C>
where
    S: Store,
    A: Accounting,
    C: Clock,
{
    /// Every invoice `filter` selects, all store pages.
    async fn all_invoices(
        &self,
        adm: &AdministratieCode,
        filter: &InvoiceFilter,
    ) -> Result<Vec<(Invoice, Option<SyncState>)>, ServiceError> {
        let mut all = Vec::new();
        for page in 1.. {
            let rows = self.store.list_invoices(adm, filter, page).await?;
            let full = rows.len() >= STORE_PAGE;
            all.extend(rows);
            if !full {
                break;
            }
        }
        Ok(all)
    }

    async fn connection(
        &self,
        adm: &AdministratieCode,
    ) -> Result<(Koppeling, Connection), ServiceError> {
        let koppeling = self.store.get_koppeling(adm).await?;
        let Some((koppeling, key)) = koppeling.and_then(|k| {
            let key = k.key.clone()?;
            Some((k, key))
        }) else {
            return Err(ServiceError::Conflict {
                code: "not_connected".into(),
                message: "the SnelStart koppeling of this administratie has no usable koppelsleutel; save one in its settings first".into(),
                field: None,
            });
        };
        let conn = Connection {
            administratie: adm.clone(),
            key,
        };
        Ok((koppeling, conn))
    }

    /// Compares the final invoices of ticked relations dated in `period` with SnelStart
    /// (product §8.3). SnelStart calls: the period's verkoopfacturen and mutations, paged
    /// (⌊rows ÷ 500⌋ + 1 each), the ledgers when not cached, and one read per booked
    /// invoice the listing lacks (at most [`MAX_CONFIRM`]).
    ///
    /// # Errors
    /// `NotFound`, `Conflict` (`not_connected`), `Throttled` (the budget cannot serve it
    /// now), `Unavailable`.
    pub async fn reconciliation(
        &self,
        adm: &AdministratieCode,
        period: Period,
    ) -> Result<Reconciliation, ServiceError> {
        self.require_adm(adm).await?;
        let (koppeling, conn) = self.connection(adm).await?;
        let ticked: BTreeMap<String, crate::relation::Relation> = self
            .store
            .list_relations(adm)
            .await?
            .into_iter()
            .filter(|r| r.snelstart_enabled)
            .map(|r| (r.id.as_str().to_owned(), r))
            .collect();
        let filter = InvoiceFilter {
            from: Some(period.from),
            to: Some(period.to),
            final_only: true,
            ..InvoiceFilter::default()
        };
        let invoices = self.all_invoices(adm, &filter).await?;
        let mut links: BTreeMap<String, Option<String>> = BTreeMap::new();
        let mut input = Input::default();
        for (invoice, sync) in &invoices {
            let Some(relation) = ticked.get(invoice.relation_id.as_str()) else {
                continue;
            };
            let key = relation.id.as_str().to_owned();
            if !links.contains_key(&key) {
                let link = self.store.get_relatie_link(adm, &relation.id).await?;
                links.insert(key.clone(), link.map(|l| l.snelstart_id));
            }
            let relatie_id = links.get(&key).cloned().flatten();
            if let Some(e) = expected_from(invoice, sync.as_ref(), relatie_id, &period) {
                input.expected.push(e);
            }
        }
        input.listed = self
            .accounting
            .invoices_in_period(&conn, period)
            .await
            .map_err(unavailable)?;
        input.ledgers = self
            .accounting
            .reconciliation_ledgers(&conn, &koppeling.settings)
            .await
            .map_err(unavailable)?;
        let ids: Vec<String> = input.ledgers.keys().cloned().collect();
        input.mutations = self
            .accounting
            .ledger_mutations(&conn, period, &ids)
            .await
            .map_err(unavailable)?;
        for booking in to_confirm(&input.expected, &input.listed)
            .into_iter()
            .take(MAX_CONFIRM)
        {
            let detail = self
                .accounting
                .booking_detail(&conn, &booking)
                .await
                .map_err(unavailable)?;
            input.confirmed.insert(booking, detail);
        }
        Ok(reconcile(period, &input, self.clock.now()))
    }

    /// What ticking relation `id` would do, invoice by invoice (product §8.3). Writes
    /// nothing; reads SnelStart (the numbers it holds for this relatie) only when a key is
    /// set and the relation code is numeric.
    ///
    /// # Errors
    /// `NotFound`, `Throttled`, `Unavailable`.
    pub async fn preview_relation(
        &self,
        adm: &AdministratieCode,
        id: &ResourceId,
    ) -> Result<Preview, ServiceError> {
        let relation = self.require_relation(adm, id).await?;
        let filter = InvoiceFilter {
            final_only: true,
            relation_id: Some(id.clone()),
            ..InvoiceFilter::default()
        };
        let invoices = self.all_invoices(adm, &filter).await?;
        let koppeling = self.store.get_koppeling(adm).await?;
        let mut in_snelstart = BTreeSet::new();
        let code = RelatieCode::parse(relation.code.trim()).ok();
        if let (Some(k), Some(code)) = (&koppeling, code)
            && let Some(key) = k.key.clone()
            && !invoices.is_empty()
        {
            let conn = Connection {
                administratie: adm.clone(),
                key,
            };
            let link = self.store.get_relatie_link(adm, id).await?;
            let numbers = self
                .accounting
                .invoice_numbers_of_relatie(&conn, link.map(|l| l.snelstart_id), code)
                .await
                .map_err(unavailable)?;
            in_snelstart.extend(numbers);
        }
        Ok(preview(
            &relation,
            &invoices,
            koppeling.as_ref().map(|k| &k.settings),
            &in_snelstart,
        ))
    }
}
