package web_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"regexp"
	"strings"
	"testing"

	"github.com/portvakt/portvakt/internal/config"
	"github.com/portvakt/portvakt/internal/store"
	"github.com/portvakt/portvakt/internal/web"
)

// apiClient speaks JSON with a cookie jar, as a native app would.
type apiClient struct {
	t      *testing.T
	e      *env
	client *http.Client
	lang   string
}

func newAPIClient(t *testing.T, e *env, lang string) *apiClient {
	jar, _ := cookiejar.New(nil)
	return &apiClient{t: t, e: e, client: &http.Client{Jar: jar}, lang: lang}
}

func (c *apiClient) call(method, path string, in any, out any) (int, string) {
	c.t.Helper()
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = strings.NewReader(string(b))
	}
	req, _ := http.NewRequest(method, c.e.srv.URL+path, body)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept-Language", c.lang)
	resp, err := c.client.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			c.t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode >= 400 && ct != "application/problem+json" {
		c.t.Errorf("%s %s = %d with %s, want problem+json", method, path, resp.StatusCode, ct)
	}
	return resp.StatusCode, string(b)
}

var sixDigits = regexp.MustCompile(`\b\d{6}\b`)

// lastCode reads the newest code mailed to addr from the outbox.
func lastCode(t *testing.T, e *env, addr string) string {
	t.Helper()
	msgs, err := e.app.Outbox.ListMessages(t.Context(), store.MessageFilter{To: addr, Limit: 1})
	if err != nil || len(msgs) == 0 {
		t.Fatalf("no mail to %s (%v)", addr, err)
	}
	code := sixDigits.FindString(msgs[0].Text)
	if code == "" {
		t.Fatalf("no code in %q", msgs[0].Text)
	}
	return code
}

func lastLinkToken(t *testing.T, e *env, addr string) string {
	t.Helper()
	msgs, _ := e.app.Outbox.ListMessages(t.Context(), store.MessageFilter{To: addr, Limit: 1})
	m := regexp.MustCompile(`/recover/link/([A-Za-z0-9_-]+)`).FindStringSubmatch(msgs[0].Text)
	if m == nil {
		t.Fatalf("no link in %q", msgs[0].Text)
	}
	return m[1]
}

// The JSON twins walk the same journeys as the pages, and nothing secret
// ever reaches the log.
func TestAPIJourneysAndLogCanary(t *testing.T) {
	const marker = "canary horse battery staple 7731"
	const newPassword = "second canary passphrase 9924"
	e := newEnv(t)
	c := newAPIClient(t, e, "sv")

	// Sign up.
	var f web.FlowJSON
	if status, body := c.call("POST", "/api/v1/signup", map[string]string{"email": "api@example.no"}, &f); status != 201 || f.FlowToken == "" || f.Next != "code" {
		t.Fatalf("signup = %d %s", status, body)
	}
	code := lastCode(t, e, "api@example.no")
	// A flow token of another client is refused.
	status, body := c.call("POST", "/api/v1/signup/code", map[string]string{"flow_id": f.FlowID, "flow_token": "someone else", "code": code}, nil)
	if status != 403 || !strings.Contains(body, "flow.other_browser") {
		t.Errorf("code with a foreign flow token = %d %s", status, body)
	}
	if status, body := c.call("POST", "/api/v1/signup/code", map[string]string{"flow_id": f.FlowID, "flow_token": f.FlowToken, "code": code}, nil); status != 200 {
		t.Fatalf("signup code = %d %s", status, body)
	}
	// Every broken rule at once, in Swedish.
	status, body = c.call("POST", "/api/v1/signup/complete", map[string]string{"flow_id": f.FlowID, "flow_token": f.FlowToken, "name": "", "password": "kort"}, nil)
	var p web.ProblemJSON
	json.Unmarshal([]byte(body), &p)
	keys := map[string]string{}
	for _, e := range p.Errors {
		keys[e.Key] = e.Message
	}
	if status != 422 || keys["signup.name_required"] == "" || !strings.Contains(keys["password.too_short"], "minst 15") {
		t.Errorf("signup complete with mistakes = %d %+v", status, keys)
	}
	var sess web.SessionJSON
	if status, body := c.call("POST", "/api/v1/signup/complete", map[string]string{"flow_id": f.FlowID, "flow_token": f.FlowToken, "name": "Api Person", "password": marker}, &sess); status != 200 || sess.AccountID == "" {
		t.Fatalf("signup complete = %d %s", status, body)
	}
	if strings.Contains(body, marker) {
		t.Error("a response echoed the password")
	}
	var acct web.AccountJSON
	if status, _ := c.call("GET", "/api/v1/account", nil, &acct); status != 200 || len(acct.Emails) != 1 || !acct.Emails[0].Primary {
		t.Errorf("account = %d %+v", status, acct)
	}

	// Sign out, then in again email-first.
	if status, _ := c.call("DELETE", "/api/v1/session", nil, nil); status != 204 {
		t.Errorf("sign out = %d", status)
	}
	c.call("POST", "/api/v1/login", map[string]string{"email": "api@example.no"}, &f)
	if status, body := c.call("POST", "/api/v1/login/password", map[string]string{"flow_id": f.FlowID, "flow_token": f.FlowToken, "password": "wrong"}, nil); status != 401 || !strings.Contains(body, "login.wrong_credentials") {
		t.Errorf("wrong password = %d %s", status, body)
	}
	if status, body := c.call("POST", "/api/v1/login/password", map[string]string{"flow_id": f.FlowID, "flow_token": f.FlowToken, "password": marker}, &sess); status != 200 {
		t.Fatalf("sign in = %d %s", status, body)
	}

	// Recovery by link: the link works only with the flow token of the
	// client that asked; any other gets a code to carry back instead.
	other := newAPIClient(t, e, "en")
	other.call("POST", "/api/v1/recovery", map[string]string{"email": "api@example.no", "method": "link"}, &f)
	if f.Next != "check_mail" {
		t.Errorf("recovery by link next = %q", f.Next)
	}
	asked := f
	linkToken := lastLinkToken(t, e, "api@example.no")
	if status, body := other.call("POST", "/api/v1/recovery/link", map[string]string{"token": linkToken}, nil); status != 403 || !strings.Contains(body, "link.other_browser") {
		t.Errorf("link without the asking client's flow token = %d %s, want 403 link.other_browser", status, body)
	}
	var elsewhere struct{ Code string }
	if status, body := c.call("POST", "/api/v1/recovery/link/elsewhere", map[string]string{"token": linkToken}, &elsewhere); status != 200 || len(elsewhere.Code) != 6 {
		t.Fatalf("link opened elsewhere = %d %s", status, body)
	}
	if status, body := other.call("POST", "/api/v1/recovery/link-code", map[string]string{"flow_id": asked.FlowID, "flow_token": asked.FlowToken, "code": elsewhere.Code}, &f); status != 200 || f.Next != "password" {
		t.Fatalf("code from elsewhere = %d %s", status, body)
	}
	if status, body := other.call("POST", "/api/v1/recovery/link", map[string]string{"token": linkToken, "flow_token": asked.FlowToken}, nil); status != 410 || !strings.Contains(body, "link.used") {
		t.Errorf("second use of the link = %d %s", status, body)
	}
	if status, body := other.call("POST", "/api/v1/recovery/password", map[string]string{"flow_id": f.FlowID, "flow_token": f.FlowToken, "password": newPassword}, &sess); status != 200 {
		t.Fatalf("recovery password = %d %s", status, body)
	}
	// The first client's session ended with the reset.
	if status, _ := c.call("GET", "/api/v1/account", nil, nil); status != 401 {
		t.Errorf("the first client is still signed in after the reset: %d", status)
	}

	// Change the password and add an address through the API.
	if status, body := other.call("POST", "/api/v1/account/password", map[string]string{"current_password": newPassword, "password": marker + " again"}, nil); status != 204 {
		t.Errorf("change password = %d %s", status, body)
	}
	other.call("POST", "/api/v1/account/emails", map[string]any{"email": "api2@example.no", "current_password": marker + " again", "primary": true}, &f)
	var em web.EmailJSON
	if status, body := other.call("POST", "/api/v1/account/emails/verify", map[string]string{"flow_id": f.FlowID, "flow_token": f.FlowToken, "code": lastCode(t, e, "api2@example.no")}, &em); status != 201 || !em.Primary {
		t.Errorf("verify email = %d %s", status, body)
	}
	if status, body := other.call("DELETE", "/api/v1/account/emails", map[string]string{"email": "api@example.no", "current_password": marker + " again"}, nil); status != 204 {
		t.Errorf("remove email = %d %s", status, body)
	}

	// The canary: no password, code or link token in any log line.
	logs := e.logs.String()
	for _, secret := range []string{marker, newPassword, code, linkToken} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log contains the secret %q", secret)
		}
	}
	if !strings.Contains(logs, `"msg":"signed in"`) {
		t.Error("sign-ins are not logged")
	}
}

func TestAdminAPI(t *testing.T) {
	token := "admin-token-for-tests-0123456789"
	sum := sha256.Sum256([]byte(token))
	e := newEnv(t, func(c *config.Config) { c.Admin.TokenSHA256 = hex.EncodeToString(sum[:]) })
	c := newAPIClient(t, e, "en")
	in := map[string]string{"username": "4711", "name": "Ola", "email": "ola@example.no"}
	if status, _ := c.call("POST", "/api/admin/v1/accounts", in, nil); status != 401 {
		t.Errorf("admin API without a token = %d, want 401", status)
	}
	req, _ := http.NewRequest("POST", e.srv.URL+"/api/admin/v1/accounts", strings.NewReader(`{"username":"4711","name":"Ola","email":"ola@example.no"}`))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 201 || !strings.Contains(string(b), `"username":"4711"`) {
		t.Errorf("admin create = %d %s", resp.StatusCode, b)
	}
	if msgs, _ := e.app.Outbox.ListMessages(t.Context(), store.MessageFilter{To: "ola@example.no"}); len(msgs) != 1 || !strings.Contains(msgs[0].Text, "/recover/link/") {
		t.Errorf("invitation mail = %+v", msgs)
	}
}
