package web_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/authn/totp"
	"github.com/portvakt/portvakt/internal/config"
	"github.com/portvakt/portvakt/internal/flow"
	"github.com/portvakt/portvakt/internal/store"
	"github.com/portvakt/portvakt/internal/web"
)

// stateRoutes reads every route package web registers with a method that
// can change state (POST, PUT, PATCH, DELETE), from the source: a new
// route is seen here the moment it is written.
func stateRoutes(t *testing.T) []string {
	t.Helper()
	files, _ := filepath.Glob("*.go")
	re := regexp.MustCompile(`Handle(?:Func)?\("((?:POST|PUT|PATCH|DELETE) [^"]+)"`)
	seen := map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			seen[m[1]] = true
		}
	}
	var out []string
	for r := range seen {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

// Routes this file drives, each with the audit event it must write.
var drivenRoutes = map[string]string{
	"POST /login/password":                    "login.failed, then login.succeeded",
	"POST /account/password":                  "password.changed",
	"POST /account/emails/verify":             "email.added",
	"POST /account/emails/primary":            "email.primary_changed",
	"POST /account/emails/remove":             "email.removed",
	"POST /logout":                            "session.ended",
	"POST /api/v1/login/password":             "login.succeeded",
	"POST /api/v1/account/totp/confirm":       "factor.added",
	"POST /api/v1/account/recovery-codes":     "recovery_codes.generated",
	"DELETE /api/v1/account/factors":          "factor.removed",
	"POST /api/v1/account/password":           "password.changed",
	"DELETE /api/v1/session":                  "session.ended",
	"POST /recover/password":                  "password.reset",
	"POST /api/admin/v1/accounts":             "account.created",
	"POST /api/admin/v1/accounts/{id}/unlock": "account.unlocked",
	"POST /api/admin/v1/clients":              "client.created",
	"DELETE /api/admin/v1/clients/{id}":       "client.deleted",
}

// Routes other tests in this package drive, with the audit events they
// check.
var drivenElsewhere = map[string]string{
	"POST /admin/accounts/{id}/{action}":        "TestConsoleSupportCode, TestConsoleLockAndUnlock, TestConsoleActions",
	"POST /admin/clients":                       "TestConsoleActions (client.created)",
	"POST /admin/clients/{id}/delete":           "TestConsoleActions (client.deleted)",
	"POST /api/admin/v1/accounts/{id}/{action}": "TestAdminAPIAuditAndLookups (support.code_issued)",
	"POST /login/factor":                        "TestConsoleSupportCode (login.succeeded with the support code)",
	// Where you're signed in, this wasn't me, deleting the account (ops_test.go).
	"POST /account/sessions/end":                     "TestSessionsPage_listsEndsAndSignsOutEverywhereElse (session.ended one, own)",
	"DELETE /api/v1/sessions/{id}":                   "TestSessionsPage_listsEndsAndSignsOutEverywhereElse (session.ended one)",
	"POST /account/sessions/end-others":              "TestSessionsPage_listsEndsAndSignsOutEverywhereElse (session.ended others)",
	"POST /api/v1/sessions/end-others":               "TestSessionsPage_listsEndsAndSignsOutEverywhereElse (session.ended others)",
	"POST /account/sessions/browsers/forget":         "TestRememberedBrowsers_listedMarkedForgotten (browser.forgotten one)",
	"DELETE /api/v1/remembered-browsers/{id}":        "TestRememberedBrowsers_listedMarkedForgotten (browser.forgotten one)",
	"POST /account/sessions/browsers/forget-others":  "TestRememberedBrowsers_listedMarkedForgotten (browser.forgotten others)",
	"POST /api/v1/remembered-browsers/forget-others": "TestRememberedBrowsers_listedMarkedForgotten (browser.forgotten others)",
	"POST /not-me":                  "TestNewDeviceMail_andThisWasntMe (session.ended not_me)",
	"POST /api/v1/not-me":           "TestNewDeviceMail_andThisWasntMe (session.ended not_me)",
	"POST /account/delete":          "TestDeleteAccount_graceCancelAndDelete (account.deletion_requested)",
	"POST /api/v1/account/deletion": "TestDeleteAccount_graceCancelAndDelete (account.deletion_requested)",
}

// Routes that change no account's state, so that no audit event is due:
// each says why. A route moves out of here when it starts changing an
// account.
var notAccountState = map[string]string{
	"POST /lang":                           "the page language for this browser (a cookie)",
	"POST /login":                          "starts a sign-in flow; nothing about the account changes",
	"POST /api/v1/login":                   "starts a sign-in flow",
	"POST /signup":                         "starts a sign-up: no account exists yet",
	"POST /api/v1/signup":                  "starts a sign-up",
	"POST /signup/code":                    "proves the address of a sign-up in progress",
	"POST /api/v1/signup/code":             "proves the address of a sign-up in progress",
	"POST /signup/resend":                  "mails the sign-up code again",
	"POST /api/v1/signup/resend":           "mails the sign-up code again",
	"POST /recover":                        "starts a recovery flow (the reset itself is audited at /recover/password)",
	"POST /api/v1/recovery":                "starts a recovery flow",
	"POST /recover/code":                   "proves the mailbox in a recovery flow",
	"POST /api/v1/recovery/code":           "proves the mailbox in a recovery flow",
	"POST /recover/resend":                 "mails the recovery code again",
	"POST /api/v1/recovery/resend":         "mails the recovery code again",
	"POST /recover/link":                   "opens a recovery link (the flow's state)",
	"POST /api/v1/recovery/link":           "opens a recovery link",
	"POST /recover/link/elsewhere":         "moves a recovery flow to another browser",
	"POST /api/v1/recovery/link/elsewhere": "moves a recovery flow to another browser",
	"POST /recover/link-code":              "mails a code instead of a link",
	"POST /api/v1/recovery/link-code":      "mails a code instead of a link",
	"POST /recover/cancel":                 "cancels a recovery flow",
	"POST /api/v1/recovery/cancel":         "cancels a recovery flow",
	"POST /api/v1/password/check":          "reads: the rules a password breaks",
	"POST /login/factor/send":              "sends a code for the second step (SMS and mail budgets apply)",
	"POST /api/v1/factor/send":             "sends a code for the second step",
	"POST /login/factor/lost":              "shows what to do without one's factors",
	"POST /login/factor/webauthn/options":  "a WebAuthn challenge for a flow",
	"POST /api/v1/factor/webauthn/options": "a WebAuthn challenge for a flow",
	"POST /login/passkey/options":          "a WebAuthn challenge",
	"POST /api/v1/passkey/options":         "a WebAuthn challenge",
	"POST /account/security/keys/options":  "a WebAuthn challenge",
	"POST /api/v1/account/keys/options":    "a WebAuthn challenge",
	"POST /account/emails/add":             "starts proving a new address (audited when it is added, at verify)",
	"POST /api/v1/account/emails":          "starts proving a new address",
	"POST /account/emails/resend":          "mails the address code again",
	"POST /account/security/totp":          "starts an authenticator's setup (audited when confirmed)",
	"POST /api/v1/account/totp":            "starts an authenticator's setup",
	"POST /account/security/phones":        "starts proving a phone (audited when confirmed)",
	"POST /api/v1/account/phones":          "starts proving a phone",
	"POST /account/security/phones/resend": "sends the phone code again",
	"POST /api/v1/account/phones/resend":   "sends the phone code again",
	"POST /api/v1/stepup":                  "starts a step-up flow (the step-up is audited when it succeeds)",
	"POST /login/enrol/email":              "starts proving an address at sign-in (audited at confirm: TestDrivenRoutesOfEnrolment)",
	"POST /api/v1/factor/enrol/email":      "starts proving an address at sign-in",
	"POST /login/enrol/totp":               "starts an authenticator's setup at sign-in (audited at confirm)",
	"POST /api/v1/factor/enrol/totp":       "starts an authenticator's setup at sign-in",
	"POST /api/v1/account/identities":      "starts linking an upstream identity (audited at /api/v1/federated/{id}/complete)",
	"POST /oidc/continue":                  "continues an app's sign-in request",
	"POST /oidc/cancel":                    "cancels an app's sign-in request",
	"POST /login/federated/cancel":         "cancels an upstream sign-in flow",
	"POST /api/v1/federated/{id}/start":    "starts an upstream sign-in flow",
	"POST /account/reauth":                 "audited as session.reauthenticated by the flow (upgradeSession)",
}

// Routes that change an account and are audited through a central seam
// (finishLogin, failed, secure and notify), but that no test drives yet
// (none now: audit_routes2_test.go drives the rest). A new route goes
// here only with a reason; better, drive it and check its event.
var auditedNotDriven = []string{}

// Routes of other areas still open (none now): the routes of issue 14,
// consent, act-as and the security page's browsers and key labels are
// driven in audit_routes2_test.go (drivenOtherAreas). A new route of
// another area that writes no event yet goes here.
var otherAreas = []string{}

// TestEveryStateChangingRouteIsAudited walks the route table: every route
// that can change state is driven here (and must write its audit event),
// driven by another test, explicitly free of account state, or on the
// visible list of gaps. A route in none of these fails the test, so a new
// route cannot be added without deciding what it records.
func TestEveryStateChangingRouteIsAudited(t *testing.T) {
	routes := stateRoutes(t)
	known := map[string]string{}
	add := func(list string, rs ...string) {
		for _, r := range rs {
			if prev, ok := known[r]; ok {
				t.Errorf("route %q is in both %s and %s", r, prev, list)
			}
			known[r] = list
		}
	}
	for r := range drivenRoutes {
		add("drivenRoutes", r)
	}
	for r := range drivenElsewhere {
		add("drivenElsewhere", r)
	}
	for r := range drivenOtherAreas {
		add("drivenOtherAreas", r)
	}
	for r := range drivenSeams {
		add("drivenSeams", r)
	}
	for r := range drivenFederatedChoices {
		add("drivenFederatedChoices", r)
	}
	for r := range drivenFederation {
		add("drivenFederation", r)
	}
	for r := range drivenKeyPages {
		add("drivenKeyPages", r)
	}
	for r := range drivenEnrolment {
		add("drivenEnrolment", r)
	}
	for r := range drivenKeys {
		add("drivenKeys", r)
	}
	for r := range notAccountState {
		add("notAccountState", r)
	}
	add("auditedNotDriven", auditedNotDriven...)
	add("otherAreas", otherAreas...)
	for _, r := range routes {
		if _, ok := known[r]; !ok {
			t.Errorf("route %q changes state but is in no list of audit_routes_test.go: drive it there and check its audit event, or say why it changes no account", r)
		}
	}
	for r, list := range known {
		if !slices.Contains(routes, r) {
			t.Errorf("%s names %q, which package web no longer registers", list, r)
		}
	}
	t.Logf("%d state-changing routes: %d driven here, %d in audit_routes2_test.go, %d by other tests, %d change no account, %d audited through a seam but not driven, %d of other areas",
		len(routes), len(drivenRoutes), len(drivenOtherAreas)+len(drivenSeams)+len(drivenFederatedChoices)+len(drivenFederation)+len(drivenKeyPages)+len(drivenEnrolment)+len(drivenKeys), len(drivenElsewhere), len(notAccountState), len(auditedNotDriven), len(otherAreas))
}

// TestDrivenRoutesWriteTheirEvents drives each route of drivenRoutes as a
// user (or operator) would and checks that the request wrote the event,
// with the right subject; then greps every event for the secrets used
// along the way (passwords, codes, tokens, the admin token) and for a
// full phone number.
func TestDrivenRoutesWriteTheirEvents(t *testing.T) {
	const token = "the admin token of the route walk 42"
	sum := sha256.Sum256([]byte(token))
	e := newEnv(t, func(c *config.Config) { c.Admin.TokenSHA256 = hex.EncodeToString(sum[:]) })
	const pw1, pw2, pw3, pw4 = "first long passphrase 1111", "second long passphrase 2222", "third long passphrase 3333", "fourth long passphrase 4444"
	secrets := []string{pw1, pw2, pw3, pw4, token}
	ctx := t.Context()
	acct, err := e.app.Flows.CreateAccount(ctx, flow.NewAccount{Name: "Walk Er", Email: "walk@example.no", Password: pw1})
	if err != nil {
		t.Fatal(err)
	}
	var last time.Time
	// expect checks that the last request wrote an event of kind about
	// the account.
	expect := func(route, kind string) {
		t.Helper()
		list, _, err := e.app.DB.ListAuditEvents(ctx, store.AuditFilter{Subject: acct.ID, Kinds: []string{kind}, Since: last})
		if err != nil {
			t.Fatal(err)
		}
		if len(list) == 0 {
			t.Errorf("%s wrote no %s event", route, kind)
		} else {
			last = list[0].At.Add(time.Millisecond)
		}
	}
	last = e.clock.Now()

	b := newFormClient(t, e)
	b.post("/login", "email", "walk@example.no")
	b.post("/login/password", "flow", b.find(`name="flow" value="([a-z0-9]+)"`), "password", "not the password at all")
	expect("POST /login/password (wrong)", "login.failed")
	b.post("/login/password", "flow", b.find(`name="flow" value="([a-z0-9]+)"`), "password", pw1)
	expect("POST /login/password", "login.succeeded")
	b.post("/account/password", "current_password", pw1, "password", pw2)
	expect("POST /account/password", "password.changed")
	b.post("/account/emails/add", "email", "walk2@example.no", "current_password", pw2)
	b.post("/account/emails/verify", "flow", b.find(`name="flow" value="([a-z0-9]+)"`), "code", lastCode(t, e, "walk2@example.no"))
	expect("POST /account/emails/verify", "email.added")
	b.post("/account/emails/primary", "email", "walk2@example.no")
	expect("POST /account/emails/primary", "email.primary_changed")
	b.post("/account/emails/remove", "email", "walk@example.no", "current_password", pw2)
	expect("POST /account/emails/remove", "email.removed")
	b.post("/logout")
	expect("POST /logout", "session.ended")

	c := newAPIClient(t, e, "en")
	apiSignIn(t, c, "walk2@example.no", pw2)
	expect("POST /api/v1/login/password", "login.succeeded")
	var tj web.TOTPJSON
	c.call("POST", "/api/v1/account/totp", nil, &tj)
	code, _ := totp.Code(tj.Secret, e.clock.Now())
	secrets = append(secrets, tj.Secret, code)
	c.call("POST", "/api/v1/account/totp/confirm", map[string]string{"factor_id": tj.FactorID, "code": code}, nil)
	expect("POST /api/v1/account/totp/confirm", "factor.added")
	// A full sign-in with the authenticator, for the changes that need it.
	c.call("DELETE", "/api/v1/session", nil, nil)
	expect("DELETE /api/v1/session", "session.ended")
	e.clock.Advance(31 * time.Second)
	f := apiSignIn(t, c, "walk2@example.no", pw2)
	code, _ = totp.Code(tj.Secret, e.clock.Now())
	secrets = append(secrets, code)
	if status, body := c.call("POST", "/api/v1/factor/verify", map[string]any{"flow_id": f.FlowID, "flow_token": f.FlowToken, "method": "totp:" + tj.FactorID, "code": code}, nil); status != 200 {
		t.Fatalf("factor verify = %d %s", status, body)
	}
	var rc web.RecoveryCodesJSON
	c.call("POST", "/api/v1/account/recovery-codes", nil, &rc)
	secrets = append(secrets, rc.RecoveryCodes...)
	expect("POST /api/v1/account/recovery-codes", "recovery_codes.generated")
	c.call("POST", "/api/v1/account/password", map[string]string{"current_password": pw2, "password": pw3}, nil)
	expect("POST /api/v1/account/password", "password.changed")
	c.call("DELETE", "/api/v1/account/factors", map[string]string{"id": tj.FactorID}, nil)
	expect("DELETE /api/v1/account/factors", "factor.removed")

	// A reset through "forgot password".
	r := newFormClient(t, e)
	r.post("/recover", "email", "walk2@example.no", "method", "code")
	rcode := ""
	msgs, _ := e.app.Outbox.ListMessages(ctx, store.MessageFilter{To: "walk2@example.no", Limit: 5})
	for _, m := range msgs {
		if c := regexp.MustCompile(`\b\d{6}\b`).FindString(m.Text); c != "" && rcode == "" {
			rcode = c
		}
	}
	if rcode == "" {
		t.Fatal("no recovery code mailed")
	}
	secrets = append(secrets, rcode)
	r.post("/recover/code", "flow", r.find(`name="flow" value="([a-z0-9]+)"`), "code", rcode)
	r.post("/recover/password", "flow", r.find(`name="flow" value="([a-z0-9]+)"`), "password", pw4)
	expect("POST /recover/password", "password.reset")

	// The operator's admin API.
	auth := map[string]string{"Authorization": "Bearer " + token, "Content-Type": "application/json"}
	resp, body := e.do(t, "POST", "/api/admin/v1/accounts/"+acct.ID+"/unlock", nil, auth)
	if resp.StatusCode != 200 {
		t.Fatalf("unlock = %d %s", resp.StatusCode, body)
	}
	expect("POST /api/admin/v1/accounts/{id}/unlock", "account.unlocked")
	resp, body = e.do(t, "POST", "/api/admin/v1/accounts", strings.NewReader(`{"username":"walker2","name":"Two","password":"`+pw3+`","phone":"+4791234567"}`), auth)
	if resp.StatusCode != 201 {
		t.Fatalf("create account = %d %s", resp.StatusCode, body)
	}
	if n := len(events(t, e, store.AuditFilter{Kinds: []string{"account.created"}, ActorKind: "operator"})); n != 2 {
		t.Errorf("POST /api/admin/v1/accounts: %d account.created events by an operator, want 2 (setup and this)", n)
	}
	resp, body = e.do(t, "POST", "/api/admin/v1/clients", strings.NewReader(`{"client_id":"walk-app","name":"Walk","redirect_uris":["https://walk.example.org/cb"]}`), auth)
	if resp.StatusCode != 201 {
		t.Fatalf("create client = %d %s", resp.StatusCode, body)
	}
	var cj web.ClientJSON
	json.Unmarshal([]byte(body), &cj)
	secrets = append(secrets, cj.Secret)
	resp, _ = e.do(t, "DELETE", "/api/admin/v1/clients/walk-app", nil, auth)
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete client = %d", resp.StatusCode)
	}
	for _, kind := range []string{"client.created", "client.deleted"} {
		if len(events(t, e, store.AuditFilter{Kinds: []string{kind}})) != 1 {
			t.Errorf("no %s event", kind)
		}
	}

	// No secret, and no full phone number, in any event.
	all, _, err := e.app.DB.ListAuditEvents(ctx, store.AuditFilter{Limit: store.AuditEventLimit})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(all)
	for _, s := range append(secrets, "+4791234567", "91234567") {
		if s != "" && strings.Contains(string(raw), s) {
			t.Errorf("an audit event holds the secret or number %q", s)
		}
	}
	if len(all) < 15 {
		t.Errorf("only %d events after the walk", len(all))
	}
}
