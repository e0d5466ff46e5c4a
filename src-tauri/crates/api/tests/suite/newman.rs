//! Runs the Postman collection with newman (Postman's own runner, from npm) against a live
//! server, with an environment holding an admin's token and the exported CA. Every request
//! and every test in the collection must pass. Needs Node and newman, pinned in
//! `ui/package.json` and installed by `npm --prefix ui install`; if newman cannot run, this
//! test fails and says why.

use crate::common;

use std::process::Command;

use common::{setup, ALL_SCOPES};

#[tokio::test]
async fn the_postman_collection_passes_under_newman() {
    let mut env = setup().await;
    let admin = env.token("postman", ALL_SCOPES).await;
    let dir = env.dir.path().join("postman");
    std::fs::create_dir_all(&dir).expect("dir");
    let collection = dir.join("collection.json");
    let environment = dir.join("environment.json");
    let ca = dir.join("ca.pem");
    let report = dir.join("report.json");
    std::fs::write(&collection, tessera_api::postman::collection().to_string()).expect("write");
    let env_json = tessera_api::postman::environment(&env.base, &admin.token, "newman");
    std::fs::write(&environment, env_json.to_string()).expect("write");
    std::fs::write(&ca, &env.ca_pem).expect("write");

    // newman is pinned in ui/package.json (devDependencies) and installed with the UI's
    // packages, so the test never fetches anything.
    let newman = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../ui/node_modules/.bin/newman");
    assert!(
        newman.exists(),
        "newman is not installed at {}; run `npm --prefix ui install` first",
        newman.display()
    );
    let args = [
        "run".to_owned(),
        collection.display().to_string(),
        "-e".to_owned(),
        environment.display().to_string(),
        "--ssl-extra-ca-certs".to_owned(),
        ca.display().to_string(),
        "--reporters".to_owned(),
        "cli,json".to_owned(),
        "--reporter-json-export".to_owned(),
        report.display().to_string(),
        "--timeout-request".to_owned(),
        "10000".to_owned(),
    ];
    let out = tokio::task::spawn_blocking(move || Command::new(&newman).args(&args).output())
        .await
        .expect("join");
    let out = match out {
        Ok(o) => o,
        Err(e) => panic!("newman could not be started (is Node installed?): {e}"),
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "newman failed ({}).\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}",
        out.status
    );
    // Read the report: every request ran and every assertion passed.
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).expect("newman report"))
            .expect("report JSON");
    let stats = &report["run"]["stats"];
    assert_eq!(stats["requests"]["failed"], 0, "{stats}");
    assert_eq!(stats["assertions"]["failed"], 0, "{stats}");
    let requests = stats["requests"]["total"].as_u64().unwrap_or(0);
    assert!(
        requests as usize > tessera_api::catalog::ROUTES.len(),
        "only {requests} requests ran"
    );
    // newman's output never shows the token (it is a secret variable).
    assert!(!stdout.contains(admin.token.expose()));
    env.stop().await;
}
