//! SnelStart v2 wire types, named and spelled as in `openapi-v2.json` (camelCase JSON, string enums).
//!
//! Requests carry only the fields that are set. Responses are read leniently: every field
//! is optional, unknown fields are ignored, enums are read by name or number (unknown ones
//! become `Unknown`), and amounts are read exactly (numbers with any number of decimals, or
//! strings) as [`rust_decimal::Decimal`].

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::de::{self, Deserializer, Visitor};
use serde::ser::{self, Serializer};
use serde::{Deserialize, Serialize};

// ---------------------------------------------------------------------------------------
// Amounts and dates

/// A money amount: sent as an exact JSON number with (at least) two decimals, never through
/// `f64`; read from a number of any precision or a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Amount(pub Decimal);

impl Amount {
    /// The amount as it goes on the wire: `12.5` → `12.50`, `5505.8000` → `5505.80`;
    /// never rounded (more than two significant decimals are kept exactly).
    #[must_use]
    pub fn wire_text(&self) -> String {
        let mut d = self.0.normalize();
        if d.scale() < 2 {
            d.rescale(2);
        }
        d.to_string()
    }
}

impl From<Decimal> for Amount {
    fn from(value: Decimal) -> Self {
        Self(value)
    }
}

impl Serialize for Amount {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // serde_json's `arbitrary_precision` keeps the digits of a Number exactly.
        let number = serde_json::Number::from_str(&self.wire_text()).map_err(ser::Error::custom)?;
        number.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        let text = match &value {
            serde_json::Value::Number(n) => n.to_string(),
            serde_json::Value::String(s) => s.trim().to_owned(),
            other => {
                return Err(de::Error::custom(format!(
                    "expected an amount, got {other}"
                )));
            }
        };
        parse_decimal(&text)
            .map(Amount)
            .ok_or_else(|| de::Error::custom(format!("not an amount: {text}")))
    }
}

/// Parses `5505.8000`, `-12`, `1e3` exactly.
#[must_use]
pub fn parse_decimal(text: &str) -> Option<Decimal> {
    Decimal::from_str(text)
        .ok()
        .or_else(|| Decimal::from_scientific(text).ok())
}

/// A date as SnelStart wants it: `yyyy-MM-ddT00:00:00` (naive local time, README §3).
#[must_use]
pub fn wire_date(date: NaiveDate) -> String {
    date.format("%Y-%m-%dT00:00:00").to_string()
}

// ---------------------------------------------------------------------------------------
// Enums

macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident { $( $(#[$vmeta:meta])* $variant:ident $(= $code:literal)? ),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value this client does not know (read leniently, never sent).
            Unknown,
        }

        impl $name {
            /// Every known value.
            pub const ALL: &'static [$name] = &[ $( $name::$variant ),+ ];

            /// The wire name.
            #[must_use]
            pub fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => stringify!($variant), )+
                    $name::Unknown => "Unknown",
                }
            }

            /// Reads a wire name (case-insensitively, as the server does).
            #[must_use]
            pub fn from_name(name: &str) -> Self {
                let name = name.trim();
                $( if name.eq_ignore_ascii_case(stringify!($variant)) { return $name::$variant; } )+
                $name::Unknown
            }

            /// Reads the numeric value the official C# client uses.
            #[must_use]
            #[allow(unused_variables)]
            pub fn from_code(code: i64) -> Self {
                $( $( if code == $code { return $name::$variant; } )? )+
                $name::Unknown
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                match self {
                    $name::Unknown => Err(ser::Error::custom(concat!("an unknown ", stringify!($name), " is never sent"))),
                    known => serializer.serialize_str(known.as_str()),
                }
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                deserializer.deserialize_any(EnumVisitor(stringify!($name))).map(|v| match v {
                    EnumValue::Name(n) => $name::from_name(&n),
                    EnumValue::Code(c) => $name::from_code(c),
                })
            }
        }
    };
}

enum EnumValue {
    Name(String),
    Code(i64),
}

struct EnumVisitor(&'static str);

impl<'de> Visitor<'de> for EnumVisitor {
    type Value = EnumValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a {} name or number", self.0)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(EnumValue::Name(v.to_owned()))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(EnumValue::Code(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(EnumValue::Code(i64::try_from(v).unwrap_or(-1)))
    }

    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        // serde_json's arbitrary_precision hands numbers over as a one-entry map.
        let mut out = EnumValue::Code(-1);
        while let Some((_, v)) = map.next_entry::<String, String>()? {
            out = v.parse::<i64>().map_or(EnumValue::Name(v), EnumValue::Code);
        }
        Ok(out)
    }
}

wire_enum! {
    /// `RelatieModel.relatiesoort` items.
    pub enum Relatiesoort { Klant, Leverancier, Eigen, Geen }
}

wire_enum! {
    /// `VerkoopBoekingRegelModel.btwSoort` and `GrootboekModel.btwSoort` items.
    pub enum BtwSoort { Geen = 0, Laag = 1, Hoog = 2, Overig = 3 }
}

wire_enum! {
    /// `VerkoopBoekingBtwRegelModel.btwSoort`.
    pub enum BtwRegelSoort {
        Geen = 0, VerkopenLaag = 1, VerkopenHoog = 2, VerkopenOverig = 3, VerkopenVerlegd = 4,
        InkopenLaag = 5, InkopenHoog = 6, InkopenOverig = 7,
    }
}

wire_enum! {
    /// `DagboekModel.soort`.
    pub enum DagboekSoort { Geen = 0, Kas = 1, Bank = 2, Verkoop = 4, Inkoop = 5, Memoriaal = 7, Balans = 8 }
}

wire_enum! {
    /// `GrootboekModel.grootboekfunctie`, with SnelStart Desktop's numbers (README §9).
    pub enum Grootboekfunctie {
        Diversen = 0, DagboekKas = 1, DagboekBank = 2, DagboekGiro = 3, DagboekVerkoop = 4,
        DagboekInkoop = 5, DagboekMemoriaal = 7, DagboekBalans = 8,
        VerkopenOmzetOnbelastVerlegd = 10, VerkopenOmzetLaag = 11, VerkopenOmzetHoog = 12,
        VerkopenOmzetOverig = 13, VerkopenBtwVrij = 15, BtwAfteDragenLaag = 21,
        BtwAfTeDragenHoog = 22, BtwAfTeDragenOverig = 23, BtwAfTeDragenVerlegdVerkopen = 24,
        BtwTeVorderenVerlegd = 25, BtwAfteDragenLaagGlobalisatie = 26,
        BtwAfTeDragenHoogGlobalisatie = 27, BtwAfTeDragenOverigGlobalisatie = 28,
        InkopenKostenAlleBtwTarieven = 30, InkopenKostenLaag = 31, InkopenKostenHoog = 32,
        InkopenKostenOverig = 33, InkopenVraagPosten = 34, BtwTeVorderenLaag = 41,
        BtwTeVorderenHoog = 42, BtwTeVorderenOverig = 43, BtwAfTeDragenVerlegdInkopen = 44,
        BtwTeVorderenVerlegdInkopen = 45, InkopenImportBinnenEUlaag = 61,
        InkopenImportBinnenEUhoog = 62, InkopenImportBinnenEUoverig = 63,
        InkopenImportBuitenEUlaag = 71, InkopenImportBuitenEUhoog = 72,
        InkopenImportBuitenEUoverig = 73, VerkopenExportBinnenEU = 80,
        VerkopenExportBuitenEU = 81, OninbareVorderingen = 82, HerrekeningCorrecties = 83,
        InstallatieTeleverkoopBinnenEUgeen = 84, BpmVerkopen = 85, BpmInkopen = 86,
        BpmVoorraad = 87, DienstverleningBinnenEU = 88, VerkoopGlobalisatieLaag = 91,
        VerkoopGlobalisatieHoog = 92, VerkoopGlobalisatieOverig = 93,
        InkoopGlobalisatieLaag = 94, InkoopGlobalisatieHoog = 95, InkoopGlobalisatieOverig = 96,
        BtwGlobalisatie = 97, KredietbeperkingVerkopen = 100, KredietbeperkingInkopen = 101,
        Betalingskorting = 102, TussenrekeningBetalingen = 110, OnbekendeBetalingen = 111,
        Kruisposten = 112, ContanteBetaling = 120, ElectronischeBetaling = 121, Winstboeking = 130,
    }
}

impl Grootboekfunctie {
    /// The function for one of the revenue codes 12/11/10 of the koppeling's settings.
    #[must_use]
    pub fn revenue(code: u8) -> Option<Self> {
        match code {
            12 => Some(Self::VerkopenOmzetHoog),
            11 => Some(Self::VerkopenOmzetLaag),
            10 => Some(Self::VerkopenOmzetOnbelastVerlegd),
            _ => None,
        }
    }
}

// ---------------------------------------------------------------------------------------
// Models

/// A reference `{ "id", "uri" }` (RelatieIdentifierModel, GrootboekIdentifierModel, …); on
/// input only `id` is needed.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Ref {
    /// GUID.
    pub id: Option<String>,
    /// Relative URI (read-only).
    pub uri: Option<String>,
}

impl Ref {
    /// A reference by id.
    #[must_use]
    pub fn to(id: impl Into<String>) -> Self {
        Self {
            id: Some(id.into()),
            uri: None,
        }
    }
}

/// The part of a POST/PUT answer a writer needs: the id of what was written.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Created {
    /// GUID.
    #[serde(alias = "Id")]
    pub id: Option<String>,
    /// Relative URI.
    #[serde(alias = "Uri")]
    pub uri: Option<String>,
}

/// `AdresModel`.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Adres {
    /// contactpersoon.
    pub contactpersoon: Option<String>,
    /// straat (with house number), ≤ 50.
    pub straat: Option<String>,
    /// postcode, ≤ 25.
    pub postcode: Option<String>,
    /// plaats, ≤ 50.
    pub plaats: Option<String>,
    /// land (by id from `/landen`).
    pub land: Option<Ref>,
}

/// `RelatieWriteModel` (POST/PUT body and answer) and the readable part of `RelatieModel`.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Relatie {
    /// GUID (absent on POST).
    pub id: Option<String>,
    /// Relative URI (read-only).
    pub uri: Option<String>,
    /// modifiedOn (read).
    pub modified_on: Option<String>,
    /// relatiesoort: `["Klant"]`.
    pub relatiesoort: Option<Vec<Relatiesoort>>,
    /// relatiecode (int32).
    pub relatiecode: Option<i32>,
    /// naam, ≤ 50.
    pub naam: Option<String>,
    /// vestigingsAdres.
    pub vestigings_adres: Option<Adres>,
    /// correspondentieAdres.
    pub correspondentie_adres: Option<Adres>,
    /// telefoon, ≤ 25.
    pub telefoon: Option<String>,
    /// mobieleTelefoon, ≤ 25.
    pub mobiele_telefoon: Option<String>,
    /// email, ≤ 250.
    pub email: Option<String>,
    /// btwNummer.
    pub btw_nummer: Option<String>,
    /// kvkNummer, ≤ 12.
    pub kvk_nummer: Option<String>,
    /// iban, ≤ 50.
    pub iban: Option<String>,
    /// nonactief.
    pub nonactief: Option<bool>,
    /// krediettermijn (days).
    pub krediettermijn: Option<i32>,
}

impl Relatie {
    /// Whether relatiesoort contains `Klant`.
    #[must_use]
    pub fn is_klant(&self) -> bool {
        self.relatiesoort
            .as_deref()
            .is_some_and(|s| s.contains(&Relatiesoort::Klant))
    }
}

/// `VerkoopBoekingRegelModel`: one revenue line, excluding VAT.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct VerkoopboekingRegel {
    /// omschrijving, ≤ 250.
    pub omschrijving: Option<String>,
    /// grootboek (required).
    pub grootboek: Option<Ref>,
    /// kostenplaats.
    pub kostenplaats: Option<Ref>,
    /// bedrag (never zero: BOE-0028).
    pub bedrag: Option<Amount>,
    /// btwSoort: `Hoog`, `Laag`, `Geen`.
    pub btw_soort: Option<BtwSoort>,
}

/// `VerkoopBoekingBtwRegelModel`: the VAT per rate.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct VerkoopboekingBtwRegel {
    /// btwSoort: `VerkopenHoog`, `VerkopenLaag`, `VerkopenVerlegd`.
    pub btw_soort: Option<BtwRegelSoort>,
    /// btwBedrag.
    pub btw_bedrag: Option<Amount>,
}

/// `VerkoopBoekingModel` (POST body and answer).
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Verkoopboeking {
    /// GUID (absent on POST).
    pub id: Option<String>,
    /// Relative URI (read-only).
    pub uri: Option<String>,
    /// modifiedOn (read).
    pub modified_on: Option<String>,
    /// boekstuk (read; may be server-filled).
    pub boekstuk: Option<String>,
    /// factuurnummer, ≤ 25, unique (BOE-0021).
    pub factuurnummer: Option<String>,
    /// factuurdatum `yyyy-MM-ddT00:00:00`.
    pub factuurdatum: Option<String>,
    /// klant.
    pub klant: Option<Ref>,
    /// Some answers carried `relatie` instead of `klant` (README §13.14); never sent.
    #[serde(skip_serializing)]
    pub relatie: Option<Ref>,
    /// gewijzigdDoorAccountant (read; never sent).
    #[serde(skip_serializing)]
    pub gewijzigd_door_accountant: Option<bool>,
    /// omschrijving, ≤ 250.
    pub omschrijving: Option<String>,
    /// factuurbedrag, including VAT.
    pub factuurbedrag: Option<Amount>,
    /// betalingstermijn (days, 0..=999).
    pub betalingstermijn: Option<i32>,
    /// boekingsregels.
    pub boekingsregels: Option<Vec<VerkoopboekingRegel>>,
    /// btw.
    pub btw: Option<Vec<VerkoopboekingBtwRegel>>,
}

impl Verkoopboeking {
    /// The klant, read from `klant` or `relatie`.
    #[must_use]
    pub fn klant_ref(&self) -> Option<&Ref> {
        self.klant.as_ref().or(self.relatie.as_ref())
    }
}

/// `VerkoopfactuurModel` (read-only; one per verkoopboeking).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Verkoopfactuur {
    /// GUID of the factuur.
    pub id: Option<String>,
    /// Relative URI.
    pub uri: Option<String>,
    /// The verkoopboeking it comes from.
    pub verkoop_boeking: Option<Ref>,
    /// factuurnummer.
    pub factuurnummer: Option<String>,
    /// factuurDatum.
    pub factuur_datum: Option<String>,
    /// vervalDatum.
    pub verval_datum: Option<String>,
    /// relatie.
    pub relatie: Option<Ref>,
    /// factuurBedrag.
    pub factuur_bedrag: Option<Amount>,
    /// openstaandSaldo.
    pub openstaand_saldo: Option<Amount>,
    /// modifiedOn.
    pub modified_on: Option<String>,
}

impl Verkoopfactuur {
    /// The id of the verkoopboeking it comes from.
    #[must_use]
    pub fn boeking_id(&self) -> Option<&str> {
        self.verkoop_boeking.as_ref().and_then(|b| b.id.as_deref())
    }
}

/// `GrootboekMutatieModel` (read-only): one debet or credit on one ledger.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Grootboekmutatie {
    /// GUID.
    pub id: Option<String>,
    /// The ledger.
    pub grootboek: Option<Ref>,
    /// datum.
    pub datum: Option<String>,
    /// debet.
    pub debet: Option<Amount>,
    /// credit.
    pub credit: Option<Amount>,
    /// factuurNummer.
    pub factuur_nummer: Option<String>,
}

/// `VerkoopBoekingVerantwoordingsRegelModel`: a bank or cash line that settles a
/// verkoopboeking.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct VerantwoordingsRegel {
    /// The verkoopboeking it settles.
    pub boeking_id: Option<Ref>,
    /// debet.
    pub debet: Option<Amount>,
    /// credit.
    pub credit: Option<Amount>,
}

/// `BankboekingModel` / `KasboekingModel`, the parts the read-back needs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Betaling {
    /// GUID.
    pub id: Option<String>,
    /// modifiedOn.
    pub modified_on: Option<String>,
    /// datum: the day of the payment.
    pub datum: Option<String>,
    /// The verkoopboekingen it settles.
    #[serde(default)]
    pub verkoopboeking_boekings_regels: Option<Vec<VerantwoordingsRegel>>,
}

/// `GrootboekModel`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Grootboek {
    /// GUID.
    pub id: Option<String>,
    /// Relative URI.
    pub uri: Option<String>,
    /// nummer.
    pub nummer: Option<i32>,
    /// omschrijving.
    pub omschrijving: Option<String>,
    /// nonactief.
    pub nonactief: Option<bool>,
    /// grootboekfunctie.
    pub grootboekfunctie: Option<Grootboekfunctie>,
    /// rekeningCode (`Balans` or `WinstEnVerlies`).
    pub rekening_code: Option<String>,
    /// The btw soorten allowed on this ledger.
    pub btw_soort: Option<Vec<BtwSoort>>,
    /// kostenplaatsVerplicht.
    pub kostenplaats_verplicht: Option<bool>,
}

impl Grootboek {
    /// Not nonactief.
    #[must_use]
    pub fn is_active(&self) -> bool {
        self.nonactief != Some(true)
    }
}

/// `DagboekModel`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Dagboek {
    /// GUID.
    pub id: Option<String>,
    /// Relative URI.
    pub uri: Option<String>,
    /// nummer, e.g. 1300.
    pub nummer: Option<i32>,
    /// omschrijving.
    pub omschrijving: Option<String>,
    /// soort.
    pub soort: Option<DagboekSoort>,
    /// nonactief.
    pub nonactief: Option<bool>,
}

/// `LandModel`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Land {
    /// GUID.
    pub id: Option<String>,
    /// Relative URI.
    pub uri: Option<String>,
    /// naam.
    pub naam: Option<String>,
    /// landcode (observed ISO-2, "NL").
    pub landcode: Option<String>,
    /// landcodeISO (observed ISO-3, "NLD").
    #[serde(rename = "landcodeISO")]
    pub landcode_iso: Option<String>,
}

impl Land {
    /// The two-letter code of this land, from whichever field holds one (README §15.8:
    /// which field is ISO-2 is not certain, so both are tried).
    #[must_use]
    pub fn iso2(&self) -> Option<String> {
        [self.landcode.as_deref(), self.landcode_iso.as_deref()]
            .into_iter()
            .flatten()
            .map(str::trim)
            .find(|c| c.len() == 2 && c.bytes().all(|b| b.is_ascii_alphabetic()))
            .map(str::to_ascii_uppercase)
    }
}

// ---------------------------------------------------------------------------------------
// Documents (product §8.4)

/// `DocumentContentModel` as uploaded: `content` in base64, `fileName`, `parentIdentifier`
/// (spelled exactly: SnelStart silently drops a misspelled field).
#[derive(Debug, Clone, Serialize)]
pub struct DocumentContent {
    /// The bytes, base64.
    pub content: String,
    #[serde(rename = "fileName")]
    pub file_name: String,
    #[serde(rename = "parentIdentifier")]
    pub parent_identifier: String,
}

/// `DocumentIdentifierModel`: the answer of an upload.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct DocumentIdentifier {
    pub id: Option<String>,
    pub uri: Option<String>,
}

/// One row of `GET /documenten/Verkoopboekingen/{id}` (`VerkoopBoekingBijlageReferenceModel`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct BijlageReference {
    pub id: Option<String>,
    #[serde(rename = "fileName")]
    pub file_name: Option<String>,
    #[serde(rename = "verkoopBoekingId")]
    pub verkoop_boeking_id: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An absent field is left out of a request body rather than sent as `null` (the body
    /// carries only what we set), and the fields SnelStart only answers are never sent.
    #[test]
    fn absent_and_read_only_fields_are_not_sent() {
        let boeking = Verkoopboeking {
            factuurnummer: Some("F-1".into()),
            relatie: Some(Ref {
                id: Some("r".into()),
                ..Ref::default()
            }),
            gewijzigd_door_accountant: Some(true),
            boekingsregels: Some(vec![VerkoopboekingRegel {
                omschrijving: Some("Advies".into()),
                ..VerkoopboekingRegel::default()
            }]),
            ..Verkoopboeking::default()
        };
        let sent = serde_json::to_value(&boeking).unwrap();
        assert_eq!(
            sent,
            serde_json::json!({
                "factuurnummer": "F-1",
                "boekingsregels": [{"omschrijving": "Advies"}]
            })
        );
        let relatie = serde_json::to_value(Relatie {
            naam: Some("Jansen".into()),
            vestigings_adres: Some(Adres::default()),
            ..Relatie::default()
        })
        .unwrap();
        assert_eq!(
            relatie,
            serde_json::json!({"naam": "Jansen", "vestigingsAdres": {}})
        );
    }
}
