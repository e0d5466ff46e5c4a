//! Rules of the core that every front end relies on: sign-in back-off (counted per e-mail
//! in the database, so it survives a restart and does not punish other people; a right
//! password resets it), the personal-token limit, and who may be deactivated.

use crate::common;

use std::time::Duration;

use tessera_core::password::Password;

fn pw(s: &str) -> Password {
    Password::new(s.into()).expect("long enough")
}

#[tokio::test]
async fn wrong_passwords_slow_that_email_down_across_restarts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (t, _) = common::company(dir.path()).await;
    let admin = common::ADMIN.parse().expect("email");
    let other = "ghost@acme.test".parse().expect("email");
    assert_eq!(
        t.sign_in_delay(&admin).await.expect("delay"),
        Duration::ZERO
    );
    for _ in 0..2 {
        let e = t
            .sign_in(&admin, pw("not the password at all"))
            .await
            .expect_err("wrong");
        assert!(matches!(e, tessera_core::Error::Forbidden(_)), "{e}");
        assert_eq!(e.field(), None, "{e}");
        assert_eq!(e.to_string(), "wrong e-mail or password");
    }
    assert_eq!(
        t.sign_in_delay(&admin).await.expect("delay"),
        Duration::from_secs(1)
    );
    assert_eq!(
        t.sign_in_delay(&other).await.expect("delay"),
        Duration::ZERO
    );
    // Each failure is in the audit log, under the e-mail that was tried.
    let failed = t
        .audit(
            &tessera_core::Actor::Operator,
            &tessera_core::store::audit::AuditFilter {
                actor: Some(common::ADMIN.into()),
                action: Some("user.sign_in_failed".into()),
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .expect("audit");
    assert_eq!(failed.len(), 2, "{failed:?}");
    t.close().await;

    // Another process (or the app after a restart) sees the same count.
    let again = common::open(dir.path()).await;
    assert_eq!(
        again.sign_in_delay(&admin).await.expect("delay"),
        Duration::from_secs(1)
    );
    // Unknown e-mails are counted too, with the same answer.
    let e = again
        .sign_in(&other, pw("whatever it may be"))
        .await
        .expect_err("nobody");
    assert!(matches!(e, tessera_core::Error::Forbidden(_)), "{e}");
    assert_eq!(e.field(), None, "{e}");
    assert_eq!(e.to_string(), "wrong e-mail or password");
    assert_eq!(
        again.sign_in_delay(&other).await.expect("delay"),
        Duration::from_millis(500)
    );
    // The right password still works after the wait, and resets the count.
    again
        .sign_in(&admin, pw("correct horse battery staple"))
        .await
        .expect("right password");
    assert_eq!(
        again.sign_in_delay(&admin).await.expect("delay"),
        Duration::ZERO
    );
}

#[tokio::test]
async fn the_personal_token_limit_counts_live_tokens_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (t, admin) = common::company(dir.path()).await;
    let mut p = t.policy().await.expect("policy");
    p.max_personal_tokens = 2;
    t.set_policy(&tessera_core::Actor::Operator, p)
        .await
        .expect("policy");
    let a = common::token(
        &t,
        &admin,
        tessera_core::token::TokenKind::Personal,
        "a",
        "30d",
    )
    .await;
    common::token(
        &t,
        &admin,
        tessera_core::token::TokenKind::Personal,
        "b",
        "30d",
    )
    .await;
    let e = t
        .create_token(
            &admin,
            tessera_core::NewToken::named(tessera_core::token::TokenKind::Personal, "c"),
        )
        .await
        .expect_err("over the limit");
    assert!(e.to_string().contains("at most 2 personal tokens"), "{e}");
    // A revoked token frees its place.
    t.set_token_status(&admin, a, tessera_core::StatusAction::Revoke)
        .await
        .expect("revoke");
    common::token(
        &t,
        &admin,
        tessera_core::token::TokenKind::Personal,
        "c",
        "30d",
    )
    .await;
}

#[tokio::test]
async fn nobody_deactivates_themselves_or_the_last_admin() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (t, admin) = common::company(dir.path()).await;
    let me = common::ADMIN.parse().expect("email");
    let e = t.deactivate_user(&admin, &me).await.expect_err("self");
    assert!(e.to_string().contains("cannot deactivate yourself"), "{e}");
    let e = t
        .deactivate_user(&tessera_core::Actor::Operator, &me)
        .await
        .expect_err("last admin");
    assert!(e.to_string().contains("last active admin"), "{e}");
    let e = t
        .set_role(
            &tessera_core::Actor::Operator,
            &me,
            tessera_core::model::Role::User,
        )
        .await
        .expect_err("last admin");
    assert!(e.to_string().contains("last active admin"), "{e}");
}
