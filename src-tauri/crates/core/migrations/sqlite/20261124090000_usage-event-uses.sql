-- Identical presentations in the same second (same token, address, client, route, answer)
-- are stored as one row with a count, so a client calling in a loop costs a row a second.
ALTER TABLE usage_events ADD COLUMN uses INTEGER NOT NULL DEFAULT 1 CHECK (uses >= 1);
