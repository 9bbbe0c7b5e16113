-- Representation (sqlite): an agent account may act on behalf of a
-- principal: another account (which accepts), a person without an account
-- such as a child (recorded by a guardian), or an organisation. A
-- principal is identified by principal_ref ("acct:<id>", "nid:<keyed hash
-- of the national identity number>", "dob:<keyed hash>", "org:<number>"):
-- a national identity number is never stored in clear, only sealed for
-- the tokens of apps that ask for it, and masked to show. An agent has at
-- most one delegation not revoked per principal.
--
-- A session remembers whom the person chose to act for (acting_for: ''
-- not asked yet, 'self', or a delegation ID), and a grant the choice at
-- the time it was made, so that its tokens keep speaking for the same
-- party; both are checked against the delegation on every use.

-- +goose Up
CREATE TABLE delegations (
    id                   TEXT    PRIMARY KEY,
    agent_id             TEXT    NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    principal_kind       TEXT    NOT NULL,
    principal_ref        TEXT    NOT NULL,
    principal_account_id TEXT    REFERENCES accounts (id) ON DELETE CASCADE,
    principal_name       TEXT    NOT NULL DEFAULT '',
    principal_masked     TEXT    NOT NULL DEFAULT '',
    principal_sealed     BLOB,
    rights               TEXT    NOT NULL DEFAULT '',
    created_by           TEXT    NOT NULL DEFAULT '',
    created_at           INTEGER NOT NULL,
    expires_at           INTEGER NOT NULL,
    accepted_at          INTEGER NOT NULL,
    approval_required    INTEGER NOT NULL DEFAULT 0,
    approved_at          INTEGER NOT NULL,
    approved_by          TEXT    NOT NULL DEFAULT '',
    revoked_at           INTEGER NOT NULL,
    revoked_by           TEXT    NOT NULL DEFAULT '',
    accept_hash          BLOB
);
CREATE INDEX delegations_agent ON delegations (agent_id, created_at);
CREATE INDEX delegations_principal_account ON delegations (principal_account_id);
CREATE INDEX delegations_principal_ref ON delegations (principal_ref);
CREATE UNIQUE INDEX delegations_standing ON delegations (agent_id, principal_ref) WHERE revoked_at = -62135596800000;
ALTER TABLE sessions ADD COLUMN acting_for TEXT NOT NULL DEFAULT '';
ALTER TABLE oidc_grants ADD COLUMN acting_for TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE oidc_grants DROP COLUMN acting_for;
ALTER TABLE sessions DROP COLUMN acting_for;
DROP TABLE delegations;
