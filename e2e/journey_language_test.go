package e2e

import (
	"strings"
	"testing"

	"github.com/portvakt/portvakt/internal/browsertest"
)

// A Norwegian visitor lands on the portal in Bokmål, switches to Swedish,
// types an email address without @, and is told in Swedish, next to the
// field, what is missing, with what they typed still there.
func TestJourney_LanguageAndFormErrors(t *testing.T) {
	srv := startServer(t)
	b := browsertest.Shared(t)
	p := b.NewPage(t, browsertest.AcceptLanguage("nb-NO,nb;q=0.9,en;q=0.5"))

	p.Open(srv.URL + "/")
	if got := p.Text("h1"); got != "Velkommen til Portvakt" {
		t.Errorf("home heading = %q, want the Bokmål welcome", got)
	}
	if lang, _ := p.Attr("html", "lang"); lang != "nb" {
		t.Errorf("<html lang> = %q, want nb", lang)
	}

	p.Submit(`.lang-switch button[value="sv"]`)
	if got := p.Text("h1"); got != "Välkommen till Portvakt" {
		t.Errorf("after choosing Svenska the heading is %q", got)
	}
	if lang, _ := p.Attr("html", "lang"); lang != "sv" {
		t.Errorf("<html lang> = %q after switching, want sv", lang)
	}

	p.Submit(`a.button[href="/login"]`)
	if lang, _ := p.Attr("html", "lang"); lang != "sv" {
		t.Errorf("the choice did not stick: /login is in %q", lang)
	}
	if got := p.Text(`label[for="email"]`); got != "E-postadress" {
		t.Errorf("email label = %q", got)
	}

	p.Fill("#email", "kari.nordmann.example.no")
	p.Submit(`form[action="/login"] button[type="submit"]`)

	if got := p.Value("#email"); got != "kari.nordmann.example.no" {
		t.Errorf("the email field holds %q after the error, want what was typed", got)
	}
	msg := p.Text("#email-error-0")
	if !strings.Contains(msg, "saknar tecknet @") || !strings.Contains(msg, "kari.nordmann.example.no") {
		t.Errorf("field error = %q, want the Swedish explanation naming the input and the missing @", msg)
	}
	if got, _ := p.Attr("#email", "aria-invalid"); got != "true" {
		t.Errorf("aria-invalid = %q", got)
	}
	if got, _ := p.Attr("#email", "aria-describedby"); !strings.Contains(got, "email-error-0") {
		t.Errorf("aria-describedby = %q, want it to point at the error", got)
	}
	if got := p.Text(".error-summary h2"); got != "Något behöver rättas" {
		t.Errorf("error summary heading = %q", got)
	}
	if !strings.HasPrefix(p.Title(), "Fel:") {
		t.Errorf("title = %q, want it to start with the Swedish error prefix", p.Title())
	}
	// The invalid field has focus, so a keyboard user can correct it at once.
	if got := p.Focused(); got != "email" {
		t.Errorf("focused element = %q, want email", got)
	}

	// Fixing the mistake clears the error.
	p.Fill("#email", "kari.nordmann@example.no")
	p.Submit(`form[action="/login"] button[type="submit"]`)
	if p.Exists("#email-error-0") || p.Exists(".error-summary") {
		t.Error("the error is still shown after a valid address")
	}
}

// Every control on the login page is reachable with the keyboard alone,
// starting with the skip link.
func TestJourney_KeyboardOnly(t *testing.T) {
	srv := startServer(t)
	p := browsertest.Shared(t).NewPage(t, browsertest.AcceptLanguage("en"))
	p.Open(srv.URL + "/login")
	seen := map[string]bool{}
	for range 12 {
		p.PressTab()
		var desc string
		p.Eval(`(function(){const e=document.activeElement;return e.tagName+"|"+(e.id||e.getAttribute("href")||e.value||e.textContent.trim())})()`, &desc)
		seen[desc] = true
	}
	for _, want := range []string{"A|#main", "INPUT|email", "BUTTON|Next", "BUTTON|sv"} {
		if !seen[want] {
			t.Errorf("Tab never reached %s; reached %v", want, seen)
		}
	}
}
