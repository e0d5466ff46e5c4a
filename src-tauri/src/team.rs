//! The app's side of a team server: an HTTPS client of one `tessera serve`, trusting exactly
//! the certificate authority the person confirmed (trust on first use, then pinned), signed in
//! with a session credential (`POST /v1/sessions`).
//!
//! The pin is the server's CA certificate, whose SHA-256 fingerprint `tessera serve` prints
//! and the window shows to compare. Every later connection must present a certificate issued
//! by that very CA; anything else (a new CA, a proxy's certificate) is refused with an
//! explanation, and nothing is sent. The host name is not checked against the certificate:
//! the pinned CA, whose key only that server holds, is the identity.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use reqwest::{Method, StatusCode};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tessera_core::error::Field;
use zeroize::Zeroizing;

use crate::error::{CmdResult, IpcError, IpcErrorKind};

/// How long a request may take before the server counts as unreachable.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The SHA-256 of a certificate, as `tessera serve` and the window show it.
pub fn fingerprint(der: &[u8]) -> String {
    tessera_api::tls::fingerprint(der)
}

/// A server's certificate authority as presented on first contact, to confirm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presented {
    /// The CA certificate (the last of the chain the server sent), DER.
    pub ca_der: Vec<u8>,
    pub fingerprint: String,
}

/// A team server's address as typed: `https://host[:port]`, without a path.
pub fn base_url(raw: &str) -> CmdResult<String> {
    let t = raw.trim().trim_end_matches('/');
    let bad = || {
        IpcError::invalid(
            None,
            "enter the server's HTTPS address, like https://tessera.example.com:8443",
        )
    };
    let url = reqwest::Url::parse(t).map_err(|_| bad())?;
    if url.scheme() != "https" || url.host_str().is_none() || url.path() != "/" {
        return Err(bad());
    }
    if url.query().is_some() || !url.username().is_empty() || url.password().is_some() {
        return Err(bad());
    }
    Ok(t.to_owned())
}

/// Accepts any certificate and keeps the chain: only for reading a server's CA before the
/// person confirms it. Nothing but `GET /healthz` is ever sent through it.
#[derive(Debug)]
struct Capture {
    chain: Mutex<Vec<CertificateDer<'static>>>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Capture {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let mut chain = vec![end_entity.clone().into_owned()];
        chain.extend(intermediates.iter().map(|c| c.clone().into_owned()));
        *self.chain.lock().unwrap_or_else(PoisonError::into_inner) = chain;
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Trusts only certificates issued by the pinned CA; remembers the last refusal so the
/// error can say the certificate changed.
#[derive(Debug)]
struct Pinned {
    inner: Arc<WebPkiServerVerifier>,
    refused: Mutex<Option<String>>,
}

impl ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
        {
            Ok(v) => Ok(v),
            // The pinned CA vouches for the certificate; the name it was reached by is not
            // what identifies the server.
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            Err(e) => {
                let ca = intermediates.last().unwrap_or(end_entity);
                *self.refused.lock().unwrap_or_else(PoisonError::into_inner) =
                    Some(fingerprint(ca));
                Err(e)
            }
        }
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

fn client_with(verifier: Arc<dyn ServerCertVerifier>) -> CmdResult<reqwest::Client> {
    let tls = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| IpcError::internal(format!("TLS setup failed: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        .user_agent(concat!("Tessera-app/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| IpcError::internal(format!("HTTPS client setup failed: {e}")))
}

/// Connect to a server and read the CA it presents, for the person to compare with the
/// fingerprint `tessera serve` printed. Sends nothing but `GET /healthz`.
pub async fn fetch_ca(base: &str) -> CmdResult<Presented> {
    let base = base_url(base)?;
    let capture = Arc::new(Capture {
        chain: Mutex::new(Vec::new()),
        provider: provider(),
    });
    let client = client_with(capture.clone())?;
    client
        .get(format!("{base}/healthz"))
        .send()
        .await
        .map_err(|e| unreachable(&base, &e))?;
    let chain = capture
        .chain
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    let ca = chain
        .last()
        .ok_or_else(|| IpcError::internal("the server presented no certificate"))?;
    Ok(Presented {
        ca_der: ca.to_vec(),
        fingerprint: fingerprint(ca),
    })
}

fn unreachable(base: &str, e: &reqwest::Error) -> IpcError {
    let mut why = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        why = s.to_string();
        source = s.source();
    }
    IpcError::unavailable(format!(
        "the team server at {base} cannot be reached ({why}); nothing was changed, try again when it is back"
    ))
}

/// An error answer of the API: `{"error", "message", "field"}`.
#[derive(Deserialize)]
struct ApiRefusal {
    error: String,
    message: String,
    field: Option<String>,
}

/// One team server, its pinned CA, and the session signed in to it.
pub struct TeamServer {
    base: String,
    fingerprint: String,
    ca_der: Vec<u8>,
    client: reqwest::Client,
    pinned: Arc<Pinned>,
    session: Mutex<Option<Zeroizing<String>>>,
}

/// The answer to a sign-in.
#[derive(Debug, Deserialize)]
pub struct SignedIn {
    pub session: String,
    pub user: tessera_core::store::users::User,
    pub company: String,
}

impl TeamServer {
    /// A client of `base` that trusts only `ca_der` (the confirmed CA).
    pub fn new(base: &str, ca_der: &[u8]) -> CmdResult<Self> {
        let base = base_url(base)?;
        let mut roots = RootCertStore::empty();
        roots
            .add(CertificateDer::from(ca_der.to_vec()))
            .map_err(|e| IpcError::invalid(None, format!("the pinned certificate is not usable ({e}); connect again and confirm the server's fingerprint")))?;
        let inner = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider())
            .build()
            .map_err(|e| IpcError::internal(format!("TLS setup failed: {e}")))?;
        let pinned = Arc::new(Pinned {
            inner,
            refused: Mutex::new(None),
        });
        Ok(Self {
            client: client_with(pinned.clone())?,
            fingerprint: fingerprint(ca_der),
            ca_der: ca_der.to_vec(),
            base,
            pinned,
            session: Mutex::new(None),
        })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// The pinned CA certificate, PEM, for Postman and curl.
    pub fn ca_pem(&self) -> String {
        pem_of(&self.ca_der)
    }

    /// Whether the server answers now (`GET /healthz`, which needs no session).
    pub async fn reachable(&self) -> bool {
        self.request::<Value>(Method::GET, "/healthz", None, true)
            .await
            .is_ok()
    }

    pub fn signed_in(&self) -> bool {
        self.session
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some()
    }

    /// Sign in; the session credential is kept in memory only.
    pub async fn sign_in(&self, email: &str, password: &str) -> CmdResult<SignedIn> {
        let body = serde_json::json!({"email": email, "password": password});
        let signed: SignedIn = self
            .request(Method::POST, "/v1/sessions", Some(&body), false)
            .await?;
        *self.session.lock().unwrap_or_else(PoisonError::into_inner) =
            Some(Zeroizing::new(signed.session.clone()));
        Ok(signed)
    }

    /// Sign out on the server (best effort: the credential is forgotten here either way).
    pub async fn sign_out(&self) -> CmdResult<()> {
        let had = self.signed_in();
        let res = if had {
            self.request::<Value>(Method::DELETE, "/v1/sessions/current", None, false)
                .await
                .map(|_| ())
        } else {
            Ok(())
        };
        self.forget();
        res
    }

    fn forget(&self) {
        *self.session.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }

    /// A `GET` as the signed-in person whose answer is text (the audit CSV).
    pub async fn request_text(&self, path: &str) -> CmdResult<String> {
        self.exchange(Method::GET, path, None, false).await
    }

    /// A request as the signed-in person; a 204 answers `null`. `background`: a refresh the
    /// person did not ask for, which does not keep the session open.
    pub async fn request<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        background: bool,
    ) -> CmdResult<T> {
        let text = self.exchange(method, path, body, background).await?;
        let text = if text.is_empty() { "null" } else { &text };
        serde_json::from_str(text).map_err(|e| {
            IpcError::internal(format!(
                "the team server's answer was not understood ({e}); is it the same Tessera version?"
            ))
        })
    }

    /// Send a request; the answer's text on success, the app's error otherwise.
    async fn exchange(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        background: bool,
    ) -> CmdResult<String> {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(s) = self
            .session
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
        {
            req = req.bearer_auth(s.as_str());
        }
        if background {
            req = req.header(tessera_api::gate::BACKGROUND_HEADER, "1");
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let res = match req.send().await {
            Ok(r) => r,
            Err(e) => {
                let changed = self
                    .pinned
                    .refused
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .take();
                return Err(match changed {
                    Some(now) => IpcError::new_kind(
                        IpcErrorKind::Forbidden,
                        format!(
                            "the team server at {} presented a different certificate (fingerprint {now}) from the one you confirmed ({}); nothing was sent. If its administrator replaced the certificate, confirm the new fingerprint with them, then under Connection (on the sign-in screen, or Settings > Connection) show its certificate and trust it; otherwise someone may be intercepting the connection",
                            self.base, self.fingerprint
                        ),
                    ),
                    None => unreachable(&self.base, &e),
                });
            }
        };
        let status = res.status();
        let text = res.text().await.map_err(|e| unreachable(&self.base, &e))?;
        if status.is_success() {
            return Ok(text);
        }
        if status == StatusCode::UNAUTHORIZED && path != "/v1/sessions" {
            // Signed out on the server, idle too long, or deactivated: sign in again.
            self.forget();
        }
        Err(refusal(status, &text))
    }
}

/// The app's error for the API's refusal.
fn refusal(status: StatusCode, text: &str) -> IpcError {
    let (code, message, field) = match serde_json::from_str::<ApiRefusal>(text) {
        Ok(r) => (r.error, r.message, r.field),
        Err(_) => (
            String::new(),
            format!("the team server answered {status}"),
            None,
        ),
    };
    // The API's own member names for the app's fields.
    let field = field.map(|f| {
        if f == "new_password" {
            "password".to_owned()
        } else {
            f
        }
    });
    let field = field.and_then(|f| Field::ALL.iter().copied().find(|x| x.as_str() == f));
    let kind = match status {
        StatusCode::UNAUTHORIZED => IpcErrorKind::Unauthenticated,
        StatusCode::FORBIDDEN => IpcErrorKind::Forbidden,
        StatusCode::NOT_FOUND => IpcErrorKind::NotFound,
        StatusCode::CONFLICT => IpcErrorKind::Conflict,
        StatusCode::SERVICE_UNAVAILABLE => IpcErrorKind::Unavailable,
        s if s.is_client_error() => IpcErrorKind::Invalid,
        _ => IpcErrorKind::Internal,
    };
    // A wrong password reads as it does on this computer.
    let (kind, message) = if code == "invalid_credentials" {
        (
            IpcErrorKind::Forbidden,
            tessera_core::service::WRONG_CREDENTIALS.to_owned(),
        )
    } else {
        (kind, message)
    };
    IpcError {
        kind,
        field,
        message,
    }
}

/// What the app keeps of a team server: its address and the CA the person confirmed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Pin {
    pub url: String,
    /// The CA certificate, PEM.
    pub ca_pem: String,
    pub fingerprint: String,
}

impl Pin {
    pub fn of(url: &str, p: &Presented) -> CmdResult<Self> {
        Ok(Self {
            url: base_url(url)?,
            ca_pem: pem_of(&p.ca_der),
            fingerprint: p.fingerprint.clone(),
        })
    }

    pub fn ca_der(&self) -> CmdResult<Vec<u8>> {
        der_of(&self.ca_pem)
    }
}

fn pem_of(der: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

fn der_of(pem: &str) -> CmdResult<Vec<u8>> {
    use base64::Engine;
    let body: String = pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<Vec<_>>()
        .concat();
    base64::engine::general_purpose::STANDARD
        .decode(body.trim())
        .map_err(|_| {
            IpcError::invalid(
                None,
                "the saved server certificate is damaged; connect again and confirm the server's fingerprint",
            )
        })
}

/// The file beside the app's data that keeps the confirmed team server.
pub const PIN_FILE: &str = "team-server.json";
/// The file that says the window works on that team server (chosen in the window).
pub const CHOICE_FILE: &str = "connection.json";

#[derive(Serialize, Deserialize)]
struct Choice {
    team_url: String,
}

/// Keep `pin` as the confirmed certificate of its server.
fn save_pin(dir: &std::path::Path, pin: &Pin) -> Result<(), String> {
    let path = dir.join(PIN_FILE);
    let text = serde_json::to_vec_pretty(pin).map_err(|e| e.to_string())?;
    std::fs::create_dir_all(dir)
        .and_then(|()| std::fs::write(&path, text))
        .map_err(|e| {
            format!(
                "cannot save the server's certificate in {} ({e})",
                path.display()
            )
        })
}

/// The team server the next start works on: `TESSERA_SERVER_URL` when set (it wins), else
/// the one chosen in the window. `(url, whether the environment set it)`.
pub fn next(dir: &std::path::Path) -> (Option<String>, bool) {
    match std::env::var("TESSERA_SERVER_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
    {
        Some(url) => (Some(base_url(&url).unwrap_or(url)), true),
        None => (chosen(dir), false),
    }
}

/// The fingerprint of the certificate confirmed for the team server at `url`, if any.
pub fn pinned_fingerprint(dir: &std::path::Path, url: &str) -> Option<String> {
    std::fs::read(dir.join(PIN_FILE))
        .ok()
        .and_then(|b| serde_json::from_slice::<Pin>(&b).ok())
        .filter(|p| p.url == url)
        .map(|p| p.fingerprint)
}

/// The team server chosen in the window for the next start, if any.
pub fn chosen(dir: &std::path::Path) -> Option<String> {
    std::fs::read(dir.join(CHOICE_FILE))
        .ok()
        .and_then(|b| serde_json::from_slice::<Choice>(&b).ok())
        .map(|c| c.team_url)
}

/// Choose the team server at `url`, whose certificate has the `confirmed` fingerprint: it is
/// pinned, and the app works on it from the next start.
pub async fn choose(dir: &std::path::Path, url: &str, confirmed: &str) -> CmdResult<()> {
    let url = base_url(url)?;
    let presented = fetch_ca(&url).await?;
    if !same_fingerprint(&presented.fingerprint, confirmed) {
        return Err(IpcError::invalid(
            None,
            format!(
                "the team server at {url} now presents a certificate with fingerprint {}, not the one you confirmed; nothing was saved. Fetch its certificate again and compare",
                presented.fingerprint
            ),
        ));
    }
    save_pin(dir, &Pin::of(&url, &presented)?).map_err(IpcError::internal)?;
    let text = serde_json::to_vec_pretty(&Choice { team_url: url })
        .map_err(|e| IpcError::internal(e.to_string()))?;
    std::fs::write(dir.join(CHOICE_FILE), text).map_err(|e| {
        IpcError::internal(format!("cannot save the choice in {} ({e})", dir.display()))
    })
}

/// Work on this computer's store from the next start (the pinned certificate is kept).
pub fn choose_this_computer(dir: &std::path::Path) -> CmdResult<()> {
    match std::fs::remove_file(dir.join(CHOICE_FILE)) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(IpcError::internal(format!(
            "cannot change the choice in {} ({e})",
            dir.display()
        ))),
    }
}

/// A fingerprint as people type it: hex pairs, colons or spaces optional, any case.
fn same_fingerprint(a: &str, b: &str) -> bool {
    let norm = |s: &str| -> String {
        s.chars()
            .filter(char::is_ascii_hexdigit)
            .map(|c| c.to_ascii_uppercase())
            .collect()
    };
    let (a, b) = (norm(a), norm(b));
    a.len() == 64 && a == b
}

/// The team server this window is to work on, from `TESSERA_SERVER_URL` (None: this
/// computer), trusting only a certificate authority the person confirmed: the one pinned in
/// `data_dir` for that address, or, on the first connection (or to accept a new certificate),
/// the one whose fingerprint they give in `TESSERA_SERVER_FINGERPRINT` after comparing it with
/// what `tessera serve` printed. Refusals say what to do.
pub async fn from_env(
    data_dir: &std::path::Path,
    url: Option<&str>,
    confirmed: Option<&str>,
) -> Result<Option<TeamServer>, String> {
    let Some(url) = url.map(str::trim).filter(|u| !u.is_empty()) else {
        return Ok(None);
    };
    let url = base_url(url).map_err(|e| format!("TESSERA_SERVER_URL: {}", e.message))?;
    let pin_path = data_dir.join(PIN_FILE);
    let pinned: Option<Pin> = std::fs::read(&pin_path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .filter(|p: &Pin| p.url == url);
    let confirmed = confirmed.map(str::trim).filter(|f| !f.is_empty());
    let pin = match (pinned, confirmed) {
        // The confirmed certificate, as pinned: a different one is refused on connecting.
        (Some(p), None) => p,
        (Some(p), Some(fp)) if same_fingerprint(&p.fingerprint, fp) => p,
        // First contact, or a new certificate to accept: it must be the one confirmed.
        (_, confirmed) => {
            let presented = fetch_ca(&url).await.map_err(|e| e.message)?;
            match confirmed {
                Some(fp) if same_fingerprint(&presented.fingerprint, fp) => {
                    let pin = Pin::of(&url, &presented).map_err(|e| e.message)?;
                    save_pin(data_dir, &pin)?;
                    pin
                }
                Some(fp) => {
                    return Err(format!(
                        "the team server at {url} presents a certificate with fingerprint {}, not the {fp} you gave; nothing was sent. Check the address and the fingerprint `tessera serve` printed",
                        presented.fingerprint
                    ))
                }
                None => {
                    return Err(format!(
                        "first connection to the team server at {url}: its certificate's SHA-256 fingerprint is {}. Compare it with the one `tessera serve` printed; if they are the same, start Tessera again with TESSERA_SERVER_FINGERPRINT={}",
                        presented.fingerprint, presented.fingerprint
                    ))
                }
            }
        }
    };
    TeamServer::new(&pin.url, &pin.ca_der().map_err(|e| e.message)?)
        .map(Some)
        .map_err(|e| e.message)
}
