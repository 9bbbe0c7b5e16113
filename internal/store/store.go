package store

import (
	"context"
	"errors"
	"time"
)

// The whole error vocabulary of the storage boundary. Every implementation
// returns these (wrapped or not) and callers test them with errors.Is.
var (
	// ErrNotFound is returned when the requested record does not exist
	// (or, for sessions and messages, has already been removed).
	ErrNotFound = errors.New("store: not found")
	// ErrConflict is returned when a write would break a uniqueness rule,
	// such as a second account with the same username.
	ErrConflict = errors.New("store: conflict")
	// ErrUnavailable is returned when the database cannot serve the call
	// now: it is down or unreachable, did not answer within the query
	// timeout, has no free connection within it, or refuses writes
	// (read-only, disk full). It is not the request's fault; trying again
	// later may work. The web layer answers it with 503 and Retry-After.
	ErrUnavailable = errors.New("store: database unavailable")
)

// Account is a person (or, later, a system) that can sign in.
//
// Username is optional; when set it is unique, compared case-insensitively
// (stored lower-cased by the caller). Locale is the account's preferred
// language tag ("en", "nb", "sv") or empty.
type Account struct {
	ID       string
	Username string
	Name     string
	Locale   string
	Disabled bool
	// Groups are the account's group names (no spaces), for policy such
	// as mfa.required_groups.
	Groups []string
	// MFARequired forces a second factor for this account whatever the
	// configured mode (an operator's "set one up at the next sign-in").
	MFARequired bool
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Accounts stores accounts.
type Accounts interface {
	// CreateAccount inserts a. Returns ErrConflict if a.ID or a non-empty
	// a.Username is already taken.
	CreateAccount(ctx context.Context, a Account) error
	// GetAccount returns ErrNotFound if no account has that ID.
	GetAccount(ctx context.Context, id string) (Account, error)
	// GetAccountByUsername returns ErrNotFound if no account has that username.
	GetAccountByUsername(ctx context.Context, username string) (Account, error)
	// UpdateAccount reads the account, passes it to fn and writes what fn
	// returns, all in one transaction. fn may be called more than once and
	// must only modify the value it is given. If fn returns an error nothing
	// is written and that error is returned. Returns ErrNotFound if no such
	// account exists and ErrConflict if the new username is taken.
	UpdateAccount(ctx context.Context, id string, fn func(Account) (Account, error)) (Account, error)
	// DeleteAccount removes the account and, through foreign keys, its
	// sessions. Returns ErrNotFound if there was no such account.
	DeleteAccount(ctx context.Context, id string) error
}

// Session is a signed-in browser (or native app) session. The cookie holds
// a random token; only its SHA-256 digest (TokenHash) is stored, so a
// database leak does not hand out live sessions.
//
// ID is a separate random identifier that is safe to show and to put in
// URLs (device lists, "log out this device"); it is not a credential.
type Session struct {
	ID         string
	TokenHash  []byte
	AccountID  string
	CreatedAt  time.Time
	LastSeenAt time.Time
	// ExpiresAt is the absolute end of the session; the idle timeout is
	// computed from LastSeenAt by the session package.
	ExpiresAt time.Time
	// AuthTime is when the user last authenticated in this session (a
	// sign-in, re-authentication or step-up).
	AuthTime time.Time
	// FullAuthTime is when the user last signed in or re-authenticated in
	// full (a step-up adds a factor but is not a full authentication):
	// what "recent" is measured from before a sensitive change.
	FullAuthTime time.Time
	// AMR holds RFC 8176 authentication method references ("pwd", "otp", …).
	AMR []string
	// Level is what the methods of the last authentication are worth
	// together (authn.Assess).
	Level int
	// Methods are the authn methods proven since the session's last full
	// authentication (sign-in or re-authentication), e.g. ["password",
	// "totp"]. A remembered browser adds none.
	Methods []string
	// Via records an upstream identity provider the session was
	// established through; the zero Via means none.
	Via       Via
	UserAgent string
	IP        string
	// ActingFor is whom the person chose to act for after signing in
	// (delegations.go): "" not asked yet, ActingSelf, or a delegation ID.
	ActingFor string
}

// Via is the upstream identity provider a session was established
// through, and what it said about the sign-in. Portvakt never invents
// these values: they are copied from the upstream's ID token.
type Via struct {
	// Upstream is the configured provider's ID ("idporten").
	Upstream string
	// ACR is the upstream's acr claim ("idporten-loa-high").
	ACR string
	// AMR are the upstream's amr values.
	AMR []string
	// IDTokenSealed is the upstream's ID token sealed (secret.Sealer),
	// kept only for RP-initiated logout at the upstream; nil when the
	// upstream has none or no logout endpoint.
	IDTokenSealed []byte
}

// Sessions stores sessions.
type Sessions interface {
	// CreateSession inserts s. Returns ErrConflict if s.ID or s.TokenHash is
	// taken, and ErrNotFound if s.AccountID names no account.
	CreateSession(ctx context.Context, s Session) error
	// GetSessionByTokenHash returns ErrNotFound when no session has that hash.
	GetSessionByTokenHash(ctx context.Context, tokenHash []byte) (Session, error)
	// GetSession returns ErrNotFound when no session has that ID.
	GetSession(ctx context.Context, id string) (Session, error)
	// UpdateSession has the semantics of Accounts.UpdateAccount. Changing
	// TokenHash is how a session is rotated.
	UpdateSession(ctx context.Context, id string, fn func(Session) (Session, error)) (Session, error)
	// DeleteSession returns ErrNotFound if there was no such session.
	DeleteSession(ctx context.Context, id string) error
	// ListSessions returns the account's sessions, newest first.
	ListSessions(ctx context.Context, accountID string) ([]Session, error)
	// DeleteAccountSessions removes every session of the account except the
	// one with ID except (which may be empty) and returns how many went.
	DeleteAccountSessions(ctx context.Context, accountID, except string) (int, error)
	// DeleteExpiredSessions removes sessions whose ExpiresAt is not after
	// now, or whose LastSeenAt is not after idleBefore, and returns how many went.
	DeleteExpiredSessions(ctx context.Context, now, idleBefore time.Time) (int, error)
}

// Message channels.
const (
	ChannelEmail = "email"
	ChannelSMS   = "sms"
)

// Message is an outgoing email or SMS in the outbox. A message is written
// to the outbox in the same request that decides to send it, and a worker
// delivers it, retrying while the transport is down, so no mail is lost.
type Message struct {
	ID      string
	Channel string
	To      string
	Subject string
	Text    string
	HTML    string
	// Locale is the language the message was rendered in.
	Locale    string
	CreatedAt time.Time
	// Attempts counts delivery attempts made so far.
	Attempts int
	// NextAttemptAt is when the message may next be tried. While a worker
	// holds a message it is pushed forward by the lease, so that another
	// node does not send it twice.
	NextAttemptAt time.Time
	// SentAt is zero until the message is delivered.
	SentAt    time.Time
	LastError string
}

// MessageFilter narrows ListMessages. Zero fields match everything.
type MessageFilter struct {
	To      string
	Channel string
	// Limit caps the number of messages returned; 0 means 100.
	Limit int
}

// Outbox stores outgoing messages.
type Outbox interface {
	// EnqueueMessage inserts m. Returns ErrConflict if m.ID is taken.
	EnqueueMessage(ctx context.Context, m Message) error
	// ClaimMessages returns up to limit unsent messages whose NextAttemptAt
	// is not after now, oldest first, and moves their NextAttemptAt to
	// now+lease in the same transaction, so concurrent callers (on this or
	// another node) never claim the same message.
	ClaimMessages(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]Message, error)
	// RenewMessageLeases moves NextAttemptAt to until for those of ids that
	// are unsent and still leased until held (the NextAttemptAt that
	// ClaimMessages or the last renewal gave them), and returns how many
	// it renewed. A message that another claimer took over after the
	// lease ran out, or that was marked sent or failed, is left alone, so
	// a worker learns that it lost the lease.
	RenewMessageLeases(ctx context.Context, ids []string, held, until time.Time) (int, error)
	// MarkMessageSent records delivery. Returns ErrNotFound for an unknown ID.
	MarkMessageSent(ctx context.Context, id string, at time.Time) error
	// MarkMessageFailed records a failed attempt: Attempts is incremented,
	// LastError set and NextAttemptAt moved to next. Returns ErrNotFound for
	// an unknown ID.
	MarkMessageFailed(ctx context.Context, id string, errText string, next time.Time) error
	// ListMessages returns messages matching f, newest first.
	ListMessages(ctx context.Context, f MessageFilter) ([]Message, error)
}

// Store is everything the application persists. Consumers should ask for
// the narrowest interface they need (Sessions, Outbox, …), not Store.
type Store interface {
	Accounts
	Sessions
	Outbox
	Emails
	Passwords
	Flows
	Counters
	Registrar
	Factors
	RecoveryCodes
	TrustedBrowsers
	WebAuthnCredentials
	OIDC
	Identities
	Housekeeping
	Delegations
	Security
	Organisations
	AccountRights
	Systems
	Audit
	Roles
	AccountSearch
	// Ping checks that the database answers; used by /readyz.
	Ping(ctx context.Context) error
	// Close releases the database.
	Close() error
}
