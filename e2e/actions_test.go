package e2e

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/browsertest"
	"github.com/portvakt/portvakt/internal/testwait"
	"github.com/portvakt/portvakt/internal/web"
)

// Reusable steps of the account journeys: what a user does in the browser
// and in their mailbox. Each step checks that it got where it should, so a
// journey reads as the user's story and fails at the step that broke.

// person is a user of the journeys.
type person struct {
	Email    string
	Name     string
	Password string
}

// inbox is one address's mailbox as the user reads it: each message once,
// oldest first.
type inbox struct {
	srv  *server
	addr string
	seen map[string]bool
}

func openInbox(srv *server, addr string) *inbox {
	return &inbox{srv: srv, addr: addr, seen: map[string]bool{}}
}

// next waits (bounded) for the oldest unread message whose subject
// contains subject ("" for any) and marks it read.
func (in *inbox) next(t *testing.T, subject string) web.DevMailJSON {
	t.Helper()
	deadline := time.Now().Add(testwait.D(10 * time.Second))
	for {
		msgs := in.srv.mails(t, in.addr)
		for _, m := range slices.Backward(msgs) { // the mailbox lists newest first
			if !in.seen[m.ID] && strings.Contains(m.Subject, subject) {
				in.seen[m.ID] = true
				return m
			}
		}
		if time.Now().After(deadline) {
			var subjects []string
			for _, m := range msgs {
				subjects = append(subjects, m.Subject)
			}
			t.Fatalf("no new mail to %s about %q within %v; the mailbox has %q", in.addr, subject, testwait.D(10*time.Second), subjects)
			return web.DevMailJSON{}
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// unread returns the subjects of the messages not read yet.
func (in *inbox) unread(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, m := range in.srv.mails(t, in.addr) {
		if !in.seen[m.ID] {
			out = append(out, m.Subject)
		}
	}
	return out
}

var codeLine = regexp.MustCompile(`(?m)^\s*(\d{6})\s*$`)

// readCode returns the six-digit code of a mail: the digits on a line of
// their own, as the mail shows them.
func readCode(t *testing.T, m web.DevMailJSON) string {
	t.Helper()
	match := codeLine.FindStringSubmatch(m.Text)
	if match == nil {
		t.Fatalf("mail %q has no six-digit code on a line of its own:\n%s", m.Subject, m.Text)
	}
	return match[1]
}

var mailURL = regexp.MustCompile(`https?://\S+`)

// readLink returns the first link of a mail whose path starts with
// prefix, such as "/recover/link/".
func readLink(t *testing.T, m web.DevMailJSON, prefix string) string {
	t.Helper()
	for _, s := range mailURL.FindAllString(m.Text, -1) {
		if u, err := url.Parse(s); err == nil && strings.HasPrefix(u.Path, prefix) {
			return s
		}
	}
	t.Fatalf("mail %q has no link to %s:\n%s", m.Subject, prefix, m.Text)
	return ""
}

// path returns the path of the page's URL.
func path(t *testing.T, p *browsertest.Page) string {
	t.Helper()
	u, err := url.Parse(p.URL())
	if err != nil {
		t.Fatalf("page URL %q: %v", p.URL(), err)
	}
	return u.Path
}

// wantPath fails the test unless the page is at path.
func wantPath(t *testing.T, p *browsertest.Page, want string) {
	t.Helper()
	if got := path(t, p); got != want {
		heading := "no heading"
		if p.Exists("h1") {
			heading = p.Text("h1")
		}
		t.Fatalf("the browser is at %s (%s), want %s", got, heading, want)
	}
}

// status returns the HTTP status of the page's document.
func status(t *testing.T, p *browsertest.Page) int {
	t.Helper()
	var code int
	p.Eval(`performance.getEntriesByType("navigation")[0].responseStatus`, &code)
	return code
}

// enterCode types a code on a code page and continues.
func enterCode(t *testing.T, p *browsertest.Page, code string) {
	t.Helper()
	p.Fill("#code", code)
	p.Submit(`form:has(#code) button[type="submit"]`)
}

// signUp creates an account the way a new user does, in the page's
// language: address, code from the mail, name and password. It leaves
// the page signed in on the account page.
func signUp(t *testing.T, srv *server, p *browsertest.Page, who person) {
	t.Helper()
	p.Open(srv.URL + "/signup")
	p.Fill("#email", who.Email)
	p.Submit(`form[action="/signup"] button[type="submit"]`)
	wantPath(t, p, "/signup/code")
	enterCode(t, p, readCode(t, openInbox(srv, who.Email).next(t, "")))
	wantPath(t, p, "/signup/details")
	p.Fill("#name", who.Name)
	p.Fill("#password", who.Password)
	p.Submit(`form[action="/signup/details"] button[type="submit"]`)
	wantPath(t, p, "/account")
}

// register gives who an account through the JSON API, in lang, for
// journeys that start from an existing account: it is much quicker than
// signUp, and the browser stays signed out.
func register(t *testing.T, srv *server, who person, lang string) {
	t.Helper()
	post := func(path string, in any, out any) {
		t.Helper()
		body, _ := json.Marshal(in)
		req, _ := http.NewRequest("POST", srv.URL+path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept-Language", lang)
		resp, err := apiHTTP(t).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode >= 300 {
			var problem bytes.Buffer
			problem.ReadFrom(resp.Body)
			t.Fatalf("register %s: POST %s = %s: %s", who.Email, path, resp.Status, problem.String())
		}
		if out != nil {
			if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
				t.Fatalf("register %s: POST %s: %v", who.Email, path, err)
			}
		}
	}
	var f web.FlowJSON
	post("/api/v1/signup", map[string]string{"email": who.Email}, &f)
	code := readCode(t, openInbox(srv, who.Email).next(t, ""))
	post("/api/v1/signup/code", map[string]string{"flow_id": f.FlowID, "flow_token": f.FlowToken, "code": code}, nil)
	post("/api/v1/signup/complete", map[string]string{"flow_id": f.FlowID, "flow_token": f.FlowToken, "name": who.Name, "password": who.Password}, nil)
}

// startSignIn is the email step of email-first sign-in; it leaves the
// page on the password step.
func startSignIn(t *testing.T, srv *server, p *browsertest.Page, email string, remember bool) {
	t.Helper()
	p.Open(srv.URL + "/login")
	p.Fill("#email", email)
	if isChecked(t, p, "#remember") != remember {
		p.Click("#remember")
	}
	p.Submit(`form[action="/login"] button[type="submit"]`)
	wantPath(t, p, "/login/password")
}

// enterPassword is the password step of sign-in.
func enterPassword(t *testing.T, p *browsertest.Page, pw string) {
	t.Helper()
	p.Fill("#password", pw)
	p.Submit(`form[action="/login/password"] button[type="submit"]`)
}

// signIn signs in email-first without remembering the address, and
// checks that it worked.
func signIn(t *testing.T, srv *server, p *browsertest.Page, email, pw string) {
	t.Helper()
	startSignIn(t, srv, p, email, false)
	enterPassword(t, p, pw)
	wantPath(t, p, "/account")
}

// signOut presses the sign-out button in the header.
func signOut(t *testing.T, p *browsertest.Page) {
	t.Helper()
	p.Submit(`form[action="/logout"] button[type="submit"]`)
	wantPath(t, p, "/")
}

// startRecovery asks "forgot your password?" for email by method (code,
// link or magic).
func startRecovery(t *testing.T, srv *server, p *browsertest.Page, email, method string) {
	t.Helper()
	p.Open(srv.URL + "/recover")
	p.Fill("#email", email)
	p.Click("#method-" + method)
	p.Submit(`form[action="/recover"] button[type="submit"]`)
}

// emailRow is one address as the account page lists it.
type emailRow struct {
	Address string `json:"address"`
	// Badge is the text next to the main address, "" for the others.
	Badge string `json:"badge"`
}

// accountEmails reads the list of addresses on the account page.
func accountEmails(t *testing.T, p *browsertest.Page) []emailRow {
	t.Helper()
	p.WaitVisible(".emails")
	var rows []emailRow
	p.Eval(`[...document.querySelectorAll(".email-row")].map(r => ({
		address: r.querySelector(".address").innerText.trim(),
		badge: (r.querySelector(".badge") || {innerText: ""}).innerText.trim(),
	}))`, &rows)
	return rows
}

// isChecked reports whether the checkbox or radio button is checked.
func isChecked(t *testing.T, p *browsertest.Page, sel string) bool {
	t.Helper()
	p.WaitVisible(sel)
	var on bool
	p.Eval(`document.querySelector(`+strconv.Quote(sel)+`).checked`, &on)
	return on
}

// fieldErrors returns the messages shown under a field, in order.
func fieldErrors(t *testing.T, p *browsertest.Page, field string) []string {
	t.Helper()
	var out []string
	sel := strconv.Quote(`.field-error[id^="` + field + `-error-"]`)
	p.Eval(`[...document.querySelectorAll(`+sel+`)].map(e => e.innerText.trim())`, &out)
	return out
}

// jsQuote quotes s as a JavaScript string literal.
func jsQuote(s string) string { return strconv.Quote(s) }
