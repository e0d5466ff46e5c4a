-- Honeytokens: tokens that never grant anything; every presentation answers like an unknown
-- token and raises an alert (audit action honeytoken.used). Only admins see them.
ALTER TABLE tokens ADD COLUMN honeytoken BOOLEAN NOT NULL DEFAULT 0;
