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
    ("deactivateToken", "tokenId"),
    ("activateToken", "tokenId"),
    ("rotateToken", "tokenId"),
    ("tokenRotation", "rotatedId"),
    ("finishRotation", "rotatedId"),
    ("revokeToken", "tokenId"),
    ("deleteToken", "tokenId"),
    ("listUsers", ""),
    ("createUser", ""),
    ("setUserRole", "userId"),
    ("deactivateUser", "userId"),
    ("audit", ""),
    ("dashboard", ""),
    ("policy", ""),
    ("scopes", ""),
    ("auditExport", ""),
    ("bulkTokenStatus", ""),
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
    let mut t = vec![format!(
        "pm.test('{} answers {}', function () {{ pm.response.to.have.status({}); }});",
        r.operation_id, r.ok, r.ok
    )];
    // Every answer is JSON but the CSV export's, which has its own test below.
    if r.operation_id != "auditExport" {
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
        "createUser" => t.push("pm.collectionVariables.set('userId', pm.response.json().id);".into()),
        "updateToken" => t.push("pm.test('the note is stored', function () { pm.expect(pm.response.json().note).to.eql(JSON.parse(pm.request.body.raw).note); pm.expect(pm.response.json().alert_new_sources).to.eql(JSON.parse(pm.request.body.raw).alert_new_sources); });".into()),
        "revokeToken" => t.push("pm.test('the token is revoked', function () { pm.expect(pm.response.json().status).to.eql('revoked'); });".into()),
        "bulkTokenStatus" => t.push("pm.test('an unknown id fails alone', function () { pm.expect(pm.response.json().done).to.eql([]); pm.expect(pm.response.json().failed[0].error).to.eql('not_found'); });".into()),
        "auditExport" => t.push("pm.test('a CSV with its header', function () { pm.expect(pm.response.headers.get('Content-Type')).to.include('text/csv'); pm.expect(pm.response.text().split('\\n')[0]).to.eql('id,time,actor,action,target,details'); });".into()),
        "policy" => t.push("pm.test('the lifetime bound is there', function () { pm.expect(pm.response.json().max_lifetime_days).to.be.a('number'); });".into()),
        "scopes" => t.push("pm.test('me:read is listed', function () { pm.expect(pm.response.json().items.map(function (s) { return s.name; })).to.include('me:read'); });".into()),
        "dashboard" => t.push("pm.test('the counts are there', function () { pm.expect(pm.response.json().active).to.be.a('number'); pm.expect(pm.response.json().new_sources).to.be.an('array'); });".into()),
        "listTokens" | "listUsers" | "audit" | "tokenUsage" | "tokenSources" => {
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
    let query: Vec<(&str, &str)> = match r.operation_id {
        "listTokens" | "audit" => vec![("limit", "20")],
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
    if let Some(body) = r.body {
        request["header"] = json!([{"key": "Content-Type", "value": "application/json"}]);
        let raw = serde_json::to_string_pretty(&body()).unwrap_or_default();
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
            "description": "Tessera's verification and management API. Set baseUrl and apiToken in an environment (tessera token create ... --postman-env FILE writes one) and trust the CA from `tessera cert export` under Settings > Certificates. The run creates a token and a user and cleans up the token; the user routes and the audit log need an admin's token.",
            "schema": SCHEMA
        },
        "auth": {"type": "bearer", "bearer": [{"key": "token", "value": "{{apiToken}}", "type": "string"}]},
        "variable": [
            {"key": "tokenId", "value": ""},
            {"key": "rotatedId", "value": ""},
            {"key": "userId", "value": ""}
        ],
        "item": [
            {"name": "API", "item": items},
            {"name": "Ways to present a token", "item": forms}
        ]
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
