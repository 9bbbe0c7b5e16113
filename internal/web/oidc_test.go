package web_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/portvakt/portvakt/internal/flow"
	"github.com/portvakt/portvakt/internal/op"
)

// An app signed in through a browser session hears over the back channel
// when that session ends because the password was changed elsewhere, and
// its tokens stop working.
func TestPasswordChangeLogsAppsOut(t *testing.T) {
	e := newEnv(t)
	const pw = "correct horse battery staple"
	if _, err := e.app.Flows.CreateAccount(t.Context(), flow.NewAccount{Name: "Kari", Email: "kari@example.no", Password: pw}); err != nil {
		t.Fatal(err)
	}
	// The app: a redirect URI and a back-channel logout URI.
	var mu sync.Mutex
	var logouts []string
	var code string
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		switch r.URL.Path {
		case "/cb":
			code = r.URL.Query().Get("code")
		case "/bcl":
			r.ParseForm()
			logouts = append(logouts, r.PostFormValue("logout_token"))
		}
	}))
	defer app.Close()
	c, secret, err := e.app.OP.CreateClient(t.Context(), op.ClientConfig{Name: "Payroll", RedirectURIs: []string{app.URL + "/cb"}, BackChannelLogoutURI: app.URL + "/bcl"})
	if err != nil {
		t.Fatal(err)
	}

	// Sign in in the laptop browser, then through the app.
	laptop := newFormClient(t, e)
	laptop.signIn("kari@example.no", pw)
	verifier := strings.Repeat("v", 50)
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"client_id": {c.ID}, "redirect_uri": {app.URL + "/cb"}, "response_type": {"code"}, "scope": {"openid offline_access"},
		"state": {"s1"}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	laptop.get("/authorize?" + q.Encode())
	mu.Lock()
	got := code
	mu.Unlock()
	if got == "" {
		t.Fatalf("no code reached the app; the browser is at %s", laptop.url)
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {got}, "redirect_uri": {app.URL + "/cb"}, "code_verifier": {verifier}}
	req, _ := http.NewRequest("POST", e.srv.URL+"/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(c.ID, secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if tok.AccessToken == "" {
		t.Fatalf("token exchange = %d", resp.StatusCode)
	}

	// The password is changed on the phone: the laptop's session ends, and
	// the app is told.
	phone := newFormClient(t, e)
	phone.signIn("kari@example.no", pw)
	phone.post("/account/password", "current_password", pw, "password", "a brand new long passphrase")
	if !strings.Contains(phone.url, "/account") {
		t.Fatalf("password change ended at %s", phone.url)
	}
	// The change queued the logout in its own transaction; the outbox
	// worker delivers it (with retries, were the app down).
	if sent, _, err := e.app.Worker.DeliverDue(t.Context()); err != nil || sent == 0 {
		t.Fatalf("outbox pass after the change: sent %d, %v", sent, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(logouts) == 0 || logouts[0] == "" {
		t.Fatal("the app got no back-channel logout token")
	}
	// The access token issued to the app is dead.
	req, _ = http.NewRequest("GET", e.srv.URL+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("userinfo with the app's token after the password change = %d, want 401", resp.StatusCode)
	}
}
