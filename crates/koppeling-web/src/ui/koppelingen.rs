//! Beheer > Koppelingen: the SnelStart tile, Activeren/Deactiveren, Instellingen and Notificatie.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use koppeling_domain::app::App;
use koppeling_domain::connect::ConnectionKind;
use koppeling_domain::ids::ResourceId;
use koppeling_domain::koppeling::{
    ConnectionKey, KoppelingSettings, KoppelingState, RevenueLedgers, VatCodes,
};
use koppeling_domain::pause::PauseReason;
use koppeling_domain::ports::StatusCounts;
use koppeling_domain::problem::Problem;
use koppeling_domain::sync::{KoppelingOverview, ServiceError};

use askama::Template;

use super::html::{self, Nav, Shell};
use super::session::Session;
use super::{
    CsrfForm, QueryMap, failure_page, field, html_response, html_response_leading_to, redirect,
};
use crate::AppState;
use crate::dto::parse_date;

fn flash(q: &HashMap<String, String>) -> Option<&'static str> {
    if q.contains_key("geactiveerd") {
        Some("De SnelStart koppeling is nu actief.")
    } else if q.contains_key("gedeactiveerd") {
        Some("De SnelStart koppeling is gedeactiveerd; facturen wachten tot u weer activeert.")
    } else {
        match q.get("opgeslagen").map(String::as_str) {
            Some("instellingen") => Some("De instellingen zijn opgeslagen."),
            Some("notificatie") => Some("De Beheerder voor notificaties is opgeslagen."),
            _ => None,
        }
    }
}

/// What the return from SnelStart's activation page (`?gekoppeld=snelstart`) says: a
/// notice when the key arrived (and whether the checks passed, still run, or failed), an
/// error when nothing arrived.
fn link_outcome(overview: &KoppelingOverview) -> (Option<String>, Option<String>) {
    if overview.connection != Some(ConnectionKind::SnelstartLink) {
        return (
            None,
            Some("Er is geen koppelsleutel van SnelStart ontvangen. Kies bij Instellingen opnieuw Koppelen met SnelStart en geef in SnelStart toestemming; een koppeling die meer dan 24 uur geleden is gestart, moet u opnieuw starten.".to_owned()),
        );
    }
    match &overview.problem {
        Some(PauseReason::ChecksRunning) => (
            Some("De koppelsleutel is via SnelStart ontvangen; de controles lopen nog. Vernieuw deze pagina over enkele seconden.".to_owned()),
            None,
        ),
        Some(problem) => (None, Some(sentence(&problem.dutch()))),
        None if overview.state == KoppelingState::Active => (
            Some("De koppelsleutel is via SnelStart ontvangen en de controles zijn geslaagd: de SnelStart koppeling is nu actief.".to_owned()),
            None,
        ),
        None => (
            Some("De koppelsleutel is via SnelStart ontvangen.".to_owned()),
            None,
        ),
    }
}

/// `text` with a capital and a full stop.
fn sentence(text: &str) -> String {
    let mut chars = text.trim().chars();
    let mut out: String = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    };
    if !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
}

/// The warning on the SnelStart tile when the koppeling cannot reach SnelStart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Warning {
    /// The Beheerder withdrew the key in SnelStart.
    Withdrawn,
    /// The stored key can no longer be decrypted.
    Unusable,
    /// SnelStart refuses the key.
    Refused,
}

/// `templates/koppelingen.html`: the SnelStart tile.
#[derive(Template)]
#[template(path = "koppelingen.html")]
struct OverviewPage<'a> {
    shell: Shell<'a>,
    flash: Option<&'a str>,
    error: Option<&'a str>,
    /// The activation's problems, in Dutch.
    problems: Vec<String>,
    not_configured: bool,
    warning: Option<Warning>,
    connection: Option<ConnectionKind>,
    last_sync: String,
    counts: &'a StatusCounts,
    can_activate: bool,
    can_deactivate: bool,
    paused: bool,
    /// Product §8: documents switched off by a missing scope are shown; booking goes on.
    documents_off: bool,
    bar_class: &'static str,
    bar_text: String,
}

fn overview_page(
    session: &Session,
    overview: &KoppelingOverview,
    flash: Option<&str>,
    problems: &[Problem],
    error: Option<&str>,
) -> String {
    let (bar_class, bar_text) = match overview.state {
        KoppelingState::Active => (
            "active",
            "Actief: de SnelStart koppeling synchroniseert.".to_owned(),
        ),
        KoppelingState::PausedAuth => (
            "paused",
            format!(
                "Gepauzeerd: {}",
                overview.problem.as_ref().map_or_else(
                    || "SnelStart weigert de koppelsleutel.".to_owned(),
                    |p| sentence(&p.dutch())
                )
            ),
        ),
        KoppelingState::Inactive => ("inactive", "Niet actief".to_owned()),
    };
    let paused = overview.state == KoppelingState::PausedAuth;
    let warning = if paused && overview.problem == Some(PauseReason::KeyWithdrawn) {
        Some(Warning::Withdrawn)
    } else if overview.key_unusable {
        Some(Warning::Unusable)
    } else if paused {
        Some(Warning::Refused)
    } else {
        None
    };
    html::render(&OverviewPage {
        shell: Shell::new(session, Nav::Koppelingen, "Koppelingen"),
        flash,
        error,
        problems: problems.iter().map(html::dutch).collect(),
        not_configured: overview.settings.is_none(),
        warning,
        connection: overview.connection,
        last_sync: overview
            .last_sync_at
            .as_ref()
            .map_or_else(|| "nog niet".to_owned(), html::time),
        counts: &overview.counts,
        can_activate: overview.state != KoppelingState::Active,
        can_deactivate: overview.state != KoppelingState::Inactive,
        paused,
        documents_off: overview.features.get("documents").map(String::as_str)
            == Some("missing_scope"),
        bar_class,
        bar_text,
    })
}

/// `GET /koppelingen`.
pub(crate) async fn overview<P: App>(
    State(state): State<AppState<P>>,
    session: Session,
    Query(q): QueryMap,
) -> Response {
    match state.service.overview(&session.adm).await {
        Ok(overview) => {
            let (notice, error) = if q.get("gekoppeld").map(String::as_str) == Some("snelstart") {
                link_outcome(&overview)
            } else {
                (flash(&q).map(str::to_owned), None)
            };
            html_response(
                StatusCode::OK,
                overview_page(
                    &session,
                    &overview,
                    notice.as_deref(),
                    &[],
                    error.as_deref(),
                ),
            )
        }
        Err(e) => failure_page(&session, e),
    }
}

/// `POST /koppelingen/snelstart/koppelen`: a fresh activation link, and the browser to
/// SnelStart's consent page.
pub(crate) async fn connect<P: App>(
    State(state): State<AppState<P>>,
    CsrfForm(session, _fields): CsrfForm,
) -> Response {
    match state.service.connect(&session.adm).await {
        Ok(Some(link)) => redirect(&link.activation_url),
        Ok(None) => super::message_page(
            &session,
            StatusCode::UNPROCESSABLE_ENTITY,
            "Koppelen met SnelStart staat uit",
            "Koppelen via SnelStart is op deze installatie niet ingesteld. Vul de koppelsleutel in bij Instellingen.",
        ),
        Err(e) => failure_page(&session, e),
    }
}

/// `POST /koppelingen/snelstart/activeren`.
pub(crate) async fn activate<P: App>(
    State(state): State<AppState<P>>,
    CsrfForm(session, _fields): CsrfForm,
) -> Response {
    let (status, problems, error) = match state.service.activate(&session.adm).await {
        Ok(_) => return redirect("/koppelingen?geactiveerd=1"),
        Err(ServiceError::ActivationFailed(problems)) => {
            (StatusCode::UNPROCESSABLE_ENTITY, problems, None)
        }
        Err(ServiceError::Unavailable(message)) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Vec::new(),
            Some(format!(
                "SnelStart is op dit moment niet bereikbaar, dus de controles konden niet worden uitgevoerd ({message}). Probeer het later opnieuw."
            )),
        ),
        Err(e) => return failure_page(&session, e),
    };
    match state.service.overview(&session.adm).await {
        Ok(overview) => html_response(
            status,
            overview_page(&session, &overview, None, &problems, error.as_deref()),
        ),
        Err(e) => failure_page(&session, e),
    }
}

/// `POST /koppelingen/snelstart/deactiveren`.
pub(crate) async fn deactivate<P: App>(
    State(state): State<AppState<P>>,
    CsrfForm(session, _fields): CsrfForm,
) -> Response {
    match state.service.deactivate(&session.adm).await {
        Ok(_) => redirect("/koppelingen?gedeactiveerd=1"),
        Err(e) => failure_page(&session, e),
    }
}

/// The values of the Instellingen form, as typed.
#[derive(Debug, Clone, Default)]
struct SettingsForm {
    values: HashMap<&'static str, String>,
    errors: HashMap<&'static str, String>,
    general: Vec<String>,
}

const SETTINGS_FIELDS: [&str; 8] = [
    "vat_high",
    "vat_low",
    "vat_zero",
    "sales_journal_code",
    "start_date",
    "ledger_high",
    "ledger_low",
    "ledger_zero",
];

impl SettingsForm {
    fn from_settings(settings: &KoppelingSettings) -> Self {
        let mut values = HashMap::new();
        values.insert("vat_high", settings.vat_codes.high.to_string());
        values.insert("vat_low", settings.vat_codes.low.to_string());
        values.insert("vat_zero", settings.vat_codes.zero.to_string());
        values.insert(
            "sales_journal_code",
            settings.sales_journal_code.to_string(),
        );
        values.insert(
            "start_date",
            settings
                .start_date
                .map(|d| d.format("%Y-%m-%d").to_string())
                .unwrap_or_default(),
        );
        let ledger = |v: Option<i32>| v.map(|n| n.to_string()).unwrap_or_default();
        values.insert("ledger_high", ledger(settings.revenue_ledgers.high));
        values.insert("ledger_low", ledger(settings.revenue_ledgers.low));
        values.insert("ledger_zero", ledger(settings.revenue_ledgers.zero));
        Self {
            values,
            ..Self::default()
        }
    }

    fn value(&self, name: &str) -> &str {
        self.values.get(name).map_or("", String::as_str)
    }

    fn number<T: std::str::FromStr>(&mut self, name: &'static str, label: &str) -> Option<T> {
        let raw = self.value(name).trim().to_owned();
        match raw.parse::<T>() {
            Ok(n) => Some(n),
            Err(_) => {
                self.errors
                    .insert(name, format!("{label} moet een geheel getal zijn."));
                None
            }
        }
    }

    fn optional_number(&mut self, name: &'static str, label: &str) -> Option<i32> {
        if self.value(name).trim().is_empty() {
            None
        } else {
            self.number::<i32>(name, label)
        }
    }

    fn add_problem(&mut self, problem: &Problem) {
        let name = match problem.field.as_str() {
            "vat_codes.high" => Some("vat_high"),
            "vat_codes.low" => Some("vat_low"),
            "vat_codes.zero" => Some("vat_zero"),
            "sales_journal_code" => Some("sales_journal_code"),
            "start_date" => Some("start_date"),
            "revenue_ledgers.high" => Some("ledger_high"),
            "revenue_ledgers.low" => Some("ledger_low"),
            "revenue_ledgers.zero" => Some("ledger_zero"),
            "key" => Some("key"),
            _ => None,
        };
        match name {
            Some(name) => {
                self.errors.insert(name, html::dutch(problem));
            }
            None => self.general.push(html::dutch(problem)),
        }
    }
}

/// One field of the Instellingen form (the `input` macro of `templates/instellingen.html`).
struct Input<'a> {
    name: &'static str,
    label: &'static str,
    help: &'static str,
    kind: &'static str,
    /// A number typed as text (`inputmode="numeric"`).
    numeric: bool,
    value: &'a str,
    error: Option<&'a str>,
}

fn input<'a>(
    form: &'a SettingsForm,
    name: &'static str,
    label: &'static str,
    help: &'static str,
    kind: &'static str,
) -> Input<'a> {
    Input {
        name,
        label,
        help,
        kind,
        numeric: kind == "text",
        value: form.value(name),
        error: form.errors.get(name).map(String::as_str),
    }
}

/// `templates/instellingen.html`: the settings form, with the values as typed and the
/// errors next to their fields.
#[derive(Template)]
#[template(path = "instellingen.html")]
struct SettingsPage<'a> {
    shell: Shell<'a>,
    general: &'a [String],
    link: bool,
    vat_high: Input<'a>,
    vat_low: Input<'a>,
    vat_zero: Input<'a>,
    journal: Input<'a>,
    key_set: bool,
    key_unusable: bool,
    key_error: Option<&'a str>,
    key_help: &'static str,
    start: Input<'a>,
    ledger_high: Input<'a>,
    ledger_low: Input<'a>,
    ledger_zero: Input<'a>,
}

fn render_settings(
    session: &Session,
    form: &SettingsForm,
    key_set: bool,
    key_unusable: bool,
    link: bool,
) -> String {
    let key_help = if key_unusable {
        "Plak de koppelsleutel opnieuw (of genereer een nieuwe op web.snelstart.nl): de opgeslagen sleutel is onbruikbaar."
    } else if key_set {
        "Er is een sleutel ingesteld. Laat dit veld leeg om die te houden, of plak een nieuwe sleutel."
    } else {
        "Genereer de sleutel op web.snelstart.nl en kopieer hem hierheen."
    };
    html::render(&SettingsPage {
        shell: Shell::new(session, Nav::Koppelingen, "Instellingen"),
        general: &form.general,
        link,
        vat_high: input(
            form,
            "vat_high",
            "BTW code omzet hoog",
            "12 = omzet hoog (21%)",
            "text",
        ),
        vat_low: input(
            form,
            "vat_low",
            "BTW code omzet laag",
            "11 = omzet laag (9%)",
            "text",
        ),
        vat_zero: input(
            form,
            "vat_zero",
            "BTW code omzet onbelast/verlegd",
            "10 = omzet onbelast of verlegd (0%)",
            "text",
        ),
        journal: input(
            form,
            "sales_journal_code",
            "Verkoopboek code",
            "In Radar360 bekend als de debiteuren rekening; meestal 1300.",
            "text",
        ),
        key_set,
        key_unusable,
        key_error: form.errors.get("key").map(String::as_str),
        key_help,
        start: input(
            form,
            "start_date",
            "Startdatum",
            "Facturen met een eerdere factuurdatum worden nooit verstuurd. Leeg = alle facturen.",
            "date",
        ),
        ledger_high: input(
            form,
            "ledger_high",
            "Omzetgrootboek hoog",
            "Leeg = het laagste actieve grootboek met functie 12.",
            "text",
        ),
        ledger_low: input(
            form,
            "ledger_low",
            "Omzetgrootboek laag",
            "Leeg = het laagste actieve grootboek met functie 11.",
            "text",
        ),
        ledger_zero: input(
            form,
            "ledger_zero",
            "Omzetgrootboek onbelast/verlegd",
            "Leeg = het laagste actieve grootboek met functie 10.",
            "text",
        ),
    })
}

/// `GET /koppelingen/snelstart/instellingen`.
pub(crate) async fn settings_page_handler<P: App>(
    state: &AppState<P>,
    session: &Session,
) -> Response {
    match state.service.overview(&session.adm).await {
        Ok(overview) => {
            let settings = overview.settings.clone().unwrap_or_default();
            html_response_leading_to(
                StatusCode::OK,
                render_settings(
                    session,
                    &SettingsForm::from_settings(&settings),
                    overview.key_set,
                    overview.key_unusable,
                    state.service.link_enabled(),
                ),
                state.service.activation_origin().as_deref(),
            )
        }
        Err(e) => failure_page(session, e),
    }
}

/// `GET /koppelingen/snelstart/instellingen`.
pub(crate) async fn settings_page<P: App>(
    State(state): State<AppState<P>>,
    session: Session,
) -> Response {
    settings_page_handler(&state, &session).await
}

/// `POST /koppelingen/snelstart/instellingen`.
pub(crate) async fn save_settings<P: App>(
    State(state): State<AppState<P>>,
    CsrfForm(session, submitted): CsrfForm,
) -> Response {
    let overview = match state.service.overview(&session.adm).await {
        Ok(o) => o,
        Err(e) => return failure_page(&session, e),
    };
    let mut form = SettingsForm::default();
    for name in SETTINGS_FIELDS {
        form.values.insert(
            name,
            field(&submitted, name)
                .unwrap_or_default()
                .trim()
                .to_owned(),
        );
    }
    let high = form.number::<u8>("vat_high", "De BTW code omzet hoog");
    let low = form.number::<u8>("vat_low", "De BTW code omzet laag");
    let zero = form.number::<u8>("vat_zero", "De BTW code omzet onbelast/verlegd");
    let journal = form.number::<i32>("sales_journal_code", "De Verkoopboek code");
    let ledger_high = form.optional_number("ledger_high", "Het omzetgrootboek hoog");
    let ledger_low = form.optional_number("ledger_low", "Het omzetgrootboek laag");
    let ledger_zero = form.optional_number("ledger_zero", "Het omzetgrootboek onbelast/verlegd");
    let start_date = match form.value("start_date") {
        "" => None,
        raw => match parse_date(raw) {
            Ok(d) => Some(d),
            Err(_) => {
                form.errors
                    .insert("start_date", "Vul een datum in als JJJJ-MM-DD.".to_owned());
                None
            }
        },
    };
    let key = match field(&submitted, "key").map(str::trim) {
        None | Some("") => None,
        Some(raw) => match ConnectionKey::new(raw.to_owned()) {
            Ok(k) => Some(k),
            Err(p) => {
                form.add_problem(&p);
                None
            }
        },
    };
    let previous = overview.settings.clone().unwrap_or_default();
    if !form.errors.is_empty() {
        // Every field's problem in one answer (issue 15): the fields that could be read are
        // checked by the same rules the save applies; an unreadable one keeps its own error.
        let defaults = KoppelingSettings::default();
        let readable = KoppelingSettings {
            vat_codes: VatCodes {
                high: high.unwrap_or(defaults.vat_codes.high),
                low: low.unwrap_or(defaults.vat_codes.low),
                zero: zero.unwrap_or(defaults.vat_codes.zero),
            },
            sales_journal_code: journal.unwrap_or(defaults.sales_journal_code),
            notify_admin_id: None,
            start_date,
            revenue_ledgers: RevenueLedgers {
                high: ledger_high,
                low: ledger_low,
                zero: ledger_zero,
            },
        };
        for problem in readable.validate().err().unwrap_or_default() {
            form.add_problem(&problem);
        }
    }
    if form.errors.is_empty()
        && let (Some(high), Some(low), Some(zero), Some(journal)) = (high, low, zero, journal)
    {
        let settings = KoppelingSettings {
            vat_codes: VatCodes { high, low, zero },
            sales_journal_code: journal,
            notify_admin_id: previous.notify_admin_id.clone(),
            start_date,
            revenue_ledgers: RevenueLedgers {
                high: ledger_high,
                low: ledger_low,
                zero: ledger_zero,
            },
        };
        match state
            .service
            .put_koppeling(&session.adm, &settings, key)
            .await
        {
            Ok(_) => return redirect("/koppelingen?opgeslagen=instellingen"),
            Err(ServiceError::Invalid(problems)) => {
                for p in &problems {
                    form.add_problem(p);
                }
            }
            Err(e) => return failure_page(&session, e),
        }
    }
    html_response_leading_to(
        StatusCode::UNPROCESSABLE_ENTITY,
        render_settings(
            &session,
            &form,
            overview.key_set,
            overview.key_unusable,
            state.service.link_enabled(),
        ),
        state.service.activation_origin().as_deref(),
    )
}

/// One Beheerder in the notification choice.
struct AdminOption<'a> {
    id: &'a str,
    name: &'a str,
    email: &'a str,
    selected: bool,
    /// The logged-in Beheerder.
    you: bool,
}

/// `templates/notificatie.html`: who receives the notification e-mails.
#[derive(Template)]
#[template(path = "notificatie.html")]
struct NotifyPage<'a> {
    shell: Shell<'a>,
    admins: Vec<AdminOption<'a>>,
    chosen: Option<&'a str>,
    error: Option<&'a str>,
}

fn render_notify(
    session: &Session,
    admins: &[koppeling_domain::ports::Admin],
    chosen: Option<&str>,
    error: Option<&str>,
) -> String {
    html::render(&NotifyPage {
        shell: Shell::new(session, Nav::Koppelingen, "Notificatie"),
        admins: admins
            .iter()
            .map(|a| AdminOption {
                id: a.id.as_str(),
                name: &a.name,
                email: &a.email,
                selected: chosen == Some(a.id.as_str()),
                you: a.id == session.admin_id,
            })
            .collect(),
        chosen,
        error,
    })
}

/// `GET /koppelingen/snelstart/notificatie`.
pub(crate) async fn notify_page_handler<P: App>(
    state: &AppState<P>,
    session: &Session,
    chosen_override: Option<Option<String>>,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let overview = match state.service.overview(&session.adm).await {
        Ok(o) => o,
        Err(e) => return failure_page(session, e),
    };
    let admins = match state.service.admins(&session.adm).await {
        Ok(a) => a,
        Err(e) => return failure_page(session, e),
    };
    let chosen = chosen_override.unwrap_or_else(|| {
        overview
            .settings
            .and_then(|s| s.notify_admin_id)
            .map(String::from)
    });
    html_response(
        status,
        render_notify(session, &admins, chosen.as_deref(), error),
    )
}

/// `GET /koppelingen/snelstart/notificatie`.
pub(crate) async fn notify_page<P: App>(
    State(state): State<AppState<P>>,
    session: Session,
) -> Response {
    notify_page_handler(&state, &session, None, None, StatusCode::OK).await
}

/// `POST /koppelingen/snelstart/notificatie`.
pub(crate) async fn save_notify<P: App>(
    State(state): State<AppState<P>>,
    CsrfForm(session, submitted): CsrfForm,
) -> Response {
    let raw = field(&submitted, "notify_admin_id")
        .unwrap_or_default()
        .trim()
        .to_owned();
    let chosen = if raw.is_empty() {
        None
    } else {
        match ResourceId::parse_field(&raw, "notify_admin_id") {
            Ok(id) => Some(id),
            Err(_) => {
                return notify_page_handler(
                    &state,
                    &session,
                    Some(None),
                    Some("Kies een Beheerder uit de lijst."),
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await;
            }
        }
    };
    let overview = match state.service.overview(&session.adm).await {
        Ok(o) => o,
        Err(e) => return failure_page(&session, e),
    };
    let mut settings = overview.settings.unwrap_or_default();
    settings.notify_admin_id = chosen;
    match state
        .service
        .put_koppeling(&session.adm, &settings, None)
        .await
    {
        Ok(_) => redirect("/koppelingen?opgeslagen=notificatie"),
        Err(ServiceError::Invalid(problems)) => {
            let text = problems
                .iter()
                .map(html::dutch)
                .collect::<Vec<_>>()
                .join(" ");
            notify_page_handler(
                &state,
                &session,
                Some(Some(raw)),
                Some(&text),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => failure_page(&session, e),
    }
}
