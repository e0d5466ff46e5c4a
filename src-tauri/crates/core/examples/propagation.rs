//! How fast a revoke made through one server reaches another's verify cache on PostgreSQL:
//! two `Tessera`s on one database (as two `tessera serve` processes would be), each with its
//! cache on. For each of N tokens, cached by B, A revokes it and B verifies in a loop until it
//! is refused; the time from A's commit to B's first refusal is recorded. Then the same with
//! B's listening connection killed (`pg_terminate_backend`) just before each revoke. The
//! baseline, measured in the same run, is one uncached verification on B (a database round
//! trip), and figures are reported as multiples of it too.
//!
//! `cargo run -p tessera-core --example propagation -- postgres://postgres@127.0.0.1:PORT [N]`
//! (`.ci/postgres.sh`'s `pg_start` gives a server). Debug builds are fine: the times measured
//! are the database's and the notifications', not this process's CPU.

use std::time::{Duration, Instant};

use tessera_core::keys::KeyStoreChoice;
use tessera_core::model::Role;
use tessera_core::password::Password;
use tessera_core::token::TokenKind;
use tessera_core::{Actor, NewToken, NewUser, OpenOptions, StatusAction, Tessera};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

#[tokio::main]
async fn main() -> Res<()> {
    let mut args = std::env::args().skip(1);
    let server = args
        .next()
        .ok_or("usage: propagation postgres://USER@HOST:PORT [N]")?;
    let n: usize = args.next().map(|s| s.parse()).transpose()?.unwrap_or(200);
    let dir = tempfile::tempdir()?;
    let opts = |name: &str| OpenOptions {
        database_url: Some(format!(
            "{}/tessera_propagation_{}",
            server.trim_end_matches('/'),
            std::process::id()
        )),
        key_file: Some(dir.path().join("shared.key")),
        ..OpenOptions::new(dir.path().join(name), KeyStoreChoice::File)
    };
    let a = Tessera::open(opts("a")).await?;
    a.init(
        "Acme",
        NewUser {
            email: "admin@acme.test".parse()?,
            name: "Ada".into(),
            role: Role::Admin,
            password: Password::new("correct horse battery staple".into())?,
            source_group: String::new(),
        },
    )
    .await?;
    let mut policy = a.policy().await?;
    policy.max_personal_tokens = 10_000;
    a.set_policy(&Actor::Operator, policy).await?;
    let b = Tessera::open(opts("b")).await?;
    a.enable_verify_cache(Duration::from_millis(50));
    b.enable_verify_cache(Duration::from_millis(50));
    if !b.verify_cache_ready(Duration::from_secs(10)).await {
        return Err("B's listener did not connect".into());
    }
    let admin: tessera_core::model::Email = "admin@acme.test".parse()?;

    // Baseline: an uncached verification on B (one round trip to the database).
    let mut baseline = Vec::new();
    for i in 0..n.min(200) {
        let c = a
            .create_token(
                &Actor::Operator,
                NewToken {
                    owner: Some(admin.clone()),
                    ..NewToken::named(TokenKind::Personal, format!("base-{i}"))
                },
            )
            .await?;
        let t0 = Instant::now();
        b.verify(c.token.expose(), &[], None, time::OffsetDateTime::now_utc())
            .await?;
        baseline.push(t0.elapsed());
    }
    let base = median(&mut baseline);

    let up = run(&a, &b, &admin, n, None).await?;
    let killed = run(&a, &b, &admin, n.min(50), Some(&server)).await?;
    println!("uncached verify on B (baseline): median {base:?}");
    report("listener up", up, base);
    report("listener killed before each revoke", killed, base);
    a.close().await;
    b.close().await;
    Ok(())
}

/// Revoke `n` tokens through A, each cached by B first; the time until B refuses each.
async fn run(
    a: &Tessera,
    b: &Tessera,
    admin: &tessera_core::model::Email,
    n: usize,
    kill_listeners_on: Option<&str>,
) -> Res<(Vec<Duration>, usize)> {
    let mut took = Vec::with_capacity(n);
    // Revokes refused by B's very first verification after A's commit.
    let mut first = 0;
    for i in 0..n {
        let c = a
            .create_token(
                &Actor::Operator,
                NewToken {
                    owner: Some(admin.clone()),
                    ..NewToken::named(
                        TokenKind::Personal,
                        format!("p-{}-{i}", kill_listeners_on.is_some()),
                    )
                },
            )
            .await?;
        let secret = c.token.expose();
        let hits = b.verify_cache_hits();
        while b.verify_cache_hits() < hits + 2 {
            b.verify(secret, &[], None, time::OffsetDateTime::now_utc())
                .await?;
        }
        if let Some(server) = kill_listeners_on {
            kill_listeners(server).await?;
        }
        a.set_token_status(&Actor::Operator, c.info.id, StatusAction::Revoke)
            .await?;
        let t0 = Instant::now();
        let mut tries = 0;
        loop {
            tries += 1;
            let d = b
                .verify(secret, &[], None, time::OffsetDateTime::now_utc())
                .await?;
            if !d.accepted() {
                if tries == 1 {
                    first += 1;
                }
                break;
            }
            if t0.elapsed() > Duration::from_secs(10) {
                return Err("B never refused a revoked token".into());
            }
        }
        took.push(t0.elapsed());
        if kill_listeners_on.is_some() {
            b.verify_cache_ready(Duration::from_secs(10)).await;
        }
    }
    Ok((took, first))
}

async fn kill_listeners(server: &str) -> Res<()> {
    use sqlx::Connection;
    let mut c =
        sqlx::PgConnection::connect(&format!("{}/postgres", server.trim_end_matches('/'))).await?;
    sqlx::query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE query ILIKE 'LISTEN%' AND datname LIKE 'tessera_propagation_%' AND pid <> pg_backend_pid()",
    )
    .execute(&mut c)
    .await?;
    c.close().await?;
    Ok(())
}

fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn report(what: &str, (mut v, first): (Vec<Duration>, usize), base: Duration) {
    v.sort();
    let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
    let x = |d: Duration| d.as_secs_f64() / base.as_secs_f64().max(1e-9);
    println!(
        "{what}: {} revokes, {first} refused by B's first verification after the commit; \
         until refused: p50 {:?} ({:.1}x baseline), p99 {:?} ({:.1}x), max {:?} ({:.1}x)",
        v.len(),
        at(0.5),
        x(at(0.5)),
        at(0.99),
        x(at(0.99)),
        at(1.0),
        x(at(1.0))
    );
}
