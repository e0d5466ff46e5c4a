//! `tessera token create --honeytoken`: admins only; `token verify` answers exactly as for an
//! unknown token and the audit log gets `honeytoken.used`; lists mark it for admins.

use super::Env;

#[test]
fn a_honeytoken_verifies_like_an_unknown_token_and_is_audited() {
    let e = Env::setup();
    let (id, honey) = e.create(&[
        "--kind",
        "company",
        "--name",
        "aws-backup-decoy",
        "--description",
        "planted in the old wiki",
        "--honeytoken",
    ]);
    // An unknown token of the same kind, with a valid checksum: the same answer.
    let real = tessera_core::token::TokenSecret::generate(tessera_core::token::TokenKind::Company)
        .expose()
        .to_owned();
    let a = e.verify(&honey, &["--ip", "198.51.100.7"]);
    let b = e.verify(&real, &["--ip", "198.51.100.7"]);
    assert_eq!(a.code, 1);
    assert_eq!(super::reason(&a), "unknown");
    assert_eq!(a.stdout.replace(&honey, "T"), b.stdout.replace(&real, "T"));
    let audit = e
        .run(&["audit", "--action", "honeytoken.used", "--json"])
        .ok()
        .json();
    let entry = &audit.as_array().expect("array")[0];
    assert_eq!(entry["target"], format!("token:{id}"));
    assert_eq!(entry["details"]["ip"], "198.51.100.7");
    let list = e.run(&["token", "list"]).ok().stdout;
    assert!(list.contains("(honeytoken)"), "{list}");

    // Only admins make them.
    let r = e.run(&[
        "token",
        "create",
        "--kind",
        "company",
        "--name",
        "decoy-2",
        "--description",
        "x",
        "--honeytoken",
        "--as",
        "user@acme.test",
    ]);
    assert_eq!(r.code, 1);
    assert!(r.error().contains("honeytoken"), "{}", r.stderr);
}
