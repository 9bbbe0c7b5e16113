package e2e

import (
	"regexp"
	"strings"
	"testing"

	"github.com/portvakt/portvakt/internal/browsertest"
	"github.com/portvakt/portvakt/internal/flow"
)

// Altinn (seed 000), issue 9: the password policy knows the account. A
// user who signs in with SMS changes to a 13-character password (enough
// with a second factor), and the page says which rule applied; a user
// without a second factor who resets their password is held to 15, and
// the page, the live check and the error all say 15.
func TestJourney_Profile_Altinn_PasswordLength(t *testing.T) {
	t.Parallel()
	srv := startServer(t, profile(t, "altinn"))
	const pw, pw13 = "Hemmeligordetmitt42", "Fjordbris2026"
	if _, err := srv.App.Flows.CreateAccount(t.Context(), flow.NewAccount{Username: "01017012343", Name: "Kari", Email: "kari@example.no", Password: pw, Phone: "912 34 567"}); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.App.Flows.CreateAccount(t.Context(), flow.NewAccount{Username: "02027012372", Name: "Ola", Email: "ola@example.no", Password: pw}); err != nil {
		t.Fatal(err)
	}
	b := browsertest.Shared(t)

	// Kari signs in with her password and an SMS code.
	kari := b.NewPage(t, browsertest.AcceptLanguage("nb"))
	kari.Open(srv.URL + "/login")
	wantPath(t, kari, "/login/username")
	kari.Fill("#username", "01017012343")
	kari.Fill("#password", pw)
	kari.Submit(`form[action="/login/username"] button[type="submit"]`)
	kari.Submit(`form[action="/login/factor/send"] button[type="submit"]`)
	code := regexp.MustCompile(`\b\d{6}\b`).FindString(openInbox(srv, "+4791234567").next(t, "").Text)
	enterCode(t, kari, code)
	wantPath(t, kari, "/account")

	kari.Open(srv.URL + "/account/password")
	wantPath(t, kari, "/account/password")
	rules := kari.Text("#password-rules")
	if !strings.Contains(rules, "Minst 8 tegn, siden kontoen din bruker totrinnsbekreftelse") || strings.Contains(rules, "15") {
		t.Errorf("the rules shown to a user with SMS: %q; want the 8-character rule, and it alone", rules)
	}
	kari.Fill("#current_password", pw)
	kari.Fill("#password", pw13)
	kari.WaitText("#password-live", "Passordet oppfyller alle kravene")
	kari.Submit(`form[action="/account/password"] button[type="submit"]`)
	wantPath(t, kari, "/account")
	if got := kari.Text(".notice"); !strings.Contains(got, "Passordet ditt er endret") {
		t.Errorf("notice after the change = %q", got)
	}

	// Ola, without a second factor, resets his by emailed code.
	ola := b.NewPage(t, browsertest.AcceptLanguage("nb"))
	startRecovery(t, srv, ola, "ola@example.no", "code")
	enterCode(t, ola, readCode(t, openInbox(srv, "ola@example.no").next(t, "")))
	wantPath(t, ola, "/recover/password")
	rules = ola.Text("#password-rules")
	if !strings.Contains(rules, "Minst 15 tegn") || strings.Contains(rules, "8") {
		t.Errorf("the rules shown to a user without a factor: %q; want 15, and not 8", rules)
	}
	ola.Fill("#password", pw13)
	ola.WaitText("#password-live", "minst 15 tegn")
	ola.Submit(`form[action="/recover/password"] button[type="submit"]`)
	wantPath(t, ola, "/recover/password")
	if errs := strings.Join(fieldErrors(t, ola, "password"), " | "); !strings.Contains(errs, "minst 15 tegn") {
		t.Errorf("the error on a 13-character password without a factor: %q", errs)
	}
}
