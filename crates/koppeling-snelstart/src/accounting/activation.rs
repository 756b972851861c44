//! The activation checks: the key yields a token, the revenue ledgers 12/11/10 and the sales journal exist and are usable.

use std::time::Duration;

use koppeling_domain::koppeling::{Connection, KoppelingSettings};
use koppeling_domain::ports::{AccountingError, Credential};
use koppeling_domain::problem::{Band, Problem, Rule};

use super::classify::{Op, classify};
use super::{SnelStartAccounting, target};
use crate::client::CallError;
use crate::client::wire::{Dagboek, DagboekSoort, Grootboek, Grootboekfunctie};

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
            Band::High,
            settings.vat_codes.high,
            settings.revenue_ledgers.high,
        ),
        (
            Band::Low,
            settings.vat_codes.low,
            settings.revenue_ledgers.low,
        ),
        (
            Band::Zero,
            settings.vat_codes.zero,
            settings.revenue_ledgers.zero,
        ),
    ];
    for (band, code, number) in ledger_settings {
        problems.extend(check_ledger(&ledgers, band, code, number));
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
        } if scope => Ok(vec![Problem::new("key", Rule::KeyScopeMissing)]),
        AccountingError::Auth {
            credential: Credential::ConnectionKey,
            ..
        } => Ok(vec![Problem::new("key", Rule::KeyRefused)]),
        other => Err(other),
    }
}

/// Checks the revenue ledger of one band.
pub(crate) fn check_ledger(
    ledgers: &[Grootboek],
    band: Band,
    code: u8,
    number: Option<i32>,
) -> Option<Problem> {
    let class = band.key();
    let Some(function) = Grootboekfunctie::revenue(code) else {
        return Some(Problem::new(
            format!("vat_codes.{class}"),
            Rule::UnknownVatCode { band, code },
        ));
    };
    if let Some(number) = number {
        let field = format!("revenue_ledgers.{class}");
        let Some(ledger) = ledgers.iter().find(|g| g.nummer == Some(number)) else {
            return Some(Problem::new(field, Rule::LedgerMissing { band, number }));
        };
        if !ledger.is_active() {
            return Some(Problem::new(field, Rule::LedgerInactive { band, number }));
        }
        if ledger.grootboekfunctie != Some(function) {
            let actual = ledger.grootboekfunctie.map(|f| f.as_str().to_owned());
            return Some(Problem::new(
                field,
                Rule::LedgerWrongFunction {
                    band,
                    number,
                    actual,
                },
            ));
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
    if let Some(number) = with_function.iter().filter_map(|g| g.nummer).min() {
        return Some(Problem::new(
            field,
            Rule::NoActiveLedgerWithFunction { band, number },
        ));
    }
    Some(Problem::new(field, Rule::NoLedgerWithFunction { band }))
}

/// Checks the sales journal (`/dagboeken` ignores `$filter`, so the list is searched here).
pub(crate) fn check_journal(dagboeken: &[Dagboek], number: i32) -> Option<Problem> {
    let Some(journal) = dagboeken.iter().find(|d| d.nummer == Some(number)) else {
        return Some(Problem::new(
            "sales_journal_code",
            Rule::JournalMissing { number },
        ));
    };
    if journal.soort != Some(DagboekSoort::Verkoop) {
        let soort = journal.soort.map(|s| s.as_str().to_owned());
        return Some(Problem::new(
            "sales_journal_code",
            Rule::JournalNotSales { number, soort },
        ));
    }
    if journal.nonactief == Some(true) {
        return Some(Problem::new(
            "sales_journal_code",
            Rule::JournalInactive { number },
        ));
    }
    None
}
