//! `tessera token rotate`, `token rotation` and `token finish-rotation`: the successor is
//! printed once with the old token's limits; the old one works until the successor's first
//! use plus the grace (or the overlap's end, or "finish now"), then is refused as revoked and
//! recorded as revoked by tessera with the reason `rotated`.

use super::Env;

#[test]
fn a_rotated_token_overlaps_until_its_successor_is_used() {
    let e = Env::setup();
    let (old, old_token) = e.create(&[
        "--kind",
        "personal",
        "--owner",
        "user@acme.test",
        "--name",
        "deploy",
        "--scope",
        "me:read",
        "--allow",
        "203.0.113.0/24",
        "--rate-limit",
        "42",
        "--expires-in",
        "30d",
    ]);
    let id = old.to_string();
    let postman = e.dir.path().join("rotated.postman_environment.json");
    let r = e
        .run(&[
            "token",
            "rotate",
            &id,
            "--overlap",
            "1h",
            "--grace",
            "none",
            "--json",
            "--postman-env",
            postman.to_str().expect("path"),
        ])
        .ok();
    let v = r.json();
    let new_token = v["token"].as_str().expect("token").to_owned();
    let new = v["id"].as_i64().expect("id");
    assert_eq!(v["rotated"], old);
    assert_eq!(v["name"], "deploy");
    assert_eq!(v["rate_limit"], 42);
    assert_eq!(v["allowed_networks"][0], "203.0.113.0/24");
    assert!(
        r.stderr
            .contains(&format!("Token {old} keeps working until")),
        "{}",
        r.stderr
    );
    assert!(std::fs::read_to_string(&postman)
        .expect("postman file")
        .contains(&new_token));

    // The old token still works; its use is listed as one to move.
    e.verify(&old_token, &["--ip", "203.0.113.5"]).ok();
    let report = e.run(&["token", "rotation", &id, "--json"]).ok().json();
    assert_eq!(report["token"]["status"], "rotating");
    assert_eq!(report["token"]["rotation"]["successor"], new);
    assert_eq!(report["sources"][0]["ip"], "203.0.113.5");
    let text = e.run(&["token", "rotation", &id]).ok().stdout;
    assert!(text.contains("move these to the new token"), "{text}");
    assert!(!text.contains(&old_token) && !text.contains(&new_token));

    // The successor's first use ends the overlap (no grace): the old one is revoked.
    e.verify(&new_token, &["--ip", "203.0.113.6"]).ok();
    let r = e.verify(&old_token, &["--ip", "203.0.113.5"]);
    assert_eq!(r.code, 1);
    assert_eq!(super::reason(&r), "revoked");
    let shown = e.run(&["token", "show", &id, "--json"]).ok().json();
    assert_eq!(shown["status"], "revoked");
    let target = format!("token:{old}");
    let rotated = e
        .run(&["audit", "--action", "token.rotate", "--json"])
        .ok()
        .json();
    assert!(
        rotated
            .as_array()
            .is_some_and(|a| a.iter().any(|x| x["target"] == target.as_str())),
        "{rotated}"
    );
    let revoked = e
        .run(&["audit", "--action", "token.revoke", "--json"])
        .ok()
        .json();
    assert!(
        revoked
            .as_array()
            .is_some_and(|a| a.iter().any(|x| x["target"] == target.as_str()
                && x["actor"] == "tessera"
                && x["details"]["reason"] == "rotated")),
        "{revoked}"
    );

    // Finish now, from the command line.
    let v = e
        .run(&["token", "rotate", &new.to_string(), "--json"])
        .ok()
        .json();
    let third = v["token"].as_str().expect("token").to_owned();
    e.run(&["token", "finish-rotation", &new.to_string()]).ok();
    let r = e.verify(&new_token, &[]);
    assert_eq!(super::reason(&r), "revoked");
    e.verify(&third, &["--ip", "203.0.113.7"]).ok();

    // Bad lengths name the flag; nothing changes.
    let r = e.run(&["token", "rotate", &new.to_string(), "--overlap", "forever"]);
    assert_eq!(r.code, 1);
    assert!(r.error().contains("--overlap"), "{}", r.stderr);
    let r = e.run(&["token", "rotate", &id]);
    assert_eq!(r.code, 1);
    assert!(r.error().contains("revoked"), "{}", r.stderr);
}
