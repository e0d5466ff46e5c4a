-- PostgreSQL partitions usage_events by day (../postgres/20261203010000_usage-partitions.sql).
-- SQLite has no partitions: one table, pruned by deleting rows. Nothing changes here; the
-- file keeps both folders at the same version.
SELECT 1;
