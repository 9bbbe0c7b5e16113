package op_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/portvakt/portvakt/internal/op"
)

// A Portvakt playing ID-porten: its levels published as ID-porten's acr
// values with the amr ID-porten would name, and the username (a
// fødselsnummer) as pid for one configured client only.
func TestClaimsAndACRAMR(t *testing.T) {
	e := newEnv(t, envOptions{configure: func(cfg *op.Config) {
		cfg.ACR = []op.ACR{
			{Value: "idporten-loa-substantial", Level: 1, AMR: []string{"MinID"}},
			{Value: "idporten-loa-high", Level: 3, AMR: []string{"BankID"}},
		}
		for i := range cfg.Clients {
			if cfg.Clients[i].ID == "web" {
				cfg.Clients[i].Claims = map[string]string{"pid": "username", "mail": "email"}
			}
		}
	}})
	token := func(client, secret string, level int, amr ...string) map[string]any {
		t.Helper()
		e.signIn("acct-1", level, amr...)
		pk := newPKCE()
		params := e.authParams(client, pk, "openid")
		params.Set("acr_values", "idporten-loa-substantial idporten-loa-high")
		tr := e.exchange(client, secret, e.code(params), pk.verifier)
		if tr.status != http.StatusOK {
			t.Fatalf("exchange: %d %s", tr.status, tr.Error)
		}
		_, c := claims(t, tr.IDToken)
		return c
	}
	amr := func(c map[string]any) string {
		var out []string
		for _, v := range c["amr"].([]any) {
			out = append(out, v.(string))
		}
		return strings.Join(out, " ")
	}
	c := token("web", webSecret, 1, "pwd")
	if c["acr"] != "idporten-loa-substantial" || amr(c) != "MinID" || c["pid"] != "kari" || c["mail"] != "kari@example.no" {
		t.Errorf("password alone: acr %v amr %v pid %v mail %v", c["acr"], c["amr"], c["pid"], c["mail"])
	}
	c = token("web", webSecret, 3, "pwd", "otp", "mfa")
	if c["acr"] != "idporten-loa-high" || amr(c) != "BankID" {
		t.Errorf("with an authenticator: acr %v amr %v", c["acr"], c["amr"])
	}
	if c := token("jwtweb", webSecret, 3, "pwd", "otp", "mfa"); c["pid"] != nil || c["mail"] != nil {
		t.Errorf("a client without claims got pid %v mail %v", c["pid"], c["mail"])
	}
}

func TestClaimsRefused(t *testing.T) {
	for _, m := range []map[string]string{{"sub": "username"}, {"acr": "name"}, {"pid": "password"}, {"p id": "name"}} {
		cfg := op.Config{Issuer: "https://idp.example", Clients: []op.ClientConfig{{ID: "web", Secret: webSecret,
			RedirectURIs: []string{"https://app.example/cb"}, Claims: m}}}
		_, err := op.New(cfg, op.Deps{Store: nil, Sealer: mustSealer(t), LoginURL: func(string) string { return "" }})
		if err == nil || !strings.Contains(err.Error(), "claims") {
			t.Errorf("claims %v: op.New = %v, want a claims error", m, err)
		}
	}
}
