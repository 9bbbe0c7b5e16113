package config_test

import (
	"strings"
	"testing"

	"github.com/portvakt/portvakt/internal/config"
)

func TestValidate_OIDCACRAndClaims(t *testing.T) {
	ok := config.Default()
	ok.OIDC.ACR = []config.OIDCACR{{Value: "idporten-loa-substantial", Level: 1, AMR: []string{"MinID"}}, {Value: "idporten-loa-high", Level: 3, AMR: []string{"BankID"}}}
	ok.OIDC.Clients = []config.OIDCClient{{ID: "udi", SecretSHA256: strings.Repeat("ab", 32), RedirectURIs: []string{"https://udi.example/cb"}, Claims: map[string]string{"pid": "username"}}}
	if _, err := ok.Validate(); err != nil {
		t.Fatalf("a second Portvakt playing ID-porten: %v", err)
	}
	for _, tc := range []struct {
		name string
		mod  func(*config.Config)
		want string
	}{
		{"empty acr value", func(c *config.Config) { c.OIDC.ACR[0].Value = "" }, "oidc.acr[0].value"},
		{"acr listed twice", func(c *config.Config) { c.OIDC.ACR[1].Value = c.OIDC.ACR[0].Value }, "oidc.acr[1].value"},
		{"level 0", func(c *config.Config) { c.OIDC.ACR[1].Level = 0 }, "oidc.acr[1].level"},
		{"amr with a space", func(c *config.Config) { c.OIDC.ACR[1].AMR = []string{"Bank ID"} }, "oidc.acr[1].amr"},
		{"a reserved claim", func(c *config.Config) { c.OIDC.Clients[0].Claims = map[string]string{"sub": "username"} }, "oidc.clients[0]"},
		{"an unknown source", func(c *config.Config) { c.OIDC.Clients[0].Claims = map[string]string{"pid": "password"} }, "oidc.clients[0]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			c.OIDC.ACR = append([]config.OIDCACR(nil), ok.OIDC.ACR...)
			c.OIDC.Clients = append([]config.OIDCClient(nil), ok.OIDC.Clients...)
			tc.mod(&c)
			if _, err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate = %v, want an error at %s", err, tc.want)
			}
		})
	}
}
