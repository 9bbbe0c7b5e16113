-- Email addresses, passwords, self-service flows and failure counters
-- (PostgreSQL).
--
-- Conventions are those of 00001_init.sql; migrations/sqlite has the same
-- tables, columns and indexes. In addition:
--   * Optional values are NULL rather than empty, so that UNIQUE ignores
--     them: flows.account_id, flows.browser_hash, flows.code_hash and
--     flows.link_hash.
--   * Everything that belongs to an account goes with it: ON DELETE CASCADE.

-- +goose Up
CREATE TABLE emails (
    -- The address lower-cased (by the store, in Go, the same way for both
    -- dialects); uniqueness and lookups go through it, across all accounts.
    address_key TEXT    NOT NULL PRIMARY KEY,
    -- The address as given.
    address     TEXT    NOT NULL,
    account_id  TEXT    NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    is_primary  BOOLEAN NOT NULL,
    verified_at BIGINT  NOT NULL,
    created_at  BIGINT  NOT NULL
);

-- ListEmails, and the ON DELETE CASCADE lookup.
CREATE INDEX emails_by_account ON emails (account_id, created_at);
-- At most one primary address per account.
CREATE UNIQUE INDEX emails_one_primary ON emails (account_id) WHERE is_primary;

CREATE TABLE passwords (
    account_id TEXT   NOT NULL PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    -- PHC string or imported bcrypt hash.
    hash       TEXT   NOT NULL,
    -- Earlier hashes, newest first, as a JSON array of strings.
    history    TEXT   NOT NULL,
    changed_at BIGINT NOT NULL
);

CREATE TABLE flows (
    id           TEXT    NOT NULL PRIMARY KEY,
    kind         TEXT    NOT NULL,
    -- SHA-256 of the browser-binding cookie; NULL for API flows.
    browser_hash BYTEA,
    -- NULL while the flow has no account (a sign-up, an unknown identifier).
    account_id   TEXT    REFERENCES accounts (id) ON DELETE CASCADE,
    email        TEXT    NOT NULL,
    state        TEXT    NOT NULL,
    -- Digests of the one-time code and the emailed link; NULL when none.
    code_hash    BYTEA,
    link_hash    BYTEA   UNIQUE,
    attempts     INTEGER NOT NULL,
    sends        INTEGER NOT NULL,
    last_sent_at BIGINT  NOT NULL,
    -- Server-only JSON defined by the flow kind.
    data         TEXT    NOT NULL,
    created_at   BIGINT  NOT NULL,
    expires_at   BIGINT  NOT NULL,
    consumed_at  BIGINT  NOT NULL
);

-- DeleteAccountFlows, and the ON DELETE CASCADE lookup.
CREATE INDEX flows_by_account ON flows (account_id, kind);
-- DeleteExpiredFlows.
CREATE INDEX flows_by_expiry ON flows (expires_at);

CREATE TABLE counters (
    -- The counter's key ("login:kari", "ip:192.0.2.7", …).
    name            TEXT    NOT NULL PRIMARY KEY,
    failures        INTEGER NOT NULL,
    last_failure_at BIGINT  NOT NULL
);

-- +goose Down
DROP TABLE counters;
DROP TABLE flows;
DROP TABLE passwords;
DROP TABLE emails;
