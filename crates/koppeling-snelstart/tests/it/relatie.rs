//! Relaties: create, find by relatiecode, read-modify-write update, REL-0008, unknown countries.

use koppeling_domain::ports::{Accounting, AccountingError, Rejection};
use koppeling_domain::relation::RelatieCode;
use koppeling_snelstart::client::Target;
use serde_json::Value;

use crate::support::{env, relatie_data};

fn relatie_row<'a>(rows: &'a [Value], id: &str) -> &'a Value {
    rows.iter()
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("relatie {id} not in the sandbox"))
}

#[tokio::test]
async fn a_relatie_is_created_found_and_updated_keeping_what_we_do_not_manage() {
    let env = env().await;
    let code = RelatieCode::from_i32(1001).unwrap();
    assert_eq!(
        env.accounting.find_relatie(&env.conn, code).await.unwrap(),
        None
    );

    let id = env.klant(1001).await;
    let found = env
        .accounting
        .find_relatie(&env.conn, code)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, id);
    assert!(found.is_klant);
    assert!(!found.inactive);
    let state = env.sandbox.state(&env.key).unwrap();
    let row = relatie_row(&state.relaties, &id);
    assert_eq!(row["relatiecode"], 1001);
    assert_eq!(row["naam"], "Voorbeeld B.V.");
    assert_eq!(row["vestigingsAdres"]["plaats"], "Alkmaar");
    let land_nl = row["vestigingsAdres"]["land"]["id"].clone();
    assert!(land_nl.is_string());
    assert_eq!(row["iban"], "NL91ABNA0417164300");

    // Something we do not manage, set in SnelStart by the bookkeeper.
    let client = env.accounting.client();
    let target = Target {
        koppelsleutel: &env.key,
        partition: "kantoor-1",
    };
    let mut current = client.relatie_json(&target, &id).await.unwrap();
    current["memo"] = Value::from("betaalt altijd te laat");
    current["krediettermijn"] = Value::from(30);
    current["vestigingsAdres"]["contactpersoon"] = Value::from("Jan");
    client
        .put_relatie_json(&target, &id, &current)
        .await
        .unwrap();

    let mut changed = relatie_data(1001);
    changed.name = "Voorbeeld Holding B.V.".into();
    changed.phone = None;
    changed.city = Some("Hoorn".into());
    changed.country = "BE".into();
    env.accounting
        .update_relatie(&env.conn, &id, &changed)
        .await
        .unwrap();
    let state = env.sandbox.state(&env.key).unwrap();
    let row = relatie_row(&state.relaties, &id);
    assert_eq!(row["naam"], "Voorbeeld Holding B.V.");
    assert_eq!(row["vestigingsAdres"]["plaats"], "Hoorn");
    assert_eq!(row["vestigingsAdres"]["contactpersoon"], "Jan");
    assert!(row["vestigingsAdres"]["land"]["id"].is_string());
    assert_ne!(row["vestigingsAdres"]["land"]["id"], land_nl, "moved to BE");
    assert_eq!(row["memo"], "betaalt altijd te laat");
    assert_eq!(row["krediettermijn"], 30);
    assert_eq!(
        row["telefoon"], "0721234567",
        "an absent phone keeps SnelStart's"
    );
    assert_eq!(row["relatiesoort"], serde_json::json!(["Klant"]));
}

#[tokio::test]
async fn a_relatie_moved_abroad_gets_the_land_of_its_country() {
    let env = env().await;
    let nl = env.klant(1).await;
    let mut be = relatie_data(2);
    be.country = "be".into();
    let be = env.accounting.create_relatie(&env.conn, &be).await.unwrap();
    let state = env.sandbox.state(&env.key).unwrap();
    let land = |id: &str| relatie_row(&state.relaties, id)["vestigingsAdres"]["land"]["id"].clone();
    assert_ne!(land(&nl), land(&be));
    // /landen was fetched once for both.
    let metrics = env.accounting.metrics();
    assert_eq!(metrics.count("GET", "/landen", None), 1);
}

#[tokio::test]
async fn a_relatiecode_in_use_is_rejected_with_rel_0008() {
    let env = env().await;
    env.klant(1001).await;
    let err = env
        .accounting
        .create_relatie(&env.conn, &relatie_data(1001))
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            AccountingError::Rejected {
                rejection: Rejection::RelatiecodeTaken,
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn an_unknown_country_is_rejected_before_anything_is_written() {
    let env = env().await;
    let mut data = relatie_data(5);
    data.country = "XQ".into();
    let err = env
        .accounting
        .create_relatie(&env.conn, &data)
        .await
        .unwrap_err();
    let AccountingError::Rejected {
        rejection: Rejection::CountryUnknown { .. },
        message,
    } = &err
    else {
        panic!("{err:?}")
    };
    assert!(message.contains("XQ"), "{message}");
    assert_eq!(env.accounting.metrics().count("POST", "/relaties", None), 0);
}

#[tokio::test]
async fn updating_a_relatie_that_is_gone_is_rejected() {
    let env = env().await;
    let err = env
        .accounting
        .update_relatie(
            &env.conn,
            "00000000-0000-0000-0000-00000000abcd",
            &relatie_data(9),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, AccountingError::Rejected { .. }), "{err:?}");
}
