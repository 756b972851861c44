//! Relations (Radar360 debtors) and the SnelStart relatie built from them.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ids::ResourceId;
use crate::problem::{Problem, Rule, check_len};

/// A SnelStart `relatiecode`: the Radar360 relation code read as a positive `i32`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RelatieCode(i32);

impl RelatieCode {
    /// Reads a Radar360 relation code as a SnelStart relatiecode.
    ///
    /// # Errors
    /// A [`Problem`] on `code` when the code has anything but digits or is outside
    /// 1..=2147483647.
    pub fn parse(raw: &str) -> Result<Self, Problem> {
        if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Problem::new(
                "code",
                Rule::CodeNotNumeric {
                    code: raw.to_owned(),
                },
            ));
        }
        match raw.parse::<i32>() {
            Ok(n) if n >= 1 => Ok(Self(n)),
            _ => Err(Problem::new(
                "code",
                Rule::CodeOutOfRange {
                    code: raw.to_owned(),
                },
            )),
        }
    }

    /// Wraps a number already known to be a valid code.
    #[must_use]
    pub fn from_i32(n: i32) -> Option<Self> {
        (n >= 1).then_some(Self(n))
    }

    /// The number.
    #[must_use]
    pub fn get(self) -> i32 {
        self.0
    }
}

impl fmt::Display for RelatieCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A Bedrijf or a Persoon.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RelationKind {
    /// Bedrijf.
    Company,
    /// Persoon.
    Person,
}

impl RelationKind {
    /// The wire name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Company => "company",
            Self::Person => "person",
        }
    }
}

/// A postal address as Radar360 holds it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Address {
    /// Street name.
    pub street: Option<String>,
    /// House number with any addition.
    pub house_number: Option<String>,
    /// Postcode.
    pub postcode: Option<String>,
    /// City.
    pub city: Option<String>,
    /// ISO 3166-1 alpha-2 country code, `NL` when absent.
    pub country: Option<String>,
}

/// A Radar360 relation (debtor).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Relation {
    /// Caller-chosen id.
    pub id: ResourceId,
    /// The Radar360 relation code (may contain letters in Radar360).
    pub code: String,
    /// Company or person.
    pub kind: RelationKind,
    /// Name.
    pub name: String,
    /// Address, if known.
    pub address: Option<Address>,
    /// E-mail address.
    pub email: Option<String>,
    /// Phone number.
    pub phone: Option<String>,
    /// VAT number (btw-nummer).
    pub vat_number: Option<String>,
    /// Chamber of Commerce number (KvK).
    pub coc_number: Option<String>,
    /// IBAN.
    pub iban: Option<String>,
    /// Whether the Beheerder ticked SnelStart for this relation.
    pub snelstart_enabled: bool,
}

/// The data of a SnelStart relatie (soort Klant) as we intend to send it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelatieData {
    /// relatiecode.
    pub code: RelatieCode,
    /// naam (≤ 50).
    pub name: String,
    /// vestigingsAdres.straat: street + " " + house number (≤ 50).
    pub street: Option<String>,
    /// vestigingsAdres.postcode (≤ 25).
    pub postcode: Option<String>,
    /// vestigingsAdres.plaats (≤ 50).
    pub city: Option<String>,
    /// ISO-2 country code; the adapter resolves it to a `land` id.
    pub country: String,
    /// telefoon (≤ 25).
    pub phone: Option<String>,
    /// email (≤ 250).
    pub email: Option<String>,
    /// btwNummer.
    pub vat_number: Option<String>,
    /// kvkNummer (≤ 12).
    pub coc_number: Option<String>,
    /// iban (≤ 50).
    pub iban: Option<String>,
}

impl RelatieData {
    /// A stable fingerprint of what is sent, so an unchanged relation costs no call.
    #[must_use]
    pub fn fingerprint(&self) -> String {
        let parts = [
            self.code.to_string(),
            self.name.clone(),
            self.street.clone().unwrap_or_default(),
            self.postcode.clone().unwrap_or_default(),
            self.city.clone().unwrap_or_default(),
            self.country.clone(),
            self.phone.clone().unwrap_or_default(),
            self.email.clone().unwrap_or_default(),
            self.vat_number.clone().unwrap_or_default(),
            self.coc_number.clone().unwrap_or_default(),
            self.iban.clone().unwrap_or_default(),
        ];
        // FNV-1a over the fields with a unit separator between them.
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for part in parts {
            for byte in part.bytes().chain(std::iter::once(0x1f)) {
                hash ^= u64::from(byte);
                hash = hash.wrapping_mul(0x0100_0000_01b3);
            }
        }
        format!("{hash:016x}")
    }
}

fn non_empty(value: Option<&String>) -> Option<String> {
    value.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// Checks an IBAN's format and ISO 13616 mod-97 checksum; spaces are ignored.
#[must_use]
pub fn iban_is_valid(iban: &str) -> bool {
    let compact: String = iban.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.len() < 15
        || compact.len() > 34
        || !compact.chars().all(|c| c.is_ascii_alphanumeric())
    {
        return false;
    }
    let bytes = compact.as_bytes();
    if !bytes[0].is_ascii_alphabetic()
        || !bytes[1].is_ascii_alphabetic()
        || !bytes[2].is_ascii_digit()
        || !bytes[3].is_ascii_digit()
    {
        return false;
    }
    let rearranged = compact[4..].chars().chain(compact[..4].chars());
    let mut remainder: u32 = 0;
    for c in rearranged {
        let value = match c.to_digit(36) {
            Some(v) => v,
            None => return false,
        };
        remainder = if value >= 10 {
            (remainder * 100 + value) % 97
        } else {
            (remainder * 10 + value) % 97
        };
    }
    remainder == 1
}

/// Checks a VAT number's format: a 2-letter country prefix and 2 to 48 letters or digits;
/// a Dutch one must read `NL` + 9 digits + `B` + 2 digits.
#[must_use]
pub fn vat_number_is_valid(vat: &str) -> bool {
    let bytes = vat.as_bytes();
    if bytes.len() < 4 || bytes.len() > 50 || !vat.chars().all(|c| c.is_ascii_alphanumeric()) {
        return false;
    }
    if !bytes[0].is_ascii_uppercase() || !bytes[1].is_ascii_uppercase() {
        return false;
    }
    if &vat[..2] == "NL" {
        return bytes.len() == 14
            && bytes[2..11].iter().all(u8::is_ascii_digit)
            && bytes[11] == b'B'
            && bytes[12..].iter().all(u8::is_ascii_digit);
    }
    true
}

fn is_iso2(country: &str) -> bool {
    country.len() == 2 && country.bytes().all(|b| b.is_ascii_uppercase())
}

/// Checks the parts of a relation that Radar360 itself requires (on every PUT).
///
/// # Errors
/// Every problem found, each naming its field.
pub fn validate_relation(relation: &Relation) -> Result<(), Vec<Problem>> {
    let mut problems = Vec::new();
    if relation.code.trim().is_empty() {
        problems.push(Problem::new("code", Rule::Required));
    }
    if relation.name.trim().is_empty() {
        problems.push(Problem::new("name", Rule::Required));
    }
    if let Some(country) = relation.address.as_ref().and_then(|a| a.country.as_deref())
        && !is_iso2(country)
    {
        problems.push(Problem::new(
            "address.country",
            Rule::InvalidCountry {
                country: country.to_owned(),
            },
        ));
    }
    if let Some(iban) = relation.iban.as_deref().filter(|s| !s.trim().is_empty())
        && !iban_is_valid(iban)
    {
        problems.push(Problem::new(
            "iban",
            Rule::InvalidIban {
                iban: iban.to_owned(),
            },
        ));
    }
    if let Some(vat) = relation
        .vat_number
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        && !vat_number_is_valid(vat)
    {
        problems.push(Problem::new(
            "vat_number",
            Rule::InvalidVatNumber {
                vat: vat.to_owned(),
            },
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// Builds the SnelStart relatie for `relation`, checking every SnelStart limit.
///
/// # Errors
/// Every problem found; nothing is shortened silently.
pub fn plan_relatie(relation: &Relation) -> Result<RelatieData, Vec<Problem>> {
    let mut problems = match validate_relation(relation) {
        Ok(()) => Vec::new(),
        Err(p) => p,
    };
    let code = match RelatieCode::parse(relation.code.trim()) {
        Ok(code) => Some(code),
        Err(p) => {
            problems.push(p);
            None
        }
    };
    let name = relation.name.trim().to_owned();
    check_len(&mut problems, "name", &name, 50, "naam");
    let address = relation.address.clone().unwrap_or_default();
    let street = match (
        non_empty(address.street.as_ref()),
        non_empty(address.house_number.as_ref()),
    ) {
        (Some(s), Some(n)) => Some(format!("{s} {n}")),
        (Some(s), None) => Some(s),
        (None, Some(n)) => Some(n),
        (None, None) => None,
    };
    if let Some(street) = &street {
        check_len(
            &mut problems,
            "address.street",
            street,
            50,
            "straat (street + house number)",
        );
    }
    let postcode = non_empty(address.postcode.as_ref());
    if let Some(v) = &postcode {
        check_len(&mut problems, "address.postcode", v, 25, "postcode");
    }
    let city = non_empty(address.city.as_ref());
    if let Some(v) = &city {
        check_len(&mut problems, "address.city", v, 50, "plaats");
    }
    let phone = non_empty(relation.phone.as_ref());
    if let Some(v) = &phone {
        check_len(&mut problems, "phone", v, 25, "telefoon");
    }
    let email = non_empty(relation.email.as_ref());
    if let Some(v) = &email {
        check_len(&mut problems, "email", v, 250, "email");
    }
    let coc_number = non_empty(relation.coc_number.as_ref());
    if let Some(v) = &coc_number {
        check_len(&mut problems, "coc_number", v, 12, "kvkNummer");
    }
    let vat_number = non_empty(relation.vat_number.as_ref());
    let iban = non_empty(relation.iban.as_ref()).map(|s| {
        s.chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_uppercase()
    });
    // SnelStart REL-0060: once any address field is filled, straat, postcode and plaats must all be.
    let any_address = street.is_some() || postcode.is_some() || city.is_some();
    if any_address && (street.is_none() || postcode.is_none() || city.is_none()) {
        problems.push(Problem::new("address", Rule::IncompleteAddress));
    }
    let country = address.country.clone().unwrap_or_else(|| "NL".to_owned());
    match (code, problems.is_empty()) {
        (Some(code), true) => Ok(RelatieData {
            code,
            name,
            street,
            postcode,
            city,
            country,
            phone,
            email,
            vat_number,
            coc_number,
            iban,
        }),
        _ => Err(problems),
    }
}

#[cfg(test)]
mod tests;
