-- The audit log and operator roles (sqlite), issue 15.
--
-- audit_events is append-only: the store has no statement that changes
-- one event, except the pseudonymisation of a deleted account's events
-- (subject and actor_id rewritten, personal fields emptied) and the
-- retention's delete of old events. No foreign key ties an event to an
-- account, so the events outlive it.
--
-- seq is the order of appending; listings go newest first by (at, seq),
-- and a cursor is the (at, seq) of the last event shown. The indexes serve
-- "the newest events of one account" (subject), "what this support user
-- did" (actor_id), one kind, and the whole log by time (retention, export).

-- +goose Up
CREATE TABLE audit_events (
    seq        INTEGER PRIMARY KEY,
    id         TEXT    NOT NULL UNIQUE,
    at         INTEGER NOT NULL,
    kind       TEXT    NOT NULL,
    actor_kind TEXT    NOT NULL,
    actor_id   TEXT    NOT NULL DEFAULT '',
    subject    TEXT    NOT NULL DEFAULT '',
    target     TEXT    NOT NULL DEFAULT '',
    outcome    TEXT    NOT NULL,
    reason     TEXT    NOT NULL DEFAULT '',
    ip         TEXT    NOT NULL DEFAULT '',
    user_agent TEXT    NOT NULL DEFAULT '',
    request_id TEXT    NOT NULL DEFAULT '',
    -- JSON object of strings.
    data       TEXT    NOT NULL DEFAULT '{}'
) STRICT;
CREATE INDEX audit_events_by_subject ON audit_events (subject, at, seq);
CREATE INDEX audit_events_by_actor ON audit_events (actor_id, at, seq);
CREATE INDEX audit_events_by_kind ON audit_events (kind, at, seq);
CREATE INDEX audit_events_by_at ON audit_events (at, seq);

-- Operator roles ("support", "admin"), apart from policy groups.
CREATE TABLE account_roles (
    account_id TEXT    NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    role       TEXT    NOT NULL,
    granted_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, role)
) STRICT;
CREATE INDEX account_roles_by_role ON account_roles (role, account_id);

-- The console's search by phone number (exact match).
CREATE INDEX factors_by_phone ON factors (phone);

-- +goose Down
DROP INDEX factors_by_phone;
DROP TABLE account_roles;
DROP TABLE audit_events;
