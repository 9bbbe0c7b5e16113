package sqlstore_test

import (
	"errors"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/store"
	"github.com/portvakt/portvakt/internal/store/sqlstore"
)

func TestOpenErrors(t *testing.T) {
	tests := []struct {
		name, driver, dsn, want string
	}{
		{"an unknown driver is named with the known ones", "mysql", "x", `unknown driver "mysql" (want one of sqlite, postgres)`},
		{"an empty DSN is refused", "sqlite", "", "empty DSN"},
		{"a SQLite file in a missing directory fails at once", "sqlite", filepath.Join(t.TempDir(), "missing", "p.db"), "open sqlite"},
		{"an unreachable PostgreSQL fails at once", "postgres", "postgres://nobody@127.0.0.1:1/x?sslmode=disable&connect_timeout=5", "open postgres"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := sqlstore.Open(t.Context(), tt.driver, tt.dsn)
			if err == nil {
				db.Close()
				t.Fatalf("Open(%q, %q) = nil error, want one containing %q", tt.driver, tt.dsn, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Open(%q, %q) = %v, want an error containing %q", tt.driver, tt.dsn, err, tt.want)
			}
		})
	}
}

func TestUpdateRefusesANewID(t *testing.T) {
	db := openSQLite(t)
	ctx := t.Context()
	if err := db.CreateAccount(ctx, store.Account{ID: "acct-1", Name: "Kari"}); err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	_, err := db.UpdateAccount(ctx, "acct-1", func(a store.Account) (store.Account, error) {
		a.ID, a.Name = "acct-2", "Ola"
		return a, nil
	})
	if err == nil || errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) {
		t.Errorf("UpdateAccount changing the ID = %v, want a plain error", err)
	}
	if a, err := db.GetAccount(ctx, "acct-1"); err != nil || a.Name != "Kari" {
		t.Errorf(`GetAccount("acct-1") = %+v, %v; want it unchanged`, a, err)
	}
}

func TestAMRWithSpaceIsRefused(t *testing.T) {
	db := openSQLite(t)
	ctx := t.Context()
	if err := db.CreateAccount(ctx, store.Account{ID: "acct-1"}); err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	s := store.Session{ID: "s", TokenHash: []byte{1}, AccountID: "acct-1", AMR: []string{"pwd otp"}}
	if err := db.CreateSession(ctx, s); err == nil {
		t.Errorf("CreateSession with AMR %q = nil, want an error", s.AMR)
	}
}

// BenchmarkSQLiteParallelUpdates measures UpdateSession on one row from
// many goroutines, which the single writer connection serializes.
func BenchmarkSQLiteParallelUpdates(b *testing.B) {
	db, err := sqlstore.OpenAndMigrate(b.Context(), "sqlite", filepath.Join(b.TempDir(), "p.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ctx := b.Context()
	if err := db.CreateAccount(ctx, store.Account{ID: "a"}); err != nil {
		b.Fatal(err)
	}
	if err := db.CreateSession(ctx, store.Session{ID: "s", TokenHash: []byte{1}, AccountID: "a"}); err != nil {
		b.Fatal(err)
	}
	var n atomic.Int64
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			_, err := db.UpdateSession(ctx, "s", func(s store.Session) (store.Session, error) {
				s.Level++
				return s, nil
			})
			if err != nil {
				b.Error(err)
				return
			}
			n.Add(1)
		}
	})
	s, err := db.GetSession(ctx, "s")
	if err != nil || int64(s.Level) != n.Load() {
		b.Errorf("Level = %d, %v; want %d", s.Level, err, n.Load())
	}
}

func TestRegisterRefusesAnotherAccountsCredentials(t *testing.T) {
	db := openSQLite(t)
	ctx := t.Context()
	if err := db.CreateAccount(ctx, store.Account{ID: "acct-1"}); err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	for name, call := range map[string]func() error{
		"an email of another account": func() error {
			return db.Register(ctx, store.Account{ID: "acct-2"},
				[]store.Email{{Address: "ola@example.no", AccountID: "acct-1"}}, nil)
		},
		"a password of another account": func() error {
			return db.Register(ctx, store.Account{ID: "acct-2"}, nil, &store.Password{AccountID: "acct-1", Hash: "x"})
		},
	} {
		err := call()
		if err == nil || errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) {
			t.Errorf("Register with %s = %v, want a plain error", name, err)
		}
		if _, err := db.GetAccount(ctx, "acct-2"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetAccount(%q) after Register with %s = %v, want not found", "acct-2", name, err)
		}
	}
	if _, err := db.GetPassword(ctx, "acct-1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetPassword(%q) = %v, want not found", "acct-1", err)
	}
}

func TestLastFailureNeverGoesBack(t *testing.T) {
	db := openSQLite(t)
	ctx := t.Context()
	t0 := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	for i, now := range []time.Time{t0, t0.Add(-time.Second)} { // a node whose clock is behind
		if n, err := db.AddFailure(ctx, "k", now, time.Hour); err != nil || n != i+1 {
			t.Fatalf("AddFailure #%d = %d, %v; want %d, nil", i+1, n, err, i+1)
		}
	}
	n, last, err := db.Failures(ctx, "k", t0, time.Hour)
	if err != nil || n != 2 || !last.Equal(t0) {
		t.Errorf("Failures = %d, %v, %v; want 2, %v, nil", n, last, err, t0)
	}
}

func TestUpdateFactorRefusesAnotherAccount(t *testing.T) {
	db := openSQLite(t)
	ctx := t.Context()
	for _, id := range []string{"acct-1", "acct-2"} {
		if err := db.CreateAccount(ctx, store.Account{ID: id}); err != nil {
			t.Fatalf("CreateAccount(%q): %v", id, err)
		}
	}
	want := store.Factor{ID: "f", AccountID: "acct-1", Kind: store.FactorTOTP, Name: "Authenticator", Secret: []byte{1}}
	if err := db.CreateFactor(ctx, want); err != nil {
		t.Fatalf("CreateFactor: %v", err)
	}
	for name, change := range map[string]func(*store.Factor){
		"the ID":         func(f *store.Factor) { f.ID = "g" },
		"the account ID": func(f *store.Factor) { f.AccountID = "acct-2" },
	} {
		_, err := db.UpdateFactor(ctx, "f", func(f store.Factor) (store.Factor, error) {
			change(&f)
			f.Name = "changed"
			return f, nil
		})
		if err == nil || errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) {
			t.Errorf("UpdateFactor changing %s = %v, want a plain error", name, err)
		}
	}
	if f, err := db.GetFactor(ctx, "f"); err != nil || f.Name != want.Name || f.AccountID != want.AccountID {
		t.Errorf(`GetFactor("f") = %+v, %v; want it unchanged`, f, err)
	}
}

func TestRecoveryCodesRefuseBadInput(t *testing.T) {
	db := openSQLite(t)
	ctx := t.Context()
	for _, id := range []string{"acct-1", "acct-2"} {
		if err := db.CreateAccount(ctx, store.Account{ID: id}); err != nil {
			t.Fatalf("CreateAccount(%q): %v", id, err)
		}
	}
	if err := db.ReplaceRecoveryCodes(ctx, "acct-1", []store.RecoveryCode{{Hash: []byte{1}}}); err != nil {
		t.Fatalf("ReplaceRecoveryCodes: %v", err)
	}
	for name, codes := range map[string][]store.RecoveryCode{
		"a code of another account": {{Hash: []byte{2}}, {AccountID: "acct-2", Hash: []byte{3}}},
		"a code without a digest":   {{Hash: []byte{2}}, {Hash: []byte{}}},
	} {
		err := db.ReplaceRecoveryCodes(ctx, "acct-1", codes)
		if err == nil || errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) {
			t.Errorf("ReplaceRecoveryCodes with %s = %v, want a plain error", name, err)
		}
	}
	for _, id := range []string{"acct-1", "acct-2"} {
		want := map[string]int{"acct-1": 1, "acct-2": 0}[id]
		if unused, total, err := db.CountRecoveryCodes(ctx, id); err != nil || unused != want || total != want {
			t.Errorf("CountRecoveryCodes(%q) = %d, %d, %v; want %d, %d, nil", id, unused, total, err, want, want)
		}
	}
	// The zero time would leave the code unused.
	_, err := db.UseRecoveryCode(ctx, "acct-1", []byte{1}, time.Time{})
	if err == nil || errors.Is(err, store.ErrNotFound) {
		t.Errorf("UseRecoveryCode at the zero time = %v, want a plain error", err)
	}
	if n, err := db.UseRecoveryCode(ctx, "acct-1", []byte{1}, time.UnixMilli(1)); err != nil || n != 0 {
		t.Errorf("UseRecoveryCode = %d, %v; want 0, nil", n, err)
	}
}

func TestTrustedBrowserWithoutTokenIsRefused(t *testing.T) {
	db := openSQLite(t)
	ctx := t.Context()
	if err := db.CreateAccount(ctx, store.Account{ID: "acct-1"}); err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	for _, token := range [][]byte{nil, {}} {
		err := db.CreateTrustedBrowser(ctx, store.TrustedBrowser{ID: "b", AccountID: "acct-1", TokenHash: token})
		if err == nil || errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) {
			t.Errorf("CreateTrustedBrowser with token hash %#v = %v, want a plain error", token, err)
		}
	}
	if list, err := db.ListTrustedBrowsers(ctx, "acct-1"); err != nil || len(list) != 0 {
		t.Errorf(`ListTrustedBrowsers("acct-1") = %+v, %v; want none`, list, err)
	}
}
