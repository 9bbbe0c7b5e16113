package web_test

// Regression tests for guarantees that once had no test of their own
// (issue 17): each fails when its guarantee is broken in the code.

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/authn/totp"
	"github.com/portvakt/portvakt/internal/config"
	"github.com/portvakt/portvakt/internal/flow"
	"github.com/portvakt/portvakt/internal/session"
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
