-- The token-hashing keys this database knows (see ../sqlite/20261203000000_token-keys.sql).
CREATE TABLE token_keys (
    id          BIGINT PRIMARY KEY NOT NULL,
    check_value TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    retired_at  BIGINT
);
INSERT INTO token_keys (id, check_value, created_at)
    SELECT 1, value, CAST(EXTRACT(EPOCH FROM now()) AS BIGINT) FROM meta WHERE key = 'key_check';
ALTER TABLE tokens ADD COLUMN key_id BIGINT NOT NULL DEFAULT 1;
