package store

import (
	"context"
	"time"
)

// Factor kinds.
const (
	FactorTOTP = "totp"
	FactorSMS  = "sms"
)

// EnrolledWebAuthn is what Factors.EnrolledKinds names an account's
// security keys and passkeys by (they are not a Factor kind).
const EnrolledWebAuthn = "webauthn"

// Factor is an enrolled second factor that holds a secret or an address
// of its own: an authenticator app (TOTP) or a phone for SMS codes. (Email
// as a second factor uses the account's verified addresses; recovery codes
// and security keys have their own records.)
type Factor struct {
	ID        string
	AccountID string
	Kind      string
	// Name is the user's label ("Work phone", "Authenticator").
	Name string
	// Secret is the TOTP seed, sealed (encrypted and authenticated) with
	// the server's key; never stored in the clear. Empty for SMS.
	Secret []byte
	// Phone is the E.164 number of an SMS factor.
	Phone string
	// LastStep is the last TOTP time step accepted; a code for that step
	// or an earlier one is never accepted again (replay guard).
	LastStep int64
	// ConfirmedAt is zero until the user proved the factor works (a
	// correct code at enrolment); an unconfirmed factor never signs in.
	ConfirmedAt time.Time
	CreatedAt   time.Time
	LastUsedAt  time.Time
}

// Factors stores second factors.
type Factors interface {
	// CreateFactor inserts f. ErrConflict if the ID is taken, or if a
	// confirmed SMS factor of the account already has that phone;
	// ErrNotFound if the account does not exist.
	CreateFactor(ctx context.Context, f Factor) error
	// GetFactor returns ErrNotFound if no factor has the ID.
	GetFactor(ctx context.Context, id string) (Factor, error)
	// ListFactors returns the account's factors, oldest first.
	ListFactors(ctx context.Context, accountID string) ([]Factor, error)
	// EnrolledKinds returns, in one read, the kinds of the account's
	// confirmed factors and EnrolledWebAuthn if it has a WebAuthn
	// credential, each once, in no particular order: what a sign-in asks
	// to decide on a second step. An unknown account has none.
	EnrolledKinds(ctx context.Context, accountID string) ([]string, error)
	// UpdateFactor has the semantics of Accounts.UpdateAccount; it is how
	// a TOTP code is accepted exactly once (check and advance LastStep
	// inside fn).
	UpdateFactor(ctx context.Context, id string, fn func(Factor) (Factor, error)) (Factor, error)
	// AdvanceFactorStep sets the factor's LastStep to step and LastUsedAt
	// to at if its LastStep is still from, in one statement, and reports
	// whether it did: a compare and set, so of parallel calls from one
	// LastStep exactly one succeeds (a TOTP code is accepted once).
	// ErrNotFound if no factor has the ID.
	AdvanceFactorStep(ctx context.Context, id string, from, step int64, at time.Time) (bool, error)
	// DeleteFactor returns ErrNotFound if there was no such factor.
	DeleteFactor(ctx context.Context, id string) error
}

// RecoveryCode is one single-use recovery code, stored as a digest.
type RecoveryCode struct {
	AccountID string
	Hash      []byte
	CreatedAt time.Time
	// UsedAt is zero while the code is unused.
	UsedAt time.Time
}

// RecoveryCodes stores recovery codes.
type RecoveryCodes interface {
	// ReplaceRecoveryCodes deletes every code of the account and inserts
	// codes, in one transaction (regenerating kills the old set).
	ReplaceRecoveryCodes(ctx context.Context, accountID string, codes []RecoveryCode) error
	// UseRecoveryCode marks the unused code with that digest used at now
	// and returns how many unused codes remain. Of parallel calls with the
	// same code exactly one succeeds; the others, and any call with an
	// unknown or used code, get ErrNotFound.
	UseRecoveryCode(ctx context.Context, accountID string, hash []byte, now time.Time) (remaining int, err error)
	// CountRecoveryCodes returns how many unused codes the account has and
	// how many it has in all.
	CountRecoveryCodes(ctx context.Context, accountID string) (unused, total int, err error)
}

// TrustedBrowser is a browser the user asked not to be asked for a second
// factor again for a while. The cookie holds a random token; the record
// holds its digest.
type TrustedBrowser struct {
	ID        string
	AccountID string
	TokenHash []byte
	UserAgent string
	IP        string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// TrustedBrowsers stores remembered browsers.
type TrustedBrowsers interface {
	// CreateTrustedBrowser inserts b. ErrConflict on a taken ID or token
	// digest; ErrNotFound if the account does not exist.
	CreateTrustedBrowser(ctx context.Context, b TrustedBrowser) error
	// GetTrustedBrowser finds a browser by token digest; ErrNotFound if none.
	GetTrustedBrowser(ctx context.Context, tokenHash []byte) (TrustedBrowser, error)
	// ListTrustedBrowsers returns the account's browsers, newest first.
	ListTrustedBrowsers(ctx context.Context, accountID string) ([]TrustedBrowser, error)
	// DeleteTrustedBrowser removes one browser of the account; ErrNotFound
	// if the account has no browser with that ID.
	DeleteTrustedBrowser(ctx context.Context, accountID, id string) error
	// DeleteTrustedBrowsers removes every browser of the account and
	// returns how many went.
	DeleteTrustedBrowsers(ctx context.Context, accountID string) (int, error)
}
