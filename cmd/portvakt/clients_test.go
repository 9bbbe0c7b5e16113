package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/portvakt/portvakt/internal/app"
	"github.com/portvakt/portvakt/internal/config"
)

// An operator registers a service integration with the CLI and it gets
// tokens with client_credentials; then lists and removes it.
func TestClientCommands(t *testing.T) {
	env := []string{"PORTVAKT_DATABASE_DSN=" + filepath.Join(t.TempDir(), "c.db")}
	var out, errOut bytes.Buffer
	code := run(t.Context(), []string{"client", "add", "--name", "Payroll export", "--grant", "client_credentials", "--scope", "payroll.read"}, env, nil, &out, &errOut)
	if code != 0 {
		t.Fatalf("client add = %d: %s", code, errOut.String())
	}
	id := regexp.MustCompile(`client_id:\s+(\S+)`).FindStringSubmatch(out.String())
	secret := regexp.MustCompile(`client_secret:\s+(\S+)`).FindStringSubmatch(out.String())
	if id == nil || secret == nil || len(secret[1]) < 43 {
		t.Fatalf("client add printed:\n%s", out.String())
	}

	cfg, _ := config.Load("", env)
	a, err := app.New(context.Background(), cfg, app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()
	defer a.Close()
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"payroll.read"}}
	req, _ := http.NewRequest("POST", srv.URL+"/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(id[1], secret[1])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
	}
	json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if resp.StatusCode != 200 || tok.AccessToken == "" {
		t.Fatalf("client_credentials = %d %+v", resp.StatusCode, tok)
	}
	// A wrong secret gets JSON, not text.
	req, _ = http.NewRequest("POST", srv.URL+"/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(id[1], "wrong")
	resp, _ = http.DefaultClient.Do(req)
	resp.Body.Close()
	if resp.StatusCode != 401 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Errorf("wrong secret = %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	a.Close()

	out.Reset()
	if code := run(t.Context(), []string{"client", "list"}, env, nil, &out, &errOut); code != 0 || !strings.Contains(out.String(), id[1]) || strings.Contains(out.String(), secret[1]) {
		t.Errorf("client list = %d:\n%s", code, out.String())
	}
	out.Reset()
	if code := run(t.Context(), []string{"client", "remove", id[1]}, env, nil, &out, &errOut); code != 0 {
		t.Errorf("client remove = %d: %s", code, errOut.String())
	}
	out.Reset()
	run(t.Context(), []string{"client", "list"}, env, nil, &out, &errOut)
	if strings.Contains(out.String(), id[1]) {
		t.Errorf("removed client still listed:\n%s", out.String())
	}
}
