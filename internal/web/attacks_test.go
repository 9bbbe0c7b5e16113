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

	"github.com/portvakt/portvakt/internal/authn/totp"
	"github.com/portvakt/portvakt/internal/flow"
	"github.com/portvakt/portvakt/internal/op"
)

// Found by the attacker review (R4), now fixed: through the JSON API, someone holding only the mailbox revokes every
// app token of an account with an authenticator, although the reset itself
// waits for the second factor (apiRecoveryPassword revokes before checking
// res.Pending).
func TestAttackAPIRecoveryRevokesAppTokensBeforeTheSecondFactor(t *testing.T) {
	e := newEnv(t)
	const pw = "correct horse battery staple"
	if _, err := e.app.Flows.CreateAccount(t.Context(), flow.NewAccount{Name: "Kari", Email: "kari@example.no", Password: pw}); err != nil {
		t.Fatal(err)
	}
	c := newFormClient(t, e)
	c.signIn("kari@example.no", pw)
	c.post("/account/security/totp")
	seed := strings.ReplaceAll(c.find(`id="totp-secret">([A-Z2-7 ]+)<`), " ", "")
	factor := c.find(`name="factor" value="([a-z0-9]+)"`)
	code, _ := totp.Code(seed, e.clock.Now())
	c.post("/account/security/totp/confirm", "factor", factor, "code", code)

	var mu sync.Mutex
	var got string
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if r.URL.Path == "/cb" {
			got = r.URL.Query().Get("code")
		}
	}))
	defer app.Close()
	cl, secret, err := e.app.OP.CreateClient(t.Context(), op.ClientConfig{Name: "Payroll", RedirectURIs: []string{app.URL + "/cb"}})
	if err != nil {
		t.Fatal(err)
	}
	verifier := strings.Repeat("v", 50)
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"client_id": {cl.ID}, "redirect_uri": {app.URL + "/cb"}, "response_type": {"code"}, "scope": {"openid offline_access"},
		"state": {"s1"}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	c.get("/authorize?" + q.Encode())
	mu.Lock()
	authCode := got
	mu.Unlock()
	if authCode == "" {
		t.Fatalf("no code; browser at %s", c.url)
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {authCode}, "redirect_uri": {app.URL + "/cb"}, "code_verifier": {verifier}}
	req, _ := http.NewRequest("POST", e.srv.URL+"/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(cl.ID, secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	userinfo := func() int {
		req, _ := http.NewRequest("GET", e.srv.URL+"/userinfo", nil)
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	if s := userinfo(); s != 200 {
		t.Fatalf("userinfo before = %d", s)
	}

	// The attacker: only the mailbox, through the API.
	attacker := newAPIClient(t, e, "en")
	var f struct {
		FlowID    string `json:"flow_id"`
		FlowToken string `json:"flow_token"`
		Next      string `json:"next"`
	}
	if s, body := attacker.call("POST", "/api/v1/recovery", map[string]string{"email": "kari@example.no", "method": "code"}, &f); s != 201 {
		t.Fatalf("recovery = %d %s", s, body)
	}
	if s, body := attacker.call("POST", "/api/v1/recovery/code", map[string]string{"flow_id": f.FlowID, "flow_token": f.FlowToken, "code": lastCode(t, e, "kari@example.no")}, nil); s != 200 {
		t.Fatalf("recovery code = %d %s", s, body)
	}
	var next struct {
		Next string `json:"next"`
	}
	if s, body := attacker.call("POST", "/api/v1/recovery/password", map[string]string{"flow_id": f.FlowID, "flow_token": f.FlowToken, "password": "the attacker's own long passphrase"}, &next); s != 200 || next.Next != "factor" {
		t.Fatalf("recovery password = %d %s; want the second step", s, body)
	}
	if s := userinfo(); s != 200 {
		t.Errorf("BUG: the mailbox alone killed the app's token (userinfo = %d) while the reset still waits for the authenticator", s)
	}
}
