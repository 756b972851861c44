//! Issue 14: pause reasons are stored as typed tokens; the sentences stored before are
//! converted by the migration and stay readable.

use koppeling_domain::pause::PauseReason;
use koppeling_domain::ports::roles::*;
use koppeling_radar360::Migrator;
use sea_orm::ConnectionTrait;
use sea_orm_migration::MigratorTrait;

use crate::helpers::{Harness, administratie};

pub async fn old_pause_sentences_are_converted_and_stay_readable(h: Harness) {
    let s = &h.store;
    let conn = s.connection();
    // Back to just before the migration that types the reasons.
    let after = Migrator::migrations()
        .iter()
        .rev()
        .position(|m| m.name() == "m20261205_f00001_pause_reasons")
        .expect("the migration exists");
    Migrator::down(conn, Some(u32::try_from(after + 1).unwrap()))
        .await
        .unwrap();
    let old = [
        (
            "a",
            "SnelStart weigert de koppelsleutel: HTTP 401: invalid_grant",
            false,
        ),
        (
            "b",
            "SnelStart weigert de subscription key van de koppeling (operator): 401",
            true,
        ),
        (
            "c",
            "sleutel onbruikbaar: de opgeslagen koppelsleutel kan met geen van de ingestelde master keys worden ontsleuteld; vul de koppelsleutel opnieuw in bij Instellingen",
            false,
        ),
        ("d", "de koppelsleutel is ingetrokken in SnelStart", false),
        (
            "e",
            "koppelsleutel ontvangen via SnelStart; de controles lopen",
            false,
        ),
        (
            "f",
            "de koppelsleutel is via SnelStart ontvangen, maar de controles slagen niet: vul het nummer van het verkoopdagboek in, meestal 1300",
            false,
        ),
        ("g", "iets anders van vroeger", false),
    ];
    for (code, problem, for_subscription) in old {
        let a = administratie(s, code).await;
        s.put_koppeling(&a, &Default::default(), None)
            .await
            .unwrap();
        conn.execute_unprepared(&format!(
            "UPDATE koppelingen SET paused = TRUE, problem = '{}', paused_for_subscription = {} \
             WHERE adm = '{code}'",
            problem.replace('\'', "''"),
            if for_subscription { "TRUE" } else { "FALSE" }
        ))
        .await
        .unwrap();
    }

    Migrator::up(conn, None).await.unwrap();

    let want = [
        ("a", PauseReason::KeyRefused),
        ("b", PauseReason::SubscriptionKeyRefused),
        ("c", PauseReason::KeyUnusable),
        ("d", PauseReason::KeyWithdrawn),
        ("e", PauseReason::ChecksRunning),
        (
            "f",
            PauseReason::ChecksFailed {
                detail: "vul het nummer van het verkoopdagboek in, meestal 1300".into(),
            },
        ),
        ("g", PauseReason::Recorded("iets anders van vroeger".into())),
    ];
    for (code, reason) in want {
        let adm = koppeling_domain::ids::AdministratieCode::parse(code).unwrap();
        let k = s.get_koppeling(&adm).await.unwrap().unwrap();
        assert_eq!(k.problem, Some(reason), "administratie {code}");
    }
    // Down and up again work on this engine.
    Migrator::down(conn, Some(1)).await.unwrap();
    Migrator::up(conn, None).await.unwrap();
    let adm = koppeling_domain::ids::AdministratieCode::parse("f").unwrap();
    assert!(matches!(
        s.get_koppeling(&adm).await.unwrap().unwrap().problem,
        Some(PauseReason::ChecksFailed { .. })
    ));
}
