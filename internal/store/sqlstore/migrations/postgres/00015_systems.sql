-- Rights, organisations and end-user systems (postgres, issue 14).
--
-- A system's secret is stored as its SHA-256 only (it is 256 random
-- bits, shown once); a system with a key keeps the public JWK. Revoking a
-- system revokes the grants issued through it: their client_id is the
-- system's ID (oidc_grants has no foreign key on client_id).

-- +goose Up
CREATE TABLE organisations (
    id         TEXT    NOT NULL PRIMARY KEY,
    name       TEXT    NOT NULL,
    created_at BIGINT  NOT NULL
);

CREATE TABLE org_members (
    org_id     TEXT    NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    account_id TEXT    NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    role       TEXT    NOT NULL,
    -- Space-separated right names.
    rights     TEXT    NOT NULL,
    added_at   BIGINT  NOT NULL,
    updated_at BIGINT  NOT NULL,
    PRIMARY KEY (org_id, account_id)
);
CREATE INDEX org_members_by_account ON org_members (account_id);

CREATE TABLE account_rights (
    account_id TEXT    NOT NULL PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    rights     TEXT    NOT NULL
);

CREATE TABLE systems (
    id            TEXT    NOT NULL PRIMARY KEY,
    owner_account TEXT    NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- '' for a person's own system.
    org_id        TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    secret_hash   BYTEA,
    public_key    TEXT    NOT NULL,
    rights        TEXT    NOT NULL,
    created_at    BIGINT  NOT NULL,
    rotated_at    BIGINT  NOT NULL,
    expires_at    BIGINT  NOT NULL,
    revoked_at    BIGINT  NOT NULL,
    last_used_at  BIGINT  NOT NULL
);
CREATE INDEX systems_by_owner ON systems (owner_account, org_id);
CREATE INDEX systems_by_org ON systems (org_id);

CREATE TABLE system_login_allowed (
    account_id TEXT    NOT NULL PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    allowed    BIGINT  NOT NULL,
    changed_at BIGINT  NOT NULL
);

-- +goose Down
DROP TABLE system_login_allowed;
DROP TABLE systems;
DROP TABLE account_rights;
DROP TABLE org_members;
DROP TABLE organisations;
