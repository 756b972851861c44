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
    /// Fault: calls per administration per minute before 429.
    #[arg(long)]
    rate_limit_per_minute: Option<u32>,
    /// Fault: fraction of /v2 requests answered 503.
    #[arg(long, default_value_t = 0.0)]
    error_rate: f64,
    /// Fault: fraction of committed writes whose response is dropped.
    #[arg(long, default_value_t = 0.0)]
    lost_response_rate: f64,
    /// Fault: delay added to every /v2 request, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Seed for the fault rates.
    #[arg(long)]
    seed: Option<u64>,
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
    let subscription_keys = if cli.subscription_keys.is_empty() {
        vec![DEFAULT_SUBSCRIPTION_KEY.to_owned()]
    } else {
        cli.subscription_keys
    };
    let config = SandboxConfig {
        subscription_keys,
        keys: cli.keys,
        faults: Faults {
            rate_limit_per_minute: cli.rate_limit_per_minute,
            error_rate: cli.error_rate,
            lost_response_rate: cli.lost_response_rate,
            latency_ms: cli.latency_ms,
            seed: cli.seed,
        },
    };
    let listener = tokio::net::TcpListener::bind(cli.listen).await?;
    let sandbox = Sandbox::start(listener, config).await?;
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
