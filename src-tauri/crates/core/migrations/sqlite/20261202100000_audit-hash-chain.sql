-- A tamper-evident audit log: every entry is chained to the one before it by a hash.
--
-- `prev_hash` is the previous entry's `hash` (32 zero bytes for the first entry) and `hash`
-- is SHA-256 over a version tag, `prev_hash`, and the entry's own id, at, actor, action,
-- target and details, each length-prefixed (`tessera_core::store::audit::entry_hash`). The
-- newest entry's id and hash are also recorded in `meta` (key `audit_head`), so deleting the
-- newest entries is noticed as well. `tessera audit verify` (and `tessera serve` on start)
-- recomputes the chain and checks that both triggers below still exist.
--
-- Rows written before this migration have NULL in both columns; Tessera chains them, in id
-- order and in one transaction, the first time it opens the database after this migration.
-- A chain stops naive edits with the sqlite3 shell from going unnoticed; someone who can
-- write the file and recompute every hash can still rewrite history.
ALTER TABLE audit ADD COLUMN prev_hash BLOB;
ALTER TABLE audit ADD COLUMN hash BLOB;

-- Chained rows never change. A row written before the chain may only gain its hashes, once,
-- with its content untouched. The delete trigger stays as it was.
DROP TRIGGER audit_no_update;
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
WHEN OLD.hash IS NOT NULL
    OR NEW.id IS NOT OLD.id
    OR NEW.at IS NOT OLD.at
    OR NEW.actor IS NOT OLD.actor
    OR NEW.action IS NOT OLD.action
    OR NEW.target IS NOT OLD.target
    OR NEW.details IS NOT OLD.details
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
