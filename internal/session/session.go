// Package session manages signed-in sessions: creating them, finding them
// by the browser's token, ending them on idle and absolute timeouts,
// rotating their token on every privilege change, and revoking them.
//
// Sessions live in the database (store.Sessions), so any node behind a
// load balancer serves any request. The browser holds a random 256-bit
// token; the database holds only its SHA-256 digest. The package knows
// nothing of HTTP: the web package moves the token in and out of a cookie.
//
// # Timeouts
//
// A session ends IdleTimeout after its last use or AbsoluteTimeout after it
// was created, whichever comes first. Use is recorded at most once a minute
// (LastSeenAt), so a busy page does not write on every request; the idle
// timeout is therefore exact to within a minute.
package session

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/portvakt/portvakt/internal/secret"
	"github.com/portvakt/portvakt/internal/store"
)

var (
	// ErrNoSession means the token names no live session.
	ErrNoSession = errors.New("session: no session")
	// ErrExpired means the token named a session that has timed out; it
	// has been removed. Callers tell the user why they must sign in again.
	ErrExpired = errors.New("session: expired")
)

// touchEvery is how stale LastSeenAt may get before a request rewrites it.
const touchEvery = time.Minute

// Manager creates and checks sessions. Store, IdleTimeout and
// AbsoluteTimeout are required; Now defaults to time.Now. It is safe for
// concurrent use.
type Manager struct {
	Store           store.Sessions
	IdleTimeout     time.Duration
	AbsoluteTimeout time.Duration
	Now             func() time.Time
	// Ended, when set, is told of every session Revoke and RevokeOthers
	// end, so that the apps signed in through it hear of it
	// (back-channel logout). Its errors are its own to log.
	Ended func(ctx context.Context, sessionID string)
}

// Auth describes how the user authenticated.
type Auth struct {
	// AMR are RFC 8176 method references, e.g. ["pwd", "otp"].
	AMR []string
	// Level is the strength of the authentication (see package authn).
	Level int
	// Methods are the authn methods proven (authn.Names).
	Methods []string
	// Via is the upstream the sign-in came through, if any.
	Via store.Via
	// Partial, on Rotate, says the authentication added a factor (a
	// step-up) but was not a full one: FullAuthTime stays.
	Partial bool
}

// Client describes the browser or app, for the device list.
type Client struct {
	UserAgent string
	IP        string
}

func (m *Manager) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

// Create starts a session for the account and returns the token to give
// the browser. The token is never stored or logged.
func (m *Manager) Create(ctx context.Context, accountID string, auth Auth, c Client) (token string, s store.Session, err error) {
	now := m.now()
	token = secret.Token()
	s = store.Session{
		ID:           secret.ID(),
		TokenHash:    secret.Hash(token),
		AccountID:    accountID,
		CreatedAt:    now,
		LastSeenAt:   now,
		ExpiresAt:    now.Add(m.AbsoluteTimeout),
		AuthTime:     now,
		FullAuthTime: now,
		AMR:          auth.AMR,
		Level:        auth.Level,
		Methods:      auth.Methods,
		Via:          auth.Via,
		UserAgent:    truncate(c.UserAgent, 256),
		IP:           c.IP,
	}
	if err := m.Store.CreateSession(ctx, s); err != nil {
		return "", store.Session{}, fmt.Errorf("create session: %w", err)
	}
	return token, s, nil
}

// Load returns the live session the token names and records its use.
// Returns ErrNoSession for an unknown token and ErrExpired (after removing
// the session) for one that has timed out.
func (m *Manager) Load(ctx context.Context, token string) (store.Session, error) {
	if token == "" {
		return store.Session{}, ErrNoSession
	}
	s, err := m.Store.GetSessionByTokenHash(ctx, secret.Hash(token))
	if errors.Is(err, store.ErrNotFound) {
		return store.Session{}, ErrNoSession
	}
	if err != nil {
		return store.Session{}, fmt.Errorf("load session: %w", err)
	}
	now := m.now()
	if m.expired(s, now) {
		if err := m.Store.DeleteSession(ctx, s.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return store.Session{}, fmt.Errorf("delete expired session: %w", err)
		}
		return store.Session{}, ErrExpired
	}
	if now.Sub(s.LastSeenAt) >= touchEvery {
		s, err = m.Store.UpdateSession(ctx, s.ID, func(old store.Session) (store.Session, error) {
			if now.After(old.LastSeenAt) {
				old.LastSeenAt = now
			}
			return old, nil
		})
		if errors.Is(err, store.ErrNotFound) {
			return store.Session{}, ErrNoSession
		}
		if err != nil {
			return store.Session{}, fmt.Errorf("touch session: %w", err)
		}
	}
	return s, nil
}

func (m *Manager) expired(s store.Session, now time.Time) bool {
	return !now.Before(s.ExpiresAt) || !now.Before(s.LastSeenAt.Add(m.IdleTimeout))
}

// Rotate gives the session a new token, as on every privilege change
// (sign-in, a second factor, step-up), so a token an attacker planted or
// saw before the change is worthless after it. When auth is not nil, the
// session's AMR, Level and AuthTime are replaced too. The old token stops
// working at once. Returns ErrNoSession if the session is gone.
func (m *Manager) Rotate(ctx context.Context, id string, auth *Auth) (token string, s store.Session, err error) {
	token = secret.Token()
	now := m.now()
	s, err = m.Store.UpdateSession(ctx, id, func(old store.Session) (store.Session, error) {
		old.TokenHash = secret.Hash(token)
		old.LastSeenAt = now
		if auth != nil {
			old.AMR = auth.AMR
			old.Level = auth.Level
			old.Methods = auth.Methods
			old.AuthTime = now
			if !auth.Partial {
				old.FullAuthTime = now
				// A full re-authentication here is not the upstream's:
				// what the upstream proved (ID-porten's acr) no longer
				// describes the session's last sign-in. The upstream and
				// its sealed ID token stay, so that signing out still
				// signs out there.
				if auth.Via.Upstream != "" {
					old.Via = auth.Via
				} else {
					old.Via.ACR, old.Via.AMR = "", nil
				}
			}
		}
		return old, nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return "", store.Session{}, ErrNoSession
	}
	if err != nil {
		return "", store.Session{}, fmt.Errorf("rotate session: %w", err)
	}
	return token, s, nil
}

// Revoke ends one session. Ending a session that is already gone is not an
// error.
func (m *Manager) Revoke(ctx context.Context, id string) error {
	err := m.Store.DeleteSession(ctx, id)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("revoke session: %w", err)
	}
	if err == nil && m.Ended != nil {
		m.Ended(ctx, id)
	}
	return nil
}

// RevokeOthers ends every session of the account except the one with ID
// keep (which may be empty, to end them all) and returns how many ended.
func (m *Manager) RevokeOthers(ctx context.Context, accountID, keep string) (int, error) {
	var ending []store.Session
	if m.Ended != nil {
		list, err := m.Store.ListSessions(ctx, accountID)
		if err != nil {
			return 0, fmt.Errorf("revoke sessions: %w", err)
		}
		ending = list
	}
	n, err := m.Store.DeleteAccountSessions(ctx, accountID, keep)
	if err != nil {
		return 0, fmt.Errorf("revoke sessions: %w", err)
	}
	for _, s := range ending {
		if s.ID != keep {
			m.Ended(ctx, s.ID)
		}
	}
	return n, nil
}

// Sweep removes every timed-out session; the server runs it periodically.
func (m *Manager) Sweep(ctx context.Context) (int, error) {
	now := m.now()
	n, err := m.Store.DeleteExpiredSessions(ctx, now, now.Add(-m.IdleTimeout))
	if err != nil {
		return 0, fmt.Errorf("sweep sessions: %w", err)
	}
	return n, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
