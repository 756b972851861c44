//! Relations, the SnelStart tick (which queues the relation's final invoices), and the link
//! to the SnelStart relatie.

use anyhow::anyhow;
use koppeling_domain::ids::{AdministratieCode, ResourceId};
use koppeling_domain::ports::Missing;
use koppeling_domain::ports::{Put, RelatieLink, StoreError};
use koppeling_domain::relation::{Address, RelatieCode, Relation, RelationKind};
use sea_orm::ConnectionTrait;

use super::SeaOrmStore;
use super::db::{self, Ctx, R, RowRef, b, col, col_bool, col_id, i, io, other, s, so};

pub(super) const COLUMNS: &str = "id, code, kind, name, address, email, phone, vat_number, coc_number, iban, \
                       snelstart_enabled";

pub(super) fn relation_from(row: RowRef<'_>) -> R<Relation> {
    let kind = match col::<String>(row, "kind")?.as_str() {
        "company" => RelationKind::Company,
        "person" => RelationKind::Person,
        other_kind => return Err(other(anyhow!("unknown relation kind {other_kind:?}"))),
    };
    let address: Option<String> = col(row, "address")?;
    let address = address
        .map(|a| serde_json::from_str::<Address>(&a))
        .transpose()
        .map_err(other)?;
    Ok(Relation {
        id: col_id(row, "id")?,
        code: col(row, "code")?,
        kind,
        name: col(row, "name")?,
        address,
        email: col(row, "email")?,
        phone: col(row, "phone")?,
        vat_number: col(row, "vat_number")?,
        coc_number: col(row, "coc_number")?,
        iban: col(row, "iban")?,
        snelstart_enabled: col_bool(row, "snelstart_enabled")?,
    })
}

/// Reads a relation with `c` (a transaction or the pool).
pub(super) async fn read_relation(
    st: &SeaOrmStore,
    c: &impl ConnectionTrait,
    adm: &AdministratieCode,
    id: &ResourceId,
    lock: bool,
) -> R<Option<Relation>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM relations WHERE adm = $1 AND id = $2{}",
        if lock { st.db.for_update() } else { "" }
    );
    let row = db::one(
        c,
        st.db.st(&sql, vec![s(adm.as_str()), s(id.as_str())]),
        "reading the relation",
    )
    .await?;
    row.as_ref().map(|r| relation_from(r.into())).transpose()
}

pub(super) async fn put_relation(
    st: &SeaOrmStore,
    adm: &AdministratieCode,
    relation: &Relation,
) -> R<Put> {
    let now = db::now();
    let address = relation.address.as_ref().map(db::json).transpose()?;
    let tx = st.db.begin().await?;
    let existing = read_relation(st, &*tx, adm, &relation.id, true).await?;
    let write = tx
        .execute_raw(st.db.st(
            "INSERT INTO relations (adm, id, code, kind, name, address, email, phone, vat_number, \
             coc_number, iban, snelstart_enabled, relatiecode, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, FALSE, NULL, $12, $12) \
             ON CONFLICT (adm, id) DO UPDATE SET code = excluded.code, kind = excluded.kind, \
             name = excluded.name, address = excluded.address, email = excluded.email, \
             phone = excluded.phone, vat_number = excluded.vat_number, \
             coc_number = excluded.coc_number, iban = excluded.iban, \
             updated_at = excluded.updated_at",
            vec![
                s(adm.as_str()),
                s(relation.id.as_str()),
                s(relation.code.as_str()),
                s(relation.kind.as_str()),
                s(relation.name.as_str()),
                so(address),
                so(relation.email.clone()),
                so(relation.phone.clone()),
                so(relation.vat_number.clone()),
                so(relation.coc_number.clone()),
                so(relation.iban.clone()),
                st.db.ts(now),
            ],
        ))
        .await;
    match write {
        Ok(_) => {}
        Err(e) if db::is_fk_violation(&e) => {
            return Err(StoreError::NotFound(Missing::Administratie(
                adm.to_string(),
            )));
        }
        Err(e) => return Err(e).ctx("writing the relation"),
    }
    tx.commit().await?;
    Ok(if existing.is_some() {
        Put::Replaced
    } else {
        Put::Created
    })
}

pub(super) async fn get_relation(
    st: &SeaOrmStore,
    adm: &AdministratieCode,
    id: &ResourceId,
) -> R<Option<Relation>> {
    read_relation(st, &st.db.conn, adm, id, false).await
}

pub(super) async fn list_relations(st: &SeaOrmStore, adm: &AdministratieCode) -> R<Vec<Relation>> {
    let rows = db::all(
        &st.db.conn,
        st.db.st(
            &format!("SELECT {COLUMNS} FROM relations WHERE adm = $1 ORDER BY code, id"),
            vec![s(adm.as_str())],
        ),
        "listing relations",
    )
    .await?;
    rows.iter().map(|r| relation_from(r.into())).collect()
}

/// One page of the relations by code, and the total (issue 13: `/relaties` is paged).
pub(super) async fn list_relations_page(
    st: &SeaOrmStore,
    adm: &AdministratieCode,
    search: &str,
    page: u32,
    per_page: u32,
) -> R<(Vec<Relation>, u64)> {
    let offset = i64::from(page.max(1) - 1) * i64::from(per_page);
    // `search` matches code or name, case-insensitively (ASCII case on SQLite).
    let needle = search.trim().to_lowercase();
    let pattern = format!(
        "%{}%",
        needle
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    let filter =
        "adm = $1 AND (LOWER(code) LIKE $2 ESCAPE '\\' OR LOWER(name) LIKE $2 ESCAPE '\\')";
    let rows = db::all(
        &st.db.conn,
        st.db.st(
            &format!(
                "SELECT {COLUMNS} FROM relations WHERE {filter} ORDER BY code, id LIMIT $3 OFFSET $4"
            ),
            vec![
                s(adm.as_str()),
                s(pattern.clone()),
                i(i64::from(per_page)),
                i(offset),
            ],
        ),
        "listing relations",
    )
    .await?;
    let relations = rows
        .iter()
        .map(|r| relation_from(r.into()))
        .collect::<R<Vec<_>>>()?;
    let total = db::one(
        &st.db.conn,
        st.db.st(
            &format!("SELECT COUNT(*) AS n FROM relations WHERE {filter}"),
            vec![s(adm.as_str()), s(pattern)],
        ),
        "counting relations",
    )
    .await?
    .map(|row| col::<i64>(&row, "n"))
    .transpose()?
    .unwrap_or(0);
    Ok((relations, u64::try_from(total).unwrap_or(0)))
}

fn code_taken(code: RelatieCode, other_id: Option<&str>) -> StoreError {
    let by = other_id.map_or_else(String::new, |o| format!(" by relation {o}"));
    StoreError::Conflict {
        code: "code_taken".into(),
        message: format!(
            "relatiecode {code} is already used{by}, which is ticked for SnelStart; SnelStart \
             needs a unique numeric code per relation (\"007\" and \"7\" are the same code)"
        ),
        field: Some("code".into()),
    }
}

pub(super) async fn set_relation_snelstart(
    st: &SeaOrmStore,
    adm: &AdministratieCode,
    id: &ResourceId,
    enabled: Option<RelatieCode>,
) -> R<Relation> {
    let now = db::now();
    let tx = st.db.begin().await?;
    if read_relation(st, &*tx, adm, id, true).await?.is_none() {
        return Err(StoreError::NotFound(Missing::Relation(id.to_string())));
    }
    let queued = match enabled {
        Some(code) => {
            let clash = db::one(
                &*tx,
                st.db.st(
                    "SELECT id FROM relations WHERE adm = $1 AND relatiecode = $2 AND id <> $3",
                    vec![s(adm.as_str()), i(i64::from(code.get())), s(id.as_str())],
                ),
                "checking the relatiecode",
            )
            .await?;
            if let Some(row) = clash {
                let other_id: String = col(&row, "id")?;
                return Err(code_taken(code, Some(&other_id)));
            }
            let write = tx
                .execute_raw(st.db.st(
                    "UPDATE relations SET snelstart_enabled = $1, relatiecode = $2, updated_at = $3 \
                     WHERE adm = $4 AND id = $5",
                    vec![
                        b(true),
                        io(Some(i64::from(code.get()))),
                        st.db.ts(now),
                        s(adm.as_str()),
                        s(id.as_str()),
                    ],
                ))
                .await;
            match write {
                Ok(_) => {}
                Err(e) if db::is_unique_violation(&e) => return Err(code_taken(code, None)),
                Err(e) => return Err(e).ctx("ticking the relation"),
            }
            db::exec(
                &*tx,
                st.db.st(
                    "UPDATE invoices SET sync_status = 'queued', next_attempt_at = NULL, \
                     due_at = $1, sync_updated_at = $1, sync_error = NULL, sync_hint = NULL, \
                     error_class = NULL, snelstart_code = NULL, failing_since = NULL \
                     WHERE adm = $2 AND relation_id = $3 AND status = 'final' \
                     AND sync_status IS NULL",
                    vec![st.db.ts(now), s(adm.as_str()), s(id.as_str())],
                ),
                "queueing the relation's invoices",
            )
            .await?
        }
        None => {
            db::exec(
                &*tx,
                st.db.st(
                    "UPDATE relations SET snelstart_enabled = $1, relatiecode = NULL, updated_at = $2 \
                     WHERE adm = $3 AND id = $4",
                    vec![b(false), st.db.ts(now), s(adm.as_str()), s(id.as_str())],
                ),
                "un-ticking the relation",
            )
            .await?;
            db::exec(
                &*tx,
                st.db.st(
                    "UPDATE invoices SET sync_status = NULL, next_attempt_at = NULL, due_at = NULL, \
                     sync_updated_at = $1, sync_error = NULL, sync_hint = NULL, error_class = NULL, \
                     snelstart_code = NULL, failing_since = NULL \
                     WHERE adm = $2 AND relation_id = $3 AND sync_status = 'queued' \
                     AND needs_lookup = $4",
                    vec![st.db.ts(now), s(adm.as_str()), s(id.as_str()), b(false)],
                ),
                // An invoice whose outcome is unknown stays queued: the look-up settles it
                // (synced when it is in SnelStart, out of the queue otherwise).
                "un-queueing the relation's invoices",
            )
            .await?;
            0
        }
    };
    let relation = read_relation(st, &*tx, adm, id, false)
        .await?
        .ok_or_else(|| StoreError::NotFound(Missing::Relation(id.to_string())))?;
    tx.commit().await?;
    if queued > 0 {
        st.wake();
    }
    Ok(relation)
}

pub(super) async fn get_relatie_link(
    st: &SeaOrmStore,
    adm: &AdministratieCode,
    relation_id: &ResourceId,
) -> R<Option<RelatieLink>> {
    read_relatie_link(st, &st.db.conn, adm, relation_id).await
}

/// Reads the relatie link with `c`.
pub(super) async fn read_relatie_link(
    st: &SeaOrmStore,
    c: &impl ConnectionTrait,
    adm: &AdministratieCode,
    relation_id: &ResourceId,
) -> R<Option<RelatieLink>> {
    let row = db::one(
        c,
        st.db.st(
            "SELECT snelstart_id, fingerprint FROM relatie_links WHERE adm = $1 AND relation_id = $2",
            vec![s(adm.as_str()), s(relation_id.as_str())],
        ),
        "reading the relatie link",
    )
    .await?;
    match row {
        None => Ok(None),
        Some(row) => Ok(Some(RelatieLink {
            snelstart_id: col(&row, "snelstart_id")?,
            fingerprint: col(&row, "fingerprint")?,
        })),
    }
}

pub(super) async fn save_relatie_link(
    st: &SeaOrmStore,
    adm: &AdministratieCode,
    relation_id: &ResourceId,
    link: &RelatieLink,
) -> R<()> {
    let tx = st.db.begin().await?;
    let write = tx
        .execute_raw(st.db.st(
            "INSERT INTO relatie_links (adm, relation_id, snelstart_id, fingerprint, updated_at) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (adm, relation_id) DO UPDATE SET snelstart_id = excluded.snelstart_id, \
             fingerprint = excluded.fingerprint, updated_at = excluded.updated_at",
            vec![
                s(adm.as_str()),
                s(relation_id.as_str()),
                s(link.snelstart_id.as_str()),
                s(link.fingerprint.as_str()),
                st.db.ts(db::now()),
            ],
        ))
        .await;
    match write {
        Ok(_) => {}
        Err(e) if db::is_fk_violation(&e) => {
            return Err(StoreError::NotFound(Missing::Relation(
                relation_id.to_string(),
            )));
        }
        Err(e) => return Err(e).ctx("saving the relatie link"),
    }
    tx.commit().await
}
