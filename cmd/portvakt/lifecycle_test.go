package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/app"
	"github.com/portvakt/portvakt/internal/config"
	"github.com/portvakt/portvakt/internal/secret"
	"github.com/portvakt/portvakt/internal/store"
)

// portvakt lifecycle run --dry-run lists what would happen and changes
// nothing; without it, the warning goes once.
func TestLifecycleRun(t *testing.T) {
	dsn := filepath.Join(t.TempDir(), "l.db")
	env := []string{"PORTVAKT_DATABASE_DSN=" + dsn, "PORTVAKT_LIFECYCLE_INACTIVE_AFTER=730d", "PORTVAKT_LIFECYCLE_WARN_BEFORE=30d,7d"}
	cfg := config.Default()
	cfg.Database.DSN = dsn
	a, err := app.New(t.Context(), cfg, app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	long := time.Now().Add(-710 * 24 * time.Hour)
	idle := store.Account{ID: secret.ID(), Name: "Idle Ida", CreatedAt: long, UpdatedAt: long}
	fresh := store.Account{ID: secret.ID(), Name: "Fresh Fred", CreatedAt: time.Now(), UpdatedAt: time.Now()}
	for _, acct := range []store.Account{idle, fresh} {
		if err := a.DB.CreateAccount(t.Context(), acct); err != nil {
			t.Fatal(err)
		}
	}
	a.Close()

	for range 2 {
		var out, errOut bytes.Buffer
		if code := run(t.Context(), []string{"lifecycle", "run", "--dry-run"}, env, nil, &out, &errOut); code != 0 {
			t.Fatalf("lifecycle run --dry-run = %d\n%s", code, errOut.String())
		}
		if !strings.Contains(out.String(), "warn") || !strings.Contains(out.String(), idle.ID) || strings.Contains(out.String(), fresh.ID) ||
			!strings.Contains(out.String(), "1 action(s) would be taken; nothing was changed.") {
			t.Errorf("lifecycle run --dry-run printed:\n%s", out.String())
		}
	}
	var out, errOut bytes.Buffer
	if code := run(t.Context(), []string{"lifecycle", "run"}, env, nil, &out, &errOut); code != 0 || !strings.Contains(out.String(), "1 action(s) taken.") {
		t.Fatalf("lifecycle run = %d\n%s%s", code, out.String(), errOut.String())
	}
	out.Reset()
	if code := run(t.Context(), []string{"lifecycle", "run"}, env, nil, &out, &errOut); code != 0 || !strings.Contains(out.String(), "0 action(s) taken.") {
		t.Errorf("lifecycle run again = %d, want nothing to do:\n%s", code, out.String())
	}
	if code := run(t.Context(), []string{"lifecycle", "walk"}, env, nil, &out, &errOut); code != 2 {
		t.Errorf("lifecycle walk = %d, want 2", code)
	}
	if code := run(t.Context(), []string{"lifecycle", "run"}, append(env, "PORTVAKT_LIFECYCLE_INACTIVE_AFTER=3d"), nil, &out, &errOut); code == 0 || !strings.Contains(errOut.String(), "lifecycle.inactive_after") {
		t.Errorf("lifecycle run with inactive_after 3d = %d, want a configuration error naming the key:\n%s", code, errOut.String())
	}
}
