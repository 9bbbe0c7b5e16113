package web_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/authn/totp"
	"github.com/portvakt/portvakt/internal/config"
	"github.com/portvakt/portvakt/internal/flow"
	"github.com/portvakt/portvakt/internal/store"
)

// Issue 15: "Where you're signed in", the new-device mail and its "this
// wasn't me" link, deleting one's account.

const (
	uaFirefox = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"
	uaChrome  = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.0.0 Safari/537.36"
	uaSafari  = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.5 Mobile/15E148 Safari/604.1"
	opsPW     = "correct horse battery staple"
)

// uaBrowser is a browser with a User-Agent and an address of its own that
// keeps its cookies. Pages go straight to the handler; API calls go
// through the test server, so their answers are checked against
// openapi.yaml.
type uaBrowser struct {
	t       *testing.T
	e       *env
	ua, ip  string
	cookies map[string]string
}

func newUABrowser(t *testing.T, e *env, ua, ip string) *uaBrowser {
	return &uaBrowser{t: t, e: e, ua: ua, ip: ip, cookies: map[string]string{}}
}

func (b *uaBrowser) keep(resp *http.Response) {
	for _, c := range resp.Cookies() {
		if c.MaxAge < 0 {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c.Value
		}
	}
}

func (b *uaBrowser) prepare(req *http.Request) {
	req.Header.Set("User-Agent", b.ua)
	req.Header.Set("Accept-Language", "en")
	for k, v := range b.cookies {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
}

// page sends a form (or a GET) to the handler and returns the answer.
func (b *uaBrowser) page(method, path string, kv ...string) (*http.Response, string) {
	b.t.Helper()
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	req := httptest.NewRequest(method, "http://localhost:8080"+path, strings.NewReader(v.Encode()))
	req.RemoteAddr = b.ip + ":40000"
	if method == "POST" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	b.prepare(req)
	rec := httptest.NewRecorder()
	b.e.app.Handler().ServeHTTP(rec, req)
	resp := rec.Result()
	if resp.StatusCode >= 500 {
		b.t.Fatalf("%s %s = %d:\n%s", method, path, resp.StatusCode, rec.Body.String())
	}
	b.keep(resp)
	return resp, rec.Body.String()
}

// api calls the JSON API through the test server.
func (b *uaBrowser) api(method, path string, in any, out any) (int, string) {
	b.t.Helper()
	var body io.Reader
	if in != nil {
		raw, _ := json.Marshal(in)
		body = strings.NewReader(string(raw))
	}
	req, _ := http.NewRequest(method, b.e.srv.URL+path, body)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	b.prepare(req)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	b.keep(resp)
	if out != nil && resp.StatusCode < 300 && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			b.t.Fatalf("%s %s: %v in %s", method, path, err, raw)
		}
	}
	return resp.StatusCode, string(raw)
}

// signIn signs in with the email-first form; it fails the test unless
// the browser ends up signed in.
func (b *uaBrowser) signIn(email string) *http.Response {
	b.t.Helper()
	resp, _ := b.page("POST", "/login", "email", email)
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || loc.Query().Get("flow") == "" {
		b.t.Fatalf("POST /login = %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, body := b.page("POST", "/login/password", "flow", loc.Query().Get("flow"), "password", opsPW)
	if resp.StatusCode != http.StatusSeeOther || !b.signedIn() {
		b.t.Fatalf("sign-in of %s = %d, not signed in:\n%s", email, resp.StatusCode, body)
	}
	return resp
}

// signedIn reports whether the browser's next request is served signed in.
func (b *uaBrowser) signedIn() bool {
	b.t.Helper()
	resp, _ := b.page("GET", "/account")
	return resp.StatusCode == http.StatusOK
}

func newAccountWithPassword(t *testing.T, e *env, name, email string) store.Account {
	t.Helper()
	a, err := e.app.Flows.CreateAccount(t.Context(), flow.NewAccount{Name: name, Email: email, Password: opsPW})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// mails returns the messages to addr whose subject contains subject,
// newest first.
func mails(t *testing.T, e *env, addr, subject string) []store.Message {
	t.Helper()
	msgs, err := e.app.Outbox.ListMessages(t.Context(), store.MessageFilter{To: addr})
	if err != nil {
		t.Fatal(err)
	}
	var out []store.Message
	for _, m := range msgs {
		if strings.Contains(m.Subject, subject) {
			out = append(out, m)
		}
	}
	return out
}

// auditKinds counts the account's audit events by kind, and by
// kind:scope where the event has a scope.
func auditKinds(t *testing.T, e *env, accountID string) map[string]int {
	t.Helper()
	events, _, err := e.app.DB.ListAuditEvents(t.Context(), store.AuditFilter{Subject: accountID, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, ev := range events {
		out[ev.Kind]++
		if sc := ev.Data["scope"]; sc != "" {
			out[ev.Kind+":"+sc]++
		}
	}
	return out
}

// wantAudited fails the test unless each kind (or kind:scope) was
// recorded at least n times.
func wantAudited(t *testing.T, e *env, accountID string, want map[string]int) {
	t.Helper()
	got := auditKinds(t, e, accountID)
	for k, n := range want {
		if got[k] < n {
			t.Errorf("audit: %d %s events, want at least %d (have %v)", got[k], k, n, got)
		}
	}
}

func TestSessionsPage_listsEndsAndSignsOutEverywhereElse(t *testing.T) {
	e := newEnv(t)
	kariAcct := newAccountWithPassword(t, e, "Kari Nordmann", "kari@example.no")
	laptop := newUABrowser(t, e, uaFirefox, "192.0.2.7")
	office := newUABrowser(t, e, uaChrome, "198.51.100.20")
	phone := newUABrowser(t, e, uaSafari, "203.0.113.9")
	laptop.signIn("kari@example.no")
	office.signIn("kari@example.no")
	phone.signIn("kari@example.no")

	resp, page := laptop.page("GET", "/account/sessions")
	if resp.StatusCode != 200 {
		t.Fatalf("GET /account/sessions = %d", resp.StatusCode)
	}
	for _, want := range []string{"Firefox 140 on Linux", "Chrome 141 on Windows", "Safari 18 on iOS", "this browser", "192.0.2.x", "198.51.100.x", "Signed in with password.", "Sign out everywhere else"} {
		if !strings.Contains(page, want) {
			t.Errorf("the sessions page lacks %q", want)
		}
	}
	if strings.Contains(page, "192.0.2.7") {
		t.Error("the sessions page shows a whole IP address, want its network")
	}
	if got := strings.Count(page, `class="badge">this browser`); got != 1 {
		t.Errorf(`"this browser" appears %d times, want once`, got)
	}

	var list struct {
		Sessions []struct {
			ID, Browser, OS, Network string
			Methods                  []string
			Level                    int
			Current                  bool
		}
		Total int
	}
	if code, body := laptop.api("GET", "/api/v1/sessions", nil, &list); code != 200 || list.Total != 3 || len(list.Sessions) != 3 {
		t.Fatalf("GET /api/v1/sessions = %d, %d sessions: %s", code, list.Total, body)
	}
	if s := list.Sessions[0]; !s.Current || s.Browser != "Firefox" || s.OS != "Linux" || s.Network != "192.0.2.x" || len(s.Methods) != 1 || s.Methods[0] != "password" || s.Level != 1 {
		t.Errorf("the caller's own session first = %+v", s)
	}
	var officeID, phoneID string
	for _, s := range list.Sessions {
		switch s.Browser {
		case "Chrome":
			officeID = s.ID
		case "Safari":
			phoneID = s.ID
		}
	}

	// End the office's session: it is signed out at its very next request.
	resp, _ = laptop.page("POST", "/account/sessions/end", "id", officeID)
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "notice=session-ended") {
		t.Fatalf("POST /account/sessions/end = %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if office.signedIn() {
		t.Error("the ended session still serves its browser")
	}
	if !laptop.signedIn() || !phone.signedIn() {
		t.Fatal("ending one session signed out another")
	}
	_, page = laptop.page("GET", "/account/sessions?notice=session-ended")
	if !strings.Contains(page, "The session has ended") || strings.Contains(page, "Chrome 141") {
		t.Error("after ending it, the page does not say so or still lists the session")
	}

	// The API twin: the phone's session ends by DELETE, the same way.
	office.signIn("kari@example.no")
	if code, body := laptop.api("DELETE", "/api/v1/sessions/"+phoneID, nil, nil); code != 204 {
		t.Fatalf("DELETE /api/v1/sessions/{phone} = %d: %s", code, body)
	}
	if phone.signedIn() {
		t.Error("the session ended through the API still serves its browser")
	}
	// Ending it again: 404 sessions.gone.
	if code, body := laptop.api("DELETE", "/api/v1/sessions/"+phoneID, nil, nil); code != 404 || !strings.Contains(body, "sessions.gone") {
		t.Errorf("DELETE of an ended session = %d: %s", code, body)
	}

	// Sign out everywhere else.
	phone.signIn("kari@example.no")
	resp, _ = laptop.page("POST", "/account/sessions/end-others")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST /account/sessions/end-others = %d", resp.StatusCode)
	}
	if office.signedIn() || phone.signedIn() {
		t.Error("sign out everywhere else left another browser signed in")
	}
	if !laptop.signedIn() {
		t.Error("sign out everywhere else signed out this browser too")
	}
	var ended struct{ Ended int }
	office.signIn("kari@example.no")
	if code, _ := laptop.api("POST", "/api/v1/sessions/end-others", nil, &ended); code != 200 || ended.Ended != 1 || office.signedIn() {
		t.Errorf("POST /api/v1/sessions/end-others = %d, ended %d", code, ended.Ended)
	}

	// Ending one's own session is signing out.
	resp, _ = laptop.page("POST", "/account/sessions/end", "id", list.Sessions[0].ID)
	if resp.StatusCode != http.StatusSeeOther || laptop.signedIn() {
		t.Error("ending this browser's own session did not sign it out")
	}
	// Each route wrote its event (the audit route walk counts on it).
	wantAudited(t, e, kariAcct.ID, map[string]int{"session.ended:one": 2, "session.ended:others": 2, "session.ended:own": 1})
}

// An attacker with a stolen session cookie of their own account (or a
// user guessing IDs) cannot see or end another account's sessions: an ID
// of another account's session is "not found", the same as none.
func TestSessions_otherAccountsSessionsAreNotFound(t *testing.T) {
	e := newEnv(t)
	newAccountWithPassword(t, e, "Kari Nordmann", "kari@example.no")
	newAccountWithPassword(t, e, "Mallory", "mallory@example.org")
	kari := newUABrowser(t, e, uaFirefox, "192.0.2.7")
	mallory := newUABrowser(t, e, uaChrome, "198.51.100.66")
	kari.signIn("kari@example.no")
	mallory.signIn("mallory@example.org")

	var list struct{ Sessions []struct{ ID string } }
	kari.api("GET", "/api/v1/sessions", nil, &list)
	kariID := list.Sessions[0].ID

	var seen struct{ Sessions []struct{ ID string } }
	mallory.api("GET", "/api/v1/sessions", nil, &seen)
	if len(seen.Sessions) != 1 || seen.Sessions[0].ID == kariID {
		t.Fatalf("mallory's list shows %+v", seen.Sessions)
	}
	code, body := mallory.api("DELETE", "/api/v1/sessions/"+kariID, nil, nil)
	if code != 404 || !strings.Contains(body, "sessions.gone") {
		t.Errorf("DELETE of another account's session = %d: %s", code, body)
	}
	if code, _ := mallory.api("DELETE", "/api/v1/sessions/"+strings.Repeat("x", 5000), nil, nil); code != 404 {
		t.Errorf("DELETE of a huge ID = %d, want 404", code)
	}
	resp, _ := mallory.page("POST", "/account/sessions/end", "id", kariID)
	if !strings.Contains(resp.Header.Get("Location"), "session-already-gone") {
		t.Errorf("POST /account/sessions/end with another account's session → %q", resp.Header.Get("Location"))
	}
	if !kari.signedIn() {
		t.Fatal("mallory ended kari's session")
	}
	// Without a session: 401, never a list.
	anon := newUABrowser(t, e, uaFirefox, "192.0.2.99")
	if code, _ := anon.api("GET", "/api/v1/sessions", nil, nil); code != 401 {
		t.Errorf("GET /api/v1/sessions without a session = %d, want 401", code)
	}
	if code, _ := anon.api("POST", "/api/v1/sessions/end-others", nil, nil); code != 401 {
		t.Errorf("POST end-others without a session = %d, want 401", code)
	}
}

var notMeLink = regexp.MustCompile(`/not-me/([A-Za-z0-9_-]+)`)

// A sign-in from a browser the account was not used from mails every
// verified address; the first browser and a known one do not. The mail's
// "this wasn't me" link asks first (GET), then ends that session and
// starts a password reset: it signs nobody in, works once, and someone
// holding only the mailbox gains nothing they could not do at /recover.
func TestNewDeviceMail_andThisWasntMe(t *testing.T) {
	e := newEnv(t)
	acct := newAccountWithPassword(t, e, "Kari Nordmann", "kari@example.no")
	laptop := newUABrowser(t, e, uaFirefox, "192.0.2.7")
	laptop.signIn("kari@example.no")
	if got := mails(t, e, "kari@example.no", "New sign-in"); len(got) != 0 {
		t.Fatalf("the account's first browser was mailed about: %q", got[0].Subject)
	}
	laptop.page("POST", "/logout")
	laptop.signIn("kari@example.no")
	if got := mails(t, e, "kari@example.no", "New sign-in"); len(got) != 0 {
		t.Fatal("a known browser was mailed about")
	}

	thief := newUABrowser(t, e, uaChrome, "198.51.100.66")
	thief.signIn("kari@example.no")
	got := mails(t, e, "kari@example.no", "New sign-in")
	if len(got) != 1 {
		t.Fatalf("%d new-device mails, want 1", len(got))
	}
	m := got[0]
	for _, want := range []string{"Chrome 141 on Windows", "198.51.100.66", "2026-11-21", "This wasn&#39;t me", "/account/sessions"} {
		if !strings.Contains(m.Text+m.HTML, want) {
			t.Errorf("the new-device mail lacks %q:\n%s", want, m.Text)
		}
	}
	token := notMeLink.FindStringSubmatch(m.Text)
	if token == nil {
		t.Fatalf("no this-wasn't-me link in:\n%s", m.Text)
	}
	thief.page("POST", "/logout")
	thief.signIn("kari@example.no")
	if n := len(mails(t, e, "kari@example.no", "New sign-in")); n != 1 {
		t.Errorf("signing in again from the same browser mailed again (%d mails)", n)
	}

	// Someone holding only the mailbox opens the link in a browser of
	// their own. The GET asks; nothing ends yet.
	mailbox := newUABrowser(t, e, uaSafari, "203.0.113.9")
	resp, page := mailbox.page("GET", "/not-me/"+token[1])
	if resp.StatusCode != 200 || !strings.Contains(page, "Was this not you?") || !strings.Contains(page, "Chrome 141 on Windows") {
		t.Fatalf("GET /not-me = %d:\n%s", resp.StatusCode, page)
	}
	if !thief.signedIn() {
		t.Fatal("the GET of the link ended the session")
	}
	resp, _ = mailbox.page("POST", "/not-me", "token", token[1])
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/recover/code?flow=") {
		t.Fatalf("POST /not-me = %d → %q, want the reset's code step", resp.StatusCode, loc)
	}
	if thief.signedIn() {
		t.Error("this wasn't me did not end the new device's session")
	}
	if !laptop.signedIn() {
		t.Error("this wasn't me ended the owner's other session")
	}
	if mailbox.signedIn() {
		t.Fatal("this wasn't me signed the clicking browser in")
	}
	if _, ok := mailbox.cookies["portvakt_session"]; ok {
		t.Fatal("this wasn't me set a session cookie")
	}
	if got := mails(t, e, "kari@example.no", "code"); len(got) == 0 {
		t.Error("no password-reset code was mailed")
	}
	// Once only.
	resp, page = mailbox.page("POST", "/not-me", "token", token[1])
	if resp.StatusCode != http.StatusGone || !strings.Contains(page, "no longer works") {
		t.Errorf("POST /not-me a second time = %d", resp.StatusCode)
	}
	// The device is forgotten: signing in there again is new again.
	thief.signIn("kari@example.no")
	if n := len(mails(t, e, "kari@example.no", "New sign-in")); n != 2 {
		t.Errorf("after this wasn't me, a sign-in from that browser mailed %d times in all, want 2", n)
	}

	// The JSON twin, with an expired link refused.
	token2 := notMeLink.FindStringSubmatch(mails(t, e, "kari@example.no", "New sign-in")[0].Text)[1]
	var out struct {
		SessionEnded bool `json:"session_ended"`
		Recovery     *struct {
			FlowID    string `json:"flow_id"`
			FlowToken string `json:"flow_token"`
			Next      string `json:"next"`
		} `json:"recovery"`
	}
	e.clock.Advance(8 * 24 * time.Hour)
	if code, body := newUABrowser(t, e, uaSafari, "203.0.113.9").api("POST", "/api/v1/not-me", map[string]string{"token": token2}, nil); code != 410 || !strings.Contains(body, "not_me.gone") {
		t.Errorf("POST /api/v1/not-me with an expired link = %d: %s", code, body)
	}
	e.clock.Advance(-8 * 24 * time.Hour)
	if code, body := newUABrowser(t, e, uaSafari, "203.0.113.9").api("POST", "/api/v1/not-me", map[string]string{"token": token2}, &out); code != 200 || !out.SessionEnded || out.Recovery == nil || out.Recovery.Next != "code" {
		t.Errorf("POST /api/v1/not-me = %d: %s", code, body)
	}
	wantAudited(t, e, acct.ID, map[string]int{"account.new_device_alerted": 2, "session.ended:not_me": 2})
}

func TestNewDeviceMail_canBeTurnedOff(t *testing.T) {
	e := newEnv(t, func(c *config.Config) { c.Alerts.NewDevice = false })
	newAccountWithPassword(t, e, "Kari Nordmann", "kari@example.no")
	newUABrowser(t, e, uaFirefox, "192.0.2.7").signIn("kari@example.no")
	newUABrowser(t, e, uaChrome, "198.51.100.66").signIn("kari@example.no")
	if n := len(mails(t, e, "kari@example.no", "New sign-in")); n != 0 {
		t.Errorf("alerts.new_device false: %d new-device mails", n)
	}
}

// Deleting one's account needs a fresh sign-in at the account's full
// level; it waits out a grace period in which signing in cancels it; each
// step is mailed; at the date the lifecycle deletes the account, and its
// audit entries stay, pseudonymised.
func TestDeleteAccount_graceCancelAndDelete(t *testing.T) {
	e := newEnv(t)
	acct := newAccountWithPassword(t, e, "Kari Nordmann", "kari@example.no")
	b := newUABrowser(t, e, uaFirefox, "192.0.2.7")
	b.signIn("kari@example.no")

	// Stale sign-in: the page sends the browser to re-authenticate, the
	// API answers reauth.required.
	e.clock.Advance(11 * time.Minute)
	resp, _ := b.page("POST", "/account/delete", "confirm", "yes")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/account/reauth") {
		t.Fatalf("POST /account/delete with a stale sign-in = %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if code, body := b.api("POST", "/api/v1/account/deletion", map[string]bool{"confirm": true}, nil); code != 403 || !strings.Contains(body, "reauth.required") {
		t.Errorf("POST /api/v1/account/deletion stale = %d: %s", code, body)
	}
	if code, body := b.api("GET", "/api/v1/account/export", nil, nil); code != 403 || !strings.Contains(body, "reauth.required") {
		t.Errorf("GET /api/v1/account/export stale = %d: %s", code, body)
	}
	resp, _ = b.page("POST", "/account/reauth", "current_password", opsPW, "return_to", "/account/delete")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("reauth = %d", resp.StatusCode)
	}

	// Download my data: everything, no secrets.
	resp, data := b.page("GET", "/account/data")
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("GET /account/data = %d", resp.StatusCode)
	}
	for _, want := range []string{`"kari@example.no"`, `"Kari Nordmann"`, `"sessions"`, `"security_events"`, `"login.succeeded"`} {
		if !strings.Contains(data, want) {
			t.Errorf("the export lacks %s", want)
		}
	}
	for _, secretish := range []string{"argon2", opsPW, "token_hash", "$argon"} {
		if strings.Contains(data, secretish) {
			t.Errorf("the export contains %q", secretish)
		}
	}

	// No tick: a clear error, nothing scheduled.
	resp, page := b.page("POST", "/account/delete")
	if resp.StatusCode != 422 || !strings.Contains(page, "Tick the box") {
		t.Errorf("POST /account/delete without confirm = %d", resp.StatusCode)
	}
	resp, page = b.page("POST", "/account/delete", "confirm", "yes")
	if resp.StatusCode != 200 || !strings.Contains(page, "Your account will be deleted on 2026-12-05") {
		t.Fatalf("POST /account/delete = %d:\n%s", resp.StatusCode, page)
	}
	if b.signedIn() {
		t.Error("requesting deletion left the browser signed in")
	}
	if n := len(mails(t, e, "kari@example.no", "will be deleted")); n != 1 {
		t.Errorf("%d deletion-scheduled mails, want 1", n)
	}

	// Signing in within the grace cancels it and says so.
	e.clock.Advance(3 * 24 * time.Hour)
	resp = b.signIn("kari@example.no")
	if loc := resp.Header.Get("Location"); loc != "/account?notice=deletion-cancelled" {
		t.Errorf("sign-in in the grace period → %q", loc)
	}
	if _, page := b.page("GET", "/account?notice=deletion-cancelled"); !strings.Contains(page, "Your account will not be deleted") {
		t.Error("the account page does not say the deletion was cancelled")
	}
	if n := len(mails(t, e, "kari@example.no", "will not be deleted")); n != 1 {
		t.Errorf("%d deletion-cancelled mails, want 1", n)
	}
	var del struct{ Scheduled bool }
	if b.api("GET", "/api/v1/account/deletion", nil, &del); del.Scheduled {
		t.Error("the deletion is still scheduled after the sign-in")
	}
	if n, _ := e.app.Lifecycle().Run(t.Context(), false); len(n) != 0 {
		t.Errorf("the lifecycle acted on a cancelled deletion: %+v", n)
	}

	// The JSON twin of the sign-in says so too.
	if code, body := b.api("POST", "/api/v1/account/deletion", map[string]bool{"confirm": true}, nil); code != 202 {
		t.Fatalf("POST /api/v1/account/deletion = %d: %s", code, body)
	}
	var fl struct {
		FlowID    string `json:"flow_id"`
		FlowToken string `json:"flow_token"`
	}
	api := newUABrowser(t, e, uaFirefox, "192.0.2.7")
	api.api("POST", "/api/v1/login", map[string]string{"email": "kari@example.no"}, &fl)
	var signedIn struct {
		DeletionCancelled bool `json:"deletion_cancelled"`
	}
	if code, body := api.api("POST", "/api/v1/login/password", map[string]string{"flow_id": fl.FlowID, "flow_token": fl.FlowToken, "password": opsPW}, &signedIn); code != 200 || !signedIn.DeletionCancelled {
		t.Errorf("API sign-in in the grace period = %d: %s", code, body)
	}
	b.signIn("kari@example.no")

	// For real this time, through the API.
	var sched struct {
		Scheduled bool
		DueAt     time.Time `json:"due_at"`
	}
	if code, body := b.api("POST", "/api/v1/account/deletion", map[string]bool{"confirm": true}, &sched); code != 202 || !sched.Scheduled {
		t.Fatalf("POST /api/v1/account/deletion = %d: %s", code, body)
	}
	wantAudited(t, e, acct.ID, map[string]int{"account.deletion_requested": 3, "account.deletion_cancelled": 2, "account.data_exported": 1})
	e.clock.Advance(14*24*time.Hour - time.Hour)
	if acts, _ := e.app.Lifecycle().Run(t.Context(), false); len(acts) != 0 {
		t.Errorf("deleted before the grace ended: %+v", acts)
	}
	e.clock.Advance(2 * time.Hour)
	acts, err := e.app.Lifecycle().Run(t.Context(), false)
	if err != nil || len(acts) != 1 || !acts[0].Done {
		t.Fatalf("lifecycle run at the date = %+v, %v", acts, err)
	}
	if _, err := e.app.DB.GetAccount(t.Context(), acct.ID); err == nil {
		t.Fatal("the account is still there")
	}
	if _, err := e.app.DB.GetEmail(t.Context(), "kari@example.no"); err == nil {
		t.Error("the address is still there")
	}
	if n := len(mails(t, e, "kari@example.no", "has been deleted")); n != 1 {
		t.Errorf("%d account-deleted mails, want 1", n)
	}
	events, _, err := e.app.DB.ListAuditEvents(t.Context(), store.AuditFilter{Subject: acct.ID})
	if err != nil || len(events) != 0 {
		t.Errorf("audit events still name the deleted account: %d (%v)", len(events), err)
	}
	all, _, _ := e.app.DB.ListAuditEvents(t.Context(), store.AuditFilter{Limit: 1000})
	pseudonymous := 0
	for _, ev := range all {
		if strings.HasPrefix(ev.Subject, "deleted-") {
			pseudonymous++
			if ev.IP != "" || ev.UserAgent != "" {
				t.Errorf("a pseudonymised event keeps IP %q / UA %q", ev.IP, ev.UserAgent)
			}
		}
	}
	if pseudonymous < 3 {
		t.Errorf("%d pseudonymised events kept, want the sign-ins and the requests at least", pseudonymous)
	}
	if b.signedIn() {
		t.Error("a deleted account's browser is signed in")
	}
}

// The security history shows the user's own events only, masked.
func TestSecurityHistory_ownEventsOnly(t *testing.T) {
	e := newEnv(t)
	newAccountWithPassword(t, e, "Kari Nordmann", "kari@example.no")
	newAccountWithPassword(t, e, "Ola Nordmann", "ola@example.no")
	kari := newUABrowser(t, e, uaFirefox, "192.0.2.7")
	ola := newUABrowser(t, e, uaChrome, "198.51.100.20")
	// A wrong password for kari, then the right one.
	resp, _ := kari.page("POST", "/login", "email", "kari@example.no")
	loc, _ := url.Parse(resp.Header.Get("Location"))
	kari.page("POST", "/login/password", "flow", loc.Query().Get("flow"), "password", "wrong wrong wrong")
	kari.signIn("kari@example.no")
	ola.signIn("ola@example.no")

	resp, page := kari.page("GET", "/account/history")
	if resp.StatusCode != 200 {
		t.Fatalf("GET /account/history = %d", resp.StatusCode)
	}
	for _, want := range []string{"Security history", "Signed in", "Sign-in attempt — refused", "Firefox 140 on Linux", "192.0.2.x"} {
		if !strings.Contains(page, want) {
			t.Errorf("the history lacks %q", want)
		}
	}
	if strings.Contains(page, "Chrome") || strings.Contains(page, "198.51.100") {
		t.Error("kari's history shows ola's sign-in")
	}
	var out struct {
		Days   int
		Events []struct{ Kind, Outcome, Network string }
	}
	if code, body := kari.api("GET", "/api/v1/account/history", nil, &out); code != 200 || out.Days != 90 || len(out.Events) < 2 {
		t.Fatalf("GET /api/v1/account/history = %d: %s", code, body)
	}
	for _, ev := range out.Events {
		if ev.Network != "" && ev.Network != "192.0.2.x" {
			t.Errorf("an event from %q in kari's history", ev.Network)
		}
	}
}

// Remembered browsers are listed the same way: browser, first and last
// use, this browser marked; "forget every other browser" keeps this one,
// and the forgotten browser is asked for the second step again.
func TestRememberedBrowsers_listedMarkedForgotten(t *testing.T) {
	e := newEnv(t, func(c *config.Config) { c.MFA.RememberDays = 20 })
	newAccountWithPassword(t, e, "Kari Nordmann", "kari@example.no")
	laptop := newUABrowser(t, e, uaFirefox, "192.0.2.7")
	laptop.signIn("kari@example.no")
	_, setup := laptop.page("POST", "/account/security/totp")
	seed := strings.ReplaceAll(regexp.MustCompile(`id="totp-secret">([A-Z2-7 ]+)<`).FindStringSubmatch(setup)[1], " ", "")
	factor := regexp.MustCompile(`name="factor" value="([a-z0-9]+)"`).FindStringSubmatch(setup)[1]
	code, _ := totp.Code(seed, e.clock.Now())
	if resp, _ := laptop.page("POST", "/account/security/totp/confirm", "factor", factor, "code", code); resp.StatusCode != 200 {
		t.Fatalf("confirming the app = %d", resp.StatusCode)
	}
	// Sign in with the app and "don't ask again" on two browsers.
	secondStep := func(b *uaBrowser, remember bool) bool {
		t.Helper()
		resp, _ := b.page("POST", "/login", "email", "kari@example.no")
		loc, _ := url.Parse(resp.Header.Get("Location"))
		resp, _ = b.page("POST", "/login/password", "flow", loc.Query().Get("flow"), "password", opsPW)
		loc, _ = url.Parse(resp.Header.Get("Location"))
		if loc.Path != "/login/factor" {
			return false // remembered: no second step
		}
		_, page := b.page("GET", loc.RequestURI())
		method := regexp.MustCompile(`name="method" value="(totp:[a-z0-9]+)"`).FindStringSubmatch(page)[1]
		e.clock.Advance(31 * time.Second)
		code, _ := totp.Code(seed, e.clock.Now())
		kv := []string{"flow", loc.Query().Get("flow"), "method", method, "code", code}
		if remember {
			kv = append(kv, "remember", "1")
		}
		if resp, body := b.page("POST", "/login/factor", kv...); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("second step = %d:\n%s", resp.StatusCode, body)
		}
		return true
	}
	laptop.page("POST", "/logout")
	secondStep(laptop, true)
	office := newUABrowser(t, e, uaChrome, "198.51.100.20")
	secondStep(office, true)
	e.clock.Advance(2 * time.Hour)
	office.page("POST", "/logout")
	if secondStep(office, false) {
		t.Fatal("a remembered browser was asked for the second step")
	}
	if secondStep(laptop, false) { // its session timed out meanwhile
		t.Fatal("the remembered laptop was asked for the second step")
	}
	// A remembered browser's fresh sign-in is below the account's full
	// level (no second factor proven): deleting the account needs more.
	if code, body := laptop.api("POST", "/api/v1/account/deletion", map[string]bool{"confirm": true}, nil); code != 403 || !strings.Contains(body, "reauth.required") {
		t.Errorf("deletion from a password-only sign-in of a two-factor account = %d: %s", code, body)
	}
	if resp, _ := laptop.page("POST", "/account/delete", "confirm", "yes"); !strings.HasPrefix(resp.Header.Get("Location"), "/account/reauth") {
		t.Errorf("the deletion page did not ask to sign in again: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}

	_, page := laptop.page("GET", "/account/sessions")
	for _, want := range []string{"Remembered browsers", "Firefox 140 on Linux", "Chrome 141 on Windows", "Forget every other browser", "last used 2026-11-21"} {
		if !strings.Contains(page, want) {
			t.Errorf("the remembered browsers lack %q", want)
		}
	}
	var list struct {
		Browsers []struct {
			ID, Browser string
			Current     bool
		}
		Total int
	}
	if code, body := laptop.api("GET", "/api/v1/remembered-browsers", nil, &list); code != 200 || list.Total != 2 || !list.Browsers[0].Current || list.Browsers[0].Browser != "Firefox" || list.Browsers[1].Current {
		t.Fatalf("GET /api/v1/remembered-browsers = %d: %s", code, body)
	}
	// Another account cannot forget kari's browsers.
	newAccountWithPassword(t, e, "Mallory", "mallory@example.org")
	mallory := newUABrowser(t, e, uaSafari, "203.0.113.66")
	mallory.signIn("mallory@example.org")
	if code, body := mallory.api("DELETE", "/api/v1/remembered-browsers/"+list.Browsers[1].ID, nil, nil); code != 404 {
		t.Errorf("DELETE of another account's remembered browser = %d: %s", code, body)
	}
	var forgot struct{ Forgotten int }
	if code, body := laptop.api("POST", "/api/v1/remembered-browsers/forget-others", nil, &forgot); code != 200 || forgot.Forgotten != 1 {
		t.Fatalf("forget-others = %d: %s", code, body)
	}
	office.page("POST", "/logout")
	if !secondStep(office, true) {
		t.Error("the forgotten browser skipped the second step")
	}
	laptop.page("POST", "/logout")
	if secondStep(laptop, false) {
		t.Error("forget every other browser forgot this one too")
	}
	// One at a time, on the page and through the API.
	laptop.api("GET", "/api/v1/remembered-browsers", nil, &list)
	if len(list.Browsers) != 2 {
		t.Fatalf("%d remembered browsers, want 2", len(list.Browsers))
	}
	if resp, _ := laptop.page("POST", "/account/sessions/browsers/forget", "id", list.Browsers[1].ID); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("POST /account/sessions/browsers/forget = %d", resp.StatusCode)
	}
	if code, body := laptop.api("DELETE", "/api/v1/remembered-browsers/"+list.Browsers[0].ID, nil, nil); code != 204 {
		t.Errorf("DELETE /api/v1/remembered-browsers/{own} = %d: %s", code, body)
	}
	if resp, _ := laptop.page("POST", "/account/sessions/browsers/forget-others"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("POST /account/sessions/browsers/forget-others = %d", resp.StatusCode)
	}
	if laptop.api("GET", "/api/v1/remembered-browsers", nil, &list); list.Total != 0 {
		t.Errorf("%d remembered browsers left, want none", list.Total)
	}
	wantAudited(t, e, kariID(t, e), map[string]int{"browser.forgotten:one": 2, "browser.forgotten:others": 2})
}

func kariID(t *testing.T, e *env) string {
	t.Helper()
	em, err := e.app.DB.GetEmail(t.Context(), "kari@example.no")
	if err != nil {
		t.Fatal(err)
	}
	return em.AccountID
}
