//! Read-only queries behind the JSON API and the admin UI. They exist so that the inbound
//! side asks the use case, never the store (issue 14): one place decides what a caller may
//! read, and handler tests mock [`crate::app::App`] instead of scripting store calls.

use super::{Service, ServiceError};
use crate::ids::{AdministratieCode, ResourceId};
use crate::invoice::Invoice;
use crate::notification::NotificationRecord;
use crate::ports::{Admin, AttemptLog, InvoiceFilter, StatusCounts, Store, SyncState};
use crate::relation::Relation;

impl<S, A, N, C> Service<S, A, N, C>
where
    S: Store,
{
    /// One Beheerder of `adm`, `None` when unknown.
    ///
    /// # Errors
    /// The store's failure.
    pub async fn admin(
        &self,
        adm: &AdministratieCode,
        id: &ResourceId,
    ) -> Result<Option<Admin>, ServiceError> {
        Ok(self.store.get_admin(adm, id).await?)
    }

    /// The Beheerders of `adm`.
    ///
    /// # Errors
    /// The store's failure.
    pub async fn admins(&self, adm: &AdministratieCode) -> Result<Vec<Admin>, ServiceError> {
        Ok(self.store.list_admins(adm).await?)
    }

    /// One relation, `None` when unknown.
    ///
    /// # Errors
    /// The store's failure.
    pub async fn relation(
        &self,
        adm: &AdministratieCode,
        id: &ResourceId,
    ) -> Result<Option<Relation>, ServiceError> {
        Ok(self.store.get_relation(adm, id).await?)
    }

    /// One page of relations ordered by code, filtered by `search` (name or code, empty for
    /// all), with the number of matches.
    ///
    /// # Errors
    /// The store's failure.
    pub async fn relations_page(
        &self,
        adm: &AdministratieCode,
        search: &str,
        page: u32,
        per_page: u32,
    ) -> Result<(Vec<Relation>, u64), ServiceError> {
        Ok(self
            .store
            .list_relations_page(adm, search, page, per_page)
            .await?)
    }

    /// Every relation of `adm`.
    ///
    /// # Errors
    /// The store's failure.
    pub async fn relations(&self, adm: &AdministratieCode) -> Result<Vec<Relation>, ServiceError> {
        Ok(self.store.list_relations(adm).await?)
    }

    /// One invoice with its sync state, `None` when unknown.
    ///
    /// # Errors
    /// The store's failure.
    pub async fn invoice(
        &self,
        adm: &AdministratieCode,
        id: &ResourceId,
    ) -> Result<Option<(Invoice, Option<SyncState>)>, ServiceError> {
        Ok(self.store.get_invoice(adm, id).await?)
    }

    /// One page of invoices matching `filter`.
    ///
    /// # Errors
    /// The store's failure.
    pub async fn invoices(
        &self,
        adm: &AdministratieCode,
        filter: &InvoiceFilter,
        page: u32,
    ) -> Result<Vec<(Invoice, Option<SyncState>)>, ServiceError> {
        Ok(self.store.list_invoices(adm, filter, page).await?)
    }

    /// The newest `limit` attempts of `adm`, only the failed ones when `only_failed`.
    ///
    /// # Errors
    /// The store's failure.
    pub async fn sync_log(
        &self,
        adm: &AdministratieCode,
        only_failed: bool,
        limit: u32,
    ) -> Result<Vec<AttemptLog>, ServiceError> {
        Ok(self.store.sync_log(adm, only_failed, limit).await?)
    }

    /// The newest `limit` attempts for one invoice (filtered in SQL).
    ///
    /// # Errors
    /// The store's failure.
    pub async fn invoice_sync_log(
        &self,
        adm: &AdministratieCode,
        invoice_id: &str,
        only_failed: bool,
        limit: u32,
    ) -> Result<Vec<AttemptLog>, ServiceError> {
        Ok(self
            .store
            .invoice_sync_log(adm, invoice_id, only_failed, limit)
            .await?)
    }

    /// The invoice counts per status over every administratie, and the notifications that
    /// wait to be mailed (for the `/metrics` gauges).
    ///
    /// # Errors
    /// The store's failure.
    pub async fn totals(&self) -> Result<(StatusCounts, u64), ServiceError> {
        let mut totals = StatusCounts::default();
        for adm in self.store.list_administraties().await? {
            let c = self.store.status_counts(&adm.code).await?;
            totals.queued += c.queued;
            totals.in_progress += c.in_progress;
            totals.synced += c.synced;
            totals.failed += c.failed;
            totals.skipped += c.skipped;
        }
        let unsent = self.store.count_unsent_notifications().await?;
        Ok((totals, unsent))
    }

    /// What was sent to the Beheerders of `adm`, newest first.
    ///
    /// # Errors
    /// The store's failure.
    pub async fn notifications(
        &self,
        adm: &AdministratieCode,
        limit: u32,
    ) -> Result<Vec<NotificationRecord>, ServiceError> {
        Ok(self.store.notifications(adm, limit).await?)
    }
}
