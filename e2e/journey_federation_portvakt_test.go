package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/app"
	"github.com/portvakt/portvakt/internal/browsertest"
	"github.com/portvakt/portvakt/internal/config"
	"github.com/portvakt/portvakt/internal/flow"
	"github.com/portvakt/portvakt/internal/store"
	"github.com/portvakt/portvakt/internal/testwait"
	"github.com/portvakt/portvakt/internal/upstream"
	"github.com/portvakt/portvakt/internal/web"
)

// A second Portvakt plays ID-porten: usernames are fødselsnumre, published
// to UDI's client as pid (oidc.clients[].claims); a password alone is
// idporten-loa-substantial with amr MinID, an authenticator on top is
// idporten-loa-high with amr BankID (oidc.acr). It answers on localhost,
// UDI on 127.0.0.1, so the two keep their cookies apart.
type portvaktIDPorten struct {
	*server
	clock *testClock
}

const idportenSecret = "udi-min-side-secret-0123456789abcdef"

func startPortvaktIDPorten(t *testing.T, redirectURI string) portvaktIDPorten {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(idportenSecret))
	clock := &testClock{t: time.Now().UTC().Truncate(30 * time.Second)}
	srv := runServerOn(t, ln, app.Options{Now: clock.Now}, func(c *config.Config) {
		c.PublicURL = strings.Replace(c.PublicURL, "127.0.0.1", "localhost", 1)
		c.ServiceName = "ID-porten"
		c.Login.Methods = []string{"username"}
		c.Login.UsernameNationalID = "no"
		c.MFA.Mode, c.MFA.Methods = "optional", []string{"totp"}
		c.OIDC.Enabled = true
		c.OIDC.ACR = []config.OIDCACR{
			{Value: "idporten-loa-substantial", Level: 1, AMR: []string{"MinID"}},
			{Value: "idporten-loa-high", Level: 3, AMR: []string{"BankID"}},
		}
		c.OIDC.Clients = []config.OIDCClient{{
			ID: "udi-min-side", Name: "UDI Min side", SecretSHA256: hex.EncodeToString(sum[:]),
			RedirectURIs: []string{redirectURI}, SigningAlg: "RS256",
			Claims: map[string]string{"pid": "username"},
		}}
	})
	srv.URL = strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	return portvaktIDPorten{srv, clock}
}

// person adds someone to ID-porten with a fødselsnummer and a password;
// with bankID, an authenticator app too (set up in a browser of its own,
// in English), whose secret is returned.
func (idp portvaktIDPorten) person(t *testing.T, pid, name, pw string, bankID bool) (secret string) {
	t.Helper()
	mfaAccount(t, idp.server, flow.NewAccount{Username: pid, Name: name, Password: pw})
	if !bankID {
		return ""
	}
	p := browsertest.Shared(t).NewPage(t, browsertest.AcceptLanguage("en"))
	mfaSignInUsername(t, idp.server, p, pid, pw)
	mfaAt(t, p, "/account")
	p.Open(idp.URL + "/account/security")
	secret, _ = mfaSetUpTOTP(t, p, idp.clock)
	idp.clock.Advance(30 * time.Second)
	return secret
}

// signInAtIDPorten is the person at ID-porten's pages (in nb): the
// fødselsnummer and password, and the authenticator's code when secret is
// set.
func (idp portvaktIDPorten) signIn(t *testing.T, p *browsertest.Page, pid, pw, secret string) {
	t.Helper()
	if !strings.HasPrefix(p.URL(), idp.URL+"/login") {
		t.Fatalf("not at ID-porten's sign-in page but at %s", p.URL())
	}
	p.Fill("#username", pid)
	p.Fill("#password", pw)
	p.Submit(`form[action="/login/username"] button[type="submit"]`)
	if secret != "" {
		mfaAt(t, p, "/login/factor")
		p.Fill("#code", mfaTOTP(t, idp.clock, secret))
		p.Submit(`form[action="/login/factor"] button[type="submit"]`)
	}
}

// backAt waits (bounded) until ID-porten's form_post page has sent the
// browser back to the service at base, and its page has loaded.
func backAt(t *testing.T, p *browsertest.Page, base string) {
	t.Helper()
	if !testwait.Until(10*time.Second, func() bool { return strings.HasPrefix(p.URL(), base+"/") }) {
		t.Fatalf("ID-porten's answer did not come back to %s within %v; the browser is at %s", base, testwait.D(10*time.Second), p.URL())
	}
	p.WaitVisible("main h1")
}

// UDI "Min side" in Bokmål against a second Portvakt playing ID-porten,
// answering by form_post across sites: BankID (high) signs up and reaches
// the residence-status service; MinID (substantial) is refused by name
// with no session; an email + password account is asked for ID-porten on
// that service and reaches it through BankID.
func TestJourney_Federation_UDI_PortvaktIDPorten(t *testing.T) {
	t.Parallel()
	udiLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	udiURL := "http://" + udiLn.Addr().String()
	idp := startPortvaktIDPorten(t, udiURL+"/login/federated/idporten/callback")
	const bankPID, minPID, pw = "01017012343", "02027012372", "Nordlys-Fjell-Ski-2026"
	secret := idp.person(t, bankPID, "Ali Hassan", pw, true)
	idp.person(t, minPID, "Sara Ahmed", pw, false)

	udi := runServerOn(t, udiLn, app.Options{}, profile(t, "udi"), func(c *config.Config) {
		for i := range c.Upstreams {
			if c.Upstreams[i].ID == "idporten" {
				u := &c.Upstreams[i]
				u.Issuer, u.ClientID, u.ClientSecret, u.ClientSecretFile = idp.URL, "udi-min-side", idportenSecret, ""
				// Either level may answer, so that MinID can come back at
				// all (ID-porten itself would not offer it for high); UDI
				// still accepts high only.
				u.ACRValues = []string{"idporten-loa-substantial", "idporten-loa-high"}
				u.FirstLogin = upstream.FirstCreate
				// ID-porten answers by form_post here: a POST from
				// localhost to 127.0.0.1 is cross-site, so Chromium sends
				// no SameSite=Lax cookie with it.
				u.ResponseMode = upstream.ResponseFormPost
			}
		}
	})

	p := browsertest.Shared(t).NewPage(t, browsertest.AcceptLanguage("nb-NO"))
	clickUpstream(t, udi, p, "idporten")
	idp.signIn(t, p, bankPID, pw, secret)
	backAt(t, p, udiURL)
	wantPath(t, p, "/account")
	if !strings.HasPrefix(p.URL(), udiURL) {
		t.Fatalf("after ID-porten the browser is at %s, not at UDI", p.URL())
	}
	p.Open(udi.URL + "/account/security")
	p.WaitText("#identities", "******12343")
	if via := viaOf(t, udi, p); via.ACR != "idporten-loa-high" || strings.Join(via.AMR, " ") != "BankID" {
		t.Errorf("UDI's session came via %+v, want idporten-loa-high with BankID", via)
	}
	p.Open(udi.URL + "/service/residence-status?return_to=/account/security")
	wantPath(t, p, "/account/security")

	// MinID, in a browser of its own (no session at ID-porten).
	q := browsertest.Shared(t).NewPage(t, browsertest.AcceptLanguage("nb-NO"))
	clickUpstream(t, udi, q, "idporten")
	idp.signIn(t, q, minPID, pw, "")
	backAt(t, q, udiURL)
	if got := status(t, q); got != 403 {
		t.Errorf("MinID sign-in answered %d at %s, want 403", got, q.URL())
	}
	if body := q.Text("main"); !strings.Contains(body, "MinID gir ikke høyt nok sikkerhetsnivå for Min side. Bruk BankID, Buypass eller Commfides") {
		t.Errorf("the MinID refusal does not name MinID and the remedy: %s", body)
	}
	q.Open(udi.URL + "/account")
	wantPath(t, q, "/login")

	// An email + password account is asked for ID-porten on the
	// ID-porten-only service, and gets there through it with BankID.
	r := browsertest.Shared(t).NewPage(t, browsertest.AcceptLanguage("nb-NO"))
	ali := person{Name: "Ali Hassan", Email: "ali@example.no", Password: "Vinter-Fjord-Sykkel-77"}
	register(t, udi, ali, "nb")
	signIn(t, udi, r, ali.Email, ali.Password)
	r.Open(udi.URL + "/service/residence-status?return_to=/account/security")
	if body := r.Text("main"); !strings.Contains(body, "Du må logge inn med ID-porten") {
		t.Errorf("the service page does not ask for ID-porten: %s", body)
	}
	r.Submit(`main a[href^="/login/federated/idporten"]`)
	idp.clock.Advance(30 * time.Second)
	idp.signIn(t, r, bankPID, pw, secret)
	backAt(t, r, udiURL)
	wantPath(t, r, "/account/security")
}

// viaOf is how the browser's session at srv came through an upstream
// (the session's account from /api/v1/session, the record from the store).
func viaOf(t *testing.T, srv *server, p *browsertest.Page) store.Via {
	t.Helper()
	p.Open(srv.URL + "/api/v1/session")
	var me web.SessionJSON
	if err := json.Unmarshal([]byte(p.Text("body")), &me); err != nil || me.AccountID == "" {
		t.Fatalf("/api/v1/session: %v", err)
	}
	sessions, err := srv.App.DB.ListSessions(t.Context(), me.AccountID)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sessions {
		if s.ID == me.ID {
			return s.Via
		}
	}
	t.Fatalf("session %s is not in the store", me.ID)
	return store.Via{}
}
