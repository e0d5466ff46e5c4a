//! tessera-api: the HTTPS verification and management API.
//!
//! It owns the server (axum on rustls with ring as the one crypto provider), the local CA and
//! certificate ([`tls`]), finding a token in a request ([`auth`]), the per-request gate
//! ([`gate`]), the rate limit ([`ratelimit`]), batched usage recording ([`usage`]), the routes
//! ([`routes`], listed once in [`catalog`]), and the OpenAPI and Postman documents built from
//! that list. Every rule about tokens, users and rights is the core's ([`tessera_core`]).

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

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Request};
use axum::http::header::{HeaderValue, CACHE_CONTROL, CONTENT_LENGTH};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::Router;
use axum_server::tls_rustls::RustlsConfig;
use tessera_core::{Error, Tessera};
use tokio::task::JoinHandle;

use crate::error::ApiError;
use crate::ratelimit::RateLimits;
use crate::usage::{UsageSender, UsageWriter};

/// Largest request body accepted (413 beyond).
pub const BODY_LIMIT: usize = 64 * 1024;
/// Largest request head (request line and headers) accepted; hyper answers 431 beyond.
pub const HEAD_LIMIT: usize = 8 * 1024;
/// A request must arrive and be answered within this.
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

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub tessera: Tessera,
    pub usage: UsageSender,
    pub limits: Arc<RateLimits>,
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
    }
}

pub type Result<T> = std::result::Result<T, tessera_core::Error>;

/// The routes, the gate and the error shape; no TLS. Public so tests and benchmarks can
/// drive it in-process.
pub fn router(state: AppState) -> Router {
    use routes::{tokens, users};
    Router::new()
        .route("/healthz", get(routes::health))
        .route("/openapi.json", get(routes::openapi))
        .route("/v1/me", get(routes::me))
        .route("/v1/verify", post(routes::verify))
        .route("/v1/tokens", get(tokens::list).post(tokens::create))
        .route("/v1/tokens/{id}", get(tokens::get).delete(tokens::delete))
        .route("/v1/tokens/{id}/revoke", post(tokens::revoke))
        .route("/v1/tokens/{id}/deactivate", post(tokens::deactivate))
        .route("/v1/tokens/{id}/activate", post(tokens::activate))
        .route("/v1/tokens/{id}/usage", get(tokens::usage))
        .route("/v1/users", get(users::list).post(users::create))
        .route("/v1/users/{id}/deactivate", post(users::deactivate))
        .route("/v1/users/{id}/role", put(users::set_role))
        .route("/v1/audit", get(routes::audit))
        .layer(middleware::from_fn_with_state(state.clone(), gate::gate))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn(error::normalize))
        .layer(middleware::from_fn(guard_request))
        .with_state(state)
}

/// Outermost middleware: refuse a declared body over the limit before anything reads it,
/// bound the time a request may take, and mark every answer uncacheable (one of them holds
/// a new token's plaintext).
async fn guard_request(req: Request, next: Next) -> Response {
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let mut res = if declared.is_some_and(|n| n > BODY_LIMIT as u64) {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            "the request body is larger than 64 KiB",
        )
        .into_response()
    } else {
        match tokio::time::timeout(REQUEST_TIMEOUT, next.run(req)).await {
            Ok(res) => res,
            Err(_) => ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "timeout",
                "the request took too long to arrive or to answer",
            )
            .into_response(),
        }
    };
    let h = res.headers_mut();
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
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

/// Bind `listen`, then serve `app` over `tls` with the limits and timeouts of the API
/// (HTTP/1 only, head size, header and first-request timeouts) on a new task.
fn serve_tls(
    listen: SocketAddr,
    tls: rustls::ServerConfig,
    app: Router,
) -> Result<(
    SocketAddr,
    axum_server::Handle<SocketAddr>,
    JoinHandle<std::io::Result<()>>,
)> {
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
    .handle(handle.clone())
    .http1_only()
    .first_request_timeout(HEADER_TIMEOUT);
    server
        .http_builder()
        .http1()
        .max_buf_size(HEAD_LIMIT)
        .max_headers(100)
        .header_read_timeout(HEADER_TIMEOUT);
    let task = tokio::spawn(async move {
        server
            .serve(app.into_make_service_with_connect_info::<SocketAddr>())
            .await
    });
    Ok((addr, handle, task))
}

/// Start serving HTTPS on `cfg.listen` (port 0 picks a free port; see [`RunningServer::addr`]).
pub async fn start(tessera: Tessera, cfg: ServerConfig) -> Result<RunningServer> {
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
    let (usage_tx, usage) = UsageWriter::start(tessera.clone());
    let state = AppState {
        tessera,
        usage: usage_tx,
        limits: Arc::new(RateLimits::default()),
    };
    let (addr, handle, server) = match serve_tls(cfg.listen, tls, router(state)) {
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
    })
}

/// The CA certificate as PEM, creating the certificates on first use.
pub fn export_ca(data_dir: &Path) -> Result<String> {
    Ok(tls::load_or_create_ca(data_dir)?.cert_pem)
}
