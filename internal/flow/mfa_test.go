package flow_test

import (
	"context"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/authn"
	"github.com/portvakt/portvakt/internal/authn/totp"
	"github.com/portvakt/portvakt/internal/flow"
	"github.com/portvakt/portvakt/internal/i18n"
	"github.com/portvakt/portvakt/internal/problem"
	"github.com/portvakt/portvakt/internal/secret"
)

// phone records texts (a hand-written fake: the real senders are tested
// in package sms against HTTP servers).
type phone struct {
	mu   sync.Mutex
	sent map[string][]string
}

func (p *phone) Send(_ context.Context, to, text string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.sent == nil {
		p.sent = map[string][]string{}
	}
	p.sent[to] = append(p.sent[to], text)
	return nil
}

var digits6 = regexp.MustCompile(`\d{6}`)

func (p *phone) lastCode(t *testing.T, to string) string {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	texts := p.sent[to]
	if len(texts) == 0 {
		t.Fatalf("no SMS to %s", to)
	}
	return digits6.FindString(texts[len(texts)-1])
}

// withMFA turns on second factors in an env.
func withMFA(t testing.TB, e *env, mode string, rememberDays int) *phone {
	t.Helper()
	s, err := secret.NewSealer(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	cat, err := i18n.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	p := &phone{}
	e.svc.Sealer, e.svc.Texts, e.svc.SMS = s, cat, p
	e.svc.MFA = flow.MFAConfig{
		Mode:         mode,
		Methods:      []authn.Method{authn.TOTP, authn.Recovery, authn.SMS, authn.Email, authn.Support},
		RememberDays: rememberDays,
		Actions:      map[string]int{"payment": 3},
	}
	return p
}

// totpCode computes the code an authenticator app would show now.
func totpCode(t *testing.T, e *env, secretB32 string, offset time.Duration) string {
	t.Helper()
	c, err := totp.Code(secretB32, e.clock.Now().Add(offset))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// enrolTOTP sets up an authenticator for a signed-in user and returns its
// secret and the recovery codes shown once.
func enrolTOTP(t *testing.T, e *env, res flow.Result) (string, []string) {
	t.Helper()
	who := flow.Who{Account: res.Account, Session: res.Session}
	en, err := e.svc.StartTOTP(t.Context(), who)
	if err != nil {
		t.Fatal(err)
	}
	codes, err := e.svc.ConfirmTOTP(t.Context(), browserA, who, en.FactorID, totpCode(t, e, en.Secret, 0))
	if err != nil {
		t.Fatal(err)
	}
	return en.Secret, codes
}

// freshWho signs in with the password and the authenticator: a session at
// the account's full level, as a sensitive change needs.
func freshWho(t *testing.T, e *env, c flow.Client, email, seed string) flow.Who {
	t.Helper()
	e.clock.Advance(30 * time.Second) // a new TOTP step
	p := passwordStep(t, e, c, email)
	out, err := e.svc.VerifyFactor(t.Context(), c, p.Pending, keyOf(t, e, c, p.Pending, authn.TOTP), totpCode(t, e, seed, 0), false)
	if err != nil {
		t.Fatal(err)
	}
	return flow.Who{Account: out.Account, Session: out.Session}
}

func passwordStep(t *testing.T, e *env, c flow.Client, email string) flow.Result {
	t.Helper()
	f, err := e.svc.StartLogin(t.Context(), c, email, false)
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.svc.LoginPassword(t.Context(), c, f.ID, goodPassword)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func keyOf(t *testing.T, e *env, c flow.Client, flowID string, m authn.Method) string {
	t.Helper()
	pf, err := e.svc.Factor(t.Context(), c, flowID)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range pf.Options {
		if o.Method == m {
			return o.Key()
		}
	}
	t.Fatalf("option %s not offered among %+v", m, pf.Options)
	return ""
}

// The Visma journey: enrol an authenticator, sign in with it (a replayed
// code is refused), sign in with a recovery code, lose the phone, re-enrol.
func TestTOTPJourney(t *testing.T) {
	e := newEnv(t)
	withMFA(t, e, flow.MFAOptional, 0)
	res := signUp(t, e, "visma@example.no")
	seed, codes := enrolTOTP(t, e, res)
	if len(codes) != 10 {
		t.Fatalf("recovery codes shown at first set-up = %d, want 10", len(codes))
	}
	if m := e.mail.last(t, "visma@example.no"); m.Template != "factor_added" {
		t.Errorf("mail after set-up = %s, want factor_added", m.Template)
	}

	// The password alone no longer signs in.
	p := passwordStep(t, e, browserA, "visma@example.no")
	if p.Pending == "" || p.Token != "" {
		t.Fatalf("password step = %+v, want a pending second factor", p)
	}
	pf, _ := e.svc.Factor(t.Context(), browserA, p.Pending)
	if pf.Options[0].Method != authn.TOTP {
		t.Errorf("first option = %s, want the strongest (totp)", pf.Options[0].Method)
	}
	// Enrolment used the current step; that same code is a replay now.
	e.clock.Advance(30 * time.Second)
	code := totpCode(t, e, seed, 0)
	out, err := e.svc.VerifyFactor(t.Context(), browserA, p.Pending, "totp:"+pf.Options[0].Target, code, false)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(out.Session.AMR, []string{"pwd", "otp", "mfa"}) || out.Session.Level != 3 {
		t.Errorf("session after TOTP: amr %v level %d", out.Session.AMR, out.Session.Level)
	}
	p = passwordStep(t, e, browserA, "visma@example.no")
	_, err = e.svc.VerifyFactor(t.Context(), browserA, p.Pending, "totp:"+pf.Options[0].Target, code, false)
	wantProblem(t, err, "totp.replayed")
	_, err = e.svc.VerifyFactor(t.Context(), browserA, p.Pending, "totp:"+pf.Options[0].Target, "12345", false)
	wantProblem(t, err, "totp.format")

	// "Try another way": a recovery code, typed sloppily.
	typed := strings.ToUpper(strings.ReplaceAll(codes[3], "-", " "))
	out, err = e.svc.VerifyFactor(t.Context(), browserA, p.Pending, "recovery", typed, false)
	if err != nil {
		t.Fatalf("recovery code: %v", err)
	}
	if m := e.mail.last(t, "visma@example.no"); m.Template != "recovery_code_used" || m.Data["count"] != 9 {
		t.Errorf("mail after a recovery code = %s %v", m.Template, m.Data["count"])
	}
	// The same code never works twice.
	p = passwordStep(t, e, browserA, "visma@example.no")
	_, err = e.svc.VerifyFactor(t.Context(), browserA, p.Pending, "recovery", codes[3], false)
	wantProblem(t, err, "recovery.wrong")

	// Lost phone: the authenticator is not offered; after a recovery code
	// the user is sent to set up a new one, which replaces the old.
	if err := e.svc.LostAuthenticator(t.Context(), browserA, p.Pending); err != nil {
		t.Fatal(err)
	}
	pf, _ = e.svc.Factor(t.Context(), browserA, p.Pending)
	for _, o := range pf.Options {
		if o.Method == authn.TOTP {
			t.Error("the lost authenticator is still offered")
		}
	}
	out, err = e.svc.VerifyFactor(t.Context(), browserA, p.Pending, "recovery", codes[4], false)
	if err != nil {
		t.Fatal(err)
	}
	if !out.LostAuthenticator {
		t.Error("the result does not ask to set up a new authenticator")
	}
	newSeed, more := enrolTOTP(t, e, out)
	if len(more) != 0 {
		t.Error("re-enrolment replaced the remaining recovery codes")
	}
	sec, _ := e.svc.SecurityOverview(t.Context(), res.Account.ID)
	if len(sec.TOTP) != 1 || sec.RecoveryUnused != 8 {
		t.Errorf("after re-enrolment: %d authenticators, %d recovery codes; want 1 and 8", len(sec.TOTP), sec.RecoveryUnused)
	}
	e.clock.Advance(30 * time.Second)
	p = passwordStep(t, e, browserA, "visma@example.no")
	key := keyOf(t, e, browserA, p.Pending, authn.TOTP)
	if _, err := e.svc.VerifyFactor(t.Context(), browserA, p.Pending, key, totpCode(t, e, seed, 0), false); err == nil {
		t.Error("the old phone's code still works")
	}
	if _, err := e.svc.VerifyFactor(t.Context(), browserA, p.Pending, key, totpCode(t, e, newSeed, 0), false); err != nil {
		t.Errorf("the new phone's code: %v", err)
	}
}

// Recovery codes and SMS codes submitted 20 times in parallel work once.
func TestSecondFactorsWorkExactlyOnce(t *testing.T) {
	dialects(t, func(t *testing.T, e *env) {
		ph := withMFA(t, e, flow.MFAOptional, 0)
		res := signUp(t, e, "par@example.no")
		seed, codes := enrolTOTP(t, e, res)
		parallel := func(fn func(i int) error) int { return parallelKeys(t, 20, fn)[""] }
		// Twenty flows, one recovery code.
		var flows []string
		for range 20 {
			flows = append(flows, passwordStep(t, e, browserA, "par@example.no").Pending)
		}
		if n := parallel(func(i int) error {
			_, err := e.svc.VerifyFactor(t.Context(), browserA, flows[i], "recovery", codes[0], false)
			return err
		}); n != 1 {
			t.Errorf("%d of 20 parallel uses of one recovery code succeeded, want 1", n)
		}

		// An SMS code, twenty times in one flow.
		who := freshWho(t, e, browserA, "par@example.no", seed)
		pf, err := e.svc.StartAddPhone(t.Context(), browserA, who, "+47 912 34 567")
		if err != nil {
			t.Fatal(err)
		}
		if err := e.svc.ConfirmPhone(t.Context(), browserA, who, pf.ID, ph.lastCode(t, "+4791234567")); err != nil {
			t.Fatal(err)
		}
		p := passwordStep(t, e, browserA, "par@example.no")
		key := keyOf(t, e, browserA, p.Pending, authn.SMS)
		if err := e.svc.SendFactorCode(t.Context(), browserA, p.Pending, key); err != nil {
			t.Fatal(err)
		}
		code := ph.lastCode(t, "+4791234567")
		if n := parallel(func(int) error {
			_, err := e.svc.VerifyFactor(t.Context(), browserA, p.Pending, key, code, false)
			return err
		}); n != 1 {
			t.Errorf("%d of 20 parallel submissions of one SMS code succeeded, want 1", n)
		}
	})
}

// Flooding SMS sends for one number, then from one IP, hits each limit
// with its own message.
func TestSMSLimits(t *testing.T) {
	e := newEnv(t)
	ph := withMFA(t, e, flow.MFAOptional, 0)
	e.svc.SMSLimits = flow.SMSLimits{PerNumber: 3, PerAccount: 100, PerIP: 5, Global: 1000, Countries: []string{"NO", "SE"}}
	e.svc.MFA.ReauthAfter = 3 * time.Hour // the test spans an hour of sign-in
	e.svc.Config.ResendAfter = time.Second
	var results []flow.Result
	for i := range 3 {
		results = append(results, signUp(t, e, "sms"+string(rune('a'+i))+"@example.no"))
	}
	who := func(i int) flow.Who { return flow.Who{Account: results[i].Account, Session: results[i].Session} }

	// One number, asked for again and again.
	f, err := e.svc.StartAddPhone(t.Context(), browserA, who(0), "91234567")
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		e.clock.Advance(2 * time.Second)
		if err := e.svc.ResendPhoneCode(t.Context(), browserA, who(0), f.ID); err != nil {
			t.Fatal(err)
		}
	}
	e.clock.Advance(2 * time.Second)
	err = e.svc.ResendPhoneCode(t.Context(), browserA, who(0), f.ID)
	p := wantProblem(t, err, "sms.limit_number")
	if p.Kind != problem.TooManyAttempts || p.Details[0].Args["max"] != 3 {
		t.Errorf("number limit problem = %+v", p)
	}
	if got := len(ph.sent["+4791234567"]); got != 3 {
		t.Errorf("texts sent to the number = %d, want 3", got)
	}

	// One IP, many numbers: the fourth and fifth go, the sixth is refused.
	other := browserB
	for i, n := range []string{"+46701234567", "+4792345678"} {
		if _, err := e.svc.StartAddPhone(t.Context(), other, who(1), n); err != nil {
			t.Fatalf("number %d: %v", i, err)
		}
	}
	// browserB has its own IP; the IP limit counts per address.
	for range 3 {
		if _, err := e.svc.StartAddPhone(t.Context(), other, who(2), "+4793456789"); err != nil {
			if p, ok := problem.As(err); ok && p.Details[0].Key == "sms.limit_ip" {
				break
			}
		}
	}
	_, err = e.svc.StartAddPhone(t.Context(), other, who(2), "+4794567890")
	wantProblem(t, err, "sms.limit_ip")

	// A country outside the allowlist is refused before anything is sent.
	_, err = e.svc.StartAddPhone(t.Context(), browserA, who(1), "+4915112345678")
	wantProblem(t, err, "sms.country_not_allowed")

	// The next hour, the number may be texted again.
	e.clock.Advance(time.Hour)
	if _, err := e.svc.StartAddPhone(t.Context(), browserA, who(0), "91234567"); err != nil {
		t.Errorf("an hour later the number is still refused: %v", err)
	}
}

// The Visma rule: a session opened with SMS cannot approve a payment;
// the step-up asks for TOTP and raises the level.
func TestStepUp(t *testing.T) {
	e := newEnv(t)
	ph := withMFA(t, e, flow.MFAOptional, 20)
	res := signUp(t, e, "pay@example.no")
	seed, _ := enrolTOTP(t, e, res)
	who := freshWho(t, e, browserA, "pay@example.no", seed)
	f, _ := e.svc.StartAddPhone(t.Context(), browserA, who, "+4798765432")
	if err := e.svc.ConfirmPhone(t.Context(), browserA, who, f.ID, ph.lastCode(t, "+4798765432")); err != nil {
		t.Fatal(err)
	}

	p := passwordStep(t, e, browserA, "pay@example.no")
	key := keyOf(t, e, browserA, p.Pending, authn.SMS)
	if err := e.svc.SendFactorCode(t.Context(), browserA, p.Pending, key); err != nil {
		t.Fatal(err)
	}
	out, err := e.svc.VerifyFactor(t.Context(), browserA, p.Pending, key, ph.lastCode(t, "+4798765432"), true)
	if err != nil {
		t.Fatal(err)
	}
	if out.Session.Level != 2 || !slices.Equal(out.Session.AMR, []string{"pwd", "sms", "mfa"}) {
		t.Errorf("SMS session: level %d amr %v", out.Session.Level, out.Session.AMR)
	}
	sw := flow.Who{Account: out.Account, Session: out.Session}
	st, err := e.svc.StepUp(t.Context(), browserA, sw, "payment", "/pay")
	if err != nil || st.Pending == "" {
		t.Fatalf("StepUp(payment) = %+v, %v; want a pending step", st, err)
	}
	pf, _ := e.svc.Factor(t.Context(), browserA, st.Pending)
	for _, o := range pf.Options {
		if o.Level < 3 {
			t.Errorf("step-up offers %s at level %d", o.Method, o.Level)
		}
	}
	e.clock.Advance(30 * time.Second)
	up, err := e.svc.VerifyFactor(t.Context(), browserA, st.Pending, keyOf(t, e, browserA, st.Pending, authn.TOTP), totpCode(t, e, seed, 0), false)
	if err != nil {
		t.Fatal(err)
	}
	if up.Session.ID != out.Session.ID || up.Token == out.Token || up.Session.Level != 3 || up.ReturnTo != "/pay" {
		t.Errorf("step-up result: same session %v, new token %v, level %d, return %q", up.Session.ID == out.Session.ID, up.Token != out.Token, up.Session.Level, up.ReturnTo)
	}
	if !slices.Contains(up.Session.AMR, "otp") || !slices.Contains(up.Session.AMR, "sms") || !slices.Contains(up.Session.AMR, "mfa") {
		t.Errorf("step-up amr = %v", up.Session.AMR)
	}
	// Now the payment is allowed without another step.
	again, err := e.svc.StepUp(t.Context(), browserA, flow.Who{Account: up.Account, Session: up.Session}, "payment", "/pay")
	if err != nil || again.Pending != "" {
		t.Errorf("second StepUp = %+v, %v; want satisfied", again, err)
	}

	// A remembered browser skips the second step at sign-in, but the
	// session it opens is level 1 and still needs a step-up.
	remembered := browserA
	remembered.Trust = secret.Hash(out.TrustToken)
	if out.TrustToken == "" {
		t.Fatal("no remember token")
	}
	r := passwordStep(t, e, remembered, "pay@example.no")
	if r.Pending != "" || r.Session.Level != 1 || !slices.Equal(r.Session.AMR, []string{"pwd"}) {
		t.Errorf("remembered sign-in = pending %q, level %d, amr %v; want a level-1 pwd session", r.Pending, r.Session.Level, r.Session.AMR)
	}
	st, err = e.svc.StepUp(t.Context(), remembered, flow.Who{Account: r.Account, Session: r.Session}, "payment", "/")
	if err != nil || st.Pending == "" {
		t.Errorf("a remembered browser satisfied a step-up: %+v %v", st, err)
	}
	_, err = e.svc.StepUp(t.Context(), remembered, flow.Who{Account: r.Account, Session: r.Session}, "launch-missiles", "/")
	wantProblem(t, err, "stepup.unknown_action")
}

// The IDEP journey without a browser: pick a masked address, the link
// works only in the browser that asked; remember the browser for 20 days.
func TestEmailSecondFactor(t *testing.T) {
	e := newEnv(t)
	withMFA(t, e, flow.MFARequired, 20)
	e.svc.MFA.Methods = []authn.Method{authn.Email}
	if _, err := e.svc.CreateAccount(t.Context(), flow.NewAccount{Username: "10042", Name: "Maria", Email: "mariage@scb.se", Password: goodPassword}); err != nil {
		t.Fatal(err)
	}
	login := func(c flow.Client) flow.Result {
		r, err := e.svc.LoginUsername(t.Context(), c, "10042", goodPassword)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	p := login(browserA)
	pf, _ := e.svc.Factor(t.Context(), browserA, p.Pending)
	if len(pf.Options) != 1 || pf.Options[0].Label != "ma…ge@sc…se" {
		t.Errorf("options = %+v, want the masked address", pf.Options)
	}
	key := pf.Options[0].Key()
	if err := e.svc.SendFactorCode(t.Context(), browserA, p.Pending, key); err != nil {
		t.Fatal(err)
	}
	m := e.mail.last(t, "mariage@scb.se")
	if m.Template != "mfa_email" || m.Data["recover_url"] == nil {
		t.Fatalf("mail = %+v", m)
	}
	link := m.Data["link"].(string)
	token, _ := url.PathUnescape(link[strings.LastIndex(link, "/")+1:])
	// Another browser: refused, and nothing happens.
	if same, err := e.svc.InspectFactorLink(t.Context(), browserB, token); err != nil || same {
		t.Errorf("InspectFactorLink(other browser) = %v, %v", same, err)
	}
	_, err := e.svc.UseFactorLink(t.Context(), browserB, token, false)
	wantProblem(t, err, "mfa.link_other_browser")
	// The first browser: signed in.
	out, err := e.svc.UseFactorLink(t.Context(), browserA, token, false)
	if err != nil {
		t.Fatal(err)
	}
	// The mailbox is not a second factor: level 1, no "mfa".
	if out.Session.Level != 1 || !slices.Equal(out.Session.AMR, []string{"pwd", "mca"}) {
		t.Errorf("email-factor session: level %d amr %v, want 1 [pwd mca]", out.Session.Level, out.Session.AMR)
	}
	_, err = e.svc.UseFactorLink(t.Context(), browserA, token, false)
	wantProblem(t, err, "flow.gone")

	// With "remember", the next sign-in skips the step, until 20 days pass.
	p = login(browserA)
	e.svc.SendFactorCode(t.Context(), browserA, p.Pending, key)
	code := e.mail.last(t, "mariage@scb.se").Data["code"].(string)
	out, err = e.svc.VerifyFactor(t.Context(), browserA, p.Pending, key, code, true)
	if err != nil || out.TrustToken == "" {
		t.Fatalf("VerifyFactor with remember = %+v, %v", out, err)
	}
	trusted := browserA
	trusted.Trust = secret.Hash(out.TrustToken)
	if r := login(trusted); r.Pending != "" {
		t.Error("a remembered browser was asked again")
	}
	e.clock.Advance(21 * 24 * time.Hour)
	if r := login(trusted); r.Pending == "" {
		t.Error("after 21 days the browser is still remembered")
	}
}

// IDEP: the first sign-in of an account without an address asks for one
// (first-use binding, which the IDEP profile turns on).
func TestRequiredFactorIsSetUpAtFirstSignIn(t *testing.T) {
	e := newEnv(t)
	withMFA(t, e, flow.MFARequired, 0)
	e.svc.MFA.Methods = []authn.Method{authn.Email}
	e.svc.MFA.EnrolAtFirstSignIn = true
	if _, err := e.svc.CreateAccount(t.Context(), flow.NewAccount{Username: "10043", Name: "Nils", Password: goodPassword}); err != nil {
		t.Fatal(err)
	}
	p, err := e.svc.LoginUsername(t.Context(), browserA, "10043", goodPassword)
	if err != nil || p.Pending == "" {
		t.Fatalf("first sign-in = %+v, %v", p, err)
	}
	pf, _ := e.svc.Factor(t.Context(), browserA, p.Pending)
	if !pf.Enrol || !slices.Equal(pf.CanEnrol, []authn.Method{authn.Email}) {
		t.Fatalf("factor step = enrol %v can %v", pf.Enrol, pf.CanEnrol)
	}
	if err := e.svc.EnrolEmail(t.Context(), browserA, p.Pending, "nils@scb.se"); err != nil {
		t.Fatal(err)
	}
	code := e.mail.last(t, "nils@scb.se").Data["code"].(string)
	out, err := e.svc.ConfirmEnrolEmail(t.Context(), browserA, p.Pending, code)
	if err != nil || out.Token == "" {
		t.Fatalf("ConfirmEnrolEmail = %+v, %v", out, err)
	}
	emails, _ := e.svc.Emails(t.Context(), out.Account.ID)
	if len(emails) != 1 || !emails[0].Primary {
		t.Errorf("emails = %+v", emails)
	}
}

// A reset never bypasses the second factor.
func TestRecoveryStillAsksForTheSecondFactor(t *testing.T) {
	e := newEnv(t)
	withMFA(t, e, flow.MFAOptional, 0)
	res := signUp(t, e, "safe@example.no")
	enrolTOTP(t, e, res)
	f, _ := e.svc.StartRecovery(t.Context(), browserA, "safe@example.no", flow.MethodCode)
	e.svc.VerifyRecoveryCode(t.Context(), browserA, f.ID, e.mail.last(t, "safe@example.no").Data["code"].(string))
	out, err := e.svc.CompleteRecovery(t.Context(), browserA, f.ID, "a brand new long passphrase")
	if err != nil {
		t.Fatal(err)
	}
	if out.Token != "" || out.Pending == "" {
		t.Errorf("after a reset: token %q pending %q; want the second-factor step", out.Token, out.Pending)
	}
	pf, _ := e.svc.Factor(t.Context(), browserA, out.Pending)
	for _, o := range pf.Options {
		if o.Method == authn.Email {
			t.Error("email is offered as the second factor after an email-based reset")
		}
	}
	// A magic link too.
	e.svc.StartRecovery(t.Context(), browserA, "safe@example.no", flow.MethodMagic)
	link := e.mail.last(t, "safe@example.no").Data["link"].(string)
	token, _ := url.PathUnescape(link[strings.LastIndex(link, "/")+1:])
	_, r, err := e.svc.UseLink(t.Context(), browserA, token)
	if err != nil || r == nil || r.Token != "" || r.Pending == "" {
		t.Errorf("magic link with TOTP enrolled = %+v, %v; want the second-factor step", r, err)
	}
}

func TestSupportCode(t *testing.T) {
	e := newEnv(t)
	withMFA(t, e, flow.MFAOptional, 0)
	res := signUp(t, e, "lost@example.no")
	enrolTOTP(t, e, res)
	masked, err := e.svc.IssueSupportCode(t.Context(), res.Account.ID, "nb")
	if err != nil || masked != "l…t@ex…no" {
		t.Fatalf("IssueSupportCode = %q, %v", masked, err)
	}
	m := e.mail.last(t, "lost@example.no")
	if m.Template != "support_code" || m.Lang != "nb" {
		t.Errorf("support mail = %+v", m)
	}
	p := passwordStep(t, e, browserA, "lost@example.no")
	out, err := e.svc.VerifyFactor(t.Context(), browserA, p.Pending, "support", m.Data["code"].(string), false)
	if err != nil || out.Session.Level != 3 {
		t.Fatalf("support code = %+v, %v", out, err)
	}
	p = passwordStep(t, e, browserA, "lost@example.no")
	if _, err := e.svc.VerifyFactor(t.Context(), browserA, p.Pending, "support", m.Data["code"].(string), false); err == nil {
		t.Error("a support code worked twice")
	}
}

func TestMaskEmail(t *testing.T) {
	tests := []struct{ in, want string }{
		{"mariage@scb.se", "ma…ge@sc…se"}, // IDEP's own example
		{"kari.nordmann@example.no", "ka…nn@ex…no"},
		{"ab@x.no", "a…@x…o"},      // two characters or fewer keep only the first
		{"abc@ab.se", "a…c@ab…se"}, // three or four keep the first and the last
		{"ole@ny.no", "o…e@ny…no"},
		{"é@ü.de", "é…@ü…e"}, // characters, not bytes
	}
	for _, tt := range tests {
		if got := flow.MaskEmail(tt.in); got != tt.want {
			t.Errorf("MaskEmail(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// A second factor required per group and per account: members of a
// required group, and an account an operator flagged, set one up at their
// next sign-in; others sign in with the password alone.
func TestRequiredByGroupOrOperator(t *testing.T) {
	e := newEnv(t)
	withMFA(t, e, flow.MFAOptional, 0)
	e.svc.MFA.RequiredGroups = []string{"finance"}
	mk := func(username string, groups []string) {
		t.Helper()
		if _, err := e.svc.CreateAccount(t.Context(), flow.NewAccount{Username: username, Name: username, Password: goodPassword, Groups: groups}); err != nil {
			t.Fatal(err)
		}
	}
	mk("ann", []string{"finance"})
	mk("bob", []string{"sales"})
	mk("cid", nil)
	if _, err := e.svc.CreateAccount(t.Context(), flow.NewAccount{Username: "bad", Password: goodPassword, Groups: []string{"has space"}}); err == nil {
		t.Error("a group name with a space was accepted")
	}
	login := func(u string) flow.Result {
		t.Helper()
		r, err := e.svc.LoginUsername(t.Context(), browserA, u, goodPassword)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	if r := login("ann"); r.Pending == "" {
		t.Error("a member of a required group signed in with the password alone")
	} else if pf, _ := e.svc.Factor(t.Context(), browserA, r.Pending); !pf.Enrol {
		t.Error("a member of a required group without a factor is not asked to set one up")
	}
	if r := login("bob"); r.Pending != "" || r.Token == "" {
		t.Errorf("a member of another group was asked for a second factor: %+v", r)
	}
	acct, _ := e.db.GetAccountByUsername(t.Context(), "cid")
	if err := e.svc.RequireMFA(t.Context(), acct.ID, true); err != nil {
		t.Fatal(err)
	}
	if r := login("cid"); r.Pending == "" {
		t.Error("an account an operator flagged signed in with the password alone")
	}
	e.svc.RequireMFA(t.Context(), acct.ID, false)
	if r := login("cid"); r.Pending != "" {
		t.Error("lifting the requirement did not take")
	}
}

// Guessing an authenticator or recovery code is capped per factor, not per
// flow or per request: of twenty parallel wrong guesses from twenty
// flows, LoginFailures are checked and the rest wait; then even the right
// code waits until the window has passed.
func TestCodeGuessingIsCapped(t *testing.T) {
	dialects(t, func(t *testing.T, e *env) {
		withMFA(t, e, flow.MFAOptional, 0)
		res := signUp(t, e, "guess@example.no")
		secret, codes := enrolTOTP(t, e, res)
		limit := 10 // flow.Config default LoginFailures
		guess := func(method authn.Method, wrong string) (checked, throttled int) {
			var flows, keys []string
			for range 20 {
				p := passwordStep(t, e, browserA, "guess@example.no").Pending
				flows, keys = append(flows, p), append(keys, keyOf(t, e, browserA, p, method))
			}
			got := parallelKeys(t, len(flows), func(i int) error {
				_, err := e.svc.VerifyFactor(t.Context(), browserA, flows[i], keys[i], wrong, false)
				return err
			})
			if got[""] != 0 {
				t.Errorf("%d wrong guesses were accepted", got[""])
			}
			return len(flows) - got["login.throttled"] - got[""], got["login.throttled"]
		}
		e.clock.Advance(30 * time.Second) // past the enrolment code's step
		right := totpCode(t, e, secret, 0)
		wrong := "000000"
		if wrong == right {
			wrong = "000001"
		}
		if c, th := guess(authn.TOTP, wrong); c != limit || th != 20-limit {
			t.Errorf("TOTP: %d guesses checked, %d throttled; want %d and %d", c, th, limit, 20-limit)
		}
		p := passwordStep(t, e, browserA, "guess@example.no").Pending
		_, err := e.svc.VerifyFactor(t.Context(), browserA, p, keyOf(t, e, browserA, p, authn.TOTP), right, false)
		wantProblem(t, err, "login.throttled")

		if c, th := guess(authn.Recovery, "0000-0000-0000-0000"); c != limit || th != 20-limit {
			t.Errorf("recovery: %d guesses checked, %d throttled; want %d and %d", c, th, limit, 20-limit)
		}
		_, err = e.svc.VerifyFactor(t.Context(), browserA, p, keyOf(t, e, browserA, p, authn.Recovery), codes[0], false)
		wantProblem(t, err, "login.throttled")

		e.clock.Advance(16 * time.Minute)
		p = passwordStep(t, e, browserA, "guess@example.no").Pending
		if _, err := e.svc.VerifyFactor(t.Context(), browserA, p, keyOf(t, e, browserA, p, authn.TOTP), totpCode(t, e, secret, 0), false); err != nil {
			t.Fatalf("right code after the window: %v", err)
		}
		p = passwordStep(t, e, browserA, "guess@example.no").Pending
		if _, err := e.svc.VerifyFactor(t.Context(), browserA, p, keyOf(t, e, browserA, p, authn.Recovery), codes[0], false); err != nil {
			t.Fatalf("recovery code after the window: %v", err)
		}
	})
}
