//! The HTTP server: an accept loop over hyper connections (so a handler can drop its own connection for the lost-response fault) and the axum router.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::routing::{get, post};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;
use tower::ServiceExt;

use crate::state::Shared;
use crate::{api, control, couplings, token};

/// Per-connection handle a handler uses to drop the connection without answering.
#[derive(Clone)]
pub struct ConnKill(pub Arc<Notify>);

/// The largest request body read (bigger ones get axum's 413).
pub const MAX_BODY: usize = 32 * 1024 * 1024;

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/b2b/token", post(token::token))
        .route("/_sandbox/state", get(control::state))
        .route(
            "/_sandbox/faults",
            get(control::get_faults).put(control::put_faults),
        )
        .route("/_sandbox/keys/revoke", post(control::revoke))
        .route("/_sandbox/keys/restore", post(control::restore))
        .route("/_sandbox/keys/add", post(control::add))
        .route("/_sandbox/tokens/expire", post(control::expire_tokens))
        .route("/_sandbox/ledgers", post(control::ledger))
        .route("/_sandbox/stats", get(control::stats))
        .route("/_sandbox/scopes", post(control::scopes))
        .route("/_sandbox/accountant/edit", post(control::accountant_edit))
        .route(
            "/_sandbox/accountant/delete",
            post(control::accountant_delete),
        )
        .route(
            "/couplings/activate/{app}",
            get(couplings::consent_page).post(couplings::consent_approve),
        )
        .route(
            "/_sandbox/couplings/regenerate",
            post(couplings::regenerate),
        )
        .route("/_sandbox/couplings/delete", post(couplings::delete))
        .route("/_sandbox/couplings/deliveries", get(couplings::deliveries))
        .fallback(api::api)
        // A document of 10 MB is about 13.4 MB in base64; the limit leaves room to answer
        // BLG-0013 for content a little over 10 MB instead of a bare 413.
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY))
        .with_state(shared)
}

pub async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    let app = router(shared);
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _peer)) = accepted else {
                    // Out of file descriptors and the like: back off briefly.
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    continue;
                };
                let _ = stream.set_nodelay(true);
                conns.spawn(connection(stream, app.clone(), shutdown.clone()));
            }
            _ = shutdown.changed() => break,
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
    drop(listener);
    let drain = async { while conns.join_next().await.is_some() {} };
    if tokio::time::timeout(Duration::from_secs(2), drain)
        .await
        .is_err()
    {
        conns.abort_all();
        while conns.join_next().await.is_some() {}
    }
}

async fn connection(
    stream: tokio::net::TcpStream,
    app: Router,
    mut shutdown: watch::Receiver<bool>,
) {
    let kill = ConnKill(Arc::new(Notify::new()));
    let handle = kill.clone();
    let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
        req.extensions_mut().insert(handle.clone());
        let app = app.clone();
        async move { Ok::<_, Infallible>(app.oneshot(req).await.into_response_infallible()) }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    if *shutdown.borrow() {
        return;
    }
    tokio::select! {
        _ = conn.as_mut() => {}
        () = kill.0.notified() => {
            // Dropping the connection closes the socket with the response unsent.
        }
        _ = shutdown.changed() => {
            conn.as_mut().graceful_shutdown();
            tokio::select! {
                _ = conn.as_mut() => {}
                () = kill.0.notified() => {}
            }
        }
    }
}

trait IntoResponseInfallible {
    fn into_response_infallible(self) -> axum::response::Response;
}

impl IntoResponseInfallible for Result<axum::response::Response, Infallible> {
    fn into_response_infallible(self) -> axum::response::Response {
        match self {
            Ok(r) => r,
            Err(never) => match never {},
        }
    }
}
