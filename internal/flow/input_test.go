package flow_test

import (
	"testing"

	"github.com/portvakt/portvakt/internal/flow"
)

// TestNamesWithControlCharactersAreRefused replays issue 10, finding 10:
// CR and LF were accepted in display names and reached mail text.
func TestNamesWithControlCharactersAreRefused(t *testing.T) {
	e := newEnv(t)
	f, err := e.svc.StartSignup(t.Context(), browserA, "crlf@example.no")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.VerifySignupCode(t.Context(), browserA, f.ID, e.mail.last(t, "crlf@example.no").Data["code"].(string)); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.CompleteSignup(t.Context(), browserA, f.ID, "Kari\r\nBcc: everyone@example.org", goodPassword)
	if p := wantProblem(t, err, "name.control_char"); p.Details[0].Args["chars"] != "U+000D, U+000A" {
		t.Errorf("args = %v, want the characters named", p.Details[0].Args)
	}
	if _, err := e.svc.CompleteSignup(t.Context(), browserA, f.ID, "Kari Nordmann", goodPassword); err != nil {
		t.Errorf("the same sign-up with a clean name: %v", err)
	}
}

// TestOperatorNamesWithControlCharactersAreRefused: the admin API and the
// CLI create accounts through CreateAccount, whose name reaches the
// invitation mail.
func TestOperatorNamesWithControlCharactersAreRefused(t *testing.T) {
	e := newEnv(t)
	_, err := e.svc.CreateAccount(t.Context(), flow.NewAccount{Username: "crlf", Name: "Ola\nNordmann", Email: "ola@example.no"})
	wantProblem(t, err, "name.control_char")
}
