package store

import (
	"context"
	"time"
)

// FederatedIdentity links a person's identity at an upstream provider to
// an account. (Provider, Subject) is the key: one identity is linked to
// one account at a time.
type FederatedIdentity struct {
	// Provider is the configured provider's ID ("idporten").
	Provider string
	// Subject is the upstream's subject, or, where that is pairwise
	// (ID-porten), a keyed hash of the national identity number.
	Subject   string
	AccountID string
	// Email is the upstream's verified address when it gave one, shown
	// to tell identities apart; never used to find an account.
	Email string
	// NationalIDMasked is the national identity number masked
	// ("******12345"); NationalIDSealed is the number sealed
	// (secret.Sealer, bound to provider and subject). Both empty when the
	// provider gives none.
	NationalIDMasked string
	NationalIDSealed []byte
	LinkedAt         time.Time
	LastUsedAt       time.Time
}

// Identities stores linked upstream identities.
type Identities interface {
	// CreateIdentity links id. Returns ErrConflict if (Provider, Subject)
	// is already linked (to any account) and ErrNotFound if AccountID names
	// no account.
	CreateIdentity(ctx context.Context, id FederatedIdentity) error
	// GetIdentity returns ErrNotFound if the identity is linked to no account.
	GetIdentity(ctx context.Context, provider, subject string) (FederatedIdentity, error)
	// ListIdentities returns the account's identities, oldest link first.
	ListIdentities(ctx context.Context, accountID string) ([]FederatedIdentity, error)
	// TouchIdentity records a sign-in with the identity at at. Returns
	// ErrNotFound if it is linked to no account.
	TouchIdentity(ctx context.Context, provider, subject string, at time.Time) error
	// DeleteIdentity unlinks the account's identity. Returns ErrNotFound if
	// the account has no such identity (also when another account has it,
	// which is left alone).
	DeleteIdentity(ctx context.Context, accountID, provider, subject string) error
	// MoveIdentity moves the identity from account from to account to in
	// one transaction, with LinkedAt set to at, and returns it as it now
	// is. Returns ErrNotFound if from does not hold it (it moved meanwhile,
	// or was unlinked) or to names no account; then nothing changes.
	MoveIdentity(ctx context.Context, provider, subject, from, to string, at time.Time) (FederatedIdentity, error)
}
