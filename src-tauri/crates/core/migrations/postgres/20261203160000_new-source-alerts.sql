-- New-source alerts (see ../sqlite/20261203160000_new-source-alerts.sql).
CREATE TABLE token_sources (
    token_id BIGINT NOT NULL REFERENCES tokens (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('network', 'client')),
    source TEXT NOT NULL CHECK (length(source) <= 128),
    first_at BIGINT NOT NULL,
    PRIMARY KEY (token_id, kind, source)
);
ALTER TABLE tokens ADD COLUMN alert_new_sources BOOLEAN NOT NULL DEFAULT false;
UPDATE tokens SET alert_new_sources = true WHERE kind = 'company' AND NOT honeytoken;
