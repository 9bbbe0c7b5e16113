package web_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/descope/virtualwebauthn"

	"github.com/portvakt/portvakt/internal/authn/totp"
	"github.com/portvakt/portvakt/internal/authn/webauthn/webauthntest"
	"github.com/portvakt/portvakt/internal/config"
	"github.com/portvakt/portvakt/internal/flow"
	"github.com/portvakt/portvakt/internal/op"
	"github.com/portvakt/portvakt/internal/store"
	"github.com/portvakt/portvakt/internal/upstream/upstreamtest"
	"github.com/portvakt/portvakt/internal/web"
)

// Routes of other areas (issue 14's systems, organisations and
// representation; an app's consent; the act-as chooser; the security
// page's browsers and key labels) that TestDrivenRoutesOfOtherAreas
// drives, with the event each must write. TestEveryStateChangingRouteIsAudited
// counts them as driven.
var drivenOtherAreas = map[string]string{
	"POST /api/v1/account/systems":                     "settings.changed system:<id> (system.created)",
	"PUT /api/v1/account/systems/allowed":              "settings.changed system_login",
	"POST /api/v1/account/systems/{id}/rotate":         "settings.changed system:<id> (system.rotated)",
	"DELETE /api/v1/account/systems/{id}":              "settings.changed system:<id> (system.revoked)",
	"POST /account/systems":                            "settings.changed system:<id> (system.created)",
	"POST /account/systems/allow":                      "settings.changed system_login",
	"POST /account/systems/rotate":                     "settings.changed system:<id> (system.rotated)",
	"POST /account/systems/revoke":                     "settings.changed system:<id> (system.revoked)",
	"POST /api/v1/systems/login":                       "login.failed via system (wrong password)",
	"POST /api/v1/systems/login/code":                  "login.succeeded via system",
	"POST /api/v1/systems/token":                       "token.refreshed system:<id>",
	"POST /api/admin/v1/orgs":                          "account.updated org:<number> by the operator",
	"PUT /api/admin/v1/orgs/{id}/members/{account}":    "role.granted org:<number>",
	"PUT /api/admin/v1/accounts/{id}/rights":           "role.granted (rights set)",
	"POST /api/v1/account/representation/persons":      "representation.added",
	"POST /api/v1/account/representation/requests":     "representation.requested",
	"POST /api/v1/account/representation/{id}/accept":  "representation.accepted",
	"POST /api/v1/account/representation/{id}/decline": "representation.declined",
	"DELETE /api/v1/account/representation/{id}":       "representation.revoked",
	"POST /api/admin/v1/representation/{id}/approve":   "representation.approved by the operator",
	"DELETE /api/admin/v1/representation/{id}":         "representation.revoked by the operator",
	"POST /api/v1/act-as":                              "representation.acting_as",
	"POST /act-as":                                     "representation.acting_as",
	"POST /api/v1/consent":                             "consent.granted client:<id>",
	"POST /oidc/consent":                               "consent.granted client:<id>",
	"POST /account/security/keys/rename":               "settings.changed webauthn:<id> (key.renamed)",
	"POST /account/security/browsers/forget":           "browser.forgotten (one)",
	"POST /account/security/browsers/forget-all":       "browser.forgotten (all)",
}

// TestDrivenRoutesOfOtherAreas drives each route of drivenOtherAreas as a
// user or the operator would and checks that the request wrote its event,
// about the right account, with the right actor and target; then greps
// every event for the secrets used along the way.
func TestDrivenRoutesOfOtherAreas(t *testing.T) {
	e := newEnv(t, withSystems, func(c *config.Config) {
		c.Representation.Enabled = true
		c.Representation.RequireApproval = true
		c.Representation.Rights = []string{"udi:apply"}
		c.Systems.RefreshTokens = true
		c.Systems.RefreshTokenTTL = config.Duration(24 * time.Hour)
	})
	const pw = "a long walk through other areas 5"
	ctx := t.Context()
	mk := func(a flow.NewAccount) store.Account {
		t.Helper()
		acct, err := e.app.Flows.CreateAccount(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		return acct
	}
	kari := mk(flow.NewAccount{Name: "Kari", Username: "kari", Email: "kari@example.no", Password: pw})
	per := mk(flow.NewAccount{Name: "Per", Email: "per@example.no", Password: pw})
	liv := mk(flow.NewAccount{Name: "Liv", Email: "liv@example.no", Password: pw})
	secrets := []string{pw, systemsAdminToken}
	admin := map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + systemsAdminToken}
	adminCall := func(method, path, body string) (int, string) {
		t.Helper()
		var rd *strings.Reader
		if body != "" {
			rd = strings.NewReader(body)
		} else {
			rd = strings.NewReader("")
		}
		resp, b := e.do(t, method, path, rd, admin)
		return resp.StatusCode, b
	}

	expect := watchEvents(t, e)
	target := func(want string) func(store.AuditEvent) bool {
		return func(ev store.AuditEvent) bool { return ev.Target == want }
	}
	action := func(tg, act string) func(store.AuditEvent) bool {
		return func(ev store.AuditEvent) bool { return ev.Target == tg && ev.Data["action"] == act }
	}

	// ---- systems, through the JSON twin ----
	api := newAPIClient(t, e, "en")
	apiSignIn(t, api, "kari@example.no", pw)
	var sys web.SystemJSON
	if st, body := api.call("POST", "/api/v1/account/systems", map[string]any{"name": "Maestro", "rights": []string{"altinn:submit"}}, &sys); st != 201 {
		t.Fatalf("create system = %d %s", st, body)
	}
	secrets = append(secrets, sys.Secret)
	expect("POST /api/v1/account/systems", kari.ID, "settings.changed", "account", action("system:"+sys.ID, "system.created"))
	if st, body := api.call("PUT", "/api/v1/account/systems/allowed", map[string]any{"allowed": true}, nil); st != 200 {
		t.Fatalf("allow = %d %s", st, body)
	}
	expect("PUT /api/v1/account/systems/allowed", kari.ID, "settings.changed", "account", func(ev store.AuditEvent) bool {
		return ev.Target == "system_login" && ev.Data["allowed"] == "on"
	})
	var rotated web.SystemJSON
	if st, body := api.call("POST", "/api/v1/account/systems/"+sys.ID+"/rotate", nil, &rotated); st != 200 {
		t.Fatalf("rotate = %d %s", st, body)
	}
	secrets = append(secrets, rotated.Secret)
	expect("POST /api/v1/account/systems/{id}/rotate", kari.ID, "settings.changed", "account", action("system:"+sys.ID, "system.rotated"))

	// A person signs in through the system: a wrong password, then the
	// right one and the SMS code.
	if err := e.app.DB.CreateFactor(ctx, store.Factor{ID: "kari-phone", AccountID: kari.ID, Kind: store.FactorSMS, Name: "phone", Phone: "+4792345678",
		ConfirmedAt: e.clock.Now(), CreatedAt: e.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	sysCall := func(path string, in map[string]string) (int, string) {
		t.Helper()
		b, _ := json.Marshal(in)
		req, _ := http.NewRequest("POST", e.srv.URL+path, strings.NewReader(string(b)))
		req.Header.Set("Content-Type", "application/json")
		req.SetBasicAuth(sys.ID, rotated.Secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		raw, _ := json.Marshal(out)
		return resp.StatusCode, string(raw)
	}
	if st, body := sysCall("/api/v1/systems/login", map[string]string{"username": "kari", "password": "not kari's password at all"}); st < 400 {
		t.Errorf("system sign-in with a wrong password = %d %s", st, body)
	}
	expect("POST /api/v1/systems/login", kari.ID, "login.failed", "anonymous", func(ev store.AuditEvent) bool { return ev.Outcome == "denied" })
	st, body := sysCall("/api/v1/systems/login", map[string]string{"username": "kari", "password": pw})
	var started web.SystemLoginJSON
	json.Unmarshal([]byte(body), &started)
	if st != 200 || started.Handle == "" {
		t.Fatalf("system sign-in = %d %s", st, body)
	}
	if strings.Contains(body, "92345678") {
		t.Errorf("the system's answer shows the full phone number: %s", body)
	}
	msgs, _ := e.app.Outbox.ListMessages(ctx, store.MessageFilter{To: "+4792345678", Limit: 1})
	smsCode := ""
	if len(msgs) == 1 {
		smsCode = sixDigits.FindString(msgs[0].Text)
	}
	if smsCode == "" {
		t.Fatalf("no SMS code sent (%d messages)", len(msgs))
	}
	secrets = append(secrets, smsCode, started.Handle)
	st, body = sysCall("/api/v1/systems/login/code", map[string]string{"handle": started.Handle, "code": smsCode})
	if st != 200 {
		t.Fatalf("system sign-in code = %d %s", st, body)
	}
	var toks map[string]any
	json.Unmarshal([]byte(body), &toks)
	for _, k := range []string{"access_token", "refresh_token"} {
		if s, _ := toks[k].(string); s != "" {
			secrets = append(secrets, s)
		}
	}
	expect("POST /api/v1/systems/login/code", kari.ID, "login.succeeded", "account", func(ev store.AuditEvent) bool {
		return ev.Data["via"] == "system" && ev.Data["system"] == sys.ID
	})
	refresh, _ := toks["refresh_token"].(string)
	st, body = sysCall("/api/v1/systems/token", map[string]string{"grant_type": "refresh_token", "refresh_token": refresh})
	if st != 200 {
		t.Fatalf("system refresh = %d %s", st, body)
	}
	json.Unmarshal([]byte(body), &toks)
	for _, k := range []string{"access_token", "refresh_token"} {
		if s, _ := toks[k].(string); s != "" {
			secrets = append(secrets, s)
		}
	}
	expect("POST /api/v1/systems/token", kari.ID, "token.refreshed", "account", target("system:"+sys.ID))
	// Without the phone, Kari's password sessions are at full level
	// again (a change to systems needs one).
	if err := e.app.DB.DeleteFactor(ctx, "kari-phone"); err != nil {
		t.Fatal(err)
	}
	if st, body := api.call("DELETE", "/api/v1/account/systems/"+sys.ID, nil, nil); st != 204 {
		t.Fatalf("revoke = %d %s", st, body)
	}
	expect("DELETE /api/v1/account/systems/{id}", kari.ID, "settings.changed", "account", action("system:"+sys.ID, "system.revoked"))

	// ---- systems, through the page ----
	b := newFormClient(t, e)
	b.signIn("kari@example.no", pw)
	b.post("/account/systems", "name", "Paper", "rights", "altinn:download")
	own, err := e.app.DB.ListSystems(ctx, kari.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	var paper store.System
	for _, s := range own {
		if s.Name == "Paper" {
			paper = s
		}
	}
	if paper.ID == "" {
		t.Fatalf("the page made no system (%d %s)", b.status, b.url)
	}
	expect("POST /account/systems", kari.ID, "settings.changed", "account", action("system:"+paper.ID, "system.created"))
	b.post("/account/systems/rotate", "id", paper.ID)
	expect("POST /account/systems/rotate", kari.ID, "settings.changed", "account", action("system:"+paper.ID, "system.rotated"))
	b.post("/account/systems/revoke", "id", paper.ID)
	expect("POST /account/systems/revoke", kari.ID, "settings.changed", "account", action("system:"+paper.ID, "system.revoked"))
	b.post("/account/systems/allow", "allowed", "off")
	expect("POST /account/systems/allow", kari.ID, "settings.changed", "account", func(ev store.AuditEvent) bool {
		return ev.Target == "system_login" && ev.Data["allowed"] == "off"
	})

	// ---- organisations and rights, by the operator ----
	if st, body := adminCall("POST", "/api/admin/v1/orgs", `{"id":"912345678","name":"Fjordkraft Regnskap AS"}`); st != 201 {
		t.Fatalf("create org = %d %s", st, body)
	}
	expect("POST /api/admin/v1/orgs", "", "account.updated", "operator", func(ev store.AuditEvent) bool {
		return strings.HasPrefix(ev.Target, "org:") && ev.Reason == "organisation added"
	})
	if st, body := adminCall("PUT", "/api/admin/v1/orgs/912345678/members/kari", `{"role":"member","rights":["altinn:submit"]}`); st != 200 {
		t.Fatalf("put member = %d %s", st, body)
	}
	expect("PUT /api/admin/v1/orgs/{id}/members/{account}", kari.ID, "role.granted", "operator", func(ev store.AuditEvent) bool {
		return strings.HasPrefix(ev.Target, "org:") && ev.Data["role"] == "member"
	})
	if st, body := adminCall("PUT", "/api/admin/v1/accounts/kari/rights", `{"rights":["altinn:download"]}`); st != 200 {
		t.Fatalf("set rights = %d %s", st, body)
	}
	expect("PUT /api/admin/v1/accounts/{id}/rights", kari.ID, "role.granted", "operator", func(ev store.AuditEvent) bool {
		return ev.Reason == "rights set" && ev.Data["rights"] == "altinn:download"
	})

	// ---- representation ----
	var child struct{ ID, Status string }
	if st, body := api.call("POST", "/api/v1/account/representation/persons", map[string]any{"name": "Ola", "birth_date": "2019-03-14", "rights": []string{"udi:apply"}}, &child); st != http.StatusCreated {
		t.Fatalf("record a child = %d %s", st, body)
	}
	expect("POST /api/v1/account/representation/persons", kari.ID, "representation.added", "account", target(child.ID))
	perAPI := newAPIClient(t, e, "en")
	apiSignIn(t, perAPI, "per@example.no", pw)
	if st, body := perAPI.call("POST", "/api/v1/account/representation/requests", map[string]any{"account": "kari@example.no"}, nil); st != http.StatusAccepted {
		t.Fatalf("request = %d %s", st, body)
	}
	expect("POST /api/v1/account/representation/requests", per.ID, "representation.requested", "account", func(ev store.AuditEvent) bool {
		return ev.ActorID == per.ID && ev.Data["principal_account"] == kari.ID
	})
	livAPI := newAPIClient(t, e, "en")
	apiSignIn(t, livAPI, "liv@example.no", pw)
	if st, body := livAPI.call("POST", "/api/v1/account/representation/requests", map[string]any{"account": "kari@example.no"}, nil); st != http.StatusAccepted {
		t.Fatalf("Liv's request = %d %s", st, body)
	}
	expect("POST /api/v1/account/representation/requests (Liv)", liv.ID, "representation.requested", "account", nil)
	var kv struct {
		ActedForBy []struct {
			ID    string `json:"id"`
			Agent string `json:"agent"`
		} `json:"acted_for_by"`
	}
	api.call("GET", "/api/v1/account/representation", nil, &kv)
	perReq, livReq := "", ""
	for _, d := range kv.ActedForBy {
		switch d.Agent {
		case per.ID:
			perReq = d.ID
		case liv.ID:
			livReq = d.ID
		}
	}
	if perReq == "" || livReq == "" {
		t.Fatalf("Kari's requests %+v: Per's %q, Liv's %q", kv.ActedForBy, perReq, livReq)
	}
	if st, body := api.call("POST", "/api/v1/account/representation/"+perReq+"/accept", nil, nil); st != http.StatusOK {
		t.Fatalf("accept = %d %s", st, body)
	}
	expect("POST /api/v1/account/representation/{id}/accept", per.ID, "representation.accepted", "account", func(ev store.AuditEvent) bool {
		return ev.Target == perReq && ev.ActorID == kari.ID
	})
	if st, body := api.call("POST", "/api/v1/account/representation/"+livReq+"/decline", nil, nil); st != http.StatusOK && st != http.StatusNoContent {
		t.Fatalf("decline = %d %s", st, body)
	}
	expect("POST /api/v1/account/representation/{id}/decline", liv.ID, "representation.declined", "account", func(ev store.AuditEvent) bool {
		return ev.Target == livReq && ev.ActorID == kari.ID
	})
	resp, body := e.do(t, "POST", "/api/admin/v1/representation/"+child.ID+"/approve", nil, admin)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("approve = %d %s", resp.StatusCode, body)
	}
	expect("POST /api/admin/v1/representation/{id}/approve", kari.ID, "representation.approved", "operator", target(child.ID))

	// Kari acts for the child, then for herself: JSON and page.
	if st, body := api.call("POST", "/api/v1/act-as", map[string]string{"acting_for": child.ID}, nil); st != http.StatusOK {
		t.Fatalf("act as = %d %s", st, body)
	}
	expect("POST /api/v1/act-as", kari.ID, "representation.acting_as", "account", func(ev store.AuditEvent) bool {
		return ev.Target == child.ID && ev.Data["principal_kind"] != ""
	})
	if st, body := api.call("POST", "/api/v1/act-as", map[string]string{"acting_for": "self"}, nil); st != http.StatusOK {
		t.Fatalf("act as self = %d %s", st, body)
	}
	expect("POST /api/v1/act-as (self)", kari.ID, "representation.acting_as", "account", target("self"))
	b.post("/act-as", "acting_for", child.ID)
	expect("POST /act-as", kari.ID, "representation.acting_as", "account", target(child.ID))

	if st, body := api.call("DELETE", "/api/v1/account/representation/"+child.ID, nil, nil); st != http.StatusNoContent {
		t.Fatalf("remove = %d %s", st, body)
	}
	expect("DELETE /api/v1/account/representation/{id}", kari.ID, "representation.revoked", "account", target(child.ID))
	resp, body = e.do(t, "DELETE", "/api/admin/v1/representation/"+perReq, nil, admin)
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("operator revokes = %d %s", resp.StatusCode, body)
	}
	expect("DELETE /api/admin/v1/representation/{id}", per.ID, "representation.revoked", "operator", target(perReq))

	// ---- an app's consent: JSON and page ----
	const cb = "https://payroll.example/cb"
	client, clientSecret, err := e.app.OP.CreateClient(ctx, op.ClientConfig{Name: "Payroll", RedirectURIs: []string{cb}})
	if err != nil {
		t.Fatal(err)
	}
	secrets = append(secrets, clientSecret)
	// authID sends a client with jar to /authorize with prompt=consent and
	// returns the request's ID from the continue page it lands on.
	authID := func(jar http.CookieJar, transport http.RoundTripper, base string) string {
		t.Helper()
		sum := sha256.Sum256([]byte(strings.Repeat("v", 50)))
		q := url.Values{"client_id": {client.ID}, "redirect_uri": {cb}, "response_type": {"code"}, "scope": {"openid email"},
			"state": {"s"}, "prompt": {"consent"}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
		var last *url.URL
		hc := &http.Client{Jar: jar, Transport: transport, CheckRedirect: func(r *http.Request, _ []*http.Request) error {
			last = r.URL
			if r.URL.Path == "/oidc/continue" {
				return http.ErrUseLastResponse
			}
			return nil
		}}
		resp, err := hc.Get(base + "/authorize?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if last == nil || last.Path != "/oidc/continue" || last.Query().Get("auth") == "" {
			t.Fatalf("authorize led to %v, want the continue page", last)
		}
		return last.Query().Get("auth")
	}
	auth := authID(api.client.Jar, nil, e.srv.URL)
	if st, body := api.call("POST", "/api/v1/consent", map[string]string{"auth": auth, "decision": "allow"}, nil); st != 200 {
		t.Fatalf("allow = %d %s", st, body)
	}
	expect("POST /api/v1/consent", kari.ID, "consent.granted", "account", func(ev store.AuditEvent) bool {
		return ev.Target == "client:"+client.ID && ev.Data["scopes"] == "openid email"
	})
	// The page: a browser signed in as Per answers the consent form (the
	// answer sends it on to the app, not followed here).
	pb := newFormClient(t, e)
	pb.signIn("per@example.no", pw)
	auth = authID(pb.client.Jar, pb.client.Transport, "http://localhost:8080")
	noFollow := &http.Client{Jar: pb.client.Jar, Transport: pb.client.Transport, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	form := url.Values{"auth": {auth}, "decision": {"allow"}}
	req, _ := http.NewRequest("POST", "http://localhost:8080/oidc/consent", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	cresp, err := noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	cresp.Body.Close()
	if cresp.StatusCode != http.StatusSeeOther {
		t.Errorf("the consent form = %d, want 303", cresp.StatusCode)
	}
	expect("POST /oidc/consent", per.ID, "consent.granted", "account", target("client:"+client.ID))

	// ---- the security page: a key's label, remembered browsers ----
	keyID := []byte("walk-key-credential-id")
	if err := e.app.DB.CreateWebAuthnCredential(ctx, store.WebAuthnCredential{ID: keyID, AccountID: kari.ID, Name: "YubiKey", PublicKey: []byte("pk"), CreatedAt: e.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding.EncodeToString(keyID)
	b.post("/account/security/keys/rename", "id", enc, "name", "Work key")
	expect("POST /account/security/keys/rename", kari.ID, "settings.changed", "account", action("webauthn:"+enc, "key.renamed"))
	for _, id := range []string{"walk-browser-1", "walk-browser-2", "walk-browser-3"} {
		if err := e.app.DB.CreateTrustedBrowser(ctx, store.TrustedBrowser{ID: id, AccountID: kari.ID, TokenHash: []byte(id), UserAgent: "Firefox",
			CreatedAt: e.clock.Now(), ExpiresAt: e.clock.Now().AddDate(0, 0, 20)}); err != nil {
			t.Fatal(err)
		}
	}
	b.post("/account/security/browsers/forget", "id", "walk-browser-1")
	expect("POST /account/security/browsers/forget", kari.ID, "browser.forgotten", "account", func(ev store.AuditEvent) bool {
		return ev.Data["scope"] == "one" && ev.Data["browser"] == "walk-browser-1"
	})
	b.post("/account/security/browsers/forget-all")
	expect("POST /account/security/browsers/forget-all", kari.ID, "browser.forgotten", "account", func(ev store.AuditEvent) bool {
		return ev.Data["scope"] == "all" && ev.Data["count"] == "2"
	})

	// No secret, and no full phone number, in any event.
	all := events(t, e, store.AuditFilter{Limit: store.AuditEventLimit})
	raw, _ := json.Marshal(all)
	for _, s := range append(secrets, "+4792345678", "92345678") {
		if s != "" && strings.Contains(string(raw), s) {
			t.Errorf("an audit event holds the secret or number %q", s)
		}
	}
}

// Routes audited through a central seam of the flows (openSessionVia,
// failed, secure, notify) that TestDrivenRoutesThroughTheSeams drives,
// with the event each must write.
var drivenSeams = map[string]string{
	"POST /api/v1/signup/complete":          "account.created",
	"POST /signup/details":                  "account.created",
	"POST /login/username":                  "login.succeeded",
	"POST /api/v1/login/username":           "login.succeeded",
	"POST /oidc/logout":                     "session.ended (how: app)",
	"POST /api/v1/account/emails/verify":    "email.added",
	"POST /api/v1/account/emails/primary":   "email.primary_changed",
	"DELETE /api/v1/account/emails":         "email.removed",
	"POST /api/v1/account/phones/verify":    "factor.added",
	"POST /account/security/phones/verify":  "factor.added",
	"POST /account/security/totp/confirm":   "factor.added",
	"POST /api/v1/factor/verify":            "login.succeeded (the authenticator)",
	"POST /account/security/recovery":       "recovery_codes.generated",
	"POST /account/security/factors/remove": "factor.removed",
	"POST /api/v1/recovery/password":        "password.reset",
}

// watchEvents returns expect: it checks that the requests since the
// previous route's check wrote an event of kind about subject, by actor
// kind, that ok accepts (nil accepts any). Consecutive checks naming the
// same route look at the same events (one request, several events); a
// new route name starts a new window, so an event an earlier request
// wrote cannot stand in for a later one.
func watchEvents(t *testing.T, e *env) func(route, subject, kind, actorKind string, ok func(store.AuditEvent) bool) {
	seen := map[string]bool{}
	for _, ev := range events(t, e, store.AuditFilter{Limit: store.AuditEventLimit}) {
		seen[ev.ID] = true
	}
	var route string
	var window []store.AuditEvent
	return func(r, subject, kind, actorKind string, ok func(store.AuditEvent) bool) {
		t.Helper()
		if r != route {
			route, window = r, nil
			for _, ev := range events(t, e, store.AuditFilter{Limit: store.AuditEventLimit}) {
				if !seen[ev.ID] {
					seen[ev.ID] = true
					window = append(window, ev)
				}
			}
		}
		var same []store.AuditEvent
		for _, ev := range window {
			if ev.Kind != kind || ev.Subject != subject {
				continue
			}
			same = append(same, ev)
			if ev.ActorKind == actorKind && (ok == nil || ok(ev)) {
				return
			}
		}
		t.Errorf("%s wrote no matching %s event about %q by %s (its %s events about it: %+v)", r, kind, subject, actorKind, kind, same)
	}
}

// TestDrivenRoutesThroughTheSeams drives the routes of drivenSeams and
// checks each wrote its event about the right account; then greps every
// event for the secrets used along the way and the full phone number.
func TestDrivenRoutesThroughTheSeams(t *testing.T) {
	e := newEnv(t, func(c *config.Config) { c.Login.Methods = []string{"email", "username"} })
	ctx := t.Context()
	const pw, pw2 = "the seams walk a long way 6666", "the seams walk back again 7777"
	const phone = "+4793456789"
	secrets := []string{pw, pw2}
	expect := watchEvents(t, e)

	// Sign-up through the JSON API.
	c := newAPIClient(t, e, "en")
	var f web.FlowJSON
	if st, body := c.call("POST", "/api/v1/signup", map[string]string{"email": "seam@example.no"}, &f); st != 201 {
		t.Fatalf("signup = %d %s", st, body)
	}
	code := lastCode(t, e, "seam@example.no")
	secrets = append(secrets, code)
	if st, body := c.call("POST", "/api/v1/signup/code", map[string]string{"flow_id": f.FlowID, "flow_token": f.FlowToken, "code": code}, nil); st != 200 {
		t.Fatalf("signup code = %d %s", st, body)
	}
	var sess web.SessionJSON
	if st, body := c.call("POST", "/api/v1/signup/complete", map[string]string{"flow_id": f.FlowID, "flow_token": f.FlowToken, "name": "Seam Person", "password": pw}, &sess); st != 200 || sess.AccountID == "" {
		t.Fatalf("signup complete = %d %s", st, body)
	}
	id := sess.AccountID
	expect("POST /api/v1/signup/complete", id, "account.created", "account", func(ev store.AuditEvent) bool { return ev.Data["via"] == "signup" })

	// Addresses.
	c.call("POST", "/api/v1/account/emails", map[string]any{"email": "seam2@example.no", "current_password": pw}, &f)
	code = lastCode(t, e, "seam2@example.no")
	secrets = append(secrets, code)
	if st, body := c.call("POST", "/api/v1/account/emails/verify", map[string]string{"flow_id": f.FlowID, "flow_token": f.FlowToken, "code": code}, nil); st != 201 {
		t.Fatalf("verify email = %d %s", st, body)
	}
	expect("POST /api/v1/account/emails/verify", id, "email.added", "account", nil)
	if st, body := c.call("POST", "/api/v1/account/emails/primary", map[string]string{"email": "seam2@example.no"}, nil); st >= 300 {
		t.Fatalf("primary = %d %s", st, body)
	}
	expect("POST /api/v1/account/emails/primary", id, "email.primary_changed", "account", nil)
	if st, body := c.call("DELETE", "/api/v1/account/emails", map[string]string{"email": "seam@example.no", "current_password": pw}, nil); st != 204 {
		t.Fatalf("remove email = %d %s", st, body)
	}
	expect("DELETE /api/v1/account/emails", id, "email.removed", "account", nil)

	// A phone through the JSON API.
	if st, body := c.call("POST", "/api/v1/account/phones", map[string]string{"phone": phone}, &f); st != 201 {
		t.Fatalf("add phone = %d %s", st, body)
	}
	code = lastCode(t, e, phone)
	secrets = append(secrets, code)
	if st, body := c.call("POST", "/api/v1/account/phones/verify", map[string]string{"flow_id": f.FlowID, "flow_token": f.FlowToken, "code": code}, nil); st != 204 {
		t.Fatalf("verify phone = %d %s", st, body)
	}
	expect("POST /api/v1/account/phones/verify", id, "factor.added", "account", nil)

	// Sign-up through the pages, with a username sign-in afterwards.
	b := newFormClient(t, e)
	b.post("/signup", "email", "page@example.no")
	code = lastCode(t, e, "page@example.no")
	secrets = append(secrets, code)
	b.post("/signup/code", "flow", b.find(`name="flow" value="([a-z0-9]+)"`), "code", code)
	b.post("/signup/details", "flow", b.find(`name="flow" value="([a-z0-9]+)"`), "name", "Page Person", "password", pw)
	pageEmail, err := e.app.DB.GetEmail(ctx, "page@example.no")
	if err != nil {
		t.Fatalf("the sign-up page made no account (%s): %v", b.url, err)
	}
	page := store.Account{ID: pageEmail.AccountID}
	expect("POST /signup/details", page.ID, "account.created", "account", func(ev store.AuditEvent) bool { return ev.Data["via"] == "signup" })

	// The username sign-in: an account with a username and no factor.
	user, err := e.app.Flows.CreateAccount(ctx, flow.NewAccount{Name: "User Name", Username: "seamuser", Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	u := newFormClient(t, e)
	u.post("/login/username", "username", "seamuser", "password", pw)
	expect("POST /login/username", user.ID, "login.succeeded", "account", nil)
	ua := newAPIClient(t, e, "en")
	if st, body := ua.call("POST", "/api/v1/login/username", map[string]string{"username": "seamuser", "password": pw}, nil); st != 200 {
		t.Fatalf("API username sign-in = %d %s", st, body)
	}
	expect("POST /api/v1/login/username", user.ID, "login.succeeded", "account", nil)
	// An app's sign-out page, answered without a request (a plain
	// "sign out" button): the page's session ends.
	u.post("/oidc/logout")
	expect("POST /oidc/logout", user.ID, "session.ended", "account", func(ev store.AuditEvent) bool { return ev.Data["how"] == "app" })

	// The page account: an authenticator, a phone, recovery codes, and
	// removing the phone, through the security page.
	b.get("/account")
	b.post("/account/security/totp")
	seed := strings.ReplaceAll(b.find(`id="totp-secret">([A-Z2-7 ]+)<`), " ", "")
	factor := b.find(`name="factor" value="([a-z0-9]+)"`)
	code, _ = totp.Code(seed, e.clock.Now())
	secrets = append(secrets, seed, code)
	b.post("/account/security/totp/confirm", "factor", factor, "code", code)
	expect("POST /account/security/totp/confirm", page.ID, "factor.added", "account", nil)
	e.clock.Advance(31 * time.Second)

	// A full sign-in with the authenticator through the JSON API.
	pa := newAPIClient(t, e, "en")
	pf := apiSignIn(t, pa, "page@example.no", pw)
	code, _ = totp.Code(seed, e.clock.Now())
	secrets = append(secrets, code)
	if st, body := pa.call("POST", "/api/v1/factor/verify", map[string]any{"flow_id": pf.FlowID, "flow_token": pf.FlowToken, "method": "totp:" + factor, "code": code}, nil); st != 200 {
		t.Fatalf("factor verify = %d %s", st, body)
	}
	expect("POST /api/v1/factor/verify", page.ID, "login.succeeded", "account", nil)
	e.clock.Advance(31 * time.Second)

	// The page, at full level again.
	b2 := newFormClient(t, e)
	b2.signInTOTP("page@example.no", pw, seed, factor)
	b2.post("/account/security/phones", "phone", phone)
	code = lastCode(t, e, phone)
	secrets = append(secrets, code)
	b2.post("/account/security/phones/verify", "flow", b2.find(`name="flow" value="([a-z0-9]+)"`), "code", code)
	expect("POST /account/security/phones/verify", page.ID, "factor.added", "account", nil)
	b2.post("/account/security/recovery")
	expect("POST /account/security/recovery", page.ID, "recovery_codes.generated", "account", nil)
	fs, err := e.app.DB.ListFactors(ctx, page.ID)
	if err != nil {
		t.Fatal(err)
	}
	smsID := ""
	for _, fa := range fs {
		if fa.Kind == store.FactorSMS {
			smsID = fa.ID
		}
	}
	if smsID == "" {
		t.Fatalf("no phone among the factors %+v", fs)
	}
	b2.post("/account/security/factors/remove", "id", smsID)
	expect("POST /account/security/factors/remove", page.ID, "factor.removed", "account", nil)

	// A reset through the JSON API, of an account with no second factor
	// (the reset is then done at once).
	reset, err := e.app.Flows.CreateAccount(ctx, flow.NewAccount{Name: "Re Set", Email: "reset@example.no", Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	r := newAPIClient(t, e, "en")
	if st, body := r.call("POST", "/api/v1/recovery", map[string]string{"email": "reset@example.no", "method": "code"}, &f); st != 201 {
		t.Fatalf("recovery = %d %s", st, body)
	}
	code = lastCode(t, e, "reset@example.no")
	secrets = append(secrets, code)
	if st, body := r.call("POST", "/api/v1/recovery/code", map[string]string{"flow_id": f.FlowID, "flow_token": f.FlowToken, "code": code}, &f); st != 200 {
		t.Fatalf("recovery code = %d %s", st, body)
	}
	if st, body := r.call("POST", "/api/v1/recovery/password", map[string]string{"flow_id": f.FlowID, "flow_token": f.FlowToken, "password": pw2}, nil); st != 200 {
		t.Fatalf("recovery password = %d %s", st, body)
	}
	expect("POST /api/v1/recovery/password", reset.ID, "password.reset", "account", nil)

	all := events(t, e, store.AuditFilter{Limit: store.AuditEventLimit})
	raw, _ := json.Marshal(all)
	for _, s := range append(secrets, phone, "93456789") {
		if s != "" && strings.Contains(string(raw), s) {
			t.Errorf("an audit event holds the secret or number %q", s)
		}
	}
}

// Key and passkey routes of the JSON API that TestDrivenRoutesOfKeys
// drives with a virtual authenticator, with the event each must write.
var drivenKeys = map[string]string{
	"POST /api/v1/account/keys":    "factor.added",
	"POST /api/v1/passkey":         "login.succeeded",
	"DELETE /api/v1/account/keys":  "factor.removed",
	"POST /api/v1/factor/webauthn": "login.succeeded",
}

// TestDrivenRoutesOfKeys drives the routes of drivenKeys as TestAPIKeys
// does and checks each wrote its event about the account.
func TestDrivenRoutesOfKeys(t *testing.T) {
	e := newEnv(t)
	const pw = "keys walk the audit log 8888"
	acct, err := e.app.Flows.CreateAccount(t.Context(), flow.NewAccount{Name: "Kari", Email: "kari@example.no", Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	expect := watchEvents(t, e)
	rp := virtualwebauthn.RelyingParty{ID: "localhost", Name: "Portvakt", Origin: "http://localhost:8080"}
	platform := virtualwebauthn.NewAuthenticatorWithOptions(virtualwebauthn.AuthenticatorOptions{UserHandle: []byte(acct.ID)})
	passkey := webauthntest.NewEC2Credential()
	yubikey := virtualwebauthn.NewAuthenticatorWithOptions(virtualwebauthn.AuthenticatorOptions{UserNotVerified: true})
	keyCred := webauthntest.NewEC2Credential()

	c := newAPIClient(t, e, "en")
	apiSignIn(t, c, "kari@example.no", pw)
	var cer web.CeremonyAPIJSON
	if st, body := c.call("POST", "/api/v1/account/keys/options", map[string]bool{"passkey": true}, &cer); st != 200 {
		t.Fatalf("key options = %d %s", st, body)
	}
	ao, err := virtualwebauthn.ParseAttestationOptions(string(cer.Options))
	if err != nil {
		t.Fatal(err)
	}
	att := virtualwebauthn.CreateAttestationResponse(rp, platform, passkey, *ao)
	if st, body := c.call("POST", "/api/v1/account/keys", map[string]any{"flow_id": cer.FlowID, "flow_token": cer.FlowToken, "response": json.RawMessage(att), "name": "Phone"}, nil); st != 201 {
		t.Fatalf("register passkey = %d %s", st, body)
	}
	platform.AddCredential(passkey)
	expect("POST /api/v1/account/keys", acct.ID, "factor.added", "account", nil)

	c.call("DELETE", "/api/v1/session", nil, nil)
	var pc web.CeremonyAPIJSON
	c.call("POST", "/api/v1/passkey/options", map[string]string{}, &pc)
	opts, err := virtualwebauthn.ParseAssertionOptions(string(pc.Options))
	if err != nil {
		t.Fatal(err)
	}
	asr := virtualwebauthn.CreateAssertionResponse(rp, platform, passkey, *opts)
	if st, body := c.call("POST", "/api/v1/passkey", map[string]any{"flow_id": pc.FlowID, "flow_token": pc.FlowToken, "response": json.RawMessage(asr)}, nil); st != 200 {
		t.Fatalf("passkey sign-in = %d %s", st, body)
	}
	expect("POST /api/v1/passkey", acct.ID, "login.succeeded", "account", nil)

	c.call("POST", "/api/v1/account/keys/options", map[string]bool{"passkey": false}, &cer)
	ao, _ = virtualwebauthn.ParseAttestationOptions(string(cer.Options))
	att = virtualwebauthn.CreateAttestationResponse(rp, yubikey, keyCred, *ao)
	if st, body := c.call("POST", "/api/v1/account/keys", map[string]any{"flow_id": cer.FlowID, "flow_token": cer.FlowToken, "response": json.RawMessage(att), "name": "YubiKey"}, nil); st != 201 {
		t.Fatalf("register key = %d %s", st, body)
	}
	yubikey.AddCredential(keyCred)
	expect("POST /api/v1/account/keys (a security key)", acct.ID, "factor.added", "account", nil)
	var keys []web.KeyJSON
	c.call("GET", "/api/v1/account/keys", nil, &keys)
	for _, k := range keys {
		if k.Passkey {
			if st, body := c.call("DELETE", "/api/v1/account/keys", map[string]string{"id": k.ID}, nil); st != 204 {
				t.Fatalf("remove passkey = %d %s", st, body)
			}
		}
	}
	expect("DELETE /api/v1/account/keys", acct.ID, "factor.removed", "account", nil)

	c.call("DELETE", "/api/v1/session", nil, nil)
	var f, next web.FlowJSON
	c.call("POST", "/api/v1/login", map[string]string{"email": "kari@example.no"}, &f)
	c.call("POST", "/api/v1/login/password", map[string]string{"flow_id": f.FlowID, "flow_token": f.FlowToken, "password": pw}, &next)
	var fc web.CeremonyAPIJSON
	if st, body := c.call("POST", "/api/v1/factor/webauthn/options", map[string]string{"flow_id": next.FlowID, "flow_token": f.FlowToken}, &fc); st != 200 {
		t.Fatalf("factor options = %d %s", st, body)
	}
	opts, _ = virtualwebauthn.ParseAssertionOptions(string(fc.Options))
	asr = virtualwebauthn.CreateAssertionResponse(rp, yubikey, keyCred, *opts)
	if st, body := c.call("POST", "/api/v1/factor/webauthn", map[string]any{"flow_id": next.FlowID, "flow_token": f.FlowToken, "response": json.RawMessage(asr)}, nil); st != 200 {
		t.Fatalf("key as second factor = %d %s", st, body)
	}
	expect("POST /api/v1/factor/webauthn", acct.ID, "login.succeeded", "account", nil)
}

// Enrolment at sign-in that TestDrivenRoutesOfEnrolment drives, with the
// event each must write.
var drivenEnrolment = map[string]string{
	"POST /api/v1/factor/enrol/totp/confirm":  "factor.added, login.succeeded",
	"POST /login/enrol/totp/confirm":          "factor.added, login.succeeded",
	"POST /api/v1/factor/enrol/email/confirm": "factor.added (the address, masked), login.succeeded",
	"POST /login/enrol/email/confirm":         "factor.added (the address, masked), login.succeeded",
	"POST /login/factor/link":                 "login.succeeded (the emailed link as second step)",
}

// TestDrivenRoutesOfEnrolment drives the enrolment a required second
// factor asks for at sign-in, through the pages and the JSON API, and
// checks each confirmation wrote its events about the account.
func TestDrivenRoutesOfEnrolment(t *testing.T) {
	t.Run("totp", func(t *testing.T) {
		e := newEnv(t, func(c *config.Config) {
			c.MFA.Mode = "required"
			c.MFA.EnrolAtFirstSignIn = true
			c.MFA.Methods = []string{"totp", "recovery"}
		})
		const pw = "enrol walks the audit log 9999"
		ctx := t.Context()
		a, err := e.app.Flows.CreateAccount(ctx, flow.NewAccount{Name: "Api", Email: "api@example.no", Password: pw})
		if err != nil {
			t.Fatal(err)
		}
		p, err := e.app.Flows.CreateAccount(ctx, flow.NewAccount{Name: "Page", Email: "page@example.no", Password: pw})
		if err != nil {
			t.Fatal(err)
		}
		expect := watchEvents(t, e)
		c := newAPIClient(t, e, "en")
		f := apiSignIn(t, c, "api@example.no", pw)
		var tj web.TOTPJSON
		if st, body := c.call("POST", "/api/v1/factor/enrol/totp", map[string]string{"flow_id": f.FlowID, "flow_token": f.FlowToken}, &tj); st != 201 {
			t.Fatalf("enrol totp = %d %s", st, body)
		}
		code, _ := totp.Code(tj.Secret, e.clock.Now())
		if st, body := c.call("POST", "/api/v1/factor/enrol/totp/confirm", map[string]string{"flow_id": f.FlowID, "flow_token": f.FlowToken, "code": code}, nil); st != 200 {
			t.Fatalf("enrol confirm = %d %s", st, body)
		}
		expect("POST /api/v1/factor/enrol/totp/confirm", a.ID, "factor.added", "account", nil)
		expect("POST /api/v1/factor/enrol/totp/confirm", a.ID, "login.succeeded", "account", nil)

		b := newFormClient(t, e)
		b.signIn("page@example.no", pw)
		flowID := b.find(`name="flow" value="([a-z0-9]+)"`)
		b.post("/login/enrol/totp", "flow", flowID)
		seed := strings.ReplaceAll(b.find(`id="totp-secret">([A-Z2-7 ]+)<`), " ", "")
		code, _ = totp.Code(seed, e.clock.Now())
		b.post("/login/enrol/totp/confirm", "flow", flowID, "code", code)
		expect("POST /login/enrol/totp/confirm", p.ID, "factor.added", "account", nil)
		expect("POST /login/enrol/totp/confirm", p.ID, "login.succeeded", "account", nil)
	})
	t.Run("email", func(t *testing.T) {
		idep, err := config.Load("../../examples/profiles/idep.yaml", nil)
		if err != nil {
			t.Fatal(err)
		}
		e := newEnv(t, func(c *config.Config) {
			db := c.Database
			listen, public := c.Listen, c.PublicURL
			*c = idep
			c.Database, c.Listen, c.PublicURL = db, listen, public
		})
		const pw = "ett långt lösenord för idep"
		ctx := t.Context()
		a, err := e.app.Flows.CreateAccount(ctx, flow.NewAccount{Username: "20031", Name: "Nils", Password: pw})
		if err != nil {
			t.Fatal(err)
		}
		p, err := e.app.Flows.CreateAccount(ctx, flow.NewAccount{Username: "20032", Name: "Nora", Password: pw})
		if err != nil {
			t.Fatal(err)
		}
		expect := watchEvents(t, e)
		c := newAPIClient(t, e, "en")
		var f web.FlowJSON
		if st, body := c.call("POST", "/api/v1/login/username", map[string]string{"username": "20031", "password": pw}, &f); st != 200 {
			t.Fatalf("username sign-in = %d %s", st, body)
		}
		if st, body := c.call("POST", "/api/v1/factor/enrol/email", map[string]string{"flow_id": f.FlowID, "flow_token": f.FlowToken, "email": "nils@scb.example"}, nil); st >= 300 {
			t.Fatalf("enrol email = %d %s", st, body)
		}
		if st, body := c.call("POST", "/api/v1/factor/enrol/email/confirm", map[string]string{"flow_id": f.FlowID, "flow_token": f.FlowToken, "code": lastCode(t, e, "nils@scb.example")}, nil); st >= 300 {
			t.Fatalf("enrol email confirm = %d %s", st, body)
		}
		expect("POST /api/v1/factor/enrol/email/confirm", a.ID, "factor.added", "account", func(ev store.AuditEvent) bool {
			return strings.Contains(ev.Target, "@") && !strings.Contains(ev.Target, "scb.example")
		})
		expect("POST /api/v1/factor/enrol/email/confirm", a.ID, "login.succeeded", "account", nil)

		b := newFormClient(t, e)
		b.post("/login/username", "username", "20032", "password", pw)
		flowID := b.find(`name="flow" value="([a-z0-9]+)"`)
		b.post("/login/enrol/email", "flow", flowID, "email", "nora@scb.example")
		b.post("/login/enrol/email/confirm", "flow", flowID, "code", lastCode(t, e, "nora@scb.example"))
		expect("POST /login/enrol/email/confirm", p.ID, "factor.added", "account", func(ev store.AuditEvent) bool {
			return strings.Contains(ev.Target, "@") && !strings.Contains(ev.Target, "scb.example")
		})
		expect("POST /login/enrol/email/confirm", p.ID, "login.succeeded", "account", nil)

		// The next sign-in asks for the address: the emailed link finishes it.
		e.clock.Advance(2 * time.Minute)
		b4 := newFormClient(t, e)
		b4.post("/login/username", "username", "20032", "password", pw)
		flowID = b4.find(`name="flow" value="([a-z0-9]+)"`)
		b4.post("/login/factor/send", "flow", flowID, "method", b4.find(`name="method" value="([^"]+)"`))
		msgs, _ := e.app.Outbox.ListMessages(ctx, store.MessageFilter{To: "nora@scb.example", Limit: 1})
		var token string
		if len(msgs) == 1 {
			if m := regexp.MustCompile(`/login/factor/link/([A-Za-z0-9_-]+)`).FindStringSubmatch(msgs[0].Text); m != nil {
				token = m[1]
			}
		}
		if token == "" {
			t.Fatalf("no sign-in link mailed (%s)", b4.url)
		}
		b4.get("/login/factor/link/" + token)
		b4.post("/login/factor/link", "token", token)
		expect("POST /login/factor/link", p.ID, "login.succeeded", "account", nil)
	})
}

// Key and passkey routes of the pages that TestDrivenRoutesOfKeyPages
// drives with a virtual authenticator, with the event each must write.
var drivenKeyPages = map[string]string{
	"POST /account/security/keys":        "factor.added",
	"POST /login/passkey":                "login.succeeded",
	"POST /account/security/keys/remove": "factor.removed",
	"POST /login/factor/webauthn":        "login.succeeded",
}

// TestDrivenRoutesOfKeyPages drives the routes of drivenKeyPages as a
// browser with a security key would and checks each wrote its event.
func TestDrivenRoutesOfKeyPages(t *testing.T) {
	e := newEnv(t)
	const pw = "key pages walk the audit log 1010"
	acct, err := e.app.Flows.CreateAccount(t.Context(), flow.NewAccount{Name: "Kari", Email: "kari@example.no", Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	expect := watchEvents(t, e)
	rp := virtualwebauthn.RelyingParty{ID: "localhost", Name: "Portvakt", Origin: "http://localhost:8080"}
	platform := virtualwebauthn.NewAuthenticatorWithOptions(virtualwebauthn.AuthenticatorOptions{UserHandle: []byte(acct.ID)})
	passkey := webauthntest.NewEC2Credential()
	yubikey := virtualwebauthn.NewAuthenticatorWithOptions(virtualwebauthn.AuthenticatorOptions{UserNotVerified: true})
	keyCred := webauthntest.NewEC2Credential()
	ceremony := func(body string) (string, string) {
		t.Helper()
		var c struct {
			FlowID  string          `json:"flow"`
			Options json.RawMessage `json:"options"`
		}
		if err := json.Unmarshal([]byte(body), &c); err != nil || c.FlowID == "" {
			t.Fatalf("ceremony options: %v %s", err, body)
		}
		return c.FlowID, string(c.Options)
	}
	register := func(b *formClient, pass string, auth *virtualwebauthn.Authenticator, cred virtualwebauthn.Credential, name string) {
		t.Helper()
		flowID, opts := ceremony(b.post("/account/security/keys/options", "passkey", pass))
		ao, err := virtualwebauthn.ParseAttestationOptions(opts)
		if err != nil {
			t.Fatal(err)
		}
		b.post("/account/security/keys", "flow", flowID, "response", virtualwebauthn.CreateAttestationResponse(rp, *auth, cred, *ao), "name", name)
		auth.AddCredential(cred)
	}

	b := newFormClient(t, e)
	b.signIn("kari@example.no", pw)
	register(b, "1", &platform, passkey, "Phone")
	expect("POST /account/security/keys", acct.ID, "factor.added", "account", nil)

	// Sign in with the passkey alone, in another browser.
	b2 := newFormClient(t, e)
	flowID, opts := ceremony(b2.post("/login/passkey/options"))
	ao, err := virtualwebauthn.ParseAssertionOptions(opts)
	if err != nil {
		t.Fatal(err)
	}
	b2.post("/login/passkey", "flow", flowID, "response", virtualwebauthn.CreateAssertionResponse(rp, platform, passkey, *ao))
	expect("POST /login/passkey", acct.ID, "login.succeeded", "account", nil)

	// A security key too, then the passkey goes.
	register(b2, "0", &yubikey, keyCred, "YubiKey")
	expect("POST /account/security/keys (a security key)", acct.ID, "factor.added", "account", nil)
	b2.post("/account/security/keys/remove", "id", base64.RawURLEncoding.EncodeToString(passkey.ID))
	expect("POST /account/security/keys/remove", acct.ID, "factor.removed", "account", nil)

	// The security key as the second step after the password.
	b3 := newFormClient(t, e)
	b3.signIn("kari@example.no", pw)
	flowID = b3.find(`name="flow" value="([a-z0-9]+)"`)
	_, opts = ceremony(b3.post("/login/factor/webauthn/options", "flow", flowID))
	ao, err = virtualwebauthn.ParseAssertionOptions(opts)
	if err != nil {
		t.Fatal(err)
	}
	b3.post("/login/factor/webauthn", "flow", flowID, "response", virtualwebauthn.CreateAssertionResponse(rp, yubikey, keyCred, *ao))
	expect("POST /login/factor/webauthn", acct.ID, "login.succeeded", "account", nil)
}

// Linking upstream identities that TestDrivenRoutesOfFederation drives,
// with the event each must write.
var drivenFederation = map[string]string{
	"POST /account/security/identities/link":   "identity.linked (through the upstream's answer)",
	"POST /login/federated/holder":             "login.succeeded (the holder of the link)",
	"POST /login/federated/move":               "identity.unlinked from the holder, identity.linked to the account it moves to",
	"POST /account/security/identities/remove": "identity.unlinked",
	"POST /api/v1/federated/{id}/complete":     "identity.linked",
	"DELETE /api/v1/account/identities":        "identity.unlinked",
}

// TestDrivenRoutesOfFederation drives linking, moving and removing an
// ID-porten identity, by page and JSON, against a real OpenID Provider
// over HTTP, and checks each wrote its event about the account.
func TestDrivenRoutesOfFederation(t *testing.T) {
	e, idp, _ := federationEnv(t)
	const pw = "federation walks the audit log 1212"
	ctx := t.Context()
	mk := func(name, email string) store.Account {
		t.Helper()
		a, err := e.app.Flows.CreateAccount(ctx, flow.NewAccount{Name: name, Email: email, Password: pw})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	private, work, kari := mk("Hanne Privat", "hanne.hansen@gmail.com"), mk("Hanne Jobb", "hanne@visma.no"), mk("Kari", "kari@example.no")
	expect := watchEvents(t, e)
	linked := func(ev store.AuditEvent) bool { return strings.Contains(ev.Target, "ID-porten") }

	// Pages: link, then move the link to another account, then remove it.
	idp.SignInAs(bankID("04047012345", "Hanne Hansen"))
	p := newFormClient(t, e)
	p.signIn("hanne.hansen@gmail.com", pw)
	p.post("/account/security/identities/link", "provider", "idporten")
	expect("POST /account/security/identities/link", private.ID, "identity.linked", "account", nil)
	// Another account meets the link: "sign in to the account that has
	// it" signs in to the holder.
	h := newFormClient(t, e)
	h.signIn("hanne@visma.no", pw)
	h.post("/account/security/identities/link", "provider", "idporten")
	h.post("/login/federated/holder", "flow", h.find(`name="flow" value="([a-z0-9]+)"`))
	expect("POST /login/federated/holder", private.ID, "login.succeeded", "account", nil)
	w := newFormClient(t, e)
	w.signIn("hanne@visma.no", pw)
	w.post("/account/security/identities/link", "provider", "idporten")
	w.post("/login/federated/move", "flow", w.find(`name="flow" value="([a-z0-9]+)"`))
	w.signIn("hanne.hansen@gmail.com", pw)
	w.post("/login/federated/move", "flow", w.find(`name="flow" value="([a-z0-9]+)"`))
	if !strings.Contains(w.last, "The link was moved") {
		t.Fatalf("after the move: %s\n%s", w.url, w.last)
	}
	expect("POST /login/federated/move", work.ID, "identity.linked", "account", linked)
	expect("POST /login/federated/move", private.ID, "identity.unlinked", "account", linked)
	w2 := newFormClient(t, e)
	w2.signIn("hanne@visma.no", pw)
	w2.get("/account/security")
	provider, subject := w2.find(`name="provider" value="(idporten)"`), w2.find(`name="subject" value="(nid:[0-9a-f]+)"`)
	w2.post("/account/security/identities/remove", "provider", provider, "subject", subject)
	expect("POST /account/security/identities/remove", work.ID, "identity.unlinked", "account", nil)

	// JSON: link and remove.
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
	st, body := call("POST", "/api/v1/account/identities", map[string]string{"provider": "idporten"})
	var start struct {
		URL       string `json:"url"`
		FlowToken string `json:"flow_token"`
	}
	if json.Unmarshal([]byte(body), &start); st != 200 || start.URL == "" {
		t.Fatalf("link start = %d %s", st, body)
	}
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	r, err := hc.Get(start.URL)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	loc, _ := url.Parse(r.Header.Get("Location"))
	q := loc.Query()
	if st, body = call("POST", "/api/v1/federated/idporten/complete", map[string]string{"code": q.Get("code"), "state": q.Get("state"), "iss": q.Get("iss"), "flow_token": start.FlowToken}); st != 200 {
		t.Fatalf("link complete = %d %s", st, body)
	}
	expect("POST /api/v1/federated/{id}/complete", kari.ID, "identity.linked", "account", nil)
	_, body = call("GET", "/api/v1/account/identities", nil)
	var list []struct{ Provider, Subject string }
	if json.Unmarshal([]byte(body), &list); len(list) != 1 {
		t.Fatalf("identities = %s", body)
	}
	if st, body = call("DELETE", "/api/v1/account/identities", map[string]string{"provider": list[0].Provider, "subject": list[0].Subject}); st != 204 {
		t.Fatalf("remove = %d %s", st, body)
	}
	expect("DELETE /api/v1/account/identities", kari.ID, "identity.unlinked", "account", nil)

	// No full national identity number in any event.
	raw, _ := json.Marshal(events(t, e, store.AuditFilter{Limit: store.AuditEventLimit}))
	for _, pid := range []string{"04047012345", "12127012345"} {
		if strings.Contains(string(raw), pid) {
			t.Errorf("an audit event holds the national identity number %s", pid)
		}
	}
}

// The choices of a first sign-in through an upstream that asks (Google
// here), driven by TestDrivenRoutesOfFederatedChoices.
var drivenFederatedChoices = map[string]string{
	"POST /login/federated/create":  "account.created, login.succeeded",
	"POST /login/federated/link":    "identity.linked",
	"POST /api/v1/federated/choice": "account.created (action create)",
}

// TestDrivenRoutesOfFederatedChoices drives the first sign-in through
// Google: a new account (page and JSON), and a link to the signed-in
// account; each wrote its event about the account.
func TestDrivenRoutesOfFederatedChoices(t *testing.T) {
	e, _, google := federationEnv(t)
	const pw = "federated choices walk the log 1313"
	ctx := t.Context()
	kari, err := e.app.Flows.CreateAccount(ctx, flow.NewAccount{Name: "Kari", Email: "kari@example.no", Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	expect := watchEvents(t, e)
	byEmail := func(addr string) string {
		t.Helper()
		em, err := e.app.DB.GetEmail(ctx, addr)
		if err != nil {
			t.Fatalf("no account with %s: %v", addr, err)
		}
		return em.AccountID
	}

	// A new account through the page.
	google.SignInAs(upstreamtest.User{Subject: "g-create", Email: "ny@gmail.com", EmailVerified: true, Name: "Ny Person"})
	g := newFormClient(t, e)
	g.get("/login/federated/google")
	g.post("/login/federated/create", "flow", g.find(`name="flow" value="([a-z0-9]+)"`))
	created := byEmail("ny@gmail.com")
	expect("POST /login/federated/create", created, "account.created", "account", func(ev store.AuditEvent) bool { return ev.Data["via"] == "federated:google" })
	expect("POST /login/federated/create", created, "login.succeeded", "account", nil)

	// Kari, signed in, links her Google account.
	google.SignInAs(upstreamtest.User{Subject: "g-kari", Email: "kari.privat@gmail.com", EmailVerified: true, Name: "Kari"})
	k := newFormClient(t, e)
	k.signIn("kari@example.no", pw)
	k.get("/login/federated/google")
	k.post("/login/federated/link", "flow", k.find(`name="flow" value="([a-z0-9]+)"`))
	expect("POST /login/federated/link", kari.ID, "identity.linked", "account", nil)

	// A new account through the JSON API.
	google.SignInAs(upstreamtest.User{Subject: "g-api", Email: "api@gmail.com", EmailVerified: true, Name: "Api Person"})
	resp, body := e.do(t, "POST", "/api/v1/federated/google/start", strings.NewReader("{}"), map[string]string{"Content-Type": "application/json"})
	var start struct {
		URL       string `json:"url"`
		FlowToken string `json:"flow_token"`
	}
	if json.Unmarshal([]byte(body), &start); resp.StatusCode != 200 || start.URL == "" {
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
	resp, body = e.do(t, "POST", "/api/v1/federated/google/complete", strings.NewReader(string(in)), map[string]string{"Content-Type": "application/json"})
	var choose struct {
		FlowID    string `json:"flow_id"`
		FlowToken string `json:"flow_token"`
	}
	if json.Unmarshal([]byte(body), &choose); resp.StatusCode != 200 || choose.FlowID == "" {
		t.Fatalf("complete = %d %s", resp.StatusCode, body)
	}
	if choose.FlowToken == "" {
		choose.FlowToken = start.FlowToken
	}
	in, _ = json.Marshal(map[string]string{"flow_id": choose.FlowID, "flow_token": choose.FlowToken, "action": "create"})
	resp, body = e.do(t, "POST", "/api/v1/federated/choice", strings.NewReader(string(in)), map[string]string{"Content-Type": "application/json"})
	if resp.StatusCode != 200 {
		t.Fatalf("choice = %d %s", resp.StatusCode, body)
	}
	apiCreated := byEmail("api@gmail.com")
	expect("POST /api/v1/federated/choice", apiCreated, "account.created", "account", nil)
}
