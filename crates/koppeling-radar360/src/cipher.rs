//! Koppelsleutels at rest: AES-256-GCM with a random 96-bit nonce per encryption.
//!
//! The stored form is `v1:` + base64(nonce ‖ ciphertext ‖ tag). The administratie code is
//! the associated data, so a ciphertext copied to another administratie's row does not
//! decrypt. Neither the master key nor a plaintext ever reaches a log line or a `Debug`.

use std::fmt;

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use anyhow::{Context, anyhow, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

const PREFIX: &str = "v1:";
const NONCE_LEN: usize = 12;

/// Encrypts and decrypts koppelsleutels with the service's master key.
#[derive(Clone)]
pub struct KeyCipher {
    aead: Aes256Gcm,
}

impl KeyCipher {
    /// A cipher for `master_key` (32 bytes: AES-256).
    #[must_use]
    pub fn new(master_key: [u8; 32]) -> Self {
        let key = Key::<Aes256Gcm>::from(master_key);
        Self {
            aead: Aes256Gcm::new(&key),
        }
    }

    /// Encrypts `plaintext` for administratie `adm`.
    ///
    /// # Errors
    /// When the AEAD refuses (it does not for inputs of sane length).
    pub fn encrypt(&self, adm: &str, plaintext: &str) -> anyhow::Result<String> {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let sealed = self
            .aead
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: adm.as_bytes(),
                },
            )
            .map_err(|_| anyhow!("encrypting the koppelsleutel failed"))?;
        let mut blob = Vec::with_capacity(NONCE_LEN + sealed.len());
        blob.extend_from_slice(nonce.as_slice());
        blob.extend_from_slice(&sealed);
        Ok(format!("{PREFIX}{}", STANDARD.encode(blob)))
    }

    /// Decrypts what [`KeyCipher::encrypt`] stored for administratie `adm`.
    ///
    /// # Errors
    /// When the stored text is malformed, or the master key (or administratie) is wrong.
    pub fn decrypt(&self, adm: &str, stored: &str) -> anyhow::Result<String> {
        let Some(encoded) = stored.strip_prefix(PREFIX) else {
            bail!("the stored koppelsleutel has an unknown format");
        };
        let blob = STANDARD
            .decode(encoded)
            .context("the stored koppelsleutel is not valid base64")?;
        if blob.len() <= NONCE_LEN {
            bail!("the stored koppelsleutel is too short");
        }
        let (nonce, sealed) = blob.split_at(NONCE_LEN);
        let plain = self
            .aead
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: adm.as_bytes(),
                },
            )
            .map_err(|_| {
                anyhow!("the stored koppelsleutel cannot be decrypted: is secrets.master_key the one it was saved with?")
            })?;
        String::from_utf8(plain).context("the decrypted koppelsleutel is not UTF-8")
    }
}

impl fmt::Debug for KeyCipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyCipher([REDACTED])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_with_fresh_nonces() {
        let cipher = KeyCipher::new([7; 32]);
        let a = cipher.encrypt("kantoor", "c2VjcmV0OnNlY3JldA==").unwrap();
        let b = cipher.encrypt("kantoor", "c2VjcmV0OnNlY3JldA==").unwrap();
        assert_ne!(a, b, "every encryption uses a new nonce");
        assert!(!a.contains("c2VjcmV0"));
        assert_eq!(
            cipher.decrypt("kantoor", &a).unwrap(),
            "c2VjcmV0OnNlY3JldA=="
        );
    }

    #[test]
    fn wrong_key_or_administratie_fails() {
        let cipher = KeyCipher::new([7; 32]);
        let stored = cipher.encrypt("kantoor", "geheim").unwrap();
        assert!(KeyCipher::new([8; 32]).decrypt("kantoor", &stored).is_err());
        assert!(cipher.decrypt("ander", &stored).is_err());
        assert!(cipher.decrypt("kantoor", "v1:AAAA").is_err());
        assert!(cipher.decrypt("kantoor", "geheim").is_err());
        assert!(!format!("{cipher:?}").contains('7'));
    }
}
