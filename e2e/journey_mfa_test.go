package e2e

import (
	"encoding/base64"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/browsertest"
	"github.com/portvakt/portvakt/internal/config"
	"github.com/portvakt/portvakt/internal/flow"
)

// The second sign-in step, walked in a real browser: an authenticator app
// with its recovery codes (Visma), an emailed link or code in Swedish with
// "don't ask again" (IDEP), and a step-up before a payment. The server's
// clock is injected, so TOTP time steps and remembered browsers are moved
// by the test, never waited for.

// Visma, seed 001: Ola sets up an authenticator app, cannot reuse a code,
// signs in with a fresh one, then with a recovery code, then tells us he
// lost the app and moves it to a new phone, after which only the new
// phone's codes work.
func TestJourney_MFA_TOTP(t *testing.T) {
	t.Parallel()
	srv, clock := startServerWithClock(t)
	const email, pw = "ola.nordmann@visma.example", "fjord-kayak-lighthouse-42"
	mfaAccount(t, srv, flow.NewAccount{Name: "Ola Nordmann", Email: email, Password: pw})
	mail := mfaMail(srv, email)
	p := browsertest.Shared(t).NewPage(t, browsertest.AcceptLanguage("en-GB,en;q=0.9"))

	mfaSignInEmail(t, srv, p, email, pw)
	mfaAt(t, p, "/account")

	// Set up the app, "scanning" by typing the key.
	p.Open(srv.URL + "/account/security")
	if got := p.Text(`form[action="/account/security/totp"] button`); got != "Set up an authenticator app" {
		t.Errorf("security page offers %q, want to set up an authenticator app", got)
	}
	if got := p.Text("#recovery-count"); got != "You have no recovery codes yet." {
		t.Errorf("recovery codes before set-up: %q", got)
	}
	oldSecret, setupCode := mfaSetUpTOTP(t, p, clock)

	// The recovery codes, shown once, with a download of the same codes.
	if got := p.Text("h1"); got != "Recovery codes" {
		t.Fatalf("after the first code the page is %q, want the recovery codes", got)
	}
	codes := mfaTexts(p, "#recovery-codes li code")
	if len(codes) != 10 {
		t.Fatalf("the page shows %d recovery codes, want 10: %q", len(codes), codes)
	}
	codeShape := regexp.MustCompile(`^[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}$`)
	for _, c := range codes {
		if !codeShape.MatchString(c) {
			t.Errorf("recovery code %q is not four groups of four", c)
		}
	}
	if len(slices.Compact(slices.Sorted(slices.Values(codes)))) != 10 {
		t.Errorf("recovery codes repeat: %q", codes)
	}
	if got := p.Text("a[download]"); got != "Download the codes" {
		t.Errorf("download link text = %q", got)
	}
	if name, _ := p.Attr("a[download]", "download"); name != "recovery-codes.txt" {
		t.Errorf("download file name = %q", name)
	}
	href, _ := p.Attr("a[download]", "href")
	b64, ok := strings.CutPrefix(href, "data:text/plain;charset=utf-8;base64,")
	if !ok {
		t.Fatalf("download href = %.60q, want a text data URL", href)
	}
	if raw, err := base64.StdEncoding.DecodeString(b64); err != nil || !slices.Equal(strings.Fields(string(raw)), codes) {
		t.Errorf("the download holds %q (err %v), want the codes on the page", raw, err)
	}
	p.Submit(`main a[href^="/account/security"]`) // "I have saved the codes"
	mfaAt(t, p, "/account/security")
	if got := p.Text("#recovery-count"); got != "10 of 10 codes left." {
		t.Errorf("recovery codes after set-up: %q", got)
	}
	if got := p.Text(`form[action="/account/security/totp"] button`); got != "Move to a new phone" {
		t.Errorf("the set-up button now reads %q, want Move to a new phone", got)
	}
	mail.next(t, "A sign-in method was added")
	mfaSignOut(t, p)

	// The second step asks for the app; the code used at set-up (same
	// time step) is refused as used.
	mfaSignInEmail(t, srv, p, email, pw)
	mfaAt(t, p, "/login/factor")
	if got := p.Text("#factor-title"); got != "Code from your authenticator app" {
		t.Fatalf("the second step asks for %q, want the app's code", got)
	}
	mfaEnterCode(t, p, setupCode)
	mfaAt(t, p, "/login/factor")
	if got, want := mfaCodeError(t, p), "That code has already been used. Wait until the app shows a new one, and type that."; got != want {
		t.Errorf("a replayed code: %q, want %q", got, want)
	}
	if got := p.Focused(); got != "code" {
		t.Errorf("after a refused code the focus is on %q, want the code field", got)
	}
	if p.Exists(`form[action="/logout"]`) {
		t.Fatal("a replayed code signed the browser in")
	}

	// Thirty seconds later the app shows a new code.
	clock.Advance(30 * time.Second)
	mfaEnterCode(t, p, mfaTOTP(t, clock, oldSecret))
	mfaAt(t, p, "/account")
	mfaSignOut(t, p)

	// "Try another way": a recovery code, and a mail saying one was used.
	mfaSignInEmail(t, srv, p, email, pw)
	mfaAt(t, p, "/login/factor")
	if got := p.Text("#others-title"); got != "Try another way" {
		t.Errorf("other ways heading = %q", got)
	}
	p.Submit(`#others-title ~ ul a[href*="method=recovery"]`)
	if got := p.Text("#factor-title"); got != "A recovery code" {
		t.Fatalf("after choosing a recovery code the step asks for %q", got)
	}
	if got := p.Text(`label[for="code"]`); got != "Recovery code" {
		t.Errorf("code label = %q", got)
	}
	mfaEnterCode(t, p, codes[0])
	mfaAt(t, p, "/account")
	used := mail.next(t, "A recovery code was used to sign in to Portvakt")
	if !strings.Contains(used.Text, "That code no longer works.") {
		t.Errorf("recovery-code mail:\n%s", used.Text)
	}
	mfaSignOut(t, p)

	// Lost the phone for good: a recovery code, then the security page
	// asks to set up the app on the new phone.
	mfaSignInEmail(t, srv, p, email, pw)
	mfaAt(t, p, "/login/factor")
	if got := p.Text(`form[action="/login/factor/lost"] button`); got != "I have permanently lost access to my authenticator app" {
		t.Errorf("lost-app button = %q", got)
	}
	p.Submit(`form[action="/login/factor/lost"] button`)
	mfaAt(t, p, "/login/factor")
	if got := p.Text("main > p"); !strings.HasPrefix(got, "No problem: confirm it is you another way.") {
		t.Errorf("lead after losing the app = %q", got)
	}
	if got := p.Text("#factor-title"); got != "A recovery code" {
		t.Fatalf("after losing the app the step asks for %q, want a recovery code", got)
	}
	if strings.Contains(p.HTML(), "authenticator app</a>") || p.Exists(`a[href*="method=totp"]`) {
		t.Error("the lost app is still offered")
	}
	// The mailbox never stands in for the app (it would let whoever reads
	// the mail past it): only the recovery code, and support, remain.
	if got := mfaTexts(p, "#others-title ~ ul a"); slices.ContainsFunc(got, func(s string) bool { return strings.Contains(s, "email") }) {
		t.Errorf("after losing the app the other ways are %q; the email must not be among them", got)
	}
	if got := p.Text("#support-hint"); !strings.Contains(got, "support") {
		t.Errorf("the step does not say how to ask support for a code: %q", got)
	}
	mfaEnterCode(t, p, codes[1])
	mfaAt(t, p, "/account/security")
	// The notice names neither the method used nor a recovery code, and
	// points at the button that moves the app.
	if got := p.Text(".notice"); !strings.Contains(got, "press “Move to a new phone” below") || strings.Contains(got, "recovery code") {
		t.Errorf("security page notice after a lost app = %q", got)
	}
	mail.next(t, "A recovery code was used")
	newSecret, _ := mfaSetUpTOTP(t, p, clock)
	if newSecret == oldSecret {
		t.Fatal("the new phone got the old secret")
	}
	// Eight codes are left, so none are shown; the page says it worked.
	mfaAt(t, p, "/account/security")
	if got := p.Text(".notice"); got != "The sign-in method is added. We have emailed you a confirmation." {
		t.Errorf("notice after moving the app = %q", got)
	}
	if got := p.Text("#recovery-count"); got != "8 of 10 codes left." {
		t.Errorf("recovery codes after two were used: %q", got)
	}
	if n := len(mfaTexts(p, "#totp > p")); n != 1 {
		t.Errorf("the security page lists %d authenticators, want 1", n)
	}
	mfaSignOut(t, p)

	// Only the new phone's codes work now.
	clock.Advance(30 * time.Second)
	mfaSignInEmail(t, srv, p, email, pw)
	mfaAt(t, p, "/login/factor")
	oldCode, newCode := mfaTOTP(t, clock, oldSecret), mfaTOTP(t, clock, newSecret)
	if oldCode == newCode {
		t.Skip("the two secrets show the same code this time step (one in a million)")
	}
	mfaEnterCode(t, p, oldCode)
	mfaAt(t, p, "/login/factor")
	if got := mfaCodeError(t, p); !strings.HasPrefix(got, "That code is not right.") {
		t.Errorf("the old phone's code: %q, want it refused as wrong", got)
	}
	mfaEnterCode(t, p, newCode)
	mfaAt(t, p, "/account")
}

// IDEP, seed 004, in Swedish: a required emailed second step for a
// numeric username. The link works in the browser that signed in, and only
// there; the code works too; "don't ask again" holds for 20 days.
func TestJourney_MFA_IDEPEmail(t *testing.T) {
	t.Parallel()
	srv, clock := startServerWithClock(t, func(c *config.Config) {
		c.MFA.Mode = "required"
		c.MFA.Methods = []string{"email"}
		c.MFA.RememberDays = 20
		c.Login.Methods = []string{"username"}
	})
	const user, email, pw = "10042", "mariage@scb.se", "statistik-arsbok-1958"
	mfaAccount(t, srv, flow.NewAccount{Username: user, Name: "Marie Åström", Email: email, Password: pw})
	mail := mfaMail(srv, email)
	b := browsertest.Shared(t)
	sv := browsertest.AcceptLanguage("sv-SE,sv;q=0.9")
	p := b.NewPage(t, sv)

	// signIn signs in with username and password and asks for the email.
	signIn := func() (link, code string) {
		t.Helper()
		mfaSignInUsername(t, srv, p, user, pw)
		mfaAt(t, p, "/login/factor")
		if got := p.Text("h1"); got != "Ett steg till" {
			t.Errorf("second step heading = %q", got)
		}
		if lang, _ := p.Attr("html", "lang"); lang != "sv" {
			t.Errorf("second step <html lang> = %q, want sv", lang)
		}
		if got := p.Text("#factor-title"); got != "Länk eller kod via e-post till ma…ge@sc…se" {
			t.Errorf("second step option = %q, want the masked address", got)
		}
		if got := p.Text(`form[action="/login/factor/send"] button`); got != "Skicka länk och kod" {
			t.Errorf("send button = %q", got)
		}
		// Someone who only knows the username and the password learns no
		// more of the address than the mask: not from the page's source,
		// nor from its address bar.
		if strings.Contains(strings.ToLower(p.HTML()), email) {
			t.Errorf("the second step's HTML holds the full address %s", email)
		}
		p.Submit(`form[action="/login/factor/send"] button`)
		mfaAt(t, p, "/login/factor")
		if u, _ := url.QueryUnescape(p.URL()); strings.Contains(strings.ToLower(u+p.HTML()), email) {
			t.Errorf("after sending, the page or its URL (%s) holds the full address %s", p.URL(), email)
		}
		if got := p.Text(".factor .notice"); got != "Ett mejl med en engångslänk för inloggning och en kod är på väg till ma…ge@sc…se. Har det inte kommit inom en minut, titta även i skräppostmappen. Öppna länken i den här webbläsaren inom 30 minuter, eller skriv koden nedan." {
			t.Errorf("after sending: %q", got)
		}
		m := mail.next(t, "Inloggningskod till Portvakt")
		if m.Locale != "sv" || !strings.Contains(m.Text, "Länken fungerar bara i den webbläsare där du började logga in.") {
			t.Errorf("the mail is in %q, want Swedish:\n%s", m.Locale, m.Text)
		}
		return mfaLinkIn(t, m, "/login/factor/link/"), mfaCodeIn(t, m)
	}

	// 1. The link, opened in the same browser, shows a button; pressing it
	// signs in.
	link, _ := signIn()
	p.Open(link)
	if got := p.Text("h1"); got != "Slutför inloggningen" {
		t.Errorf("link page heading = %q", got)
	}
	if p.Exists(`form[action="/logout"]`) {
		t.Error("opening the link signed in without pressing the button")
	}
	if got := p.Text(`form[action="/login/factor/link"] button`); got != "Logga in" {
		t.Errorf("link page button = %q", got)
	}
	p.Submit(`form[action="/login/factor/link"] button`)
	mfaAt(t, p, "/account")
	mfaSignOut(t, p)

	// 2. The link opened in another browser explains where it works and
	// signs nobody in there; the first browser types the code instead.
	link, code := signIn()
	other := b.NewPage(t, sv)
	other.Open(link)
	if lang, _ := other.Attr("html", "lang"); lang != "sv" {
		t.Errorf("link in another browser: <html lang> = %q, want sv", lang)
	}
	if got := other.Text("h1"); got != "Öppna länken i webbläsaren där du började" {
		t.Errorf("link in another browser: heading %q", got)
	}
	if got := other.Text("main"); !strings.Contains(got, "Av säkerhetsskäl fungerar den bara där, och inget har hänt här.") {
		t.Errorf("link in another browser says:\n%s", got)
	}
	if s := mfaStatus(other); s != 403 {
		t.Errorf("link in another browser: HTTP %d, want 403", s)
	}
	if other.Exists(`form[action="/login/factor/link"]`) || other.Exists(`form[action="/logout"]`) {
		t.Error("the other browser was offered to finish, or was signed in")
	}
	other.Open(srv.URL + "/account")
	if mfaPath(t, other) == "/account" {
		t.Error("the other browser reached the account after opening the link")
	}
	p.Fill("#code", code)
	p.Submit(`form[action="/login/factor"] button[type="submit"]`)
	mfaAt(t, p, "/account")
	mfaSignOut(t, p)

	// 3. "Don't ask again in this browser for 20 days".
	_, code = signIn()
	if got := p.Text(`label[for="remember"]`); got != "Fråga inte igen i den här webbläsaren på 20 dagar" {
		t.Errorf("remember box label = %q", got)
	}
	p.Click("#remember")
	p.Fill("#code", code)
	p.Submit(`form[action="/login/factor"] button[type="submit"]`)
	mfaAt(t, p, "/account")
	mfaSignOut(t, p)

	mfaSignInUsername(t, srv, p, user, pw)
	mfaAt(t, p, "/account")
	if unread := mail.unread(t); len(unread) > 0 {
		t.Errorf("a remembered browser was mailed %q", unread)
	}
	mfaSignOut(t, p)

	// Twenty-one days later the browser is no longer remembered.
	clock.Advance(21 * 24 * time.Hour)
	mfaSignInUsername(t, srv, p, user, pw)
	mfaAt(t, p, "/login/factor")
	if got := p.Text("#factor-title"); got != "Länk eller kod via e-post till ma…ge@sc…se" {
		t.Errorf("after 21 days the second step offers %q", got)
	}
}

// Visma's payment rule: a payment needs strength 3. Kari signed in with a
// password and an SMS code (strength 2) is asked for her authenticator app
// (SMS is not strong enough, so not offered) and comes back stronger.
func TestJourney_MFA_StepUp(t *testing.T) {
	t.Parallel()
	srv, clock := startServerWithClock(t, func(c *config.Config) {
		c.MFA.Actions = map[string]config.Action{"payment": {MinLevel: 3}}
		c.SMS.Sender = "dev"
	})
	const email, pw = "kari.nordmann@visma.example", "lofoten-ferry-timetable"
	const phone, masked = "+4791234567", "+47 ••• •• 567"
	mfaAccount(t, srv, flow.NewAccount{Name: "Kari Nordmann", Email: email, Password: pw})
	texts := mfaSMS(srv, phone)
	p := browsertest.Shared(t).NewPage(t, browsertest.AcceptLanguage("en"))

	mfaSignInEmail(t, srv, p, email, pw)
	mfaAt(t, p, "/account")

	// Add a phone: the number, then the code texted to it.
	p.Open(srv.URL + "/account/security")
	p.Submit(`a[href="/account/security/phones"]`)
	if got := p.Text("h1"); got != "Add a phone for SMS codes" {
		t.Errorf("phone page heading = %q", got)
	}
	p.Fill("#phone", "+47 912 34 567")
	p.Submit(`form[action="/account/security/phones"] button[type="submit"]`)
	mfaAt(t, p, "/account/security/phones/verify")
	if got := p.Text("#code-sent"); !strings.Contains(got, masked) {
		t.Errorf("verify page says %q, want the masked number", got)
	}
	sms := texts.next(t, "")
	if !strings.Contains(sms.Text, "is your Portvakt code") {
		t.Errorf("SMS text = %q", sms.Text)
	}
	p.Fill("#code", mfaCodeIn(t, sms))
	p.Submit(`form[action="/account/security/phones/verify"] button[type="submit"]`)
	mfaAt(t, p, "/account/security")
	if got := mfaTexts(p, "#sms li"); len(got) != 1 || !strings.HasPrefix(got[0], masked) {
		t.Errorf("phones on the security page: %q", got)
	}

	// And an authenticator app. The phone is a strong factor now and this
	// session was opened with the password alone, so the change first asks
	// for a sign-in at the account's full level: password and SMS.
	p.Submit(`form[action="/account/security/totp"] button`)
	mfaAt(t, p, "/account/reauth")
	p.Fill("#current_password", pw)
	p.Submit(`form[action="/account/reauth"] button[type="submit"]`)
	mfaAt(t, p, "/login/factor")
	p.Submit(`form[action="/login/factor/send"] button`)
	mfaEnterCode(t, p, mfaCodeIn(t, texts.next(t, "")))
	mfaAt(t, p, "/account/security")
	secret, _ := mfaSetUpTOTP(t, p, clock)
	if got := p.Text("h1"); got != "Recovery codes" {
		t.Fatalf("after setting up the app: %q", got)
	}
	p.Submit(`main a[href^="/account/security"]`)
	mfaSignOut(t, p)

	// Sign in with the password and an SMS code: strength 2.
	mfaSignInEmail(t, srv, p, email, pw)
	mfaAt(t, p, "/login/factor")
	p.Submit(`#others-title ~ ul a[href*="method=sms"]`)
	if got := p.Text("#factor-title"); got != "Code by SMS to "+masked {
		t.Fatalf("after choosing SMS the step is %q", got)
	}
	p.Submit(`form[action="/login/factor/send"] button`)
	mfaEnterCode(t, p, mfaCodeIn(t, texts.next(t, "")))
	mfaAt(t, p, "/account")
	p.Open(srv.URL + "/account/security")
	if got := sessionLevel(t, p); got != "Strength 2, methods: pwd sms mfa." {
		t.Errorf("after password and SMS: %q", got)
	}
	// The person reads it in words.
	if got := p.Text("#session-level"); got != "Signed in with password and SMS code. That is two-step sign-in." {
		t.Errorf("the security page says %q, want the sign-in in words", got)
	}

	// The payment asks for something stronger: the app, not SMS.
	p.Open(srv.URL + "/stepup?action=payment&return_to=/account/security")
	mfaAt(t, p, "/login/factor")
	if got := p.Text("h1"); got != "Confirm with a stronger method" {
		t.Errorf("step-up heading = %q", got)
	}
	if got := p.Text("#factor-title"); got != "Code from your authenticator app" {
		t.Errorf("step-up asks for %q, want the app", got)
	}
	if p.Exists(`a[href*="method=sms"]`) || strings.Contains(p.Text("main"), "SMS") {
		t.Error("the step-up offers SMS, which is not strong enough")
	}
	if p.Exists(`input[name="remember"]`) {
		t.Error("a step-up offers to remember the browser")
	}
	clock.Advance(30 * time.Second)
	mfaEnterCode(t, p, mfaTOTP(t, clock, secret))
	mfaAt(t, p, "/account/security")
	level := sessionLevel(t, p)
	if !strings.HasPrefix(level, "Strength 3, methods: ") {
		t.Errorf("after the step-up: %q, want strength 3", level)
	}
	methods := strings.Fields(strings.TrimSuffix(strings.TrimPrefix(level, "Strength 3, methods: "), "."))
	for _, m := range []string{"pwd", "otp", "sms", "mfa"} {
		if !slices.Contains(methods, m) {
			t.Errorf("after the step-up the methods are %q, want %s among them", methods, m)
		}
	}
	// Strong enough now: the same step-up goes straight back.
	p.Open(srv.URL + "/stepup?action=payment&return_to=/account/security")
	mfaAt(t, p, "/account/security")
}
