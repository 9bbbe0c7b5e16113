package web_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/authn/totp"
	"github.com/portvakt/portvakt/internal/config"
	"github.com/portvakt/portvakt/internal/flow"
	"github.com/portvakt/portvakt/internal/web"
)

// apiSignIn signs c in with a password through the JSON API and returns
// what the last call answered: a session, or a flow (next: factor).
func apiSignIn(t *testing.T, c *apiClient, email, pw string) web.FlowJSON {
	t.Helper()
	var f web.FlowJSON
	if status, body := c.call("POST", "/api/v1/login", map[string]string{"email": email}, &f); status != 200 && status != 201 {
		t.Fatalf("login = %d %s", status, body)
	}
	var out web.FlowJSON
	if status, body := c.call("POST", "/api/v1/login/password", map[string]string{"flow_id": f.FlowID, "flow_token": f.FlowToken, "password": pw}, &out); status != 200 {
		t.Fatalf("password = %d %s", status, body)
	}
	if out.Next == "factor" && out.FlowToken == "" {
		out.FlowToken = f.FlowToken
	}
	return out
}

// wantProblem checks a problem+json answer with status and key.
func wantProblem(t *testing.T, what string, status int, body string, wantStatus int, key string) {
	t.Helper()
	if status != wantStatus || !strings.Contains(body, `"key":"`+key+`"`) || !strings.Contains(body, `"type":"urn:portvakt:problem:`) {
		t.Errorf("%s = %d %s, want %d with key %s", what, status, body, wantStatus, key)
	}
}

// The JSON twins of the security settings: set up an authenticator (a
// wrong first code refused), list factors, make new recovery codes, remove
// the authenticator; every call needs a session, and a session below the
// account's full level (a password alone once an authenticator exists)
// changes nothing until it signs in with the second factor.
func TestAPISecurityTOTPRecoveryCodesAndRemoval(t *testing.T) {
	e := newEnv(t)
	const pw = "correct horse battery staple"
	if _, err := e.app.Flows.CreateAccount(t.Context(), flow.NewAccount{Name: "Kari", Email: "kari@example.no", Password: pw}); err != nil {
		t.Fatal(err)
	}

	// Someone without a session gets 401 from every call.
	stranger := newAPIClient(t, e, "en")
	for _, call := range []struct{ method, path string }{
		{"GET", "/api/v1/account/factors"}, {"DELETE", "/api/v1/account/factors"}, {"POST", "/api/v1/account/totp"},
		{"POST", "/api/v1/account/totp/confirm"}, {"POST", "/api/v1/account/recovery-codes"},
		{"POST", "/api/v1/account/phones"}, {"POST", "/api/v1/account/phones/verify"}, {"POST", "/api/v1/account/phones/resend"},
	} {
		status, body := stranger.call(call.method, call.path, map[string]string{"id": "x", "phone": "+4791234567"}, nil)
		wantProblem(t, call.method+" "+call.path+" without a session", status, body, 401, "session.required")
	}

	c := newAPIClient(t, e, "en")
	apiSignIn(t, c, "kari@example.no", pw)
	var fs web.FactorsJSON
	if status, body := c.call("GET", "/api/v1/account/factors", nil, &fs); status != 200 || len(fs.Factors) != 0 {
		t.Fatalf("factors = %d %s, want none", status, body)
	}

	// Set up an authenticator; a wrong first code is refused in the
	// user's terms, the right one gives recovery codes.
	var tj web.TOTPJSON
	if status, body := c.call("POST", "/api/v1/account/totp", nil, &tj); status != 201 || tj.FactorID == "" || tj.Secret == "" || !strings.HasPrefix(tj.URI, "otpauth://totp/") {
		t.Fatalf("totp start = %d %s", status, body)
	}
	status, body := c.call("POST", "/api/v1/account/totp/confirm", map[string]string{"factor_id": tj.FactorID, "code": "000000"}, nil)
	wantProblem(t, "a wrong first code", status, body, 422, "totp.wrong_setup")
	code, _ := totp.Code(tj.Secret, e.clock.Now())
	var rc web.RecoveryCodesJSON
	if status, body := c.call("POST", "/api/v1/account/totp/confirm", map[string]string{"factor_id": tj.FactorID, "code": code}, &rc); status != 201 || len(rc.RecoveryCodes) == 0 {
		t.Fatalf("totp confirm = %d %s, want 201 with recovery codes", status, body)
	}
	if status, body := c.call("GET", "/api/v1/account/factors", nil, &fs); status != 200 || len(fs.Factors) != 1 || fs.Factors[0].Method != "totp" || fs.Factors[0].ID != tj.FactorID || fs.RecoveryUnused != len(rc.RecoveryCodes) {
		t.Fatalf("factors after setting up = %d %s", status, body)
	}

	// The password alone is now below the account's level: no change.
	status, body = c.call("POST", "/api/v1/account/recovery-codes", nil, nil)
	wantProblem(t, "new recovery codes with the password alone", status, body, 403, "reauth.required")
	status, body = c.call("DELETE", "/api/v1/account/factors", map[string]string{"id": tj.FactorID}, nil)
	wantProblem(t, "removing the authenticator with the password alone", status, body, 403, "reauth.required")

	// Sign in again with the authenticator.
	c.call("DELETE", "/api/v1/session", nil, nil)
	e.clock.Advance(31 * time.Second) // a new time step: the confirmed code is used up
	f := apiSignIn(t, c, "kari@example.no", pw)
	if f.Next != "factor" {
		t.Fatalf("sign-in with an authenticator answered %+v, want next factor", f)
	}
	code, _ = totp.Code(tj.Secret, e.clock.Now())
	var sess web.SessionJSON
	if status, body := c.call("POST", "/api/v1/factor/verify", map[string]any{"flow_id": f.FlowID, "flow_token": f.FlowToken, "method": "totp:" + tj.FactorID, "code": code}, &sess); status != 200 || sess.ID == "" {
		t.Fatalf("factor verify = %d %s", status, body)
	}

	var rc2 web.RecoveryCodesJSON
	if status, body := c.call("POST", "/api/v1/account/recovery-codes", nil, &rc2); status != 201 || len(rc2.RecoveryCodes) != len(rc.RecoveryCodes) || slices.Contains(rc2.RecoveryCodes, rc.RecoveryCodes[0]) {
		t.Fatalf("new recovery codes = %d %s", status, body)
	}
	status, body = c.call("DELETE", "/api/v1/account/factors", map[string]string{"id": "no-such-factor"}, nil)
	wantProblem(t, "removing an unknown factor", status, body, 404, "security.factor_gone")
	if status, body := c.call("DELETE", "/api/v1/account/factors", map[string]string{"id": tj.FactorID}, nil); status != 204 {
		t.Fatalf("remove = %d %s", status, body)
	}
	if status, body := c.call("GET", "/api/v1/account/factors", nil, &fs); status != 200 || len(fs.Factors) != 0 {
		t.Fatalf("factors after removal = %d %s, want none", status, body)
	}
}

// The JSON twins of adding a phone: the code goes by SMS; the flow answers
// only to the client holding its flow token; a wrong code, a resend
// inside the cool-down and a stranger's flow token are refused; the
// newest code confirms the phone.
func TestAPISecurityPhones(t *testing.T) {
	e := newEnv(t)
	const pw = "correct horse battery staple"
	const phone = "+4791234567"
	if _, err := e.app.Flows.CreateAccount(t.Context(), flow.NewAccount{Name: "Kari", Email: "kari@example.no", Password: pw}); err != nil {
		t.Fatal(err)
	}
	c := newAPIClient(t, e, "nb")
	apiSignIn(t, c, "kari@example.no", pw)

	status, body := c.call("POST", "/api/v1/account/phones", map[string]string{"phone": "not a number"}, nil)
	if status != 422 || !strings.Contains(body, `"field":"phone"`) {
		t.Errorf("a bad number = %d %s, want 422 on the phone field", status, body)
	}
	var f web.FlowJSON
	if status, body := c.call("POST", "/api/v1/account/phones", map[string]string{"phone": phone}, &f); status != 201 || f.FlowID == "" || f.FlowToken == "" || f.Next != "code" {
		t.Fatalf("add phone = %d %s", status, body)
	}
	first := lastCode(t, e, phone)

	// The same session with another flow token (someone who learnt the
	// flow ID) is refused.
	status, body = c.call("POST", "/api/v1/account/phones/verify", map[string]string{"flow_id": f.FlowID, "flow_token": "guessed", "code": first}, nil)
	if status != 403 && status != 410 {
		t.Errorf("another flow token = %d %s, want 403 or 410", status, body)
	}
	wrong := "000000"
	if first == wrong {
		wrong = "111111"
	}
	status, body = c.call("POST", "/api/v1/account/phones/verify", map[string]string{"flow_id": f.FlowID, "flow_token": f.FlowToken, "code": wrong}, nil)
	wantProblem(t, "a wrong code", status, body, 422, "code.wrong")
	status, body = c.call("POST", "/api/v1/account/phones/resend", map[string]string{"flow_id": f.FlowID, "flow_token": f.FlowToken}, nil)
	wantProblem(t, "a resend inside the cool-down", status, body, 429, "code.resend_wait")
	if !strings.Contains(body, "sekund") {
		t.Errorf("the cool-down is not said in Norwegian: %s", body)
	}

	e.clock.Advance(61 * time.Second)
	if status, body := c.call("POST", "/api/v1/account/phones/resend", map[string]string{"flow_id": f.FlowID, "flow_token": f.FlowToken}, nil); status != 202 {
		t.Fatalf("resend = %d %s", status, body)
	}
	second := lastCode(t, e, phone)
	if second != first {
		status, body = c.call("POST", "/api/v1/account/phones/verify", map[string]string{"flow_id": f.FlowID, "flow_token": f.FlowToken, "code": first}, nil)
		wantProblem(t, "the replaced code", status, body, 422, "code.wrong")
	}
	if status, body := c.call("POST", "/api/v1/account/phones/verify", map[string]string{"flow_id": f.FlowID, "flow_token": f.FlowToken, "code": second}, nil); status != 204 {
		t.Fatalf("verify = %d %s", status, body)
	}
	var fs web.FactorsJSON
	if status, body := c.call("GET", "/api/v1/account/factors", nil, &fs); status != 200 || len(fs.Factors) != 1 || fs.Factors[0].Method != "sms" || strings.Contains(body, "91234567") {
		t.Fatalf("factors = %d %s, want one sms factor with a masked name", status, body)
	}
	// The code works once.
	status, body = c.call("POST", "/api/v1/account/phones/verify", map[string]string{"flow_id": f.FlowID, "flow_token": f.FlowToken, "code": second}, nil)
	if status < 400 {
		t.Errorf("the used code again = %d %s, want a refusal", status, body)
	}
}

// The JSON twin of setting up a factor inside a sign-in that needs one:
// with mfa.mode required and first-use binding, the password's answer is
// a factor step that says enrol; an authenticator set up there finishes
// the sign-in with recovery codes. A client holding only the flow ID (not
// its token) can do nothing with it.
func TestAPIEnrolAtSignIn(t *testing.T) {
	e := newEnv(t, func(c *config.Config) {
		c.MFA.Mode = "required"
		c.MFA.EnrolAtFirstSignIn = true
		// Without email as a second step, an account with nothing else
		// must set something up.
		c.MFA.Methods = []string{"totp", "recovery"}
	})
	const pw = "correct horse battery staple"
	if _, err := e.app.Flows.CreateAccount(t.Context(), flow.NewAccount{Name: "Kari", Email: "kari@example.no", Password: pw}); err != nil {
		t.Fatal(err)
	}
	c := newAPIClient(t, e, "en")
	f := apiSignIn(t, c, "kari@example.no", pw)
	if f.Next != "factor" || f.FlowToken == "" {
		t.Fatalf("password = %+v, want next factor", f)
	}
	var fj web.FactorJSON
	if status, body := c.call("GET", "/api/v1/factor?flow_id="+f.FlowID+"&flow_token="+f.FlowToken, nil, &fj); status != 200 || !fj.Enrol || !slices.Contains(fj.CanEnrol, "totp") {
		t.Fatalf("factor = %d %s, want enrol with totp", status, body)
	}

	thief := newAPIClient(t, e, "en")
	status, body := thief.call("POST", "/api/v1/factor/enrol/totp", map[string]string{"flow_id": f.FlowID, "flow_token": "stolen-id-only"}, nil)
	if status != 403 && status != 410 {
		t.Errorf("enrol with the flow ID alone = %d %s, want 403 or 410", status, body)
	}

	var tj web.TOTPJSON
	if status, body := c.call("POST", "/api/v1/factor/enrol/totp", map[string]string{"flow_id": f.FlowID, "flow_token": f.FlowToken}, &tj); status != 201 || tj.Secret == "" {
		t.Fatalf("enrol totp = %d %s", status, body)
	}
	status, body = c.call("POST", "/api/v1/factor/enrol/totp/confirm", map[string]string{"flow_id": f.FlowID, "flow_token": f.FlowToken, "code": "000000"}, nil)
	wantProblem(t, "a wrong first code", status, body, 422, "totp.wrong_setup")
	code, _ := totp.Code(tj.Secret, e.clock.Now())
	var out web.EnrolledJSON
	if status, body := c.call("POST", "/api/v1/factor/enrol/totp/confirm", map[string]string{"flow_id": f.FlowID, "flow_token": f.FlowToken, "code": code}, &out); status != 200 || out.Session.ID == "" || len(out.RecoveryCodes) == 0 {
		t.Fatalf("enrol confirm = %d %s", status, body)
	}
	var sess web.SessionJSON
	if status, body := c.call("GET", "/api/v1/session", nil, &sess); status != http.StatusOK || sess.ID != out.Session.ID || !slices.Contains(sess.AMR, "otp") {
		t.Fatalf("session = %d %s, want the new session with otp", status, body)
	}
	// The flow is used up.
	status, body = c.call("POST", "/api/v1/factor/enrol/totp", map[string]string{"flow_id": f.FlowID, "flow_token": f.FlowToken}, nil)
	if status < 400 {
		t.Errorf("the finished flow again = %d %s, want a refusal", status, body)
	}
}
