//! Token endpoint (both grant types) and the two 401 vocabularies.

use serde_json::{Value, json};
use snelstart_sandbox::{DEFAULT_SUBSCRIPTION_KEY, SandboxConfig};

use crate::helpers::{Api, form_encode, key_for, start, token, token_response};

#[tokio::test]
async fn clientkey_and_password_grants_open_the_same_administration() {
    let sb = start(SandboxConfig::default()).await;
    // A key whose base64 contains '+' or '/' proves the form value is percent-decoded.
    let user = (0..200)
        .map(|i| format!("gebruiker{i}>?"))
        .find(|u| {
            let k = key_for(u);
            k.contains('+') || k.contains('/')
        })
        .expect("a key with + or /");
    let key = key_for(&user);
    let resp = token_response(
        &sb,
        format!("grant_type=clientkey&clientkey={}", form_encode(&key)),
    )
    .await;
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.expect("json");
    assert_eq!(v["token_type"], "bearer");
    assert_eq!(v["expires_in"], 3599);
    let t1 = v["access_token"].as_str().expect("token").to_owned();
    assert!(t1.len() >= 32);

    let resp = token_response(
        &sb,
        format!(
            "grant_type=password&username={}&password={}",
            form_encode(&user),
            form_encode("geheim-wachtwoord")
        ),
    )
    .await;
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.expect("json");
    let t2 = v["access_token"].as_str().expect("token").to_owned();
    assert_ne!(t1, t2);

    let http = reqwest::Client::new();
    let mut ids = Vec::new();
    for t in [&t1, &t2] {
        let v: Value = http
            .get(format!("{}/companyInfo", sb.api_url()))
            .header("Ocp-Apim-Subscription-Key", DEFAULT_SUBSCRIPTION_KEY)
            .header("Authorization", format!("bearer {t}"))
            .send()
            .await
            .expect("send")
            .json()
            .await
            .expect("json");
        ids.push(v["administratieIdentifier"].clone());
    }
    assert_eq!(ids[0], ids[1]);
    assert_eq!(sb.token_requests(), 2);
    assert_eq!(sb.call_count(&key), 2);
}

#[tokio::test]
async fn bad_or_missing_keys_get_400() {
    let sb = start(SandboxConfig::default()).await;
    for body in [
        "grant_type=clientkey&clientkey=not-a-key".to_owned(),
        "grant_type=clientkey".to_owned(),
        format!(
            "grant_type=clientkey&clientkey={}",
            form_encode("bm9jb2xvbg==")
        ),
    ] {
        let resp = token_response(&sb, body).await;
        assert_eq!(resp.status(), 400);
        let v: Value = resp.json().await.expect("json");
        assert_eq!(
            v["error"],
            "GrantType clientkey was found. Parameter clientkey does not contain a valid value"
        );
    }
    let resp = token_response(&sb, "grant_type=password&username=a&password=".into()).await;
    assert_eq!(resp.status(), 400);
}

#[tokio::test]
async fn configured_keys_refuse_others_until_added() {
    let k1 = key_for("een");
    let sb = start(SandboxConfig {
        keys: vec![k1.clone()],
        ..SandboxConfig::default()
    })
    .await;
    token(&sb, &k1).await;
    assert!(sb.state(&k1).is_some());
    let k2 = key_for("twee");
    let resp = token_response(
        &sb,
        format!("grant_type=clientkey&clientkey={}", form_encode(&k2)),
    )
    .await;
    assert_eq!(resp.status(), 400);
    sb.add_key(&k2);
    token(&sb, &k2).await;
    assert_ne!(
        sb.state(&k1).map(|s| s.administratie_identifier),
        sb.state(&k2).map(|s| s.administratie_identifier)
    );
}

#[tokio::test]
async fn subscription_key_and_bearer_401_bodies() {
    let sb = start(SandboxConfig::default()).await;
    let api = Api::open(&sb, "auth401").await;
    let http = reqwest::Client::new();
    let url = format!("{}/companyInfo", sb.api_url());

    let r = http
        .get(&url)
        .bearer_auth(&api.token)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 401);
    let v: Value = r.json().await.expect("json");
    assert_eq!(
        v,
        json!({"statusCode": 401, "message": "Access denied due to missing subscription key. Make sure to include subscription key when making requests to an API."})
    );

    let r = http
        .get(&url)
        .header("Ocp-Apim-Subscription-Key", "wrong")
        .bearer_auth(&api.token)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 401);
    let v: Value = r.json().await.expect("json");
    assert_eq!(
        v["message"],
        "Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription."
    );

    // Query parameter works as well.
    let r = http
        .get(format!("{url}?subscription-key={DEFAULT_SUBSCRIPTION_KEY}"))
        .bearer_auth(&api.token)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);

    for auth in [
        None,
        Some("Bearer nope".to_owned()),
        Some(format!("Basic {}", api.token)),
    ] {
        let mut rb = http
            .get(&url)
            .header("Ocp-Apim-Subscription-Key", DEFAULT_SUBSCRIPTION_KEY);
        if let Some(a) = auth {
            rb = rb.header("Authorization", a);
        }
        let r = rb.send().await.expect("send");
        assert_eq!(r.status(), 401);
        let v: Value = r.json().await.expect("json");
        assert_eq!(
            v,
            json!({"statusCode": 401, "message": "Authorization has been denied for this request."})
        );
    }
    // None of those reached the administration.
    assert_eq!(sb.call_count(&api.key), 1);
}

#[tokio::test]
async fn revoked_keys_and_expired_tokens() {
    let sb = start(SandboxConfig::default()).await;
    let api = Api::open(&sb, "revoke").await;
    assert_eq!(api.get("/companyInfo").await.0, 200);
    sb.revoke_key(&api.key);
    assert_eq!(api.get("/companyInfo").await.0, 401);
    let resp = token_response(
        &sb,
        format!("grant_type=clientkey&clientkey={}", form_encode(&api.key)),
    )
    .await;
    assert_eq!(resp.status(), 400);
    sb.restore_key(&api.key);
    // The old token stays invalid; a new one works and the data is kept.
    assert_eq!(api.get("/companyInfo").await.0, 401);
    let api = Api {
        token: token(&sb, &api.key).await,
        ..api
    };
    assert_eq!(api.get("/companyInfo").await.0, 200);
    sb.expire_tokens(&api.key);
    assert_eq!(api.get("/companyInfo").await.0, 401);
}

#[tokio::test]
async fn echo_and_unknown_routes() {
    let sb = start(SandboxConfig::default()).await;
    let api = Api::open(&sb, "echo").await;
    assert_eq!(api.get("/echo/hallo").await, (200, json!("hallo")));
    let (s, v) = api.get("/verkoopboekingen").await;
    assert_eq!(s, 404);
    assert_eq!(v["statusCode"], 404);
    let (s, v) = api.get("/relaties/not-a-guid").await;
    assert_eq!(s, 404);
    assert!(v["Message"].is_string());
}
