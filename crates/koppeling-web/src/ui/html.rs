//! HTML building blocks of the admin UI: the templates' HTML escaper, the page shell the
//! templates in `templates/` extend, Dutch labels and formats.

use std::fmt::{self, Write as _};

use askama::Template;

use chrono::{DateTime, NaiveDate, Utc};
use koppeling_domain::money::VatClass;
use koppeling_domain::ports::{ErrorClass, SyncStatus};
use koppeling_domain::problem::Problem;
use koppeling_domain::relation::RelationKind;
use rust_decimal::Decimal;

use super::session::Session;

/// The UI's HTML escaper for the templates: `askama.toml` makes it the escaper of every
/// `{{ … }}` in the `.html` templates. It writes what the workspace's one escaper
/// (`koppeling_domain::text::escape_html`) writes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Escape;

impl askama::filters::Escaper for Escape {
    fn write_escaped_str<W: fmt::Write>(&self, mut dest: W, text: &str) -> fmt::Result {
        dest.write_str(&koppeling_domain::text::escape_html(text))
    }
}

/// Percent-encodes a query or path component.
pub(crate) fn url(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

const CSS: &str = r#"
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2733;background:#f4f6f9}
header{display:flex;justify-content:space-between;align-items:center;gap:1rem;padding:.5rem 1.5rem;background:#1f3a5f;color:#fff;flex-wrap:wrap}
header a{color:#fff;text-decoration:none;padding:.35rem .6rem;border-radius:4px}
header a[aria-current=page],header a:hover{background:rgba(255,255,255,.18)}
header .brand{font-weight:700;margin-right:1rem}
header form{display:inline}
header button{background:transparent;color:#fff;border:1px solid rgba(255,255,255,.5)}
main{max-width:72rem;margin:0 auto;padding:1rem 1.5rem 3rem}
.breadcrumb{color:#5b6b7c;margin:.5rem 0 0}
h1{margin:.2rem 0 1rem;font-size:1.6rem}
h2{font-size:1.2rem;margin:1.5rem 0 .5rem}
.tile h2{margin:0}
.problems,.notice{margin:0 0 1rem}
td.nowrap{white-space:nowrap}
td.reason{min-width:12rem;max-width:22rem;overflow-wrap:anywhere}
td button{white-space:nowrap}
.clip{display:-webkit-box;-webkit-box-orient:vertical;-webkit-line-clamp:3;overflow:hidden}
a{color:#1f5fa8}
.tabs{display:flex;gap:.25rem;border-bottom:2px solid #d5dbe3;margin-bottom:1rem}
.tab{padding:.4rem .9rem;border:1px solid transparent;border-bottom:none}
.tab.current{border-color:#d5dbe3;background:#fff;border-radius:4px 4px 0 0;font-weight:600;margin-bottom:-2px;border-bottom:2px solid #fff}
.tile{background:#fff;border:1px solid #d5dbe3;border-radius:6px;max-width:26rem;overflow:hidden}
.tile-body{padding:1rem}
.tile-head{display:flex;justify-content:space-between;align-items:center}
.logo{font-size:1.4rem;font-weight:800;color:#e4002b;text-decoration:none}
details.menu{position:relative}
details.menu summary{list-style:none;cursor:pointer;font-size:1.3rem;padding:0 .4rem}
details.menu summary::-webkit-details-marker{display:none}
details.menu ul{position:absolute;right:0;margin:0;padding:.3rem 0;list-style:none;background:#fff;border:1px solid #d5dbe3;border-radius:4px;min-width:10rem;box-shadow:0 2px 6px rgba(0,0,0,.12);z-index:1}
details.menu li a{display:block;padding:.3rem .8rem;text-decoration:none}
.status-bar{padding:.45rem 1rem;font-weight:600}
.status-bar.active{background:#2e9d4f;color:#fff}
.status-bar.paused{background:#f5a623;color:#1d2733}
.status-bar.inactive{background:#e6e9ee;color:#5b6b7c}
.counts{display:flex;flex-wrap:wrap;gap:.3rem .9rem;margin:.5rem 0;padding:0;list-style:none;font-size:.9rem}
.buttons{display:flex;gap:.5rem;margin-top:.8rem}
button,.button{font:inherit;padding:.35rem .9rem;border-radius:4px;border:1px solid #1f5fa8;background:#1f5fa8;color:#fff;cursor:pointer;text-decoration:none;display:inline-block}
button.secondary,.button.secondary{background:#fff;color:#1f5fa8}
table{border-collapse:collapse;width:100%;background:#fff;border:1px solid #d5dbe3}
th,td{text-align:left;padding:.4rem .6rem;border-bottom:1px solid #e6e9ee;vertical-align:top}
th{background:#eef1f5;font-weight:600}
td.num,th.num{text-align:right;white-space:nowrap}
.error,.problems{color:#b00020}
.problems{background:#fdecee;border:1px solid #f3b7bf;border-radius:6px;padding:.6rem 1rem .6rem 2rem}
.notice{background:#e8f5ec;border:1px solid #a8d8b5;border-radius:6px;padding:.6rem 1rem}
.hint{color:#5b6b7c;font-size:.9rem}
form.stack{background:#fff;border:1px solid #d5dbe3;border-radius:6px;padding:1rem 1.2rem;max-width:40rem}
form.stack label{display:block;font-weight:600;margin-top:.8rem}
form.stack input,form.stack select{font:inherit;padding:.3rem .5rem;border:1px solid #b8c2cf;border-radius:4px;width:100%;max-width:22rem}
form.stack input[aria-invalid=true]{border-color:#b00020}
fieldset{border:1px solid #d5dbe3;border-radius:6px;margin:.8rem 0 0;padding:.3rem 1rem .8rem}
form.inline{display:inline-flex;gap:.5rem;align-items:center;margin:0}
form.filter{display:flex;gap:.5rem;align-items:end;margin-bottom:1rem;flex-wrap:wrap}
form.filter input,form.filter select{font:inherit;padding:.3rem .5rem}
.badge{display:inline-block;padding:0 .45rem;border-radius:999px;font-size:.85rem;background:#e6e9ee}
.badge.synced{background:#d6f0de}.badge.failed{background:#fbd5da}.badge.queued,.badge.in_progress{background:#dde9fb}.badge.skipped{background:#fff0cc}
pre{white-space:pre-wrap;background:#fff;border:1px solid #d5dbe3;border-radius:6px;padding:.8rem}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;background:#fff;border:1px solid #d5dbe3;border-radius:6px;padding:.8rem 1rem}
dl.facts dt{font-weight:600}dl.facts dd{margin:0}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.login{max-width:24rem;margin:4rem auto}
.card{background:#fff;border:1px solid #d5dbe3;border-radius:6px;margin-bottom:1rem;padding:1rem}
.card h2{margin-top:0}
"#;

/// Which menu item a page belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Nav {
    Koppelingen,
    Relaties,
    Facturen,
    Notificaties,
    Synclog,
    Aansluiting,
}

/// The frame of a page for a logged-in Beheerder (`templates/layout.html`): its title, the
/// menu item it belongs to, and the session (name and administratie in the header, the CSRF
/// token of every form). Every screen's template has it as its `shell` field.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shell<'a> {
    pub(crate) title: &'a str,
    pub(crate) session: &'a Session,
    pub(crate) nav: Nav,
}

/// One link of the main menu.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MenuItem {
    pub(crate) href: &'static str,
    pub(crate) label: &'static str,
    pub(crate) current: bool,
}

const MENU: [(&str, &str, Nav); 6] = [
    ("/koppelingen", "Koppelingen", Nav::Koppelingen),
    ("/relaties", "Relaties", Nav::Relaties),
    ("/facturen", "Facturen", Nav::Facturen),
    ("/notificaties", "Notificaties", Nav::Notificaties),
    ("/synclog", "Synclog", Nav::Synclog),
    ("/aansluiting", "Aansluiting", Nav::Aansluiting),
];

impl<'a> Shell<'a> {
    pub(crate) fn new(session: &'a Session, nav: Nav, title: &'a str) -> Self {
        Self {
            title,
            session,
            nav,
        }
    }

    /// The style sheet (a constant).
    pub(crate) fn css(&self) -> &'static str {
        CSS
    }

    /// The main menu, the page's own item marked.
    pub(crate) fn menu(&self) -> impl Iterator<Item = MenuItem> + use<> {
        let nav = self.nav;
        MENU.into_iter().map(move |(href, label, item)| MenuItem {
            href,
            label,
            current: item == nav,
        })
    }
}

/// The frame of a page without a session (log-in, unknown path): only a title.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bare<'a> {
    pub(crate) title: &'a str,
}

impl Bare<'_> {
    /// The style sheet (a constant).
    pub(crate) fn css(&self) -> &'static str {
        CSS
    }
}

/// A template rendered. Rendering into a `String` fails only when a value's `Display` fails,
/// which none of ours does; should it ever, the failure is logged and the page says so.
pub(crate) fn render(template: &impl Template) -> String {
    template.render().unwrap_or_else(|error| {
        tracing::error!(error = %error, "rendering a page failed");
        "Er ging iets mis bij het tonen van deze pagina; de fout is vastgelegd.".to_owned()
    })
}

/// Dutch local time with its zone: `27-11-2026 13:00 CET` (`… CEST` in summer). A
/// Beheerder reads times on the office clock, not in UTC.
pub(crate) fn time(at: &DateTime<Utc>) -> String {
    at.with_timezone(&chrono_tz::Europe::Amsterdam)
        .format("%d-%m-%Y %H:%M %Z")
        .to_string()
}

/// Whether `text` starts with a GUID (`8-4-4-4-12` hex digits).
fn guid_at(text: &[u8]) -> bool {
    text.len() >= 36
        && text[..36].iter().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// `text` with every GUID cut to its first 8 digits and `…`: lists show no full GUIDs
/// (issue 15); the full text is in the cell's title and on the detail page.
pub(crate) fn short_guids(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut copied = 0;
    while i < bytes.len() {
        let boundary = i == 0 || !bytes[i - 1].is_ascii_alphanumeric();
        if boundary
            && guid_at(&bytes[i..])
            && bytes.get(i + 36).is_none_or(|b| !b.is_ascii_alphanumeric())
        {
            out.push_str(&text[copied..i + 8]);
            out.push('…');
            i += 36;
            copied = i;
        } else {
            i += 1;
        }
    }
    out.push_str(&text[copied..]);
    out
}

/// The time of day on the Dutch clock with its zone: `13:00 CET`.
pub(crate) fn clock(at: &DateTime<Utc>) -> String {
    at.with_timezone(&chrono_tz::Europe::Amsterdam)
        .format("%H:%M %Z")
        .to_string()
}

/// `27-11-2026`.
pub(crate) fn date(day: &NaiveDate) -> String {
    day.format("%d-%m-%Y").to_string()
}

/// `€ 1.234,50`.
pub(crate) fn euro(amount: Decimal) -> String {
    dutch_euro(&koppeling_domain::money::format_cents(amount))
}

/// A unit price exactly as held, e.g. `€ 0,1234`.
pub(crate) fn euro_exact(amount: Decimal) -> String {
    dutch_euro(&crate::dto::exact(amount))
}

fn dutch_euro(text: &str) -> String {
    let (sign, digits) = match text.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", text),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, "00"));
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push('.');
        }
        grouped.push(c);
    }
    format!("€ {sign}{grouped},{frac}")
}

/// The Dutch name of a sync status.
pub(crate) fn status_label(status: SyncStatus) -> &'static str {
    match status {
        SyncStatus::Queued => "In wachtrij",
        SyncStatus::InProgress => "Bezig",
        SyncStatus::Synced => "Gesynchroniseerd",
        SyncStatus::Failed => "Mislukt",
        SyncStatus::Skipped => "Overgeslagen",
    }
}

/// A coloured status label (`invoice_macros.html`'s `badge`): `class` picks the colour.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Badge {
    pub(crate) class: Option<&'static str>,
    pub(crate) label: &'static str,
}

/// The badge of a sync status; `None`: not offered to SnelStart.
pub(crate) fn status_badge(status: Option<SyncStatus>) -> Badge {
    match status {
        Some(s) => Badge {
            class: Some(s.as_str()),
            label: status_label(s),
        },
        None => Badge {
            class: None,
            label: "Niet aangeboden",
        },
    }
}

/// The Dutch name of a VAT class.
pub(crate) fn vat_label(class: VatClass) -> &'static str {
    match class {
        VatClass::High => "hoog",
        VatClass::Low => "laag",
        VatClass::Zero => "nul",
        VatClass::ReverseCharge => "verlegd",
    }
}

/// Bedrijf or Persoon.
pub(crate) fn kind_label(kind: RelationKind) -> &'static str {
    match kind {
        RelationKind::Company => "Bedrijf",
        RelationKind::Person => "Persoon",
    }
}

/// The Dutch name of an error class.
pub(crate) fn class_label(class: Option<ErrorClass>) -> &'static str {
    match class {
        Some(ErrorClass::Transient) => "tijdelijk",
        Some(ErrorClass::Data) => "gegevens",
        Some(ErrorClass::Auth) => "toegang",
        None => "",
    }
}

/// The Dutch name of an attempt's outcome.
pub(crate) fn outcome_label(outcome: &str) -> &str {
    match outcome {
        "synced" => "gesynchroniseerd",
        "failed" => "mislukt",
        "skipped" => "overgeslagen",
        "retry" => "opnieuw proberen",
        other => other,
    }
}

/// A problem in Dutch: the domain's Dutch renderer ([`Problem::dutch`]).
pub(crate) fn dutch(problem: &Problem) -> String {
    problem.dutch()
}

pub(crate) use crate::error::capitalize;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_escaped() {
        let mut escaped = String::new();
        askama::filters::Escaper::write_escaped_str(
            &Escape,
            &mut escaped,
            r#"<a href="x">'&'</a>"#,
        )
        .unwrap();
        assert_eq!(
            escaped,
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(url("a b/ç"), "a%20b%2F%C3%A7");
    }

    #[test]
    fn times_are_on_the_dutch_clock_with_their_zone() {
        use chrono::TimeZone;
        let winter = Utc.with_ymd_and_hms(2026, 11, 27, 12, 0, 0).unwrap();
        assert_eq!(time(&winter), "27-11-2026 13:00 CET");
        let summer = Utc.with_ymd_and_hms(2026, 7, 1, 22, 30, 0).unwrap();
        assert_eq!(time(&summer), "02-07-2026 00:30 CEST");
    }

    #[test]
    fn lists_show_no_full_guids() {
        assert_eq!(
            short_guids("grootboek 0f8fad5b-d9cb-469f-a165-70867728950e is inactief"),
            "grootboek 0f8fad5b… is inactief"
        );
        assert_eq!(
            short_guids("(0F8FAD5B-D9CB-469F-A165-70867728950E)"),
            "(0F8FAD5B…)"
        );
        // Not a GUID: too short, or part of a longer word.
        assert_eq!(short_guids("F-2026-001"), "F-2026-001");
        assert_eq!(
            short_guids("x0f8fad5b-d9cb-469f-a165-70867728950e"),
            "x0f8fad5b-d9cb-469f-a165-70867728950e"
        );
        assert_eq!(short_guids("één € 1,00"), "één € 1,00");
    }

    #[test]
    fn euros_are_dutch() {
        assert_eq!(euro(Decimal::new(123_450, 2)), "€ 1.234,50");
        assert_eq!(euro(Decimal::new(-5, 1)), "€ -0,50");
        assert_eq!(euro(Decimal::new(1_000_000, 0)), "€ 1.000.000,00");
        assert_eq!(euro_exact(Decimal::new(1234, 4)), "€ 0,1234");
    }

    #[test]
    fn problems_read_in_dutch() {
        use koppeling_domain::problem::{Band, Rule};
        let p = Problem::new("code", Rule::CodeNotNumeric { code: "A1".into() });
        assert!(
            dutch(&p).contains("relatiecodes met letters worden niet geaccepteerd door SnelStart")
        );
        let p = Problem::new(
            "vat_codes.low",
            Rule::WrongVatCode {
                band: Band::Low,
                got: 12,
            },
        );
        assert!(dutch(&p).contains("omzet laag moet 11"));
    }
}
