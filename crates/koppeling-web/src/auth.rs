//! Authentication: the API's bearer token (compared in constant time) and Beheerder passwords.

use std::sync::Arc;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use crate::error::ApiError;

/// The API token, kept as a SHA-256 digest so that comparing takes the same time for every
/// guess (equal lengths, no early exit) and the token itself is not held in memory.
pub(crate) struct ApiToken {
    digest: Option<[u8; 32]>,
}

impl ApiToken {
    /// An empty token refuses every call.
    pub(crate) fn new(token: &SecretString) -> Self {
        let raw = token.expose_secret();
        Self {
            digest: (!raw.is_empty()).then(|| sha256(raw.as_bytes())),
        }
    }

    /// Whether `presented` is the token.
    pub(crate) fn matches(&self, presented: &str) -> bool {
        let Some(expected) = &self.digest else {
            return false;
        };
        constant_time_eq(expected, &sha256(presented.as_bytes()))
    }
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// Compares two equally long byte strings without an early exit.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

/// Middleware: lets a request through only with `Authorization: Bearer <api.token>`.
pub(crate) async fn require_bearer(
    State(token): State<Arc<ApiToken>>,
    request: Request,
    next: Next,
) -> Response {
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, rest) = v.trim().split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("bearer")
                .then(|| rest.trim().to_owned())
        });
    match presented {
        Some(presented) if token.matches(&presented) => next.run(request).await,
        Some(_) => ApiError::unauthorized("The bearer token is not valid.").into_response(),
        None => {
            ApiError::unauthorized("This API needs an Authorization: Bearer <api.token> header.")
                .into_response()
        }
    }
}

fn argon2() -> Argon2<'static> {
    // Argon2id with the OWASP-recommended minimum (19 MiB, 2 passes, 1 lane).
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::default())
}

/// Hashes a Beheerder's password as an Argon2id PHC string (`$argon2id$v=19$…`).
///
/// # Errors
/// When the system's random source or the hasher fails.
pub fn hash_password(plain: &str) -> anyhow::Result<String> {
    let mut salt_bytes = [0u8; 16];
    rand::rngs::OsRng
        .try_fill_bytes(&mut salt_bytes)
        .map_err(|e| anyhow::anyhow!("no random salt: {e}"))?;
    let salt = SaltString::encode_b64(&salt_bytes)
        .map_err(|e| anyhow::anyhow!("encoding the salt failed: {e}"))?;
    let hash = argon2()
        .hash_password(plain.as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("hashing the password failed: {e}"))?;
    Ok(hash.to_string())
}

/// Whether `plain` matches the PHC string `hash`; a malformed hash never matches.
pub(crate) fn verify_password(plain: &str, hash: &str) -> bool {
    match PasswordHash::new(hash) {
        Ok(parsed) => argon2().verify_password(plain.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

/// A hash of a random password, verified against when the e-mail is unknown so that a
/// failed log-in takes as long whether or not the account exists.
pub(crate) fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| {
        let mut bytes = [0u8; 24];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        hash_password(&crate::ui::session::hex(&bytes)).unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_as_argon2id_and_verify() {
        let hash = hash_password("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$v=19$"), "{hash}");
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("wrong horse", &hash));
        assert!(!verify_password("correct horse", "not a hash"));
        assert_ne!(hash, hash_password("correct horse").unwrap(), "salted");
    }

    #[test]
    fn tokens_compare_by_digest() {
        let token = ApiToken::new(&SecretString::from("s3cret".to_owned()));
        assert!(token.matches("s3cret"));
        assert!(!token.matches("s3cre"));
        assert!(!token.matches(""));
        let empty = ApiToken::new(&SecretString::from(String::new()));
        assert!(!empty.matches(""));
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
