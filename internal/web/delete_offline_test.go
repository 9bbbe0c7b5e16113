package web_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/portvakt/portvakt/internal/op"
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

	var mu sync.Mutex
	var code string
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if r.URL.Path == "/cb" {
			code = r.URL.Query().Get("code")
		}
	}))
	defer app.Close()
	c, secret, err := e.app.OP.CreateClient(t.Context(), op.ClientConfig{Name: "Mail reader", RedirectURIs: []string{app.URL + "/cb"}})
	if err != nil {
		t.Fatal(err)
	}
	verifier := strings.Repeat("d", 50)
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"client_id": {c.ID}, "redirect_uri": {app.URL + "/cb"}, "response_type": {"code"}, "scope": {"openid offline_access"},
		"state": {"s1"}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	b.get("/authorize?" + q.Encode())
	mu.Lock()
	got := code
	mu.Unlock()
	if got == "" {
		t.Fatalf("no code reached the app; the browser is at %s", b.url)
	}
	token := func(form url.Values) (int, map[string]any) {
		req, _ := http.NewRequest("POST", e.srv.URL+"/oauth/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(c.ID, secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	status, tok := token(url.Values{"grant_type": {"authorization_code"}, "code": {got}, "redirect_uri": {app.URL + "/cb"}, "code_verifier": {verifier}})
	refresh, _ := tok["refresh_token"].(string)
	if status != 200 || refresh == "" {
		t.Fatalf("code exchange = %d %v", status, tok)
	}

	b.post("/account/delete", "confirm", "yes")
	if due, err := e.app.Flows.PendingDeletion(t.Context(), acct.ID); err != nil || due.IsZero() {
		t.Fatalf("no deletion scheduled after POST /account/delete (%v); the browser is at %s", err, b.url)
	}
	if status, out := token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}); status == 200 {
		t.Errorf("the app's offline refresh token still works after the owner asked to delete the account: %v", out)
	}
}
