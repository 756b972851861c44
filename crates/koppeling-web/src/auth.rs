//! Authentication: the API's bearer token (compared in constant time) and Beheerder passwords.

use std::sync::Arc;

use argon2::password_hash::{PasswordHash, PasswordHasher, SaltString};
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
/// Older tokens (`api.previous_tokens`) are accepted too, all compared without early exit.
pub(crate) struct ApiToken {
    digests: Vec<[u8; 32]>,
}

/// The shortest API token accepted (`api.token`, `api.previous_tokens`).
pub const MIN_API_TOKEN_LEN: usize = 32;
/// The shortest Beheerder password accepted.
pub const MIN_PASSWORD_LEN: usize = 12;

impl ApiToken {
    /// An empty token refuses every call.
    #[cfg(test)]
    pub(crate) fn new(token: &SecretString) -> Self {
        Self::with_previous(token, &[])
    }

    /// The current token and the previous ones still accepted.
    pub(crate) fn with_previous(token: &SecretString, previous: &[SecretString]) -> Self {
        Self {
            digests: std::iter::once(token)
                .chain(previous)
                .map(ExposeSecret::expose_secret)
                .filter(|raw| !raw.is_empty())
                .map(|raw| sha256(raw.as_bytes()))
                .collect(),
        }
    }

    /// Whether `presented` is one of the tokens (every one is compared).
    pub(crate) fn matches(&self, presented: &str) -> bool {
        let presented = sha256(presented.as_bytes());
        self.digests.iter().fold(false, |found, expected| {
            found | constant_time_eq(expected, &presented)
        })
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
#[cfg(test)]
pub(crate) fn verify_password(plain: &str, hash: &str) -> bool {
    use argon2::password_hash::PasswordVerifier;
    match PasswordHash::new(hash) {
        Ok(parsed) => argon2().verify_password(plain.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

/// The Argon2 memory of one verifier thread, reused for every hash it checks.
const VERIFIER_BLOCKS: u32 = Params::DEFAULT_M_COST;
/// How many hashes run at once.
const VERIFIERS: usize = 2;

struct VerifyJob {
    plain: String,
    hash: String,
    reply: tokio::sync::oneshot::Sender<bool>,
}

fn verifier_queue() -> &'static std::sync::mpsc::Sender<VerifyJob> {
    static QUEUE: std::sync::OnceLock<std::sync::mpsc::Sender<VerifyJob>> =
        std::sync::OnceLock::new();
    QUEUE.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel::<VerifyJob>();
        let rx = Arc::new(std::sync::Mutex::new(rx));
        for n in 0..VERIFIERS {
            let rx = Arc::clone(&rx);
            let spawned = std::thread::Builder::new()
                .name(format!("argon2-{n}"))
                .spawn(move || {
                    let mut blocks = vec![argon2::Block::default(); VERIFIER_BLOCKS as usize];
                    loop {
                        let job = {
                            let guard =
                                rx.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                            guard.recv()
                        };
                        let Ok(job) = job else { return };
                        let ok = verify_with_memory(&job.plain, &job.hash, &mut blocks);
                        let _ = job.reply.send(ok);
                    }
                });
            if let Err(error) = spawned {
                tracing::error!(error = %error, "starting a password verifier thread failed");
            }
        }
        tx
    })
}

/// Verifies a password on one of the two verifier threads (at most two Argon2 hashes run
/// at once, each in the thread's own preallocated memory); waits in line otherwise.
pub(crate) async fn verify_password_bounded(plain: String, hash: String) -> bool {
    let (reply, answer) = tokio::sync::oneshot::channel();
    if verifier_queue()
        .send(VerifyJob { plain, hash, reply })
        .is_err()
    {
        return false;
    }
    answer.await.unwrap_or(false)
}

/// Checks `plain` against the PHC string `hash` using `blocks` as Argon2's memory; a hash
/// that needs more memory than `blocks` holds, or is malformed, never matches.
fn verify_with_memory(plain: &str, hash: &str, blocks: &mut [argon2::Block]) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let (Ok(algorithm), Some(salt), Some(expected)) = (
        Algorithm::try_from(parsed.algorithm),
        parsed.salt,
        parsed.hash,
    ) else {
        return false;
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    let version = parsed
        .version
        .and_then(|v| Version::try_from(v).ok())
        .unwrap_or(Version::V0x13);
    let needed = params.block_count();
    let Some(memory) = blocks.get_mut(..needed) else {
        tracing::warn!("a stored password hash needs more memory than the verifier has");
        return false;
    };
    let mut salt_buf = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_buf) else {
        return false;
    };
    let expected = expected.as_bytes();
    let mut out = vec![0u8; expected.len()];
    let hasher = Argon2::new(algorithm, version, params);
    if hasher
        .hash_password_into_with_memory(plain.as_bytes(), salt, &mut out, memory)
        .is_err()
    {
        return false;
    }
    constant_time_eq(&out, expected)
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
        let mut blocks = vec![argon2::Block::default(); VERIFIER_BLOCKS as usize];
        assert!(verify_with_memory("correct horse", &hash, &mut blocks));
        assert!(!verify_with_memory("wrong horse", &hash, &mut blocks));
        assert!(!verify_with_memory(
            "correct horse",
            "not a hash",
            &mut blocks
        ));
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
        let rolled = ApiToken::with_previous(
            &SecretString::from("new".to_owned()),
            &[SecretString::from("old".to_owned())],
        );
        assert!(rolled.matches("new"));
        assert!(rolled.matches("old"));
        assert!(!rolled.matches("other"));
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
