-- Upstream identities linked to accounts (sqlite). An identity is keyed by
-- (provider, subject), never by an address: subject is the upstream's
-- subject, or for a provider whose subject is pairwise (ID-porten) a keyed
-- hash of the national identity number, which is kept sealed beside a
-- masked form to show. A person's identity at one provider is linked to
-- one account at a time; moving it is an update of account_id.
--
-- A session through an upstream keeps the upstream's ID token, sealed,
-- only for RP-initiated logout at the upstream (ID-porten) when the user
-- signs out.

-- +goose Up
CREATE TABLE federated_identities (
    provider           TEXT    NOT NULL,
    subject            TEXT    NOT NULL,
    account_id         TEXT    NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    email              TEXT    NOT NULL DEFAULT '',
    national_id_masked TEXT    NOT NULL DEFAULT '',
    national_id_sealed BLOB,
    linked_at          INTEGER NOT NULL,
    last_used_at       INTEGER NOT NULL,
    PRIMARY KEY (provider, subject)
);
CREATE INDEX federated_identities_account ON federated_identities (account_id);
ALTER TABLE sessions ADD COLUMN via_id_token BLOB;

-- +goose Down
ALTER TABLE sessions DROP COLUMN via_id_token;
DROP TABLE federated_identities;
