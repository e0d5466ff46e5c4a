-- The `tessera serve` instances sharing this database (see ../postgres/20261202200000_instances.sql).
-- On SQLite one server owns the file, so the table stays empty; it exists so both schemas agree.
CREATE TABLE instances (
    id      TEXT PRIMARY KEY NOT NULL,
    seen_at INTEGER NOT NULL
);
