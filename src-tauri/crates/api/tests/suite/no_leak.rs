//! No answer and no log line contains a presented token: the server runs with every log
//! level captured while tokens are presented in every way, valid and not, in headers, the
//! query, the path, the user agent and JSON bodies.

use crate::common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::{setup, ALL_SCOPES};
use serde_json::json;
use tessera_core::token::{TokenKind, TokenSecret};

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn no_answer_or_log_line_contains_a_token() {
    let capture = Capture::default();
    let sink = capture.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || sink.clone())
        .with_ansi(false)
        .init();

    let mut env = setup().await;
    let admin = env.token("admin", ALL_SCOPES).await;
    let a = admin.token.expose().to_owned();
    let unknown = TokenSecret::generate(TokenKind::Personal);
    let u = unknown.expose().to_owned();
    let mut typo = a.clone().into_bytes();
    typo[12] = if typo[12] == b'x' { b'y' } else { b'x' };
    let typo = String::from_utf8(typo).expect("ascii");
    // A signed-in session: its credential is in the sign-in's answer (this once) and nowhere
    // else.
    let session = env.sign_in("ada@example.com", common::ADMIN_PASSWORD).await;
    let w = session.clone();
    let secrets = [a.clone(), u.clone(), typo.clone(), w.clone()];

    let mut answers: Vec<String> = Vec::new();
    let c = &env.client;
    let mut reqs = vec![
        c.get(env.url("/v1/me")).bearer_auth(&a),
        c.get(env.url("/v1/me")).bearer_auth(&u),
        c.get(env.url("/v1/me")).bearer_auth(&typo),
        c.get(env.url("/v1/me")).header("x-api-key", &u),
        c.get(env.url("/v1/me"))
            .bearer_auth(&a)
            .header("x-api-key", &u),
        c.get(env.url(&format!("/v1/me?api_token={u}"))),
        c.get(env.url(&format!("/v1/tokens/{u}"))).bearer_auth(&a),
        c.get(env.url(&format!("/v1/tokens?q={u}&owner={u}")))
            .bearer_auth(&a),
        c.get(env.url(&format!("/v1/tokens?limit={u}")))
            .bearer_auth(&a),
        c.get(env.url(&format!("/v1/{u}"))).bearer_auth(&a),
        c.get(env.url("/v1/me"))
            .bearer_auth(&a)
            .header("user-agent", format!("curl with {a}")),
        c.post(env.url("/v1/verify"))
            .bearer_auth(&a)
            .json(&json!({"token": u})),
        c.post(env.url("/v1/verify"))
            .bearer_auth(&a)
            .json(&json!({"token": [u]})),
        c.post(env.url("/v1/verify"))
            .bearer_auth(&a)
            .json(&json!({"token": a, "scopes": [u]})),
        c.post(env.url("/v1/verify"))
            .bearer_auth(&a)
            .json(&json!({"token": a, "scopes": u})),
        c.post(env.url("/v1/verify"))
            .bearer_auth(&a)
            .json(&json!({"token": a, "ip": u})),
        c.post(env.url("/v1/verify"))
            .bearer_auth(&a)
            .json(&json!({"token": a, u.clone(): 1})),
        c.post(env.url("/v1/tokens"))
            .bearer_auth(&a)
            .json(&json!({"kind": u, "name": u})),
        c.post(env.url("/v1/tokens"))
            .bearer_auth(&a)
            .json(&json!({"kind": "personal", "name": format!("n {u}"), "description": u})),
        c.post(env.url("/v1/tokens")).bearer_auth(&a).json(
            &json!({"kind": "personal", "name": "x", "scopes": [u], "expires_in": u, "owner": u}),
        ),
        c.post(env.url("/v1/users"))
            .bearer_auth(&a)
            .json(&json!({"email": u, "name": u, "role": u, "password": u})),
        c.put(env.url(&format!("/v1/users/{u}/role")))
            .bearer_auth(&a)
            .json(&json!({"role": u})),
        c.post(env.url("/v1/verify"))
            .bearer_auth(&a)
            .header("content-type", "text/plain")
            .body(u.clone()),
        c.get(env.url("/v1/sessions/current")).bearer_auth(&w),
        c.get(env.url("/v1/me")).bearer_auth(&w),
        c.get(env.url("/v1/users")).header("x-api-key", &w),
        c.patch(env.url("/v1/profile"))
            .bearer_auth(&w)
            .json(&json!({"name": w, "source_group": w})),
        c.post(env.url("/v1/sessions"))
            .json(&json!({"email": w, "password": w})),
        c.post(env.url("/v1/sessions"))
            .json(&json!({"email": "ada@example.com", "password": w})),
        c.post(env.url("/v1/verify"))
            .bearer_auth(&a)
            .json(&json!({"token": w})),
        c.delete(env.url("/v1/sessions/current")).bearer_auth(&w),
        c.get(env.url("/v1/sessions/current")).bearer_auth(&w),
        c.post(env.url("/v1/verify"))
            .bearer_auth(&a)
            .header("content-type", "application/json")
            .body(format!("{{\"token\": \"{u}\" garbage")),
    ];
    for r in reqs.drain(..) {
        let res = r.send().await.expect("send");
        let status = res.status();
        assert!(!status.is_server_error(), "{status}");
        let headers = format!("{:?}", res.headers());
        let text = res.text().await.expect("text");
        answers.push(format!("{status} {headers} {text}"));
    }
    env.stop().await;

    // Usage rows keep nothing of the token either.
    let usage = env
        .tessera
        .token_usage(&tessera_core::Actor::Operator, admin.info.id, 1000)
        .await
        .expect("usage");
    let rows = format!("{usage:?}");

    let logs = String::from_utf8_lossy(&capture.0.lock().expect("lock")).into_owned();
    assert!(!logs.is_empty(), "the log capture saw nothing");
    for s in &secrets {
        for (i, answer) in answers.iter().enumerate() {
            assert!(
                !answer.contains(s.as_str()),
                "answer {i} contains a token: {answer}"
            );
            // Nor a recognisable part of one.
            assert!(
                !answer.contains(&s[..20]),
                "answer {i} contains part of a token: {answer}"
            );
        }
        assert!(!logs.contains(&s[..20]), "the log contains a token");
        assert!(
            !rows.contains(&s[..20]),
            "usage rows contain a token: {rows}"
        );
    }
}
