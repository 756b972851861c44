//! UI sessions kept in memory: a random 32-byte id in an HttpOnly cookie, the Beheerder and
//! administratie it belongs to, and the CSRF token its forms carry.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use axum::http::header::COOKIE;
use koppeling_domain::ids::{AdministratieCode, ResourceId};
use rand::RngCore;

/// The session cookie's name.
pub(crate) const COOKIE_NAME: &str = "koppeling_session";

/// A session ends after this long without a request.
const IDLE: Duration = Duration::from_secs(8 * 3600);
/// A log-in form token is good for this long.
const LOGIN_TOKEN_TTL: Duration = Duration::from_secs(2 * 3600);
/// At most this many outstanding log-in form tokens are kept (oldest dropped first).
const MAX_LOGIN_TOKENS: usize = 10_000;

/// A logged-in Beheerder.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    /// The administratie the Beheerder belongs to; every screen shows only this one.
    pub(crate) adm: AdministratieCode,
    /// The Beheerder.
    pub(crate) admin_id: ResourceId,
    /// The Beheerder's name, for the header.
    pub(crate) admin_name: String,
    /// The token every POST form of this session must carry.
    pub(crate) csrf: String,
    /// Last request, for the idle timeout.
    last_seen: Instant,
}

#[derive(Default)]
struct Inner {
    sessions: HashMap<String, Session>,
    login_tokens: HashMap<String, Instant>,
}

/// All sessions of this process (a restart logs everyone out).
#[derive(Default)]
pub(crate) struct Sessions {
    inner: Mutex<Inner>,
}

/// 32 random bytes from the operating system, hex-encoded.
pub(crate) fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex(&bytes)
}

/// Lower-case hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

impl Sessions {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Starts a session; returns its id (for the cookie).
    pub(crate) fn create(
        &self,
        adm: AdministratieCode,
        admin_id: ResourceId,
        admin_name: String,
    ) -> String {
        let id = random_token();
        let now = Instant::now();
        let mut inner = self.lock();
        inner
            .sessions
            .retain(|_, s| now.duration_since(s.last_seen) < IDLE);
        inner.sessions.insert(
            id.clone(),
            Session {
                adm,
                admin_id,
                admin_name,
                csrf: random_token(),
                last_seen: now,
            },
        );
        id
    }

    /// The live session with `id`, refreshing its idle timer.
    pub(crate) fn get(&self, id: &str) -> Option<Session> {
        let now = Instant::now();
        let mut inner = self.lock();
        let session = inner.sessions.get_mut(id)?;
        if now.duration_since(session.last_seen) >= IDLE {
            inner.sessions.remove(id);
            return None;
        }
        session.last_seen = now;
        Some(session.clone())
    }

    /// Ends a session.
    pub(crate) fn remove(&self, id: &str) {
        self.lock().sessions.remove(id);
    }

    /// A token for the log-in form (there is no session yet to bind it to).
    pub(crate) fn issue_login_token(&self) -> String {
        let token = random_token();
        let now = Instant::now();
        let mut inner = self.lock();
        inner
            .login_tokens
            .retain(|_, issued| now.duration_since(*issued) < LOGIN_TOKEN_TTL);
        if inner.login_tokens.len() >= MAX_LOGIN_TOKENS {
            let mut by_age: Vec<(String, Instant)> = inner.login_tokens.drain().collect();
            by_age.sort_by_key(|(_, issued)| std::cmp::Reverse(*issued));
            by_age.truncate(MAX_LOGIN_TOKENS / 2);
            inner.login_tokens.extend(by_age);
        }
        inner.login_tokens.insert(token.clone(), now);
        token
    }

    /// Whether `token` was issued for the log-in form and has not expired.
    pub(crate) fn check_login_token(&self, token: &str) -> bool {
        let now = Instant::now();
        self.lock()
            .login_tokens
            .get(token)
            .is_some_and(|issued| now.duration_since(*issued) < LOGIN_TOKEN_TTL)
    }
}

/// The value of cookie `name` in the request.
pub(crate) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_owned())
}

/// The `Set-Cookie` value that starts a session.
pub(crate) fn session_cookie(id: &str, secure: bool) -> String {
    format!(
        "{COOKIE_NAME}={id}; Path=/; HttpOnly; SameSite=Lax{}",
        if secure { "; Secure" } else { "" }
    )
}

/// The `Set-Cookie` value that ends a session.
pub(crate) fn clear_cookie(secure: bool) -> String {
    format!(
        "{COOKIE_NAME}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{}",
        if secure { "; Secure" } else { "" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_live_until_removed() {
        let sessions = Sessions::default();
        let id = sessions.create(
            AdministratieCode::parse("kantoor").unwrap(),
            ResourceId::parse("a1").unwrap(),
            "Anna".into(),
        );
        assert_eq!(id.len(), 64);
        let s = sessions.get(&id).unwrap();
        assert_eq!(s.adm.as_str(), "kantoor");
        assert_eq!(s.csrf.len(), 64);
        assert!(sessions.get("other").is_none());
        sessions.remove(&id);
        assert!(sessions.get(&id).is_none());
    }

    #[test]
    fn login_tokens_are_checked() {
        let sessions = Sessions::default();
        let token = sessions.issue_login_token();
        assert!(sessions.check_login_token(&token));
        assert!(!sessions.check_login_token("forged"));
    }

    #[test]
    fn cookies_are_found_by_name() {
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, "a=1; koppeling_session=abc; b=2".parse().unwrap());
        assert_eq!(cookie(&headers, COOKIE_NAME).as_deref(), Some("abc"));
        assert_eq!(cookie(&headers, "c"), None);
        assert!(session_cookie("x", true).ends_with("; Secure"));
        assert!(session_cookie("x", false).contains("HttpOnly; SameSite=Lax"));
    }
}
