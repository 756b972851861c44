//! Configuration: defaults < `koppeling.toml` (or `KOPPELING_CONFIG`) < `KOPPELING_…` env.

use std::net::SocketAddr;
use std::path::Path;

use anyhow::{Context, anyhow, bail};
use base64::Engine;
use figment::Figment;
use figment::providers::{Format, Serialized, Toml};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

/// All settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[derive(Default)]
pub struct Settings {
    /// `database.*`.
    pub database: DatabaseSettings,
    /// `http.*`.
    pub http: HttpSettings,
    /// `api.*`.
    pub api: ApiSettings,
    /// `snelstart.*`.
    pub snelstart: SnelStartSettings,
    /// `smtp.*`.
    pub smtp: SmtpSettings,
    /// `secrets.*`.
    pub secrets: SecretSettings,
    /// `sync.*`.
    pub sync: SyncSettings,
    /// `notify.*`.
    pub notify: NotifySettings,
    /// `ui.*`.
    pub ui: UiSettings,
}

/// `database.*`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseSettings {
    /// SQLite file or `postgres://…`.
    pub url: String,
}

/// `http.*`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpSettings {
    /// Listen address of the API and UI.
    pub listen: String,
}

/// `api.*`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApiSettings {
    /// Bearer token of the JSON API (required by `serve`).
    #[serde(serialize_with = "ser_secret")]
    pub token: Option<SecretString>,
}

/// `snelstart.*`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SnelStartSettings {
    /// B2B API base URL.
    pub api_url: String,
    /// Token endpoint.
    pub auth_url: String,
    /// `Ocp-Apim-Subscription-Key`.
    #[serde(serialize_with = "ser_secret")]
    pub subscription_key: Option<SecretString>,
    /// Per-request timeout.
    pub timeout_secs: u64,
    /// Calls per minute per administratie.
    pub calls_per_minute: u32,
    /// Calls per hour per administratie.
    pub calls_per_hour: u32,
    /// Concurrent calls per administratie.
    pub concurrency: u32,
}

/// `smtp.*`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmtpSettings {
    /// e.g. `smtp://127.0.0.1:2525`; notifications are logged when unset.
    pub url: Option<String>,
    /// Sender address.
    pub from: String,
}

/// `secrets.*`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SecretSettings {
    /// base64 of 32 bytes; encrypts koppelsleutels at rest.
    #[serde(serialize_with = "ser_secret")]
    pub master_key: Option<SecretString>,
}

/// `sync.*`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SyncSettings {
    /// Concurrent invoices per process.
    pub workers: u32,
    /// Lease length.
    pub lease_secs: u64,
    /// Safety-net sweep interval.
    pub sweep_secs: u64,
}

/// `notify.*`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotifySettings {
    /// Dedupe window.
    pub dedupe_hours: u64,
    /// The wait after a notification's first failed send, in milliseconds; it doubles per
    /// failure (a mail is never given up).
    pub retry_base_ms: u64,
    /// The longest wait between sends of a notification, in milliseconds.
    pub retry_max_ms: u64,
}

/// `ui.*`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UiSettings {
    /// Base URL for links in e-mails; default `http://` + `http.listen`.
    pub base_url: Option<String>,
}

#[allow(clippy::ref_option)]
fn ser_secret<S: serde::Serializer>(value: &Option<SecretString>, s: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(v) => s.serialize_some(v.expose_secret()),
        None => s.serialize_none(),
    }
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self {
            url: "sqlite://koppeling.db?mode=rwc".to_owned(),
        }
    }
}
impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8360".to_owned(),
        }
    }
}
impl Default for SnelStartSettings {
    fn default() -> Self {
        Self {
            api_url: "https://b2bapi.snelstart.nl/v2".to_owned(),
            auth_url: "https://auth.snelstart.nl/b2b/token".to_owned(),
            subscription_key: None,
            timeout_secs: 30,
            calls_per_minute: 500,
            calls_per_hour: 5000,
            concurrency: 50,
        }
    }
}
impl Default for SmtpSettings {
    fn default() -> Self {
        Self {
            url: None,
            from: "koppeling@localhost".to_owned(),
        }
    }
}
impl Default for SyncSettings {
    fn default() -> Self {
        Self {
            workers: 4,
            lease_secs: 60,
            sweep_secs: 30,
        }
    }
}
impl Default for NotifySettings {
    fn default() -> Self {
        Self {
            dedupe_hours: 24,
            retry_base_ms: 30_000,
            retry_max_ms: 3_600_000,
        }
    }
}

/// The configuration keys and whether each is a number.
const KEYS: &[(&str, bool)] = &[
    ("database.url", false),
    ("http.listen", false),
    ("api.token", false),
    ("snelstart.api_url", false),
    ("snelstart.auth_url", false),
    ("snelstart.subscription_key", false),
    ("snelstart.timeout_secs", true),
    ("snelstart.calls_per_minute", true),
    ("snelstart.calls_per_hour", true),
    ("snelstart.concurrency", true),
    ("smtp.url", false),
    ("smtp.from", false),
    ("secrets.master_key", false),
    ("sync.workers", true),
    ("sync.lease_secs", true),
    ("sync.sweep_secs", true),
    ("notify.dedupe_hours", true),
    ("notify.retry_base_ms", true),
    ("notify.retry_max_ms", true),
    ("ui.base_url", false),
];

fn env_name(key: &str) -> String {
    format!("KOPPELING_{}", key.to_ascii_uppercase().replace('.', "__"))
}

impl Settings {
    /// Loads the settings from the process environment and the working directory.
    ///
    /// # Errors
    /// One line naming the key and what is wrong.
    pub fn load() -> anyhow::Result<Self> {
        Self::load_from(|name| std::env::var(name).ok())
    }

    /// Loads with `env` as the environment (tests).
    ///
    /// # Errors
    /// One line naming the key and what is wrong.
    pub fn load_from(env: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        figment = match env("KOPPELING_CONFIG") {
            Some(path) => {
                if !Path::new(&path).exists() {
                    bail!("KOPPELING_CONFIG names {path}, which does not exist");
                }
                figment.merge(Toml::file_exact(path))
            }
            None if Path::new("koppeling.toml").exists() => {
                figment.merge(Toml::file_exact("koppeling.toml"))
            }
            None => figment,
        };
        // Environment: only KOPPELING_<KEY>__<SUBKEY> naming a known key; strings stay
        // strings (an all-digit token keeps its leading zeros).
        for (key, numeric) in KEYS {
            let name = env_name(key);
            if let Some(raw) = env(&name) {
                if *numeric {
                    let n: u64 = raw.trim().parse().map_err(|_| {
                        anyhow!("{key} ({name}): expected a whole number, got {raw:?}")
                    })?;
                    figment = figment.merge((*key, n));
                } else {
                    figment = figment.merge((*key, raw));
                }
            }
        }
        let settings: Settings = figment.extract().map_err(|e| {
            let key = e.path.join(".");
            let what = e.kind.to_string();
            if key.is_empty() {
                anyhow!("configuration: {what}")
            } else {
                anyhow!("{key}: {what}")
            }
        })?;
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> anyhow::Result<()> {
        self.listen_addr()?;
        for (key, url) in [
            ("snelstart.api_url", &self.snelstart.api_url),
            ("snelstart.auth_url", &self.snelstart.auth_url),
        ] {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                bail!("{key}: must be an http:// or https:// URL, got {url:?}");
            }
        }
        if !(self.database.url.starts_with("sqlite:")
            || self.database.url.starts_with("postgres://")
            || self.database.url.starts_with("postgresql://"))
        {
            bail!("database.url: must start with sqlite: or postgres://");
        }
        if let Some(url) = &self.smtp.url
            && !(url.starts_with("smtp://") || url.starts_with("smtps://"))
        {
            bail!("smtp.url: must start with smtp:// or smtps://, got {url:?}");
        }
        if self.snelstart.timeout_secs == 0 {
            bail!("snelstart.timeout_secs: must be at least 1");
        }
        if self.snelstart.calls_per_minute == 0
            || self.snelstart.calls_per_hour == 0
            || self.snelstart.concurrency == 0
        {
            bail!("snelstart.calls_per_minute, calls_per_hour and concurrency must be at least 1");
        }
        if self.sync.workers == 0 || self.sync.lease_secs == 0 || self.sync.sweep_secs == 0 {
            bail!("sync.workers, sync.lease_secs and sync.sweep_secs must be at least 1");
        }
        if self.notify.retry_base_ms == 0 || self.notify.retry_max_ms < self.notify.retry_base_ms {
            bail!(
                "notify.retry_base_ms must be at least 1, and notify.retry_max_ms at least as large"
            );
        }
        if self.secrets.master_key.is_some() {
            self.master_key()?;
        }
        Ok(())
    }

    /// `http.listen` as an address.
    ///
    /// # Errors
    /// Names the key.
    pub fn listen_addr(&self) -> anyhow::Result<SocketAddr> {
        self.http.listen.parse().with_context(|| {
            format!(
                "http.listen: {:?} is not an address such as 127.0.0.1:8360",
                self.http.listen
            )
        })
    }

    /// The decoded master key.
    ///
    /// # Errors
    /// When missing or not base64 of 32 bytes.
    pub fn master_key(&self) -> anyhow::Result<[u8; 32]> {
        let raw = self.secrets.master_key.as_ref().ok_or_else(|| anyhow!("secrets.master_key is required: set KOPPELING_SECRETS__MASTER_KEY to base64 of 32 random bytes (e.g. `openssl rand -base64 32`)"))?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(raw.expose_secret().trim())
            .map_err(|_| anyhow!("secrets.master_key: not valid base64"))?;
        bytes
            .try_into()
            .map_err(|_| anyhow!("secrets.master_key: must decode to exactly 32 bytes"))
    }

    /// The API token, required by `serve`.
    ///
    /// # Errors
    /// Names the key.
    pub fn api_token(&self) -> anyhow::Result<SecretString> {
        self.api
            .token
            .clone()
            .filter(|t| !t.expose_secret().is_empty())
            .ok_or_else(|| anyhow!("api.token is required by `serve`: set KOPPELING_API__TOKEN"))
    }

    /// The subscription key, required by `serve`, `sync` and `check`.
    ///
    /// # Errors
    /// Names the key.
    pub fn subscription_key(&self) -> anyhow::Result<SecretString> {
        self.snelstart.subscription_key.clone().filter(|t| !t.expose_secret().is_empty()).ok_or_else(|| anyhow!("snelstart.subscription_key is required: set KOPPELING_SNELSTART__SUBSCRIPTION_KEY"))
    }

    /// The UI base URL for e-mail links.
    #[must_use]
    pub fn ui_base_url(&self) -> String {
        self.ui
            .base_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.http.listen))
    }
}

#[cfg(test)]
#[allow(clippy::result_large_err)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn defaults() {
        figment::Jail::expect_with(|_jail| {
            let s = Settings::load_from(env(&[])).unwrap();
            assert_eq!(s.database.url, "sqlite://koppeling.db?mode=rwc");
            assert_eq!(s.http.listen, "127.0.0.1:8360");
            assert_eq!(s.snelstart.calls_per_minute, 500);
            assert_eq!(s.sync.workers, 4);
            assert_eq!(s.ui_base_url(), "http://127.0.0.1:8360");
            assert!(s.api.token.is_none());
            Ok(())
        });
    }

    #[test]
    fn file_beats_defaults_and_env_beats_file() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "koppeling.toml",
                "[sync]\nworkers = 8\n[http]\nlisten = \"127.0.0.1:9000\"\n",
            )?;
            let s = Settings::load_from(env(&[])).unwrap();
            assert_eq!(s.sync.workers, 8);
            let s = Settings::load_from(env(&[("KOPPELING_SYNC__WORKERS", "2")])).unwrap();
            assert_eq!(s.sync.workers, 2);
            assert_eq!(s.http.listen, "127.0.0.1:9000");
            Ok(())
        });
    }

    #[test]
    fn koppeling_config_names_the_file() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("other.toml", "[database]\nurl = \"postgres://x@h/db\"\n")?;
            let s = Settings::load_from(env(&[("KOPPELING_CONFIG", "other.toml")])).unwrap();
            assert_eq!(s.database.url, "postgres://x@h/db");
            let err =
                Settings::load_from(env(&[("KOPPELING_CONFIG", "missing.toml")])).unwrap_err();
            assert!(err.to_string().contains("missing.toml"));
            Ok(())
        });
    }

    #[test]
    fn all_digit_tokens_keep_their_leading_zeros() {
        figment::Jail::expect_with(|_jail| {
            let s = Settings::load_from(env(&[("KOPPELING_API__TOKEN", "000123")])).unwrap();
            assert_eq!(s.api_token().unwrap().expose_secret(), "000123");
            Ok(())
        });
    }

    #[test]
    fn a_malformed_value_names_the_key() {
        figment::Jail::expect_with(|jail| {
            let err = Settings::load_from(env(&[("KOPPELING_SYNC__WORKERS", "many")]))
                .unwrap_err()
                .to_string();
            assert!(err.contains("sync.workers"), "{err}");
            let err = Settings::load_from(env(&[("KOPPELING_HTTP__LISTEN", "nowhere")]))
                .unwrap_err()
                .to_string();
            assert!(err.contains("http.listen"), "{err}");
            let err = Settings::load_from(env(&[("KOPPELING_SECRETS__MASTER_KEY", "c2hvcnQ=")]))
                .unwrap_err()
                .to_string();
            assert!(err.contains("secrets.master_key"), "{err}");
            jail.create_file("koppeling.toml", "[sync]\nworkerz = 3\n")?;
            let err = Settings::load_from(env(&[])).unwrap_err().to_string();
            assert!(err.contains("workerz"), "{err}");
            Ok(())
        });
    }

    #[test]
    fn missing_required_keys_are_named() {
        figment::Jail::expect_with(|_jail| {
            let s = Settings::load_from(env(&[])).unwrap();
            assert!(s.api_token().unwrap_err().to_string().contains("api.token"));
            assert!(
                s.subscription_key()
                    .unwrap_err()
                    .to_string()
                    .contains("snelstart.subscription_key")
            );
            assert!(
                s.master_key()
                    .unwrap_err()
                    .to_string()
                    .contains("secrets.master_key")
            );
            Ok(())
        });
    }

    #[test]
    fn other_koppeling_variables_are_not_configuration() {
        figment::Jail::expect_with(|_jail| {
            // Unknown names are simply not read: only known keys are configuration.
            assert!(
                Settings::load_from(env(&[
                    ("KOPPELING_FOO", "1"),
                    ("KOPPELING_SYNC__WORKERZ", "x")
                ]))
                .is_ok()
            );
            Ok(())
        });
    }
}
