//! Shared set-up for the API's black-box tests: a real data dir (SQLite file, key file) in a
//! temp dir, a real HTTPS server on 127.0.0.1:0, and a reqwest client trusting only the
//! exported CA.

#![allow(dead_code)] // Each test binary uses a different part of this module.

use std::path::Path;
use std::time::Duration;

use tessera_api::{RunningServer, ServerConfig, Timeouts};
use tessera_core::model::{Role, Scope, TokenId};
use tessera_core::password::Password;
use tessera_core::store::usage::UsageEntry;
use tessera_core::store::users::User;
use tessera_core::token::{TokenKind, TokenSecret};
use tessera_core::{Actor, CreatedToken, NewToken, NewUser, Tessera};

/// The password of ada@example.com, the first admin [`setup`] makes.
pub const ADMIN_PASSWORD: &str = "correct horse battery staple";
/// The password of every user [`Env::add_user`] adds.
pub const USER_PASSWORD: &str = "another long passphrase";

pub const ALL_SCOPES: &[&str] = &[
    "me:read",
    "tokens:read",
    "tokens:write",
    "users:read",
    "users:write",
    "usage:read",
    "audit:read",
    "tokens:verify",
];

pub struct Env {
    pub dir: tempfile::TempDir,
    pub tessera: Tessera,
    pub server: Option<RunningServer>,
    pub base: String,
    pub client: reqwest::Client,
    pub ca_pem: String,
    pub admin: User,
}

pub async fn setup() -> Env {
    setup_with(Timeouts::default()).await
}

/// [`setup`] with other client time limits.
pub async fn setup_with(timeouts: Timeouts) -> Env {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().expect("tempdir");
    let tessera = Tessera::open(test_options(dir.path())).await.expect("open");
    let admin = tessera
        .init(
            "Acme",
            NewUser {
                email: "ada@example.com".parse().expect("email"),
                name: "Ada Admin".into(),
                role: Role::Admin,
                password: Password::new(ADMIN_PASSWORD.into()).expect("pw"),
                source_group: String::new(),
            },
        )
        .await
        .expect("init");
    let server = tessera_api::start_with(
        tessera.clone(),
        ServerConfig {
            listen: "127.0.0.1:0".parse().expect("addr"),
            data_dir: dir.path().to_owned(),
        },
        timeouts,
    )
    .await
    .expect("start");
    let ca_pem = tessera_api::export_ca(dir.path()).expect("ca");
    let client = client_trusting(&ca_pem);
    let base = format!("https://127.0.0.1:{}", server.addr.port());
    Env {
        dir,
        tessera,
        server: Some(server),
        base,
        client,
        ca_pem,
        admin,
    }
}

pub fn client_trusting(ca_pem: &str) -> reqwest::Client {
    let ca = reqwest::Certificate::from_pem(ca_pem.as_bytes()).expect("ca pem");
    reqwest::Client::builder()
        .tls_certs_only([ca])
        .timeout(Duration::from_secs(30))
        .user_agent("tessera-api-tests")
        .build()
        .expect("client")
}

pub fn scopes(names: &[&str]) -> Vec<Scope> {
    names.iter().map(|s| s.parse().expect("scope")).collect()
}

pub fn new_token(
    kind: TokenKind,
    owner: Option<&str>,
    name: &str,
    scope_names: &[&str],
) -> NewToken {
    NewToken {
        owner: owner.map(|o| o.parse().expect("email")),
        description: Some("made by a test".into()),
        scopes: scopes(scope_names),
        ..NewToken::named(kind, name)
    }
}

impl Env {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A personal token of the admin with these scopes.
    pub async fn token(&self, name: &str, scope_names: &[&str]) -> CreatedToken {
        self.token_with(new_token(
            TokenKind::Personal,
            Some("ada@example.com"),
            name,
            scope_names,
        ))
        .await
    }

    pub async fn token_with(&self, req: NewToken) -> CreatedToken {
        self.tessera
            .create_token(&Actor::Operator, req)
            .await
            .expect("create token")
    }

    pub async fn add_user(&self, email: &str, role: Role) -> User {
        self.tessera
            .add_user(
                &Actor::Operator,
                NewUser {
                    email: email.parse().expect("email"),
                    name: "Someone".into(),
                    role,
                    password: Password::new(USER_PASSWORD.into()).expect("pw"),
                    source_group: String::new(),
                },
            )
            .await
            .expect("add user")
    }

    /// Sign in over HTTPS (`POST /v1/sessions`): the session credential.
    pub async fn sign_in(&self, email: &str, password: &str) -> String {
        let res = self
            .client
            .post(self.url("/v1/sessions"))
            .json(&serde_json::json!({"email": email, "password": password}))
            .send()
            .await
            .expect("sign in");
        let status = res.status();
        let v: serde_json::Value = res.json().await.expect("json");
        assert_eq!(status, reqwest::StatusCode::CREATED, "{v}");
        v["session"].as_str().expect("session").to_owned()
    }

    pub async fn get(&self, path: &str, t: &TokenSecret) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .bearer_auth(t.expose())
            .send()
            .await
            .expect("request")
    }

    /// The token's usage rows (newest first, at most `limit`) once `done` holds for them:
    /// the usage writer flushes every 200 ms, so this polls, for at most 10 s.
    pub async fn usage_until(
        &self,
        id: TokenId,
        limit: u32,
        done: impl Fn(&[UsageEntry]) -> bool,
    ) -> Vec<UsageEntry> {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let rows = self
                .tessera
                .token_usage(&Actor::Operator, id, limit)
                .await
                .expect("usage");
            if done(&rows) {
                return rows;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "usage never reached the expected state: {rows:?}"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// One accepted `GET /v1/me` with `t`, once the usage writer has recorded it.
    pub async fn use_once(&self, t: &CreatedToken) {
        let me = self.get("/v1/me", &t.token).await;
        assert_eq!(me.status(), reqwest::StatusCode::OK);
        self.usage_until(t.info.id, 10, |rows| !rows.is_empty())
            .await;
    }

    /// [`Env::usage_until`] the rows count `uses` presentations in all.
    pub async fn usage_counting(&self, id: TokenId, limit: u32, uses: i64) -> Vec<UsageEntry> {
        self.usage_until(id, limit, |rows| {
            rows.iter().map(|r| r.uses).sum::<i64>() >= uses
        })
        .await
    }

    /// Stop the server, flushing usage.
    pub async fn stop(&mut self) {
        if let Some(s) = self.server.take() {
            s.shutdown().await;
        }
    }
}

/// How the tests open a Tessera in `dir`: the SQLite file there, or, when
/// `TESSERA_TEST_POSTGRES` names a PostgreSQL server (`.ci/test`'s second pass), a database of
/// that server named after `dir` with its shared key file in `dir`.
pub fn test_options(dir: &Path) -> tessera_core::OpenOptions {
    let mut o = tessera_core::OpenOptions::new(dir, tessera_core::keys::KeyStoreChoice::File);
    if let Some(url) = tessera_core::store::test_database_url(None, "tessera_api", dir) {
        o.database_url = Some(url);
        o.key_file = Some(dir.join("shared.key"));
    }
    o
}

/// Run a Postman collection with newman (Postman's own runner, pinned in `ui/package.json`
/// and installed by `npm --prefix ui install`) against this server, trusting its CA; fails
/// with what newman printed unless every request and assertion passed. Returns newman's
/// output and its JSON report.
pub async fn run_newman(
    env: &Env,
    name: &str,
    collection: &serde_json::Value,
    environment: &serde_json::Value,
) -> (String, serde_json::Value) {
    let dir = env.dir.path().join(name);
    std::fs::create_dir_all(&dir).expect("dir");
    let (coll, envf, ca, report) = (
        dir.join("collection.json"),
        dir.join("environment.json"),
        dir.join("ca.pem"),
        dir.join("report.json"),
    );
    std::fs::write(&coll, collection.to_string()).expect("write");
    std::fs::write(&envf, environment.to_string()).expect("write");
    std::fs::write(&ca, &env.ca_pem).expect("write");
    // Installed with the UI's packages, so the test never fetches anything.
    let newman = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../ui/node_modules/.bin/newman");
    assert!(
        newman.exists(),
        "newman is not installed at {}; run `npm --prefix ui install` first",
        newman.display()
    );
    let args: Vec<String> = vec![
        "run".into(),
        coll.display().to_string(),
        "-e".into(),
        envf.display().to_string(),
        "--ssl-extra-ca-certs".into(),
        ca.display().to_string(),
        "--reporters".into(),
        "cli,json".into(),
        "--reporter-json-export".into(),
        report.display().to_string(),
        "--timeout-request".into(),
        "10000".into(),
    ];
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(&newman).args(&args).output()
    })
    .await
    .expect("join");
    let out = match out {
        Ok(o) => o,
        Err(e) => panic!("newman could not be started (is Node installed?): {e}"),
    };
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "newman failed ({}).\n--- stdout ---\n{stdout}\n--- stderr ---\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).expect("newman report"))
            .expect("report JSON");
    let stats = &report["run"]["stats"];
    assert_eq!(stats["requests"]["failed"], 0, "{stats}");
    assert_eq!(stats["assertions"]["failed"], 0, "{stats}");
    (stdout, report)
}
