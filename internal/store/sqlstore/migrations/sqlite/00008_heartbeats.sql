-- Readiness heartbeats (SQLite).
--
-- /readyz proves that the database takes writes by upserting this node's
-- row; a read-only file, a full disk or a stalled database then fails the
-- check instead of every sign-in. Rows of nodes gone for a day are pruned
-- by the same check.

-- +goose Up
CREATE TABLE heartbeats (
    node    TEXT PRIMARY KEY,
    beat_at INTEGER NOT NULL
);

-- +goose Down
DROP TABLE heartbeats;
