//! `snelstart-sandbox`: serves the SnelStart B2B API v2 stand-in until Ctrl-C or SIGTERM.

use std::io::Write;
use std::net::SocketAddr;

use clap::Parser;
use snelstart_sandbox::{DEFAULT_SUBSCRIPTION_KEY, Faults, Sandbox, SandboxConfig};

/// A local stand-in for the SnelStart B2B API v2 (token endpoint `/b2b/token`, API under
/// `/v2/`, control under `/_sandbox/`).
#[derive(Parser, Debug)]
#[command(name = "snelstart-sandbox", version, about)]
struct Cli {
    /// Address to listen on, e.g. 127.0.0.1:0 for a free port.
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Accepted Ocp-Apim-Subscription-Key (repeatable; default: sandbox-subscription-key).
    #[arg(long = "subscription-key")]
    subscription_keys: Vec<String>,
    /// Koppelsleutel that opens its own administration (repeatable). Without any, every
    /// base64("user:password") key opens one on first use.
    #[arg(long = "key")]
    keys: Vec<String>,
    /// Faults as the JSON of `PUT /_sandbox/faults` (every fault, including the hostile
    /// answers); the flags below override their fields.
    #[arg(long, value_parser = parse_faults)]
    faults: Option<Faults>,
    /// Fault: calls per administration per minute before 429.
    #[arg(long)]
    rate_limit_per_minute: Option<u32>,
    /// Fault: fraction of /v2 requests answered 503 (default 0).
    #[arg(long)]
    error_rate: Option<f64>,
    /// Fault: fraction of committed writes whose response is dropped (default 0).
    #[arg(long)]
    lost_response_rate: Option<f64>,
    /// Fault: delay added to every /v2 request, in milliseconds (default 0).
    #[arg(long)]
    latency_ms: Option<u64>,
    /// Seed for the fault rates.
    #[arg(long)]
    seed: Option<u64>,
    /// Hostile fault: the `expires_in` of every token answer, as JSON (`18446744073709551615`,
    /// `-5`, `"soon"`); the tokens still live 3599 s.
    #[arg(long, value_parser = parse_json)]
    expires_in: Option<serde_json::Value>,
    /// An activation app and its webhook, `NAME=WEBHOOK_URL` (repeatable): the consent page
    /// `/couplings/activate/NAME` delivers its koppelsleutels there.
    #[arg(long = "app", value_parser = parse_app)]
    apps: Vec<(String, String)>,
}

fn parse_app(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, url)) if !name.is_empty() && url.starts_with("http") => {
            Ok((name.to_owned(), url.to_owned()))
        }
        _ => Err(format!("expected NAME=WEBHOOK_URL, got {text:?}")),
    }
}

fn parse_faults(text: &str) -> Result<Faults, String> {
    serde_json::from_str(text).map_err(|e| format!("invalid faults JSON: {e}"))
}

fn parse_json(text: &str) -> Result<serde_json::Value, String> {
    serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))
}

impl Cli {
    /// `--faults`, then the single flags over it.
    fn faults(&self) -> Faults {
        let mut faults = self.faults.clone().unwrap_or_default();
        if self.rate_limit_per_minute.is_some() {
            faults.rate_limit_per_minute = self.rate_limit_per_minute;
        }
        if let Some(rate) = self.error_rate {
            faults.error_rate = rate;
        }
        if let Some(rate) = self.lost_response_rate {
            faults.lost_response_rate = rate;
        }
        if let Some(ms) = self.latency_ms {
            faults.latency_ms = ms;
        }
        if self.seed.is_some() {
            faults.seed = self.seed;
        }
        if self.expires_in.is_some() {
            faults.expires_in.clone_from(&self.expires_in);
        }
        faults
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let faults = cli.faults();
    let subscription_keys = if cli.subscription_keys.is_empty() {
        vec![DEFAULT_SUBSCRIPTION_KEY.to_owned()]
    } else {
        cli.subscription_keys
    };
    let apps = cli.apps.clone();
    let config = SandboxConfig {
        subscription_keys,
        keys: cli.keys,
        faults,
    };
    let listener = tokio::net::TcpListener::bind(cli.listen).await?;
    let sandbox = Sandbox::start(listener, config).await?;
    for (name, url) in &apps {
        sandbox.register_app(name, url);
    }
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on {}", sandbox.base_url())?;
        out.flush()?;
    }
    tracing::info!(addr = %sandbox.addr(), "snelstart-sandbox started");
    wait_for_signal().await;
    sandbox.shutdown().await;
    Ok(())
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
