package sqlstore

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/pgtest"
	"github.com/portvakt/portvakt/internal/store"
)

// TestRekeyEmails: addresses stored before keys were normalised (the key
// was the address lower-cased, a Unicode domain as typed) are found by
// every variant after Migrate; a key another account already has is left
// alone; a second run changes nothing.
func TestRekeyEmails(t *testing.T) {
	dsns := map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return filepath.Join(t.TempDir(), "portvakt.db") },
		"postgres": func(t *testing.T) string { return pgtest.Shared(t).NewDatabase(t) },
	}
	for _, driver := range Drivers() {
		t.Run(driver, func(t *testing.T) {
			ctx := t.Context()
			db, err := OpenAndMigrate(ctx, driver, dsns[driver](t))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			for _, id := range []string{"a", "b", "c"} {
				if err := db.CreateAccount(ctx, store.Account{ID: id, Username: "user-" + id, Name: id, Locale: "nb", CreatedAt: at, UpdatedAt: at}); err != nil {
					t.Fatal(err)
				}
			}
			// Rows as the store wrote them before: key = lower(address).
			old := []struct{ key, address, account string }{
				{"kari@blåbær.no", "Kari@Blåbær.no", "a"},
				{"ola@xn--blbr-roah.no", "ola@xn--blbr-roah.no", "b"}, // already current
				{"ola@blåbær.no", "ola@blåbær.no", "c"},               // now the same address as b's
			}
			for i, r := range old {
				if _, err := db.writer().exec(ctx, "INSERT INTO emails (address_key, address, account_id, is_primary, verified_at, created_at) VALUES (?, ?, ?, ?, ?, ?)",
					r.key, r.address, r.account, true, millis(at), millis(at.Add(time.Duration(i)*time.Second))); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := db.GetEmail(ctx, "kari@xn--blbr-roah.no"); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("before rekeying, GetEmail(IDNA form) = %v; want not found (the test needs old keys)", err)
			}
			if _, err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			for _, v := range []string{"kari@xn--blbr-roah.no", "KARI@BLÅBÆR.NO", "kari@bla\u030abær.no"} {
				e, err := db.GetEmail(ctx, v)
				if err != nil || e.AccountID != "a" || e.Address != "Kari@Blåbær.no" {
					t.Errorf("GetEmail(%q) = %+v, %v; want account a's stored address", v, e, err)
				}
			}
			if e, err := db.GetEmail(ctx, "ola@blåbær.no"); err != nil || e.AccountID != "b" {
				t.Errorf("GetEmail(ola) = %+v, %v; want account b, which had the key first", e, err)
			}
			if n, err := db.rekeyEmails(ctx); err != nil || n != 0 {
				t.Errorf("second rekey = %d, %v; want 0", n, err)
			}
		})
	}
}
