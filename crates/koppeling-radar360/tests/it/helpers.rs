//! The harness: a fresh SQLite file in a temp dir, or a fresh PostgreSQL database per test
//! (from `TEST_DATABASE_URL`), and fixtures.

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, SubsecRound, Utc};
use koppeling_domain::ids::{AdministratieCode, ResourceId};
use koppeling_domain::invoice::{Invoice, InvoiceLine, InvoiceStatus};
use koppeling_domain::koppeling::{ConnectionKey, KoppelingSettings};
use koppeling_domain::money::VatClass;
use koppeling_domain::ports::Administratie;
use koppeling_domain::ports::roles::*;
use koppeling_domain::relation::{Address, RelatieCode, Relation, RelationKind};
use koppeling_radar360::SeaOrmStore;
use rust_decimal::Decimal;
use sea_orm::{ConnectionTrait, Database};

/// The master key of every test store.
pub const MASTER_KEY: [u8; 32] = [42; 32];

/// Which engine a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// What a scenario gets: a migrated store, and the URL to open more stores on the same
/// database (as another process would).
#[derive(Clone)]
pub struct Harness {
    pub store: SeaOrmStore,
    pub url: String,
    pub engine: Engine,
    /// The SQLite file, to read its bytes.
    pub sqlite_path: Option<PathBuf>,
    _dir: Option<Arc<tempfile::TempDir>>,
}

impl Harness {
    /// A second, independent store (its own pool) on the same database.
    pub async fn another_store(&self) -> SeaOrmStore {
        SeaOrmStore::connect(&self.url, MASTER_KEY).await.unwrap()
    }
}

pub type Scenario = fn(Harness) -> Pin<Box<dyn Future<Output = ()> + Send>>;

/// `TEST_DATABASE_URL`, or `None` after a loud skip message (a failure under `CI`).
fn pg_base_url() -> Option<String> {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var_os("CI").is_none(),
                "TEST_DATABASE_URL is not set, but CI is: the PostgreSQL store tests must run in CI \
                 (e.g. TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test)"
            );
            eprintln!(
                "\n!!!!!!!! SKIPPED: PostgreSQL store test (set TEST_DATABASE_URL, e.g. \
                 postgres://postgres@127.0.0.1:5432/test) !!!!!!!!\n"
            );
            None
        }
    }
}

/// `url` with its database name replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let authority_start = url.find("://").map_or(0, |i| i + 3);
    let (base, rest) = match url[authority_start..].find('/') {
        Some(slash) => url.split_at(authority_start + slash),
        None => (url, ""),
    };
    let query = rest.find('?').map_or("", |q| &rest[q..]);
    format!("{base}/{name}{query}")
}

/// Runs `scenario` on a fresh database of `engine`.
pub async fn run(engine: Engine, scenario: Scenario) {
    match engine {
        Engine::Sqlite => {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("koppeling.db");
            let url = format!("sqlite://{}?mode=rwc", path.display());
            let store = SeaOrmStore::connect(&url, MASTER_KEY).await.unwrap();
            store.migrate().await.unwrap();
            let harness = Harness {
                store,
                url,
                engine,
                sqlite_path: Some(path),
                _dir: Some(Arc::new(dir)),
            };
            scenario(harness).await;
        }
        Engine::Postgres => {
            let Some(base) = pg_base_url() else {
                return;
            };
            let name = format!("koppeling_test_{}", uuid::Uuid::new_v4().simple());
            let admin = match Database::connect(base.as_str()).await {
                Ok(conn) => conn,
                Err(_) => Database::connect(with_database(&base, "postgres"))
                    .await
                    .expect("connecting to TEST_DATABASE_URL"),
            };
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .unwrap();
            let url = with_database(&base, &name);
            let store = SeaOrmStore::connect(&url, MASTER_KEY).await.unwrap();
            store.migrate().await.unwrap();
            let harness = Harness {
                store: store.clone(),
                url,
                engine,
                sqlite_path: None,
                _dir: None,
            };
            let outcome = tokio::spawn(scenario(harness)).await;
            // Best effort: DROP … WITH (FORCE) ends whatever a failed scenario left open.
            let _ = tokio::time::timeout(
                std::time::Duration::from_secs(5),
                store.connection().clone().close(),
            )
            .await;
            let _ = admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await;
            if let Err(err) = outcome {
                if err.is_panic() {
                    std::panic::resume_unwind(err.into_panic());
                }
                panic!("scenario task failed: {err}");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Fixtures

pub fn adm(code: &str) -> AdministratieCode {
    AdministratieCode::parse(code).unwrap()
}

pub fn rid(id: &str) -> ResourceId {
    ResourceId::parse(id).unwrap()
}

pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

pub fn secs(n: i64) -> Duration {
    Duration::seconds(n)
}

pub async fn administratie(store: &SeaOrmStore, code: &str) -> AdministratieCode {
    let code = adm(code);
    store
        .put_administratie(&Administratie {
            code: code.clone(),
            name: format!("Kantoor {code}"),
        })
        .await
        .unwrap();
    code
}

/// Gives `a` a koppeling (key `k`, default settings), switched on or off.
pub async fn connect(store: &SeaOrmStore, a: &AdministratieCode, active: bool) {
    store
        .put_koppeling(
            a,
            &KoppelingSettings::default(),
            Some(ConnectionKey::new("k".into()).unwrap()),
        )
        .await
        .unwrap();
    store.set_koppeling_active(a, active).await.unwrap();
}

/// Stores relation `r1` (code 1) of `a`, ticked as SnelStart relatie 1 or not.
pub async fn relation_r1(store: &SeaOrmStore, a: &AdministratieCode, ticked: bool) {
    store.put_relation(a, &relation("r1", "1")).await.unwrap();
    if ticked {
        store
            .set_relation_snelstart(a, &rid("r1"), RelatieCode::from_i32(1))
            .await
            .unwrap();
    }
}

/// An administratie with an active koppeling and relation `r1` ticked: ready to sync.
pub async fn ready(store: &SeaOrmStore, code: &str) -> AdministratieCode {
    let a = administratie(store, code).await;
    connect(store, &a, true).await;
    relation_r1(store, &a, true).await;
    a
}

pub fn relation(id: &str, code: &str) -> Relation {
    Relation {
        id: rid(id),
        code: code.to_owned(),
        kind: RelationKind::Company,
        name: format!("Relatie {id}"),
        address: Some(Address {
            street: Some("Dorpsstraat".into()),
            house_number: Some("1a".into()),
            postcode: Some("1234 AB".into()),
            city: Some("Utrecht".into()),
            country: None,
        }),
        email: Some(format!("{id}@example.nl")),
        phone: None,
        vat_number: Some("NL123456789B01".into()),
        coc_number: None,
        iban: None,
        snelstart_enabled: false,
    }
}

pub fn invoice(id: &str, relation_id: &str, status: InvoiceStatus) -> Invoice {
    Invoice {
        id: rid(id),
        number: format!("F-{id}"),
        relation_id: rid(relation_id),
        date: NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
        payment_term_days: 30,
        status,
        description: Some("Advieswerk".into()),
        lines: vec![
            InvoiceLine {
                description: "Uren".into(),
                quantity: Decimal::new(15, 1),
                unit_price: Decimal::new(12_550, 2),
                vat: VatClass::High,
            },
            InvoiceLine {
                description: "Boek".into(),
                quantity: Decimal::ONE,
                unit_price: Decimal::new(19_99, 2),
                vat: VatClass::Low,
            },
        ],
    }
}
