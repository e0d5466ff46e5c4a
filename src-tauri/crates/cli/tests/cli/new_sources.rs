//! New-source alerts from the command line: on by default for company tokens, `--alert-new-sources`
//! and `--no-alert-new-sources` at creation, `token alerts ID on|off`, `token sources ID`, and
//! the audit log's `token.new_source` when a verified token comes from a new network.

use super::Env;

fn new_source_entries(e: &Env) -> Vec<serde_json::Value> {
    e.run(&["audit", "--action", "token.new_source", "--json"])
        .ok()
        .json()
        .as_array()
        .expect("array")
        .clone()
}

#[test]
fn a_company_token_used_from_a_new_network_is_audited_and_its_sources_are_listed() {
    let e = Env::setup();
    let (id, t) = e.create(&[
        "--kind",
        "company",
        "--name",
        "billing-sync",
        "--description",
        "the billing export",
    ]);
    let id = id.to_string();
    let shown = e.run(&["token", "show", &id]).ok().stdout;
    assert!(
        shown
            .lines()
            .any(|l| l.starts_with("new-source alerts") && l.ends_with("on")),
        "{shown}"
    );
    e.verify(&t, &["--ip", "10.0.0.5"]).ok();
    e.verify(&t, &["--ip", "10.0.0.6"]).ok();
    assert!(
        new_source_entries(&e).is_empty(),
        "the first network is the baseline"
    );
    e.verify(&t, &["--ip", "203.0.113.9"]).ok();
    let entries = new_source_entries(&e);
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0]["target"], format!("token:{id}"));
    assert_eq!(entries[0]["actor"], "tessera");
    assert_eq!(entries[0]["details"]["network"], "203.0.113.0/24");
    assert_eq!(entries[0]["details"]["ip"], "203.0.113.9");

    let listed = e.run(&["token", "sources", &id]).ok().stdout;
    for want in ["10.0.0.0/24", "203.0.113.0/24", "tessera-cli"] {
        assert!(listed.contains(want), "{want} in {listed}");
    }
    let json = e.run(&["token", "sources", &id, "--json"]).ok().json();
    assert_eq!(json.as_array().expect("array").len(), 3, "{json}");

    let r = e.run(&["token", "alerts", &id, "off"]).ok();
    assert!(r.stdout.contains("no longer alerts"), "{}", r.stdout);
    e.verify(&t, &["--ip", "198.51.100.1"]).ok();
    assert_eq!(
        new_source_entries(&e).len(),
        1,
        "off: recorded, not alerted"
    );
    let audit = e
        .run(&["audit", "--action", "token.alerts", "--json"])
        .ok()
        .json();
    assert_eq!(audit[0]["details"]["alert_new_sources"], false, "{audit}");

    // Someone who may not manage the token may not change it.
    let r = e.run(&["token", "alerts", &id, "on", "--as", "user@acme.test"]);
    assert_eq!(r.code, 1, "{}", r.stdout);
}

#[test]
fn alerts_are_chosen_at_creation() {
    let e = Env::setup();
    let v = e
        .run(&[
            "token",
            "create",
            "--json",
            "--kind",
            "personal",
            "--owner",
            "user@acme.test",
            "--name",
            "watched",
            "--alert-new-sources",
        ])
        .ok()
        .json();
    assert_eq!(v["alert_new_sources"], true, "{v}");
    let v = e
        .run(&[
            "token",
            "create",
            "--json",
            "--kind",
            "company",
            "--name",
            "quiet",
            "--description",
            "x",
            "--no-alert-new-sources",
        ])
        .ok()
        .json();
    assert_eq!(v["alert_new_sources"], false, "{v}");
    let r = e.run(&[
        "token",
        "create",
        "--kind",
        "company",
        "--name",
        "both",
        "--description",
        "x",
        "--alert-new-sources",
        "--no-alert-new-sources",
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("cannot be used with"), "{}", r.stderr);
}
