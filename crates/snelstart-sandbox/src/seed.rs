//! Seed data: a realistic fresh administration (companyInfo, system relaties, grootboeken, dagboeken) and the shared landen and btwtarieven.

use std::collections::HashMap;
use std::sync::LazyLock;

use base64::Engine;
use chrono::Datelike;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::admin::{Admin, Grootboek, Plain, Table};
use crate::json::{fmt_stamp, now_local};
use crate::relaties::{self, RelatieData};

/// One country of `/landen`.
pub struct Land {
    pub id: Uuid,
    pub iso2: &'static str,
    pub json: Value,
}

const LANDEN: [(&str, &str, &str); 32] = [
    ("NL", "NLD", "Nederland"),
    ("BE", "BEL", "België"),
    ("DE", "DEU", "Duitsland"),
    ("FR", "FRA", "Frankrijk"),
    ("GB", "GBR", "Verenigd Koninkrijk"),
    ("US", "USA", "Verenigde Staten"),
    ("LU", "LUX", "Luxemburg"),
    ("AT", "AUT", "Oostenrijk"),
    ("BG", "BGR", "Bulgarije"),
    ("CY", "CYP", "Cyprus"),
    ("CZ", "CZE", "Tsjechië"),
    ("DK", "DNK", "Denemarken"),
    ("EE", "EST", "Estland"),
    ("ES", "ESP", "Spanje"),
    ("FI", "FIN", "Finland"),
    ("GR", "GRC", "Griekenland"),
    ("HR", "HRV", "Kroatië"),
    ("HU", "HUN", "Hongarije"),
    ("IE", "IRL", "Ierland"),
    ("IT", "ITA", "Italië"),
    ("LT", "LTU", "Litouwen"),
    ("LV", "LVA", "Letland"),
    ("MT", "MLT", "Malta"),
    ("PL", "POL", "Polen"),
    ("PT", "PRT", "Portugal"),
    ("RO", "ROU", "Roemenië"),
    ("SE", "SWE", "Zweden"),
    ("SI", "SVN", "Slovenië"),
    ("SK", "SVK", "Slowakije"),
    ("CH", "CHE", "Zwitserland"),
    ("NO", "NOR", "Noorwegen"),
    ("CN", "CHN", "China"),
];

/// A stable, random-looking v4 GUID derived from `text` (landen ids are the same everywhere).
fn stable_uuid(text: &str) -> Uuid {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let a = splitmix(h);
    let b = splitmix(a);
    let bytes = (u128::from(a) << 64) | u128::from(b);
    uuid::Builder::from_random_bytes(bytes.to_be_bytes()).into_uuid()
}

pub fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

pub static LANDEN_ROWS: LazyLock<Vec<Land>> = LazyLock::new(|| {
    LANDEN
        .iter()
        .map(|(iso2, iso3, naam)| {
            let id = stable_uuid(&format!("land:{iso2}"));
            Land {
                id,
                iso2,
                json: json!({
                    "naam": naam,
                    "landcodeISO": iso3,
                    "landcode": iso2,
                    "id": id,
                    "uri": format!("/landen/{id}"),
                }),
            }
        })
        .collect()
});

static LANDEN_BY_ID: LazyLock<HashMap<Uuid, usize>> = LazyLock::new(|| {
    LANDEN_ROWS
        .iter()
        .enumerate()
        .map(|(i, l)| (l.id, i))
        .collect()
});

pub fn land(id: &Uuid) -> Option<&'static Land> {
    LANDEN_BY_ID.get(id).and_then(|i| LANDEN_ROWS.get(*i))
}

/// `/btwtarieven`: the Dutch rate history with SnelStart's sentinel dates.
pub static BTWTARIEVEN: LazyLock<Value> = LazyLock::new(|| {
    let row = |soort: &str, pct: &str, from: &str, to: &str| {
        json!({
            "btwSoort": soort,
            "btwPercentage": crate::json::dec(pct.parse().unwrap_or_default()),
            "datumVanaf": format!("{from}T00:00:00"),
            "datumTotEnMet": format!("{to}T00:00:00"),
        })
    };
    json!([
        row("Geen", "0.00", "1900-01-01", "2400-12-31"),
        row("Laag", "6.00", "1986-10-01", "2018-12-31"),
        row("Laag", "9.00", "2019-01-01", "2400-12-31"),
        row("Hoog", "19.00", "2001-01-01", "2012-09-30"),
        row("Hoog", "21.00", "2012-10-01", "2400-12-31"),
        row("Overig", "0.00", "1968-01-01", "2400-12-31"),
    ])
});

/// (nummer, omschrijving, rekeningCode, grootboekfunctie, btwSoort, rubriek)
type LedgerSeed = (
    i32,
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static str,
);

const GROOTBOEKEN: [LedgerSeed; 18] = [
    (
        100,
        "Inventaris",
        "Balans",
        "Diversen",
        &["Geen", "Laag", "Hoog", "Overig"],
        "Materiële vaste activa",
    ),
    (1000, "Kas", "Balans", "DagboekKas", &[], "Liquide middelen"),
    (
        1100,
        "Bank",
        "Balans",
        "DagboekBank",
        &[],
        "Liquide middelen",
    ),
    (
        1300,
        "Debiteuren",
        "Balans",
        "DagboekVerkoop",
        &[],
        "Vorderingen",
    ),
    (
        1600,
        "Crediteuren",
        "Balans",
        "DagboekInkoop",
        &[],
        "Kortlopende schulden",
    ),
    (
        1510,
        "Af te dragen btw hoog",
        "Balans",
        "BtwAfTeDragenHoog",
        &[],
        "Belastingen",
    ),
    (
        1520,
        "Af te dragen btw laag",
        "Balans",
        "BtwAfteDragenLaag",
        &[],
        "Belastingen",
    ),
    (
        1530,
        "Af te dragen btw verlegd",
        "Balans",
        "BtwAfTeDragenVerlegdVerkopen",
        &[],
        "Belastingen",
    ),
    (
        1540,
        "Te vorderen btw hoog",
        "Balans",
        "BtwTeVorderenHoog",
        &[],
        "Belastingen",
    ),
    (
        1550,
        "Te vorderen btw laag",
        "Balans",
        "BtwTeVorderenLaag",
        &[],
        "Belastingen",
    ),
    (
        4000,
        "Algemene kosten",
        "WinstEnVerlies",
        "InkopenKostenAlleBtwTarieven",
        &["Geen", "Laag", "Hoog", "Overig"],
        "Algemene kosten",
    ),
    (
        7000,
        "Inkopen hoog",
        "WinstEnVerlies",
        "InkopenKostenHoog",
        &["Hoog"],
        "Kostprijs van de omzet",
    ),
    (
        8000,
        "Omzet hoog",
        "WinstEnVerlies",
        "VerkopenOmzetHoog",
        &["Hoog"],
        "Netto-omzet",
    ),
    (
        8010,
        "Omzet laag",
        "WinstEnVerlies",
        "VerkopenOmzetLaag",
        &["Laag"],
        "Netto-omzet",
    ),
    (
        8020,
        "Omzet onbelast/verlegd",
        "WinstEnVerlies",
        "VerkopenOmzetOnbelastVerlegd",
        &["Geen"],
        "Netto-omzet",
    ),
    (
        8030,
        "Omzet overig",
        "WinstEnVerlies",
        "VerkopenOmzetOverig",
        &["Overig"],
        "Netto-omzet",
    ),
    (
        8100,
        "Omzet export binnen EU",
        "WinstEnVerlies",
        "VerkopenExportBinnenEU",
        &["Geen"],
        "Netto-omzet",
    ),
    (
        8110,
        "Omzet export buiten EU",
        "WinstEnVerlies",
        "VerkopenExportBuitenEU",
        &["Geen"],
        "Netto-omzet",
    ),
];

const DAGBOEKEN: [(i32, &str, &str); 5] = [
    (1000, "Kas", "Kas"),
    (1100, "Bank", "Bank"),
    (1300, "Debiteuren", "Verkoop"),
    (1600, "Crediteuren", "Inkoop"),
    (1900, "Memoriaal", "Memoriaal"),
];

/// The name shown for an administration: "Sandbox <user>" when the key is base64(`user:pw`).
fn admin_name(key: &str) -> String {
    base64::engine::general_purpose::STANDARD
        .decode(key.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.split_once(':').map(|(u, _)| u.to_owned()))
        .filter(|u| !u.is_empty())
        .map_or_else(
            || "Sandbox administratie".to_owned(),
            |u| format!("Sandbox {u}"),
        )
}

pub fn grootboek_json(g: &Grootboek, omschrijving: &str, rekening: &str, rubriek: &str) -> Value {
    json!({
        "modifiedOn": fmt_stamp(now_local()),
        "omschrijving": omschrijving,
        "kostenplaatsVerplicht": g.kostenplaats_verplicht,
        "rekeningCode": rekening,
        "nonactief": g.nonactief,
        "nummer": g.nummer,
        "grootboekfunctie": g.functie,
        "grootboekRubriek": rubriek,
        "rgsCode": [],
        "btwSoort": g.btw,
        "vatRateCode": null,
        "id": g.id,
        "uri": format!("/grootboeken/{}", g.id),
    })
}

/// A fresh, seeded administration for `key`.
pub fn new_admin(key: &str) -> Admin {
    let identifier = Uuid::new_v4();
    let naam = admin_name(key);
    let now = now_local();
    let mut admin = Admin {
        key: key.to_owned(),
        identifier,
        naam: naam.clone(),
        company: company_info(identifier, &naam, now.year()),
        relaties: Table::default(),
        relatie_codes: HashMap::new(),
        boekingen: Table::default(),
        facturen: Table::default(),
        factuurnummers: HashMap::new(),
        grootboeken: Table::default(),
        dagboeken: Table::default(),
        bankboekingen: Table::default(),
        kasboekingen: Table::default(),
        documenten: Table::default(),
        documenten_by_parent: HashMap::new(),
        scopes: None,
        window: None,
        counts: HashMap::new(),
        calls: 0,
        last_token: None,
        token_switches: 0,
    };
    for (code, naam, soort) in [
        (0, "<Vul hier uw bedrijfsnaam in>", "Eigen"),
        (-1, "Leverancier onbekend", "Leverancier"),
        (-2, "Klant onbekend", "Klant"),
    ] {
        let data = RelatieData {
            soorten: vec![soort],
            naam: Some(naam.to_owned()),
            ..Default::default()
        };
        let id = Uuid::new_v4();
        let json = data.to_json(id, code, now);
        relaties::insert(&mut admin, &data, id, code, json);
    }
    let mut ledgers: Vec<_> = GROOTBOEKEN.iter().collect();
    ledgers.sort_by_key(|g| g.0);
    for (nummer, omschrijving, rekening, functie, btw, rubriek) in ledgers {
        let mut g = Grootboek {
            id: Uuid::new_v4(),
            nummer: *nummer,
            functie,
            btw: btw.to_vec(),
            nonactief: false,
            kostenplaats_verplicht: false,
            json: Value::Null,
        };
        g.json = grootboek_json(&g, omschrijving, rekening, rubriek);
        admin.grootboeken.insert(g);
    }
    for (nummer, omschrijving, soort) in DAGBOEKEN {
        let id = Uuid::new_v4();
        admin.dagboeken.insert(Plain {
            id,
            json: json!({
                "omschrijving": omschrijving,
                "soort": soort,
                "nonactief": false,
                "nummer": nummer,
                "id": id,
                "uri": format!("/dagboeken/{id}"),
            }),
        });
    }
    admin
}

fn company_info(identifier: Uuid, naam: &str, year: i32) -> Value {
    json!({
        "administratieIdentifier": identifier,
        "administratieNaam": naam,
        "bedrijfsnaam": naam,
        "contactpersoon": null,
        "adres": "Sandboxweg 1",
        "postcode": "1234 AB",
        "plaats": "Alkmaar",
        "telefoon": null,
        "mobieleTelefoon": null,
        "fax": null,
        "bankrekeningnummer": null,
        "iban": "NL91ABNA0417164300",
        "bic": "ABNANL2A",
        "rechtsvorm": "Bv",
        "btwNummer": "NL000099998B57",
        "btwIdentificatieNummer": "NL000099998B57",
        "kvKNummer": "12345678",
        "email": "administratie@sandbox.invalid",
        "website": null,
        "vrijeTekst1": null,
        "vrijeTekst2": null,
        "vrijeTekst3": null,
        "vrijeTekst4": null,
        "huidigBoekjaar": year,
        "beginmaandFiscaleBoekjaar": 1,
        "btwAangiftePeriodeSoort": "Kwartaal",
        "icpAangiftePeriodeSoort": "Kwartaal",
        "btwNummerFiscaleEenheid": null,
        "tussentijdseSuppletiesBerekenen": false,
        "mapUBLBestanden": null,
        "btwPercentageAangifteKredietbeperking": crate::json::dec(rust_decimal::Decimal::ZERO),
        "markeergedragInlezenBankafschriften": "AlleenBelangrijkste",
        "voorkeurenTijdensBoeken": false,
        "aantalVoorloopnullenGrootboekrekeningen": 0,
        "kleineOndernemersregeling": {
            "isKleineOndernemersRegelingActief": false,
            "maximaalBedragVolledigeVerrekening": crate::json::dec(rust_decimal::Decimal::ZERO),
            "maximaalBedragKleineOndernemersRegeling": crate::json::dec(rust_decimal::Decimal::ZERO),
        },
        "volgendFactuurnummer": 1,
        "volgendVerkoopordernummer": 1,
        "volgendContantbonnummer": 1,
        "volgendInkoopordernummer": 1,
        "voorraadcontroleOrderinvoer": false,
        "abonnementOvernemen": false,
        "kolomGeleverdAutomatischVullen": false,
        "voorraadkolommenTonenInInkoop": false,
        "backorderGebruiken": false,
        "deelleveringOrdersDefaultAan": false,
        "factuurAlsBijlageVerkoopboeking": false,
        "tekstregelsOvernemenNaarBackorder": "Geen",
        "regelkortingVerkooporder": "BerekenenOverRegelBedrag",
        "drempelbedragVerkooporderbeheer": crate::json::dec(rust_decimal::Decimal::ZERO),
        "drempelbedragVerkooporderbeheerMaxDagenUitstel": 0,
        "verkoopprijsArtikelbestandExclusiefBtw": true,
        "inkoopprijsArtikelbestandExclusiefBtw": true,
        "artikelcodeSoort": "Alfanumeriek",
        "artikelcodeMaxLengte": 25,
        "begindatumVoorraadtelling": null,
        "voorraadTonenInZoekvenster": false,
        "aantalDecimalenArtikelprijzen": 2,
        "aantalDecimalenArtikelaantallen": 2,
        "verkooporderVoorraadVanafNiveau": "Alle",
        "voorraadSysteem": "Fifo",
        "momentVoorraadBijwerken": "BijBoekenOntvangst",
        "rekeningTeOntvangenInkoopfacturen": null,
        "dagboekVoorraadverschillen": null,
        "buitenlandseBtwGrootboek": null,
        "factureerBuitenlandsBtw": false,
        "factureerBuitenlandsBtwRanges": [],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn landen_are_stable_and_distinct() {
        let a = stable_uuid("land:NL");
        assert_eq!(a, stable_uuid("land:NL"));
        assert_ne!(a, stable_uuid("land:BE"));
        assert_eq!(a.get_version_num(), 4);
        let ids: std::collections::HashSet<_> = LANDEN_ROWS.iter().map(|l| l.id).collect();
        assert_eq!(ids.len(), LANDEN.len());
    }

    #[test]
    fn admin_names() {
        assert_eq!(admin_name("dXNlcjpwdw=="), "Sandbox user");
        assert_eq!(admin_name("???"), "Sandbox administratie");
    }
}
