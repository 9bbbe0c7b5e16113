package flow_test

import (
	"testing"
	"time"

	"github.com/descope/virtualwebauthn"

	"github.com/portvakt/portvakt/internal/authn"
	"github.com/portvakt/portvakt/internal/authn/webauthn/webauthntest"
	"github.com/portvakt/portvakt/internal/flow"
	"github.com/portvakt/portvakt/internal/secret"
	"github.com/portvakt/portvakt/internal/store"
)

// Found by the attacker review (R1), now fixed: a step-up refreshes AuthTime, so a stale session cookie plus the
// phone (SIM swap) becomes "recent" without the password ever being
// proven again, and can remove the authenticator.
func TestAttackStepUpMakesStaleSessionRecent(t *testing.T) {
	e := newEnv(t)
	ph := withMFA(t, e, flow.MFAOptional, 20)
	const addr = "victim@example.no"
	res := signUp(t, e, addr)
	seed, _ := enrolTOTP(t, e, res)
	who := freshWho(t, e, browserA, addr, seed)
	f, err := e.svc.StartAddPhone(t.Context(), browserA, who, ownerPhone)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.ConfirmPhone(t.Context(), browserA, who, f.ID, ph.lastCode(t, ownerPhone)); err != nil {
		t.Fatal(err)
	}
	// The owner signs in once with "remember this browser"...
	e.clock.Advance(30 * time.Second)
	p := passwordStep(t, e, browserA, addr)
	out, err := e.svc.VerifyFactor(t.Context(), browserA, p.Pending, keyOf(t, e, browserA, p.Pending, authn.TOTP), totpCode(t, e, seed, 0), true)
	if err != nil || out.TrustToken == "" {
		t.Fatalf("remembered sign-in: %+v %v", out, err)
	}
	// ...and later signs in from that browser: password only, level 1.
	owner := browserA
	owner.Trust = secret.Hash(out.TrustToken)
	r := passwordStep(t, e, owner, addr)
	if r.Token == "" || r.Session.Level != 1 {
		t.Fatalf("remembered sign-in = %+v", r)
	}
	// The attacker steals this session cookie, long after the sign-in,
	// and holds the phone (SIM swap). No password.
	e.clock.Advance(20 * time.Minute)
	stolen := flow.Who{Account: r.Account, Session: r.Session}
	if ok, _ := e.svc.Recent(t.Context(), stolen); ok {
		t.Fatal("precondition: the stolen session is recent")
	}
	// A step-up to level 2 (an app's acr_values=urn:portvakt:level:2).
	st, err := e.svc.StepUpTo(t.Context(), attacker, stolen, 2, "/")
	if err != nil || st.Pending == "" {
		t.Fatalf("StepUpTo(2) = %+v, %v", st, err)
	}
	key := keyOf(t, e, attacker, st.Pending, authn.SMS)
	if err := e.svc.SendFactorCode(t.Context(), attacker, st.Pending, key); err != nil {
		t.Fatal(err)
	}
	up, err := e.svc.VerifyFactor(t.Context(), attacker, st.Pending, key, ph.lastCode(t, ownerPhone), false)
	if err != nil {
		t.Fatal(err)
	}
	now := flow.Who{Account: up.Account, Session: up.Session}
	sec, _ := e.svc.SecurityOverview(t.Context(), r.Account.ID)
	err = e.svc.RemoveFactor(t.Context(), attacker, now, sec.TOTP[0].ID)
	if err == nil {
		t.Errorf("BUG: stolen session cookie + SIM swap removed the authenticator after a step-up (session methods %v, level %d); the password was proven 20 min ago", up.Session.Methods, up.Session.Level)
	}
}

// Found by the attacker review (R2), now fixed: an account with password + security key cannot replace a lost key:
// a recovery code (level 3) never reaches its full level (4).
func TestAttackLostSecurityKeyIsADeadEnd(t *testing.T) {
	e := newEnv(t)
	withMFA(t, e, flow.MFAOptional, 0)
	withKeys(t, e)
	res := signUp(t, e, ownerEmail)
	who := flow.Who{Account: res.Account, Session: res.Session}
	yubikey := virtualwebauthn.NewAuthenticatorWithOptions(virtualwebauthn.AuthenticatorOptions{UserNotVerified: true})
	cred := webauthntest.NewEC2Credential()
	id, opts, err := e.svc.BeginKeyRegistration(t.Context(), browserA, who, false)
	if err != nil {
		t.Fatal(err)
	}
	ao, _ := virtualwebauthn.ParseAttestationOptions(string(opts))
	att := virtualwebauthn.CreateAttestationResponse(rp, yubikey, cred, *ao)
	_, codes, err := e.svc.FinishKeyRegistration(t.Context(), browserA, who, id, []byte(att), "Key")
	if err != nil || len(codes) == 0 {
		t.Fatalf("key registration: codes %d, %v", len(codes), err)
	}
	// The key is lost. Sign in with the password and a recovery code.
	p := passwordStep(t, e, browserA, ownerEmail)
	out, err := e.svc.VerifyFactor(t.Context(), browserA, p.Pending, "recovery", codes[0], false)
	if err != nil {
		t.Fatal(err)
	}
	lost := flow.Who{Account: out.Account, Session: out.Session}
	if _, _, err := e.svc.BeginKeyRegistration(t.Context(), browserA, lost, false); err != nil {
		t.Errorf("DEAD END: after password + recovery code (level %d) a new key cannot be registered: %v", out.Session.Level, err)
	}
	// Re-authentication cannot help either: it offers the key or another
	// recovery code, which gives level 3 again.
	r, err := e.svc.Reauth(t.Context(), browserA, lost, goodPassword, "/account/security")
	if err == nil && r.Pending != "" {
		again, err := e.svc.VerifyFactor(t.Context(), browserA, r.Pending, "recovery", codes[1], false)
		if err == nil {
			if ok, _ := e.svc.Recent(t.Context(), flow.Who{Account: again.Account, Session: again.Session}); !ok {
				t.Errorf("DEAD END: re-authentication with password + recovery code is still not recent (level %d)", again.Session.Level)
			}
		}
	}
}

// Found by the attacker review (R3), now fixed: password change and primary-address change mail only one address.
func TestAttackNotificationsReachEveryAddress(t *testing.T) {
	e := newEnv(t)
	withMFA(t, e, flow.MFAOptional, 0)
	res := signUp(t, e, ownerEmail)
	who := flow.Who{Account: res.Account, Session: res.Session}
	const second = "second@example.no"
	f, err := e.svc.StartAddEmail(t.Context(), browserA, who, second, goodPassword, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.VerifyAddEmail(t.Context(), browserA, who, f.ID, e.mail.last(t, second).Data["code"].(string)); err != nil {
		t.Fatal(err)
	}
	count := func(to, template string) int {
		n := 0
		e.mail.mu.Lock()
		defer e.mail.mu.Unlock()
		for _, m := range e.mail.sent {
			if m.To == to && m.Template == template {
				n++
			}
		}
		return n
	}
	if _, err := e.svc.ChangePassword(t.Context(), browserA, who, goodPassword, "an entirely new passphrase here"); err != nil {
		t.Fatal(err)
	}
	if count(second, "password_changed") == 0 {
		t.Errorf("ChangePassword mailed only the primary address, not %s", second)
	}
}

var _ = store.Flow{}

// Found by the attacker review (R5), now fixed: a second step started with the old password survives a password
// change (and a reset): the old password is still worth a sign-in.
func TestAttackPendingLoginSurvivesPasswordChange(t *testing.T) {
	e := newEnv(t)
	ph := withMFA(t, e, flow.MFAOptional, 0)
	const addr = "sms@example.no"
	res := signUp(t, e, addr)
	who := flow.Who{Account: res.Account, Session: res.Session}
	f, _ := e.svc.StartAddPhone(t.Context(), browserA, who, ownerPhone)
	if err := e.svc.ConfirmPhone(t.Context(), browserA, who, f.ID, ph.lastCode(t, ownerPhone)); err != nil {
		t.Fatal(err)
	}
	// The attacker knows the (old) password and passes the first step.
	lf, _ := e.svc.StartLogin(t.Context(), attacker, addr, false)
	p, err := e.svc.LoginPassword(t.Context(), attacker, lf.ID, goodPassword)
	if err != nil || p.Pending == "" {
		t.Fatalf("password step = %+v %v", p, err)
	}
	// The owner notices, signs in fully and changes the password.
	e.clock.Advance(2 * time.Minute)
	op := passwordStep(t, e, browserA, addr)
	ok := keyOf(t, e, browserA, op.Pending, authn.SMS)
	if err := e.svc.SendFactorCode(t.Context(), browserA, op.Pending, ok); err != nil {
		t.Fatal(err)
	}
	oo, err := e.svc.VerifyFactor(t.Context(), browserA, op.Pending, ok, ph.lastCode(t, ownerPhone), false)
	if err != nil {
		t.Fatal(err)
	}
	who = flow.Who{Account: oo.Account, Session: oo.Session}
	if _, err := e.svc.ChangePassword(t.Context(), browserA, who, goodPassword, "the owner's brand new passphrase"); err != nil {
		t.Fatal(err)
	}
	// The attacker, with the SMS (SIM swap), cannot finish the old step:
	// the change dropped it.
	e.clock.Advance(2 * time.Minute)
	_, err = e.svc.Factor(t.Context(), attacker, p.Pending)
	wantProblem(t, err, "flow.gone")
	_, err = e.svc.VerifyFactor(t.Context(), attacker, p.Pending, "sms:x", "123456", false)
	wantProblem(t, err, "flow.gone")
}
