package e2e

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/portvakt/portvakt/internal/browsertest"
)

// The account journeys: sign-up, sign-in and sign-out, the three ways back
// in after a forgotten password, and the settings that change a password
// or the main address. Each runs its own server and walks the pages as a
// user does, reading codes and links from the development mailbox.

// A new user signs up with a code from the mail, first picks a password
// that is too short and too common (and is told so next to the field,
// with their name kept), then a good one, and lands on their account.
// After signing out, they sign in email-first and ask the browser to
// remember the address; a wrong password gets the one generic message, the
// same as for an address that has no account.
func TestJourney_SignUpAndSignIn(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	p := browsertest.Shared(t).NewPage(t, browsertest.AcceptLanguage("en"))
	ada := person{Email: "ada.lovelace@example.org", Name: "Ada Lovelace", Password: "correct horse battery staple 42"}
	mail := openInbox(srv, ada.Email)

	p.Open(srv.URL + "/signup")
	if got := p.Text("h1"); got != "Create an account" {
		t.Errorf("sign-up heading = %q", got)
	}
	p.Fill("#email", ada.Email)
	p.Submit(`form[action="/signup"] button[type="submit"]`)
	wantPath(t, p, "/signup/code")
	if got := p.Text("h1"); got != "Confirm your email address" {
		t.Errorf("code page heading = %q", got)
	}
	if got := p.Text("#code-sent"); !strings.Contains(got, ada.Email) {
		t.Errorf("the code page says %q, want it to name %s", got, ada.Email)
	}
	m := mail.next(t, "Your confirmation code for Portvakt")
	if m.Locale != "en" {
		t.Errorf("code mail locale = %q, want en", m.Locale)
	}
	enterCode(t, p, readCode(t, m))

	wantPath(t, p, "/signup/details")
	if got := p.Text("h1"); got != "Your name and password" {
		t.Errorf("details heading = %q", got)
	}
	rules := p.Text("#password-rules")
	for _, want := range []string{"At least 15 characters", "Not a common password"} {
		if !strings.Contains(rules, want) {
			t.Errorf("the rules before typing are %q, want them to include %q", rules, want)
		}
	}

	// A weak password: both broken rules are shown on the password field,
	// and the name is still there.
	p.Fill("#name", ada.Name)
	p.Fill("#password", "password")
	p.Submit(`form[action="/signup/details"] button[type="submit"]`)
	wantPath(t, p, "/signup/details")
	errs := fieldErrors(t, p, "password")
	if len(errs) != 2 || !strings.Contains(errs[0]+errs[1], "at least 15 characters long, and this one has 8") || !strings.Contains(errs[0]+errs[1], "too common") {
		t.Errorf("errors on the password field = %q, want the length and the blocklist", errs)
	}
	if got := fieldErrors(t, p, "name"); len(got) != 0 {
		t.Errorf("errors on the name field = %q, want none", got)
	}
	if got := p.Value("#name"); got != ada.Name {
		t.Errorf("the name field holds %q after the error, want %q", got, ada.Name)
	}
	if got, _ := p.Attr("#password", "aria-invalid"); got != "true" {
		t.Errorf("password aria-invalid = %q, want true", got)
	}
	if got := p.Text(".error-summary h2"); got != "There is a problem" {
		t.Errorf("error summary heading = %q", got)
	}
	if !strings.HasPrefix(p.Title(), "Error:") {
		t.Errorf("title = %q, want it to start with Error:", p.Title())
	}
	if got := p.Focused(); got != "password" {
		t.Errorf("focus after the error is on %q, want the password field", got)
	}

	p.Fill("#password", ada.Password)
	p.Submit(`form[action="/signup/details"] button[type="submit"]`)
	wantPath(t, p, "/account")
	if got := p.Text(".notice"); got != "Welcome! Your account is ready, and you are signed in." {
		t.Errorf("notice after sign-up = %q", got)
	}
	if got, want := accountEmails(t, p), []emailRow{{ada.Email, "Main address"}}; !slices.Equal(got, want) {
		t.Errorf("addresses on the account page = %v, want %v", got, want)
	}
	mail.next(t, "Your account at Portvakt is ready")

	signOut(t, p)
	if got := p.Text(".notice"); got != "You have been signed out." {
		t.Errorf("notice after signing out = %q", got)
	}
	p.Open(srv.URL + "/account")
	wantPath(t, p, "/login")

	// Email-first sign-in, remembering the address on this device.
	startSignIn(t, srv, p, ada.Email, true)
	if got := p.Text("h1"); got != "Enter your password" {
		t.Errorf("password step heading = %q", got)
	}
	if got := p.Text("main p"); !strings.Contains(got, ada.Email) {
		t.Errorf("the password step says %q, want it to name %s", got, ada.Email)
	}
	enterPassword(t, p, "correct horse battery staple 43")
	wantPath(t, p, "/login/password")
	wrong := fieldErrors(t, p, "password")
	// The email-first page names only what it asked for: the address.
	if want := "The email address or password is wrong."; len(wrong) != 1 || !strings.HasPrefix(wrong[0], want) {
		t.Errorf("errors on the password field after a wrong password = %q, want %q…", wrong, want)
	}
	if got, _ := p.Attr("#password", "aria-invalid"); got != "true" {
		t.Errorf("password aria-invalid = %q, want true", got)
	}
	if got, _ := p.Attr(".error-summary a", "href"); got != "#password" {
		t.Errorf("the error summary links to %q, want #password", got)
	}
	if got := p.Focused(); got != "password" {
		t.Errorf("focus after a wrong password is on %q, want the password field", got)
	}
	wrongStatus, wrongHeading := status(t, p), p.Text("h1")
	if wrongStatus != http.StatusUnauthorized {
		t.Errorf("status after a wrong password = %d, want %d", wrongStatus, http.StatusUnauthorized)
	}
	enterPassword(t, p, ada.Password)
	wantPath(t, p, "/account")

	signOut(t, p)
	p.Open(srv.URL + "/login")
	if got := p.Value("#email"); got != ada.Email {
		t.Errorf("the remembered address is %q, want %q", got, ada.Email)
	}
	if !isChecked(t, p, "#remember") {
		t.Error("the remember box is not ticked when the address is remembered")
	}

	// An address without an account gets the same page, message and status.
	startSignIn(t, srv, p, "nobody@example.org", false)
	enterPassword(t, p, ada.Password)
	wantPath(t, p, "/login/password")
	if got := fieldErrors(t, p, "password"); !slices.Equal(got, wrong) {
		t.Errorf("errors for an unknown address = %q, want the same as for a wrong password %q", got, wrong)
	}
	if got := status(t, p); got != wrongStatus {
		t.Errorf("status for an unknown address = %d, want %d as for a wrong password", got, wrongStatus)
	}
	if got := p.Text("h1"); got != wrongHeading {
		t.Errorf("heading for an unknown address = %q, want %q", got, wrongHeading)
	}
	if unread := mail.unread(t); len(unread) != 0 {
		t.Errorf("unexpected mail to %s: %q", ada.Email, unread)
	}
}

// A Norwegian user who forgot their password gets a code by mail, chooses
// a new password and is signed in; the old password stops working, and a
// confirmation arrives in Norwegian.
func TestJourney_ResetByCode(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	p := browsertest.Shared(t).NewPage(t, browsertest.AcceptLanguage("nb-NO,nb;q=0.9,en;q=0.5"))
	kari := person{Email: "kari.nordmann@example.no", Name: "Kari Nordmann", Password: "korrekt hest batteri stift 42"}
	const newPassword = "blå hest på grønn eng i juni"
	mail := openInbox(srv, kari.Email)
	register(t, srv, kari, "nb")

	p.Open(srv.URL + "/login")
	p.Submit(`a[href="/recover"]`)
	if got := p.Text("h1"); got != "Glemt passordet?" {
		t.Errorf("recovery heading = %q", got)
	}
	if !isChecked(t, p, "#method-code") {
		t.Error("a code is not the preselected way back in")
	}
	startRecovery(t, srv, p, kari.Email, "code")
	wantPath(t, p, "/recover/code")
	if got := p.Text("h1"); got != "Skriv inn koden fra e-posten" {
		t.Errorf("code page heading = %q", got)
	}
	m := mail.next(t, "Kode for nytt passord hos Portvakt")
	if m.Locale != "nb" {
		t.Errorf("code mail locale = %q, want nb", m.Locale)
	}
	enterCode(t, p, readCode(t, m))

	wantPath(t, p, "/recover/password")
	if got := p.Text("h1"); got != "Velg et nytt passord" {
		t.Errorf("new-password heading = %q", got)
	}
	p.Fill("#password", newPassword)
	p.Submit(`form[action="/recover/password"] button[type="submit"]`)
	wantPath(t, p, "/account")
	if got := p.Text(".notice"); !strings.HasPrefix(got, "Passordet ditt er endret.") {
		t.Errorf("notice after the reset = %q", got)
	}

	changed := mail.next(t, "Passordet ditt hos Portvakt er endret")
	if changed.Locale != "nb" || !strings.Contains(changed.Text, "Passordet for kontoen din hos Portvakt er endret.") {
		t.Errorf("password-changed mail in %q:\n%s\nwant it in Norwegian", changed.Locale, changed.Text)
	}

	signOut(t, p)
	startSignIn(t, srv, p, kari.Email, false)
	enterPassword(t, p, kari.Password)
	wantPath(t, p, "/login/password")
	if got := fieldErrors(t, p, "password"); len(got) != 1 || !strings.HasPrefix(got[0], "E-postadressen eller passordet er feil.") {
		t.Errorf("the old password gives %q, want the Norwegian wrong-password message", got)
	}
	enterPassword(t, p, newPassword)
	wantPath(t, p, "/account")
}

// A reset link shows a button and is used only when the button is
// pressed, so opening it (or a mail scanner fetching it) changes nothing.
// It works once, only in the browser that asked for it; on another device
// it shows a code to type there instead.
func TestJourney_ResetByLink(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	b := browsertest.Shared(t)
	laptop := b.NewPage(t, browsertest.AcceptLanguage("en"))
	phone := b.NewPage(t, browsertest.AcceptLanguage("en"))
	ola := person{Email: "ola@example.org", Name: "Ola Nordmann", Password: "correct horse battery staple 42"}
	const newPassword = "purple elephants dance at noon"
	mail := openInbox(srv, ola.Email)
	register(t, srv, ola, "en")

	// The first link is opened twice, then used, in the browser that asked.
	startRecovery(t, srv, laptop, ola.Email, "link")
	if got := laptop.Text("h1"); got != "Check your email" {
		t.Errorf("after asking for a link the heading is %q", got)
	}
	link := readLink(t, mail.next(t, "Choose a new password for Portvakt"), "/recover/link/")
	for i := range 2 {
		laptop.Open(link)
		if got := laptop.Text("h1"); got != "Choose a new password" {
			t.Fatalf("opening the link (time %d) shows %q", i+1, got)
		}
		if got := laptop.Text(`form[action="/recover/link"] button`); got != "Continue" {
			t.Errorf("the link page's button says %q", got)
		}
		if got := laptop.Text("main p"); !strings.Contains(got, ola.Email) {
			t.Errorf("the link page says %q, want it to name %s", got, ola.Email)
		}
	}
	laptop.Submit(`form[action="/recover/link"] button`)
	wantPath(t, laptop, "/recover/password")
	if got := laptop.Text("h1"); got != "Choose a new password" {
		t.Errorf("new-password heading = %q", got)
	}
	laptop.Open(link)
	if got := laptop.Text("main"); !strings.Contains(got, "This link has already been used") {
		t.Errorf("a used link shows %q", got)
	}
	if laptop.Exists(`form[action="/recover/link"]`) {
		t.Error("a used link still offers the button")
	}

	// The second link is asked for on the laptop and read on the phone: it
	// signs nothing in there, and shows a code to type on the laptop.
	startRecovery(t, srv, laptop, ola.Email, "link")
	link = readLink(t, mail.next(t, "Choose a new password for Portvakt"), "/recover/link/")
	phone.Open(link)
	if got := phone.Text("h1"); got != "Finish in the browser where you asked" {
		t.Errorf("the link on another device shows %q", got)
	}
	if phone.Exists(`form[action="/recover/link"]`) {
		t.Error("the link on another device offers to continue there")
	}
	phone.Submit(`form[action="/recover/link/elsewhere"] button`)
	code := phone.Text(".code-display strong")
	if len(code) != 6 {
		t.Fatalf("the phone shows the code %q", code)
	}
	laptop.Fill("#code", code)
	laptop.Submit(`form[action="/recover/link-code"] button[type="submit"]`)
	wantPath(t, laptop, "/recover/password")
	laptop.Fill("#password", newPassword)
	laptop.Submit(`form[action="/recover/password"] button[type="submit"]`)
	wantPath(t, laptop, "/account")
	if got := accountEmails(t, laptop); len(got) != 1 || got[0].Address != ola.Email {
		t.Errorf("the laptop is signed in with addresses %v, want %s", got, ola.Email)
	}
	phone.Open(srv.URL + "/account")
	wantPath(t, phone, "/login")
	mail.next(t, "Your password at Portvakt was changed")

	// Once the password is set, the link still says it was used.
	laptop.Open(link)
	if got := laptop.Text("main"); !strings.Contains(got, "This link has already been used") {
		t.Errorf("a link whose reset is finished shows %q", got)
	}
	signIn(t, srv, laptop, ola.Email, newPassword)
}

// A user who chooses a one-time sign-in link opens it, presses the button
// and is signed in, with their password unchanged; the link works once.
func TestJourney_MagicLink(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	p := browsertest.Shared(t).NewPage(t, browsertest.AcceptLanguage("en"))
	eva := person{Email: "eva@example.org", Name: "Eva Olsen", Password: "correct horse battery staple 42"}
	mail := openInbox(srv, eva.Email)
	register(t, srv, eva, "en")

	startRecovery(t, srv, p, eva.Email, "magic")
	if got := p.Text("h1"); got != "Check your email" {
		t.Errorf("after asking for a sign-in link the heading is %q", got)
	}
	link := readLink(t, mail.next(t, "Your sign-in link for Portvakt"), "/recover/link/")
	p.Open(link)
	if got := p.Text("h1"); got != "Sign in" {
		t.Errorf("the sign-in link page's heading is %q", got)
	}
	if got := p.Text("main p"); !strings.Contains(got, eva.Email) {
		t.Errorf("the sign-in link page says %q, want it to name %s", got, eva.Email)
	}
	if p.Exists(`form[action="/logout"]`) {
		t.Fatal("opening the link signed the browser in before the button was pressed")
	}
	p.Submit(`form[action="/recover/link"] button`)
	wantPath(t, p, "/account")
	if got := accountEmails(t, p); len(got) != 1 || got[0].Address != eva.Email {
		t.Errorf("signed in with addresses %v, want %s", got, eva.Email)
	}

	p.Open(link)
	if got := p.Text("main"); !strings.Contains(got, "This link has already been used") {
		t.Errorf("a used sign-in link shows %q", got)
	}

	signOut(t, p)
	signIn(t, srv, p, eva.Email, eva.Password)
}

// A signed-in user changes their password: a wrong current password is
// marked on that field; with the right one the password changes, a
// confirmation is mailed, and their other browser is signed out.
func TestJourney_ChangePassword(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	b := browsertest.Shared(t)
	laptop := b.NewPage(t, browsertest.AcceptLanguage("en"))
	phone := b.NewPage(t, browsertest.AcceptLanguage("en"))
	per := person{Email: "per@example.org", Name: "Per Hansen", Password: "correct horse battery staple 42"}
	const newPassword = "seven green frogs sing loudly"
	mail := openInbox(srv, per.Email)
	register(t, srv, per, "en")
	signIn(t, srv, laptop, per.Email, per.Password)
	signIn(t, srv, phone, per.Email, per.Password)

	laptop.Submit(`a[href="/account/password"]`)
	wantPath(t, laptop, "/account/password")
	if got := laptop.Text("h1"); got != "Change password" {
		t.Errorf("heading = %q", got)
	}
	laptop.Fill("#current_password", "correct horse battery staple 43")
	laptop.Fill("#password", newPassword)
	laptop.Submit(`form[action="/account/password"] button[type="submit"]`)
	wantPath(t, laptop, "/account/password")
	if got := fieldErrors(t, laptop, "current_password"); len(got) != 1 || !strings.HasPrefix(got[0], "The current password is wrong.") {
		t.Errorf("errors on the current password = %q", got)
	}
	if got := fieldErrors(t, laptop, "password"); len(got) != 0 {
		t.Errorf("errors on the new password = %q, want none", got)
	}
	if got, _ := laptop.Attr("#current_password", "aria-invalid"); got != "true" {
		t.Errorf("current password aria-invalid = %q, want true", got)
	}
	if got := laptop.Focused(); got != "current_password" {
		t.Errorf("focus after a wrong current password is on %q, want that field", got)
	}

	laptop.Fill("#current_password", per.Password)
	laptop.Fill("#password", newPassword)
	laptop.Submit(`form[action="/account/password"] button[type="submit"]`)
	wantPath(t, laptop, "/account")
	if got := laptop.Text(".notice"); !strings.HasPrefix(got, "Your password is changed. Other devices have been signed out") {
		t.Errorf("notice = %q", got)
	}
	if m := mail.next(t, "Your password at Portvakt was changed"); !strings.Contains(m.Text, "signed out on all other devices") {
		t.Errorf("password-changed mail:\n%s\nwant it to say other devices are signed out", m.Text)
	}

	phone.Open(srv.URL + "/account")
	wantPath(t, phone, "/login")
	if got := phone.Text(".notice"); got != "Sign in to continue." {
		t.Errorf("the signed-out phone shows %q", got)
	}
	laptop.Open(srv.URL + "/account")
	wantPath(t, laptop, "/account")

	signIn(t, srv, phone, per.Email, newPassword)
}

// A user adds a new address and makes it the main one: the code goes to
// the new address, the account page then shows it as main, and the old
// address is told.
func TestJourney_ChangeEmail(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	p := browsertest.Shared(t).NewPage(t, browsertest.AcceptLanguage("en"))
	liv := person{Email: "liv@old.example.org", Name: "Liv Berg", Password: "correct horse battery staple 42"}
	const newAddress = "liv@new.example.org"
	oldMail, newMail := openInbox(srv, liv.Email), openInbox(srv, newAddress)
	register(t, srv, liv, "en")
	oldMail.next(t, "Your confirmation code")
	oldMail.next(t, "Your account at Portvakt is ready")
	signIn(t, srv, p, liv.Email, liv.Password)

	p.Submit(`a[href="/account/emails/add"]`)
	wantPath(t, p, "/account/emails/add")
	if got := p.Text("h1"); got != "Add an email address" {
		t.Errorf("heading = %q", got)
	}
	p.Fill("#email", newAddress)
	p.Click("#primary")
	p.Fill("#current_password", liv.Password)
	p.Submit(`form[action="/account/emails/add"] button[type="submit"]`)
	wantPath(t, p, "/account/emails/verify")
	if got := p.Text("h1"); got != "Confirm the new address" {
		t.Errorf("heading = %q", got)
	}
	if got := p.Text("#code-sent"); !strings.Contains(got, newAddress) {
		t.Errorf("the code page says %q, want it to name %s", got, newAddress)
	}
	code := readCode(t, newMail.next(t, "Confirm your email address for Portvakt"))
	if unread := oldMail.unread(t); len(unread) != 0 {
		t.Errorf("the old address got %q before the code was typed", unread)
	}
	enterCode(t, p, code)

	wantPath(t, p, "/account")
	if got := p.Text(".notice"); got != "The address is confirmed and added to your account." {
		t.Errorf("notice after adding the address = %q", got)
	}
	want := []emailRow{{newAddress, "Main address"}, {liv.Email, ""}}
	if got := accountEmails(t, p); !slices.Equal(got, want) {
		t.Errorf("addresses on the account page = %v, want %v", got, want)
	}
	m := oldMail.next(t, "Your account at Portvakt has a new email address")
	if !strings.Contains(m.Text, newAddress) {
		t.Errorf("the old address was told:\n%s\nwant the new address named", m.Text)
	}

	signOut(t, p)
	signIn(t, srv, p, newAddress, liv.Password)
}

// A mistyped code says how many tries are left, on the code field. The
// page of a sign-up opened in another browser refuses to go on there,
// and the code typed in that browser does not work, while the browser
// that started still can.
func TestJourney_CodeMistakes(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	b := browsertest.Shared(t)
	p := b.NewPage(t, browsertest.AcceptLanguage("en"))
	other := b.NewPage(t, browsertest.AcceptLanguage("en"))
	const email = "nils@example.org"

	p.Open(srv.URL + "/signup")
	p.Fill("#email", email)
	p.Submit(`form[action="/signup"] button[type="submit"]`)
	wantPath(t, p, "/signup/code")
	codeURL := p.URL()
	code := readCode(t, openInbox(srv, email).next(t, "Your confirmation code for Portvakt"))

	enterCode(t, p, mistype(code))
	wantPath(t, p, "/signup/code")
	want := "That code is not right. Check the newest email and try again: you have 4 tries left."
	if got := fieldErrors(t, p, "code"); !slices.Equal(got, []string{want}) {
		t.Errorf("errors on the code field = %q, want %q", got, want)
	}
	if got, _ := p.Attr("#code", "aria-invalid"); got != "true" {
		t.Errorf("code aria-invalid = %q, want true", got)
	}
	if got := p.Focused(); got != "code" {
		t.Errorf("focus after a wrong code is on %q, want the code field", got)
	}
	enterCode(t, p, mistype(code))
	if got := fieldErrors(t, p, "code"); len(got) != 1 || !strings.HasSuffix(got[0], "you have 3 tries left.") {
		t.Errorf("after a second wrong code the code field says %q", got)
	}

	other.Open(codeURL)
	if got := other.Text("main"); !strings.Contains(got, "This was started in another browser or on another device.") {
		t.Errorf("the sign-up opened in another browser shows %q", got)
	}
	if other.Exists("#code") {
		t.Error("the other browser is offered the code field")
	}
	if got, _ := other.Attr(`main a[href="/signup"]`, "href"); got != "/signup" {
		t.Errorf("the other browser's start-again link = %q", got)
	}
	// Even posted from a form there, the right code is refused.
	other.AwaitNavigation(func() {
		other.Eval(`(() => {
			const f = document.createElement("form");
			f.method = "post"; f.action = "/signup/code";
			for (const [k, v] of new URL(`+jsQuote(codeURL)+`).searchParams) {
				const i = document.createElement("input"); i.name = k; i.value = v; f.appendChild(i);
			}
			const c = document.createElement("input"); c.name = "code"; c.value = `+jsQuote(code)+`; f.appendChild(c);
			document.body.appendChild(f); f.submit(); return true;
		})()`, nil)
	})
	if got := other.Text("main"); !strings.Contains(got, "This was started in another browser or on another device.") {
		t.Errorf("the right code posted from another browser shows %q", got)
	}
	if path(t, other) == "/signup/details" {
		t.Fatal("the other browser got past the code step")
	}

	enterCode(t, p, code)
	wantPath(t, p, "/signup/details")
}

// mistype returns a six-digit code that differs from code in its last
// digit, as a typo would.
func mistype(code string) string {
	last := (code[5]-'0'+1)%10 + '0'
	return code[:5] + string(rune(last))
}
