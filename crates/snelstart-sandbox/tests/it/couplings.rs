//! The activation flow: consent page, the webhook deliveries (once, no retry) and the
//! regenerate/delete control.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::http::StatusCode;
use axum::routing::post;
use serde_json::{Value, json};
use snelstart_sandbox::{Sandbox, SandboxConfig};

/// A webhook that records the bodies it gets and answers `status`.
async fn webhook(status: StatusCode) -> (String, Arc<Mutex<Vec<Value>>>) {
    let got = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&got);
    let app = Router::new().route(
        "/hook",
        post(move |body: Bytes| {
            let sink = Arc::clone(&sink);
            async move {
                sink.lock()
                    .unwrap()
                    .push(serde_json::from_slice::<Value>(&body).unwrap());
                status
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, got)
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn token_status(base: &str, key: &str) -> u16 {
    client()
        .post(format!("{base}/b2b/token"))
        .form(&[("grant_type", "clientkey"), ("clientkey", key)])
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn consent_delivers_create_once_and_control_regenerates_and_deletes() {
    // Arrange: a webhook that refuses, to show there is no retry.
    let (url, got) = webhook(StatusCode::INTERNAL_SERVER_ERROR).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sandbox = Sandbox::start(listener, SandboxConfig::default())
        .await
        .unwrap();
    sandbox.register_app("radar360", &url);
    let base = sandbox.base_url();
    let http = client();
    // Act: the consent page, then its form.
    let page = http
        .get(format!(
            "{base}/couplings/activate/radar360?referenceKey=ref-1&successUrl=http%3A%2F%2Fapp%2Fkoppelingen"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("name=\"referenceKey\" value=\"ref-1\""),
        "{html}"
    );
    let approve = http
        .post(format!("{base}/couplings/activate/radar360"))
        .form(&[
            ("referenceKey", "ref-1"),
            ("successUrl", "http://app/koppelingen"),
        ])
        .send()
        .await
        .unwrap();
    // Assert: 303 to successUrl whatever the webhook said; exactly one delivery.
    assert_eq!(approve.status(), 303);
    assert_eq!(approve.headers()["location"], "http://app/koppelingen");
    let bodies = got.lock().unwrap().clone();
    assert_eq!(bodies.len(), 1, "no retry: {bodies:?}");
    assert_eq!(bodies[0]["ActionType"], "Create");
    assert_eq!(bodies[0]["ReferenceKey"], "ref-1");
    let key = bodies[0]["KoppelSleutel"].as_str().unwrap().to_owned();
    assert_eq!(token_status(&base, &key).await, 200);
    let listed: Vec<Value> = http
        .get(format!("{base}/_sandbox/couplings/deliveries"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["status"], 500);

    // Regenerate: the old key stops working, the new one is delivered and opens the same
    // administration (its identifier and name move along).
    let identifier = sandbox.state(&key).unwrap().administratie_identifier;
    let new: Value = http
        .post(format!("{base}/_sandbox/couplings/regenerate"))
        .json(&json!({ "key": key }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let new_key = new["key"].as_str().unwrap().to_owned();
    assert_ne!(token_status(&base, &key).await, 200);
    assert_eq!(token_status(&base, &new_key).await, 200);
    let bodies = got.lock().unwrap().clone();
    assert_eq!(bodies[1]["ActionType"], "Regenerate");
    assert_eq!(bodies[1]["KoppelSleutel"], new_key.as_str());
    assert_eq!(bodies[1]["ReferenceKey"], "ref-1");
    assert_eq!(
        sandbox.state(&new_key).unwrap().administratie_identifier,
        identifier
    );

    // Delete: the key stops working and Delete is delivered.
    let del = http
        .post(format!("{base}/_sandbox/couplings/delete"))
        .json(&json!({ "key": new_key }))
        .send()
        .await
        .unwrap();
    assert_eq!(del.status(), 200);
    assert_ne!(token_status(&base, &new_key).await, 200);
    let bodies = got.lock().unwrap().clone();
    assert_eq!(bodies.len(), 3);
    assert_eq!(bodies[2]["ActionType"], "Delete");
    assert_eq!(sandbox.deliveries().len(), 3);
}

#[tokio::test]
async fn an_unknown_app_or_a_missing_reference_is_refused() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sandbox = Sandbox::start(listener, SandboxConfig::default())
        .await
        .unwrap();
    sandbox.register_app("radar360", "http://127.0.0.1:9/hook");
    let base = sandbox.base_url();
    let unknown = client()
        .get(format!(
            "{base}/couplings/activate/other?referenceKey=r&successUrl=http%3A%2F%2Fa"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    let long = "r".repeat(501);
    let too_long = client()
        .get(format!(
            "{base}/couplings/activate/radar360?referenceKey={long}&successUrl=http%3A%2F%2Fa"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(too_long.status(), 400);
    assert!(sandbox.deliveries().is_empty());
}
