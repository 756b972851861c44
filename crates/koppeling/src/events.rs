//! The push of events to Radar360 (product §8.2): one event per request, as JSON, with
//! `X-Koppeling-Event-Id` and `X-Koppeling-Signature: sha256=<hex HMAC-SHA256(secret, body)>`.
//! What is pushed when, the order and the retries are the domain's (`Service::push_events`);
//! this is the HTTP.

use std::time::Duration;

use koppeling_domain::ports::EventSink;
use koppeling_domain::readback::{EVENT_ID_HEADER, SIGNATURE_HEADER};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

/// Posts events to `events.url`.
#[derive(Clone)]
pub struct HttpEventSink {
    client: reqwest::Client,
    url: String,
    secret: SecretString,
}

impl HttpEventSink {
    /// A sink for `url`, signing with `secret`.
    ///
    /// # Errors
    /// When the HTTP client cannot be built.
    pub fn new(url: String, secret: SecretString) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self {
            client,
            url,
            secret,
        })
    }
}

/// HMAC-SHA256 (RFC 2104) of `message` under `key`.
#[must_use]
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(block.map(|b| b ^ 0x36));
    inner.update(message);
    let inner = inner.finalize();
    let mut outer = Sha256::new();
    outer.update(block.map(|b| b ^ 0x5c));
    outer.update(inner);
    outer.finalize().into()
}

/// `sha256=<hex>` of `body` under `secret`.
#[must_use]
pub fn signature(secret: &str, body: &str) -> String {
    let mac = hmac_sha256(secret.as_bytes(), body.as_bytes());
    let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

impl EventSink for HttpEventSink {
    async fn deliver(&self, event_id: u64, body: &str) -> Result<(), String> {
        let answer = self
            .client
            .post(&self.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(EVENT_ID_HEADER, event_id.to_string())
            .header(
                SIGNATURE_HEADER,
                signature(self.secret.expose_secret(), body),
            )
            .body(body.to_owned())
            .send()
            .await
            .map_err(|e| format!("no answer from the events endpoint: {e}"))?;
        let status = answer.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(format!(
                "the events endpoint answered HTTP {}",
                status.as_u16()
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231() {
        // Test case 2: key "Jefe".
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // Test case 6: a key longer than the block.
        let mac = hmac_sha256(
            &[0xaa; 131],
            b"Test Using Larger Than Block-Size Key - Hash Key First",
        );
        let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
        assert!(signature("s", "{}").starts_with("sha256="));
    }
}
