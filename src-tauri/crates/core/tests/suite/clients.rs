//! OAuth clients on a real SQLite file: registration rights, secrets (constant-time check,
//! overlap on rotation, retirement), access tokens (scope narrowing, limits, expiry), disable
//! and delete revoking at once, introspection visibility, and the migration that added them.

use std::time::Duration as StdDuration;

use tessera_core::error::Field;
use tessera_core::model::{Networks, Role, Scope};
use tessera_core::service::{
    parse_token_ttl, ClientAction, ClientStatus, ClientWithSecret, GrantRefused, Introspector,
    NewClient,
};
use tessera_core::store::tokens::TokenFilter;
use tessera_core::token::TokenKind;
use tessera_core::verify::Reason;
use tessera_core::{Actor, Error, Tessera};
use time::OffsetDateTime;

use crate::common::{company, person};

fn scopes(list: &[&str]) -> Vec<Scope> {
    list.iter().map(|s| s.parse().expect("scope")).collect()
}

fn billing() -> NewClient {
    NewClient {
        name: "billing-sync".into(),
        description: "nightly billing export, run by finance ops".into(),
        scopes: scopes(&["me:read", "tokens:read"]),
        ..NewClient::default()
    }
}

async fn accepted(t: &Tessera, token: &str, need: &[&str]) -> Result<(), Reason> {
    let d = t
        .verify(token, &scopes(need), None, OffsetDateTime::now_utc())
        .await
        .expect("verify");
    d.refused.map_or(Ok(()), Err)
}

#[tokio::test]
async fn a_client_gets_narrowed_short_lived_tokens_with_its_secret() {
    let dir = tempfile::tempdir().expect("dir");
    let (t, admin) = company(dir.path()).await;
    let made = t.create_client(&admin, billing()).await.expect("client");
    let c = &made.client;
    assert!(c.client_id.starts_with("tsc_"));
    assert_eq!(c.status, ClientStatus::Active);
    assert_eq!(c.token_ttl_seconds, 3600);
    assert_eq!(c.secrets.len(), 1);
    let secret = made.client_secret.expose().to_owned();

    // Wrong secret, unknown client, and a token in place of a secret: one answer.
    let wrong = tessera_core::token::ClientSecret::generate();
    for (id, s) in [
        (c.client_id.as_str(), wrong.expose()),
        ("tsc_nobody", secret.as_str()),
        (c.client_id.as_str(), "not a secret"),
    ] {
        assert_eq!(
            t.authenticate_client(id, s).await.expect("auth").err(),
            Some(GrantRefused::InvalidClient)
        );
    }
    let client = t
        .authenticate_client(&c.client_id, &secret)
        .await
        .expect("auth")
        .expect("right secret");

    // All it holds, or fewer; never more.
    let all = t
        .issue_access_token(&client, None, None)
        .await
        .expect("issue")
        .expect("granted");
    assert_eq!(all.scope, "me:read tokens:read");
    assert_eq!(all.expires_in, 3600);
    assert!(all.token.expose().starts_with("tsr_a_"));
    let narrow = t
        .issue_access_token(&client, Some("me:read"), None)
        .await
        .expect("issue")
        .expect("granted");
    assert_eq!(narrow.scope, "me:read");
    match t
        .issue_access_token(&client, Some("me:read tokens:write"), None)
        .await
        .expect("issue")
    {
        Err(GrantRefused::InvalidScope(m)) => assert!(m.contains("tokens:write"), "{m}"),
        other => panic!("widening must be refused: {other:?}"),
    }

    assert_eq!(
        accepted(&t, all.token.expose(), &["tokens:read"]).await,
        Ok(())
    );
    assert_eq!(
        accepted(&t, narrow.token.expose(), &["tokens:read"]).await,
        Err(Reason::Scope)
    );
    let d = t
        .verify(all.token.expose(), &[], None, OffsetDateTime::now_utc())
        .await
        .expect("verify");
    let v = d.token.expect("found");
    assert_eq!(v.kind, TokenKind::Access);
    assert_eq!(v.client.as_deref(), Some(c.client_id.as_str()));
    assert!(v.owner.is_none());

    // Listed under the client, not among company tokens.
    let listed = t
        .list_tokens(
            &admin,
            &TokenFilter {
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .expect("list");
    assert!(listed.iter().all(|x| x.kind != TokenKind::Access));
    let access = t
        .list_tokens(
            &admin,
            &TokenFilter {
                kind: Some(TokenKind::Access),
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .expect("list access");
    assert_eq!(access.len(), 2);
    let info = t.get_client(&admin, c.id).await.expect("client");
    assert_eq!(info.tokens_issued_24h, 2);
    assert!(info.secrets[0].last_used_at.is_some());
    // Their uses count under the client.
    let used = tessera_core::store::usage::UseEvent {
        token_id: v.id,
        at: OffsetDateTime::now_utc(),
        ip: None,
        user_agent: Some("svc/1".into()),
        method: "GET".into(),
        path: "/v1/me".into(),
        status: 200,
        outcome: "accepted",
        via: "bearer",
    };
    t.record_uses(&[used.clone(), used]).await.expect("record");
    let info = t.get_client(&admin, c.id).await.expect("client");
    assert_eq!(info.uses, 2);
    assert!(info.last_used_at.is_some());

    // The SQLite file holds no secret, only its keyed hash (on PostgreSQL the file does not
    // exist; the hash is what the rows hold there too, by the same code).
    let file = dir.path().join("tessera.db");
    if tessera_core::store::test_database_url(None, "tessera_test", dir.path()).is_some() {
        return;
    }
    let db = std::fs::read(file).expect("db");
    let needle = secret.as_bytes();
    assert!(!db.windows(needle.len()).any(|w| w == needle));
}

#[tokio::test]
async fn disabling_or_deleting_a_client_stops_its_tokens_at_once() {
    let dir = tempfile::tempdir().expect("dir");
    let (t, admin) = company(dir.path()).await;
    t.enable_verify_cache(StdDuration::from_millis(50));
    let made = t.create_client(&admin, billing()).await.expect("client");
    let id = made.client.id;
    let secret = made.client_secret.expose().to_owned();
    let client = t
        .authenticate_client(&made.client.client_id, &secret)
        .await
        .expect("auth")
        .expect("ok");
    let tok = t
        .issue_access_token(&client, None, None)
        .await
        .expect("issue")
        .expect("granted");
    assert_eq!(accepted(&t, tok.token.expose(), &[]).await, Ok(()));
    assert_eq!(
        accepted(&t, tok.token.expose(), &[]).await,
        Ok(()),
        "cached"
    );

    let off = t
        .set_client_status(&admin, id, ClientAction::Disable)
        .await
        .expect("disable");
    assert_eq!(off.status, ClientStatus::Disabled);
    assert_eq!(
        accepted(&t, tok.token.expose(), &[]).await,
        Err(Reason::Revoked)
    );
    let client = t
        .authenticate_client(&made.client.client_id, &secret)
        .await
        .expect("auth")
        .expect("the secret still authenticates");
    assert!(matches!(
        t.issue_access_token(&client, None, None)
            .await
            .expect("issue"),
        Err(GrantRefused::UnauthorizedClient(_))
    ));
    let e = t
        .set_client_status(&admin, id, ClientAction::Disable)
        .await
        .expect_err("twice");
    assert!(e.message().contains("disabled already"), "{e}");

    t.set_client_status(&admin, id, ClientAction::Enable)
        .await
        .expect("enable");
    let client = t
        .authenticate_client(&made.client.client_id, &secret)
        .await
        .expect("auth")
        .expect("ok");
    let again = t
        .issue_access_token(&client, None, None)
        .await
        .expect("issue")
        .expect("granted");
    assert_eq!(accepted(&t, again.token.expose(), &[]).await, Ok(()));

    t.delete_client(&admin, id).await.expect("delete");
    assert_eq!(
        accepted(&t, again.token.expose(), &[]).await,
        Err(Reason::Revoked)
    );
    assert_eq!(
        t.authenticate_client(&made.client.client_id, &secret)
            .await
            .expect("auth")
            .err(),
        Some(GrantRefused::InvalidClient)
    );
    assert!(t.list_clients(&admin).await.expect("list").is_empty());
    let actions: Vec<String> = t
        .audit(
            &admin,
            &tessera_core::store::audit::AuditFilter {
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .expect("audit")
        .into_iter()
        .map(|e| e.action)
        .collect();
    for a in [
        "client.create",
        "client.token",
        "client.disable",
        "client.enable",
        "client.delete",
    ] {
        assert!(actions.iter().any(|x| x == a), "{a} in {actions:?}");
    }
}

#[tokio::test]
async fn secrets_rotate_with_overlap_until_the_old_one_is_retired() {
    let dir = tempfile::tempdir().expect("dir");
    let (t, admin) = company(dir.path()).await;
    let made = t.create_client(&admin, billing()).await.expect("client");
    let (id, cid) = (made.client.id, made.client.client_id.clone());
    let old = made.client_secret.expose().to_owned();
    let rotated = t.rotate_client_secret(&admin, id).await.expect("rotate");
    let new = rotated.client_secret.expose().to_owned();
    assert_ne!(old, new);
    assert_eq!(rotated.client.secrets.len(), 2);
    for s in [&old, &new] {
        assert!(t.authenticate_client(&cid, s).await.expect("auth").is_ok());
    }
    let e = t
        .rotate_client_secret(&admin, id)
        .await
        .expect_err("a third");
    assert!(e.message().contains("retire the older one first"), "{e}");

    let old_id = rotated.client.secrets[1].id;
    let after = t
        .retire_client_secret(&admin, id, old_id)
        .await
        .expect("retire");
    assert_eq!(after.secrets.len(), 1);
    assert!(t
        .authenticate_client(&cid, &old)
        .await
        .expect("auth")
        .is_err());
    assert!(t
        .authenticate_client(&cid, &new)
        .await
        .expect("auth")
        .is_ok());
    let e = t
        .retire_client_secret(&admin, id, after.secrets[0].id)
        .await
        .expect_err("the last one");
    assert!(e.message().contains("only valid secret"), "{e}");
}

#[tokio::test]
async fn only_company_token_managers_register_clients_and_within_their_own_authority() {
    let dir = tempfile::tempdir().expect("dir");
    let (t, admin) = company(dir.path()).await;
    let user = person(&t, "u@acme.test", Role::User).await;
    let vrm = person(&t, "v@acme.test", Role::VrmAdmin).await;
    let e = t.create_client(&user, billing()).await.expect_err("user");
    assert!(matches!(e, Error::Forbidden(_)), "{e}");
    assert!(t.list_clients(&user).await.is_err());
    let by_vrm = t.create_client(&vrm, billing()).await.expect("vrm admin");
    // The company's, not Vera's: it keeps working when she leaves.
    t.deactivate_user(&Actor::Operator, &"v@acme.test".parse().expect("e"))
        .await
        .expect("deactivate");
    let row = t
        .authenticate_client(&by_vrm.client.client_id, by_vrm.client_secret.expose())
        .await
        .expect("auth")
        .expect("still authenticates");
    let tok = t
        .issue_access_token(&row, None, None)
        .await
        .expect("i")
        .expect("granted");
    assert_eq!(
        accepted(&t, tok.token.expose(), &["tokens:read"]).await,
        Ok(())
    );
    let e = t
        .create_client(
            &admin,
            NewClient {
                name: "admin-ish".into(),
                scopes: scopes(&["users:write"]),
                ..billing()
            },
        )
        .await
        .expect_err("beyond a VRM admin");
    assert!(e.message().contains("users:write"), "{e}");
    let e = t
        .create_client(
            &admin,
            NewClient {
                name: " ".into(),
                ..billing()
            },
        )
        .await
        .expect_err("no name");
    assert_eq!(e.field(), Some(Field::Name));
    let e = t
        .create_client(&admin, billing())
        .await
        .expect_err("same name");
    assert!(matches!(e, Error::Conflict(_)), "{e}");

    // Through a token: only what the token holds, and the client ends when it does.
    let via = |token: String| {
        let t = t.clone();
        async move {
            let d = t
                .verify(&token, &[], None, OffsetDateTime::now_utc())
                .await
                .expect("verify");
            let v = d.token.expect("token");
            let owner = t
                .actor(Some(&crate::common::ADMIN.parse().expect("e")))
                .await
                .expect("actor");
            Actor::via_token(&v, owner.person().cloned())
        }
    };
    let made = t
        .create_token(
            &admin,
            tessera_core::NewToken {
                scopes: scopes(&["tokens:write", "me:read"]),
                expiry: tessera_core::policy::ExpiryRequest::parse_in("30d").expect("30d"),
                networks: Networks::parse(&["10.0.0.0/8"]).expect("nets"),
                ..tessera_core::NewToken::named(TokenKind::Personal, "automation")
            },
        )
        .await
        .expect("token");
    let a = via(made.token.expose().to_owned()).await;
    let e = t
        .create_client(
            &a,
            NewClient {
                name: "wide".into(),
                ..billing()
            },
        )
        .await
        .expect_err("tokens:read not held");
    assert!(e.message().contains("tokens:read"), "{e}");
    let ok = t
        .create_client(
            &a,
            NewClient {
                name: "narrow".into(),
                scopes: scopes(&["me:read"]),
                ..billing()
            },
        )
        .await
        .expect("within");
    assert_eq!(ok.client.allowed_networks, vec!["10.0.0.0/8"]);
    assert_eq!(ok.client.expires_at, made.info.expires_at);
    assert!(ok.client.rate_limit <= made.info.rate_limit);
    let e = t
        .create_client(
            &a,
            NewClient {
                name: "anywhere".into(),
                scopes: scopes(&["me:read"]),
                networks: Networks::parse(&["0.0.0.0/0"]).expect("nets"),
                ..billing()
            },
        )
        .await
        .expect_err("wider networks");
    assert_eq!(e.field(), Some(Field::AllowedNetworks));
    // A client registered in the app has no end: a token that expires cannot give it a
    // new secret or bring it back.
    let forever = t
        .create_client(
            &admin,
            NewClient {
                name: "forever".into(),
                scopes: scopes(&["me:read"]),
                ..billing()
            },
        )
        .await
        .expect("client");
    let e = t
        .rotate_client_secret(&a, forever.client.id)
        .await
        .expect_err("outlives the token");
    assert_eq!(e.field(), Some(Field::Client), "{e}");
    t.set_client_status(&a, forever.client.id, ClientAction::Disable)
        .await
        .expect("narrowing is always allowed");
    let e = t
        .set_client_status(&a, forever.client.id, ClientAction::Enable)
        .await
        .expect_err("widening");
    assert_eq!(e.field(), Some(Field::Client), "{e}");
}

#[tokio::test]
async fn introspection_shows_a_client_only_its_own_tokens_and_expiry_ends_them() {
    let dir = tempfile::tempdir().expect("dir");
    let (t, admin) = company(dir.path()).await;
    let mk = |name: &str, ttl: &str| NewClient {
        name: name.into(),
        token_ttl: Some(parse_token_ttl(ttl).expect("ttl")),
        ..billing()
    };
    let a = t.create_client(&admin, mk("a", "2s")).await.expect("a");
    let b = t.create_client(&admin, mk("b", "1h")).await.expect("b");
    let auth = |c: &ClientWithSecret| {
        let t = t.clone();
        let (id, s) = (
            c.client.client_id.clone(),
            c.client_secret.expose().to_owned(),
        );
        async move {
            t.authenticate_client(&id, &s)
                .await
                .expect("auth")
                .expect("ok")
        }
    };
    let ca = auth(&a).await;
    let cb = auth(&b).await;
    let ta = t
        .issue_access_token(&ca, None, None)
        .await
        .expect("i")
        .expect("g");
    let tb = t
        .issue_access_token(&cb, None, None)
        .await
        .expect("i")
        .expect("g");
    assert_eq!(ta.expires_in, 2);

    let mine = t
        .introspect(
            &Introspector::Client(a.client.client_id.clone()),
            ta.token.expose(),
        )
        .await
        .expect("introspect");
    assert!(mine.active);
    assert_eq!(mine.client_id.as_deref(), Some(a.client.client_id.as_str()));
    assert_eq!(mine.sub.as_deref(), Some(a.client.client_id.as_str()));
    assert_eq!(mine.scope.as_deref(), Some("me:read tokens:read"));
    assert!(mine.exp.expect("exp") > mine.iat.expect("iat"));
    let theirs = t
        .introspect(
            &Introspector::Client(a.client.client_id.clone()),
            tb.token.expose(),
        )
        .await
        .expect("introspect");
    assert!(!theirs.active && theirs.scope.is_none());
    assert!(
        t.introspect(&Introspector::Verifier, tb.token.expose())
            .await
            .expect("i")
            .active
    );

    // Revocation by another client is a silent no-op; by its own, immediate.
    t.revoke_by_client(&ca, tb.token.expose())
        .await
        .expect("revoke");
    assert_eq!(accepted(&t, tb.token.expose(), &[]).await, Ok(()));
    t.revoke_by_client(&cb, tb.token.expose())
        .await
        .expect("revoke");
    assert_eq!(
        accepted(&t, tb.token.expose(), &[]).await,
        Err(Reason::Revoked)
    );

    tokio::time::sleep(StdDuration::from_millis(2100)).await;
    assert_eq!(
        accepted(&t, ta.token.expose(), &[]).await,
        Err(Reason::Expired)
    );
    assert!(
        !t.introspect(&Introspector::Verifier, ta.token.expose())
            .await
            .expect("i")
            .active
    );
}

/// The migration that added OAuth clients rebuilds the tokens table (SQLite cannot change a
/// CHECK otherwise): tokens, their usage and their sources must all survive it.
#[tokio::test]
async fn the_rebuild_of_the_tokens_table_keeps_every_row_that_refers_to_it() {
    use sqlx::{ConnectOptions, Connection, Executor};
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("tessera.db");
    let migrations = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite");
    let mut files: Vec<_> = std::fs::read_dir(&migrations)
        .expect("migrations")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    {
        let mut c = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&db)
            .create_if_missing(true)
            .foreign_keys(true)
            .connect()
            .await
            .expect("connect");
        c.execute("CREATE TABLE _sqlx_migrations (version BIGINT PRIMARY KEY, description TEXT NOT NULL, installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, success BOOLEAN NOT NULL, checksum BLOB NOT NULL, execution_time BIGINT NOT NULL)")
            .await
            .expect("table");
        let before: Vec<_> = files
            .iter()
            .filter(|p| *p.file_name().expect("name").to_string_lossy() < *"20261204090000")
            .collect();
        let migrator = sqlx::migrate::Migrator::new(migrations.as_path())
            .await
            .expect("migrator");
        for (path, m) in before.iter().zip(migrator.iter()) {
            c.execute(std::fs::read_to_string(path).expect("sql").as_str())
                .await
                .expect("old migration");
            sqlx::query("INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES ($1, $2, TRUE, $3, 0)")
                .bind(m.version)
                .bind(&*m.description)
                .bind(&*m.checksum)
                .execute(&mut c)
                .await
                .expect("record");
        }
        c.execute(
            "INSERT INTO users (id, email, name, role, password_hash, created_at) VALUES (7, 'old@acme.test', 'Old', 'user', 'x', 1);
             INSERT INTO tokens (id, kind, owner_id, name, hash, hint, scopes, status, created_at, idle_anchor_at, rate_limit)
                 VALUES (5, 'personal', 7, 'old', x'0102', 'tsr_p_…abcd', 'me:read', 'active', 1, 1, 60);
             INSERT INTO usage_events (token_id, at, outcome) VALUES (5, 2, 'accepted');
             INSERT INTO token_sources (token_id, kind, source, first_at) VALUES (5, 'network', '10.0.0.0/24', 2);",
        )
        .await
        .expect("old rows");
        c.close().await.expect("close");
    }
    let t = crate::common::open(dir.path()).await;
    drop(t);
    let mut c = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&db)
        .connect()
        .await
        .expect("connect");
    let count = |sql: &'static str| sqlx::query_as::<_, (i64,)>(sql);
    assert_eq!(
        count("SELECT COUNT(*) FROM usage_events WHERE token_id = 5")
            .fetch_one(&mut c)
            .await
            .expect("q")
            .0,
        1
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM token_sources WHERE token_id = 5")
            .fetch_one(&mut c)
            .await
            .expect("q")
            .0,
        1
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM tokens WHERE id = 5 AND name = 'old'")
            .fetch_one(&mut c)
            .await
            .expect("q")
            .0,
        1
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'tokens' AND name LIKE 'tokens_%'")
            .fetch_one(&mut c)
            .await
            .expect("q")
            .0,
        6
    );
}
