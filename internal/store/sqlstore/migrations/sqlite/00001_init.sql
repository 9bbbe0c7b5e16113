-- Accounts, sessions and the outbox (SQLite).
--
-- Conventions shared with migrations/postgres, which must describe the same
-- tables and columns:
--   * Times are INTEGER milliseconds since the Unix epoch, UTC. The zero
--     time.Time is stored as its own Unix value, -62135596800000, so SQL
--     comparisons agree with time.Time's and zero round-trips as zero.
--   * Booleans are INTEGER 0 or 1.
--   * Tables are STRICT, so a value of the wrong type is an error rather
--     than silently stored.

-- +goose Up
CREATE TABLE accounts (
    id         TEXT    NOT NULL PRIMARY KEY,
    -- NULL when the account has no username; UNIQUE allows many NULLs.
    username   TEXT    UNIQUE,
    name       TEXT    NOT NULL,
    locale     TEXT    NOT NULL,
    disabled   INTEGER NOT NULL CHECK (disabled IN (0, 1)),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE sessions (
    id           TEXT    NOT NULL PRIMARY KEY,
    -- SHA-256 of the cookie token; the token itself is never stored.
    token_hash   BLOB    NOT NULL UNIQUE,
    account_id   TEXT    NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    auth_time    INTEGER NOT NULL,
    -- RFC 8176 method references joined by single spaces.
    amr          TEXT    NOT NULL,
    level        INTEGER NOT NULL,
    user_agent   TEXT    NOT NULL,
    ip           TEXT    NOT NULL
) STRICT;

-- Listing an account's sessions, and the ON DELETE CASCADE lookup.
CREATE INDEX sessions_by_account ON sessions (account_id, created_at);
-- DeleteExpiredSessions.
CREATE INDEX sessions_by_expiry ON sessions (expires_at);
CREATE INDEX sessions_by_last_seen ON sessions (last_seen_at);

CREATE TABLE messages (
    id              TEXT    NOT NULL PRIMARY KEY,
    channel         TEXT    NOT NULL,
    recipient       TEXT    NOT NULL,
    subject         TEXT    NOT NULL,
    body_text       TEXT    NOT NULL,
    body_html       TEXT    NOT NULL,
    locale          TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    attempts        INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    sent_at         INTEGER NOT NULL,
    last_error      TEXT    NOT NULL
) STRICT;

-- ClaimMessages: unsent (sent_at = zero) and due, oldest first.
CREATE INDEX messages_due ON messages (sent_at, next_attempt_at, created_at);
-- ListMessages.
CREATE INDEX messages_by_created ON messages (created_at);
CREATE INDEX messages_by_recipient ON messages (recipient, created_at);

-- +goose Down
DROP TABLE messages;
DROP TABLE sessions;
DROP TABLE accounts;
