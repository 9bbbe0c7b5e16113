package web_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/audit"
	"github.com/portvakt/portvakt/internal/authn/totp"
	"github.com/portvakt/portvakt/internal/config"
	"github.com/portvakt/portvakt/internal/flow"
	"github.com/portvakt/portvakt/internal/op"
	"github.com/portvakt/portvakt/internal/store"
	"github.com/portvakt/portvakt/internal/web"
)

// totpAccount creates an account with a password and a confirmed
// authenticator, and returns its ID, the authenticator's seed and ID.
func totpAccount(t *testing.T, e *env, email, pw string) (id, seed, factorID string) {
	t.Helper()
	name := "Support Person"
	if strings.HasPrefix(email, "kari") {
		name = "Kari Nordmann"
	}
	a, err := e.app.Flows.CreateAccount(t.Context(), flow.NewAccount{Name: name, Email: email, Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	c := newAPIClient(t, e, "en")
	apiSignIn(t, c, email, pw)
	var tj web.TOTPJSON
	if status, body := c.call("POST", "/api/v1/account/totp", nil, &tj); status != 201 {
		t.Fatalf("totp start = %d %s", status, body)
	}
	code, _ := totp.Code(tj.Secret, e.clock.Now())
	if status, body := c.call("POST", "/api/v1/account/totp/confirm", map[string]string{"factor_id": tj.FactorID, "code": code}, nil); status != 201 {
		t.Fatalf("totp confirm = %d %s", status, body)
	}
	e.clock.Advance(31 * time.Second)
	return a.ID, tj.Secret, tj.FactorID
}

// signInTOTP signs the form client in with the password and the
// authenticator: a session at level 3.
func (c *formClient) signInTOTP(email, pw, seed, factorID string) {
	c.t.Helper()
	c.signIn(email, pw)
	if !strings.Contains(c.url, "/login/factor") {
		c.t.Fatalf("sign-in with an authenticator ended at %s", c.url)
	}
	code, _ := totp.Code(seed, c.e.clock.Now())
	c.post("/login/factor", "flow", c.find(`name="flow" value="([a-z0-9]+)"`), "method", "totp:"+factorID, "code", code)
	c.e.clock.Advance(31 * time.Second)
}

// events returns the audit log's events matching f.
func events(t *testing.T, e *env, f store.AuditFilter) []store.AuditEvent {
	t.Helper()
	list, _, err := e.app.DB.ListAuditEvents(t.Context(), f)
	if err != nil {
		t.Fatal(err)
	}
	return list
}

const supportPW = "support staff passphrase 4417"
const userPW = "the user's own passphrase 2290"

// consoleEnv is a service with a support user signed in at level 3 in a
// browser, and a user to help.
type consoleEnv struct {
	*env
	support   *formClient
	supportID string
	userID    string
	olaID     string
	// userSeed and userFactor are Kari's authenticator.
	userSeed, userFactor string
}

func newConsoleEnv(t *testing.T, mod ...func(*config.Config)) *consoleEnv {
	e := newEnv(t, mod...)
	supID, seed, fid := totpAccount(t, e, "support@example.no", supportPW)
	if err := e.app.DB.GrantRole(t.Context(), supID, "support", e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	sup := newFormClient(t, e)
	sup.signInTOTP("support@example.no", supportPW, seed, fid)
	// Kari has an authenticator app (which she will lose).
	userID, userSeed, userFactor := totpAccount(t, e, "kari@example.no", userPW)
	// Ola has a confirmed phone for SMS codes (found by the phone search).
	ola, err := e.app.Flows.CreateAccount(t.Context(), flow.NewAccount{Name: "Ola Nordmann", Username: "ola"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.app.DB.CreateFactor(t.Context(), store.Factor{ID: "ola-phone", AccountID: ola.ID, Kind: store.FactorSMS, Name: "phone", Phone: "+4791234567",
		ConfirmedAt: e.clock.Now(), CreatedAt: e.clock.Now()}); err != nil {
		t.Fatal(err)
	}

	return &consoleEnv{env: e, support: sup, supportID: supID, userID: userID, olaID: ola.ID, userSeed: userSeed, userFactor: userFactor}
}

// The console's gate: a user without a role gets a 403 page (and the
// attempt is audited); a support user whose session is below level 3 is
// sent to step up first, or told to set up a second step if there is none
// to step up with; a support user at level 3 is let in.
func TestConsoleGate(t *testing.T) {
	e := newEnv(t)
	if _, err := e.app.Flows.CreateAccount(t.Context(), flow.NewAccount{Name: "Plain", Email: "plain@example.no", Password: userPW}); err != nil {
		t.Fatal(err)
	}
	plain := newFormClient(t, e)
	plain.signIn("plain@example.no", userPW)
	for _, path := range []string{"/admin", "/admin/audit", "/admin/accounts/x?reason=because+I+can"} {
		plain.get(path)
		if plain.status != http.StatusForbidden || !strings.Contains(plain.last, "Not for this account") {
			t.Errorf("GET %s by a user without a role = %d, want the 403 page:\n%s", path, plain.status, plain.last)
		}
	}
	plain.post("/admin/accounts/x/lock", "reason", "I would like to")
	if plain.status != http.StatusForbidden {
		t.Errorf("POST lock by a user without a role = %d, want 403", plain.status)
	}
	if got := events(t, e, store.AuditFilter{Kinds: []string{string(audit.ConsoleDenied)}}); len(got) != 4 {
		t.Errorf("%d denied console visits audited, want 4", len(got))
	}

	// Not signed in: sign in first.
	anon := newFormClient(t, e)
	anon.get("/admin")
	if !strings.Contains(anon.url, "/login") {
		t.Errorf("GET /admin without a session ended at %s, want the sign-in page", anon.url)
	}

	// A support user with only a password and nothing to step up with.
	weak, err := e.app.Flows.CreateAccount(t.Context(), flow.NewAccount{Name: "Weak", Email: "weak@example.no", Password: supportPW})
	if err != nil {
		t.Fatal(err)
	}
	e.app.DB.GrantRole(t.Context(), weak.ID, "support", e.clock.Now())
	w := newFormClient(t, e)
	w.signIn("weak@example.no", supportPW)
	w.get("/admin")
	if w.status != http.StatusForbidden || !strings.Contains(w.last, "A stronger sign-in is needed") {
		t.Errorf("console with a password-only session and no second step = %d:\n%s", w.status, w.last)
	}

	// A support user whose session predates their authenticator: step up.
	supID, seed, fid := totpAccount(t, e, "support@example.no", supportPW)
	e.app.DB.GrantRole(t.Context(), supID, "support", e.clock.Now())
	s := newFormClient(t, e)
	s.signInTOTP("support@example.no", supportPW, seed, fid)
	s.get("/admin")
	if s.status != http.StatusOK || !strings.Contains(s.last, "Support console") {
		t.Fatalf("console at level 3 = %d:\n%s", s.status, s.last)
	}
}

// Stepping up: a support user signed in with a password before setting
// up an authenticator is sent through the second step and lands back in
// the console.
func TestConsoleStepUp(t *testing.T) {
	e := newEnv(t)
	a, err := e.app.Flows.CreateAccount(t.Context(), flow.NewAccount{Name: "Sup", Email: "sup@example.no", Password: supportPW})
	if err != nil {
		t.Fatal(err)
	}
	e.app.DB.GrantRole(t.Context(), a.ID, "support", e.clock.Now())
	b := newFormClient(t, e)
	b.signIn("sup@example.no", supportPW)
	// The authenticator is set up in this session (JSON twin, same cookie jar).
	call := func(path string, in, out any) int {
		body, _ := json.Marshal(in)
		req, _ := http.NewRequest("POST", "http://localhost:8080"+path, strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/json")
		resp, err := b.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if out != nil {
			json.NewDecoder(resp.Body).Decode(out)
		}
		return resp.StatusCode
	}
	var tj web.TOTPJSON
	if status := call("/api/v1/account/totp", map[string]string{}, &tj); status != 201 {
		t.Fatalf("totp start = %d", status)
	}
	code, _ := totp.Code(tj.Secret, e.clock.Now())
	if status := call("/api/v1/account/totp/confirm", map[string]string{"factor_id": tj.FactorID, "code": code}, nil); status != 201 {
		t.Fatalf("totp confirm = %d", status)
	}
	e.clock.Advance(31 * time.Second)
	b.get("/admin?q=kari%40example.no")
	if !strings.Contains(b.url, "/login/factor") {
		t.Fatalf("console below level 3 ended at %s, want the second step:\n%s", b.url, b.last)
	}
	code, _ = totp.Code(tj.Secret, e.clock.Now())
	b.post("/login/factor", "flow", b.find(`name="flow" value="([a-z0-9]+)"`), "method", "totp:"+tj.FactorID, "code", code)
	if b.status != http.StatusOK || !strings.Contains(b.url, "/admin?q=kari") || !strings.Contains(b.last, "Support console") {
		t.Errorf("after stepping up the browser is at %s (%d), want back in the console's search", b.url, b.status)
	}
}

// Search is exact and masked; opening an account needs a reason; every
// action needs its own reason and is audited with the support user as the
// actor; the support code is mailed to the user, never shown, and works
// once.
func TestConsoleSupportCode(t *testing.T) {
	e := newConsoleEnv(t)
	s := e.support
	s.get("/admin?q=KARI%40example.no")
	if s.status != 200 || !strings.Contains(s.last, `data-account="`+e.userID+`"`) {
		t.Fatalf("search by email = %d:\n%s", s.status, s.last)
	}
	if strings.Contains(s.last, "kari@example.no") || strings.Contains(s.last, "Kari Nordmann") {
		t.Errorf("search results are not masked:\n%s", s.last)
	}
	for _, q := range []string{"+47 912 34 567", "91234567"} {
		s.get("/admin?q=" + url.QueryEscape(q))
		if !strings.Contains(s.last, `data-account="`+e.olaID+`"`) {
			t.Errorf("search by phone %q found nothing:\n%s", q, s.last)
		}
	}
	s.get("/admin?q=OLA")
	if !strings.Contains(s.last, `data-account="`+e.olaID+`"`) {
		t.Errorf("search by username found nothing:\n%s", s.last)
	}
	s.get("/admin?q=kari")
	if strings.Contains(s.last, `data-account="`) {
		t.Errorf("a partial query found an account:\n%s", s.last)
	}

	// Opening asks for a reason first; a too short one is refused.
	s.get("/admin/accounts/" + e.userID)
	if !strings.Contains(s.last, `name="reason"`) || strings.Contains(s.last, "kari@example.no") {
		t.Fatalf("the account was shown before a reason was given:\n%s", s.last)
	}
	s.get("/admin/accounts/" + e.userID + "?reason=ok")
	if s.status != http.StatusUnprocessableEntity && s.status != http.StatusBadRequest || !strings.Contains(s.last, "Give a reason of 4 to 500 characters") {
		t.Errorf("open with a two-letter reason = %d:\n%s", s.status, s.last)
	}
	s.get("/admin/accounts/" + e.userID + "?reason=" + url.QueryEscape("ticket 4711, called from her number"))
	if s.status != 200 || !strings.Contains(s.last, "kari@example.no") || !strings.Contains(s.last, "Send a one-time support code") {
		t.Fatalf("open with a reason = %d:\n%s", s.status, s.last)
	}

	// An action without a reason changes nothing.
	s.post("/admin/accounts/"+e.userID+"/support-code", "reason", " ")
	if s.status < 400 || !strings.Contains(s.last, "Give a reason of 4 to 500 characters") || !strings.Contains(s.last, `id="reason"`) {
		t.Errorf("support code without a reason = %d:\n%s", s.status, s.last)
	}
	msgs, _ := e.app.Outbox.ListMessages(t.Context(), store.MessageFilter{To: "kari@example.no"})
	for _, m := range msgs {
		if strings.Contains(m.Subject, "support") {
			t.Errorf("a support code went out without a reason: %s", m.Subject)
		}
	}
	var err error
	s.post("/admin/accounts/"+e.userID+"/support-code", "reason", "ticket 4711: lost her phone, identity checked by video")
	if s.status != 200 || !strings.Contains(s.last, "A one-time code was sent to") {
		t.Fatalf("support code = %d:\n%s", s.status, s.last)
	}
	msgs, err = e.app.Outbox.ListMessages(t.Context(), store.MessageFilter{To: "kari@example.no", Limit: 1})
	if err != nil || len(msgs) == 0 {
		t.Fatal("no support mail", err)
	}
	code := regexp.MustCompile(`\b[a-z0-9]{4}(?:-[a-z0-9]{4}){2,}\b`).FindString(msgs[0].Text)
	if code == "" {
		t.Fatalf("no code in the mail:\n%s", msgs[0].Text)
	}
	if strings.Contains(s.last, code) {
		t.Error("the console showed the support code")
	}
	if !strings.Contains(msgs[0].Text, "30 minutes") {
		t.Errorf("the mail does not say the code works for 30 minutes:\n%s", msgs[0].Text)
	}

	// The user signs in with it once; a second time it is refused.
	signInWithSupportCode := func() (*formClient, bool) {
		u := newFormClient(t, e.env)
		u.signIn("kari@example.no", userPW)
		if !strings.Contains(u.url, "/login/factor") {
			t.Fatalf("the user's sign-in ended at %s", u.url)
		}
		u.post("/login/factor", "flow", u.find(`name="flow" value="([a-z0-9]+)"`), "method", "support", "code", code)
		return u, !strings.Contains(u.url, "/login/factor")
	}
	if u, ok := signInWithSupportCode(); !ok {
		t.Fatalf("sign-in with the support code stayed at %s:\n%s", u.url, u.last)
	}
	if u, ok := signInWithSupportCode(); ok {
		t.Errorf("the support code worked twice (at %s)", u.url)
	}

	// The audit log shows both: support's action with its reason, and the
	// user's sign-in.
	issued := events(t, e.env, store.AuditFilter{Subject: e.userID, Kinds: []string{string(audit.SupportCodeIssued)}})
	if len(issued) != 1 || issued[0].ActorKind != "support" || issued[0].ActorID != e.supportID ||
		!strings.Contains(issued[0].Reason, "ticket 4711") || issued[0].Outcome != "ok" {
		t.Errorf("support.code_issued events = %+v", issued)
	}
	logins := events(t, e.env, store.AuditFilter{Subject: e.userID, Kinds: []string{string(audit.LoginSucceeded)}})
	withCode := 0
	for _, l := range logins {
		if strings.Contains(l.Data["method"], "support") {
			withCode++
		}
	}
	if len(logins) == 0 || !strings.Contains(logins[0].Data["method"], "support") || withCode != 1 || logins[0].Data["level"] != "3" {
		t.Errorf("login.succeeded events of the user = %+v, want the newest, and only one, with the support code", logins)
	}
	viewed := events(t, e.env, store.AuditFilter{Subject: e.userID, Kinds: []string{string(audit.SupportViewed)}})
	if len(viewed) != 1 || viewed[0].Reason != "ticket 4711, called from her number" || viewed[0].ActorID != e.supportID {
		t.Errorf("support.account_viewed = %+v, want the opening with its reason (the refused one showed nothing)", viewed)
	}
	// The console's own view of the account lists them.
	s.get("/admin/audit?account=" + url.QueryEscape("kari@example.no"))
	if !strings.Contains(s.last, `data-kind="support.code_issued"`) || !strings.Contains(s.last, `data-kind="login.succeeded"`) {
		t.Errorf("the console's audit query misses the events:\n%s", s.last)
	}
}

// Lock: the user is refused with a clear page, their sessions end, and
// their app tokens stop working at introspection and userinfo; unlock
// lets them in again.
func TestConsoleLockAndUnlock(t *testing.T) {
	e := newConsoleEnv(t)
	// The user is signed in in a browser and in an app.
	appSrv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer appSrv.Close()
	c, secret, err := e.app.OP.CreateClient(t.Context(), op.ClientConfig{Name: "Payroll", RedirectURIs: []string{appSrv.URL + "/cb"}})
	if err != nil {
		t.Fatal(err)
	}
	u := newFormClient(t, e.env)
	u.signInTOTP("kari@example.no", userPW, e.userSeed, e.userFactor)
	verifier := strings.Repeat("v", 50)
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"client_id": {c.ID}, "redirect_uri": {appSrv.URL + "/cb"}, "response_type": {"code"}, "scope": {"openid"},
		"state": {"s1"}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	noFollow := &http.Client{Jar: u.client.Jar, Transport: u.client.Transport, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	loc := ""
	next := "http://localhost:8080/authorize?" + q.Encode()
	for range 10 {
		resp, err := noFollow.Get(next)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		loc = resp.Header.Get("Location")
		if loc == "" || strings.HasPrefix(loc, appSrv.URL) {
			break
		}
		if strings.HasPrefix(loc, "/") {
			loc = "http://localhost:8080" + loc
		}
		next = loc
	}
	cb, _ := url.Parse(loc)
	form := url.Values{"grant_type": {"authorization_code"}, "code": {cb.Query().Get("code")}, "redirect_uri": {appSrv.URL + "/cb"}, "code_verifier": {verifier}}
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
		t.Fatalf("no access token (callback %s, token answer %d)", loc, resp.StatusCode)
	}
	introspect := func() bool {
		req, _ := http.NewRequest("POST", e.srv.URL+"/oauth/introspect", strings.NewReader(url.Values{"token": {tok.AccessToken}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(c.ID, secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct {
			Active bool `json:"active"`
		}
		json.NewDecoder(resp.Body).Decode(&out)
		return out.Active
	}
	if !introspect() {
		t.Fatal("the app's token is inactive before the lock")
	}

	s := e.support
	s.post("/admin/accounts/"+e.userID+"/lock", "reason", "ticket 4712: account reported stolen")
	if s.status != 200 || !strings.Contains(s.last, "The account is locked.") || !strings.Contains(s.last, "Locked by support") {
		t.Fatalf("lock = %d:\n%s", s.status, s.last)
	}
	if introspect() {
		t.Error("the app's token is still active at introspection after the lock")
	}
	req, _ = http.NewRequest("GET", e.srv.URL+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("userinfo after the lock = %v, %v; want 401", resp.StatusCode, err)
	}
	// The browser's session is gone.
	u.get("/account")
	if !strings.Contains(u.url, "/login") {
		t.Errorf("the user's browser is still signed in after the lock (at %s)", u.url)
	}
	// Signing in again: a clear, localized refusal (nb).
	nb := newFormClient(t, e.env)
	nb.client.Transport = langTransport{nb.client.Transport, "nb"}
	nb.signIn("kari@example.no", userPW)
	if !strings.Contains(nb.last, "Denne kontoen er deaktivert") {
		t.Errorf("a locked user's sign-in (nb) shows:\n%s", nb.last)
	}
	// The JSON twin says so too.
	api := newAPIClient(t, e.env, "en")
	var f web.FlowJSON
	api.call("POST", "/api/v1/login", map[string]string{"email": "kari@example.no"}, &f)
	status, body := api.call("POST", "/api/v1/login/password", map[string]string{"flow_id": f.FlowID, "flow_token": f.FlowToken, "password": userPW}, nil)
	wantProblem(t, "a locked user's API sign-in", status, body, 403, "login.disabled")

	// Unlock: in again.
	s.post("/admin/accounts/"+e.userID+"/unlock", "reason", "ticket 4712: owner verified at the desk")
	if !strings.Contains(s.last, "The account is unlocked.") {
		t.Fatalf("unlock:\n%s", s.last)
	}
	again := newFormClient(t, e.env)
	again.signInTOTP("kari@example.no", userPW, e.userSeed, e.userFactor)
	if strings.Contains(again.url, "/login") {
		t.Errorf("after the unlock the sign-in ended at %s", again.url)
	}
	locks := events(t, e.env, store.AuditFilter{Subject: e.userID, Kinds: []string{string(audit.AccountLocked), string(audit.AccountUnlocked)}})
	if len(locks) != 2 || locks[0].Kind != "account.unlocked" || locks[1].Reason != "ticket 4712: account reported stolen" || locks[1].ActorID != e.supportID {
		t.Errorf("lock events = %+v", locks)
	}
	refused := events(t, e.env, store.AuditFilter{Subject: e.userID, Kinds: []string{string(audit.LoginFailed)}})
	if len(refused) == 0 || refused[0].Outcome != "denied" {
		t.Errorf("the locked sign-in was not audited: %+v", refused)
	}
}

// langTransport sets Accept-Language on every request.
type langTransport struct {
	next http.RoundTripper
	lang string
}

func (l langTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Accept-Language", l.lang)
	next := l.next
	if next == nil {
		next = http.DefaultTransport
	}
	return next.RoundTrip(r)
}

// The other actions: TOTP reset, end sessions, roles (admins only), and
// the refusals: a support user cannot lock themselves or grant roles.
func TestConsoleActions(t *testing.T) {
	e := newConsoleEnv(t)
	s := e.support
	s.post("/admin/accounts/"+e.userID+"/end-sessions", "reason", "ticket 4713: shared PC at the library")
	if s.status != 200 || !strings.Contains(s.last, "session") {
		t.Errorf("end sessions = %d:\n%s", s.status, s.last)
	}
	s.post("/admin/accounts/"+e.userID+"/reset-totp", "reason", "ticket 4714: phone lost")
	if s.status != 200 || !strings.Contains(s.last, "authenticator app") {
		t.Errorf("reset totp = %d:\n%s", s.status, s.last)
	}
	s.post("/admin/accounts/"+e.supportID+"/lock", "reason", "locking myself out, by mistake")
	if s.status != http.StatusConflict || !strings.Contains(s.last, "You cannot do this to your own account.") {
		t.Errorf("support locking themselves = %d", s.status)
	}
	s.post("/admin/accounts/"+e.userID+"/grant-admin", "reason", "promote to admin please")
	if s.status != http.StatusForbidden {
		t.Errorf("support granting a role = %d, want 403", s.status)
	}
	s.post("/admin/accounts/no-such-account/lock", "reason", "ticket 4715: whatever")
	if s.status != http.StatusNotFound {
		t.Errorf("lock of an unknown account = %d, want 404", s.status)
	}
	s.post("/admin/accounts/"+e.userID+"/no-such-action", "reason", "ticket 4715: whatever")
	if s.status != http.StatusNotFound {
		t.Errorf("unknown action = %d, want 404", s.status)
	}
	denied := events(t, e.env, store.AuditFilter{ActorID: e.supportID, Kinds: []string{string(audit.RoleGranted), string(audit.AccountLocked)}})
	if len(denied) != 2 || denied[0].Outcome != "denied" || denied[1].Outcome != "denied" {
		t.Errorf("refused actions audited as %+v, want two denied", denied)
	}

	// An admin grants and revokes roles, and sees the apps.
	if err := e.app.DB.GrantRole(t.Context(), e.supportID, "admin", e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	s.post("/admin/accounts/"+e.userID+"/grant-support", "reason", "ticket 4716: new support colleague")
	if s.status != 200 || !strings.Contains(s.last, "The account has the support role.") {
		t.Errorf("grant support = %d:\n%s", s.status, s.last)
	}
	if roles, _ := e.app.DB.ListRoles(t.Context(), e.userID); len(roles) != 1 || roles[0] != "support" {
		t.Errorf("roles after grant = %v", roles)
	}
	s.post("/admin/accounts/"+e.userID+"/revoke-support", "reason", "ticket 4717: left the team")
	if roles, _ := e.app.DB.ListRoles(t.Context(), e.userID); len(roles) != 0 {
		t.Errorf("roles after revoke = %v", roles)
	}
	s.get("/admin/clients")
	if s.status != 200 || !strings.Contains(s.last, "Add an app") {
		t.Errorf("apps page for an admin = %d", s.status)
	}
	s.post("/admin/clients", "client_id", "payroll", "name", "Payroll", "redirect_uris", "https://payroll.example.org/cb", "reason", "ticket 4718: new payroll system")
	if s.status != http.StatusCreated || !strings.Contains(s.last, `data-client="payroll"`) {
		t.Errorf("create client = %d:\n%s", s.status, s.last)
	}
	s.post("/admin/clients/payroll/delete", "reason", "ticket 4719: payroll retired")
	if s.status != 200 || strings.Contains(s.last, `data-client="payroll"`) {
		t.Errorf("delete client = %d", s.status)
	}
	if got := events(t, e.env, store.AuditFilter{Kinds: []string{string(audit.ClientCreated), string(audit.ClientDeleted)}}); len(got) != 2 || got[0].Reason != "ticket 4719: payroll retired" {
		t.Errorf("client events = %+v", got)
	}
}

// The admin API: the audit log in pages, and accounts named by email,
// username or national identity number.
func TestAdminAPIAuditAndLookups(t *testing.T) {
	const token = "admin token for the test 0123456789"
	sum := sha256.Sum256([]byte(token))
	e := newConsoleEnv(t, func(c *config.Config) {
		c.Admin.TokenSHA256 = hex.EncodeToString(sum[:])
	})
	auth := map[string]string{"Authorization": "Bearer " + token, "Content-Type": "application/json"}
	resp, body := e.do(t, "POST", "/api/admin/v1/accounts/kari@example.no/support-code", strings.NewReader(`{"reason":"ticket 4720: by phone"}`), auth)
	if resp.StatusCode != http.StatusAccepted || !strings.Contains(body, `"expires_in":1800`) {
		t.Fatalf("support code by email = %d %s", resp.StatusCode, body)
	}
	resp, body = e.do(t, "POST", "/api/admin/v1/accounts/kari@example.no/lock", strings.NewReader(`{}`), auth)
	if resp.StatusCode != http.StatusUnprocessableEntity && resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "admin.reason_required") {
		t.Errorf("lock without a reason = %d %s", resp.StatusCode, body)
	}
	resp, body = e.do(t, "POST", "/api/admin/v1/accounts/nobody@example.no/lock", strings.NewReader(`{"reason":"ticket 4721"}`), auth)
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("lock of an unknown address = %d %s", resp.StatusCode, body)
	}
	resp, _ = e.do(t, "GET", "/api/admin/v1/audit", nil, nil)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("audit without the token = %d", resp.StatusCode)
	}
	// Page through the user's events two at a time.
	var all []web.AuditEventJSON
	cursor := ""
	for page := 0; ; page++ {
		if page > 20 {
			t.Fatal("paging does not end")
		}
		q := url.Values{"account": {"kari@example.no"}, "limit": {"2"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		resp, body := e.do(t, "GET", "/api/admin/v1/audit?"+q.Encode(), nil, auth)
		if resp.StatusCode != 200 {
			t.Fatalf("audit page = %d %s", resp.StatusCode, body)
		}
		var out struct {
			Events []web.AuditEventJSON `json:"events"`
			Next   string               `json:"next_cursor"`
		}
		json.Unmarshal([]byte(body), &out)
		all = append(all, out.Events...)
		if out.Next == "" {
			break
		}
		cursor = out.Next
	}
	if len(all) < 2 || all[0].Kind != "support.code_issued" || all[0].ActorKind != "operator" || all[0].Reason != "ticket 4720: by phone" {
		t.Errorf("the user's audit trail = %+v", all)
	}
	for _, ev := range all {
		if ev.Subject != e.userID {
			t.Errorf("an event of another account in the user's trail: %+v", ev)
		}
	}
	resp, body = e.do(t, "GET", "/api/admin/v1/audit?cursor=not-a-cursor", nil, auth)
	if resp.StatusCode != http.StatusUnprocessableEntity && resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "admin.cursor_invalid") {
		t.Errorf("a bad cursor = %d %s", resp.StatusCode, body)
	}
	resp, body = e.do(t, "GET", "/api/admin/v1/accounts/kari@example.no?reason="+url.QueryEscape("ticket 4722: checking"), nil, auth)
	if resp.StatusCode != 200 || !strings.Contains(body, `"id":"`+e.userID+`"`) || strings.Contains(body, "hash") {
		t.Errorf("account by email = %d %s", resp.StatusCode, body)
	}
}
