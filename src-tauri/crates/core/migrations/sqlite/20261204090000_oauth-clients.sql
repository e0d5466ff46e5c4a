-- OAuth 2.0 clients (client credentials grant). A client is company-owned: it survives its
-- creator. Its secrets are stored like tokens, as keyed hashes under a numbered key; two may
-- be valid at once while a rotation overlaps, until the older is retired. Access tokens are
-- token rows of kind 'access' naming their client in oauth_client.
CREATE TABLE oauth_clients (
    id                INTEGER PRIMARY KEY,
    -- The public identifier a client sends (tsc_ and 20 base62 characters).
    client_id         TEXT NOT NULL UNIQUE,
    name              TEXT NOT NULL,
    description       TEXT NOT NULL DEFAULT '',
    scopes            TEXT NOT NULL,
    allowed_networks  TEXT NOT NULL DEFAULT '',
    rate_limit        INTEGER NOT NULL,
    -- Lifetime of the access tokens it gets, in seconds.
    token_ttl         INTEGER NOT NULL,
    -- Set when registered through an expiring token: no tokens after the token's end.
    expires_at        INTEGER,
    status            TEXT NOT NULL CHECK (status IN ('active', 'disabled', 'deleted')),
    created_by        INTEGER REFERENCES users (id),
    created_by_label  TEXT NOT NULL,
    created_at        INTEGER NOT NULL,
    status_changed_at INTEGER
);
CREATE UNIQUE INDEX oauth_clients_live_name ON oauth_clients (name) WHERE status <> 'deleted';

CREATE TABLE oauth_client_secrets (
    id           INTEGER PRIMARY KEY,
    client       INTEGER NOT NULL REFERENCES oauth_clients (id),
    hash         BLOB NOT NULL UNIQUE,
    hint         TEXT NOT NULL,
    key_id       INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    retired_at   INTEGER
);
CREATE INDEX oauth_client_secrets_client ON oauth_client_secrets (client);

-- The kind check gains 'access', which SQLite can only do by rebuilding the table (its
-- documented twelve-step procedure; Tessera runs SQLite migrations with foreign keys off, so
-- dropping the old table cascades to nothing, and checks them when the migrations are done).
CREATE TABLE tokens_new (
    id                INTEGER PRIMARY KEY,
    kind              TEXT NOT NULL CHECK (kind IN ('user', 'personal', 'company', 'access')),
    -- NULL for company-owned tokens (company and access): they survive their creator.
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
    refused_count     INTEGER NOT NULL DEFAULT 0,
    created_by_label  TEXT,
    deleted_at        INTEGER,
    note              TEXT NOT NULL DEFAULT '' CHECK (length(note) <= 4000),
    key_id            INTEGER NOT NULL DEFAULT 1,
    rotated_to        INTEGER REFERENCES tokens (id),
    rotated_at        INTEGER,
    rotation_ends_at  INTEGER,
    rotation_grace    INTEGER,
    first_used_at     INTEGER,
    honeytoken        BOOLEAN NOT NULL DEFAULT 0,
    alert_new_sources BOOLEAN NOT NULL DEFAULT 0,
    -- The OAuth client an access token was issued to.
    oauth_client      INTEGER REFERENCES oauth_clients (id)
);
INSERT INTO tokens_new (id, kind, owner_id, created_by, name, description, hash, hint, scopes,
        status, created_at, expires_at, idle_days, idle_anchor_at, allowed_networks, rate_limit,
        status_changed_at, last_used_at, last_used_ip, last_used_agent, use_count, refused_count,
        created_by_label, deleted_at, note, key_id, rotated_to, rotated_at, rotation_ends_at,
        rotation_grace, first_used_at, honeytoken, alert_new_sources)
    SELECT id, kind, owner_id, created_by, name, description, hash, hint, scopes,
        status, created_at, expires_at, idle_days, idle_anchor_at, allowed_networks, rate_limit,
        status_changed_at, last_used_at, last_used_ip, last_used_agent, use_count, refused_count,
        created_by_label, deleted_at, note, key_id, rotated_to, rotated_at, rotation_ends_at,
        rotation_grace, first_used_at, honeytoken, alert_new_sources
    FROM tokens;
DROP TABLE tokens;
ALTER TABLE tokens_new RENAME TO tokens;
CREATE INDEX tokens_owner ON tokens (owner_id, kind, status);
CREATE INDEX tokens_expires ON tokens (expires_at);
CREATE INDEX tokens_last_used ON tokens (last_used_at);
-- Access tokens are named after their client and are not held to unique live names.
CREATE UNIQUE INDEX tokens_live_name ON tokens (kind = 'company', IFNULL(owner_id, 0), name)
    WHERE status <> 'revoked' AND rotation_ends_at IS NULL AND kind <> 'access';
CREATE INDEX tokens_rotating ON tokens (rotation_ends_at) WHERE rotation_ends_at IS NOT NULL AND status <> 'revoked';
CREATE INDEX tokens_oauth_client ON tokens (oauth_client, created_at) WHERE oauth_client IS NOT NULL;
