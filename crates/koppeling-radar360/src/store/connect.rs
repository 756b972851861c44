//! The activation link's reference keys (product.md §8.1): stored only hashed, each bound
//! to one administratie; every query names the administratie or the hash it looks up.

use chrono::{DateTime, Utc};
use koppeling_domain::connect::{
    ActionType, ReferenceStatus, StoredKey, WebhookApplied, WebhookEffect, decide, is_usable,
    withdrawn_notice,
};
use koppeling_domain::ids::AdministratieCode;
use koppeling_domain::koppeling::{ConnectionKey, KoppelingSettings};
use koppeling_domain::notification::NotificationItem;
use koppeling_domain::pause::PauseReason;
use koppeling_domain::ports::Missing;
use koppeling_domain::ports::StoreError;

use super::SeaOrmStore;
use super::db::{self, R, WriteTx, col, col_adm, i, other, s, so};
use super::notify::insert_notice;

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
            return Err(StoreError::NotFound(Missing::Administratie(
                adm.to_string(),
            )));
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

impl SeaOrmStore {
    /// [`koppeling_domain::ports::ConnectStore::apply_webhook`]: one transaction that reads the
    /// reference and the stored key, decides, and writes the effect.
    ///
    /// # Errors
    /// [`StoreError::Other`]; `Busy`.
    pub async fn apply_webhook_tx(
        &self,
        ref_hash: &str,
        action: ActionType,
        key: Option<&ConnectionKey>,
        now: DateTime<Utc>,
    ) -> R<WebhookApplied> {
        let tx = self.db.begin().await?;
        let row = db::one(
            &*tx,
            self.db.st(
                &format!(
                    "SELECT adm, status, expires_at FROM connect_references WHERE ref_hash = $1{}",
                    self.db.for_update()
                ),
                vec![s(ref_hash)],
            ),
            "reading the reference",
        )
        .await?;
        let Some(row) = row else {
            return Ok(WebhookApplied {
                effect: WebhookEffect::Unknown,
                administratie: None,
            });
        };
        let adm = col_adm(&row, "adm")?;
        let status_raw: String = col(&row, "status")?;
        let status = ReferenceStatus::parse(&status_raw)
            .ok_or_else(|| other(anyhow::anyhow!("reference status {status_raw:?}")))?;
        let expires: DateTime<Utc> = col(&row, "expires_at")?;
        let usable = status == ReferenceStatus::Pending && is_usable(expires, now);
        let stored = self.stored_key(&tx, &adm, key).await?;
        let effect = decide(action, Some(status), usable, stored);
        match effect {
            WebhookEffect::Unknown | WebhookEffect::Replay | WebhookEffect::Used => {
                return Ok(WebhookApplied {
                    effect,
                    administratie: Some(adm),
                });
            }
            WebhookEffect::Connect => {
                let key = key.ok_or_else(|| other(anyhow::anyhow!("Create without a key")))?;
                self.connect_key(&tx, &adm, ref_hash, key, now).await?;
            }
            WebhookEffect::Replace => {
                let key = key.ok_or_else(|| other(anyhow::anyhow!("Regenerate without a key")))?;
                let enc = self
                    .cipher
                    .encrypt(adm.as_str(), key.expose())
                    .map_err(other)?;
                db::exec(
                    &*tx,
                    self.db.st(
                        "UPDATE koppelingen SET key_enc = $1, updated_at = $2 WHERE adm = $3",
                        vec![s(enc), self.db.ts(now), s(adm.as_str())],
                    ),
                    "replacing the koppelsleutel",
                )
                .await?;
            }
            WebhookEffect::Withdraw => {
                // An active koppeling pauses (the claim skips it: no SnelStart call for
                // it); an inactive one keeps its state. Either way the problem says why.
                db::exec(
                    &*tx,
                    self.db.st(
                        "UPDATE koppelingen SET key_enc = NULL, \
                         paused = CASE WHEN active THEN TRUE ELSE paused END, \
                         paused_for_subscription = FALSE, problem = $1, updated_at = $2 \
                         WHERE adm = $3",
                        vec![
                            s(PauseReason::KeyWithdrawn.to_stored()),
                            self.db.ts(now),
                            s(adm.as_str()),
                        ],
                    ),
                    "withdrawing the koppelsleutel",
                )
                .await?;
                insert_notice(self, &tx, &adm, &withdrawn_notice(), now).await?;
            }
        }
        tx.commit().await?;
        Ok(WebhookApplied {
            effect,
            administratie: Some(adm),
        })
    }

    /// The administratie's stored key compared with the message's (in `tx`, locked).
    async fn stored_key(
        &self,
        tx: &WriteTx,
        adm: &AdministratieCode,
        key: Option<&ConnectionKey>,
    ) -> R<StoredKey> {
        let row = db::one(
            &**tx,
            self.db.st(
                &format!(
                    "SELECT key_enc FROM koppelingen WHERE adm = $1{}",
                    self.db.for_update()
                ),
                vec![s(adm.as_str())],
            ),
            "reading the koppelsleutel",
        )
        .await?;
        let key_enc: Option<String> = match &row {
            Some(row) => col(row, "key_enc")?,
            None => None,
        };
        Ok(match key_enc {
            None => StoredKey::Absent,
            Some(enc) => {
                // A key no master key opens counts as another key.
                let same = key.is_some_and(|key| {
                    self.cipher
                        .decrypt(adm.as_str(), &enc)
                        .is_ok_and(|plain| plain.trim() == key.expose())
                });
                if same {
                    StoredKey::Same
                } else {
                    StoredKey::Other
                }
            }
        })
    }

    /// `Create` for a pending reference: the key stored encrypted (replacing a pasted
    /// one), the koppeling made with default settings when absent, the problem saying the
    /// checks run, this reference the connection and the administratie's others void.
    async fn connect_key(
        &self,
        tx: &WriteTx,
        adm: &AdministratieCode,
        ref_hash: &str,
        key: &ConnectionKey,
        now: DateTime<Utc>,
    ) -> R<()> {
        let enc = self
            .cipher
            .encrypt(adm.as_str(), key.expose())
            .map_err(other)?;
        let d = KoppelingSettings::default();
        db::exec(
            &**tx,
            self.db.st(
                "INSERT INTO koppelingen (adm, vat_high, vat_low, vat_zero, sales_journal_code, \
                 notify_admin_id, start_date, ledger_high, ledger_low, ledger_zero, key_enc, \
                 active, paused, problem, paused_for_subscription, last_sync_at, created_at, \
                 updated_at) \
                 VALUES ($1, $2, $3, $4, $5, NULL, NULL, NULL, NULL, NULL, $6, FALSE, FALSE, $7, \
                 FALSE, NULL, $8, $8) \
                 ON CONFLICT (adm) DO UPDATE SET key_enc = excluded.key_enc, \
                 problem = excluded.problem, updated_at = excluded.updated_at",
                vec![
                    s(adm.as_str()),
                    i(i64::from(d.vat_codes.high)),
                    i(i64::from(d.vat_codes.low)),
                    i(i64::from(d.vat_codes.zero)),
                    i(i64::from(d.sales_journal_code)),
                    s(enc),
                    so(Some(PauseReason::ChecksRunning.to_stored())),
                    self.db.ts(now),
                ],
            ),
            "storing the koppelsleutel from the link",
        )
        .await?;
        db::exec(
            &**tx,
            self.db.st(
                "UPDATE connect_references SET status = CASE WHEN ref_hash = $1 THEN 'connected' \
                 ELSE 'void' END, updated_at = $2 WHERE adm = $3 AND status <> 'void'",
                vec![s(ref_hash), self.db.ts(now), s(adm.as_str())],
            ),
            "connecting the reference",
        )
        .await?;
        Ok(())
    }

    /// [`koppeling_domain::ports::ConnectStore::set_koppeling_problem`].
    ///
    /// # Errors
    /// `NotFound` without a koppeling.
    pub async fn set_problem_with_notice(
        &self,
        adm: &AdministratieCode,
        problem: &PauseReason,
        notice: &NotificationItem,
        now: DateTime<Utc>,
    ) -> R<()> {
        let tx = self.db.begin().await?;
        let n = db::exec(
            &*tx,
            self.db.st(
                "UPDATE koppelingen SET problem = $1, updated_at = $2 WHERE adm = $3",
                vec![s(problem.to_stored()), self.db.ts(now), s(adm.as_str())],
            ),
            "setting the koppeling's problem",
        )
        .await?;
        if n == 0 {
            return Err(StoreError::NotFound(Missing::Koppeling(adm.to_string())));
        }
        insert_notice(self, &tx, adm, notice, now).await?;
        tx.commit().await
    }

    /// Whether `adm` has a connected reference.
    ///
    /// # Errors
    /// [`StoreError::Other`].
    pub async fn has_link(&self, adm: &AdministratieCode) -> R<bool> {
        let row = db::one(
            &self.db.conn,
            self.db.st(
                "SELECT ref_hash FROM connect_references WHERE adm = $1 AND status = 'connected' \
                 LIMIT 1",
                vec![s(adm.as_str())],
            ),
            "reading the connection",
        )
        .await?;
        Ok(row.is_some())
    }
}
