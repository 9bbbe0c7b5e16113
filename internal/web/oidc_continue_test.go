package web_test

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/portvakt/portvakt/internal/flow"
	"github.com/portvakt/portvakt/internal/op"
)

// fetchSite sets Sec-Fetch-Site on every request, as a browser does for a
// navigation another site started (and for the redirects that follow).
type fetchSite struct {
	rt   http.RoundTripper
	site string
}

func (f *fetchSite) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	if f.site != "" {
		r.Header.Set("Sec-Fetch-Site", f.site)
	}
	return f.rt.RoundTrip(r)
}

// TestContinueAsksOnACrossSiteGET (issue 10, finding 11): a signed-in
// browser sent to /authorize by another site gets "Continue to <app>"
// and no code; a cross-site POST of that page is refused; the same-origin
// POST completes. prompt=none cannot ask and gets interaction_required.
func TestContinueAsksOnACrossSiteGET(t *testing.T) {
	e := newEnv(t)
	const pw = "correct horse battery staple"
	if _, err := e.app.Flows.CreateAccount(t.Context(), flow.NewAccount{Name: "Kari", Email: "kari@example.no", Password: pw}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var got []url.Values
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, r.URL.Query())
	}))
	defer app.Close()
	answers := func() []url.Values { mu.Lock(); defer mu.Unlock(); return append([]url.Values(nil), got...) }
	c, _, err := e.app.OP.CreateClient(t.Context(), op.ClientConfig{Name: "Payroll", RedirectURIs: []string{app.URL + "/cb"}})
	if err != nil {
		t.Fatal(err)
	}
	b := newFormClient(t, e)
	site := &fetchSite{rt: b.client.Transport}
	b.client.Transport = site
	b.signIn("kari@example.no", pw)
	sum := sha256.Sum256([]byte(strings.Repeat("v", 50)))
	authorize := func(extra ...string) {
		q := url.Values{"client_id": {c.ID}, "redirect_uri": {app.URL + "/cb"}, "response_type": {"code"}, "scope": {"openid"},
			"state": {"s1"}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
		for i := 0; i+1 < len(extra); i += 2 {
			q.Set(extra[i], extra[i+1])
		}
		b.get("/authorize?" + q.Encode())
	}

	site.site = "cross-site"
	authorize()
	if n := len(answers()); n != 0 {
		t.Fatalf("a cross-site GET reached the app %d times: %v", n, answers())
	}
	if !strings.Contains(b.last, "Continue to Payroll") || !strings.Contains(b.url, "/oidc/continue") {
		t.Fatalf("cross-site GET ended at %s without asking:\n%s", b.url, b.last)
	}
	auth := b.find(`name="auth" value="([^"]+)"`)

	// Another site cannot answer for the user.
	b.post("/oidc/continue", "auth", auth)
	if b.status != http.StatusForbidden || len(answers()) != 0 {
		t.Fatalf("cross-site POST = %d, app answers %v; want 403 and none", b.status, answers())
	}
	site.site = "same-origin"
	b.post("/oidc/continue", "auth", auth)
	if a := answers(); len(a) != 1 || a[0].Get("code") == "" || a[0].Get("state") != "s1" {
		t.Fatalf("same-origin POST: app answers %v; want one code", a)
	}

	// A same-origin GET (back from a sign-in step) completes at once.
	authorize()
	if a := answers(); len(a) != 2 || a[1].Get("code") == "" {
		t.Errorf("same-origin GET: app answers %v; want a second code", a)
	}

	// prompt=none from another site cannot ask: interaction_required.
	site.site = "cross-site"
	authorize("prompt", "none")
	if a := answers(); len(a) != 3 || a[2].Get("error") != "interaction_required" || a[2].Get("code") != "" {
		t.Errorf("cross-site prompt=none: app answers %v; want interaction_required", a)
	}
}
