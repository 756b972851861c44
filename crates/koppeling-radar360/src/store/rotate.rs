//! `koppeling secrets rotate`: every stored koppelsleutel re-encrypted under the current
//! master key, one row at a time.
//!
//! Each rewrite is a single compare-and-swap `UPDATE … WHERE adm = $2 AND key_enc = $3`
//! (its own transaction): a row is either wholly old or wholly new, a key saved by a
//! running `serve` meanwhile is never overwritten (that row is read again), and a second
//! run finds everything current.

use koppeling_domain::ports::StoreError;

use super::SeaOrmStore;
use super::db::{self, col, s};
use crate::cipher::Sealed;

/// What a rotation did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RotateReport {
    /// Rewritten under the current key.
    pub rotated: usize,
    /// Already under the current key.
    pub current: usize,
    /// Administraties whose koppelsleutel no configured master key decrypts.
    pub unusable: Vec<String>,
}

impl SeaOrmStore {
    /// Re-encrypts every stored koppelsleutel under the current master key.
    ///
    /// # Errors
    /// A database failure (rows already rewritten stay rewritten; a re-run continues).
    pub async fn rotate_keys(&self) -> Result<RotateReport, StoreError> {
        let rows = db::all(
            &self.db.conn,
            self.db.st(
                "SELECT adm FROM koppelingen WHERE key_enc IS NOT NULL ORDER BY adm",
                vec![],
            ),
            "reading the koppelingen",
        )
        .await?;
        let mut report = RotateReport::default();
        for row in &rows {
            let adm: String = col(row, "adm")?;
            self.rotate_one(&adm, &mut report).await?;
        }
        Ok(report)
    }

    async fn rotate_one(&self, adm: &str, report: &mut RotateReport) -> Result<(), StoreError> {
        loop {
            let row = db::one(
                &self.db.conn,
                self.db.st(
                    "SELECT key_enc FROM koppelingen WHERE adm = $1",
                    vec![s(adm)],
                ),
                "reading the koppelsleutel",
            )
            .await?;
            let Some(stored) = row
                .map(|row| col::<Option<String>>(&row, "key_enc"))
                .transpose()?
                .flatten()
            else {
                return Ok(()); // removed meanwhile
            };
            let plain = match self.cipher.open(adm, &stored) {
                Ok((_, Sealed::Current)) => {
                    report.current += 1;
                    return Ok(());
                }
                Ok((plain, Sealed::Outdated)) => plain,
                Err(error) => {
                    tracing::warn!(adm, error = %error, "secrets rotate: the koppelsleutel cannot be decrypted");
                    report.unusable.push(adm.to_owned());
                    return Ok(());
                }
            };
            let fresh = self.cipher.encrypt(adm, &plain).map_err(db::other)?;
            drop(plain);
            let n = db::exec(
                &self.db.conn,
                self.db.st(
                    "UPDATE koppelingen SET key_enc = $1 WHERE adm = $2 AND key_enc = $3",
                    vec![s(fresh), s(adm), s(stored)],
                ),
                "re-encrypting the koppelsleutel",
            )
            .await?;
            if n == 1 {
                report.rotated += 1;
                return Ok(());
            }
            // Changed by a concurrent save: look again.
        }
    }
}
