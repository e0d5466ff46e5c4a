//! A baseline for the load benchmark (`benches/load.rs`): a bare `200 OK` handler served on
//! exactly the API's TLS stack — the same rustls configuration, the same axum-server and hyper
//! settings, and the same certificate and key files the API server last wrote to the data dir.
//! Comparing `/v1/me` against it isolates what the gate and the handler cost. It reads no
//! token and touches no data, so it is harmless, but nothing in the product starts it.

use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use tessera_core::Error;

use crate::{serve_tls, tls, tls_config, Result, RunningServer, ServerConfig, Timeouts};

/// Serve `200 OK` (empty body) for `GET` on any path at `cfg.listen`, presenting the
/// certificate in `cfg.data_dir` (start the API server on that data dir first).
pub async fn serve_ok(cfg: ServerConfig) -> Result<RunningServer> {
    let dir = cfg.data_dir.clone();
    let cert = tokio::task::spawn_blocking(move || tls::load_server_cert(&dir))
        .await
        .map_err(|e| Error::internal("loading the certificate stopped", e))??;
    let fingerprint = cert.fingerprint.clone();
    let app = Router::new().fallback(get(|| async { StatusCode::OK }));
    let (addr, handle, server) = serve_tls(
        cfg.listen,
        tls_config(cert)?,
        Timeouts::default(),
        move |_| app.clone(),
    )?;
    Ok(RunningServer {
        addr,
        fingerprint,
        handle,
        server,
        usage: None,
        leave: None,
    })
}
