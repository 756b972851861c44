//! Administraties (tenants) and their Beheerders; a Beheerder's e-mail is unique across the
//! service, case-insensitively.

use koppeling_domain::ids::{AdministratieCode, ResourceId};
use koppeling_domain::ports::Missing;
use koppeling_domain::ports::{Admin, Administratie, Put, StoreError};
use sea_orm::QueryResult;

use super::SeaOrmStore;
use sea_orm::ConnectionTrait;

use super::db::{self, Ctx, R, col, col_adm, col_id, s, so};

pub(super) async fn put_administratie(st: &SeaOrmStore, adm: &Administratie) -> R<Put> {
    let now = db::now();
    let tx = st.db.begin().await?;
    let existing = db::one(
        &*tx,
        st.db.st(
            "SELECT code FROM administraties WHERE code = $1",
            vec![s(adm.code.as_str())],
        ),
        "reading the administratie",
    )
    .await?;
    db::exec(
        &*tx,
        st.db.st(
            "INSERT INTO administraties (code, name, created_at, updated_at) VALUES ($1, $2, $3, $3) \
             ON CONFLICT (code) DO UPDATE SET name = excluded.name, updated_at = excluded.updated_at",
            vec![s(adm.code.as_str()), s(adm.name.as_str()), st.db.ts(now)],
        ),
        "writing the administratie",
    )
    .await?;
    tx.commit().await?;
    Ok(if existing.is_some() {
        Put::Replaced
    } else {
        Put::Created
    })
}

fn administratie_from(row: &QueryResult) -> R<Administratie> {
    Ok(Administratie {
        code: col_adm(row, "code")?,
        name: col(row, "name")?,
    })
}

pub(super) async fn get_administratie(
    st: &SeaOrmStore,
    adm: &AdministratieCode,
) -> R<Option<Administratie>> {
    let row = db::one(
        &st.db.conn,
        st.db.st(
            "SELECT code, name FROM administraties WHERE code = $1",
            vec![s(adm.as_str())],
        ),
        "reading the administratie",
    )
    .await?;
    row.as_ref().map(administratie_from).transpose()
}

pub(super) async fn list_administraties(st: &SeaOrmStore) -> R<Vec<Administratie>> {
    let rows = db::all(
        &st.db.conn,
        st.db.st(
            "SELECT code, name FROM administraties ORDER BY code",
            vec![],
        ),
        "listing administraties",
    )
    .await?;
    rows.iter().map(administratie_from).collect()
}

fn email_key(email: &str) -> String {
    email.trim().to_lowercase()
}

fn email_taken(email: &str) -> StoreError {
    StoreError::Conflict {
        code: "email_taken".into(),
        message: format!("the e-mail address {email} is already used by another Beheerder"),
        field: Some("email".into()),
    }
}

pub(super) async fn put_admin(
    st: &SeaOrmStore,
    adm: &AdministratieCode,
    admin: &Admin,
    password_hash: Option<String>,
) -> R<Put> {
    let now = db::now();
    let key = email_key(&admin.email);
    let new_password = password_hash.is_some();
    let tx = st.db.begin().await?;
    let clash = db::one(
        &*tx,
        st.db.st(
            "SELECT adm, id FROM admins WHERE email_lower = $1 AND NOT (adm = $2 AND id = $3)",
            vec![s(key.as_str()), s(adm.as_str()), s(admin.id.as_str())],
        ),
        "checking the e-mail address",
    )
    .await?;
    if clash.is_some() {
        return Err(email_taken(&admin.email));
    }
    let existing = db::one(
        &*tx,
        st.db.st(
            "SELECT id FROM admins WHERE adm = $1 AND id = $2",
            vec![s(adm.as_str()), s(admin.id.as_str())],
        ),
        "reading the Beheerder",
    )
    .await?;
    let write = tx
        .execute_raw(st.db.st(
            "INSERT INTO admins (adm, id, name, email, email_lower, password_hash, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7) \
             ON CONFLICT (adm, id) DO UPDATE SET name = excluded.name, email = excluded.email, \
             email_lower = excluded.email_lower, \
             password_hash = COALESCE(excluded.password_hash, admins.password_hash), \
             updated_at = excluded.updated_at",
            vec![
                s(adm.as_str()),
                s(admin.id.as_str()),
                s(admin.name.as_str()),
                s(admin.email.as_str()),
                s(key.as_str()),
                so(password_hash),
                st.db.ts(now),
            ],
        ))
        .await;
    match write {
        Ok(_) => {}
        Err(e) if db::is_unique_violation(&e) => return Err(email_taken(&admin.email)),
        Err(e) if db::is_fk_violation(&e) => {
            return Err(StoreError::NotFound(Missing::Administratie(
                adm.to_string(),
            )));
        }
        Err(e) => return Err(e).ctx("writing the Beheerder"),
    }
    if new_password {
        super::auth::end_admin_sessions(&*tx, st, adm.as_str(), admin.id.as_str()).await?;
    }
    tx.commit().await?;
    Ok(if existing.is_some() {
        Put::Replaced
    } else {
        Put::Created
    })
}

fn admin_from(row: &QueryResult) -> R<Admin> {
    Ok(Admin {
        id: col_id(row, "id")?,
        name: col(row, "name")?,
        email: col(row, "email")?,
    })
}

pub(super) async fn get_admin(
    st: &SeaOrmStore,
    adm: &AdministratieCode,
    id: &ResourceId,
) -> R<Option<Admin>> {
    let row = db::one(
        &st.db.conn,
        st.db.st(
            "SELECT id, name, email FROM admins WHERE adm = $1 AND id = $2",
            vec![s(adm.as_str()), s(id.as_str())],
        ),
        "reading the Beheerder",
    )
    .await?;
    row.as_ref().map(admin_from).transpose()
}

pub(super) async fn list_admins(st: &SeaOrmStore, adm: &AdministratieCode) -> R<Vec<Admin>> {
    let rows = db::all(
        &st.db.conn,
        st.db.st(
            "SELECT id, name, email FROM admins WHERE adm = $1 ORDER BY name, id",
            vec![s(adm.as_str())],
        ),
        "listing Beheerders",
    )
    .await?;
    rows.iter().map(admin_from).collect()
}

pub(super) async fn find_admin_by_email(
    st: &SeaOrmStore,
    email: &str,
) -> R<Option<(AdministratieCode, Admin, Option<String>)>> {
    let row = db::one(
        &st.db.conn,
        st.db.st(
            "SELECT adm, id, name, email, password_hash FROM admins WHERE email_lower = $1",
            vec![s(email_key(email))],
        ),
        "finding the Beheerder",
    )
    .await?;
    match row {
        None => Ok(None),
        Some(row) => Ok(Some((
            col_adm(&row, "adm")?,
            admin_from(&row)?,
            col(&row, "password_hash")?,
        ))),
    }
}

pub(super) async fn set_admin_password(
    st: &SeaOrmStore,
    adm: &AdministratieCode,
    email: &str,
    password_hash: String,
) -> R<()> {
    let tx = st.db.begin().await?;
    let n = db::exec(
        &*tx,
        st.db.st(
            "UPDATE admins SET password_hash = $1, updated_at = $2 WHERE adm = $3 AND email_lower = $4",
            vec![
                s(password_hash),
                st.db.ts(db::now()),
                s(adm.as_str()),
                s(email_key(email)),
            ],
        ),
        "setting the password",
    )
    .await?;
    if n == 0 {
        return Err(StoreError::NotFound(Missing::Beheerder(email.to_string())));
    }
    db::exec(
        &*tx,
        st.db.st(
            "DELETE FROM ui_sessions WHERE adm = $1 AND admin_id IN \
             (SELECT id FROM admins WHERE adm = $1 AND email_lower = $2)",
            vec![s(adm.as_str()), s(email_key(email))],
        ),
        "ending the Beheerder's sessions",
    )
    .await?;
    tx.commit().await
}
