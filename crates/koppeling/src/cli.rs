//! The command line: `serve`, `sync --once`, `check`, `migrate`, `import`, `admin`, `demo`.

use std::io::Read;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use koppeling_domain::ids::AdministratieCode;
use koppeling_domain::ports::{Outcome, Store};
use secrecy::SecretString;

use crate::settings::Settings;
use crate::startup::{self, Application};
use crate::{demo, telemetry, worker};

/// Forwards final invoices with their debtors from Radar360 to SnelStart.
#[derive(Debug, Parser)]
#[command(name = "koppeling", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the JSON API and the admin UI, and synchronise in the background (migrates first).
    Serve,
    /// Synchronise due work once, then exit (0: nothing failed, 1: an invoice failed, 2: configuration or connection error).
    Sync {
        /// One pass over due work (required: continuous sync is `serve`).
        #[arg(long)]
        once: bool,
        /// Only this administratie.
        #[arg(long)]
        administratie: Option<String>,
    },
    /// Run the activation checks of an administratie's koppeling (exit 0 when all pass, 1 otherwise).
    Check {
        /// The administratie code.
        #[arg(long)]
        administratie: String,
    },
    /// Create or update the database schema.
    Migrate,
    /// Import JSON lines (admins, relations, invoices, SnelStart ticks) into an administratie.
    Import {
        /// The administratie code (it must exist).
        #[arg(long)]
        administratie: String,
        /// The JSON-lines file.
        file: std::path::PathBuf,
    },
    /// Beheerder accounts.
    Admin {
        /// What to do.
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// A self-contained demonstration: in-process sandbox, fresh SQLite, seeded data, a sync, a summary; then serves until Ctrl-C.
    Demo {
        /// Stop after the summary table.
        #[arg(long)]
        exit: bool,
    },
}

/// `admin` subcommands.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Set a Beheerder's UI password, read from standard input.
    SetPassword {
        /// The administratie code.
        #[arg(long)]
        administratie: String,
        /// The Beheerder's e-mail address.
        #[arg(long)]
        email: String,
    },
}

/// Parses the command line, runs it and returns the exit code.
#[must_use]
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(error) => {
            eprintln!("error: cannot start the runtime: {error}");
            return ExitCode::from(2);
        }
    };
    runtime.block_on(run(cli))
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> ExitCode {
    let demo = matches!(cli.command, Command::Demo { .. });
    telemetry::init(if demo { "error" } else { "info" });
    if let Command::Demo { exit } = cli.command {
        return report(demo::run(exit).await.map(|()| 0));
    }
    let settings = match Settings::load() {
        Ok(s) => s,
        Err(error) => {
            eprintln!("error: {error:#}");
            return ExitCode::from(2);
        }
    };
    report(dispatch(cli.command, settings).await)
}

fn report(result: anyhow::Result<u8>) -> ExitCode {
    match result {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}

/// Which activation check a problem belongs to (`settings`, `key`, `ledger`, `journal`).
fn check_of(problem: &koppeling_domain::problem::Problem) -> Option<&'static str> {
    let settings_field = ["vat_codes", "sales_journal", "revenue"]
        .iter()
        .any(|f| problem.field.starts_with(f));
    ["settings", "key", "ledger", "journal"]
        .into_iter()
        .find(|x| {
            problem.field.starts_with(x)
                || problem.code.starts_with(x)
                || (*x == "settings" && settings_field)
        })
}

fn parse_adm(raw: &str) -> anyhow::Result<AdministratieCode> {
    AdministratieCode::parse(raw).map_err(|p| anyhow::anyhow!("--administratie: {}", p.message))
}

async fn dispatch(command: Command, settings: Settings) -> anyhow::Result<u8> {
    match command {
        Command::Serve => {
            let app = Application::build(settings).await?;
            app.run_until_stopped(startup::shutdown_signal()).await?;
            Ok(0)
        }
        Command::Migrate => {
            startup::connect_store(&settings).await?;
            println!("database migrated");
            Ok(0)
        }
        Command::Sync {
            once,
            administratie,
        } => {
            if !once {
                anyhow::bail!(
                    "`sync` runs one pass and needs --once; continuous synchronisation is `koppeling serve`"
                );
            }
            let adm = administratie.as_deref().map(parse_adm).transpose()?;
            let key = settings.subscription_key()?;
            let store = startup::connect_store(&settings).await?;
            if let Some(adm) = &adm {
                store
                    .get_administratie(adm)
                    .await?
                    .with_context(|| format!("administratie {adm} does not exist"))?;
            }
            let service = startup::build_service(&settings, store, key, startup::worker_id())?;
            let summary = worker::run_once(
                &service,
                adm,
                settings.sync.workers,
                Duration::from_secs(60),
            )
            .await?;
            for r in &summary.reports {
                match &r.outcome {
                    Outcome::Failed { error, hint, .. } => println!(
                        "{} {}: failed: {error}{}",
                        r.administratie,
                        r.invoice_id,
                        hint.as_deref()
                            .map(|h| format!(" (hint: {h})"))
                            .unwrap_or_default()
                    ),
                    Outcome::Synced { snelstart_id } => println!(
                        "{} {}: synced {snelstart_id}",
                        r.administratie, r.invoice_id
                    ),
                    Outcome::Skipped { reason } => {
                        println!("{} {}: skipped: {reason}", r.administratie, r.invoice_id)
                    }
                    Outcome::Retry {
                        error,
                        next_attempt_at,
                        ..
                    } => println!(
                        "{} {}: queued until {next_attempt_at}: {error}",
                        r.administratie, r.invoice_id
                    ),
                    Outcome::Release { .. } => println!(
                        "{} {}: waiting (koppeling paused)",
                        r.administratie, r.invoice_id
                    ),
                    Outcome::Unqueued => println!(
                        "{} {}: not sent (relation no longer ticked)",
                        r.administratie, r.invoice_id
                    ),
                }
            }
            println!(
                "synced {}, failed {}, skipped {}, left queued {}",
                summary.count("synced"),
                summary.count("failed"),
                summary.count("skipped"),
                summary.count("retry") + summary.count("released")
            );
            Ok(u8::from(summary.any_failed()))
        }
        Command::Check { administratie } => {
            let adm = parse_adm(&administratie)?;
            let key = settings.subscription_key()?;
            let store = startup::connect_store(&settings).await?;
            let service = startup::build_service(&settings, store, key, startup::worker_id())?;
            let problems = match service.check(&adm).await {
                Ok(p) => p,
                Err(koppeling_domain::sync::ServiceError::NotFound(what)) => {
                    anyhow::bail!("{what}")
                }
                Err(error) => return Err(error.into()),
            };
            let koppeling = service.store().get_koppeling(&adm).await?;
            let checks = [
                ("settings", "instellingen"),
                ("key", "koppelsleutel"),
                ("ledger", "omzetgrootboeken 12/11/10"),
                ("journal", "verkoopboek"),
            ];
            for (prefix, label) in checks {
                let mine: Vec<_> = problems
                    .iter()
                    .filter(|p| check_of(p) == Some(prefix))
                    .collect();
                if mine.is_empty() {
                    if prefix == "key" && koppeling.as_ref().is_none_or(|k| k.key.is_none()) {
                        continue;
                    }
                    println!("ok      {label}");
                } else {
                    for p in mine {
                        println!("PROBLEM {label}: {}", p.message);
                    }
                }
            }
            for p in problems.iter().filter(|p| check_of(p).is_none()) {
                println!("PROBLEM {}: {}", p.field, p.message);
            }
            Ok(u8::from(!problems.is_empty()))
        }
        Command::Import {
            administratie,
            file,
        } => {
            let adm = parse_adm(&administratie)?;
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let store = startup::connect_store(&settings).await?;
            if store.get_administratie(&adm).await?.is_none() {
                anyhow::bail!(
                    "administratie {adm} does not exist; create it first (PUT /api/v1/administraties/{adm})"
                );
            }
            let key = settings
                .snelstart
                .subscription_key
                .clone()
                .unwrap_or_else(|| SecretString::from(String::new()));
            let service = startup::build_service(&settings, store, key, startup::worker_id())?;
            let report = koppeling_web::import::import_jsonl(&service, &adm, &text).await;
            for e in &report.errors {
                eprintln!("line {}: {}: {}", e.line, e.field, e.message);
            }
            println!(
                "imported {} lines, refused {}",
                report.imported,
                report.errors.len()
            );
            Ok(u8::from(!report.errors.is_empty()))
        }
        Command::Admin {
            command:
                AdminCommand::SetPassword {
                    administratie,
                    email,
                },
        } => {
            let adm = parse_adm(&administratie)?;
            let mut password = String::new();
            std::io::stdin()
                .read_to_string(&mut password)
                .context("reading the password from standard input")?;
            let password = password.trim_end_matches(['\r', '\n']);
            if password.chars().count() < koppeling_web::MIN_PASSWORD_LEN {
                anyhow::bail!(
                    "password: the password must have at least {} characters",
                    koppeling_web::MIN_PASSWORD_LEN
                );
            }
            let store = startup::connect_store(&settings).await?;
            let hash = koppeling_web::hash_password(password)?;
            store
                .set_admin_password(&adm, &email, hash)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("password set for {email}");
            Ok(0)
        }
        Command::Demo { .. } => Ok(0),
    }
}
