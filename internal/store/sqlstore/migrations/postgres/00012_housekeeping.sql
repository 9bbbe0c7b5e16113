-- Housekeeping (postgres): the scheduler's job leases and what its garbage
-- collection needs (issue 10).
--
-- A job runs on the node that takes its lease; the lease lasts a period,
-- so on any number of nodes each job runs once per period. A node that
-- dies mid-run loses the job only until the lease ends.

-- +goose Up
CREATE TABLE job_leases (
    name     TEXT    NOT NULL PRIMARY KEY,
    -- The node that holds the lease (for the log; not a lock by itself).
    holder   TEXT    NOT NULL,
    until_at BIGINT NOT NULL
);

-- When a counter may be forgotten: its last failure plus its window, the
-- latest any rule asked for. Counters written before this migration keep
-- theirs (an account lock must never be collected by guess).
ALTER TABLE counters ADD COLUMN expires_at BIGINT NOT NULL DEFAULT 9223372036854775807;
CREATE INDEX counters_by_expiry ON counters (expires_at);
CREATE INDEX trusted_browsers_by_expiry ON trusted_browsers (expires_at);

-- +goose Down
DROP INDEX trusted_browsers_by_expiry;
DROP INDEX counters_by_expiry;
ALTER TABLE counters DROP COLUMN expires_at;
DROP TABLE job_leases;
