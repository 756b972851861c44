//! Shared sandbox state: koppelsleutels and their administrations, bearer tokens, faults and the fault RNG.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};

use crate::admin::{Admin, Row};
use crate::odata::RowRef;
use crate::seed::{self, splitmix};
use crate::{AdminSnapshot, Faults, SandboxConfig};

/// Lifetime of a bearer token, as SnelStart's `expires_in`.
pub const TOKEN_TTL_SECS: u64 = 3599;

/// Locks a mutex; a poisoned lock still holds consistent data for a test stand-in.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// One administration behind its own lock.
pub struct AdminCell {
    pub key: String,
    pub inner: Mutex<Admin>,
    pub revoked: AtomicBool,
}

struct TokenInfo {
    admin: Arc<AdminCell>,
    expires: Instant,
}

pub struct Shared {
    subscription_keys: Vec<String>,
    open: bool,
    allowed: Mutex<HashSet<String>>,
    admins: Mutex<HashMap<String, Arc<AdminCell>>>,
    revoked: Mutex<HashSet<String>>,
    tokens: Mutex<HashMap<String, TokenInfo>>,
    faults: RwLock<Faults>,
    rng: Mutex<u64>,
    token_requests: AtomicU64,
    unauthorized: AtomicU64,
    /// The activation flow (apps, keys made by consent, webhook deliveries).
    pub couplings: crate::couplings::Couplings,
}

/// Whether `key` has the form base64(`user:password`).
pub fn is_user_password_key(key: &str) -> bool {
    base64::engine::general_purpose::STANDARD
        .decode(key.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .is_some_and(|s| {
            s.split_once(':')
                .is_some_and(|(u, p)| !u.is_empty() && !p.is_empty())
        })
}

fn seed_from_clock() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    #[allow(clippy::cast_possible_truncation)]
    let n = nanos as u64;
    splitmix(n)
}

impl Shared {
    pub fn new(config: &SandboxConfig) -> Self {
        let shared = Self {
            subscription_keys: config.subscription_keys.clone(),
            open: config.keys.is_empty(),
            allowed: Mutex::new(config.keys.iter().cloned().collect()),
            admins: Mutex::new(HashMap::new()),
            revoked: Mutex::new(HashSet::new()),
            tokens: Mutex::new(HashMap::new()),
            faults: RwLock::new(config.faults.clone()),
            rng: Mutex::new(config.faults.seed.unwrap_or_else(seed_from_clock)),
            token_requests: AtomicU64::new(0),
            unauthorized: AtomicU64::new(0),
            couplings: crate::couplings::Couplings::default(),
        };
        for k in &config.keys {
            shared.open_admin(k);
        }
        shared
    }

    pub fn subscription_key_ok(&self, key: &str) -> bool {
        self.subscription_keys.iter().any(|k| k == key)
    }

    fn open_admin(&self, key: &str) -> Arc<AdminCell> {
        let mut admins = lock(&self.admins);
        admins
            .entry(key.to_owned())
            .or_insert_with(|| {
                Arc::new(AdminCell {
                    key: key.to_owned(),
                    inner: Mutex::new(seed::new_admin(key)),
                    revoked: AtomicBool::new(false),
                })
            })
            .clone()
    }

    /// A regenerated key: `new` opens the administration `old` opened (its relaties,
    /// boekingen, ledgers, …, as in SnelStart, where it stays the same administration),
    /// while each key keeps its own call counts; `old` is left with a fresh seed.
    pub fn move_admin(&self, old: &str, new: &str) {
        lock(&self.allowed).insert(new.to_owned());
        self.restore_key(new);
        let target = self.open_admin(new);
        let Some(source) = self.existing(old) else {
            return;
        };
        if Arc::ptr_eq(&source, &target) {
            return;
        }
        let mut from = lock(&source.inner);
        let mut to = lock(&target.inner);
        let (a, b) = (&mut *from, &mut *to);
        std::mem::swap(&mut a.identifier, &mut b.identifier);
        std::mem::swap(&mut a.naam, &mut b.naam);
        std::mem::swap(&mut a.company, &mut b.company);
        std::mem::swap(&mut a.relaties, &mut b.relaties);
        std::mem::swap(&mut a.relatie_codes, &mut b.relatie_codes);
        std::mem::swap(&mut a.boekingen, &mut b.boekingen);
        std::mem::swap(&mut a.facturen, &mut b.facturen);
        std::mem::swap(&mut a.factuurnummers, &mut b.factuurnummers);
        std::mem::swap(&mut a.grootboeken, &mut b.grootboeken);
        std::mem::swap(&mut a.dagboeken, &mut b.dagboeken);
        std::mem::swap(&mut a.bankboekingen, &mut b.bankboekingen);
        std::mem::swap(&mut a.kasboekingen, &mut b.kasboekingen);
        std::mem::swap(&mut a.documenten, &mut b.documenten);
        std::mem::swap(&mut a.documenten_by_parent, &mut b.documenten_by_parent);
        std::mem::swap(&mut a.scopes, &mut b.scopes);
    }

    fn existing(&self, key: &str) -> Option<Arc<AdminCell>> {
        lock(&self.admins).get(key).cloned()
    }

    /// The administration `key` opens at the token endpoint, if the key is acceptable.
    pub fn admin_for_key(&self, key: &str) -> Option<Arc<AdminCell>> {
        if key.is_empty() || lock(&self.revoked).contains(key) {
            return None;
        }
        if let Some(a) = self.existing(key) {
            return Some(a);
        }
        let acceptable =
            lock(&self.allowed).contains(key) || (self.open && is_user_password_key(key));
        acceptable.then(|| self.open_admin(key))
    }

    /// Mints a bearer token for `admin`.
    pub fn mint_token(&self, admin: Arc<AdminCell>) -> String {
        let token = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        let now = Instant::now();
        let mut tokens = lock(&self.tokens);
        if tokens.len() > 10_000 {
            tokens.retain(|_, t| t.expires > now);
        }
        tokens.insert(
            token.clone(),
            TokenInfo {
                admin,
                expires: now + Duration::from_secs(TOKEN_TTL_SECS),
            },
        );
        token
    }

    /// The administration behind a valid, unexpired token of an unrevoked key.
    pub fn token_admin(&self, token: &str) -> Option<Arc<AdminCell>> {
        let mut tokens = lock(&self.tokens);
        let info = tokens.get(token)?;
        if info.expires <= Instant::now() {
            tokens.remove(token);
            return None;
        }
        if info.admin.revoked.load(Ordering::Relaxed) {
            return None;
        }
        Some(info.admin.clone())
    }

    pub fn count_token_request(&self) {
        self.token_requests.fetch_add(1, Ordering::Relaxed);
    }

    pub fn count_unauthorized(&self) {
        self.unauthorized.fetch_add(1, Ordering::Relaxed);
    }

    pub fn token_requests(&self) -> u64 {
        self.token_requests.load(Ordering::Relaxed)
    }

    pub fn faults(&self) -> Faults {
        self.faults
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    pub fn set_faults(&self, f: Faults) {
        if let Some(seed) = f.seed {
            *lock(&self.rng) = seed;
        }
        *self
            .faults
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = f;
    }

    pub fn update_faults(&self, change: impl FnOnce(&mut Faults)) {
        change(
            &mut self
                .faults
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
    }

    /// Spends one call of a counted fault (see [`Faults::fire`]).
    pub fn fire<T: crate::Aimed>(
        &self,
        slot: fn(&mut Faults) -> &mut Option<T>,
        route: &str,
        key: &str,
    ) -> Option<T> {
        self.faults
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .fire(slot, route, key)
    }

    /// A random draw that is true with probability `rate` (no draw when the rate is 0 or 1).
    pub fn draw(&self, rate: f64) -> bool {
        if rate.is_nan() || rate <= 0.0 {
            return false;
        }
        if rate >= 1.0 {
            return true;
        }
        let mut s = lock(&self.rng);
        *s = s.wrapping_add(1);
        let x = splitmix(*s);
        #[allow(clippy::cast_precision_loss)]
        let unit = (x >> 11) as f64 / (1u64 << 53) as f64;
        unit < rate
    }

    pub fn revoke_key(&self, key: &str) {
        lock(&self.revoked).insert(key.to_owned());
        if let Some(a) = self.existing(key) {
            a.revoked.store(true, Ordering::Relaxed);
        }
        lock(&self.tokens).retain(|_, t| t.admin.key != key);
    }

    pub fn restore_key(&self, key: &str) {
        lock(&self.revoked).remove(key);
        if let Some(a) = self.existing(key) {
            a.revoked.store(false, Ordering::Relaxed);
        }
    }

    pub fn add_key(&self, key: &str) {
        lock(&self.allowed).insert(key.to_owned());
        self.restore_key(key);
        self.open_admin(key);
    }

    pub fn expire_tokens(&self, key: &str) {
        lock(&self.tokens).retain(|_, t| t.admin.key != key);
    }

    pub fn snapshot(&self, key: &str) -> Option<AdminSnapshot> {
        let cell = self.existing(key)?;
        let revoked = cell.revoked.load(Ordering::Relaxed);
        let a = lock(&cell.inner);
        let rows =
            |it: &mut dyn Iterator<Item = RowRef<'_>>| it.map(|r| r.to_value()).collect::<Vec<_>>();
        Some(AdminSnapshot {
            key: a.key.clone(),
            administratie_identifier: a.identifier,
            administratie_naam: a.naam.clone(),
            revoked,
            relaties: rows(&mut a.relaties.iter().map(Row::row)),
            verkoopboekingen: a
                .boekingen
                .iter()
                .map(|b| {
                    serde_json::from_slice(&crate::documenten::boeking_with_documents(
                        &a, b.id, &b.json,
                    ))
                    .unwrap_or(Value::Null)
                })
                .collect(),
            verkoopfacturen: rows(&mut a.facturen.iter().map(Row::row)),
            grootboeken: rows(&mut a.grootboeken.iter().map(Row::row)),
            dagboeken: rows(&mut a.dagboeken.iter().map(Row::row)),
            bankboekingen: rows(&mut a.bankboekingen.iter().map(Row::row)),
            kasboekingen: rows(&mut a.kasboekingen.iter().map(Row::row)),
            documenten: a
                .documenten
                .iter()
                .map(|d| {
                    let mut v = d.json.clone();
                    v["size"] = Value::from(d.content.len());
                    v
                })
                .collect(),
            calls: a.calls,
            counts: a.counts_map(),
        })
    }

    pub fn call_count(&self, key: &str) -> u64 {
        self.existing(key).map_or(0, |c| lock(&c.inner).calls)
    }

    pub fn set_ledger_active(&self, key: &str, nummer: i32, active: bool) -> bool {
        let Some(cell) = self.existing(key) else {
            return false;
        };
        let mut a = lock(&cell.inner);
        let stamp = crate::json::fmt_stamp(crate::json::now_local());
        let mut found = false;
        for g in a.grootboeken.iter_mut().filter(|g| g.nummer == nummer) {
            g.nonactief = !active;
            if let Value::Object(m) = &mut g.json {
                m.insert("nonactief".into(), Value::Bool(!active));
                m.insert("modifiedOn".into(), Value::String(stamp.clone()));
            }
            found = true;
        }
        found
    }

    /// Limits the scopes of `key`'s tokens (`None`: every scope). False for an unknown key.
    pub fn set_scopes(&self, key: &str, scopes: Option<Vec<String>>) -> bool {
        let Some(cell) = self.existing(key).or_else(|| self.admin_for_key(key)) else {
            return false;
        };
        lock(&cell.inner).scopes = scopes.map(|s| s.into_iter().collect());
        true
    }

    /// The accountant's edit of verkoopboeking `id` (see `betalingen::accountant_edit`).
    pub fn accountant_edit(
        &self,
        key: &str,
        id: uuid::Uuid,
        changes: &serde_json::Map<String, Value>,
    ) -> Option<Value> {
        let cell = self.existing(key)?;
        let mut a = lock(&cell.inner);
        crate::betalingen::accountant_edit(&mut a, id, changes)
    }

    /// See [`crate::betalingen::accountant_delete`].
    pub fn accountant_delete(&self, key: &str, id: uuid::Uuid) -> bool {
        let Some(cell) = self.existing(key) else {
            return false;
        };
        let mut a = lock(&cell.inner);
        crate::betalingen::accountant_delete(&mut a, id)
    }

    /// Books a bank or cash payment as SnelStart's API would (`POST /bankboekingen`), outside
    /// the API's counters: `(status, body)`.
    pub fn book_payment(
        &self,
        key: &str,
        kind: crate::betalingen::Kind,
        body: &Value,
    ) -> Option<(u16, Value)> {
        let cell = self.existing(key)?;
        let mut a = lock(&cell.inner);
        let body = crate::input::lowercase_keys(body.clone());
        let reply = crate::betalingen::create(&mut a, kind, &body);
        Some((
            reply.status,
            serde_json::from_slice(&reply.body).unwrap_or(Value::Null),
        ))
    }

    pub fn remove_ledger(&self, key: &str, nummer: i32) -> bool {
        let Some(cell) = self.existing(key) else {
            return false;
        };
        let mut a = lock(&cell.inner);
        match a.grootboek_by_nummer(nummer) {
            Some(id) => a.grootboeken.remove(&id).is_some(),
            None => false,
        }
    }

    pub fn stats(&self) -> Value {
        let cells: Vec<Arc<AdminCell>> = lock(&self.admins).values().cloned().collect();
        let mut admins: Vec<Value> = cells
            .iter()
            .map(|c| {
                let a = lock(&c.inner);
                json!({
                    "key": a.key,
                    "administratie_identifier": a.identifier,
                    "administratie_naam": a.naam,
                    "revoked": c.revoked.load(Ordering::Relaxed),
                    "calls": a.calls,
                    "token_switches": a.token_switches,
                    "relaties": a.relaties.len(),
                    "verkoopboekingen": a.boekingen.len(),
                    "counts": a.counts_map(),
                })
            })
            .collect();
        admins.sort_by(|x, y| x["key"].to_string().cmp(&y["key"].to_string()));
        json!({
            "token_requests": self.token_requests(),
            "unauthorized": self.unauthorized.load(Ordering::Relaxed),
            "tokens": lock(&self.tokens).len(),
            "administrations": admins,
        })
    }
}
