package op_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/portvakt/portvakt/internal/op"
	"github.com/portvakt/portvakt/internal/store"
)

var idportenACR = []op.UpstreamACR{{Upstream: "idporten", Values: []string{"idporten-loa-substantial", "idporten-loa-high"}}}

// via makes the fake browser's session one that came through an upstream.
func (e *env) via(v store.Via) {
	e.t.Helper()
	cur := e.sess.Load()
	s, err := e.st.UpdateSession(context.Background(), cur.ID, func(s store.Session) (store.Session, error) {
		s.Via = v
		return s, nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
	e.sess.Store(&s)
}

func acrValuesSupported(t *testing.T, e *env) []string {
	t.Helper()
	resp, err := e.http.Get(e.srv.URL + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var d struct {
		ACR []string `json:"acr_values_supported"`
	}
	json.NewDecoder(resp.Body).Decode(&d)
	return d.ACR
}

// TestUpstreamACR_Discovery: an upstream's values are published only when
// such an upstream is configured.
func TestUpstreamACR_Discovery(t *testing.T) {
	plain := newEnv(t, envOptions{})
	if got := acrValuesSupported(t, plain); slices.ContainsFunc(got, func(v string) bool { return strings.HasPrefix(v, "idporten") }) {
		t.Errorf("acr_values_supported without upstreams = %v", got)
	}
	udi := newEnv(t, envOptions{configure: func(c *op.Config) { c.UpstreamACR = idportenACR }})
	if got := acrValuesSupported(t, udi); !slices.Contains(got, "idporten-loa-high") || !slices.Contains(got, op.ACRLevel1) {
		t.Errorf("acr_values_supported with ID-porten = %v", got)
	}
}

// TestUpstreamACR_OnlyFromThere: a token says idporten-loa-high only for a
// session that ID-porten signed in at high; any other session (a local
// security key at level 4, MinID at substantial) is sent to ID-porten.
func TestUpstreamACR_OnlyFromThere(t *testing.T) {
	e := newEnv(t, envOptions{configure: func(c *op.Config) { c.UpstreamACR = idportenACR }})
	ask := func() hop {
		params := e.authParams("web", newPKCE(), "openid")
		params.Set("acr_values", "idporten-loa-high")
		return e.authorize(params)
	}
	for _, tc := range []struct {
		name  string
		level int
		via   store.Via
	}{
		{"a local security key", 4, store.Via{}},
		{"MinID at substantial", 1, store.Via{Upstream: "idporten", ACR: "idporten-loa-substantial", AMR: []string{"MinID"}}},
		{"another upstream claiming the value", 1, store.Via{Upstream: "google", ACR: "idporten-loa-high"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer e.use(t)()
			e.signIn("acct-1", tc.level, "hwk", "mfa")
			if tc.via.Upstream != "" {
				e.via(tc.via)
			}
			h := ask()
			if h.status != http.StatusUnauthorized || !strings.Contains(h.body, `"need":"upstream"`) {
				t.Errorf("authorize with acr_values=idporten-loa-high = %d %s; want need upstream", h.status, h.body)
			}
		})
	}

	e.signIn("acct-1", 1, "fed")
	e.via(store.Via{Upstream: "idporten", ACR: "idporten-loa-high", AMR: []string{"BankID"}})
	pk := newPKCE()
	params := e.authParams("web", pk, "openid")
	params.Set("acr_values", "idporten-loa-substantial")
	tok := e.exchange("web", webSecret, e.code(params), pk.verifier)
	if _, c := claims(t, tok.IDToken); c["acr"] != "idporten-loa-high" {
		t.Errorf("ID token acr = %v; want what ID-porten said, idporten-loa-high", c["acr"])
	}
	// An app that asks for no upstream value gets the local level.
	pk = newPKCE()
	tok = e.exchange("web", webSecret, e.code(e.authParams("web", pk, "openid")), pk.verifier)
	if _, c := claims(t, tok.IDToken); c["acr"] != op.ACRLevel1 {
		t.Errorf("ID token acr without upstream acr_values = %v; want %s", c["acr"], op.ACRLevel1)
	}
}
