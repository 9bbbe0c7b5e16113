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

// "This wasn't me" ends what the stranger got through that sign-in,
// including an app's offline refresh token: otherwise the stranger (who
// signed in with a guessed or stolen password) keeps reading the account
// through the app after the owner said it was not them.
func TestThisWasntMe_endsOfflineGrantsOfThatSession(t *testing.T) {
	e := newEnv(t)
	newAccountWithPassword(t, e, "Kari Nordmann", "kari@example.no")
	laptop := newUABrowser(t, e, uaFirefox, "192.0.2.7")
	laptop.signIn("kari@example.no")

	// The stranger signs in from a new device and through the app, offline.
	thief := newFormClient(t, e)
	thief.signIn("kari@example.no", opsPW)
	refresh, token := offlineApp(t, e, thief)

	alerts := mails(t, e, "kari@example.no", "New sign-in")
	if len(alerts) != 1 {
		t.Fatalf("%d new-device mails, want 1", len(alerts))
	}
	link := notMeLink.FindStringSubmatch(alerts[0].Text)
	if link == nil {
		t.Fatal("no this-wasn't-me link")
	}
	owner := newUABrowser(t, e, uaFirefox, "192.0.2.7")
	if resp, _ := owner.page("POST", "/not-me", "token", link[1]); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST /not-me = %d", resp.StatusCode)
	}

	if status, out := token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}); status == 200 {
		t.Errorf("the stranger's offline refresh token still works after this wasn't me: %v", out)
	}
	if !laptop.signedIn() {
		t.Error("this wasn't me ended the owner's own session")
	}
}

// offlineApp registers an app, lets c (signed in) authorize it with
// offline_access through /authorize and PKCE, exchanges the code, and
// returns the refresh token and a call of the token endpoint as the app.
func offlineApp(t *testing.T, e *env, c *formClient) (refresh string, token func(url.Values) (int, map[string]any)) {
	t.Helper()
	var mu sync.Mutex
	var code string
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if r.URL.Path == "/cb" {
			code = r.URL.Query().Get("code")
		}
	}))
	t.Cleanup(app.Close)
	cl, secret, err := e.app.OP.CreateClient(t.Context(), op.ClientConfig{Name: "Mail reader", RedirectURIs: []string{app.URL + "/cb"}})
	if err != nil {
		t.Fatal(err)
	}
	verifier := strings.Repeat("w", 50)
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"client_id": {cl.ID}, "redirect_uri": {app.URL + "/cb"}, "response_type": {"code"}, "scope": {"openid offline_access"},
		"state": {"s1"}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	c.get("/authorize?" + q.Encode())
	mu.Lock()
	got := code
	mu.Unlock()
	if got == "" {
		t.Fatalf("no code reached the app; the browser is at %s", c.url)
	}
	token = func(form url.Values) (int, map[string]any) {
		req, _ := http.NewRequest("POST", e.srv.URL+"/oauth/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(cl.ID, secret)
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
	refresh, _ = tok["refresh_token"].(string)
	if status != 200 || refresh == "" {
		t.Fatalf("code exchange = %d %v", status, tok)
	}
	return refresh, token
}
