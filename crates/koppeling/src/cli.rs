//! The command line: `serve`, `sync --once`, `check`, `migrate`, `import`, `admin`, `demo`,
//! `secrets rotate`.

use std::io::Read;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use koppeling_domain::ids::AdministratieCode;
use koppeling_domain::ports::Outcome;
use koppeling_domain::ports::roles::*;
use secrecy::SecretString;

use crate::progress::Progress;
use crate::settings::{Required, Settings};
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
    /// Secrets at rest (the koppelsleutels).
    Secrets {
        /// What to do.
        #[command(subcommand)]
        command: SecretsCommand,
    },
}

/// `secrets` subcommands.
#[derive(Debug, Subcommand)]
pub enum SecretsCommand {
    /// Re-encrypt every stored koppelsleutel under secrets.master_key (reading old ones with secrets.previous_master_keys); safe while `serve` runs and to re-run; exit 0 when every key was readable, 1 otherwise.
    Rotate,
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
                || problem.code().starts_with(x)
                || (*x == "settings" && settings_field)
        })
}

fn parse_adm(raw: &str) -> anyhow::Result<AdministratieCode> {
    AdministratieCode::parse(raw).map_err(|p| anyhow::anyhow!("--administratie: {}", p.message()))
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
            settings.require(&[Required::SubscriptionKey, Required::MasterKey])?;
            let key = settings.subscription_key()?;
            let store = startup::connect_store(&settings).await?;
            if let Some(adm) = &adm {
                store
                    .get_administratie(adm)
                    .await?
                    .with_context(|| format!("administratie {adm} does not exist"))?;
            }
            let service = startup::build_service(&settings, store, key, startup::worker_id())?;
            let due = service.due_count(adm.as_ref()).await?;
            let progress = Progress::new("invoices", Some(due));
            let summary = worker::run_once(
                &service,
                adm.clone(),
                settings.sync.workers,
                Duration::from_secs(60),
                Some(&progress),
            )
            .await?;
            progress.finish();
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
            // A paused koppeling's invoices are not claimed at all: count them from the store.
            let paused = service.paused_with_waiting(adm.as_ref()).await?;
            let paused_waiting: u64 = paused.iter().map(|p| p.waiting).sum();
            println!(
                "synced {}, failed {}, skipped {}, left queued {}",
                summary.count("synced"),
                summary.count("failed"),
                summary.count("skipped"),
                summary.count("retry") as u64 + paused_waiting
            );
            for p in &paused {
                eprintln!(
                    "error: the koppeling of {} is paused while {} invoice{} wait{}: {}",
                    p.administratie,
                    p.waiting,
                    if p.waiting == 1 { "" } else { "s" },
                    if p.waiting == 1 { "s" } else { "" },
                    p.problem.as_ref().map_or_else(
                        || "no reason recorded".to_owned(),
                        koppeling_domain::pause::PauseReason::english
                    )
                );
            }
            if !paused.is_empty() {
                return Ok(2);
            }
            Ok(u8::from(summary.any_failed()))
        }
        Command::Check { administratie } => {
            let adm = parse_adm(&administratie)?;
            settings.require(&[Required::SubscriptionKey, Required::MasterKey])?;
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
            let overview = service.overview(&adm).await?;
            let configured = overview.settings.is_some();
            let checks = [
                ("settings", "instellingen"),
                ("key", "koppelsleutel"),
                ("ledger", "omzetgrootboeken 12/11/10"),
                ("journal", "verkoopboek"),
            ];
            // The ledgers and the verkoopboek are read from SnelStart: without access they
            // were not checked, and saying `ok` would be a lie.
            let no_access = if !configured {
                Some("the koppeling is not configured yet")
            } else if !overview.key_set {
                Some("no koppelsleutel entered")
            } else if problems.iter().any(|p| p.field == "subscription_key") {
                Some("SnelStart refused the subscription key")
            } else if problems.iter().any(|p| check_of(p) == Some("key")) {
                Some("SnelStart refused the koppelsleutel")
            } else {
                None
            };
            for (prefix, label) in checks {
                let mine: Vec<_> = problems
                    .iter()
                    .filter(|p| check_of(p) == Some(prefix))
                    .collect();
                if mine.is_empty() {
                    match no_access {
                        Some(why) if prefix != "settings" => {
                            println!("skipped {label} ({why})");
                        }
                        _ => println!("ok      {label}"),
                    }
                } else {
                    for p in mine {
                        println!("PROBLEM {label}: {}", p.dutch());
                    }
                }
            }
            for p in problems.iter().filter(|p| check_of(p).is_none()) {
                println!("PROBLEM {}: {}", p.field, p.dutch());
            }
            Ok(u8::from(!problems.is_empty()))
        }
        Command::Import {
            administratie,
            file,
        } => {
            let adm = parse_adm(&administratie)?;
            // Read line by line (issue 13): the file is never held in memory as a whole.
            let input = tokio::fs::File::open(&file)
                .await
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
            // Progress by the bytes read of the file (its line count is not known up front).
            let size = input.metadata().await.ok().map(|m| m.len());
            let name = file.file_name().map_or_else(
                || file.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            );
            let progress = Progress::new(&format!("bytes of {name}"), size);
            let report = koppeling_web::import::import_reader(
                service.as_ref(),
                &adm,
                tokio::io::BufReader::with_capacity(
                    64 * 1024,
                    crate::progress::Counted::new(input, &progress),
                ),
            )
            .await
            .with_context(|| format!("cannot read {}", file.display()));
            progress.finish();
            let report = report?;
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
        Command::Secrets {
            command: SecretsCommand::Rotate,
        } => {
            let store = startup::connect_store(&settings).await?;
            let report = store
                .rotate_keys()
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("re-encrypted: {}", report.rotated);
            println!("already current: {}", report.current);
            if report.unusable.is_empty() {
                println!("undecryptable: 0");
                return Ok(0);
            }
            println!(
                "undecryptable: {} ({})",
                report.unusable.len(),
                report.unusable.join(", ")
            );
            eprintln!(
                "error: no configured master key decrypts the koppelsleutel of administratie {}: list the key it was saved with in secrets.previous_master_keys and run this again, or enter the koppelsleutel again under Instellingen",
                report.unusable.join(", ")
            );
            Ok(1)
        }
    }
}
