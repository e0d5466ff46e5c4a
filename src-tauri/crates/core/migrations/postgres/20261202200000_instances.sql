-- The `tessera serve` instances on this database. Each renews its row every second and counts
-- the rows renewed in the last few seconds, so that it enforces its share of every token's rate
-- limit (the limit divided by the live instances) and N instances together admit about the
-- limit, not N times it. Unlogged: the rows are worth nothing after a crash.
CREATE UNLOGGED TABLE instances (
    id      TEXT PRIMARY KEY NOT NULL,
    seen_at BIGINT NOT NULL
);
