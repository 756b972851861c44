//! Round trips, the e-mail uniqueness, administratie isolation, the key at rest, and the
//! koppeling's switch and pause.

use koppeling_domain::invoice::InvoiceStatus;
use koppeling_domain::koppeling::{
    ConnectionKey, KoppelingSettings, KoppelingState, RevenueLedgers,
};
use koppeling_domain::notification::{NoticeKind, NotificationItem, StoredNotification};
use koppeling_domain::pause::PauseReason;
use koppeling_domain::ports::Missing;
use koppeling_domain::ports::roles::*;
use koppeling_domain::ports::{
    Admin, Administratie, ClaimRequest, Outcome, Put, RelatieLink, StoreError, SyncStatus,
};
use koppeling_domain::relation::RelatieCode;
use sea_orm::{ConnectionTrait, Statement};

use crate::helpers::{Engine, Harness, adm, administratie, invoice, now, relation, rid, secs};

fn settings() -> KoppelingSettings {
    KoppelingSettings {
        notify_admin_id: Some(rid("bea")),
        start_date: chrono::NaiveDate::from_ymd_opt(2026, 1, 1),
        revenue_ledgers: RevenueLedgers {
            high: Some(8000),
            low: None,
            zero: Some(8020),
        },
        ..KoppelingSettings::default()
    }
}

fn key(raw: &str) -> ConnectionKey {
    ConnectionKey::new(raw.to_owned()).unwrap()
}

pub async fn round_trips(h: Harness) {
    let s = &h.store;
    let a = adm("kantoor");
    let put = s
        .put_administratie(&Administratie {
            code: a.clone(),
            name: "Kantoor".into(),
        })
        .await
        .unwrap();
    assert_eq!(put, Put::Created);
    let put = s
        .put_administratie(&Administratie {
            code: a.clone(),
            name: "Kantoor B.V.".into(),
        })
        .await
        .unwrap();
    assert_eq!(put, Put::Replaced);
    assert_eq!(
        s.get_administratie(&a).await.unwrap().unwrap().name,
        "Kantoor B.V."
    );
    assert!(s.get_administratie(&adm("nope")).await.unwrap().is_none());
    assert_eq!(s.list_administraties().await.unwrap().len(), 1);

    // Beheerders; a PUT without password keeps the stored hash.
    let bea = Admin {
        id: rid("bea"),
        name: "Bea".into(),
        email: "Bea@Example.nl".into(),
    };
    assert_eq!(
        s.put_admin(&a, &bea, Some("hash-1".into())).await.unwrap(),
        Put::Created
    );
    assert_eq!(s.put_admin(&a, &bea, None).await.unwrap(), Put::Replaced);
    assert_eq!(s.get_admin(&a, &bea.id).await.unwrap(), Some(bea.clone()));
    assert_eq!(s.list_admins(&a).await.unwrap(), vec![bea.clone()]);
    let (found_adm, found, hash) = s
        .find_admin_by_email("bea@example.NL")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (found_adm, found, hash),
        (a.clone(), bea.clone(), Some("hash-1".into()))
    );
    s.set_admin_password(&a, "BEA@example.nl", "hash-2".into())
        .await
        .unwrap();
    let (_, _, hash) = s
        .find_admin_by_email("bea@example.nl")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(hash.as_deref(), Some("hash-2"));
    assert!(matches!(
        s.set_admin_password(&a, "nobody@example.nl", "x".into())
            .await,
        Err(StoreError::NotFound(_))
    ));

    // Relations; the tick survives a PUT.
    let mut r = relation("r1", "12");
    assert_eq!(s.put_relation(&a, &r).await.unwrap(), Put::Created);
    assert_eq!(s.get_relation(&a, &r.id).await.unwrap(), Some(r.clone()));
    s.set_relation_snelstart(&a, &r.id, RelatieCode::from_i32(12))
        .await
        .unwrap();
    r.name = "Nieuwe naam".into();
    r.address = None;
    assert_eq!(s.put_relation(&a, &r).await.unwrap(), Put::Replaced);
    let stored = s.get_relation(&a, &r.id).await.unwrap().unwrap();
    assert!(stored.snelstart_enabled, "put_relation keeps the tick");
    assert_eq!(stored.address, None);
    assert_eq!(stored.name, "Nieuwe naam");
    s.put_relation(&a, &relation("r0", "03")).await.unwrap();
    let codes: Vec<_> = s
        .list_relations(&a)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.code)
        .collect();
    assert_eq!(codes, ["03", "12"]);

    // Invoices: content round trip (decimals exact), the relation must exist.
    let inv = invoice("i1", "r0", InvoiceStatus::Draft);
    assert_eq!(
        s.put_invoice(&a, &inv).await.unwrap(),
        (Put::Created, None),
        "a draft has no sync state"
    );
    let (got, sync) = s.get_invoice(&a, &inv.id).await.unwrap().unwrap();
    assert_eq!(got, inv);
    assert_eq!(got.lines[0].unit_price.to_string(), "125.50");
    assert_eq!(sync, None);
    assert!(matches!(
        s.put_invoice(&a, &invoice("i2", "ghost", InvoiceStatus::Final)).await,
        Err(StoreError::NotFound(Missing::Relation(id))) if id == "ghost"
    ));
    assert!(s.get_invoice(&a, &rid("i2")).await.unwrap().is_none());

    // The koppeling: settings, key kept when absent, NotFound for an unknown administratie.
    assert!(s.get_koppeling(&a).await.unwrap().is_none());
    assert!(matches!(
        s.set_koppeling_active(&a, true).await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(
        s.put_koppeling(&a, &settings(), Some(key("sleutel-1")))
            .await
            .unwrap(),
        Put::Created
    );
    let k = s.get_koppeling(&a).await.unwrap().unwrap();
    assert_eq!(k.settings, settings());
    assert_eq!(k.key, Some(key("sleutel-1")));
    assert_eq!(k.state(), KoppelingState::Inactive);
    let mut other = settings();
    other.sales_journal_code = 1310;
    assert_eq!(
        s.put_koppeling(&a, &other, None).await.unwrap(),
        Put::Replaced
    );
    let k = s.get_koppeling(&a).await.unwrap().unwrap();
    assert_eq!(k.key, Some(key("sleutel-1")), "a PUT without key keeps it");
    assert_eq!(k.settings.sales_journal_code, 1310);
    s.put_koppeling(&a, &other, Some(key("sleutel-2")))
        .await
        .unwrap();
    assert_eq!(
        s.get_koppeling(&a).await.unwrap().unwrap().key,
        Some(key("sleutel-2"))
    );
    assert!(matches!(
        s.put_koppeling(&adm("nope"), &settings(), None).await,
        Err(StoreError::NotFound(_))
    ));
    let recipient = s.recipient(&a).await.unwrap();
    assert_eq!(recipient.administratie_name, "Kantoor B.V.");
    assert_eq!(recipient.admin, Some(bea));

    // Relatie links.
    assert!(s.get_relatie_link(&a, &r.id).await.unwrap().is_none());
    let link = RelatieLink {
        snelstart_id: "guid-1".into(),
        fingerprint: "f1".into(),
    };
    s.save_relatie_link(&a, &r.id, &link).await.unwrap();
    let link2 = RelatieLink {
        snelstart_id: "guid-1".into(),
        fingerprint: "f2".into(),
    };
    s.save_relatie_link(&a, &r.id, &link2).await.unwrap();
    assert_eq!(s.get_relatie_link(&a, &r.id).await.unwrap(), Some(link2));
    s.ping().await.unwrap();
}

pub async fn admin_email_is_unique_across_the_service(h: Harness) {
    let s = &h.store;
    let a = administratie(s, "a").await;
    let b = administratie(s, "b").await;
    let bea = Admin {
        id: rid("bea"),
        name: "Bea".into(),
        email: "Bea@Example.nl".into(),
    };
    s.put_admin(&a, &bea, None).await.unwrap();
    // The same Beheerder may be PUT again with the address in other case.
    let mut again = bea.clone();
    again.email = "bea@example.nl".into();
    s.put_admin(&a, &again, None).await.unwrap();
    for (target, id) in [(&a, "other"), (&b, "bea"), (&b, "x")] {
        let clash = Admin {
            id: rid(id),
            name: "X".into(),
            email: " BEA@EXAMPLE.NL".into(),
        };
        match s.put_admin(target, &clash, None).await {
            Err(StoreError::Conflict { code, field, .. }) => {
                assert_eq!(code, "email_taken");
                assert_eq!(field.as_deref(), Some("email"));
            }
            other => panic!("expected email_taken, got {other:?}"),
        }
    }
    assert!(s.get_admin(&b, &rid("bea")).await.unwrap().is_none());
}

pub async fn administraties_are_isolated(h: Harness) {
    let s = &h.store;
    let a = administratie(s, "a").await;
    let b = administratie(s, "b").await;
    for (code, name, email, k) in [
        (&a, "In A", "a@x.nl", "key-a"),
        (&b, "In B", "b@x.nl", "key-b"),
    ] {
        let mut r = relation("r1", "7");
        r.name = name.into();
        s.put_relation(code, &r).await.unwrap();
        let mut inv = invoice("i1", "r1", InvoiceStatus::Final);
        inv.number = format!("{name}-1");
        s.put_invoice(code, &inv).await.unwrap();
        s.put_admin(
            code,
            &Admin {
                id: rid("ad1"),
                name: name.into(),
                email: email.into(),
            },
            None,
        )
        .await
        .unwrap();
        s.put_koppeling(code, &settings(), Some(key(k)))
            .await
            .unwrap();
        s.set_koppeling_active(code, true).await.unwrap();
    }
    // Ticking in A queues A's invoice only; the same code in B is no collision.
    s.set_relation_snelstart(&a, &rid("r1"), RelatieCode::from_i32(7))
        .await
        .unwrap();
    assert_eq!(
        s.get_invoice(&a, &rid("i1"))
            .await
            .unwrap()
            .unwrap()
            .1
            .unwrap()
            .status,
        SyncStatus::Queued
    );
    assert_eq!(
        s.get_invoice(&b, &rid("i1")).await.unwrap().unwrap().1,
        None
    );

    assert_eq!(
        s.get_relation(&a, &rid("r1")).await.unwrap().unwrap().name,
        "In A"
    );
    assert_eq!(
        s.get_relation(&b, &rid("r1")).await.unwrap().unwrap().name,
        "In B"
    );
    assert_eq!(s.list_relations(&b).await.unwrap().len(), 1);
    assert_eq!(
        s.get_invoice(&b, &rid("i1"))
            .await
            .unwrap()
            .unwrap()
            .0
            .number,
        "In B-1"
    );
    assert_eq!(s.list_invoices(&b, &None.into(), 1).await.unwrap().len(), 1);
    assert!(
        s.list_invoices(&b, &Some(SyncStatus::Queued).into(), 1)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(s.status_counts(&a).await.unwrap().queued, 1);
    assert_eq!(s.status_counts(&b).await.unwrap().queued, 0);
    assert_eq!(
        s.get_admin(&b, &rid("ad1")).await.unwrap().unwrap().email,
        "b@x.nl"
    );
    assert_eq!(s.list_admins(&a).await.unwrap()[0].email, "a@x.nl");
    assert_eq!(
        s.get_koppeling(&b).await.unwrap().unwrap().key,
        Some(key("key-b"))
    );
    s.save_relatie_link(
        &a,
        &rid("r1"),
        &RelatieLink {
            snelstart_id: "g".into(),
            fingerprint: "f".into(),
        },
    )
    .await
    .unwrap();
    assert!(s.get_relatie_link(&b, &rid("r1")).await.unwrap().is_none());
    assert!(matches!(
        s.retry_invoice(&b, &rid("i1")).await,
        Err(StoreError::Conflict { code, .. }) if code == "not_failed"
    ));

    // The queue: B's filter sees nothing, A's claim sees A's invoice only.
    let t = now();
    assert!(
        s.claim_due(ClaimRequest::new("w", t, t + secs(60), 10).of(Some(b.clone())))
            .await
            .unwrap()
            .is_empty()
    );
    let claims = s
        .claim_due(ClaimRequest::new("w", t, t + secs(60), 10))
        .await
        .unwrap();
    assert_eq!(claims.len(), 1);
    assert_eq!(claims[0].administratie, a);
    let job = s.load_job(&claims[0]).await.unwrap().unwrap();
    assert_eq!(job.invoice.number, "In A-1");
    assert_eq!(job.relation.name, "In A");
    assert_eq!(job.koppeling.key, Some(key("key-a")));
    assert!(job.relatie.is_some());
    let item = NotificationItem {
        kind: NoticeKind::InvoiceFailed,
        subject_type: "invoice".into(),
        subject_id: "i1".into(),
        label: "In A-1".into(),
        reason: "kapot".into(),
        snelstart_code: None,
        hint: None,
    };
    assert!(
        s.finish(
            &claims[0],
            t,
            &Outcome::Failed {
                error: "kapot".into(),
                hint: None,
                snelstart_code: Some("BOE-0001".into()),
                class: koppeling_domain::ports::ErrorClass::Data,
            },
            "kapot",
            Some(item.clone()),
        )
        .await
        .unwrap()
    );
    assert_eq!(s.sync_log(&a, false, 10).await.unwrap().len(), 1);
    assert!(s.sync_log(&b, false, 10).await.unwrap().is_empty());
    assert!(s.retry_invoice(&b, &rid("i1")).await.is_err());
    let pending = s.pending_notices(10).await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].administratie, a);
    // Consuming A's notice through B does nothing.
    s.save_notification(&b, &[pending[0].id], None)
        .await
        .unwrap();
    assert_eq!(s.pending_notices(10).await.unwrap().len(), 1);
    let stored = StoredNotification {
        at: t,
        to: "a@x.nl".into(),
        subject: "s".into(),
        body: "b".into(),
        items: vec![item.clone()],
    };
    s.save_notification(
        &a,
        &[pending[0].id],
        Some((stored, vec![item.dedupe_key()])),
    )
    .await
    .unwrap();
    assert_eq!(s.notifications(&a, 10).await.unwrap().len(), 1);
    assert!(s.notifications(&b, 10).await.unwrap().is_empty());
    assert!(
        s.notified_since(&a, &item.dedupe_key(), t - secs(1))
            .await
            .unwrap()
    );
    assert!(
        !s.notified_since(&b, &item.dedupe_key(), t - secs(1))
            .await
            .unwrap()
    );
    assert_eq!(
        s.recipient(&b).await.unwrap().administratie_name,
        "Kantoor b"
    );
}

pub async fn koppelsleutel_is_not_stored_in_clear_text(h: Harness) {
    let s = &h.store;
    let a = administratie(s, "geheim").await;
    let secret = "S3cr3t-Koppelsleutel-4f9a2c7e81b0";
    s.put_koppeling(&a, &settings(), Some(key(secret)))
        .await
        .unwrap();
    let conn = s.connection();
    let backend = conn.get_database_backend();
    let row = conn
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT key_enc FROM koppelingen",
        ))
        .await
        .unwrap()
        .unwrap();
    let stored: String = row.try_get("", "key_enc").unwrap();
    assert!(stored.starts_with("v2:"), "{stored}");
    assert!(!stored.contains(secret));
    match h.engine {
        Engine::Sqlite => {
            // Every byte SQLite wrote: the database file, its WAL and shared memory.
            let path = h.sqlite_path.clone().unwrap();
            let dir = path.parent().unwrap();
            let mut checked = 0;
            for entry in std::fs::read_dir(dir).unwrap() {
                let bytes = std::fs::read(entry.unwrap().path()).unwrap();
                checked += bytes.len();
                assert!(
                    !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                    "the koppelsleutel is in a database file in clear text"
                );
            }
            assert!(checked > 0);
        }
        Engine::Postgres => {
            let rows = conn
                .query_all_raw(Statement::from_string(
                    backend,
                    "SELECT k::text AS t FROM koppelingen k",
                ))
                .await
                .unwrap();
            for row in rows {
                let text: String = row.try_get("", "t").unwrap();
                assert!(!text.contains(secret));
            }
        }
    }
    // A different master key cannot read it.
    let other = koppeling_radar360::SeaOrmStore::connect(&h.url, [1; 32])
        .await
        .unwrap();
    // A different master key cannot read it: "sleutel onbruikbaar", not an error.
    let k = other.get_koppeling(&a).await.unwrap().unwrap();
    assert!(k.key.is_none() && k.key_unusable);
}

pub async fn koppeling_pause_and_resume(h: Harness) {
    let s = &h.store;
    let codes = ["a", "b", "c", "d"];
    for code in codes {
        let a = administratie(s, code).await;
        s.put_koppeling(&a, &settings(), Some(key("k")))
            .await
            .unwrap();
    }
    let (a, b, c, d) = (adm("a"), adm("b"), adm("c"), adm("d"));
    for active in [&a, &b, &d] {
        s.set_koppeling_active(active, true).await.unwrap();
    }
    assert!(
        s.set_koppeling_paused(&d, Some(PauseReason::KeyRefused))
            .await
            .unwrap()
    );
    assert!(
        !s.set_koppeling_paused(&d, Some(PauseReason::KeyUnusable))
            .await
            .unwrap()
    );
    let kd = s.get_koppeling(&d).await.unwrap().unwrap();
    assert_eq!(kd.state(), KoppelingState::PausedAuth);
    assert_eq!(kd.problem, Some(PauseReason::KeyUnusable));

    // The subscription key: all active, unpaused koppelingen pause, and only they resume.
    let paused = s
        .set_all_paused(Some(PauseReason::SubscriptionKeyRefused))
        .await
        .unwrap();
    assert_eq!(paused, vec![a.clone(), b.clone()]);
    assert_eq!(
        s.get_koppeling(&a).await.unwrap().unwrap().problem,
        Some(PauseReason::SubscriptionKeyRefused)
    );
    assert_eq!(
        s.get_koppeling(&c).await.unwrap().unwrap().state(),
        KoppelingState::Inactive
    );
    let resumed = s.set_all_paused(None).await.unwrap();
    assert_eq!(resumed, vec![a.clone(), b.clone()]);
    assert_eq!(
        s.get_koppeling(&a).await.unwrap().unwrap().state(),
        KoppelingState::Active
    );
    assert_eq!(
        s.get_koppeling(&d).await.unwrap().unwrap().state(),
        KoppelingState::PausedAuth,
        "a pause for the koppelsleutel stays"
    );
    assert!(s.set_all_paused(None).await.unwrap().is_empty());

    // Resuming one, and activation clearing a pause.
    assert!(s.set_koppeling_paused(&d, None).await.unwrap());
    assert!(!s.set_koppeling_paused(&d, None).await.unwrap());
    s.set_koppeling_paused(&b, Some(PauseReason::KeyRefused))
        .await
        .unwrap();
    s.set_koppeling_active(&b, true).await.unwrap();
    let kb = s.get_koppeling(&b).await.unwrap().unwrap();
    assert_eq!((kb.paused, kb.problem), (false, None));
    s.set_koppeling_active(&b, false).await.unwrap();
    assert_eq!(
        s.get_koppeling(&b).await.unwrap().unwrap().state(),
        KoppelingState::Inactive
    );
    assert!(matches!(
        s.set_koppeling_paused(&adm("zz"), None).await,
        Err(StoreError::NotFound(_))
    ));
}

pub async fn migrate_is_idempotent(h: Harness) {
    h.store.migrate().await.unwrap();
    let again = h.another_store().await;
    again.migrate().await.unwrap();
    again.ping().await.unwrap();
}

pub async fn work_is_announced_across_processes(h: Harness) {
    let listening = h.store.listen_pg().await.unwrap();
    if h.engine == Engine::Sqlite {
        assert!(listening.is_none(), "SQLite has one process: no LISTEN");
        return;
    }
    let listener = listening.unwrap();
    let other = h.another_store().await;
    let a = administratie(&other, "a").await;
    other.put_relation(&a, &relation("r1", "1")).await.unwrap();
    other
        .set_relation_snelstart(&a, &rid("r1"), RelatieCode::from_i32(1))
        .await
        .unwrap();
    // Drain what setting up announced, then expect the wake-up for the next invoice.
    let wake = h.store.work_notify();
    let drain = || async {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        while tokio::time::timeout(std::time::Duration::from_millis(100), wake.notified())
            .await
            .is_ok()
        {}
    };
    drain().await;
    other
        .put_invoice(&a, &invoice("i1", "r1", InvoiceStatus::Final))
        .await
        .unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(5), wake.notified())
        .await
        .expect("another process's queued invoice wakes this one");
    drain().await;
    // A draft queues nothing and announces nothing.
    other
        .put_invoice(&a, &invoice("i2", "r1", InvoiceStatus::Draft))
        .await
        .unwrap();
    let quiet = tokio::time::timeout(std::time::Duration::from_millis(500), wake.notified())
        .await
        .is_err();
    // Closing the pool ends the listener, which gives its connection back.
    let closed = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        h.store.connection().clone().close(),
    )
    .await;
    let ended = tokio::time::timeout(std::time::Duration::from_secs(5), listener).await;
    assert!(quiet, "a draft announced work");
    assert!(closed.is_ok(), "the pool did not close with a listener");
    assert!(ended.is_ok(), "the listener did not end with its pool");
}

/// issue 13: `/relaties` is paged and searched by the database.
pub async fn relations_are_paged_and_searched_in_sql(h: Harness) {
    let s = &h.store;
    let a = administratie(s, "paged").await;
    for n in 0..250 {
        let mut r = relation(&format!("r{n}"), &format!("{:04}", n));
        r.name = if n % 50 == 0 {
            format!("Bakkerij_{n}%")
        } else {
            format!("Relatie {n}")
        };
        s.put_relation(&a, &r).await.unwrap();
    }
    let (first, total) = s.list_relations_page(&a, "", 1, 100).await.unwrap();
    assert_eq!((first.len(), total), (100, 250));
    assert_eq!(first[0].code, "0000");
    let (last, _) = s.list_relations_page(&a, "", 3, 100).await.unwrap();
    assert_eq!(last.len(), 50);
    assert_eq!(last[49].code, "0249");
    let (beyond, total) = s.list_relations_page(&a, "", 4, 100).await.unwrap();
    assert_eq!((beyond.len(), total), (0, 250));
    // Case-insensitive; `%` and `_` are literal characters, not wildcards.
    let (found, total) = s
        .list_relations_page(&a, "bakkerij_", 1, 100)
        .await
        .unwrap();
    assert_eq!((found.len(), total), (5, 5));
    let (found, _) = s.list_relations_page(&a, "_0%", 1, 100).await.unwrap();
    assert_eq!(found.len(), 1, "only Bakkerij_0% contains \"_0%\"");
    let (found, _) = s.list_relations_page(&a, "0123", 1, 100).await.unwrap();
    assert_eq!(found.len(), 1);
}
