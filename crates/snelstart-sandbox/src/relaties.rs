//! Relaties: reading a RelatieWriteModel leniently, the REL-* business rules, and the stored RelatieModel JSON.

use chrono::NaiveDateTime;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::admin::{Admin, Relatie};
use crate::api::Reply;
use crate::errors::{Problems, Violation};
use crate::input::{FieldError, Obj, enum_value};
use crate::json::{dec, fmt_stamp, now_local, to_bytes};
use crate::seed;

pub const SOORTEN: [&str; 4] = ["Geen", "Klant", "Leverancier", "Eigen"];
pub const AANMANINGSOORTEN: [&str; 3] = ["Nee", "Onderneming", "Consument"];
pub const INCASSOSOORTEN: [&str; 3] = ["Geen", "Core", "B2B"];

/// The six `…EmailVersturen` blocks: JSON name and the codes for
/// (email required, email invalid, email too long, cc invalid, cc too long).
const EMAIL_BLOCKS: [(&str, [&str; 5]); 6] = [
    (
        "offerteEmailVersturen",
        ["REL-0044", "REL-0080", "REL-0081", "REL-0082", "REL-0083"],
    ),
    (
        "bevestigingsEmailVersturen",
        ["REL-0038", "REL-0076", "REL-0077", "REL-0078", "REL-0079"],
    ),
    (
        "factuurEmailVersturen",
        ["REL-0032", "REL-0072", "REL-0073", "REL-0074", "REL-0075"],
    ),
    (
        "aanmaningEmailVersturen",
        ["REL-0029", "REL-0068", "REL-0069", "REL-0070", "REL-0071"],
    ),
    (
        "offerteAanvraagEmailVersturen",
        ["REL-0089", "REL-0090", "REL-0092", "REL-0093", "REL-0095"],
    ),
    (
        "bestellingEmailVersturen",
        ["REL-0096", "REL-0097", "REL-0099", "REL-0100", "REL-0102"],
    ),
];

#[derive(Default, Clone)]
pub struct Adres {
    pub contactpersoon: Option<String>,
    pub straat: Option<String>,
    pub postcode: Option<String>,
    pub plaats: Option<String>,
    pub land: Option<Uuid>,
}

#[derive(Default, Clone)]
pub struct EmailVersturen {
    pub should_send: bool,
    pub email: Option<String>,
    pub cc_email: Option<String>,
}

/// A relatie as written by a client (after lenient reading).
#[derive(Default, Clone)]
pub struct RelatieData {
    pub id: Option<Uuid>,
    pub soorten: Vec<&'static str>,
    pub code: Option<i32>,
    pub naam: Option<String>,
    pub vestigings: Adres,
    pub correspondentie: Adres,
    pub telefoon: Option<String>,
    pub mobiele_telefoon: Option<String>,
    pub email: Option<String>,
    pub btw_nummer: Option<String>,
    pub factuurkorting: Option<Decimal>,
    pub krediettermijn: Option<i32>,
    pub bankieren: bool,
    pub nonactief: bool,
    pub kredietlimiet: Option<Decimal>,
    pub memo: Option<String>,
    pub kvk: Option<String>,
    pub oin: Option<String>,
    pub website: Option<String>,
    pub aanmaningsoort: Option<&'static str>,
    pub emails: [EmailVersturen; 6],
    pub ubl: bool,
    pub iban: Option<String>,
    pub bic: Option<String>,
    pub incassosoort: Option<&'static str>,
    pub factuurrelatie: Option<Uuid>,
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.filter(|s| !s.trim().is_empty())
}

fn adres(o: Option<Obj<'_>>) -> Result<Adres, FieldError> {
    let Some(o) = o else {
        return Ok(Adres::default());
    };
    Ok(Adres {
        contactpersoon: non_empty(o.str("contactpersoon")?),
        straat: non_empty(o.str("straat")?),
        postcode: non_empty(o.str("postcode")?),
        plaats: non_empty(o.str("plaats")?),
        land: o.ref_id("land")?,
    })
}

impl RelatieData {
    /// Reads a lower-cased RelatieWriteModel.
    pub fn read(o: Obj<'_>) -> Result<Self, FieldError> {
        let mut d = RelatieData {
            id: o.uuid("id")?,
            code: o.int32("relatiecode")?,
            naam: o.str("naam")?,
            vestigings: adres(o.obj("vestigingsadres")?)?,
            correspondentie: adres(o.obj("correspondentieadres")?)?,
            telefoon: non_empty(o.str("telefoon")?),
            mobiele_telefoon: non_empty(o.str("mobieletelefoon")?),
            email: non_empty(o.str("email")?),
            btw_nummer: non_empty(o.str("btwnummer")?),
            factuurkorting: o.decimal("factuurkorting")?,
            krediettermijn: o.int32("krediettermijn")?,
            bankieren: o.bool("bankieren")?.unwrap_or(false),
            nonactief: o.bool("nonactief")?.unwrap_or(false),
            kredietlimiet: o.decimal("kredietlimiet")?,
            memo: o.str("memo")?,
            kvk: non_empty(o.str("kvknummer")?),
            oin: non_empty(o.str("oin")?),
            website: non_empty(o.str("websiteurl")?),
            aanmaningsoort: o.enumeration("aanmaningsoort", &AANMANINGSOORTEN)?,
            ubl: o.bool("ublbestandalsbijlage")?.unwrap_or(false),
            iban: non_empty(o.str("iban")?),
            bic: non_empty(o.str("bic")?),
            incassosoort: o.enumeration("incassosoort", &INCASSOSOORTEN)?,
            factuurrelatie: o.ref_id("factuurrelatie")?,
            ..Default::default()
        };
        d.soorten = read_soorten(o)?;
        for (i, (name, _)) in EMAIL_BLOCKS.iter().enumerate() {
            if let Some(b) = o.obj(&name.to_lowercase())? {
                d.emails[i] = EmailVersturen {
                    should_send: b.bool("shouldsend")?.unwrap_or(false),
                    email: non_empty(b.str("email")?),
                    cc_email: non_empty(b.str("ccemail")?),
                };
            }
        }
        Ok(d)
    }

    /// Checks the REL-* rules. `existing` is the stored relatie on PUT.
    pub fn validate(&self, admin: &Admin, existing: Option<&Relatie>) -> Vec<Violation> {
        let mut v = Problems::default();
        match existing {
            None if self.id.is_some() => v.add("REL-0063"),
            Some(r) if self.id.is_some_and(|id| id != r.id) => v.add("REL-0047"),
            _ => {}
        }
        if self.soorten.is_empty() || self.soorten.contains(&"Geen") {
            v.add("REL-0001");
        }
        if self.soorten.contains(&"Eigen") {
            v.add("REL-0048");
        }
        if self.soorten.contains(&"Klant") && self.soorten.contains(&"Leverancier") {
            v.add("REL-0065");
        }
        if let Some(r) = existing {
            let mut a = r.soorten.clone();
            let mut b = self.soorten.clone();
            a.sort_unstable();
            b.sort_unstable();
            a.dedup();
            b.dedup();
            if a != b {
                v.add("REL-0064");
            }
        }
        match self.naam.as_deref().map(str::trim) {
            None | Some("") => v.add("REL-0007"),
            Some(n) if n.chars().count() > 50 => {
                v.add_with("REL-0066", "Naam mag maximaal 50 karakters bevatten");
            }
            Some(_) => {}
        }
        if let Some(code) = self.code {
            let taken = admin
                .relatie_codes
                .get(&code)
                .is_some_and(|other| existing.is_none_or(|r| r.id != *other));
            if taken {
                v.add("REL-0008");
            }
        }
        let klant = self.soorten.contains(&"Klant");
        if let Some(k) = self.krediettermijn
            && !(-365..=1000).contains(&k)
        {
            v.add("REL-0003");
        }
        if self.factuurkorting.is_some_and(|f| !f.is_zero()) && !klant {
            v.add("REL-0004");
        }
        if self.kredietlimiet.is_some_and(|f| !f.is_zero()) && !klant {
            v.add("REL-0062");
        }
        if self.kvk.as_ref().is_some_and(|k| len(k) > 12) {
            v.add("REL-0006");
        }
        if self.bankieren && !self.soorten.contains(&"Leverancier") {
            v.add("REL-0014");
        }
        if self.bankieren && self.iban.is_none() {
            v.add("REL-0009");
        }
        if let Some(i) = &self.iban
            && !valid_iban(i)
        {
            v.add("REL-0011");
        }
        if let Some(b) = &self.bic
            && !valid_bic(b)
        {
            v.add("REL-0010");
        }
        if let Some(w) = &self.website
            && (len(w) > 100 || w.contains(char::is_whitespace) || !w.contains('.'))
        {
            v.add("REL-0015");
        }
        if self.incassosoort.is_some_and(|s| s != "Geen") && !klant {
            v.add("REL-0016");
        }
        if let Some(f) = self.factuurrelatie {
            match admin.relaties.get(&f) {
                None => v.add("REL-0017"),
                Some(r) if !r.is("Klant") => v.add("REL-0018"),
                Some(_) => {}
            }
        }
        if self.telefoon.as_ref().is_some_and(|t| len(t) > 25) {
            v.add("REL-0013");
        }
        if self.mobiele_telefoon.as_ref().is_some_and(|t| len(t) > 25) {
            v.add("REL-0012");
        }
        let a = &self.vestigings;
        for (val, max, code) in [
            (&a.straat, 50, "REL-0020"),
            (&a.postcode, 25, "REL-0021"),
            (&a.plaats, 50, "REL-0022"),
            (&a.contactpersoon, 50, "REL-0023"),
        ] {
            if val.as_ref().is_some_and(|s| len(s) > max) {
                v.add(code);
            }
        }
        let any = a.straat.is_some() || a.postcode.is_some() || a.plaats.is_some();
        if any && (a.straat.is_none() || a.postcode.is_none() || a.plaats.is_none()) {
            v.add("REL-0060");
        }
        if a.land.is_some_and(|l| seed::land(&l).is_none()) {
            v.add("REL-0056");
        }
        let c = &self.correspondentie;
        for (val, max, code) in [
            (&c.straat, 50, "REL-0025"),
            (&c.postcode, 25, "REL-0026"),
            (&c.plaats, 50, "REL-0027"),
            (&c.contactpersoon, 50, "REL-0028"),
        ] {
            if val.as_ref().is_some_and(|s| len(s) > max) {
                v.add(code);
            }
        }
        if c.land.is_some_and(|l| seed::land(&l).is_none()) {
            v.add("REL-0055");
        }
        if let Some(e) = &self.email {
            if len(e) > 250 {
                v.add("REL-0085");
            } else if !valid_email_list(e) {
                v.add("REL-0084");
            }
        }
        for (i, (_, codes)) in EMAIL_BLOCKS.iter().enumerate() {
            let b = &self.emails[i];
            match &b.email {
                None if b.should_send => v.add(codes[0]),
                Some(e) if len(e) > 250 => v.add(codes[2]),
                Some(e) if !valid_email_list(e) => v.add(codes[1]),
                _ => {}
            }
            match &b.cc_email {
                Some(e) if len(e) > 250 => v.add(codes[4]),
                Some(e) if !valid_email_list(e) => v.add(codes[3]),
                _ => {}
            }
        }
        if let Some(o) = &self.oin
            && (o.len() != 20 || !o.chars().all(|c| c.is_ascii_digit()))
        {
            v.add("REL-0086");
        }
        if let Some(b) = &self.btw_nummer {
            let n = len(b);
            let mut bad = false;
            if n > 50 {
                v.add("REL-0057");
                bad = true;
            }
            if n < 2 {
                v.add("REL-0058");
                bad = true;
            }
            if !b.chars().all(|c| c.is_ascii_alphanumeric()) {
                v.add("REL-0059");
                bad = true;
            }
            if bad || !plausible_vat(b) {
                v.add("REL-0088");
            } else if let Some(land) = a.land.and_then(|l| seed::land(&l)) {
                let prefix = b.get(..2).unwrap_or("").to_ascii_uppercase();
                let expected = if land.iso2 == "GR" { "EL" } else { land.iso2 };
                if prefix.chars().all(|c| c.is_ascii_alphabetic()) && prefix != expected {
                    v.add("REL-0087");
                }
            }
        }
        v.0
    }

    /// The stored RelatieModel JSON (GET shape, including `fax`).
    pub fn to_json(&self, id: Uuid, code: i32, modified: NaiveDateTime) -> Value {
        let mut m = json!({
            "relatiesoort": self.soorten,
            "modifiedOn": fmt_stamp(modified),
            "relatiecode": code,
            "naam": self.naam.as_deref().map(str::trim),
            "vestigingsAdres": adres_json(&self.vestigings),
            "correspondentieAdres": adres_json(&self.correspondentie),
            "telefoon": self.telefoon,
            "mobieleTelefoon": self.mobiele_telefoon,
            "fax": null,
            "email": self.email,
            "btwNummer": self.btw_nummer,
            "factuurkorting": dec(self.factuurkorting.unwrap_or_default()),
            "krediettermijn": self.krediettermijn.unwrap_or(0),
            "bankieren": self.bankieren,
            "nonactief": self.nonactief,
            "kredietLimiet": dec(self.kredietlimiet.unwrap_or_default()),
            "memo": self.memo,
            "kvkNummer": self.kvk,
            "oin": self.oin,
            "websiteUrl": self.website,
            "aanmaningsoort": self.aanmaningsoort.unwrap_or("Nee"),
            "ublBestandAlsBijlage": self.ubl,
            "iban": self.iban,
            "bic": self.bic,
            "incassoSoort": self.incassosoort.unwrap_or("Geen"),
            "factuurRelatie": self.factuurrelatie.map(|f| reference("relaties", f)),
            "inkoopBoekingenUri": format!("/relaties/{id}/inkoopboekingen"),
            "verkoopBoekingenUri": format!("/relaties/{id}/verkoopboekingen"),
            "documents": [],
            "id": id,
            "uri": format!("/relaties/{id}"),
            "extraVeldenKlant": [],
        });
        if let Value::Object(map) = &mut m {
            for (i, (name, _)) in EMAIL_BLOCKS.iter().enumerate() {
                let b = &self.emails[i];
                map.insert(
                    (*name).to_owned(),
                    json!({ "shouldSend": b.should_send, "email": b.email, "ccEmail": b.cc_email }),
                );
            }
        }
        m
    }
}

fn read_soorten(o: Obj<'_>) -> Result<Vec<&'static str>, FieldError> {
    let bad = |v: &Value| FieldError {
        field: "relatiesoort".into(),
        problem: format!("'{v}' is not a valid RelatieSoort"),
    };
    let mut out = Vec::new();
    match o.raw("relatiesoort") {
        None => {}
        Some(Value::Array(items)) => {
            for it in items {
                out.push(enum_value(it, &SOORTEN).ok_or_else(|| bad(it))?);
            }
        }
        Some(Value::String(s)) => {
            for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                let v = Value::String(part.to_owned());
                out.push(enum_value(&v, &SOORTEN).ok_or_else(|| bad(&v))?);
            }
        }
        Some(v @ Value::Number(_)) => out.push(enum_value(v, &SOORTEN).ok_or_else(|| bad(v))?),
        Some(v) => return Err(bad(v)),
    }
    Ok(out)
}

fn len(s: &str) -> usize {
    s.chars().count()
}

pub fn reference(collection: &str, id: Uuid) -> Value {
    json!({ "id": id, "uri": format!("/{collection}/{id}") })
}

fn adres_json(a: &Adres) -> Value {
    json!({
        "contactpersoon": a.contactpersoon,
        "straat": a.straat,
        "postcode": a.postcode,
        "plaats": a.plaats,
        "land": a.land.map(|l| reference("landen", l)),
    })
}

fn valid_email_list(list: &str) -> bool {
    list.split(';').map(str::trim).all(|e| {
        if e.is_empty() || e.contains(char::is_whitespace) {
            return false;
        }
        let mut parts = e.split('@');
        match (parts.next(), parts.next(), parts.next()) {
            (Some(local), Some(domain), None) => {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            }
            _ => false,
        }
    })
}

fn valid_iban(iban: &str) -> bool {
    let s: String = iban
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase();
    if !(15..=34).contains(&s.len()) || !s.chars().all(|c| c.is_ascii_alphanumeric()) {
        return false;
    }
    let b = s.as_bytes();
    if !b[0].is_ascii_alphabetic() || !b[1].is_ascii_alphabetic() {
        return false;
    }
    let rearranged = format!("{}{}", &s[4..], &s[..4]);
    let mut rem: u32 = 0;
    for c in rearranged.chars() {
        let v = match c.to_digit(36) {
            Some(v) => v,
            None => return false,
        };
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    rem == 1
}

fn valid_bic(bic: &str) -> bool {
    let n = bic.len();
    (n == 8 || n == 11)
        && bic.chars().all(|c| c.is_ascii_alphanumeric())
        && bic[..6].chars().all(|c| c.is_ascii_alphabetic())
}

/// The format check SnelStart does beyond "letters and digits": Dutch numbers must look like
/// `NL999999999B99`; others need a two-letter country prefix and at least two more characters.
fn plausible_vat(b: &str) -> bool {
    let u = b.to_ascii_uppercase();
    let bytes = u.as_bytes();
    if bytes.len() < 4 || !bytes[0].is_ascii_alphabetic() || !bytes[1].is_ascii_alphabetic() {
        return false;
    }
    if u.starts_with("NL") {
        return bytes.len() == 14
            && bytes[2..11].iter().all(u8::is_ascii_digit)
            && bytes[11] == b'B'
            && bytes[12..14].iter().all(u8::is_ascii_digit);
    }
    true
}

fn read_body(body: &Value) -> Result<RelatieData, Reply> {
    match body {
        Value::Null => Err(Reply::violations(&[Violation::new("ALG-0106")])),
        Value::Object(m) => RelatieData::read(Obj(m)).map_err(|e| {
            Reply::violations(&[Violation::with(
                "REL-0066",
                format!("{}: {}", e.field, e.problem),
            )])
        }),
        _ => Err(Reply::violations(&[Violation::new("REL-0066")])),
    }
}

/// The RelatieWriteModel shape of a stored row (no `fax`).
fn write_model(json: &Value) -> Value {
    let mut out = json.clone();
    if let Value::Object(m) = &mut out {
        m.remove("fax");
    }
    out
}

/// `POST /relaties` with a lower-cased body.
pub fn create(admin: &mut Admin, body: &Value) -> Reply {
    let data = match read_body(body) {
        Ok(d) => d,
        Err(r) => return r,
    };
    let problems = data.validate(admin, None);
    if !problems.is_empty() {
        return Reply::violations(&problems);
    }
    let id = Uuid::new_v4();
    let code = data.code.unwrap_or_else(|| {
        admin
            .relatie_codes
            .keys()
            .copied()
            .max()
            .unwrap_or(0)
            .max(0)
            .saturating_add(1)
    });
    let json = data.to_json(id, code, now_local());
    let reply = Reply::write(201, &write_model(&json));
    insert(admin, &data, id, code, json);
    reply
}

pub fn insert(admin: &mut Admin, data: &RelatieData, id: Uuid, code: i32, json: Value) {
    admin.relatie_codes.insert(code, id);
    admin.relaties.insert(Relatie {
        id,
        code,
        soorten: data.soorten.clone(),
        nonactief: data.nonactief,
        krediettermijn: data.krediettermijn.unwrap_or(0),
        json: to_bytes(&json).into(),
    });
}

/// `PUT /relaties/{id}`: full replace (an omitted relatiecode keeps the current one).
pub fn update(admin: &mut Admin, id: Uuid, body: &Value) -> Reply {
    let Some(existing) = admin.relaties.get(&id) else {
        return Reply::not_found("relatie", id);
    };
    let data = match read_body(body) {
        Ok(d) => d,
        Err(r) => return r,
    };
    let problems = data.validate(admin, Some(existing));
    if !problems.is_empty() {
        return Reply::violations(&problems);
    }
    let old_code = existing.code;
    let code = data.code.unwrap_or(old_code);
    let json = data.to_json(id, code, now_local());
    let reply = Reply::write(200, &write_model(&json));
    if old_code != code {
        admin.relatie_codes.remove(&old_code);
        admin.relatie_codes.insert(code, id);
    }
    if let Some(r) = admin.relaties.get_mut(&id) {
        r.code = code;
        r.soorten = data.soorten;
        r.nonactief = data.nonactief;
        r.krediettermijn = data.krediettermijn.unwrap_or(0);
        r.json = to_bytes(&json).into();
    }
    reply
}

/// `DELETE /relaties/{id}`.
pub fn delete(admin: &mut Admin, id: Uuid) -> Reply {
    let Some(r) = admin.relaties.get(&id) else {
        return Reply::not_found("relatie", id);
    };
    if r.code <= 0 {
        let code = if r.is("Leverancier") {
            "REL-0067"
        } else {
            "REL-0103"
        };
        return Reply::violations(&[Violation::new(code)]);
    }
    let open = admin
        .facturen
        .iter()
        .any(|f| f.relatie == id && !f.openstaand.is_zero());
    if open {
        return Reply::violations(&[Violation::new("REL-0049")]);
    }
    if let Some(r) = admin.relaties.remove(&id) {
        admin.relatie_codes.remove(&r.code);
    }
    Reply::json(200, &json!({}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iban_and_vat_checks() {
        assert!(valid_iban("NL91ABNA0417164300"));
        assert!(valid_iban("NL91 ABNA 0417 1643 00"));
        assert!(!valid_iban("NL00ABNA0417164300"));
        assert!(plausible_vat("NL123456789B01"));
        assert!(!plausible_vat("NL123"));
        assert!(plausible_vat("BE0123456789"));
        assert!(valid_email_list("a@b.nl; c@d.com"));
        assert!(!valid_email_list("a@b"));
        assert!(valid_bic("ABNANL2A"));
    }
}
