//! The OpenAPI 3 document served at `/openapi.json`, built from [`crate::catalog`] so every
//! route is in it with its scope, parameters and bodies. Postman can import it.

use serde_json::{json, Map, Value};

use schemars::generate::{Contract, SchemaSettings};
use schemars::transform::transform_subschemas;
use schemars::Schema;
use tessera_core::store::usage::UsageEntry;
use tessera_core::store::users::User;
use tessera_core::token::TokenKind;
use tessera_core::TokenInfo;

use crate::catalog::{Access, ROUTES};

/// The schemas of the read models the API answers with, derived from tessera-core's own types
/// (the ones it serialises), so a field added there is in this document without an edit here.
fn models() -> Map<String, Value> {
    let mut generator = SchemaSettings::openapi3()
        .with(|s| s.contract = Contract::Serialize)
        .with_transform(plain_openapi3 as fn(&mut Schema))
        .into_generator();
    generator.subschema_for::<TokenInfo>();
    generator.subschema_for::<UsageEntry>();
    generator.subschema_for::<tessera_core::reports::Dashboard>();
    generator.subschema_for::<tessera_core::reports::UsageReport>();
    generator.subschema_for::<tessera_core::service::Finding>();
    generator.subschema_for::<tessera_core::policy::Policy>();
    generator.subschema_for::<tessera_core::service::ScopeInfo>();
    generator.subschema_for::<tessera_core::service::TokenSource>();
    generator.subschema_for::<User>();
    generator.subschema_for::<tessera_core::service::Explanation>();
    generator.subschema_for::<tessera_core::service::RotationReport>();
    generator.subschema_for::<tessera_core::service::ClientInfo>();
    generator.subschema_for::<tessera_core::service::Introspected>();
    generator.take_definitions(true)
}

fn error_ref(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    })
}

/// Rewrite what schemars writes in JSON Schema idiom into the plain OpenAPI 3.0 forms
/// clients (and Postman) read best: an enum whose variants carry docs becomes one `enum` (the
/// docs joined into its description), `anyOf [X, null]` becomes `allOf [X]` with
/// `nullable`, and unsigned formats (not OpenAPI's) give way to `minimum: 0`.
fn plain_openapi3(schema: &mut Schema) {
    transform_subschemas(&mut (plain_openapi3 as fn(&mut Schema)), schema);
    let Some(obj) = schema.as_object_mut() else {
        return;
    };
    if obj
        .get("format")
        .and_then(Value::as_str)
        .is_some_and(|f| f.starts_with("uint"))
    {
        obj.remove("format");
        obj.insert("minimum".into(), json!(0));
    }
    if let Some(Value::Array(alternatives)) = obj.get("oneOf") {
        let single = |a: &Value| match a.get("enum") {
            Some(Value::Array(v)) if v.len() == 1 && a.get("type") == Some(&json!("string")) => {
                Some((
                    v[0].clone(),
                    a.get("description")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                ))
            }
            _ => None,
        };
        let values: Option<Vec<(Value, Option<String>)>> =
            alternatives.iter().map(single).collect();
        if let Some(values) = values {
            let docs: Vec<String> = values
                .iter()
                .filter_map(|(v, d)| Some(format!("`{}`: {}", v.as_str()?, d.as_deref()?)))
                .collect();
            let names: Vec<Value> = values.into_iter().map(|(v, _)| v).collect();
            let mut text = obj
                .get("description")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            for d in docs {
                text.push(' ');
                text.push_str(&d);
            }
            obj.remove("oneOf");
            obj.insert("type".into(), json!("string"));
            obj.insert("enum".into(), Value::Array(names));
            obj.insert("description".into(), json!(text.trim()));
        }
    }
    if let Some(Value::Array(alternatives)) = obj.get("anyOf") {
        let is_null = |a: &Value| a.get("enum") == Some(&json!([null]));
        if alternatives.len() == 2 && alternatives.iter().any(is_null) {
            let other = alternatives.iter().find(|a| !is_null(a)).cloned();
            obj.remove("anyOf");
            obj.insert("allOf".into(), json!([other]));
            obj.insert("nullable".into(), json!(true));
        }
    }
}

/// The hand-written request and envelope schemas, and the derived read models.
fn all_schemas() -> Value {
    let mut all = models();
    for own in [
        schemas(),
        client_schemas(),
        session_schemas(),
        window_schemas(),
    ] {
        if let Value::Object(own) = own {
            all.extend(own);
        }
    }
    Value::Object(all)
}

/// The schemas of the routes a team server's window needs beyond the management API's own:
/// previews, acknowledgements and leaks.
fn window_schemas() -> Value {
    let r = |name: &str| json!({"$ref": format!("#/components/schemas/{name}")});
    json!({
        "RolePreview": {
            "type": "object", "required": ["scopes_lost"],
            "properties": {
                "scopes_lost": {"type": "array", "items": {"type": "string"}, "description": "Scopes their live tokens hold that the role would not allow"}
            }
        },
        "DeactivationPreview": {
            "type": "object", "required": ["tokens_to_revoke"],
            "properties": {
                "tokens_to_revoke": {"type": "integer", "description": "How many of their tokens deactivating them would revoke"}
            }
        },
        "IdentifyRequest": {
            "type": "object", "required": ["tokens"], "additionalProperties": false,
            "properties": {"tokens": {"type": "array", "maxItems": 1000, "items": {"type": "string"}, "description": "Token-shaped strings as found"}}
        },
        "Findings": {
            "type": "object", "required": ["findings"],
            "properties": {"findings": {"type": "array", "items": r("Finding"), "description": "One per string sent, in order: its hint (never the token), what it is, and the token when the caller may manage it"}}
        },
        "LeakRevokeRequest": {
            "type": "object", "required": ["id", "place"], "additionalProperties": false,
            "properties": {
                "id": {"type": "integer"},
                "place": {"type": "string", "description": "Where it was found, like deploy/.env:3"}
            }
        },
        "AcknowledgeRequest": {
            "type": "object", "required": ["up_to"], "additionalProperties": false,
            "properties": {
                "up_to": {"type": "integer", "description": "The audit entry id of the newest alert acknowledged (from the Dashboard's honeytoken_alerts)"}
            }
        }
    })
}

/// The schemas of the session routes (a team server's windows).
fn session_schemas() -> Value {
    let string = json!({"type": "string"});
    let r = |name: &str| json!({"$ref": format!("#/components/schemas/{name}")});
    let session_info = json!({
        "user": r("User"),
        "company": string,
        "expires_at": {"type": "string", "format": "date-time", "description": "The latest the session ends, however busy"},
        "idle_minutes": {"type": "integer", "minimum": 0, "description": "It also ends after this many minutes without a request (a request with the Tessera-Background header does not count)"}
    });
    let mut signed_in = session_info.clone();
    signed_in["session"] = json!({"type": "string", "description": "The session credential (tsr_w_...), shown only in this reply; present it as Authorization: Bearer"});
    json!({
        "SignInRequest": {
            "type": "object", "required": ["email", "password"], "additionalProperties": false,
            "properties": {"email": string, "password": string}
        },
        "SessionInfo": {
            "type": "object", "required": ["user", "company", "expires_at", "idle_minutes"],
            "properties": session_info
        },
        "SignedIn": {
            "type": "object", "required": ["session", "user", "company", "expires_at", "idle_minutes"],
            "properties": signed_in
        },
        "ProfileUpdate": {
            "type": "object", "required": ["name"], "additionalProperties": false,
            "properties": {"name": string, "source_group": string}
        },
        "PasswordChange": {
            "type": "object", "required": ["current_password", "new_password"], "additionalProperties": false,
            "properties": {"current_password": string, "new_password": {"type": "string", "minLength": 12}}
        },
        "UserToken": {
            "type": "object", "required": ["token"],
            "properties": {"token": {"allOf": [r("TokenInfo")], "nullable": true}}
        },
        "RegenerateUserToken": {
            "type": "object", "additionalProperties": false,
            "properties": {"overlap_seconds": {"type": "integer", "minimum": 0, "nullable": true, "description": "Seconds the previous token keeps working beside the new one; none or 0: it stops now"}}
        },
        "Changes": {
            "type": "object", "required": ["version"],
            "properties": {"version": {"type": "integer", "description": "Moves (grows) whenever anything changes; compare with the last one seen"}}
        },
        "Notices": {
            "type": "object", "required": ["expiring", "honeytokens", "new_sources"],
            "properties": {
                "expiring": {"type": "array", "items": {
                    "type": "object", "required": ["token", "days"],
                    "properties": {"token": r("TokenInfo"), "days": {"type": "integer", "enum": [1, 7], "description": "Expires within this many days"}}
                }},
                "honeytokens": {"type": "array", "items": r("HoneytokenAlert")},
                "new_sources": {"type": "array", "items": r("NewSourceAlert")}
            }
        },
        "NewScopeRequest": {
            "type": "object", "required": ["name"], "additionalProperties": false,
            "properties": {"name": string, "description": string}
        }
    })
}

/// The schemas of the OAuth client routes and the OAuth endpoints.
fn client_schemas() -> Value {
    let string = json!({"type": "string"});
    let strings = json!({"type": "array", "items": {"type": "string"}});
    let r = |name: &str| json!({"$ref": format!("#/components/schemas/{name}")});
    json!({
        "ClientPage": {
            "type": "object", "required": ["items"],
            "properties": {"items": {"type": "array", "items": r("ClientInfo")}}
        },
        "CreatedClient": {
            "allOf": [
                r("ClientInfo"),
                {"type": "object", "required": ["client_secret"], "properties": {
                    "client_secret": {"type": "string", "description": "The client secret (tsr_s_...), shown only in this reply"}
                }}
            ]
        },
        "DeletedClient": {
            "type": "object", "required": ["deleted"],
            "properties": {"deleted": {"type": "integer", "description": "The deleted client's number"}}
        },
        "CreateClientRequest": {
            "type": "object", "required": ["name"], "additionalProperties": false,
            "properties": {
                "name": string,
                "description": {"type": "string", "description": "What service uses the client and who runs it"},
                "scopes": {"type": "array", "items": {"type": "string"}, "description": "Default me:read; at most a VRM admin's"},
                "allowed_networks": {"type": "array", "items": {"type": "string"}, "description": "Addresses or CIDR ranges it may get and use tokens from; default anywhere (through a token: that token's)"},
                "rate_limit": {"type": "integer", "minimum": 1, "description": "Requests per minute for its token requests and its tokens together"},
                "token_ttl": {"type": "string", "description": "The access tokens' lifetime: 1s to 24h, default 1h"}
            }
        },
        "TokenRequest": {
            "type": "object", "required": ["grant_type"],
            "properties": {
                "grant_type": {"type": "string", "enum": ["client_credentials"]},
                "scope": {"type": "string", "description": "Space-separated scopes to narrow the token to; default all the client holds"},
                "client_id": {"type": "string", "description": "With client_secret, when not using HTTP Basic"},
                "client_secret": string
            }
        },
        "IntrospectRequest": {
            "type": "object", "required": ["token"],
            "properties": {
                "token": string,
                "token_type_hint": {"type": "string", "description": "Accepted and ignored"},
                "client_id": string, "client_secret": string
            }
        },
        "RevokeRequest": {
            "type": "object", "required": ["token"],
            "properties": {
                "token": string,
                "token_type_hint": {"type": "string", "description": "Accepted and ignored"},
                "client_id": string, "client_secret": string
            }
        },
        "AccessTokenResponse": {
            "type": "object", "required": ["access_token", "token_type", "expires_in", "scope"],
            "properties": {
                "access_token": {"type": "string", "description": "A Tessera access token (tsr_a_...)"},
                "token_type": {"type": "string", "enum": ["Bearer"]},
                "expires_in": {"type": "integer", "minimum": 1, "description": "Seconds until it expires"},
                "scope": {"type": "string", "description": "The scopes granted, space-separated"}
            }
        },
        "RevokeResponse": {"type": "object", "description": "Empty: revocation always answers 200 once the client is known", "additionalProperties": false},
        "OAuthError": {
            "type": "object", "required": ["error", "error_description"],
            "properties": {
                "error": {"type": "string", "enum": ["invalid_request", "invalid_client", "invalid_grant", "unauthorized_client", "unsupported_grant_type", "invalid_scope", "slow_down", "server_error", "temporarily_unavailable", "invalid_token", "insufficient_scope"], "description": "RFC 6749 section 5.2's codes; introspection with a bearer token answers RFC 6750's invalid_token (401) and insufficient_scope (403)"},
                "error_description": string
            }
        },
        "AuthorizationServerMetadata": {
            "type": "object",
            "required": ["issuer", "token_endpoint", "introspection_endpoint", "revocation_endpoint", "grant_types_supported", "response_types_supported", "token_endpoint_auth_methods_supported", "scopes_supported"],
            "properties": {
                "issuer": string, "token_endpoint": string, "introspection_endpoint": string,
                "revocation_endpoint": string, "service_documentation": string,
                "grant_types_supported": strings, "response_types_supported": strings,
                "token_endpoint_auth_methods_supported": strings,
                "introspection_endpoint_auth_methods_supported": strings,
                "revocation_endpoint_auth_methods_supported": strings,
                "scopes_supported": strings
            }
        }
    })
}

fn schemas() -> Value {
    let string = json!({"type": "string"});
    let strings = json!({"type": "array", "items": {"type": "string"}});
    let date = json!({"type": "string", "format": "date-time", "nullable": true});
    let kinds: Vec<&str> = TokenKind::ALL.iter().map(|k| k.as_str()).collect();
    let kind = json!({"type": "string", "enum": kinds});
    let r = |name: &str| json!({"$ref": format!("#/components/schemas/{name}")});
    // A page of a list, and the cursor for the next one (null at the end).
    let page = |item: &str| {
        json!({
            "type": "object", "required": ["items", "next_cursor"],
            "properties": {
                "items": {"type": "array", "items": r(item)},
                "next_cursor": {"type": "integer", "nullable": true, "description": "Pass as cursor for the next page; null at the end"}
            }
        })
    };
    // A whole list in one answer.
    let list = |item: &str| {
        json!({
            "type": "object", "required": ["items"],
            "properties": {"items": {"type": "array", "items": r(item)}}
        })
    };
    json!({
        "Error": {
            "type": "object", "required": ["error", "message"],
            "properties": {
                "error": {"type": "string", "description": "A machine-readable code: the rule that refused the request (malformed, unknown, revoked, expired, network, scope, rate_limited...) or the kind of error"},
                "message": {"type": "string", "description": "What was wrong and what to do"},
                "field": {"type": "string", "description": "The request member, path or query parameter the refusal is about, when there is one (core fields, plus the API's own: limit, cursor, sort, days, new_password, never_expires)", "enum": crate::error::field_names().collect::<Vec<_>>()}
            }
        },
        "Health": {
            "type": "object", "required": ["status"],
            "properties": {
                "status": {"type": "string", "enum": ["ok", "unavailable"]},
                "reason": {"type": "string", "description": "Why this instance cannot answer now (503 only)"},
                "instances": {"type": "integer", "minimum": 1, "description": "Servers sharing this database, this one included (1 on SQLite); each enforces its share of a token's rate limit"}
            }
        },
        "OpenAPIDocument": {
            "type": "object", "description": "This OpenAPI 3.0 document",
            "required": ["openapi", "info", "paths", "components"], "additionalProperties": true
        },
        "Owner": {
            "type": "object", "nullable": true, "description": "The token's owner as of this request; null for company tokens",
            "required": ["id", "email", "name", "role"],
            "properties": {"id": {"type": "integer"}, "email": string, "name": string, "role": {"type": "string", "enum": ["admin", "vrm_admin", "user"]}}
        },
        "Me": {
            "type": "object",
            "required": ["token_id", "token_name", "hint", "kind", "owner", "scopes", "expires_at", "rate_limit", "via"],
            "properties": {
                "token_id": {"type": "integer"}, "token_name": string, "hint": string,
                "kind": kind,
                "owner": {"$ref": "#/components/schemas/Owner"},
                "scopes": strings, "expires_at": date, "rate_limit": {"type": "integer"},
                "via": {"type": "string", "description": "How the token was presented"}
            }
        },
        "VerifyRequest": {
            "type": "object", "required": ["token"], "additionalProperties": false,
            "properties": {
                "token": {"type": "string", "description": "The token to check"},
                "scopes": {"type": "array", "items": {"type": "string"}, "description": "Scopes the token must carry"},
                "ip": {"type": "string", "description": "The address the token was presented from (default: the caller's)"}
            }
        },
        "ExplainRequest": {
            "type": "object", "additionalProperties": false,
            "description": "Give token or id, not both.",
            "properties": {
                "token": {"type": "string", "description": "The token to explain (not recorded as a use)"},
                "id": {"type": "integer", "description": "Or the id of a token the caller manages"},
                "scopes": {"type": "array", "items": {"type": "string"}, "description": "Scopes to ask about, one check each"},
                "ip": {"type": "string", "description": "The address it is presented from (default: the caller's)"},
                "at": {"type": "string", "format": "date-time", "description": "Judge it at this time (default: now)"}
            }
        },
        "Introspection": {
            "type": "object",
            "required": ["active", "reason", "message", "token_id", "kind", "owner", "scopes", "expires_at"],
            "properties": {
                "active": {"type": "boolean"},
                "reason": {"type": "string", "description": "accepted, or the rule that refused the token"},
                "message": string,
                "token_id": {"type": "integer", "nullable": true, "description": "Null when the token is not one Tessera knows"},
                "kind": {"type": "string", "nullable": true, "enum": ["user", "personal", "company", "access", null]},
                "owner": {"$ref": "#/components/schemas/Owner"},
                "scopes": strings, "expires_at": date
            }
        },
        "CreatedToken": {
            "allOf": [
                {"$ref": "#/components/schemas/TokenInfo"},
                {"type": "object", "required": ["token", "replaced", "rotated"], "properties": {
                    "token": {"type": "string", "description": "The plaintext token, shown only in this reply"},
                    "replaced": {"type": "integer", "nullable": true, "description": "The user token this one replaced (and revoked), if any"},
                    "rotated": {"type": "integer", "nullable": true, "description": "The token this one succeeds (now rotating), if it was made by rotation"}
                }}
            ]
        },
        "RotateTokenRequest": {
            "type": "object", "additionalProperties": false,
            "properties": {
                "overlap": {"type": "string", "description": "How long the old token keeps working beside the new one: 30m, 24h, 7d (at most 30d), or none to revoke it now. Default 24h"},
                "grace": {"type": "string", "description": "How long it keeps working after the new one's first accepted use: default 10m, at most 1d, none for no grace"}
            }
        },
        "CreateTokenRequest": {
            "type": "object", "required": ["kind"], "additionalProperties": false,
            "properties": {
                "kind": {"type": "string", "enum": ["user", "personal", "company"]},
                "name": string, "description": string,
                "owner": {"type": "string", "description": "Owner e-mail (user and personal tokens); default the caller"},
                "scopes": strings,
                "expires_in": {"type": "string", "description": "A lifetime like 30d, 12h or 1y"},
                "expires_at": {"type": "string", "format": "date-time"},
                "never_expires": {"type": "boolean"},
                "idle_days": {"type": "integer", "minimum": 1},
                "allowed_networks": {"type": "array", "items": {"type": "string"}, "description": "Addresses or CIDR ranges"},
                "rate_limit": {"type": "integer", "minimum": 1, "description": "Requests per minute"},
                "honeytoken": {"type": "boolean", "description": "Admins: a honeytoken, which never grants anything, answers every presentation like an unknown token, and alerts (audit action honeytoken.used)"},
                "alert_new_sources": {"type": "boolean", "description": "Alert when the token is used from a network or client it was never used from (default: on for company tokens, off for others)"}
            }
        },
        "CreateUserRequest": {
            "type": "object", "required": ["email", "name", "role", "password"], "additionalProperties": false,
            "properties": {
                "email": string, "name": string,
                "role": {"type": "string", "enum": ["admin", "vrm_admin", "user"]},
                "password": {"type": "string", "minLength": 12}, "source_group": string
            }
        },
        "BulkStatusRequest": {
            "type": "object", "required": ["ids", "action"], "additionalProperties": false,
            "properties": {
                "ids": {"type": "array", "items": {"type": "integer"}, "maxItems": 1000, "description": "Token ids, at most 1000"},
                "action": {"type": "string", "enum": ["revoke", "deactivate", "activate"]}
            }
        },
        "BulkStatusResult": {
            "type": "object", "required": ["done", "failed"],
            "properties": {
                "done": {"type": "array", "items": {"type": "integer"}, "description": "The ids changed"},
                "failed": {"type": "array", "items": {
                    "type": "object", "required": ["id", "error", "message"],
                    "properties": {"id": {"type": "integer"}, "error": {"type": "string"}, "message": {"type": "string"}}
                }, "description": "The ids not changed, each with the refusal the single route would have answered"}
            }
        },
        "UpdateTokenRequest": {
            "type": "object", "additionalProperties": false, "description": "Give at least one member; those left out stay as they are",
            "properties": {
                "note": {"type": "string", "maxLength": 2000, "description": "Free text about the token (what uses it now, who to ask); empty clears it"},
                "alert_new_sources": {"type": "boolean", "description": "Alert (audit token.new_source, a notice to the owner, or to admins for a company token) when the token is used from a network (IPv4 /24, IPv6 /48) or client (user agent family) it was never used from"}
            }
        },
        "SetRoleRequest": {
            "type": "object", "required": ["role"], "additionalProperties": false,
            "properties": {"role": {"type": "string", "enum": ["admin", "vrm_admin", "user"]}}
        },
        "AuditEntry": {
            "type": "object",
            "required": ["id", "at", "actor", "action", "target", "details"],
            "properties": {
                "id": {"type": "integer"}, "at": {"type": "string", "format": "date-time"},
                "actor": string, "action": string, "target": string,
                "details": {"type": "object", "nullable": true, "additionalProperties": true, "description": "What the action changed; its fields depend on the action"}
            }
        },
        "TokenPage": {
            "type": "object", "required": ["items", "next_cursor"],
            "properties": {
                "items": {"type": "array", "items": r("TokenInfo")},
                "next_cursor": {"type": "integer", "nullable": true, "description": "Pass as cursor for the next page; null at the end, and with sort, descending or offset"},
                "total": {"type": "integer", "description": "How many tokens the filters match (with total=true)"}
            }
        },
        "AuditPage": page("AuditEntry"),
        "UsageEvents": list("UsageEntry"),
        "TokenSources": list("TokenSource"),
        "Scopes": list("ScopeInfo"),
        "Users": list("UserWithTokens"),
        "UserWithTokens": {
            "allOf": [
                r("User"),
                {"type": "object", "required": ["live_tokens"], "properties": {
                    "live_tokens": {"type": "integer", "minimum": 0, "description": "User and personal tokens they hold that are not revoked"}
                }}
            ]
        },
        "DeletedToken": {
            "type": "object", "required": ["deleted"],
            "properties": {"deleted": {"type": "integer", "description": "The deleted token's id"}}
        },
        "DeactivatedUser": {
            "type": "object", "required": ["user", "tokens_revoked"],
            "properties": {
                "user": r("User"),
                "tokens_revoked": {"type": "integer", "description": "How many of their tokens were revoked"}
            }
        },
        "RoleChange": {
            "type": "object", "required": ["user", "scopes_lost"],
            "properties": {
                "user": r("User"),
                "scopes_lost": {"type": "array", "items": {"type": "string"}, "description": "Scopes their live tokens had under the old role that the new role does not allow"}
            }
        }
    })
}

/// What a success carries: JSON with [`response_schema`], or a CSV file.
fn response_content(operation_id: &str) -> Value {
    match operation_id {
        "auditExport" => json!({"text/csv": {"schema": {
            "type": "string",
            "description": "RFC 4180 CSV with a header line: id, time (RFC 3339), actor, action, target, details (the entry's details as JSON text)"
        }}}),
        _ => json!({"application/json": {"schema": response_schema(operation_id)}}),
    }
}

fn response_schema(operation_id: &str) -> Value {
    let r = |name: &str| json!({"$ref": format!("#/components/schemas/{name}")});
    match operation_id {
        "health" => r("Health"),
        "openapi" => r("OpenAPIDocument"),
        "me" => r("Me"),
        "verify" => r("Introspection"),
        "explain" => r("Explanation"),
        "rotateToken" => r("CreatedToken"),
        "tokenRotation" => r("RotationReport"),
        "finishRotation" => r("TokenInfo"),
        "listTokens" => r("TokenPage"),
        "createToken" => r("CreatedToken"),
        "getToken" | "updateToken" | "revokeToken" | "deactivateToken" | "activateToken" => {
            r("TokenInfo")
        }
        "deleteToken" => r("DeletedToken"),
        "tokenUsage" => r("UsageEvents"),
        "tokenSources" => r("TokenSources"),
        "listUsers" => r("Users"),
        "createUser" => r("User"),
        "deactivateUser" => r("DeactivatedUser"),
        "reactivateUser" => r("User"),
        "rolePreview" => r("RolePreview"),
        "deactivationPreview" => r("DeactivationPreview"),
        "tokenReport" => r("UsageReport"),
        "identifyLeaks" => r("Findings"),
        "revokeLeaked" => r("TokenInfo"),
        "setUserRole" => r("RoleChange"),
        "audit" => r("AuditPage"),
        "dashboard" => r("Dashboard"),
        "policy" | "setPolicy" => r("Policy"),
        "addScope" => r("ScopeInfo"),
        "signIn" => r("SignedIn"),
        "currentSession" => r("SessionInfo"),
        "takeNotices" => r("Notices"),
        "changes" => r("Changes"),
        "updateProfile" => r("User"),
        "userToken" => r("UserToken"),
        "regenerateUserToken" => r("CreatedToken"),
        "scopes" => r("Scopes"),
        "bulkTokenStatus" => r("BulkStatusResult"),
        "listClients" => r("ClientPage"),
        "createClient" | "rotateClientSecret" => r("CreatedClient"),
        "getClient" | "disableClient" | "enableClient" | "retireClientSecret" => r("ClientInfo"),
        "deleteClient" => r("DeletedClient"),
        "oauthToken" => r("AccessTokenResponse"),
        "oauthIntrospect" => r("Introspected"),
        "oauthRevoke" => r("RevokeResponse"),
        "oauthMetadata" => r("AuthorizationServerMetadata"),
        _ => json!({"type": "object"}),
    }
}

/// What a 409 means for the operations that can answer one.
fn conflict(operation_id: &str) -> Option<&'static str> {
    match operation_id {
        "createToken" => Some("The owner already has a live token by that name"),
        "createUser" => Some("A user with that e-mail already exists"),
        "createClient" => Some("A client by that name already exists"),
        "addScope" => Some("A scope by that name already exists"),
        "rotateClientSecret" => {
            Some("The client has two valid secrets already; retire the older one first")
        }
        _ => None,
    }
}

/// The whole document.
pub fn document() -> Value {
    let mut paths: Map<String, Value> = Map::new();
    for r in ROUTES {
        let mut params: Vec<Value> = Vec::new();
        if r.path.contains("{id}") {
            params.push(json!({
                "name": "id", "in": "path", "required": true,
                "schema": {"type": "string"},
                "description": match r.tag {
                    "users" => "The user's numeric id or e-mail",
                    "clients" => "The client's number",
                    _ => "The token's id",
                }
            }));
        }
        if r.path.contains("{secret}") {
            params.push(json!({
                "name": "secret", "in": "path", "required": true,
                "schema": {"type": "string"}, "description": "The secret's number (from the client's secrets)"
            }));
        }
        for (name, description) in r.query {
            // The role a preview is for is the one query parameter a route cannot do without.
            let required = r.operation_id == "rolePreview" && *name == "role";
            params.push(json!({"name": name, "in": "query", "required": required, "schema": {"type": "string"}, "description": description}));
        }
        let mut responses = Map::new();
        responses.insert(
            r.ok.to_string(),
            if r.ok == 204 {
                json!({"description": "Success, no content"})
            } else {
                json!({"description": "Success", "content": response_content(r.operation_id)})
            },
        );
        let description = match r.access {
            Access::Public => "No token needed.".to_owned(),
            Access::Token => "Any valid API token (not a session).".to_owned(),
            Access::AnyToken => "Any valid token, or a signed-in session.".to_owned(),
            Access::Scope(s) => format!("Needs the scope `{s}`: a token carrying it, or a signed-in session whose person's role allows it."),
            Access::Session => "Only a signed-in session (POST /v1/sessions), never an API token: a token gets 403 session_required.".to_owned(),
            Access::Client => {
                let mut d = "An OAuth client authenticates: HTTP Basic with client_id:client_secret (client_secret_basic), or client_id and client_secret in the form (client_secret_post), not both. Form-encoded; errors are RFC 6749 section 5.2's {\"error\", \"error_description\"}.".to_owned();
                if r.operation_id == "oauthIntrospect" {
                    d.push_str(
                        " A caller with a tokens:verify token may present it as Bearer instead.",
                    );
                }
                d
            }
        };
        if r.access == Access::Client {
            let oauth_error = |what: &str| json!({"description": what, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/OAuthError"}}}});
            responses.insert(
                "400".into(),
                oauth_error(
                    "invalid_request, unsupported_grant_type, invalid_scope or unauthorized_client",
                ),
            );
            responses.insert("401".into(), oauth_error("invalid_client: unknown client_id, wrong or retired secret, or none given (WWW-Authenticate: Basic)"));
            responses.insert("429".into(), oauth_error("Too many failed authentications for the client or from the address, or the client is over its rate limit; see Retry-After"));
            responses.insert(
                "503".into(),
                oauth_error("temporarily_unavailable: the database is not answering"),
            );
            let mut security = vec![json!({"clientBasic": []}), json!({})];
            if r.operation_id == "oauthIntrospect" {
                security.push(json!({"bearer": []}));
                responses.insert("403".into(), oauth_error("insufficient_scope: the bearer token lacks tokens:verify, or may not be used from this address"));
            }
            let mut op = json!({
                "operationId": r.operation_id, "tags": [r.tag], "summary": r.summary,
                "description": description, "parameters": params,
                "security": security, "responses": responses,
            });
            if let Some(schema) = r.body_schema {
                op["requestBody"] = json!({
                    "required": true,
                    "content": {"application/x-www-form-urlencoded": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}
                });
            }
            let item = paths.entry(r.path.to_owned()).or_insert_with(|| json!({}));
            item[r.method.to_ascii_lowercase()] = op;
            continue;
        }
        if r.body.is_some() || r.access != Access::Public {
            responses.insert(
                "400".into(),
                error_ref("Bad input (the message names the body field, query parameter or id at fault), or two different tokens in one request"),
            );
        }
        if r.body.is_some() {
            responses.insert("413".into(), error_ref("Body over 64 KiB"));
            responses.insert("415".into(), error_ref("Body not sent as application/json"));
        }
        if r.operation_id == "signIn" {
            responses.insert(
                "401".into(),
                error_ref("invalid_credentials: wrong e-mail or password (which is never said)"),
            );
            responses.insert(
                "403".into(),
                error_ref("The password is right but the account is deactivated"),
            );
            responses.insert(
                "429".into(),
                error_ref(
                    "Too many wrong passwords for the account or from the address; see Retry-After",
                ),
            );
            responses.insert(
                "503".into(),
                error_ref("The database is not answering; try again shortly"),
            );
        }
        if r.operation_id == "health" {
            responses.insert(
                "503".into(),
                json!({"description": "The database is not answering, or the change listener is reconnecting; send requests to another instance", "content": {"application/json": {"schema": response_schema("health")}}}),
            );
        } else if r.access != Access::Public {
            responses.insert(
                "503".into(),
                error_ref("The database is not answering; nothing was done, try again shortly (or another instance)"),
            );
        }
        let mut op = json!({
            "operationId": r.operation_id,
            "tags": [r.tag],
            "summary": r.summary,
            "description": description,
            "parameters": params,
        });
        if r.access != Access::Public {
            if let Some(what) = conflict(r.operation_id) {
                responses.insert("409".into(), error_ref(what));
            }
            responses.insert("401".into(), error_ref("No token, or a token that is malformed, unknown, revoked, deactivated or expired, or whose owner is deactivated; or a session that was signed out, idle too long or past its end"));
            responses.insert("403".into(), error_ref(if r.access == Access::Session {
                "session_required: an API token was presented (this route needs a signed-in session); or the person may not do this"
            } else {
                "The token lacks the scope (or the session's person's role does not allow it), may not be used from this address, or its owner may not do this"
            }));
            responses.insert(
                "429".into(),
                error_ref("Over the token's rate limit; see Retry-After"),
            );
            if r.path.contains("{id}") {
                responses.insert(
                    "404".into(),
                    error_ref("No such item that the caller may see"),
                );
            }
            op["security"] = json!([{"bearer": []}, {"apiKey": []}, {"basic": []}]);
        } else {
            op["security"] = json!([]);
        }
        op["responses"] = Value::Object(responses);
        if let Some(schema) = r.body_schema {
            op["requestBody"] = json!({
                "required": true,
                "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}
            });
        }
        let item = paths.entry(r.path.to_owned()).or_insert_with(|| json!({}));
        item[r.method.to_ascii_lowercase()] = op;
    }
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "Tessera API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Verify Tessera tokens and manage tokens, users and the audit log. Present a token as Authorization: Bearer <token> (or Basic with the token as user name and an empty password, Token, Api-Token, SSWS, or X-API-Key). A person may instead sign in (POST /v1/sessions) and present the session credential as Authorization: Bearer: it acts with the person's role on every route that role allows. Errors are {\"error\": CODE, \"message\": TEXT}."
        },
        "servers": [{"url": "https://localhost:8443", "description": "tessera serve (default)"}],
        "tags": [
            {"name": "meta"}, {"name": "me"}, {"name": "verify"}, {"name": "tokens"}, {"name": "users"}, {"name": "audit"},
            {"name": "sessions", "description": "A person signed in with e-mail and password (a team server's window): the session, the profile, the password and the user API token"},
            {"name": "settings", "description": "The token policy and custom scopes, changed by a signed-in admin"},
            {"name": "leaks", "description": "Tokens found in files: what each is, and revoking the live ones"},
            {"name": "clients", "description": "OAuth clients, managed by admins and VRM admins"},
            {"name": "oauth", "description": "The OAuth 2.0 authorization server for machine clients (client credentials)"}
        ],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "Authorization: Bearer <token>"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
                "basic": {"type": "http", "scheme": "basic", "description": "The token as user name, empty password"},
                "clientBasic": {"type": "http", "scheme": "basic", "description": "OAuth endpoints: client_id as user name, client_secret as password (client_secret_basic)"}
            },
            "schemas": all_schemas()
        }
    })
}
