//! `POST /b2b/token`: the OAuth-style token endpoint (`grant_type=clientkey` or `password`).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine;
use serde_json::json;

use crate::json::respond_json;
use crate::state::{Shared, TOKEN_TTL_SECS};

/// Decodes `application/x-www-form-urlencoded` (`+` is a space, `%XX` a byte).
pub fn parse_form(body: &[u8]) -> Vec<(String, String)> {
    body.split(|b| *b == b'&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let mut it = pair.splitn(2, |b| *b == b'=');
            let k = percent_decode(it.next().unwrap_or_default());
            let v = percent_decode(it.next().unwrap_or_default());
            (k, v)
        })
        .collect()
}

pub fn percent_decode(input: &[u8]) -> String {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        match input[i] {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' if i + 2 < input.len() => {
                let hex = |c: u8| (c as char).to_digit(16);
                match (hex(input[i + 1]), hex(input[i + 2])) {
                    (Some(h), Some(l)) => {
                        #[allow(clippy::cast_possible_truncation)]
                        out.push((h * 16 + l) as u8);
                        i += 3;
                    }
                    _ => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn error(text: &str) -> Response {
    respond_json(StatusCode::BAD_REQUEST, &json!({ "error": text }))
}

pub async fn token(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    shared.count_token_request();
    let form = parse_form(&body);
    let get = |name: &str| {
        form.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    let admin = match get("grant_type") {
        Some("clientkey") => match get("clientkey").and_then(|k| shared.admin_for_key(k)) {
            Some(a) => a,
            None => {
                return error(
                    "GrantType clientkey was found. Parameter clientkey does not contain a valid value",
                );
            }
        },
        Some("password") => {
            let key = match (get("username"), get("password")) {
                (Some(u), Some(p)) if !u.is_empty() && !p.is_empty() => {
                    base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))
                }
                _ => String::new(),
            };
            match shared.admin_for_key(&key) {
                Some(a) => a,
                None => {
                    return error(
                        "GrantType password was found. Parameters username and password do not contain a valid value",
                    );
                }
            }
        }
        Some(_) => return error("unsupported_grant_type"),
        None => return error("invalid_request"),
    };
    let access_token = shared.mint_token(admin);
    // The expires_in fault changes what is announced, not how long the token lives.
    let expires_in = shared
        .faults()
        .expires_in
        .unwrap_or_else(|| json!(TOKEN_TTL_SECS));
    respond_json(
        StatusCode::OK,
        &json!({
            "access_token": access_token,
            "token_type": "bearer",
            "expires_in": expires_in,
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_decoding() {
        let f = parse_form(b"grant_type=clientkey&clientkey=YWJj%2Bde%2F%3D%3D&x=a+b&y=%zz");
        assert_eq!(f[0], ("grant_type".into(), "clientkey".into()));
        assert_eq!(f[1].1, "YWJj+de/==");
        assert_eq!(f[2].1, "a b");
        assert_eq!(f[3].1, "%zz");
    }
}
