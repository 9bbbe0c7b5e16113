package store

import (
	"context"
	"time"
)

// Email is a verified address of an account. Only verified addresses are
// stored: an address waiting for its code lives in a Flow, so nobody can
// block another person's address by adding it unverified (pre-hijacking).
//
// Address is kept as the user typed it with the domain lower-cased;
// uniqueness and lookups are case-insensitive over the whole address.
type Email struct {
	Address    string
	AccountID  string
	Primary    bool
	VerifiedAt time.Time
	CreatedAt  time.Time
}

// Emails stores account addresses.
type Emails interface {
	// AddEmail inserts e. Returns ErrConflict if any account already has
	// the address (case-insensitively), or if e.Primary is set and the
	// account already has a primary address; ErrNotFound if e.AccountID
	// names no account.
	AddEmail(ctx context.Context, e Email) error
	// GetEmail finds an address case-insensitively; ErrNotFound if none.
	GetEmail(ctx context.Context, address string) (Email, error)
	// ListEmails returns the account's addresses, the primary first, then
	// oldest first. An unknown account has none (no error).
	ListEmails(ctx context.Context, accountID string) ([]Email, error)
	// SetPrimaryEmail makes address the account's only primary address in
	// one transaction. Returns ErrNotFound if the account does not own it.
	SetPrimaryEmail(ctx context.Context, accountID, address string) error
	// DeleteEmail removes an address of the account. Returns ErrNotFound
	// if the account does not own it.
	DeleteEmail(ctx context.Context, accountID, address string) error
}

// Password is an account's password credential.
type Password struct {
	AccountID string
	// Hash is a PHC string ($argon2id$…) or an imported bcrypt hash.
	Hash string
	// History holds earlier hashes, newest first, for the reuse rule.
	History   []string
	ChangedAt time.Time
}

// Passwords stores password credentials, at most one per account.
type Passwords interface {
	// GetPassword returns ErrNotFound if the account has no password.
	GetPassword(ctx context.Context, accountID string) (Password, error)
	// SetPassword inserts or replaces the account's password. Returns
	// ErrNotFound if the account does not exist.
	SetPassword(ctx context.Context, p Password) error
	// UpdatePassword has the semantics of Accounts.UpdateAccount; it is
	// how a login rehashes without overwriting a concurrent change.
	UpdatePassword(ctx context.Context, accountID string, fn func(Password) (Password, error)) (Password, error)
	// GetLoginCountingByEmail returns, in one read, what a password
	// sign-in by address needs: the account that has the address (found as
	// GetEmail finds it) and its password, without History, and the
	// failure counters c names (as FailuresOf reads them: a missing one is
	// absent from the map). An account without a password comes with a
	// zero Password. When no account has the address it returns
	// ErrNotFound with the counters (but the account's own), in the same
	// one statement: a sign-in's round trips do not tell whether the
	// account exists.
	GetLoginCountingByEmail(ctx context.Context, address string, c LoginCounters) (Account, Password, map[string]CounterState, error)
	// GetLoginCountingByUsername is GetLoginCountingByEmail for a username
	// (compared as GetAccountByUsername compares it).
	GetLoginCountingByUsername(ctx context.Context, username string, c LoginCounters) (Account, Password, map[string]CounterState, error)
}

// LoginCounters are the failure counters a password sign-in checks
// before its hash. Read with the account, they cost no round trip of
// their own (issue 12).
type LoginCounters struct {
	// Names are counters read as they are (at most MaxCounterKeys-1).
	Names []string
	// AccountPrefix, when not empty, names one more counter: the prefix
	// followed by the ID of the account found.
	AccountPrefix string
}

// Flow kinds.
const (
	FlowSignup      = "signup"
	FlowLogin       = "login"
	FlowRecovery    = "recovery"
	FlowVerifyEmail = "verify_email"
)

// Flow is a self-service journey in progress: a sign-up waiting for its
// code, a sign-in between its steps, a recovery waiting for its link. It
// is the server-side state of the journey; the browser holds only the
// flow's ID and a browser-binding cookie whose digest is BrowserHash.
//
// A flow may carry one one-time code (CodeHash) and one emailed link
// (LinkHash). Both are stored as digests. A flow is used up when
// ConsumedAt is set; consuming happens inside UpdateFlow, so of many
// parallel submissions exactly one sees it unconsumed.
type Flow struct {
	ID   string
	Kind string
	// BrowserHash is the SHA-256 of the browser-binding cookie of the
	// browser that started the flow; nil for flows started by the API.
	BrowserHash []byte
	AccountID   string
	Email       string
	// State is the step the flow has reached, defined by its kind.
	State    string
	CodeHash []byte
	// LinkHash, when set, is unique among flows.
	LinkHash []byte
	// Attempts counts wrong codes; the flow dies at the limit. A resend
	// does not reset it.
	Attempts int
	// Sends counts codes and links sent; LastSentAt drives the resend
	// cool-down.
	Sends      int
	LastSentAt time.Time
	// Data is server-only JSON the flow kind defines (e.g. the IP and
	// browser that asked, for the mail).
	Data       string
	CreatedAt  time.Time
	ExpiresAt  time.Time
	ConsumedAt time.Time
}

// Flows stores flows.
type Flows interface {
	// CreateFlow inserts f. Returns ErrConflict if the ID or a non-nil
	// LinkHash is taken.
	CreateFlow(ctx context.Context, f Flow) error
	// GetFlow returns ErrNotFound if no flow has the ID.
	GetFlow(ctx context.Context, id string) (Flow, error)
	// GetFlowByLinkHash returns ErrNotFound if no flow has the link.
	GetFlowByLinkHash(ctx context.Context, linkHash []byte) (Flow, error)
	// UpdateFlow has the semantics of Accounts.UpdateAccount. Concurrent
	// updates of one flow are serialized, so an updater that checks and
	// sets ConsumedAt consumes the flow exactly once.
	UpdateFlow(ctx context.Context, id string, fn func(Flow) (Flow, error)) (Flow, error)
	// ConsumeFlow marks the flow used at now, in one statement, if it is
	// of kind, not used, not expired at now (ExpiresAt after now) and
	// started by browser or by no browser; it returns the flow as it is
	// now. Otherwise it changes nothing and returns ErrNotFound. Of
	// parallel calls for one flow exactly one succeeds: it is UpdateFlow
	// with an updater that checks those and sets ConsumedAt, in one round
	// trip instead of four.
	ConsumeFlow(ctx context.Context, id, kind string, browser []byte, now time.Time) (Flow, error)
	// DeleteFlow returns ErrNotFound if there was no such flow.
	DeleteFlow(ctx context.Context, id string) error
	// DeleteAccountFlows removes every flow of the account of the given
	// kinds (all kinds when none are given) and returns how many went.
	DeleteAccountFlows(ctx context.Context, accountID string, kinds ...string) (int, error)
	// DeleteExpiredFlows removes flows whose ExpiresAt is not after now.
	DeleteExpiredFlows(ctx context.Context, now time.Time) (int, error)
}

// Counters are named failure counters that slow down guessing: one per
// sign-in identifier, per IP, per code. They live in the database so that
// every node sees the same count.
type Counters interface {
	// AddFailure atomically adds one failure to key and returns the new
	// count. A counter whose last failure is older than window starts
	// again from zero before the increment.
	AddFailure(ctx context.Context, key string, now time.Time, window time.Duration) (int, error)
	// AddFailures is AddFailure for several keys (at most MaxCounterKeys,
	// each with its window) in one atomic write, and returns the new
	// counts by key. Concurrent calls each get counts of their own.
	AddFailures(ctx context.Context, now time.Time, windows map[string]time.Duration) (map[string]int, error)
	// ReserveFailure is AddFailure only while the count (as Failures
	// reads it) is below limit, in one statement: it returns the new count
	// and true, or false and counts nothing. Of parallel calls no more
	// than limit ever succeed within a window.
	ReserveFailure(ctx context.Context, key string, now time.Time, window time.Duration, limit int) (int, bool, error)
	// Failures returns the current count (0 if none, or if the last
	// failure is older than window) and when the last failure was.
	Failures(ctx context.Context, key string, now time.Time, window time.Duration) (count int, last time.Time, err error)
	// FailuresOf returns the counters of keys in one read (at most
	// MaxCounterKeys): a missing key is absent from the map. The window is
	// the caller's: a counter whose Last is older than its window counts 0.
	FailuresOf(ctx context.Context, keys []string) (map[string]CounterState, error)
	// ResetFailures sets keys back to zero, in one write. Resetting a
	// missing key is not an error.
	ResetFailures(ctx context.Context, keys ...string) error
}

// CounterState is one failure counter as stored.
type CounterState struct {
	Failures int
	Last     time.Time
}

// MaxCounterKeys bounds the keys of one FailuresOf or ResetFailures call
// (a sign-in checks about five).
const MaxCounterKeys = 64

// Registrar creates an account with its first credentials atomically.
type Registrar interface {
	// Register inserts the account, its emails and (when not nil) its
	// password in one transaction. Returns ErrConflict, writing nothing,
	// if the account ID, username or any address is taken.
	Register(ctx context.Context, a Account, emails []Email, pw *Password) error
	// RegisterFromFlow consumes a flow and registers an account in one
	// transaction: it locks the flow, runs fn on it (fn checks it and
	// sets ConsumedAt, as with UpdateFlow), writes fn's result and does
	// what Register does, and commits only if all of it holds. A crash
	// or a failure part-way leaves the flow as it was and no account.
	// fn's error is returned as it is; a missing flow wraps ErrNotFound;
	// a taken account ID, username or address wraps ErrConflict. Of
	// parallel calls on one flow whose fn refuses a consumed flow,
	// exactly one registers.
	RegisterFromFlow(ctx context.Context, flowID string, fn func(Flow) (Flow, error), a Account, emails []Email, pw *Password) (Flow, error)
}
