//! `koppeling demo`: an in-process sandbox, a fresh SQLite file, seeded data, a sync, a table.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use base64::Engine;
use chrono::NaiveDate;
use koppeling_domain::ids::{AdministratieCode, ResourceId};
use koppeling_domain::invoice::{Invoice, InvoiceLine, InvoiceStatus};
use koppeling_domain::koppeling::{ConnectionKey, KoppelingSettings};
use koppeling_domain::money::{VatClass, format_cents};
use koppeling_domain::ports::{Admin, Administratie};
use koppeling_domain::relation::{Address, Relation, RelationKind};
use rand::RngCore;
use rust_decimal::Decimal;
use secrecy::{ExposeSecret, SecretString};
use snelstart_sandbox::{Sandbox, SandboxConfig};

use crate::settings::Settings;
use crate::startup::{self, Application, LiveService};
use crate::worker;

const DEMO_KEY_PLAIN: &str = "demo-gebruiker:demo-wachtwoord";

fn id(s: &str) -> ResourceId {
    ResourceId::parse(s).unwrap_or_else(|_| unreachable!("demo ids are valid"))
}

fn dec(s: &str) -> Decimal {
    s.parse().unwrap_or_default()
}

fn relation(rid: &str, code: &str, kind: RelationKind, name: &str, city: &str) -> Relation {
    Relation {
        id: id(rid),
        code: code.to_owned(),
        kind,
        name: name.to_owned(),
        address: Some(Address {
            street: Some("Dorpsstraat".to_owned()),
            house_number: Some("12".to_owned()),
            postcode: Some("1811 AB".to_owned()),
            city: Some(city.to_owned()),
            country: Some("NL".to_owned()),
        }),
        email: Some(format!("facturen@{}.nl", rid)),
        phone: None,
        vat_number: None,
        coc_number: None,
        iban: None,
        snelstart_enabled: false,
    }
}

fn invoice(
    iid: &str,
    number: &str,
    rel: &str,
    status: InvoiceStatus,
    lines: &[(&str, &str, &str, VatClass)],
) -> Invoice {
    Invoice {
        id: id(iid),
        number: number.to_owned(),
        relation_id: id(rel),
        date: NaiveDate::from_ymd_opt(2026, 11, 2).unwrap_or_default(),
        payment_term_days: 14,
        status,
        description: None,
        lines: lines
            .iter()
            .map(|(d, q, p, v)| InvoiceLine {
                description: (*d).to_owned(),
                quantity: dec(q),
                unit_price: dec(p),
                vat: *v,
            })
            .collect(),
    }
}

/// Runs the demo; with `exit` false it then serves until Ctrl-C.
///
/// # Errors
/// Any failure to start the parts.
pub async fn run(exit: bool) -> anyhow::Result<()> {
    let koppelsleutel = base64::engine::general_purpose::STANDARD.encode(DEMO_KEY_PLAIN);
    let sandbox_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let sandbox = Sandbox::start(
        sandbox_listener,
        SandboxConfig {
            keys: vec![koppelsleutel.clone()],
            ..SandboxConfig::default()
        },
    )
    .await?;

    let dir = tempfile::tempdir().context("creating a temporary directory")?;
    let db_path = dir.path().join("koppeling-demo.db");
    let mut master = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut master);
    let mut token_bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut token_bytes);
    let api_token: String = token_bytes.iter().map(|b| format!("{b:02x}")).collect();

    let mut settings = Settings::default();
    if let Ok(listen) = std::env::var("KOPPELING_HTTP__LISTEN") {
        settings.http.listen = listen;
    }
    settings.database.url = format!("sqlite://{}?mode=rwc", db_path.display());
    settings.snelstart.api_url = sandbox.api_url();
    settings.snelstart.auth_url = sandbox.auth_url();
    settings.snelstart.subscription_key =
        Some(SecretString::from("sandbox-subscription-key".to_owned()));
    settings.secrets.master_key = Some(SecretString::from(
        base64::engine::general_purpose::STANDARD.encode(master),
    ));
    settings.api.token = Some(SecretString::from(api_token.clone()));

    let store = startup::connect_store(&settings).await?;
    let parts = startup::build_parts(
        &settings,
        store.clone(),
        settings.subscription_key()?,
        startup::worker_id(),
    )?;
    let service = parts.service.clone();
    let adm = AdministratieCode::parse("demo").map_err(|p| anyhow::anyhow!(p.message()))?;
    seed(&service, &adm, &koppelsleutel).await?;

    println!(
        "koppeling demo: administratie `{adm}`, SnelStart sandbox on {}, database {}",
        sandbox.base_url(),
        db_path.display()
    );
    println!();
    let summary =
        worker::run_once(&service, Some(adm.clone()), 4, Duration::from_secs(5), None).await?;
    print_table(&service, &adm).await?;
    println!();
    if let Some(state) = sandbox.state(&koppelsleutel) {
        let json = serde_json::to_value(&state).unwrap_or_default();
        // SnelStart's own system relaties (Eigen, Klant/Leverancier onbekend) have codes <= 0.
        let relaties = json
            .get("relaties")
            .and_then(|v| v.as_array())
            .map_or(0, |rows| {
                rows.iter()
                    .filter(|r| {
                        r.get("relatiecode")
                            .and_then(serde_json::Value::as_i64)
                            .is_some_and(|c| c > 0)
                    })
                    .count()
            });
        let boekingen = json
            .get("verkoopboekingen")
            .and_then(|v| v.as_array())
            .cloned()
            .unwrap_or_default();
        println!(
            "SnelStart sandbox now holds {relaties} klant-relaties and {} verkoopboekingen:",
            boekingen.len()
        );
        for b in &boekingen {
            println!(
                "  {:<12} {:>10}  {}",
                b.get("factuurnummer")
                    .and_then(|v| v.as_str())
                    .unwrap_or("?"),
                b.get("factuurbedrag")
                    .map(ToString::to_string)
                    .unwrap_or_default(),
                b.get("id").and_then(|v| v.as_str()).unwrap_or("?")
            );
        }
        println!(
            "SnelStart calls made by koppeling: {}",
            sandbox.call_count(&koppelsleutel)
        );
    }
    println!(
        "Attempts in this pass: {} synced, {} failed, {} skipped",
        summary.count("synced"),
        summary.count("failed"),
        summary.count("skipped")
    );
    if exit {
        sandbox.shutdown().await;
        return Ok(());
    }
    let listener = tokio::net::TcpListener::bind(settings.listen_addr()?)
        .await
        .with_context(|| {
            format!(
                "http.listen: cannot bind {} (set KOPPELING_HTTP__LISTEN to another address)",
                settings.http.listen
            )
        })?;
    let addr = listener.local_addr()?;
    println!();
    println!("Admin UI:  http://{addr}/login   (log in as bea@demo.nl / demo-wachtwoord)");
    println!(
        "JSON API:  http://{addr}/api/v1   (Authorization: Bearer {})",
        settings
            .api
            .token
            .as_ref()
            .map(|t| t.expose_secret().to_owned())
            .unwrap_or_default()
    );
    println!("Press Ctrl-C to stop.");
    let token = settings.api_token()?;
    let app = Application::from_parts(listener, parts, store, settings, token);
    summary.record(&app.metrics());
    app.run_until_stopped(startup::shutdown_signal()).await?;
    sandbox.shutdown().await;
    drop(dir);
    Ok(())
}

async fn seed(
    service: &Arc<LiveService>,
    adm: &AdministratieCode,
    koppelsleutel: &str,
) -> anyhow::Result<()> {
    let fail =
        |e: koppeling_domain::sync::ServiceError| anyhow::anyhow!("seeding the demo failed: {e}");
    service
        .put_administratie(&Administratie {
            code: adm.clone(),
            name: "Demo Accountants B.V.".to_owned(),
        })
        .await
        .map_err(fail)?;
    let admin = Admin {
        id: id("bea"),
        name: "Bea Beheerder".to_owned(),
        email: "bea@demo.nl".to_owned(),
    };
    let hash = koppeling_web::hash_password("demo-wachtwoord")?;
    service
        .put_admin(adm, &admin, Some(hash))
        .await
        .map_err(fail)?;
    for r in [
        relation(
            "bakkerij",
            "1001",
            RelationKind::Company,
            "Bakkerij De Korenschoof",
            "Alkmaar",
        ),
        relation(
            "jansen",
            "1002",
            RelationKind::Person,
            "J. Jansen",
            "Heiloo",
        ),
        relation(
            "export",
            "1003",
            RelationKind::Company,
            "Export Partners GmbH",
            "Bergen",
        ),
        relation(
            "letters",
            "AB-12",
            RelationKind::Company,
            "Letterzetterij",
            "Schagen",
        ),
    ] {
        service.put_relation(adm, &r).await.map_err(fail)?;
    }
    let settings = KoppelingSettings {
        notify_admin_id: Some(id("bea")),
        ..KoppelingSettings::default()
    };
    let key =
        ConnectionKey::new(koppelsleutel.to_owned()).map_err(|p| anyhow::anyhow!(p.message()))?;
    service
        .put_koppeling(adm, &settings, Some(key))
        .await
        .map_err(fail)?;
    service.activate(adm).await.map_err(fail)?;
    for rid in ["bakkerij", "jansen", "export"] {
        service
            .set_relation_snelstart(adm, &id(rid), true)
            .await
            .map_err(fail)?;
    }
    match service
        .set_relation_snelstart(adm, &id("letters"), true)
        .await
    {
        Err(e) => println!("Relation AB-12 (Letterzetterij) cannot be ticked for SnelStart: {e}"),
        Ok(_) => println!("unexpected: relation AB-12 was ticked"),
    }
    use InvoiceStatus::{Draft, Final};
    use VatClass::{High, Low, ReverseCharge, Zero};
    let invoices = [
        invoice(
            "f1",
            "2026-0001",
            "bakkerij",
            Final,
            &[
                ("Jaarrekening 2025", "1", "1250.00", High),
                ("Boeken vakliteratuur", "2", "24.95", Low),
            ],
        ),
        invoice(
            "f2",
            "2026-0002",
            "jansen",
            Final,
            &[
                ("Aangifte inkomstenbelasting", "3", "95.00", High),
                ("Vrijgestelde dienst", "1", "50", Zero),
            ],
        ),
        invoice(
            "f3",
            "2026-0003",
            "bakkerij",
            Final,
            &[("Creditering jaarrekening", "-1", "250.00", High)],
        ),
        invoice(
            "f4",
            "2026-0004",
            "export",
            Final,
            &[(
                "Advies intracommunautair (verlegd)",
                "8",
                "120.00",
                ReverseCharge,
            )],
        ),
        invoice(
            "f5",
            "2026-0005",
            "jansen",
            Draft,
            &[("Concept: loonadministratie", "1", "400", High)],
        ),
        invoice(
            "f6",
            "2026-0006",
            "jansen",
            Final,
            &[("Gratis kennismaking", "1", "0", High)],
        ),
        invoice(
            "f7",
            "2026-0007-TE-LANG-FACTUURNUMMER",
            "bakkerij",
            Final,
            &[("Advies", "1", "100", High)],
        ),
    ];
    for inv in &invoices {
        service.put_invoice(adm, inv).await.map_err(fail)?;
    }
    Ok(())
}

async fn print_table(service: &Arc<LiveService>, adm: &AdministratieCode) -> anyhow::Result<()> {
    let mut rows = service
        .invoices(adm, &None.into(), 1)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    rows.sort_by(|a, b| a.0.number.cmp(&b.0.number));
    println!(
        "{:<32} {:<6} {:>10}  {:<12} SnelStart id / reason",
        "invoice", "state", "gross", "status"
    );
    println!("{}", "-".repeat(110));
    for (inv, state) in rows {
        let gross = format_cents(inv.totals().gross);
        let (status, detail) = match state {
            None => (
                if inv.status == InvoiceStatus::Draft {
                    "draft"
                } else {
                    "not queued"
                }
                .to_owned(),
                "never sent".to_owned(),
            ),
            Some(s) => {
                let detail = match s.status {
                    koppeling_domain::ports::SyncStatus::Synced => {
                        s.snelstart_id.unwrap_or_default()
                    }
                    _ => format!(
                        "{}{}",
                        s.error.unwrap_or_default(),
                        s.hint.map(|h| format!(" — {h}")).unwrap_or_default()
                    ),
                };
                (s.status.as_str().to_owned(), detail)
            }
        };
        println!(
            "{:<32} {:<6} {:>10}  {:<12} {}",
            inv.number,
            inv.status.as_str(),
            gross,
            status,
            detail
        );
    }
    Ok(())
}
