//! Mapping SnelStart's read-back answers (verkoopfacturen, bank and cash bookings, a
//! verkoopboeking in full) to the domain's read-back types. A row the domain cannot use (no
//! id, no `modifiedOn`, an amount that is not a number) is left out rather than guessed.

use chrono::{NaiveDate, NaiveDateTime};
use koppeling_domain::booking::VatRowKind;
use koppeling_domain::readback::{RemoteBookingDetail, RemoteInvoice, RemotePayment};

use crate::client::CallError;
use crate::client::wire::{Betaling, BtwRegelSoort, Verkoopboeking, Verkoopfactuur};

/// `yyyy-MM-ddTHH:mm:ss.fff`, as SnelStart prints `modifiedOn` (and reads it in a filter).
pub(super) fn stamp(at: NaiveDateTime) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.3f").to_string()
}

/// SnelStart's naive date-times: `yyyy-MM-ddTHH:mm:ss[.fff]`, or a date alone.
fn parse_stamp(text: &str) -> Option<NaiveDateTime> {
    let t = text.trim();
    NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .or_else(|| {
            NaiveDate::parse_from_str(t.get(..10)?, "%Y-%m-%d")
                .ok()?
                .and_hms_opt(0, 0, 0)
        })
}

pub(super) fn parse_day(text: &str) -> Option<NaiveDate> {
    parse_stamp(text).map(|d| d.date())
}

/// A verkoopfactuur, when it names its verkoopboeking and carries the read-back's fields.
pub(super) fn invoice(f: Verkoopfactuur) -> Option<RemoteInvoice> {
    Some(RemoteInvoice {
        booking_id: f.verkoop_boeking?.id?,
        modified_on: parse_stamp(f.modified_on.as_deref()?)?,
        outstanding: f.openstaand_saldo?.0,
        gross: f.factuur_bedrag?.0,
        date: f.factuur_datum.as_deref().and_then(parse_day),
        relatie_id: f.relatie.and_then(|r| r.id),
    })
}

/// A bank or cash booking, when it settles at least one verkoopboeking.
pub(super) fn payment(b: Betaling) -> Option<RemotePayment> {
    let settles: Vec<String> = b
        .verkoopboeking_boekings_regels
        .unwrap_or_default()
        .into_iter()
        .filter_map(|r| r.boeking_id?.id)
        .collect();
    if settles.is_empty() {
        return None;
    }
    Some(RemotePayment {
        modified_on: parse_stamp(b.modified_on.as_deref()?)?,
        date: parse_day(b.datum.as_deref()?)?,
        settles,
    })
}

/// A verkoopboeking read in full.
pub(super) fn detail(b: &Verkoopboeking) -> RemoteBookingDetail {
    RemoteBookingDetail {
        gross: b.factuurbedrag.as_ref().map(|a| a.0).unwrap_or_default(),
        date: b.factuurdatum.as_deref().and_then(parse_day),
        klant_id: b.klant_ref().and_then(|k| k.id.clone()),
        lines: b
            .boekingsregels
            .iter()
            .flatten()
            .map(|r| r.bedrag.as_ref().map(|a| a.0).unwrap_or_default())
            .collect(),
        vat: b
            .btw
            .iter()
            .flatten()
            .map(|r| {
                let kind = match r.btw_soort {
                    Some(BtwRegelSoort::VerkopenHoog) => Some(VatRowKind::High),
                    Some(BtwRegelSoort::VerkopenLaag) => Some(VatRowKind::Low),
                    Some(BtwRegelSoort::VerkopenVerlegd) => Some(VatRowKind::ReverseCharge),
                    _ => None,
                };
                (kind, r.btw_bedrag.as_ref().map(|a| a.0).unwrap_or_default())
            })
            .collect(),
        by_accountant: b.gewijzigd_door_accountant.unwrap_or(false),
    }
}

/// A 403 without `Retry-After`: the key lacks the scope (a quota 403 carries one and is
/// transient, README §11).
pub(super) fn is_missing_scope(e: &CallError) -> bool {
    matches!(e, CallError::Api(api) if api.status == 403 && api.retry_after.is_none())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_round_trip_in_snelstart_s_format() {
        let at = parse_stamp("2026-11-03T10:15:30.123").unwrap();
        assert_eq!(stamp(at), "2026-11-03T10:15:30.123");
        assert_eq!(
            parse_stamp("2026-11-03").map(stamp).as_deref(),
            Some("2026-11-03T00:00:00.000")
        );
        assert_eq!(parse_stamp("gisteren"), None);
    }
}
