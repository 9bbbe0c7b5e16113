package web_test

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/portvakt/portvakt/internal/flow"
	"github.com/portvakt/portvakt/internal/op"
	"github.com/portvakt/portvakt/internal/web"
)

// The JSON twin of an app's consent page: a signed-in client reads what
// the app asks (in its language), allows it and is sent to the app with a
// code; the answered request cannot be answered again; a refusal sends
// access_denied; without a session nothing is shown or recorded.
func TestAPIConsent(t *testing.T) {
	e := newEnv(t)
	const pw = "correct horse battery staple"
	if _, err := e.app.Flows.CreateAccount(t.Context(), flow.NewAccount{Name: "Kari", Email: "kari@example.no", Password: pw}); err != nil {
		t.Fatal(err)
	}
	const cb = "https://payroll.example/cb"
	client, _, err := e.app.OP.CreateClient(t.Context(), op.ClientConfig{Name: "Payroll", RedirectURIs: []string{cb}})
	if err != nil {
		t.Fatal(err)
	}
	c := newAPIClient(t, e, "nb")
	apiSignIn(t, c, "kari@example.no", pw)

	// start sends the signed-in client to /authorize with prompt=consent
	// and returns the request's ID from the continue page it lands on.
	start := func(state string) string {
		t.Helper()
		sum := sha256.Sum256([]byte(strings.Repeat("v", 50)))
		q := url.Values{"client_id": {client.ID}, "redirect_uri": {cb}, "response_type": {"code"}, "scope": {"openid email"},
			"state": {state}, "prompt": {"consent"}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
		var last *url.URL
		hc := &http.Client{Jar: c.client.Jar, CheckRedirect: func(r *http.Request, _ []*http.Request) error {
			last = r.URL
			if r.URL.Path == "/oidc/continue" {
				return http.ErrUseLastResponse // the issuer's absolute URL; the ID is all we need
			}
			return nil
		}}
		resp, err := hc.Get(e.srv.URL + "/authorize?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if last == nil || last.Path != "/oidc/continue" || last.Query().Get("auth") == "" {
			t.Fatalf("authorize led to %v, want the continue page", last)
		}
		return last.Query().Get("auth")
	}

	auth := start("s1")
	stranger := newAPIClient(t, e, "en")
	status, body := stranger.call("GET", "/api/v1/consent?auth="+url.QueryEscape(auth), nil, nil)
	wantProblem(t, "consent without a session", status, body, 401, "session.required")
	status, body = stranger.call("POST", "/api/v1/consent", map[string]string{"auth": auth, "decision": "allow"}, nil)
	wantProblem(t, "allowing without a session", status, body, 401, "session.required")

	var cj web.ConsentJSON
	if status, body := c.call("GET", "/api/v1/consent?auth="+url.QueryEscape(auth), nil, &cj); status != 200 || cj.Client != "Payroll" || cj.ClientID != client.ID || len(cj.Scopes) != 2 {
		t.Fatalf("consent = %d %s", status, body)
	}
	for _, sc := range cj.Scopes {
		if sc.Text == "" || sc.Text == sc.Scope {
			t.Errorf("scope %q is not explained: %+v", sc.Scope, cj.Scopes)
		}
	}
	// atApp follows a redirect through the provider's own callback (as a
	// browser would) to where the app is called.
	atApp := func(u string) string {
		t.Helper()
		for i := 0; i < 3 && !strings.HasPrefix(u, cb); i++ {
			u = strings.Replace(u, e.app.Config.PublicURL, e.srv.URL, 1)
			hc := &http.Client{Jar: c.client.Jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			resp, err := hc.Get(u)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			u = resp.Header.Get("Location")
		}
		return u
	}
	var rj web.RedirectJSON
	if status, body := c.call("POST", "/api/v1/consent", map[string]string{"auth": auth, "decision": "allow"}, &rj); status != 200 {
		t.Fatalf("allow = %d %s", status, body)
	}
	if u := atApp(rj.Redirect); !strings.HasPrefix(u, cb+"?") || !strings.Contains(u, "code=") || !strings.Contains(u, "state=s1") {
		t.Fatalf("allow led to %q, want the app's callback with a code", u)
	}
	status, body = c.call("POST", "/api/v1/consent", map[string]string{"auth": auth, "decision": "allow"}, nil)
	wantProblem(t, "the answered request again", status, body, 410, "oidc.gone.body")
	status, body = c.call("GET", "/api/v1/consent?auth=no-such-request", nil, nil)
	wantProblem(t, "an unknown request", status, body, 410, "oidc.gone.body")

	deny := start("s2")
	if status, body := c.call("POST", "/api/v1/consent", map[string]string{"auth": deny, "decision": "deny"}, &rj); status != 200 {
		t.Fatalf("deny = %d %s", status, body)
	}
	if u := atApp(rj.Redirect); !strings.HasPrefix(u, cb+"?") || !strings.Contains(u, "error=access_denied") || !strings.Contains(u, "state=s2") {
		t.Fatalf("deny led to %q, want access_denied at the app", u)
	}
}
