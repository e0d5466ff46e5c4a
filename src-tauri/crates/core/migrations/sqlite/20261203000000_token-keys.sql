-- The token-hashing keys this database knows (their check values, never the keys). The newest
-- key not retired hashes new tokens; every key not retired verifies. Each token row names the
-- key that hashed it, so `tessera key retire` can tell which tokens a key still verifies.
-- Databases set up before keys were numbered had one key, recorded in meta as key_check: it
-- becomes key 1 and every existing token was hashed with it.
CREATE TABLE token_keys (
    id          INTEGER PRIMARY KEY NOT NULL,
    check_value TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    retired_at  INTEGER
);
INSERT INTO token_keys (id, check_value, created_at)
    SELECT 1, value, CAST(strftime('%s', 'now') AS INTEGER) FROM meta WHERE key = 'key_check';
ALTER TABLE tokens ADD COLUMN key_id INTEGER NOT NULL DEFAULT 1;
