package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/portvakt/portvakt/internal/app"
	"github.com/portvakt/portvakt/internal/config"
)

// ccToken gets a client_credentials access token.
func ccToken(t *testing.T, base, id, secret string) string {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}}
	req, _ := http.NewRequest("POST", base+"/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(id, secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	json.NewDecoder(resp.Body).Decode(&tok)
	if resp.StatusCode != 200 || tok.AccessToken == "" {
		t.Fatalf("client_credentials for %s = %d", id, resp.StatusCode)
	}
	return tok.AccessToken
}

// isJWT: a compact JWS has three dot-separated parts; an opaque token none.
func isJWT(tok string) bool { return strings.Count(tok, ".") == 2 }

// Issue 12: opaque or JWT access tokens are chosen per client from the
// CLI, the admin API and the configuration file.
func TestAccessTokenFormatPerClient(t *testing.T) {
	dir := t.TempDir()
	adminToken := "admin-token-for-the-test"
	sum := sha256.Sum256([]byte(adminToken))
	cfgSecret := "configured-secret-of-forty-three-characters-x"
	cfgSum := sha256.Sum256([]byte(cfgSecret))
	yaml := "admin:\n  token_sha256: " + hex.EncodeToString(sum[:]) + "\n" +
		"oidc:\n  clients:\n" +
		"    - id: cfg-opaque\n      secret_sha256: " + hex.EncodeToString(cfgSum[:]) + "\n      grant_types: [client_credentials]\n      access_token_format: opaque\n" +
		"    - id: cfg-default\n      secret_sha256: " + hex.EncodeToString(cfgSum[:]) + "\n      grant_types: [client_credentials]\n"
	cfgPath := filepath.Join(dir, "portvakt.yaml")
	if err := writeFile(cfgPath, yaml); err != nil {
		t.Fatal(err)
	}
	env := []string{"PORTVAKT_DATABASE_DSN=" + filepath.Join(dir, "c.db")}
	cli := func(args ...string) (int, string) {
		var out, errOut bytes.Buffer
		code := run(t.Context(), append(args, "--config", cfgPath), env, nil, &out, &errOut)
		return code, out.String() + errOut.String()
	}
	added := map[string][2]string{}
	for _, f := range []string{"opaque", "jwt", ""} {
		args := []string{"client", "add", "--name", "svc " + f, "--grant", "client_credentials"}
		if f != "" {
			args = append(args, "--access-token-format", f)
		}
		code, out := cli(args...)
		id := regexp.MustCompile(`client_id:\s+(\S+)`).FindStringSubmatch(out)
		secret := regexp.MustCompile(`client_secret:\s+(\S+)`).FindStringSubmatch(out)
		if code != 0 || id == nil || secret == nil {
			t.Fatalf("client add --access-token-format %q = %d:\n%s", f, code, out)
		}
		added[f] = [2]string{id[1], secret[1]}
	}
	if code, out := cli("client", "add", "--name", "bad", "--grant", "client_credentials", "--access-token-format", "xml"); code == 0 || !strings.Contains(out, "access_token_format") {
		t.Errorf("client add --access-token-format xml = %d:\n%s", code, out)
	}
	code, list := cli("client", "list")
	if code != 0 {
		t.Fatalf("client list = %d:\n%s", code, list)
	}
	for f, want := range map[string]string{"opaque": "opaque", "jwt": "jwt", "": "jwt"} {
		if !regexp.MustCompile(regexp.QuoteMeta(added[f][0]) + `\s.*\s` + want + `\s`).MatchString(list) {
			t.Errorf("client list does not show %s for the client added with %q:\n%s", want, f, list)
		}
	}
	if !regexp.MustCompile(`cfg-opaque\s.*\sopaque\s`).MatchString(list) || !regexp.MustCompile(`cfg-default\s.*\sjwt\s`).MatchString(list) {
		t.Errorf("client list does not show the configured clients' formats:\n%s", list)
	}

	cfg, err := config.Load(cfgPath, env)
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(context.Background(), cfg, app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler())
	defer a.Close()
	defer srv.Close()
	for f, wantJWT := range map[string]bool{"opaque": false, "jwt": true, "": true} {
		if got := isJWT(ccToken(t, srv.URL, added[f][0], added[f][1])); got != wantJWT {
			t.Errorf("client added with --access-token-format %q: token is a JWT = %v, want %v", f, got, wantJWT)
		}
	}
	if isJWT(ccToken(t, srv.URL, "cfg-opaque", cfgSecret)) || !isJWT(ccToken(t, srv.URL, "cfg-default", cfgSecret)) {
		t.Error("the configuration's access_token_format is not followed")
	}

	// The admin API.
	admin := func(body string) (int, map[string]any) {
		req, _ := http.NewRequest("POST", srv.URL+"/api/admin/v1/clients", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+adminToken)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	status, c := admin(`{"name":"api svc","grant_types":["client_credentials"],"access_token_format":"opaque"}`)
	if status != 201 || c["access_token_format"] != "opaque" {
		t.Fatalf("admin create with opaque = %d %v", status, c)
	}
	if isJWT(ccToken(t, srv.URL, c["client_id"].(string), c["client_secret"].(string))) {
		t.Error("the admin API's opaque client got a JWT")
	}
	if status, c := admin(`{"name":"api jwt","redirect_uris":["https://app.example/cb"],"access_token_format":"jwt"}`); status != 201 || c["access_token_format"] != "jwt" {
		t.Errorf("admin create with jwt = %d %v", status, c)
	}
	if status, _ := admin(`{"name":"api bad","grant_types":["client_credentials"],"access_token_format":"xml"}`); status != 422 && status != 400 {
		t.Errorf("admin create with xml = %d, want a client error", status)
	}

	// Validation names the key.
	cfg.OIDC.Clients[0].AccessTokenFormat = "xml"
	if _, err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "oidc.clients[0].access_token_format") {
		t.Errorf("Validate with access_token_format xml = %v", err)
	}
}

func writeFile(path, s string) error { return os.WriteFile(path, []byte(s), 0o600) }
