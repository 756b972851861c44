//! Domain → wire: RelatieData to a relatie body (new or merged onto SnelStart's copy), SalesBooking to a verkoopboeking.

use koppeling_domain::booking::{SalesBooking, VatRowKind};
use koppeling_domain::money::VatClass;
use koppeling_domain::relation::RelatieData;
use serde_json::{Map, Value};

use crate::client::wire::{
    Adres, Amount, BtwRegelSoort, BtwSoort, Ref, Relatie, Relatiesoort, Verkoopboeking,
    VerkoopboekingBtwRegel, VerkoopboekingRegel, wire_date,
};

/// The properties of `RelatieWriteModel` (openapi-v2.json); a PUT body keeps only these
/// (the GET model adds the read-only `fax`, which the write model does not have).
pub(crate) const RELATIE_WRITE_PROPERTIES: &[&str] = &[
    "relatiesoort",
    "modifiedOn",
    "relatiecode",
    "naam",
    "vestigingsAdres",
    "correspondentieAdres",
    "telefoon",
    "mobieleTelefoon",
    "email",
    "btwNummer",
    "factuurkorting",
    "krediettermijn",
    "bankieren",
    "nonactief",
    "kredietLimiet",
    "memo",
    "kvkNummer",
    "oin",
    "websiteUrl",
    "aanmaningsoort",
    "offerteEmailVersturen",
    "bevestigingsEmailVersturen",
    "factuurEmailVersturen",
    "aanmaningEmailVersturen",
    "offerteAanvraagEmailVersturen",
    "bestellingEmailVersturen",
    "ublBestandAlsBijlage",
    "iban",
    "bic",
    "incassoSoort",
    "factuurRelatie",
    "inkoopBoekingenUri",
    "verkoopBoekingenUri",
    "documents",
    "id",
    "uri",
    "extraVeldenKlant",
];

/// Whether `data` carries an address. The domain fills straat, postcode and plaats together
/// or not at all (SnelStart REL-0060: once one vestigingsAdres field is filled, all but
/// contactpersoon must be — `land` included, so no land is sent without an address).
pub(crate) fn has_address(data: &RelatieData) -> bool {
    data.street.is_some() || data.postcode.is_some() || data.city.is_some()
}

/// The POST body of a new relatie (soort Klant); only present fields are sent.
pub(crate) fn new_relatie(data: &RelatieData, land_id: Option<&str>) -> Relatie {
    let vestigings_adres = has_address(data).then(|| Adres {
        straat: data.street.clone(),
        postcode: data.postcode.clone(),
        plaats: data.city.clone(),
        land: land_id.map(Ref::to),
        ..Adres::default()
    });
    Relatie {
        relatiesoort: Some(vec![Relatiesoort::Klant]),
        relatiecode: Some(data.code.get()),
        naam: Some(data.name.clone()),
        vestigings_adres,
        telefoon: data.phone.clone(),
        email: data.email.clone(),
        btw_nummer: data.vat_number.clone(),
        kvk_nummer: data.coc_number.clone(),
        iban: data.iban.clone(),
        ..Relatie::default()
    }
}

/// The PUT body: SnelStart's current relatie with our fields set on it. Everything we do
/// not manage is kept (PUT replaces the whole record, README §3); only properties of the
/// write model are sent, and `id` is the one in the URL (ALG-0101).
pub(crate) fn merged_relatie(
    current: Map<String, Value>,
    id: &str,
    data: &RelatieData,
    land_id: Option<&str>,
) -> Map<String, Value> {
    let mut body: Map<String, Value> = current
        .into_iter()
        .filter(|(k, _)| RELATIE_WRITE_PROPERTIES.contains(&k.as_str()))
        .collect();
    body.insert("id".into(), Value::String(id.to_owned()));
    body.insert("relatiecode".into(), Value::from(data.code.get()));
    body.insert("naam".into(), Value::String(data.name.clone()));
    for (key, value) in [
        ("telefoon", &data.phone),
        ("email", &data.email),
        ("btwNummer", &data.vat_number),
        ("kvkNummer", &data.coc_number),
        ("iban", &data.iban),
    ] {
        if let Some(v) = value {
            body.insert(key.into(), Value::String(v.clone()));
        }
    }
    if has_address(data) {
        let mut adres = match body.remove("vestigingsAdres") {
            Some(Value::Object(map)) => map,
            _ => Map::new(),
        };
        for (key, value) in [
            ("straat", &data.street),
            ("postcode", &data.postcode),
            ("plaats", &data.city),
        ] {
            if let Some(v) = value {
                adres.insert(key.into(), Value::String(v.clone()));
            }
        }
        if let Some(land) = land_id {
            adres.insert("land".into(), serde_json::json!({ "id": land }));
        }
        body.insert("vestigingsAdres".into(), Value::Object(adres));
    }
    body
}

/// The regel `btwSoort` of a VAT class (product §4).
pub(crate) fn regel_btw_soort(class: VatClass) -> BtwSoort {
    match class {
        VatClass::High => BtwSoort::Hoog,
        VatClass::Low => BtwSoort::Laag,
        VatClass::Zero | VatClass::ReverseCharge => BtwSoort::Geen,
    }
}

/// The btw row soort (product §4).
pub(crate) fn btw_regel_soort(kind: VatRowKind) -> BtwRegelSoort {
    match kind {
        VatRowKind::High => BtwRegelSoort::VerkopenHoog,
        VatRowKind::Low => BtwRegelSoort::VerkopenLaag,
        VatRowKind::ReverseCharge => BtwRegelSoort::VerkopenVerlegd,
    }
}

/// The POST body of a verkoopboeking; `ledger_ids[i]` is the grootboek of `booking.lines[i]`.
pub(crate) fn verkoopboeking(
    booking: &SalesBooking,
    klant_id: &str,
    ledger_ids: &[String],
) -> Verkoopboeking {
    let boekingsregels = booking
        .lines
        .iter()
        .zip(ledger_ids)
        .map(|(line, ledger)| VerkoopboekingRegel {
            omschrijving: Some(line.description.clone()).filter(|d| !d.is_empty()),
            grootboek: Some(Ref::to(ledger.clone())),
            bedrag: Some(Amount(line.amount)),
            btw_soort: Some(regel_btw_soort(line.class)),
            ..VerkoopboekingRegel::default()
        })
        .collect();
    let btw = booking
        .vat_rows
        .iter()
        .map(|row| VerkoopboekingBtwRegel {
            btw_soort: Some(btw_regel_soort(row.kind)),
            btw_bedrag: Some(Amount(row.amount)),
        })
        .collect();
    Verkoopboeking {
        factuurnummer: Some(booking.invoice_number.clone()),
        factuurdatum: Some(wire_date(booking.date)),
        klant: Some(Ref::to(klant_id)),
        omschrijving: Some(booking.description.clone()).filter(|d| !d.is_empty()),
        factuurbedrag: Some(Amount(booking.total)),
        betalingstermijn: Some(booking.payment_term_days),
        boekingsregels: Some(boekingsregels),
        btw: Some(btw),
        ..Verkoopboeking::default()
    }
}
