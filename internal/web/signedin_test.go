package web_test

import (
	"strings"
	"testing"

	"github.com/portvakt/portvakt/internal/flow"
)

// A signed-in page opened without a session remembers itself: after the
// sign-in the browser is back on it, not on the account page.
func TestSignedInPageRemembersWhereItWas(t *testing.T) {
	e := newEnv(t)
	const pw = "correct horse battery staple"
	if _, err := e.app.Flows.CreateAccount(t.Context(), flow.NewAccount{Name: "Kari", Email: "kari@example.no", Password: pw}); err != nil {
		t.Fatal(err)
	}
	c := newFormClient(t, e)
	c.get("/account/security/phones")
	if !strings.HasSuffix(c.url, "/login?notice=sign-in-first") {
		t.Fatalf("a signed-in page without a session ended at %s, want the sign-in", c.url)
	}
	c.signIn("kari@example.no", pw)
	if !strings.HasSuffix(c.url, "/account/security/phones") {
		t.Errorf("after the sign-in the browser is at %s, want /account/security/phones", c.url)
	}
}
