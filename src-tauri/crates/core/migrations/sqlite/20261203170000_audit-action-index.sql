-- The alert look-ups (honeytoken.used, token.new_source) and the audit screen's action filter
-- read the newest entries of one action: an index instead of a scan of the whole log.
CREATE INDEX audit_action ON audit (action, id);
