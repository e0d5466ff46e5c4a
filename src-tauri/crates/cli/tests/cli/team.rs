//! Teams: two `tessera serve` instances on one PostgreSQL database, managed through either
//! instance's API and through the CLI. Each instance caches verifications; these tests
//! prove that a change made anywhere reaches the other instance's answers at once (through
//! the schema's notifications), and within the poll interval when its listener connection is
//! killed. They need the PostgreSQL server `.ci/test` starts (`TESSERA_TEST_POSTGRES`) and
//! fail without it rather than pass without testing anything.

use std::time::{Duration, Instant};

use super::{Env, Run, Server};

fn require_postgres() -> String {
    std::env::var("TESSERA_TEST_POSTGRES")
        .ok()
        .filter(|s| !s.is_empty())
        .expect("the team tests need a PostgreSQL server: set TESSERA_TEST_POSTGRES (.ci/test starts one)")
}

/// One running instance: its address and a client that trusts its certificate.
pub(super) struct Instance {
    server: Server,
    base: String,
    client: reqwest::Client,
}

impl Env {
    /// Start `tessera serve` with its own data dir (its own certificates) on this
    /// installation's database.
    pub(super) fn instance(&self, name: &str) -> Instance {
        self.instance_keyed(name, None)
    }

    /// A server in the installation's own data dir: on SQLite, the one on its store.
    pub(super) fn instance_here(&self) -> Instance {
        let data = self.data();
        self.start_instance("serve", data.to_str().expect("utf-8 path"), None)
    }

    /// [`Env::instance`] with a key file of its own (a copy, as on another machine).
    fn instance_keyed(&self, name: &str, key_file: Option<&std::path::Path>) -> Instance {
        let data = self.dir.path().join(name);
        self.start_instance(name, data.to_str().expect("utf-8 path"), key_file)
    }

    fn start_instance(
        &self,
        name: &str,
        data: &str,
        key_file: Option<&std::path::Path>,
    ) -> Instance {
        let mut c = self.cmd(&["serve", "--listen", "127.0.0.1:0", "--data-dir", data]);
        if let Some(k) = key_file {
            c.env("TESSERA_KEY_FILE", k);
        }
        let server = self.spawn_serve_cmd(c);
        let base = server.base().expect("serve started");
        let ca = self
            .run(&["--data-dir", data, "cert", "export"])
            .ok()
            .stdout;
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .tls_certs_only([reqwest::Certificate::from_pem(ca.as_bytes()).expect("ca")])
            .timeout(Duration::from_secs(10))
            .build()
            .expect("client");
        let i = Instance {
            server,
            base,
            client,
        };
        // Healthy once its change listener has connected (serve waits up to 10 s for it).
        let start = Instant::now();
        while runtime().block_on(i.health()) != 200 {
            assert!(
                start.elapsed() < Duration::from_secs(15),
                "{name} never healthy"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        i
    }
}

impl Instance {
    pub(super) async fn get(&self, path: &str, token: &str) -> u16 {
        self.client
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .expect("request")
            .status()
            .as_u16()
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: serde_json::Value,
    ) -> u16 {
        self.client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .expect("request")
            .status()
            .as_u16()
    }

    async fn health(&self) -> u16 {
        self.client
            .get(format!("{}/healthz", self.base))
            .send()
            .await
            .map_or(0, |r| r.status().as_u16())
    }

    /// Ask `path` with `token` until it answers `want`; returns how long that took and how
    /// many answers came before it. Panics after `within`.
    pub(super) async fn until(
        &self,
        path: &str,
        token: &str,
        want: u16,
        within: Duration,
    ) -> (Duration, u32) {
        let start = Instant::now();
        let mut before = 0;
        loop {
            let got = self.get(path, token).await;
            if got == want {
                return (start.elapsed(), before);
            }
            assert_ne!(got, 500, "{path} answered 500");
            before += 1;
            assert!(
                start.elapsed() < within,
                "{path} still answered {got} instead of {want} after {within:?}"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    pub(super) fn stop(self) -> Run {
        self.server.stop()
    }
}

pub(super) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

fn personal(e: &Env, owner: &str, name: &str, scopes: &[&str]) -> (i64, String) {
    let mut args = vec!["--kind", "personal", "--owner", owner, "--name", name];
    for s in scopes {
        args.extend_from_slice(&["--scope", s]);
    }
    e.create(&args)
}

#[test]
fn a_revoke_through_one_instance_or_the_cli_is_refused_by_the_other_at_once() {
    require_postgres();
    let e = Env::setup();
    let (one_id, one) = personal(&e, "user@acme.test", "one", &["me:read"]);
    let (two_id, two) = personal(&e, "user@acme.test", "two", &["me:read"]);
    let (_, admin) = personal(&e, "admin@acme.test", "ops", &["tokens:write"]);
    let a = e.instance("a");
    let b = e.instance("b");
    runtime().block_on(async {
        assert_eq!(a.health().await, 200);
        assert_eq!(b.health().await, 200);
        // B has both tokens cached.
        for t in [&one, &two] {
            for _ in 0..3 {
                assert_eq!(b.get("/v1/me", t).await, 200);
            }
        }
        // Revoked through A's API: B refuses it well within its 1 s poll, so by the
        // notification.
        let path = format!("/v1/tokens/{one_id}/revoke");
        assert_eq!(
            a.send(reqwest::Method::POST, &path, &admin, serde_json::json!({}))
                .await,
            200
        );
        let (took, stale) = b.until("/v1/me", &one, 401, Duration::from_secs(1)).await;
        eprintln!("revoke through A reached B after {took:?} ({stale} stale answers)");
        assert!(took < Duration::from_millis(500), "took {took:?}");
        // Revoked with the CLI (another process, no server involved): the same.
        e.run(&["token", "revoke", &two_id.to_string()]).ok();
        let (took, stale) = b.until("/v1/me", &two, 401, Duration::from_secs(1)).await;
        eprintln!("revoke by the CLI reached B after {took:?} ({stale} stale answers)");
        assert!(took < Duration::from_millis(500), "took {took:?}");
        // A refuses both as well.
        assert_eq!(a.get("/v1/me", &one).await, 401);
        assert_eq!(a.get("/v1/me", &two).await, 401);
    });
    a.stop();
    b.stop();
}

#[test]
fn role_changes_and_deactivations_through_one_instance_narrow_the_other_at_once() {
    require_postgres();
    let e = Env::setup();
    e.run(&[
        "user",
        "add",
        "--email",
        "ann@acme.test",
        "--name",
        "Ann",
        "--role",
        "admin",
    ])
    .ok();
    let (_, ann) = personal(&e, "ann@acme.test", "reader", &["users:read"]);
    let (_, uli) = personal(&e, "user@acme.test", "mine", &["me:read"]);
    let (_, admin) = personal(&e, "admin@acme.test", "people", &["users:write"]);
    let a = e.instance("a");
    let b = e.instance("b");
    runtime().block_on(async {
        for _ in 0..3 {
            assert_eq!(b.get("/v1/users", &ann).await, 200);
            assert_eq!(b.get("/v1/me", &uli).await, 200);
        }
        // Ann is made a user through A: her token keeps users:read on paper, but a user may
        // not read users, so B refuses it.
        assert_eq!(
            a.send(
                reqwest::Method::PUT,
                "/v1/users/ann@acme.test/role",
                &admin,
                serde_json::json!({"role": "user"})
            )
            .await,
            200
        );
        let (took, _) = b
            .until("/v1/users", &ann, 403, Duration::from_secs(1))
            .await;
        assert!(took < Duration::from_millis(500), "took {took:?}");
        // Uli is deactivated through A: B refuses his token.
        assert_eq!(
            a.send(
                reqwest::Method::POST,
                "/v1/users/user@acme.test/deactivate",
                &admin,
                serde_json::json!({})
            )
            .await,
            200
        );
        let (took, _) = b.until("/v1/me", &uli, 401, Duration::from_secs(1)).await;
        assert!(took < Duration::from_millis(500), "took {took:?}");
    });
    a.stop();
    b.stop();
}

#[test]
fn with_its_listener_killed_an_instance_still_refuses_a_revoked_token_within_a_poll() {
    let server = require_postgres();
    let e = Env::setup();
    let (id, token) = personal(&e, "user@acme.test", "one", &["me:read"]);
    let b = e.instance("b");
    let admin_url = format!("{}/postgres", server.trim_end_matches('/'));
    runtime().block_on(async {
        for _ in 0..3 {
            assert_eq!(b.get("/v1/me", &token).await, 200);
        }
        // Kill every listening connection (B's among them), then revoke at once.
        use sqlx::Connection;
        let mut pg = sqlx::PgConnection::connect(&admin_url)
            .await
            .expect("connect");
        // Only this test's database: other tests run beside it on the same server.
        let database = e
            .pg_url()
            .expect("url")
            .rsplit('/')
            .next()
            .expect("database")
            .to_owned();
        let (killed,): (i64,) = sqlx::query_as(
            "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity \
             WHERE query ILIKE 'LISTEN%' AND datname = $1 AND pid <> pg_backend_pid()",
        )
        .bind(&database)
        .fetch_one(&mut pg)
        .await
        .expect("terminate");
        assert!(killed >= 1, "no listener connection found");
        e.run(&["token", "revoke", &id.to_string()]).ok();
        // Within one poll interval (1 s) plus the reconnect, never a stale accept after.
        let (took, stale) = b.until("/v1/me", &token, 401, Duration::from_secs(3)).await;
        eprintln!("with the listener killed: refused after {took:?} ({stale} stale answers)");
        assert!(took < Duration::from_millis(1500), "took {took:?}");
        for _ in 0..20 {
            assert_eq!(b.get("/v1/me", &token).await, 401);
        }
        // The listener comes back by itself, and with it the cache and a green health check.
        let start = Instant::now();
        while b.health().await != 200 {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "never healthy again"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let _ = pg.close().await;
    });
    b.stop();
}

#[test]
fn the_shared_key_file_is_created_0600_and_every_instance_must_use_that_key() {
    require_postgres();
    let e = Env::setup();
    let key = e.dir.path().join("shared.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key)
            .expect("key file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let text = std::fs::read_to_string(&key).expect("read");
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .expect("base64");
    assert_eq!(bytes.len(), 32);
    let (_, token) = personal(&e, "user@acme.test", "one", &["me:read"]);
    e.verify(&token, &[]).ok();

    // A copy others can read is refused, with the fix.
    let loose = e.dir.path().join("loose.key");
    std::fs::copy(&key, &loose).expect("copy");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&loose, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let mut c = e.cmd(&["token", "list"]);
        c.env("TESSERA_KEY_FILE", &loose);
        let r = e.run_with(c, "");
        assert_eq!(r.code, 1);
        assert!(r.error().contains("chmod 600"), "{}", r.stderr);
    }
    // Another key is refused: it would verify nothing.
    let other = e.dir.path().join("other.key");
    std::fs::write(
        &other,
        base64::engine::general_purpose::STANDARD.encode([7u8; 32]),
    )
    .expect("write");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&other, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    }
    let mut c = e.cmd(&["token", "list"]);
    c.env("TESSERA_KEY_FILE", &other);
    let r = e.run_with(c, "");
    assert_eq!(r.code, 1);
    assert!(r.error().contains("not the key"), "{}", r.stderr);
    // A missing key file is not silently replaced by a new key.
    let mut c = e.cmd(&["token", "list"]);
    c.env("TESSERA_KEY_FILE", e.dir.path().join("missing.key"));
    let r = e.run_with(c, "");
    assert_eq!(r.code, 1);
    assert!(r.error().contains("does not exist"), "{}", r.stderr);
    assert!(!e.dir.path().join("missing.key").exists());
    // Without any key file, PostgreSQL is refused with what to do.
    let mut c = e.cmd(&["token", "list"]);
    c.env_remove("TESSERA_KEY_FILE");
    let r = e.run_with(c, "");
    assert_eq!(r.code, 1);
    assert!(r.error().contains("--key-file"), "{}", r.stderr);
    // The token still verifies with the right key.
    e.verify(&token, &[]).ok();
}

#[test]
fn a_database_url_that_is_not_postgresql_is_refused_with_what_to_write() {
    require_postgres();
    let e = Env::setup();
    let mut c = e.cmd(&["token", "list"]);
    c.env("TESSERA_DATABASE_URL", "mysql://x@localhost/db");
    let r = e.run_with(c, "");
    assert_eq!(r.code, 1);
    assert!(r.error().contains("postgres://"), "{}", r.stderr);
}

#[test]
fn three_instances_together_admit_about_a_tokens_rate_limit_not_three_times_it() {
    require_postgres();
    let e = Env::setup();
    let (_, token) = e.create(&[
        "--kind",
        "personal",
        "--owner",
        "user@acme.test",
        "--name",
        "limited",
        "--scope",
        "me:read",
        "--rate-limit",
        "60",
    ]);
    let all = [e.instance("a"), e.instance("b"), e.instance("c")];
    runtime().block_on(async {
        // Each instance counts the others through its heartbeat (about a second).
        for i in &all {
            let start = Instant::now();
            loop {
                let v: serde_json::Value = i
                    .client
                    .get(format!("{}/healthz", i.base))
                    .send()
                    .await
                    .expect("healthz")
                    .json()
                    .await
                    .expect("json");
                if v["instances"] == 3 {
                    break;
                }
                assert!(start.elapsed() < Duration::from_secs(10), "{v}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        // A client behind a load balancer: 180 requests spread over the three.
        let mut admitted = 0u32;
        for n in 0..180 {
            match all[n % 3].get("/v1/me", &token).await {
                200 => admitted += 1,
                429 => {}
                other => panic!("unexpected {other}"),
            }
        }
        let ratio = f64::from(admitted) / 60.0;
        eprintln!("admitted {admitted} of 180 with a limit of 60 a minute on 3 instances");
        assert!((0.9..=1.2).contains(&ratio), "admitted {admitted}");
    });
    for i in all {
        i.stop();
    }
}

/// A PostgreSQL cluster of one test's own (it is stopped and started under load), made with
/// the same script `.ci/test` uses.
struct OwnCluster {
    dir: String,
    url: String,
}

impl OwnCluster {
    fn start() -> Self {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../.ci/postgres.sh");
        let out = std::process::Command::new("bash")
            .args([
                "-c",
                &format!(". '{script}' && pg_start >&2 && printf '%s %s' \"$PG_DIR\" \"$TESSERA_TEST_POSTGRES\""),
            ])
            .output()
            .expect("bash");
        assert!(
            out.status.success(),
            "cannot start a cluster: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let (dir, url) = text.split_once(' ').expect("dir and url");
        Self {
            dir: dir.to_owned(),
            url: url.to_owned(),
        }
    }

    /// Run one of `.ci/postgres.sh`'s functions on this cluster.
    fn script(&self, function: &str) {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../.ci/postgres.sh");
        let status = std::process::Command::new("bash")
            .args([
                "-c",
                &format!(". '{script}' && PG_DIR='{}' {function}", self.dir),
            ])
            .status()
            .expect("bash");
        assert!(status.success(), "{function} failed");
    }
}

impl Drop for OwnCluster {
    fn drop(&mut self) {
        let _ = std::process::Command::new("bash")
            .args([
                "-c",
                &format!(
                    ". '{}' && PG_DIR='{}' pg_stop",
                    concat!(env!("CARGO_MANIFEST_DIR"), "/../../../.ci/postgres.sh"),
                    self.dir
                ),
            ])
            .status();
    }
}

#[test]
fn postgresql_stopped_and_started_under_load_gives_503s_never_500s_and_recovers() {
    require_postgres();
    let cluster = OwnCluster::start();
    let mut e = Env::new();
    e.pg_server = Some(cluster.url.clone());
    let e = Env::setup_in(e);
    e.run(&["policy", "set", "max_rate_limit", "100000"]).ok();
    let (id, token) = e.create(&[
        "--kind",
        "personal",
        "--owner",
        "user@acme.test",
        "--name",
        "busy",
        "--scope",
        "me:read",
        "--rate-limit",
        "100000",
    ]);
    let a = e.instance("a");
    let uses = |e: &Env| -> i64 {
        e.run(&["token", "show", &id.to_string(), "--json"])
            .ok()
            .json()["use_count"]
            .as_i64()
            .expect("use_count")
    };
    let rt = runtime();
    let seen = rt.block_on(async {
        assert_eq!(a.health().await, 200);
        // Load: one client calling /v1/me in a loop, recording every answer.
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (client, url, t, halt) = (
            a.client.clone(),
            format!("{}/v1/me", a.base),
            token.clone(),
            stop.clone(),
        );
        let load = tokio::spawn(async move {
            let mut seen: Vec<u16> = Vec::new();
            while !halt.load(std::sync::atomic::Ordering::Relaxed) {
                if let Ok(r) = client.get(&url).bearer_auth(&t).send().await {
                    seen.push(r.status().as_u16());
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            seen
        });
        tokio::time::sleep(Duration::from_millis(300)).await;
        cluster.script("pg_server_stop");
        let start = Instant::now();
        while a.health().await != 503 {
            assert!(start.elapsed() < Duration::from_secs(10), "never unhealthy");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // While the database is away nothing is accepted from a stale cache.
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(a.get("/v1/me", &token).await, 503);
        cluster.script("pg_server_start");
        let start = Instant::now();
        while a.health().await != 200 {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "never healthy again"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        load.await.expect("load")
    });
    let count = |code: u16| seen.iter().filter(|s| **s == code).count();
    eprintln!(
        "under load: {} answers, {} x 200, {} x 503",
        seen.len(),
        count(200),
        count(503)
    );
    assert!(seen.iter().all(|s| matches!(s, 200 | 503)), "{seen:?}");
    assert!(count(503) > 0 && count(200) > 0);
    assert_eq!(*seen.last().expect("answers"), 200, "not recovered");
    // Usage made after the recovery is written.
    let before = uses(&e);
    rt.block_on(async {
        for _ in 0..5 {
            assert_eq!(a.get("/v1/me", &token).await, 200);
        }
    });
    let start = Instant::now();
    while uses(&e) < before + 5 {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "usage after recovery not written"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    a.stop();
}

/// Wait until `i`'s `/healthz` answers `want`; panics after `within`.
async fn health_becomes(i: &Instance, want: u16, within: Duration) -> Duration {
    let start = Instant::now();
    loop {
        if i.health().await == want {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < within,
            "/healthz did not answer {want} within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn copy_key(from: &std::path::Path, to: &std::path::Path) {
    // Written beside and renamed, as an administrator's copy tool would; mode 0600 kept.
    let tmp = to.with_extension("copying");
    std::fs::copy(from, &tmp).expect("copy key file");
    std::fs::rename(&tmp, to).expect("rename key file");
}

#[test]
fn a_key_rotation_reaches_every_instance_through_its_copy_of_the_key_file() {
    require_postgres();
    let e = Env::setup();
    let shared = e.dir.path().join("shared.key");
    // B runs on another machine: its own copy of the key file.
    let b_key = e.dir.path().join("b.key");
    copy_key(&shared, &b_key);
    let (_, first) = personal(&e, "user@acme.test", "first", &["me:read"]);
    let (_, admin) = personal(&e, "admin@acme.test", "ops", &["tokens:write", "me:read"]);
    let a = e.instance("a");
    let b = e.instance_keyed("b", Some(&b_key));
    let rt = runtime();

    // Prepared, copied, then rotated: no instance is ever without the key in use.
    e.run(&["key", "rotate", "--prepare"]).ok();
    copy_key(&shared, &b_key);
    e.run(&["key", "rotate"]).ok();
    let (_, second) = personal(&e, "user@acme.test", "second", &["me:read"]);
    rt.block_on(async {
        for t in [&first, &second] {
            assert_eq!(a.get("/v1/me", t).await, 200);
            assert_eq!(b.get("/v1/me", t).await, 200);
        }
        // Across a few heartbeats B stays healthy.
        for _ in 0..15 {
            assert_eq!(b.health().await, 200);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });

    // Rotated without preparing: B's copy lacks key 3, so B says so on /healthz (a load
    // balancer takes it out) and creates no tokens, until the file is copied to it.
    e.run(&["key", "rotate"]).ok();
    let (_, third) = personal(&e, "user@acme.test", "third", &["me:read"]);
    rt.block_on(async {
        assert_eq!(a.get("/v1/me", &third).await, 200);
        let took = health_becomes(&b, 503, Duration::from_secs(5)).await;
        eprintln!("B reported the missing key after {took:?}");
        let body = b
            .client
            .get(format!("{}/healthz", b.base))
            .send()
            .await
            .expect("healthz")
            .text()
            .await
            .expect("body");
        assert!(body.contains("key 3"), "{body}");
        // It cannot know the newest tokens; it never answers 500 for them.
        assert_eq!(b.get("/v1/me", &third).await, 401);
        assert_eq!(b.get("/v1/me", &second).await, 200);
        let created = b
            .client
            .post(format!("{}/v1/tokens", b.base))
            .bearer_auth(&admin)
            .json(&serde_json::json!({"kind": "personal", "name": "new", "scopes": ["me:read"]}))
            .send()
            .await
            .expect("create");
        assert_eq!(created.status().as_u16(), 503);
        let text = created.text().await.expect("body");
        assert!(text.contains("key 3") && !text.contains("tsr_"), "{text}");

        copy_key(&shared, &b_key);
        let took = health_becomes(&b, 200, Duration::from_secs(5)).await;
        eprintln!("B healthy again {took:?} after its key file was copied");
        assert_eq!(b.get("/v1/me", &third).await, 200);
        assert_eq!(b.get("/v1/me", &first).await, 200);
    });
    a.stop();
    b.stop();
}
