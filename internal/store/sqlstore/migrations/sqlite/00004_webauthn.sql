-- Security keys and passkeys (SQLite).
--
-- Conventions are those of 00001_init.sql to 00003_factors.sql;
-- migrations/postgres has the same tables, columns and indexes. In
-- addition:
--   * The primary key is the credential ID the authenticator chose, a byte
--     string, so one credential is registered to at most one account.
--   * public_key and aaguid are NULL when empty.
--   * transports holds the transport hints ("usb", "nfc", "internal", …)
--     separated by single spaces, '' for none.
--   * Everything that belongs to an account goes with it: ON DELETE CASCADE.

-- +goose Up
CREATE TABLE webauthn_credentials (
    id               BLOB    NOT NULL PRIMARY KEY,
    account_id       TEXT    NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- The user's label.
    name             TEXT    NOT NULL,
    -- COSE_Key of the credential; public, not a secret.
    public_key       BLOB,
    attestation_type TEXT    NOT NULL,
    aaguid           BLOB,
    -- Last signature counter seen (0 to 2^32-1).
    sign_count       INTEGER NOT NULL CHECK (sign_count BETWEEN 0 AND 4294967295),
    transports       TEXT    NOT NULL,
    discoverable     INTEGER NOT NULL CHECK (discoverable IN (0, 1)),
    backup_eligible  INTEGER NOT NULL CHECK (backup_eligible IN (0, 1)),
    backup_state     INTEGER NOT NULL CHECK (backup_state IN (0, 1)),
    -- Set once the counter went backwards (a cloned authenticator?).
    clone_warning    INTEGER NOT NULL CHECK (clone_warning IN (0, 1)),
    created_at       INTEGER NOT NULL,
    last_used_at     INTEGER NOT NULL
) STRICT;

-- ListWebAuthnCredentials, and the ON DELETE CASCADE lookup.
CREATE INDEX webauthn_credentials_by_account ON webauthn_credentials (account_id, created_at);

-- +goose Down
DROP TABLE webauthn_credentials;
