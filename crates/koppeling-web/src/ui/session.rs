//! UI sessions, kept in the database through the domain service: the cookie holds a random
//! 32-byte id, the store only its SHA-256. The CSRF token of a session is derived from its
//! id (never stored). The log-in form uses a double-submit token instead (see `login`).

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::header::COOKIE;
use axum::http::request::Parts;
use axum::response::Response;
use koppeling_domain::app::App;
use koppeling_domain::ids::{AdministratieCode, ResourceId};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::AppState;

/// The session cookie's name (plain HTTP).
pub(crate) const COOKIE_NAME: &str = "koppeling_session";
/// The session cookie's name with `http.secure_cookies`.
pub(crate) const SECURE_COOKIE_NAME: &str = "__Host-koppeling_session";
/// The log-in form token cookie (plain HTTP).
pub(crate) const LOGIN_COOKIE: &str = "koppeling_login";
/// The log-in form token cookie with `http.secure_cookies`.
pub(crate) const SECURE_LOGIN_COOKIE: &str = "__Host-koppeling_login";

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
    /// The SHA-256 of the session id (the store's key).
    pub(crate) id_hash: String,
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

/// Hex SHA-256 of `domain` and `secret` (domain-separated).
pub(crate) fn digest(domain: &str, secret: &str) -> String {
    let mut h = Sha256::new();
    h.update(domain.as_bytes());
    h.update([0u8]);
    h.update(secret.as_bytes());
    hex(&h.finalize())
}

/// The store key of a session id.
pub(crate) fn session_hash(id: &str) -> String {
    digest("koppeling session id v1", id)
}

/// The CSRF token of a session id.
pub(crate) fn csrf_of(id: &str) -> String {
    digest("koppeling csrf v1", id)
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

/// The session cookie's name.
pub(crate) fn cookie_name(secure: bool) -> &'static str {
    if secure {
        SECURE_COOKIE_NAME
    } else {
        COOKIE_NAME
    }
}

/// The log-in token cookie's name.
pub(crate) fn login_cookie_name(secure: bool) -> &'static str {
    if secure {
        SECURE_LOGIN_COOKIE
    } else {
        LOGIN_COOKIE
    }
}

/// The `Set-Cookie` value that starts a session.
pub(crate) fn session_cookie(id: &str, secure: bool) -> String {
    format!(
        "{}={id}; Path=/; HttpOnly; SameSite=Lax{}",
        cookie_name(secure),
        if secure { "; Secure" } else { "" }
    )
}

/// The `Set-Cookie` value that ends a session.
pub(crate) fn clear_cookie(secure: bool) -> String {
    format!(
        "{}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{}",
        cookie_name(secure),
        if secure { "; Secure" } else { "" }
    )
}

/// The `Set-Cookie` value that carries a log-in form token (an hour, Strict).
pub(crate) fn login_cookie(token: &str, secure: bool) -> String {
    format!(
        "{}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=3600{}",
        login_cookie_name(secure),
        if secure { "; Secure" } else { "" }
    )
}

/// The `Set-Cookie` value that clears the log-in form token.
pub(crate) fn clear_login_cookie(secure: bool) -> String {
    format!(
        "{}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{}",
        login_cookie_name(secure),
        if secure { "; Secure" } else { "" }
    )
}

/// The session of the request, if any (a store failure counts as none, logged).
pub(crate) async fn current<P>(state: &AppState<P>, headers: &HeaderMap) -> Option<Session>
where
    P: App,
{
    let id = cookie(headers, cookie_name(state.secure_cookies))?;
    if id.len() != 64 {
        return None;
    }
    let id_hash = session_hash(&id);
    match state.service.session(&id_hash).await {
        Ok(Some((record, name))) => Some(Session {
            adm: record.adm,
            admin_id: record.admin_id,
            admin_name: name,
            csrf: csrf_of(&id),
            id_hash,
        }),
        Ok(None) => None,
        Err(error) => {
            tracing::warn!(error = %error, "reading the session failed; treated as logged out");
            None
        }
    }
}

impl<P> FromRequestParts<AppState<P>> for Session
where
    P: App,
{
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState<P>,
    ) -> Result<Self, Self::Rejection> {
        current(state, &parts.headers)
            .await
            .ok_or_else(|| super::redirect("/login"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_hash_and_csrf_tokens_are_domain_separated() {
        let id = random_token();
        assert_eq!(id.len(), 64);
        assert_ne!(session_hash(&id), csrf_of(&id));
        assert_eq!(csrf_of(&id), csrf_of(&id));
        assert_eq!(csrf_of(&id).len(), 64);
        assert_ne!(csrf_of(&id), csrf_of(&random_token()));
    }

    #[test]
    fn cookies_are_found_by_name_and_prefixed_when_secure() {
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, "a=1; koppeling_session=abc; b=2".parse().unwrap());
        assert_eq!(cookie(&headers, COOKIE_NAME).as_deref(), Some("abc"));
        assert_eq!(cookie(&headers, "c"), None);
        assert!(session_cookie("x", true).starts_with("__Host-koppeling_session=x; Path=/;"));
        assert!(session_cookie("x", true).ends_with("; Secure"));
        assert!(session_cookie("x", false).contains("HttpOnly; SameSite=Lax"));
        assert!(!session_cookie("x", false).contains("Secure"));
        assert!(login_cookie("t", true).starts_with("__Host-koppeling_login=t; Path=/;"));
        assert!(login_cookie("t", false).contains("SameSite=Strict"));
    }
}
