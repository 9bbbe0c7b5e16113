package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/portvakt/portvakt/internal/audit"
	"github.com/portvakt/portvakt/internal/store"
)

// A support user (without the admin role) cannot change an admin's
// account: resetting the admin's authenticator would let support, with
// the admin's password, sign in as the admin and enrol their own
// authenticator; locking or signing admins out shuts out the role above.
// Looking at the account is still allowed; an admin can do it.
func TestConsoleSupportCannotActOnAdmin(t *testing.T) {
	e := newConsoleEnv(t)
	if err := e.app.DB.GrantRole(t.Context(), e.userID, "admin", e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	s := e.support
	for _, action := range []string{"reset-totp", "lock", "end-sessions", "support-code", "remove-identity"} {
		s.post("/admin/accounts/"+e.userID+"/"+action, "reason", "ticket 5001: please do "+action, "provider", "x", "subject", "y")
		if s.status != http.StatusForbidden {
			t.Errorf("support %s on an admin = %d, want 403", action, s.status)
		}
	}
	factors, err := e.app.DB.ListFactors(t.Context(), e.userID)
	if err != nil {
		t.Fatal(err)
	}
	if len(factors) == 0 {
		t.Error("support removed the admin's authenticator")
	}
	if a, _ := e.app.DB.GetAccount(t.Context(), e.userID); a.Disabled {
		t.Error("support locked an admin")
	}
	denied := events(t, e.env, store.AuditFilter{ActorID: e.supportID, Kinds: []string{string(audit.TOTPReset)}})
	if len(denied) != 1 || denied[0].Outcome != "denied" {
		t.Errorf("refused reset audited as %+v", denied)
	}
	s.get("/admin/accounts/" + e.userID + "?reason=" + "ticket+5002%3A+look+only")
	if s.status != 200 {
		t.Errorf("support opening an admin's account = %d, want 200", s.status)
	}
	// An admin may.
	if err := e.app.DB.GrantRole(t.Context(), e.supportID, "admin", e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	s.post("/admin/accounts/"+e.userID+"/reset-totp", "reason", "ticket 5003: admin lost phone")
	if s.status != 200 || !strings.Contains(s.last, "authenticator app") {
		t.Errorf("admin resetting an admin's totp = %d", s.status)
	}
}
