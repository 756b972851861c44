//! SnelStart adapter: a reusable B2B API v2 [`client`] and [`SnelStartAccounting`], the `Accounting` port.
//!
//! # Error classification
//!
//! | SnelStart answer | read (GET) | write (POST/PUT) |
//! |---|---|---|
//! | 400 (business rule, model state, OData) | `Rejected { rejection, message }` (`rejection` sorted from the error code by `accounting::classify::rejection`) | same |
//! | 401 APIM "subscription key" | `Auth { SubscriptionKey }` | same |
//! | 401 otherwise (after one renewal of a cached token) | `Auth { ConnectionKey }` | same |
//! | token endpoint 400/401/403 | `Auth { ConnectionKey }` | same |
//! | token endpoint 5xx/429/unreachable | `Transient` | same (nothing was sent) |
//! | 403 with `Retry-After` (quota) | `Transient { retry_after }` | same |
//! | 403 without (missing scope) | `Auth { ConnectionKey }` | same |
//! | 404 and other 4xx | `Rejected` | same |
//! | 429 | `Transient { retry_after }` | same |
//! | 408, 5xx, timeout, broken connection, unreadable 2xx | `Transient` | `UnknownOutcome` |
//! | a body over 1 MiB (2xx or error), a 3xx (never followed) | `Transient` | `UnknownOutcome` |
//! | a 2xx whose id (booking, relatie, ledger, journal, land) is not a GUID | `Transient` | `UnknownOutcome` |
//! | connection refused (nothing sent) | `Transient` | `Transient` |
//! | own per-administratie limit would wait > 2 s | `Transient { retry_after }` | same |
//!
//! Every `retry_after` is at most an hour (`Retry-After` as seconds or an HTTP-date; garbage
//! is ignored) and a token is trusted for at most a day, whatever `expires_in` says.

pub mod client;

mod accounting;

pub use accounting::{SnelStartAccounting, SnelStartConfig};
pub use client::{CallCount, CallMetrics};
