//! The app's client of a team server (`tessera_app::team`) against real `tessera serve`
//! instances over HTTPS on 127.0.0.1: the fingerprint it shows is the one the server prints,
//! the pinned connection signs in and acts, another server's certificate is refused with an
//! explanation, and a stopped server is reported as unreachable.

use serde_json::Value;
use tessera_app::error::IpcErrorKind;
use tessera_app::team::{fetch_ca, Pin, TeamServer};
use tessera_core::model::{Email, Role};
use tessera_core::password::Password;
use tessera_core::{NewUser, OpenOptions, Tessera};

const PW: &str = "correct horse battery staple";

struct Server {
    _dir: tempfile::TempDir,
    running: tessera_api::RunningServer,
    url: String,
}

async fn serve(company: &str) -> Server {
    let dir = tempfile::tempdir().expect("tempdir");
    let opts = OpenOptions::new(dir.path().to_owned(), "file".parse().expect("keystore"));
    let tessera = Tessera::open(opts).await.expect("open");
    let email: Email = "ada@acme.test".parse().expect("email");
    tessera
        .init(
            company,
            NewUser {
                email,
                name: "Ada".into(),
                role: Role::Admin,
                password: Password::new(PW.into()).expect("pw"),
                source_group: String::new(),
            },
        )
        .await
        .expect("init");
    let running = tessera_api::start(
        tessera,
        tessera_api::ServerConfig {
            listen: "127.0.0.1:0".parse().expect("addr"),
            data_dir: dir.path().to_owned(),
        },
    )
    .await
    .expect("start");
    let url = format!("https://127.0.0.1:{}", running.addr.port());
    Server {
        _dir: dir,
        running,
        url,
    }
}

#[tokio::test]
async fn the_pinned_server_is_trusted_and_another_certificate_is_refused() {
    let a = serve("Acme").await;
    let _ = rustls::crypto::ring::default_provider().install_default();
    // First contact: the CA the server presents is the one it printed.
    let presented = fetch_ca(&a.url).await.expect("fetch");
    assert_eq!(presented.fingerprint, a.running.fingerprint);
    let pin = Pin::of(&a.url, &presented).expect("pin");
    assert_eq!(pin.ca_der().expect("der"), presented.ca_der);

    let team = TeamServer::new(&pin.url, &pin.ca_der().expect("der")).expect("client");
    let e = team
        .sign_in("ada@acme.test", "not the passphrase")
        .await
        .expect_err("wrong password");
    assert_eq!(e.message, "wrong e-mail or password");
    assert_eq!(e.kind, IpcErrorKind::Forbidden);
    let signed = team.sign_in("ada@acme.test", PW).await.expect("sign in");
    assert_eq!(signed.company, "Acme");
    assert!(signed.session.starts_with("tsr_w_"));
    let current: Value = team
        .request(reqwest::Method::GET, "/v1/sessions/current", None, false)
        .await
        .expect("current");
    assert_eq!(current["user"]["email"], "ada@acme.test");

    // Another server (another CA) at the pinned address's place: refused, explained.
    let b = serve("Impostor").await;
    let wrong = TeamServer::new(&b.url, &pin.ca_der().expect("der")).expect("client");
    let e = wrong
        .sign_in("ada@acme.test", PW)
        .await
        .expect_err("another CA");
    assert_eq!(e.kind, IpcErrorKind::Forbidden, "{e:?}");
    assert!(
        e.message.contains("presented a different certificate")
            && e.message.contains(&b.running.fingerprint)
            && e.message.contains(&a.running.fingerprint),
        "{}",
        e.message
    );
    assert!(e.message.contains("nothing was sent"), "{}", e.message);

    // Signed out on the server: the credential stops working.
    team.sign_out().await.expect("sign out");
    assert!(!team.signed_in());

    // The server stopped: unreachable, nothing changed.
    let url = a.url.clone();
    a.running.shutdown().await;
    let e = team
        .sign_in("ada@acme.test", PW)
        .await
        .expect_err("stopped");
    assert_eq!(e.kind, IpcErrorKind::Unavailable, "{e:?}");
    assert!(
        e.message
            .contains(&format!("the team server at {url} cannot be reached")),
        "{}",
        e.message
    );
    b.running.shutdown().await;
}

#[test]
fn a_server_address_must_be_https_without_a_path() {
    for bad in [
        "http://tessera.example.com",
        "tessera.example.com",
        "https://tessera.example.com/v1",
        "https://user:pw@tessera.example.com",
        "https://tessera.example.com?x=1",
        "",
    ] {
        let e = tessera_app::team::base_url(bad).expect_err(bad);
        assert!(e.message.contains("HTTPS address"), "{bad}: {}", e.message);
    }
    assert_eq!(
        tessera_app::team::base_url(" https://tessera.example.com:8443/ ").expect("ok"),
        "https://tessera.example.com:8443"
    );
}
