//! The OAuth 2.0 authorization server as a standard Python client sees it: Authlib's
//! `OAuth2Session` (on requests; not our code) reads the server's metadata, gets a
//! client-credentials token with client_secret_basic and with client_secret_post over real
//! HTTPS, trusting only the exported CA, and calls `/v1/me` with each
//! (`tests/python/oauth_client.py`). The packages are pinned in
//! `tests/python/requirements.txt` and installed by `.ci/test` into a venv outside the clone
//! (`install_oauth_python` in `.ci/deps.sh`), which sets `TESSERA_TEST_PYTHON` to its python;
//! without that variable the test looks where `.ci/deps.sh` puts the venv. If there is no
//! such python, the test fails and says how to make it.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::setup;
use serde_json::{json, Value};
use tessera_core::service::NewClient;
use tessera_core::Actor;

/// The venv's python: `TESSERA_TEST_PYTHON`, else where `.ci/deps.sh` makes the venv
/// (`$TESSERA_CI_CACHE`, else `~/.cache/tessera-ci`, then `oauth-python-venv/bin/python`).
fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("TESSERA_TEST_PYTHON").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    let cache = std::env::var_os("TESSERA_CI_CACHE")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let home = std::env::var_os("HOME").expect("HOME is not set");
            Path::new(&home).join(".cache/tessera-ci")
        });
    cache.join("oauth-python-venv/bin/python")
}

/// The scopes of a `/v1/me` answer, sorted.
fn scopes_of(me: &Value) -> Vec<String> {
    let mut s: Vec<String> = me["scopes"]
        .as_array()
        .unwrap_or_else(|| panic!("no scopes in {me}"))
        .iter()
        .map(|v| v.as_str().expect("scope").to_owned())
        .collect();
    s.sort();
    s
}

#[tokio::test]
async fn a_standard_python_oauth_client_gets_a_token_and_calls_the_api() {
    let python = python();
    assert!(
        python.exists(),
        "the Python venv for this test is missing: no {}.\nCreate it from the repository root \
         with `bash -c '. .ci/deps.sh && install_oauth_python'` (Debian's /usr/bin/python3 \
         and the python3-venv apt package; `bash .ci/test` does this too), or set \
         TESSERA_TEST_PYTHON to a python that has the packages of \
         src-tauri/crates/api/tests/python/requirements.txt",
        python.display()
    );
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/oauth_client.py");

    let mut env = setup().await;
    let c = env
        .tessera
        .create_client(
            &Actor::Operator,
            NewClient {
                name: "python".into(),
                description: "Authlib in a test".into(),
                scopes: vec![
                    "me:read".parse().expect("scope"),
                    "tokens:read".parse().expect("scope"),
                ],
                ..Default::default()
            },
        )
        .await
        .expect("client");
    let ca = env.dir.path().join("python-ca.pem");
    std::fs::write(&ca, &env.ca_pem).expect("write the CA");

    // The secret goes in the environment, never on the command line. client_secret_basic
    // asks for me:read alone; client_secret_post asks for no scope and gets all of them.
    let mut cmd = Command::new(&python);
    cmd.arg("-I")
        .arg(&script)
        .args(["--base", &env.base])
        .arg("--ca")
        .arg(&ca)
        .args(["--client-id", &c.client.client_id])
        .args(["--basic-scope", "me:read"])
        .env("TESSERA_CLIENT_SECRET", c.client_secret.expose());
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .expect("join")
        .unwrap_or_else(|e| panic!("{} could not be started: {e}", python.display()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stdout.contains(c.client_secret.expose()) && !stderr.contains(c.client_secret.expose()),
        "the script printed the client secret"
    );
    assert!(
        out.status.success(),
        "oauth_client.py failed ({}).\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}",
        out.status
    );
    let v: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("the script's stdout is not JSON ({e}):\n{stdout}"));

    // It found the token endpoint in the server's metadata (RFC 8414).
    assert_eq!(
        v["metadata"]["token_endpoint"],
        json!(env.url("/oauth/token")),
        "{v}"
    );

    let both = ["me:read", "tokens:read"];
    for (method, scope, listing) in [("basic", &["me:read"][..], 403), ("post", &both[..], 200)] {
        let got = &v[method];
        assert_eq!(got["token_type"], "Bearer", "{method}: {got}");
        let lifetime = got["expires_in"].as_u64().expect("expires_in");
        assert!(lifetime > 3500 && lifetime <= 3600, "{method}: {got}");
        assert_eq!(got["token_prefix"], "tsr_a_", "{method}: {got}");
        let mut granted: Vec<&str> = got["scope"]
            .as_str()
            .unwrap_or_else(|| panic!("{method}: no scope in {got}"))
            .split(' ')
            .collect();
        granted.sort_unstable();
        assert_eq!(granted, scope, "{method}: {got}");
        // /v1/me with the token: an access token with exactly the granted scopes.
        let me = &got["me"];
        assert_eq!(me["kind"], "access", "{method}: {me}");
        assert_eq!(scopes_of(me), scope, "{method}: {me}");
        // tokens:read is honoured only where it was granted.
        assert_eq!(got["tokens_status"], listing, "{method}: {got}");
    }
    // A wrong secret: Authlib reports the server's RFC 6749 error.
    assert_eq!(v["wrong_secret"]["error"], "invalid_client", "{v}");

    // The server issued the two tokens the script used, and no more.
    let info = env
        .tessera
        .get_client(&Actor::Operator, c.client.id)
        .await
        .expect("client");
    assert_eq!(info.tokens_issued_24h, 2);
    env.stop().await;
}
