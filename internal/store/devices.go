package store

import (
	"context"
	"time"
)

// KnownDevice is a browser an account has signed in from: the digest of
// the browser's long-lived marker cookie (the cookie itself is never
// stored), what it said it was, and when it was first and last seen. A
// sign-in from a browser that is not a known device of the account is a
// new device, and the user is told by mail (issue 15).
type KnownDevice struct {
	AccountID string
	Hash      []byte
	// UserAgent is the browser's User-Agent (at most 256 bytes), IP its
	// address at the last sign-in.
	UserAgent   string
	IP          string
	FirstSeenAt time.Time
	LastSeenAt  time.Time
}

// MaxKnownDevices is how many devices an account keeps; a new one beyond
// it pushes out the one seen longest ago.
const MaxKnownDevices = 50

// Devices stores the browsers accounts signed in from, and when a
// remembered browser was last used.
type Devices interface {
	// SeeDevice records a sign-in of d.AccountID from device d.Hash at
	// d.LastSeenAt (also its FirstSeenAt when it is new). It reports
	// whether the device was already known, and how many devices the
	// account had before this call (0: its first device). Of parallel
	// calls for one new device exactly one reports it new. Returns
	// ErrNotFound if the account does not exist.
	SeeDevice(ctx context.Context, d KnownDevice) (known bool, before int, err error)
	// ListDevices returns the account's devices, last seen first.
	ListDevices(ctx context.Context, accountID string) ([]KnownDevice, error)
	// ForgetDevice removes one device of the account, so a sign-in from it
	// counts as new again. Returns ErrNotFound if the account has no such
	// device.
	ForgetDevice(ctx context.Context, accountID string, hash []byte) error
	// DeleteStaleDevices removes the devices not seen since before and
	// returns how many went.
	DeleteStaleDevices(ctx context.Context, before time.Time) (int, error)
	// TouchTrustedBrowser records that the account's remembered browser
	// id skipped the second step at at (LastUsedAt never moves back).
	// Returns ErrNotFound if the account has no such browser.
	TouchTrustedBrowser(ctx context.Context, accountID, id string, at time.Time) error
	// TrustedBrowserLastUsed returns when each of the account's remembered
	// browsers was last used, by ID.
	TrustedBrowserLastUsed(ctx context.Context, accountID string) (map[string]time.Time, error)
}

// Lifecycle is where an account stands in its lifecycle: when it was
// last active (signed in), the inactivity warnings sent since, and a
// deletion the user asked for.
type Lifecycle struct {
	AccountID string
	CreatedAt time.Time
	// LastActiveAt is the last sign-in; zero if there was none since the
	// lifecycle began to be recorded (Active then is CreatedAt).
	LastActiveAt time.Time
	// Warnings counts the inactivity warnings sent since the last sign-in;
	// WarnedAt is when the last of them went.
	Warnings int
	WarnedAt time.Time
	// DeletionRequestedAt and DeletionDueAt are set while a deletion the
	// user asked for waits out its grace period; zero otherwise.
	DeletionRequestedAt time.Time
	DeletionDueAt       time.Time
}

// Active is when the account was last active: its last sign-in, or its
// creation if later.
func (l Lifecycle) Active() time.Time {
	if l.LastActiveAt.After(l.CreatedAt) {
		return l.LastActiveAt
	}
	return l.CreatedAt
}

// MaxLifecycleBatch is the most accounts one lifecycle listing returns.
const MaxLifecycleBatch = 1000

// Lifecycles stores the lifecycle state of accounts. Every change that a
// job on several nodes could race on is a compare and set: it happens
// only if the state is still what the caller read.
type Lifecycles interface {
	// GetLifecycle returns ErrNotFound if no account has the ID.
	GetLifecycle(ctx context.Context, accountID string) (Lifecycle, error)
	// MarkActive records a sign-in at at: LastActiveAt moves forward (never
	// back), the warnings start again from none, and a scheduled deletion
	// is cancelled. It returns the state before. ErrNotFound if no such
	// account.
	MarkActive(ctx context.Context, accountID string, at time.Time) (Lifecycle, error)
	// ScheduleDeletion records the user's request to delete the account at
	// due. ErrNotFound if no such account.
	ScheduleDeletion(ctx context.Context, accountID string, requested, due time.Time) error
	// ListIdleAccounts returns up to limit accounts (at most
	// MaxLifecycleBatch) last active (Active) at or before activeBefore,
	// ordered by ID, after afterID ("" from the start).
	ListIdleAccounts(ctx context.Context, activeBefore time.Time, afterID string, limit int) ([]Lifecycle, error)
	// ListDueDeletions returns up to limit accounts (at most
	// MaxLifecycleBatch) whose requested deletion is due at now, ordered
	// by ID after afterID.
	ListDueDeletions(ctx context.Context, now time.Time, afterID string, limit int) ([]Lifecycle, error)
	// MarkWarned records that warning number n went at at, if the
	// account's state is still was (same LastActiveAt and Warnings); it
	// reports whether it did. Of parallel calls with the same was exactly
	// one succeeds: the warning is mailed once, on one node.
	MarkWarned(ctx context.Context, was Lifecycle, n int, at time.Time) (bool, error)
	// DeleteAccountIf deletes the account (as Accounts.DeleteAccount) if
	// its state is still was (same LastActiveAt, Warnings and
	// DeletionDueAt), and reports whether it did; a sign-in since was
	// read keeps the account.
	DeleteAccountIf(ctx context.Context, was Lifecycle) (bool, error)
}
