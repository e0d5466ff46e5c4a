//! Warm in-process `Tessera::verify_at` against one HMAC-SHA-256 of a token, measured in the
//! same run; prints the ratio at the end. Run with `cargo bench -p tessera-api --bench verify`.
//! Each verify reads the clock ([`unix_now`]) as the server's gate does on every request, so
//! the figure includes everything the request path pays for.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, Criterion};
use tessera_core::keys::KeyStoreChoice;
use tessera_core::model::{Role, Scope};
use tessera_core::password::Password;
use tessera_core::token::{TokenKind, TokenSecret};
use tessera_core::verify::unix_now;
use tessera_core::{Actor, NewToken, NewUser, OpenOptions, Tessera};
use time::OffsetDateTime;

struct Fixture {
    _dir: tempfile::TempDir,
    rt: tokio::runtime::Runtime,
    tessera: Tessera,
    secret: TokenSecret,
    scopes: Vec<Scope>,
}

fn fixture() -> Fixture {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let (tessera, secret) = rt.block_on(async {
        let t = Tessera::open(OpenOptions::new(
            dir.path().to_owned(),
            KeyStoreChoice::File,
        ))
        .await
        .expect("open");
        t.init(
            "Bench",
            NewUser {
                email: "ada@example.com".parse().expect("email"),
                name: "Ada".into(),
                role: Role::Admin,
                password: Password::new("correct horse battery staple".into()).expect("pw"),
                source_group: String::new(),
            },
        )
        .await
        .expect("init");
        // Some other tokens so the index is not trivially small.
        let mut last = None;
        for i in 0..200 {
            let c = t
                .create_token(
                    &Actor::Operator,
                    NewToken {
                        description: Some("bench".into()),
                        scopes: vec!["me:read".parse().expect("scope")],
                        ..NewToken::named(TokenKind::Company, format!("svc-{i}"))
                    },
                )
                .await
                .expect("token");
            last = Some(c.token);
        }
        // As the server runs it: with the in-memory verification cache.
        t.enable_verify_cache(Duration::from_millis(50));
        (t, last.expect("a token"))
    });
    Fixture {
        _dir: dir,
        rt,
        tessera,
        secret,
        scopes: vec!["me:read".parse().expect("scope")],
    }
}

fn verify_once(f: &Fixture) -> bool {
    f.rt.block_on(f.tessera.verify(
        f.secret.expose(),
        &f.scopes,
        None,
        OffsetDateTime::now_utc(),
    ))
    .expect("verify")
    .accepted()
}

fn bench(c: &mut Criterion) {
    let f = fixture();
    assert!(verify_once(&f), "the bench token must verify");
    let mut g = c.benchmark_group("verify");
    g.bench_function("hmac_sha256_of_a_token", |b| {
        b.iter(|| black_box(f.tessera.hasher().hash(black_box(&f.secret))))
    });
    g.bench_function("tessera_verify_warm", |b| {
        b.iter_custom(|iters| {
            f.rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    let d = f
                        .tessera
                        .verify_at(black_box(f.secret.expose()), &f.scopes, None, unix_now())
                        .await
                        .expect("verify");
                    black_box(d.accepted());
                }
                start.elapsed()
            })
        })
    });
    g.finish();

    // The ratio, measured here in the same run.
    let time = |n: u32, op: &dyn Fn()| {
        let start = Instant::now();
        for _ in 0..n {
            op();
        }
        start.elapsed() / n
    };
    let hmac = time(200_000, &|| {
        black_box(f.tessera.hasher().hash(black_box(&f.secret)));
    });
    // Many calls inside one runtime entry, as in a server, so the figure is the cost of
    // `verify` itself rather than of entering the runtime once per call.
    let n = 200_000u32;
    let verify = f.rt.block_on(async {
        let start = Instant::now();
        for _ in 0..n {
            let d = f
                .tessera
                .verify_at(black_box(f.secret.expose()), &f.scopes, None, unix_now())
                .await
                .expect("verify");
            black_box(d.accepted());
        }
        start.elapsed() / n
    });
    let ratio = verify.as_secs_f64()
        / hmac
            .as_secs_f64()
            .max(Duration::from_nanos(1).as_secs_f64());
    println!("\nsummary: HMAC-SHA-256 of a token {hmac:?}; warm Tessera::verify_at {verify:?}; ratio {ratio:.2}x");
}

criterion_group!(benches, bench);

fn main() {
    benches();
    criterion::Criterion::default()
        .configure_from_args()
        .final_summary();
}
