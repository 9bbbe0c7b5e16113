-- The OpenID Provider: clients, authorization requests, grants and their
-- tokens, signing keys and consents (PostgreSQL).
--
-- Conventions are those of 00001_init.sql to 00004_webauthn.sql;
-- migrations/sqlite has the same tables, columns and indexes. In addition:
--   * Lists (URIs, scopes, grant types, AMR values, prompt values) are
--     stored joined by single spaces, '' for none; their values never
--     contain white space.
--   * Durations are milliseconds.
--   * client_id columns have no foreign key, because clients may come from
--     the configuration file as well as from oidc_clients; DeleteClient
--     removes what belongs to a client. Everything that belongs to an
--     account goes with it (ON DELETE CASCADE), and tokens go with their
--     grant.
--   * A grant is revoked by setting revoked_at, which kills its tokens
--     (the lookups join the grant); a replayed code or refresh token
--     revokes its grant.

-- +goose Up
CREATE TABLE oidc_clients (
    id                        TEXT    NOT NULL PRIMARY KEY,
    -- SHA-256 of the client secret; NULL for a public client.
    secret_hash               BYTEA,
    name                      TEXT    NOT NULL,
    redirect_uris             TEXT    NOT NULL,
    post_logout_redirect_uris TEXT    NOT NULL,
    public                    BOOLEAN NOT NULL,
    third_party               BOOLEAN NOT NULL,
    pkce_optional             BOOLEAN NOT NULL,
    grant_types               TEXT    NOT NULL,
    scopes                    TEXT    NOT NULL,
    -- 'ES256' or 'RS256'.
    signing_alg               TEXT    NOT NULL,
    -- 'opaque', 'jwt' or '' for the provider's default.
    access_token_format       TEXT    NOT NULL,
    -- Milliseconds; 0 for the provider's default.
    access_token_ttl          BIGINT  NOT NULL,
    refresh_token_ttl         BIGINT  NOT NULL,
    backchannel_logout_uri    TEXT    NOT NULL,
    created_at                BIGINT  NOT NULL
);

CREATE TABLE oidc_auth_requests (
    id                    TEXT    NOT NULL PRIMARY KEY,
    client_id             TEXT    NOT NULL,
    redirect_uri          TEXT    NOT NULL,
    scopes                TEXT    NOT NULL,
    state                 TEXT    NOT NULL,
    nonce                 TEXT    NOT NULL,
    code_challenge        TEXT    NOT NULL,
    code_challenge_method TEXT    NOT NULL,
    response_mode         TEXT    NOT NULL,
    prompt                TEXT    NOT NULL,
    -- Seconds; -1 when the request had no max_age.
    max_age               BIGINT  NOT NULL,
    acr_values            TEXT    NOT NULL,
    acr_essential         BOOLEAN NOT NULL,
    ui_locales            TEXT    NOT NULL,
    login_hint            TEXT    NOT NULL,
    hint_subject          TEXT    NOT NULL,
    done                  BOOLEAN NOT NULL,
    -- NULL until the request is done.
    account_id            TEXT    REFERENCES accounts (id) ON DELETE CASCADE,
    session_id            TEXT    NOT NULL,
    auth_time             BIGINT  NOT NULL,
    amr                   TEXT    NOT NULL,
    acr                   TEXT    NOT NULL,
    -- The OAuth error the request ended with, '' for none.
    error                 TEXT    NOT NULL,
    -- SHA-256 of the code; NULL until a code is issued.
    code_hash             BYTEA   UNIQUE,
    code_expires_at       BIGINT  NOT NULL,
    -- '' until the code is redeemed.
    grant_id              TEXT    NOT NULL,
    created_at            BIGINT  NOT NULL,
    expires_at            BIGINT  NOT NULL
);

-- DeleteExpiredOIDC.
CREATE INDEX oidc_auth_requests_by_expiry ON oidc_auth_requests (expires_at);
-- DeleteClient, and the ON DELETE CASCADE lookup.
CREATE INDEX oidc_auth_requests_by_client ON oidc_auth_requests (client_id);
CREATE INDEX oidc_auth_requests_by_account ON oidc_auth_requests (account_id);

CREATE TABLE oidc_grants (
    id         TEXT    NOT NULL PRIMARY KEY,
    -- No foreign key: clients may come from the configuration file.
    client_id  TEXT    NOT NULL,
    account_id TEXT    NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    session_id TEXT    NOT NULL,
    scopes     TEXT    NOT NULL,
    auth_time  BIGINT  NOT NULL,
    amr        TEXT    NOT NULL,
    acr        TEXT    NOT NULL,
    created_at BIGINT  NOT NULL,
    expires_at BIGINT  NOT NULL,
    -- The zero time's value while the grant is live.
    revoked_at BIGINT  NOT NULL
);

-- ListGrants and RevokeGrants by account (and client), and the ON DELETE
-- CASCADE lookup.
CREATE INDEX oidc_grants_by_account ON oidc_grants (account_id, client_id);
CREATE INDEX oidc_grants_by_client ON oidc_grants (client_id);
CREATE INDEX oidc_grants_by_session ON oidc_grants (session_id);
CREATE INDEX oidc_grants_by_expiry ON oidc_grants (expires_at);

CREATE TABLE oidc_access_tokens (
    id         TEXT    NOT NULL PRIMARY KEY,
    -- NULL for the client credentials grant.
    grant_id   TEXT    REFERENCES oidc_grants (id) ON DELETE CASCADE,
    client_id  TEXT    NOT NULL,
    subject    TEXT    NOT NULL,
    scopes     TEXT    NOT NULL,
    audience   TEXT    NOT NULL,
    created_at BIGINT  NOT NULL,
    expires_at BIGINT  NOT NULL
);

CREATE INDEX oidc_access_tokens_by_grant ON oidc_access_tokens (grant_id);
CREATE INDEX oidc_access_tokens_by_expiry ON oidc_access_tokens (expires_at);

CREATE TABLE oidc_refresh_tokens (
    -- SHA-256 of the token; the token itself is never stored.
    hash       BYTEA   NOT NULL PRIMARY KEY,
    grant_id   TEXT    NOT NULL REFERENCES oidc_grants (id) ON DELETE CASCADE,
    scopes     TEXT    NOT NULL,
    created_at BIGINT  NOT NULL,
    expires_at BIGINT  NOT NULL,
    -- The zero time's value while the token is unused.
    used_at    BIGINT  NOT NULL
);

CREATE INDEX oidc_refresh_tokens_by_grant ON oidc_refresh_tokens (grant_id);
CREATE INDEX oidc_refresh_tokens_by_expiry ON oidc_refresh_tokens (expires_at);

-- Revoked self-contained tokens (JWT IDs), kept until they expire.
CREATE TABLE oidc_revoked_tokens (
    id         TEXT    NOT NULL PRIMARY KEY,
    expires_at BIGINT  NOT NULL
);

CREATE INDEX oidc_revoked_tokens_by_expiry ON oidc_revoked_tokens (expires_at);

CREATE TABLE oidc_signing_keys (
    id          TEXT    NOT NULL PRIMARY KEY,
    alg         TEXT    NOT NULL,
    -- PKCS #8, sealed with the server's key.
    private_key BYTEA   NOT NULL,
    -- PKIX DER.
    public_key  BYTEA   NOT NULL,
    created_at  BIGINT  NOT NULL,
    active_from BIGINT  NOT NULL,
    -- The zero time's value while the key may sign / is not retired.
    retired_at  BIGINT  NOT NULL,
    expires_at  BIGINT  NOT NULL
);

CREATE TABLE oidc_consents (
    account_id TEXT    NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    client_id  TEXT    NOT NULL,
    scopes     TEXT    NOT NULL,
    granted_at BIGINT  NOT NULL,
    -- Also ListConsents' lookup and the ON DELETE CASCADE one.
    PRIMARY KEY (account_id, client_id)
);

-- DeleteClient.
CREATE INDEX oidc_consents_by_client ON oidc_consents (client_id);

-- +goose Down
DROP TABLE oidc_consents;
DROP TABLE oidc_signing_keys;
DROP TABLE oidc_revoked_tokens;
DROP TABLE oidc_refresh_tokens;
DROP TABLE oidc_access_tokens;
DROP TABLE oidc_grants;
DROP TABLE oidc_auth_requests;
DROP TABLE oidc_clients;
