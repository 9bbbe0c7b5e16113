package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/app"
	"github.com/portvakt/portvakt/internal/browsertest"
	"github.com/portvakt/portvakt/internal/clocktest"
)

// The account's operations (issue 15): where it is signed in, the
// new-device mail and its "this wasn't me" link, deleting it.

// sessionCount counts the sessions the page lists, and those marked
// "this browser".
func sessionCount(t *testing.T, p *browsertest.Page) (all, current int) {
	t.Helper()
	p.Eval(`document.querySelectorAll("li.session").length`, &all)
	p.Eval(`document.querySelectorAll("li.session.current").length`, &current)
	return all, current
}

// signedOut reports whether the page's browser is served signed out: its
// next request for the account page is sent to sign in.
func signedOut(t *testing.T, srv *server, p *browsertest.Page) bool {
	t.Helper()
	p.Open(srv.URL + "/account")
	return path(t, p) == "/login"
}

// saveScreenshot keeps a screenshot in the journey's artifacts, and in
// docs/screenshots when PORTVAKT_SCREENSHOTS names that directory.
func saveScreenshot(t *testing.T, p *browsertest.Page, name string) {
	t.Helper()
	p.Screenshot(filepath.Join(browsertest.ArtifactDir(t.Name()), name))
	if dir := os.Getenv("PORTVAKT_SCREENSHOTS"); dir != "" {
		p.Screenshot(filepath.Join(dir, name))
	}
}

// Kari signs up on her laptop (its first browser: no mail), then signs in
// on a second browser: the new-device mail arrives. The laptop lists both
// sessions, this one marked; she ends the other, and that browser is
// signed out at its very next request. Two more browsers sign in; "sign
// out everywhere else" ends both and keeps the laptop. A sign-in from yet
// another browser is mailed about, and "this wasn't me", opened by
// whoever reads the mail, ends that browser's session and starts a
// password reset without signing anyone in.
func TestJourney_SessionsAndNewDevice(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	b := browsertest.Shared(t)
	kari := person{Email: "kari@example.no", Name: "Kari Nordmann", Password: "correct horse battery staple 42"}
	mail := openInbox(srv, kari.Email)
	laptop := b.NewPage(t, browsertest.AcceptLanguage("en"))
	signUp(t, srv, laptop, kari)

	second := b.NewPage(t, browsertest.AcceptLanguage("en"))
	signIn(t, srv, second, kari.Email, kari.Password)
	alert := mail.next(t, "New sign-in to your Portvakt account")
	for _, want := range []string{"Chrome", "Linux", "127.0.0.1", "/not-me/"} {
		if !strings.Contains(alert.Text, want) {
			t.Errorf("the new-device mail lacks %q:\n%s", want, alert.Text)
		}
	}

	laptop.Open(srv.URL + "/account/security")
	laptop.Submit(`a[href="/account/sessions"]`)
	wantPath(t, laptop, "/account/sessions")
	if got := laptop.Text("h1"); got != "Where you're signed in" {
		t.Errorf("sessions heading = %q", got)
	}
	if all, current := sessionCount(t, laptop); all != 2 || current != 1 {
		t.Fatalf("the page lists %d sessions, %d marked this browser; want 2 and 1", all, current)
	}
	if got := laptop.Text("li.session.current"); !strings.Contains(got, "this browser") || !strings.Contains(got, "Chrome") || !strings.Contains(got, "127.0.0.x") {
		t.Errorf("this browser's entry reads %q", got)
	}
	saveScreenshot(t, laptop, "sessions-en.png")

	laptop.Submit(`li.session:not(.current) form[action="/account/sessions/end"] button[type="submit"]`)
	wantPath(t, laptop, "/account/sessions")
	if got := laptop.Text(".notice"); !strings.Contains(got, "The session has ended") {
		t.Errorf("notice after ending = %q", got)
	}
	if all, _ := sessionCount(t, laptop); all != 1 {
		t.Errorf("after ending one, the page lists %d sessions", all)
	}
	if !signedOut(t, srv, second) {
		t.Fatal("the ended session's browser is still signed in at its next request")
	}

	// Sign out everywhere else.
	signIn(t, srv, second, kari.Email, kari.Password) // a known browser now: no mail
	third := b.NewPage(t, browsertest.AcceptLanguage("en"))
	signIn(t, srv, third, kari.Email, kari.Password)
	mail.next(t, "New sign-in to your Portvakt account")
	laptop.Open(srv.URL + "/account/sessions")
	if all, _ := sessionCount(t, laptop); all != 3 {
		t.Fatalf("the page lists %d sessions, want 3", all)
	}
	laptop.Submit(`form[action="/account/sessions/end-others"] button[type="submit"]`)
	wantPath(t, laptop, "/account/sessions")
	if got := laptop.Text(".notice"); !strings.Contains(got, "signed out everywhere except here") {
		t.Errorf("notice after sign out everywhere else = %q", got)
	}
	if all, current := sessionCount(t, laptop); all != 1 || current != 1 {
		t.Errorf("after sign out everywhere else: %d sessions, %d current", all, current)
	}
	if !signedOut(t, srv, second) || !signedOut(t, srv, third) {
		t.Error("sign out everywhere else left another browser signed in")
	}
	if signedOut(t, srv, laptop) {
		t.Fatal("sign out everywhere else signed this browser out too")
	}
	alerts := 0
	for _, m := range srv.mails(t, kari.Email) {
		if strings.Contains(m.Subject, "New sign-in") {
			alerts++
		}
	}
	if alerts != 2 {
		t.Errorf("%d new-device mails so far, want 2 (the second browser's return is known)", alerts)
	}

	// A stranger's browser signs in; the mail's "this wasn't me".
	stranger := b.NewPage(t, browsertest.AcceptLanguage("en"))
	signIn(t, srv, stranger, kari.Email, kari.Password)
	alert = mail.next(t, "New sign-in to your Portvakt account")
	link := readLink(t, alert, "/not-me/")
	reader := b.NewPage(t, browsertest.AcceptLanguage("en"))
	reader.Open(link)
	if got := reader.Text("h1"); got != "Was this not you?" {
		t.Errorf("this-wasn't-me heading = %q", got)
	}
	if signedOut(t, srv, stranger) {
		t.Fatal("opening the link (a GET) ended the session")
	}
	reader.Open(link)
	reader.Submit(`form[action="/not-me"] button[type="submit"]`)
	wantPath(t, reader, "/recover/code")
	if !signedOut(t, srv, stranger) {
		t.Error("this wasn't me left the stranger's browser signed in")
	}
	if !signedOut(t, srv, reader) {
		t.Error("this wasn't me signed the reader's browser in")
	}
	if signedOut(t, srv, laptop) {
		t.Error("this wasn't me signed the laptop out")
	}
	mail.next(t, "code") // the password reset's code

	// The security history tells the story, this account's only.
	laptop.Open(srv.URL + "/account/history")
	if got := laptop.Text("h1"); got != "Security history" {
		t.Errorf("history heading = %q", got)
	}
	var kinds []string
	laptop.Eval(`[...document.querySelectorAll("tr.event")].map(r => r.dataset.kind)`, &kinds)
	count := map[string]int{}
	for _, k := range kinds {
		count[k]++
	}
	if count["login.succeeded"] < 5 || count["session.ended"] < 3 {
		t.Errorf("the history lists %v, want the sign-ins and the ended sessions", count)
	}
	saveScreenshot(t, laptop, "history-en.png")
}

// Kari deletes her account (a stale sign-in must sign in again first),
// is told the date and mailed; she signs in within the grace period,
// which cancels it and says so; then she deletes it for real, and at the
// date it is gone: mailed, and her password no longer signs in.
func TestJourney_DeleteAccount(t *testing.T) {
	t.Parallel()
	clock := clocktest.New(time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC))
	srv := runServer(t, app.Options{Now: clock.Now})
	kari := person{Email: "kari.delete@example.no", Name: "Kari Nordmann", Password: "correct horse battery staple 42"}
	mail := openInbox(srv, kari.Email)
	p := browsertest.Shared(t).NewPage(t, browsertest.AcceptLanguage("en"))
	signUp(t, srv, p, kari)

	clock.Advance(11 * time.Minute) // the sign-in is no longer recent
	p.Open(srv.URL + "/account/security")
	p.Submit(`a[href="/account/delete"]`)
	wantPath(t, p, "/account/delete")
	p.Click("#confirm")
	p.Submit(`form[action="/account/delete"] button[type="submit"]`)
	wantPath(t, p, "/account/reauth")
	p.Fill("#current_password", kari.Password)
	p.Submit(`form[action="/account/reauth"] button[type="submit"]`)
	wantPath(t, p, "/account/delete")

	// Without the tick: a clear error on the box.
	p.Submit(`form[action="/account/delete"] button[type="submit"]`)
	if errs := fieldErrors(t, p, "confirm"); len(errs) != 1 || !strings.Contains(errs[0], "Tick the box") {
		t.Errorf("errors on the confirmation = %q", errs)
	}
	p.Click("#confirm")
	p.Submit(`form[action="/account/delete"] button[type="submit"]`)
	if got := p.Text("h1"); got != "Your account will be deleted" {
		t.Fatalf("after deleting: %q", got)
	}
	if got := p.Text("main"); !strings.Contains(got, "2026-12-18") {
		t.Errorf("the page does not give the date: %q", got)
	}
	mail.next(t, "Your Portvakt account will be deleted")
	if !signedOut(t, srv, p) {
		t.Fatal("asking to delete the account left the browser signed in")
	}

	// Three days later she signs in: the deletion is cancelled.
	clock.Advance(3 * 24 * time.Hour)
	startSignIn(t, srv, p, kari.Email, false)
	enterPassword(t, p, kari.Password)
	wantPath(t, p, "/account")
	if got := p.Text(".notice"); !strings.Contains(got, "Your account will not be deleted") {
		t.Errorf("notice after signing in = %q", got)
	}
	mail.next(t, "will not be deleted")
	clock.Advance(12 * 24 * time.Hour)
	if acts, err := srv.App.Lifecycle().Run(t.Context(), false); err != nil || len(acts) != 0 {
		t.Fatalf("the lifecycle acted on a cancelled deletion: %+v %v", acts, err)
	}

	// For real.
	signIn(t, srv, p, kari.Email, kari.Password)
	p.Open(srv.URL + "/account/delete")
	p.Click("#confirm")
	p.Submit(`form[action="/account/delete"] button[type="submit"]`)
	if got := p.Text("h1"); got != "Your account will be deleted" {
		t.Fatalf("after deleting again: %q", got)
	}
	mail.next(t, "Your Portvakt account will be deleted")
	clock.Advance(14*24*time.Hour + time.Minute)
	acts, err := srv.App.Lifecycle().Run(t.Context(), false)
	if err != nil || len(acts) != 1 || !acts[0].Done {
		t.Fatalf("the lifecycle at the date: %+v %v", acts, err)
	}
	mail.next(t, "has been deleted")
	startSignIn(t, srv, p, kari.Email, false)
	enterPassword(t, p, kari.Password)
	if path(t, p) == "/account" {
		t.Fatal("the deleted account's password still signs in")
	}
}
