//! A slow client cannot hold the server: a real TCP and TLS client on 127.0.0.1 that stalls
//! in the handshake, trickles its request head, or trickles its body is cut off by the
//! server's time limits, while other clients are served meanwhile. The limits are shortened
//! through [`Timeouts`] so the tests stay quick; the assertions are about who closed the
//! connection and what it answered, not about how long anything took.

use crate::common;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{setup_with, Env};
use reqwest::StatusCode;
use rustls::pki_types::ServerName;
use tessera_api::Timeouts;

const TIMEOUTS: Timeouts = Timeouts {
    header: Duration::from_secs(1),
    request: Duration::from_secs(2),
};
/// Pause between two bytes of a trickling client: a head of [`SLOW_HEAD`]'s length would take
/// several header timeouts to send this way.
const STEP: Duration = Duration::from_millis(150);
const SLOW_HEAD: &str =
    "GET /v1/me HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slow-loris-test\r\nAccept: */*\r\n\r\n";
/// However the server behaves, a test gives up after this (the server limits are 1 and 2 s).
const GIVE_UP: Duration = Duration::from_secs(30);

/// How a trickling connection ended.
#[derive(Debug, PartialEq, Eq)]
enum Ended {
    /// The server closed it (EOF, reset, or a failed write) after this many bytes were sent.
    ClosedAfter(usize),
    /// The server answered; the status line it sent.
    Answered(String),
    /// The client sent everything without being cut off.
    SentAll,
}

fn tls_client(env: &Env) -> Arc<rustls::ClientConfig> {
    let ca = tessera_api::tls::load_or_create_ca(env.dir.path()).expect("ca");
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.cert_der).expect("root");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Arc::new(
        rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

fn addr(env: &Env) -> SocketAddr {
    env.server.as_ref().expect("server").addr
}

/// Connect and finish the TLS handshake, so what follows is about HTTP, not TLS.
fn connect(
    addr: SocketAddr,
    tls: Arc<rustls::ClientConfig>,
) -> rustls::StreamOwned<rustls::ClientConnection, TcpStream> {
    let tcp = TcpStream::connect(addr).expect("connect");
    tcp.set_read_timeout(Some(STEP)).expect("read timeout");
    let name = ServerName::try_from("127.0.0.1").expect("name");
    let conn = rustls::ClientConnection::new(tls, name).expect("client");
    let mut s = rustls::StreamOwned::new(conn, tcp);
    while s.conn.is_handshaking() {
        s.conn.complete_io(&mut s.sock).expect("handshake");
    }
    s
}

/// Write `bytes` one at a time, [`STEP`] apart, watching for the server ending the exchange.
fn trickle<S: Read + Write>(s: &mut S, bytes: &[u8]) -> Ended {
    let mut buf = [0u8; 4096];
    for (i, b) in bytes.iter().enumerate() {
        if s.write_all(std::slice::from_ref(b))
            .and_then(|()| s.flush())
            .is_err()
        {
            return Ended::ClosedAfter(i);
        }
        // The read timeout is STEP, so this is also the pause between bytes.
        match s.read(&mut buf) {
            Ok(0) => return Ended::ClosedAfter(i + 1),
            Ok(n) => {
                let text = String::from_utf8_lossy(&buf[..n]);
                return Ended::Answered(text.lines().next().unwrap_or("").to_owned());
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return Ended::ClosedAfter(i + 1),
        }
    }
    Ended::SentAll
}

/// While `busy` is set, keep asking for `/v1/me` with a valid token; the statuses seen.
async fn others_meanwhile(env: &Env, busy: Arc<AtomicBool>) -> Vec<StatusCode> {
    let t = env.token("fast", &["me:read"]).await;
    let mut seen = Vec::new();
    let start = std::time::Instant::now();
    while busy.load(Ordering::SeqCst) && start.elapsed() < GIVE_UP {
        seen.push(env.get("/v1/me", &t.token).await.status());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    seen
}

/// Run `slow` on a blocking thread while other clients are served; its result and theirs.
async fn with_others<T: Send + 'static>(
    env: &Env,
    slow: impl FnOnce() -> T + Send + 'static,
) -> (T, Vec<StatusCode>) {
    let busy = Arc::new(AtomicBool::new(true));
    let done = busy.clone();
    let slow = tokio::task::spawn_blocking(move || {
        let r = slow();
        done.store(false, Ordering::SeqCst);
        r
    });
    let others = others_meanwhile(env, busy).await;
    (slow.await.expect("slow client"), others)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_trickling_its_request_head_is_cut_off_while_others_are_served() {
    let env = setup_with(TIMEOUTS).await;
    let (addr, tls) = (addr(&env), tls_client(&env));
    let (ended, others) = with_others(&env, move || {
        let mut s = connect(addr, tls);
        trickle(&mut s, SLOW_HEAD.as_bytes())
    })
    .await;
    match ended {
        Ended::ClosedAfter(n) => assert!(n < SLOW_HEAD.len(), "{n}"),
        other => panic!("the slow client was not cut off: {other:?}"),
    }
    assert!(!others.is_empty(), "no other request was made meanwhile");
    assert!(
        others.iter().all(|s| *s == StatusCode::OK),
        "other clients were not all served: {others:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_that_never_finishes_the_tls_handshake_is_closed() {
    let env = setup_with(TIMEOUTS).await;
    let addr = addr(&env);
    let (closed, others) = with_others(&env, move || {
        let mut tcp = TcpStream::connect(addr).expect("connect");
        tcp.set_read_timeout(Some(GIVE_UP)).expect("read timeout");
        // Say nothing at all; the server must give up on us.
        let mut buf = [0u8; 16];
        match tcp.read(&mut buf) {
            Ok(0) => true,
            Err(e) => e.kind() == ErrorKind::ConnectionReset,
            Ok(_) => false,
        }
    })
    .await;
    assert!(closed, "the server kept a silent connection open");
    assert!(!others.is_empty(), "no other request was made meanwhile");
    assert!(others.iter().all(|s| *s == StatusCode::OK), "{others:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_trickling_its_body_gets_408_while_others_are_served() {
    let env = setup_with(TIMEOUTS).await;
    let t = env.token("introspector", &["tokens:verify"]).await;
    let (addr, tls) = (addr(&env), tls_client(&env));
    let body = format!(r#"{{"token": "{}", "scopes": []}}"#, t.token.expose());
    let head = format!(
        "POST /v1/verify HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        t.token.expose(),
        body.len()
    );
    let (ended, others) = with_others(&env, move || {
        let mut s = connect(addr, tls);
        s.write_all(head.as_bytes()).expect("head");
        s.flush().expect("flush");
        trickle(&mut s, body.as_bytes())
    })
    .await;
    match ended {
        Ended::Answered(status_line) => assert!(
            status_line.starts_with("HTTP/1.1 408"),
            "unexpected answer: {status_line}"
        ),
        other => panic!("the slow body was not refused: {other:?}"),
    }
    assert!(!others.is_empty(), "no other request was made meanwhile");
    assert!(others.iter().all(|s| *s == StatusCode::OK), "{others:?}");
}
