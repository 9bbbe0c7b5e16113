package session_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/clocktest"
	"github.com/portvakt/portvakt/internal/secret"
	"github.com/portvakt/portvakt/internal/session"
	"github.com/portvakt/portvakt/internal/store"
	"github.com/portvakt/portvakt/internal/store/sqlstore"
)

type clock = clocktest.Clock

type env struct {
	m     *session.Manager
	db    *sqlstore.DB
	clock *clock
	acct  string
	// ended records the sessions Manager.Ended was told of.
	mu    sync.Mutex
	ended []string
}

// newEnv is a Manager with a 30-minute idle and 12-hour absolute timeout
// on SQLite, with one account.
func newEnv(t *testing.T) *env {
	t.Helper()
	db, err := sqlstore.OpenAndMigrate(t.Context(), "sqlite", filepath.Join(t.TempDir(), "session.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	c := clocktest.New(time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC))
	e := &env{db: db, clock: c}
	e.m = &session.Manager{Store: db, IdleTimeout: 30 * time.Minute, AbsoluteTimeout: 12 * time.Hour, Now: c.Now,
		Ended: func(_ context.Context, id string) { e.mu.Lock(); e.ended = append(e.ended, id); e.mu.Unlock() }}
	e.acct = e.account(t)
	return e
}

func (e *env) account(t *testing.T) string {
	t.Helper()
	a := store.Account{ID: secret.ID(), Name: "Kari", CreatedAt: e.clock.Now(), UpdatedAt: e.clock.Now()}
	if err := e.db.CreateAccount(t.Context(), a); err != nil {
		t.Fatal(err)
	}
	return a.ID
}

func (e *env) create(t *testing.T, accountID string) (string, store.Session) {
	t.Helper()
	token, s, err := e.m.Create(t.Context(), accountID, session.Auth{AMR: []string{"pwd"}, Level: 1}, session.Client{UserAgent: "Firefox", IP: "192.0.2.1"})
	if err != nil {
		t.Fatal(err)
	}
	return token, s
}

func (e *env) endedIDs() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.ended)
}

func TestCreateAndLoad(t *testing.T) {
	e := newEnv(t)
	now := e.clock.Now()
	token, s, err := e.m.Create(t.Context(), e.acct, session.Auth{AMR: []string{"pwd", "otp", "mfa"}, Level: 3}, session.Client{UserAgent: strings.Repeat("x", 300), IP: "192.0.2.9"})
	if err != nil {
		t.Fatal(err)
	}
	if len(token) < 43 { // 256 bits in unpadded base64
		t.Errorf("token %q is shorter than 256 bits", token)
	}
	if string(s.TokenHash) == token || !secret.Equal(s.TokenHash, secret.Hash(token)) {
		t.Error("the session keeps something other than the token's digest")
	}
	if s.AccountID != e.acct || !s.CreatedAt.Equal(now) || !s.LastSeenAt.Equal(now) || !s.AuthTime.Equal(now) || !s.ExpiresAt.Equal(now.Add(12*time.Hour)) {
		t.Errorf("Create = %+v", s)
	}
	if !slices.Equal(s.AMR, []string{"pwd", "otp", "mfa"}) || s.Level != 3 || len(s.UserAgent) != 256 || s.IP != "192.0.2.9" {
		t.Errorf("Create recorded amr %v level %d user agent of %d bytes ip %q", s.AMR, s.Level, len(s.UserAgent), s.IP)
	}
	got, err := e.m.Load(t.Context(), token)
	if err != nil || got.ID != s.ID || got.Level != 3 {
		t.Errorf("Load = %+v, %v", got, err)
	}
	for _, bad := range []string{"", secret.Token(), token + "x"} {
		if _, err := e.m.Load(t.Context(), bad); !errors.Is(err, session.ErrNoSession) {
			t.Errorf("Load(%q) = %v, want ErrNoSession", bad, err)
		}
	}
	if _, _, err := e.m.Create(t.Context(), "no-such-account", session.Auth{}, session.Client{}); err == nil {
		t.Error("Create for no account succeeded")
	}
	// A user agent of exactly 256 bytes is kept whole.
	_, s, _ = e.m.Create(t.Context(), e.acct, session.Auth{}, session.Client{UserAgent: strings.Repeat("y", 256)})
	if len(s.UserAgent) != 256 {
		t.Errorf("a 256-byte user agent became %d bytes", len(s.UserAgent))
	}
}

// Use is written at most once a minute.
func TestLoadTouchesOncePerMinute(t *testing.T) {
	e := newEnv(t)
	token, s := e.create(t, e.acct)
	e.clock.Advance(59 * time.Second)
	got, err := e.m.Load(t.Context(), token)
	if err != nil || !got.LastSeenAt.Equal(s.LastSeenAt) {
		t.Errorf("Load after 59s: last seen %v, %v; want unchanged %v", got.LastSeenAt, err, s.LastSeenAt)
	}
	e.clock.Advance(time.Second)
	got, err = e.m.Load(t.Context(), token)
	if err != nil || !got.LastSeenAt.Equal(e.clock.Now()) {
		t.Errorf("Load after 60s: last seen %v, %v; want %v", got.LastSeenAt, err, e.clock.Now())
	}
	stored, _ := e.db.GetSession(t.Context(), s.ID)
	if !stored.LastSeenAt.Equal(e.clock.Now()) {
		t.Errorf("stored last seen %v, want %v", stored.LastSeenAt, e.clock.Now())
	}
}

// SECURITY.md §7 item 12: the idle and the absolute timeout, exactly.
func TestTimeouts(t *testing.T) {
	t.Run("idle", func(t *testing.T) {
		e := newEnv(t)
		token, _ := e.create(t, e.acct)
		e.clock.Advance(30*time.Minute - time.Second)
		if _, err := e.m.Load(t.Context(), token); err != nil {
			t.Fatalf("a second before the idle timeout: %v", err)
		}
		e.clock.Advance(30 * time.Minute) // exactly idle since the last use
		if _, err := e.m.Load(t.Context(), token); !errors.Is(err, session.ErrExpired) {
			t.Errorf("at the idle timeout: %v, want ErrExpired", err)
		}
		if _, err := e.m.Load(t.Context(), token); !errors.Is(err, session.ErrNoSession) {
			t.Errorf("after expiry: %v, want ErrNoSession (removed)", err)
		}
	})
	t.Run("absolute", func(t *testing.T) {
		e := newEnv(t)
		token, s := e.create(t, e.acct)
		for e.clock.Now().Before(s.ExpiresAt.Add(-20 * time.Minute)) {
			e.clock.Advance(20 * time.Minute)
			if _, err := e.m.Load(t.Context(), token); err != nil && e.clock.Now().Before(s.ExpiresAt) {
				t.Fatalf("active session ended at %v: %v", e.clock.Now(), err)
			}
		}
		e.clock.Advance(s.ExpiresAt.Sub(e.clock.Now()) - time.Second)
		if _, err := e.m.Load(t.Context(), token); err != nil {
			t.Fatalf("a second before the absolute timeout: %v", err)
		}
		e.clock.Advance(time.Second)
		if _, err := e.m.Load(t.Context(), token); !errors.Is(err, session.ErrExpired) {
			t.Errorf("at the absolute timeout: %v, want ErrExpired", err)
		}
	})
}

// SECURITY.md §7 item 11: a privilege change gives a new token and kills
// the old one at once.
func TestRotate(t *testing.T) {
	e := newEnv(t)
	old, s := e.create(t, e.acct)
	e.clock.Advance(5 * time.Minute)

	// Without auth, only the token (and the last use) changes.
	fresh, got, err := e.m.Rotate(t.Context(), s.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if fresh == "" || fresh == old || !secret.Equal(got.TokenHash, secret.Hash(fresh)) {
		t.Errorf("Rotate gave token %q (old %q)", fresh, old)
	}
	if got.Level != 1 || !slices.Equal(got.AMR, []string{"pwd"}) || !got.AuthTime.Equal(s.AuthTime) || !got.LastSeenAt.Equal(e.clock.Now()) {
		t.Errorf("Rotate(nil) = level %d amr %v auth time %v last seen %v", got.Level, got.AMR, got.AuthTime, got.LastSeenAt)
	}
	if _, err := e.m.Load(t.Context(), old); !errors.Is(err, session.ErrNoSession) {
		t.Errorf("the old token after Rotate: %v, want ErrNoSession", err)
	}

	// With auth, the authentication is replaced and its time is now.
	e.clock.Advance(time.Minute)
	third, got, err := e.m.Rotate(t.Context(), s.ID, &session.Auth{AMR: []string{"pwd", "otp", "mfa"}, Level: 3})
	if err != nil {
		t.Fatal(err)
	}
	if got.Level != 3 || !slices.Equal(got.AMR, []string{"pwd", "otp", "mfa"}) || !got.AuthTime.Equal(e.clock.Now()) {
		t.Errorf("Rotate(auth) = level %d amr %v auth time %v", got.Level, got.AMR, got.AuthTime)
	}
	loaded, err := e.m.Load(t.Context(), third)
	if err != nil || loaded.ID != s.ID || loaded.Level != 3 {
		t.Errorf("Load(new token) = %+v, %v", loaded, err)
	}
	if _, err := e.m.Load(t.Context(), fresh); !errors.Is(err, session.ErrNoSession) {
		t.Errorf("the second token after another Rotate: %v", err)
	}
	if _, _, err := e.m.Rotate(t.Context(), "no-such-session", nil); !errors.Is(err, session.ErrNoSession) {
		t.Errorf("Rotate(unknown) = %v, want ErrNoSession", err)
	}
}

func TestRevoke(t *testing.T) {
	e := newEnv(t)
	token, s := e.create(t, e.acct)
	if err := e.m.Revoke(t.Context(), s.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.m.Load(t.Context(), token); !errors.Is(err, session.ErrNoSession) {
		t.Errorf("Load after Revoke = %v", err)
	}
	if got := e.endedIDs(); !slices.Equal(got, []string{s.ID}) {
		t.Errorf("after Revoke, Ended was told of %v, want %s", got, s.ID)
	}
	// A session already gone is not an error, and not ended again.
	if err := e.m.Revoke(t.Context(), s.ID); err != nil {
		t.Errorf("revoking a session twice = %v, want nil", err)
	}
	if got := e.endedIDs(); !slices.Equal(got, []string{s.ID}) {
		t.Errorf("after revoking twice, Ended was told of %v, want only %s once", got, s.ID)
	}
	e.m.Ended = nil
	_, s2 := e.create(t, e.acct)
	if err := e.m.Revoke(t.Context(), s2.ID); err != nil {
		t.Errorf("Revoke without Ended = %v", err)
	}
}

func TestRevokeOthers(t *testing.T) {
	e := newEnv(t)
	other := e.account(t)
	var tokens []string
	var ids []string
	for range 3 {
		tok, s := e.create(t, e.acct)
		tokens, ids = append(tokens, tok), append(ids, s.ID)
	}
	otherToken, _ := e.create(t, other)

	n, err := e.m.RevokeOthers(t.Context(), e.acct, ids[1])
	if err != nil || n != 2 {
		t.Fatalf("RevokeOthers(keep one) = %d, %v; want 2", n, err)
	}
	for i, tok := range tokens {
		_, err := e.m.Load(t.Context(), tok)
		if (i == 1) != (err == nil) {
			t.Errorf("session %d after RevokeOthers: %v", i, err)
		}
	}
	if _, err := e.m.Load(t.Context(), otherToken); err != nil {
		t.Errorf("another account's session ended: %v", err)
	}
	got := e.endedIDs()
	slices.Sort(got)
	want := []string{ids[0], ids[2]}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("Ended was told of %v, want %v", got, want)
	}

	e.m.Ended = nil
	if n, err := e.m.RevokeOthers(t.Context(), e.acct, ""); err != nil || n != 1 {
		t.Errorf("RevokeOthers(keep none) = %d, %v; want 1", n, err)
	}
	if _, err := e.m.Load(t.Context(), tokens[1]); !errors.Is(err, session.ErrNoSession) {
		t.Errorf("the kept session after RevokeOthers(\"\"): %v", err)
	}
}

func TestSweep(t *testing.T) {
	e := newEnv(t)
	_, idle := e.create(t, e.acct)
	e.clock.Advance(10 * time.Minute)
	liveToken, live := e.create(t, e.acct)
	e.clock.Advance(20 * time.Minute) // idle is exactly 30 minutes idle now
	n, err := e.m.Sweep(t.Context())
	if err != nil || n != 1 {
		t.Fatalf("Sweep = %d, %v; want 1", n, err)
	}
	if _, err := e.db.GetSession(t.Context(), idle.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the idle session survived the sweep: %v", err)
	}
	if _, err := e.db.GetSession(t.Context(), live.ID); err != nil {
		t.Errorf("the live session was swept: %v", err)
	}
	// Kept active, it still ends at the absolute timeout.
	for e.clock.Now().Before(live.ExpiresAt.Add(-20 * time.Minute)) {
		if _, err := e.m.Load(t.Context(), liveToken); err != nil {
			t.Fatalf("an active session ended at %v: %v", e.clock.Now(), err)
		}
		e.clock.Advance(20 * time.Minute)
	}
	if _, err := e.m.Load(t.Context(), liveToken); err != nil {
		t.Fatal(err)
	}
	if n, _ := e.m.Sweep(t.Context()); n != 0 {
		t.Errorf("Sweep before the absolute timeout removed %d", n)
	}
	e.clock.Advance(live.ExpiresAt.Sub(e.clock.Now()))
	if n, err := e.m.Sweep(t.Context()); err != nil || n != 1 {
		t.Errorf("Sweep at the absolute timeout = %d, %v; want 1", n, err)
	}
}

// Without Now the manager uses the wall clock.
func TestDefaultClock(t *testing.T) {
	e := newEnv(t)
	e.m.Now = nil
	before := time.Now()
	_, s := e.create(t, e.acct)
	after := time.Now()
	if s.CreatedAt.Before(before) || s.CreatedAt.After(after) {
		t.Errorf("CreatedAt %v is not between %v and %v", s.CreatedAt, before, after)
	}
}
