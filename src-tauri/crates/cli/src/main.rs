//! `tessera`: the command line. A thin clap front end over tessera-core (and tessera-api for
//! `serve`): parse arguments into core types, call the core, print the answer. No rule lives
//! here; the core enforces them all.

mod args;
mod clients;
mod commands;
mod output;
mod scan;

use std::process::ExitCode;

use clap::Parser;

/// mimalloc rather than the C library's allocator: `tessera serve` allocates a little for
/// every request on every connection, and with mimalloc's per-thread pages `/v1/me` served
/// about a quarter more requests a second in `.ci/bench` (which uses it too).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TESSERA_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("error")),
        )
        .with_target(false)
        .init();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(commands::run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", output::error_text(&e));
            ExitCode::FAILURE
        }
    }
}
