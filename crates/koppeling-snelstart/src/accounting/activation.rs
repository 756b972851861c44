//! The activation checks: the key yields a token, the revenue ledgers 12/11/10 and the sales journal exist and are usable.

use std::time::Duration;

use koppeling_domain::koppeling::{Connection, KoppelingSettings};
use koppeling_domain::ports::{AccountingError, Credential};
use koppeling_domain::problem::Problem;

use super::classify::{Op, classify};
use super::{SnelStartAccounting, target};
use crate::client::CallError;
use crate::client::wire::{Dagboek, DagboekSoort, Grootboek, Grootboekfunctie};

/// The Dutch message of a refused koppelsleutel.
pub(crate) const KEY_REFUSED: &str = "De koppelsleutel wordt door SnelStart geweigerd; genereer een nieuwe sleutel op web.snelstart.nl en vul die in bij Instellingen";

/// Runs every check; see [`koppeling_domain::ports::Accounting::check_activation`].
pub(crate) async fn check(
    accounting: &SnelStartAccounting,
    conn: &Connection,
    settings: &KoppelingSettings,
) -> Result<Vec<Problem>, AccountingError> {
    let client = &accounting.inner.client;
    if let Err(e) = client.ensure_token(conn.key.expose()).await {
        return key_problem(e);
    }
    // Fresh ledgers (this also refreshes the cache the bookings use).
    let ledgers = match accounting.ledgers(conn, Duration::ZERO).await {
        Ok((ledgers, _)) => ledgers,
        Err(e) => return key_problem(e),
    };
    let dagboeken = match client.dagboeken(&target(conn)).await {
        Ok(d) => d,
        Err(e) => return key_problem(e),
    };
    let mut problems = Vec::new();
    let ledger_settings = [
        (
            "high",
            settings.vat_codes.high,
            settings.revenue_ledgers.high,
            "omzet hoog",
        ),
        (
            "low",
            settings.vat_codes.low,
            settings.revenue_ledgers.low,
            "omzet laag",
        ),
        (
            "zero",
            settings.vat_codes.zero,
            settings.revenue_ledgers.zero,
            "omzet onbelast/verlegd",
        ),
    ];
    for (class, code, number, meaning) in ledger_settings {
        problems.extend(check_ledger(&ledgers, class, code, number, meaning));
    }
    problems.extend(check_journal(&dagboeken, settings.sales_journal_code));
    Ok(problems)
}

/// A failure while checking: a refused key is a problem, anything else is an error.
fn key_problem(e: CallError) -> Result<Vec<Problem>, AccountingError> {
    let scope = matches!(&e, CallError::Api(api) if api.status == 403 && api.retry_after.is_none());
    match classify(e, Op::Read) {
        AccountingError::Auth {
            credential: Credential::ConnectionKey,
            ..
        } if scope => Ok(vec![
            Problem::new(
                "key",
                "key_scope_missing",
                "De koppelsleutel geeft SnelStart geen toegang tot de boekhouding (ontbrekende rechten); koppel de administratie opnieuw op web.snelstart.nl en vul de nieuwe sleutel in bij Instellingen",
            )
            .with_hint("genereer een nieuwe koppelsleutel op web.snelstart.nl met toegang tot boekhouden en relaties"),
        ]),
        AccountingError::Auth {
            credential: Credential::ConnectionKey,
            ..
        } => Ok(vec![
            Problem::new("key", "key_refused", KEY_REFUSED)
                .with_hint("genereer een nieuwe koppelsleutel op web.snelstart.nl"),
        ]),
        other => Err(other),
    }
}

fn function_label(function: Grootboekfunctie) -> String {
    match function {
        Grootboekfunctie::Unknown => "onbekend".to_owned(),
        f => f.as_str().to_owned(),
    }
}

/// Checks the revenue ledger of one VAT class.
pub(crate) fn check_ledger(
    ledgers: &[Grootboek],
    class: &str,
    code: u8,
    number: Option<i32>,
    meaning: &str,
) -> Option<Problem> {
    let Some(function) = Grootboekfunctie::revenue(code) else {
        return Some(Problem::new(
            format!("vat_codes.{class}"),
            "invalid_vat_code",
            format!(
                "BTW code {code} voor {meaning} bestaat niet in SnelStart; gebruik 12 (omzet hoog), 11 (omzet laag) of 10 (omzet onbelast/verlegd) bij Instellingen"
            ),
        ));
    };
    if let Some(number) = number {
        let field = format!("revenue_ledgers.{class}");
        let Some(ledger) = ledgers.iter().find(|g| g.nummer == Some(number)) else {
            return Some(
                Problem::new(
                    field,
                    "ledger_missing",
                    format!("Grootboek {number} (ingesteld voor {meaning}, BTW code {code}) bestaat niet in SnelStart; maak het aan in SnelStart of kies bij Instellingen een ander omzetgrootboek"),
                )
                .with_hint(format!("maak grootboek {number} aan in SnelStart of wijzig het omzetgrootboek voor {meaning}")),
            );
        };
        if !ledger.is_active() {
            return Some(
                Problem::new(
                    field,
                    "ledger_inactive",
                    format!("Grootboek {number} (ingesteld voor {meaning}, BTW code {code}) staat in SnelStart op non-actief; zet het in SnelStart op actief of kies bij Instellingen een ander omzetgrootboek"),
                )
                .with_hint(format!("zet grootboek {number} in SnelStart weer op actief")),
            );
        }
        if ledger.grootboekfunctie != Some(function) {
            let actual = ledger
                .grootboekfunctie
                .map_or_else(|| "geen".to_owned(), function_label);
            return Some(
                Problem::new(
                    field,
                    "ledger_wrong_function",
                    format!("Grootboek {number} heeft in SnelStart de grootboekfunctie {actual}, niet {code} ({function}) voor {meaning}; geef het in SnelStart die functie of kies bij Instellingen een ander omzetgrootboek"),
                )
                .with_hint(format!("kies een omzetgrootboek met grootboekfunctie {code} ({function})")),
            );
        }
        return None;
    }
    let field = format!("vat_codes.{class}");
    let with_function: Vec<&Grootboek> = ledgers
        .iter()
        .filter(|g| g.grootboekfunctie == Some(function))
        .collect();
    if with_function.iter().any(|g| g.is_active()) {
        return None;
    }
    if let Some(inactive) = with_function.iter().filter_map(|g| g.nummer).min() {
        return Some(
            Problem::new(
                field,
                "ledger_inactive",
                format!("SnelStart heeft geen actief grootboek met grootboekfunctie {code} ({function}) voor {meaning}; grootboek {inactive} heeft die functie maar staat op non-actief. Zet het in SnelStart op actief of vul bij Instellingen een ander omzetgrootboek in"),
            )
            .with_hint(format!("zet grootboek {inactive} in SnelStart weer op actief")),
        );
    }
    Some(
        Problem::new(
            field,
            "ledger_missing",
            format!("SnelStart heeft geen grootboek met grootboekfunctie {code} ({function}) voor {meaning}; maak er een aan in SnelStart of vul bij Instellingen het nummer van het omzetgrootboek in"),
        )
        .with_hint(format!("maak in SnelStart een omzetgrootboek met grootboekfunctie {code} aan")),
    )
}

/// Checks the sales journal (`/dagboeken` ignores `$filter`, so the list is searched here).
pub(crate) fn check_journal(dagboeken: &[Dagboek], number: i32) -> Option<Problem> {
    let Some(journal) = dagboeken.iter().find(|d| d.nummer == Some(number)) else {
        return Some(
            Problem::new(
                "sales_journal_code",
                "journal_missing",
                format!("Dagboek {number} (Verkoopboek code) bestaat niet in SnelStart; vul bij Instellingen het nummer van het verkoopdagboek in (meestal 1300)"),
            )
            .with_hint("vul het nummer van het verkoopdagboek in, meestal 1300"),
        );
    };
    if journal.soort != Some(DagboekSoort::Verkoop) {
        let soort = journal
            .soort
            .map_or_else(|| "onbekend".to_owned(), |s| s.as_str().to_owned());
        return Some(
            Problem::new(
                "sales_journal_code",
                "journal_not_sales",
                format!("Dagboek {number} is in SnelStart een dagboek van soort {soort}, geen verkoopdagboek; vul bij Instellingen het nummer van een verkoopdagboek in (meestal 1300)"),
            )
            .with_hint("kies een dagboek van soort Verkoop"),
        );
    }
    if journal.nonactief == Some(true) {
        return Some(
            Problem::new(
                "sales_journal_code",
                "journal_inactive",
                format!("Dagboek {number} staat in SnelStart op non-actief; zet het in SnelStart op actief of vul bij Instellingen een ander verkoopdagboek in"),
            )
            .with_hint(format!("zet dagboek {number} in SnelStart weer op actief")),
        );
    }
    None
}
