//! The activation link's references: stored by hash, bound to one administratie.

use chrono::{Duration, Utc};
use koppeling_domain::connect::{ReferenceKey, expires_at};
use koppeling_domain::ids::AdministratieCode;
use koppeling_domain::ports::StoreError;
use sea_orm::{ConnectionTrait, Statement};

use crate::helpers::{Harness, administratie};

pub async fn references_are_stored_hashed_and_bound_to_their_administratie(h: Harness) {
    let s = &h.store;
    let a = administratie(s, "link-a").await;
    let b = administratie(s, "link-b").await;
    let ra = ReferenceKey::generate();
    let rb = ReferenceKey::generate();
    let until = expires_at(Utc::now());
    s.add_reference(&a, &ra.hash(), until).await.unwrap();
    s.add_reference(&b, &rb.hash(), until).await.unwrap();
    let found = s.find_reference(&ra.hash()).await.unwrap().unwrap();
    assert_eq!(found.administratie, a);
    assert_eq!(found.status, "pending");
    assert!((found.expires_at - until).abs() < Duration::seconds(1));
    assert_eq!(
        s.find_reference(&rb.hash())
            .await
            .unwrap()
            .unwrap()
            .administratie,
        b
    );
    assert!(
        s.find_reference(&ReferenceKey::generate().hash())
            .await
            .unwrap()
            .is_none()
    );
    let unknown = AdministratieCode::parse("nope").unwrap();
    assert!(matches!(
        s.add_reference(&unknown, &ReferenceKey::generate().hash(), until)
            .await,
        Err(StoreError::NotFound(_))
    ));
    // The reference itself is nowhere in the table.
    let conn = s.connection();
    let rows = conn
        .query_all_raw(Statement::from_string(
            conn.get_database_backend(),
            "SELECT ref_hash FROM connect_references",
        ))
        .await
        .unwrap();
    for row in rows {
        let stored: String = row.try_get("", "ref_hash").unwrap();
        assert_ne!(stored, ra.expose());
        assert_ne!(stored, rb.expose());
    }
}
