package e2e

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/browsertest"
	"github.com/portvakt/portvakt/internal/config"
	"github.com/portvakt/portvakt/internal/flow"
	"github.com/portvakt/portvakt/internal/testwait"
	"github.com/portvakt/portvakt/internal/upstream"
	"github.com/portvakt/portvakt/internal/upstream/upstreamtest"
)

// withIDPorten points the profile's ID-porten at a real OpenID Provider
// over HTTP (upstreamtest) playing ID-porten: acr, amr and pid as the test
// chooses. Other settings of the entry (first_login, accept_acr, the
// refusal text) are the profile's own when it has one.
func withIDPorten(idp *upstreamtest.Server, first string) func(*config.Config) {
	return func(c *config.Config) {
		entry := upstream.Config{ID: "idporten", Preset: upstream.PresetIDPorten, FirstLogin: first}
		i := -1
		for j, u := range c.Upstreams {
			if u.ID == "idporten" {
				entry, i = u, j
			}
		}
		entry.Issuer, entry.ClientID, entry.ClientSecret, entry.ClientSecretFile = idp.Issuer, idp.ClientID, idp.ClientSecret, ""
		if i < 0 {
			c.Upstreams = append(c.Upstreams, entry)
		} else {
			c.Upstreams[i] = entry
		}
	}
}

func bankID(pid, name string) upstreamtest.User {
	return upstreamtest.User{Subject: "pairwise-" + pid, PID: pid, ACR: "idporten-loa-high", AMR: []string{"BankID"}, Name: name}
}

// clickUpstream presses a provider's button on the sign-in page and
// follows the provider's redirects back.
func clickUpstream(t *testing.T, srv *server, p *browsertest.Page, id string) {
	t.Helper()
	p.Open(srv.URL + "/login")
	p.Submit(`a[data-upstream="` + id + `"]`)
}

// mailAbout waits (bounded) for a mail to to whose text contains every
// one of want.
func mailAbout(t *testing.T, srv *server, to string, want ...string) {
	t.Helper()
	deadline := time.Now().Add(testwait.D(10 * time.Second))
	for {
		for _, m := range srv.mails(t, to) {
			ok := true
			for _, w := range want {
				ok = ok && strings.Contains(m.Text, w)
			}
			if ok {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no mail to %s mentioning %q within %v", to, want, testwait.D(10*time.Second))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// UDI "Min side" in Bokmål: ID-porten at high makes an account of its own
// and signs in; MinID (substantial) is refused by name, with no session.
func TestJourney_Federation_UDI(t *testing.T) {
	t.Parallel()
	idp := upstreamtest.New(t)
	srv := startServer(t, profile(t, "udi"), withIDPorten(idp, upstream.FirstCreate), func(c *config.Config) {
		for i := range c.Upstreams {
			c.Upstreams[i].AcceptACR = []string{"idporten-loa-high"}
			c.Upstreams[i].ACRValues = []string{"idporten-loa-high"}
			if c.Upstreams[i].ACRRefusal == nil {
				c.Upstreams[i].ACRRefusal = map[string]string{"nb": "MinID gir ikke høyt nok sikkerhetsnivå for Min side. Bruk BankID, Buypass eller Commfides."}
			}
		}
	})
	p := browsertest.Shared(t).NewPage(t, browsertest.AcceptLanguage("nb-NO"))

	idp.SignInAs(bankID("01017012345", "Ali Hassan"))
	clickUpstream(t, srv, p, "idporten")
	wantPath(t, p, "/account")
	p.Open(srv.URL + "/account/security")
	p.WaitText("#identities", "******12345")
	if a := idp.Authorizations(); len(a) != 1 || a[0].Query.Get("acr_values") != "idporten-loa-high" || a[0].Query.Get("ui_locales") != "nb" {
		t.Errorf("ID-porten was asked %v", a)
	}
	signOut(t, p)

	idp.SignInAs(upstreamtest.User{Subject: "pairwise-2", PID: "02027012345", ACR: "idporten-loa-substantial", AMR: []string{"MinID"}})
	clickUpstream(t, srv, p, "idporten")
	if got := status(t, p); got != 403 {
		t.Errorf("MinID sign-in answered %d, want 403", got)
	}
	if body := p.Text("main"); !strings.Contains(body, "MinID gir ikke høyt nok sikkerhetsnivå for Min side") {
		t.Errorf("the MinID refusal does not name MinID and the remedy: %s", body)
	}
	p.Open(srv.URL + "/account")
	wantPath(t, p, "/login")

	// An email + password account is asked for ID-porten on the
	// ID-porten-only service, and gets there through it.
	ali := person{Name: "Ali Hassan", Email: "ali@example.no", Password: "Vinter-Fjord-Sykkel-77"}
	register(t, srv, ali, "nb")
	signIn(t, srv, p, ali.Email, ali.Password)
	p.Open(srv.URL + "/service/residence-status?return_to=/account/security")
	if body := p.Text("main"); !strings.Contains(body, "Du må logge inn med ID-porten") {
		t.Errorf("the service page does not ask for ID-porten: %s", body)
	}
	idp.SignInAs(bankID("01017012345", "Ali Hassan"))
	p.Submit(`main a[href^="/login/federated/idporten"]`)
	wantPath(t, p, "/account/security")
}

// Visma Connect in Bokmål, the seed's whole journey: Kari links Google to
// her work account only after its password and authenticator code
// (nothing matched by address), signs out and back in with Google (which
// still asks for the authenticator). Her BankID is already on her private
// account: the page says so plainly with both masked (screenshot); "move
// it here" signs in to the private account in the same browser and moves
// the link; both accounts are mailed; ID-porten then opens the work
// account. She removes Google with the trash icon, a confirmation and her
// password; an account whose only way in is Google cannot remove it.
func TestJourney_Federation_Visma(t *testing.T) {
	t.Parallel()
	google, idp := upstreamtest.New(t), upstreamtest.New(t)
	srv, clock := startServerWithClock(t, profile(t, "visma-connect"), withIDPorten(idp, upstream.FirstAsk), func(c *config.Config) {
		for i, u := range c.Upstreams {
			if u.ID == "google" {
				c.Upstreams[i].Issuer, c.Upstreams[i].ClientID, c.Upstreams[i].ClientSecret = google.Issuer, google.ClientID, google.ClientSecret
			}
		}
	})
	work := person{Name: "Kari Nordmann", Email: "kari@visma.no", Password: "Fjellvann-Tursti-2026"}
	private := person{Name: "Kari Privat", Email: "kari.privat@gmail.com", Password: "Kontor-Kaffe-Regn-2026"}
	mfaAccount(t, srv, flow.NewAccount{Name: work.Name, Email: work.Email, Password: work.Password})
	mfaAccount(t, srv, flow.NewAccount{Name: private.Name, Email: private.Email, Password: private.Password})
	idp.SignInAs(bankID("01017012343", "Kari Nordmann"))

	// Years ago Kari linked her BankID to her private account.
	old := browsertest.Shared(t).NewPage(t, browsertest.AcceptLanguage("nb-NO"))
	mfaSignInEmail(t, srv, old, private.Email, private.Password)
	mfaAt(t, old, "/account")
	old.Open(srv.URL + "/account/security")
	old.Submit(`form[action="/account/security/identities/link"]:has(input[value="idporten"]) button`)
	old.WaitText("#identities", "******12343")

	p := browsertest.Shared(t).NewPage(t, browsertest.AcceptLanguage("nb-NO"))
	mfaSignInEmail(t, srv, p, work.Email, work.Password)
	mfaAt(t, p, "/account")
	p.Open(srv.URL + "/account/security")
	secret := fedSetUpTOTPnb(t, p, clock)
	mfaSignOut(t, p)

	// Google names an address that is not Kari's work address: nothing is
	// matched by address, the page asks.
	google.SignInAs(upstreamtest.User{Subject: "g-42", Email: "kari.nordmann@gmail.com", EmailVerified: true, Name: "Kari"})
	clickUpstream(t, srv, p, "google")
	mfaAt(t, p, "/login/federated/choose")
	p.Submit(`form[action="/login/federated/link"] button`)
	mfaAt(t, p, "/login")
	clock.Advance(30 * time.Second)
	mfaSignInEmail(t, srv, p, work.Email, work.Password)
	mfaAt(t, p, "/login/factor")
	mfaEnterCode(t, p, mfaTOTP(t, clock, secret))
	mfaAt(t, p, "/login/federated/choose")
	p.Submit(`form[action="/login/federated/link"] button`)
	mfaAt(t, p, "/account/security")
	p.WaitText("#identities", "kari.nordmann@gmail.com")
	mailAbout(t, srv, work.Email, "Google")
	mfaSignOut(t, p)

	clickUpstream(t, srv, p, "google")
	mfaAt(t, p, "/login/factor")
	clock.Advance(30 * time.Second)
	mfaEnterCode(t, p, mfaTOTP(t, clock, secret))
	mfaAt(t, p, "/account")

	// The conflict, in the open.
	p.Open(srv.URL + "/account/security")
	p.Submit(`form[action="/account/security/identities/link"]:has(input[value="idporten"]) button`)
	conflict := p.Text(".conflict")
	for _, want := range []string{"fødselsnummer ******12343", "ka…at@gm…om"} {
		if !strings.Contains(conflict, want) {
			t.Errorf("the conflict page lacks %q: %s", want, conflict)
		}
	}
	if body := p.Text("main"); strings.Contains(body, "intern feil") {
		t.Errorf("the conflict page speaks of an internal error: %s", body)
	}
	p.Screenshot(filepath.Join(browsertest.ArtifactDir(t.Name()), "federation-conflict-nb.png"))
	p.Submit(`form[action="/login/federated/move"] button`)
	mfaAt(t, p, "/login")
	startSignIn(t, srv, p, private.Email, false)
	enterPassword(t, p, private.Password)
	mfaAt(t, p, "/login/federated/choose")
	p.Submit(`form[action="/login/federated/move"] button`)
	p.WaitText("h1", "Koblingen er flyttet")
	mailAbout(t, srv, private.Email, "ID-porten", "******12343")
	mailAbout(t, srv, work.Email, "ID-porten", "******12343")
	mfaSignOut(t, p)

	clickUpstream(t, srv, p, "idporten")
	if mfaPath(t, p) == "/login/factor" {
		clock.Advance(30 * time.Second)
		mfaEnterCode(t, p, mfaTOTP(t, clock, secret))
	}
	mfaAt(t, p, "/account")
	p.Open(srv.URL + "/")
	if body := p.Text("main"); !strings.Contains(body, work.Name) {
		t.Errorf("ID-porten after the move signs in as: %s", body)
	}

	// Unlink Google: the trash, her password (the sign-in is no longer
	// recent), the confirmation.
	clock.Advance(11 * time.Minute)
	p.Open(srv.URL + "/account/security")
	p.Submit(`#identities form[action="/account/security/identities/remove"]:has(input[value="google"]) button`)
	mfaAt(t, p, "/account/reauth")
	p.Fill("#current_password", work.Password)
	p.Submit(`form[action="/account/reauth"] button[type="submit"]`)
	if mfaPath(t, p) == "/login/factor" {
		clock.Advance(30 * time.Second)
		mfaEnterCode(t, p, mfaTOTP(t, clock, secret))
	}
	mfaAt(t, p, "/account/security/identities/remove")
	if got := p.Text("h1"); got != "Fjerne Google?" {
		t.Errorf("the confirmation asks %q", got)
	}
	p.Submit(`form[action="/account/security/identities/remove"] button[type="submit"]`)
	mfaAt(t, p, "/account/security")
	p.WaitText(".notice", "Innloggingsmåten er fjernet")
	if ids := p.Text("#identities"); strings.Contains(ids, "kari.nordmann@gmail.com") || !strings.Contains(ids, "******12343") {
		t.Errorf("after removing Google the sign-in methods are: %s", ids)
	}
	mailAbout(t, srv, work.Email, "Google")

	// Someone whose only way in is Google cannot remove it.
	solo := browsertest.Shared(t).NewPage(t, browsertest.AcceptLanguage("nb-NO"))
	google.SignInAs(upstreamtest.User{Subject: "g-77", Email: "ola@gmail.com", EmailVerified: true, Name: "Ola Nordmann"})
	clickUpstream(t, srv, solo, "google")
	mfaAt(t, solo, "/login/federated/choose")
	solo.Submit(`form[action="/login/federated/create"] button`)
	solo.Open(srv.URL + "/account/security")
	solo.Submit(`#identities form[action="/account/security/identities/remove"]:has(input[value="google"]) button`)
	mfaAt(t, solo, "/account/security/identities/remove")
	solo.Submit(`form[action="/account/security/identities/remove"] button[type="submit"]`)
	if got := mfaStatus(solo); got != 409 {
		t.Errorf("removing the only way in answered %d, want 409", got)
	}
	if body := solo.Text("main"); !strings.Contains(body, "den er den eneste måten å logge inn på kontoen din") {
		t.Errorf("the refusal does not give the reason: %s", body)
	}
}

// fedSetUpTOTPnb is mfaSetUpTOTP on the Bokmål pages: it returns the
// secret the "app" read from the page.
func fedSetUpTOTPnb(t *testing.T, p *browsertest.Page, clock *testClock) string {
	t.Helper()
	mfaAt(t, p, "/account/security")
	p.Submit(`form[action="/account/security/totp"] button`)
	if got := p.Text("h1"); got != "Sett opp en autentiseringsapp" {
		t.Errorf("set-up page heading = %q", got)
	}
	secret := strings.ReplaceAll(p.Text("#totp-secret"), " ", "")
	p.Fill("#code", mfaTOTP(t, clock, secret))
	p.Submit(`form[action="/account/security/totp/confirm"] button[type="submit"]`)
	clock.Advance(30 * time.Second)
	return secret
}
