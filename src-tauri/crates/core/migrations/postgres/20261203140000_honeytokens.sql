-- Honeytokens (see ../sqlite/20261203140000_honeytokens.sql).
ALTER TABLE tokens ADD COLUMN honeytoken BOOLEAN NOT NULL DEFAULT false;
