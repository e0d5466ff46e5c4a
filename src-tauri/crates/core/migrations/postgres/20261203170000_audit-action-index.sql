-- See ../sqlite/20261203170000_audit-action-index.sql.
CREATE INDEX audit_action ON audit (action, id);
