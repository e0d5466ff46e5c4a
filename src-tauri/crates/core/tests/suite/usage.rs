//! Usage events: identical presentations in the same second are stored as one row with a
//! count, and every report (recent uses, counters, uses per day, clients, the dashboard)
//! counts each presentation all the same.

use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use crate::common;

use tessera_core::store::usage::UseEvent;
use tessera_core::token::TokenKind;

#[tokio::test]
async fn identical_uses_in_a_second_share_a_row_and_every_report_counts_each() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (t, admin) = common::company(dir.path()).await;
    let id = common::token(&t, &admin, TokenKind::Personal, "loop", "30d").await;

    // A few seconds back, so "the next second" is not in the future either.
    let now = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .expect("whole seconds")
        - time::Duration::seconds(5);
    let agent: Arc<str> = "loop-client/1".into();
    let ok = UseEvent {
        token_id: id,
        at: now,
        ip: Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 7))),
        user_agent: Some(agent.clone()),
        method: Cow::Borrowed("GET"),
        path: Cow::Borrowed("/v1/me"),
        status: 200,
        outcome: "accepted",
        via: "bearer",
    };
    let refused = UseEvent {
        status: 429,
        outcome: "rate_limited",
        ..ok.clone()
    };
    let next_second = UseEvent {
        at: now + time::Duration::seconds(1),
        ..ok.clone()
    };
    let other_path = UseEvent {
        path: Cow::Owned("/v1/tokens/7".into()),
        ..ok.clone()
    };
    // Two batches, as the API's writer would send them: folding happens within a batch.
    let mut batch = vec![ok.clone(); 5];
    batch.extend([
        refused.clone(),
        refused.clone(),
        other_path,
        next_second.clone(),
    ]);
    batch.push(ok.clone());
    t.record_uses(&batch).await.expect("record");
    t.record_uses(&[next_second, refused])
        .await
        .expect("record");

    let rows = t.token_usage(&admin, id, 100).await.expect("usage");
    let mut seen: Vec<(i64, &str, &str, i64)> = rows
        .iter()
        .map(|r| {
            (
                r.at.unix_timestamp() - now.unix_timestamp(),
                r.path.as_str(),
                r.outcome.as_str(),
                r.uses,
            )
        })
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        vec![
            (0, "/v1/me", "accepted", 6),
            (0, "/v1/me", "rate_limited", 1),
            (0, "/v1/me", "rate_limited", 2),
            (0, "/v1/tokens/7", "accepted", 1),
            (1, "/v1/me", "accepted", 1),
            (1, "/v1/me", "accepted", 1),
        ]
    );
    assert!(rows
        .iter()
        .all(|r| r.ip.as_deref() == Some("10.0.0.7")
            && r.user_agent.as_deref() == Some("loop-client/1")));

    let info = t.get_token(&admin, id).await.expect("get");
    assert_eq!((info.use_count, info.refused_count), (9, 3));
    assert_eq!(info.last_used_ip.as_deref(), Some("10.0.0.7"));

    let series = t.usage_series(&admin, id, 2).await.expect("series");
    let (accepted, refused): (i64, i64) = series
        .iter()
        .fold((0, 0), |(a, r), d| (a + d.accepted, r + d.refused));
    assert_eq!((accepted, refused), (9, 3));

    let clients = t.usage_clients(&admin, id).await.expect("clients");
    assert_eq!(clients.len(), 1);
    assert_eq!(clients[0].uses, 12);

    let dash = t.dashboard(&admin).await.expect("dashboard");
    assert_eq!(dash.refused_24_hours, 3);
}

#[tokio::test]
async fn dropped_usage_events_are_counted_on_the_dashboard() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (t, admin) = common::company(dir.path()).await;
    assert_eq!(
        t.dashboard(&admin).await.expect("dashboard").usage_dropped,
        0
    );
    t.record_dropped_uses(7).await.expect("count");
    t.record_dropped_uses(5).await.expect("count");
    assert_eq!(
        t.dashboard(&admin).await.expect("dashboard").usage_dropped,
        12
    );
}
