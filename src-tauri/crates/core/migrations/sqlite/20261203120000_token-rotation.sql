-- Rotation with overlap. The old token stays 'active' in storage and is shown as rotating
-- while rotation_ends_at is set: it works until then, or until its successor's first accepted
-- use plus rotation_grace seconds, whichever comes first; then it is revoked (reason
-- "rotated"). first_used_at is a token's first accepted use, which ends its predecessor's
-- overlap early.
ALTER TABLE tokens ADD COLUMN rotated_to INTEGER REFERENCES tokens (id);
ALTER TABLE tokens ADD COLUMN rotated_at INTEGER;
ALTER TABLE tokens ADD COLUMN rotation_ends_at INTEGER;
ALTER TABLE tokens ADD COLUMN rotation_grace INTEGER;
ALTER TABLE tokens ADD COLUMN first_used_at INTEGER;
-- The successor keeps the name while the old token overlaps with it.
DROP INDEX tokens_live_name;
CREATE UNIQUE INDEX tokens_live_name ON tokens (kind = 'company', IFNULL(owner_id, 0), name)
    WHERE status <> 'revoked' AND rotation_ends_at IS NULL;
CREATE INDEX tokens_rotating ON tokens (rotation_ends_at) WHERE rotation_ends_at IS NOT NULL AND status <> 'revoked';
