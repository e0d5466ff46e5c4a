-- New-source alerts: the networks (an IPv4 /24, an IPv6 /48) and clients (user agent
-- families) each token was accepted from. A source not in here is new: it is added, and when
-- the token already had a source of that kind and alerts on new sources, the audit log gets
-- a token.new_source entry. A token's first network and first client are its baseline.
CREATE TABLE token_sources (
    token_id INTEGER NOT NULL REFERENCES tokens (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('network', 'client')),
    source TEXT NOT NULL CHECK (length(source) <= 128),
    first_at INTEGER NOT NULL,
    PRIMARY KEY (token_id, kind, source)
);
-- On by default for company tokens (a machine's token should not wander), off for others.
ALTER TABLE tokens ADD COLUMN alert_new_sources BOOLEAN NOT NULL DEFAULT 0;
UPDATE tokens SET alert_new_sources = 1 WHERE kind = 'company' AND NOT honeytoken;
