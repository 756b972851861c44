//! The HTTP edge (issue 13): the accept loop in front of the router.
//!
//! * a connection cap (`http.max_connections`): at the cap the loop stops accepting, so
//!   further connections wait in the kernel's backlog; the number of connection tasks is
//!   bounded;
//! * a header read timeout (`http.header_timeout_secs`): a connection that does not deliver
//!   a request's header in time is closed (hyper's `header_read_timeout`);
//! * a request timeout (`http.request_timeout_secs`): a request whose body does not arrive
//!   or whose handler does not finish in time is answered 408;
//! * a concurrency limit (`http.max_concurrent_requests`): beyond it a request is answered
//!   503 with `Retry-After: 1` at once (load shedding), except `/healthz` and `/metrics`;
//! * every request carries `ConnectInfo<SocketAddr>`, as axum's
//!   `into_make_service_with_connect_info` provides it;
//! * graceful shutdown: stop accepting, let in-flight requests finish (bounded).

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderValue, Request, Response, StatusCode, header};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tower::ServiceExt as _;

/// The limits of the edge, from `http.*`.
#[derive(Debug, Clone, Copy)]
pub struct EdgeConfig {
    /// `http.header_timeout_secs`.
    pub header_timeout: Duration,
    /// `http.request_timeout_secs`.
    pub request_timeout: Duration,
    /// `http.max_connections`.
    pub max_connections: usize,
    /// `http.max_concurrent_requests`.
    pub max_concurrent_requests: usize,
}

/// How long shutdown waits for in-flight requests beyond the request timeout.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Serves `router` on `listener` until `shutdown` resolves, then drains (bounded).
///
/// # Errors
/// None today; an accept error is logged and retried.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    config: EdgeConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let connections = Arc::new(Semaphore::new(config.max_connections.max(1)));
    let requests = Arc::new(Semaphore::new(config.max_concurrent_requests.max(1)));
    // Dropped by the loop on shutdown: every connection then shuts down gracefully.
    let (stop_tx, stop_rx) = watch::channel(());
    // Each connection holds a receiver; `closed()` resolves when all are gone.
    let (done_tx, done_rx) = watch::channel(());
    tokio::pin!(shutdown);
    loop {
        // At the cap, wait for a connection to end before accepting another.
        let permit = tokio::select! {
            permit = Arc::clone(&connections).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let requests = Arc::clone(&requests);
        let mut stop = stop_rx.clone();
        let done = done_rx.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request: Request<Incoming>| {
                handle(router.clone(), Arc::clone(&requests), config, peer, request)
            });
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(config.header_timeout);
            let connection = builder.serve_connection(TokioIo::new(stream), service);
            tokio::pin!(connection);
            tokio::select! {
                result = connection.as_mut() => {
                    if let Err(e) = result {
                        tracing::debug!(error = %e, %peer, "connection ended");
                    }
                }
                _ = stop.changed() => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.as_mut().await;
                }
            }
            drop(permit);
            drop(done);
        });
    }
    drop(listener);
    drop(stop_tx);
    drop(done_rx);
    let grace = config.request_timeout + SHUTDOWN_GRACE;
    if tokio::time::timeout(grace, done_tx.closed()).await.is_err() {
        tracing::warn!(
            waited_secs = grace.as_secs(),
            "shutdown: connections still open after the grace period; closing them"
        );
    }
    Ok(())
}

/// One request: shedding, `ConnectInfo`, the request timeout.
async fn handle(
    router: Router,
    requests: Arc<Semaphore>,
    config: EdgeConfig,
    peer: SocketAddr,
    request: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    let path = request.uri().path().to_owned();
    let exempt = path == "/healthz" || path == "/metrics";
    let permit = if exempt {
        None
    } else {
        match Arc::clone(&requests).try_acquire_owned() {
            Ok(permit) => Some(permit),
            Err(_) => return Ok(shed(&path)),
        }
    };
    let mut request = request.map(Body::new);
    request.extensions_mut().insert(ConnectInfo(peer));
    let answer = tokio::time::timeout(config.request_timeout, router.oneshot(request)).await;
    drop(permit);
    Ok(match answer {
        Ok(Ok(response)) => response,
        Ok(Err(never)) => match never {},
        Err(_) => timed_out(&path, config.request_timeout),
    })
}

/// 503 with `Retry-After: 1`: more requests in progress than `http.max_concurrent_requests`.
fn shed(path: &str) -> Response<Body> {
    let mut response = problem(
        path,
        StatusCode::SERVICE_UNAVAILABLE,
        "overloaded",
        "The service is handling as many requests as it allows; try again in a second.",
        "De dienst is even te druk; probeer het over een seconde opnieuw.",
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    response
}

/// 408: the body did not arrive or the answer was not ready within the request timeout.
fn timed_out(path: &str, limit: Duration) -> Response<Body> {
    let mut response = problem(
        path,
        StatusCode::REQUEST_TIMEOUT,
        "request_timeout",
        &format!(
            "The request was not complete within {} seconds; nothing of it was kept.",
            limit.as_secs()
        ),
        "Het verzoek duurde te lang; probeer het opnieuw.",
    );
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// The API's problem format under `/api`, a short Dutch text elsewhere.
fn problem(
    path: &str,
    status: StatusCode,
    code: &str,
    message: &str,
    dutch: &str,
) -> Response<Body> {
    let (content_type, body) = if path.starts_with("/api/") {
        (
            "application/json",
            serde_json::json!({ "error": code, "message": message }).to_string(),
        )
    } else {
        ("text/plain; charset=utf-8", format!("{dutch}\n"))
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}
