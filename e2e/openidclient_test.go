package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/browsertest"
	"github.com/portvakt/portvakt/internal/flow"
	"github.com/portvakt/portvakt/internal/op"
	"github.com/portvakt/portvakt/internal/testwait"
)

// ocVersion is the openid-client release the journey runs, as
// e2e/openid-client/package.json pins it.
const ocVersion = "6.8.9"

// TestOpenIDClient runs an independent, certified relying party library,
// openid-client (npm), against a running Portvakt: discovery, the
// authorization code flow with PKCE (the user signs in in the browser),
// ID token validation, userinfo, refresh, introspection, revocation and
// RP-initiated logout. `make test` installs it (scripts/install-test-deps.sh
// runs npm ci in e2e/openid-client).
func TestOpenIDClient(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), testwait.D(60*time.Second))
	t.Cleanup(cancel)
	rp := ocStartRP(ctx, t)

	srv := startServer(t)
	app := ocNewApp(t)
	c, secret, err := srv.App.OP.CreateClient(ctx, op.ClientConfig{
		Name:                   "openid-client",
		RedirectURIs:           []string{app.URL + "/callback"},
		PostLogoutRedirectURIs: []string{app.URL + "/logged-out"},
		GrantTypes:             []string{op.GrantAuthorizationCode, op.GrantRefreshToken},
	})
	if err != nil {
		t.Fatalf("CreateClient: %v", err)
	}
	who := person{Email: "ingrid.openid@example.org", Name: "Ingrid Haugen", Password: "Fjellstue-ved-Gjende-1931"}
	acct, err := srv.App.Flows.CreateAccount(ctx, flow.NewAccount{Name: who.Name, Email: who.Email, Password: who.Password})
	if err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}

	// Discovery.
	var disc struct {
		Issuer    string            `json:"issuer"`
		Endpoints map[string]string `json:"endpoints"`
		ISSParam  bool              `json:"authorization_response_iss_parameter_supported"`
	}
	rp.call(t, map[string]any{"op": "discover", "issuer": srv.URL, "client_id": c.ID, "client_secret": secret}, &disc)
	if disc.Issuer != srv.URL {
		t.Errorf("discovered issuer %q, want %q", disc.Issuer, srv.URL)
	}
	for name, path := range map[string]string{
		"authorization_endpoint": op.PathAuthorize, "token_endpoint": op.PathToken, "userinfo_endpoint": op.PathUserinfo,
		"introspection_endpoint": op.PathIntrospec, "revocation_endpoint": op.PathRevoke,
		"end_session_endpoint": op.PathEndSession, "jwks_uri": op.PathKeys,
	} {
		if got := disc.Endpoints[name]; got != srv.URL+path {
			t.Errorf("discovery: %s = %q, want %q", name, got, srv.URL+path)
		}
	}
	if !disc.ISSParam {
		t.Errorf("discovery does not announce authorization_response_iss_parameter_supported (RFC 9207)")
	}

	// The authorization request, and the user signing in in the browser.
	var start struct {
		URL string `json:"url"`
	}
	rp.call(t, map[string]any{"op": "start", "redirect_uri": app.URL + "/callback", "scope": "openid profile email offline_access"}, &start)
	if !strings.HasPrefix(start.URL, srv.URL+op.PathAuthorize+"?") {
		t.Fatalf("authorization URL %q is not at the provider's %s", start.URL, op.PathAuthorize)
	}
	p := browsertest.Shared(t).NewPage(t)
	p.Open(start.URL)
	wantPath(t, p, "/login")
	p.Fill("#email", who.Email)
	p.Submit(`form[action="/login"] button[type="submit"]`)
	wantPath(t, p, "/login/password")
	enterPassword(t, p, who.Password)
	if !strings.HasPrefix(p.URL(), app.URL+"/callback?") {
		t.Fatalf("after signing in the browser is at %s (%q), want the app's callback %s/callback", p.URL(), p.Text("body"), app.URL)
	}
	if got := p.Text("h1"); got != "Signed in to the test app" {
		t.Errorf("callback page heading %q", got)
	}
	callback := app.last(t, "/callback")
	if cb, _ := url.Parse(callback); cb.Query().Get("iss") != srv.URL {
		t.Errorf("the callback's iss is %q, want %q (RFC 9207)", cb.Query().Get("iss"), srv.URL)
	}

	// openid-client redeems the code and goes on: userinfo, refresh,
	// introspection, revocation, the end-session URL.
	var got struct {
		TokenType string         `json:"token_type"`
		Scope     string         `json:"scope"`
		IDToken   string         `json:"id_token"`
		Claims    map[string]any `json:"claims"`
		Userinfo  map[string]any `json:"userinfo"`
		Refresh   struct {
			OK             bool           `json:"ok"`
			NewAccessToken bool           `json:"new_access_token"`
			Rotated        bool           `json:"rotated"`
			IDToken        string         `json:"id_token"`
			Claims         map[string]any `json:"claims"`
		} `json:"refresh"`
		Before map[string]any `json:"introspection_before"`
		After  map[string]any `json:"introspection_after"`
		EndURL string         `json:"end_session_url"`
	}
	rp.call(t, map[string]any{"op": "finish", "callback": callback,
		"post_logout_redirect_uri": app.URL + "/logged-out", "logout_state": "bye-42"}, &got)
	if !strings.EqualFold(got.TokenType, "bearer") {
		t.Errorf("token_type %q", got.TokenType)
	}
	// The library validated the ID token (signature, iss, aud, exp, nonce);
	// check what it accepted.
	cl := got.Claims
	if cl["iss"] != srv.URL {
		t.Errorf("ID token iss %v, want %q", cl["iss"], srv.URL)
	}
	if !ocAudienceHas(cl["aud"], c.ID) {
		t.Errorf("ID token aud %v, want %q", cl["aud"], c.ID)
	}
	if cl["sub"] != acct.ID {
		t.Errorf("ID token sub %v, want the account's ID %s", cl["sub"], acct.ID)
	}
	for _, k := range []string{"sub", "acr", "amr", "auth_time", "sid", "nonce"} {
		if v, ok := cl[k]; !ok || v == "" || v == nil {
			t.Errorf("ID token has no %s: %v", k, cl)
		}
	}
	if amr, _ := cl["amr"].([]any); !slices.Contains(amr, any("pwd")) {
		t.Errorf("ID token amr %v, want pwd among them", cl["amr"])
	}
	if cl["acr"] != op.ACRLevel1 {
		t.Errorf("ID token acr %v, want %q (a password alone)", cl["acr"], op.ACRLevel1)
	}
	if at, _ := cl["auth_time"].(float64); at == 0 || time.Since(time.Unix(int64(at), 0)).Abs() > time.Minute {
		t.Errorf("ID token auth_time %v is not about now", cl["auth_time"])
	}
	if !strings.Contains(" "+got.Scope+" ", " offline_access ") {
		t.Errorf("granted scope %q lacks offline_access", got.Scope)
	}
	// Userinfo: the same subject, with the address.
	if got.Userinfo["sub"] != cl["sub"] {
		t.Errorf("userinfo sub %v, ID token sub %v", got.Userinfo["sub"], cl["sub"])
	}
	if got.Userinfo["email"] != who.Email || got.Userinfo["email_verified"] != true {
		t.Errorf("userinfo email %v (verified %v), want %q verified", got.Userinfo["email"], got.Userinfo["email_verified"], who.Email)
	}
	if got.Userinfo["name"] != who.Name {
		t.Errorf("userinfo name %v, want %q", got.Userinfo["name"], who.Name)
	}
	// Refresh: a new access token, and a new refresh token (rotation).
	if !got.Refresh.OK || !got.Refresh.NewAccessToken {
		t.Errorf("refresh gave no new access token: %+v", got.Refresh)
	}
	if !got.Refresh.Rotated {
		t.Errorf("refresh did not rotate the refresh token: %+v", got.Refresh)
	}
	if got.Refresh.Claims != nil && got.Refresh.Claims["sub"] != cl["sub"] {
		t.Errorf("refreshed ID token sub %v, want %v", got.Refresh.Claims["sub"], cl["sub"])
	}
	// Introspection of the refreshed access token, then revocation.
	if got.Before["active"] != true {
		t.Errorf("introspection before revocation: %v, want active", got.Before)
	} else {
		if got.Before["sub"] != cl["sub"] || got.Before["client_id"] != c.ID {
			t.Errorf("introspection before revocation: sub %v client_id %v, want %v and %q", got.Before["sub"], got.Before["client_id"], cl["sub"], c.ID)
		}
	}
	if got.After["active"] != false || len(got.After) != 1 {
		t.Errorf("introspection after revocation: %v, want only active false", got.After)
	}

	// The end-session URL: the provider's, with the ID token as the hint.
	end, err := url.Parse(got.EndURL)
	if err != nil {
		t.Fatalf("end-session URL %q: %v", got.EndURL, err)
	}
	if base := end.Scheme + "://" + end.Host + end.Path; base != srv.URL+op.PathEndSession {
		t.Errorf("end-session URL %q is not at %s", got.EndURL, srv.URL+op.PathEndSession)
	}
	hint := got.Refresh.IDToken // the newest ID token
	if hint == "" {
		hint = got.IDToken
	}
	if q := end.Query(); hint == "" || q.Get("id_token_hint") != hint ||
		q.Get("post_logout_redirect_uri") != app.URL+"/logged-out" || q.Get("state") != "bye-42" {
		t.Errorf("end-session URL %q lacks the id_token_hint, post_logout_redirect_uri or state", got.EndURL)
	}

	// The browser is signed in at Portvakt until it follows the
	// end-session URL; then it lands at the app, signed out.
	p.Open(srv.URL + "/account")
	wantPath(t, p, "/account")
	if code := ocSessionStatus(t, p); code != http.StatusOK {
		t.Fatalf("GET /api/v1/session before logout = %d, want 200", code)
	}
	p.Open(got.EndURL)
	if want := app.URL + "/logged-out?state=bye-42"; p.URL() != want {
		t.Fatalf("after the end-session URL the browser is at %s (%q), want %s", p.URL(), p.Text("body"), want)
	}
	if got := p.Text("h1"); got != "Signed out of the test app" {
		t.Errorf("post-logout page heading %q", got)
	}
	p.Open(srv.URL + "/account")
	wantPath(t, p, "/login")
	if code := ocSessionStatus(t, p); code != http.StatusUnauthorized {
		t.Errorf("GET /api/v1/session after logout = %d, want 401", code)
	}
}

// ocAudienceHas reports whether an aud claim (a string or a list) holds id.
func ocAudienceHas(aud any, id string) bool {
	switch a := aud.(type) {
	case string:
		return a == id
	case []any:
		return slices.Contains(a, any(id))
	}
	return false
}

// ocSessionStatus asks /api/v1/session, from the page (which must be on
// Portvakt's origin) with its cookies, and returns the status.
func ocSessionStatus(t *testing.T, p *browsertest.Page) int {
	t.Helper()
	var code int
	p.Eval(`fetch("/api/v1/session", {credentials: "same-origin", headers: {Accept: "application/json"}}).then(r => r.status)`, &code)
	return code
}

// ocApp is the relying party's web side: the callback and post-logout
// pages the browser lands on, which record the URLs they were opened at.
type ocApp struct {
	*httptest.Server
	mu   sync.Mutex
	hits map[string][]string // path → full URLs, oldest first
}

func ocNewApp(t *testing.T) *ocApp {
	a := &ocApp{hits: map[string][]string{}}
	page := func(heading string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			a.mu.Lock()
			a.hits[r.URL.Path] = append(a.hits[r.URL.Path], "http://"+r.Host+r.URL.RequestURI())
			a.mu.Unlock()
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprintf(w, "<!doctype html><title>%s</title><h1>%s</h1>", heading, heading)
		}
	}
	mux := http.NewServeMux()
	mux.Handle("GET /callback", page("Signed in to the test app"))
	mux.Handle("GET /logged-out", page("Signed out of the test app"))
	a.Server = httptest.NewServer(mux) // http://127.0.0.1:port
	t.Cleanup(a.Close)
	return a
}

// last returns the URL path was last opened at.
func (a *ocApp) last(t *testing.T, path string) string {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	h := a.hits[path]
	if len(h) == 0 {
		t.Fatalf("the app's %s was never opened", path)
	}
	return h[len(h)-1]
}

// ocRP is e2e/openid-client/rp.mjs running under node.
type ocRP struct {
	stdin  io.WriteCloser
	lines  chan string
	stderr *ocBuffer
}

// ocBuffer is rp.mjs's stderr, for failure messages.
type ocBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *ocBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *ocBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// ocStartRP starts the relying party; it fails (never skips) when node or
// the npm packages are missing: `make test` installs them.
func ocStartRP(ctx context.Context, t *testing.T) *ocRP {
	t.Helper()
	const how = "run `make test` (or ./scripts/install-test-deps.sh), which installs Node.js and runs npm ci in e2e/openid-client"
	dir, err := filepath.Abs("openid-client")
	if err != nil {
		t.Fatal(err)
	}
	// The Node.js 20 the install script unpacked where the system's is
	// older (Debian 12 has 18), else the one on PATH.
	node := filepath.Join(dir, ".node", "bin", "node")
	if _, err := os.Stat(node); err != nil {
		if node, err = exec.LookPath("node"); err != nil {
			t.Fatalf("node is not installed (%v): the openid-client journey needs it; %s", err, how)
		}
	}
	pkg, err := os.ReadFile(filepath.Join(dir, "node_modules", "openid-client", "package.json"))
	if err != nil {
		t.Fatalf("openid-client is not installed in %s/node_modules (%v); %s", dir, err, how)
	}
	var meta struct {
		Version string `json:"version"`
	}
	if err := json.Unmarshal(pkg, &meta); err != nil || meta.Version != ocVersion {
		t.Fatalf("e2e/openid-client/node_modules has openid-client %q, want %s (%v); %s", meta.Version, ocVersion, err, how)
	}

	cmd := exec.CommandContext(ctx, node, filepath.Join(dir, "rp.mjs"))
	cmd.Dir = dir
	rp := &ocRP{lines: make(chan string), stderr: &ocBuffer{}}
	cmd.Stderr = rp.stderr
	if rp.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	// When ctx ends (the test's end at the latest), rp.mjs is asked to
	// stop by the end of its input, and killed if it has not within
	// WaitDelay.
	cmd.Cancel = func() error { return rp.stdin.Close() }
	cmd.WaitDelay = 5 * time.Second
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s rp.mjs: %v", node, err)
	}
	go func() {
		defer close(rp.lines)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
		for sc.Scan() {
			select {
			case rp.lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
	}()
	t.Cleanup(func() {
		rp.stdin.Close()
		// Wait reports the context's error when ctx ended first (the
		// test's context ends before cleanups run); only a failing exit
		// counts.
		if err := cmd.Wait(); err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("rp.mjs: %v; stderr:\n%s", err, rp.stderr)
		}
	})
	return rp
}

// call sends one command and decodes the answer into out; an error
// answer, or none within 20 s, fails the test.
func (rp *ocRP) call(t *testing.T, cmd map[string]any, out any) {
	t.Helper()
	b, _ := json.Marshal(cmd)
	if _, err := rp.stdin.Write(append(b, '\n')); err != nil {
		t.Fatalf("rp.mjs %s: writing the command: %v; stderr:\n%s", cmd["op"], err, rp.stderr)
	}
	var line string
	select {
	case l, ok := <-rp.lines:
		if !ok {
			t.Fatalf("rp.mjs %s: the process ended; stderr:\n%s", cmd["op"], rp.stderr)
		}
		line = l
	case <-time.After(testwait.D(20 * time.Second)):
		t.Fatalf("rp.mjs %s: no answer within %v; stderr:\n%s", cmd["op"], testwait.D(20*time.Second), rp.stderr)
	}
	var e struct {
		Error *string `json:"error"`
		Code  any     `json:"code"`
		Cause any     `json:"cause"`
	}
	if err := json.Unmarshal([]byte(line), &e); err != nil {
		t.Fatalf("rp.mjs %s: answer %q is not JSON: %v", cmd["op"], line, err)
	}
	if e.Error != nil {
		cause, _ := json.Marshal(e.Cause)
		t.Fatalf("openid-client %s failed: %s (code %v, cause %s)", cmd["op"], *e.Error, e.Code, cause)
	}
	if err := json.Unmarshal([]byte(line), out); err != nil {
		t.Fatalf("rp.mjs %s: answer %s: %v", cmd["op"], line, err)
	}
}
