//! Runs the Postman collection with newman (Postman's own runner, from npm) against a live
//! server, with an environment holding an admin's token and the exported CA. Every request
//! and every test in the collection must pass. Needs Node and newman, pinned in
//! `ui/package.json` and installed by `npm --prefix ui install`; if newman cannot run, this
//! test fails and says why.

use crate::common;

use common::{run_newman, setup, ALL_SCOPES};

#[tokio::test]
async fn the_postman_collection_passes_under_newman() {
    let mut env = setup().await;
    let admin = env.token("postman", ALL_SCOPES).await;
    let environment = tessera_api::postman::environment(&env.base, &admin.token, "newman");
    let (stdout, report) = run_newman(
        &env,
        "postman",
        &tessera_api::postman::collection(),
        &environment,
    )
    .await;
    let stats = &report["run"]["stats"];
    let requests = stats["requests"]["total"].as_u64().unwrap_or(0);
    assert!(
        requests as usize > tessera_api::catalog::ROUTES.len(),
        "only {requests} requests ran"
    );
    // newman's output never shows the token (it is a secret variable).
    assert!(!stdout.contains(admin.token.expose()));
    env.stop().await;
}
