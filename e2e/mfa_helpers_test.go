package e2e

import (
	"encoding/json"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/app"
	"github.com/portvakt/portvakt/internal/authn/totp"
	"github.com/portvakt/portvakt/internal/browsertest"
	"github.com/portvakt/portvakt/internal/config"
	"github.com/portvakt/portvakt/internal/flow"
	"github.com/portvakt/portvakt/internal/testwait"
	"github.com/portvakt/portvakt/internal/web"
)

// Steps of the second-factor journeys. Every name here starts with mfa (or
// is the injected clock), so the journeys do not collide with the helpers
// of the account journeys in the same package.

// testClock is the server's clock in a journey: it stands still except
// that every reading steps it a millisecond forward (so records keep their
// order), and the test moves it with Advance. Time-dependent steps (TOTP
// time steps, remembered browsers) use it instead of sleeping.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

// mfaEpoch is where journeys start: the first second of a TOTP time step,
// so the milliseconds the clock creeps during a journey never carry it
// into the next step.
var mfaEpoch = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

// Now is the server's reading: it steps the clock a millisecond.
func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Millisecond)
	return c.t
}

// Peek is the test's reading (what the user's phone shows): it does not
// move the clock.
func (c *testClock) Peek() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// startServerWithClock is startServer with the clock injected: the
// application on a free loopback port with a fresh SQLite database, whose
// time the test controls.
func startServerWithClock(t *testing.T, mod ...func(*config.Config)) (*server, *testClock) {
	t.Helper()
	clock := &testClock{t: mfaEpoch}
	return runServer(t, app.Options{Now: clock.Now}, mod...), clock
}

// mfaAccount creates an account directly, as an operator would, to keep
// the journeys short.
func mfaAccount(t *testing.T, srv *server, in flow.NewAccount) {
	t.Helper()
	if _, err := srv.App.Flows.CreateAccount(t.Context(), in); err != nil {
		t.Fatalf("CreateAccount(%q): %v", in.Email, err)
	}
}

// mfaMailbox is one address's (or phone number's) messages as its owner
// reads them: each once, oldest first.
type mfaMailbox struct {
	srv     *server
	to      string
	channel string // "email" or "sms"; "" for any
	seen    map[string]bool
}

func mfaMail(srv *server, to string) *mfaMailbox {
	return &mfaMailbox{srv: srv, to: to, channel: "email", seen: map[string]bool{}}
}

func mfaSMS(srv *server, phone string) *mfaMailbox {
	return &mfaMailbox{srv: srv, to: phone, channel: "sms", seen: map[string]bool{}}
}

// next waits (bounded) for the oldest unread message whose subject holds
// subject ("" for any) and marks it read.
func (b *mfaMailbox) next(t *testing.T, subject string) web.DevMailJSON {
	t.Helper()
	deadline := time.Now().Add(testwait.D(10 * time.Second))
	for {
		msgs := b.srv.mails(t, b.to)
		for _, m := range slices.Backward(msgs) { // newest first
			if b.seen[m.ID] || (b.channel != "" && m.Channel != b.channel) || !strings.Contains(m.Subject, subject) {
				continue
			}
			b.seen[m.ID] = true
			return m
		}
		if time.Now().After(deadline) {
			var got []string
			for _, m := range msgs {
				got = append(got, m.Channel+": "+m.Subject)
			}
			t.Fatalf("no new %s message to %s about %q within %v; there are %q", b.channel, b.to, subject, testwait.D(10*time.Second), got)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// unread lists the subjects of messages not read yet.
func (b *mfaMailbox) unread(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, m := range b.srv.mails(t, b.to) {
		if !b.seen[m.ID] && (b.channel == "" || m.Channel == b.channel) {
			out = append(out, m.Subject)
		}
	}
	return out
}

var mfaSixDigits = regexp.MustCompile(`\b(\d{6})\b`)

// mfaCodeIn returns the first six-digit code of a message.
func mfaCodeIn(t *testing.T, m web.DevMailJSON) string {
	t.Helper()
	match := mfaSixDigits.FindStringSubmatch(m.Text)
	if match == nil {
		t.Fatalf("message %q has no six-digit code:\n%s", m.Subject, m.Text)
	}
	return match[1]
}

var mfaURL = regexp.MustCompile(`https?://\S+`)

// mfaLinkIn returns the first link of a message whose path starts with
// prefix.
func mfaLinkIn(t *testing.T, m web.DevMailJSON, prefix string) string {
	t.Helper()
	for _, s := range mfaURL.FindAllString(m.Text, -1) {
		if u, err := url.Parse(s); err == nil && strings.HasPrefix(u.Path, prefix) {
			return s
		}
	}
	t.Fatalf("message %q has no link to %s:\n%s", m.Subject, prefix, m.Text)
	return ""
}

// mfaPath is the path of the page's URL.
func mfaPath(t *testing.T, p *browsertest.Page) string {
	t.Helper()
	u, err := url.Parse(p.URL())
	if err != nil {
		t.Fatalf("page URL %q: %v", p.URL(), err)
	}
	return u.Path
}

// mfaAt fails the test unless the page is at path, naming where it is.
// With MFA_DUMP set in the environment it logs the text of every page it
// checks, to read a journey as the user saw it.
func mfaAt(t *testing.T, p *browsertest.Page, want string) {
	t.Helper()
	if os.Getenv("MFA_DUMP") != "" {
		t.Logf("==== %s [%d]\n%s", p.URL(), mfaStatus(p), p.Text("body"))
	}
	if got := mfaPath(t, p); got != want {
		heading := "no heading"
		if p.Exists("h1") {
			heading = p.Text("h1")
		}
		if p.Exists(".error-summary") {
			heading += "; errors: " + p.Text(".error-summary")
		}
		t.Fatalf("the browser is at %s (%q), want %s", got, heading, want)
	}
}

// mfaStatus is the HTTP status of the page's document.
func mfaStatus(p *browsertest.Page) int {
	var code int
	p.Eval(`performance.getEntriesByType("navigation")[0].responseStatus`, &code)
	return code
}

// mfaTexts returns the rendered text of every element matching sel.
func mfaTexts(p *browsertest.Page, sel string) []string {
	var out []string
	p.Eval(`[...document.querySelectorAll(`+jsonString(sel)+`)].map(e => e.innerText.trim())`, &out)
	return out
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// mfaSignInEmail walks the email-first sign-in up to the password: the
// page ends at the account or at the second step.
func mfaSignInEmail(t *testing.T, srv *server, p *browsertest.Page, email, password string) {
	t.Helper()
	p.Open(srv.URL + "/login")
	p.Fill("#email", email)
	p.Submit(`form[action="/login"] button[type="submit"]`)
	mfaAt(t, p, "/login/password")
	p.Fill("#password", password)
	p.Submit(`form[action="/login/password"] button[type="submit"]`)
}

// mfaSignInUsername signs in with username and password on one page.
func mfaSignInUsername(t *testing.T, srv *server, p *browsertest.Page, username, password string) {
	t.Helper()
	p.Open(srv.URL + "/login")
	mfaAt(t, p, "/login/username")
	p.Fill("#username", username)
	p.Fill("#password", password)
	p.Submit(`form[action="/login/username"] button[type="submit"]`)
}

// mfaSignOut presses "Sign out" in the header.
func mfaSignOut(t *testing.T, p *browsertest.Page) {
	t.Helper()
	p.Submit(`form[action="/logout"] button`)
	if p.Exists(`form[action="/logout"]`) {
		t.Fatalf("still signed in after signing out, at %s", p.URL())
	}
}

// mfaTOTP is the code an authenticator app with secret shows now.
func mfaTOTP(t *testing.T, clock *testClock, secret string) string {
	t.Helper()
	code, err := totp.Code(secret, clock.Peek())
	if err != nil {
		t.Fatalf("totp.Code: %v", err)
	}
	return code
}

// mfaSetUpTOTP presses the set-up button of the security page, types the
// key into the "app" (reads it from the page) and the app's code into the
// page. It returns the secret and the code used.
func mfaSetUpTOTP(t *testing.T, p *browsertest.Page, clock *testClock) (secret, code string) {
	t.Helper()
	mfaAt(t, p, "/account/security")
	p.Submit(`form[action="/account/security/totp"] button`)
	if got := p.Text("h1"); got != "Set up an authenticator app" {
		t.Errorf("set-up page heading = %q", got)
	}
	if src, _ := p.Attr(`ol.steps img`, "src"); !strings.HasPrefix(src, "data:image/png;base64,") {
		t.Errorf("no QR code on the set-up page (img src %.40q)", src)
	}
	shown := p.Text("#totp-secret")
	if !regexp.MustCompile(`^[A-Z2-7]{4}( [A-Z2-7]{1,4})+$`).MatchString(shown) {
		t.Errorf("the key is shown as %q, want groups of four base32 characters", shown)
	}
	secret = strings.ReplaceAll(shown, " ", "")
	code = mfaTOTP(t, clock, secret)
	p.Fill("#code", code)
	p.Submit(`form[action="/account/security/totp/confirm"] button[type="submit"]`)
	return secret, code
}

// mfaEnterCode types a code into the second step and continues.
func mfaEnterCode(t *testing.T, p *browsertest.Page, code string) {
	t.Helper()
	p.Fill("#code", code)
	p.Submit(`form[action="/login/factor"] button[type="submit"]`)
}

// mfaCodeError is the error shown on the code field, checking it is tied
// to the field for assistive technology.
func mfaCodeError(t *testing.T, p *browsertest.Page) string {
	t.Helper()
	if !p.Exists("#code-error-0") {
		t.Fatalf("no error on the code field at %s", p.URL())
	}
	if v, _ := p.Attr("#code", "aria-invalid"); v != "true" {
		t.Errorf("code field aria-invalid = %q", v)
	}
	if v, _ := p.Attr("#code", "aria-describedby"); !strings.Contains(v, "code-error-0") {
		t.Errorf("code field aria-describedby = %q, want the error", v)
	}
	return p.Text("#code-error-0")
}
