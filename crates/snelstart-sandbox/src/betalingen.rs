//! Bank and cash bookings (`/bankboekingen`, `/kasboekingen`) and what they do to the
//! verkoopfacturen they settle: each `verkoopboekingBoekingsRegels[]` line lowers (credit) or
//! raises (debet) the `openstaandSaldo` of its verkoopboeking's verkoopfactuur, and every such
//! change moves the verkoopfactuur's `modifiedOn` (product §8.2, SnelStart README §6.3).
//! Also the accountant's edit of a verkoopboeking (`gewijzigdDoorAccountant`).

use rust_decimal::Decimal;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::admin::{Admin, Plain};
use crate::api::Reply;
use crate::errors::{Problems, model_state};
use crate::input::{FieldError, Obj};
use crate::json::{dec, fmt_date, fmt_stamp, now_local, parse_decimal};
use crate::relaties::reference;

/// Which journal kind a booking belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `/bankboekingen` (dagboek soort `Bank`).
    Bank,
    /// `/kasboekingen` (dagboek soort `Kas`).
    Kas,
}

impl Kind {
    fn resource(self) -> &'static str {
        match self {
            Kind::Bank => "bankboekingen",
            Kind::Kas => "kasboekingen",
        }
    }

    fn soort(self) -> &'static str {
        match self {
            Kind::Bank => "Bank",
            Kind::Kas => "Kas",
        }
    }

    /// The code for a dagboek that is missing or of the wrong soort.
    fn dagboek_missing(self) -> &'static str {
        match self {
            Kind::Bank => "BOE-0096",
            Kind::Kas => "BOE-0025",
        }
    }

    fn table(self, admin: &mut Admin) -> &mut crate::admin::Table<Plain> {
        match self {
            Kind::Bank => &mut admin.bankboekingen,
            Kind::Kas => &mut admin.kasboekingen,
        }
    }

    fn table_ref(self, admin: &Admin) -> &crate::admin::Table<Plain> {
        match self {
            Kind::Bank => &admin.bankboekingen,
            Kind::Kas => &admin.kasboekingen,
        }
    }
}

struct Line {
    reference: Option<Uuid>,
    omschrijving: Option<String>,
    debet: Decimal,
    credit: Decimal,
}

struct Data {
    id: Option<Uuid>,
    datum: Option<chrono::NaiveDateTime>,
    markering: bool,
    boekstuk: Option<String>,
    omschrijving: Option<String>,
    dagboek: Option<Uuid>,
    ontvangen: Decimal,
    uitgegeven: Decimal,
    grootboek: Vec<(Line, Option<&'static str>)>,
    verkoop: Vec<Line>,
    inkoop: Vec<Line>,
    btw: Vec<(Decimal, Decimal, Option<&'static str>, Option<&'static str>)>,
}

fn at(prefix: &str, i: usize, e: FieldError) -> FieldError {
    FieldError {
        field: format!("{prefix}[{i}].{}", e.field),
        problem: e.problem,
    }
}

fn objects<'a>(o: Obj<'a>, key: &str) -> Result<Vec<Obj<'a>>, FieldError> {
    let mut out = Vec::new();
    for (i, v) in o.array(key)?.into_iter().flatten().enumerate() {
        match v {
            Value::Object(m) => out.push(Obj(m)),
            _ => {
                return Err(FieldError {
                    field: format!("{key}[{i}]"),
                    problem: "expected an object".into(),
                });
            }
        }
    }
    Ok(out)
}

fn line(r: Obj<'_>, reference_key: &str) -> Result<Line, FieldError> {
    Ok(Line {
        reference: r.ref_id(reference_key)?,
        omschrijving: r.str("omschrijving")?,
        debet: r.decimal("debet")?.unwrap_or_default(),
        credit: r.decimal("credit")?.unwrap_or_default(),
    })
}

impl Data {
    fn read(o: Obj<'_>) -> Result<Self, FieldError> {
        let mut grootboek = Vec::new();
        for (i, r) in objects(o, "grootboekboekingsregels")?
            .into_iter()
            .enumerate()
        {
            let soort = r
                .enumeration("btwsoort", &crate::boekingen::BTW_SOORTEN)
                .map_err(|e| at("grootboekBoekingsRegels", i, e))?;
            grootboek.push((
                line(r, "grootboek").map_err(|e| at("grootboekBoekingsRegels", i, e))?,
                soort,
            ));
        }
        let mut verkoop = Vec::new();
        for (i, r) in objects(o, "verkoopboekingboekingsregels")?
            .into_iter()
            .enumerate()
        {
            verkoop
                .push(line(r, "boekingid").map_err(|e| at("verkoopboekingBoekingsRegels", i, e))?);
        }
        let mut inkoop = Vec::new();
        for (i, r) in objects(o, "inkoopboekingboekingsregels")?
            .into_iter()
            .enumerate()
        {
            inkoop.push(line(r, "boekingid").map_err(|e| at("inkoopboekingBoekingsRegels", i, e))?);
        }
        let mut btw = Vec::new();
        for (i, r) in objects(o, "btwboekingsregels")?.into_iter().enumerate() {
            let p = |e| at("btwBoekingsregels", i, e);
            btw.push((
                r.decimal("debet").map_err(p)?.unwrap_or_default(),
                r.decimal("credit").map_err(p)?.unwrap_or_default(),
                r.enumeration("type", &["TeVorderenBtwType", "AfTeDragenBtwType"])
                    .map_err(p)?,
                r.enumeration("tarief", &["Hoog", "Laag", "Overig"])
                    .map_err(p)?,
            ));
        }
        Ok(Self {
            id: o.uuid("id")?,
            datum: o.date("datum")?,
            markering: o.bool("markering")?.unwrap_or(false),
            boekstuk: o.str("boekstuk")?,
            omschrijving: o.str("omschrijving")?,
            dagboek: o.ref_id("dagboek")?,
            ontvangen: o.decimal("bedragontvangen")?.unwrap_or_default(),
            uitgegeven: o.decimal("bedraguitgegeven")?.unwrap_or_default(),
            grootboek,
            verkoop,
            inkoop,
            btw,
        })
    }

    fn validate(&self, admin: &Admin, kind: Kind, url_id: Option<Uuid>) -> Problems {
        let mut v = Problems::default();
        match url_id {
            None if self.id.is_some() => v.add("ALG-0100"),
            Some(u) if self.id.is_some_and(|id| id != u) => v.add("ALG-0101"),
            _ => {}
        }
        if self.datum.is_none() {
            v.add("BOE-0070");
        }
        let dagboek_ok = self.dagboek.is_some_and(|d| {
            admin.dagboeken.get(&d).is_some_and(|row| {
                row.json.get("soort").and_then(Value::as_str) == Some(kind.soort())
            })
        });
        if !dagboek_ok {
            v.add(kind.dagboek_missing());
        }
        if !self.ontvangen.is_zero() && !self.uitgegeven.is_zero() {
            v.add("BOE-0027");
        }
        if self
            .boekstuk
            .as_deref()
            .is_some_and(|b| b.chars().count() > 25)
        {
            v.add("BOE-0068");
        }
        let long = |s: &Option<String>| s.as_deref().is_some_and(|s| s.chars().count() > 250);
        if long(&self.omschrijving)
            || self.verkoop.iter().any(|l| long(&l.omschrijving))
            || self.grootboek.iter().any(|(l, _)| long(&l.omschrijving))
        {
            v.add("BOE-0071");
        }
        for l in &self.verkoop {
            if l.reference
                .is_none_or(|id| admin.boekingen.get(&id).is_none())
            {
                v.add("BOE-0001");
            }
        }
        // This stand-in keeps no inkoopboekingen: any reference to one is not found.
        if !self.inkoop.is_empty() {
            v.add("BOE-0001");
        }
        for (l, _) in &self.grootboek {
            if l.reference
                .is_none_or(|id| admin.grootboeken.get(&id).is_none())
            {
                v.add("BOE-0037");
            }
        }
        // What came in (or went out) must be accounted for by the lines.
        let lines: Decimal = self
            .verkoop
            .iter()
            .chain(self.inkoop.iter())
            .chain(self.grootboek.iter().map(|(l, _)| l))
            .map(|l| l.credit - l.debet)
            .sum::<Decimal>()
            + self.btw.iter().map(|(d, c, _, _)| *c - *d).sum::<Decimal>();
        if lines != self.ontvangen - self.uitgegeven {
            v.add("BOE-0039");
        }
        v
    }

    fn json(&self, kind: Kind, id: Uuid, modified: chrono::NaiveDateTime) -> Value {
        let verantwoording = |l: &Line, key: &str| {
            json!({
                "boekingId": l.reference.map(|r| reference(key, r)),
                "omschrijving": l.omschrijving,
                "debet": dec(l.debet),
                "credit": dec(l.credit),
            })
        };
        json!({
            "modifiedOn": fmt_stamp(modified),
            "datum": self.datum.map(fmt_date),
            "markering": self.markering,
            "boekstuk": self.boekstuk,
            "gewijzigdDoorAccountant": false,
            "omschrijving": self.omschrijving,
            "grootboekBoekingsRegels": self.grootboek.iter().map(|(l, soort)| json!({
                "omschrijving": l.omschrijving,
                "grootboek": l.reference.map(|g| reference("grootboeken", g)),
                "kostenplaats": null,
                "debet": dec(l.debet),
                "credit": dec(l.credit),
                "btwSoort": soort,
            })).collect::<Vec<_>>(),
            "inkoopboekingBoekingsRegels": self.inkoop.iter().map(|l| verantwoording(l, "inkoopboekingen")).collect::<Vec<_>>(),
            "verkoopboekingBoekingsRegels": self.verkoop.iter().map(|l| verantwoording(l, "verkoopboekingen")).collect::<Vec<_>>(),
            "btwBoekingsregels": self.btw.iter().map(|(d, c, t, tarief)| json!({
                "debet": dec(*d), "credit": dec(*c), "type": t, "tarief": tarief,
            })).collect::<Vec<_>>(),
            "bedragUitgegeven": dec(self.uitgegeven),
            "bedragOntvangen": dec(self.ontvangen),
            "dagboek": self.dagboek.map(|d| reference("dagboeken", d)),
            "id": id,
            "uri": format!("/{}/{id}", kind.resource()),
        })
    }
}

/// What a stored bank or cash booking settles: (verkoopboeking, credit − debet) per line.
fn settled(json: &Value) -> Vec<(Uuid, Decimal)> {
    json.get("verkoopboekingBoekingsRegels")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|l| {
            let id = l
                .get("boekingId")
                .and_then(|b| b.get("id"))
                .and_then(Value::as_str)
                .and_then(|s| Uuid::parse_str(s).ok())?;
            let amount = |k: &str| {
                l.get(k)
                    .and_then(|v| match v {
                        Value::Number(n) => parse_decimal(&n.to_string()),
                        Value::String(s) => parse_decimal(s),
                        _ => None,
                    })
                    .unwrap_or_default()
            };
            Some((id, amount("credit") - amount("debet")))
        })
        .collect()
}

/// Lowers the `openstaandSaldo` of the verkoopfactuur of each settled verkoopboeking by
/// `sign` × the settled amount, moving its `modifiedOn`.
fn apply(admin: &mut Admin, lines: &[(Uuid, Decimal)], sign: Decimal) {
    let now = now_local();
    for (boeking, amount) in lines {
        let Some(factuur) = admin.boekingen.get(boeking).map(|b| b.factuur) else {
            continue;
        };
        if let Some(f) = admin.facturen.get_mut(&factuur) {
            f.openstaand -= *amount * sign;
            f.json = rewrite(&f.json, |m| {
                m.insert("openstaandSaldo".into(), dec(f.openstaand));
                m.insert("modifiedOn".into(), Value::String(fmt_stamp(now)));
            });
        }
    }
}

/// The stored JSON `raw` with `change` applied to its object.
fn rewrite(raw: &[u8], change: impl FnOnce(&mut Map<String, Value>)) -> Box<[u8]> {
    let mut value: Value = serde_json::from_slice(raw).unwrap_or(Value::Null);
    if let Value::Object(m) = &mut value {
        change(m);
    }
    crate::json::to_bytes(&value).into()
}

fn read(body: &Value, kind: Kind) -> Result<Data, Reply> {
    let name = match kind {
        Kind::Bank => "bankboeking",
        Kind::Kas => "kasboeking",
    };
    match body {
        Value::Null => Err(Reply::violations(&[crate::errors::Violation::new(
            "ALG-0106",
        )])),
        Value::Object(m) => Data::read(Obj(m)).map_err(|e| {
            Reply::json(
                400,
                &model_state(&format!("{name}.{}", e.field), &e.problem),
            )
        }),
        _ => Err(Reply::json(
            400,
            &model_state(name, "expected a JSON object"),
        )),
    }
}

/// `POST /bankboekingen` or `/kasboekingen`: books it and settles the verkoopfacturen named.
pub fn create(admin: &mut Admin, kind: Kind, body: &Value) -> Reply {
    let data = match read(body, kind) {
        Ok(d) => d,
        Err(r) => return r,
    };
    let problems = data.validate(admin, kind, None);
    if !problems.0.is_empty() {
        return Reply::violations(&problems.0);
    }
    let id = Uuid::new_v4();
    let json = data.json(kind, id, now_local());
    apply(admin, &settled(&json), Decimal::ONE);
    kind.table(admin).insert(Plain {
        id,
        json: json.clone(),
    });
    Reply::write(201, &json)
}

/// `PUT /bankboekingen/{id}`: replaces it; the old settlement is undone, the new one applied.
pub fn update(admin: &mut Admin, kind: Kind, id: Uuid, body: &Value) -> Reply {
    let Some(old) = kind.table_ref(admin).get(&id).map(|r| r.json.clone()) else {
        return Reply::not_found(kind.resource().trim_end_matches("en"), id);
    };
    let data = match read(body, kind) {
        Ok(d) => d,
        Err(r) => return r,
    };
    let problems = data.validate(admin, kind, Some(id));
    if !problems.0.is_empty() {
        return Reply::violations(&problems.0);
    }
    apply(admin, &settled(&old), Decimal::NEGATIVE_ONE);
    let json = data.json(kind, id, now_local());
    apply(admin, &settled(&json), Decimal::ONE);
    if let Some(row) = kind.table(admin).get_mut(&id) {
        row.json = json.clone();
    }
    Reply::write(200, &json)
}

/// `DELETE /bankboekingen/{id}`: removes it; what it settled is open again.
pub fn delete(admin: &mut Admin, kind: Kind, id: Uuid) -> Reply {
    let Some(row) = kind.table(admin).remove(&id) else {
        return Reply::not_found(kind.resource().trim_end_matches("en"), id);
    };
    apply(admin, &settled(&row.json), Decimal::NEGATIVE_ONE);
    Reply::json(200, &json!({}))
}

/// Whether a verkoopboeking has payments (its verkoopfactuur is not fully open).
pub fn has_payments(admin: &Admin, boeking: Uuid) -> bool {
    [&admin.bankboekingen, &admin.kasboekingen]
        .into_iter()
        .flat_map(|t| t.iter())
        .any(|row| settled(&row.json).iter().any(|(b, _)| *b == boeking))
}

/// The accountant deletes verkoopboeking `id` in SnelStart's own screens: first every bank
/// and cash booking that settles it (SnelStart refuses to delete a booking with payments,
/// BOE-0083), then the booking and its verkoopfactuur. `false` for an unknown id.
pub fn accountant_delete(admin: &mut Admin, id: Uuid) -> bool {
    if admin.boekingen.get(&id).is_none() {
        return false;
    }
    for kind in [Kind::Bank, Kind::Kas] {
        let payments: Vec<Uuid> = kind
            .table_ref(admin)
            .iter()
            .filter(|row| settled(&row.json).iter().any(|(b, _)| *b == id))
            .map(|row| row.id)
            .collect();
        for payment in payments {
            delete(admin, kind, payment);
        }
    }
    crate::boekingen::delete(admin, id).status == 200
}

/// `POST /_sandbox/accountant/edit`: the accountant changes a verkoopboeking in SnelStart's
/// own screens: the given top-level fields (any case) are replaced without SnelStart's API
/// validation, `gewijzigdDoorAccountant` becomes true, `modifiedOn` moves, and the
/// verkoopfactuur follows (`factuurBedrag`, `factuurDatum`, `relatie`; the amount paid stays
/// paid). Returns the changed booking, or `None` for an unknown id.
pub fn accountant_edit(admin: &mut Admin, id: Uuid, changes: &Map<String, Value>) -> Option<Value> {
    let (factuur, raw) = {
        let b = admin.boekingen.get(&id)?;
        (b.factuur, b.json.clone())
    };
    let mut booking: Value = serde_json::from_slice(&raw).ok()?;
    let now = now_local();
    if let Value::Object(m) = &mut booking {
        for (key, value) in changes {
            let existing = m
                .keys()
                .find(|k| k.eq_ignore_ascii_case(key))
                .cloned()
                .unwrap_or_else(|| key.clone());
            m.insert(existing, value.clone());
        }
        m.insert("gewijzigdDoorAccountant".into(), Value::Bool(true));
        m.insert("modifiedOn".into(), Value::String(fmt_stamp(now)));
    }
    let amount = |v: Option<&Value>| match v {
        Some(Value::Number(n)) => parse_decimal(&n.to_string()),
        Some(Value::String(s)) => parse_decimal(s),
        _ => None,
    };
    let bedrag = amount(booking.get("factuurbedrag"));
    let klant = booking
        .get("klant")
        .and_then(|k| k.get("id"))
        .and_then(Value::as_str)
        .and_then(|s| Uuid::parse_str(s).ok());
    let datum = booking.get("factuurdatum").cloned();
    let nummer = booking
        .get("factuurnummer")
        .and_then(Value::as_str)
        .map(str::to_owned);
    if let Some(f) = admin.facturen.get_mut(&factuur) {
        if let Some(bedrag) = bedrag {
            let paid = f.bedrag - f.openstaand;
            f.bedrag = bedrag;
            f.openstaand = bedrag - paid;
        }
        if let Some(klant) = klant {
            f.relatie = klant;
        }
        let (bedrag, openstaand, relatie) = (f.bedrag, f.openstaand, f.relatie);
        f.json = rewrite(&f.json, |m| {
            m.insert("factuurBedrag".into(), dec(bedrag));
            m.insert("openstaandSaldo".into(), dec(openstaand));
            m.insert("relatie".into(), reference("relaties", relatie));
            if let Some(d) = datum {
                m.insert("factuurDatum".into(), d);
            }
            if let Some(n) = &nummer {
                m.insert("factuurnummer".into(), Value::String(n.clone()));
            }
            m.insert("modifiedOn".into(), Value::String(fmt_stamp(now)));
        });
    }
    let old_nummer = admin.boekingen.get(&id).map(|b| b.factuurnummer.clone());
    if let Some(b) = admin.boekingen.get_mut(&id) {
        b.json = crate::json::to_bytes(&booking).into();
        if let Some(k) = klant {
            b.klant = k;
        }
        if let Some(n) = &nummer {
            b.factuurnummer.clone_from(n);
        }
    }
    if let (Some(old), Some(new)) = (old_nummer, nummer)
        && old != new
    {
        admin.factuurnummers.remove(&old);
        admin.factuurnummers.insert(new, id);
    }
    Some(booking)
}
