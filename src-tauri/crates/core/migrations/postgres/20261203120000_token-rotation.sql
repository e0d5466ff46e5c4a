-- Rotation with overlap (see ../sqlite/20261203120000_token-rotation.sql).
ALTER TABLE tokens ADD COLUMN rotated_to BIGINT REFERENCES tokens (id);
ALTER TABLE tokens ADD COLUMN rotated_at BIGINT;
ALTER TABLE tokens ADD COLUMN rotation_ends_at BIGINT;
ALTER TABLE tokens ADD COLUMN rotation_grace BIGINT;
ALTER TABLE tokens ADD COLUMN first_used_at BIGINT;
DROP INDEX tokens_live_name;
CREATE UNIQUE INDEX tokens_live_name ON tokens ((kind = 'company'), COALESCE(owner_id, 0), name)
    WHERE status <> 'revoked' AND rotation_ends_at IS NULL;
CREATE INDEX tokens_rotating ON tokens (rotation_ends_at) WHERE rotation_ends_at IS NOT NULL AND status <> 'revoked';

-- Verification reads the rotation columns: starting or finishing a rotation is announced.
-- A successor's first use (first_used_at) is not: a rotating token is never cached.
DROP TRIGGER tokens_announce ON tokens;
CREATE TRIGGER tokens_announce AFTER UPDATE ON tokens FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status
       OR OLD.scopes IS DISTINCT FROM NEW.scopes
       OR OLD.expires_at IS DISTINCT FROM NEW.expires_at
       OR OLD.idle_days IS DISTINCT FROM NEW.idle_days
       OR (NEW.idle_days IS NOT NULL AND OLD.idle_anchor_at IS DISTINCT FROM NEW.idle_anchor_at)
       OR OLD.allowed_networks IS DISTINCT FROM NEW.allowed_networks
       OR OLD.rate_limit IS DISTINCT FROM NEW.rate_limit
       OR OLD.owner_id IS DISTINCT FROM NEW.owner_id
       OR OLD.kind IS DISTINCT FROM NEW.kind
       OR OLD.name IS DISTINCT FROM NEW.name
       OR OLD.hash IS DISTINCT FROM NEW.hash
       OR OLD.deleted_at IS DISTINCT FROM NEW.deleted_at
       OR OLD.rotation_ends_at IS DISTINCT FROM NEW.rotation_ends_at
       OR OLD.rotated_to IS DISTINCT FROM NEW.rotated_to)
    EXECUTE FUNCTION tessera_announce('token');
