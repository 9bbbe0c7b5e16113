-- Second factors, recovery codes and trusted browsers (PostgreSQL).
--
-- Conventions are those of 00001_init.sql and 00002_accounts.sql;
-- migrations/sqlite has the same tables, columns and indexes. In addition:
--   * factors.secret is NULL when the factor has none (SMS).
--   * recovery_codes.used_at holds the zero time's value while the code is
--     unused, like messages.sent_at and flows.consumed_at.
--   * Everything that belongs to an account goes with it: ON DELETE CASCADE.

-- +goose Up
CREATE TABLE factors (
    id           TEXT   NOT NULL PRIMARY KEY,
    account_id   TEXT   NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- 'totp' or 'sms'.
    kind         TEXT   NOT NULL,
    -- The user's label.
    name         TEXT   NOT NULL,
    -- TOTP seed sealed with the server's key; NULL when none.
    secret       BYTEA,
    -- E.164 number of an SMS factor, '' for other kinds.
    phone        TEXT   NOT NULL,
    -- Last TOTP time step accepted (replay guard).
    last_step    BIGINT NOT NULL,
    -- The zero time's value until the factor is confirmed.
    confirmed_at BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT NOT NULL
);

-- ListFactors, and the ON DELETE CASCADE lookup.
CREATE INDEX factors_by_account ON factors (account_id, created_at);
-- A phone is confirmed as an SMS factor at most once per account
-- (-62135596800000 is the zero time: not confirmed).
CREATE UNIQUE INDEX factors_one_confirmed_phone ON factors (account_id, phone)
    WHERE kind = 'sms' AND confirmed_at <> -62135596800000;

CREATE TABLE recovery_codes (
    account_id TEXT   NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- Digest of the code; the code itself is never stored.
    hash       BYTEA  NOT NULL,
    created_at BIGINT NOT NULL,
    -- The zero time's value while the code is unused.
    used_at    BIGINT NOT NULL,
    -- Also the lookup of UseRecoveryCode and CountRecoveryCodes, and of the
    -- ON DELETE CASCADE.
    PRIMARY KEY (account_id, hash)
);

CREATE TABLE trusted_browsers (
    id         TEXT   NOT NULL PRIMARY KEY,
    account_id TEXT   NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- Digest of the cookie token; the token itself is never stored.
    token_hash BYTEA  NOT NULL UNIQUE,
    user_agent TEXT   NOT NULL,
    ip         TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

-- ListTrustedBrowsers, DeleteTrustedBrowsers, and the ON DELETE CASCADE
-- lookup.
CREATE INDEX trusted_browsers_by_account ON trusted_browsers (account_id, created_at);

-- +goose Down
DROP TABLE trusted_browsers;
DROP TABLE recovery_codes;
DROP TABLE factors;
