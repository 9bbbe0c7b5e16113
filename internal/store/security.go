package store

import (
	"context"
	"time"
)

// ChannelLogout is the outbox channel of back-channel logout messages
// (OpenID Connect Back-Channel Logout 1.0): To is the client ID and Text
// the JSON of a Logout. The OpenID Provider delivers them, signing the
// logout token at delivery, and the worker retries them like mail.
const ChannelLogout = "backchannel_logout"

// Logout is the body (Message.Text, as JSON) of a ChannelLogout message:
// the subject and the session that ended.
type Logout struct {
	Subject   string `json:"sub"`
	SessionID string `json:"sid"`
}

// SecurityChange is one change to how an account signs in or is
// recovered (a password set or reset, an address or second factor added
// or removed), together with everything that must go with it so that an
// intruder's foothold does not outlive the owner's fix:
//
//   - the account's other sessions end (all of them when Keep is empty),
//     and each app signed in through one of them gets a back-channel
//     logout message (ChannelLogout) in the outbox;
//   - every remembered browser is forgotten;
//   - the account's flows of the kinds in DropFlows (second steps begun
//     with the old credential, other recoveries) are dropped;
//   - every app grant of the account is revoked, and with it every access
//     and refresh token issued under it;
//   - Messages (the notices to the owner) are queued in the outbox.
//
// Security.ChangeSecurity does all of it in one transaction: either the
// change and everything above happened, or nothing did.
type SecurityChange struct {
	AccountID string
	// Keep is the session that made the change, which stays signed in;
	// empty ends every session of the account.
	Keep string
	// At is when the change happens: the grants' RevokedAt, and the
	// CreatedAt and NextAttemptAt of the logout messages.
	At time.Time

	// The change itself; any combination, applied in this order.

	// Flow, when not empty, is read (locked), passed to FlowUpdate and
	// written back first, e.g. to consume the code that proved the
	// change. FlowUpdate's error aborts everything and comes back as it
	// is; a missing flow gives ErrNotFound. Flow must be the account's.
	Flow       string
	FlowUpdate func(Flow) (Flow, error)
	// Password, when set, is stored as the account's password.
	Password *Password
	// AddEmail, when set, is added to the account (ErrConflict if the
	// address is taken).
	AddEmail *Email
	// PrimaryEmail, when set, becomes the account's primary address
	// (ErrNotFound if the account does not own it).
	PrimaryEmail string
	// DeleteEmail, when set, is removed from the account (ErrNotFound if
	// the account does not own it).
	DeleteEmail string

	// DropFlows are the kinds of the account's flows to delete; Flow
	// itself is kept.
	DropFlows []string
	// Messages are queued in the outbox in the same transaction, as they
	// are (the caller renders, and seals, them).
	Messages []Message
}

// SecurityResult is what ChangeSecurity did.
type SecurityResult struct {
	// Flow is the flow as FlowUpdate left it (the zero Flow without one).
	Flow Flow
	// Ended are the IDs of the sessions that ended.
	Ended []string
	// Revoked counts the app grants revoked.
	Revoked int
	// Logouts counts the back-channel logout messages queued.
	Logouts int
}

// Security makes changes to how an account signs in in one transaction.
type Security interface {
	// ChangeSecurity applies c (see SecurityChange) in one transaction and
	// returns what it did. On any error nothing is written. Returns
	// ErrNotFound if c.AccountID names no account.
	ChangeSecurity(ctx context.Context, c SecurityChange) (SecurityResult, error)
}
