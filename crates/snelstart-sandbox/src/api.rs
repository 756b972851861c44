//! `/v2/...`: subscription key and bearer checks, faults, routing and the resource handlers.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::Response;
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use crate::admin::{Admin, Row};
use crate::betalingen::Kind::{Bank, Kas};
use crate::documenten::{self, DocType};
use crate::errors::{Violation, framework, gateway, violations_body};
use crate::input::{Obj, lowercase_keys};
use crate::json::{respond, respond_json, to_bytes};
use crate::odata::{self, Lit, Query, RowRef};
use crate::server::ConnKill;
use crate::state::{Shared, lock};
use crate::token::parse_form;
use crate::{betalingen, boekingen, mutaties, relaties, seed};

/// Maximum `$top` on the OData endpoints.
const MAX_TOP: usize = 500;

/// A handler's answer, serialized while the administration is locked.
pub struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
    /// A committed POST/PUT write (subject to the lost-response fault).
    pub write: bool,
}

impl Reply {
    pub fn json<T: Serialize + ?Sized>(status: u16, value: &T) -> Self {
        Self {
            status,
            body: to_bytes(value),
            write: false,
        }
    }

    pub fn write<T: Serialize + ?Sized>(status: u16, value: &T) -> Self {
        Self {
            status,
            body: to_bytes(value),
            write: true,
        }
    }

    pub fn raw(status: u16, body: Vec<u8>) -> Self {
        Self {
            status,
            body,
            write: false,
        }
    }

    pub fn raw_write(status: u16, body: Vec<u8>) -> Self {
        Self {
            status,
            body,
            write: true,
        }
    }

    pub fn violations(list: &[Violation]) -> Self {
        Self::json(400, &violations_body(list))
    }

    pub fn not_found(what: &str, id: Uuid) -> Self {
        Self::json(
            404,
            &framework(format!("De {what} met id '{id}' is niet gevonden.")),
        )
    }

    fn no_resource(path: &str) -> Self {
        Self::json(
            404,
            &framework(format!(
                "No HTTP resource was found that matches the request URI '{path}'."
            )),
        )
    }
}

#[derive(Debug)]
enum Route {
    CompanyInfo,
    PutCompanyInfo,
    Echo(String),
    Relaties,
    PostRelatie,
    Relatie(String),
    PutRelatie(String),
    DeleteRelatie(String),
    RelatieBoekingen(String),
    PostBoeking,
    Boeking(String),
    PutBoeking(String),
    DeleteBoeking(String),
    Facturen,
    Factuur(String),
    Grootboeken,
    Grootboek(String),
    Mutaties,
    Mutatie(String),
    Dagboeken,
    Landen,
    Land(String),
    BtwTarieven,
    /// `GET /bankboekingen` or `/kasboekingen`.
    Betalingen(betalingen::Kind),
    PostBetaling(betalingen::Kind),
    Betaling(betalingen::Kind, String),
    PutBetaling(betalingen::Kind, String),
    DeleteBetaling(betalingen::Kind, String),
    /// `POST /documenten/{documenttype}`.
    PostDocument(String),
    /// `GET /documenten/{documenttype}/{pid}`.
    Documents(String, String),
    Document(String),
    DeleteDocument(String),
}

/// Matches `/v2/...` case-insensitively; returns the route and its `"METHOD /v2/template"`.
fn route(method: &Method, rest: &str) -> Option<(Route, &'static str)> {
    let segs: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    let lower: Vec<String> = segs.iter().map(|s| s.to_ascii_lowercase()).collect();
    let l: Vec<&str> = lower.iter().map(String::as_str).collect();
    let id = |i: usize| segs.get(i).map(|s| (*s).to_owned()).unwrap_or_default();
    let m = method.as_str();
    Some(match (m, l.as_slice()) {
        ("GET", ["companyinfo"]) => (Route::CompanyInfo, "GET /v2/companyInfo"),
        ("PUT", ["companyinfo"]) => (Route::PutCompanyInfo, "PUT /v2/companyInfo"),
        ("GET", ["echo"]) => (Route::Echo(String::new()), "GET /v2/echo/{input}"),
        ("GET", ["echo", _]) => (
            Route::Echo(crate::token::percent_decode(id(1).as_bytes())),
            "GET /v2/echo/{input}",
        ),
        ("GET", ["relaties"]) => (Route::Relaties, "GET /v2/relaties"),
        ("POST", ["relaties"]) => (Route::PostRelatie, "POST /v2/relaties"),
        ("GET", ["relaties", _]) => (Route::Relatie(id(1)), "GET /v2/relaties/{id}"),
        ("PUT", ["relaties", _]) => (Route::PutRelatie(id(1)), "PUT /v2/relaties/{id}"),
        ("DELETE", ["relaties", _]) => (Route::DeleteRelatie(id(1)), "DELETE /v2/relaties/{id}"),
        ("GET", ["relaties", _, "verkoopboekingen"]) => (
            Route::RelatieBoekingen(id(1)),
            "GET /v2/relaties/{id}/verkoopboekingen",
        ),
        ("POST", ["verkoopboekingen"]) => (Route::PostBoeking, "POST /v2/verkoopboekingen"),
        ("GET", ["verkoopboekingen", _]) => {
            (Route::Boeking(id(1)), "GET /v2/verkoopboekingen/{id}")
        }
        ("PUT", ["verkoopboekingen", _]) => {
            (Route::PutBoeking(id(1)), "PUT /v2/verkoopboekingen/{id}")
        }
        ("DELETE", ["verkoopboekingen", _]) => (
            Route::DeleteBoeking(id(1)),
            "DELETE /v2/verkoopboekingen/{id}",
        ),
        ("GET", ["verkoopfacturen"]) => (Route::Facturen, "GET /v2/verkoopfacturen"),
        ("GET", ["verkoopfacturen", _]) => (Route::Factuur(id(1)), "GET /v2/verkoopfacturen/{id}"),
        ("GET", ["grootboeken"]) => (Route::Grootboeken, "GET /v2/grootboeken"),
        ("GET", ["grootboeken", _]) => (Route::Grootboek(id(1)), "GET /v2/grootboeken/{id}"),
        ("GET", ["grootboekmutaties"]) => (Route::Mutaties, "GET /v2/grootboekmutaties"),
        ("GET", ["grootboekmutaties", _]) => {
            (Route::Mutatie(id(1)), "GET /v2/grootboekmutaties/{id}")
        }
        ("GET", ["dagboeken"]) => (Route::Dagboeken, "GET /v2/dagboeken"),
        ("GET", ["landen"]) => (Route::Landen, "GET /v2/landen"),
        ("GET", ["landen", _]) => (Route::Land(id(1)), "GET /v2/landen/{id}"),
        ("GET", ["btwtarieven"]) => (Route::BtwTarieven, "GET /v2/btwtarieven"),
        ("GET", ["bankboekingen"]) => (Route::Betalingen(Bank), "GET /v2/bankboekingen"),
        ("POST", ["bankboekingen"]) => (Route::PostBetaling(Bank), "POST /v2/bankboekingen"),
        ("GET", ["bankboekingen", _]) => {
            (Route::Betaling(Bank, id(1)), "GET /v2/bankboekingen/{id}")
        }
        ("PUT", ["bankboekingen", _]) => (
            Route::PutBetaling(Bank, id(1)),
            "PUT /v2/bankboekingen/{id}",
        ),
        ("DELETE", ["bankboekingen", _]) => (
            Route::DeleteBetaling(Bank, id(1)),
            "DELETE /v2/bankboekingen/{id}",
        ),
        ("GET", ["kasboekingen"]) => (Route::Betalingen(Kas), "GET /v2/kasboekingen"),
        ("POST", ["kasboekingen"]) => (Route::PostBetaling(Kas), "POST /v2/kasboekingen"),
        ("GET", ["kasboekingen", _]) => (Route::Betaling(Kas, id(1)), "GET /v2/kasboekingen/{id}"),
        ("PUT", ["kasboekingen", _]) => {
            (Route::PutBetaling(Kas, id(1)), "PUT /v2/kasboekingen/{id}")
        }
        ("DELETE", ["kasboekingen", _]) => (
            Route::DeleteBetaling(Kas, id(1)),
            "DELETE /v2/kasboekingen/{id}",
        ),
        ("POST", ["documenten", _]) => (
            Route::PostDocument(id(1)),
            "POST /v2/documenten/{documenttype}",
        ),
        ("GET", ["documenten", _, _]) => (
            Route::Documents(id(1), id(2)),
            "GET /v2/documenten/{documenttype}/{pid}",
        ),
        ("GET", ["documenten", _]) => (Route::Document(id(1)), "GET /v2/documenten/{id}"),
        ("DELETE", ["documenten", _]) => {
            (Route::DeleteDocument(id(1)), "DELETE /v2/documenten/{id}")
        }
        _ => return None,
    })
}

const MISSING_KEY: &str = "Access denied due to missing subscription key. Make sure to include subscription key when making requests to an API.";
const INVALID_KEY: &str = "Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription.";
const DENIED: &str = "Authorization has been denied for this request.";

fn unauthorized(message: &str) -> Response {
    let mut r = respond_json(StatusCode::UNAUTHORIZED, &gateway(401, message));
    if message == DENIED {
        r.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    r
}

/// The parsed request body: `Null` when empty, `Err` when not JSON.
type Body = Result<Value, String>;

fn parse_body(bytes: &Bytes) -> Body {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    serde_json::from_slice::<Value>(bytes)
        .map(lowercase_keys)
        .map_err(|e| e.to_string())
}

pub async fn api(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    kill: Option<Extension<ConnKill>>,
    body: Bytes,
) -> Response {
    let path = uri.path();
    let rest = match path.get(..3) {
        Some(p)
            if p.eq_ignore_ascii_case("/v2")
                && matches!(path.as_bytes().get(3), None | Some(b'/')) =>
        {
            &path[3..]
        }
        _ => {
            return respond_json(StatusCode::NOT_FOUND, &gateway(404, "Resource not found"));
        }
    };
    let faults = shared.faults();
    if faults.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(faults.latency_ms)).await;
    }
    let params = uri
        .query()
        .map(|q| parse_form(q.as_bytes()))
        .unwrap_or_default();

    // 1. APIM: subscription key (header or query).
    let sub = headers
        .get("ocp-apim-subscription-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .or_else(|| {
            params
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("subscription-key"))
                .map(|(_, v)| v.trim())
                .filter(|s| !s.is_empty())
        });
    match sub {
        None => {
            shared.count_unauthorized();
            return unauthorized(MISSING_KEY);
        }
        Some(k) if !shared.subscription_key_ok(k) => {
            shared.count_unauthorized();
            return unauthorized(INVALID_KEY);
        }
        Some(_) => {}
    }

    // 2. Bearer token.
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim());
    let Some(admin) = token.and_then(|t| shared.token_admin(t)) else {
        shared.count_unauthorized();
        return unauthorized(DENIED);
    };

    // 3. Faults, counted per administration.
    let matched = route(&method, rest);
    let template = matched.as_ref().map_or("UNMATCHED", |(_, t)| *t);
    {
        let mut a = lock(&admin.inner);
        a.calls += 1;
        if a.last_token.as_deref() != token {
            if a.last_token.is_some() {
                a.token_switches += 1;
            }
            a.last_token = token.map(str::to_owned);
        }
        if let Some(limit) = faults.rate_limit_per_minute {
            let now = Instant::now();
            let window = Duration::from_secs(60);
            let (start, count) = match a.window {
                Some((s, c)) if now.duration_since(s) < window => (s, c),
                _ => (now, 0),
            };
            if count >= limit {
                let left = window.saturating_sub(now.duration_since(start));
                let secs = left.as_secs() + u64::from(left.subsec_nanos() > 0);
                let secs = secs.max(1);
                a.window = Some((start, count));
                a.count(template, 429);
                drop(a);
                let mut r = respond_json(
                    StatusCode::TOO_MANY_REQUESTS,
                    &gateway(
                        429,
                        format!("Rate limit is exceeded. Try again in {secs} seconds."),
                    ),
                );
                r.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(secs));
                return r;
            }
            a.window = Some((start, count + 1));
        }
    }
    // Hostile answers, each aimed and counted (README "Hostile answers").
    if let Some(f) = shared.fire(|f| &mut f.retry_after, template, &admin.key) {
        lock(&admin.inner).count(template, 429);
        let mut r = respond_json(
            StatusCode::TOO_MANY_REQUESTS,
            &gateway(
                429,
                format!("Rate limit is exceeded. Try again in {} seconds.", f.value),
            ),
        );
        if let Ok(value) = HeaderValue::from_bytes(f.value.as_bytes()) {
            r.headers_mut().insert(header::RETRY_AFTER, value);
        }
        return r;
    }
    if let Some(f) = shared.fire(|f| &mut f.redirect, template, &admin.key) {
        let status = StatusCode::from_u16(f.status)
            .ok()
            .filter(StatusCode::is_redirection)
            .unwrap_or(StatusCode::FOUND);
        lock(&admin.inner).count(template, status.as_u16());
        let mut r = respond(status, Vec::new());
        if let Ok(value) = HeaderValue::from_bytes(f.location.as_bytes()) {
            r.headers_mut().insert(header::LOCATION, value);
        }
        return r;
    }
    if shared.draw(faults.error_rate) {
        lock(&admin.inner).count(template, 503);
        return respond_json(
            StatusCode::SERVICE_UNAVAILABLE,
            &gateway(503, "Service Unavailable"),
        );
    }
    let Some((route, template)) = matched else {
        lock(&admin.inner).count(template, 404);
        return respond_json(StatusCode::NOT_FOUND, &gateway(404, "Resource not found"));
    };

    // 4. Scopes: a token without the operation's scope gets 403 (README §2.3).
    let missing = {
        let a = lock(&admin.inner);
        a.scopes.as_ref().and_then(|granted| {
            scopes_of(template)
                .iter()
                .find(|s| !granted.contains(**s))
                .copied()
        })
    };
    if let Some(scope) = missing {
        lock(&admin.inner).count(template, 403);
        return respond_json(
            StatusCode::FORBIDDEN,
            &framework(format!(
                "Authorization has been denied for this request: the token lacks the scope {scope}."
            )),
        );
    }

    // 5. The resource.
    let parsed = if matches!(method, Method::POST | Method::PUT) {
        parse_body(&body)
    } else {
        Ok(Value::Null)
    };
    let mut reply = {
        let mut a = lock(&admin.inner);
        let reply = handle(&mut a, route, &params, parsed, path);
        a.count(template, reply.status);
        reply
    };
    if (200..300).contains(&reply.status) {
        hostile_success(&shared, &mut reply, template, &admin.key);
    }
    if reply.write
        && faults
            .lost_response_route
            .as_deref()
            .is_none_or(|r| r == template)
        && shared.draw(faults.lost_response_rate)
        && let Some(Extension(kill)) = kill
    {
        // Committed, but the answer is lost: the connection task drops the socket.
        kill.0.notify_one();
        std::future::pending::<()>().await;
    }
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    respond(status, reply.body)
}

/// The hostile faults of a success answer: a committed write's id replaced, whitespace padding.
fn hostile_success(shared: &Shared, reply: &mut Reply, template: &str, key: &str) {
    if reply.write
        && let Some(f) = shared.fire(|f| &mut f.bad_id, template, key)
        && let Ok(Value::Object(mut body)) = serde_json::from_slice::<Value>(&reply.body)
    {
        body.insert("id".into(), f.id);
        reply.body = to_bytes(&Value::Object(body));
    }
    if let Some(f) = shared.fire(|f| &mut f.oversized, template, key) {
        let padding = usize::try_from(f.bytes.min(crate::MAX_PADDING)).unwrap_or(0);
        reply.body.resize(reply.body.len() + padding, b' ');
    }
}

/// The scopes an operation needs (SnelStart's OpenAPI descriptions, README §5).
pub fn scopes_of(template: &str) -> &'static [&'static str] {
    let (method, path) = template.split_once(' ').unwrap_or(("GET", template));
    let write = method != "GET";
    let path = path.trim_start_matches("/v2/");
    let resource = path.split('/').next().unwrap_or_default();
    match (resource, write) {
        ("relaties", _) if path.ends_with("/verkoopboekingen") => {
            &["relaties:read", "boekhouden:read"]
        }
        ("relaties", false) => &["relaties:read"],
        ("relaties", true) => &["relaties:write"],
        ("verkoopboekingen" | "grootboeken" | "dagboeken" | "grootboekmutaties", false) => {
            &["boekhouden:read"]
        }
        ("verkoopboekingen" | "grootboeken" | "dagboeken", true) => &["boekhouden:write"],
        ("verkoopfacturen", _) => &["orders:read"],
        ("bankboekingen", false) => &["bankieren:read"],
        ("bankboekingen", true) => &["bankieren:write"],
        ("kasboekingen", false) => &["kas:read"],
        ("kasboekingen", true) => &["kas:write"],
        ("documenten", false) => &["documenten:read"],
        ("documenten", true) => &["boekhouden:write", "documenten:write"],
        ("companyInfo" | "landen" | "btwtarieven", false) => &["settings:read"],
        ("companyInfo", true) => &["settings:write"],
        _ => &[],
    }
}

fn uuid_of(raw: &str) -> Option<Uuid> {
    Uuid::parse_str(raw.trim()).ok()
}

fn list<'a>(q: &Query, rows: impl Iterator<Item = RowRef<'a>>) -> Reply {
    Reply::raw(200, q.render(rows))
}

fn handle(
    a: &mut Admin,
    route: Route,
    params: &[(String, String)],
    body: Body,
    path: &str,
) -> Reply {
    let odata = |schema: &'static odata::Schema| {
        odata::parse_query(params, schema, MAX_TOP).map_err(|m| Reply::json(400, &framework(m)))
    };
    let with_id = |raw: &str, f: &mut dyn FnMut(Uuid) -> Reply| match uuid_of(raw) {
        Some(id) => f(id),
        None => Reply::no_resource(path),
    };
    match route {
        Route::CompanyInfo => Reply::json(200, &a.company),
        Route::PutCompanyInfo => match body {
            Ok(Value::Object(m)) => {
                match Obj(&m).bool("factureerbuitenlandsbtw") {
                    Ok(Some(b)) => {
                        if let Value::Object(c) = &mut a.company {
                            c.insert("factureerBuitenlandsBtw".into(), Value::Bool(b));
                        }
                    }
                    Ok(None) => {}
                    Err(e) => {
                        return Reply::json(400, &crate::errors::model_state(&e.field, &e.problem));
                    }
                }
                Reply::json(200, &a.company)
            }
            Ok(Value::Null) => Reply::violations(&[Violation::new("ALG-0106")]),
            _ => Reply::json(
                400,
                &crate::errors::model_state("companyInfo", "invalid JSON"),
            ),
        },
        Route::Echo(input) if input.is_empty() => Reply {
            status: 204,
            body: Vec::new(),
            write: false,
        },
        Route::Echo(input) => Reply::json(200, &input),
        Route::Relaties => match odata(&odata::RELATIE) {
            Err(r) => r,
            Ok(q) => match q.filter.as_ref().and_then(odata::Node::eq_hint) {
                Some(("relatiecode", Lit::Num(d, _))) => {
                    let hit = i32::try_from(d.mantissa())
                        .ok()
                        .filter(|_| d.scale() == 0)
                        .and_then(|c| a.relatie_codes.get(&c))
                        .and_then(|id| a.relaties.get(id));
                    list(&q, hit.into_iter().map(Row::row))
                }
                Some(("id", Lit::Guid(g))) => list(&q, a.relaties.get(g).into_iter().map(Row::row)),
                _ => list(&q, a.relaties.iter().map(Row::row)),
            },
        },
        Route::PostRelatie => match body {
            Ok(v) => relaties::create(a, &v),
            Err(e) => Reply::violations(&[Violation::with("REL-0066", e)]),
        },
        Route::Relatie(raw) => with_id(&raw, &mut |id| match a.relaties.get(&id) {
            Some(r) => Reply::raw(200, r.json.to_vec()),
            None => Reply::not_found("relatie", id),
        }),
        Route::PutRelatie(raw) => match body {
            Ok(v) => with_id(&raw, &mut |id| relaties::update(a, id, &v)),
            Err(e) => Reply::violations(&[Violation::with("REL-0066", e)]),
        },
        Route::DeleteRelatie(raw) => with_id(&raw, &mut |id| relaties::delete(a, id)),
        Route::RelatieBoekingen(raw) => with_id(&raw, &mut |id| {
            let rows: Vec<Vec<u8>> = a
                .boekingen
                .iter()
                .filter(|b| b.klant == id)
                .map(|b| documenten::boeking_with_documents(a, b.id, &b.json))
                .collect();
            Reply::raw(
                200,
                odata::render_array(rows.iter().map(|r| RowRef::Raw(r))),
            )
        }),
        Route::PostBoeking => match body {
            Ok(v) => boekingen::create(a, &v),
            Err(e) => Reply::json(400, &crate::errors::model_state("verkoopBoeking", &e)),
        },
        Route::Boeking(raw) => with_id(&raw, &mut |id| match a.boekingen.get(&id) {
            Some(b) => Reply::raw(200, documenten::boeking_with_documents(a, id, &b.json)),
            None => Reply::not_found("verkoopboeking", id),
        }),
        Route::PutBoeking(raw) => match body {
            Ok(v) => with_id(&raw, &mut |id| boekingen::update(a, id, &v)),
            Err(e) => Reply::json(400, &crate::errors::model_state("verkoopBoeking", &e)),
        },
        Route::DeleteBoeking(raw) => with_id(&raw, &mut |id| boekingen::delete(a, id)),
        Route::Facturen => match odata(&odata::VERKOOPFACTUUR) {
            Err(r) => r,
            Ok(q) => match q.filter.as_ref().and_then(odata::Node::eq_hint) {
                Some(("factuurnummer", Lit::Str(s))) => {
                    let hit = a
                        .factuurnummers
                        .get(s.as_str())
                        .and_then(|b| a.boekingen.get(b))
                        .and_then(|b| a.facturen.get(&b.factuur));
                    list(&q, hit.into_iter().map(Row::row))
                }
                Some(("id", Lit::Guid(g))) => list(&q, a.facturen.get(g).into_iter().map(Row::row)),
                _ => list(&q, a.facturen.iter().map(Row::row)),
            },
        },
        Route::Factuur(raw) => with_id(&raw, &mut |id| match a.facturen.get(&id) {
            Some(f) => Reply::raw(200, f.json.to_vec()),
            None => Reply::not_found("verkoopfactuur", id),
        }),
        Route::Grootboeken => match odata(&odata::GROOTBOEK) {
            Err(r) => r,
            Ok(q) => list(&q, a.grootboeken.iter().map(Row::row)),
        },
        Route::Grootboek(raw) => with_id(&raw, &mut |id| match a.grootboeken.get(&id) {
            Some(g) => Reply::json(200, &g.json),
            None => Reply::not_found("grootboek", id),
        }),
        Route::Mutaties => match odata(&odata::GROOTBOEKMUTATIE) {
            Err(r) => r,
            Ok(q) => {
                let rows = mutaties::rows(a);
                list(&q, rows.iter().map(RowRef::Json))
            }
        },
        Route::Mutatie(raw) => with_id(&raw, &mut |id| {
            let wanted = id.to_string();
            match mutaties::rows(a)
                .into_iter()
                .find(|m| m.get("id").and_then(Value::as_str) == Some(wanted.as_str()))
            {
                Some(m) => Reply::json(200, &m),
                None => Reply::not_found("grootboekmutatie", id),
            }
        }),
        Route::Dagboeken => Reply::raw(200, odata::render_array(a.dagboeken.iter().map(Row::row))),
        Route::Landen => {
            let rows: Vec<&Value> = seed::LANDEN_ROWS.iter().map(|l| &l.json).collect();
            Reply::json(200, &rows)
        }
        Route::Land(raw) => with_id(&raw, &mut |id| match seed::land(&id) {
            Some(l) => Reply::json(200, &l.json),
            None => Reply::not_found("land", id),
        }),
        Route::BtwTarieven => Reply::json(200, &*seed::BTWTARIEVEN),
        Route::Betalingen(kind) => match odata(match kind {
            Bank => &odata::BANKBOEKING,
            Kas => &odata::KASBOEKING,
        }) {
            Err(r) => r,
            Ok(q) => list(
                &q,
                match kind {
                    Bank => a.bankboekingen.iter(),
                    Kas => a.kasboekingen.iter(),
                }
                .map(Row::row),
            ),
        },
        Route::PostBetaling(kind) => match body {
            Ok(v) => betalingen::create(a, kind, &v),
            Err(e) => Reply::json(400, &crate::errors::model_state("boeking", &e)),
        },
        Route::Betaling(kind, raw) => with_id(&raw, &mut |id| match match kind {
            Bank => a.bankboekingen.get(&id),
            Kas => a.kasboekingen.get(&id),
        } {
            Some(row) => Reply::json(200, &row.json),
            None => Reply::not_found(
                match kind {
                    Bank => "bankboeking",
                    Kas => "kasboeking",
                },
                id,
            ),
        }),
        Route::PutBetaling(kind, raw) => match body {
            Ok(v) => with_id(&raw, &mut |id| betalingen::update(a, kind, id, &v)),
            Err(e) => Reply::json(400, &crate::errors::model_state("boeking", &e)),
        },
        Route::DeleteBetaling(kind, raw) => {
            with_id(&raw, &mut |id| betalingen::delete(a, kind, id))
        }
        Route::PostDocument(t) => match DocType::parse(&t) {
            None => Reply::no_resource(path),
            Some(doctype) => match body {
                Ok(v) => documenten::create(a, doctype, &v),
                Err(e) => Reply::json(400, &crate::errors::model_state("document", &e)),
            },
        },
        Route::Documents(t, raw) => match DocType::parse(&t) {
            None => Reply::no_resource(path),
            Some(doctype) => with_id(&raw, &mut |id| documenten::list(a, doctype, id)),
        },
        Route::Document(raw) => with_id(&raw, &mut |id| documenten::get(a, id)),
        Route::DeleteDocument(raw) => with_id(&raw, &mut |id| documenten::delete(a, id)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        let r = |m: Method, p: &str| route(&m, p).map(|(_, t)| t);
        assert_eq!(r(Method::GET, "/companyinfo"), Some("GET /v2/companyInfo"));
        assert_eq!(r(Method::GET, "/CompanyInfo"), Some("GET /v2/companyInfo"));
        assert_eq!(r(Method::GET, "/relaties/"), Some("GET /v2/relaties"));
        assert_eq!(
            r(Method::GET, "/relaties/abc/verkoopboekingen"),
            Some("GET /v2/relaties/{id}/verkoopboekingen")
        );
        assert_eq!(r(Method::GET, "/verkoopboekingen"), None);
        assert_eq!(r(Method::PATCH, "/relaties/x"), None);
    }
}
