-- Sessions and devices, the account lifecycle (issue 15, postgres).
--
-- * accounts.last_active_at is the account's last sign-in, what the
--   inactivity lifecycle measures from; the zero time's value (accounts
--   made after this migration that never signed in) reads as "since it was
--   created". Existing accounts start from their newest session or their
--   last change, whichever is later.
-- * accounts.inactivity_warnings counts the warnings sent since the last
--   sign-in (a sign-in resets it), inactivity_warned_at is when the last
--   one went: a run marks a warning before it mails it, with a compare and
--   set, so the same warning never goes twice, on any number of nodes.
-- * accounts.deletion_requested_at / deletion_due_at: the user asked to
--   delete the account; it is deleted at deletion_due_at unless they sign
--   in before. Zero: nothing is scheduled.
-- * trusted_browsers.last_used_at: when the remembered browser last
--   skipped the second step (its created_at until then).
-- * known_devices: the browsers (their long-lived marker cookie, as a
--   digest) an account signed in from; a sign-in from one not listed is a
--   new device and mails the user.

-- +goose Up
ALTER TABLE accounts ADD COLUMN last_active_at BIGINT NOT NULL DEFAULT -62135596800000;
ALTER TABLE accounts ADD COLUMN inactivity_warnings BIGINT NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN inactivity_warned_at BIGINT NOT NULL DEFAULT -62135596800000;
ALTER TABLE accounts ADD COLUMN deletion_requested_at BIGINT NOT NULL DEFAULT -62135596800000;
ALTER TABLE accounts ADD COLUMN deletion_due_at BIGINT NOT NULL DEFAULT -62135596800000;
UPDATE accounts SET last_active_at = GREATEST(updated_at,
    COALESCE((SELECT MAX(last_seen_at) FROM sessions WHERE sessions.account_id = accounts.id), updated_at));
-- The lifecycle's scans: idle accounts, due deletions.
CREATE INDEX accounts_by_last_active ON accounts (last_active_at);
CREATE INDEX accounts_by_deletion_due ON accounts (deletion_due_at);

ALTER TABLE trusted_browsers ADD COLUMN last_used_at BIGINT NOT NULL DEFAULT -62135596800000;
UPDATE trusted_browsers SET last_used_at = created_at;

CREATE TABLE known_devices (
    account_id    TEXT    NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- Digest of the browser's marker cookie; the cookie itself is never stored.
    device_hash   BYTEA   NOT NULL,
    user_agent    TEXT    NOT NULL,
    ip            TEXT    NOT NULL,
    first_seen_at BIGINT  NOT NULL,
    last_seen_at  BIGINT  NOT NULL,
    PRIMARY KEY (account_id, device_hash)
);
-- Forgetting devices not seen for long.
CREATE INDEX known_devices_by_last_seen ON known_devices (last_seen_at);

-- +goose Down
DROP TABLE known_devices;
ALTER TABLE trusted_browsers DROP COLUMN last_used_at;
DROP INDEX accounts_by_deletion_due;
DROP INDEX accounts_by_last_active;
ALTER TABLE accounts DROP COLUMN deletion_due_at;
ALTER TABLE accounts DROP COLUMN deletion_requested_at;
ALTER TABLE accounts DROP COLUMN inactivity_warned_at;
ALTER TABLE accounts DROP COLUMN inactivity_warnings;
ALTER TABLE accounts DROP COLUMN last_active_at;
