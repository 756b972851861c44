//! The inbound port: everything the JSON API, the admin UI and `import` may ask of the
//! koppeling, as one trait (issue 14).
//!
//! The web crate is generic over this one trait only; it never sees the outbound ports
//! ([`crate::ports`]) and cannot reach past the use case into the store. [`Service`]
//! implements it by delegating to its inherent methods; handler tests use `MockApp`
//! (feature `mock`) and script the answers of the use case, not the store calls it makes.

use std::future::Future;
use std::time::Duration;

use crate::auth::SessionRecord;
use crate::connect::{WebhookApplied, WebhookMessage};
use crate::document::{Document, DocumentKind};
use crate::ids::{AdministratieCode, ResourceId};
use crate::invoice::Invoice;
use crate::koppeling::{ConnectionKey, KoppelingSettings};
use crate::notification::NotificationRecord;
use crate::ports::{
    Accounting, Admin, Administratie, AttemptLog, Clock, InvoiceFilter, Notifier, Put, Store,
    SyncState,
};
use crate::problem::Problem;
use crate::readback::Event;
use crate::reconciliation::{Period, Preview, Reconciliation};
use crate::relation::Relation;
use crate::sync::{ConnectLink, KoppelingOverview, Service, ServiceError};

/// A found Beheerder for a log-in: administratie, Beheerder and password hash.
pub type LoginCandidate = (AdministratieCode, Admin, Option<String>);

/// An invoice with its sync state (`None` before the first attempt was recorded).
pub type InvoiceWithSync = (Invoice, Option<SyncState>);

/// The application as the inbound adapters see it. Every method answers in the use case's
/// own terms ([`ServiceError`]); see the inherent methods of [`Service`] for the rules each
/// one applies.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
pub trait App: Send + Sync + 'static {
    // ---- administraties and Beheerders ----

    /// Creates or replaces an administratie.
    fn put_administratie(
        &self,
        adm: &Administratie,
    ) -> impl Future<Output = Result<Put, ServiceError>> + Send;
    /// One administratie; `NotFound` when unknown.
    fn get_administratie(
        &self,
        adm: &AdministratieCode,
    ) -> impl Future<Output = Result<Administratie, ServiceError>> + Send;
    /// Every administratie.
    fn list_administraties(
        &self,
    ) -> impl Future<Output = Result<Vec<Administratie>, ServiceError>> + Send;
    /// Creates or replaces a Beheerder, with a new password hash when given.
    fn put_admin(
        &self,
        adm: &AdministratieCode,
        admin: &Admin,
        password_hash: Option<String>,
    ) -> impl Future<Output = Result<Put, ServiceError>> + Send;
    /// One Beheerder.
    fn admin(
        &self,
        adm: &AdministratieCode,
        id: &ResourceId,
    ) -> impl Future<Output = Result<Option<Admin>, ServiceError>> + Send;
    /// The Beheerders of an administratie.
    fn admins(
        &self,
        adm: &AdministratieCode,
    ) -> impl Future<Output = Result<Vec<Admin>, ServiceError>> + Send;

    // ---- relations ----

    /// Creates or replaces a relation.
    fn put_relation(
        &self,
        adm: &AdministratieCode,
        relation: &Relation,
    ) -> impl Future<Output = Result<Put, ServiceError>> + Send;
    /// One relation.
    fn relation(
        &self,
        adm: &AdministratieCode,
        id: &ResourceId,
    ) -> impl Future<Output = Result<Option<Relation>, ServiceError>> + Send;
    /// One page of relations and the number of matches.
    fn relations_page(
        &self,
        adm: &AdministratieCode,
        search: &str,
        page: u32,
        per_page: u32,
    ) -> impl Future<Output = Result<(Vec<Relation>, u64), ServiceError>> + Send;
    /// Every relation.
    fn relations(
        &self,
        adm: &AdministratieCode,
    ) -> impl Future<Output = Result<Vec<Relation>, ServiceError>> + Send;
    /// Ticks or unticks *Synchroniseren met SnelStart*.
    fn set_relation_snelstart(
        &self,
        adm: &AdministratieCode,
        id: &ResourceId,
        enabled: bool,
    ) -> impl Future<Output = Result<Relation, ServiceError>> + Send;

    // ---- invoices ----

    /// Creates or replaces an invoice; a final one is queued.
    fn put_invoice(
        &self,
        adm: &AdministratieCode,
        invoice: &Invoice,
    ) -> impl Future<Output = Result<(Put, Option<SyncState>), ServiceError>> + Send;
    /// One invoice with its sync state.
    fn invoice(
        &self,
        adm: &AdministratieCode,
        id: &ResourceId,
    ) -> impl Future<Output = Result<Option<InvoiceWithSync>, ServiceError>> + Send;
    /// One page of invoices.
    fn invoices(
        &self,
        adm: &AdministratieCode,
        filter: &InvoiceFilter,
        page: u32,
    ) -> impl Future<Output = Result<Vec<InvoiceWithSync>, ServiceError>> + Send;
    /// Re-queues a failed invoice (*Opnieuw aanbieden*).
    fn retry_invoice(
        &self,
        adm: &AdministratieCode,
        id: &ResourceId,
    ) -> impl Future<Output = Result<SyncState, ServiceError>> + Send;
    /// Stores the `kind` document of an invoice (product §8.4); `filename` defaults to the
    /// invoice number with `.pdf`/`.xml`.
    fn put_document(
        &self,
        adm: &AdministratieCode,
        id: &ResourceId,
        kind: DocumentKind,
        filename: Option<String>,
        content: Vec<u8>,
    ) -> impl Future<Output = Result<(Put, Document), ServiceError>> + Send;
    /// The metadata of an invoice's documents.
    fn documents(
        &self,
        adm: &AdministratieCode,
        id: &ResourceId,
    ) -> impl Future<Output = Result<Vec<Document>, ServiceError>> + Send;
    /// One document with its bytes.
    fn document(
        &self,
        adm: &AdministratieCode,
        id: &ResourceId,
        kind: DocumentKind,
    ) -> impl Future<Output = Result<(Document, Vec<u8>), ServiceError>> + Send;
    /// Removes a document not yet attached.
    fn delete_document(
        &self,
        adm: &AdministratieCode,
        id: &ResourceId,
        kind: DocumentKind,
    ) -> impl Future<Output = Result<(), ServiceError>> + Send;
    /// Books again an invoice whose booking was deleted in SnelStart.
    fn rebook(
        &self,
        adm: &AdministratieCode,
        id: &ResourceId,
    ) -> impl Future<Output = Result<SyncState, ServiceError>> + Send;
    /// The newest attempts of an administratie.
    fn sync_log(
        &self,
        adm: &AdministratieCode,
        only_failed: bool,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<AttemptLog>, ServiceError>> + Send;
    /// The newest attempts for one invoice.
    fn invoice_sync_log(
        &self,
        adm: &AdministratieCode,
        invoice_id: &str,
        only_failed: bool,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<AttemptLog>, ServiceError>> + Send;
    /// What was sent to the Beheerders.
    fn notifications(
        &self,
        adm: &AdministratieCode,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<NotificationRecord>, ServiceError>> + Send;
    /// The events feed after `after`.
    fn events(
        &self,
        adm: &AdministratieCode,
        after: u64,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<Event>, ServiceError>> + Send;

    // ---- the koppeling ----

    /// Stores the koppeling's settings and, when given, a new koppelsleutel.
    fn put_koppeling(
        &self,
        adm: &AdministratieCode,
        settings: &KoppelingSettings,
        key: Option<ConnectionKey>,
    ) -> impl Future<Output = Result<Put, ServiceError>> + Send;
    /// The activation checks, without activating.
    fn check(
        &self,
        adm: &AdministratieCode,
    ) -> impl Future<Output = Result<Vec<Problem>, ServiceError>> + Send;
    /// Runs the checks and activates when they pass.
    fn activate(
        &self,
        adm: &AdministratieCode,
    ) -> impl Future<Output = Result<KoppelingOverview, ServiceError>> + Send;
    /// Switches the koppeling off.
    fn deactivate(
        &self,
        adm: &AdministratieCode,
    ) -> impl Future<Output = Result<KoppelingOverview, ServiceError>> + Send;
    /// State, counts and problem of the koppeling.
    fn overview(
        &self,
        adm: &AdministratieCode,
    ) -> impl Future<Output = Result<KoppelingOverview, ServiceError>> + Send;
    /// Starts the activation-link flow (product §8.1).
    fn connect(
        &self,
        adm: &AdministratieCode,
    ) -> impl Future<Output = Result<Option<ConnectLink>, ServiceError>> + Send;
    /// Stores what SnelStart's webhook message changes, in one transaction (product §8.1).
    fn webhook(
        &self,
        message: WebhookMessage,
    ) -> impl Future<Output = Result<WebhookApplied, ServiceError>> + Send;
    /// The activation checks after the webhook's answer.
    fn after_webhook(
        &self,
        applied: &WebhookApplied,
    ) -> impl Future<Output = Result<(), ServiceError>> + Send;
    /// Whether the link flow is on (`snelstart.app_short_name` is set).
    fn link_enabled(&self) -> bool;
    /// Where *Koppelen met SnelStart* sends the browser (`scheme://host[:port]`), when on.
    fn activation_origin(&self) -> Option<String>;

    // ---- log-in and sessions ----

    /// The Beheerder with this e-mail address, if any.
    fn find_admin_for_login(
        &self,
        email: &str,
    ) -> impl Future<Output = Result<Option<LoginCandidate>, ServiceError>> + Send;
    /// Counts a log-in attempt; `Some(wait)` when the account or address is locked out.
    fn login_attempt(
        &self,
        account: &str,
        address: &str,
    ) -> impl Future<Output = Result<Option<Duration>, ServiceError>> + Send;
    /// Forgives the failures of a successful log-in.
    fn login_succeeded(
        &self,
        account: &str,
        address: &str,
    ) -> impl Future<Output = Result<(), ServiceError>> + Send;
    /// Uses up a log-in form token; false when it was used before.
    fn use_login_token(
        &self,
        token_hash: &str,
    ) -> impl Future<Output = Result<bool, ServiceError>> + Send;
    /// Stores a new session.
    fn start_session(
        &self,
        id_hash: String,
        adm: AdministratieCode,
        admin_id: ResourceId,
    ) -> impl Future<Output = Result<(), ServiceError>> + Send;
    /// A live session and its CSRF token.
    fn session(
        &self,
        id_hash: &str,
    ) -> impl Future<Output = Result<Option<(SessionRecord, String)>, ServiceError>> + Send;
    /// Ends a session.
    fn end_session(&self, id_hash: &str) -> impl Future<Output = Result<(), ServiceError>> + Send;

    // ---- reconciliation and the preview (product §8.3) ----

    /// Compares the final invoices of ticked relations dated in `period` with SnelStart;
    /// writes nothing.
    fn reconciliation(
        &self,
        adm: &AdministratieCode,
        period: Period,
    ) -> impl Future<Output = Result<Reconciliation, ServiceError>> + Send;
    /// What ticking relation `id` would do, invoice by invoice; writes nothing.
    fn preview_relation(
        &self,
        adm: &AdministratieCode,
        id: &ResourceId,
    ) -> impl Future<Output = Result<Preview, ServiceError>> + Send;
}

/// Forwards each method to the inherent method of the same name.
macro_rules! forward {
    ($( fn $name:ident(&self $(, $arg:ident : $ty:ty)* ) -> $out:ty; )*) => {
        $(
            fn $name(&self $(, $arg: $ty)*) -> impl Future<Output = Result<$out, ServiceError>> + Send {
                Service::$name(self $(, $arg)*)
            }
        )*
    };
}

impl<S, A, N, C> App for Service<S, A, N, C>
where
    S: Store,
    A: Accounting,
    N: Notifier,
    C: Clock,
{
    forward! {
        fn put_administratie(&self, adm: &Administratie) -> Put;
        fn get_administratie(&self, adm: &AdministratieCode) -> Administratie;
        fn list_administraties(&self) -> Vec<Administratie>;
        fn put_admin(&self, adm: &AdministratieCode, admin: &Admin, password_hash: Option<String>) -> Put;
        fn admin(&self, adm: &AdministratieCode, id: &ResourceId) -> Option<Admin>;
        fn admins(&self, adm: &AdministratieCode) -> Vec<Admin>;
        fn put_relation(&self, adm: &AdministratieCode, relation: &Relation) -> Put;
        fn relation(&self, adm: &AdministratieCode, id: &ResourceId) -> Option<Relation>;
        fn relations_page(&self, adm: &AdministratieCode, search: &str, page: u32, per_page: u32) -> (Vec<Relation>, u64);
        fn relations(&self, adm: &AdministratieCode) -> Vec<Relation>;
        fn set_relation_snelstart(&self, adm: &AdministratieCode, id: &ResourceId, enabled: bool) -> Relation;
        fn put_invoice(&self, adm: &AdministratieCode, invoice: &Invoice) -> (Put, Option<SyncState>);
        fn invoice(&self, adm: &AdministratieCode, id: &ResourceId) -> Option<InvoiceWithSync>;
        fn invoices(&self, adm: &AdministratieCode, filter: &InvoiceFilter, page: u32) -> Vec<InvoiceWithSync>;
        fn retry_invoice(&self, adm: &AdministratieCode, id: &ResourceId) -> SyncState;
        fn put_document(&self, adm: &AdministratieCode, id: &ResourceId, kind: DocumentKind, filename: Option<String>, content: Vec<u8>) -> (Put, Document);
        fn documents(&self, adm: &AdministratieCode, id: &ResourceId) -> Vec<Document>;
        fn document(&self, adm: &AdministratieCode, id: &ResourceId, kind: DocumentKind) -> (Document, Vec<u8>);
        fn delete_document(&self, adm: &AdministratieCode, id: &ResourceId, kind: DocumentKind) -> ();
        fn rebook(&self, adm: &AdministratieCode, id: &ResourceId) -> SyncState;
        fn sync_log(&self, adm: &AdministratieCode, only_failed: bool, limit: u32) -> Vec<AttemptLog>;
        fn invoice_sync_log(&self, adm: &AdministratieCode, invoice_id: &str, only_failed: bool, limit: u32) -> Vec<AttemptLog>;
        fn notifications(&self, adm: &AdministratieCode, limit: u32) -> Vec<NotificationRecord>;
        fn events(&self, adm: &AdministratieCode, after: u64, limit: u32) -> Vec<Event>;
        fn put_koppeling(&self, adm: &AdministratieCode, settings: &KoppelingSettings, key: Option<ConnectionKey>) -> Put;
        fn check(&self, adm: &AdministratieCode) -> Vec<Problem>;
        fn activate(&self, adm: &AdministratieCode) -> KoppelingOverview;
        fn deactivate(&self, adm: &AdministratieCode) -> KoppelingOverview;
        fn overview(&self, adm: &AdministratieCode) -> KoppelingOverview;
        fn connect(&self, adm: &AdministratieCode) -> Option<ConnectLink>;
        fn webhook(&self, message: WebhookMessage) -> WebhookApplied;
        fn after_webhook(&self, applied: &WebhookApplied) -> ();
        fn find_admin_for_login(&self, email: &str) -> Option<LoginCandidate>;
        fn login_attempt(&self, account: &str, address: &str) -> Option<Duration>;
        fn login_succeeded(&self, account: &str, address: &str) -> ();
        fn use_login_token(&self, token_hash: &str) -> bool;
        fn start_session(&self, id_hash: String, adm: AdministratieCode, admin_id: ResourceId) -> ();
        fn session(&self, id_hash: &str) -> Option<(SessionRecord, String)>;
        fn end_session(&self, id_hash: &str) -> ();
        fn reconciliation(&self, adm: &AdministratieCode, period: Period) -> Reconciliation;
        fn preview_relation(&self, adm: &AdministratieCode, id: &ResourceId) -> Preview;
    }

    fn link_enabled(&self) -> bool {
        Service::link_enabled(self)
    }

    fn activation_origin(&self) -> Option<String> {
        Service::activation_origin(self)
    }
}
