package e2e

import (
	"regexp"
	"strings"
	"testing"

	"github.com/portvakt/portvakt/internal/browsertest"
	"github.com/portvakt/portvakt/internal/config"
	"github.com/portvakt/portvakt/internal/flow"
)

// profile loads examples/profiles/<name>.yaml over the test server's
// configuration, keeping only the test's address, database and mail.
func profile(t *testing.T, name string) func(*config.Config) {
	t.Helper()
	p, err := config.Load("../examples/profiles/"+name+".yaml", nil)
	if err != nil {
		t.Fatalf("profile %s: %v", name, err)
	}
	return func(c *config.Config) {
		listen, public, db := c.Listen, c.PublicURL, c.Database
		*c = p
		c.Listen, c.PublicURL, c.Database = listen, public, db
	}
}

// UDI (seed 003): sign-up by emailed code, in Bokmål by default, and a
// password that breaks UDI's rules is refused at the moment it is chosen,
// each broken rule named, the name kept.
func TestJourney_Profile_UDI(t *testing.T) {
	t.Parallel()
	srv := startServer(t, profile(t, "udi"))
	p := browsertest.Shared(t).NewPage(t, browsertest.AcceptLanguage("de-DE"))
	p.Open(srv.URL + "/signup")
	if lang, _ := p.Attr("html", "lang"); lang != "nb" {
		t.Errorf("UDI's pages are in %q without a browser preference, want nb", lang)
	}
	p.Fill("#email", "ali@example.no")
	p.Submit(`form[action="/signup"] button[type="submit"]`)
	enterCode(t, p, readCode(t, openInbox(srv, "ali@example.no").next(t, "")))
	rules := p.Text("#password-rules")
	for _, want := range []string{"@ % &", "æ ø å"} {
		if !strings.Contains(rules, want) {
			t.Errorf("the rules shown before typing lack %q: %s", want, rules)
		}
	}
	p.Fill("#name", "Ali Hassan")
	p.Fill("#password", "Passord1æ@")
	// The rules are checked as the user types, before anything is sent.
	p.WaitText("#password-live", "@")
	p.WaitText("#password-live", "æ")
	p.Submit(`form[action="/signup/details"] button[type="submit"]`)
	errs := strings.Join(fieldErrors(t, p, "password"), " | ")
	for _, want := range []string{"@", "æ"} {
		if !strings.Contains(errs, want) {
			t.Errorf("the password errors do not name %q: %s", want, errs)
		}
	}
	if got := p.Value("#name"); got != "Ali Hassan" {
		t.Errorf("the name field holds %q after the error", got)
	}
	p.Fill("#password", "Fjellvann42")
	p.WaitText("#password-live", "Passordet oppfyller alle kravene")
	p.Submit(`form[action="/signup/details"] button[type="submit"]`)
	wantPath(t, p, "/account")
}

// Altinn (seed 000): a national ID number as username and a personal
// password, then an SMS code; the policy refuses special characters.
func TestJourney_Profile_Altinn(t *testing.T) {
	t.Parallel()
	srv := startServer(t, profile(t, "altinn"))
	if _, err := srv.App.Flows.CreateAccount(t.Context(), flow.NewAccount{Username: "01017012343", Name: "Kari", Password: "Hemmeligordetmitt42", Phone: "912 34 567"}); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.App.Flows.CreateAccount(t.Context(), flow.NewAccount{Username: "02027012372", Password: "Hemmelig#ordetmitt42"}); err == nil {
		t.Error("Altinn's policy accepted a special character")
	}
	p := browsertest.Shared(t).NewPage(t, browsertest.AcceptLanguage("nb"))
	p.Open(srv.URL + "/login")
	wantPath(t, p, "/login/username")
	p.Fill("#username", "01017012343")
	p.Fill("#password", "Hemmeligordetmitt42")
	p.Submit(`form[action="/login/username"] button[type="submit"]`)
	// The SMS goes to the registered number, shown masked.
	if got := p.Text("#factor-title"); !strings.Contains(got, "+47 ••• •• 567") {
		t.Errorf("the second step = %q, want the masked number", got)
	}
	p.Submit(`form[action="/login/factor/send"] button[type="submit"]`)
	text := openInbox(srv, "+4791234567").next(t, "").Text
	code := regexp.MustCompile(`\b\d{6}\b`).FindString(text)
	if !strings.Contains(text, "Altinn") || code == "" {
		t.Fatalf("SMS = %q", text)
	}
	enterCode(t, p, code)
	wantPath(t, p, "/account")
}

// Visma.net (seed 001) and Visma Connect (seed 002): the sign-in page
// offers exactly what each profile configures.
func TestJourney_Profile_Visma(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name                string
		usernameLink, magic bool
	}{
		{"visma", true, true},
		{"visma-connect", false, true},
	} {
		srv := startServer(t, profile(t, tt.name), func(c *config.Config) {
			c.PublicURL = strings.Replace(c.PublicURL, "://127.0.0.1:", "://localhost:", 1)
		})
		p := browsertest.Shared(t).NewPage(t, browsertest.AcceptLanguage("en"))
		p.Open(srv.URL + "/login")
		if got := p.Exists(`a[href="/login/username"]`); got != tt.usernameLink {
			t.Errorf("%s: username sign-in offered = %v, want %v", tt.name, got, tt.usernameLink)
		}
		if !p.Exists(`form[data-webauthn="passkey"]`) {
			t.Errorf("%s: no passkey sign-in", tt.name)
		}
		p.Open(srv.URL + "/recover")
		if got := p.Exists(`#method-magic`); got != tt.magic {
			t.Errorf("%s: one-time sign-in link offered = %v, want %v", tt.name, got, tt.magic)
		}
	}
}

// IDEP.WEB (seed 004): numeric username, Swedish by default, and the
// first sign-in of an account with no address asks for one.
func TestJourney_Profile_IDEP(t *testing.T) {
	t.Parallel()
	srv := startServer(t, profile(t, "idep"))
	if _, err := srv.App.Flows.CreateAccount(t.Context(), flow.NewAccount{Username: "20031", Name: "Nils", Password: "ett långt lösenord för idep"}); err != nil {
		t.Fatal(err)
	}
	p := browsertest.Shared(t).NewPage(t, browsertest.AcceptLanguage("de-DE"))
	p.Open(srv.URL + "/login")
	wantPath(t, p, "/login/username")
	if got := p.Text(`label[for="username"]`); got != "Användarnamn" {
		t.Errorf("username label = %q, want Swedish", got)
	}
	p.Fill("#username", "20031")
	p.Fill("#password", "ett långt lösenord för idep")
	p.Submit(`form[action="/login/username"] button[type="submit"]`)
	p.Fill("#email", "nils@scb.example")
	p.Submit(`form[action="/login/enrol/email"] button[type="submit"]`)
	enterCode(t, p, readCode(t, openInbox(srv, "nils@scb.example").next(t, "")))
	wantPath(t, p, "/account")
	if rows := accountEmails(t, p); len(rows) != 1 || rows[0].Address != "nils@scb.example" {
		t.Errorf("the account's addresses after the first sign-in: %+v", rows)
	}
}
