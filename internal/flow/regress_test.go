package flow_test

// Regression tests for guarantees that once had no test of their own
// (issue 17): each fails when its guarantee is broken in the code.

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/authn"
	"github.com/portvakt/portvakt/internal/flow"
	"github.com/portvakt/portvakt/internal/problem"
	"github.com/portvakt/portvakt/internal/secret"
	"github.com/portvakt/portvakt/internal/session"
	"github.com/portvakt/portvakt/internal/store"
)

// wantRotated checks that a reauth or step-up gave the session a new
// token and killed the old one: a token planted or seen before the change
// is worth nothing after it (SECURITY.md §7 item 11).
func wantRotated(t *testing.T, e *env, what, old string, sess store.Session, res flow.Result, level int) {
	t.Helper()
	if res.Token == "" || res.Token == old {
		t.Fatalf("%s: token %q, want a new one (old %q)", what, res.Token, old)
	}
	if res.Session.ID != sess.ID {
		t.Errorf("%s: session %s, want the same session %s rotated", what, res.Session.ID, sess.ID)
	}
	if _, err := e.svc.Sessions.Load(t.Context(), old); !errors.Is(err, session.ErrNoSession) {
		t.Errorf("%s: the old token still loads (err %v)", what, err)
	}
	got, err := e.svc.Sessions.Load(t.Context(), res.Token)
	if err != nil {
		t.Fatalf("%s: the new token does not load: %v", what, err)
	}
	if got.ID != sess.ID || got.Level != level || !got.AuthTime.Equal(e.clock.Now()) {
		t.Errorf("%s: session %s level %d auth time %v; want %s level %d auth time %v", what, got.ID, got.Level, got.AuthTime, sess.ID, level, e.clock.Now())
	}
}

// Bug 1: re-authentication and step-up rotate the session.
func TestReauthAndStepUpRotateTheSession(t *testing.T) {
	e := newEnv(t)
	withMFA(t, e, flow.MFAOptional, 0)

	t.Run("reauth with the password alone", func(t *testing.T) {
		res := signUp(t, e, "plain@example.no")
		e.clock.Advance(11 * time.Minute)
		out, err := e.svc.Reauth(t.Context(), browserA, flow.Who{Account: res.Account, Session: res.Session}, goodPassword, "/account/password")
		if err != nil || out.Pending != "" {
			t.Fatalf("Reauth = %+v, %v; want done at once", out, err)
		}
		wantRotated(t, e, "reauth", res.Token, res.Session, out, 1)
		if out.ReturnTo != "/account/password" {
			t.Errorf("reauth ReturnTo = %q", out.ReturnTo)
		}
	})

	res := signUp(t, e, "strong@example.no")
	seed, codes := enrolTOTP(t, e, res)

	t.Run("reauth with a second factor", func(t *testing.T) {
		e.clock.Advance(11 * time.Minute)
		who := flow.Who{Account: res.Account, Session: res.Session}
		p, err := e.svc.Reauth(t.Context(), browserA, who, goodPassword, "/account/security")
		if err != nil || p.Pending == "" || p.Token != "" {
			t.Fatalf("Reauth = %+v, %v; want a pending second factor", p, err)
		}
		out, err := e.svc.VerifyFactor(t.Context(), browserA, p.Pending, "recovery", codes[0], false)
		if err != nil {
			t.Fatal(err)
		}
		wantRotated(t, e, "reauth with a recovery code", res.Token, res.Session, out, 3)
	})

	t.Run("step-up", func(t *testing.T) {
		// A level-1 session, as a remembered browser opens.
		token, sess, err := e.svc.Sessions.Create(t.Context(), res.Account.ID, session.Auth{AMR: []string{"pwd"}, Level: 1, Methods: []string{"password"}}, session.Client{})
		if err != nil {
			t.Fatal(err)
		}
		st, err := e.svc.StepUp(t.Context(), browserA, flow.Who{Account: res.Account, Session: sess}, "payment", "/pay")
		if err != nil || st.Pending == "" {
			t.Fatalf("StepUp = %+v, %v; want a pending step", st, err)
		}
		e.clock.Advance(time.Minute)
		out, err := e.svc.VerifyFactor(t.Context(), browserA, st.Pending, keyOf(t, e, browserA, st.Pending, authn.TOTP), totpCode(t, e, seed, 0), false)
		if err != nil {
			t.Fatal(err)
		}
		wantRotated(t, e, "step-up", token, sess, out, 3)
	})
}

// emailFactorEnv is IDEP's set-up: the second factor is a link and a code
// by email, for an account that has no other factor.
func emailFactorEnv(t *testing.T, ttl time.Duration) (*env, func() (flowID, key string)) {
	t.Helper()
	e := newEnv(t)
	withMFA(t, e, flow.MFARequired, 0)
	e.svc.MFA.Methods = []authn.Method{authn.Email}
	e.svc.MFA.EmailTTL = ttl
	if _, err := e.svc.CreateAccount(t.Context(), flow.NewAccount{Username: "10042", Name: "Maria", Email: "mariage@scb.se", Password: goodPassword}); err != nil {
		t.Fatal(err)
	}
	start := func() (string, string) {
		t.Helper()
		p, err := e.svc.LoginUsername(t.Context(), browserA, "10042", goodPassword)
		if err != nil || p.Pending == "" {
			t.Fatalf("LoginUsername = %+v, %v; want a pending second factor", p, err)
		}
		key := keyOf(t, e, browserA, p.Pending, authn.Email)
		if err := e.svc.SendFactorCode(t.Context(), browserA, p.Pending, key); err != nil {
			t.Fatal(err)
		}
		return p.Pending, key
	}
	return e, start
}

func linkToken(t *testing.T, m mail) string {
	t.Helper()
	link, _ := m.Data["link"].(string)
	token, err := url.PathUnescape(link[strings.LastIndex(link, "/")+1:])
	if err != nil || token == "" {
		t.Fatalf("no token in link %q", link)
	}
	return token
}

// Bug 3: an emailed second-factor link stops working after its lifetime,
// though the flow it belongs to lives longer (an hour).
func TestEmailedFactorLinkExpires(t *testing.T) {
	const ttl = 5 * time.Minute
	e, start := emailFactorEnv(t, ttl)

	start()
	token := linkToken(t, e.mail.last(t, "mariage@scb.se"))
	e.clock.Advance(ttl - time.Second)
	if _, err := e.svc.UseFactorLink(t.Context(), browserA, token, false); err != nil {
		t.Fatalf("the link a second before it expires: %v", err)
	}

	start()
	token = linkToken(t, e.mail.last(t, "mariage@scb.se"))
	e.clock.Advance(ttl)
	_, err := e.svc.UseFactorLink(t.Context(), browserA, token, false)
	if p := wantProblem(t, err, "link.expired"); p.Details[0].Args["count"] != 5 {
		t.Errorf("link.expired args = %v, want 5 minutes", p.Details[0].Args)
	}
}

// Bug 4: an emailed (and a texted) second-factor code stops working after
// its lifetime, though its flow lives longer.
func TestFactorCodesExpire(t *testing.T) {
	t.Run("email", func(t *testing.T) {
		const ttl = 5 * time.Minute
		e, start := emailFactorEnv(t, ttl)

		flowID, key := start()
		code := e.mail.last(t, "mariage@scb.se").Data["code"].(string)
		e.clock.Advance(ttl - time.Second)
		if _, err := e.svc.VerifyFactor(t.Context(), browserA, flowID, key, code, false); err != nil {
			t.Fatalf("the code a second before it expires: %v", err)
		}

		flowID, key = start()
		code = e.mail.last(t, "mariage@scb.se").Data["code"].(string)
		e.clock.Advance(ttl)
		_, err := e.svc.VerifyFactor(t.Context(), browserA, flowID, key, code, false)
		if p := wantProblem(t, err, "code.expired"); p.Details[0].Args["count"] != 5 {
			t.Errorf("code.expired args = %v, want 5 minutes", p.Details[0].Args)
		}
	})

	t.Run("sms", func(t *testing.T) {
		e := newEnv(t)
		ph := withMFA(t, e, flow.MFAOptional, 0)
		e.svc.MFA.Methods = []authn.Method{authn.SMS}
		e.svc.MFA.SMSTTL = 3 * time.Minute
		res := signUp(t, e, "texted@example.no")
		who := flow.Who{Account: res.Account, Session: res.Session}
		f, err := e.svc.StartAddPhone(t.Context(), browserA, who, "+47 912 34 567")
		if err != nil {
			t.Fatal(err)
		}
		if err := e.svc.ConfirmPhone(t.Context(), browserA, who, f.ID, ph.lastCode(t, "+4791234567")); err != nil {
			t.Fatal(err)
		}
		start := func() (string, string, string) {
			t.Helper()
			p := passwordStep(t, e, browserA, "texted@example.no")
			key := keyOf(t, e, browserA, p.Pending, authn.SMS)
			if err := e.svc.SendFactorCode(t.Context(), browserA, p.Pending, key); err != nil {
				t.Fatal(err)
			}
			return p.Pending, key, ph.lastCode(t, "+4791234567")
		}
		flowID, key, code := start()
		e.clock.Advance(3*time.Minute - time.Second)
		if _, err := e.svc.VerifyFactor(t.Context(), browserA, flowID, key, code, false); err != nil {
			t.Fatalf("the code a second before it expires: %v", err)
		}
		flowID, key, code = start()
		e.clock.Advance(3 * time.Minute)
		_, err = e.svc.VerifyFactor(t.Context(), browserA, flowID, key, code, false)
		if p := wantProblem(t, err, "code.expired"); p.Details[0].Args["count"] != 3 {
			t.Errorf("code.expired args = %v, want 3 minutes", p.Details[0].Args)
		}
	})
}

// Bug 5: a disabled account cannot sign in with its right password, by
// either form of sign-in, and no second factor is started or sent. A wrong
// password says only that it is wrong.
func TestDisabledAccountCannotSignIn(t *testing.T) {
	e := newEnv(t)
	ph := withMFA(t, e, flow.MFARequired, 0)
	e.svc.MFA.Methods = []authn.Method{authn.Email}
	acct, err := e.svc.CreateAccount(t.Context(), flow.NewAccount{Username: "10077", Name: "Ola", Email: "ola@example.no", Password: goodPassword})
	if err != nil {
		t.Fatal(err)
	}
	// Before: the right password leads to the second step.
	if r, err := e.svc.LoginUsername(t.Context(), browserA, "10077", goodPassword); err != nil || r.Pending == "" {
		t.Fatalf("enabled account: %+v, %v; want the second step", r, err)
	}
	if _, err := e.db.UpdateAccount(t.Context(), acct.ID, func(a store.Account) (store.Account, error) {
		a.Disabled = true
		return a, nil
	}); err != nil {
		t.Fatal(err)
	}
	e.mail.mu.Lock()
	mails := len(e.mail.sent)
	e.mail.mu.Unlock()

	r, err := e.svc.LoginUsername(t.Context(), browserA, "10077", goodPassword)
	wantProblem(t, err, "login.disabled")
	if r.Token != "" || r.Pending != "" {
		t.Errorf("LoginUsername of a disabled account = %+v", r)
	}
	f, err := e.svc.StartLogin(t.Context(), browserA, "ola@example.no", false)
	if err != nil {
		t.Fatal(err)
	}
	r, err = e.svc.LoginPassword(t.Context(), browserA, f.ID, goodPassword)
	wantProblem(t, err, "login.disabled")
	if r.Token != "" || r.Pending != "" {
		t.Errorf("LoginPassword of a disabled account = %+v", r)
	}
	_, err = e.svc.LoginUsername(t.Context(), browserA, "10077", "wrong horse battery staple")
	wantProblem(t, err, "login.wrong_credentials")

	e.mail.mu.Lock()
	defer e.mail.mu.Unlock()
	if len(e.mail.sent) != mails || len(ph.sent) != 0 {
		t.Errorf("signing in to a disabled account sent %d mails and %d texts", len(e.mail.sent)-mails, len(ph.sent))
	}
}

// Bug 6: a remembered browser skips the second step only for the account
// that was remembered in it.
func TestRememberedBrowserIsPerAccount(t *testing.T) {
	e := newEnv(t)
	withMFA(t, e, flow.MFAOptional, 20)
	resA := signUp(t, e, "anna@example.no")
	seedA, _ := enrolTOTP(t, e, resA)
	resB := signUp(t, e, "bjorn@example.no")
	enrolTOTP(t, e, resB)
	e.clock.Advance(time.Minute)

	p := passwordStep(t, e, browserA, "anna@example.no")
	out, err := e.svc.VerifyFactor(t.Context(), browserA, p.Pending, keyOf(t, e, browserA, p.Pending, authn.TOTP), totpCode(t, e, seedA, 0), true)
	if err != nil || out.TrustToken == "" {
		t.Fatalf("VerifyFactor with remember = %+v, %v", out, err)
	}
	remembered := browserA
	remembered.Trust = secret.Hash(out.TrustToken)
	if r := passwordStep(t, e, remembered, "anna@example.no"); r.Pending != "" || r.Token == "" {
		t.Fatalf("Anna in her remembered browser: pending %q, token given %v; want signed in without the second step", r.Pending, r.Token != "")
	}
	if r := passwordStep(t, e, remembered, "bjorn@example.no"); r.Pending == "" || r.Token != "" {
		t.Errorf("Bjørn with Anna's remembered browser: pending %q, token given %v; want the second step", r.Pending, r.Token != "")
	}
	e.clock.Advance(20 * 24 * time.Hour)
	if r := passwordStep(t, e, remembered, "anna@example.no"); r.Pending == "" {
		t.Error("the browser is still remembered after 20 days")
	}
}

// Bug 7: a flow sends at most MaxSends codes; the next resend is refused
// with code.send_limit and sends nothing.
func TestCodeSendCap(t *testing.T) {
	e := newEnv(t)
	f, err := e.svc.StartSignup(t.Context(), browserA, "resend@example.no")
	if err != nil {
		t.Fatal(err)
	}
	count := func() int {
		e.mail.mu.Lock()
		defer e.mail.mu.Unlock()
		return len(e.mail.sent)
	}
	for i := 2; i <= 5; i++ { // the first code went with StartSignup
		e.clock.Advance(61 * time.Second)
		if err := e.svc.ResendSignupCode(t.Context(), browserA, f.ID); err != nil {
			t.Fatalf("send %d of 5: %v", i, err)
		}
	}
	if n := count(); n != 5 {
		t.Fatalf("mails sent = %d, want 5", n)
	}
	e.clock.Advance(61 * time.Second)
	err = e.svc.ResendSignupCode(t.Context(), browserA, f.ID)
	if p := wantProblem(t, err, "code.send_limit"); p.Details[0].Args["max"] != 5 {
		t.Errorf("code.send_limit args = %v, want max 5", p.Details[0].Args)
	}
	if n := count(); n != 5 {
		t.Errorf("mails sent after the cap = %d, want 5", n)
	}
	// The last code sent still works.
	code := e.mail.last(t, "resend@example.no").Data["code"].(string)
	if _, err := e.svc.VerifySignupCode(t.Context(), browserA, f.ID, code); err != nil {
		t.Errorf("the last code before the cap: %v", err)
	}
}

// The second-factor step has the same cap on texted codes.
func TestFactorCodeSendCap(t *testing.T) {
	e := newEnv(t)
	ph := withMFA(t, e, flow.MFAOptional, 0)
	e.svc.MFA.Methods = []authn.Method{authn.SMS}
	e.svc.Config.MaxSends = 3
	// Refused sends count against the SMS limits too; keep those out of
	// the way.
	e.svc.SMSLimits = flow.SMSLimits{PerNumber: 100, PerAccount: 100, PerIP: 100, Global: 1000}
	res := signUp(t, e, "cap@example.no")
	who := flow.Who{Account: res.Account, Session: res.Session}
	f, err := e.svc.StartAddPhone(t.Context(), browserA, who, "+47 912 34 568")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.ConfirmPhone(t.Context(), browserA, who, f.ID, ph.lastCode(t, "+4791234568")); err != nil {
		t.Fatal(err)
	}
	p := passwordStep(t, e, browserA, "cap@example.no")
	key := keyOf(t, e, browserA, p.Pending, authn.SMS)
	for i := 1; i <= 3; i++ {
		if err := e.svc.SendFactorCode(t.Context(), browserA, p.Pending, key); err != nil {
			t.Fatalf("send %d of 3: %v", i, err)
		}
		if i < 3 {
			err := e.svc.SendFactorCode(t.Context(), browserA, p.Pending, key)
			wantProblem(t, err, "code.resend_wait")
		}
		e.clock.Advance(61 * time.Second)
	}
	err = e.svc.SendFactorCode(t.Context(), browserA, p.Pending, key)
	if p := wantProblem(t, err, "code.send_limit"); p.Details[0].Args["max"] != 3 {
		t.Errorf("code.send_limit args = %v", p.Details[0].Args)
	}
	if n := len(ph.sent["+4791234568"]); n != 4 { // one to confirm the phone, three at sign-in
		t.Errorf("texts sent = %d, want 4", n)
	}
}

// An unknown account costs exactly one dummy verification, as a known one
// costs one verification: counted, not timed (the timing is in the web
// package's benchmark).
func TestUnknownAccountCostsOneDummyVerification(t *testing.T) {
	e := newEnv(t)
	if _, err := e.svc.CreateAccount(t.Context(), flow.NewAccount{Username: "known", Name: "Kari", Email: "known@example.no", Password: goodPassword}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.CreateAccount(t.Context(), flow.NewAccount{Username: "nopass", Name: "Per", Email: "nopass@example.no"}); err != nil {
		t.Fatal(err)
	}
	const wrong = "wrong horse battery staple"
	tests := []struct {
		name              string
		login             func() error
		verified, dummies int64
	}{
		{"known address, wrong password", func() error { return e.loginEmail(t, "known@example.no", wrong) }, 1, 0},
		{"unknown address", func() error { return e.loginEmail(t, "nobody@example.no", wrong) }, 1, 1},
		{"address without a password", func() error { return e.loginEmail(t, "nopass@example.no", wrong) }, 1, 1},
		{"known username, wrong password", func() error {
			_, err := e.svc.LoginUsername(t.Context(), browserA, "known", wrong)
			return err
		}, 1, 0},
		{"unknown username", func() error {
			_, err := e.svc.LoginUsername(t.Context(), browserA, "nobody", wrong)
			return err
		}, 1, 1},
	}
	for _, tt := range tests {
		before := e.svc.Hasher.Stats()
		err := tt.login()
		wantProblem(t, err, "login.wrong_credentials")
		after := e.svc.Hasher.Stats()
		if v, d := after.Verifications-before.Verifications, after.Dummies-before.Dummies; v != tt.verified || d != tt.dummies {
			t.Errorf("%s: %d verifications, %d of them dummies; want %d and %d", tt.name, v, d, tt.verified, tt.dummies)
		}
	}
}

func (e *env) loginEmail(t *testing.T, email, pw string) error {
	t.Helper()
	f, err := e.svc.StartLogin(t.Context(), browserA, email, false)
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.LoginPassword(t.Context(), browserA, f.ID, pw)
	return err
}

// The throttle says how long to wait, rounded up to the minute, counted
// from the first failure of the window; tries refused while waiting are
// not counted, so they do not make the wait longer.
func TestLoginThrottleWait(t *testing.T) {
	e := newEnv(t)
	signUp(t, e, "patient@example.no")
	try := func(pw string) error {
		t.Helper()
		return e.loginEmail(t, "patient@example.no", pw)
	}
	for range 10 { // flow.Config's default LoginFailures
		wantProblem(t, try("not the password at all"), "login.wrong_credentials")
	}
	for _, tt := range []struct {
		after time.Duration
		want  int
	}{
		{5 * time.Minute, 10},               // exactly ten minutes left
		{30 * time.Second, 10},              // 9.5 minutes left: rounded up
		{9*time.Minute + 29*time.Second, 1}, // a second left: still a minute
	} {
		e.clock.Advance(tt.after)
		for range 10 {
			p := wantProblem(t, try(goodPassword), "login.throttled")
			if got := p.Details[0].Args["count"]; got != tt.want {
				t.Fatalf("throttled at +%v: count %v, want %d minutes", tt.after, got, tt.want)
			}
		}
	}
	e.clock.Advance(2 * time.Second) // the window of the first failures has passed
	if err := try(goodPassword); err != nil {
		t.Errorf("after the window, with tries refused meanwhile: %v", err)
	}
}

// A flow answers only as its own kind: the ID of a sign-in is no sign-up,
// recovery or second step, and the other way round.
func TestFlowsAnswerOnlyAsTheirKind(t *testing.T) {
	e := newEnv(t)
	login, err := e.svc.StartLogin(t.Context(), browserA, "kind@example.no", false)
	if err != nil {
		t.Fatal(err)
	}
	signup, err := e.svc.StartSignup(t.Context(), browserA, "kind@example.no")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.LoginFlow(t.Context(), browserA, login.ID); err != nil {
		t.Fatalf("LoginFlow(its own flow) = %v", err)
	}
	for name, call := range map[string]func() error{
		"LoginFlow(a sign-up)": func() error { _, err := e.svc.LoginFlow(t.Context(), browserA, signup.ID); return err },
		"SignupFlow(a sign-in)": func() error {
			_, err := e.svc.SignupFlow(t.Context(), browserA, login.ID)
			return err
		},
		"RecoveryFlow(a sign-up)": func() error {
			_, err := e.svc.RecoveryFlow(t.Context(), browserA, signup.ID)
			return err
		},
		"Factor(a sign-in)": func() error { _, err := e.svc.Factor(t.Context(), browserA, login.ID); return err },
		"LoginPassword(a sign-up)": func() error {
			_, err := e.svc.LoginPassword(t.Context(), browserA, signup.ID, goodPassword)
			return err
		},
	} {
		if p, ok := problem.As(call()); !ok || len(p.Details) == 0 || p.Details[0].Key != "flow.gone" {
			t.Errorf("%s = %v, want flow.gone", name, p)
		}
	}
}

// A resend is allowed the moment the cool-down has passed, not a second
// later.
func TestResendAtTheEndOfTheCoolDown(t *testing.T) {
	e := newEnv(t)
	f, err := e.svc.StartSignup(t.Context(), browserA, "prompt@example.no")
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Minute - time.Second)
	err = e.svc.ResendSignupCode(t.Context(), browserA, f.ID)
	if p := wantProblem(t, err, "code.resend_wait"); p.Details[0].Args["count"] != 1 {
		t.Errorf("a second before the end: wait %v, want 1 second", p.Details[0].Args["count"])
	}
	e.clock.Advance(time.Second)
	if err := e.svc.ResendSignupCode(t.Context(), browserA, f.ID); err != nil {
		t.Errorf("resend at the end of the cool-down: %v", err)
	}
}
