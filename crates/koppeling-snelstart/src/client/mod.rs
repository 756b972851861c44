//! The raw SnelStart B2B API v2 client: token endpoint and cache, headers, limits, OData paging and typed calls.
//!
//! Every API call carries `Authorization: Bearer <token>`, `Ocp-Apim-Subscription-Key` and
//! `Accept: application/json`. Tokens are minted with `grant_type=clientkey` and cached per
//! koppelsleutel (keyed by its SHA-256, never by the key itself) until 60 s before they
//! expire; concurrent callers share one token request. A 401 on a token older than a few
//! seconds mints once more and retries that call once. Writes are never retried otherwise.
//!
//! Answers are untrusted ([`untrusted`]): bodies are read up to 1 MiB, redirects are not
//! followed (a 3xx is [`CallError::InvalidAnswer`]), waits and token lifetimes are clamped,
//! and the ids the typed calls return are GUIDs (else [`CallError::InvalidAnswer`]).

pub mod error;
pub mod limits;
pub mod metrics;
pub mod odata;
pub mod untrusted;
pub mod wire;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue, LOCATION, RETRY_AFTER};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use tokio::time::Instant;

pub use error::{ApiError, CallError, ErrorItem, ErrorShape};
pub use limits::Limits;
use metrics::Outcome;
pub use metrics::{CallCount, CallMetrics};
pub use odata::Query;
use untrusted::{BodyError, MAX_BODY, excerpt, is_guid, later, read_capped};
use wire::{
    Betaling, Created, Dagboek, Grootboek, Grootboekmutatie, Land, Relatie, Verkoopboeking,
    Verkoopfactuur,
};

/// The endpoint templates used for metrics and logs.
pub mod endpoints {
    /// `POST {auth_url}`.
    pub const TOKEN: &str = "/b2b/token";
    /// `GET|POST /relaties`.
    pub const RELATIES: &str = "/relaties";
    /// `GET|PUT /relaties/{id}`.
    pub const RELATIE: &str = "/relaties/{id}";
    /// `POST /verkoopboekingen`.
    pub const VERKOOPBOEKINGEN: &str = "/verkoopboekingen";
    /// `GET /verkoopfacturen`.
    pub const VERKOOPFACTUREN: &str = "/verkoopfacturen";
    /// `GET /grootboeken`.
    pub const GROOTBOEKEN: &str = "/grootboeken";
    /// `GET /dagboeken`.
    pub const DAGBOEKEN: &str = "/dagboeken";
    /// `GET /landen`.
    pub const LANDEN: &str = "/landen";
    /// `GET /verkoopboekingen/{id}`.
    pub const VERKOOPBOEKING: &str = "/verkoopboekingen/{id}";
    /// `GET /bankboekingen`.
    pub const BANKBOEKINGEN: &str = "/bankboekingen";
    /// `GET /kasboekingen`.
    pub const KASBOEKINGEN: &str = "/kasboekingen";
    /// `GET /grootboekmutaties`.
    pub const GROOTBOEKMUTATIES: &str = "/grootboekmutaties";
    /// `POST /documenten/Verkoopboekingen`.
    pub const DOCUMENTEN: &str = "/documenten/{documenttype}";
    /// `GET /documenten/Verkoopboekingen/{id}`.
    pub const DOCUMENTEN_VAN: &str = "/documenten/{documenttype}/{pid}";
}

/// The OData page size (SnelStart's maximum, README §4).
pub const PAGE_SIZE: u32 = 500;
/// A guard against endless paging: 200 pages of 500 rows.
const MAX_PAGES: u32 = 200;
/// Renew a token this long before it expires.
const RENEW_MARGIN: Duration = Duration::from_secs(60);
/// A token younger than this that is refused is not renewed: the key itself is refused.
const FRESH_TOKEN: Duration = Duration::from_secs(5);

/// How to reach SnelStart.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// e.g. `https://b2bapi.snelstart.nl/v2`.
    pub api_url: String,
    /// e.g. `https://auth.snelstart.nl/b2b/token`.
    pub auth_url: String,
    /// The integrator's `Ocp-Apim-Subscription-Key`.
    pub subscription_key: SecretString,
    /// Per request.
    pub timeout: Duration,
    /// Per partition (administratie).
    pub limits: Limits,
    /// The longest a call waits for a limit; longer waits fail with [`CallError::Throttled`].
    pub max_wait: Duration,
}

/// Who a call is for: the koppelsleutel that opens the SnelStart administration, and the
/// partition (our administratie code) whose limits the call counts against.
#[derive(Clone, Copy)]
pub struct Target<'a> {
    /// The koppelsleutel (only sent to the token endpoint).
    pub koppelsleutel: &'a str,
    /// The limits partition.
    pub partition: &'a str,
}

impl std::fmt::Debug for Target<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("koppelsleutel", &"[REDACTED]")
            .field("partition", &self.partition)
            .finish()
    }
}

/// A cached access token.
struct Token {
    /// The bearer token (never logged).
    access: SecretString,
    /// When it was minted.
    minted: Instant,
    /// When to mint a new one.
    renew_at: Instant,
    /// Distinguishes tokens so that concurrent 401s renew only once.
    generation: u64,
}

/// What a call uses of a token.
struct Bearer {
    header: HeaderValue,
    minted: Instant,
    generation: u64,
}

pub(crate) type KeyId = [u8; 32];

/// The token cache: one slot per koppelsleutel hash; the slot's lock is held while minting,
/// so concurrent callers share one token request.
#[derive(Default)]
struct Tokens {
    slots: Mutex<HashMap<KeyId, Arc<tokio::sync::Mutex<Option<Token>>>>>,
    generation: std::sync::atomic::AtomicU64,
}

impl Tokens {
    fn slot(&self, id: &KeyId) -> Arc<tokio::sync::Mutex<Option<Token>>> {
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        slots.entry(*id).or_default().clone()
    }
}

/// The cache key of a koppelsleutel: its SHA-256, so the key itself is never a map key.
pub(crate) fn key_id(koppelsleutel: &str) -> KeyId {
    Sha256::digest(koppelsleutel.trim().as_bytes()).into()
}

/// A success answer.
struct Answer {
    status: u16,
    body: Vec<u8>,
}

/// The SnelStart client. Cheap to clone (shares the connection pool, tokens and limits).
#[derive(Clone)]
pub struct SnelStartClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    api_url: String,
    auth_url: String,
    subscription_key: HeaderValue,
    limiter: limits::Limiter,
    tokens: Tokens,
    metrics: metrics::Recorder,
}

impl std::fmt::Debug for SnelStartClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SnelStartClient")
            .field("api_url", &self.inner.api_url)
            .field("auth_url", &self.inner.auth_url)
            .finish_non_exhaustive()
    }
}

impl SnelStartClient {
    /// Builds the client (no network traffic).
    ///
    /// # Errors
    /// When a URL or the subscription key is unusable, or the HTTP client cannot be built.
    pub fn new(cfg: ClientConfig) -> anyhow::Result<Self> {
        use anyhow::Context as _;
        for (name, url) in [("api_url", &cfg.api_url), ("auth_url", &cfg.auth_url)] {
            let parsed =
                reqwest::Url::parse(url).with_context(|| format!("snelstart.{name} {url:?}"))?;
            anyhow::ensure!(
                matches!(parsed.scheme(), "http" | "https"),
                "snelstart.{name} must be an http(s) URL, got {url:?}"
            );
        }
        anyhow::ensure!(
            !cfg.timeout.is_zero(),
            "snelstart.timeout_secs must be more than 0"
        );
        let mut subscription_key =
            HeaderValue::from_str(cfg.subscription_key.expose_secret().trim())
                .context("snelstart.subscription_key is not a valid header value")?;
        subscription_key.set_sensitive(true);
        let http = reqwest::Client::builder()
            .timeout(cfg.timeout)
            .connect_timeout(cfg.timeout.min(Duration::from_secs(10)))
            .pool_idle_timeout(Duration::from_secs(60))
            // A redirect is an answer SnelStart does not give: never follow it elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("koppeling/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("building the SnelStart HTTP client")?;
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                api_url: cfg.api_url.trim_end_matches('/').to_owned(),
                auth_url: cfg.auth_url,
                subscription_key,
                limiter: limits::Limiter::new(cfg.limits, cfg.max_wait),
                tokens: Tokens::default(),
                metrics: metrics::Recorder::default(),
            }),
        })
    }

    /// The call counters.
    #[must_use]
    pub fn metrics(&self) -> CallMetrics {
        self.inner.metrics.snapshot()
    }

    // -----------------------------------------------------------------------------------
    // Tokens

    /// Makes sure a valid token exists for `koppelsleutel` (minting one when needed).
    ///
    /// # Errors
    /// [`CallError::Token`] when the token endpoint refuses (400/401: the key is refused),
    /// or a transport error.
    pub async fn ensure_token(&self, koppelsleutel: &str) -> Result<(), CallError> {
        self.bearer(koppelsleutel).await.map(|_| ())
    }

    async fn bearer(&self, koppelsleutel: &str) -> Result<Bearer, CallError> {
        let slot = self.inner.tokens.slot(&key_id(koppelsleutel));
        let mut guard = slot.lock().await;
        let now = Instant::now();
        if let Some(token) = guard.as_ref().filter(|t| t.renew_at > now) {
            return bearer_of(token);
        }
        let token = self.mint(koppelsleutel).await?;
        let bearer = bearer_of(&token)?;
        *guard = Some(token);
        Ok(bearer)
    }

    /// Drops the cached token of `koppelsleutel` if it is still the one of `generation`.
    async fn invalidate(&self, koppelsleutel: &str, generation: u64) {
        let slot = self.inner.tokens.slot(&key_id(koppelsleutel));
        let mut guard = slot.lock().await;
        if guard.as_ref().is_some_and(|t| t.generation == generation) {
            *guard = None;
        }
    }

    async fn mint(&self, koppelsleutel: &str) -> Result<Token, CallError> {
        // README §2.2: credentials in the body; the base64 key is percent-encoded.
        let form = format!(
            "grant_type=clientkey&clientkey={}",
            urlencoding::encode(koppelsleutel.trim())
        );
        let started = Instant::now();
        let res = self
            .inner
            .http
            .post(&self.inner.auth_url)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(ACCEPT, "application/json")
            .body(form)
            .send()
            .await;
        let res = match res {
            Ok(res) => res,
            Err(e) => {
                let outcome = transport_outcome(&e);
                self.inner
                    .metrics
                    .record("POST", endpoints::TOKEN, Outcome::Failure(outcome));
                tracing::warn!(outcome, error = %e, "SnelStart token request failed");
                return Err(CallError::TokenUnavailable(e.to_string()));
            }
        };
        let status = res.status().as_u16();
        let retry_after = header_text(res.headers(), RETRY_AFTER);
        let body = match read_capped(res, MAX_BODY).await {
            Ok(body) => body,
            Err(BodyError::TooLarge) => {
                self.inner
                    .metrics
                    .record("POST", endpoints::TOKEN, Outcome::Failure("oversized"));
                tracing::warn!(
                    status,
                    "SnelStart token answer is larger than {MAX_BODY} bytes"
                );
                return Err(CallError::TokenUnavailable(format!(
                    "the token answer (HTTP {status}) is larger than {MAX_BODY} bytes"
                )));
            }
            Err(BodyError::Read(e)) => return Err(CallError::TokenUnavailable(e.to_string())),
        };
        self.inner
            .metrics
            .record("POST", endpoints::TOKEN, Outcome::Status(status));
        tracing::debug!(
            status,
            elapsed_ms = started.elapsed().as_millis(),
            "SnelStart token request"
        );
        if status != 200 {
            let err = ApiError::parse(status, retry_after.as_deref(), &body);
            tracing::warn!(status, message = %err.message, "SnelStart token endpoint refused");
            return Err(CallError::Token(err));
        }
        // A token answer that cannot be used means nothing reached the API: not a Decode
        // error, which would make a write's outcome look unknown.
        let parsed: serde_json::Value = serde_json::from_slice(&body)
            .map_err(|e| CallError::TokenUnavailable(format!("unreadable token answer: {e}")))?;
        let access = parsed
            .get("access_token")
            .and_then(serde_json::Value::as_str)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                CallError::TokenUnavailable("token answer without access_token".into())
            })?;
        // At most a day; absurd, negative or missing values are handled there.
        let lifetime = untrusted::token_lifetime(parsed.get("expires_in"));
        // Renew 60 s early; for an unusually short lifetime, halfway.
        let margin = if lifetime > RENEW_MARGIN * 2 {
            RENEW_MARGIN
        } else {
            lifetime / 2
        };
        let now = Instant::now();
        Ok(Token {
            access: SecretString::from(access.to_owned()),
            minted: now,
            renew_at: later(now, lifetime.saturating_sub(margin)),
            generation: self
                .inner
                .tokens
                .generation
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        })
    }

    // -----------------------------------------------------------------------------------
    // Requests

    async fn execute(
        &self,
        target: &Target<'_>,
        method: reqwest::Method,
        endpoint: &'static str,
        path_and_query: &str,
        body: Option<Vec<u8>>,
    ) -> Result<Answer, CallError> {
        let method_name = method_name(&method);
        let permit = match self.inner.limiter.acquire(target.partition).await {
            Ok(permit) => permit,
            Err(t) => {
                self.inner
                    .metrics
                    .record(method_name, endpoint, Outcome::Failure("throttled"));
                return Err(CallError::Throttled {
                    retry_after: t.retry_after,
                });
            }
        };
        let url = format!("{}{path_and_query}", self.inner.api_url);
        let bearer = self.bearer(target.koppelsleutel).await?;
        let first = self
            .send_once(&method, endpoint, &url, &bearer, body.as_ref())
            .await?;
        let answer = if first.status == 401 {
            let err = ApiError::parse(401, first.retry_after.as_deref(), &first.body);
            if err.is_subscription_key_refused() || bearer.minted.elapsed() < FRESH_TOKEN {
                return Err(CallError::Api(err));
            }
            // The token may have expired or been revoked early: mint once more, retry once.
            tracing::debug!(endpoint, "SnelStart refused a cached token; renewing it");
            self.invalidate(target.koppelsleutel, bearer.generation)
                .await;
            let bearer = self.bearer(target.koppelsleutel).await?;
            if let Err(t) = self.inner.limiter.another_call(&permit).await {
                self.inner
                    .metrics
                    .record(method_name, endpoint, Outcome::Failure("throttled"));
                return Err(CallError::Throttled {
                    retry_after: t.retry_after,
                });
            }
            self.send_once(&method, endpoint, &url, &bearer, body.as_ref())
                .await?
        } else {
            first
        };
        drop(permit);
        if (200..300).contains(&answer.status) {
            return Ok(Answer {
                status: answer.status,
                body: answer.body,
            });
        }
        if (300..400).contains(&answer.status) {
            tracing::warn!(
                method = method_name,
                endpoint,
                status = answer.status,
                "SnelStart answered with a redirect; not followed"
            );
            return Err(CallError::InvalidAnswer(format!(
                "HTTP {} redirect to {} (not followed)",
                answer.status,
                answer
                    .location
                    .as_deref()
                    .map_or_else(|| "nowhere".to_owned(), |l| excerpt(l, 100))
            )));
        }
        let err = ApiError::parse(answer.status, answer.retry_after.as_deref(), &answer.body);
        // README §11: 429, and 403 with Retry-After (an APIM quota), block the administratie.
        if err.status == 429 || (err.status == 403 && err.retry_after.is_some()) {
            let wait = err.retry_after.unwrap_or(Duration::from_secs(1));
            self.inner.limiter.block(target.partition, wait);
            tracing::warn!(
                status = err.status,
                retry_after_s = wait.as_secs(),
                "SnelStart rate limit reached"
            );
        }
        Err(CallError::Api(err))
    }

    async fn send_once(
        &self,
        method: &reqwest::Method,
        endpoint: &'static str,
        url: &str,
        bearer: &Bearer,
        body: Option<&Vec<u8>>,
    ) -> Result<RawAnswer, CallError> {
        let method_name = method_name(method);
        let mut req = self
            .inner
            .http
            .request(method.clone(), url)
            .header(AUTHORIZATION, bearer.header.clone())
            .header(
                "Ocp-Apim-Subscription-Key",
                self.inner.subscription_key.clone(),
            )
            .header(ACCEPT, "application/json");
        if let Some(body) = body {
            req = req
                .header(CONTENT_TYPE, "application/json; charset=utf-8")
                .body(body.clone());
        }
        let started = Instant::now();
        let res = match req.send().await {
            Ok(res) => res,
            Err(e) => {
                let outcome = transport_outcome(&e);
                self.inner
                    .metrics
                    .record(method_name, endpoint, Outcome::Failure(outcome));
                tracing::warn!(method = method_name, endpoint, outcome, error = %e, "SnelStart call failed");
                return Err(transport_error(&e));
            }
        };
        let status = res.status().as_u16();
        let retry_after = header_text(res.headers(), RETRY_AFTER);
        let location = header_text(res.headers(), LOCATION);
        let body = match read_capped(res, MAX_BODY).await {
            Ok(b) => b,
            Err(BodyError::TooLarge) => {
                self.inner
                    .metrics
                    .record(method_name, endpoint, Outcome::Failure("oversized"));
                tracing::warn!(
                    method = method_name,
                    endpoint,
                    status,
                    "SnelStart answer is larger than {MAX_BODY} bytes"
                );
                return Err(CallError::InvalidAnswer(format!(
                    "the answer (HTTP {status}) is larger than {MAX_BODY} bytes"
                )));
            }
            Err(BodyError::Read(e)) => {
                let outcome = transport_outcome(&e);
                self.inner
                    .metrics
                    .record(method_name, endpoint, Outcome::Failure(outcome));
                tracing::warn!(method = method_name, endpoint, status, outcome, error = %e, "SnelStart answer broke off");
                return Err(if e.is_timeout() {
                    CallError::Timeout
                } else {
                    CallError::Transport(e.to_string())
                });
            }
        };
        self.inner
            .metrics
            .record(method_name, endpoint, Outcome::Status(status));
        tracing::debug!(
            method = method_name,
            endpoint,
            status,
            elapsed_ms = started.elapsed().as_millis(),
            "SnelStart call"
        );
        Ok(RawAnswer {
            status,
            retry_after,
            location,
            body,
        })
    }

    /// `GET {api_url}{path}{query}` decoded as `T`.
    ///
    /// # Errors
    /// Any [`CallError`].
    pub async fn get<T: DeserializeOwned>(
        &self,
        target: &Target<'_>,
        endpoint: &'static str,
        path: &str,
        query: &Query,
    ) -> Result<T, CallError> {
        let pq = format!("{path}{}", query.to_query_string());
        let answer = self
            .execute(target, reqwest::Method::GET, endpoint, &pq, None)
            .await?;
        decode(&answer)
    }

    /// Every row of an OData collection: pages of [`PAGE_SIZE`] until a short page.
    ///
    /// # Errors
    /// Any [`CallError`].
    pub async fn get_all<T: DeserializeOwned>(
        &self,
        target: &Target<'_>,
        endpoint: &'static str,
        path: &str,
        filter: Option<&str>,
    ) -> Result<Vec<T>, CallError> {
        let mut rows = Vec::new();
        let mut previous_first: Option<serde_json::Value> = None;
        for page in 0..MAX_PAGES {
            let mut query = Query::new();
            if let Some(f) = filter {
                query = query.filter(f);
            }
            let query = query.top(PAGE_SIZE).skip(page * PAGE_SIZE);
            let batch: Vec<serde_json::Value> = self.get(target, endpoint, path, &query).await?;
            let full = batch.len() >= PAGE_SIZE as usize;
            // A server that ignores $skip would repeat the first page forever.
            if page > 0 && !batch.is_empty() && batch.first() == previous_first.as_ref() {
                break;
            }
            previous_first = batch.first().cloned();
            for row in batch {
                rows.push(
                    serde_json::from_value(row)
                        .map_err(|e| CallError::Decode(format!("{endpoint}: {e}")))?,
                );
            }
            if !full {
                break;
            }
        }
        Ok(rows)
    }

    /// `POST {api_url}{path}` with a JSON body, decoded as `T`.
    ///
    /// # Errors
    /// Any [`CallError`].
    pub async fn post<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        target: &Target<'_>,
        endpoint: &'static str,
        path: &str,
        body: &B,
    ) -> Result<T, CallError> {
        let bytes = serde_json::to_vec(body).map_err(|e| CallError::Request(e.to_string()))?;
        let answer = self
            .execute(target, reqwest::Method::POST, endpoint, path, Some(bytes))
            .await?;
        decode(&answer)
    }

    /// `PUT {api_url}{path}` with a JSON body, decoded as `T`.
    ///
    /// # Errors
    /// Any [`CallError`].
    pub async fn put<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        target: &Target<'_>,
        endpoint: &'static str,
        path: &str,
        body: &B,
    ) -> Result<T, CallError> {
        let bytes = serde_json::to_vec(body).map_err(|e| CallError::Request(e.to_string()))?;
        let answer = self
            .execute(target, reqwest::Method::PUT, endpoint, path, Some(bytes))
            .await?;
        decode(&answer)
    }

    // -----------------------------------------------------------------------------------
    // Typed calls

    /// `GET /relaties?$filter=Relatiecode eq {code}`, re-checked client-side.
    ///
    /// # Errors
    /// Any [`CallError`].
    pub async fn relaties_by_code(
        &self,
        target: &Target<'_>,
        code: i32,
    ) -> Result<Vec<Relatie>, CallError> {
        let query = Query::new().filter(odata::eq_int("Relatiecode", i64::from(code)));
        let rows: Vec<Relatie> = self
            .get(target, endpoints::RELATIES, "/relaties", &query)
            .await?;
        let rows: Vec<Relatie> = rows
            .into_iter()
            .filter(|r| r.relatiecode == Some(code))
            .collect();
        guids_or_absent("relatie", rows, |r: &Relatie| r.id.as_deref())
    }

    /// `GET /relaties/{id}` as raw JSON (for read-modify-write).
    ///
    /// # Errors
    /// Any [`CallError`]; 404 when the relatie does not exist.
    pub async fn relatie_json(
        &self,
        target: &Target<'_>,
        id: &str,
    ) -> Result<serde_json::Value, CallError> {
        let path = format!("/relaties/{}", urlencoding::encode(id));
        self.get(target, endpoints::RELATIE, &path, &Query::new())
            .await
    }

    /// `POST /relaties`; the answer is read only for its `id` (the rest is not needed and
    /// an odd field must not make a committed write look failed).
    ///
    /// # Errors
    /// Any [`CallError`]; [`CallError::InvalidAnswer`] when the id is not a GUID.
    pub async fn create_relatie(
        &self,
        target: &Target<'_>,
        relatie: &Relatie,
    ) -> Result<Created, CallError> {
        let created: Created = self
            .post(target, endpoints::RELATIES, "/relaties", relatie)
            .await?;
        guid_or_absent("the created relatie's", created.id.as_deref())?;
        Ok(created)
    }

    /// `PUT /relaties/{id}` with a full body.
    ///
    /// # Errors
    /// Any [`CallError`]; [`CallError::InvalidAnswer`] when the answer's id is not a GUID.
    pub async fn put_relatie_json(
        &self,
        target: &Target<'_>,
        id: &str,
        body: &serde_json::Value,
    ) -> Result<Created, CallError> {
        let path = format!("/relaties/{}", urlencoding::encode(id));
        let updated: Created = self.put(target, endpoints::RELATIE, &path, body).await?;
        guid_or_absent("the updated relatie's", updated.id.as_deref())?;
        Ok(updated)
    }

    /// `POST /verkoopboekingen`; the answer is read only for its `id`.
    ///
    /// # Errors
    /// Any [`CallError`]; 400 `BOE-0021` when the factuurnummer exists;
    /// [`CallError::InvalidAnswer`] when the id is not a GUID.
    pub async fn create_verkoopboeking(
        &self,
        target: &Target<'_>,
        boeking: &Verkoopboeking,
    ) -> Result<Verkoopboeking, CallError> {
        let created: Verkoopboeking = self
            .post(
                target,
                endpoints::VERKOOPBOEKINGEN,
                "/verkoopboekingen",
                boeking,
            )
            .await?;
        guid_or_absent("the created verkoopboeking's", created.id.as_deref())?;
        Ok(created)
    }

    /// `GET /verkoopfacturen?$filter=Factuurnummer eq '…'`, re-checked client-side.
    ///
    /// # Errors
    /// Any [`CallError`].
    pub async fn verkoopfacturen_by_nummer(
        &self,
        target: &Target<'_>,
        factuurnummer: &str,
    ) -> Result<Vec<Verkoopfactuur>, CallError> {
        let query = Query::new().filter(odata::eq_str("Factuurnummer", factuurnummer));
        let rows: Vec<Verkoopfactuur> = self
            .get(
                target,
                endpoints::VERKOOPFACTUREN,
                "/verkoopfacturen",
                &query,
            )
            .await?;
        let rows: Vec<Verkoopfactuur> = rows
            .into_iter()
            .filter(|f| f.factuurnummer.as_deref() == Some(factuurnummer))
            .collect();
        let rows = guids_or_absent("the verkoopboeking", rows, Verkoopfactuur::boeking_id)?;
        guids_or_absent("the relatie", rows, |f: &Verkoopfactuur| {
            f.relatie.as_ref().and_then(|r| r.id.as_deref())
        })
    }

    /// One page of verkoopfacturen changed since `since` (`ModifiedOn ge`), ordered by
    /// `ModifiedOn`, after `skip` rows (the read-back's cursor).
    ///
    /// # Errors
    /// Any [`CallError`].
    pub async fn verkoopfacturen_since(
        &self,
        target: &Target<'_>,
        since: Option<&str>,
        skip: u32,
    ) -> Result<Vec<Verkoopfactuur>, CallError> {
        let mut query = Query::new();
        if let Some(since) = since {
            query = query.filter(odata::modified_since(since));
        }
        let query = query
            .with("$orderby", "ModifiedOn")
            .top(PAGE_SIZE)
            .skip(skip);
        let rows: Vec<Verkoopfactuur> = self
            .get(
                target,
                endpoints::VERKOOPFACTUREN,
                "/verkoopfacturen",
                &query,
            )
            .await?;
        guids_or_absent("the verkoopboeking", rows, Verkoopfactuur::boeking_id)
    }

    /// Every bank (`kas = false`) or cash booking changed since `since`, all pages.
    ///
    /// # Errors
    /// Any [`CallError`].
    pub async fn betalingen_since(
        &self,
        target: &Target<'_>,
        kas: bool,
        since: Option<&str>,
    ) -> Result<Vec<Betaling>, CallError> {
        let (endpoint, path) = if kas {
            (endpoints::KASBOEKINGEN, "/kasboekingen")
        } else {
            (endpoints::BANKBOEKINGEN, "/bankboekingen")
        };
        let filter = since.map(odata::modified_since);
        let rows: Vec<Betaling> = self
            .get_all(target, endpoint, path, filter.as_deref())
            .await?;
        for b in &rows {
            for r in b.verkoopboeking_boekings_regels.iter().flatten() {
                guid_or_absent(
                    "the settled verkoopboeking",
                    r.boeking_id.as_ref().and_then(|x| x.id.as_deref()),
                )?;
            }
        }
        Ok(rows)
    }

    /// `POST /documenten/Verkoopboekingen` `{"content","fileName","parentIdentifier"}`: the
    /// new document's identifier.
    ///
    /// # Errors
    /// Any [`CallError`].
    pub async fn upload_verkoopboeking_document(
        &self,
        target: &Target<'_>,
        body: &wire::DocumentContent,
    ) -> Result<wire::DocumentIdentifier, CallError> {
        let created: wire::DocumentIdentifier = self
            .post(
                target,
                endpoints::DOCUMENTEN,
                "/documenten/Verkoopboekingen",
                body,
            )
            .await?;
        guid_or_absent("the uploaded document's", created.id.as_deref())?;
        Ok(created)
    }

    /// `GET /documenten/Verkoopboekingen/{id}`: the booking's documents (no content).
    ///
    /// # Errors
    /// Any [`CallError`]; 404 when the booking is gone.
    pub async fn verkoopboeking_documents(
        &self,
        target: &Target<'_>,
        booking_id: &str,
    ) -> Result<Vec<wire::BijlageReference>, CallError> {
        let path = format!(
            "/documenten/Verkoopboekingen/{}",
            urlencoding::encode(booking_id)
        );
        self.get(target, endpoints::DOCUMENTEN_VAN, &path, &Query::new())
            .await
    }

    /// `GET /verkoopboekingen/{id}`.
    ///
    /// # Errors
    /// Any [`CallError`]; 404 when it was deleted.
    pub async fn verkoopboeking(
        &self,
        target: &Target<'_>,
        id: &str,
    ) -> Result<Verkoopboeking, CallError> {
        let path = format!("/verkoopboekingen/{}", urlencoding::encode(id));
        let row: Verkoopboeking = self
            .get(target, endpoints::VERKOOPBOEKING, &path, &Query::new())
            .await?;
        guid_or_absent("the klant", row.klant_ref().and_then(|k| k.id.as_deref()))?;
        Ok(row)
    }

    /// Every verkoopfactuur whose `FactuurDatum` lies in `from..=to` (days, both included),
    /// all pages: ⌊rows ÷ 500⌋ + 1 calls.
    ///
    /// # Errors
    /// Any [`CallError`].
    pub async fn verkoopfacturen_in_period(
        &self,
        target: &Target<'_>,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
    ) -> Result<Vec<Verkoopfactuur>, CallError> {
        let filter = odata::date_range("FactuurDatum", from, to);
        let rows: Vec<Verkoopfactuur> = self
            .get_all(
                target,
                endpoints::VERKOOPFACTUREN,
                "/verkoopfacturen",
                Some(&filter),
            )
            .await?;
        guids_or_absent("the verkoopboeking", rows, Verkoopfactuur::boeking_id)
    }

    /// Every verkoopfactuur of relatie `relatie_id`, all pages.
    ///
    /// # Errors
    /// Any [`CallError`].
    pub async fn verkoopfacturen_of_relatie(
        &self,
        target: &Target<'_>,
        relatie_id: &str,
    ) -> Result<Vec<Verkoopfactuur>, CallError> {
        if !is_guid(relatie_id) {
            return Err(CallError::Request(format!(
                "relatie id {:?} is not a GUID",
                excerpt(relatie_id, 60)
            )));
        }
        let filter = format!("Relatie/Id eq guid'{relatie_id}'");
        self.get_all(
            target,
            endpoints::VERKOOPFACTUREN,
            "/verkoopfacturen",
            Some(&filter),
        )
        .await
    }

    /// Every grootboekmutatie dated in `from..=to` on one of `ledger_ids`, all pages:
    /// ⌊rows ÷ 500⌋ + 1 calls.
    ///
    /// # Errors
    /// Any [`CallError`].
    pub async fn grootboekmutaties(
        &self,
        target: &Target<'_>,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
        ledger_ids: &[String],
    ) -> Result<Vec<Grootboekmutatie>, CallError> {
        let ledgers: Vec<String> = ledger_ids
            .iter()
            .filter(|id| is_guid(id))
            .map(|id| format!("Grootboek/Id eq guid'{id}'"))
            .collect();
        if ledgers.is_empty() {
            return Ok(Vec::new());
        }
        let filter = format!(
            "({}) and {}",
            ledgers.join(" or "),
            odata::date_range("Datum", from, to)
        );
        self.get_all(
            target,
            endpoints::GROOTBOEKMUTATIES,
            "/grootboekmutaties",
            Some(&filter),
        )
        .await
    }

    /// Every grootboek (all pages).
    ///
    /// # Errors
    /// Any [`CallError`].
    pub async fn grootboeken(&self, target: &Target<'_>) -> Result<Vec<Grootboek>, CallError> {
        let rows: Vec<Grootboek> = self
            .get_all(target, endpoints::GROOTBOEKEN, "/grootboeken", None)
            .await?;
        guids_or_absent("grootboek", rows, |g: &Grootboek| g.id.as_deref())
    }

    /// Every dagboek (`$filter` is ignored there, README §4).
    ///
    /// # Errors
    /// Any [`CallError`].
    pub async fn dagboeken(&self, target: &Target<'_>) -> Result<Vec<Dagboek>, CallError> {
        let rows: Vec<Dagboek> = self
            .get(target, endpoints::DAGBOEKEN, "/dagboeken", &Query::new())
            .await?;
        guids_or_absent("dagboek", rows, |d: &Dagboek| d.id.as_deref())
    }

    /// Every land (`$filter` is ignored there, README §4).
    ///
    /// # Errors
    /// Any [`CallError`].
    pub async fn landen(&self, target: &Target<'_>) -> Result<Vec<Land>, CallError> {
        let rows: Vec<Land> = self
            .get(target, endpoints::LANDEN, "/landen", &Query::new())
            .await?;
        guids_or_absent("land", rows, |l: &Land| l.id.as_deref())
    }
}

/// An answer before it is judged.
struct RawAnswer {
    status: u16,
    retry_after: Option<String>,
    /// `Location`, for the message about a redirect.
    location: Option<String>,
    body: Vec<u8>,
}

fn bearer_of(token: &Token) -> Result<Bearer, CallError> {
    let mut header = HeaderValue::from_str(&format!("Bearer {}", token.access.expose_secret()))
        .map_err(|_| {
            CallError::TokenUnavailable("the access token is not a valid header value".into())
        })?;
    header.set_sensitive(true);
    Ok(Bearer {
        header,
        minted: token.minted,
        generation: token.generation,
    })
}

fn decode<T: DeserializeOwned>(answer: &Answer) -> Result<T, CallError> {
    serde_json::from_slice(&answer.body).map_err(|e| {
        CallError::Decode(format!(
            "HTTP {} body is not the expected JSON: {e}",
            answer.status
        ))
    })
}

fn header_text(
    headers: &reqwest::header::HeaderMap,
    name: reqwest::header::HeaderName,
) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// `Ok` when `id` is absent or a GUID; else the answer is not usable.
/// `rows`, when the id that `id` picks from each row is a GUID or absent.
fn guids_or_absent<T>(
    what: &str,
    rows: Vec<T>,
    id: impl Fn(&T) -> Option<&str>,
) -> Result<Vec<T>, CallError> {
    for row in &rows {
        guid_or_absent(what, id(row))?;
    }
    Ok(rows)
}

fn guid_or_absent(what: &str, id: Option<&str>) -> Result<(), CallError> {
    match id {
        Some(id) if !is_guid(id) => Err(CallError::InvalidAnswer(format!(
            "{what} id {:?} is not a GUID",
            excerpt(id, 40)
        ))),
        _ => Ok(()),
    }
}

fn method_name(method: &reqwest::Method) -> &'static str {
    match *method {
        reqwest::Method::GET => "GET",
        reqwest::Method::POST => "POST",
        reqwest::Method::PUT => "PUT",
        reqwest::Method::DELETE => "DELETE",
        _ => "OTHER",
    }
}

fn transport_outcome(e: &reqwest::Error) -> &'static str {
    if e.is_connect() {
        "connect"
    } else if e.is_timeout() {
        "timeout"
    } else {
        "transport"
    }
}

fn transport_error(e: &reqwest::Error) -> CallError {
    // A connection that could not be made carried nothing; anything later may have.
    if e.is_builder() {
        CallError::Request(e.to_string())
    } else if e.is_connect() {
        CallError::Connect(e.to_string())
    } else if e.is_timeout() {
        CallError::Timeout
    } else {
        CallError::Transport(e.to_string())
    }
}
