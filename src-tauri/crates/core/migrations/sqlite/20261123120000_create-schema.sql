-- Tessera's schema. Times are Unix seconds (UTC). Tokens are stored only as keyed hashes.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);

CREATE TABLE company (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    name       TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE users (
    id             INTEGER PRIMARY KEY,
    email          TEXT NOT NULL UNIQUE,
    name           TEXT NOT NULL,
    role           TEXT NOT NULL CHECK (role IN ('admin', 'vrm_admin', 'user')),
    password_hash  TEXT NOT NULL,
    active         INTEGER NOT NULL DEFAULT 1,
    source_group   TEXT NOT NULL DEFAULT '',
    created_at     INTEGER NOT NULL,
    deactivated_at INTEGER
);

CREATE TABLE scopes (
    name        TEXT PRIMARY KEY NOT NULL,
    description TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE tokens (
    id                INTEGER PRIMARY KEY,
    kind              TEXT NOT NULL CHECK (kind IN ('user', 'personal', 'company')),
    -- NULL for company tokens: they belong to the company and survive their creator.
    owner_id          INTEGER REFERENCES users (id),
    -- NULL when the local operator (CLI without --as) created it.
    created_by        INTEGER REFERENCES users (id),
    name              TEXT NOT NULL,
    description       TEXT NOT NULL DEFAULT '',
    hash              BLOB NOT NULL UNIQUE,
    hint              TEXT NOT NULL,
    scopes            TEXT NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('active', 'deactivated', 'revoked')),
    created_at        INTEGER NOT NULL,
    expires_at        INTEGER,
    idle_days         INTEGER,
    -- Creation or the last accepted use: idle expiry counts from here.
    idle_anchor_at    INTEGER NOT NULL,
    allowed_networks  TEXT NOT NULL DEFAULT '',
    rate_limit        INTEGER NOT NULL,
    status_changed_at INTEGER,
    last_used_at      INTEGER,
    last_used_ip      TEXT,
    last_used_agent   TEXT,
    use_count         INTEGER NOT NULL DEFAULT 0,
    refused_count     INTEGER NOT NULL DEFAULT 0
);

CREATE UNIQUE INDEX tokens_live_name ON tokens (kind = 'company', IFNULL(owner_id, 0), name)
    WHERE status <> 'revoked';
CREATE INDEX tokens_owner ON tokens (owner_id, kind, status);
CREATE INDEX tokens_expires ON tokens (expires_at);
CREATE INDEX tokens_last_used ON tokens (last_used_at);

CREATE TABLE usage_events (
    id         INTEGER PRIMARY KEY,
    token_id   INTEGER NOT NULL REFERENCES tokens (id) ON DELETE CASCADE,
    at         INTEGER NOT NULL,
    ip         TEXT,
    user_agent TEXT,
    method     TEXT NOT NULL DEFAULT '',
    path       TEXT NOT NULL DEFAULT '',
    status     INTEGER NOT NULL DEFAULT 0,
    outcome    TEXT NOT NULL,
    via        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX usage_events_token_at ON usage_events (token_id, at);
CREATE INDEX usage_events_at ON usage_events (at);

CREATE TABLE audit (
    id      INTEGER PRIMARY KEY,
    at      INTEGER NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    target  TEXT NOT NULL,
    details TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_at ON audit (at);

-- The audit log is append-only: the database itself refuses edits and deletions.
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
