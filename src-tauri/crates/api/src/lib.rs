//! tessera-api: the HTTPS verification and management API (skeleton; see issue 3).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use tessera_core::Tessera;

/// Where and how to serve.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    /// Where the CA and leaf certificate live (the data dir).
    pub data_dir: PathBuf,
}

/// A server running in this process.
pub struct RunningServer {
    pub addr: SocketAddr,
    /// SHA-256 fingerprint of the CA certificate, colon-separated upper-case hex.
    pub fingerprint: String,
}

impl RunningServer {
    /// Stop accepting, finish in-flight requests, flush pending usage.
    pub async fn shutdown(self) {}
}

pub type Result<T> = std::result::Result<T, tessera_core::Error>;

pub async fn start(_tessera: Tessera, cfg: ServerConfig) -> Result<RunningServer> {
    Err(tessera_core::Error::state(format!("the API server is not built yet ({})", cfg.listen)))
}

/// The CA certificate as PEM, creating the certificates on first use.
pub fn export_ca(_data_dir: &Path) -> Result<String> {
    Err(tessera_core::Error::state("certificates are not built yet"))
}

pub mod postman {
    /// A Postman v2.1 collection of the API using `{{baseUrl}}` and `{{apiToken}}`.
    pub fn collection() -> serde_json::Value {
        serde_json::json!({})
    }
    /// A Postman environment holding the token as a secret variable.
    pub fn environment(base_url: &str, token: &tessera_core::token::TokenSecret, name: &str) -> serde_json::Value {
        let _ = (base_url, token, name);
        serde_json::json!({})
    }
}
