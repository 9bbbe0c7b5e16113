-- Groups and a per-account second-factor requirement (PostgreSQL).
--
-- groups holds the account's group names separated by single spaces, ''
-- for none; mfa_required forces a second factor (set one up at the next
-- sign-in) whatever mfa.mode says.

-- +goose Up
ALTER TABLE accounts ADD COLUMN groups TEXT NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN mfa_required BOOLEAN NOT NULL DEFAULT false;

-- +goose Down
ALTER TABLE accounts DROP COLUMN mfa_required;
ALTER TABLE accounts DROP COLUMN groups;
