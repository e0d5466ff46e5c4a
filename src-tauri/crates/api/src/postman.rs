//! Postman: a v2.1 collection of the API using `{{baseUrl}}` and `{{apiToken}}`, ordered so a
//! run creates what later requests read and cleans up after itself, with a test on every
//! request; and an environment holding the token as a secret variable (the only place the
//! token is written). Built from [`crate::catalog`], so it covers every route.

use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tessera_core::token::TokenSecret;

use crate::catalog::{self, Access, RouteSpec};

const SCHEMA: &str = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json";

/// The order of a run, by operation id, with the variable that fills `{id}`.
const ORDER: &[(&str, &str)] = &[
    ("health", ""),
    ("openapi", ""),
    ("me", ""),
    ("verify", ""),
    ("explain", ""),
    ("createToken", ""),
    ("listTokens", ""),
    ("getToken", "tokenId"),
    ("updateToken", "tokenId"),
    ("tokenUsage", "tokenId"),
    ("tokenSources", "tokenId"),
    ("tokenReport", "tokenId"),
    ("deactivateToken", "tokenId"),
    ("activateToken", "tokenId"),
    ("rotateToken", "tokenId"),
    ("tokenRotation", "rotatedId"),
    ("finishRotation", "rotatedId"),
    ("revokeToken", "tokenId"),
    ("deleteToken", "tokenId"),
    ("listUsers", ""),
    ("policy", ""),
    ("scopes", ""),
    // The new user, made an admin, signs in: the session routes run as her.
    ("createUser", ""),
    ("setUserRole", "userId"),
    ("signIn", ""),
    ("currentSession", ""),
    ("updateProfile", ""),
    ("changePassword", ""),
    ("userToken", ""),
    ("regenerateUserToken", ""),
    ("setPolicy", ""),
    ("addScope", ""),
    ("identifyLeaks", ""),
    ("takeNotices", ""),
    ("signOut", ""),
    // The new user's user token, made above, found "leaked".
    ("revokeLeaked", ""),
    ("rolePreview", "userId"),
    ("deactivationPreview", "userId"),
    ("deactivateUser", "userId"),
    ("reactivateUser", "userId"),
    ("audit", ""),
    ("dashboard", ""),
    ("changes", ""),
    ("acknowledgeHoneytokenAlerts", ""),
    ("auditExport", ""),
    ("bulkTokenStatus", ""),
    ("oauthMetadata", ""),
    ("createClient", ""),
    ("listClients", ""),
    ("getClient", "clientNo"),
    ("oauthToken", ""),
    ("oauthIntrospect", ""),
    ("oauthRevoke", ""),
    ("rotateClientSecret", "clientNo"),
    ("retireClientSecret", "clientNo"),
    ("disableClient", "clientNo"),
    ("enableClient", "clientNo"),
    ("deleteClient", "clientNo"),
];

fn uuid_like(seed: &str) -> String {
    let h = hex::encode(Sha256::digest(seed.as_bytes()));
    format!(
        "{}-{}-4{}-8{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}

fn url(raw_path: &str, query: &[(&str, &str)]) -> Value {
    let segments: Vec<&str> = raw_path.trim_start_matches('/').split('/').collect();
    let q: Vec<Value> = query
        .iter()
        .map(|(k, v)| json!({"key": k, "value": v}))
        .collect();
    let qs: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let raw = if qs.is_empty() {
        format!("{{{{baseUrl}}}}{raw_path}")
    } else {
        format!("{{{{baseUrl}}}}{raw_path}?{}", qs.join("&"))
    };
    let mut u = json!({"raw": raw, "host": ["{{baseUrl}}"], "path": segments});
    if !q.is_empty() {
        u["query"] = Value::Array(q);
    }
    u
}

fn test_script(lines: &[&str]) -> Value {
    json!([{"listen": "test", "script": {"type": "text/javascript", "exec": lines}}])
}

fn tests_for(r: &RouteSpec) -> Vec<String> {
    let mut t = vec![if r.operation_id == "addScope" {
        // A second run finds the scope the first added.
        "pm.test('addScope answers 201, or 409 when it is there already', function () { pm.expect(pm.response.code).to.be.oneOf([201, 409]); });".to_owned()
    } else {
        format!(
            "pm.test('{} answers {}', function () {{ pm.response.to.have.status({}); }});",
            r.operation_id, r.ok, r.ok
        )
    }];
    // Every answer is JSON but the CSV export's, which has its own test below, and the empty
    // ones.
    if r.operation_id != "auditExport" && r.ok != 204 {
        t.push("pm.test('the answer is JSON', function () { pm.response.to.be.json; });".into());
    }
    match r.operation_id {
        "me" => t.push("pm.test('the token has scopes', function () { pm.expect(pm.response.json().scopes).to.be.an('array'); });".into()),
        "verify" => t.push("pm.test('the token is active', function () { pm.expect(pm.response.json().active).to.eql(true); });".into()),
        "explain" => t.push("pm.test('every rule is listed', function () { pm.expect(pm.response.json().checks.length).to.be.above(8); });".into()),
        "createToken" => {
            t.push("var created = pm.response.json();".into());
            t.push("pm.test('the plaintext is returned once', function () { pm.expect(created.token).to.match(/^tsr_p_/); });".into());
            t.push("pm.collectionVariables.set('tokenId', created.id);".into());
        }
        "rotateToken" => {
            t.push("var successor = pm.response.json();".into());
            t.push("pm.test('the successor is returned once', function () { pm.expect(successor.token).to.match(/^tsr_p_/); pm.expect(successor.rotated).to.eql(pm.collectionVariables.get('tokenId')); });".into());
            // The old token's rotation is read and finished; the run goes on with the successor.
            t.push("pm.collectionVariables.set('rotatedId', pm.collectionVariables.get('tokenId'));".into());
            t.push("pm.collectionVariables.set('tokenId', successor.id);".into());
        }
        "tokenRotation" => t.push("pm.test('the old token is rotating', function () { pm.expect(pm.response.json().token.status).to.eql('rotating'); pm.expect(pm.response.json().sources).to.be.an('array'); });".into()),
        "finishRotation" => t.push("pm.test('the old token is revoked', function () { pm.expect(pm.response.json().status).to.eql('revoked'); });".into()),
        "createUser" => {
            t.push("pm.collectionVariables.set('userId', pm.response.json().id);".into());
            t.push("pm.collectionVariables.set('userEmail', pm.response.json().email);".into());
        }
        "signIn" => {
            t.push("var signedIn = pm.response.json();".into());
            t.push("pm.test('a session credential, this once', function () { pm.expect(signedIn.session).to.match(/^tsr_w_/); pm.expect(signedIn.user.role).to.eql('admin'); });".into());
            t.push("pm.collectionVariables.set('session', signedIn.session);".into());
        }
        "currentSession" => t.push("pm.test('the signed-in person', function () { pm.expect(pm.response.json().user.email).to.eql(pm.collectionVariables.get('userEmail')); });".into()),
        "regenerateUserToken" => {
            t.push("pm.test('a user API token, this once', function () { pm.expect(pm.response.json().token).to.match(/^tsr_u_/); });".into());
            t.push("pm.collectionVariables.set('leakedId', pm.response.json().id);".into());
        }
        "tokenReport" => t.push("pm.test('seven days of uses', function () { pm.expect(pm.response.json().series.length).to.eql(7); pm.expect(pm.response.json().recent).to.be.an('array'); });".into()),
        "changes" => t.push("pm.test('a version to compare', function () { pm.expect(pm.response.json().version).to.be.a('number'); });".into()),
        "takeNotices" => t.push("pm.test('three lists', function () { var n = pm.response.json(); pm.expect(n.expiring).to.be.an('array'); pm.expect(n.honeytokens).to.be.an('array'); pm.expect(n.new_sources).to.be.an('array'); });".into()),
        "identifyLeaks" => t.push("pm.test('one finding per string, never the token', function () { var f = pm.response.json().findings; pm.expect(f.length).to.eql(2); pm.expect(f[0].status).to.eql('live'); pm.expect(f[1].status).to.eql('malformed'); pm.expect(JSON.stringify(f)).to.not.include(pm.variables.get('apiToken')); });".into()),
        "revokeLeaked" => t.push("pm.test('the leaked token is revoked', function () { pm.expect(pm.response.json().status).to.eql('revoked'); });".into()),
        "rolePreview" => t.push("pm.test('what the role takes away', function () { pm.expect(pm.response.json().scopes_lost).to.be.an('array'); });".into()),
        "deactivationPreview" => t.push("pm.test('a count', function () { pm.expect(pm.response.json().tokens_to_revoke).to.be.a('number'); });".into()),
        "reactivateUser" => t.push("pm.test('active again', function () { pm.expect(pm.response.json().active).to.eql(true); });".into()),
        "userToken" => t.push("pm.test('the answer names the token or null', function () { pm.expect(pm.response.json()).to.have.property('token'); });".into()),
        "updateToken" => t.push("pm.test('the note is stored', function () { pm.expect(pm.response.json().note).to.eql(JSON.parse(pm.request.body.raw).note); pm.expect(pm.response.json().alert_new_sources).to.eql(JSON.parse(pm.request.body.raw).alert_new_sources); });".into()),
        "revokeToken" => t.push("pm.test('the token is revoked', function () { pm.expect(pm.response.json().status).to.eql('revoked'); });".into()),
        "bulkTokenStatus" => t.push("pm.test('an unknown id fails alone', function () { pm.expect(pm.response.json().done).to.eql([]); pm.expect(pm.response.json().failed[0].error).to.eql('not_found'); });".into()),
        "auditExport" => t.push("pm.test('a CSV with its header', function () { pm.expect(pm.response.headers.get('Content-Type')).to.include('text/csv'); pm.expect(pm.response.text().split('\\n')[0]).to.eql('id,time,actor,action,target,details'); });".into()),
        "policy" => {
            t.push("pm.test('the lifetime bound is there', function () { pm.expect(pm.response.json().max_lifetime_days).to.be.a('number'); });".into());
            // The policy is written back unchanged by setPolicy.
            t.push("pm.collectionVariables.set('policyJson', pm.response.text());".into());
        }
        "scopes" => t.push("pm.test('me:read is listed', function () { pm.expect(pm.response.json().items.map(function (s) { return s.name; })).to.include('me:read'); });".into()),
        "dashboard" => t.push("pm.test('the counts are there', function () { pm.expect(pm.response.json().active).to.be.a('number'); pm.expect(pm.response.json().new_sources).to.be.an('array'); });".into()),
        "createClient" => {
            t.push("var client = pm.response.json();".into());
            t.push("pm.test('the secret is returned once', function () { pm.expect(client.client_secret).to.match(/^tsr_s_/); pm.expect(client.client_id).to.match(/^tsc_/); });".into());
            t.push("pm.collectionVariables.set('clientNo', client.id);".into());
            t.push("pm.collectionVariables.set('clientId', client.client_id);".into());
            t.push("pm.collectionVariables.set('clientSecret', client.client_secret);".into());
        }
        "oauthToken" => {
            t.push("var grant = pm.response.json();".into());
            t.push("pm.test('an access token', function () { pm.expect(grant.access_token).to.match(/^tsr_a_/); pm.expect(grant.token_type).to.eql('Bearer'); pm.expect(grant.expires_in).to.be.above(0); });".into());
            t.push("pm.test('never cached', function () { pm.expect(pm.response.headers.get('Cache-Control')).to.include('no-store'); });".into());
            t.push("pm.collectionVariables.set('accessToken', grant.access_token);".into());
        }
        "oauthIntrospect" => t.push("pm.test('the token is active and the client\\'s', function () { pm.expect(pm.response.json().active).to.eql(true); pm.expect(pm.response.json().client_id).to.eql(pm.collectionVariables.get('clientId')); });".into()),
        "oauthMetadata" => t.push("pm.test('the token endpoint is named', function () { pm.expect(pm.response.json().token_endpoint).to.match(/\\/oauth\\/token$/); });".into()),
        "rotateClientSecret" => {
            t.push("var rotated = pm.response.json();".into());
            t.push("pm.test('two valid secrets while they overlap', function () { pm.expect(rotated.secrets.length).to.eql(2); });".into());
            t.push("pm.collectionVariables.set('oldSecretId', rotated.secrets[1].id);".into());
        }
        "retireClientSecret" => t.push("pm.test('one secret left', function () { pm.expect(pm.response.json().secrets.length).to.eql(1); });".into()),
        "disableClient" => t.push("pm.test('disabled', function () { pm.expect(pm.response.json().status).to.eql('disabled'); });".into()),
        "enableClient" => t.push("pm.test('active', function () { pm.expect(pm.response.json().status).to.eql('active'); });".into()),
        "listTokens" | "listUsers" | "audit" | "tokenUsage" | "tokenSources" | "listClients" => {
            t.push("pm.test('items are listed', function () { pm.expect(pm.response.json().items).to.be.an('array'); });".into())
        }
        _ => {}
    }
    t
}

fn item(r: &RouteSpec, id_var: &str) -> Value {
    let path = if id_var.is_empty() {
        r.path.to_owned()
    } else {
        r.path.replace("{id}", &format!("{{{{{id_var}}}}}"))
    };
    let path = path.replace("{secret}", "{{oldSecretId}}");
    let query: Vec<(&str, &str)> = match r.operation_id {
        "listTokens" | "audit" => vec![("limit", "20")],
        "rolePreview" => vec![("role", "user")],
        "tokenReport" => vec![("days", "7")],
        _ => vec![],
    };
    let mut request = json!({
        "method": r.method,
        "header": [],
        "url": url(&path, &query),
        "description": r.summary,
    });
    if r.access == Access::Public {
        request["auth"] = json!({"type": "noauth"});
    }
    if r.access == Access::Client {
        // client_secret_basic; the body is form-encoded.
        request["auth"] = json!({"type": "basic", "basic": [
            {"key": "username", "value": "{{clientId}}", "type": "string"},
            {"key": "password", "value": "{{clientSecret}}", "type": "string"}
        ]});
        let fields: Vec<(&str, &str)> = match r.operation_id {
            "oauthToken" => vec![("grant_type", "client_credentials"), ("scope", "me:read")],
            _ => vec![("token", "{{accessToken}}")],
        };
        request["header"] =
            json!([{"key": "Content-Type", "value": "application/x-www-form-urlencoded"}]);
        request["body"] = json!({"mode": "urlencoded", "urlencoded": fields
            .iter()
            .map(|(k, v)| json!({"key": k, "value": v, "type": "text"}))
            .collect::<Vec<_>>()});
    }
    if r.access == Access::Session {
        request["auth"] = json!({"type": "bearer", "bearer": [
            {"key": "token", "value": "{{session}}", "type": "string"}
        ]});
    }
    if let Some(body) = r.body {
        request["header"] = json!([{"key": "Content-Type", "value": "application/json"}]);
        let raw = if r.operation_id == "setPolicy" {
            // The policy as the run found it: a run changes nothing.
            "{{policyJson}}".to_owned()
        } else if r.operation_id == "revokeLeaked" {
            // A number, so the variable stands unquoted.
            "{\n  \"id\": {{leakedId}},\n  \"place\": \"postman/.env:1\"\n}".to_owned()
        } else {
            serde_json::to_string_pretty(&body()).unwrap_or_default()
        };
        request["body"] =
            json!({"mode": "raw", "raw": raw, "options": {"raw": {"language": "json"}}});
    }
    let lines = tests_for(r);
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    json!({"name": r.summary, "event": test_script(&lines), "request": request})
}

/// `GET /v1/me` with the token presented another way, to show each form works from Postman.
fn me_via(name: &str, auth: Value, header: Option<(&str, &str)>) -> Value {
    let mut request =
        json!({"method": "GET", "header": [], "url": url("/v1/me", &[]), "auth": auth});
    if let Some((k, v)) = header {
        request["header"] = json!([{"key": k, "value": v}]);
    }
    json!({
        "name": name,
        "event": test_script(&["pm.test('accepted', function () { pm.response.to.have.status(200); });"]),
        "request": request,
    })
}

/// A Postman v2.1 collection of the API using `{{baseUrl}}` and `{{apiToken}}`.
pub fn collection() -> Value {
    let mut items: Vec<Value> = Vec::new();
    for (op, var) in ORDER {
        if let Some(r) = catalog::ROUTES.iter().find(|r| r.operation_id == *op) {
            items.push(item(r, var));
        }
    }
    // Any route not placed in ORDER still appears, at the end.
    for r in catalog::ROUTES {
        if !ORDER.iter().any(|(op, _)| *op == r.operation_id) {
            items.push(item(r, ""));
        }
    }
    let forms = vec![
        me_via(
            "Me with X-API-Key",
            json!({"type": "apikey", "apikey": [
                {"key": "key", "value": "X-API-Key", "type": "string"},
                {"key": "value", "value": "{{apiToken}}", "type": "string"},
                {"key": "in", "value": "header", "type": "string"}
            ]}),
            None,
        ),
        me_via(
            "Me with Basic (token as user name, empty password)",
            json!({"type": "basic", "basic": [
                {"key": "username", "value": "{{apiToken}}", "type": "string"},
                {"key": "password", "value": "", "type": "string"}
            ]}),
            None,
        ),
        me_via(
            "Me with Authorization: Token token=...",
            json!({"type": "noauth"}),
            Some(("Authorization", "Token token={{apiToken}}")),
        ),
        me_via(
            "Me with Authorization: SSWS",
            json!({"type": "noauth"}),
            Some(("Authorization", "SSWS {{apiToken}}")),
        ),
    ];
    json!({
        "info": {
            "_postman_id": uuid_like("tessera-collection"),
            "name": "Tessera API",
            "description": "Tessera's verification and management API. Set baseUrl and apiToken in an environment (tessera token create ... --postman-env FILE writes one) and trust the CA from `tessera cert export` under Settings > Certificates. The run creates a token and a user and cleans up the token; the user routes and the audit log need an admin's token. The run makes its new user an admin and signs in as her for the session routes (profile, password, user API token, settings; the policy is written back as it was), then deactivates her.",
            "schema": SCHEMA
        },
        "auth": {"type": "bearer", "bearer": [{"key": "token", "value": "{{apiToken}}", "type": "string"}]},
        "variable": [
            {"key": "tokenId", "value": ""},
            {"key": "rotatedId", "value": ""},
            {"key": "userId", "value": ""},
            {"key": "clientNo", "value": ""},
            {"key": "clientId", "value": ""},
            {"key": "clientSecret", "value": ""},
            {"key": "accessToken", "value": ""},
            {"key": "oldSecretId", "value": ""},
            {"key": "userEmail", "value": ""},
            {"key": "session", "value": ""},
            {"key": "policyJson", "value": ""},
            {"key": "leakedId", "value": ""}
        ],
        "item": [
            {"name": "API", "item": items},
            {"name": "Ways to present a token", "item": forms}
        ]
    })
}

/// The collection a registered OAuth client's service runs: a collection-level pre-request
/// script fetches an access token with the client credentials grant and caches it (in the
/// collection's variables) until shortly before it expires, so every request carries a
/// fresh token and a run fetches one, not one per request. With [`client_environment`].
pub fn client_collection(name: &str) -> Value {
    let prerequest = [
        "var token = pm.collectionVariables.get('accessToken');",
        "var until = Number(pm.collectionVariables.get('accessTokenUntil') || 0);",
        "if (!token || Date.now() > until - 30000) {",
        "  pm.sendRequest({",
        "    url: pm.environment.get('baseUrl') + '/oauth/token',",
        "    method: 'POST',",
        "    header: { 'Content-Type': 'application/x-www-form-urlencoded' },",
        "    body: { mode: 'urlencoded', urlencoded: [",
        "      { key: 'grant_type', value: 'client_credentials' },",
        "      { key: 'client_id', value: pm.environment.get('clientId') },",
        "      { key: 'client_secret', value: pm.environment.get('clientSecret') }",
        "    ] }",
        "  }, function (err, res) {",
        "    if (err || res.code !== 200) {",
        "      console.error('Tessera: the token request failed: ' + (err || res.text()));",
        "      return;",
        "    }",
        "    var grant = res.json();",
        "    pm.collectionVariables.set('accessToken', grant.access_token);",
        "    pm.collectionVariables.set('accessTokenUntil', String(Date.now() + grant.expires_in * 1000));",
        "    pm.collectionVariables.set('tokenFetches', String(Number(pm.collectionVariables.get('tokenFetches') || 0) + 1));",
        "  });",
        "}",
    ];
    let me = |n: u32| {
        json!({
            "name": format!("Who am I ({n})"),
            "event": test_script(&[
                "pm.test('accepted with an access token', function () { pm.response.to.have.status(200); pm.expect(pm.response.json().kind).to.eql('access'); });",
            ]),
            "request": {"method": "GET", "header": [], "url": url("/v1/me", &[])},
        })
    };
    let once = json!({
        "name": "The token was fetched once",
        "event": test_script(&[
            "pm.test('one token request for the whole run', function () { pm.expect(pm.collectionVariables.get('tokenFetches')).to.eql('1'); });",
        ]),
        "request": {"method": "GET", "header": [], "url": url("/v1/me", &[])},
    });
    json!({
        "info": {
            "_postman_id": uuid_like(&format!("tessera-client-collection:{name}")),
            "name": format!("Tessera OAuth client: {name}"),
            "description": "Calls the Tessera API as an OAuth 2.0 client (client credentials). The collection's pre-request script gets an access token from /oauth/token with clientId and clientSecret from the environment and keeps it until shortly before it expires. Trust the CA from `tessera cert export` under Settings > Certificates.",
            "schema": SCHEMA
        },
        "auth": {"type": "bearer", "bearer": [{"key": "token", "value": "{{accessToken}}", "type": "string"}]},
        "event": [{"listen": "prerequest", "script": {"type": "text/javascript", "exec": prerequest}}],
        "variable": [
            {"key": "accessToken", "value": ""},
            {"key": "accessTokenUntil", "value": ""},
            {"key": "tokenFetches", "value": "0"}
        ],
        "item": [me(1), me(2), me(3), once]
    })
}

/// A Postman environment for an OAuth client: `baseUrl`, `clientId`, and the secret as a
/// secret variable.
pub fn client_environment(base_url: &str, client_id: &str, secret: &str, name: &str) -> Value {
    json!({
        "id": uuid_like(&format!("tessera-client-env:{name}:{client_id}")),
        "name": format!("Tessera OAuth client: {name}"),
        "values": [
            {"key": "baseUrl", "value": base_url, "type": "default", "enabled": true},
            {"key": "clientId", "value": client_id, "type": "default", "enabled": true},
            {"key": "clientSecret", "value": secret, "type": "secret", "enabled": true}
        ],
        "_postman_variable_scope": "environment"
    })
}

/// A Postman environment holding the token as a secret variable.
pub fn environment(base_url: &str, token: &TokenSecret, name: &str) -> Value {
    json!({
        "id": uuid_like(&format!("tessera-env:{name}:{}", token.hint())),
        "name": format!("Tessera: {name}"),
        "values": [
            {"key": "baseUrl", "value": base_url, "type": "default", "enabled": true},
            {"key": "apiToken", "value": token.expose(), "type": "secret", "enabled": true}
        ],
        "_postman_variable_scope": "environment"
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_collection_covers_every_route_and_holds_no_token() {
        let c = collection();
        let text = c.to_string();
        assert_eq!(crate::error::scrub(&text), text, "no token-shaped text");
        for r in catalog::ROUTES {
            assert!(text.contains(r.summary), "{} is missing", r.operation_id);
        }
        assert_eq!(c["info"]["schema"], SCHEMA);
    }

    #[test]
    fn the_environment_marks_the_token_secret() {
        let t = TokenSecret::generate(tessera_core::token::TokenKind::Personal);
        let e = environment("https://localhost:8443", &t, "ci");
        assert_eq!(e["values"][1]["type"], "secret");
        assert_eq!(e["values"][1]["value"], t.expose());
        assert_eq!(e["_postman_variable_scope"], "environment");
    }
}
