package upstream_test

import (
	"strings"
	"testing"

	"github.com/portvakt/portvakt/internal/upstream"
)

func TestValidate(t *testing.T) {
	good := upstream.Config{ID: "idporten", Preset: "idporten", Issuer: "https://idporten.no", ClientID: "udi", ClientSecretFile: "/run/secrets/idporten", FirstLogin: "create"}
	if errs := upstream.Validate([]upstream.Config{good, {ID: "google", Preset: "google", ClientID: "g"}, {ID: "github", Type: "github", ClientID: "gh"}}); len(errs) != 0 {
		t.Fatalf("Validate(good) = %q", errs)
	}
	for _, tc := range []struct {
		name string
		c    upstream.Config
		want string
	}{
		{"bad id", upstream.Config{ID: "ID Porten", Type: "github", ClientID: "x"}, "upstreams[1].id"},
		{"duplicate id", upstream.Config{ID: "idporten", Type: "github", ClientID: "x"}, "used twice"},
		{"no issuer", upstream.Config{ID: "x", Preset: "idporten", ClientID: "x"}, "upstreams[1].issuer: required"},
		{"http issuer", upstream.Config{ID: "x", Type: "oidc", Issuer: "http://op.example", ClientID: "x"}, "https"},
		{"multi-tenant microsoft", upstream.Config{ID: "x", Preset: "microsoft", Issuer: "https://login.microsoftonline.com/common/v2.0", ClientID: "x"}, "/common/"},
		{"two secrets", upstream.Config{ID: "x", Type: "github", ClientID: "x", ClientSecret: "a", ClientSecretFile: "b"}, "only one"},
		{"bad first_login", upstream.Config{ID: "x", Type: "github", ClientID: "x", FirstLogin: "merge"}, "first_login"},
		{"bad response_mode", upstream.Config{ID: "x", Preset: "google", ClientID: "x", ResponseMode: "fragment"}, "response_mode"},
		{"form_post for github", upstream.Config{ID: "x", Type: "github", ClientID: "x", ResponseMode: "form_post"}, "response_mode"},
		{"alg none", upstream.Config{ID: "x", Preset: "google", ClientID: "x", SigningAlgs: []string{"none"}}, "signing_algs"},
		{"unknown type", upstream.Config{ID: "x", Type: "saml", ClientID: "x"}, "upstreams[1].type"},
		{"no client", upstream.Config{ID: "x", Type: "github"}, "client_id: required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			errs := upstream.Validate([]upstream.Config{good, tc.c})
			if !strings.Contains(strings.Join(errs, "\n"), tc.want) {
				t.Errorf("Validate = %q, want one containing %q", errs, tc.want)
			}
		})
	}
}

func TestResolve_EnvironmentWins(t *testing.T) {
	c := upstream.Config{ID: "visma-google", ClientSecret: "from-file"}
	env := map[string]string{"PORTVAKT_UPSTREAMS_VISMA_GOOGLE_CLIENT_SECRET": "from-env"}
	got, err := c.Resolve(func(k string) string { return env[k] })
	if err != nil || got.ClientSecret != "from-env" {
		t.Errorf("Resolve = %q, %v; want from-env", got.ClientSecret, err)
	}
}

func TestMaskNationalID(t *testing.T) {
	for in, want := range map[string]string{"01017012345": "******12345", "123": "***", "": ""} {
		if got := upstream.MaskNationalID(in); got != want {
			t.Errorf("MaskNationalID(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestValidateServices(t *testing.T) {
	ups := []upstream.Config{{ID: "idporten", Preset: "idporten", Issuer: "https://idporten.no", ClientID: "udi"}}
	good := map[string]upstream.Service{"residence-status": {Via: "idporten", MinACR: "idporten-loa-high"}}
	if errs := upstream.ValidateServices(good, ups); len(errs) != 0 {
		t.Errorf("ValidateServices(good) = %q", errs)
	}
	bad := map[string]upstream.Service{"a": {Via: "bankid"}, "b": {Via: "idporten", MinACR: "urn:portvakt:level:4"}}
	errs := strings.Join(upstream.ValidateServices(bad, ups), "\n")
	for _, want := range []string{"services.a.via", "services.b.min_acr"} {
		if !strings.Contains(errs, want) {
			t.Errorf("ValidateServices(bad) = %q, want %s", errs, want)
		}
	}
	svc := good["residence-status"]
	for _, tc := range []struct {
		via, acr string
		want     bool
	}{{"idporten", "idporten-loa-high", true}, {"idporten", "idporten-loa-substantial", false}, {"google", "idporten-loa-high", false}, {"", "", false}} {
		if got := svc.Accepts(ups[0], tc.via, tc.acr); got != tc.want {
			t.Errorf("Accepts(%s, %s) = %v, want %v", tc.via, tc.acr, got, tc.want)
		}
	}
}
