//! tessera-api: the HTTPS verification and management API.
//!
//! It owns the server (axum on rustls with ring as the one crypto provider), the local CA and
//! certificate ([`tls`]), finding a token in a request ([`auth`]), the per-request gate
//! ([`gate`], run by the middleware over every route and, for a plain `GET /v1/me`, by each
//! connection's service before the router), the rate limit ([`ratelimit`]), batched usage
//! recording ([`usage`]), the routes ([`routes`], listed once in [`catalog`]), and the
//! OpenAPI and Postman documents built from that list. Every rule about tokens, users and
//! rights is the core's ([`tessera_core`]).

pub mod auth;
pub mod bench;
pub mod catalog;
pub mod error;
pub mod extract;
pub mod gate;
pub mod openapi;
pub mod postman;
pub mod ratelimit;
pub mod routes;
pub mod tls;
pub mod usage;

use std::borrow::Cow;
use std::convert::Infallible;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{ConnectInfo, DefaultBodyLimit, Request, State};
use axum::http::header::{
    HeaderValue, CACHE_CONTROL, CONTENT_LENGTH, TRANSFER_ENCODING, X_CONTENT_TYPE_OPTIONS,
};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post, put};
use axum::{BoxError, Router};
use axum_server::tls_rustls::RustlsConfig;
use tessera_core::{Error, Tessera};
use tokio::task::JoinHandle;

use crate::error::ApiError;
use crate::ratelimit::RateLimits;
use crate::usage::{Agents, UsageSender, UsageWriter};

/// Largest request body accepted (413 beyond).
pub const BODY_LIMIT: usize = 64 * 1024;
/// Largest request head (request line and headers) accepted; hyper answers 431 beyond.
pub const HEAD_LIMIT: usize = 8 * 1024;
/// A request with a body must arrive and be answered within this.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// A connection must send its request head within this (slow clients are cut off).
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// In-flight requests get this long to finish on shutdown.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Where and how to serve.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The address to listen on; loopback unless the operator asks otherwise.
    pub listen: SocketAddr,
    /// Where the CA and leaf certificate live (the data dir).
    pub data_dir: PathBuf,
}

/// How long a client may take, so a slow or stalled one cannot hold the server: the TLS
/// handshake and each request head within `header`, a whole request (body included) and its
/// answer within `request`. [`start`] uses the defaults; tests pass shorter ones to
/// [`start_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// For the TLS handshake, for the first request to begin, and for each request head.
    pub header: Duration,
    /// For a request with a body to arrive whole and be answered (408 beyond).
    pub request: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            header: HEADER_TIMEOUT,
            request: REQUEST_TIMEOUT,
        }
    }
}

/// What every handler can reach. One reference count to clone per request.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

/// The state behind [`AppState`].
pub struct Shared {
    pub tessera: Tessera,
    pub usage: UsageSender,
    pub agents: Agents,
    pub me_answers: routes::MeAnswers,
    pub limits: RateLimits,
    /// The catalog's `GET /v1/me`, which each connection's service answers without the router.
    pub me_route: Option<&'static catalog::RouteSpec>,
    /// The `request` timeout, applied by the front middleware.
    pub request_timeout: Duration,
}

impl AppState {
    pub fn new(tessera: Tessera, usage: UsageSender, request_timeout: Duration) -> Self {
        Self(Arc::new(Shared {
            tessera,
            usage,
            agents: Agents::default(),
            me_answers: routes::MeAnswers::default(),
            limits: RateLimits::default(),
            me_route: catalog::find("GET", "/v1/me"),
            request_timeout,
        }))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// A server running in this process.
pub struct RunningServer {
    pub addr: SocketAddr,
    /// SHA-256 fingerprint of the CA certificate, colon-separated upper-case hex.
    pub fingerprint: String,
    handle: axum_server::Handle<SocketAddr>,
    server: JoinHandle<std::io::Result<()>>,
    /// None for the benchmark baseline ([`bench::serve_ok`]), which records nothing.
    usage: Option<UsageWriter>,
    /// Tells the instance heartbeat (PostgreSQL) to leave the count.
    leave: Option<tokio::sync::watch::Sender<bool>>,
}

impl RunningServer {
    /// Stop accepting, finish in-flight requests, flush pending usage.
    pub async fn shutdown(self) {
        self.handle.graceful_shutdown(Some(SHUTDOWN_GRACE));
        match self.server.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "the API server stopped with an error"),
            Err(e) => tracing::error!(error = %e, "the API server task failed"),
        }
        if let Some(usage) = self.usage {
            usage.shutdown().await;
        }
        if let Some(leave) = self.leave {
            let _ = leave.send(true);
        }
    }
}

pub type Result<T> = std::result::Result<T, tessera_core::Error>;

/// The routes, the gate and the error shape; no TLS. Public so tests and benchmarks can
/// drive it in-process.
pub fn router(state: AppState) -> Router {
    use routes::{clients, leaks, oauth, sessions, tokens, users};
    Router::new()
        .route("/healthz", get(routes::health))
        .route("/openapi.json", get(routes::openapi))
        .route("/v1/me", get(routes::me))
        .route("/v1/verify", post(routes::verify))
        .route("/v1/explain", post(routes::explain))
        .route("/v1/tokens", get(tokens::list).post(tokens::create))
        .route(
            "/v1/tokens/{id}",
            get(tokens::get)
                .patch(tokens::update)
                .delete(tokens::delete),
        )
        .route("/v1/tokens/{id}/revoke", post(tokens::revoke))
        .route("/v1/tokens/{id}/deactivate", post(tokens::deactivate))
        .route("/v1/tokens/{id}/activate", post(tokens::activate))
        .route("/v1/tokens/{id}/rotate", post(tokens::rotate))
        .route("/v1/tokens/{id}/rotation", get(tokens::rotation))
        .route("/v1/tokens/{id}/sources", get(tokens::sources))
        .route("/v1/tokens/{id}/report", get(tokens::report))
        .route("/v1/tokens/bulk", post(tokens::bulk))
        .route(
            "/v1/tokens/{id}/rotation/finish",
            post(tokens::finish_rotation),
        )
        .route("/v1/tokens/{id}/usage", get(tokens::usage))
        .route("/v1/users", get(users::list).post(users::create))
        .route("/v1/users/{id}/deactivate", post(users::deactivate))
        .route("/v1/users/{id}/reactivate", post(users::reactivate))
        .route("/v1/users/{id}/role-change", get(users::role_preview))
        .route(
            "/v1/users/{id}/deactivation",
            get(users::deactivation_preview),
        )
        .route("/v1/users/{id}/role", put(users::set_role))
        .route("/v1/audit", get(routes::audit))
        .route("/v1/dashboard", get(routes::dashboard))
        .route("/v1/changes", get(routes::changes))
        .route(
            "/v1/dashboard/honeytoken-alerts/acknowledge",
            post(routes::acknowledge_honeytokens),
        )
        .route("/v1/policy", get(routes::policy).put(sessions::set_policy))
        .route("/v1/scopes", get(routes::scopes).post(sessions::add_scope))
        .route("/v1/leaks/identify", post(leaks::identify))
        .route("/v1/leaks/revoke", post(leaks::revoke))
        .route("/v1/sessions", post(sessions::sign_in))
        .route(
            "/v1/sessions/current",
            get(sessions::current).delete(sessions::sign_out),
        )
        .route("/v1/profile", patch(sessions::update_profile))
        .route("/v1/notices/take", post(sessions::take_notices))
        .route("/v1/profile/password", post(sessions::change_password))
        .route(
            "/v1/profile/token",
            get(sessions::user_token).post(sessions::regenerate_user_token),
        )
        .route("/v1/audit/export", get(routes::audit_export))
        .route("/v1/clients", get(clients::list).post(clients::create))
        .route(
            "/v1/clients/{id}",
            get(clients::get).delete(clients::delete),
        )
        .route("/v1/clients/{id}/disable", post(clients::disable))
        .route("/v1/clients/{id}/enable", post(clients::enable))
        .route("/v1/clients/{id}/secrets", post(clients::rotate_secret))
        .route(
            "/v1/clients/{id}/secrets/{secret}",
            axum::routing::delete(clients::retire_secret),
        )
        .route("/oauth/token", post(oauth::token))
        .route("/oauth/introspect", post(oauth::introspect))
        .route("/oauth/revoke", post(oauth::revoke))
        .route(
            "/.well-known/oauth-authorization-server",
            get(oauth::metadata),
        )
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        // One middleware, not a stack of them: each layer costs a boxed future and a clone
        // of the inner service on every request.
        .layer(middleware::from_fn_with_state(state.clone(), front))
        .with_state(state)
}

/// The one middleware over every route (fallback included), in this order: refuse a
/// declared body over the limit before anything reads it; bound the time a request with a
/// body may take; pass the gate ([`gate::gate`]: token, rate limit, scope; public routes pass
/// through); give every error our JSON shape ([`error::normalize`]); and [`seal`] the answer.
async fn front(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let body = declared_body(req.headers());
    let mut res = if body.length.is_some_and(|n| n > BODY_LIMIT as u64) {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            "the request body is larger than 64 KiB",
        )
        .into_response()
    } else {
        let answer = caught(async {
            let res = gate::gate(&app, req, next).await;
            error::normalize(res).await
        });
        // A request without a body has arrived whole once its head has (hyper bounds that);
        // one with a body could trickle it, so it gets the request timeout. Only then: the
        // timer costs every request a registration in the runtime's timer wheel.
        if body.present {
            match tokio::time::timeout(app.request_timeout, answer).await {
                Ok(res) => res,
                Err(_) => ApiError::new(
                    StatusCode::REQUEST_TIMEOUT,
                    "timeout",
                    "the request took too long to arrive or to answer",
                )
                .into_response(),
            }
        } else {
            answer.await
        }
    };
    seal(&mut res);
    res
}

/// Answer 500 in our JSON shape if handling the request panics, instead of dropping the
/// connection with no answer. The log line names no part of the request (it may hold a
/// token); a test sends every class of bad input and sees no 500.
pub async fn caught(answer: impl Future<Output = Response>) -> Response {
    use futures_util::FutureExt;
    match std::panic::AssertUnwindSafe(answer).catch_unwind().await {
        Ok(res) => res,
        Err(_) => {
            tracing::error!("a request handler panicked; answered 500");
            ApiError::internal().into_response()
        }
    }
}

/// What a request's head says of its body.
struct DeclaredBody {
    /// `Content-Length`, if given and readable.
    length: Option<u64>,
    /// Whether a body follows (a non-zero length, or chunked).
    present: bool,
}

fn declared_body(headers: &HeaderMap) -> DeclaredBody {
    let length = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    DeclaredBody {
        length,
        present: length.is_some_and(|n| n > 0) || headers.contains_key(TRANSFER_ENCODING),
    }
}

/// Mark an answer uncacheable (one of them holds a new token's plaintext) and its type final.
fn seal(res: &mut Response) {
    let h = res.headers_mut();
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
}

/// The service behind each connection. `GET /v1/me` without a body (the call every client
/// makes to check its token, and the one the load target is set for) is answered here, by
/// the same gate checks and the same handler as in the router, without the router's dispatch
/// and middleware plumbing; [`seal`] applies as in [`front`], and nothing is left for
/// [`error::normalize`] to do since every answer is already our JSON shape. Every other
/// request goes to the [`router`], with the peer address as [`ConnectInfo`].
#[derive(Clone)]
struct Connection {
    app: AppState,
    router: Router,
    peer: SocketAddr,
}

type BoxedAnswer = Pin<Box<dyn Future<Output = std::result::Result<Response, Infallible>> + Send>>;

impl<B> tower_service::Service<axum::http::Request<B>> for Connection
where
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = BoxedAnswer;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<std::result::Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: axum::http::Request<B>) -> BoxedAnswer {
        if let Some(me) = self.app.me_route {
            if req.method() == Method::GET
                && req.uri().path() == me.path
                && !declared_body(req.headers()).present
            {
                let app = self.app.clone();
                let ip = self.peer.ip().to_canonical();
                let (head, _) = req.into_parts();
                return Box::pin(async move { Ok(caught(answer_me(&app, me, &head, ip)).await) });
            }
        }
        let mut req = req.map(Body::new);
        req.extensions_mut().insert(ConnectInfo(self.peer));
        Box::pin(self.router.call(req))
    }
}

/// `GET /v1/me` as [`Connection`] answers it.
async fn answer_me(
    app: &AppState,
    me: &'static catalog::RouteSpec,
    head: &axum::http::request::Parts,
    ip: IpAddr,
) -> Response {
    let path = Cow::Borrowed(me.path);
    let checked = gate::check(
        app,
        me,
        me.method,
        path,
        &head.headers,
        head.uri.query(),
        Some(ip),
    )
    .await;
    let mut res = match checked {
        Ok(admitted) => {
            let mut res = routes::me_answer(app, &admitted.caller);
            admitted.finish(app, &mut res);
            res
        }
        Err(refused) => refused.into_response(),
    };
    seal(&mut res);
    res
}

fn crypto_provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The rustls configuration every listener uses: ring, the safe default protocol versions,
/// no client certificates, HTTP/1.1 by ALPN.
fn tls_config(cert: tls::ServerCert) -> Result<rustls::ServerConfig> {
    // One provider for the whole process; a second call (or another crate's) is harmless.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let tls_err = |e: rustls::Error| Error::internal("cannot set up TLS", e);
    let mut tls = rustls::ServerConfig::builder_with_provider(crypto_provider())
        .with_safe_default_protocol_versions()
        .map_err(tls_err)?
        .with_no_client_auth()
        .with_single_cert(cert.chain, cert.key)
        .map_err(tls_err)?;
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tls)
}

/// Bind `listen`, then serve over `tls` with the limits and timeouts of the API (HTTP/1
/// only, head size; handshake, first-request and header timeouts) on a new task, each
/// connection by the service `connection` makes for its peer address.
fn serve_tls<S>(
    listen: SocketAddr,
    tls: rustls::ServerConfig,
    timeouts: Timeouts,
    connection: impl Fn(SocketAddr) -> S + Send + 'static,
) -> Result<(
    SocketAddr,
    axum_server::Handle<SocketAddr>,
    JoinHandle<std::io::Result<()>>,
)>
where
    S: tower_service::Service<
            hyper::Request<hyper::body::Incoming>,
            Response = Response,
            Error = Infallible,
        > + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    let listener = std::net::TcpListener::bind(listen).map_err(|e| {
        Error::state(format!(
            "listen: cannot listen on {listen} ({e}); choose another port with --listen"
        ))
    })?;
    listener
        .set_nonblocking(true)
        .map_err(|e| Error::internal("cannot set up the listening socket", e))?;
    let addr = listener
        .local_addr()
        .map_err(|e| Error::internal("cannot read the listening address", e))?;
    let handle = axum_server::Handle::new();
    let mut server = axum_server::tls_rustls::from_tcp_rustls(
        listener,
        RustlsConfig::from_config(Arc::new(tls)),
    )
    .map_err(|e| Error::internal("cannot start the server", e))?
    .map(|tls| tls.handshake_timeout(timeouts.header))
    .handle(handle.clone())
    .http1_only()
    .first_request_timeout(timeouts.header);
    server
        .http_builder()
        .http1()
        .max_buf_size(HEAD_LIMIT)
        .max_headers(100)
        .header_read_timeout(timeouts.header);
    let task = tokio::spawn(async move { server.serve(MakeConnection(connection)).await });
    Ok((addr, handle, task))
}

/// Hands axum-server a new connection's service.
struct MakeConnection<F>(F);

impl<F, S> tower_service::Service<SocketAddr> for MakeConnection<F>
where
    F: Fn(SocketAddr) -> S,
{
    type Response = S;
    type Error = Infallible;
    type Future = std::future::Ready<std::result::Result<S, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<std::result::Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, peer: SocketAddr) -> Self::Future {
        std::future::ready(Ok((self.0)(peer)))
    }
}

/// Start serving HTTPS on `cfg.listen` (port 0 picks a free port; see [`RunningServer::addr`]).
pub async fn start(tessera: Tessera, cfg: ServerConfig) -> Result<RunningServer> {
    start_with(tessera, cfg, Timeouts::default()).await
}

/// [`start`] with other time limits for clients.
pub async fn start_with(
    tessera: Tessera,
    cfg: ServerConfig,
    timeouts: Timeouts,
) -> Result<RunningServer> {
    let dir = cfg.data_dir.clone();
    let ip = cfg.listen.ip();
    let cert = tokio::task::spawn_blocking(move || tls::issue_server_cert(&dir, Some(ip)))
        .await
        .map_err(|e| Error::internal("creating the certificates stopped", e))??;
    let fingerprint = cert.fingerprint.clone();
    let tls = tls_config(cert)?;

    // Revocations through this process apply to the very next request; those by another
    // process (the CLI) within 50 ms.
    tessera.enable_verify_cache(std::time::Duration::from_millis(50));
    if !tessera
        .verify_cache_ready(std::time::Duration::from_secs(10))
        .await
    {
        tracing::warn!(
            "the change listener has not connected yet; verifying without the cache until it does"
        );
    }
    // Servers sharing a PostgreSQL database each enforce their share of a token's limit.
    let (leave, heartbeat) = tokio::sync::watch::channel(false);
    tessera.join_instances(heartbeat);
    let (usage_tx, usage) = UsageWriter::start(tessera.clone());
    let state = AppState::new(tessera, usage_tx, timeouts.request);
    let router = router(state.clone());
    let connection = move |peer| Connection {
        app: state.clone(),
        router: router.clone(),
        peer,
    };
    let (addr, handle, server) = match serve_tls(cfg.listen, tls, timeouts, connection) {
        Ok(s) => s,
        Err(e) => {
            usage.shutdown().await;
            return Err(e);
        }
    };
    tracing::info!(%addr, "Tessera API listening");
    Ok(RunningServer {
        addr,
        fingerprint,
        handle,
        server,
        usage: Some(usage),
        leave: Some(leave),
    })
}

/// The CA certificate as PEM, creating the certificates on first use.
pub fn export_ca(data_dir: &Path) -> Result<String> {
    Ok(tls::load_or_create_ca(data_dir)?.cert_pem)
}

#[cfg(test)]
mod panic_tests {
    use super::*;

    #[tokio::test]
    async fn a_panicking_handler_answers_500_in_the_error_shape() {
        let res = caught(async {
            let v: Vec<u8> = Vec::new();
            // An out-of-range index: a panic, as a bug in a handler would be.
            let i = v.len() + 3;
            Response::new(Body::from(format!("{}", v[i])))
        })
        .await;
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = axum::body::to_bytes(res.into_body(), 1024)
            .await
            .expect("body");
        let v: serde_json::Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(v["error"], "internal");
        let ok = caught(async { Response::new(Body::from("fine")) }).await;
        assert_eq!(ok.status(), StatusCode::OK);
    }
}
