//! Rotation with overlap: the successor copies the old token's limits with a fresh expiry of
//! the same length; the old one works until the overlap ends or the successor's first accepted
//! use plus the grace, then is revoked with the reason `rotated`; authority still narrows.

use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr};

use tessera_core::model::{Networks, Role, Scope, TokenStatus};
use tessera_core::policy::ExpiryRequest;
use tessera_core::service::RotateRequest;
use tessera_core::store::usage::UseEvent;
use tessera_core::token::TokenKind;
use tessera_core::verify::Reason;
use tessera_core::NewToken;
use time::{Duration, OffsetDateTime};

use crate::common;

fn scopes(s: &[&str]) -> Vec<Scope> {
    s.iter().map(|x| x.parse().expect("scope")).collect()
}

fn used(id: tessera_core::model::TokenId, at: OffsetDateTime, ip: [u8; 4]) -> UseEvent {
    UseEvent {
        token_id: id,
        at,
        ip: Some(IpAddr::V4(Ipv4Addr::from(ip))),
        user_agent: Some("deploy-bot/2".into()),
        method: Cow::Borrowed("GET"),
        path: Cow::Borrowed("/v1/me"),
        status: 200,
        outcome: "accepted",
        via: "bearer",
    }
}

#[tokio::test]
async fn the_old_token_works_until_the_successor_is_used_plus_the_grace() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (t, admin) = common::company(dir.path()).await;
    let uli = common::person(&t, "uli@acme.test", Role::User).await;
    let old = t
        .create_token(
            &uli,
            NewToken {
                scopes: scopes(&["me:read", "tokens:read"]),
                networks: Networks::parse(&["10.0.0.0/8"]).expect("nets"),
                idle_days: Some(30),
                rate_limit: Some(77),
                expiry: ExpiryRequest::parse_in("30d").expect("expiry"),
                description: Some("the deploy job".into()),
                ..NewToken::named(TokenKind::Personal, "deploy")
            },
        )
        .await
        .expect("create");
    let ip = Some(IpAddr::V4(Ipv4Addr::new(10, 1, 2, 3)));
    let me = scopes(&["me:read"]);
    // A use before the rotation is not one the report lists.
    t.record_uses(&[used(
        old.info.id,
        OffsetDateTime::now_utc() - Duration::minutes(5),
        [10, 9, 9, 9],
    )])
    .await
    .expect("record");

    // An admin may not rotate (and so see) someone else's personal token.
    let refused = t
        .rotate_token(
            &admin,
            old.info.id,
            RotateRequest::parse(None, None).expect("req"),
        )
        .await
        .expect_err("not the owner");
    assert!(
        refused.to_string().contains("created by their owners"),
        "{refused}"
    );

    let req = RotateRequest::parse(Some("2h"), Some("5m")).expect("req");
    let new = t
        .rotate_token(&uli, old.info.id, req)
        .await
        .expect("rotate");
    assert_eq!(new.rotated, Some(old.info.id));
    assert_eq!(new.info.name, "deploy");
    assert_eq!(new.info.description, "the deploy job");
    assert_eq!(new.info.scopes, old.info.scopes);
    assert_eq!(new.info.allowed_networks, old.info.allowed_networks);
    assert_eq!((new.info.rate_limit, new.info.idle_days), (77, Some(30)));
    let len = |i: &tessera_core::TokenInfo| i.expires_at.expect("expires") - i.created_at;
    assert!((len(&new.info) - len(&old.info)).abs() <= Duration::seconds(2));
    assert_ne!(new.token.expose(), old.token.expose());

    // Both work; the old one is rotating and names its successor.
    for s in [&old.token, &new.token] {
        let d = t
            .verify(s.expose(), &me, ip, OffsetDateTime::now_utc())
            .await
            .expect("verify");
        assert!(d.accepted(), "{:?}", d.refused);
    }
    let info = t.get_token(&uli, old.info.id).await.expect("get");
    assert_eq!(info.status, TokenStatus::Rotating);
    let rot = info.rotation.expect("rotation");
    assert_eq!(rot.successor, new.info.id);
    assert_eq!(rot.grace_seconds, 300);
    assert!(rot.ends_at - rot.rotated_at <= Duration::hours(2));
    assert!(rot.ends_at - rot.rotated_at >= Duration::hours(2) - Duration::seconds(2));
    // Past the overlap the old one is refused as revoked, before any sweep.
    let later = OffsetDateTime::now_utc() + Duration::hours(2) + Duration::seconds(5);
    let d = t
        .verify(old.token.expose(), &me, ip, later)
        .await
        .expect("verify");
    assert_eq!(d.refused, Some(Reason::Revoked));
    // Rotating is a list filter of its own.
    let rotating = t
        .list_tokens(
            &uli,
            &tessera_core::store::tokens::TokenFilter {
                status: Some(TokenStatus::Rotating),
                ..Default::default()
            },
        )
        .await
        .expect("list");
    assert_eq!(
        rotating.iter().map(|i| i.id).collect::<Vec<_>>(),
        [old.info.id]
    );
    // A second rotation of the same token is refused with what to do instead.
    let again = t
        .rotate_token(&uli, old.info.id, req)
        .await
        .expect_err("already rotating");
    assert!(again.to_string().contains("already rotating"), "{again}");

    // The old token is still used from one address after the rotation: the report says so.
    t.record_uses(&[used(old.info.id, OffsetDateTime::now_utc(), [10, 4, 4, 4])])
        .await
        .expect("record");
    let report = t.rotation_report(&uli, old.info.id).await.expect("report");
    assert_eq!(report.sources.len(), 1, "{:?}", report.sources);
    assert_eq!(report.sources[0].ip.as_deref(), Some("10.4.4.4"));
    assert_eq!(
        report.sources[0].user_agent.as_deref(),
        Some("deploy-bot/2")
    );

    // The successor's first accepted use, six minutes ago: the 5-minute grace is over.
    t.record_uses(&[used(
        new.info.id,
        OffsetDateTime::now_utc() - Duration::minutes(6),
        [10, 5, 5, 5],
    )])
    .await
    .expect("record");
    let d = t
        .verify(old.token.expose(), &me, ip, OffsetDateTime::now_utc())
        .await
        .expect("verify");
    assert_eq!(d.refused, Some(Reason::Revoked));
    // Listing sweeps it: revoked for good, audited with the reason, by tessera.
    let info = t.get_token(&uli, old.info.id).await.expect("get");
    assert_eq!(info.status, TokenStatus::Revoked);
    assert!(info.rotation.is_none());
    assert!(t.finish_due_rotations().await.expect("sweep").is_empty());
    let target = format!("token:{}", old.info.id);
    let mine = t
        .audit(
            &admin,
            &tessera_core::store::audit::AuditFilter {
                target: Some(target),
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .expect("audit");
    let actions: Vec<&str> = mine.iter().map(|e| e.action.as_str()).collect();
    assert!(actions.contains(&"token.rotate"), "{actions:?}");
    let auto = mine
        .iter()
        .find(|e| e.action == "token.revoke")
        .expect("automatic revoke");
    assert_eq!(auto.actor, "tessera");
    assert_eq!(auto.details["reason"], "rotated");
    assert_eq!(auto.details["from"], "rotating");
    // The successor is untouched and keeps the name alone.
    let d = t
        .verify(new.token.expose(), &me, ip, OffsetDateTime::now_utc())
        .await
        .expect("verify");
    assert!(d.accepted());
}

#[tokio::test]
async fn finish_now_no_overlap_and_narrowing_through_a_token() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (t, admin) = common::company(dir.path()).await;
    let vrm = common::person(&t, "vera@acme.test", Role::VrmAdmin).await;
    let company = t
        .create_token(
            &vrm,
            NewToken {
                description: Some("billing export".into()),
                scopes: scopes(&["me:read"]),
                ..NewToken::named(TokenKind::Company, "billing")
            },
        )
        .await
        .expect("create");
    let me = scopes(&["me:read"]);
    let now = OffsetDateTime::now_utc;

    // Finish now: the old token is revoked at once with the reason.
    let next = t
        .rotate_token(
            &vrm,
            company.info.id,
            RotateRequest::parse(None, None).expect("req"),
        )
        .await
        .expect("rotate");
    assert_eq!(
        t.get_token(&admin, company.info.id)
            .await
            .expect("get")
            .status,
        TokenStatus::Rotating
    );
    let done = t
        .finish_rotation(&admin, company.info.id)
        .await
        .expect("finish");
    assert_eq!(done.status, TokenStatus::Revoked);
    let d = t
        .verify(company.token.expose(), &me, None, now())
        .await
        .expect("verify");
    assert_eq!(d.refused, Some(Reason::Revoked));
    let again = t
        .finish_rotation(&admin, company.info.id)
        .await
        .expect_err("not rotating");
    assert!(again.to_string().contains("not rotating"), "{again}");

    // No overlap: revoked in the same step, like regenerating.
    let third = t
        .rotate_token(&vrm, next.info.id, RotateRequest::IMMEDIATE)
        .await
        .expect("rotate");
    let d = t
        .verify(next.token.expose(), &me, None, now())
        .await
        .expect("verify");
    assert_eq!(d.refused, Some(Reason::Revoked));
    assert!(t
        .verify(third.token.expose(), &me, None, now())
        .await
        .expect("verify")
        .accepted());

    // Through a token, the successor may carry only what that token holds and may not
    // outlive it: the rotation is refused rather than widened or lengthened.
    let uli = common::person(&t, "uli@acme.test", Role::User).await;
    let long = t
        .create_token(
            &uli,
            NewToken {
                expiry: ExpiryRequest::parse_in("60d").expect("expiry"),
                ..NewToken::named(TokenKind::Personal, "long")
            },
        )
        .await
        .expect("create");
    let short = t
        .create_token(
            &uli,
            NewToken {
                scopes: scopes(&["me:read", "tokens:write"]),
                expiry: ExpiryRequest::parse_in("1d").expect("expiry"),
                ..NewToken::named(TokenKind::Personal, "short")
            },
        )
        .await
        .expect("create");
    let d = t
        .verify(short.token.expose(), &[], None, now())
        .await
        .expect("verify");
    let owner = t
        .find_user(&"uli@acme.test".parse().expect("email"))
        .await
        .expect("user");
    let via_owner = Some(owner.clone());
    let via = tessera_core::Actor::via_token(d.token.as_deref().expect("token"), Some(owner));
    let e = t
        .rotate_token(
            &via,
            long.info.id,
            RotateRequest::parse(None, None).expect("req"),
        )
        .await
        .expect_err("outlives the acting token");
    assert!(e.to_string().contains("expire"), "{e}");
    let narrow = t
        .create_token(
            &uli,
            NewToken {
                scopes: scopes(&["tokens:write"]),
                ..NewToken::named(TokenKind::Personal, "narrow")
            },
        )
        .await
        .expect("create");
    let d = t
        .verify(narrow.token.expose(), &[], None, now())
        .await
        .expect("verify");
    let via = tessera_core::Actor::via_token(d.token.as_deref().expect("token"), via_owner);
    let e = t
        .rotate_token(
            &via,
            long.info.id,
            RotateRequest::parse(None, None).expect("req"),
        )
        .await
        .expect_err("wider than the acting token");
    assert!(e.to_string().contains("does not hold me:read"), "{e}");
    assert_eq!(
        t.get_token(&uli, long.info.id).await.expect("get").status,
        TokenStatus::Active,
        "a refused rotation changes nothing"
    );

    // Bad lengths name the field and say what to write.
    for (o, g, field) in [
        (Some("forever"), None, "overlap"),
        (Some("31d"), None, "overlap"),
        (None, Some("2d"), "grace"),
    ] {
        let e = RotateRequest::parse(o, g).expect_err("bad");
        assert_eq!(e.field().map(|f| f.as_str()), Some(field), "{e}");
    }
}
