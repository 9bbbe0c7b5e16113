package store

import (
	"context"
	"time"
)

// AuditEvent is one entry of the audit log: who (ActorKind, ActorID) did
// what (Kind) to whom (Subject, an account ID), on what (Target), with
// which Outcome, why (Reason, required of support), from where (IP,
// UserAgent, RequestID) and when (At). Package audit builds them; the
// store keeps them as they are.
//
// Secrets never reach the store: audit.Recorder strips them and masks
// national identity numbers and phone numbers before Append.
type AuditEvent struct {
	// ID is a random identifier, unique.
	ID string
	At time.Time
	// Kind is an audit.Kind ("login.succeeded").
	Kind string
	// ActorKind is "account", "support", "system", "operator" or
	// "anonymous"; ActorID names the account (for account and support),
	// the job (system) or the operator's login (operator), or is empty.
	ActorKind string
	ActorID   string
	// Subject is the account the event is about; empty when there is none
	// (a failed sign-in for an unknown identifier).
	Subject string
	// Target is what in the account the event touched (a masked address,
	// a factor's ID, a provider), or empty.
	Target string
	// Outcome is "ok", "denied" or "failed".
	Outcome   string
	Reason    string
	IP        string
	UserAgent string
	RequestID string
	// Data holds a few more facts (method, level, client); never nil
	// after a read.
	Data map[string]string
}

// AuditFilter narrows ListAuditEvents. Zero fields match everything.
type AuditFilter struct {
	// Subject is the account the events are about.
	Subject string
	// ActorKind and ActorID narrow to one actor (or kind of actor).
	ActorKind string
	ActorID   string
	// Kinds, when not empty, keeps only events of these kinds.
	Kinds []string
	// Since and Until bound At: Since <= At < Until.
	Since time.Time
	Until time.Time
	// Limit caps the events returned; 0 means 50, and more than 1000
	// means 1000.
	Limit int
	// Cursor continues a listing: the next cursor a previous call with
	// the same filter returned. Empty starts at the newest event.
	Cursor string
}

// AuditEventLimit is the most events one ListAuditEvents call returns.
const AuditEventLimit = 1000

// Audit stores the audit log. It is append-only: there is no call that
// changes or removes one event. The two exceptions are whole-log rules:
// retention (DeleteAuditEventsBefore) and the pseudonymisation of a
// deleted account's events (PseudonymiseAuditEvents), the only update
// path.
type Audit interface {
	// AppendAuditEvent inserts e. Returns ErrConflict if e.ID is taken.
	AppendAuditEvent(ctx context.Context, e AuditEvent) error
	// ListAuditEvents returns the events matching f, newest first (by At,
	// then by the order they were appended), and a cursor for the next
	// page, empty when there is none. The cursor is opaque; a malformed
	// one is ErrNotFound.
	ListAuditEvents(ctx context.Context, f AuditFilter) (events []AuditEvent, next string, err error)
	// DeleteAuditEventsBefore removes at most limit events older than
	// before (At < before), oldest first, and returns how many went. A
	// limit of 0 or less means 10,000. Callers loop until fewer than limit
	// went, so one call never holds the database long.
	DeleteAuditEventsBefore(ctx context.Context, before time.Time, limit int) (int, error)
	// PseudonymiseAuditEvents rewrites the events of a deleted account:
	// where Subject or ActorID is accountID it becomes pseudonym, and in
	// the events about the account (Subject) the personal fields (Target,
	// IP, UserAgent, Data) are emptied. Kind, At, Outcome, Reason and the
	// other actor stay, so "who did what, when" survives without the
	// person. Returns how many events changed.
	PseudonymiseAuditEvents(ctx context.Context, accountID, pseudonym string) (int, error)
}

// AccountSearch finds accounts by what support is told on the phone,
// for the console's exact-match search (an address is store.Emails'
// GetEmail, a username Accounts' GetAccountByUsername).
type AccountSearch interface {
	// FindAccountsByPhone returns the IDs of the accounts with a confirmed
	// second factor on that number (E.164), sorted; none is an empty list.
	// A number someone typed but never confirmed finds nothing.
	FindAccountsByPhone(ctx context.Context, phone string) ([]string, error)
}

// Roles stores the operator roles of accounts ("support", "admin"): a
// table of its own, so a role is never mistaken for a policy group
// (Account.Groups) and the holders of a role can be listed.
type Roles interface {
	// GrantRole gives the account the role; granting a role it holds is
	// not an error. Returns ErrNotFound if no such account exists.
	GrantRole(ctx context.Context, accountID, role string, at time.Time) error
	// RevokeRole takes the role away. Returns ErrNotFound if the account
	// did not hold it.
	RevokeRole(ctx context.Context, accountID, role string) error
	// ListRoles returns the account's roles, sorted.
	ListRoles(ctx context.Context, accountID string) ([]string, error)
	// ListRoleHolders returns the IDs of the accounts holding the role,
	// sorted.
	ListRoleHolders(ctx context.Context, role string) ([]string, error)
}
