//! Two servers flushing usage into one PostgreSQL database at once: two `Tessera`s on one
//! database (as two `tessera serve` processes would be), each writing batches of usage events
//! over many tokens with [`Tessera::record_uses`] back to back, as fast as they go (a server's
//! usage writer flushes one batch at a time, five times a second). Each round has two phases
//! of the same length, one instance alone (A, then B, in turn) and both together, in ABBA
//! order; the figure is the median over the rounds of together / alone events per second,
//! so each ratio compares phases that ran side by side.
//!
//! Meanwhile a connection of its own samples `pg_stat_activity` every 5 ms for this
//! database's backends waiting on a lock (`wait_event_type = 'Lock'`: `advisory` is the
//! write lock every write transaction takes, `transactionid` or `tuple` a row lock), and
//! `pg_stat_database.deadlocks` is read before and after (after both instances closed their
//! connections, so their counters are flushed). Any deadlock, or any failed flush, makes it
//! exit non-zero.
//!
//! `cargo run -p tessera-core --example flush -- postgres://postgres@127.0.0.1:PORT
//! [SECONDS] [TOKENS] [BATCH] [ROUNDS]` (defaults: 10 s a phase, 1,000 tokens, 1,000 events a
//! batch, 3 rounds; `.ci/postgres.sh`'s `pg_start` gives a server). It creates the database
//! `tessera_flush_<pid>` and drops it at the end. Debug builds are fine: the time goes to the
//! database (this process's CPU is printed; on a 2-core machine it and PostgreSQL share the
//! cores).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::Rng;
use sqlx::Connection;
use tessera_core::keys::KeyStoreChoice;
use tessera_core::model::{Role, TokenId};
use tessera_core::password::Password;
use tessera_core::store::usage::UseEvent;
use tessera_core::{Actor, NewUser, OpenOptions, Tessera};

type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

const AGENTS: &[&str] = &["curl/8.5.0", "billing-sync/1.4", "Go-http-client/2.0"];

#[tokio::main]
async fn main() -> Res<()> {
    let mut args = std::env::args().skip(1);
    let server = args
        .next()
        .ok_or("usage: flush postgres://USER@HOST:PORT [SECONDS] [TOKENS] [BATCH] [ROUNDS]")?;
    let server = server.trim_end_matches('/').to_owned();
    let mut num = |default: u64| -> Res<u64> {
        Ok(args
            .next()
            .map(|s| s.parse())
            .transpose()?
            .unwrap_or(default))
    };
    let secs = num(10)?.max(1);
    let tokens = num(1_000)?.max(1) as u32;
    let batch = num(1_000)?.max(1) as usize;
    let rounds = num(3)?.max(1) as usize;

    let name = format!("tessera_flush_{}", std::process::id());
    let dir = tempfile::tempdir()?;
    let opts = |instance: &str| OpenOptions {
        database_url: Some(format!("{server}/{name}")),
        key_file: Some(dir.path().join("shared.key")),
        ..OpenOptions::new(dir.path().join(instance), KeyStoreChoice::File)
    };
    let mut admin = sqlx::PgConnection::connect(&format!("{server}/postgres")).await?;
    // The database is created by the first open (this role may create databases), and
    // dropped whatever happens after.
    let run = async {
        let a = Tessera::open(opts("a")).await?;
        let b = match Tessera::open(opts("b")).await {
            Ok(b) => b,
            Err(e) => {
                a.close().await;
                return Err(e.into());
            }
        };
        let result = measure(&server, &name, &a, &b, tokens, batch, secs, rounds).await;
        a.close().await;
        b.close().await;
        result
    };
    let deadlocks = match run.await {
        Ok(before) => {
            // The instances' backends have exited, so their statistics are flushed; give
            // the statistics a moment all the same.
            tokio::time::sleep(Duration::from_millis(1500)).await;
            deadlocks(&mut admin, &name)
                .await
                .map(|after| (before, after))
        }
        Err(e) => Err(e),
    };
    sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .execute(&mut admin)
        .await?;
    admin.close().await?;
    let (before, after) = deadlocks?;
    println!(
        "deadlocks in {name} (pg_stat_database, before and after): {before} -> {after}: {}",
        after - before
    );
    if after != before {
        return Err(format!("{} deadlock(s) during the run", after - before).into());
    }
    Ok(())
}

/// Set up, run the rounds and report; returns the database's deadlock count before them.
#[allow(clippy::too_many_arguments)]
async fn measure(
    server: &str,
    name: &str,
    a: &Tessera,
    b: &Tessera,
    tokens: u32,
    batch: usize,
    secs: u64,
    rounds: usize,
) -> Res<i64> {
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
    a.dev_seed(&Actor::Operator, tokens, 0).await?;
    let mut c = sqlx::PgConnection::connect(&format!("{server}/{name}")).await?;
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM tokens ORDER BY id")
        .fetch_all(&mut c)
        .await?;
    let deadlocks_before = deadlocks(&mut c, name).await?;
    c.close().await?;
    let ids = Arc::new(ids);
    println!(
        "database {name}: {} tokens; batches of {batch} events over random tokens; {rounds} rounds of two {secs} s phases",
        ids.len()
    );

    // Warm-up (not counted): each instance's write connections and statements.
    for t in [a, b] {
        flush_for(
            t.clone(),
            Arc::clone(&ids),
            batch,
            Duration::from_millis(500),
        )
        .await?;
    }

    let (mut alone, mut together, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        // A alone in even rounds, B in odd ones; ABBA: odd rounds start together.
        let (label, single) = if round % 2 == 0 {
            ("A alone", a)
        } else {
            ("B alone", b)
        };
        let both = |label| phase(server, name, label, vec![a, b], &ids, batch, secs);
        let one = || phase(server, name, label, vec![single], &ids, batch, secs);
        let (s, t) = if round % 2 == 0 {
            let s = one().await?;
            s.report();
            let t = both("A and B together").await?;
            t.report();
            (s, t)
        } else {
            let t = both("A and B together").await?;
            t.report();
            let s = one().await?;
            s.report();
            (s, t)
        };
        let ratio = t.rate() / s.rate();
        println!(" round {}/{rounds}: together / alone {ratio:.2}", round + 1);
        ratios.push(ratio);
        alone.push(s);
        together.push(t);
    }

    println!();
    let med = |v: &[Phase]| median(v.iter().map(Phase::rate).collect());
    let (lo, hi) = ratios
        .iter()
        .fold((f64::INFINITY, 0f64), |(l, h), r| (l.min(*r), h.max(*r)));
    println!(
        "two instances together / one alone, events/s, median of {rounds} rounds: {:.2}x (rounds from {lo:.2} to {hi:.2}; medians {:.0} / {:.0} events/s)",
        median(ratios.clone()),
        med(&together),
        med(&alone),
    );
    for (what, v) in [("one alone", &alone), ("together", &together)] {
        let mut took: Vec<Duration> = v
            .iter()
            .flat_map(|p| p.per.iter().flat_map(|f| f.took.iter().copied()))
            .collect();
        took.sort();
        let at = |q: f64| ms(took[((took.len() - 1) as f64 * q).round() as usize]);
        let (samples, waiting) = v.iter().fold((0, 0), |(s, w), p| {
            (s + p.waits.samples, w + p.waits.waiting)
        });
        let mut by: BTreeMap<&str, u64> = BTreeMap::new();
        for p in v.iter() {
            for (e, n) in &p.waits.by_event {
                *by.entry(e).or_default() += n;
            }
        }
        let by: Vec<String> = by.iter().map(|(e, n)| format!("{e} {n}")).collect();
        println!(
            "{what}: a flush of {batch} events p50 {:.1} ms, p99 {:.1} ms; a backend waiting on a lock in {waiting} of {samples} samples ({:.0}%; by wait_event: {}); most waiting at once {}",
            at(0.5),
            at(0.99),
            100.0 * waiting as f64 / samples.max(1) as f64,
            if by.is_empty() { "none".to_owned() } else { by.join(", ") },
            v.iter().map(|p| p.waits.most).max().unwrap_or(0),
        );
    }
    Ok(deadlocks_before)
}

/// One phase: `who` flush for `secs` at once while the lock waits are sampled.
async fn phase(
    server: &str,
    name: &str,
    label: &'static str,
    who: Vec<&Tessera>,
    ids: &Arc<Vec<i64>>,
    batch: usize,
    secs: u64,
) -> Res<Phase> {
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = tokio::spawn(sample_lock_waits(
        server.to_owned(),
        name.to_owned(),
        Arc::clone(&stop),
    ));
    let cpu0 = cpu_seconds();
    let t0 = Instant::now();
    let runs: Vec<_> = who
        .into_iter()
        .map(|t| {
            tokio::spawn(flush_for(
                t.clone(),
                Arc::clone(ids),
                batch,
                Duration::from_secs(secs),
            ))
        })
        .collect();
    let mut results = Vec::new();
    for r in runs {
        results.push(r.await?);
    }
    let wall = t0.elapsed();
    let cpu = cpu_seconds()
        .zip(cpu0)
        .map(|(b, a)| (b - a) / wall.as_secs_f64());
    stop.store(true, Ordering::Relaxed);
    let waits = sampler.await??;
    let mut per = Vec::new();
    for r in results {
        per.push(r?);
    }
    Ok(Phase {
        label,
        per,
        wall,
        cpu,
        waits,
    })
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// One instance's flushes in a phase.
struct Flushes {
    events: u64,
    took: Vec<Duration>,
}

/// Lock waits seen by the sampler in a phase.
#[derive(Default)]
struct Waits {
    samples: u64,
    /// Samples in which at least one backend of the database waited on a lock.
    waiting: u64,
    /// Waiting backends summed over the samples, by `wait_event`.
    by_event: BTreeMap<String, u64>,
    /// The most backends waiting at once.
    most: i64,
}

struct Phase {
    label: &'static str,
    per: Vec<Flushes>,
    wall: Duration,
    cpu: Option<f64>,
    waits: Waits,
}

impl Phase {
    fn events(&self) -> u64 {
        self.per.iter().map(|f| f.events).sum()
    }

    fn rate(&self) -> f64 {
        self.events() as f64 / self.wall.as_secs_f64()
    }

    fn report(&self) {
        let secs = self.wall.as_secs_f64();
        let mut took: Vec<Duration> = self.per.iter().flat_map(|f| f.took.clone()).collect();
        took.sort();
        let at = |q: f64| took[((took.len() - 1) as f64 * q).round() as usize];
        let each: Vec<String> = self
            .per
            .iter()
            .map(|f| format!("{:.0}", f.events as f64 / secs))
            .collect();
        let w = &self.waits;
        let by: Vec<String> = w.by_event.iter().map(|(e, n)| format!("{e} {n}")).collect();
        println!(
            "{}: {:.0} events/s (each instance: {}), {} flushes, flush p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; \
             lock waits in {} of {} samples ({:.0}%; most at once {}; by wait_event: {}); this process's CPU {}",
            self.label,
            self.events() as f64 / secs,
            each.join(" + "),
            took.len(),
            ms(at(0.5)),
            ms(at(0.99)),
            ms(at(1.0)),
            w.waiting,
            w.samples,
            100.0 * w.waiting as f64 / (w.samples.max(1) as f64),
            w.most,
            if by.is_empty() { "none".to_owned() } else { by.join(", ") },
            self.cpu
                .map_or("unknown".to_owned(), |c| format!("{:.0}% of a core", c * 100.0)),
        );
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Flush batches back to back for `d`.
async fn flush_for(t: Tessera, ids: Arc<Vec<i64>>, batch: usize, d: Duration) -> Res<Flushes> {
    let agents: Vec<Arc<str>> = AGENTS.iter().map(|a| Arc::from(*a)).collect();
    let mut out = Flushes {
        events: 0,
        took: Vec::new(),
    };
    let until = Instant::now() + d;
    let mut n: u32 = 0;
    while Instant::now() < until {
        let events = {
            let mut rng = rand::rng();
            let at = time::OffsetDateTime::now_utc();
            (0..batch)
                .map(|_| {
                    n = n.wrapping_add(1);
                    let refused = rng.random_range(0..10) == 0;
                    UseEvent {
                        token_id: TokenId(ids[rng.random_range(0..ids.len())]),
                        at,
                        // A distinct client per event, so none are folded together.
                        ip: Some(IpAddr::V4(Ipv4Addr::from(0x0a00_0000 | (n & 0x00ff_ffff)))),
                        user_agent: Some(Arc::clone(&agents[n as usize % agents.len()])),
                        method: Cow::Borrowed("GET"),
                        path: Cow::Borrowed("/v1/me"),
                        status: if refused { 403 } else { 200 },
                        outcome: if refused { "scope" } else { "accepted" },
                        via: "bearer",
                    }
                })
                .collect::<Vec<_>>()
        };
        let t0 = Instant::now();
        t.record_uses(&events).await?;
        out.took.push(t0.elapsed());
        out.events += events.len() as u64;
    }
    Ok(out)
}

/// Sample this database's backends waiting on a lock every 5 ms until `stop`.
async fn sample_lock_waits(server: String, name: String, stop: Arc<AtomicBool>) -> Res<Waits> {
    let mut c = sqlx::PgConnection::connect(&format!("{server}/postgres")).await?;
    let mut w = Waits::default();
    while !stop.load(Ordering::Relaxed) {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT COALESCE(wait_event, '?'), COUNT(*) FROM pg_stat_activity \
             WHERE datname = $1 AND wait_event_type = 'Lock' GROUP BY 1",
        )
        .bind(&name)
        .fetch_all(&mut c)
        .await?;
        w.samples += 1;
        let total: i64 = rows.iter().map(|(_, n)| n).sum();
        if total > 0 {
            w.waiting += 1;
        }
        w.most = w.most.max(total);
        for (event, n) in rows {
            *w.by_event.entry(event).or_default() += n as u64;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    c.close().await?;
    Ok(w)
}

async fn deadlocks(c: &mut sqlx::PgConnection, name: &str) -> Res<i64> {
    Ok(
        sqlx::query_scalar("SELECT deadlocks FROM pg_stat_database WHERE datname = $1")
            .bind(name)
            .fetch_one(c)
            .await?,
    )
}

/// CPU seconds this process has used so far, from `/proc/self/stat` (Linux).
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}
