//! Rotating and retiring the token-hashing key, with the real binary, on either engine: new
//! tokens are hashed with the newest key, tokens hashed before keep verifying (also on a server
//! started before the rotation), and a key is retired only when no live token needs it.

use std::time::Duration;

use super::team::runtime;
use super::Env;

/// Where this installation keeps its keys: the shared key file with PostgreSQL, else the
/// data dir's file (the tests' TESSERA_KEYSTORE=file).
fn key_file(e: &Env) -> std::path::PathBuf {
    if e.pg_url().is_some() {
        e.dir.path().join("shared.key")
    } else {
        e.data().join("token-hmac.key")
    }
}

/// Key ids in the key file, as `ID KEY` lines (a file with one bare key holds key 1).
fn ids_in_file(e: &Env) -> Vec<u32> {
    let text = std::fs::read_to_string(key_file(e)).expect("key file");
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    if let [one] = lines.as_slice() {
        if !one.contains(' ') {
            return vec![1];
        }
    }
    lines
        .iter()
        .map(|l| {
            l.split(' ')
                .next()
                .and_then(|n| n.parse().ok())
                .expect("ID KEY")
        })
        .collect()
}

fn personal(e: &Env, name: &str) -> (i64, String) {
    e.create(&[
        "--kind",
        "personal",
        "--owner",
        "user@acme.test",
        "--name",
        name,
    ])
}

#[test]
fn a_rotated_key_hashes_new_tokens_old_ones_keep_verifying_and_retiring_is_guarded() {
    let e = Env::setup();
    let (old_id, old) = personal(&e, "before");
    // Only an admin rotates, and only with the CLI.
    let r = e.run(&["key", "rotate", "--as", "user@acme.test"]);
    assert_eq!(r.code, 1);
    assert!(r.error().contains("only an admin"), "{}", r.stderr);

    // A server running across the rotation.
    let server = e.instance_here();
    let rt = runtime();
    assert_eq!(rt.block_on(server.get("/v1/me", &old)), 200);

    let out = e.run(&["key", "rotate"]).ok().stdout;
    assert!(out.contains("hashed with key 2"), "{out}");
    assert_eq!(ids_in_file(&e), vec![1, 2]);
    let (new_id, new) = personal(&e, "after");
    // The server started before the rotation accepts the new token on its first request,
    // and the old one still.
    assert_eq!(rt.block_on(server.get("/v1/me", &new)), 200);
    assert_eq!(rt.block_on(server.get("/v1/me", &old)), 200);
    e.verify(&old, &[]).ok();
    e.verify(&new, &[]).ok();

    let keys = e.run(&["key", "list", "--json"]).ok().json();
    let keys = keys.as_array().expect("array");
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert_eq!(keys[0]["id"], 1);
    assert_eq!(keys[0]["newest"], false);
    assert_eq!(keys[0]["live_tokens"], 1);
    assert_eq!(keys[1]["id"], 2);
    assert_eq!(keys[1]["newest"], true);
    assert_eq!(keys[1]["live_tokens"], 1);
    assert!(keys.iter().all(|k| k["held"] == true));

    // The key that hashes new tokens cannot be retired; one that still verifies a live token
    // only with --revoke-them.
    let r = e.run(&["key", "retire", "2"]);
    assert_eq!(r.code, 1);
    assert!(r.error().contains("hashes new tokens"), "{}", r.stderr);
    let r = e.run(&["key", "retire", "1"]);
    assert_eq!(r.code, 1);
    let err = r.error();
    assert!(
        err.contains("still verifies 1 active token") && err.contains(&format!("({old_id})")),
        "{err}"
    );
    assert!(err.contains("--revoke-them"), "{err}");
    e.verify(&old, &[]).ok();
    assert_eq!(ids_in_file(&e), vec![1, 2]);

    let out = e.run(&["key", "retire", "1", "--revoke-them"]).ok().stdout;
    assert!(out.contains(&format!("Revoked token {old_id}.")), "{out}");
    assert!(out.contains("Retired key 1."), "{out}");
    assert_eq!(ids_in_file(&e), vec![2], "key 1 is forgotten");
    // The old token is refused everywhere; the new one is not touched.
    rt.block_on(server.until("/v1/me", &old, 401, Duration::from_secs(3)));
    assert_eq!(rt.block_on(server.get("/v1/me", &new)), 200);
    assert_eq!(e.verify(&old, &[]).code, 1);
    e.verify(&new, &[]).ok();
    let listed = e
        .run(&["token", "show", &new_id.to_string(), "--json"])
        .ok()
        .json();
    assert_eq!(listed["status"], "active");

    let keys = e.run(&["key", "list", "--json"]).ok().json();
    assert!(keys[0]["retired_at"].is_i64(), "{keys}");
    let r = e.run(&["key", "retire", "1"]);
    assert_eq!(r.code, 1);
    assert!(r.error().contains("retired already"), "{}", r.stderr);

    // Each step is in the audit log, the revoke with its reason.
    let audit = e.run(&["audit", "--json"]).ok().json();
    let actions: Vec<&str> = audit
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|a| a["action"].as_str())
        .collect();
    assert!(
        actions.contains(&"key.rotate") && actions.contains(&"key.retire"),
        "{actions:?}"
    );
    let revoke = audit
        .as_array()
        .expect("array")
        .iter()
        .find(|a| a["action"] == "token.revoke")
        .expect("revoke entry");
    assert_eq!(revoke["details"]["reason"], "key 1 retired");
    assert_eq!(revoke["target"], format!("token:{old_id}"));
    server.stop();
}

#[test]
fn a_prepared_key_is_used_by_the_next_rotation_and_not_before() {
    let e = Env::setup();
    let out = e.run(&["key", "rotate", "--prepare"]).ok().stdout;
    assert!(out.contains("Prepared key 2"), "{out}");
    assert_eq!(ids_in_file(&e), vec![1, 2]);
    // Not in use: the database still lists key 1 alone, and new tokens use it.
    let keys = e.run(&["key", "list", "--json"]).ok().json();
    assert_eq!(keys.as_array().map(Vec::len), Some(1), "{keys}");
    let (_, early) = personal(&e, "early");
    let out = e.run(&["key", "rotate"]).ok().stdout;
    assert!(out.contains("hashed with key 2"), "{out}");
    assert_eq!(
        ids_in_file(&e),
        vec![1, 2],
        "the prepared key is used, not a third"
    );
    let (_, late) = personal(&e, "late");
    let keys = e.run(&["key", "list", "--json"]).ok().json();
    assert_eq!(keys[0]["live_tokens"], 1, "{keys}");
    assert_eq!(keys[1]["live_tokens"], 1, "{keys}");
    e.verify(&early, &[]).ok();
    e.verify(&late, &[]).ok();
    let audit = e
        .run(&["audit", "--json", "--action", "key.rotate"])
        .ok()
        .json();
    assert_eq!(audit[0]["details"]["prepared_before"], true, "{audit}");
}
