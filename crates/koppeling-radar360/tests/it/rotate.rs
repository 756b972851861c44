//! Master key rotation (issue 13): previous keys decrypt, `rotate_keys` rewrites every
//! koppelsleutel under the current key, and a key no configured master key opens is
//! "unusable" rather than an error.

use koppeling_domain::koppeling::{ConnectionKey, KoppelingSettings};
use koppeling_domain::ports::roles::*;
use koppeling_radar360::cipher::key_id;
use koppeling_radar360::{RotateReport, SeaOrmStore};
use sea_orm::{ConnectionTrait, Statement};

use crate::helpers::{Harness, MASTER_KEY, administratie};

const NEW_KEY: [u8; 32] = [77; 32];

async fn stored_ids(store: &SeaOrmStore) -> Vec<(String, String)> {
    let conn = store.connection();
    let rows = conn
        .query_all_raw(Statement::from_string(
            conn.get_database_backend(),
            "SELECT adm, key_enc FROM koppelingen WHERE key_enc IS NOT NULL ORDER BY adm",
        ))
        .await
        .unwrap();
    rows.iter()
        .map(|r| {
            let adm: String = r.try_get("", "adm").unwrap();
            let enc: String = r.try_get("", "key_enc").unwrap();
            (adm, enc.split(':').nth(1).unwrap().to_owned())
        })
        .collect()
}

pub async fn keys_rotate_to_the_current_master_key(h: Harness) {
    // Arrange: three koppelsleutels written under the old key (the harness's MASTER_KEY).
    let old = &h.store;
    let mut adms = Vec::new();
    for code in ["a", "b", "c"] {
        let a = administratie(old, code).await;
        old.put_koppeling(
            &a,
            &KoppelingSettings::default(),
            Some(ConnectionKey::new(format!("sleutel-{code}")).unwrap()),
        )
        .await
        .unwrap();
        adms.push(a);
    }
    let rotated = SeaOrmStore::connect(&h.url, NEW_KEY)
        .await
        .unwrap()
        .with_previous_keys([MASTER_KEY]);

    // Before: readable with the old key as a previous one.
    for (a, code) in adms.iter().zip(["a", "b", "c"]) {
        let k = rotated.get_koppeling(a).await.unwrap().unwrap();
        assert_eq!(k.key.unwrap().expose(), format!("sleutel-{code}"));
        assert!(!k.key_unusable);
    }

    // Act
    let first = rotated.rotate_keys().await.unwrap();
    let second = rotated.rotate_keys().await.unwrap();

    // Assert: all rewritten once, then nothing to do; readable with the new key alone.
    assert_eq!(
        first,
        RotateReport {
            rotated: 3,
            current: 0,
            unusable: vec![]
        }
    );
    assert_eq!(
        second,
        RotateReport {
            rotated: 0,
            current: 3,
            unusable: vec![]
        }
    );
    let new_id = key_id(&NEW_KEY);
    assert!(
        stored_ids(&rotated)
            .await
            .iter()
            .all(|(_, id)| *id == new_id),
        "{:?}",
        stored_ids(&rotated).await
    );
    let alone = SeaOrmStore::connect(&h.url, NEW_KEY).await.unwrap();
    for a in &adms {
        assert!(alone.get_koppeling(a).await.unwrap().unwrap().key.is_some());
    }

    // A key no configured master key opens: unusable, reported, never an error.
    let stranger = SeaOrmStore::connect(&h.url, [5; 32]).await.unwrap();
    let k = stranger.get_koppeling(&adms[0]).await.unwrap().unwrap();
    assert!(k.key.is_none() && k.key_unusable);
    let report = stranger.rotate_keys().await.unwrap();
    assert_eq!(report.unusable, ["a", "b", "c"]);
    assert_eq!(report.rotated + report.current, 0);
    // Nothing was changed by the failed run.
    assert!(stored_ids(&alone).await.iter().all(|(_, id)| *id == new_id));
}
