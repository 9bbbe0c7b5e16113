-- What a session's last authentication proved, and when the last full one
-- (a sign-in or re-authentication, not a step-up) was, in milliseconds (PostgreSQL): the authn
-- methods used (space-separated, '' for none known) and the upstream it
-- came through, with the upstream's own acr and amr (space-separated).
-- Rows made before this migration read as "methods unknown", which the
-- assurance model treats as not a full sign-in.

-- +goose Up
ALTER TABLE sessions ADD COLUMN methods TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN via_upstream TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN via_acr TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN via_amr TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN full_auth_time BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE sessions DROP COLUMN full_auth_time;
ALTER TABLE sessions DROP COLUMN via_amr;
ALTER TABLE sessions DROP COLUMN via_acr;
ALTER TABLE sessions DROP COLUMN via_upstream;
ALTER TABLE sessions DROP COLUMN methods;
