package web_test

import (
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/config"
	"github.com/portvakt/portvakt/internal/flow"
	"github.com/portvakt/portvakt/internal/upstream"
	"github.com/portvakt/portvakt/internal/upstream/upstreamtest"
)

const udiRefusal = "MinID does not give a high enough level of assurance for My page. Use BankID, Buypass or Commfides."

// federationEnv is Portvakt with ID-porten (UDI's rules) and Google, each
// a real OpenID Provider over HTTP.
func federationEnv(t *testing.T) (*env, *upstreamtest.Server, *upstreamtest.Server) {
	t.Helper()
	idp, google := upstreamtest.New(t), upstreamtest.New(t)
	e := newEnv(t, func(c *config.Config) {
		c.Upstreams = []upstream.Config{
			{ID: "idporten", Preset: upstream.PresetIDPorten, Issuer: idp.Issuer, ClientID: idp.ClientID, ClientSecret: idp.ClientSecret,
				ACRValues: []string{"idporten-loa-high"}, AcceptACR: []string{"idporten-loa-high"}, FirstLogin: upstream.FirstCreate,
				ACRRefusal: map[string]string{"en": udiRefusal}},
			{ID: "google", Preset: upstream.PresetGoogle, Issuer: google.Issuer, ClientID: google.ClientID, ClientSecret: google.ClientSecret, FirstLogin: upstream.FirstAsk},
		}
	})
	return e, idp, google
}

func bankID(pid, name string) upstreamtest.User {
	return upstreamtest.User{Subject: "pairwise-" + pid, PID: pid, ACR: "idporten-loa-high", AMR: []string{"BankID"}, Name: name}
}

func TestFederatedSignIn_Pages(t *testing.T) {
	e, idp, _ := federationEnv(t)
	c := newFormClient(t, e)
	page := c.get("/login")
	i, g := strings.Index(page, "Sign in with ID-porten"), strings.Index(page, "Sign in with Google")
	if i < 0 || g < 0 || i > g {
		t.Fatalf("sign-in page buttons (ID-porten at %d, Google at %d), want both in config order:\n%s", i, g, page)
	}

	// ID-porten at high: a new account of its own, signed in.
	idp.SignInAs(bankID("01017012345", "Kari Nordmann"))
	c.get("/login/federated/idporten")
	if !strings.HasSuffix(c.url, "/account") || !strings.Contains(c.get("/"), "Kari Nordmann") {
		t.Fatalf("after ID-porten: %s %d\n%s", c.url, c.status, c.last)
	}
	page = c.get("/account/security")
	if !strings.Contains(page, "Sign-in methods") || !strings.Contains(page, "******12345") {
		t.Fatalf("security page lacks the linked ID-porten identity:\n%s", page)
	}
	// The trash: confirmation, then the refusal to remove the only way in.
	provider, subject := c.find(`name="provider" value="(idporten)"`), c.find(`name="subject" value="(nid:[0-9a-f]+)"`)
	c.get("/account/security/identities/remove?" + url.Values{"provider": {provider}, "subject": {subject}}.Encode())
	if !strings.Contains(c.last, "Remove ID-porten?") {
		t.Fatalf("confirmation page:\n%s", c.last)
	}
	c.post("/account/security/identities/remove", "provider", provider, "subject", subject)
	if c.status != http.StatusConflict || !strings.Contains(html.UnescapeString(c.last), "it is the only way to sign in") {
		t.Errorf("removing the last way in = %d:\n%s", c.status, c.last)
	}

	// MinID at substantial is refused by name, and nothing is signed in.
	other := newFormClient(t, e)
	idp.SignInAs(upstreamtest.User{Subject: "p2", PID: "02027012345", ACR: "idporten-loa-substantial", AMR: []string{"MinID"}})
	other.get("/login/federated/idporten")
	if other.status != http.StatusForbidden || !strings.Contains(other.last, udiRefusal) {
		t.Errorf("MinID = %d, want 403 with UDI's reason:\n%s", other.status, other.last)
	}
	other.get("/account")
	if !strings.Contains(other.url, "/login") {
		t.Errorf("after the MinID refusal /account is at %s; want no session", other.url)
	}

	// An answer that belongs to no sign-in of this browser.
	other.get("/login/federated/idporten/callback?code=x&state=forged&iss=" + url.QueryEscape(idp.Issuer))
	if other.status != http.StatusForbidden || !strings.Contains(html.UnescapeString(other.last), "does not belong to a sign-in started in this browser") {
		t.Errorf("forged state = %d:\n%s", other.status, other.last)
	}
}

// TestFederatedConflict_Pages is Visma Connect's conflict in the browser:
// the page names the other account masked; "Move it here" signs in to
// that account and moves the link; ID-porten then opens the new account.
func TestFederatedConflict_Pages(t *testing.T) {
	e, idp, _ := federationEnv(t)
	const pw = "correct horse battery staple"
	for _, a := range []flow.NewAccount{{Name: "Hanne Privat", Email: "hanne.hansen@gmail.com", Password: pw}, {Name: "Hanne Jobb", Email: "hanne@visma.no", Password: pw}} {
		if _, err := e.app.Flows.CreateAccount(t.Context(), a); err != nil {
			t.Fatal(err)
		}
	}
	idp.SignInAs(bankID("04047012345", "Hanne Hansen"))
	private := newFormClient(t, e)
	private.signIn("hanne.hansen@gmail.com", pw)
	private.get("/account/security")
	private.post("/account/security/identities/link", "provider", "idporten")
	if !strings.Contains(private.last, "The sign-in method was linked to your account.") {
		t.Fatalf("link from the private account: %s\n%s", private.url, private.last)
	}

	c := newFormClient(t, e)
	c.signIn("hanne@visma.no", pw)
	c.post("/account/security/identities/link", "provider", "idporten")
	body := html.UnescapeString(c.last)
	if !strings.Contains(body, "national identity number ******12345") || !strings.Contains(body, "already linked to the account ha…en@gm…om") || strings.Contains(body, "internal error") {
		t.Fatalf("conflict page at %s:\n%s", c.url, c.last)
	}
	c.post("/login/federated/move", "flow", c.find(`name="flow" value="([a-z0-9]+)"`))
	if !strings.Contains(c.url, "/login") || !strings.Contains(c.last, "Sign in to the account that has the link") {
		t.Fatalf("move: %s\n%s", c.url, c.last)
	}
	c.signIn("hanne.hansen@gmail.com", pw)
	if !strings.Contains(c.url, "/login/federated/choose") {
		t.Fatalf("after signing in to the holder: %s", c.url)
	}
	c.post("/login/federated/move", "flow", c.find(`name="flow" value="([a-z0-9]+)"`))
	if !strings.Contains(c.last, "The link was moved") {
		t.Fatalf("after the move: %s\n%s", c.url, c.last)
	}
	third := newFormClient(t, e)
	third.get("/login/federated/idporten")
	if !strings.Contains(third.get("/"), "Hanne Jobb") {
		t.Errorf("ID-porten after the move signs in to %s:\n%s", third.url, third.last)
	}
}

// TestFederatedAPI is the native app's twin: start returns the URL and a
// flow token; complete with the provider's answer opens a session.
func TestFederatedAPI(t *testing.T) {
	e, idp, _ := federationEnv(t)
	idp.SignInAs(bankID("08087012345", "Ola Nordmann"))
	resp, body := e.do(t, "POST", "/api/v1/federated/idporten/start", strings.NewReader("{}"), map[string]string{"Content-Type": "application/json"})
	var start struct{ URL, FlowToken string }
	if err := json.Unmarshal([]byte(body), &struct {
		URL       *string `json:"url"`
		FlowToken *string `json:"flow_token"`
	}{&start.URL, &start.FlowToken}); err != nil || resp.StatusCode != 200 || start.URL == "" {
		t.Fatalf("start = %d %s", resp.StatusCode, body)
	}
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	r, err := hc.Get(start.URL)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	loc, _ := url.Parse(r.Header.Get("Location"))
	q := loc.Query()
	in, _ := json.Marshal(map[string]string{"code": q.Get("code"), "state": q.Get("state"), "iss": q.Get("iss"), "flow_token": start.FlowToken})
	resp, body = e.do(t, "POST", "/api/v1/federated/idporten/complete", strings.NewReader(string(in)), map[string]string{"Content-Type": "application/json"})
	if resp.StatusCode != 200 || !strings.Contains(body, `"amr":["fed"]`) {
		t.Fatalf("complete = %d %s", resp.StatusCode, body)
	}
	// The same answer again is refused as problem+json.
	resp, body = e.do(t, "POST", "/api/v1/federated/idporten/complete", strings.NewReader(string(in)), map[string]string{"Content-Type": "application/json"})
	if resp.StatusCode != 403 || !strings.Contains(body, "federate.state") {
		t.Errorf("replayed complete = %d %s", resp.StatusCode, body)
	}
}

// TestFederatedSignOut_AtIDPorten: signing out of a session that came
// through ID-porten signs out there too (RP-initiated logout with the ID
// token as hint), and the browser comes back signed out.
func TestFederatedSignOut_AtIDPorten(t *testing.T) {
	e, idp, _ := federationEnv(t)
	idp.SignInAs(bankID("11117012345", "Kari Nordmann"))
	c := newFormClient(t, e)
	c.get("/login/federated/idporten")
	if !strings.HasSuffix(c.url, "/account") {
		t.Fatalf("after ID-porten: %s", c.url)
	}
	c.post("/logout")
	lo := idp.Logouts()
	if len(lo) != 1 || lo[0].Get("id_token_hint") == "" || lo[0].Get("post_logout_redirect_uri") != "http://localhost:8080/?notice=signed-out" {
		t.Fatalf("ID-porten saw logouts %v; want one with the ID token and the way back", lo)
	}
	if !strings.HasSuffix(c.url, "/?notice=signed-out") {
		t.Errorf("after sign-out the browser is at %s", c.url)
	}
	c.get("/account")
	if !strings.Contains(c.url, "/login") {
		t.Errorf("after sign-out /account is at %s; want the sign-in page", c.url)
	}
}

// TestFederatedAPI_Identities: the JSON twins of "Sign-in methods": link
// another (the URL to open, completed with the flow token), list, and
// remove (after a recent sign-in; never the last way in).
func TestFederatedAPI_Identities(t *testing.T) {
	e, idp, _ := federationEnv(t)
	const pw = "correct horse battery staple"
	if _, err := e.app.Flows.CreateAccount(t.Context(), flow.NewAccount{Name: "Kari", Email: "kari@example.no", Password: pw}); err != nil {
		t.Fatal(err)
	}
	c := newFormClient(t, e)
	c.signIn("kari@example.no", pw)
	call := func(method, path string, in any) (int, string) {
		t.Helper()
		b, _ := json.Marshal(in)
		req, _ := http.NewRequest(method, "http://localhost:8080"+path, strings.NewReader(string(b)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json")
		body := c.do(req)
		return c.status, body
	}
	idp.SignInAs(bankID("12127012345", "Kari"))
	status, body := call("POST", "/api/v1/account/identities", map[string]string{"provider": "idporten"})
	var start struct {
		URL       string `json:"url"`
		FlowToken string `json:"flow_token"`
	}
	if json.Unmarshal([]byte(body), &start); status != 200 || start.URL == "" {
		t.Fatalf("link start = %d %s", status, body)
	}
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	r, err := hc.Get(start.URL)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	loc, _ := url.Parse(r.Header.Get("Location"))
	q := loc.Query()
	status, body = call("POST", "/api/v1/federated/idporten/complete", map[string]string{"code": q.Get("code"), "state": q.Get("state"), "iss": q.Get("iss"), "flow_token": start.FlowToken})
	if status != 200 || !strings.Contains(body, `"next":"linked"`) {
		t.Fatalf("link complete = %d %s", status, body)
	}
	status, body = call("GET", "/api/v1/account/identities", nil)
	var list []struct{ Provider, Subject, Shown string }
	if json.Unmarshal([]byte(body), &list); status != 200 || len(list) != 1 || list[0].Shown != "******12345" {
		t.Fatalf("identities = %d %s", status, body)
	}
	e.clock.Advance(11 * time.Minute)
	if status, body = call("DELETE", "/api/v1/account/identities", map[string]string{"provider": list[0].Provider, "subject": list[0].Subject}); status != 403 || !strings.Contains(body, "reauth.required") {
		t.Errorf("remove with an old sign-in = %d %s", status, body)
	}
	c.signIn("kari@example.no", pw)
	if status, body = call("DELETE", "/api/v1/account/identities", map[string]string{"provider": list[0].Provider, "subject": list[0].Subject}); status != 204 {
		t.Errorf("remove after signing in again = %d %s", status, body)
	}
}

// TestServiceNeedsIDPorten is UDI's residence status: open only to a
// session that came through ID-porten at high. An email + password
// session gets a page saying so, with the button; through ID-porten it
// comes back to the service.
func TestServiceNeedsIDPorten(t *testing.T) {
	idp := upstreamtest.New(t)
	e := newEnv(t, func(c *config.Config) {
		c.Upstreams = []upstream.Config{{ID: "idporten", Preset: upstream.PresetIDPorten, Issuer: idp.Issuer, ClientID: idp.ClientID, ClientSecret: idp.ClientSecret,
			AcceptACR: []string{"idporten-loa-substantial", "idporten-loa-high"}, FirstLogin: upstream.FirstCreate}}
		c.Services = map[string]upstream.Service{"residence-status": {Via: "idporten", MinACR: "idporten-loa-high"}}
	})
	const pw = "correct horse battery staple"
	if _, err := e.app.Flows.CreateAccount(t.Context(), flow.NewAccount{Name: "Ali", Email: "ali@example.no", Password: pw}); err != nil {
		t.Fatal(err)
	}
	c := newFormClient(t, e)
	c.signIn("ali@example.no", pw)
	c.get("/service/residence-status?return_to=/account/security")
	if c.status != http.StatusForbidden || !strings.Contains(c.last, "You need to sign in with ID-porten to use this service") {
		t.Fatalf("an email + password session at the service = %d:\n%s", c.status, c.last)
	}
	button := html.UnescapeString(c.find(`href="(/login/federated/idporten\?[^"]+)"`))

	// MinID is not enough, even though ID-porten accepts it elsewhere.
	idp.SignInAs(upstreamtest.User{Subject: "p1", PID: "13137012345", ACR: "idporten-loa-substantial", AMR: []string{"MinID"}})
	c.get(button)
	if c.status != http.StatusForbidden || !strings.Contains(c.last, "MinID") {
		t.Errorf("MinID for the service = %d:\n%s", c.status, c.last)
	}
	idp.SignInAs(bankID("13137012345", "Ali Hassan"))
	c.get(button)
	if !strings.HasSuffix(c.url, "/account/security") {
		t.Errorf("after ID-porten at high the browser is at %s (%d), want back at the service's return_to", c.url, c.status)
	}
	if a := idp.Authorizations(); a[len(a)-1].Query.Get("acr_values") != "idporten-loa-high" {
		t.Errorf("ID-porten was asked for %q", a[len(a)-1].Query.Get("acr_values"))
	}
}

// TestDiscoveryListsUpstreamACROnlyWithTheUpstream: the configured
// upstream's acr values reach acr_values_supported through the app's
// wiring, and only when such an upstream is configured.
func TestDiscoveryListsUpstreamACROnlyWithTheUpstream(t *testing.T) {
	e, _, _ := federationEnv(t)
	_, body := e.do(t, "GET", "/.well-known/openid-configuration", nil, nil)
	if !strings.Contains(body, `"idporten-loa-high"`) || !strings.Contains(body, `"idporten-loa-substantial"`) {
		t.Errorf("discovery with ID-porten configured lacks its acr values: %s", body)
	}
	plain := newEnv(t)
	if _, body := plain.do(t, "GET", "/.well-known/openid-configuration", nil, nil); strings.Contains(body, "idporten") {
		t.Errorf("discovery without upstreams names ID-porten: %s", body)
	}
}
