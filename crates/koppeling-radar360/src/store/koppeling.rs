//! The koppeling of an administratie: settings, the encrypted koppelsleutel, the switch and
//! the pause (per administratie, or all at once for a refused subscription key).

use anyhow::anyhow;
use koppeling_domain::ids::{AdministratieCode, ResourceId};
use koppeling_domain::koppeling::{
    ConnectionKey, Koppeling, KoppelingSettings, RevenueLedgers, VatCodes,
};
use koppeling_domain::pause::PauseReason;
use koppeling_domain::ports::Missing;
use koppeling_domain::ports::{Put, StoreError};
use sea_orm::ConnectionTrait;

use super::SeaOrmStore;
use super::db::{self, Ctx, R, RowRef, b, col, col_adm, col_bool, i, io, other, s, so};

pub(super) const COLUMNS: &str = "adm, vat_high, vat_low, vat_zero, sales_journal_code, notify_admin_id, \
    start_date, ledger_high, ledger_low, ledger_zero, key_enc, active, paused, problem, \
    last_sync_at";

fn small<T: TryFrom<i64>>(row: RowRef<'_>, name: &str) -> R<T> {
    let v: i64 = col(row, name)?;
    T::try_from(v).map_err(|_| other(anyhow!("column {name} holds {v}, out of range")))
}

fn small_opt(row: RowRef<'_>, name: &str) -> R<Option<i32>> {
    let v: Option<i64> = col(row, name)?;
    v.map(|v| i32::try_from(v).map_err(|_| other(anyhow!("column {name} holds {v}"))))
        .transpose()
}

pub(super) fn koppeling_from(st: &SeaOrmStore, row: RowRef<'_>) -> R<Koppeling> {
    let adm = col_adm(row, "adm")?;
    let key_enc: Option<String> = col(row, "key_enc")?;
    // A key no configured master key opens is "sleutel onbruikbaar", not an error: every
    // page still renders, the form can replace it and the sync pauses the koppeling.
    let mut key_unusable = false;
    let key = key_enc.and_then(|enc| {
        let key = st
            .cipher
            .decrypt(adm.as_str(), &enc)
            .and_then(|plain| ConnectionKey::new(plain).map_err(|p| anyhow!(p.message())));
        match key {
            Ok(key) => Some(key),
            Err(error) => {
                // Read on every page and claim: the sync's pause warns once instead.
                tracing::debug!(adm = %adm, error = %error, "the stored koppelsleutel is unusable");
                key_unusable = true;
                None
            }
        }
    });
    let notify_admin_id: Option<String> = col(row, "notify_admin_id")?;
    Ok(Koppeling {
        settings: KoppelingSettings {
            vat_codes: VatCodes {
                high: small(row, "vat_high")?,
                low: small(row, "vat_low")?,
                zero: small(row, "vat_zero")?,
            },
            sales_journal_code: small(row, "sales_journal_code")?,
            notify_admin_id: notify_admin_id
                .map(|id| ResourceId::parse(&id).map_err(other))
                .transpose()?,
            start_date: col(row, "start_date")?,
            revenue_ledgers: RevenueLedgers {
                high: small_opt(row, "ledger_high")?,
                low: small_opt(row, "ledger_low")?,
                zero: small_opt(row, "ledger_zero")?,
            },
        },
        key,
        key_unusable,
        active: col_bool(row, "active")?,
        paused: col_bool(row, "paused")?,
        problem: col::<Option<String>>(row, "problem")?
            .as_deref()
            .map(PauseReason::from_stored),
        last_sync_at: col(row, "last_sync_at")?,
        administratie: adm,
    })
}

/// Reads the koppeling with `c`.
pub(super) async fn read_koppeling(
    st: &SeaOrmStore,
    c: &impl ConnectionTrait,
    adm: &AdministratieCode,
) -> R<Option<Koppeling>> {
    let row = db::one(
        c,
        st.db.st(
            &format!("SELECT {COLUMNS} FROM koppelingen WHERE adm = $1"),
            vec![s(adm.as_str())],
        ),
        "reading the koppeling",
    )
    .await?;
    row.map(|row| koppeling_from(st, (&row).into())).transpose()
}

pub(super) async fn put_koppeling(
    st: &SeaOrmStore,
    adm: &AdministratieCode,
    settings: &KoppelingSettings,
    key: Option<&ConnectionKey>,
) -> R<Put> {
    let now = db::now();
    let key_enc = key
        .map(|k| st.cipher.encrypt(adm.as_str(), k.expose()))
        .transpose()
        .map_err(other)?;
    let key_enc_given = key_enc.is_some();
    let tx = st.db.begin().await?;
    let administratie = db::one(
        &*tx,
        st.db.st(
            "SELECT code FROM administraties WHERE code = $1",
            vec![s(adm.as_str())],
        ),
        "reading the administratie",
    )
    .await?;
    if administratie.is_none() {
        return Err(StoreError::NotFound(Missing::Administratie(
            adm.to_string(),
        )));
    }
    let existing = db::one(
        &*tx,
        st.db.st(
            &format!(
                "SELECT adm FROM koppelingen WHERE adm = $1{}",
                st.db.for_update()
            ),
            vec![s(adm.as_str())],
        ),
        "reading the koppeling",
    )
    .await?;
    let ledgers = &settings.revenue_ledgers;
    tx.execute_raw(st.db.st(
        "INSERT INTO koppelingen (adm, vat_high, vat_low, vat_zero, sales_journal_code, \
         notify_admin_id, start_date, ledger_high, ledger_low, ledger_zero, key_enc, active, \
         paused, problem, paused_for_subscription, last_sync_at, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, FALSE, FALSE, NULL, FALSE, NULL, \
         $12, $12) \
         ON CONFLICT (adm) DO UPDATE SET vat_high = excluded.vat_high, \
         vat_low = excluded.vat_low, vat_zero = excluded.vat_zero, \
         sales_journal_code = excluded.sales_journal_code, \
         notify_admin_id = excluded.notify_admin_id, start_date = excluded.start_date, \
         ledger_high = excluded.ledger_high, ledger_low = excluded.ledger_low, \
         ledger_zero = excluded.ledger_zero, \
         key_enc = COALESCE(excluded.key_enc, koppelingen.key_enc), \
         updated_at = excluded.updated_at",
        vec![
            s(adm.as_str()),
            i(i64::from(settings.vat_codes.high)),
            i(i64::from(settings.vat_codes.low)),
            i(i64::from(settings.vat_codes.zero)),
            i(i64::from(settings.sales_journal_code)),
            so(settings.notify_admin_id.as_ref().map(ResourceId::as_str)),
            db::date(settings.start_date),
            io(ledgers.high.map(i64::from)),
            io(ledgers.low.map(i64::from)),
            io(ledgers.zero.map(i64::from)),
            so(key_enc),
            st.db.ts(now),
        ],
    ))
    .await
    .ctx("writing the koppeling")?;
    if key_enc_given {
        // A pasted key ends a link connection: later messages for it get 404.
        db::exec(
            &*tx,
            st.db.st(
                "UPDATE connect_references SET status = 'void', updated_at = $1 \
                 WHERE adm = $2 AND status = 'connected'",
                vec![st.db.ts(now), s(adm.as_str())],
            ),
            "ending the link connection",
        )
        .await?;
    }
    tx.commit().await?;
    Ok(if existing.is_some() {
        Put::Replaced
    } else {
        Put::Created
    })
}

pub(super) async fn get_koppeling(
    st: &SeaOrmStore,
    adm: &AdministratieCode,
) -> R<Option<Koppeling>> {
    read_koppeling(st, &st.db.conn, adm).await
}

fn no_koppeling(adm: &AdministratieCode) -> StoreError {
    StoreError::NotFound(Missing::Koppeling(adm.to_string()))
}

pub(super) async fn set_koppeling_active(
    st: &SeaOrmStore,
    adm: &AdministratieCode,
    active: bool,
) -> R<()> {
    let now = db::now();
    let tx = st.db.begin().await?;
    let sql = if active {
        "UPDATE koppelingen SET active = $1, paused = FALSE, problem = NULL, \
         paused_for_subscription = FALSE, updated_at = $2 WHERE adm = $3"
    } else {
        "UPDATE koppelingen SET active = $1, updated_at = $2 WHERE adm = $3"
    };
    let n = db::exec(
        &*tx,
        st.db
            .st(sql, vec![b(active), st.db.ts(now), s(adm.as_str())]),
        "switching the koppeling",
    )
    .await?;
    if n == 0 {
        return Err(no_koppeling(adm));
    }
    tx.commit().await?;
    if active {
        st.wake();
    }
    Ok(())
}

pub(super) async fn set_koppeling_paused(
    st: &SeaOrmStore,
    adm: &AdministratieCode,
    problem: Option<PauseReason>,
) -> R<bool> {
    let now = db::now();
    let tx = st.db.begin().await?;
    let row = db::one(
        &*tx,
        st.db.st(
            &format!(
                "SELECT paused FROM koppelingen WHERE adm = $1{}",
                st.db.for_update()
            ),
            vec![s(adm.as_str())],
        ),
        "reading the koppeling",
    )
    .await?;
    let Some(row) = row else {
        return Err(no_koppeling(adm));
    };
    let was_paused = col_bool(&row, "paused")?;
    let pause = problem.is_some();
    db::exec(
        &*tx,
        st.db.st(
            "UPDATE koppelingen SET paused = $1, problem = $2, paused_for_subscription = FALSE, \
             updated_at = $3 WHERE adm = $4",
            vec![
                b(pause),
                so(problem.as_ref().map(PauseReason::to_stored)),
                st.db.ts(now),
                s(adm.as_str()),
            ],
        ),
        "pausing the koppeling",
    )
    .await?;
    let resumed = was_paused && !pause;
    tx.commit().await?;
    if resumed {
        st.wake();
    }
    Ok(was_paused != pause)
}

pub(super) async fn set_all_paused(
    st: &SeaOrmStore,
    problem: Option<PauseReason>,
) -> R<Vec<AdministratieCode>> {
    let now = db::now();
    let tx = st.db.begin().await?;
    let rows = match &problem {
        Some(p) => {
            db::all(
                &*tx,
                st.db.st(
                    "UPDATE koppelingen SET paused = TRUE, problem = $1, \
                     paused_for_subscription = TRUE, updated_at = $2 \
                     WHERE active AND NOT paused RETURNING adm",
                    vec![s(p.to_stored()), st.db.ts(now)],
                ),
                "pausing every koppeling",
            )
            .await?
        }
        None => {
            db::all(
                &*tx,
                st.db.st(
                    "UPDATE koppelingen SET paused = FALSE, problem = NULL, \
                     paused_for_subscription = FALSE, updated_at = $1 \
                     WHERE paused AND paused_for_subscription RETURNING adm",
                    vec![st.db.ts(now)],
                ),
                "resuming the koppelingen",
            )
            .await?
        }
    };
    let mut changed = rows
        .iter()
        .map(|row| col_adm(row, "adm"))
        .collect::<R<Vec<_>>>()?;
    changed.sort();
    let resumed = problem.is_none() && !changed.is_empty();
    tx.commit().await?;
    if resumed {
        st.wake();
    }
    Ok(changed)
}
