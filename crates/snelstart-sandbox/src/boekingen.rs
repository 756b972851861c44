//! Verkoopboekingen and the verkoopfacturen derived from them: lenient reading, the BOE-* rules, stored JSON.

use chrono::{Datelike, Duration, NaiveDateTime};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::admin::{Admin, Boeking, Factuur};
use crate::api::Reply;
use crate::errors::{Problems, Violation, model_state};
use crate::input::{FieldError, Obj};
use crate::json::{dec, fmt_date, fmt_stamp, now_local, parse_date, to_bytes};
use crate::relaties::reference;

pub const BTW_SOORTEN: [&str; 4] = ["Geen", "Laag", "Hoog", "Overig"];
pub const BTW_REGEL_SOORTEN: [&str; 8] = [
    "Geen",
    "VerkopenLaag",
    "VerkopenHoog",
    "VerkopenOverig",
    "VerkopenVerlegd",
    "InkopenLaag",
    "InkopenHoog",
    "InkopenOverig",
];

/// Grootboekfuncties a verkoopboekingsregel may not be booked on (BOE-0061).
const FORBIDDEN_FUNCTIES: [&str; 17] = [
    "DagboekKas",
    "DagboekBank",
    "DagboekGiro",
    "DagboekVerkoop",
    "DagboekInkoop",
    "DagboekMemoriaal",
    "DagboekBalans",
    "BtwAfteDragenLaag",
    "BtwAfTeDragenHoog",
    "BtwAfTeDragenOverig",
    "BtwAfTeDragenVerlegdVerkopen",
    "BtwTeVorderenVerlegd",
    "BtwTeVorderenLaag",
    "BtwTeVorderenHoog",
    "BtwTeVorderenOverig",
    "BtwAfTeDragenVerlegdInkopen",
    "BtwTeVorderenVerlegdInkopen",
];

struct Regel {
    omschrijving: Option<String>,
    grootboek: Option<Uuid>,
    kostenplaats: Option<Uuid>,
    bedrag: Option<Decimal>,
    btw_soort: Option<&'static str>,
}

struct BtwRegel {
    soort: Option<&'static str>,
    bedrag: Decimal,
}

struct BoekingData {
    id: Option<Uuid>,
    factuurnummer: Option<String>,
    factuurdatum: Option<String>,
    klant: Option<Uuid>,
    omschrijving: Option<String>,
    factuurbedrag: Option<Decimal>,
    betalingstermijn: Option<i32>,
    boekstuk: Option<String>,
    markering: bool,
    eenmalige: Option<Value>,
    doorlopende: Option<Uuid>,
    regels: Vec<Regel>,
    btw: Vec<BtwRegel>,
}

fn field(prefix: &str, e: FieldError) -> FieldError {
    FieldError {
        field: format!("{prefix}.{}", e.field),
        problem: e.problem,
    }
}

impl BoekingData {
    fn read(o: Obj<'_>) -> Result<Self, FieldError> {
        let mut regels = Vec::new();
        for (i, r) in o.array("boekingsregels")?.into_iter().flatten().enumerate() {
            let Value::Object(m) = r else {
                return Err(FieldError {
                    field: format!("boekingsregels[{i}]"),
                    problem: "expected an object".into(),
                });
            };
            let r = Obj(m);
            let p = format!("boekingsregels[{i}]");
            regels.push(Regel {
                omschrijving: r.str("omschrijving").map_err(|e| field(&p, e))?,
                grootboek: r.ref_id("grootboek").map_err(|e| field(&p, e))?,
                kostenplaats: r.ref_id("kostenplaats").map_err(|e| field(&p, e))?,
                bedrag: r.decimal("bedrag").map_err(|e| field(&p, e))?,
                btw_soort: r
                    .enumeration("btwsoort", &BTW_SOORTEN)
                    .map_err(|e| field(&p, e))?,
            });
        }
        let mut btw = Vec::new();
        for (i, r) in o.array("btw")?.into_iter().flatten().enumerate() {
            let Value::Object(m) = r else {
                return Err(FieldError {
                    field: format!("btw[{i}]"),
                    problem: "expected an object".into(),
                });
            };
            let r = Obj(m);
            let p = format!("btw[{i}]");
            btw.push(BtwRegel {
                soort: r
                    .enumeration("btwsoort", &BTW_REGEL_SOORTEN)
                    .map_err(|e| field(&p, e))?,
                bedrag: r
                    .decimal("btwbedrag")
                    .map_err(|e| field(&p, e))?
                    .unwrap_or_default(),
            });
        }
        let betalingstermijn = o.int32("betalingstermijn")?;
        if let Some(t) = betalingstermijn
            && !(0..=999).contains(&t)
        {
            return Err(FieldError {
                field: "betalingstermijn".into(),
                problem: "The field Betalingstermijn must be between 0 and 999.".into(),
            });
        }
        let factuurdatum = match o.raw("factuurdatum") {
            None => None,
            Some(Value::String(s)) if s.trim().is_empty() => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                return Err(FieldError {
                    field: "factuurdatum".into(),
                    problem: "expected a date string".into(),
                });
            }
        };
        Ok(Self {
            id: o.uuid("id")?,
            factuurnummer: o.str("factuurnummer")?,
            factuurdatum,
            klant: o.ref_id("klant")?,
            omschrijving: o.str("omschrijving")?,
            factuurbedrag: o.decimal("factuurbedrag")?,
            betalingstermijn,
            boekstuk: o.str("boekstuk")?,
            markering: o.bool("markering")?.unwrap_or(false),
            eenmalige: match o.obj("eenmaligeincassomachtiging")? {
                None => None,
                Some(e) => Some(json!({
                    "kenmerk": e.str("kenmerk")?,
                    "omschrijving": e.str("omschrijving")?,
                    "datum": e.date("datum")?.map(fmt_date),
                })),
            },
            doorlopende: o.ref_id("doorlopendeincassomachtiging")?,
            regels,
            btw,
        })
    }
}

fn len(s: &str) -> usize {
    s.chars().count()
}

/// What validation resolved: the booking date, the payment term and each regel's btw soort.
struct Resolved {
    datum: NaiveDateTime,
    termijn: i32,
    btw_soorten: Vec<&'static str>,
}

fn validate(
    admin: &Admin,
    d: &BoekingData,
    url_id: Option<Uuid>,
) -> Result<Resolved, Vec<Violation>> {
    let mut v = Problems::default();
    match url_id {
        None if d.id.is_some() => v.add("ALG-0100"),
        Some(u) if d.id.is_some_and(|id| id != u) => v.add("ALG-0101"),
        _ => {}
    }
    match d.factuurnummer.as_deref() {
        None => v.add("BOE-0058"),
        Some(f) if f.trim().is_empty() || len(f) > 25 => v.add("BOE-0058"),
        Some(f) => {
            if admin
                .factuurnummers
                .get(f)
                .is_some_and(|other| url_id != Some(*other))
            {
                v.add("BOE-0021");
            }
        }
    }
    let now = now_local();
    let datum = match d.factuurdatum.as_deref() {
        None => now.date().and_hms_opt(0, 0, 0).unwrap_or(now),
        Some(s) => match parse_date(s) {
            Some(dt) if (1900..=2400).contains(&dt.year()) => {
                if dt.year() < now.year() - 5 {
                    v.add("BOE-0033");
                }
                dt
            }
            _ => {
                v.add("BOE-0070");
                now
            }
        },
    };
    let mut termijn = d.betalingstermijn.unwrap_or(0);
    match d.klant.and_then(|k| admin.relaties.get(&k)) {
        None => v.add("REL-0005"),
        Some(k) => {
            if !k.is("Klant") {
                v.add("BOE-0060");
            }
            if k.nonactief {
                v.add("BOE-0054");
            }
            if d.betalingstermijn.is_none() {
                termijn = k.krediettermijn.clamp(0, 999);
            }
        }
    }
    if d.omschrijving.as_deref().is_some_and(|o| len(o) > 250) {
        v.add("BOE-0071");
    }
    if d.boekstuk.as_deref().is_some_and(|b| len(b) > 25) {
        v.add("BOE-0068");
    }
    if d.eenmalige.is_some() && d.doorlopende.is_some() {
        v.add("BOE-0064");
    }
    if d.regels.is_empty() {
        v.add("BOE-0023");
    }
    let mut btw_soorten = Vec::with_capacity(d.regels.len());
    for r in &d.regels {
        if r.omschrijving.as_deref().is_some_and(|o| len(o) > 250) {
            v.add("BOE-0071");
        }
        if r.bedrag.is_none_or(|b| b.is_zero()) {
            v.add("BOE-0028");
        }
        let g = r.grootboek.and_then(|g| admin.grootboeken.get(&g));
        let Some(g) = g else {
            v.add("BOE-0037");
            btw_soorten.push(r.btw_soort.unwrap_or("Geen"));
            continue;
        };
        if g.nonactief {
            v.add("BOE-0008");
        }
        if FORBIDDEN_FUNCTIES.contains(&g.functie) {
            v.add("BOE-0061");
        }
        if r.kostenplaats.is_some() {
            v.add("BOE-0019");
        } else if g.kostenplaats_verplicht {
            v.add("BOE-0022");
        }
        let soort = match r.btw_soort {
            Some(s) => {
                if !g.btw.contains(&s) {
                    v.add("BOE-0082");
                }
                s
            }
            None if g.btw.len() == 1 => g.btw[0],
            None if g.btw.contains(&"Geen") => "Geen",
            None => {
                v.add("BOE-0082");
                "Geen"
            }
        };
        btw_soorten.push(soort);
    }
    if d.btw
        .iter()
        .any(|b| b.soort.is_none_or(|s| s.starts_with("Inkopen")))
    {
        v.add("BOE-0069");
    }
    let verlegd = d.btw.iter().any(|b| b.soort == Some("VerkopenVerlegd"));
    if verlegd {
        let other_btw = d.btw.iter().any(|b| {
            b.soort
                .is_some_and(|s| s != "VerkopenVerlegd" && s != "Geen")
        });
        let other_regel = btw_soorten.iter().any(|s| *s != "Geen");
        if other_btw || other_regel {
            v.add("BOE-0062");
        }
    }
    let total: Decimal = d.regels.iter().filter_map(|r| r.bedrag).sum::<Decimal>()
        + d.btw.iter().map(|b| b.bedrag).sum::<Decimal>();
    if d.factuurbedrag.unwrap_or_default() != total {
        v.add("BOE-0039");
    }
    if v.0.is_empty() {
        Ok(Resolved {
            datum,
            termijn,
            btw_soorten,
        })
    } else {
        Err(v.0)
    }
}

fn boeking_json(d: &BoekingData, r: &Resolved, id: Uuid, modified: NaiveDateTime) -> Value {
    let factuurnummer = d.factuurnummer.as_deref().unwrap_or_default();
    let regels: Vec<Value> = d
        .regels
        .iter()
        .zip(&r.btw_soorten)
        .map(|(regel, soort)| {
            json!({
                "omschrijving": regel.omschrijving,
                "grootboek": regel.grootboek.map(|g| reference("grootboeken", g)),
                "kostenplaats": regel.kostenplaats.map(|k| reference("kostenplaatsen", k)),
                "bedrag": dec(regel.bedrag.unwrap_or_default()),
                "btwSoort": soort,
            })
        })
        .collect();
    let btw: Vec<Value> = d
        .btw
        .iter()
        .map(|b| json!({ "btwSoort": b.soort, "btwBedrag": dec(b.bedrag) }))
        .collect();
    json!({
        "modifiedOn": fmt_stamp(modified),
        "boekstuk": d.boekstuk.clone().unwrap_or_else(|| factuurnummer.to_owned()),
        "gewijzigdDoorAccountant": false,
        "markering": d.markering,
        "factuurdatum": fmt_date(r.datum),
        "factuurnummer": factuurnummer,
        "klant": d.klant.map(|k| reference("relaties", k)),
        "omschrijving": d.omschrijving,
        "factuurbedrag": dec(d.factuurbedrag.unwrap_or_default()),
        "betalingstermijn": r.termijn,
        "eenmaligeIncassoMachtiging": d.eenmalige,
        "doorlopendeIncassoMachtiging": d.doorlopende.map(|m| reference("doorlopendeincassomachtigingen", m)),
        "boekingsregels": regels,
        "btw": btw,
        "documents": [],
        "id": id,
        "uri": format!("/verkoopboekingen/{id}"),
    })
}

fn factuur_json(
    d: &BoekingData,
    r: &Resolved,
    factuur: Uuid,
    boeking: Uuid,
    openstaand: Decimal,
    modified: NaiveDateTime,
) -> Value {
    json!({
        "verkoopBoeking": reference("verkoopboekingen", boeking),
        "modifiedOn": fmt_stamp(modified),
        "openstaandSaldo": dec(openstaand),
        "factuurnummer": d.factuurnummer,
        "vervalDatum": fmt_date(r.datum + Duration::days(i64::from(r.termijn))),
        "relatie": d.klant.map(|k| reference("relaties", k)),
        "factuurDatum": fmt_date(r.datum),
        "factuurBedrag": dec(d.factuurbedrag.unwrap_or_default()),
        "verkoopOrders": [],
        "id": factuur,
        "uri": format!("/verkoopfacturen/{factuur}"),
    })
}

fn read_body(body: &Value) -> Result<BoekingData, Reply> {
    match body {
        Value::Null => Err(Reply::violations(&[Violation::new("ALG-0106")])),
        Value::Object(m) => BoekingData::read(Obj(m)).map_err(|e| {
            Reply::json(
                400,
                &model_state(&format!("verkoopBoeking.{}", e.field), &e.problem),
            )
        }),
        _ => Err(Reply::json(
            400,
            &model_state("verkoopBoeking", "expected a JSON object"),
        )),
    }
}

/// `POST /verkoopboekingen` with a lower-cased body: books it and derives the verkoopfactuur.
pub fn create(admin: &mut Admin, body: &Value) -> Reply {
    let d = match read_body(body) {
        Ok(d) => d,
        Err(r) => return r,
    };
    let resolved = match validate(admin, &d, None) {
        Ok(r) => r,
        Err(v) => return Reply::violations(&v),
    };
    let id = Uuid::new_v4();
    let factuur = Uuid::new_v4();
    let now = now_local();
    let json = to_bytes(&boeking_json(&d, &resolved, id, now));
    let reply = Reply::raw_write(201, json.clone());
    let factuurnummer = d.factuurnummer.clone().unwrap_or_default();
    let bedrag = d.factuurbedrag.unwrap_or_default();
    let klant = d.klant.unwrap_or_default();
    admin.facturen.insert(Factuur {
        id: factuur,
        relatie: klant,
        bedrag,
        openstaand: bedrag,
        json: to_bytes(&factuur_json(&d, &resolved, factuur, id, bedrag, now)).into(),
    });
    admin.factuurnummers.insert(factuurnummer.clone(), id);
    admin.boekingen.insert(Boeking {
        id,
        factuurnummer,
        klant,
        factuur,
        json: json.into(),
    });
    reply
}

/// `PUT /verkoopboekingen/{id}`: full replace; the verkoopfactuur follows.
pub fn update(admin: &mut Admin, id: Uuid, body: &Value) -> Reply {
    let Some(existing) = admin.boekingen.get(&id) else {
        return Reply::not_found("verkoopboeking", id);
    };
    let factuur = existing.factuur;
    let old_nummer = existing.factuurnummer.clone();
    let d = match read_body(body) {
        Ok(d) => d,
        Err(r) => return r,
    };
    let resolved = match validate(admin, &d, Some(id)) {
        Ok(r) => r,
        Err(v) => return Reply::violations(&v),
    };
    let now = now_local();
    let json = to_bytes(&boeking_json(&d, &resolved, id, now));
    let reply = Reply::raw_write(200, json.clone());
    let factuurnummer = d.factuurnummer.clone().unwrap_or_default();
    let bedrag = d.factuurbedrag.unwrap_or_default();
    let klant = d.klant.unwrap_or_default();
    if let Some(f) = admin.facturen.get_mut(&factuur) {
        // What was paid stays paid: the outstanding amount follows the new total.
        let paid = f.bedrag - f.openstaand;
        f.relatie = klant;
        f.bedrag = bedrag;
        f.openstaand = bedrag - paid;
        f.json = to_bytes(&factuur_json(&d, &resolved, factuur, id, f.openstaand, now)).into();
    }
    admin.factuurnummers.remove(&old_nummer);
    admin.factuurnummers.insert(factuurnummer.clone(), id);
    if let Some(b) = admin.boekingen.get_mut(&id) {
        b.factuurnummer = factuurnummer;
        b.klant = klant;
        b.json = json.into();
    }
    reply
}

/// `DELETE /verkoopboekingen/{id}`: removes the boeking and its verkoopfactuur.
pub fn delete(admin: &mut Admin, id: Uuid) -> Reply {
    let Some(b) = admin.boekingen.get(&id) else {
        return Reply::not_found("verkoopboeking", id);
    };
    let paid = admin
        .facturen
        .get(&b.factuur)
        .is_some_and(|f| f.openstaand != f.bedrag)
        || crate::betalingen::has_payments(admin, id);
    if paid {
        return Reply::violations(&[Violation::new("BOE-0083")]);
    }
    if let Some(b) = admin.boekingen.remove(&id) {
        admin.factuurnummers.remove(&b.factuurnummer);
        admin.facturen.remove(&b.factuur);
    }
    crate::documenten::remove_parent(admin, id);
    Reply::json(200, &json!({}))
}
