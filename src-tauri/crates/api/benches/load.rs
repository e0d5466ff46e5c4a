//! Load benchmark: `GET /v1/me` over HTTPS with keep-alive against a bare `200 OK` handler on
//! the very same TLS stack ([`tessera_api::bench::serve_ok`]: same rustls configuration, same
//! axum-server settings, same certificate files), both driven by `wrk` in the same run.
//!
//! Run with `cargo bench -p tessera-api --bench load` (or `.ci/bench`). Needs `wrk`
//! (`apt-get install -y wrk`). Options, after `--`:
//!   --rounds N        measured rounds; each is one baseline run then one `/v1/me` run (3)
//!   --duration SECS   length of each run (10)
//!   --connections N   keep-alive connections (64)
//!   --threads N       wrk threads (2)
//!   --warmup SECS     one unmeasured run of each first (2; 0 skips)
//!   --strict          exit 1 when a target is missed
//!
//! Targets (issue 3, "Speed"): `/v1/me` serves at least 0.8x the baseline's requests per
//! second, with p99 at most 2 ms at 64 connections. The figures are medians over the rounds;
//! the ratio is the ratio of those medians, so both sides saw the same machine and noise.
//!
//! Every request (to both servers) carries the same `Authorization: Bearer` header, so the
//! bytes over TLS are the same; the token has a rate limit far above what the run can reach,
//! and any non-2xx answer or socket error fails the benchmark rather than flattering it.

use std::path::Path;
use std::process::{Command, ExitCode};

use tessera_api::{RunningServer, ServerConfig};
use tessera_core::keys::KeyStoreChoice;
use tessera_core::model::{Networks, Role};
use tessera_core::password::Password;
use tessera_core::policy::ExpiryRequest;
use tessera_core::token::TokenKind;
use tessera_core::{Actor, NewToken, NewUser, OpenOptions, Tessera};

/// Requests per minute for the bench token: the policy's upper bound, far above a run.
const RATE_LIMIT: u32 = 1_000_000;
const TARGET_RATIO: f64 = 0.8;
const TARGET_P99_MS: f64 = 2.0;

const WRK_SCRIPT: &str = r#"
-- Same header on every request to both servers; the token comes from the environment so it
-- never appears on a command line or in the output.
local token = os.getenv("TESSERA_BENCH_TOKEN")
if token ~= nil and token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end
wrk.headers["User-Agent"] = "tessera-load-bench"

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "TESSERA_RESULT %d %d %.1f %.1f %.1f %.1f %d %d %d %d %d\n",
    summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.status, e.timeout))
end
"#;

struct Opts {
    rounds: usize,
    duration: u32,
    connections: u32,
    threads: u32,
    warmup: u32,
    strict: bool,
}

fn parse_opts() -> Result<Opts, String> {
    let mut o = Opts {
        rounds: 3,
        duration: 10,
        connections: 64,
        threads: 2,
        warmup: 2,
        strict: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut num = |name: &str| -> Result<u32, String> {
            args.next()
                .and_then(|v| v.parse::<u32>().ok())
                .ok_or_else(|| format!("{name} needs a number"))
        };
        match a.as_str() {
            "--rounds" => o.rounds = num("--rounds")?.max(1) as usize,
            "--duration" => o.duration = num("--duration")?.max(1),
            "--connections" => o.connections = num("--connections")?.max(1),
            "--threads" => o.threads = num("--threads")?.max(1),
            "--warmup" => o.warmup = num("--warmup")?,
            "--strict" => o.strict = true,
            // `cargo bench` passes `--bench` (and maybe a filter); nothing to do with them.
            _ => {}
        }
    }
    o.threads = o.threads.min(o.connections);
    Ok(o)
}

/// One wrk run's figures.
#[derive(Debug, Clone, Copy)]
struct Run {
    rps: f64,
    p50_ms: f64,
    p90_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    requests: u64,
    errors: u64,
}

fn wrk(o: &Opts, secs: u32, url: &str, script: &Path, token: &str) -> Result<Run, String> {
    let out = Command::new("wrk")
        .arg(format!("-t{}", o.threads))
        .arg(format!("-c{}", o.connections))
        .arg(format!("-d{secs}s"))
        .args(["--timeout", "5s", "--latency", "-s"])
        .arg(script)
        .arg(url)
        .env("TESSERA_BENCH_TOKEN", token)
        .output()
        .map_err(|e| format!("cannot run wrk ({e}); install it with `apt-get install -y wrk`"))?;
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
    let f: Vec<f64> = line
        .split_whitespace()
        .map(|v| {
            v.parse::<f64>()
                .map_err(|e| format!("wrk output {v:?}: {e}"))
        })
        .collect::<Result<_, _>>()?;
    if f.len() != 11 {
        return Err(format!("unexpected wrk result line: {line}"));
    }
    let errors = f[6..].iter().sum::<f64>() as u64;
    Ok(Run {
        rps: f[0] / (f[1] / 1e6),
        p50_ms: f[2] / 1e3,
        p90_ms: f[3] / 1e3,
        p99_ms: f[4] / 1e3,
        max_ms: f[5] / 1e3,
        requests: f[0] as u64,
        errors,
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

struct Summary {
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
}

fn summarize(runs: &[Run]) -> Summary {
    Summary {
        rps: median(runs.iter().map(|r| r.rps).collect()),
        p50_ms: median(runs.iter().map(|r| r.p50_ms).collect()),
        p99_ms: median(runs.iter().map(|r| r.p99_ms).collect()),
    }
}

/// A Tessera in `dir` with an admin and `n` personal tokens of the admin's (`me:read`, rate
/// limit [`RATE_LIMIT`]), plus some company tokens so the index is not trivially small.
async fn fixture(dir: &Path, n: usize) -> tessera_core::Result<(Tessera, Vec<String>)> {
    let t = Tessera::open(OpenOptions {
        data_dir: dir.to_owned(),
        keystore: KeyStoreChoice::File,
    })
    .await?;
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
        kind,
        owner: None,
        name: Some(name),
        description: Some("load benchmark".into()),
        scopes: vec!["me:read".parse().expect("a built-in scope")],
        expiry: ExpiryRequest::Default,
        idle_days: None,
        networks: Networks::default(),
        rate_limit: None,
    };
    for i in 0..200 {
        t.create_token(
            &Actor::Operator,
            token(TokenKind::Company, format!("svc-{i}")),
        )
        .await?;
    }
    let me = Actor::User(admin);
    let mut secrets = Vec::with_capacity(n);
    for i in 0..n {
        let c = t
            .create_token(&me, token(TokenKind::Personal, format!("load-{i}")))
            .await?;
        secrets.push(c.token.expose().to_owned());
    }
    Ok((t, secrets))
}

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
    let version = Command::new("wrk")
        .arg("--version")
        .output()
        .map_err(|e| format!("cannot run wrk ({e}); install it with `apt-get install -y wrk`"))?;
    let version = String::from_utf8_lossy(&version.stdout)
        .lines()
        .next()
        .unwrap_or("wrk")
        .split(" Copyright")
        .next()
        .unwrap_or("wrk")
        .trim()
        .to_owned();

    // The server runs on this runtime's workers (one per core); wrk is a separate process on
    // the same cores, as a client on the same machine would be.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("runtime: {e}"))?;
    let dir = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
    // One fresh token per /v1/me run, so no run inherits another's rate-limit state.
    let api_runs = o.rounds + usize::from(o.warmup > 0);
    let (servers, secrets) = rt.block_on(async {
        let (t, secrets) = fixture(dir.path(), api_runs)
            .await
            .map_err(|e| format!("set-up: {e}"))?;
        let cfg = ServerConfig {
            listen: "127.0.0.1:0".parse().expect("an address"),
            data_dir: dir.path().to_owned(),
        };
        let api = tessera_api::start(t, cfg.clone())
            .await
            .map_err(|e| format!("start the API: {e}"))?;
        // After the API: it loads the certificate files the API just wrote.
        let ok = tessera_api::bench::serve_ok(cfg)
            .await
            .map_err(|e| format!("start the baseline: {e}"))?;
        Ok::<_, String>(([ok, api], secrets))
    })?;
    let [ok_srv, api_srv] = &servers;
    let base_url = format!("https://127.0.0.1:{}/v1/me", ok_srv.addr.port());
    let api_url = format!("https://127.0.0.1:{}/v1/me", api_srv.addr.port());
    let script = dir.path().join("bench.lua");
    std::fs::write(&script, WRK_SCRIPT).map_err(|e| format!("write the wrk script: {e}"))?;

    let mut secrets = secrets.into_iter();
    let mut next_secret = || secrets.next().ok_or("out of bench tokens".to_owned());
    let checked = |name: &str, url: &str, secs: u32, token: &str| -> Result<Run, String> {
        let r = wrk(&o, secs, url, &script, token)?;
        eprintln!(
            "  {name:<9} {:>9.0} req/s  p50 {}  p90 {}  p99 {}  max {}  ({} requests)",
            r.rps,
            ms(r.p50_ms),
            ms(r.p90_ms),
            ms(r.p99_ms),
            ms(r.max_ms),
            r.requests
        );
        if r.errors > 0 || r.requests == 0 {
            return Err(format!(
                "{name}: {} socket errors or non-2xx answers in {} requests; the figures would be meaningless",
                r.errors, r.requests
            ));
        }
        Ok(r)
    };

    eprintln!(
        "load bench: {version}, -t{} -c{} -d{}s, {} rounds, {} cores",
        o.threads,
        o.connections,
        o.duration,
        o.rounds,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    if o.warmup > 0 {
        eprintln!("warm-up ({}s each, not counted)", o.warmup);
        let token = next_secret()?;
        checked("baseline", &base_url, o.warmup, &token)?;
        checked("/v1/me", &api_url, o.warmup, &token)?;
    }
    let (mut base_runs, mut api_runs) = (Vec::new(), Vec::new());
    for round in 1..=o.rounds {
        eprintln!("round {round}/{}", o.rounds);
        let token = next_secret()?;
        base_runs.push(checked("baseline", &base_url, o.duration, &token)?);
        api_runs.push(checked("/v1/me", &api_url, o.duration, &token)?);
    }

    rt.block_on(async {
        for s in servers {
            RunningServer::shutdown(s).await;
        }
    });

    let base = summarize(&base_runs);
    let api = summarize(&api_runs);
    let ratio = api.rps / base.rps;
    let ratio_ok = ratio >= TARGET_RATIO;
    let p99_ok = api.p99_ms <= TARGET_P99_MS;
    println!();
    println!(
        "HTTPS keep-alive load, {} connections, wrk -t{} -d{}s, median of {} alternating rounds:",
        o.connections, o.threads, o.duration, o.rounds
    );
    println!();
    println!("| server (same TLS stack)    | requests/s |       p50 |       p99 |");
    println!("|----------------------------|-----------:|----------:|----------:|");
    for (name, s) in [("bare \"200 OK\" handler", &base), ("GET /v1/me", &api)] {
        println!(
            "| {name:<26} | {:>10.0} | {:>9} | {:>9} |",
            s.rps,
            ms(s.p50_ms),
            ms(s.p99_ms)
        );
    }
    println!();
    println!(
        "/v1/me / baseline requests/s: {ratio:.2}x (target >= {TARGET_RATIO:.1}x): {}",
        verdict(ratio_ok)
    );
    println!(
        "/v1/me p99: {} (target <= {TARGET_P99_MS:.0} ms): {}",
        ms(api.p99_ms),
        verdict(p99_ok)
    );
    Ok(!o.strict || (ratio_ok && p99_ok))
}
