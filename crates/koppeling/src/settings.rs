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
    /// `readback.*`.
    pub readback: ReadbackSettings,
    /// `events.*`.
    pub events: EventSettings,
}

/// `events.*` (product §8.2): the optional push of events to Radar360.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EventSettings {
    /// Where each event is POSTed.
    pub url: Option<String>,
    /// Signs each POST (HMAC-SHA256); never logged or returned.
    #[serde(serialize_with = "ser_secret")]
    pub secret: Option<SecretString>,
}

/// `readback.*` (product §8.2).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReadbackSettings {
    /// At most one read-back pass per administratie this often.
    pub interval_secs: u64,
    /// The share of the administratie's hourly calls the read-back may spend (0 switches it
    /// off).
    pub budget_share: rust_decimal::Decimal,
    /// How often every verkoopfactuur is listed to find deletions (decimal hours).
    pub full_scan_hours: rust_decimal::Decimal,
}

impl Default for ReadbackSettings {
    fn default() -> Self {
        Self {
            interval_secs: 900,
            budget_share: rust_decimal::Decimal::new(1, 1),
            full_scan_hours: rust_decimal::Decimal::from(24),
        }
    }
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
    /// The address at which browsers (and SnelStart) reach this service; wins over
    /// `ui.base_url` for links, cookies and the activation flow.
    pub public_url: Option<String>,
    /// `Secure` + `__Host-` cookies and HSTS; default: on when the public URL is https.
    pub secure_cookies: Option<bool>,
    /// Peers whose `X-Forwarded-For` names the client (IP addresses or CIDR ranges).
    pub trusted_proxies: Vec<String>,
    /// Time allowed to receive a request's headers.
    pub header_timeout_secs: u64,
    /// Time allowed for a whole request (reading the body and answering).
    pub request_timeout_secs: u64,
    /// Open connections at most; further connections wait in the kernel's backlog.
    pub max_connections: u32,
    /// Requests handled at once; more are answered 503 with `Retry-After`.
    pub max_concurrent_requests: u32,
}

/// `api.*`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApiSettings {
    /// Bearer token of the JSON API (required by `serve`).
    #[serde(serialize_with = "ser_secret")]
    pub token: Option<SecretString>,
    /// Older tokens still accepted while a new `api.token` is rolled out.
    #[serde(serialize_with = "ser_secrets")]
    pub previous_tokens: Vec<SecretString>,
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
    /// The integrator's app at SnelStart (product §8.1); unset = the activation link is off.
    pub app_short_name: Option<String>,
    /// SnelStart's activation page; the app's short name is appended.
    pub activation_url: String,
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
    /// Older master keys (base64 of 32 bytes each), used only to decrypt.
    #[serde(serialize_with = "ser_secrets")]
    pub previous_master_keys: Vec<SecretString>,
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

fn ser_secrets<S: serde::Serializer>(values: &[SecretString], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(values.iter().map(ExposeSecret::expose_secret))
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
            public_url: None,
            secure_cookies: None,
            trusted_proxies: Vec::new(),
            header_timeout_secs: 10,
            request_timeout_secs: 30,
            max_connections: 1024,
            max_concurrent_requests: 256,
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
            app_short_name: None,
            activation_url: "https://web.snelstart.nl/couplings/activate".to_owned(),
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

/// What kind of value a key holds, for reading it from an environment variable.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Kept as written (an all-digit token keeps its leading zeros).
    Text,
    /// A whole number.
    Number,
    /// `true`/`false`.
    Flag,
    /// Comma-separated; empty items dropped.
    List,
    /// A decimal number such as `0.5`.
    Decimal,
}

/// The configuration keys and the kind of each.
const KEYS: &[(&str, Kind)] = &[
    ("database.url", Kind::Text),
    ("http.listen", Kind::Text),
    ("http.public_url", Kind::Text),
    ("http.secure_cookies", Kind::Flag),
    ("http.trusted_proxies", Kind::List),
    ("http.header_timeout_secs", Kind::Number),
    ("http.request_timeout_secs", Kind::Number),
    ("http.max_connections", Kind::Number),
    ("http.max_concurrent_requests", Kind::Number),
    ("api.token", Kind::Text),
    ("api.previous_tokens", Kind::List),
    ("snelstart.api_url", Kind::Text),
    ("snelstart.auth_url", Kind::Text),
    ("snelstart.subscription_key", Kind::Text),
    ("snelstart.timeout_secs", Kind::Number),
    ("snelstart.calls_per_minute", Kind::Number),
    ("snelstart.calls_per_hour", Kind::Number),
    ("snelstart.concurrency", Kind::Number),
    ("snelstart.app_short_name", Kind::Text),
    ("snelstart.activation_url", Kind::Text),
    ("smtp.url", Kind::Text),
    ("smtp.from", Kind::Text),
    ("secrets.master_key", Kind::Text),
    ("secrets.previous_master_keys", Kind::List),
    ("sync.workers", Kind::Number),
    ("sync.lease_secs", Kind::Number),
    ("sync.sweep_secs", Kind::Number),
    ("notify.dedupe_hours", Kind::Number),
    ("notify.retry_base_ms", Kind::Number),
    ("notify.retry_max_ms", Kind::Number),
    ("ui.base_url", Kind::Text),
    ("events.url", Kind::Text),
    ("events.secret", Kind::Text),
    ("readback.interval_secs", Kind::Number),
    ("readback.budget_share", Kind::Decimal),
    ("readback.full_scan_hours", Kind::Decimal),
];

/// A key that a command cannot run without.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Required {
    /// `api.token` (`serve`).
    ApiToken,
    /// `snelstart.subscription_key` (`serve`, `sync`, `check`).
    SubscriptionKey,
    /// `secrets.master_key` (every command that opens the database).
    MasterKey,
}

/// Levenshtein distance over bytes (the names are ASCII).
fn edit_distance(a: &str, b: &str) -> usize {
    let b = b.as_bytes();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.bytes().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let current = row[j + 1];
            row[j + 1] = if ca == *cb {
                previous
            } else {
                1 + previous.min(row[j]).min(row[j + 1])
            };
            previous = current;
        }
    }
    row[b.len()]
}

fn env_name(key: &str) -> String {
    format!("KOPPELING_{}", key.to_ascii_uppercase().replace('.', "__"))
}

impl Settings {
    /// Loads the settings from the process environment and the working directory.
    ///
    /// # Errors
    /// One line naming the key and what is wrong.
    pub fn load() -> anyhow::Result<Self> {
        for warning in Self::unknown_variables(std::env::vars().map(|(name, _)| name)) {
            tracing::warn!("{warning}");
        }
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
        // strings (an all-digit token keeps its leading zeros). Every malformed value is
        // reported, one line per key, not only the first.
        let mut problems = Vec::new();
        for (key, kind) in KEYS {
            let name = env_name(key);
            if let Some(raw) = env(&name) {
                figment = match kind {
                    Kind::Number => match raw.trim().parse::<u64>() {
                        Ok(n) => figment.merge((*key, n)),
                        Err(_) => {
                            problems.push(format!(
                                "{key} ({name}): expected a whole number, got {raw:?}"
                            ));
                            figment
                        }
                    },
                    Kind::Flag => match raw.trim().parse::<bool>() {
                        Ok(b) => figment.merge((*key, b)),
                        Err(_) => {
                            problems.push(format!(
                                "{key} ({name}): expected true or false, got {raw:?}"
                            ));
                            figment
                        }
                    },
                    Kind::List => {
                        let items: Vec<String> = raw
                            .split(',')
                            .map(str::trim)
                            .filter(|s| !s.is_empty())
                            .map(str::to_owned)
                            .collect();
                        figment.merge((*key, items))
                    }
                    Kind::Decimal => match raw.trim().parse::<rust_decimal::Decimal>() {
                        Ok(d) => figment.merge((*key, d.to_string())),
                        Err(_) => {
                            problems.push(format!(
                                "{key} ({name}): expected a decimal number such as 0.5, got {raw:?}"
                            ));
                            figment
                        }
                    },
                    Kind::Text => figment.merge((*key, raw)),
                };
            }
        }
        if !problems.is_empty() {
            bail!("{}", problems.join("\n"));
        }
        let settings: Settings = figment.extract().map_err(|errors| {
            let lines: Vec<String> = errors
                .into_iter()
                .map(|e| {
                    let key = e.path.join(".");
                    let what = e.kind.to_string();
                    if key.is_empty() {
                        format!("configuration: {what}")
                    } else {
                        format!("{key}: {what}")
                    }
                })
                .collect();
            anyhow!("{}", lines.join("\n"))
        })?;
        settings.validate()?;
        Ok(settings)
    }

    /// Every problem of the loaded values, one line per key.
    fn validate(&self) -> anyhow::Result<()> {
        let mut problems = Vec::new();
        if let Err(e) = self.listen_addr() {
            problems.push(format!("{e:#}"));
        }
        for (key, url) in [
            ("snelstart.api_url", &self.snelstart.api_url),
            ("snelstart.auth_url", &self.snelstart.auth_url),
            ("snelstart.activation_url", &self.snelstart.activation_url),
        ] {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                problems.push(format!(
                    "{key}: must be an http:// or https:// URL, got {url:?}"
                ));
            }
        }
        if !(self.database.url.starts_with("sqlite:")
            || self.database.url.starts_with("postgres://")
            || self.database.url.starts_with("postgresql://"))
        {
            problems.push("database.url: must start with sqlite: or postgres://".to_owned());
        }
        if let Some(url) = &self.smtp.url
            && !(url.starts_with("smtp://") || url.starts_with("smtps://"))
        {
            problems.push(format!(
                "smtp.url: must start with smtp:// or smtps://, got {url:?}"
            ));
        }
        let at_least_one = [
            ("snelstart.timeout_secs", self.snelstart.timeout_secs),
            (
                "snelstart.calls_per_minute",
                u64::from(self.snelstart.calls_per_minute),
            ),
            (
                "snelstart.calls_per_hour",
                u64::from(self.snelstart.calls_per_hour),
            ),
            (
                "snelstart.concurrency",
                u64::from(self.snelstart.concurrency),
            ),
            ("sync.workers", u64::from(self.sync.workers)),
            ("sync.lease_secs", self.sync.lease_secs),
            ("sync.sweep_secs", self.sync.sweep_secs),
            ("notify.retry_base_ms", self.notify.retry_base_ms),
            ("http.header_timeout_secs", self.http.header_timeout_secs),
            ("http.request_timeout_secs", self.http.request_timeout_secs),
            ("http.max_connections", u64::from(self.http.max_connections)),
            (
                "http.max_concurrent_requests",
                u64::from(self.http.max_concurrent_requests),
            ),
        ];
        for (key, value) in at_least_one {
            if value == 0 {
                problems.push(format!("{key}: must be at least 1"));
            }
        }
        match (&self.events.url, &self.events.secret) {
            (Some(url), Some(_))
                if !(url.starts_with("http://") || url.starts_with("https://")) =>
            {
                problems.push(format!(
                    "events.url: must be an http:// or https:// URL, got {url:?}"
                ));
            }
            (Some(_), None) => {
                problems
                    .push("events.secret: required with events.url (signs every event)".to_owned());
            }
            (None, Some(_)) => {
                problems.push("events.url: required with events.secret".to_owned());
            }
            _ => {}
        }
        if self.readback.interval_secs == 0 {
            problems.push("readback.interval_secs: must be at least 1".to_owned());
        }
        if self.readback.budget_share < rust_decimal::Decimal::ZERO
            || self.readback.budget_share > rust_decimal::Decimal::ONE
        {
            problems.push(format!(
                "readback.budget_share: must be between 0 and 1, got {}",
                self.readback.budget_share
            ));
        }
        if self.readback.full_scan_hours <= rust_decimal::Decimal::ZERO {
            problems.push(format!(
                "readback.full_scan_hours: must be more than 0, got {}",
                self.readback.full_scan_hours
            ));
        }
        if self.notify.retry_max_ms < self.notify.retry_base_ms {
            problems.push("notify.retry_max_ms: must be at least notify.retry_base_ms".to_owned());
        }
        if self.secrets.master_key.is_some()
            && let Err(e) = self.master_key()
        {
            problems.push(format!("{e:#}"));
        }
        self.previous_master_keys()?;
        for (key, url) in [
            ("http.public_url", &self.http.public_url),
            ("ui.base_url", &self.ui.base_url),
        ] {
            if let Some(url) = url
                && !(url.starts_with("http://") || url.starts_with("https://"))
            {
                problems.push(format!(
                    "{key}: must be an http:// or https:// URL, got {url:?}"
                ));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            bail!("{}", problems.join("\n"))
        }
    }

    /// Checks that every key in `keys` that a command requires is set, naming all the missing
    /// ones at once (one line per key).
    ///
    /// # Errors
    /// One line per missing or malformed required key.
    pub fn require(&self, keys: &[Required]) -> anyhow::Result<()> {
        let problems: Vec<String> = keys
            .iter()
            .filter_map(|key| {
                let result = match key {
                    Required::ApiToken => self.api_token().map(drop),
                    Required::SubscriptionKey => self.subscription_key().map(drop),
                    Required::MasterKey => self.master_key().map(drop),
                };
                result.err().map(|e| format!("{e:#}"))
            })
            .collect();
        if problems.is_empty() {
            Ok(())
        } else {
            bail!("{}", problems.join("\n"))
        }
    }

    /// Warnings for environment variables that look like configuration but name no key
    /// (a single underscore between the levels, a typo), each naming the closest key.
    #[must_use]
    pub fn unknown_variables(vars: impl IntoIterator<Item = String>) -> Vec<String> {
        let known: Vec<String> = KEYS.iter().map(|(key, _)| env_name(key)).collect();
        let mut warnings = Vec::new();
        for name in vars {
            if !name.starts_with("KOPPELING_")
                || known.contains(&name)
                || matches!(name.as_str(), "KOPPELING_CONFIG" | "KOPPELING_HEAVY")
            {
                continue;
            }
            let closest = KEYS
                .iter()
                .map(|(key, _)| (edit_distance(&name, &env_name(key)), *key))
                .min_by_key(|(distance, _)| *distance)
                .map(|(_, key)| key)
                .unwrap_or("database.url");
            warnings.push(format!(
                "{name} is not a configuration variable and is ignored; did you mean {} ({closest})?",
                env_name(closest)
            ));
        }
        warnings
    }

    /// The address at which browsers reach this service: `http.public_url`, else
    /// `ui.base_url`, else `http://` + `http.listen`; without a trailing slash.
    #[must_use]
    pub fn public_url(&self) -> String {
        self.http
            .public_url
            .clone()
            .or_else(|| self.ui.base_url.clone())
            .unwrap_or_else(|| format!("http://{}", self.http.listen))
            .trim_end_matches('/')
            .to_owned()
    }

    /// Whether cookies carry `Secure` (and the `__Host-` prefix) and HSTS is sent:
    /// `http.secure_cookies`, by default on when the public URL is https.
    #[must_use]
    pub fn secure_cookies(&self) -> bool {
        self.http
            .secure_cookies
            .unwrap_or_else(|| self.public_url().starts_with("https://"))
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

    /// The decoded `secrets.previous_master_keys` (decrypt only).
    ///
    /// # Errors
    /// Names the key and its index (0-based) when one is not base64 of 32 bytes.
    pub fn previous_master_keys(&self) -> anyhow::Result<Vec<[u8; 32]>> {
        self.secrets
            .previous_master_keys
            .iter()
            .enumerate()
            .map(|(n, raw)| {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(raw.expose_secret().trim())
                    .map_err(|_| anyhow!("secrets.previous_master_keys[{n}]: not valid base64"))?;
                bytes.try_into().map_err(|_| {
                    anyhow!("secrets.previous_master_keys[{n}]: must decode to exactly 32 bytes")
                })
            })
            .collect()
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

    /// The UI base URL for e-mail links (the public URL).
    #[must_use]
    pub fn ui_base_url(&self) -> String {
        self.public_url()
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
    fn lists_flags_and_the_public_url() {
        figment::Jail::expect_with(|_jail| {
            let s = Settings::load_from(env(&[
                ("KOPPELING_HTTP__TRUSTED_PROXIES", "10.0.0.1, 10.1.0.0/16,"),
                (
                    "KOPPELING_HTTP__PUBLIC_URL",
                    "https://koppeling.example.nl/",
                ),
            ]))
            .unwrap();
            assert_eq!(s.http.trusted_proxies, ["10.0.0.1", "10.1.0.0/16"]);
            assert_eq!(s.public_url(), "https://koppeling.example.nl");
            assert!(s.secure_cookies(), "https public URL: secure by default");
            let s = Settings::load_from(env(&[
                ("KOPPELING_HTTP__PUBLIC_URL", "https://koppeling.example.nl"),
                ("KOPPELING_HTTP__SECURE_COOKIES", "false"),
            ]))
            .unwrap();
            assert!(!s.secure_cookies());
            let err = Settings::load_from(env(&[("KOPPELING_HTTP__SECURE_COOKIES", "ja")]))
                .unwrap_err()
                .to_string();
            assert!(err.contains("http.secure_cookies"), "{err}");
            let err = Settings::load_from(env(&[("KOPPELING_HTTP__MAX_CONNECTIONS", "0")]))
                .unwrap_err()
                .to_string();
            assert!(err.contains("http.max_connections"), "{err}");
            Ok(())
        });
    }

    #[test]
    fn every_problem_is_named_at_once() {
        figment::Jail::expect_with(|_jail| {
            let err = Settings::load_from(env(&[
                ("KOPPELING_SYNC__WORKERS", "many"),
                ("KOPPELING_HTTP__MAX_CONNECTIONS", "lots"),
            ]))
            .unwrap_err()
            .to_string();
            assert_eq!(err.lines().count(), 2, "{err}");
            assert!(err.contains("sync.workers") && err.contains("http.max_connections"));
            let err = Settings::load_from(env(&[
                ("KOPPELING_HTTP__LISTEN", "nowhere"),
                ("KOPPELING_SMTP__URL", "mail.example.nl"),
                ("KOPPELING_SYNC__LEASE_SECS", "0"),
            ]))
            .unwrap_err()
            .to_string();
            assert_eq!(err.lines().count(), 3, "{err}");
            for key in ["http.listen", "smtp.url", "sync.lease_secs"] {
                assert!(err.contains(key), "{key} in {err}");
            }
            let s = Settings::load_from(env(&[])).unwrap();
            let err = s
                .require(&[
                    Required::ApiToken,
                    Required::SubscriptionKey,
                    Required::MasterKey,
                ])
                .unwrap_err()
                .to_string();
            assert_eq!(err.lines().count(), 3, "{err}");
            for key in [
                "api.token",
                "snelstart.subscription_key",
                "secrets.master_key",
            ] {
                assert!(err.contains(key), "{key} in {err}");
            }
            Ok(())
        });
    }

    #[test]
    fn readback_keys_take_decimals() {
        figment::Jail::expect_with(|jail| {
            let s = Settings::load_from(env(&[])).unwrap();
            assert_eq!(s.readback.interval_secs, 900);
            assert_eq!(s.readback.budget_share.to_string(), "0.1");
            let s = Settings::load_from(env(&[
                ("KOPPELING_READBACK__BUDGET_SHARE", "0.25"),
                ("KOPPELING_READBACK__FULL_SCAN_HOURS", "0.5"),
            ]))
            .unwrap();
            assert_eq!(s.readback.budget_share.to_string(), "0.25");
            assert_eq!(s.readback.full_scan_hours.to_string(), "0.5");
            let err = Settings::load_from(env(&[("KOPPELING_READBACK__BUDGET_SHARE", "1.5")]))
                .unwrap_err()
                .to_string();
            assert!(err.contains("readback.budget_share"), "{err}");
            jail.create_file("koppeling.toml", "[readback]\nfull_scan_hours = 0.5\n")?;
            let s = Settings::load_from(env(&[])).unwrap();
            assert_eq!(s.readback.full_scan_hours.to_string(), "0.5");
            Ok(())
        });
    }

    #[test]
    fn a_mistyped_variable_is_named_with_the_closest_key() {
        let warnings = Settings::unknown_variables([
            "KOPPELING_SYNC_WORKERS".to_owned(),
            "KOPPELING_API__TOKEN".to_owned(),
            "KOPPELING_CONFIG".to_owned(),
            "KOPPELING_HEAVY".to_owned(),
            "PATH".to_owned(),
            "KOPPELING_SMTP__FORM".to_owned(),
        ]);
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(
            warnings[0].starts_with("KOPPELING_SYNC_WORKERS")
                && warnings[0].contains("KOPPELING_SYNC__WORKERS"),
            "{warnings:?}"
        );
        assert!(warnings[1].contains("smtp.from"), "{warnings:?}");
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

    // issue 13 (secrets)
    #[test]
    fn previous_master_keys_are_validated_by_index() {
        figment::Jail::expect_with(|_jail| {
            let a = base64::engine::general_purpose::STANDARD.encode([1u8; 32]);
            let b = base64::engine::general_purpose::STANDARD.encode([2u8; 32]);
            let s = Settings::load_from(env(&[(
                "KOPPELING_SECRETS__PREVIOUS_MASTER_KEYS",
                &format!("{a},{b}"),
            )]))
            .unwrap();
            assert_eq!(s.previous_master_keys().unwrap(), [[1u8; 32], [2u8; 32]]);
            let err = Settings::load_from(env(&[(
                "KOPPELING_SECRETS__PREVIOUS_MASTER_KEYS",
                &format!("{a},c2hvcnQ="),
            )]))
            .unwrap_err()
            .to_string();
            assert!(err.contains("secrets.previous_master_keys[1]"), "{err}");
            assert!(!err.contains("c2hvcnQ"), "the value is not echoed: {err}");
            let err = Settings::load_from(env(&[(
                "KOPPELING_SECRETS__PREVIOUS_MASTER_KEYS",
                "!!nope!!",
            )]))
            .unwrap_err()
            .to_string();
            assert!(err.contains("secrets.previous_master_keys[0]"), "{err}");
            Ok(())
        });
    }
}
