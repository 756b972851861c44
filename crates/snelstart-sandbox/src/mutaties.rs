//! `/grootboekmutaties`: the ledger mutations SnelStart derives from each verkoopboeking, as
//! `GrootboekMutatieModel` rows (field names as in `openapi-v2.json`).
//!
//! Per verkoopboeking, in this order: one mutation per boekingsregel on its revenue ledger
//! (credit = `bedrag`; a negative `bedrag` is a debet), one per btw row with a non-zero
//! `btwBedrag` on the VAT ledger of its soort (`VerkopenHoog` → grootboekfunctie
//! `BtwAfTeDragenHoog`, `VerkopenLaag` → `BtwAfteDragenLaag`, `VerkopenOverig` →
//! `BtwAfTeDragenOverig`, `VerkopenVerlegd` → `BtwAfTeDragenVerlegdVerkopen`), and one on the
//! debiteuren ledger (grootboekfunctie `DagboekVerkoop`, 1300) for `factuurbedrag` (debet; a
//! credit note credits it). `saldo` = `debet` − `credit`. The rows are derived when asked for,
//! so a PUT, an accountant's edit or a DELETE of the booking carries its mutations along; a
//! mutation's id is stable for its booking and position.

use rust_decimal::Decimal;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::admin::Admin;
use crate::json::{dec, fmt_date, parse_date, parse_decimal};
use crate::relaties::reference;
use crate::seed::splitmix;

fn amount(v: Option<&Value>) -> Decimal {
    match v {
        Some(Value::Number(n)) => parse_decimal(&n.to_string()),
        Some(Value::String(s)) => parse_decimal(s),
        _ => None,
    }
    .unwrap_or_default()
}

fn ref_id(v: Option<&Value>) -> Option<Uuid> {
    v.and_then(|r| r.get("id"))
        .and_then(Value::as_str)
        .and_then(|s| Uuid::parse_str(s).ok())
}

/// A stable id for the `index`-th mutation of booking `booking`.
fn mutation_id(booking: Uuid, index: u64) -> Uuid {
    let (hi, lo) = booking.as_u64_pair();
    let a = splitmix(hi ^ splitmix(lo ^ index.wrapping_add(0x6d75_7461)));
    let b = splitmix(a ^ lo);
    let bytes = (u128::from(a) << 64) | u128::from(b);
    uuid::Builder::from_random_bytes(bytes.to_be_bytes()).into_uuid()
}

/// The grootboekfunctie of the VAT ledger a btw row of `soort` is booked on.
fn vat_functie(soort: &str) -> Option<&'static str> {
    match soort {
        "VerkopenHoog" => Some("BtwAfTeDragenHoog"),
        "VerkopenLaag" => Some("BtwAfteDragenLaag"),
        "VerkopenOverig" => Some("BtwAfTeDragenOverig"),
        "VerkopenVerlegd" => Some("BtwAfTeDragenVerlegdVerkopen"),
        _ => None,
    }
}

/// Every grootboekmutatie of the administration, booking by booking.
pub fn rows(admin: &Admin) -> Vec<Value> {
    let ledger_of = |functie: &str| {
        admin
            .grootboeken
            .iter()
            .filter(|g| g.functie == functie)
            .min_by_key(|g| g.nummer)
            .map(|g| g.id)
    };
    let debiteuren = ledger_of("DagboekVerkoop");
    let dagboek = admin
        .dagboeken
        .iter()
        .find(|d| d.json.get("soort").and_then(Value::as_str) == Some("Verkoop"))
        .map(|d| d.id);
    let mut out = Vec::new();
    for b in admin.boekingen.iter() {
        let Ok(booking) = serde_json::from_slice::<Value>(&b.json) else {
            continue;
        };
        let datum = booking
            .get("factuurdatum")
            .and_then(Value::as_str)
            .and_then(parse_date)
            .map(fmt_date);
        let common = |index: u64,
                      grootboek: Option<Uuid>,
                      kostenplaats: Option<Uuid>,
                      omschrijving: Option<&Value>,
                      bedrag: Decimal,
                      debit_side: bool| {
            let (debet, credit) = match (debit_side, bedrag.is_sign_negative()) {
                (true, false) | (false, true) => (bedrag.abs(), Decimal::ZERO),
                (true, true) | (false, false) => (Decimal::ZERO, bedrag.abs()),
            };
            let id = mutation_id(b.id, index);
            json!({
                "grootboek": grootboek.map(|g| reference("grootboeken", g)),
                "kostenplaats": kostenplaats.map(|k| reference("kostenplaatsen", k)),
                "datum": datum,
                "modifiedOn": booking.get("modifiedOn"),
                "dagboek": dagboek.map(|d| reference("dagboeken", d)),
                "omschrijving": omschrijving.or_else(|| booking.get("omschrijving")),
                "debet": dec(debet),
                "credit": dec(credit),
                "saldo": dec(debet - credit),
                "documents": [],
                "boekstuk": booking.get("boekstuk"),
                "factuurNummer": booking.get("factuurnummer"),
                "relatiePublicIdentifier": booking.get("klant"),
                "id": id,
                "uri": format!("/grootboekmutaties/{id}"),
            })
        };
        let mut index = 0u64;
        for regel in booking
            .get("boekingsregels")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            out.push(common(
                index,
                ref_id(regel.get("grootboek")),
                ref_id(regel.get("kostenplaats")),
                regel.get("omschrijving").filter(|o| !o.is_null()),
                amount(regel.get("bedrag")),
                false,
            ));
            index += 1;
        }
        for btw in booking
            .get("btw")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let bedrag = amount(btw.get("btwBedrag"));
            let ledger = btw
                .get("btwSoort")
                .and_then(Value::as_str)
                .and_then(vat_functie)
                .and_then(ledger_of);
            if bedrag.is_zero() || ledger.is_none() {
                continue;
            }
            out.push(common(index, ledger, None, None, bedrag, false));
            index += 1;
        }
        out.push(common(
            index,
            debiteuren,
            None,
            None,
            amount(booking.get("factuurbedrag")),
            true,
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mutation_ids_are_stable_and_distinct() {
        let b = Uuid::new_v4();
        assert_eq!(mutation_id(b, 0), mutation_id(b, 0));
        assert_ne!(mutation_id(b, 0), mutation_id(b, 1));
        assert_ne!(mutation_id(b, 0), mutation_id(Uuid::new_v4(), 0));
        assert_eq!(mutation_id(b, 3).get_version_num(), 4);
    }

    #[test]
    fn a_booking_gives_revenue_vat_and_debiteuren_mutations_that_balance() {
        let mut admin = crate::seed::new_admin("dXNlcjpwdw==");
        let klant = Uuid::new_v4();
        let data = crate::relaties::RelatieData {
            soorten: vec!["Klant"],
            naam: Some("Klant".into()),
            ..Default::default()
        };
        let json = data.to_json(klant, 1001, crate::json::now_local());
        crate::relaties::insert(&mut admin, &data, klant, 1001, json);
        let hoog = admin.grootboek_by_nummer(8000).unwrap();
        let laag = admin.grootboek_by_nummer(8010).unwrap();
        let body = crate::input::lowercase_keys(json!({
            "factuurnummer": "F1", "factuurdatum": "2026-03-05T00:00:00",
            "klant": {"id": klant}, "factuurbedrag": "131.90",
            "boekingsregels": [
                {"grootboek": {"id": hoog}, "bedrag": "100.00", "btwSoort": "Hoog"},
                {"grootboek": {"id": laag}, "bedrag": "10.00", "btwSoort": "Laag"}],
            "btw": [{"btwSoort": "VerkopenHoog", "btwBedrag": "21.00"},
                    {"btwSoort": "VerkopenLaag", "btwBedrag": "0.90"}]
        }));
        let reply = crate::boekingen::create(&mut admin, &body);
        assert_eq!(
            reply.status,
            201,
            "{}",
            String::from_utf8_lossy(&reply.body)
        );
        let rows = rows(&admin);
        assert_eq!(rows.len(), 5);
        let saldo: Decimal = rows.iter().map(|r| amount(r.get("saldo"))).sum();
        assert_eq!(saldo, Decimal::ZERO, "debet and credit balance");
        assert_eq!(amount(rows[0].get("credit")), Decimal::new(10000, 2));
        assert_eq!(rows[0]["factuurNummer"], "F1");
        assert_eq!(rows[0]["datum"], "2026-03-05T00:00:00");
        let btw_hoog = admin.grootboek_by_nummer(1510).unwrap();
        assert_eq!(rows[2]["grootboek"]["id"], json!(btw_hoog));
        assert_eq!(amount(rows[4].get("debet")), Decimal::new(13190, 2));
        assert_eq!(rows[4]["relatiePublicIdentifier"]["id"], json!(klant));
    }
}
