-- Who created a token when the creator acted through a token (`company token NAME (HINT)`,
-- or `EMAIL via token NAME (HINT)`), as the audit log names them; NULL otherwise.
ALTER TABLE tokens ADD COLUMN created_by_label TEXT;

-- A deleted token stays as a tombstone (revoked, left out of every list) so its hint, owner,
-- counts and usage history remain; only retention pruning removes usage.
ALTER TABLE tokens ADD COLUMN deleted_at INTEGER;
