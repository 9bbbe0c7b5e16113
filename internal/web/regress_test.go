package web_test

// Regression tests for guarantees that once had no test of their own
// (issue 17): each fails when its guarantee is broken in the code.

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/authn/totp"
	"github.com/portvakt/portvakt/internal/config"
	"github.com/portvakt/portvakt/internal/flow"
	"github.com/portvakt/portvakt/internal/session"
	"github.com/portvakt/portvakt/internal/store"
	"github.com/portvakt/portvakt/internal/web"
)

// offSite are return_to values that must never leave the site.
var offSite = []string{
	"https://evil.example/",
	"//evil.example/x",
	"/\\evil.example",
	"/./\\evil.example",
	"javascript:alert(1)",
	"http:/evil.example",
	"/\tevil",
}

// Bug 2: /stepup goes back only to a local page, for a session that
// already has the level (straight back) and for one that must first pass
// a second factor (back after it).
func TestStepUpReturnToStaysLocal(t *testing.T) {
	e := newEnv(t, func(c *config.Config) {
		c.MFA.Actions = map[string]config.Action{"payment": {MinLevel: 3}}
	})
	acct, err := e.app.Flows.CreateAccount(t.Context(), flow.NewAccount{Name: "Kari", Email: "kari@example.no", Password: "correct horse battery staple"})
	if err != nil {
		t.Fatal(err)
	}
	stepUp := func(level int, returnTo string) (*handlerBrowser, *http.Response) {
		t.Helper()
		auth := session.Auth{AMR: []string{"pwd"}, Level: 1, Methods: []string{"password"}}
		if level >= 3 {
			auth = session.Auth{AMR: []string{"pwd", "otp", "mfa"}, Level: level, Methods: []string{"password", "totp"}}
		}
		token, _, err := e.app.Sessions.Create(t.Context(), acct.ID, auth, session.Client{})
		if err != nil {
			t.Fatal(err)
		}
		b := newHandlerBrowser(t, e, "http://localhost:8080")
		b.cookies["portvakt_session"] = &http.Cookie{Name: "portvakt_session", Value: token}
		return b, b.do("GET", "/stepup?action=payment&return_to="+url.QueryEscape(returnTo))
	}

	t.Run("session strong enough", func(t *testing.T) {
		for _, to := range append(offSite, "/pay?order=7") {
			want := "/"
			if to == "/pay?order=7" {
				want = to
			}
			_, resp := stepUp(3, to)
			if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != want {
				t.Errorf("GET /stepup return_to=%q with a level-3 session = %d → %q, want 303 → %q", to, resp.StatusCode, resp.Header.Get("Location"), want)
			}
		}
	})

	t.Run("after the second factor", func(t *testing.T) {
		_, s, err := e.app.Sessions.Create(t.Context(), acct.ID, session.Auth{AMR: []string{"pwd"}, Level: 1, Methods: []string{"password"}}, session.Client{})
		if err != nil {
			t.Fatal(err)
		}
		who := flow.Who{Account: acct, Session: s}
		en, err := e.app.Flows.StartTOTP(t.Context(), who)
		if err != nil {
			t.Fatal(err)
		}
		code, _ := totp.Code(en.Secret, e.clock.Now())
		if _, err := e.app.Flows.ConfirmTOTP(t.Context(), flow.Client{}, who, en.FactorID, code); err != nil {
			t.Fatal(err)
		}
		for i, to := range []string{"https://evil.example/", "//evil.example/x", "/pay"} {
			b, resp := stepUp(1, to)
			loc := resp.Header.Get("Location")
			if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/login/factor?flow=") {
				t.Fatalf("GET /stepup with a level-1 session = %d → %q, want the second-factor step", resp.StatusCode, loc)
			}
			e.clock.Advance(time.Duration(i+1) * time.Minute)
			code, _ := totp.Code(en.Secret, e.clock.Now())
			resp = b.do("POST", "/login/factor", "flow", strings.TrimPrefix(loc, "/login/factor?flow="), "method", "totp:"+en.FactorID, "code", code)
			want := "/"
			if to == "/pay" {
				want = to
			}
			if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != want {
				t.Errorf("after the step-up for return_to=%q: %d → %q, want 303 → %q", to, resp.StatusCode, resp.Header.Get("Location"), want)
			}
		}
	})
}

// A disabled account's session stops working at its next request: the
// session is revoked and the browser's cookie cleared (SECURITY.md §7
// item 13).
func TestDisabledAccountLosesItsSession(t *testing.T) {
	e := newEnv(t)
	acct := createAccount(t, e, "kari")
	token, sess, err := e.app.Sessions.Create(t.Context(), acct.ID, session.Auth{AMR: []string{"pwd"}, Level: 1, Methods: []string{"password"}}, session.Client{})
	if err != nil {
		t.Fatal(err)
	}
	cookie := map[string]string{"Cookie": "portvakt_session=" + token}
	if resp, _ := e.do(t, "GET", "/api/v1/session", nil, cookie); resp.StatusCode != 200 {
		t.Fatalf("GET /api/v1/session before = %d", resp.StatusCode)
	}
	if _, err := e.app.DB.UpdateAccount(t.Context(), acct.ID, func(a store.Account) (store.Account, error) {
		a.Disabled = true
		return a, nil
	}); err != nil {
		t.Fatal(err)
	}
	resp, _ := e.do(t, "GET", "/api/v1/session", nil, cookie)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /api/v1/session of a disabled account = %d, want 401", resp.StatusCode)
	}
	var cleared bool
	for _, c := range resp.Cookies() {
		cleared = cleared || (c.Name == "portvakt_session" && c.Value == "" && c.MaxAge < 0)
	}
	if !cleared {
		t.Errorf("the disabled account's cookie was not cleared: %v", resp.Cookies())
	}
	if _, err := e.app.DB.GetSession(t.Context(), sess.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the disabled account's session is still stored: %v", err)
	}
}

// The request log says ERROR for a 5xx and INFO below that, and never
// reports a panic that did not happen.
func TestRequestLogLevels(t *testing.T) {
	e := newEnv(t)
	acct := createAccount(t, e, "per")
	token, _, err := e.app.Sessions.Create(t.Context(), acct.ID, session.Auth{Level: 1}, session.Client{})
	if err != nil {
		t.Fatal(err)
	}
	e.do(t, "GET", "/login", nil, nil)
	e.do(t, "GET", "/no/such/page", nil, nil)
	e.app.DB.Close()
	if resp, _ := e.do(t, "GET", "/", nil, map[string]string{"Cookie": "portvakt_session=" + token}); resp.StatusCode != 500 {
		t.Fatalf("GET / with the database closed = %d, want 500", resp.StatusCode)
	}
	levels := map[int]string{}
	for _, line := range strings.Split(e.logs.String(), "\n") {
		var rec struct {
			Level, Msg string
			Status     int
		}
		if json.Unmarshal([]byte(line), &rec) != nil {
			continue
		}
		if rec.Msg == "panic serving request" {
			t.Errorf("a panic was logged: %s", line)
		}
		if rec.Msg == "request" {
			levels[rec.Status] = rec.Level
		}
	}
	for status, want := range map[int]string{200: "INFO", 404: "INFO", 500: "ERROR"} {
		if levels[status] != want {
			t.Errorf("request log level for %d = %q, want %s (all: %v)", status, levels[status], want, levels)
		}
	}
}

// localPath is the one check every return_to passes (the language switch,
// sign-in, reauth, step-up): a path on this site comes back unchanged,
// anything else becomes "/".
func TestLocalPath(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/", "/"},
		{"/pay?order=7#top", "/pay?order=7#top"},
		{"/a b", "/a b"},               // a space is no control character
		{"/%2F%2Fevil", "/%2F%2Fevil"}, // escaped slashes stay in the path
		{"", "/"},                      // nothing
		{"evil.example/x", "/"},        // relative: not a path from the root
		{"https://evil.example/", "/"}, // another host
		{"//evil.example/x", "/"},      // protocol-relative
		{"/\\evil.example", "/"},       // a backslash, which browsers read as a slash
		{"/a\x1fb", "/"},               // a control character
		{"/a\x7fb", "/"},               // DEL
		{"/%zz", "/"},                  // not a URL at all
		{"javascript:alert(1)", "/"},   // a scheme
	}
	for _, tt := range tests {
		if got := web.LocalPath(tt.in); got != tt.want {
			t.Errorf("localPath(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
