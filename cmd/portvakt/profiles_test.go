package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portvakt/portvakt"
	"github.com/portvakt/portvakt/examples/profiles"
	"github.com/portvakt/portvakt/internal/testwait"
	"github.com/portvakt/portvakt/internal/web/openapi/openapitest"
)

// waitGet polls url until the server answers, for a budget of 10 s
// (scaled: testwait). An /api/ answer must match the OpenAPI document.
func waitGet(t *testing.T, url string, stderr *syncBuffer) (int, string) {
	t.Helper()
	client := &http.Client{Transport: openapitest.Transport(t, nil)}
	var resp *http.Response
	var err error
	if !testwait.Until(10*time.Second, func() bool { resp, err = client.Get(url); return err == nil }) {
		t.Fatalf("GET %s: %v\n%s", url, err, stderr.String())
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp.StatusCode, string(body)
}

// Every seed profile runs as shipped, with nothing but its name: SQLite in
// the working directory, localhost, and the development mailbox (where
// mail and SMS codes are read), and serves its own sign-in page.
func TestServeProfile(t *testing.T) {
	tests := []struct {
		profile, db, service, lang, field string
		welcome                           string // the home page's heading
		signUp                            bool   // the home page offers sign-up
	}{
		{"altinn", "altinn.db", "Altinn", "nb", `name="username"`, "<h1>Velkommen til Altinn</h1>", false},
		{"idep", "idep.db", "IDEP.WEB", "sv", `name="username"`, "<h1>Välkommen till IDEP.WEB</h1>", false},
		{"udi", "udi.db", "UDI Min side", "nb", `type="email"`, "<h1>Velkommen til UDI Min side</h1>", true},
		{"visma", "visma.db", "Visma.net", "en", `href="/login/username"`, "<h1>Welcome to Visma.net</h1>", true},
		{"visma-connect", "connect.db", "Visma Connect", "en", `type="email"`, "<h1>Welcome to Visma Connect</h1>", true},
	}
	if got, want := len(tests), len(profiles.Names()); got != want {
		t.Fatalf("the test knows %d profiles, there are %d: %v", got, want, profiles.Names())
	}
	for _, tt := range tests {
		t.Run(tt.profile, func(t *testing.T) {
			dir := t.TempDir()
			t.Chdir(dir)
			addr := freeAddr(t)
			ctx, cancel := context.WithCancel(t.Context())
			stderr := new(syncBuffer)
			done := make(chan int, 1)
			go func() {
				done <- run(ctx, []string{"serve", "--profile", tt.profile, "--listen", addr}, nil, nil, io.Discard, stderr)
			}()
			defer func() {
				cancel()
				if code := <-done; code != 0 {
					t.Errorf("serve --profile %s exited %d:\n%s", tt.profile, code, stderr.String())
				}
			}()
			code, body := waitGet(t, "http://"+addr+"/login", stderr)
			if code != 200 {
				t.Fatalf("GET /login = %d:\n%s\n%s", code, body, stderr.String())
			}
			for _, want := range []string{tt.service, `lang="` + tt.lang + `"`, tt.field} {
				if !strings.Contains(body, want) {
					t.Errorf("the %s sign-in page lacks %s:\n%s", tt.profile, want, body)
				}
			}
			if tt.field == `type="email"` && !strings.Contains(body, map[string]string{"nb": "Ikke anbefalt på offentlig eller delt datamaskin.", "en": "Not recommended on a public or shared computer."}[tt.lang]) {
				t.Errorf("the %s sign-in page's \"remember my email\" lacks the shared-computer warning", tt.profile)
			}
			_, home := waitGet(t, "http://"+addr+"/", stderr)
			if !strings.Contains(home, tt.welcome) || strings.Contains(home, "Portvakt</h1>") {
				t.Errorf("the %s home page lacks %s:\n%s", tt.profile, tt.welcome, home)
			}
			if got := strings.Contains(home, `href="/signup"`); got != tt.signUp {
				t.Errorf("the %s home page offers sign-up: %v, want %v", tt.profile, got, tt.signUp)
			}
			// The demo app speaks the portal's language.
			_, demoPage := waitGet(t, "http://"+addr+"/demo", stderr)
			wantLogin := map[string]string{"nb": "Logg inn med Portvakt", "sv": "Logga in med Portvakt", "en": "Log in with Portvakt"}[tt.lang]
			if !strings.Contains(demoPage, `lang="`+tt.lang+`"`) || !strings.Contains(demoPage, wantLogin) {
				t.Errorf("the %s demo app is not in %s:\n%s", tt.profile, tt.lang, demoPage)
			}
			if code, _ := waitGet(t, "http://"+addr+"/dev/mail", stderr); code != 200 {
				t.Errorf("GET /dev/mail = %d, want the development mailbox on", code)
			}
			if _, err := os.Stat(filepath.Join(dir, tt.db)); err != nil {
				t.Errorf("no %s in the working directory: %v", tt.db, err)
			}
		})
	}
}

// A file given with a profile holds only the overrides; the profile's
// own keys stay.
func TestProfileWithOverrides(t *testing.T) {
	path := filepath.Join(t.TempDir(), "production.yaml")
	os.WriteFile(path, []byte("public_url: https://idep.example.se\ndatabase: {dsn: "+filepath.Join(t.TempDir(), "idep.db")+"}\n"), 0o600)
	var stdout, stderr bytes.Buffer
	code := run(t.Context(), []string{"config", "check", "--profile", "idep", "--config", path}, nil, nil, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("config check --profile idep --config production.yaml = %d:\n%s%s", code, stdout.String(), stderr.String())
	}
	// IDEP sends no SMS: no warning about the SMS sender, even on a
	// public URL.
	if strings.Contains(stdout.String(), "sms") {
		t.Errorf("config check warns about SMS on IDEP:\n%s", stdout.String())
	}
	stdout.Reset()
	code = run(t.Context(), []string{"config", "check", "--profile", "altinn", "--config", path}, nil, nil, &stdout, &stderr)
	if code != 0 || !strings.Contains(stdout.String(), "warning: sms.sender") {
		t.Errorf("config check on Altinn with a public URL = %d, want a warning about the dev SMS sender:\n%s", code, stdout.String())
	}
	stderr.Reset()
	if code := run(t.Context(), []string{"serve", "--profile", "bankid"}, nil, nil, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), "altinn, idep, udi, visma, visma-connect") {
		t.Errorf("serve --profile bankid = %d, want 2 and the list of profiles:\n%s", code, stderr.String())
	}
}

// config check opens the database as serve would and names the directory
// that is missing, instead of SQLite's "unable to open database file".
func TestConfigCheckOpensTheDatabase(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "var", "lib", "portvakt")
	env := []string{"PORTVAKT_DATABASE_DSN=" + filepath.Join(missing, "altinn.db")}
	var stdout, stderr bytes.Buffer
	if code := run(t.Context(), []string{"config", "check", "--profile", "altinn"}, env, nil, &stdout, &stderr); code != 1 {
		t.Errorf("config check with a missing directory = %d, want 1:\n%s", code, stdout.String())
	}
	if !strings.Contains(stderr.String(), "the directory "+missing+" does not exist") || strings.Contains(stdout.String(), "valid") {
		t.Errorf("config check does not name the missing directory:\nstdout: %s\nstderr: %s", stdout.String(), stderr.String())
	}
	// serve says the same, and starts nothing.
	stderr.Reset()
	if code := run(t.Context(), []string{"serve", "--profile", "altinn", "--listen", "127.0.0.1:0"}, env, nil, io.Discard, &stderr); code != 1 || !strings.Contains(stderr.String(), missing+" does not exist") {
		t.Errorf("serve with a missing directory = %d:\n%s", code, stderr.String())
	}

	// A database that exists is opened; one that does not is announced.
	dsn := filepath.Join(dir, "p.db")
	env = []string{"PORTVAKT_DATABASE_DSN=" + dsn}
	stdout.Reset()
	if code := run(t.Context(), []string{"config", "check"}, env, nil, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), dsn+" will be created") {
		t.Errorf("config check before the first start = %d:\n%s", code, stdout.String())
	}
	if _, err := os.Stat(dsn); err == nil {
		t.Errorf("config check created %s", dsn)
	}
	if code := run(t.Context(), []string{"migrate"}, env, nil, io.Discard, io.Discard); code != 0 {
		t.Fatalf("migrate = %d", code)
	}
	stdout.Reset()
	if code := run(t.Context(), []string{"config", "check"}, env, nil, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), dsn+" opens") {
		t.Errorf("config check of an existing database = %d:\n%s", code, stdout.String())
	}
	// A file where the database should be is not a database.
	os.WriteFile(dsn, []byte("this is not SQLite, but long enough to have a header of its own......"), 0o600)
	stderr.Reset()
	if code := run(t.Context(), []string{"config", "check"}, env, nil, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), "database:") {
		t.Errorf("config check of a file that is no database = %d:\n%s", code, stderr.String())
	}
}

// syncBuffer is a bytes.Buffer that the server's goroutines and the test
// may use at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// config init writes the example configuration, which config check then
// accepts, and never writes over a file.
func TestConfigInit(t *testing.T) {
	t.Chdir(t.TempDir())
	var stdout, stderr bytes.Buffer
	if code := run(t.Context(), []string{"config", "init"}, nil, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("config init = %d:\n%s", code, stderr.String())
	}
	b, err := os.ReadFile("portvakt.yaml")
	if err != nil || !bytes.Equal(b, portvakt.ExampleConfig) {
		t.Fatalf("portvakt.yaml is not the example (%v)", err)
	}
	stdout.Reset()
	if code := run(t.Context(), []string{"config", "check", "--config", "portvakt.yaml"}, nil, nil, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), "configuration is valid") {
		t.Errorf("config check of the written file = %d:\n%s%s", code, stdout.String(), stderr.String())
	}
	os.WriteFile("portvakt.yaml", []byte("service_name: Mine\n"), 0o600)
	stderr.Reset()
	if code := run(t.Context(), []string{"config", "init"}, nil, nil, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), "portvakt.yaml exists") {
		t.Errorf("config init over a file = %d:\n%s", code, stderr.String())
	}
	if b, _ := os.ReadFile("portvakt.yaml"); string(b) != "service_name: Mine\n" {
		t.Errorf("config init wrote over portvakt.yaml: %q", b)
	}
}
