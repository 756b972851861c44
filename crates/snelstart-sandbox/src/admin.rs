//! One administration's in-memory data: insertion-ordered tables with id and natural-key indexes.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use rust_decimal::Decimal;
use serde_json::Value;
use uuid::Uuid;

use crate::odata::RowRef;

/// A stored row: its id and the JSON model the API returns.
pub trait Row {
    fn id(&self) -> Uuid;
    fn row(&self) -> RowRef<'_>;
}

/// Rows in insertion order with an id index.
pub struct Table<T> {
    rows: BTreeMap<u64, T>,
    by_id: HashMap<Uuid, u64>,
    next: u64,
}

impl<T> Default for Table<T> {
    fn default() -> Self {
        Self {
            rows: BTreeMap::new(),
            by_id: HashMap::new(),
            next: 0,
        }
    }
}

impl<T: Row> Table<T> {
    pub fn insert(&mut self, row: T) {
        let seq = self.next;
        self.next += 1;
        self.by_id.insert(row.id(), seq);
        self.rows.insert(seq, row);
    }

    pub fn get(&self, id: &Uuid) -> Option<&T> {
        self.by_id.get(id).and_then(|s| self.rows.get(s))
    }

    pub fn get_mut(&mut self, id: &Uuid) -> Option<&mut T> {
        match self.by_id.get(id) {
            Some(s) => self.rows.get_mut(s),
            None => None,
        }
    }

    pub fn remove(&mut self, id: &Uuid) -> Option<T> {
        let seq = self.by_id.remove(id)?;
        self.rows.remove(&seq)
    }

    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.rows.values()
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut T> {
        self.rows.values_mut()
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }
}

pub struct Relatie {
    pub id: Uuid,
    pub code: i32,
    pub soorten: Vec<&'static str>,
    pub nonactief: bool,
    pub krediettermijn: i32,
    pub json: Box<[u8]>,
}

impl Relatie {
    pub fn is(&self, soort: &str) -> bool {
        self.soorten.contains(&soort)
    }
}

/// High-volume rows keep their JSON serialized (a fraction of a `Value`'s memory).
pub struct Boeking {
    pub id: Uuid,
    pub factuurnummer: String,
    pub klant: Uuid,
    pub factuur: Uuid,
    pub json: Box<[u8]>,
}

pub struct Factuur {
    pub id: Uuid,
    pub relatie: Uuid,
    pub bedrag: Decimal,
    pub openstaand: Decimal,
    pub json: Box<[u8]>,
}

pub struct Grootboek {
    pub id: Uuid,
    pub nummer: i32,
    pub functie: &'static str,
    pub btw: Vec<&'static str>,
    pub nonactief: bool,
    pub kostenplaats_verplicht: bool,
    pub json: Value,
}

macro_rules! row {
    ($t:ty, $variant:ident) => {
        impl Row for $t {
            fn id(&self) -> Uuid {
                self.id
            }
            fn row(&self) -> RowRef<'_> {
                RowRef::$variant(&self.json)
            }
        }
    };
}
row!(Relatie, Raw);
row!(Boeking, Raw);
row!(Factuur, Raw);
row!(Grootboek, Json);

/// A JSON-only row (dagboeken).
pub struct Plain {
    pub id: Uuid,
    pub json: Value,
}
row!(Plain, Json);

/// One administration (opened by one koppelsleutel).
pub struct Admin {
    pub key: String,
    pub identifier: Uuid,
    pub naam: String,
    pub company: Value,
    pub relaties: Table<Relatie>,
    pub relatie_codes: HashMap<i32, Uuid>,
    pub boekingen: Table<Boeking>,
    pub facturen: Table<Factuur>,
    /// factuurnummer → verkoopboeking id.
    pub factuurnummers: HashMap<String, Uuid>,
    pub grootboeken: Table<Grootboek>,
    pub dagboeken: Table<Plain>,
    /// Bank bookings (`/bankboekingen`).
    pub bankboekingen: Table<Plain>,
    /// Cash bookings (`/kasboekingen`).
    pub kasboekingen: Table<Plain>,
    /// Documents (`/documenten`), content decoded.
    pub documenten: Table<crate::documenten::Document>,
    /// parent id → its documents' ids in upload order.
    pub documenten_by_parent: HashMap<Uuid, Vec<Uuid>>,
    /// The scopes the key's tokens carry; `None`: every scope.
    pub scopes: Option<std::collections::BTreeSet<String>>,
    /// Start and count of the current rate-limit window.
    pub window: Option<(Instant, u32)>,
    /// Calls per (route template, status).
    pub counts: HashMap<(&'static str, u16), u64>,
    pub calls: u64,
    /// The bearer token of the last API call.
    pub last_token: Option<String>,
    /// API calls whose bearer token differed from the previous call's: a change of client
    /// (each client, e.g. each koppeling process, mints its own token).
    pub token_switches: u64,
}

impl Admin {
    pub fn count(&mut self, route: &'static str, status: u16) {
        *self.counts.entry((route, status)).or_insert(0) += 1;
    }

    pub fn grootboek_by_nummer(&self, nummer: i32) -> Option<Uuid> {
        self.grootboeken
            .iter()
            .find(|g| g.nummer == nummer)
            .map(|g| g.id)
    }

    pub fn counts_map(&self) -> BTreeMap<String, u64> {
        self.counts
            .iter()
            .map(|((route, status), n)| (format!("{route} {status}"), *n))
            .collect()
    }
}
