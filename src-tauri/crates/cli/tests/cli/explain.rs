//! `tessera token explain`: every rule with what it compared, from standard input or by id,
//! exit 0 only when the token would be accepted, and no use recorded.

use super::Env;

#[test]
fn explain_lists_every_rule_and_records_no_use() {
    let e = Env::setup();
    let (id, token) = e.create(&[
        "--kind",
        "personal",
        "--owner",
        "user@acme.test",
        "--name",
        "fenced",
        "--allow",
        "192.168.0.0/24",
        "--allow",
        "2001:db8::/32",
    ]);
    // From an address outside its networks, asking for a scope it lacks: both are named,
    // the network first, as verification refuses.
    let r = e.stdin(
        &[
            "token",
            "explain",
            "--scope",
            "me:read",
            "--scope",
            "users:write",
            "--ip",
            "10.0.0.7",
        ],
        &token,
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    let out = &r.stdout;
    assert!(out.starts_with(&format!("token {id} (")), "{out}");
    assert!(
        out.lines().next().is_some_and(|l| l.ends_with(": network")),
        "{out}"
    );
    for line in [
        "network           FAIL    10.0.0.7 not in 192.168.0.0/24, 2001:db8::/32",
        "scope:users:write FAIL    not held (holds me:read)",
        "scope:me:read     pass    held",
    ] {
        let want: Vec<&str> = line.split_whitespace().collect();
        assert!(
            out.lines()
                .any(|l| l.split_whitespace().collect::<Vec<_>>() == want),
            "no line {line:?} in\n{out}"
        );
    }
    assert!(!out.contains(&token), "the token is never printed");
    // From inside, with what it holds: accepted, exit 0; JSON for scripts.
    let r = e.stdin(
        &["token", "explain", "--ip", "192.168.0.9", "--json"],
        &token,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = r.json();
    assert_eq!(v["outcome"], "accepted");
    assert!(v["checks"]
        .as_array()
        .is_some_and(|c| c.iter().all(|c| c["passed"] == true)));
    // At a time after its expiry.
    let r = e.stdin(
        &[
            "token",
            "explain",
            "--ip",
            "192.168.0.9",
            "--at",
            "2099-01-01T00:00:00Z",
            "--json",
        ],
        &token,
    );
    assert_eq!(r.code, 1);
    assert_eq!(r.json()["outcome"], "expired");
    // Bad input says what to write.
    let r = e.stdin(&["token", "explain", "--at", "tomorrow"], &token);
    assert_eq!(r.code, 1);
    assert!(
        r.error().contains("--at: not an RFC 3339 time"),
        "{}",
        r.stderr
    );
    // By id: the owner may; another user learns nothing.
    let r = e.run(&[
        "token",
        "explain",
        "--id",
        &id.to_string(),
        "--ip",
        "192.168.0.9",
        "--as",
        "user@acme.test",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = e.run(&[
        "token",
        "explain",
        "--id",
        &id.to_string(),
        "--as",
        "vrm@acme.test",
    ]);
    assert_eq!(r.code, 1);
    assert!(r.error().contains("no token"), "{}", r.stderr);
    // None of this was a use.
    let shown = e
        .run(&["token", "show", &id.to_string(), "--json"])
        .ok()
        .json();
    assert!(shown["last_used_at"].is_null(), "{shown}");
    let usage = e
        .run(&["token", "usage", &id.to_string(), "--json"])
        .ok()
        .json();
    assert_eq!(usage.as_array().map(Vec::len), Some(0), "{usage}");
}
