//! The Dutch admin UI: server-rendered pages for a logged-in Beheerder of one administratie.
//!
//! Every page needs a session (else a redirect to `/login`); every POST form carries the
//! session's CSRF token. A Beheerder only ever sees their own administratie: the
//! administratie comes from the session, never from the URL.

use axum::Router;
use axum::extract::rejection::{FormRejection, PathRejection};
use axum::extract::{Form, Path, Query, State};
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, LOCATION, SET_COOKIE,
    X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use koppeling_domain::app::App;
use koppeling_domain::ids::ResourceId;
use koppeling_domain::sync::ServiceError;
use std::collections::HashMap;

use crate::AppState;
use crate::auth::{constant_time_eq, dummy_hash, verify_password_bounded};

mod aansluiting;
mod facturen;
mod factuur;
pub(crate) mod html;
mod koppelingen;
mod lists;
mod relaties;
pub(crate) mod session;

use askama::Template;
use html::{Bare, Nav, Shell};
pub(crate) use session::Session;
use session::{clear_cookie, cookie, session_cookie};

/// The UI routes.
pub(crate) fn router<P>(state: AppState<P>) -> Router
where
    P: App,
{
    Router::new()
        .route("/", get(home::<P>))
        .route("/login", get(login_page::<P>).post(login::<P>))
        .route("/logout", post(logout::<P>))
        .route("/koppelingen", get(koppelingen::overview::<P>))
        .route(
            "/koppelingen/snelstart/activeren",
            post(koppelingen::activate::<P>),
        )
        .route(
            "/koppelingen/snelstart/deactiveren",
            post(koppelingen::deactivate::<P>),
        )
        .route(
            "/koppelingen/snelstart/instellingen",
            get(koppelingen::settings_page::<P>).post(koppelingen::save_settings::<P>),
        )
        .route(
            "/koppelingen/snelstart/koppelen",
            post(koppelingen::connect::<P>),
        )
        .route(
            "/koppelingen/snelstart/notificatie",
            get(koppelingen::notify_page::<P>).post(koppelingen::save_notify::<P>),
        )
        .route("/relaties", get(relaties::relations::<P>))
        .route(
            "/relaties/{id}/snelstart",
            post(relaties::set_snelstart::<P>),
        )
        .route("/facturen", get(facturen::invoices::<P>))
        .route("/facturen/{id}", get(factuur::invoice::<P>))
        .route("/facturen/{id}/opnieuw", post(factuur::retry::<P>))
        .route("/notificaties", get(lists::notifications::<P>))
        .route("/synclog", get(lists::sync_log::<P>))
        .route("/aansluiting", get(aansluiting::page::<P>))
        .route("/aansluiting.csv", get(aansluiting::csv::<P>))
        .with_state(state)
}

/// The submitted fields of a form, in order.
pub(crate) type Fields = Vec<(String, String)>;

/// A form body; an unreadable one counts as empty (and then fails the CSRF check).
pub(crate) type FormBody = Result<Form<Fields>, FormRejection>;

pub(crate) fn fields(form: FormBody) -> Fields {
    form.map(|Form(f)| f).unwrap_or_default()
}

/// The value of field `name` (the first, when repeated).
pub(crate) fn field<'a>(fields: &'a Fields, name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The query parameters.
pub(crate) type QueryMap = Query<HashMap<String, String>>;

/// An HTML answer with the UI's security headers.
pub(crate) fn html_response(status: StatusCode, body: String) -> Response {
    html_response_leading_to(status, body, None)
}

/// [`html_response`] whose forms may also lead to `origin` (the *Koppelen met SnelStart*
/// form is answered with a redirect to SnelStart's activation page, and browsers hold a
/// redirect after a form to the page's `form-action`).
pub(crate) fn html_response_leading_to(
    status: StatusCode,
    body: String,
    origin: Option<&str>,
) -> Response {
    let csp = format!(
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'{}; frame-ancestors 'none'; base-uri 'none'",
        origin.map(|o| format!(" {o}")).unwrap_or_default()
    );
    (
        status,
        [
            (CONTENT_TYPE, "text/html; charset=utf-8"),
            (CACHE_CONTROL, "no-store"),
            (X_FRAME_OPTIONS, "DENY"),
            (X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        [(CONTENT_SECURITY_POLICY, csp)],
        body,
    )
        .into_response()
}

/// 303 See Other to `to` (a local path).
pub(crate) fn redirect(to: &str) -> Response {
    (StatusCode::SEE_OTHER, [(LOCATION, to)]).into_response()
}

pub(crate) use session::current;

/// Whether the form carries the session's CSRF token.
pub(crate) fn csrf_ok(session: &Session, fields: &Fields) -> bool {
    field(fields, "csrf")
        .is_some_and(|token| constant_time_eq(token.as_bytes(), session.csrf.as_bytes()))
}

/// The answer to a POST whose CSRF token is missing or wrong.
pub(crate) fn csrf_refused(session: &Session) -> Response {
    message_page(
        session,
        StatusCode::FORBIDDEN,
        "Formulier verlopen",
        "Het formulier is verlopen of niet vanaf deze site verstuurd. Ga terug, vernieuw de pagina en probeer het opnieuw.",
    )
}

/// `templates/message.html`: a title and one message.
#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage<'a> {
    shell: Shell<'a>,
    text: &'a str,
}

/// A page with one message.
pub(crate) fn message_page(
    session: &Session,
    status: StatusCode,
    title: &str,
    text: &str,
) -> Response {
    html_response(
        status,
        html::render(&MessagePage {
            shell: Shell::new(session, Nav::Koppelingen, title),
            text,
        }),
    )
}

/// The `{id}` of a path, when it is a valid id.
fn path_id(path: Result<Path<String>, PathRejection>) -> Option<ResourceId> {
    path.ok().and_then(|Path(raw)| ResourceId::parse(&raw).ok())
}

/// 404 in the UI.
pub(crate) fn not_found_page(session: &Session, what: &str) -> Response {
    message_page(
        session,
        StatusCode::NOT_FOUND,
        "Niet gevonden",
        &format!("{what} bestaat niet in deze administratie."),
    )
}

/// A service failure that the page cannot show in place.
pub(crate) fn failure_page(session: &Session, error: ServiceError) -> Response {
    match error {
        ServiceError::NotFound(what) => not_found_page(session, &html::capitalize(&what.dutch())),
        ServiceError::Unavailable(message) => message_page(
            session,
            StatusCode::SERVICE_UNAVAILABLE,
            "SnelStart niet bereikbaar",
            &format!(
                "SnelStart is op dit moment niet bereikbaar ({message}). Probeer het later opnieuw."
            ),
        ),
        ServiceError::Busy(detail) => {
            tracing::warn!(error = %detail, "the database is busy; answered 503");
            busy_page(session)
        }
        ServiceError::Conflict { message, .. } => {
            message_page(session, StatusCode::CONFLICT, "Niet mogelijk", &message)
        }
        ServiceError::Invalid(problems) | ServiceError::ActivationFailed(problems) => {
            let text = problems
                .iter()
                .map(html::dutch)
                .collect::<Vec<_>>()
                .join(" ");
            message_page(
                session,
                StatusCode::UNPROCESSABLE_ENTITY,
                "Niet opgeslagen",
                &text,
            )
        }
        other => {
            let _ = crate::error::ApiError::internal(&other);
            message_page(
                session,
                StatusCode::INTERNAL_SERVER_ERROR,
                "Er ging iets mis",
                "Er ging iets mis aan onze kant; de fout is vastgelegd. Probeer het later opnieuw.",
            )
        }
    }
}

/// 503 in the UI when the database is busy, with `Retry-After`: nothing was saved.
pub(crate) fn busy_page(session: &Session) -> Response {
    with_retry_after(message_page(
        session,
        StatusCode::SERVICE_UNAVAILABLE,
        "Even geduld",
        "De database is op dit moment bezet, daardoor is er niets opgeslagen. Probeer het over een paar seconden opnieuw.",
    ))
}

/// Adds `Retry-After` (seconds) for a busy database.
fn with_retry_after(mut response: Response) -> Response {
    response.headers_mut().insert(
        axum::http::header::RETRY_AFTER,
        axum::http::HeaderValue::from(crate::error::BUSY_RETRY_AFTER_SECS),
    );
    response
}

/// `templates/not_found.html`.
#[derive(Template)]
#[template(path = "not_found.html")]
struct NotFoundPage<'a> {
    shell: Bare<'a>,
}

/// Any other path: a plain Dutch 404 page.
pub(crate) async fn not_found() -> Response {
    html_response(
        StatusCode::NOT_FOUND,
        html::render(&NotFoundPage {
            shell: Bare {
                title: "Niet gevonden",
            },
        }),
    )
}

async fn home<P: App>(State(state): State<AppState<P>>, headers: HeaderMap) -> Response {
    if current(&state, &headers).await.is_some() {
        redirect("/koppelingen")
    } else {
        redirect("/login")
    }
}

/// `templates/login.html`: the log-in form, with the e-mail address as typed, an error or a
/// notice.
#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    shell: Bare<'a>,
    token: &'a str,
    email: &'a str,
    error: Option<&'a str>,
    notice: Option<&'a str>,
}

fn login_form(token: &str, email: &str, error: Option<&str>, notice: Option<&str>) -> String {
    html::render(&LoginPage {
        shell: Bare { title: "Inloggen" },
        token,
        email,
        error,
        notice,
    })
}

/// The log-in form with a fresh double-submit token: the same random value in the form and
/// in a short-lived `SameSite=Strict` cookie. Nothing is stored until it is used.
fn login_response(
    secure: bool,
    status: StatusCode,
    email: &str,
    error: Option<&str>,
    notice: Option<&str>,
) -> Response {
    let token = session::random_token();
    let mut response = html_response(status, login_form(&token, email, error, notice));
    if let Ok(value) = HeaderValue::from_str(&session::login_cookie(&token, secure)) {
        response.headers_mut().append(SET_COOKIE, value);
    }
    response
}

async fn login_page<P: App>(
    State(state): State<AppState<P>>,
    headers: HeaderMap,
    Query(q): QueryMap,
) -> Response {
    if current(&state, &headers).await.is_some() {
        return redirect("/koppelingen");
    }
    let notice = q.contains_key("uitgelogd").then_some("U bent uitgelogd.");
    login_response(state.secure_cookies, StatusCode::OK, "", None, notice)
}

/// The client address of the request (see [`crate::client_ip`]).
pub(crate) struct ClientAddress(pub(crate) String);

impl<P> axum::extract::FromRequestParts<AppState<P>> for ClientAddress
where
    P: Send + Sync,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState<P>,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self(state.proxies.client(parts)))
    }
}

/// The page for a log-in that fails at our side (busy database or another error).
fn login_failure(secure: bool, email: &str, error: &ServiceError) -> Response {
    if let ServiceError::Busy(detail) = error {
        tracing::warn!(error = %detail, "the database is busy; answered 503");
        return with_retry_after(login_response(
            secure,
            StatusCode::SERVICE_UNAVAILABLE,
            email,
            Some("De database is op dit moment bezet; probeer het over een paar seconden opnieuw."),
            None,
        ));
    }
    let _ = crate::error::ApiError::internal(error);
    login_response(
        secure,
        StatusCode::INTERNAL_SERVER_ERROR,
        email,
        Some("Inloggen lukt nu niet door een fout aan onze kant; probeer het later opnieuw."),
        None,
    )
}

async fn login<P: App>(
    State(state): State<AppState<P>>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    form: FormBody,
) -> Response {
    let secure = state.secure_cookies;
    let fields = fields(form);
    let email = field(&fields, "email")
        .unwrap_or_default()
        .trim()
        .to_owned();
    let password = field(&fields, "password").unwrap_or_default().to_owned();
    // The double-submit check: the form's token must be the token of this browser's cookie,
    // and used only once (its hash is recorded in the shared store).
    let form_token = field(&fields, "csrf").unwrap_or_default();
    let cookie_token = cookie(&headers, session::login_cookie_name(secure)).unwrap_or_default();
    let token_ok =
        form_token.len() == 64 && constant_time_eq(form_token.as_bytes(), cookie_token.as_bytes());
    let token_fresh = if token_ok {
        match state
            .service
            .use_login_token(&session::digest("koppeling login token v1", form_token))
            .await
        {
            Ok(fresh) => fresh,
            Err(error) => return login_failure(secure, &email, &error),
        }
    } else {
        false
    };
    if !token_fresh {
        return login_response(
            secure,
            StatusCode::FORBIDDEN,
            &email,
            Some("Het formulier is verlopen; probeer het opnieuw."),
            None,
        );
    }
    let found = match state.service.find_admin_for_login(&email).await {
        Ok(found) => found,
        Err(error) => return login_failure(secure, &email, &error),
    };
    // Counted as a failure before Argon2 runs (a success takes it back), so that parallel
    // guesses cannot slip past the limit; a locked account or address runs no hash at all.
    // Unknown e-mails are throttled like known ones, so a 429 does not reveal an account.
    let account = koppeling_domain::auth::account_key(&email);
    let address_key = koppeling_domain::auth::address_key(&address);
    match state.service.login_attempt(&account, &address_key).await {
        Ok(None) => {}
        Ok(Some(wait)) => return too_many_attempts(secure, &email, wait),
        Err(error) => return login_failure(secure, &email, &error),
    }
    let hash = found
        .as_ref()
        .and_then(|(_, _, hash)| hash.clone())
        .unwrap_or_else(|| dummy_hash().to_owned());
    let verified = verify_password_bounded(password, hash).await;
    match found {
        Some((adm, admin, Some(_))) if verified => {
            if let Err(error) = state.service.login_succeeded(&account, &address_key).await {
                return login_failure(secure, &email, &error);
            }
            let id = session::random_token();
            if let Err(error) = state
                .service
                .start_session(session::session_hash(&id), adm, admin.id)
                .await
            {
                return login_failure(secure, &email, &error);
            }
            let mut response = redirect("/koppelingen");
            for value in [
                session_cookie(&id, secure),
                session::clear_login_cookie(secure),
            ] {
                if let Ok(value) = HeaderValue::from_str(&value) {
                    response.headers_mut().append(SET_COOKIE, value);
                }
            }
            response
        }
        _ => {
            // Already counted by `login_attempt`.
            login_response(
                secure,
                StatusCode::UNAUTHORIZED,
                &email,
                Some("Onjuist e-mailadres of wachtwoord."),
                None,
            )
        }
    }
}

/// 429 with `Retry-After`: the account or the address is locked after too many failures.
fn too_many_attempts(secure: bool, email: &str, wait: std::time::Duration) -> Response {
    let minutes = wait.as_secs().div_ceil(60).max(1);
    let mut response = login_response(
        secure,
        StatusCode::TOO_MANY_REQUESTS,
        email,
        Some(&format!(
            "Te veel pogingen om in te loggen. Probeer het over {minutes} {} opnieuw.",
            if minutes == 1 { "minuut" } else { "minuten" }
        )),
        None,
    );
    response.headers_mut().insert(
        axum::http::header::RETRY_AFTER,
        HeaderValue::from(wait.as_secs().max(1)),
    );
    response
}

async fn logout<P: App>(
    State(state): State<AppState<P>>,
    headers: HeaderMap,
    form: FormBody,
) -> Response {
    let fields = fields(form);
    if let Some(session) = current(&state, &headers).await {
        if !csrf_ok(&session, &fields) {
            return csrf_refused(&session);
        }
        if let Err(error) = state.service.end_session(&session.id_hash).await {
            return failure_page(&session, error);
        }
    }
    (
        StatusCode::SEE_OTHER,
        [
            (LOCATION, "/login?uitgelogd=1".to_owned()),
            (SET_COOKIE, clear_cookie(state.secure_cookies)),
        ],
    )
        .into_response()
}

/// A POST form of a logged-in Beheerder whose `csrf` field is the session's token: the
/// session and the submitted fields. Without a session: a redirect to `/login`; with a
/// wrong or missing token: the 403 "Formulier verlopen" page.
pub(crate) struct CsrfForm(pub(crate) Session, pub(crate) Fields);

impl<P> axum::extract::FromRequest<AppState<P>> for CsrfForm
where
    P: App,
{
    type Rejection = Response;

    async fn from_request(
        request: axum::extract::Request,
        state: &AppState<P>,
    ) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = request.into_parts();
        let session =
            <Session as axum::extract::FromRequestParts<_>>::from_request_parts(&mut parts, state)
                .await?;
        let request = axum::extract::Request::from_parts(parts, body);
        let form: FormBody =
            <Form<Fields> as axum::extract::FromRequest<()>>::from_request(request, &()).await;
        let submitted = fields(form);
        if !csrf_ok(&session, &submitted) {
            return Err(csrf_refused(&session));
        }
        Ok(Self(session, submitted))
    }
}
