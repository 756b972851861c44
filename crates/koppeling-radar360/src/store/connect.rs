//! The activation link's reference keys (product.md §8.1): stored only hashed, each bound
//! to one administratie; every query names the administratie or the hash it looks up.

use chrono::{DateTime, Utc};
use koppeling_domain::ids::AdministratieCode;
use koppeling_domain::ports::StoreError;

use super::SeaOrmStore;
use super::db::{self, R, col, col_adm, s};

/// A stored reference, found by its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredReference {
    /// The administratie it is bound to.
    pub administratie: AdministratieCode,
    /// `pending`, `connected` or `void`.
    pub status: String,
    /// When a pending one expires.
    pub expires_at: DateTime<Utc>,
}

impl SeaOrmStore {
    /// Records a new pending reference of `adm` (its hash only).
    ///
    /// # Errors
    /// `NotFound` when the administratie does not exist.
    pub async fn add_reference(
        &self,
        adm: &AdministratieCode,
        ref_hash: &str,
        expires_at: DateTime<Utc>,
    ) -> R<()> {
        let now = db::now();
        let tx = self.db.begin().await?;
        let exists = db::one(
            &*tx,
            self.db.st(
                "SELECT code FROM administraties WHERE code = $1",
                vec![s(adm.as_str())],
            ),
            "reading the administratie",
        )
        .await?;
        if exists.is_none() {
            return Err(StoreError::NotFound(format!("administratie {adm}")));
        }
        db::exec(
            &*tx,
            self.db.st(
                "INSERT INTO connect_references (ref_hash, adm, status, expires_at, created_at, \
                 updated_at) VALUES ($1, $2, 'pending', $3, $4, $4)",
                vec![
                    s(ref_hash),
                    s(adm.as_str()),
                    self.db.ts(expires_at),
                    self.db.ts(now),
                ],
            ),
            "storing the reference",
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The reference with this hash, if any.
    ///
    /// # Errors
    /// [`StoreError::Other`].
    pub async fn find_reference(&self, ref_hash: &str) -> R<Option<StoredReference>> {
        let row = db::one(
            &self.db.conn,
            self.db.st(
                "SELECT adm, status, expires_at FROM connect_references WHERE ref_hash = $1",
                vec![s(ref_hash)],
            ),
            "reading the reference",
        )
        .await?;
        row.map(|row| {
            Ok(StoredReference {
                administratie: col_adm(&row, "adm")?,
                status: col(&row, "status")?,
                expires_at: col(&row, "expires_at")?,
            })
        })
        .transpose()
    }
}
