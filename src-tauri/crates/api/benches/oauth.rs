//! OAuth benchmark (issue 15, "Figures in the README"): what an access token costs against a
//! static token, measured in one run, in two parts:
//!
//! 1. Verification: in-process `Tessera::verify_at` (the gate's call, one caller, `me:read`
//!    required) over 200 access tokens (`tsr_a_`, issued to one OAuth client holding
//!    `me:read`) against 200 static company tokens with the same scope, cycling through each
//!    set. First with the verification cache off (every call one indexed read by hash: the
//!    cache-miss cost), then with it on, as a server runs (every call answered from memory).
//!    Each mode is `--verify-rounds` rounds of `--verify-ms`, in which timed batches of 64
//!    calls on each kind alternate (ABBA), so both kinds see the same moments of this noisy
//!    machine; the figure is the median of the rounds' access/static ratios. The cache-hit
//!    counter is checked: no hits while the cache is off, and with it on no misses but each
//!    token's first presentation.
//! 2. Token endpoint: `POST /oauth/token` (`grant_type=client_credentials`, HTTP Basic,
//!    form-encoded; each answer a new token row and an audit entry) over HTTPS with
//!    keep-alive, against `GET /v1/me` with a static company token on the same server, both
//!    driven by `wrk` with the same script, threads and `--connections`: `--rounds` pairs of
//!    `--duration` runs, ABBA, the median of the pairs' ratios (this machine's speed swings
//!    from second to second; a pair sees the same weather). Every answer must be 2xx and
//!    carry the expected body (a `tsr_a_` access token, or the token's own `/v1/me`), and at
//!    the end the store must hold at least as many new access tokens as wrk counted answers,
//!    the server must still issue a token, and its log must hold no error; anything else
//!    fails the benchmark. The policy's maximum rate limit and the client's and the static
//!    token's limits are raised to 1,000,000 a minute, far above what a run can reach, so
//!    the limiter never refuses. All token requests come from one client, so the
//!    client holds more tokens as the run goes on (each pair's line says how many, and the
//!    summary gives the first and last pair). Authenticating a client reads the client and its
//!    secrets by index, not figures over its tokens (it did at first, and throughput fell
//!    with the client's history).
//!
//! Run with `cargo bench -p tessera-api --bench oauth` (needs wrk); `.ci/bench` runs it with
//! this process (the server) and wrk (`--client-cpus`) on separate cores, as for
//! `benches/load.rs`. Options, after `--`:
//!   --rounds N          pairs of token-endpoint / baseline runs (10)
//!   --duration SECS     length of each of those runs (3)
//!   --connections N     keep-alive connections (64)
//!   --threads N         wrk threads (one per client CPU, else 2)
//!   --warmup SECS       one unmeasured run of each first (2; 0 skips)
//!   --client-cpus LIST  run wrk under `taskset -c LIST` (none: unpinned)
//!   --verify-rounds N   verification rounds in each cache mode (20)
//!   --verify-ms MS      length of each verification round (500)
//!
//! Everything lives in a temporary data dir deleted at the end; no token or secret is put on
//! wrk's command line or in the output. The server's warnings and errors go to stderr (the
//! first 20; `RUST_LOG` sets the filter), so a run that fails says why.

// The allocator `tessera serve` uses, so the figures are the server's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::hint::black_box;
use std::path::Path;
use std::process::{Command, ExitCode};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use base64::Engine;
use tessera_api::{RunningServer, ServerConfig};
use tessera_core::keys::KeyStoreChoice;
use tessera_core::model::{Role, Scope};
use tessera_core::password::Password;
use tessera_core::service::NewClient;
use tessera_core::store::tokens::TokenFilter;
use tessera_core::token::TokenKind;
use tessera_core::verify::unix_now;
use tessera_core::{Actor, NewToken, NewUser, OpenOptions, Tessera};

/// Requests per minute for the client and the static tokens: the policy's upper bound.
const RATE_LIMIT: u32 = 1_000_000;
/// Tokens of each kind in the verification part.
const TOKENS: usize = 200;
/// Cache misses allowed with the cache on: each token's first presentation.
const FIRST_SIGHTINGS: u64 = 2 * TOKENS as u64;
const SCOPE: &str = "me:read";

const WRK_SCRIPT: &str = r#"
-- One request shape per run, all from the environment, so no secret is on wrk's command line.
wrk.method = os.getenv("TESSERA_BENCH_METHOD") or "GET"
wrk.headers["Authorization"] = os.getenv("TESSERA_BENCH_AUTH")
wrk.headers["User-Agent"] = "tessera-oauth-bench"
local form = os.getenv("TESSERA_BENCH_BODY") or ""
if form ~= "" then
  wrk.body = form
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end
local expect = os.getenv("TESSERA_BENCH_EXPECT") or ""

-- wrk itself counts only statuses from 400 up; here any answer that is not 2xx, or lacks the
-- expected text, counts against the run (per thread, summed at the end).
bad = 0
first_bad = ""
response = function(status, headers, body)
  if status < 200 or status > 299 or (expect ~= "" and not string.find(body or "", expect, 1, true)) then
    bad = bad + 1
    if first_bad == "" then
      first_bad = status .. " " .. string.sub(body or "", 1, 300)
    end
  end
end

local threads = {}
setup = function(thread)
  threads[#threads + 1] = thread
end

done = function(summary, latency, requests)
  local wrong, example = 0, ""
  for _, t in ipairs(threads) do
    wrong = wrong + (tonumber(t:get("bad")) or 0)
    if example == "" then
      example = t:get("first_bad") or ""
    end
  end
  if example ~= "" then
    io.write("TESSERA_FIRST_BAD " .. string.gsub(example, "\n", " ") .. "\n")
  end
  local e = summary.errors
  io.write(string.format(
    "TESSERA_RESULT %d %d %d %d %d %d %d %d %d\n",
    summary.requests, summary.duration,
    e.connect, e.read, e.write, e.status, e.timeout, wrong,
    latency:percentile(99)))
end
"#;

struct Opts {
    rounds: usize,
    duration: u32,
    connections: u32,
    threads: Option<u32>,
    warmup: u32,
    client_cpus: Option<String>,
    verify_rounds: usize,
    verify_window: Duration,
}

fn parse_opts() -> Result<Opts, String> {
    let mut o = Opts {
        rounds: 10,
        duration: 3,
        connections: 64,
        threads: None,
        warmup: 2,
        client_cpus: None,
        verify_rounds: 20,
        verify_window: Duration::from_millis(500),
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
            "--connections" => o.connections = num(&a, value(&a)?)?.max(1),
            "--threads" => o.threads = Some(num(&a, value(&a)?)?.max(1)),
            "--warmup" => o.warmup = num(&a, value(&a)?)?,
            "--client-cpus" => o.client_cpus = Some(value(&a)?),
            "--verify-rounds" => o.verify_rounds = num(&a, value(&a)?)?.max(1) as usize,
            "--verify-ms" => {
                o.verify_window = Duration::from_millis(num(&a, value(&a)?)?.max(10).into())
            }
            // `cargo bench` passes `--bench` (and maybe a filter); nothing to do with them.
            _ => {}
        }
    }
    Ok(o)
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

fn range(v: &[f64]) -> (f64, f64) {
    v.iter()
        .fold((f64::INFINITY, 0f64), |(l, h), r| (l.min(*r), h.max(*r)))
}

/// The store, an admin, the raised policy, [`TOKENS`] static company tokens, the client and
/// [`TOKENS`] access tokens issued to it in-process (as the token endpoint issues them), and
/// one more static token for the HTTP baseline.
struct Fixture {
    tessera: Tessera,
    statics: Vec<String>,
    access: Vec<String>,
    client_id: String,
    client_secret: String,
    baseline_token: String,
}

async fn fixture(dir: &Path) -> Result<Fixture, String> {
    let e = |what: &'static str| move |err: tessera_core::Error| format!("{what}: {err}");
    let t = Tessera::open(OpenOptions::new(dir.to_owned(), KeyStoreChoice::File))
        .await
        .map_err(e("open"))?;
    t.init(
        "Bench",
        NewUser {
            email: "ada@example.com".parse().map_err(e("email"))?,
            name: "Ada".into(),
            role: Role::Admin,
            password: Password::new("correct horse battery staple".into())
                .map_err(e("password"))?,
            source_group: String::new(),
        },
    )
    .await
    .map_err(e("init"))?;
    let mut policy = t.policy().await.map_err(e("policy"))?;
    policy.max_rate_limit = RATE_LIMIT;
    t.set_policy(&Actor::Operator, policy)
        .await
        .map_err(e("set the policy"))?;
    let scope = || vec![SCOPE.parse::<Scope>().expect("a built-in scope")];
    let company = |name: String| NewToken {
        description: Some("oauth benchmark".into()),
        scopes: scope(),
        rate_limit: Some(RATE_LIMIT),
        ..NewToken::named(TokenKind::Company, name)
    };
    let mut statics = Vec::with_capacity(TOKENS);
    for i in 0..TOKENS {
        let c = t
            .create_token(&Actor::Operator, company(format!("svc-{i}")))
            .await
            .map_err(e("static token"))?;
        statics.push(c.token.expose().to_owned());
    }
    let baseline_token = t
        .create_token(&Actor::Operator, company("baseline".into()))
        .await
        .map_err(e("baseline token"))?
        .token
        .expose()
        .to_owned();
    let client = t
        .create_client(
            &Actor::Operator,
            NewClient {
                name: "bench".into(),
                description: "oauth benchmark".into(),
                scopes: scope(),
                rate_limit: Some(RATE_LIMIT),
                ..Default::default()
            },
        )
        .await
        .map_err(e("client"))?;
    let client_id = client.client.client_id.clone();
    let client_secret = client.client_secret.expose().to_owned();
    let row = t
        .authenticate_client(&client_id, &client_secret)
        .await
        .map_err(e("authenticate the client"))?
        .map_err(|r| format!("the bench client was refused: {r:?}"))?;
    let mut access = Vec::with_capacity(TOKENS);
    for _ in 0..TOKENS {
        let issued = t
            .issue_access_token(&row, None, None)
            .await
            .map_err(e("issue an access token"))?
            .map_err(|r| format!("no access token for the bench client: {r:?}"))?;
        if issued.scope != SCOPE {
            return Err(format!(
                "access token scope {:?}, not {SCOPE}",
                issued.scope
            ));
        }
        access.push(issued.token.expose().to_owned());
    }
    Ok(Fixture {
        tessera: t,
        statics,
        access,
        client_id,
        client_secret,
        baseline_token,
    })
}

/// Calls per timed batch: the clock is read once per batch, so it adds next to nothing to a
/// cache hit.
const BATCH: u64 = 64;

/// Time for [`BATCH`] calls of `verify_at`, one caller, going on through `secrets` from `*i`.
/// Every call must accept.
async fn verify_batch(
    t: &Tessera,
    secrets: &[String],
    i: &mut usize,
    required: &[Scope],
) -> Result<Duration, String> {
    let start = Instant::now();
    for _ in 0..BATCH {
        let d = t
            .verify_at(black_box(&secrets[*i]), required, None, unix_now())
            .await
            .map_err(|e| format!("verify: {e}"))?;
        if !black_box(d.accepted()) {
            return Err(format!("a bench token was refused: {:?}", d.refused));
        }
        *i = (*i + 1) % secrets.len();
    }
    Ok(start.elapsed())
}

/// One round of about `window`: batches of access and static tokens alternating (ABBA), so
/// both see the same moments of this noisy machine. Nanoseconds per call of each kind, and
/// the calls made.
async fn verify_round(
    f: &Fixture,
    cursor: &mut (usize, usize),
    required: &[Scope],
    window: Duration,
) -> Result<(f64, f64, u64), String> {
    let t = &f.tessera;
    let (mut access, mut statics) = (Duration::ZERO, Duration::ZERO);
    let mut pairs = 0u64;
    let start = Instant::now();
    while pairs == 0 || start.elapsed() < window {
        if pairs % 2 == 0 {
            access += verify_batch(t, &f.access, &mut cursor.0, required).await?;
            statics += verify_batch(t, &f.statics, &mut cursor.1, required).await?;
        } else {
            statics += verify_batch(t, &f.statics, &mut cursor.1, required).await?;
            access += verify_batch(t, &f.access, &mut cursor.0, required).await?;
        }
        pairs += 1;
    }
    let each = (pairs * BATCH) as f64;
    Ok((
        access.as_nanos() as f64 / each,
        statics.as_nanos() as f64 / each,
        2 * pairs * BATCH,
    ))
}

/// One cache mode: the medians of each kind's time per call and of the rounds' ratios
/// (access / static), the rounds' ratios, and the calls made.
struct VerifyFigures {
    access_ns: f64,
    static_ns: f64,
    ratio: f64,
    ratios: Vec<f64>,
    /// Every call made, the warm-up's included.
    calls: u64,
}

async fn verify_mode(f: &Fixture, o: &Opts, mode: &str) -> Result<VerifyFigures, String> {
    let required = [SCOPE.parse::<Scope>().expect("a built-in scope")];
    let mut cursor = (0, 0);
    // Warm up (connections, statements, pages, and the cache when on): every token once, and
    // more.
    let mut calls = 0;
    while calls < 4 * FIRST_SIGHTINGS {
        calls += verify_round(f, &mut cursor, &required, o.verify_window / 4)
            .await?
            .2;
    }
    let (mut a_ns, mut s_ns, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..o.verify_rounds {
        let (a, s, n) = verify_round(f, &mut cursor, &required, o.verify_window).await?;
        eprintln!(
            "  verify {mode:<10} access {a:>9.0} ns   static {s:>9.0} ns   ratio {:.3}",
            a / s
        );
        a_ns.push(a);
        s_ns.push(s);
        ratios.push(a / s);
        calls += n;
    }
    Ok(VerifyFigures {
        access_ns: median(a_ns),
        static_ns: median(s_ns),
        ratio: median(ratios.clone()),
        ratios,
        calls,
    })
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

/// CPU seconds this process (the server) has used so far, from `/proc/self/stat`.
fn cpu_seconds(hz: f64) -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / hz)
}

fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

/// What one wrk run sends and must get back.
struct Target<'a> {
    name: &'static str,
    url: &'a str,
    method: &'static str,
    authorization: &'a str,
    body: &'static str,
    /// Text every answer's body must contain.
    expect: &'a str,
}

/// One full-speed wrk run.
#[derive(Debug, Clone, Copy)]
struct Throughput {
    rps: f64,
    requests: u64,
    /// Cores' worth of CPU the server's process used meanwhile.
    server_cpu: f64,
    p99_ms: f64,
}

fn wrk(o: &Opts, secs: u32, script: &Path, target: &Target, hz: f64) -> Result<Throughput, String> {
    let threads = o
        .threads
        .unwrap_or_else(|| o.client_cpus.as_deref().map_or(2, cpu_count));
    let cpu0 = cpu_seconds(hz);
    let t0 = Instant::now();
    let out = tool(o, "wrk")
        .arg(format!("-t{}", threads.min(o.connections)))
        .arg(format!("-c{}", o.connections))
        .arg(format!("-d{secs}s"))
        .args(["--timeout", "5s", "-s"])
        .arg(script)
        .arg(target.url)
        .env("TESSERA_BENCH_METHOD", target.method)
        .env("TESSERA_BENCH_AUTH", target.authorization)
        .env("TESSERA_BENCH_BODY", target.body)
        .env("TESSERA_BENCH_EXPECT", target.expect)
        .output()
        .map_err(|e| format!("cannot run wrk ({e}); .ci/bench installs it"))?;
    let wall = t0.elapsed().as_secs_f64();
    let server_cpu = match (cpu0, cpu_seconds(hz)) {
        (Some(a), Some(b)) => (b - a) / wall,
        _ => f64::NAN,
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("TESSERA_RESULT "))
        .ok_or_else(|| {
            format!(
                "wrk gave no result for {}:\n{stdout}{}",
                target.name,
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
    // [connect, read, write, status >= 400, timeout] from wrk, then the script's own count
    // of answers that were not 2xx or lacked the expected text (a 4xx or 5xx is in both).
    let [connect, read, write, _, timeout, wrong] = errors else {
        return Err(format!("unexpected wrk result line: {line}"));
    };
    if connect + read + write + timeout + wrong > 0 || *requests == 0 {
        let example = stdout
            .lines()
            .find_map(|l| l.strip_prefix("TESSERA_FIRST_BAD "))
            .map_or_else(String::new, |e| format!("; the first: {e}"));
        return Err(format!(
            "{} {}: {} socket errors and timeouts, {wrong} answers not 2xx or without the expected body, in {requests} requests; the figures would be meaningless{example}",
            target.method,
            target.name,
            connect + read + write + timeout
        ));
    }
    Ok(Throughput {
        rps: *requests as f64 / (*micros as f64 / 1e6),
        requests: *requests,
        server_cpu,
        p99_ms: *p99_us as f64 / 1e3,
    })
}

/// One request of each kind through reqwest before the runs, with the very headers wrk will
/// send: the token endpoint answers a `me:read` access token that `/v1/me` accepts, and the
/// baseline token is accepted. Returns the text both `/v1/me` bodies are checked for.
async fn sanity(base: &str, ca_pem: &str, basic: &str, baseline: &str) -> Result<String, String> {
    let ca = reqwest::Certificate::from_pem(ca_pem.as_bytes()).map_err(|e| format!("CA: {e}"))?;
    let http = reqwest::Client::builder()
        .tls_certs_only([ca])
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| format!("HTTP client: {e}"))?;
    let res = http
        .post(format!("{base}/oauth/token"))
        .header(reqwest::header::AUTHORIZATION, basic)
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .body("grant_type=client_credentials")
        .send()
        .await
        .map_err(|e| format!("POST /oauth/token: {e}"))?;
    let status = res.status();
    let v: serde_json::Value = res
        .json()
        .await
        .map_err(|e| format!("POST /oauth/token: {e}"))?;
    let access = v["access_token"].as_str().unwrap_or_default().to_owned();
    if status != reqwest::StatusCode::OK
        || !access.starts_with("tsr_a_")
        || v["token_type"] != "Bearer"
        || v["scope"] != SCOPE
        || !v["expires_in"].is_u64()
    {
        return Err(format!("POST /oauth/token answered {status}: {v}"));
    }
    let me = |token: String| {
        let http = http.clone();
        async move {
            let res = http
                .get(format!("{base}/v1/me"))
                .bearer_auth(token)
                .send()
                .await
                .map_err(|e| format!("GET /v1/me: {e}"))?;
            let status = res.status();
            let text = res.text().await.map_err(|e| format!("GET /v1/me: {e}"))?;
            if status != reqwest::StatusCode::OK {
                return Err(format!("GET /v1/me answered {status}: {text}"));
            }
            Ok::<_, String>(text)
        }
    };
    me(access).await?;
    let body = me(baseline.to_owned()).await?;
    // The static token's own /v1/me names its scope.
    let expect = format!("\"{SCOPE}\"");
    if !body.contains(&expect) {
        return Err(format!("GET /v1/me with the baseline token: {body}"));
    }
    Ok(expect)
}

async fn access_tokens(t: &Tessera) -> Result<i64, String> {
    t.count_tokens(
        &Actor::Operator,
        &TokenFilter {
            kind: Some(TokenKind::Access),
            ..Default::default()
        },
    )
    .await
    .map_err(|e| format!("count the access tokens: {e}"))
}

/// Log lines shown; the rest are counted and left out.
const LOG_LINES: usize = 20;

/// Log events so far.
static LOGGED: AtomicUsize = AtomicUsize::new(0);
/// Error events so far: any fails the run, as the server was not well throughout.
static ERRORS: AtomicUsize = AtomicUsize::new(0);

/// The log's destination: counts events (and errors), shows the first [`LOG_LINES`].
struct Log;

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Log {
    type Writer = FirstLines;
    fn make_writer(&'a self) -> FirstLines {
        FirstLines
    }
    fn make_writer_for(&'a self, meta: &tracing::Metadata<'_>) -> FirstLines {
        if *meta.level() == tracing::Level::ERROR {
            ERRORS.fetch_add(1, Ordering::Relaxed);
        }
        FirstLines
    }
}

/// Writes a log event to stderr unless [`LOG_LINES`] have been written already.
struct FirstLines;

impl std::io::Write for FirstLines {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if LOGGED.fetch_add(1, Ordering::Relaxed) < LOG_LINES {
            std::io::stderr().write_all(buf)?;
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let logged = LOGGED.load(Ordering::Relaxed);
            if logged > LOG_LINES {
                eprintln!("({} more log lines left out)", logged - LOG_LINES);
            }
            eprintln!("oauth bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let o = parse_opts()?;
    // The server's warnings and errors (RUST_LOG overrides), so a failure says why; the
    // first [`LOG_LINES`] of them, as a broken server logs every request.
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                // rustls warns of every wrk connection: wrk sends the IP address as SNI.
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,rustls=error")),
        )
        .with_writer(Log)
        .with_ansi(false)
        .init();
    let _ = rustls::crypto::ring::default_provider().install_default();
    // The server runs on this runtime's workers: one per core this process may use
    // (`.ci/bench` pins it with taskset). Part 1 runs on it too, one caller.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("runtime: {e}"))?;
    let dir = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
    let f = rt.block_on(fixture(dir.path()))?;
    let t = f.tessera.clone();

    eprintln!(
        "part 1: Tessera::verify_at, one caller, {TOKENS} access and {TOKENS} static tokens ({SCOPE}); {} rounds of {} ms per cache mode, batches of {BATCH} calls alternating",
        o.verify_rounds,
        o.verify_window.as_millis()
    );
    let (miss, hit) = rt.block_on(async {
        let miss = verify_mode(&f, &o, "cache off").await?;
        if t.verify_cache_hits() != 0 {
            return Err("the cache answered while it was off".to_owned());
        }
        // As `tessera serve` runs it (the server enables it again below: a no-op).
        t.enable_verify_cache(Duration::from_millis(50));
        let before = t.verify_cache_hits();
        let hit = verify_mode(&f, &o, "cache on").await?;
        let hits = t.verify_cache_hits() - before;
        // Each token misses once, when first seen; every other call must be a hit.
        if hits + FIRST_SIGHTINGS < hit.calls {
            return Err(format!(
                "only {hits} cache hits in {} calls with the cache on",
                hit.calls
            ));
        }
        Ok::<_, String>((miss, hit))
    })?;

    let cfg = ServerConfig {
        listen: "127.0.0.1:0".parse().expect("an address"),
        data_dir: dir.path().to_owned(),
    };
    let server = rt
        .block_on(tessera_api::start(t.clone(), cfg))
        .map_err(|e| format!("start the API: {e}"))?;
    let base = format!("https://127.0.0.1:{}", server.addr.port());
    let ca_pem = tessera_api::export_ca(dir.path()).map_err(|e| format!("CA: {e}"))?;
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", f.client_id, f.client_secret))
    );
    let bearer = format!("Bearer {}", f.baseline_token);
    let me_expect = rt.block_on(sanity(&base, &ca_pem, &basic, &f.baseline_token))?;
    let issued_before = rt.block_on(access_tokens(&t))?;

    let script = dir.path().join("oauth.lua");
    std::fs::write(&script, WRK_SCRIPT).map_err(|e| format!("write the wrk script: {e}"))?;
    let token_url = format!("{base}/oauth/token");
    let me_url = format!("{base}/v1/me");
    let endpoint = Target {
        name: "/oauth/token",
        url: &token_url,
        method: "POST",
        authorization: &basic,
        body: "grant_type=client_credentials",
        expect: "\"access_token\":\"tsr_a_",
    };
    let baseline = Target {
        name: "/v1/me",
        url: &me_url,
        method: "GET",
        authorization: &bearer,
        body: "",
        expect: &me_expect,
    };
    let wrk_version = Command::new("wrk")
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| {
            let text = String::from_utf8_lossy(&o.stdout).into_owned()
                + &String::from_utf8_lossy(&o.stderr);
            text.lines()
                .next()
                .map(|l| l.split(" Copyright").next().unwrap_or(l).trim().to_owned())
        })
        .unwrap_or_else(|| "wrk (version unknown)".to_owned());
    let server_cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let client = o.client_cpus.as_deref().map_or_else(
        || "unpinned, sharing the server's cores".to_owned(),
        |c| format!("pinned to CPU {c}"),
    );
    eprintln!(
        "part 2: {wrk_version}, {} connections, {} pairs of {}s runs; server on {server_cores} core(s), wrk {client}",
        o.connections, o.rounds, o.duration
    );
    let hz = clock_ticks();
    let mut endpoint_requests = 0u64;
    let mut thr = |target: &Target, secs: u32| -> Result<Throughput, String> {
        let r = wrk(&o, secs, &script, target, hz)?;
        if target.method == "POST" {
            endpoint_requests += r.requests;
        }
        eprintln!(
            "  wrk  {} {:<13} {:>8.0} req/s   p99 {:>7.2} ms   server's CPU {:.0}% of a core",
            target.method,
            target.name,
            r.rps,
            r.p99_ms,
            r.server_cpu * 100.0
        );
        Ok(r)
    };
    if o.warmup > 0 {
        eprintln!("warm-up ({}s each, not counted)", o.warmup);
        thr(&baseline, o.warmup)?;
        thr(&endpoint, o.warmup)?;
    }
    let (mut base_t, mut end_t, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    // The access tokens the client holds before the measured runs and after each pair.
    let mut held = vec![rt.block_on(access_tokens(&t))?];
    for round in 1..=o.rounds {
        // ABBA: every other pair starts with the token endpoint.
        let (b, e) = if round % 2 == 1 {
            let b = thr(&baseline, o.duration)?;
            (b, thr(&endpoint, o.duration)?)
        } else {
            let e = thr(&endpoint, o.duration)?;
            (thr(&baseline, o.duration)?, e)
        };
        // Authenticating the client reads over its tokens: show how many it holds.
        held.push(rt.block_on(access_tokens(&t))?);
        eprintln!(
            " pair {round}/{}: ratio {:.3}; the client holds {} access tokens",
            o.rounds,
            e.rps / b.rps,
            held[round]
        );
        ratios.push(e.rps / b.rps);
        base_t.push(b);
        end_t.push(e);
    }
    // The server must still issue tokens and answer after the runs (a run can end well and
    // leave it broken), and have logged no error on the way.
    let after = rt.block_on(sanity(&base, &ca_pem, &basic, &f.baseline_token));
    let issued = rt.block_on(access_tokens(&t))? - issued_before;
    rt.block_on(RunningServer::shutdown(server));
    after.map_err(|e| format!("after the runs: {e}"))?;
    let errors = ERRORS.load(Ordering::Relaxed);
    if errors > 0 {
        return Err(format!(
            "the server logged {errors} errors during the run (the first log lines are above); the figures would be meaningless"
        ));
    }
    // wrk counts answers it read; the server may have issued a few more it never read.
    if issued < 0 || (issued as u64) < endpoint_requests {
        return Err(format!(
            "wrk counted {endpoint_requests} token answers but only {issued} access tokens were issued"
        ));
    }

    let p = |v: &[Throughput], f: fn(&Throughput) -> f64| median(v.iter().map(f).collect());
    let (miss_lo, miss_hi) = range(&miss.ratios);
    let (hit_lo, hit_hi) = range(&hit.ratios);
    let (lo, hi) = range(&ratios);
    let ratio = median(ratios.clone());
    println!();
    println!(
        "verify, cache miss (Tessera::verify_at, cache off, one caller): access token {:.2} µs, static company token {:.2} µs; access / static {:.2}x (median of {} rounds, from {miss_lo:.2} to {miss_hi:.2})",
        miss.access_ns / 1e3,
        miss.static_ns / 1e3,
        miss.ratio,
        miss.ratios.len()
    );
    println!(
        "verify, cache hit (Tessera::verify_at, cache on, one caller): access token {:.0} ns, static company token {:.0} ns; access / static {:.2}x (median of {} rounds, from {hit_lo:.2} to {hit_hi:.2})",
        hit.access_ns,
        hit.static_ns,
        hit.ratio,
        hit.ratios.len()
    );
    println!(
        "token endpoint (HTTPS keep-alive, {} connections, wrk; server on {server_cores} core(s), wrk {client}): POST /oauth/token {:.0} req/s (p99 {:.2} ms), GET /v1/me with a static token {:.0} req/s (p99 {:.2} ms); /oauth/token / /v1/me {ratio:.3}x (median of {} pairs of {}s runs, from {lo:.3} to {hi:.3}); {issued} access tokens issued, every answer 2xx",
        o.connections,
        p(&end_t, |r| r.rps),
        p(&end_t, |r| r.p99_ms),
        p(&base_t, |r| r.rps),
        p(&base_t, |r| r.p99_ms),
        ratios.len(),
        o.duration
    );
    let last = end_t.len() - 1;
    println!(
        "token endpoint as the client's tokens grow: first pair {:.0} req/s ({:.3}x) with {} to {} access tokens held, last pair {:.0} req/s ({:.3}x) with {} to {}",
        end_t[0].rps,
        ratios[0],
        held[0],
        held[1],
        end_t[last].rps,
        ratios[last],
        held[last],
        held[last + 1]
    );
    Ok(())
}
