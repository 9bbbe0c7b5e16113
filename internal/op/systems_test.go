package op_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/portvakt/portvakt/internal/op"
)

// heldRights is a RightsSource: two rights are defined, and acct-1 holds
// one of them.
type heldRights struct{}

func (heldRights) IsRight(name string) bool {
	return name == "altinn:submit" || name == "altinn:download"
}
func (heldRights) HeldRights(_ context.Context, accountID string) ([]string, error) {
	if accountID == "acct-1" {
		return []string{"altinn:download"}, nil
	}
	return nil, nil
}

// An app may ask for rights as scopes, but its tokens carry only those
// the person holds (issue 14); other scopes are untouched, and a refresh
// keeps the narrowed scope.
func TestRightsAreScopesOnlyWhenHeld(t *testing.T) {
	e := newEnv(t, envOptions{configure: func(cfg *op.Config) {
		for i := range cfg.Clients {
			if cfg.Clients[i].ID == "web" {
				cfg.Clients[i].Scopes = append(cfg.Clients[i].Scopes, "altinn:submit", "altinn:download")
			}
		}
	}})
	e.p.SetRights(heldRights{})
	e.signIn("acct-1", 2, "pwd", "otp")
	pk := newPKCE()
	tr := e.exchange("web", webSecret, e.code(e.authParams("web", pk, "openid offline_access api altinn:submit altinn:download")), pk.verifier)
	if tr.status != http.StatusOK {
		t.Fatalf("code exchange: %d %s %s", tr.status, tr.Error, tr.Description)
	}
	in := e.introspect("web", webSecret, tr.AccessToken)
	got, _ := in["scope"].(string)
	want := "openid offline_access api altinn:download"
	if got != want {
		t.Errorf("introspected scope = %q, want %q (altinn:submit is not held)", got, want)
	}
	re := e.refresh("web", webSecret, tr.RefreshToken)
	if re.status != http.StatusOK {
		t.Fatalf("refresh: %d %s", re.status, re.Description)
	}
	in = e.introspect("web", webSecret, re.AccessToken)
	if s, _ := in["scope"].(string); s != want {
		t.Errorf("scope after refresh = %q, want %q", s, want)
	}
}
