package e2e

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/app"
	"github.com/portvakt/portvakt/internal/browsertest"
	"github.com/portvakt/portvakt/internal/config"
	"github.com/portvakt/portvakt/internal/flow"
	"github.com/portvakt/portvakt/internal/op"
	"github.com/portvakt/portvakt/internal/session"
	"github.com/portvakt/portvakt/internal/store"
)

// OpenID Connect in a real browser: the demo app at /demo (zitadel's
// relying party, over HTTP to the public URL, as any app) signs Kari in
// at level 2 with a password and an SMS code, then asks for level 3 with
// acr_values, and Portvakt asks her for her authenticator app only (not
// the password again, not SMS); the new ID token carries the higher acr,
// an amr with the app's one-time code, a newer auth_time and the same
// session. Level 4, which she has no method
// for, gets a clear page. A third-party app gets a consent page in the
// user's language, and "Don't allow" and "Allow" reach the app as
// access_denied and a code. Every helper here starts with oidc.

// oidcStartServer is startServerWithClock with the clock set a minute or
// two behind the wall clock, at the start of a TOTP time step. The
// journeys' fixed epoch will not do here: the token endpoint (zitadel's)
// reckons expires_in and the ID token's iat and exp from the wall clock,
// against the access token's expiry from the injected one, so a clock
// hours behind gives an access token that expired before it was issued.
// A journey may move the clock a few time steps; it stays behind the
// wall clock, as zitadel's check of iat (at most a second ahead) wants.
func oidcStartServer(t *testing.T, mod ...func(*config.Config)) (*server, *testClock) {
	t.Helper()
	clock := &testClock{t: time.Now().UTC().Add(-time.Minute).Truncate(30 * time.Second)}
	return runServer(t, app.Options{Now: clock.Now}, mod...), clock
}

// oidcClaims reads the claims table of the demo app's page after a
// sign-in: the claim's name to its value (JSON for non-strings).
func oidcClaims(t *testing.T, p *browsertest.Page) map[string]string {
	t.Helper()
	mfaAt(t, p, "/demo/callback")
	if !p.Exists("table#claims") {
		msg := "no error shown"
		if p.Exists("#demo-error") {
			msg = p.Text("#demo-error")
		}
		t.Fatalf("the demo app shows no claims (%s):\n%s", msg, p.Text("body"))
	}
	var pairs [][2]string
	p.Eval(`[...document.querySelectorAll("table#claims td[data-claim]")].map(td => [td.dataset.claim, td.textContent])`, &pairs)
	out := map[string]string{}
	for _, kv := range pairs {
		out[kv[0]] = kv[1]
	}
	return out
}

// oidcAMR is the amr claim as a list.
func oidcAMR(t *testing.T, claims map[string]string) []string {
	t.Helper()
	var amr []string
	if err := json.Unmarshal([]byte(claims["amr"]), &amr); err != nil {
		t.Fatalf("amr claim %q is not a JSON list: %v", claims["amr"], err)
	}
	return amr
}

// oidcAuthTime is the auth_time claim.
func oidcAuthTime(t *testing.T, claims map[string]string) time.Time {
	t.Helper()
	n, err := strconv.ParseInt(claims["auth_time"], 10, 64)
	if err != nil {
		t.Fatalf("auth_time claim %q is not a number: %v", claims["auth_time"], err)
	}
	return time.Unix(n, 0)
}

// oidcSetUpTOTP gives the account an authenticator app as the security
// page would (StartTOTP, then a code from the "app"), and returns its
// secret. The code used at set-up is spent: the test must move the clock
// a time step before the next code.
func oidcSetUpTOTP(t *testing.T, srv *server, clock *testClock, acct store.Account) string {
	t.Helper()
	// Kari set it up in a session she opened with her password and SMS.
	_, sess, err := srv.App.Sessions.Create(t.Context(), acct.ID, session.Auth{AMR: []string{"pwd", "sms", "mfa"}, Level: 2, Methods: []string{"password", "sms"}}, session.Client{})
	if err != nil {
		t.Fatal(err)
	}
	who := flow.Who{Account: acct, Session: sess}
	enrol, err := srv.App.Flows.StartTOTP(t.Context(), who)
	if err != nil {
		t.Fatalf("StartTOTP: %v", err)
	}
	if _, err := srv.App.Flows.ConfirmTOTP(t.Context(), flow.Client{Lang: "nb"}, who, enrol.FactorID, mfaTOTP(t, clock, enrol.Secret)); err != nil {
		t.Fatalf("ConfirmTOTP: %v", err)
	}
	return enrol.Secret
}

// Visma's Kari, through an app: Kari has a phone for SMS codes and an
// authenticator app. The demo app signs her in at level 2 (password and
// SMS), then asks for level 3: Portvakt wants the app, not the password
// again and not SMS, and the session she has is made stronger, not
// replaced. Level 4 (a security key) she cannot reach, and is told so.
func TestJourney_OIDC_StepUp(t *testing.T) {
	t.Parallel()
	srv, clock := oidcStartServer(t, func(c *config.Config) {
		c.SMS.Sender = "dev"
		c.MFA.Mode = "optional"
	})
	const email, pw = "kari.nordmann@visma.example", "lofoten-ferry-timetable"
	const phone, masked = "+4791234567", "+47 ••• •• 567"
	acct, err := srv.App.Flows.CreateAccount(t.Context(), flow.NewAccount{Name: "Kari Nordmann", Email: email, Password: pw, Phone: phone, Lang: "nb"})
	if err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	secret := oidcSetUpTOTP(t, srv, clock, acct)
	texts := mfaSMS(srv, phone)
	p := browsertest.Shared(t).NewPage(t, browsertest.AcceptLanguage("nb-NO,nb;q=0.9"))

	// The demo app, then "Log in with Portvakt": Portvakt's sign-in.
	p.Open(srv.URL + "/demo")
	if got := p.Text("h1"); got != "Portvakt demo-app" {
		t.Fatalf("/demo shows %q, want the demo app in Bokmål", got)
	}
	p.Submit("#demo-login")
	mfaAt(t, p, "/login")
	p.Fill("#email", email)
	p.Submit(`form[action="/login"] button[type="submit"]`)
	mfaAt(t, p, "/login/password")
	p.Fill("#password", pw)
	p.Submit(`form[action="/login/password"] button[type="submit"]`)

	// The second step offers the app first; she chooses SMS.
	mfaAt(t, p, "/login/factor")
	if got := p.Text("h1"); got != "Ett steg til" {
		t.Errorf("second step heading = %q", got)
	}
	if got := p.Text("#factor-title"); got != "Kode fra autentiseringsappen" {
		t.Errorf("the second step asks first for %q, want the app", got)
	}
	if got := p.Text("#others-title"); got != "Prøv en annen måte" {
		t.Errorf("other ways heading = %q", got)
	}
	p.Submit(`#others-title ~ ul a[href*="method=sms"]`)
	if got := p.Text("#factor-title"); got != "Kode på SMS til "+masked {
		t.Fatalf("after choosing SMS the step is %q", got)
	}
	p.Submit(`form[action="/login/factor/send"] button`)
	mfaEnterCode(t, p, mfaCodeIn(t, texts.next(t, "")))

	// Back at the app, at level 2.
	first := oidcClaims(t, p)
	if got := first["acr"]; got != "urn:portvakt:level:2" {
		t.Errorf("acr after password and SMS = %q, want urn:portvakt:level:2", got)
	}
	amr := oidcAMR(t, first)
	for _, want := range []string{"pwd", "sms", "mfa"} {
		if !slices.Contains(amr, want) {
			t.Errorf("amr after password and SMS = %q, want %s among them", amr, want)
		}
	}
	if slices.Contains(amr, "otp") {
		t.Errorf("amr after password and SMS = %q claims an authenticator app", amr)
	}
	if first["sid"] == "" {
		t.Error("the ID token has no sid")
	}
	authTime1 := oidcAuthTime(t, first)
	if first["email"] != email {
		t.Errorf("email claim = %q, want %s", first["email"], email)
	}

	// Level 3: no password, a stronger factor, and only strong ones.
	clock.Advance(30 * time.Second) // the app shows a code the set-up did not use
	p.Submit("#demo-login-3")
	mfaAt(t, p, "/login/factor")
	if p.Exists("#password") {
		t.Error("the step-up asks for the password again")
	}
	if got := p.Text("h1"); got != "Bekreft med en sterkere metode" {
		t.Errorf("step-up heading = %q", got)
	}
	if got := p.Text("#factor-title"); got != "Kode fra autentiseringsappen" {
		t.Fatalf("the step-up asks for %q, want the app", got)
	}
	if p.Exists(`a[href*="method=sms"]`) || strings.Contains(p.Text("main"), "SMS") {
		t.Error("the step-up offers SMS, which is not strong enough for level 3")
	}
	if got := mfaTexts(p, "#others-title ~ ul a"); !slices.Equal(got, []string{"En reservekode"}) {
		t.Errorf("the step-up's other ways are %q, want only a recovery code", got)
	}
	if p.Exists(`input[name="remember"]`) {
		t.Error("a step-up offers to remember the browser")
	}
	mfaEnterCode(t, p, mfaTOTP(t, clock, secret))

	second := oidcClaims(t, p)
	if got := second["acr"]; got != "urn:portvakt:level:3" {
		t.Errorf("acr after the step-up = %q, want urn:portvakt:level:3", got)
	}
	amr = oidcAMR(t, second)
	for _, want := range []string{"pwd", "sms", "otp", "mfa"} {
		if !slices.Contains(amr, want) {
			t.Errorf("amr after the step-up = %q, want %s among them", amr, want)
		}
	}
	if second["sid"] != first["sid"] {
		t.Errorf("sid after the step-up = %q, want the same session %q (upgraded, not replaced)", second["sid"], first["sid"])
	}
	if authTime2 := oidcAuthTime(t, second); !authTime2.After(authTime1) {
		t.Errorf("auth_time after the step-up = %v, want later than %v", authTime2, authTime1)
	}
	if second["sub"] != first["sub"] {
		t.Errorf("sub changed from %q to %q", first["sub"], second["sub"])
	}

	// Level 3 again: the session is strong enough, so straight back.
	p.Submit("#demo-login-3")
	if again := oidcClaims(t, p); again["acr"] != "urn:portvakt:level:3" || again["sid"] != first["sid"] {
		t.Errorf("level 3 again: acr %q, sid %q; want level 3 in the same session without a question", again["acr"], again["sid"])
	}

	// Level 4 needs a security key or a passkey, and she has none. (The
	// link wraps onto a second line, where a click at the centre of its
	// box would miss it, so it is followed as a keyboard user would.)
	oidcFollow(p, "#demo-login-4")
	mfaAt(t, p, "/oidc/continue")
	if s := mfaStatus(p); s != http.StatusForbidden {
		t.Errorf("level 4 without a key: HTTP %d, want 403", s)
	}
	if lang, _ := p.Attr("html", "lang"); lang != "nb" {
		t.Errorf("level 4 page <html lang> = %q, want nb", lang)
	}
	if got := p.Text("h1"); got != "Denne appen krever en sterkere innlogging" {
		t.Errorf("level 4 page heading = %q", got)
	}
	if got := p.Text("main p"); !strings.Contains(got, "krever en innloggingsmetode med styrke 4") || !strings.Contains(got, "kontoen din har ingen") {
		t.Errorf("level 4 page says %q, want that strength 4 is needed and the account has no such method", got)
	}
	// Not a dead end: the way back to the app, which hears access_denied.
	p.Submit(`form[action="/oidc/cancel"] button[type="submit"]`)
	if u, _ := url.Parse(p.URL()); u.Path != "/demo/callback" || u.Query().Get("error") != "access_denied" {
		t.Errorf("going back to the app landed on %s, want /demo/callback with error=access_denied", p.URL())
	}
}

// oidcFollow follows the link matching sel, as Enter on it does, and waits
// for the new document.
func oidcFollow(p *browsertest.Page, sel string) {
	p.AwaitNavigation(func() { p.Eval(`document.querySelector(`+jsonString(sel)+`).click()`, nil) })
}

// oidcCallback is a third-party app's redirect URI: it records what the
// browser brings it.
type oidcCallback struct {
	srv *httptest.Server
	mu  sync.Mutex
	got []url.Values
}

func oidcStartCallback(t *testing.T) *oidcCallback {
	t.Helper()
	cb := &oidcCallback{}
	cb.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/cb" {
			http.NotFound(w, r)
			return
		}
		cb.mu.Lock()
		cb.got = append(cb.got, r.URL.Query())
		cb.mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(`<!doctype html><html lang="en"><title>App</title><h1 id="app">The app got the answer</h1></html>`))
	}))
	t.Cleanup(cb.srv.Close)
	return cb
}

// last is the newest answer the app received.
func (cb *oidcCallback) last(t *testing.T) url.Values {
	t.Helper()
	cb.mu.Lock()
	defer cb.mu.Unlock()
	if len(cb.got) == 0 {
		t.Fatal("the app's redirect URI received nothing")
	}
	return cb.got[len(cb.got)-1]
}

// oidcAuthorizeURL is an authorization request with PKCE (S256) and a
// fresh state; it returns the URL, the state and the code verifier.
func oidcAuthorizeURL(srv *server, clientID, redirectURI, scope string) (u, state, verifier string) {
	verifier = rand.Text() + rand.Text()
	sum := sha256.Sum256([]byte(verifier))
	state = rand.Text()
	q := url.Values{
		"response_type":         {"code"},
		"client_id":             {clientID},
		"redirect_uri":          {redirectURI},
		"scope":                 {scope},
		"state":                 {state},
		"code_challenge":        {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"},
	}
	return srv.URL + op.PathAuthorize + "?" + q.Encode(), state, verifier
}

// A third-party app (a booking service Ola's company does not run) gets a
// consent page in Ola's language, listing what it asks for. "Don't allow"
// reaches the app as access_denied, with the issuer and its state; "Allow"
// as a code that the app exchanges for tokens.
func TestJourney_OIDC_Consent(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	const email, pw = "ola.nordmann@visma.example", "fjord-kayak-lighthouse-42"
	mfaAccount(t, srv, flow.NewAccount{Name: "Ola Nordmann", Email: email, Password: pw, Lang: "nb"})
	cb := oidcStartCallback(t)
	redirect := cb.srv.URL + "/cb"
	client, _, err := srv.App.OP.CreateClient(t.Context(), op.ClientConfig{Name: "Reisebyrået", ThirdParty: true, Public: true, RedirectURIs: []string{redirect}})
	if err != nil {
		t.Fatalf("CreateClient: %v", err)
	}
	p := browsertest.Shared(t).NewPage(t, browsertest.AcceptLanguage("nb-NO,nb;q=0.9,en;q=0.5"))

	// The app sends Ola to Portvakt; he signs in, and is asked.
	authURL, state, _ := oidcAuthorizeURL(srv, client.ID, redirect, "openid profile email")
	p.Open(authURL)
	mfaAt(t, p, "/login")
	p.Fill("#email", email)
	p.Submit(`form[action="/login"] button[type="submit"]`)
	mfaAt(t, p, "/login/password")
	p.Fill("#password", pw)
	p.Submit(`form[action="/login/password"] button[type="submit"]`)
	mfaAt(t, p, "/oidc/continue")
	if lang, _ := p.Attr("html", "lang"); lang != "nb" {
		t.Errorf("consent page <html lang> = %q, want nb", lang)
	}
	if got := p.Text("h1"); got != "Vil du la Reisebyrået bruke kontoen din?" {
		t.Errorf("consent heading = %q", got)
	}
	want := []string{"Å vite hvem du er (ID-en til kontoen din)", "Navnet ditt", "E-postadressen din"}
	if got := mfaTexts(p, "ul.scopes li"); !slices.Equal(got, want) {
		t.Errorf("the consent page lists %q, want %q", got, want)
	}
	if got := p.Text(`button[value="deny"]`); got != "Ikke tillat" {
		t.Errorf("deny button = %q", got)
	}

	// "Don't allow": the app hears access_denied, from this issuer, with
	// its state.
	p.Submit(`button[value="deny"]`)
	if !p.Exists("#app") {
		t.Fatalf("after \"Don't allow\" the browser is at %s, want the app", p.URL())
	}
	q := cb.last(t)
	if q.Get("error") != "access_denied" || q.Get("iss") != srv.URL || q.Get("state") != state || q.Has("code") {
		t.Errorf("after \"Don't allow\" the app got %v; want error=access_denied, iss=%s, state=%s and no code", q, srv.URL, state)
	}

	// Again, and "Allow": no sign-in this time, the same question, then a
	// code that the app exchanges (with its PKCE verifier) for tokens.
	authURL, state, verifier := oidcAuthorizeURL(srv, client.ID, redirect, "openid profile email")
	p.Open(authURL)
	mfaAt(t, p, "/oidc/continue")
	if got := p.Text("h1"); got != "Vil du la Reisebyrået bruke kontoen din?" {
		t.Fatalf("the second request shows %q, want the consent page", got)
	}
	if got := p.Text(`button[value="allow"]`); got != "Tillat" {
		t.Errorf("allow button = %q", got)
	}
	p.Submit(`button[value="allow"]`)
	if !p.Exists("#app") {
		t.Fatalf("after \"Allow\" the browser is at %s, want the app", p.URL())
	}
	q = cb.last(t)
	if q.Get("code") == "" || q.Get("iss") != srv.URL || q.Get("state") != state || q.Has("error") {
		t.Fatalf("after \"Allow\" the app got %v; want a code, iss=%s and state=%s", q, srv.URL, state)
	}
	tokens := oidcExchange(t, srv, client.ID, redirect, q.Get("code"), verifier)
	if tokens.IDToken == "" || tokens.AccessToken == "" {
		t.Errorf("the token response has no ID token or no access token: %+v", tokens)
	}

	// Asked once: the next request goes straight back with a code.
	authURL, state, _ = oidcAuthorizeURL(srv, client.ID, redirect, "openid profile")
	p.Open(authURL)
	if !p.Exists("#app") {
		t.Fatalf("a third request, for scopes already allowed, is at %s (%q), want straight back to the app", p.URL(), p.Text("h1"))
	}
	if q = cb.last(t); q.Get("code") == "" || q.Get("state") != state {
		t.Errorf("third request: the app got %v, want a code and its state", q)
	}

	// The app may ask again (prompt=consent), in the language it names
	// (ui_locales), which comes before the account's and the browser's.
	authURL, state, _ = oidcAuthorizeURL(srv, client.ID, redirect, "openid email")
	p.Open(authURL + "&prompt=consent&ui_locales=sv")
	mfaAt(t, p, "/oidc/continue")
	if lang, _ := p.Attr("html", "lang"); lang != "sv" {
		t.Errorf("consent page with ui_locales=sv: <html lang> = %q, want sv", lang)
	}
	if got := p.Text("h1"); got != "Vill du låta Reisebyrået använda ditt konto?" {
		t.Errorf("consent heading with ui_locales=sv = %q", got)
	}
	want = []string{"Att veta vem du är (ditt kontos id)", "Din e-postadress"}
	if got := mfaTexts(p, "ul.scopes li"); !slices.Equal(got, want) {
		t.Errorf("with ui_locales=sv the consent page lists %q, want %q", got, want)
	}
	p.Submit(`button[value="allow"]`)
	if q = cb.last(t); q.Get("code") == "" || q.Get("state") != state {
		t.Errorf("after allowing again: the app got %v, want a code and its state", q)
	}
}

type oidcTokens struct {
	AccessToken string `json:"access_token"`
	IDToken     string `json:"id_token"`
	TokenType   string `json:"token_type"`
}

// oidcExchange redeems a code at the token endpoint as a public client.
func oidcExchange(t *testing.T, srv *server, clientID, redirectURI, code, verifier string) oidcTokens {
	t.Helper()
	resp, err := http.PostForm(srv.URL+op.PathToken, url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI},
		"client_id": {clientID}, "code_verifier": {verifier},
	})
	if err != nil {
		t.Fatalf("token request: %v", err)
	}
	defer resp.Body.Close()
	var tok oidcTokens
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("token response: HTTP %d, %v", resp.StatusCode, err)
	}
	return tok
}
