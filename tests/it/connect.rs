//! The activation link (product §8.1, issue 16): `connect` makes the activation URL, and the
//! sandbox's consent page delivers the key to the webhook once.

use crate::helpers::{Db, spawn_app, spawn_app_with};

#[tokio::test]
async fn connect_is_unavailable_without_an_app_short_name() {
    let app = spawn_app(Db::Sqlite).await.unwrap();
    app.setup_administratie("kantoor").await;
    let (status, body) = app
        .post("/administraties/kantoor/integrations/snelstart/connect")
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"], "connect_unavailable", "{body}");
    app.stop().await;
}

#[tokio::test]
async fn connect_sends_the_browser_through_the_consent_page_and_back() {
    // Arrange
    let app = spawn_app_with(Db::Sqlite, |s| {
        s.snelstart.app_short_name = Some("radar360".to_owned());
        s.snelstart.activation_url = s.snelstart.api_url.replace("/v2", "/couplings/activate");
    })
    .await
    .unwrap();
    app.sandbox
        .register_app("radar360", &format!("{}/webhooks/snelstart", app.base));
    app.setup_administratie("kantoor").await;
    // Act
    let (status, body) = app
        .post("/administraties/kantoor/integrations/snelstart/connect")
        .await;
    // Assert: the URL carries a fresh 256-bit reference and the way back.
    assert_eq!(status, 200, "{body}");
    let url = body["activation_url"].as_str().unwrap().to_owned();
    let prefix = format!(
        "{}/couplings/activate/radar360?referenceKey=",
        app.sandbox.base_url()
    );
    assert!(url.starts_with(&prefix), "{url}");
    let (reference, success) = url[prefix.len()..].split_once("&successUrl=").unwrap();
    assert_eq!(reference.len(), 64);
    assert!(
        success.ends_with("%2Fkoppelingen%3Fgekoppeld%3Dsnelstart"),
        "{success}"
    );
    let expires: chrono::DateTime<chrono::Utc> = body["reference_expires_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let hours = (expires - chrono::Utc::now()).num_minutes();
    println!("reference expires in {hours} minutes");
    assert!((23 * 60..=24 * 60).contains(&hours), "{hours}");
    let (_, again) = app
        .post("/administraties/kantoor/integrations/snelstart/connect")
        .await;
    assert_ne!(again["activation_url"], body["activation_url"]);

    // The consent page and its form, as a browser would.
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = browser.get(&url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let success_url = decode(success);
    let approve = browser
        .post(format!(
            "{}/couplings/activate/radar360",
            app.sandbox.base_url()
        ))
        .form(&[
            ("referenceKey", reference),
            ("successUrl", success_url.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(approve.status(), 303);
    assert_eq!(approve.headers()["location"], success_url.as_str());
    let deliveries = app.sandbox.deliveries();
    assert_eq!(deliveries.len(), 1);
    assert_eq!(deliveries[0].body["ActionType"], "Create");
    assert_eq!(deliveries[0].body["ReferenceKey"], reference);
    app.stop().await;
}

#[tokio::test]
async fn connect_for_an_unknown_administratie_is_404() {
    let app = spawn_app_with(Db::Sqlite, |s| {
        s.snelstart.app_short_name = Some("radar360".to_owned());
    })
    .await
    .unwrap();
    let (status, body) = app
        .post("/administraties/nergens/integrations/snelstart/connect")
        .await;
    assert_eq!(status, 404, "{body}");
    app.stop().await;
}

/// Percent-decoding of what `connect` encodes.
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            out.push(u8::from_str_radix(&text[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}
