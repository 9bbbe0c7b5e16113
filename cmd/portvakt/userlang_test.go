package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portvakt/portvakt/examples/profiles"
	"github.com/portvakt/portvakt/internal/app"
	"github.com/portvakt/portvakt/internal/config"
)

// An operator-created account has no language preference unless --lang
// gives one: a Swedish IDEP user then gets Swedish pages and mails, and
// the invitation is in the service's default language.
func TestUserAdd_NoLanguagePreferenceByDefault(t *testing.T) {
	dsn := filepath.Join(t.TempDir(), "idep.db")
	env := []string{"PORTVAKT_DATABASE_DSN=" + dsn}
	var out, errOut bytes.Buffer
	if code := run(t.Context(), []string{"user", "add", "--profile", "idep", "--username", "4711", "--email", "maja@scb.example.se"}, env, nil, &out, &errOut); code != 0 {
		t.Fatalf("user add = %d: %s", code, errOut.String())
	}
	if code := run(t.Context(), []string{"user", "add", "--profile", "idep", "--username", "4712", "--email", "erik@scb.example.se", "--lang", "en"}, env, nil, &out, &errOut); code != 0 {
		t.Fatalf("user add --lang en = %d: %s", code, errOut.String())
	}
	if code := run(t.Context(), []string{"user", "add", "--profile", "idep", "--username", "4713", "--lang", "de"}, env, nil, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "no preference") {
		t.Errorf("user add --lang de = %d: %s", code, errOut.String())
	}

	base, _ := profiles.Get("idep")
	cfg, err := config.LoadProfile("idep", base, "", env)
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(t.Context(), cfg, app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	for _, tt := range []struct{ username, email, locale, mail string }{
		{"4711", "maja@scb.example.se", "", "sv"},
		{"4712", "erik@scb.example.se", "en", "en"},
	} {
		acct, err := a.DB.GetAccountByUsername(t.Context(), tt.username)
		if err != nil {
			t.Fatal(err)
		}
		if acct.Locale != tt.locale {
			t.Errorf("account %s's language preference = %q, want %q", tt.username, acct.Locale, tt.locale)
		}
		msgs, err := a.Outbox.ListMessages(t.Context(), storeFilter(tt.email))
		if err != nil || len(msgs) != 1 || msgs[0].Locale != tt.mail {
			t.Errorf("invitation to %s = %+v, %v; want one in %s", tt.email, msgs, err, tt.mail)
		}
	}
}
