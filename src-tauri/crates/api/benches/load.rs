//! Load benchmark: `GET /v1/me` over HTTPS with keep-alive against a bare `200 OK` handler on
//! the very same TLS stack ([`tessera_api::bench::serve_ok`]: same rustls configuration, same
//! axum-server settings and timeouts, same certificate files), both driven by the same tools
//! in the same run, in two parts:
//!
//! 1. Throughput: `wrk` at full speed, `--rounds` pairs of short runs, one run against each
//!    server back to back (ABBA order, so drift favours neither). This machine's speed swings
//!    by a third from second to second; a pair sees the same weather, so the figure is the
//!    median of the pairs' ratios. wrk's own p50 and p99 at full speed are shown too.
//! 2. Latency: `oha` at a fixed request rate (`--rate-fraction` of the bare handler's median
//!    throughput from part 1) with `--latency-correction`, so a stalled response counts for
//!    every request it held up (no coordinated omission). Percentiles are taken over the
//!    steady state: requests scheduled in the first second, while oha is still opening its
//!    64 TLS connections, are left out (they measure the handshakes, which keep-alive
//!    traffic does not pay). Medians over `--latency-rounds` alternating runs.
//!
//! Run by `.ci/bench`, which installs both tools and pins this process (the servers) to one
//! set of cores and the load tools (`--client-cpus`) to another, so the tool does not take
//! the servers' CPU. Options, after `--`:
//!   --rounds N           pairs of throughput runs (10)
//!   --duration SECS      length of each throughput run (3)
//!   --latency-rounds N   latency runs of each server (3)
//!   --latency-duration S length of each latency run, first second included (10)
//!   --connections N      keep-alive connections (64)
//!   --threads N          wrk threads (one per client CPU, else 2)
//!   --warmup SECS        one unmeasured wrk run of each first (2; 0 skips)
//!   --client-cpus LIST   run wrk and oha under `taskset -c LIST` (none: unpinned)
//!   --rate-fraction F    part 2's rate as a fraction of the bare handler's throughput (0.5)
//!   --strict             exit 1 when a target is missed
//!   --hold SECS          only serve both for SECS (for profiling); the URLs, CA, wrk script
//!                        and token go to a `bench.env` file named on stderr
//!   --sources-baseline   the baseline is `/v1/me` itself, on the same server, with new-source
//!                        tracking switched off for the baseline's runs and on for the others
//!                        (each with its own token, so neither spends the other's rate
//!                        limit), instead of the bare handler: what tracking costs (issue 14,
//!                        "New address and new client alerts"); SQLite only
//!   --agents N           wrk cycles through N client families, one per request (1), so the
//!                        usage writer sees N distinct sources a second to look up
//!
//! Targets (issue 3, "Speed"): `/v1/me` serves at least 0.8x the baseline's requests per
//! second, with p99 at most 2 ms at 64 connections.
//!
//! Every request (to both servers) carries the same `Authorization: Bearer` header, so the
//! bytes over TLS are the same; the token has a rate limit far above what the run can reach,
//! and any non-2xx answer or socket error fails the benchmark rather than flattering it. The
//! token is a throwaway in a temporary data dir that is deleted at the end.
//!
//! With `TESSERA_BENCH_POSTGRES=postgres://USER@HOST:PORT` (a server whose role may create
//! databases; `.ci/postgres.sh`'s `pg_start` gives one) the same run also serves `/v1/me`
//! from a third server, the same API on a store in the PostgreSQL database
//! `tessera_bench_load_<pid>` (created for the run and dropped at its end; same data dir,
//! so the same CA, and the same fixture), and drives it the same way: throughput in
//! back-to-back triples (baseline, SQLite, PostgreSQL, then the reverse order), the median
//! of the triples' PostgreSQL/SQLite ratios, and the latency runs at the same rate. Both
//! answer from the verification cache, so the difference is what each engine costs besides
//! (the usage writer's flushes, the instance heartbeat). Before the servers start, it also
//! measures cache-miss verification on each engine in-process: `Tessera::verify_at` with the
//! cache off (every call one look-up by hash) over the fixture's 201 tokens, one caller and
//! 16 concurrent callers, alternating engines, the median of the rounds' ratios. Without the
//! variable nothing of this runs and the output is as before.

// The allocator `tessera serve` uses, so the figures are the server's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::Path;
use std::process::{Command, ExitCode};
use std::sync::Arc;
use std::time::Instant;

use tessera_api::{RunningServer, ServerConfig};
use tessera_core::keys::KeyStoreChoice;
use tessera_core::model::Role;
use tessera_core::password::Password;
use tessera_core::token::TokenKind;
use tessera_core::verify::unix_now;
use tessera_core::{Actor, NewToken, NewUser, OpenOptions, Tessera};

/// Requests per minute for the bench token: the policy's upper bound, far above a run.
const RATE_LIMIT: u32 = 1_000_000;
/// A PostgreSQL server (`postgres://USER@HOST:PORT`) to run `/v1/me` on as well.
const POSTGRES_ENV: &str = "TESSERA_BENCH_POSTGRES";
const TARGET_RATIO: f64 = 0.8;
const TARGET_P99_MS: f64 = 2.0;

const WRK_SCRIPT: &str = r#"
-- Same header on every request to both servers; the token comes from the environment so it
-- never appears on wrk's command line or in the output.
local token = os.getenv("TESSERA_BENCH_TOKEN")
if token ~= nil and token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end
wrk.headers["User-Agent"] = "tessera-load-bench"
-- With TESSERA_BENCH_AGENTS=N (N > 1) each request names one of N client families in turn.
local agents = tonumber(os.getenv("TESSERA_BENCH_AGENTS") or "1") or 1
if agents > 1 then
  local i = 0
  request = function()
    i = (i + 1) % agents
    wrk.headers["User-Agent"] = "bench-client-" .. i .. "/1.0"
    return wrk.format()
  end
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "TESSERA_RESULT %d %d %d %d %d %d %d %d\n",
    summary.requests, summary.duration,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(99)))
end
"#;

struct Opts {
    rounds: usize,
    duration: u32,
    latency_rounds: usize,
    latency_duration: u32,
    connections: u32,
    threads: Option<u32>,
    warmup: u32,
    client_cpus: Option<String>,
    rate_fraction: f64,
    strict: bool,
    hold: Option<u32>,
    /// Compare `/v1/me` against itself with new-source tracking off, instead of the bare handler.
    sources_baseline: bool,
    /// Client families the wrk script cycles through (1: one user agent).
    agents: u32,
}

fn parse_opts() -> Result<Opts, String> {
    let mut o = Opts {
        rounds: 10,
        duration: 3,
        latency_rounds: 3,
        latency_duration: 10,
        connections: 64,
        threads: None,
        warmup: 2,
        client_cpus: None,
        rate_fraction: 0.5,
        strict: false,
        hold: None,
        sources_baseline: false,
        agents: 1,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        let num = |name: &str, v: String| {
            v.parse::<u32>()
                .map_err(|_| format!("{name} needs a whole number"))
        };
        match a.as_str() {
            "--rounds" => o.rounds = num(&a, value(&a)?)?.max(1) as usize,
            "--duration" => o.duration = num(&a, value(&a)?)?.max(1),
            "--latency-rounds" => o.latency_rounds = num(&a, value(&a)?)?.max(1) as usize,
            "--latency-duration" => o.latency_duration = num(&a, value(&a)?)?.max(2),
            "--connections" => o.connections = num(&a, value(&a)?)?.max(1),
            "--threads" => o.threads = Some(num(&a, value(&a)?)?.max(1)),
            "--warmup" => o.warmup = num(&a, value(&a)?)?,
            "--client-cpus" => o.client_cpus = Some(value(&a)?),
            "--rate-fraction" => {
                o.rate_fraction = value(&a)?
                    .parse::<f64>()
                    .ok()
                    .filter(|f| *f > 0.0 && *f <= 1.0)
                    .ok_or("--rate-fraction needs a number in (0, 1]")?
            }
            "--strict" => o.strict = true,
            "--hold" => o.hold = Some(num(&a, value(&a)?)?),
            "--sources-baseline" => o.sources_baseline = true,
            "--agents" => o.agents = num(&a, value(&a)?)?.max(1),
            // `cargo bench` passes `--bench` (and maybe a filter); nothing to do with them.
            _ => {}
        }
    }
    Ok(o)
}

/// A load tool's command, pinned to the client CPUs when asked.
fn tool(o: &Opts, program: &str) -> Command {
    match &o.client_cpus {
        Some(cpus) => {
            let mut c = Command::new("taskset");
            c.args(["-c", cpus, program]);
            c
        }
        None => Command::new(program),
    }
}

fn first_line(program: &str, arg: &str) -> String {
    Command::new(program)
        .arg(arg)
        .output()
        .ok()
        .and_then(|o| {
            let text = String::from_utf8_lossy(&o.stdout).into_owned()
                + &String::from_utf8_lossy(&o.stderr);
            text.lines().next().map(|l| l.trim().to_owned())
        })
        .unwrap_or_else(|| format!("{program} (version unknown)"))
}

/// How many CPUs a taskset list (`1`, `2-3`, `0,2-3`) names.
fn cpu_count(list: &str) -> u32 {
    list.split(',')
        .map(|part| match part.split_once('-') {
            Some((a, b)) => match (a.trim().parse::<u32>(), b.trim().parse::<u32>()) {
                (Ok(a), Ok(b)) if b >= a => b - a + 1,
                _ => 1,
            },
            None => 1,
        })
        .sum::<u32>()
        .max(1)
}

/// CPU seconds this process (the servers) has used so far, from `/proc/self/stat`.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    let hz = first_line("getconf", "CLK_TCK")
        .parse::<f64>()
        .unwrap_or(100.0);
    Some(ticks / hz)
}

/// One full-speed wrk run.
#[derive(Debug, Clone, Copy)]
struct Throughput {
    rps: f64,
    /// Cores' worth of CPU the servers' process used meanwhile.
    server_cpu: f64,
    /// wrk's p99 at full speed.
    p99_ms: f64,
}

fn wrk(o: &Opts, secs: u32, url: &str, script: &Path, token: &str) -> Result<Throughput, String> {
    let threads = o
        .threads
        .unwrap_or_else(|| o.client_cpus.as_deref().map_or(2, cpu_count));
    let cpu0 = cpu_seconds();
    let t0 = Instant::now();
    let out = tool(o, "wrk")
        .arg(format!("-t{}", threads.min(o.connections)))
        .arg(format!("-c{}", o.connections))
        .arg(format!("-d{secs}s"))
        .args(["--timeout", "5s", "-s"])
        .arg(script)
        .arg(url)
        .env("TESSERA_BENCH_TOKEN", token)
        .env("TESSERA_BENCH_AGENTS", o.agents.to_string())
        .output()
        .map_err(|e| format!("cannot run wrk ({e}); .ci/bench installs it"))?;
    let wall = t0.elapsed().as_secs_f64();
    let server_cpu = match (cpu0, cpu_seconds()) {
        (Some(a), Some(b)) => (b - a) / wall,
        _ => f64::NAN,
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("TESSERA_RESULT "))
        .ok_or_else(|| {
            format!(
                "wrk gave no result for {url}:\n{stdout}{}",
                String::from_utf8_lossy(&out.stderr)
            )
        })?;
    let f: Vec<u64> = line
        .split_whitespace()
        .map(|v| {
            v.parse::<u64>()
                .map_err(|e| format!("wrk output {v:?}: {e}"))
        })
        .collect::<Result<_, _>>()?;
    let [requests, micros, errors @ .., p99_us] = f.as_slice() else {
        return Err(format!("unexpected wrk result line: {line}"));
    };
    let errors: u64 = errors.iter().sum();
    if errors > 0 || *requests == 0 {
        return Err(format!(
            "{url}: {errors} socket errors or non-2xx answers in {requests} requests; the figures would be meaningless"
        ));
    }
    Ok(Throughput {
        rps: *requests as f64 / (*micros as f64 / 1e6),
        server_cpu,
        p99_ms: *p99_us as f64 / 1e3,
    })
}

/// One fixed-rate oha run, over its steady state.
#[derive(Debug, Clone, Copy)]
struct Latency {
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
}

/// Requests scheduled before this many seconds into an oha run are left out of its
/// percentiles: they wait for oha to open its connections (64 TLS handshakes).
const SETTLE_SECS: f64 = 1.0;

fn oha(o: &Opts, rate: f64, url: &str, ca: &Path, token: &str) -> Result<Latency, String> {
    let out = tool(o, "oha")
        .args([
            "--no-tui",
            "--output-format",
            "csv",
            "--latency-correction",
            "-w",
        ])
        .arg("-c")
        .arg(o.connections.to_string())
        .arg("-q")
        .arg(format!("{rate:.0}"))
        .arg("-z")
        .arg(format!("{}s", o.latency_duration))
        .arg("--cacert")
        .arg(ca)
        .args(["-H", "User-Agent: tessera-load-bench"])
        .arg("-H")
        .arg(format!("Authorization: Bearer {token}"))
        .arg(url)
        .output()
        .map_err(|e| format!("cannot run oha ({e}); .ci/bench installs it"))?;
    let csv = String::from_utf8_lossy(&out.stdout);
    let mut lines = csv.lines();
    let header = lines.next().unwrap_or_default();
    let col = |name: &str| {
        header.split(',').position(|h| h == name).ok_or_else(|| {
            format!(
                "oha gave no {name} column for {url}:\n{header}\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        })
    };
    let (start, took, status) = (
        col("request-start")?,
        col("request-duration")?,
        col("status")?,
    );
    let (mut all, mut ok, mut last_start) = (0u64, 0u64, 0f64);
    let mut steady: Vec<f64> = Vec::new();
    for line in lines {
        let f: Vec<&str> = line.split(',').collect();
        let num = |i: usize| f.get(i).and_then(|v| v.trim().parse::<f64>().ok());
        all += 1;
        let (Some(at), Some(secs)) = (num(start), num(took)) else {
            continue;
        };
        if f.get(status).map(|s| s.trim()) != Some("200") {
            continue;
        }
        ok += 1;
        last_start = last_start.max(at);
        if at >= SETTLE_SECS {
            steady.push(secs * 1e3);
        }
    }
    // oha lists answered requests; one that failed outright is missing from the list.
    let expected = rate * f64::from(o.latency_duration);
    if ok == 0 || ok != all || (ok as f64) < expected * 0.95 || steady.is_empty() {
        return Err(format!(
            "{url}: {ok} of {all} answers were 200, {expected:.0} were due; the figures would be meaningless\n{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    steady.sort_by(f64::total_cmp);
    let at = |q: f64| steady[((steady.len() - 1) as f64 * q).round() as usize];
    Ok(Latency {
        rps: ok as f64 / last_start.max(1e-3),
        p50_ms: at(0.50),
        p99_ms: at(0.99),
        max_ms: at(1.0),
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

/// A Tessera opened with `opts` with an admin and `n` personal tokens of the admin's
/// (`me:read`, rate limit [`RATE_LIMIT`]), plus some company tokens so the index is not
/// trivially small. Returns the personal tokens, then all of them (company ones first).
async fn fixture(
    opts: OpenOptions,
    n: usize,
) -> tessera_core::Result<(Tessera, Vec<String>, Vec<String>)> {
    let t = Tessera::open(opts).await?;
    let admin = t
        .init(
            "Bench",
            NewUser {
                email: "ada@example.com".parse()?,
                name: "Ada".into(),
                role: Role::Admin,
                password: Password::new("correct horse battery staple".into())?,
                source_group: String::new(),
            },
        )
        .await?;
    let mut policy = t.policy().await?;
    policy.max_rate_limit = RATE_LIMIT;
    policy.default_rate_limit = RATE_LIMIT;
    policy.max_personal_tokens = policy.max_personal_tokens.max(n as u32 + 1);
    t.set_policy(&Actor::Operator, policy).await?;
    let token = |kind, name: String| NewToken {
        description: Some("load benchmark".into()),
        scopes: vec!["me:read".parse().expect("a built-in scope")],
        ..NewToken::named(kind, name)
    };
    let mut all = Vec::with_capacity(200 + n);
    for i in 0..200 {
        let c = t
            .create_token(
                &Actor::Operator,
                token(TokenKind::Company, format!("svc-{i}")),
            )
            .await?;
        all.push(c.token.expose().to_owned());
    }
    let me = Actor::User(admin);
    let mut secrets = Vec::with_capacity(n);
    for i in 0..n {
        let c = t
            .create_token(&me, token(TokenKind::Personal, format!("load-{i}")))
            .await?;
        secrets.push(c.token.expose().to_owned());
    }
    all.extend(secrets.iter().cloned());
    Ok((t, secrets, all))
}

/// Cache-miss verifications a second: `callers` tasks calling `Tessera::verify_at` (cache
/// off, so each call is one look-up by hash) for `secs`, cycling through `secrets`.
async fn miss_rate(
    t: &Tessera,
    secrets: &Arc<Vec<String>>,
    callers: usize,
    secs: f64,
) -> Result<f64, String> {
    let until = Instant::now() + std::time::Duration::from_secs_f64(secs);
    let t0 = Instant::now();
    let tasks: Vec<_> = (0..callers)
        .map(|k| {
            let (t, secrets) = (t.clone(), Arc::clone(secrets));
            tokio::spawn(async move {
                let mut done = 0u64;
                let mut i = k;
                while Instant::now() < until {
                    let d = t
                        .verify_at(&secrets[i % secrets.len()], &[], None, unix_now())
                        .await
                        .map_err(|e| format!("verify: {e}"))?;
                    if !d.accepted() {
                        return Err("a bench token was refused".to_owned());
                    }
                    done += 1;
                    i += callers;
                }
                Ok::<_, String>(done)
            })
        })
        .collect();
    let mut done = 0;
    for task in tasks {
        done += task.await.map_err(|e| format!("verify task: {e}"))??;
    }
    Ok(done as f64 / t0.elapsed().as_secs_f64())
}

/// Cache-miss verification on each engine, alternating engines round by round: for each
/// number of callers, the median rates and the median of the rounds' PostgreSQL/SQLite
/// ratios.
async fn miss_verify(
    lite: &Tessera,
    pg: &Tessera,
    secrets: (Vec<String>, Vec<String>),
) -> Result<Vec<(usize, f64, f64, f64)>, String> {
    let (lite_s, pg_s) = (Arc::new(secrets.0), Arc::new(secrets.1));
    // Warm both: connections, statements, pages.
    miss_rate(lite, &lite_s, 16, 0.5).await?;
    miss_rate(pg, &pg_s, 16, 0.5).await?;
    let mut out = Vec::new();
    for callers in [1, 16] {
        let (mut l, mut p, mut r) = (Vec::new(), Vec::new(), Vec::new());
        for round in 0..MISS_ROUNDS {
            let (a, b) = if round % 2 == 0 {
                let a = miss_rate(lite, &lite_s, callers, MISS_SECS).await?;
                (a, miss_rate(pg, &pg_s, callers, MISS_SECS).await?)
            } else {
                let b = miss_rate(pg, &pg_s, callers, MISS_SECS).await?;
                (miss_rate(lite, &lite_s, callers, MISS_SECS).await?, b)
            };
            eprintln!(
                "  cache-miss verify, {callers:>2} caller(s): SQLite {a:>7.0}/s   PostgreSQL {b:>7.0}/s   ratio {:.2}",
                b / a
            );
            l.push(a);
            p.push(b);
            r.push(b / a);
        }
        out.push((callers, median(l), median(p), median(r)));
    }
    Ok(out)
}

const MISS_ROUNDS: usize = 4;
const MISS_SECS: f64 = 2.0;

fn ms(v: f64) -> String {
    format!("{v:.2} ms")
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "MISSED"
    }
}

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("load bench: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Ok(false) when a target was missed under `--strict`.
fn run() -> Result<bool, String> {
    let o = parse_opts()?;
    let wrk_version = first_line("wrk", "--version");
    let wrk_version = wrk_version
        .split(" Copyright")
        .next()
        .unwrap_or("wrk")
        .trim();
    let oha_version = first_line("oha", "--version");

    // The servers run on this runtime's workers: one per core this process may use (`.ci/bench`
    // pins it with taskset).
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("runtime: {e}"))?;
    let dir = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
    let postgres = std::env::var(POSTGRES_ENV)
        .ok()
        .filter(|s| !s.is_empty())
        .map(|s| s.trim_end_matches('/').to_owned());
    let pg_db = format!("tessera_bench_load_{}", std::process::id());
    // Declared before the servers, so it goes after them on every way out.
    let pg_database = postgres.clone().map(|server| PgDatabase {
        server,
        name: pg_db.clone(),
    });
    let set_up = rt.block_on(async {
        if o.sources_baseline && postgres.is_some() {
            return Err(format!("--sources-baseline runs on SQLite only; unset {POSTGRES_ENV}"));
        }
        // With --sources-baseline, a second token for the baseline runs, so neither run
        // spends the other's rate limit.
        let (t, secrets, all) = fixture(
            OpenOptions::new(dir.path().to_owned(), KeyStoreChoice::File),
            if o.sources_baseline { 2 } else { 1 },
        )
        .await
        .map_err(|e| format!("set-up: {e}"))?;
        // The same fixture on PostgreSQL, in the same data dir (so its server presents a
        // certificate of the same CA), and cache-miss verification on both while neither
        // has its cache on.
        let pg = match &postgres {
            Some(server) => {
                let opts = OpenOptions {
                    database_url: Some(format!("{server}/{pg_db}")),
                    key_file: Some(dir.path().join("pg-shared.key")),
                    ..OpenOptions::new(dir.path().to_owned(), KeyStoreChoice::File)
                };
                let (pt, ps, pall) = fixture(opts, 1)
                    .await
                    .map_err(|e| format!("PostgreSQL set-up ({POSTGRES_ENV}): {e}"))?;
                eprintln!(
                    "cache-miss verification (Tessera::verify_at, cache off), {MISS_ROUNDS} rounds of {MISS_SECS}s on each engine"
                );
                let misses = miss_verify(&t, &pt, (all, pall)).await?;
                Some((pt, ps, misses))
            }
            None => None,
        };
        let cfg = ServerConfig {
            listen: "127.0.0.1:0".parse().expect("an address"),
            data_dir: dir.path().to_owned(),
        };
        // Kept to switch new-source tracking off for the baseline's runs (--sources-baseline).
        let tracking = t.clone();
        let api = tessera_api::start(t, cfg.clone())
            .await
            .map_err(|e| format!("start the API: {e}"))?;
        let mut servers = if o.sources_baseline {
            // The baseline is this same server with tracking off.
            vec![api]
        } else {
            // After the API: it loads the certificate files the API just wrote.
            let ok = tessera_api::bench::serve_ok(cfg.clone())
                .await
                .map_err(|e| format!("start the baseline: {e}"))?;
            vec![ok, api]
        };
        let pg = match pg {
            Some((pt, ps, misses)) => {
                let pg_api = tessera_api::start(pt, cfg)
                    .await
                    .map_err(|e| format!("start the API on PostgreSQL: {e}"))?;
                servers.push(pg_api);
                let token = ps.into_iter().next().ok_or("no PostgreSQL bench token")?;
                Some((token, misses))
            }
            None => None,
        };
        Ok::<_, String>((servers, secrets, pg, tracking))
    });
    let (servers, secrets, pg, tracking) = set_up?;
    let token = secrets.first().cloned().ok_or("no bench token")?;
    let base_token = secrets.get(1).cloned().unwrap_or_else(|| token.clone());
    // Before each run: new-source tracking off for the baseline's, on for /v1/me's.
    let track = |name: &str| {
        if o.sources_baseline {
            tracking.set_source_tracking_for_benchmark(name != "baseline");
        }
    };
    let (pg_token, misses) = pg.unzip();
    let first = if o.sources_baseline { 0 } else { 1 };
    let base_url = format!("https://127.0.0.1:{}/v1/me", servers[0].addr.port());
    let api_url = format!("https://127.0.0.1:{}/v1/me", servers[first].addr.port());
    let pg_url = servers
        .get(first + 1)
        .map(|s| format!("https://127.0.0.1:{}/v1/me", s.addr.port()));
    let script = dir.path().join("bench.lua");
    std::fs::write(&script, WRK_SCRIPT).map_err(|e| format!("write the wrk script: {e}"))?;
    let ca = dir.path().join("ca-export.pem");
    let ca_pem = tessera_api::export_ca(dir.path()).map_err(|e| format!("CA: {e}"))?;
    std::fs::write(&ca, ca_pem).map_err(|e| format!("write the CA: {e}"))?;

    if let Some(secs) = o.hold {
        // For profiling: serve both for a while and say how to reach them, measuring nothing.
        let env = dir.path().join("bench.env");
        let mut text = format!("BASE_URL={base_url}\nAPI_URL={api_url}\nCA={}\nTESSERA_BENCH_TOKEN={token}\nSCRIPT={}\n", ca.display(), script.display());
        if let (Some(url), Some(t)) = (&pg_url, &pg_token) {
            text += &format!("PG_API_URL={url}\nTESSERA_BENCH_PG_TOKEN={t}\n");
        }
        std::fs::write(&env, text).map_err(|e| format!("write {}: {e}", env.display()))?;
        eprintln!("holding for {secs}s; source {}", env.display());
        std::thread::sleep(std::time::Duration::from_secs(secs.into()));
        return Ok(true);
    }

    let server_cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let client = o.client_cpus.as_deref().map_or_else(
        || "unpinned, sharing the servers' cores".to_owned(),
        |c| format!("pinned to CPU {c}"),
    );
    eprintln!(
        "load bench: {wrk_version}; {oha_version}; {} connections; {} pairs of {}s wrk runs, {} oha runs of {}s",
        o.connections, o.rounds, o.duration, o.latency_rounds, o.latency_duration
    );
    eprintln!("servers: {server_cores} core(s) for this process; load tools {client}");

    let pg_run = pg_url.as_deref().zip(pg_token.as_deref());
    let thr = |name: &str, url: &str, token: &str, secs: u32| -> Result<Throughput, String> {
        track(name);
        let r = wrk(&o, secs, url, &script, token)?;
        eprintln!(
            "  wrk  {name:<9} {:>9.0} req/s   p99 {:>9}   servers' CPU {:.0}% of a core",
            r.rps,
            ms(r.p99_ms),
            r.server_cpu * 100.0
        );
        Ok(r)
    };
    if o.warmup > 0 {
        eprintln!("warm-up ({}s each, not counted)", o.warmup);
        thr("baseline", &base_url, &base_token, o.warmup)?;
        thr("/v1/me", &api_url, &token, o.warmup)?;
        if let Some((url, pg_token)) = pg_run {
            thr("/v1/me PG", url, pg_token, o.warmup)?;
        }
    }
    eprintln!("part 1: throughput (wrk, full speed)");
    let (mut base_t, mut api_t, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    let (mut pg_t, mut pg_ratios) = (Vec::new(), Vec::new());
    // /v1/me on PostgreSQL, when asked for.
    let pg_thr = |secs: u32| -> Result<Option<Throughput>, String> {
        pg_run
            .map(|(url, pg_token)| thr("/v1/me PG", url, pg_token, secs))
            .transpose()
    };
    for round in 1..=o.rounds {
        // ABBA: every other pair starts with /v1/me (ABCCBA with PostgreSQL).
        let (b, a, g) = if round % 2 == 1 {
            let b = thr("baseline", &base_url, &base_token, o.duration)?;
            let a = thr("/v1/me", &api_url, &token, o.duration)?;
            (b, a, pg_thr(o.duration)?)
        } else {
            let g = pg_thr(o.duration)?;
            let a = thr("/v1/me", &api_url, &token, o.duration)?;
            (thr("baseline", &base_url, &base_token, o.duration)?, a, g)
        };
        match g {
            Some(g) => {
                eprintln!(
                    " triple {round}/{}: ratio {:.2}; PostgreSQL / SQLite {:.2}",
                    o.rounds,
                    a.rps / b.rps,
                    g.rps / a.rps
                );
                pg_ratios.push(g.rps / a.rps);
                pg_t.push(g);
            }
            None => eprintln!(" pair {round}/{}: ratio {:.2}", o.rounds, a.rps / b.rps),
        }
        ratios.push(a.rps / b.rps);
        base_t.push(b);
        api_t.push(a);
    }
    let base_rps = median(base_t.iter().map(|r| r.rps).collect());
    let api_rps = median(api_t.iter().map(|r| r.rps).collect());
    let rate = (base_rps * o.rate_fraction).max(1.0);

    eprintln!(
        "part 2: latency at a fixed {rate:.0} req/s ({:.0}% of the baseline's throughput; oha, latency-corrected, after the first {SETTLE_SECS:.0} s)",
        o.rate_fraction * 100.0
    );
    let lat = |name: &str, url: &str, token: &str| -> Result<Latency, String> {
        track(name);
        let r = oha(&o, rate, url, &ca, token)?;
        eprintln!(
            "  oha  {name:<9} {:>9.0} req/s   p50 {}  p99 {}  max {}",
            r.rps,
            ms(r.p50_ms),
            ms(r.p99_ms),
            ms(r.max_ms)
        );
        Ok(r)
    };
    let (mut base_l, mut api_l, mut pg_l) = (Vec::new(), Vec::new(), Vec::new());
    for round in 1..=o.latency_rounds {
        eprintln!(" round {round}/{}", o.latency_rounds);
        if round % 2 == 1 {
            base_l.push(lat("baseline", &base_url, &base_token)?);
            api_l.push(lat("/v1/me", &api_url, &token)?);
            if let Some((url, pg_token)) = pg_run {
                pg_l.push(lat("/v1/me PG", url, pg_token)?);
            }
        } else {
            if let Some((url, pg_token)) = pg_run {
                pg_l.push(lat("/v1/me PG", url, pg_token)?);
            }
            api_l.push(lat("/v1/me", &api_url, &token)?);
            base_l.push(lat("baseline", &base_url, &base_token)?);
        }
    }

    rt.block_on(async {
        for s in servers {
            RunningServer::shutdown(s).await;
        }
    });
    drop(pg_database);

    let t = |v: &[Throughput], f: fn(&Throughput) -> f64| median(v.iter().map(f).collect());
    let p = |v: &[Latency], f: fn(&Latency) -> f64| median(v.iter().map(f).collect());
    let ratio = median(ratios.clone());
    let (lo, hi) = ratios
        .iter()
        .fold((f64::INFINITY, 0f64), |(l, h), r| (l.min(*r), h.max(*r)));
    let api_p99 = p(&api_l, |l| l.p99_ms);
    let base_p99 = p(&base_l, |l| l.p99_ms);
    let ratio_ok = ratio >= TARGET_RATIO;
    let p99_ok = api_p99 <= TARGET_P99_MS;
    println!();
    println!(
        "HTTPS keep-alive, {} connections, servers on {server_cores} core(s), load tools {client}; medians of {} {} of {}s wrk runs and {} oha runs of {}s:",
        o.connections,
        o.rounds,
        if pg_run.is_some() { "triples" } else { "pairs" },
        o.duration,
        o.latency_rounds,
        o.latency_duration
    );
    println!();
    println!("| server (same TLS stack) | max req/s (wrk) | p99 at max (wrk) | p50 at {rate:.0} req/s (oha) | p99 at {rate:.0} req/s (oha) |");
    println!("|---|---:|---:|---:|---:|");
    let baseline_name = if o.sources_baseline {
        "GET /v1/me, new-source tracking off"
    } else {
        "bare \"200 OK\" handler"
    };
    let mut rows = vec![
        (baseline_name, &base_t, &base_l),
        ("GET /v1/me", &api_t, &api_l),
    ];
    if pg_run.is_some() {
        rows[1].0 = "GET /v1/me (SQLite)";
        rows.push(("GET /v1/me (PostgreSQL)", &pg_t, &pg_l));
    }
    for (name, tv, l) in rows {
        println!(
            "| {name} | {:.0} | {} | {} | {} |",
            t(tv, |r| r.rps),
            ms(t(tv, |r| r.p99_ms)),
            ms(p(l, |l| l.p50_ms)),
            ms(p(l, |l| l.p99_ms))
        );
    }
    println!();
    println!(
        "/v1/me / baseline ({baseline_name}, {} client famil{}) requests/s, median of {} pairs: {ratio:.2}x (pairs from {lo:.2} to {hi:.2}; medians {api_rps:.0} / {base_rps:.0}) (target >= {TARGET_RATIO:.1}x): {}",
        o.agents,
        if o.agents == 1 { "y" } else { "ies" },
        ratios.len(),
        verdict(ratio_ok)
    );
    println!(
        "/v1/me p99 at {} connections, {rate:.0} req/s: {} (the baseline's own: {}; {:.2}x) (target <= {TARGET_P99_MS:.0} ms): {}",
        o.connections,
        ms(api_p99),
        ms(base_p99),
        api_p99 / base_p99,
        verdict(p99_ok)
    );
    if pg_run.is_some() {
        let pg_ratio = median(pg_ratios.clone());
        let (lo, hi) = pg_ratios
            .iter()
            .fold((f64::INFINITY, 0f64), |(l, h), r| (l.min(*r), h.max(*r)));
        let pg_p99 = p(&pg_l, |l| l.p99_ms);
        println!(
            "/v1/me on PostgreSQL / on SQLite requests/s (both cache hits), median of {} triples: {pg_ratio:.2}x (from {lo:.2} to {hi:.2}; medians {:.0} / {api_rps:.0}); p99 at {rate:.0} req/s: {} vs {} ({:.2}x)",
            pg_ratios.len(),
            t(&pg_t, |r| r.rps),
            ms(pg_p99),
            ms(api_p99),
            pg_p99 / api_p99
        );
    }
    for (callers, lite, pg, ratio) in misses.into_iter().flatten() {
        println!(
            "cache-miss verification (Tessera::verify_at, cache off), {callers} caller(s): PostgreSQL {pg:.0}/s, SQLite {lite:.0}/s; PostgreSQL / SQLite {ratio:.2}x (median of {MISS_ROUNDS} rounds)"
        );
    }
    Ok(!o.strict || (ratio_ok && p99_ok))
}

/// Drops the bench's own PostgreSQL database when it goes (servers still connected to it
/// are disconnected).
struct PgDatabase {
    server: String,
    name: String,
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let dropped = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())
            .and_then(|rt| {
                rt.block_on(async {
                    use sqlx::Connection;
                    let mut c =
                        sqlx::PgConnection::connect(&format!("{}/postgres", self.server)).await?;
                    sqlx::query(&format!(
                        "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                        self.name
                    ))
                    .execute(&mut c)
                    .await?;
                    c.close().await
                })
                .map_err(|e| e.to_string())
            });
        if let Err(e) = dropped {
            eprintln!("load bench: could not drop the database {}: {e}", self.name);
        }
    }
}
