package store

import (
	"context"
	"time"
)

// WebAuthnCredential is a security key or passkey registered to an
// account (W3C WebAuthn). The credential ID and public key come from the
// authenticator; nothing secret is stored.
type WebAuthnCredential struct {
	// ID is the credential ID the authenticator chose; unique.
	ID        []byte
	AccountID string
	// Name is the user's label ("YubiKey", "Laptop").
	Name            string
	PublicKey       []byte
	AttestationType string
	AAGUID          []byte
	// SignCount is the last signature counter seen; a lower one later
	// suggests a cloned authenticator.
	SignCount  uint32
	Transports []string
	// Discoverable is true for a passkey (a resident credential that can
	// sign in without a username).
	Discoverable   bool
	BackupEligible bool
	BackupState    bool
	// CloneWarning is set when the counter went backwards.
	CloneWarning bool
	CreatedAt    time.Time
	LastUsedAt   time.Time
}

// WebAuthnCredentials stores security keys and passkeys.
type WebAuthnCredentials interface {
	// CreateWebAuthnCredential inserts c. ErrConflict if the credential ID
	// is registered already (to any account); ErrNotFound if the account
	// does not exist.
	CreateWebAuthnCredential(ctx context.Context, c WebAuthnCredential) error
	// GetWebAuthnCredential returns ErrNotFound if no credential has the ID.
	GetWebAuthnCredential(ctx context.Context, id []byte) (WebAuthnCredential, error)
	// ListWebAuthnCredentials returns the account's credentials, oldest first.
	ListWebAuthnCredentials(ctx context.Context, accountID string) ([]WebAuthnCredential, error)
	// UpdateWebAuthnCredential has the semantics of Accounts.UpdateAccount
	// (the counter is checked and advanced inside fn).
	UpdateWebAuthnCredential(ctx context.Context, id []byte, fn func(WebAuthnCredential) (WebAuthnCredential, error)) (WebAuthnCredential, error)
	// DeleteWebAuthnCredential removes a credential of the account;
	// ErrNotFound if the account has none with that ID.
	DeleteWebAuthnCredential(ctx context.Context, accountID string, id []byte) error
}
