package e2e

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/portvakt/portvakt/internal/browsertest"
	"github.com/portvakt/portvakt/internal/config"
	"github.com/portvakt/portvakt/internal/flow"
	"github.com/portvakt/portvakt/internal/op"
)

// pageStep is what makes a page this step of a journey: the forms it
// offers (their actions, less the header's) and the journey values they
// carry (flow, auth, return_to).
func pageStep(t *testing.T, p *browsertest.Page) string {
	t.Helper()
	var forms []string
	p.Eval(`[...document.querySelectorAll("main form")].map(f =>
		f.getAttribute("action") + " " + [...f.querySelectorAll('input[type=hidden]')]
			.filter(i => ["flow", "auth", "return_to", "action", "method"].includes(i.name))
			.map(i => i.name + "=" + i.value).join("&"))`, &forms)
	slices.Sort(forms)
	return mfaPath(t, p) + " | " + strings.Join(forms, " | ")
}

// switchLanguage uses the header's switcher on the current page, to
// another language and back, and checks that each time the user stays on
// the same step of the same journey, in the chosen language, without an
// error.
func switchLanguage(t *testing.T, p *browsertest.Page, where string) {
	t.Helper()
	from, _ := p.Attr("html", "lang")
	to := "sv"
	if from == "sv" {
		to = "nb"
	}
	step := pageStep(t, p)
	for _, lang := range []string{to, from} {
		p.Submit(`.lang-switch button[value="` + lang + `"]`)
		if got, _ := p.Attr("html", "lang"); got != lang {
			t.Errorf("%s: after choosing %s the page is in %q", where, lang, got)
		}
		if s := mfaStatus(p); s != 200 || p.Exists(".error-summary") {
			t.Errorf("%s: switching to %s gave HTTP %d with %q", where, lang, s, p.Text("main"))
		}
		if got := pageStep(t, p); got != step {
			t.Errorf("%s: switching to %s left the step:\n got %s\nwant %s", where, lang, got, step)
			return
		}
	}
}

// The language switcher keeps the journey: on every page of sign-up,
// sign-in, recovery, the second step (SMS and email), and the consent
// page, switching language shows the same step in the other language.
func TestJourney_LanguageSwitchKeepsTheJourney(t *testing.T) {
	t.Parallel()
	b := browsertest.Shared(t)

	t.Run("sign-up, sign-in and recovery", func(t *testing.T) {
		t.Parallel()
		srv := startServer(t)
		p := b.NewPage(t, browsertest.AcceptLanguage("nb-NO,nb;q=0.9"))
		const email, pw = "kari.lang@example.no", "fjellvann-morgen-lys-7"
		inbox := openInbox(srv, email)

		p.Open(srv.URL + "/")
		switchLanguage(t, p, "home")
		// Sign-up is reachable from the home page.
		p.Submit(`main a[href="/signup"]`)
		wantPath(t, p, "/signup")
		switchLanguage(t, p, "sign-up: email")
		p.Fill("#email", email)
		p.Submit(`form[action="/signup"] button[type="submit"]`)
		wantPath(t, p, "/signup/code")
		switchLanguage(t, p, "sign-up: code")
		enterCode(t, p, readCode(t, inbox.next(t, "")))
		wantPath(t, p, "/signup/details")
		switchLanguage(t, p, "sign-up: name and password")
		p.Fill("#name", "Kari Lang")
		p.Fill("#password", pw)
		p.Submit(`form[action="/signup/details"] button[type="submit"]`)
		wantPath(t, p, "/account")
		switchLanguage(t, p, "account")
		// The signed-in home page is no dead end: it leads to the account.
		p.Open(srv.URL + "/")
		switchLanguage(t, p, "home, signed in")
		p.Submit(`main a[href="/account"]`)
		wantPath(t, p, "/account")
		p.Open(srv.URL + "/account/security")
		switchLanguage(t, p, "sign-in and security")
		signOut(t, p)

		p.Open(srv.URL + "/login")
		switchLanguage(t, p, "sign-in: email")
		p.Fill("#email", email)
		p.Submit(`form[action="/login"] button[type="submit"]`)
		wantPath(t, p, "/login/password")
		switchLanguage(t, p, "sign-in: password")
		// A wrong password re-renders the step from a POST.
		p.Fill("#password", "not-the-password-at-all")
		p.Submit(`form[action="/login/password"] button[type="submit"]`)
		if p.Exists(`form[action="/login/password"]`) {
			step := pageStep(t, p)
			p.Submit(`.lang-switch button[value="sv"]`)
			if got := pageStep(t, p); got != step {
				t.Errorf("sign-in: switching after a wrong password left the step:\n got %s\nwant %s", got, step)
			}
			p.Submit(`.lang-switch button[value="nb"]`)
		}
		enterPassword(t, p, pw)
		wantPath(t, p, "/account")
		signOut(t, p)

		startRecovery(t, srv, p, email, "code")
		wantPath(t, p, "/recover/code")
		switchLanguage(t, p, "recovery: code")
		enterCode(t, p, readCode(t, inbox.next(t, "Kode for nytt passord")))
		wantPath(t, p, "/recover/password")
		switchLanguage(t, p, "recovery: new password")
	})

	t.Run("second step by SMS (Altinn)", func(t *testing.T) {
		t.Parallel()
		srv := startServer(t, profile(t, "altinn"))
		mfaAccount(t, srv, flow.NewAccount{Username: "01017012343", Name: "Kari", Password: "Hemmeligordetmitt42", Phone: "912 34 567"})
		p := b.NewPage(t, browsertest.AcceptLanguage("nb"))
		p.Open(srv.URL + "/login/username")
		switchLanguage(t, p, "username sign-in")
		p.Fill("#username", "01017012343")
		p.Fill("#password", "Hemmeligordetmitt42")
		p.Submit(`form[action="/login/username"] button[type="submit"]`)
		wantPath(t, p, "/login/factor")
		switchLanguage(t, p, "second step: before sending")
		p.Submit(`form[action="/login/factor/send"] button[type="submit"]`)
		switchLanguage(t, p, "second step: after sending")
		text := openInbox(srv, "+4791234567").next(t, "").Text
		code := regexp.MustCompile(`\b\d{6}\b`).FindString(text)
		// A wrong SMS code points at the SMS, not at an email.
		enterCode(t, p, mistype(code))
		if got := strings.Join(fieldErrors(t, p, "code"), " "); !strings.Contains(got, "nyeste SMS-en") || strings.Contains(got, "e-post") {
			t.Errorf("a wrong SMS code says %q, want it to point at the newest SMS", got)
		}
		switchLanguage(t, p, "second step: after a wrong code")
		enterCode(t, p, code)
		wantPath(t, p, "/account")
		// The security page says how this sign-in happened, in words.
		p.Open(srv.URL + "/account/security")
		if got := p.Text("#session-level"); got != "Logget inn med passord og SMS-kode. Det er innlogging i to steg." {
			t.Errorf("the security page says %q", got)
		}
		switchLanguage(t, p, "sign-in and security")
	})

	t.Run("second step by email (IDEP)", func(t *testing.T) {
		t.Parallel()
		srv := startServer(t, profile(t, "idep"))
		mfaAccount(t, srv, flow.NewAccount{Username: "10042", Name: "Marie", Email: "mariage@scb.se", Password: "statistik-arsbok-1958"})
		p := b.NewPage(t, browsertest.AcceptLanguage("sv"))
		mfaSignInUsername(t, srv, p, "10042", "statistik-arsbok-1958")
		mfaAt(t, p, "/login/factor")
		switchLanguage(t, p, "email step: before sending")
		p.Submit(`form[action="/login/factor/send"] button`)
		switchLanguage(t, p, "email step: after sending")
	})

	t.Run("consent", func(t *testing.T) {
		t.Parallel()
		srv := startServer(t, func(c *config.Config) {})
		const email, pw = "ola.lang@example.no", "fjord-kayak-lighthouse-42"
		mfaAccount(t, srv, flow.NewAccount{Name: "Ola", Email: email, Password: pw})
		cb := oidcStartCallback(t)
		client, _, err := srv.App.OP.CreateClient(t.Context(), op.ClientConfig{Name: "Reisebyrået", ThirdParty: true, Public: true, RedirectURIs: []string{cb.srv.URL + "/cb"}})
		if err != nil {
			t.Fatal(err)
		}
		p := b.NewPage(t, browsertest.AcceptLanguage("nb"))
		authURL, _, _ := oidcAuthorizeURL(srv, client.ID, cb.srv.URL+"/cb", "openid profile email")
		p.Open(authURL)
		mfaAt(t, p, "/login")
		switchLanguage(t, p, "sign-in for an app: email")
		p.Fill("#email", email)
		p.Submit(`form[action="/login"] button[type="submit"]`)
		mfaAt(t, p, "/login/password")
		switchLanguage(t, p, "sign-in for an app: password")
		p.Fill("#password", pw)
		p.Submit(`form[action="/login/password"] button[type="submit"]`)
		mfaAt(t, p, "/oidc/continue")
		switchLanguage(t, p, "consent")
		p.Submit(`button[value="allow"]`)
		if !p.Exists("#app") {
			t.Errorf("after the language switches and Allow, the browser is at %s, want the app", p.URL())
		}
	})
}

// The security page's two key forms each have a heading and a hint of
// their own, and no key is described by its signature counter.
func TestJourney_SecurityPage_KeyForms(t *testing.T) {
	t.Parallel()
	srv := waStartServer(t, profile(t, "visma-connect"))
	const email, pw = "kari.keys@example.no", "Fjellvann-morgen-7!"
	mfaAccount(t, srv, flow.NewAccount{Name: "Kari", Email: email, Password: pw})
	p := browsertest.Shared(t).NewPage(t, browsertest.AcceptLanguage("nb"))
	mfaSignInEmail(t, srv, p, email, pw)
	p.Open(srv.URL + "/account/security")
	headings := mfaTexts(p, "form.key-register h3")
	if !slices.Equal(headings, []string{"Legg til en sikkerhetsnøkkel", "Opprett en passnøkkel"}) {
		t.Errorf("the key forms' headings = %q", headings)
	}
	labels := mfaTexts(p, "form.key-register label")
	if len(labels) != 2 || labels[0] == labels[1] {
		t.Errorf("the key forms' name fields are labelled %q, want one label each", labels)
	}
	if hints := mfaTexts(p, "form.key-register h3 + p.hint"); len(hints) != 2 || hints[0] == hints[1] {
		t.Errorf("the key forms' hints = %q, want one each", hints)
	}
	if strings.Contains(p.Text("main"), "teller") {
		t.Errorf("the security page speaks of a counter:\n%s", p.Text("main"))
	}
}
