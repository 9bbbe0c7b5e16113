package web_test

import (
	"net/url"
	"testing"
)

// TestDeleteAccount_endsOfflineApps: asking to delete the account ends
// what apps hold too, offline refresh tokens included. Ending the
// sessions alone left an app's offline grant working through the grace
// period (the attacker review's finding): "delete my account" must not
// leave a mail reader syncing for 14 more days.
func TestDeleteAccount_endsOfflineApps(t *testing.T) {
	e := newEnv(t)
	acct := newAccountWithPassword(t, e, "Kari Nordmann", "kari@example.no")
	b := newFormClient(t, e)
	b.signIn("kari@example.no", opsPW)

	refresh, token := offlineApp(t, e, b)

	b.post("/account/delete", "confirm", "yes")
	if due, err := e.app.Flows.PendingDeletion(t.Context(), acct.ID); err != nil || due.IsZero() {
		t.Fatalf("no deletion scheduled after POST /account/delete (%v); the browser is at %s", err, b.url)
	}
	if status, out := token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}); status == 200 {
		t.Errorf("the app's offline refresh token still works after the owner asked to delete the account: %v", out)
	}
}
