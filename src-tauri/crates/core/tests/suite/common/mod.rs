//! Set-up shared by the core's integration tests: a Tessera on a real SQLite file in a
//! temporary data dir, with its key in a file rather than the OS keyring.
// Each test binary uses part of this.
#![allow(dead_code)]

use std::path::Path;

use tessera_core::model::{Role, TokenId};
use tessera_core::password::Password;
use tessera_core::policy::ExpiryRequest;
use tessera_core::token::TokenKind;
use tessera_core::{Actor, NewToken, NewUser, Tessera};

/// The first admin every test company gets.
pub const ADMIN: &str = "admin@acme.test";

/// Open the Tessera in `dir` (another call on the same dir acts as another process would).
pub async fn open(dir: &Path) -> Tessera {
    Tessera::open(test_options(dir)).await.expect("open")
}

/// Open the Tessera in `dir` and create the company "Acme" with its first admin, [`ADMIN`].
pub async fn company(dir: &Path) -> (Tessera, Actor) {
    let t = open(dir).await;
    let admin = t
        .init(
            "Acme",
            NewUser {
                email: ADMIN.parse().expect("email"),
                name: "Ada".into(),
                role: Role::Admin,
                password: Password::new("correct horse battery staple".into()).expect("pw"),
                source_group: String::new(),
            },
        )
        .await
        .expect("init");
    (t, Actor::User(admin))
}

/// A token of `kind` named `name` for `who`, expiring in `expires_in` ("30d", "20h"),
/// with no scopes, networks or idle expiry.
pub async fn token(
    t: &Tessera,
    who: &Actor,
    kind: TokenKind,
    name: &str,
    expires_in: &str,
) -> TokenId {
    t.create_token(
        who,
        NewToken {
            description: Some("test".into()),
            expiry: ExpiryRequest::parse_in(expires_in).expect("expiry"),
            ..NewToken::named(kind, name)
        },
    )
    .await
    .expect("token")
    .info
    .id
}

/// Add a person with `role` (as the operator) and return them as an actor.
pub async fn person(t: &Tessera, email: &str, role: Role) -> Actor {
    t.add_user(
        &Actor::Operator,
        NewUser {
            email: email.parse().expect("email"),
            name: "P".into(),
            role,
            password: Password::new("correct horse battery staple".into()).expect("pw"),
            source_group: String::new(),
        },
    )
    .await
    .expect("user");
    t.actor(Some(&email.parse().expect("email")))
        .await
        .expect("actor")
}

/// How the tests open a Tessera in `dir`: the SQLite file there, or, when
/// `TESSERA_TEST_POSTGRES` names a PostgreSQL server (`.ci/test`'s second pass), a database of
/// that server named after `dir` with its shared key file in `dir`.
pub fn test_options(dir: &Path) -> tessera_core::OpenOptions {
    let mut o = tessera_core::OpenOptions::new(dir, tessera_core::keys::KeyStoreChoice::File);
    if let Some(url) = tessera_core::store::test_database_url(None, "tessera_test", dir) {
        o.database_url = Some(url);
        o.key_file = Some(dir.join("shared.key"));
    }
    o
}
