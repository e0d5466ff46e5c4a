//! Sign-in back-off: counted per e-mail in the database, so it survives a restart and does
//! not punish other people; a right password resets it.

mod common;

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
        assert_eq!(e.to_string(), "sign-in: wrong e-mail or password");
    }
    assert_eq!(
        t.sign_in_delay(&admin).await.expect("delay"),
        Duration::from_secs(1)
    );
    assert_eq!(
        t.sign_in_delay(&other).await.expect("delay"),
        Duration::ZERO
    );
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
    assert_eq!(e.to_string(), "sign-in: wrong e-mail or password");
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
