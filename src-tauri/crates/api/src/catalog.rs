//! The one table of the API's routes: method, path, what access each needs, and what it is
//! for. The authentication gate, the OpenAPI document and the Postman collection all read it,
//! so they cannot disagree; a test checks the router serves every entry.

use serde_json::{json, Value};

/// What a route requires of the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No token.
    Public,
    /// Any valid token (never a session): describes the token itself.
    Token,
    /// Any valid token, or a signed-in session.
    AnyToken,
    /// A valid token whose effective scopes include this one, or a session whose person's
    /// role allows it.
    Scope(&'static str),
    /// A signed-in session only (`POST /v1/sessions`): what a person does for themselves or
    /// to the settings, never through an API token.
    Session,
    /// An OAuth client's credentials (HTTP Basic or form fields), checked by the route itself
    /// ([`crate::routes::oauth`]); introspection also takes a `tokens:verify` token.
    Client,
}

/// One route of the API.
#[derive(Debug, Clone, Copy)]
pub struct RouteSpec {
    pub method: &'static str,
    /// In axum's syntax (`{id}`), which is also OpenAPI's.
    pub path: &'static str,
    pub access: Access,
    pub operation_id: &'static str,
    pub tag: &'static str,
    pub summary: &'static str,
    /// Query parameters (name, description).
    pub query: &'static [(&'static str, &'static str)],
    /// An example JSON body for routes that take one (also the Postman body).
    pub body: Option<fn() -> Value>,
    /// Name of the request body schema in the OpenAPI components.
    pub body_schema: Option<&'static str>,
    /// The success status.
    pub ok: u16,
}

const LIST_TOKENS_QUERY: &[(&str, &str)] = &[
    ("limit", "Page size, 1 to 500 (default 100)"),
    (
        "cursor",
        "Return tokens with an id greater than this (the previous page's next_cursor)",
    ),
    ("owner", "Owner e-mail"),
    ("kind", "user, personal or company"),
    (
        "status",
        "active, rotating, deactivated, revoked or expired",
    ),
    ("scope", "Tokens carrying this scope"),
    ("q", "Text in the name, description, hint or owner e-mail"),
    ("expiring_within_days", "Tokens that expire within this many days"),
    (
        "unused_for_days",
        "Tokens not used for this many days (never-used ones count from creation)",
    ),
    ("never_used", "true: tokens never used"),
    (
        "presented_in_query",
        "true: tokens ever presented in a URL query parameter",
    ),
    (
        "sort",
        "id (default), name, kind, owner, status, created, expires, last_used or uses; page with offset",
    ),
    ("descending", "true: the sort column in descending order"),
    ("offset", "Rows to skip, for sorted pages (instead of cursor)"),
    ("total", "true: also answer total, how many tokens the filters match"),
];
const AUDIT_QUERY: &[(&str, &str)] = &[
    ("limit", "Page size, 1 to 500 (default 100)"),
    (
        "cursor",
        "Return entries with an id lower than this (the previous page's next_cursor)",
    ),
    (
        "actor",
        "Who acted (an e-mail, operator or company-token:ID)",
    ),
    ("action", "The action, like token.create"),
    (
        "target",
        "The target, like token:12 or user:ada@example.com",
    ),
    ("since", "Entries at or after this time (RFC 3339)"),
    ("until", "Entries before this time (RFC 3339)"),
];
const AUDIT_EXPORT_QUERY: &[(&str, &str)] = &[
    (
        "actor",
        "Who acted (an e-mail, operator or company-token:ID)",
    ),
    ("action", "The action, like token.create"),
    (
        "target",
        "The target, like token:12 or user:ada@example.com",
    ),
    ("since", "Entries at or after this time (RFC 3339)"),
    ("until", "Entries before this time (RFC 3339)"),
];
const ROLE_QUERY: &[(&str, &str)] = &[("role", "admin, vrm_admin or user")];
const REPORT_QUERY: &[(&str, &str)] = &[("days", "Days of uses per day, 1 to 366 (default 30)")];
const USAGE_QUERY: &[(&str, &str)] =
    &[("limit", "How many recent events, 1 to 1000 (default 100)")];

const fn spec(
    method: &'static str,
    path: &'static str,
    access: Access,
    operation_id: &'static str,
    tag: &'static str,
    summary: &'static str,
) -> RouteSpec {
    RouteSpec {
        method,
        path,
        access,
        operation_id,
        tag,
        summary,
        query: &[],
        body: None,
        body_schema: None,
        ok: 200,
    }
}

/// The password of the user the examples add (and the Postman run signs in as).
pub const EXAMPLE_PASSWORD: &str = "a long enough passphrase";

pub const ROUTES: &[RouteSpec] = &[
    spec("GET", "/healthz", Access::Public, "health", "meta", "Liveness check"),
    spec("GET", "/openapi.json", Access::Public, "openapi", "meta", "This OpenAPI document"),
    spec("GET", "/v1/me", Access::Token, "me", "me", "The presented token: owner, id, kind, effective scopes and expiry"),
    RouteSpec {
        body: Some(|| json!({"token": "{{apiToken}}", "scopes": ["me:read"]})),
        body_schema: Some("VerifyRequest"),
        ..spec("POST", "/v1/verify", Access::Scope("tokens:verify"), "verify", "verify",
            "Introspect another token: whether it is active, its scopes and owner (counts as a use of that token)")
    },
    RouteSpec {
        body: Some(|| json!({"token": "{{apiToken}}", "scopes": ["me:read", "users:write"], "ip": "192.0.2.7"})),
        body_schema: Some("ExplainRequest"),
        ..spec("POST", "/v1/explain", Access::Scope("tokens:verify"), "explain", "verify",
            "Why a token is accepted or refused: every rule with what it compared (not recorded as a use)")
    },
    RouteSpec { query: LIST_TOKENS_QUERY, ..spec("GET", "/v1/tokens", Access::Scope("tokens:read"), "listTokens", "tokens", "List the tokens the caller may see, a page at a time") },
    RouteSpec {
        body: Some(|| json!({"kind": "personal", "name": "postman-{{$timestamp}}", "scopes": ["me:read"], "expires_in": "1d"})),
        body_schema: Some("CreateTokenRequest"),
        ok: 201,
        ..spec("POST", "/v1/tokens", Access::Scope("tokens:write"), "createToken", "tokens", "Create a token; the plaintext is in the reply, this once")
    },
    RouteSpec {
        body: Some(|| json!({"ids": [999_999], "action": "deactivate"})),
        body_schema: Some("BulkStatusRequest"),
        ..spec("POST", "/v1/tokens/bulk", Access::Scope("tokens:write"), "bulkTokenStatus", "tokens", "Revoke, deactivate or activate up to 1000 tokens; each is checked on its own, so one the caller may not change fails alone")
    },
    spec("GET", "/v1/tokens/{id}", Access::Scope("tokens:read"), "getToken", "tokens", "One token's metadata"),
    RouteSpec {
        body: Some(|| json!({"note": "Used by the nightly export; ask the data team", "alert_new_sources": true})),
        body_schema: Some("UpdateTokenRequest"),
        ..spec("PATCH", "/v1/tokens/{id}", Access::Scope("tokens:write"), "updateToken", "tokens", "Change a token's note or its new-source alerts")
    },
    spec("POST", "/v1/tokens/{id}/revoke", Access::Scope("tokens:write"), "revokeToken", "tokens", "Revoke a token (final)"),
    spec("POST", "/v1/tokens/{id}/deactivate", Access::Scope("tokens:write"), "deactivateToken", "tokens", "Deactivate a token (it can be activated again)"),
    spec("POST", "/v1/tokens/{id}/activate", Access::Scope("tokens:write"), "activateToken", "tokens", "Activate a deactivated token"),
    RouteSpec {
        body: Some(|| json!({"overlap": "24h", "grace": "10m"})),
        body_schema: Some("RotateTokenRequest"),
        ok: 201,
        ..spec("POST", "/v1/tokens/{id}/rotate", Access::Scope("tokens:write"), "rotateToken", "tokens", "Rotate a token: a successor with the same limits and a fresh expiry (plaintext in the reply, this once); the old token keeps working until the overlap ends or the successor's first use plus the grace")
    },
    spec("GET", "/v1/tokens/{id}/rotation", Access::Scope("tokens:read"), "tokenRotation", "tokens", "A rotating token's overlap and the addresses and clients that used it since the rotation"),
    spec("POST", "/v1/tokens/{id}/rotation/finish", Access::Scope("tokens:write"), "finishRotation", "tokens", "End a rotation now: the old token is revoked (reason: rotated)"),
    spec("DELETE", "/v1/tokens/{id}", Access::Scope("tokens:write"), "deleteToken", "tokens", "Delete a token and its usage history"),
    RouteSpec { query: USAGE_QUERY, ..spec("GET", "/v1/tokens/{id}/usage", Access::Scope("usage:read"), "tokenUsage", "tokens", "Recent uses of a token, newest first") },
    RouteSpec { query: REPORT_QUERY, ..spec("GET", "/v1/tokens/{id}/report", Access::Scope("usage:read"), "tokenReport", "tokens", "A token's usage report: uses per day, recent uses, the addresses and clients that presented it, and its sources") },
    spec("GET", "/v1/tokens/{id}/sources", Access::Scope("usage:read"), "tokenSources", "tokens", "The networks (IPv4 /24, IPv6 /48) and clients (user agent families) a token was accepted from, oldest first"),
    spec("GET", "/v1/users", Access::Scope("users:read"), "listUsers", "users", "List users, each with how many live tokens they hold (admin)"),
    spec("POST", "/v1/users/{id}/reactivate", Access::Scope("users:write"), "reactivateUser", "users", "Reactivate a deactivated user: they may sign in again; their revoked tokens stay revoked (admin)"),
    RouteSpec { query: ROLE_QUERY, ..spec("GET", "/v1/users/{id}/role-change", Access::Scope("users:read"), "rolePreview", "users", "What a user's live tokens would lose under another role, before changing it (admin)") },
    spec("GET", "/v1/users/{id}/deactivation", Access::Scope("users:read"), "deactivationPreview", "users", "How many tokens deactivating a user would revoke, before doing it (admin)"),
    RouteSpec {
        body: Some(|| json!({"email": "new-{{$timestamp}}@example.com", "name": "New Person", "role": "user", "password": EXAMPLE_PASSWORD})),
        body_schema: Some("CreateUserRequest"),
        ok: 201,
        ..spec("POST", "/v1/users", Access::Scope("users:write"), "createUser", "users", "Add a user (admin)")
    },
    spec("POST", "/v1/users/{id}/deactivate", Access::Scope("users:write"), "deactivateUser", "users", "Deactivate a user and revoke their tokens (admin); id is the numeric id or the e-mail"),
    RouteSpec {
        // The Postman run makes its new user an admin, then signs in as her.
        body: Some(|| json!({"role": "admin"})),
        body_schema: Some("SetRoleRequest"),
        ..spec("PUT", "/v1/users/{id}/role", Access::Scope("users:write"), "setUserRole", "users", "Change a user's role (admin); id is the numeric id or the e-mail")
    },
    RouteSpec { query: AUDIT_QUERY, ..spec("GET", "/v1/audit", Access::Scope("audit:read"), "audit", "audit", "Read the audit log, newest first (admin)") },
    RouteSpec { query: AUDIT_EXPORT_QUERY, ..spec("GET", "/v1/audit/export", Access::Scope("audit:read"), "auditExport", "audit", "The audit log entries the filters match, newest first, up to 100,000, as CSV: id, time, actor, action, target, details (admin)") },
    spec("GET", "/v1/policy", Access::AnyToken, "policy", "me", "The token policy: lifetimes, rate limits, idle expiry, query tokens, retention (changed by a signed-in admin, in the app or the CLI)"),
    spec("GET", "/v1/changes", Access::AnyToken, "changes", "me", "A number that moves whenever anyone changes anything (users, tokens, clients, settings, sign-ins): poll it, and refresh what you show when it moves"),
    spec("GET", "/v1/scopes", Access::AnyToken, "scopes", "me", "Every scope, built-in and custom, with its description and the roles that may hold it"),
    RouteSpec {
        body: Some(|| serde_json::to_value(tessera_core::policy::Policy::default()).unwrap_or_default()),
        body_schema: Some("Policy"),
        ..spec("PUT", "/v1/policy", Access::Session, "setPolicy", "settings", "Change the token policy (admins, in a signed-in session: never through a token)")
    },
    RouteSpec {
        body: Some(|| json!({"name": "postman:example", "description": "Added by the Postman collection"})),
        body_schema: Some("NewScopeRequest"),
        ok: 201,
        ..spec("POST", "/v1/scopes", Access::Session, "addScope", "settings", "Add a custom scope (admins, in a signed-in session)")
    },
    RouteSpec {
        body: Some(|| json!({"email": "{{userEmail}}", "password": EXAMPLE_PASSWORD})),
        body_schema: Some("SignInRequest"),
        ok: 201,
        ..spec("POST", "/v1/sessions", Access::Public, "signIn", "sessions", "Sign in with e-mail and password: a session credential (tsr_w_, this once) to present as Authorization: Bearer; it acts with the person's role and ends after 15 minutes idle or 12 hours")
    },
    spec("GET", "/v1/sessions/current", Access::Session, "currentSession", "sessions", "The signed-in person, the company and when the session ends"),
    RouteSpec {
        ok: 204,
        ..spec("DELETE", "/v1/sessions/current", Access::Session, "signOut", "sessions", "Sign out: the session credential stops working")
    },
    RouteSpec {
        body: Some(|| json!({"name": "Postman Person", "source_group": ""})),
        body_schema: Some("ProfileUpdate"),
        ..spec("PATCH", "/v1/profile", Access::Session, "updateProfile", "sessions", "Change one's own name and default source group")
    },
    RouteSpec {
        body: Some(|| json!({"current_password": EXAMPLE_PASSWORD, "new_password": EXAMPLE_PASSWORD})),
        body_schema: Some("PasswordChange"),
        ok: 204,
        ..spec("POST", "/v1/profile/password", Access::Session, "changePassword", "sessions", "Change one's own password, proving the current one; one's other sessions end")
    },
    spec("POST", "/v1/notices/take", Access::Session, "takeNotices", "sessions", "The desktop notices not yet announced to the signed-in person (tokens expiring within 7 days and 1 day, honeytoken alerts for admins, tokens used from new places), marked announced"),
    spec("GET", "/v1/profile/token", Access::Session, "userToken", "sessions", "One's user API token, unless revoked (null when there is none)"),
    RouteSpec {
        body: Some(|| json!({"overlap_seconds": 0})),
        body_schema: Some("RegenerateUserToken"),
        ok: 201,
        ..spec("POST", "/v1/profile/token", Access::Session, "regenerateUserToken", "sessions", "A new user API token (plaintext in the reply, this once); the previous one stops now, or after overlap_seconds")
    },
    RouteSpec {
        body: Some(|| json!({"up_to": 0})),
        body_schema: Some("AcknowledgeRequest"),
        ok: 204,
        ..spec("POST", "/v1/dashboard/honeytoken-alerts/acknowledge", Access::Scope("tokens:write"), "acknowledgeHoneytokenAlerts", "tokens", "Acknowledge the honeytoken alerts up to and including an audit entry: they leave the Dashboard (admins)")
    },
    RouteSpec {
        body: Some(|| json!({"tokens": ["{{apiToken}}", "not-a-token"]})),
        body_schema: Some("IdentifyRequest"),
        ..spec("POST", "/v1/leaks/identify", Access::Session, "identifyLeaks", "leaks", "What each token-shaped string found in files is here (live, revoked, expired, deactivated, unknown or malformed), in the order sent, at most 1000; recorded as no use, so only a signed-in session may ask")
    },
    RouteSpec {
        body: Some(|| json!({"id": 999_999, "place": "deploy/.env:3"})),
        body_schema: Some("LeakRevokeRequest"),
        ..spec("POST", "/v1/leaks/revoke", Access::Scope("tokens:write"), "revokeLeaked", "leaks", "Revoke a token found leaked; the audit log says where")
    },
    spec("GET", "/v1/dashboard", Access::Scope("tokens:read"), "dashboard", "tokens", "The Dashboard's counts over the tokens the caller may see, honeytoken alerts (admins) and tokens used from new places in 24 h"),
    spec("GET", "/v1/clients", Access::Scope("tokens:read"), "listClients", "clients", "OAuth clients (admins and VRM admins): scopes, networks, token lifetime, valid secrets, tokens issued in 24 h, last use"),
    RouteSpec {
        body: Some(|| json!({"name": "postman-client-{{$timestamp}}", "description": "Made by the Postman collection", "scopes": ["me:read"], "token_ttl": "1h"})),
        body_schema: Some("CreateClientRequest"),
        ok: 201,
        ..spec("POST", "/v1/clients", Access::Scope("tokens:write"), "createClient", "clients", "Register an OAuth client; its client_secret is in the reply, this once")
    },
    spec("GET", "/v1/clients/{id}", Access::Scope("tokens:read"), "getClient", "clients", "One OAuth client"),
    spec("POST", "/v1/clients/{id}/disable", Access::Scope("tokens:write"), "disableClient", "clients", "Disable a client: it gets no tokens, and the tokens it holds are revoked at once"),
    spec("POST", "/v1/clients/{id}/enable", Access::Scope("tokens:write"), "enableClient", "clients", "Enable a disabled client"),
    RouteSpec {
        ok: 201,
        ..spec("POST", "/v1/clients/{id}/secrets", Access::Scope("tokens:write"), "rotateClientSecret", "clients", "A new client secret (in the reply, this once); the previous one keeps working until it is retired")
    },
    spec("DELETE", "/v1/clients/{id}/secrets/{secret}", Access::Scope("tokens:write"), "retireClientSecret", "clients", "Retire one of a client's secrets: it stops working at once (not the last one)"),
    spec("DELETE", "/v1/clients/{id}", Access::Scope("tokens:write"), "deleteClient", "clients", "Delete a client: its secrets stop working and its tokens are revoked at once"),
    RouteSpec {
        body_schema: Some("TokenRequest"),
        ..spec("POST", "/oauth/token", Access::Client, "oauthToken", "oauth", "OAuth 2.0 token endpoint (RFC 6749): grant_type=client_credentials, optional scope to narrow; form-encoded, client_secret_basic or client_secret_post")
    },
    RouteSpec {
        body_schema: Some("IntrospectRequest"),
        ..spec("POST", "/oauth/introspect", Access::Client, "oauthIntrospect", "oauth", "Token introspection (RFC 7662): a client sees its own tokens; a tokens:verify token (Bearer) sees any")
    },
    RouteSpec {
        body_schema: Some("RevokeRequest"),
        ..spec("POST", "/oauth/revoke", Access::Client, "oauthRevoke", "oauth", "Token revocation (RFC 7009) of one of the client's own tokens; always 200")
    },
    spec("GET", "/.well-known/oauth-authorization-server", Access::Public, "oauthMetadata", "oauth", "Authorization server metadata (RFC 8414)"),
];

/// The route a request matched, by method and axum's matched path.
pub fn find(method: &str, path: &str) -> Option<&'static RouteSpec> {
    ROUTES
        .iter()
        .find(|r| r.method.eq_ignore_ascii_case(method) && r.path == path)
}
