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
use koppeling_domain::problem::Problem;
use koppeling_domain::sync::{KoppelingOverview, ServiceError};

use super::html::{self, Nav, csrf_field, esc};
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

fn overview_page(
    session: &Session,
    overview: &KoppelingOverview,
    flash: Option<&str>,
    problems: &[Problem],
    error: Option<&str>,
) -> String {
    let flash = flash
        .map(|f| format!(r#"<p class="notice" role="status">{}</p>"#, esc(f)))
        .unwrap_or_default();
    let error = error
        .map(|e| format!(r#"<p class="problems" role="alert">{}</p>"#, esc(e)))
        .unwrap_or_default();
    let problems = if problems.is_empty() {
        String::new()
    } else {
        let items: String = problems
            .iter()
            .map(|p| format!("<li>{}</li>", esc(&html::dutch(p))))
            .collect();
        format!(
            r#"<div class="problems" role="alert" id="activatie-problemen"><p><strong>De koppeling is niet geactiveerd.</strong> Los eerst deze problemen op:</p><ul>{items}</ul></div>"#
        )
    };
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
    let paused_warning = if overview.state == KoppelingState::PausedAuth
        && overview.problem == Some(PauseReason::KeyWithdrawn)
    {
        r#"<p class="error" role="alert" id="sleutel-ingetrokken">De koppelsleutel is ingetrokken in SnelStart. Koppel opnieuw via <a href="/koppelingen/snelstart/instellingen">Instellingen</a> (Koppelen met SnelStart) of vul daar een nieuwe koppelsleutel in; facturen wachten tot dan.</p>"#
    } else if overview.key_unusable {
        r#"<p class="error" role="alert" id="sleutel-onbruikbaar"><strong>Sleutel onbruikbaar:</strong> de opgeslagen koppelsleutel kan niet meer worden ontsleuteld (de master key van deze dienst is gewijzigd). Vul bij <a href="/koppelingen/snelstart/instellingen">Instellingen</a> de koppelsleutel opnieuw in; de koppeling gaat verder zodra de controles slagen.</p>"#
    } else if overview.state == KoppelingState::PausedAuth {
        r#"<p class="error" role="alert">SnelStart weigert de toegang. Vul bij <a href="/koppelingen/snelstart/instellingen">Instellingen</a> een nieuwe koppelsleutel in; de koppeling gaat verder zodra de controles slagen.</p>"#
    } else {
        ""
    };
    // Product §8: a part switched off by a missing scope is shown, booking goes on.
    let features_off = if overview.features.get("documents").map(String::as_str)
        == Some("missing_scope")
    {
        r#"<p class="error" role="status" id="documenten-uit"><strong>Documenten staan uit:</strong> de koppelsleutel mist de rechten <code>documenten:write</code>. Facturen worden wel geboekt, maar zonder PDF of UBL. Sla bij <a href="/koppelingen/snelstart/instellingen">Instellingen</a> een koppelsleutel met die rechten op; de documenten worden daarna alsnog meegestuurd.</p>"#
    } else {
        ""
    };
    let last_sync = overview
        .last_sync_at
        .as_ref()
        .map_or_else(|| "nog niet".to_owned(), html::time);
    let c = &overview.counts;
    let counts = format!(
        r#"<ul class="counts" aria-label="Facturen per status"><li>In wachtrij: <strong>{}</strong></li><li>Bezig: <strong>{}</strong></li><li>Gesynchroniseerd: <strong>{}</strong></li><li>Mislukt: <strong><a href="/facturen?status=failed">{}</a></strong></li><li>Overgeslagen: <strong>{}</strong></li></ul>"#,
        c.queued, c.in_progress, c.synced, c.failed, c.skipped
    );
    let csrf = csrf_field(session);
    let activate = format!(
        r#"<form method="post" action="/koppelingen/snelstart/activeren">{csrf}<button type="submit">{}</button></form>"#,
        if overview.state == KoppelingState::PausedAuth {
            "Opnieuw activeren"
        } else {
            "Activeren"
        }
    );
    let deactivate = format!(
        r#"<form method="post" action="/koppelingen/snelstart/deactiveren">{csrf}<button type="submit" class="secondary">Deactiveren</button></form>"#
    );
    let buttons = match overview.state {
        KoppelingState::Inactive => activate,
        KoppelingState::Active => deactivate,
        KoppelingState::PausedAuth => format!("{activate}{deactivate}"),
    };
    let connection = match overview.connection {
        Some(ConnectionKind::SnelstartLink) => {
            r#"<p id="verbinding">Koppelsleutel: ontvangen via <strong>Koppelen met SnelStart</strong></p>"#
        }
        Some(ConnectionKind::Pasted) => {
            r#"<p id="verbinding">Koppelsleutel: ingevuld bij Instellingen</p>"#
        }
        None => "",
    };
    let not_configured = if overview.settings.is_none() {
        r#"<p class="hint">Nog niet ingesteld: kies <a href="/koppelingen/snelstart/instellingen">Instellingen</a> in het menu.</p>"#
    } else {
        ""
    };
    let body = format!(
        r#"<p class="breadcrumb">Beheer &gt; Koppelingen</p>
<h1>Koppelingen</h1>
<nav class="tabs" aria-label="Tabbladen"><span class="tab current" aria-current="page">Synchronisatie</span></nav>
{flash}{error}{problems}
<section class="tile" aria-labelledby="snelstart-titel" id="snelstart">
<div class="tile-body">
<div class="tile-head"><h2 id="snelstart-titel"><a class="logo" href="/koppelingen/snelstart/instellingen" title="Instellingen van SnelStart">SnelStart</a></h2>
<details class="menu"><summary aria-label="Menu van de SnelStart koppeling">&#9776;</summary>
<ul><li><a href="/koppelingen/snelstart/instellingen">Instellingen</a></li><li><a href="/koppelingen/snelstart/notificatie">Notificatie</a></li></ul></details></div>
<p>De SnelStart koppeling stuurt factuurgegevens, inclusief de debiteurengegevens, automatisch door naar SnelStart.</p>
{not_configured}{paused_warning}{features_off}{connection}
<p>Laatste synchronisatie: <strong>{last_sync}</strong></p>
{counts}
<div class="buttons">{buttons}</div>
</div>
<div class="status-bar {bar_class}" role="status">{bar_text}</div>
</section>"#,
        bar_text = esc(&bar_text),
    );
    html::page(session, Nav::Koppelingen, "Koppelingen", &body)
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

fn input(form: &SettingsForm, name: &str, label: &str, help: &str, kind: &str) -> String {
    let error = form.errors.get(name);
    let describedby = match (error.is_some(), help.is_empty()) {
        (true, _) => format!(r#" aria-describedby="{name}-fout" aria-invalid="true""#),
        (false, false) => format!(r#" aria-describedby="{name}-uitleg""#),
        (false, true) => String::new(),
    };
    let help = if help.is_empty() {
        String::new()
    } else {
        format!(r#"<div class="hint" id="{name}-uitleg">{help}</div>"#)
    };
    let error = error
        .map(|e| {
            format!(
                r#"<div class="error" id="{name}-fout" role="alert">{}</div>"#,
                esc(e)
            )
        })
        .unwrap_or_default();
    let mode = if kind == "text" {
        r#" inputmode="numeric""#
    } else {
        ""
    };
    format!(
        r#"<label for="{name}">{label}</label><input id="{name}" name="{name}" type="{kind}"{mode} value="{value}"{describedby}>{error}{help}"#,
        value = esc(form.value(name)),
    )
}

fn render_settings(
    session: &Session,
    form: &SettingsForm,
    key_set: bool,
    key_unusable: bool,
    link: bool,
) -> String {
    let link = if link {
        format!(
            r#"<section class="stack" aria-labelledby="koppelen-titel"><h2 id="koppelen-titel">Koppelen met SnelStart</h2>
<p class="hint" id="koppelen-uitleg">U gaat naar SnelStart, geeft daar toestemming en komt hier terug; SnelStart stuurt de koppelsleutel dan zelf. U hoeft hieronder geen sleutel te plakken.</p>
<form method="post" action="/koppelingen/snelstart/koppelen">{}<button type="submit" id="koppelen" aria-describedby="koppelen-uitleg">Koppelen met SnelStart</button></form></section>"#,
            csrf_field(session)
        )
    } else {
        String::new()
    };
    let general = if form.general.is_empty() {
        String::new()
    } else {
        let items: String = form
            .general
            .iter()
            .map(|g| format!("<li>{}</li>", esc(g)))
            .collect();
        format!(r#"<div class="problems" role="alert"><ul>{items}</ul></div>"#)
    };
    let key_help = if key_unusable {
        "Plak de koppelsleutel opnieuw (of genereer een nieuwe op web.snelstart.nl): de opgeslagen sleutel is onbruikbaar."
    } else if key_set {
        "Er is een sleutel ingesteld. Laat dit veld leeg om die te houden, of plak een nieuwe sleutel."
    } else {
        "Genereer de sleutel op web.snelstart.nl en kopieer hem hierheen."
    };
    let key_error = form.errors.get("key");
    let key_attrs = if key_error.is_some() {
        r#" aria-describedby="key-fout" aria-invalid="true""#
    } else {
        r#" aria-describedby="key-uitleg""#
    };
    let key_error = key_error
        .map(|e| {
            format!(
                r#"<div class="error" id="key-fout" role="alert">{}</div>"#,
                esc(e)
            )
        })
        .unwrap_or_default();
    let key_status = if key_unusable {
        r#"<p class="error" id="sleutel-status" role="alert">Sleutel onbruikbaar: de opgeslagen koppelsleutel kan niet meer worden ontsleuteld. Vul hem opnieuw in.</p>"#
    } else if key_set {
        r#"<p class="notice" id="sleutel-status">Er is een sleutel ingesteld.</p>"#
    } else {
        r#"<p class="hint" id="sleutel-status">Er is nog geen sleutel ingesteld.</p>"#
    };
    let body = format!(
        r#"<p class="breadcrumb">Beheer &gt; Koppelingen &gt; SnelStart</p>
<h1>Instellingen</h1>
{general}{link}
<form class="stack" method="post" action="/koppelingen/snelstart/instellingen" novalidate>
{csrf}
<fieldset><legend>BTW codes</legend>
<p class="hint">De aangegeven BTW codes zijn de codes van SnelStart en moeten aanwezig zijn in SnelStart. Andere BTW codes dan 12, 11 en 10 zijn niet mogelijk.</p>
{vat_high}{vat_low}{vat_zero}
</fieldset>
{journal}
<label for="key">Sleutel</label>
{key_status}
<input id="key" name="key" type="password" autocomplete="off" value=""{key_attrs}>{key_error}
<div class="hint" id="key-uitleg">{key_help}</div>
<fieldset><legend>Optioneel</legend>
{start}
{ledger_high}{ledger_low}{ledger_zero}
</fieldset>
<div class="buttons"><button type="submit">Opslaan</button><a class="button secondary" href="/koppelingen">Annuleren</a></div>
</form>"#,
        csrf = csrf_field(session),
        vat_high = input(
            form,
            "vat_high",
            "BTW code omzet hoog",
            "12 = omzet hoog (21%)",
            "text"
        ),
        vat_low = input(
            form,
            "vat_low",
            "BTW code omzet laag",
            "11 = omzet laag (9%)",
            "text"
        ),
        vat_zero = input(
            form,
            "vat_zero",
            "BTW code omzet onbelast/verlegd",
            "10 = omzet onbelast of verlegd (0%)",
            "text"
        ),
        journal = input(
            form,
            "sales_journal_code",
            "Verkoopboek code",
            "In Radar360 bekend als de debiteuren rekening; meestal 1300.",
            "text"
        ),
        start = input(
            form,
            "start_date",
            "Startdatum",
            "Facturen met een eerdere factuurdatum worden nooit verstuurd. Leeg = alle facturen.",
            "date"
        ),
        ledger_high = input(
            form,
            "ledger_high",
            "Omzetgrootboek hoog",
            "Leeg = het laagste actieve grootboek met functie 12.",
            "text"
        ),
        ledger_low = input(
            form,
            "ledger_low",
            "Omzetgrootboek laag",
            "Leeg = het laagste actieve grootboek met functie 11.",
            "text"
        ),
        ledger_zero = input(
            form,
            "ledger_zero",
            "Omzetgrootboek onbelast/verlegd",
            "Leeg = het laagste actieve grootboek met functie 10.",
            "text"
        ),
    );
    html::page(session, Nav::Koppelingen, "Instellingen", &body)
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

fn render_notify(
    session: &Session,
    admins: &[koppeling_domain::ports::Admin],
    chosen: Option<&str>,
    error: Option<&str>,
) -> String {
    let options: String = admins
        .iter()
        .map(|a| {
            let selected = if chosen == Some(a.id.as_str()) {
                " selected"
            } else {
                ""
            };
            let you = if a.id == session.admin_id {
                " — uzelf"
            } else {
                ""
            };
            format!(
                r#"<option value="{id}"{selected}>{name} ({email}){you}</option>"#,
                id = esc(a.id.as_str()),
                name = esc(&a.name),
                email = esc(&a.email),
            )
        })
        .collect();
    let none_selected = if chosen.is_none() { " selected" } else { "" };
    let error_attrs = if error.is_some() {
        r#" aria-describedby="notify_admin_id-fout" aria-invalid="true""#
    } else {
        r#" aria-describedby="notify_admin_id-uitleg""#
    };
    let error = error
        .map(|e| {
            format!(
                r#"<div class="error" id="notify_admin_id-fout" role="alert">{}</div>"#,
                esc(e)
            )
        })
        .unwrap_or_default();
    let body = format!(
        r#"<p class="breadcrumb">Beheer &gt; Koppelingen &gt; SnelStart</p>
<h1>Notificatie</h1>
<form class="stack" method="post" action="/koppelingen/snelstart/notificatie">
{csrf}
<label for="notify_admin_id">Beheerder die een notificatie ontvangt</label>
<select id="notify_admin_id" name="notify_admin_id"{error_attrs}>
<option value=""{none_selected}>Geen Beheerder</option>{options}
</select>{error}
<div class="hint" id="notify_admin_id-uitleg">Deze Beheerder krijgt een e-mail als er een fout optreedt tijdens het synchroniseren.</div>
<div class="buttons"><button type="submit">Opslaan</button><a class="button secondary" href="/koppelingen">Annuleren</a></div>
</form>"#,
        csrf = csrf_field(session),
    );
    html::page(session, Nav::Koppelingen, "Notificatie", &body)
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
