package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/portvakt/portvakt/internal/app"
	"github.com/portvakt/portvakt/internal/config"
	"github.com/portvakt/portvakt/internal/flow"
	"github.com/portvakt/portvakt/internal/store"
)

func TestPolicyCheck(t *testing.T) {
	tests := []struct {
		args       []string
		password   string
		code       int
		wantOutput []string
	}{
		{[]string{"--preset", "udi", "--lang", "nb"}, "Pass@word1", 1, []string{"@"}},
		{[]string{"--preset", "udi", "--lang", "sv"}, "Passord1æ", 1, []string{"æ"}},
		{[]string{"--preset", "udi"}, "Fjellvann42", 0, []string{"meets every requirement"}},
		{[]string{"--preset", "visma", "--lang", "en"}, "password", 1, []string{"capital letter", "digit", "special character"}},
		{[]string{}, "short", 1, []string{"at least 15 characters"}},
		{[]string{"--mfa"}, "violet tundra 9", 0, nil},
	}
	for _, tt := range tests {
		var out, errOut bytes.Buffer
		code := run(t.Context(), append([]string{"policy", "check"}, tt.args...), nil, strings.NewReader(tt.password+"\n"), &out, &errOut)
		if code != tt.code {
			t.Errorf("policy check %v < %q = %d, want %d\n%s%s", tt.args, tt.password, code, tt.code, out.String(), errOut.String())
		}
		for _, w := range tt.wantOutput {
			if !strings.Contains(out.String(), w) {
				t.Errorf("policy check %v < %q printed %q, want it to mention %q", tt.args, tt.password, out.String(), w)
			}
		}
		if tt.code == 1 && strings.Count(strings.TrimSpace(out.String()), "\n")+1 < len(tt.wantOutput) {
			t.Errorf("policy check %v < %q printed fewer lines than broken rules:\n%s", tt.args, tt.password, out.String())
		}
	}
	var out bytes.Buffer
	if code := run(t.Context(), []string{"policy", "check", "--preset", "nope"}, nil, strings.NewReader("x\n"), &out, &out); code != 2 || !strings.Contains(out.String(), "nope") {
		t.Errorf("policy check --preset nope = %d %q, want 2 naming the preset", code, out.String())
	}
}

func TestUserAdd(t *testing.T) {
	dsn := filepath.Join(t.TempDir(), "u.db")
	env := []string{"PORTVAKT_DATABASE_DSN=" + dsn, "PORTVAKT_LOGIN_METHODS=username,email"}
	var out, errOut bytes.Buffer
	code := run(t.Context(), []string{"user", "add", "--username", "4711", "--name", "Ada Lovelace", "--password-stdin"}, env, strings.NewReader("correct horse battery staple\n"), &out, &errOut)
	if code != 0 || !strings.Contains(out.String(), "username 4711") {
		t.Fatalf("user add = %d\n%s%s", code, out.String(), errOut.String())
	}
	out.Reset()
	errOut.Reset()
	code = run(t.Context(), []string{"user", "add", "--username", "4711", "--password-stdin"}, env, strings.NewReader("another long passphrase here\n"), &out, &errOut)
	if code != 1 || !strings.Contains(errOut.String(), "already used") {
		t.Errorf("second user add 4711 = %d, stderr %q; want 1 saying it is taken", code, errOut.String())
	}
	errOut.Reset()
	code = run(t.Context(), []string{"user", "add", "--username", "Bad Name!", "--email", "x@", "--password-stdin", "--lang", "nb"}, env, strings.NewReader("kort\n"), &out, &errOut)
	for _, want := range []string{"username:", "email:", "password:"} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("user add with three mistakes: stderr lacks %q:\n%s", want, errOut.String())
		}
	}
	if code != 1 {
		t.Errorf("user add with mistakes = %d, want 1", code)
	}

	// The account signs in with its username and password.
	cfg, _ := config.Load("", env)
	a, err := app.New(context.Background(), cfg, app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if _, err := a.Flows.LoginUsername(t.Context(), flow.Client{}, "4711", "correct horse battery staple"); err != nil {
		t.Errorf("LoginUsername(4711) = %v", err)
	}

	// Without a password, an email gets an invitation to choose one.
	out.Reset()
	code = run(t.Context(), []string{"user", "add", "--username", "4712", "--email", "kari@example.no", "--lang", "sv"}, env, nil, &out, &errOut)
	if code != 0 || !strings.Contains(out.String(), "invitation") {
		t.Fatalf("user add with email = %d\n%s", code, out.String())
	}
	msgs, err := a.Outbox.ListMessages(t.Context(), storeFilter("kari@example.no"))
	if err != nil || len(msgs) != 1 || !strings.Contains(msgs[0].Text, "/recover/link/") || msgs[0].Locale != "sv" {
		t.Errorf("invitation = %+v, %v", msgs, err)
	}
}

func storeFilter(to string) store.MessageFilter { return store.MessageFilter{To: to} }

func TestUserAddImportsABcryptHash(t *testing.T) {
	dsn := filepath.Join(t.TempDir(), "h.db")
	env := []string{"PORTVAKT_DATABASE_DSN=" + dsn, "PORTVAKT_LOGIN_METHODS=username"}
	hash, _ := bcrypt.GenerateFromPassword([]byte("legacy password from the old portal"), 10)
	var out, errOut bytes.Buffer
	if code := run(t.Context(), []string{"user", "add", "--username", "legacy", "--password-hash-stdin"}, env, strings.NewReader(string(hash)+"\n"), &out, &errOut); code != 0 {
		t.Fatalf("user add --password-hash-stdin = %d: %s", code, errOut.String())
	}
	if code := run(t.Context(), []string{"user", "add", "--username", "broken", "--password-hash-stdin"}, env, strings.NewReader("$2b$99$nonsense\n"), &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "password_hash:") {
		t.Errorf("user add with a malformed hash = %d: %s", code, errOut.String())
	}
	cfg, _ := config.Load("", env)
	a, err := app.New(context.Background(), cfg, app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	res, err := a.Flows.LoginUsername(t.Context(), flow.Client{}, "legacy", "legacy password from the old portal")
	if err != nil {
		t.Fatalf("sign-in with the imported bcrypt password: %v", err)
	}
	pw, _ := a.DB.GetPassword(t.Context(), res.Account.ID)
	if !strings.HasPrefix(pw.Hash, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("after sign-in the hash is %q, want it upgraded to argon2id", pw.Hash[:20])
	}
}

func TestConfigCheckWarnsAboutASeedPolicy(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run(t.Context(), []string{"config", "check"}, []string{"PORTVAKT_PASSWORD_PRESET=udi"}, nil, &out, &errOut)
	if code != 0 {
		t.Fatalf("config check with udi = %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "warning: password:") || !strings.Contains(out.String(), "NIST") {
		t.Errorf("config check with udi does not warn about the NIST deviation:\n%s", out.String())
	}
}

func TestUserRequireMFA(t *testing.T) {
	env := []string{"PORTVAKT_DATABASE_DSN=" + filepath.Join(t.TempDir(), "m.db"), "PORTVAKT_LOGIN_METHODS=username"}
	var out, errOut bytes.Buffer
	if code := run(t.Context(), []string{"user", "add", "--username", "9001", "--group", "finance", "--password-stdin"}, env, strings.NewReader("correct horse battery staple\n"), &out, &errOut); code != 0 {
		t.Fatalf("user add = %d: %s", code, errOut.String())
	}
	if code := run(t.Context(), []string{"user", "require-mfa", "--username", "9001"}, env, nil, &out, &errOut); code != 0 || !strings.Contains(out.String(), "required") {
		t.Fatalf("user require-mfa = %d: %s%s", code, out.String(), errOut.String())
	}
	cfg, _ := config.Load("", env)
	a, err := app.New(context.Background(), cfg, app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	acct, _ := a.DB.GetAccountByUsername(t.Context(), "9001")
	if !acct.MFARequired || len(acct.Groups) != 1 || acct.Groups[0] != "finance" {
		t.Errorf("account = %+v", acct)
	}
	res, err := a.Flows.LoginUsername(t.Context(), flow.Client{}, "9001", "correct horse battery staple")
	if err != nil || res.Pending == "" {
		t.Errorf("sign-in after require-mfa = %+v, %v; want the second-factor set-up", res, err)
	}
	if code := run(t.Context(), []string{"user", "require-mfa", "--username", "nobody"}, env, nil, &out, &errOut); code != 1 {
		t.Errorf("require-mfa for an unknown user = %d, want 1", code)
	}
}
