//! `tessera client`: register an OAuth client, hand its secret and Postman files to a
//! service, and manage it; the service gets tokens from `tessera serve` with curl.

use std::process::Command;

use super::Env;

/// `curl` against the server, trusting its CA; the status code and body.
fn curl(ca: &std::path::Path, args: &[&str]) -> (u16, String) {
    let out = Command::new("curl")
        .args(["-sS", "--cacert"])
        .arg(ca)
        .args(["-w", "\n%{http_code}"])
        .args(args)
        .output()
        .expect("curl runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').expect("status line");
    (code.trim().parse().expect("status"), body.to_owned())
}

#[test]
fn a_client_is_registered_used_with_curl_rotated_and_disabled_from_the_command_line() {
    let e = Env::setup();
    let env_file = e.dir.path().join("client.postman_environment.json");
    let coll_file = e.dir.path().join("client.postman_collection.json");
    let v = e
        .run(&[
            "client",
            "create",
            "--name",
            "billing-sync",
            "--scope",
            "me:read",
            "--scope",
            "tokens:read",
            "--token-ttl",
            "15m",
            "--json",
            "--postman-env",
            env_file.to_str().expect("path"),
            "--postman-collection",
            coll_file.to_str().expect("path"),
        ])
        .ok()
        .json();
    let id = v["id"].as_i64().expect("id").to_string();
    let client_id = v["client_id"].as_str().expect("client_id").to_owned();
    let secret = v["client_secret"].as_str().expect("secret").to_owned();
    assert!(secret.starts_with("tsr_s_"));
    assert_eq!(v["token_ttl_seconds"], 900);
    let env_text = std::fs::read_to_string(&env_file).expect("env file");
    assert!(env_text.contains(&secret) && env_text.contains("clientSecret"));
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&env_file)
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let coll = std::fs::read_to_string(&coll_file).expect("collection");
    assert!(coll.contains("/oauth/token") && !coll.contains(&secret));

    // The list and the details never show the secret.
    let list = e.run(&["client", "list"]).ok();
    assert!(list.stdout.contains("billing-sync") && list.stdout.contains(&client_id));
    assert!(!list.stdout.contains(&secret));
    let show = e.run(&["client", "show", &id]).ok();
    assert!(show.stdout.contains("tsr_s_…") && !show.stdout.contains(&secret));

    // An ordinary user may not register clients; the error says who may.
    let r = e.run(&[
        "client",
        "create",
        "--name",
        "mine",
        "--as",
        "user@acme.test",
    ]);
    assert_ne!(r.code, 0);
    assert!(r.error().contains("admins and VRM admins"), "{}", r.stderr);

    let ca = e.dir.path().join("ca.pem");
    std::fs::write(&ca, e.run(&["cert", "export"]).ok().stdout).expect("ca");
    let s = e.spawn_serve(&[]);
    let base = s.base().expect("serve started");
    let get_token = |secret: &str| {
        curl(
            &ca,
            &[
                "-u",
                &format!("{client_id}:{secret}"),
                "-d",
                "grant_type=client_credentials",
                &format!("{base}/oauth/token"),
            ],
        )
    };
    let (code, body) = get_token(&secret);
    assert_eq!(code, 200, "{body}");
    let grant: serde_json::Value = serde_json::from_str(&body).expect("json");
    let access = grant["access_token"].as_str().expect("token").to_owned();
    assert_eq!(grant["expires_in"], 900);
    let me = |token: &str| {
        curl(
            &ca,
            &[
                "-H",
                &format!("Authorization: Bearer {token}"),
                &format!("{base}/v1/me"),
            ],
        )
    };
    assert_eq!(me(&access).0, 200);
    // The use counts under the client (the usage writer flushes within a second).
    let mut uses = 0;
    for _ in 0..50 {
        uses = e.run(&["client", "show", &id, "--json"]).ok().json()["uses"]
            .as_i64()
            .unwrap_or(0);
        if uses == 1 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(uses, 1);
    // The issued token is listed by kind, named after its client.
    let tokens = e
        .run(&["token", "list", "--kind", "access", "--json"])
        .ok()
        .json();
    assert_eq!(tokens[0]["name"], "billing-sync", "{tokens}");

    // Rotate: both secrets work until the old one is retired.
    let rotated = e
        .run(&["client", "rotate-secret", &id, "--json"])
        .ok()
        .json();
    let new_secret = rotated["client_secret"]
        .as_str()
        .expect("secret")
        .to_owned();
    let old_secret_id = rotated["secrets"][1]["id"]
        .as_i64()
        .expect("old")
        .to_string();
    assert_eq!(get_token(&secret).0, 200);
    assert_eq!(get_token(&new_secret).0, 200);
    e.run(&["client", "retire-secret", &id, &old_secret_id])
        .ok();
    let (code, body) = get_token(&secret);
    assert_eq!(code, 401, "{body}");
    assert!(body.contains("invalid_client"), "{body}");

    // Disable: the token it holds stops at once, and it gets no new one.
    let r = e.run(&["client", "disable", &id]).ok();
    assert!(r.stdout.contains("revoked"), "{}", r.stdout);
    assert_eq!(me(&access).0, 401);
    let (code, body) = get_token(&new_secret);
    assert_eq!(code, 400, "{body}");
    assert!(body.contains("unauthorized_client"), "{body}");
    e.run(&["client", "enable", &id]).ok();
    assert_eq!(get_token(&new_secret).0, 200);
    e.run(&["client", "delete", &id]).ok();
    assert_eq!(get_token(&new_secret).0, 401);
    assert!(!e
        .run(&["client", "list"])
        .ok()
        .stdout
        .contains("billing-sync"));
    s.stop();

    let audit = e.run(&["audit", "--json"]).ok().stdout;
    for action in [
        "client.create",
        "client.token",
        "client.secret_rotate",
        "client.secret_retire",
        "client.disable",
        "client.enable",
        "client.delete",
    ] {
        assert!(audit.contains(action), "{action}");
    }
    assert!(!audit.contains(&secret) && !audit.contains(&new_secret) && !audit.contains(&access));
}

#[test]
fn bad_client_input_gets_one_clear_error_naming_the_flag() {
    let e = Env::setup();
    for (args, says) in [
        (
            vec!["client", "create", "--name", "x", "--token-ttl", "2d"],
            "--token-ttl",
        ),
        (
            vec!["client", "create", "--name", "x", "--scope", "users:write"],
            "users:write",
        ),
        (
            vec!["client", "create", "--name", "x", "--allow", "not-a-net"],
            "--allow",
        ),
        (vec!["client", "show", "abc"], "not a client number"),
        (vec!["client", "show", "99"], "no OAuth client 99"),
        (vec!["client", "retire-secret", "1", "x"], "SECRET_ID"),
    ] {
        let r = e.run(&args);
        assert_ne!(r.code, 0, "{args:?}");
        assert!(r.error().contains(says), "{args:?}: {}", r.stderr);
    }
}
