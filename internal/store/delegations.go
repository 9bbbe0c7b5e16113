package store

import (
	"context"
	"time"
)

// Kinds of represented party (Delegation.PrincipalKind).
const (
	// PrincipalAccount is another account, which must accept.
	PrincipalAccount = "account"
	// PrincipalPerson is a person without an account, such as a child,
	// recorded by the agent (a guardian).
	PrincipalPerson = "person"
	// PrincipalOrganisation is an organisation (its number in
	// PrincipalRef, "org:<number>").
	PrincipalOrganisation = "organisation"
)

// Delegation says that one account (the agent) may act on behalf of
// another party (the principal): another account, a person without an
// account (a child), or an organisation. It is in force (Active) when it
// is accepted (an account principal said yes), approved (where the
// operator requires approval of persons without an account), not revoked
// and not expired.
type Delegation struct {
	ID string
	// AgentID is the account that acts.
	AgentID string
	// PrincipalKind is PrincipalAccount, PrincipalPerson or
	// PrincipalOrganisation.
	PrincipalKind string
	// PrincipalRef identifies the principal, unique per agent among
	// delegations not revoked: "acct:<account id>" for an account,
	// "nid:<keyed hash of the national identity number>" for a person
	// with one, "dob:<keyed hash of name and birth date>" for a person
	// with a birth date only, "org:<number>" for an organisation. It
	// never holds a national identity number in clear.
	PrincipalRef string
	// PrincipalAccountID is the account represented (kind account), else
	// empty.
	PrincipalAccountID string
	// PrincipalName is the name shown for the principal.
	PrincipalName string
	// PrincipalMasked shows the principal's national identity number
	// masked ("010120 •••••") or the birth date ("2020-01-01"); empty for
	// an account.
	PrincipalMasked string
	// PrincipalSealed is the national identity number sealed
	// (secret.Sealer, bound to the delegation ID), or nil.
	PrincipalSealed []byte
	// Rights are the named rights the agent may use for the principal.
	Rights []string
	// CreatedBy is the account that recorded the delegation.
	CreatedBy string
	CreatedAt time.Time
	// ExpiresAt is zero for no end.
	ExpiresAt time.Time
	// AcceptedAt is when an account principal accepted; for a person
	// without an account it is CreatedAt.
	AcceptedAt time.Time
	// ApprovalRequired says an operator must approve it before it is in
	// force; ApprovedAt is when one did (ApprovedBy names them).
	ApprovalRequired bool
	ApprovedAt       time.Time
	ApprovedBy       string
	// RevokedAt is zero while the delegation stands; RevokedBy is the
	// account (or "admin") that ended it, or declined it.
	RevokedAt time.Time
	RevokedBy string
	// AcceptHash is the SHA-256 of the token in the mail that lets an
	// account principal accept; nil once used or for other kinds.
	AcceptHash []byte
}

// Active reports whether d is in force at now: accepted, approved where
// required, not revoked and not expired.
func (d Delegation) Active(now time.Time) bool {
	return !d.AcceptedAt.IsZero() && (!d.ApprovalRequired || !d.ApprovedAt.IsZero()) &&
		d.RevokedAt.IsZero() && (d.ExpiresAt.IsZero() || now.Before(d.ExpiresAt))
}

// DelegationFilter selects delegations. Set fields must all match; at
// least one of AgentID, PrincipalAccountID, PrincipalRef or
// PendingApproval must be set.
type DelegationFilter struct {
	AgentID            string
	PrincipalAccountID string
	PrincipalRef       string
	// PendingApproval selects those that need an operator's approval,
	// have none and are not revoked.
	PendingApproval bool
	// IncludeRevoked also returns revoked delegations.
	IncludeRevoked bool
	// Limit caps the result; 0 means 200, and no more than 1000 are
	// ever returned.
	Limit int
}

// Delegations stores who may act on behalf of whom.
type Delegations interface {
	// CreateDelegation inserts d. Returns ErrConflict if d.ID is taken or
	// the agent already has a delegation not revoked with the same
	// PrincipalRef, and ErrNotFound if AgentID or a non-empty
	// PrincipalAccountID names no account.
	CreateDelegation(ctx context.Context, d Delegation) error
	// GetDelegation returns ErrNotFound if no delegation has that ID.
	GetDelegation(ctx context.Context, id string) (Delegation, error)
	// ListDelegations returns the delegations f selects, newest first.
	ListDelegations(ctx context.Context, f DelegationFilter) ([]Delegation, error)
	// UpdateDelegation has the semantics of Accounts.UpdateAccount. fn
	// must not change the ID, the agent or the principal.
	UpdateDelegation(ctx context.Context, id string, fn func(Delegation) (Delegation, error)) (Delegation, error)
}

// ActingSelf is Session.ActingFor when the person chose to act for
// themselves.
const ActingSelf = "self"
