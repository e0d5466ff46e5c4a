-- Signed-in sessions of a team server's windows (POST /v1/sessions). A session is not an API
-- token: it carries its person's role, ends after minutes idle or hours in all, and is stored
-- only as the keyed hash of its credential, like a token, under a numbered key.
CREATE TABLE sessions (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id),
    hash         BLOB NOT NULL UNIQUE,
    key_id       INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    ip           TEXT,
    user_agent   TEXT
);
CREATE INDEX sessions_user ON sessions (user_id);
