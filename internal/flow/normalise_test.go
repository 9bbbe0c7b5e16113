package flow_test

import (
	"testing"

	"github.com/portvakt/portvakt/internal/flow"
)

// TestAddressVariantsFindOneAccount (issue 10, finding 10): Unicode and
// IDN variants of an address, in any case, are the same account at
// sign-up, sign-in and recovery, and recovery mail goes to the address as
// the account stored it, not as typed.
func TestAddressVariantsFindOneAccount(t *testing.T) {
	dialects(t, func(t *testing.T, e *env) {
		const stored = "Kari.Nordmann@xn--blbr-roah.no"
		f, err := e.svc.StartSignup(t.Context(), browserA, "Kari.Nordmann@blåbær.no")
		if err != nil {
			t.Fatal(err)
		}
		if f.Email != stored {
			t.Errorf("sign-up flow address = %q, want %q", f.Email, stored)
		}
		if _, err := e.svc.VerifySignupCode(t.Context(), browserA, f.ID, e.mail.last(t, stored).Data["code"].(string)); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.CompleteSignup(t.Context(), browserA, f.ID, "Kari Nordmann", goodPassword); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.StartSignup(t.Context(), browserB, "kari.nordmann@BLA\u030aBÆR.no"); err != nil {
			t.Fatal(err)
		}
		if m := e.mail.last(t, "kari.nordmann@xn--blbr-roah.no"); m.Template != "signup_existing" {
			t.Errorf("sign-up with a variant mailed %s, want signup_existing (the account exists)", m.Template)
		}
		lf, err := e.svc.StartLogin(t.Context(), browserA, "KARI.NORDMANN@ｂｌåｂæｒ.no", false)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.LoginPassword(t.Context(), browserA, lf.ID, goodPassword); err != nil {
			t.Errorf("sign-in with a variant: %v", err)
		}
		for _, method := range []string{flow.MethodCode, flow.MethodLink} {
			n := len(e.mail.sent)
			if _, err := e.svc.StartRecovery(t.Context(), browserB, "KARI.NORDMANN@XN--BLBR-ROAH.NO", method); err != nil {
				t.Fatal(err)
			}
			if len(e.mail.sent) != n+1 {
				t.Fatalf("recovery (%s) sent %d mails, want 1", method, len(e.mail.sent)-n)
			}
			if m := e.mail.sent[n]; m.To != stored || m.Template == "recovery_unknown" {
				t.Errorf("recovery (%s) mailed %s to %q, want the account's mail to %q", method, m.Template, m.To, stored)
			}
		}
	})
}
