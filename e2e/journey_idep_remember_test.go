package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/browsertest"
	"github.com/portvakt/portvakt/internal/flow"
)

// IDEP (seed 004) asks "skip this step in this browser for 20 days"
// before the link and code are sent, and the choice holds on both ways to
// finish: the emailed link (IDEP's main path) and the code. After sending,
// the page says what was sent, where to look, and how long it works, with
// the code field first and "send a new link and code" below it.
func TestJourney_IDEP_RememberBeforeSending(t *testing.T) {
	t.Parallel()
	srv, clock := startServerWithClock(t, profile(t, "idep"))
	const user, email, pw = "10077", "mariage@scb.se", "statistik-arsbok-1958"
	mfaAccount(t, srv, flow.NewAccount{Username: user, Name: "Marie Åström", Email: email, Password: pw})
	mail := mfaMail(srv, email)
	b := browsertest.Shared(t)

	// toSecondStep signs in with the password and ticks (or not) the box
	// before sending; it returns the mail's link and code.
	toSecondStep := func(p *browsertest.Page, tick bool) (link, code string) {
		t.Helper()
		mfaSignInUsername(t, srv, p, user, pw)
		mfaAt(t, p, "/login/factor")
		if got := p.Text(`label[for="remember-send"]`); got != "Fråga inte igen i den här webbläsaren på 20 dagar" {
			t.Errorf("before sending, the remember box = %q", got)
		}
		if got := p.Text(`form[action="/login/factor/send"] button`); got != "Skicka länk och kod" {
			t.Errorf("the send button = %q, want it to name the link and the code", got)
		}
		if isChecked(t, p, "#remember-send") != tick {
			p.Click("#remember-send")
		}
		p.Submit(`form[action="/login/factor/send"] button`)
		mfaAt(t, p, "/login/factor")
		notice := p.Text(".factor .notice")
		for _, want := range []string{"ma…ge@sc…se", "skräppostmappen", "den här webbläsaren inom 30 minuter"} {
			if !strings.Contains(notice, want) {
				t.Errorf("after sending the page says %q, want it to mention %q", notice, want)
			}
		}
		main := p.Text("main")
		if strings.Contains(main, "Vi mejlar") {
			t.Errorf("after sending, the page still says what it will send:\n%s", main)
		}
		// The code field comes first; sending again is a secondary action
		// below it.
		var order []string
		p.Eval(`[...document.querySelectorAll(".factor form")].map(f => f.getAttribute("action") + (f.classList.contains("secondary") ? " secondary" : ""))`, &order)
		if len(order) != 2 || order[0] != "/login/factor" || order[1] != "/login/factor/send secondary" {
			t.Errorf("after sending, the forms are %q, want the code form first and a secondary resend below", order)
		}
		if got := p.Text(`form[action="/login/factor/send"] button`); got != "Skicka en ny länk och kod" {
			t.Errorf("the resend button = %q", got)
		}
		if isChecked(t, p, "#remember") != tick {
			t.Errorf("the code form's remember box = %v after choosing %v before sending", !tick, tick)
		}
		m := mail.next(t, "")
		return mfaLinkIn(t, m, "/login/factor/link/"), mfaCodeIn(t, m)
	}
	asked := func(p *browsertest.Page) bool {
		t.Helper()
		mfaSignInUsername(t, srv, p, user, pw)
		at := mfaPath(t, p)
		if at == "/login/factor" {
			// Leave the half-done sign-in.
			p.Open(srv.URL + "/")
			return true
		}
		mfaSignOut(t, p)
		return false
	}

	t.Run("ticked before sending, finished with the emailed link", func(t *testing.T) {
		p := b.NewPage(t, browsertest.AcceptLanguage("sv"))
		link, _ := toSecondStep(p, true)
		p.Open(link)
		if got := p.Text("main"); !strings.Contains(got, "20 dagar") {
			t.Errorf("the link's page does not say the browser will be remembered:\n%s", got)
		}
		p.Submit(`form[action="/login/factor/link"] button`)
		mfaAt(t, p, "/account")
		mfaSignOut(t, p)
		if asked(p) {
			t.Error("after finishing with the link, the browser is asked for the email step again")
		}
		clock.Advance(21 * 24 * time.Hour)
		if !asked(p) {
			t.Error("21 days later the browser is still remembered")
		}
	})

	t.Run("not ticked, finished with the emailed link", func(t *testing.T) {
		p := b.NewPage(t, browsertest.AcceptLanguage("sv"))
		link, _ := toSecondStep(p, false)
		p.Open(link)
		p.Submit(`form[action="/login/factor/link"] button`)
		mfaAt(t, p, "/account")
		mfaSignOut(t, p)
		if !asked(p) {
			t.Error("a browser nobody asked to remember was remembered")
		}
	})

	t.Run("ticked before sending, finished with the code", func(t *testing.T) {
		p := b.NewPage(t, browsertest.AcceptLanguage("sv"))
		_, code := toSecondStep(p, true)
		p.Fill("#code", code)
		p.Submit(`form[action="/login/factor"] button[type="submit"]`)
		mfaAt(t, p, "/account")
		mfaSignOut(t, p)
		if asked(p) {
			t.Error("after finishing with the code, the browser is asked for the email step again")
		}
	})
}
