package op_test

import (
	"context"
	"net/http"
	"net/url"
	"sync"
	"testing"

	"github.com/portvakt/portvakt/internal/op"
	"github.com/portvakt/portvakt/internal/problem"
	"github.com/portvakt/portvakt/internal/store"
)

// fakeReps is a Representation whose delegations the test ends at will.
type fakeReps struct {
	mu sync.Mutex
	d  map[string]store.Delegation
}

func (f *fakeReps) ActiveFor(_ context.Context, agentID, id string) (store.Delegation, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.d[id]
	if !ok || d.AgentID != agentID {
		return store.Delegation{}, problem.New(problem.NotFound, "", "represent.gone", nil)
	}
	return d, nil
}

func (f *fakeReps) NationalID(d store.Delegation) string {
	if d.PrincipalKind == store.PrincipalPerson {
		return "15031851234"
	}
	return ""
}

func (f *fakeReps) end(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.d, id)
}

const exchSecret = "exch-secret-0123456789abcdefghijklmnop"

// The provider's side of representation: a session that chose a party
// gives an app asking for represent act and represented in the ID token,
// userinfo and introspection (sub stays the person); token exchange
// answers each wrong request with its error; when the delegation ends,
// introspection, userinfo, refresh and exchange all stop.
func TestRepresentTokens(t *testing.T) {
	e := newEnv(t, envOptions{configure: func(cfg *op.Config) {
		cfg.Clients = append(cfg.Clients, op.ClientConfig{ID: "exch", Secret: exchSecret, Name: "Søknad",
			RedirectURIs: []string{e0URL(cfg) + "/cb"},
			GrantTypes:   []string{op.GrantAuthorizationCode, op.GrantRefreshToken, op.GrantTokenExchange}})
	}})
	reps := &fakeReps{d: map[string]store.Delegation{"d1": {ID: "d1", AgentID: "acct-1", PrincipalKind: store.PrincipalPerson,
		PrincipalRef: "nid:abc", PrincipalName: "Ola Nordmann", Rights: []string{"udi:apply", "udi:read"}}}}
	e.p.SetRepresentation(reps)
	sess := e.signIn("acct-1", 1, "pwd")
	if _, err := e.st.UpdateSession(t.Context(), sess.ID, func(s store.Session) (store.Session, error) {
		s.ActingFor = "d1"
		return s, nil
	}); err != nil {
		t.Fatal(err)
	}

	// Without the scope represent, nothing is said about anyone.
	pk := newPKCE()
	plain := e.exchange("exch", exchSecret, e.code(e.authParams("exch", pk, "openid")), pk.verifier)
	if _, c := claims(t, plain.IDToken); c["act"] != nil || c["represented"] != nil {
		t.Errorf("an app without represent got act %v represented %v", c["act"], c["represented"])
	}
	if r := exchangeToken(e, "exch", exchSecret, plain.AccessToken, ""); r.Error != "invalid_grant" {
		t.Errorf("exchange of a token without represent: %+v, want invalid_grant", r)
	}

	pk = newPKCE()
	tok := e.exchange("exch", exchSecret, e.code(e.authParams("exch", pk, "openid represent offline_access")), pk.verifier)
	if tok.AccessToken == "" || tok.RefreshToken == "" {
		t.Fatalf("code exchange: %+v", tok)
	}
	_, c := claims(t, tok.IDToken)
	act, _ := c["act"].(map[string]any)
	rep, _ := c["represented"].(map[string]any)
	if c["sub"] != "acct-1" || act["sub"] != "acct-1" || rep["sub"] != "nid:abc" || rep["pid"] != "15031851234" || rep["type"] != "person" {
		t.Errorf("ID token sub %v act %v represented %v; want sub and act the person, represented Ola", c["sub"], c["act"], c["represented"])
	}
	if code, ui := e.userinfo(tok.AccessToken); code != http.StatusOK || ui["represented"] == nil || ui["sub"] != "acct-1" {
		t.Errorf("userinfo %d %v, want the person with represented", code, ui)
	}
	if in := e.introspect("exch", exchSecret, tok.AccessToken); in["active"] != true || in["represented"] == nil || in["act"] == nil {
		t.Errorf("introspection %v, want active with act and represented", in)
	}

	// Token exchange: each wrong request gets its error.
	for _, tc := range []struct {
		name, client, secret, scope string
		extra                       url.Values
		want                        string
	}{
		{"a client without the grant", "web", webSecret, "", nil, "unauthorized_client"},
		{"a right not delegated", "exch", exchSecret, "udi:admin", nil, "invalid_scope"},
		{"an actor token", "exch", exchSecret, "", url.Values{"actor_token": {tok.AccessToken}, "actor_token_type": {"urn:ietf:params:oauth:token-type:access_token"}}, "invalid_request"},
		{"an unknown audience", "exch", exchSecret, "", url.Values{"audience": {"nobody"}}, "invalid_target"},
	} {
		if r := exchangeTokenWith(e, tc.client, tc.secret, tok.AccessToken, tc.scope, tc.extra); r.Error != tc.want {
			t.Errorf("%s: %d %s (%s), want %s", tc.name, r.status, r.Error, r.Description, tc.want)
		}
	}
	ex := exchangeToken(e, "exch", exchSecret, tok.AccessToken, "udi:read")
	if ex.AccessToken == "" {
		t.Fatalf("exchange: %+v", ex)
	}
	h, xc := claims(t, ex.AccessToken)
	xact, _ := xc["act"].(map[string]any)
	if h["typ"] != "at+jwt" || xc["sub"] != "nid:abc" || xact["sub"] != "acct-1" || xc["scope"] != "udi:read" {
		t.Errorf("exchanged token header %v claims %v; want at+jwt, sub Ola, act the person, scope udi:read", h, xc)
	}
	if r := exchangeToken(e, "exch", exchSecret, ex.AccessToken, ""); r.Error != "invalid_grant" {
		t.Errorf("exchanging an exchanged token: %+v, want invalid_grant", r)
	}
	if code, _ := e.userinfo(ex.AccessToken); code != http.StatusUnauthorized {
		t.Errorf("userinfo with an exchanged token = %d, want 401", code)
	}

	// The delegation ends: every token of it stops.
	reps.end("d1")
	if e.active("exch", exchSecret, tok.AccessToken) || e.active("exch", exchSecret, ex.AccessToken) {
		t.Errorf("tokens acting for an ended delegation still introspect active")
	}
	if code, _ := e.userinfo(tok.AccessToken); code != http.StatusUnauthorized {
		t.Errorf("userinfo after the end = %d, want 401", code)
	}
	if r := e.refresh("exch", exchSecret, tok.RefreshToken); r.Error != "invalid_grant" {
		t.Errorf("refresh after the end: %+v, want invalid_grant", r)
	}
	if r := exchangeToken(e, "exch", exchSecret, tok.AccessToken, ""); r.Error != "invalid_grant" {
		t.Errorf("exchange after the end: %+v, want invalid_grant", r)
	}
	// The session still names the ended delegation: a new code is refused
	// rather than issued for nobody in particular.
	pk = newPKCE()
	if r := e.exchange("exch", exchSecret, e.code(e.authParams("exch", pk, "openid represent")), pk.verifier); r.Error != "invalid_grant" {
		t.Errorf("code exchange while the session acts under an ended delegation: %+v, want invalid_grant", r)
	}
}

// e0URL is the issuer of the env being built (its clients' redirect URIs
// start with it).
func e0URL(cfg *op.Config) string { return cfg.Issuer }

func exchangeToken(e *env, client, secret, subject, scope string) tokenResponse {
	return exchangeTokenWith(e, client, secret, subject, scope, nil)
}

func exchangeTokenWith(e *env, client, secret, subject, scope string, extra url.Values) tokenResponse {
	e.t.Helper()
	form := url.Values{"grant_type": {op.GrantTokenExchange}, "subject_token": {subject},
		"subject_token_type": {"urn:ietf:params:oauth:token-type:access_token"}}
	if scope != "" {
		form.Set("scope", scope)
	}
	for k, v := range extra {
		form[k] = v
	}
	return e.token(form, client, secret)
}
