package e2e

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/portvakt/portvakt/internal/browsertest"
	"github.com/portvakt/portvakt/internal/config"
)

// A Swedish visitor signs up and later asks for a new password where the
// self-hosted proof-of-work challenge is asked at both: the widget, served
// from the binary under the page's CSP (its worker too), says in Swedish
// that it checks and then that it is verified, and the forms go through.
// A form sent without a solution (the widget removed) is refused in
// Swedish, keeps the address and shows a new widget.
func TestJourney_ProofOfWorkChallenge(t *testing.T) {
	srv := startServer(t, func(c *config.Config) {
		c.Captcha.Provider = "altcha"
		c.Captcha.At = []string{"signup", "recovery"}
		c.Captcha.MaxNumber = 5000
	})
	b := browsertest.Shared(t)
	p := b.NewPage(t, browsertest.AcceptLanguage("sv-SE,sv;q=0.9"))
	who := person{Name: "Karin Nilsson", Email: "karin.nilsson@example.se", Password: "ett långt lösenord för karin"}

	solveWidget := func(form string) {
		t.Helper()
		p.WaitVisible(form + ` altcha-widget input[type="checkbox"]`)
		if got := p.Text(form + " altcha-widget label"); got != "Jag är inte en robot" {
			t.Errorf("widget label = %q, want the Swedish one", got)
		}
		p.Click(form + " altcha-widget label")
		p.WaitVisible(form + ` altcha-widget [data-state="verified"]`)
		p.WaitText(form+" altcha-widget label", "Verifierad")
		if v := p.Value(form + ` input[name="captcha"]`); v == "" {
			t.Fatalf("the widget is verified but put no solution in the form")
		}
		p.Screenshot(filepath.Join(browsertest.ArtifactDir(t.Name()), strings.Trim(path(t, p), "/")+"-verified.png"))
	}

	// Without a solution: refused in Swedish, the address kept.
	p.Open(srv.URL + "/signup")
	p.WaitVisible(`form[action="/signup"] altcha-widget`)
	p.Eval(`document.querySelectorAll("altcha-widget").forEach(w => w.remove()), true`, nil)
	p.Fill("#email", who.Email)
	p.Submit(`form[action="/signup"] button[type="submit"]`)
	wantPath(t, p, "/signup")
	if errs := fieldErrors(t, p, "captcha"); len(errs) != 1 || !strings.Contains(errs[0], "Bekräfta att du inte är en robot") {
		t.Errorf("captcha errors = %q, want the Swedish refusal", errs)
	}
	if got := p.Value("#email"); got != who.Email {
		t.Errorf("the address field holds %q after the refusal", got)
	}

	// Solved: the code is mailed, and sign-up completes.
	solveWidget(`form[action="/signup"]`)
	p.Submit(`form[action="/signup"] button[type="submit"]`)
	wantPath(t, p, "/signup/code")
	enterCode(t, p, readCode(t, openInbox(srv, who.Email).next(t, "")))
	wantPath(t, p, "/signup/details")
	p.Fill("#name", who.Name)
	p.Fill("#password", who.Password)
	p.Submit(`form[action="/signup/details"] button[type="submit"]`)
	wantPath(t, p, "/account")
	signOut(t, p)

	// Forgot password: the challenge again, then the code step.
	p.Open(srv.URL + "/recover")
	p.Fill("#email", who.Email)
	p.Click("#method-code")
	solveWidget(`form[action="/recover"]`)
	p.Submit(`form[action="/recover"] button[type="submit"]`)
	wantPath(t, p, "/recover/code")
}
