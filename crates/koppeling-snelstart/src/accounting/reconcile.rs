//! Reconciliation and preview (product §8.3): the ledgers' roles, and SnelStart's listings
//! mapped to the domain's types. A row the domain cannot use (no number, no amount) is left
//! out rather than guessed.

use std::collections::HashMap;

use koppeling_domain::booking::RevenueLedger;
use koppeling_domain::koppeling::KoppelingSettings;
use koppeling_domain::money::VatClass;
use koppeling_domain::reconciliation::{LedgerRole, Listed, Mutation, ReportClass};

use crate::client::wire::{
    BtwSoort, Grootboek, Grootboekfunctie, Grootboekmutatie, Verkoopfactuur,
};

use super::resolve_ledger;

/// The koppeling's revenue ledgers (resolved as a booking resolves them) and the VAT ledgers:
/// grootboekfunctie `BtwAfTeDragenHoog`/`BtwAfteDragenLaag`, or a balance ledger that is not a
/// revenue ledger and whose `btwSoort` is exactly Hoog or Laag.
pub(super) fn ledger_roles(
    ledgers: &[Grootboek],
    settings: &KoppelingSettings,
) -> HashMap<String, LedgerRole> {
    let mut roles = HashMap::new();
    for class in [VatClass::High, VatClass::Low, VatClass::Zero] {
        let wanted = RevenueLedger {
            function: class.ledger_function(),
            number: settings.revenue_ledgers.for_class(class),
        };
        if let Ok(id) = resolve_ledger(ledgers, wanted) {
            roles.insert(id, LedgerRole::Revenue(class.into()));
        }
    }
    for g in ledgers {
        let Some(id) = g.id.clone() else { continue };
        if roles.contains_key(&id) {
            continue;
        }
        let by_function = match g.grootboekfunctie {
            Some(Grootboekfunctie::BtwAfTeDragenHoog) => Some(ReportClass::High),
            Some(Grootboekfunctie::BtwAfteDragenLaag) => Some(ReportClass::Low),
            _ => None,
        };
        let by_soort = match g.btw_soort.as_deref() {
            Some([BtwSoort::Hoog]) if g.rekening_code.as_deref() == Some("Balans") => {
                Some(ReportClass::High)
            }
            Some([BtwSoort::Laag]) if g.rekening_code.as_deref() == Some("Balans") => {
                Some(ReportClass::Low)
            }
            _ => None,
        };
        if let Some(class) = by_function.or(by_soort) {
            roles.insert(id, LedgerRole::Vat(class));
        }
    }
    roles
}

pub(super) fn listed(f: Verkoopfactuur) -> Option<Listed> {
    Some(Listed {
        booking_id: f.verkoop_boeking.and_then(|r| r.id),
        number: f.factuurnummer?,
        date: f
            .factuur_datum
            .as_deref()
            .and_then(super::readback::parse_day),
        gross: f.factuur_bedrag?.0,
        relatie_id: f.relatie.and_then(|r| r.id),
    })
}

pub(super) fn mutation(m: Grootboekmutatie) -> Option<Mutation> {
    Some(Mutation {
        ledger_id: m.grootboek?.id?,
        invoice_number: m.factuur_nummer,
        debet: m.debet.map(|a| a.0).unwrap_or_default(),
        credit: m.credit.map(|a| a.0).unwrap_or_default(),
    })
}
