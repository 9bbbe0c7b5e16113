-- Accounts, sessions and the outbox (PostgreSQL).
--
-- Conventions shared with migrations/sqlite, which must describe the same
-- tables and columns:
--   * Times are BIGINT milliseconds since the Unix epoch, UTC. The zero
--     time.Time is stored as its own Unix value, -62135596800000, so SQL
--     comparisons agree with time.Time's and zero round-trips as zero.
--     (timestamptz would keep microseconds and needs care with the zero
--     time; plain integers behave the same in both dialects.)

-- +goose Up
CREATE TABLE accounts (
    id         TEXT    NOT NULL PRIMARY KEY,
    -- NULL when the account has no username; UNIQUE allows many NULLs.
    username   TEXT    UNIQUE,
    name       TEXT    NOT NULL,
    locale     TEXT    NOT NULL,
    disabled   BOOLEAN NOT NULL,
    created_at BIGINT  NOT NULL,
    updated_at BIGINT  NOT NULL
);

CREATE TABLE sessions (
    id           TEXT    NOT NULL PRIMARY KEY,
    -- SHA-256 of the cookie token; the token itself is never stored.
    token_hash   BYTEA   NOT NULL UNIQUE,
    account_id   TEXT    NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at   BIGINT  NOT NULL,
    last_seen_at BIGINT  NOT NULL,
    expires_at   BIGINT  NOT NULL,
    auth_time    BIGINT  NOT NULL,
    -- RFC 8176 method references joined by single spaces.
    amr          TEXT    NOT NULL,
    level        INTEGER NOT NULL,
    user_agent   TEXT    NOT NULL,
    ip           TEXT    NOT NULL
);

-- Listing an account's sessions, and the ON DELETE CASCADE lookup
-- (PostgreSQL does not index foreign keys by itself).
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
    created_at      BIGINT  NOT NULL,
    attempts        INTEGER NOT NULL,
    next_attempt_at BIGINT  NOT NULL,
    sent_at         BIGINT  NOT NULL,
    last_error      TEXT    NOT NULL
);

-- ClaimMessages: unsent (sent_at = zero) and due, oldest first.
CREATE INDEX messages_due ON messages (sent_at, next_attempt_at, created_at);
-- ListMessages.
CREATE INDEX messages_by_created ON messages (created_at);
CREATE INDEX messages_by_recipient ON messages (recipient, created_at);

-- +goose Down
DROP TABLE messages;
DROP TABLE sessions;
DROP TABLE accounts;
