//! Times the queries behind the app's lists, filters and charts on a data dir filled by
//! `tessera dev seed` (run: `cargo run --release -p tessera-core --example scale -- DIR`).

use std::time::Instant;

use tessera_core::keys::KeyStoreChoice;
use tessera_core::store::tokens::{TokenFilter, TokenSort};
use tessera_core::{Actor, OpenOptions, Tessera};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args().nth(1).ok_or("usage: scale DATA_DIR")?;
    let t = Tessera::open(OpenOptions::new(dir, KeyStoreChoice::File)).await?;
    let a = Actor::Operator;
    let page = |f: TokenFilter| TokenFilter { limit: 100, ..f };
    let cases: Vec<(&str, TokenFilter)> = vec![
        ("first page, by id", page(TokenFilter::default())),
        (
            "sorted by last used, desc",
            page(TokenFilter {
                sort: TokenSort::LastUsed,
                descending: true,
                ..Default::default()
            }),
        ),
        (
            "sorted by owner, page 500",
            page(TokenFilter {
                sort: TokenSort::Owner,
                offset: 50_000,
                ..Default::default()
            }),
        ),
        (
            "status expired",
            page(TokenFilter {
                status: Some(tessera_core::model::TokenStatus::Expired),
                ..Default::default()
            }),
        ),
        (
            "expiring within 7 days",
            page(TokenFilter {
                expiring_within_days: Some(7),
                ..Default::default()
            }),
        ),
        (
            "unused for 30 days",
            page(TokenFilter {
                unused_for_days: Some(30),
                ..Default::default()
            }),
        ),
        (
            "never used",
            page(TokenFilter {
                never_used: true,
                ..Default::default()
            }),
        ),
        (
            "scope tokens:write",
            page(TokenFilter {
                scope: "tokens:write".parse().ok(),
                ..Default::default()
            }),
        ),
        (
            "free text 'billing token 42'",
            page(TokenFilter {
                text: Some("billing token 42".into()),
                ..Default::default()
            }),
        ),
        (
            "presented in a URL query",
            page(TokenFilter {
                presented_in_query: true,
                ..Default::default()
            }),
        ),
    ];
    println!(
        "{:<34} {:>10} {:>10} {:>8}",
        "query (100-row page + total)", "list ms", "count ms", "total"
    );
    for (name, f) in cases {
        let s = Instant::now();
        let rows = t.list_tokens(&a, &f).await?;
        let list = s.elapsed();
        let s = Instant::now();
        let total = t.count_tokens(&a, &f).await?;
        let count = s.elapsed();
        let _ = rows;
        println!(
            "{name:<34} {:>10.1} {:>10.1} {total:>8}",
            list.as_secs_f64() * 1e3,
            count.as_secs_f64() * 1e3
        );
    }
    let s = Instant::now();
    let d = t.dashboard(&a).await?;
    println!(
        "dashboard: {:.1} ms ({} active, {} refused in 24 h)",
        s.elapsed().as_secs_f64() * 1e3,
        d.active,
        d.refused_24_hours
    );
    let busiest = t
        .list_tokens(
            &a,
            &TokenFilter {
                sort: TokenSort::Uses,
                descending: true,
                limit: 1,
                ..Default::default()
            },
        )
        .await?;
    if let Some(tok) = busiest.first() {
        for days in [7, 30, 90] {
            let s = Instant::now();
            let series = t.usage_series(&a, tok.id, days).await?;
            println!(
                "usage chart, {days} days: {:.1} ms ({} days)",
                s.elapsed().as_secs_f64() * 1e3,
                series.len()
            );
        }
        let s = Instant::now();
        let c = t.usage_clients(&a, tok.id).await?;
        println!(
            "clients seen: {:.1} ms ({} rows)",
            s.elapsed().as_secs_f64() * 1e3,
            c.len()
        );
        let s = Instant::now();
        let u = t.token_usage(&a, tok.id, 200).await?;
        println!(
            "recent requests: {:.1} ms ({} rows)",
            s.elapsed().as_secs_f64() * 1e3,
            u.len()
        );
    }
    Ok(())
}
