package web_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/authn/totp"
	"github.com/portvakt/portvakt/internal/config"
	"github.com/portvakt/portvakt/internal/flow"
	"github.com/portvakt/portvakt/internal/store"
	"github.com/portvakt/portvakt/internal/web"
)

// formClient is a browser without JavaScript: it follows redirects, keeps
// cookies and submits forms.
type formClient struct {
	t      *testing.T
	e      *env
	client *http.Client
	last   string
	url    string
	status int
}

func newFormClient(t *testing.T, e *env) *formClient {
	jar, _ := cookiejar.New(nil)
	// Absolute URLs come from the public URL (http://localhost:8080);
	// reach the test server there.
	addr := strings.TrimPrefix(e.srv.URL, "http://")
	tr := &http.Transport{DialContext: func(ctx context.Context, network, a string) (net.Conn, error) {
		if a == "localhost:8080" {
			a = addr
		}
		return (&net.Dialer{}).DialContext(ctx, network, a)
	}}
	return &formClient{t: t, e: e, client: &http.Client{Jar: jar, Transport: tr}}
}

func (c *formClient) do(req *http.Request) string {
	c.t.Helper()
	req.Header.Set("Accept-Language", "en")
	resp, err := c.client.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	c.last, c.url, c.status = string(b), resp.Request.URL.String(), resp.StatusCode
	if resp.StatusCode >= 500 {
		c.t.Fatalf("%s %s = %d:\n%s", req.Method, req.URL, resp.StatusCode, b)
	}
	return c.last
}

func (c *formClient) get(path string) string {
	c.t.Helper()
	req, _ := http.NewRequest("GET", "http://localhost:8080"+path, nil)
	return c.do(req)
}

func (c *formClient) post(path string, kv ...string) string {
	c.t.Helper()
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	req, _ := http.NewRequest("POST", "http://localhost:8080"+path, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

func (c *formClient) find(re string) string {
	c.t.Helper()
	m := regexp.MustCompile(re).FindStringSubmatch(c.last)
	if m == nil {
		c.t.Fatalf("%q not found on %s:\n%s", re, c.url, c.last)
	}
	return m[1]
}

func (c *formClient) signIn(email, password string) {
	c.t.Helper()
	c.post("/login", "email", email)
	c.post("/login/password", "flow", c.find(`name="flow" value="([a-z0-9]+)"`), "password", password)
}

// The pages of "Sign-in and security" and the second-factor step, walked
// without JavaScript: set up an authenticator, see the recovery codes once,
// sign in with the app, step up for a payment, and forget a browser.
func TestSecurityPages(t *testing.T) {
	e := newEnv(t, func(c *config.Config) {
		c.MFA.RememberDays = 20
		c.MFA.Actions = map[string]config.Action{"payment": {MinLevel: 3}}
	})
	const pw = "correct horse battery staple"
	if _, err := e.app.Flows.CreateAccount(t.Context(), flow.NewAccount{Name: "Kari", Email: "kari@example.no", Password: pw}); err != nil {
		t.Fatal(err)
	}
	c := newFormClient(t, e)
	c.signIn("kari@example.no", pw)
	if !strings.HasSuffix(c.url, "/account") {
		t.Fatalf("signed in at %s", c.url)
	}
	page := c.get("/account/security")
	if !strings.Contains(page, "Set up an authenticator app") || !strings.Contains(page, "You have no recovery codes yet") {
		t.Fatalf("security page:\n%s", page)
	}

	// Set up the app.
	c.post("/account/security/totp")
	seed := strings.ReplaceAll(c.find(`id="totp-secret">([A-Z2-7 ]+)<`), " ", "")
	if !strings.Contains(c.last, `src="data:image/png;base64,`) {
		t.Error("no QR code on the set-up page")
	}
	factor := c.find(`name="factor" value="([a-z0-9]+)"`)
	c.post("/account/security/totp/confirm", "factor", factor, "code", "000000")
	if c.status != 422 || !strings.Contains(c.last, "doesn&#39;t match the new set-up") {
		t.Errorf("a wrong first code = %d", c.status)
	}
	// The page came back with a new secret.
	seed = strings.ReplaceAll(c.find(`id="totp-secret">([A-Z2-7 ]+)<`), " ", "")
	factor = c.find(`name="factor" value="([a-z0-9]+)"`)
	code, _ := totp.Code(seed, e.clock.Now())
	c.post("/account/security/totp/confirm", "factor", factor, "code", code)
	codes := regexp.MustCompile(`<li><code>([0-9a-z-]{19})</code></li>`).FindAllStringSubmatch(c.last, -1)
	if len(codes) != 10 || !strings.Contains(c.last, `download="recovery-codes.txt"`) {
		t.Fatalf("recovery codes page shows %d codes:\n%s", len(codes), c.last)
	}
	page = c.get("/account/security")
	if !strings.Contains(page, "10 of 10 codes left") || !strings.Contains(page, "Move to a new phone") {
		t.Errorf("security page after set-up lacks the state:\n%s", page)
	}

	// Sign in again: the second step asks for the app.
	c.post("/logout")
	c.signIn("kari@example.no", pw)
	if !strings.Contains(c.url, "/login/factor?flow=") || !strings.Contains(c.last, "Code from your authenticator app") {
		t.Fatalf("after the password: %s\n%s", c.url, c.last)
	}
	flowID := c.find(`name="flow" value="([a-z0-9]+)"`)
	method := c.find(`name="method" value="(totp:[a-z0-9]+)"`)
	if !strings.Contains(c.last, "Try another way") || !strings.Contains(c.last, "A recovery code") || !strings.Contains(c.last, "permanently lost") {
		t.Error("the second step does not offer other ways")
	}
	c.post("/login/factor", "flow", flowID, "method", method, "code", "123")
	if c.status != 422 || !strings.Contains(c.last, "six digits") {
		t.Errorf("a short code = %d", c.status)
	}
	e.clock.Advance(30 * time.Second)
	code, _ = totp.Code(seed, e.clock.Now())
	c.post("/login/factor", "flow", flowID, "method", method, "code", code, "remember", "1")
	if !strings.HasSuffix(c.url, "/account") {
		t.Fatalf("after the code: %s\n%s", c.url, c.last)
	}
	page = c.get("/account/security")
	if !strings.Contains(page, `data-level="3" data-amr="pwd otp mfa">Signed in with password and a one-time code (authenticator app or recovery code). That is two-step sign-in.`) || !strings.Contains(page, "remembered") {
		t.Errorf("security page does not show the session's strength and the remembered browser:\n%s", page)
	}

	// The payment is allowed at once; forgetting the browser works.
	c.get("/stepup?action=payment&return_to=/account")
	if !strings.HasSuffix(c.url, "/account") {
		t.Errorf("step-up with a level-3 session went to %s", c.url)
	}
	c.get("/account/security")
	c.post("/account/security/browsers/forget-all")
	if !strings.Contains(c.last, "will ask for the second step again") {
		t.Errorf("forgetting browsers:\n%s", c.last)
	}

	// A changed setting needs a recent sign-in.
	e.clock.Advance(11 * time.Minute)
	c.post("/account/security/recovery")
	if !strings.Contains(c.url, "/account/reauth") {
		t.Fatalf("an old sign-in was not asked again: %s", c.url)
	}
	c.post("/account/reauth", "return_to", "/account/security", "current_password", pw)
	if !strings.Contains(c.url, "/login/factor?flow=") {
		t.Fatalf("re-authentication did not ask for the second factor: %s", c.url)
	}
	flowID = c.find(`name="flow" value="([a-z0-9]+)"`)
	c.post("/login/factor", "flow", flowID, "method", "recovery", "code", codes[0][1])
	if !strings.HasSuffix(c.url, "/account/security") {
		t.Errorf("after re-authentication: %s", c.url)
	}
	if !strings.Contains(c.get("/account/security"), "9 of 10 codes left") {
		t.Error("the used recovery code is still counted")
	}
}

// Signing in never keeps the browser's earlier session token (fixation):
// the token from before is dead afterwards, and the new one differs.
func TestSignInReplacesTheSessionToken(t *testing.T) {
	e := newEnv(t)
	const pw = "correct horse battery staple"
	if _, err := e.app.Flows.CreateAccount(t.Context(), flow.NewAccount{Name: "Kari", Email: "kari@example.no", Password: pw}); err != nil {
		t.Fatal(err)
	}
	c := newFormClient(t, e)
	c.signIn("kari@example.no", pw)
	u, _ := url.Parse("http://localhost:8080")
	before := sessionCookie(c.client.Jar.Cookies(u))
	if before == "" {
		t.Fatal("no session cookie after sign-in")
	}
	c.signIn("kari@example.no", pw)
	after := sessionCookie(c.client.Jar.Cookies(u))
	if after == "" || after == before {
		t.Fatalf("the session token was kept across a sign-in")
	}
	if _, err := e.app.Sessions.Load(t.Context(), before); err == nil {
		t.Error("the token from before the sign-in still works")
	}
}

func sessionCookie(cs []*http.Cookie) string {
	for _, c := range cs {
		if c.Name == "portvakt_session" {
			return c.Value
		}
	}
	return ""
}

// Adding, removing or promoting an address and changing the password need
// a recent sign-in, like a second factor does: a session left open in a
// shared browser is not enough, even to someone who knows the password.
// The web asks again and goes back to the form; the API says why with a
// problem, and nothing changes. The primary address hears of a new one.
func TestEmailChangesNeedAFreshSignIn(t *testing.T) {
	e := newEnv(t)
	const pw = "correct horse battery staple"
	if _, err := e.app.Flows.CreateAccount(t.Context(), flow.NewAccount{Name: "Kari", Email: "kari@example.no", Password: pw}); err != nil {
		t.Fatal(err)
	}
	c := newFormClient(t, e)
	c.signIn("kari@example.no", pw)
	e.clock.Advance(11 * time.Minute)
	for _, path := range []string{"/account/emails/add", "/account/password", "/account/emails/remove?email=kari@example.no"} {
		c.get(path)
		if !strings.Contains(c.url, "/account/reauth") {
			t.Errorf("GET %s with an 11-minute-old sign-in went to %s, want /account/reauth", path, c.url)
		}
	}
	c.post("/account/emails/add", "email", "thief@example.org", "current_password", pw)
	if !strings.Contains(c.url, "/account/reauth") {
		t.Fatalf("POST /account/emails/add with an old sign-in went to %s", c.url)
	}
	if msgs, _ := e.app.Outbox.ListMessages(t.Context(), store.MessageFilter{To: "thief@example.org"}); len(msgs) != 0 {
		t.Error("a code went to the new address without a fresh sign-in")
	}
	c.post("/account/reauth", "return_to", "/account/emails/add", "current_password", pw)
	if !strings.HasSuffix(c.url, "/account/emails/add") {
		t.Fatalf("after re-authentication: %s", c.url)
	}
	c.post("/account/emails/add", "email", "kari.ny@example.no", "current_password", pw)
	flowID := c.find(`name="flow" value="([a-z0-9]+)"`)
	c.post("/account/emails/verify", "flow", flowID, "code", lastCode(t, e, "kari.ny@example.no"))
	msgs, err := e.app.Outbox.ListMessages(t.Context(), store.MessageFilter{To: "kari@example.no", Limit: 1})
	if err != nil || len(msgs) == 0 || !strings.Contains(msgs[0].Text, "kari.ny@example.no") {
		t.Errorf("the primary address was not told of the new one: %+v %v", msgs, err)
	}

	// The API twin: an old session gets a 403 problem that says what to do.
	a := newAPIClient(t, e, "nb")
	var f web.FlowJSON
	a.call("POST", "/api/v1/login", map[string]string{"email": "kari@example.no"}, &f)
	if status, body := a.call("POST", "/api/v1/login/password", map[string]string{"flow_id": f.FlowID, "flow_token": f.FlowToken, "password": pw}, nil); status != 200 {
		t.Fatalf("API sign-in = %d %s", status, body)
	}
	e.clock.Advance(11 * time.Minute)
	status, body := a.call("POST", "/api/v1/account/emails", map[string]any{"email": "thief@example.org", "current_password": pw}, nil)
	if status != 403 || !strings.Contains(body, "reauth.required") || !strings.Contains(body, "logg inn på nytt") {
		t.Errorf("API add email with an old session = %d %s, want 403 reauth.required in Norwegian", status, body)
	}
	if status, body := a.call("DELETE", "/api/v1/account/emails", map[string]string{"email": "kari.ny@example.no", "current_password": pw}, nil); status != 403 {
		t.Errorf("API remove email with an old session = %d %s", status, body)
	}
}
