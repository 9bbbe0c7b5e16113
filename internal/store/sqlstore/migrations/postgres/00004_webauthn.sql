-- Security keys and passkeys (PostgreSQL).
--
-- Conventions are those of 00001_init.sql to 00003_factors.sql;
-- migrations/sqlite has the same tables, columns and indexes. In addition:
--   * The primary key is the credential ID the authenticator chose, a byte
--     string, so one credential is registered to at most one account.
--   * public_key and aaguid are NULL when empty.
--   * transports holds the transport hints ("usb", "nfc", "internal", …)
--     separated by single spaces, '' for none.
--   * Everything that belongs to an account goes with it: ON DELETE CASCADE.

-- +goose Up
CREATE TABLE webauthn_credentials (
    id               BYTEA   NOT NULL PRIMARY KEY,
    account_id       TEXT    NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- The user's label.
    name             TEXT    NOT NULL,
    -- COSE_Key of the credential; public, not a secret.
    public_key       BYTEA,
    attestation_type TEXT    NOT NULL,
    aaguid           BYTEA,
    -- Last signature counter seen (0 to 2^32-1).
    sign_count       BIGINT  NOT NULL CHECK (sign_count BETWEEN 0 AND 4294967295),
    transports       TEXT    NOT NULL,
    discoverable     BOOLEAN NOT NULL,
    backup_eligible  BOOLEAN NOT NULL,
    backup_state     BOOLEAN NOT NULL,
    -- Set once the counter went backwards (a cloned authenticator?).
    clone_warning    BOOLEAN NOT NULL,
    created_at       BIGINT  NOT NULL,
    last_used_at     BIGINT  NOT NULL
);

-- ListWebAuthnCredentials, and the ON DELETE CASCADE lookup.
CREATE INDEX webauthn_credentials_by_account ON webauthn_credentials (account_id, created_at);

-- +goose Down
DROP TABLE webauthn_credentials;
