package i18n_test

import (
	"strings"
	"testing"

	"github.com/portvakt/portvakt/internal/i18n"
)

// The second step's lead is shown after a password, a one-time link or an
// emailed code alike, so it claims nothing about a password (issue 9).
// A cancelled security-key request names the button that leads on, in the
// words the second step shows it, and the recovery code it offers.
func TestSecondStepTexts(t *testing.T) {
	cat, err := i18n.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	password := map[string]string{"en": "password", "nb": "passord", "sv": "lösenord"}
	for _, lang := range i18n.Languages {
		l := cat.Lang(lang)
		if lead := l.T("mfa.lead"); strings.Contains(strings.ToLower(lead), password[lang]) {
			t.Errorf("%s: mfa.lead = %q mentions the password", lang, lead)
		}
		cancelled := l.T("webauthn.cancelled")
		for _, want := range []string{l.T("mfa.other_ways"), strings.ToLower(l.T("mfa.recovery.label"))} {
			if !strings.Contains(cancelled, want) {
				t.Errorf("%s: webauthn.cancelled = %q, want it to name %q", lang, cancelled, want)
			}
		}
	}
}
