package e2e

import (
	"regexp"
	"strings"
	"testing"

	"github.com/portvakt/portvakt/internal/browsertest"
	"github.com/portvakt/portvakt/internal/config"
	"github.com/portvakt/portvakt/internal/flow"
)

// Altinn (seed 000): the username is a fødselsnummer. The page calls it
// that; a number that cannot be one is explained before any password is
// checked (no try is counted, no SMS is sent); a wrong password names the
// fødselsnummer and the password, never an email address; and once signed
// in the number is shown masked.
func TestJourney_NationalID_Altinn(t *testing.T) {
	t.Parallel()
	srv := startServer(t, profile(t, "altinn"))
	const fnr, pw = "01017012343", "Hemmeligordetmitt42"
	mfaAccount(t, srv, flow.NewAccount{Username: fnr, Password: pw, Phone: "912 34 567"})
	p := browsertest.Shared(t).NewPage(t, browsertest.AcceptLanguage("nb"))
	p.Open(srv.URL + "/login/username")
	if got := p.Text(`label[for="username"]`); got != "Fødselsnummer" {
		t.Errorf("the username field is labelled %q, want Fødselsnummer", got)
	}
	if got := p.Text("#username-hint"); !strings.Contains(got, "11 siffer") {
		t.Errorf("the field's hint = %q", got)
	}
	if mode, _ := p.Attr("#username", "inputmode"); mode != "numeric" {
		t.Errorf("inputmode = %q, want numeric", mode)
	}

	for _, tt := range []struct{ name, typed, want string }{
		{"ten digits", "0101701234", "Et fødselsnummer har 11 siffer; du skrev 10."},
		{"a mistyped digit", "01017012345", "de to siste sifrene passer ikke med de andre"},
		{"no date", "01137012343", "fødselsdatoen (DDMMÅÅ)"},
	} {
		p.Fill("#username", tt.typed)
		p.Fill("#password", pw)
		p.Submit(`form[action="/login/username"] button[type="submit"]`)
		if got := strings.Join(fieldErrors(t, p, "username"), " "); !strings.Contains(got, tt.want) {
			t.Errorf("%s: the username error = %q, want %q", tt.name, got, tt.want)
		}
		if p.Value("#username") != tt.typed {
			t.Errorf("%s: the field lost what was typed", tt.name)
		}
		if len(fieldErrors(t, p, "password")) > 0 {
			t.Errorf("%s: the password was judged too", tt.name)
		}
	}
	if sent := openInbox(srv, "+4791234567").unread(t); len(sent) > 0 {
		t.Errorf("an SMS was sent for a number that is no fødselsnummer: %q", sent)
	}

	// A valid number with a wrong password: the message names what the
	// page asked for.
	p.Fill("#username", "010170 12343")
	p.Fill("#password", "Feilpassord1234")
	p.Submit(`form[action="/login/username"] button[type="submit"]`)
	msg := p.Text(".error-summary")
	if !strings.Contains(msg, "Fødselsnummeret eller passordet er feil") || strings.Contains(msg, "E-post") || strings.Contains(msg, "brukernavn") {
		t.Errorf("a wrong password says %q, want it to name the fødselsnummer and the password only", msg)
	}

	// Typed with a space, it signs in; the number is shown masked.
	p.Fill("#username", "010170 12343")
	p.Fill("#password", pw)
	p.Submit(`form[action="/login/username"] button[type="submit"]`)
	wantPath(t, p, "/login/factor")
	p.Submit(`form[action="/login/factor/send"] button[type="submit"]`)
	enterCode(t, p, regexp.MustCompile(`\b\d{6}\b`).FindString(openInbox(srv, "+4791234567").next(t, "").Text))
	wantPath(t, p, "/account")
	p.Open(srv.URL + "/")
	home := p.Text("main")
	if strings.Contains(p.HTML(), fnr) || !strings.Contains(home, "010170 •••••") {
		t.Errorf("the signed-in home page shows the number unmasked, or not at all:\n%s", home)
	}
}

// On a username portal that is no national-ID portal, and on the email
// step, the wrong-credentials message names what that page asked for.
func TestJourney_WrongCredentialsNameWhatWasAsked(t *testing.T) {
	t.Parallel()
	srv := startServer(t, func(c *config.Config) { c.Login.Methods = []string{"email", "username"} })
	mfaAccount(t, srv, flow.NewAccount{Username: "kari", Email: "kari@example.no", Password: "fjellvann-morgen-lys-7"})
	p := browsertest.Shared(t).NewPage(t, browsertest.AcceptLanguage("nb"))
	p.Open(srv.URL + "/login/username")
	p.Fill("#username", "kari")
	p.Fill("#password", "feil-passord-her-1")
	p.Submit(`form[action="/login/username"] button[type="submit"]`)
	if got := p.Text(".error-summary"); !strings.Contains(got, "Brukernavnet eller passordet er feil") || strings.Contains(got, "E-post") {
		t.Errorf("the username page says %q", got)
	}
	startSignIn(t, srv, p, "kari@example.no", false)
	p.Fill("#password", "feil-passord-her-1")
	p.Submit(`form[action="/login/password"] button[type="submit"]`)
	if got := p.Text(".error-summary"); !strings.Contains(got, "E-postadressen eller passordet er feil") || strings.Contains(got, "brukernavn") {
		t.Errorf("the password step says %q", got)
	}
}

// An Altinn user without a registered mobile is told, at sign-in, how a
// mobile number gets on the account: by support until then, and by the
// user under Sign-in and security afterwards (confirmed by SMS).
func TestJourney_Altinn_NoPhoneIsToldHowToAddOne(t *testing.T) {
	t.Parallel()
	srv := startServer(t, profile(t, "altinn"))
	const fnr, pw = "15038512363", "Hemmeligordetmitt42"
	mfaAccount(t, srv, flow.NewAccount{Username: fnr, Password: pw})
	p := browsertest.Shared(t).NewPage(t, browsertest.AcceptLanguage("nb"))
	p.Open(srv.URL + "/login/username")
	p.Fill("#username", fnr)
	p.Fill("#password", pw)
	p.Submit(`form[action="/login/username"] button[type="submit"]`)
	got := p.Text("#phone-how")
	for _, want := range []string{"Innlogging og sikkerhet", "«Legg til en telefon for SMS-koder»", "brukerstøtte"} {
		if !strings.Contains(got, want) {
			t.Errorf("the page for a user without a phone says %q, want %q in it", got, want)
		}
	}
}
