//! Koppelsleutels at rest: AES-256-GCM with a random 96-bit nonce per encryption.
//!
//! The stored form is `v2:<key id>:` + base64(nonce ‖ ciphertext ‖ tag), where the key id
//! is the first 8 hex digits of SHA-256 of the master key that sealed it. The older form
//! `v1:` + base64(…) carries no key id; it is read as written under the current key (and
//! for an operator who changed keys before key ids existed, the previous keys are tried
//! too), and `koppeling secrets rotate` rewrites it as `v2`. New writes always use the
//! current key; `secrets.previous_master_keys` only decrypt. The administratie code is the
//! associated data, so a ciphertext copied to another administratie's row does not decrypt.
//! Neither a master key nor a plaintext ever reaches a log line or a `Debug`.

use std::fmt;

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use anyhow::{Context, anyhow, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};

const PREFIX_V1: &str = "v1:";
const PREFIX_V2: &str = "v2:";
const NONCE_LEN: usize = 12;

/// The key id of a master key: the first 8 hex digits of its SHA-256 (not secret: it
/// tells which key sealed a value, nothing about the key).
#[must_use]
pub fn key_id(master_key: &[u8; 32]) -> String {
    let digest = Sha256::digest(master_key);
    digest[..4].iter().map(|b| format!("{b:02x}")).collect()
}

#[derive(Clone)]
struct SealKey {
    id: String,
    aead: Aes256Gcm,
}

impl SealKey {
    fn new(master_key: [u8; 32]) -> Self {
        Self {
            id: key_id(&master_key),
            aead: Aes256Gcm::new(&Key::<Aes256Gcm>::from(master_key)),
        }
    }

    fn open(&self, adm: &str, blob: &[u8]) -> Option<Vec<u8>> {
        let (nonce, sealed) = blob.split_at(NONCE_LEN);
        self.aead
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: adm.as_bytes(),
                },
            )
            .ok()
    }
}

/// Under which key a stored value was readable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sealed {
    /// `v2` under the current key: nothing to rotate.
    Current,
    /// `v1` (no key id) or a previous key: `secrets rotate` rewrites it.
    Outdated,
}

/// Encrypts with the current master key; decrypts with it or any previous one.
#[derive(Clone)]
pub struct KeyCipher {
    current: SealKey,
    previous: Vec<SealKey>,
}

impl KeyCipher {
    /// A cipher for `master_key` (32 bytes: AES-256).
    #[must_use]
    pub fn new(master_key: [u8; 32]) -> Self {
        Self {
            current: SealKey::new(master_key),
            previous: Vec::new(),
        }
    }

    /// The same cipher that also decrypts what `previous` keys sealed (never encrypts
    /// with them).
    #[must_use]
    pub fn with_previous(mut self, previous: impl IntoIterator<Item = [u8; 32]>) -> Self {
        self.previous = previous.into_iter().map(SealKey::new).collect();
        self
    }

    /// The current key's id.
    #[must_use]
    pub fn current_key_id(&self) -> &str {
        &self.current.id
    }

    /// Encrypts `plaintext` for administratie `adm` under the current key.
    ///
    /// # Errors
    /// When the AEAD refuses (it does not for inputs of sane length).
    pub fn encrypt(&self, adm: &str, plaintext: &str) -> anyhow::Result<String> {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let sealed = self
            .current
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
        Ok(format!(
            "{PREFIX_V2}{}:{}",
            self.current.id,
            STANDARD.encode(blob)
        ))
    }

    /// Decrypts what [`KeyCipher::encrypt`] stored for administratie `adm`.
    ///
    /// # Errors
    /// When the stored text is malformed, or no configured key (or not this administratie)
    /// opens it.
    pub fn decrypt(&self, adm: &str, stored: &str) -> anyhow::Result<String> {
        self.open(adm, stored).map(|(plain, _)| plain)
    }

    /// Decrypts, and says whether the value is sealed under the current key.
    ///
    /// # Errors
    /// As [`KeyCipher::decrypt`].
    pub fn open(&self, adm: &str, stored: &str) -> anyhow::Result<(String, Sealed)> {
        let (encoded, candidates, current_id): (&str, Vec<&SealKey>, bool) = if let Some(rest) =
            stored.strip_prefix(PREFIX_V2)
        {
            let Some((id, encoded)) = rest.split_once(':') else {
                bail!("the stored koppelsleutel has no key id");
            };
            let keys: Vec<&SealKey> = std::iter::once(&self.current)
                .chain(&self.previous)
                .filter(|k| k.id == id)
                .collect();
            if keys.is_empty() {
                bail!(
                    "the stored koppelsleutel was encrypted with master key {id}, which is neither secrets.master_key nor in secrets.previous_master_keys"
                );
            }
            (encoded, keys, id == self.current.id)
        } else if let Some(encoded) = stored.strip_prefix(PREFIX_V1) {
            let keys = std::iter::once(&self.current)
                .chain(&self.previous)
                .collect();
            (encoded, keys, false)
        } else {
            bail!("the stored koppelsleutel has an unknown format");
        };
        let blob = STANDARD
            .decode(encoded)
            .context("the stored koppelsleutel is not valid base64")?;
        if blob.len() <= NONCE_LEN {
            bail!("the stored koppelsleutel is too short");
        }
        for key in candidates {
            if let Some(plain) = key.open(adm, &blob) {
                let sealed = if current_id {
                    Sealed::Current
                } else {
                    Sealed::Outdated
                };
                let plain =
                    String::from_utf8(plain).context("the decrypted koppelsleutel is not UTF-8")?;
                return Ok((plain, sealed));
            }
        }
        Err(anyhow!(
            "the stored koppelsleutel cannot be decrypted: is secrets.master_key (or one of secrets.previous_master_keys) the one it was saved with?"
        ))
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
        assert!(cipher.decrypt("kantoor", "v2:AAAA").is_err());
        assert!(cipher.decrypt("kantoor", "geheim").is_err());
        assert!(!format!("{cipher:?}").contains('7'));
    }

    /// A `v1:` value as the code before key ids wrote it.
    fn v1(key: [u8; 32], adm: &str, plain: &str) -> String {
        let aead = Aes256Gcm::new(&Key::<Aes256Gcm>::from(key));
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let sealed = aead
            .encrypt(
                &nonce,
                Payload {
                    msg: plain.as_bytes(),
                    aad: adm.as_bytes(),
                },
            )
            .unwrap();
        let mut blob = nonce.to_vec();
        blob.extend_from_slice(&sealed);
        format!("v1:{}", STANDARD.encode(blob))
    }

    #[test]
    fn ciphertext_names_its_key() {
        let cipher = KeyCipher::new([7; 32]);
        let stored = cipher.encrypt("kantoor", "geheim").unwrap();
        let id = key_id(&[7; 32]);
        assert_eq!(id.len(), 8);
        assert!(id.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(cipher.current_key_id(), id);
        assert!(stored.starts_with(&format!("v2:{id}:")), "{stored}");
        assert_ne!(key_id(&[8; 32]), id);
        assert_eq!(
            cipher.open("kantoor", &stored).unwrap(),
            ("geheim".to_owned(), Sealed::Current)
        );
    }

    #[test]
    fn previous_keys_decrypt_only() {
        let old = KeyCipher::new([1; 32]);
        let stored = old.encrypt("kantoor", "geheim").unwrap();
        let rotated = KeyCipher::new([2; 32]).with_previous([[1; 32]]);
        assert_eq!(
            rotated.open("kantoor", &stored).unwrap(),
            ("geheim".to_owned(), Sealed::Outdated)
        );
        // New writes use the current key, readable without the previous one.
        let fresh = rotated.encrypt("kantoor", "geheim").unwrap();
        assert!(fresh.starts_with(&format!("v2:{}:", key_id(&[2; 32]))));
        assert_eq!(
            KeyCipher::new([2; 32]).open("kantoor", &fresh).unwrap(),
            ("geheim".to_owned(), Sealed::Current)
        );
        // Without the previous key: an error naming the missing key id, not the key.
        let err = KeyCipher::new([2; 32])
            .decrypt("kantoor", &stored)
            .unwrap_err()
            .to_string();
        assert!(err.contains(&key_id(&[1; 32])), "{err}");
        assert!(err.contains("previous_master_keys"), "{err}");
        // A forged key id does not make another key try it.
        let forged = stored.replacen(&key_id(&[1; 32]), &key_id(&[2; 32]), 1);
        assert!(rotated.decrypt("kantoor", &forged).is_err());
        assert!(rotated.decrypt("ander", &stored).is_err());
    }

    #[test]
    fn old_format_reads_as_current_key_and_is_outdated() {
        let stored = v1([7; 32], "kantoor", "geheim");
        let cipher = KeyCipher::new([7; 32]);
        assert_eq!(
            cipher.open("kantoor", &stored).unwrap(),
            ("geheim".to_owned(), Sealed::Outdated)
        );
        // Written under a key that is now a previous one: still readable.
        let rotated = KeyCipher::new([9; 32]).with_previous([[7; 32]]);
        assert_eq!(rotated.decrypt("kantoor", &stored).unwrap(), "geheim");
        assert!(KeyCipher::new([9; 32]).decrypt("kantoor", &stored).is_err());
    }
}
