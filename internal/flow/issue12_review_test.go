package flow_test

import (
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/authn"
	"github.com/portvakt/portvakt/internal/flow"
	"github.com/portvakt/portvakt/internal/store"
)

// TestReviewFiftyParallelWrongTOTPCodes: fifty wrong authenticator codes
// at once, each from its own flow, get exactly LoginFailures checks
// (ReserveFailure's WHERE); the right code afterwards is throttled.
func TestReviewFiftyParallelWrongTOTPCodes(t *testing.T) {
	dialects(t, func(t *testing.T, e *env) {
		_, seed, _ := totpAccount(t, e, "fifty@example.no")
		right := totpCode(t, e, seed, 0)
		wrong := "000000"
		if wrong == right {
			wrong = "000001"
		}
		flows, keys := totpSteps(t, e, "fifty@example.no", 50)
		got := parallelKeys(t, len(flows), func(i int) error {
			_, err := e.svc.VerifyFactor(t.Context(), browserA, flows[i], keys[i], wrong, false)
			return err
		})
		if got[""] != 0 || got["totp.wrong"] != 10 || got["login.throttled"] != 40 {
			t.Errorf("outcomes: %v; want 10 totp.wrong and 40 login.throttled", got)
		}
		p := passwordStep(t, e, browserA, "fifty@example.no").Pending
		_, err := e.svc.VerifyFactor(t.Context(), browserA, p, keyOf(t, e, browserA, p, authn.TOTP), right, false)
		wantProblem(t, err, "login.throttled")
	})
}

// TestReviewOneTOTPCodeFiftyFlows: one right code submitted in fifty
// flows at once opens exactly one session (AdvanceFactorStep's CAS).
func TestReviewOneTOTPCodeFiftyFlows(t *testing.T) {
	dialects(t, func(t *testing.T, e *env) {
		_, seed, _ := totpAccount(t, e, "once@example.no")
		flows, keys := totpSteps(t, e, "once@example.no", 50)
		right := totpCode(t, e, seed, 0)
		got := parallelKeys(t, len(flows), func(i int) error {
			_, err := e.svc.VerifyFactor(t.Context(), browserA, flows[i], keys[i], right, false)
			return err
		})
		if got[""] != 1 {
			t.Errorf("outcomes: %v; want exactly one success", got)
		}
	})
}

// TestReviewOneFlowManyFactors: one second-step flow, the right TOTP code
// and several recovery codes submitted at once: exactly one session
// (ConsumeFlow), whichever wins.
func TestReviewOneFlowManyFactors(t *testing.T) {
	dialects(t, func(t *testing.T, e *env) {
		res, seed, codes := totpAccount(t, e, "many@example.no")
		p := passwordStep(t, e, browserA, "many@example.no").Pending
		tk, rk := keyOf(t, e, browserA, p, authn.TOTP), keyOf(t, e, browserA, p, authn.Recovery)
		right := totpCode(t, e, seed, 0)
		n := min(len(codes), 6)
		got := parallelKeys(t, n+1, func(i int) error {
			if i == n {
				_, err := e.svc.VerifyFactor(t.Context(), browserA, p, tk, right, false)
				return err
			}
			_, err := e.svc.VerifyFactor(t.Context(), browserA, p, rk, codes[i], false)
			return err
		})
		if got[""] != 1 {
			t.Errorf("outcomes: %v; want exactly one success", got)
		}
		sessions, err := e.db.ListSessions(t.Context(), res.Account.ID)
		if err != nil {
			t.Fatal(err)
		}
		// The sign-up's session and the one second step.
		if len(sessions) != 2 {
			t.Errorf("%d sessions, want 2 (sign-up and one second step)", len(sessions))
		}
	})
}

// TestReviewOneLoginFlowParallelRightPasswords: twenty right passwords in
// one login flow at once: one result.
func TestReviewOneLoginFlowParallelRightPasswords(t *testing.T) {
	dialects(t, func(t *testing.T, e *env) {
		signUp(t, e, "oneflow@example.no")
		f, err := e.svc.StartLogin(t.Context(), browserA, "oneflow@example.no", false)
		if err != nil {
			t.Fatal(err)
		}
		got := parallelKeys(t, 20, func(int) error {
			_, err := e.svc.LoginPassword(t.Context(), browserA, f.ID, goodPassword)
			return err
		})
		if got[""] != 1 {
			t.Errorf("outcomes: %v; want exactly one success", got)
		}
		// Another browser cannot consume it either (it is used).
		_, err = e.svc.LoginPassword(t.Context(), browserB, f.ID, goodPassword)
		if err == nil {
			t.Error("a used flow signed in from another browser")
		}
	})
}

// TestReviewOtherBrowserCannotConsume: a login flow bound to browser A,
// with the right password from browser B, signs nothing in and leaves the
// flow usable for A.
func TestReviewOtherBrowserCannotConsume(t *testing.T) {
	dialects(t, func(t *testing.T, e *env) {
		signUp(t, e, "bound@example.no")
		f, err := e.svc.StartLogin(t.Context(), browserA, "bound@example.no", false)
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.LoginPassword(t.Context(), browserB, f.ID, goodPassword)
		wantProblem(t, err, "flow.other_browser")
		noBrowser := browserB
		noBrowser.Browser = nil
		if _, err := e.svc.LoginPassword(t.Context(), noBrowser, f.ID, goodPassword); err == nil {
			t.Error("a client with no browser digest consumed a bound flow")
		}
		if _, err := e.svc.LoginPassword(t.Context(), browserA, f.ID, goodPassword); err != nil {
			t.Errorf("the owner's sign-in after refused ones: %v", err)
		}
	})
}

// TestReviewFactorRemovedMidFlow: the authenticator is removed after the
// password step; its code no longer completes the second step.
func TestReviewFactorRemovedMidFlow(t *testing.T) {
	dialects(t, func(t *testing.T, e *env) {
		res, seed, _ := totpAccount(t, e, "gone@example.no")
		p := passwordStep(t, e, browserA, "gone@example.no").Pending
		key := keyOf(t, e, browserA, p, authn.TOTP)
		factors, err := e.db.ListFactors(t.Context(), res.Account.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range factors {
			if f.Kind == string(authn.TOTP) {
				if err := e.db.DeleteFactor(t.Context(), f.ID); err != nil {
					t.Fatal(err)
				}
			}
		}
		if _, err := e.svc.VerifyFactor(t.Context(), browserA, p, key, totpCode(t, e, seed, 0), false); err == nil {
			t.Error("a removed authenticator's code completed the second step")
		}
	})
}

// TestReviewDisabledParallel: an account disabled while twenty right
// passwords are in flight: none signs in after the change is visible.
func TestReviewDisabledAccountParallel(t *testing.T) {
	dialects(t, func(t *testing.T, e *env) {
		res := signUp(t, e, "locked@example.no")
		if _, err := e.db.UpdateAccount(t.Context(), res.Account.ID, func(a store.Account) (store.Account, error) {
			a.Disabled = true
			return a, nil
		}); err != nil {
			t.Fatal(err)
		}
		var flows []string
		for range 20 {
			f, err := e.svc.StartLogin(t.Context(), browserA, "locked@example.no", false)
			if err != nil {
				t.Fatal(err)
			}
			flows = append(flows, f.ID)
		}
		got := parallelKeys(t, len(flows), func(i int) error {
			_, err := e.svc.LoginPassword(t.Context(), browserA, flows[i], goodPassword)
			return err
		})
		if got[""] != 0 {
			t.Errorf("outcomes: %v; want no success", got)
		}
	})
}

// totpAccount signs up email with an authenticator (second factor
// optional) and moves the clock to the next code step; it returns the
// sign-up, the authenticator's seed and the recovery codes.
func totpAccount(t *testing.T, e *env, email string) (flow.Result, string, []string) {
	t.Helper()
	withMFA(t, e, flow.MFAOptional, 0)
	res := signUp(t, e, email)
	seed, codes := enrolTOTP(t, e, res)
	e.clock.Advance(30 * time.Second)
	return res, seed, codes
}

// totpSteps makes n second-step flows of email's password sign-ins in
// browserA, and the key of the authenticator in each.
func totpSteps(t *testing.T, e *env, email string, n int) (flows, keys []string) {
	t.Helper()
	for range n {
		p := passwordStep(t, e, browserA, email).Pending
		flows, keys = append(flows, p), append(keys, keyOf(t, e, browserA, p, authn.TOTP))
	}
	return flows, keys
}
