package e2e

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/browsertest"
	"github.com/portvakt/portvakt/internal/config"
	"github.com/portvakt/portvakt/internal/flow"
	"github.com/portvakt/portvakt/internal/op"
	"github.com/portvakt/portvakt/internal/testwait"
)

// UDI's guardian (seed 003): Kari applies on behalf of her son Ola, who
// has no account. In Bokmål, in Chromium: she adds Ola with his
// fødselsnummer (a typing mistake first, which the page names), and is
// mailed. The demo app asks for the scope represent: after signing in
// Kari is asked "Hvem opptrer du på vegne av?", herself first, picks Ola,
// and the ID token says act {sub: Kari} and represented {Ola, his pid}
// while sub stays Kari. A service then exchanges the app's access token
// (RFC 8693, through npm openid-client's generic grant) for a token whose
// sub is Ola and whose act is Kari, with the scope limited to her rights
// for him; a right she does not hold is refused. Kari removes Ola: the
// tokens that acted for him introspect inactive, the exchange is refused,
// and a new sign-in no longer offers him.
func TestJourney_Representation(t *testing.T) {
	srv, _ := oidcStartServer(t, func(c *config.Config) {
		c.Representation.Enabled = true
		c.Representation.Rights = []string{"udi:apply", "udi:read"}
	})
	const email, pw = "kari.nordmann@udi.example", "nordlys-over-tromso-77"
	acct, err := srv.App.Flows.CreateAccount(t.Context(), flow.NewAccount{Name: "Kari Nordmann", Email: email, Password: pw, Lang: "nb"})
	if err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	ola := fodselsnummer(t, "150318")
	p := browsertest.Shared(t).NewPage(t, browsertest.AcceptLanguage("nb-NO,nb;q=0.9"))
	mfaSignInEmail(t, srv, p, email, pw)
	mfaAt(t, p, "/account")

	// The account page links the representation page, where Ola is
	// added, with a mistyped number first.
	p.Submit("#represent-open")
	if got := p.Text("h1"); got != "Opptre på vegne av andre" {
		t.Fatalf("/account/representation heading %q", got)
	}
	if got := p.Text("#acts-for"); !strings.Contains(got, "Du opptrer ikke på vegne av noen.") {
		t.Errorf("before adding, the page says %q", got)
	}
	typo := ola[:10] + string('0'+(ola[10]-'0'+1)%10)
	p.Fill("#name", "Ola Nordmann")
	p.Fill("#national_id", typo)
	p.Click(`#add-person input[name="rights"][value="udi:apply"]`)
	p.Submit("#add-person-submit")
	mfaAt(t, p, "/account/representation/person") // the form again, with the mistake
	if errs := fieldErrors(t, p, "national_id"); len(errs) != 1 || !strings.Contains(errs[0], "de to siste sifrene") {
		t.Errorf("a mistyped fødselsnummer shows %q, want one message about the control digits", errs)
	}
	if got := p.Value("#name"); got != "Ola Nordmann" {
		t.Errorf("after the mistake the name field holds %q, want it kept", got)
	}
	p.Fill("#national_id", ola)
	p.Submit("#add-person-submit")
	mfaAt(t, p, "/account/representation")
	if got := p.Text(".notice"); got != "Personen er lagt til." {
		t.Errorf("notice after adding %q", got)
	}
	row := p.Text("#acts-for li")
	for _, want := range []string{"Ola Nordmann", "150318 •••••", "Gjelder", "udi:apply"} {
		if !strings.Contains(row, want) {
			t.Errorf("the row for Ola %q lacks %q", row, want)
		}
	}
	if strings.Contains(p.HTML(), ola) {
		t.Errorf("the page shows Ola's whole fødselsnummer")
	}
	box := openInbox(srv, email)
	m := box.next(t, "Opptre på vegne av andre hos Portvakt")
	if !strings.Contains(m.Text, "Du la til Ola Nordmann som en du opptrer på vegne av.") {
		t.Errorf("the mail to Kari says %q", m.Text)
	}

	// The demo app asks whom she acts for: herself first, then Ola.
	p.Open(srv.URL + "/demo")
	p.Submit("#demo-login-represent")
	mfaAt(t, p, "/act-as")
	if got := p.Text("h1"); got != "Hvem opptrer du på vegne av?" {
		t.Errorf("chooser heading %q", got)
	}
	if got := mfaTexts(p, "#act-as .radio"); len(got) != 2 || got[0] != "Meg selv (Kari Nordmann)" || !strings.HasPrefix(got[1], "Ola Nordmann") {
		t.Errorf("the chooser offers %q, want Kari herself first, then Ola", got)
	}
	p.Click(`#act-as input[data-name="Ola Nordmann"]`)
	p.Screenshot(filepath.Join(browsertest.ArtifactDir(t.Name()), "represent-chooser-nb.png"))
	p.Submit("#act-as-submit")
	claims := oidcClaims(t, p)
	if claims["sub"] != acct.ID {
		t.Errorf("ID token sub %q, want Kari's account %q (the person who signed in)", claims["sub"], acct.ID)
	}
	var act, rep map[string]any
	json.Unmarshal([]byte(claims["act"]), &act)
	json.Unmarshal([]byte(claims["represented"]), &rep)
	if act["sub"] != acct.ID {
		t.Errorf("ID token act %q, want {sub: %s}", claims["act"], acct.ID)
	}
	if rep["name"] != "Ola Nordmann" || rep["pid"] != ola || rep["type"] != "person" || !strings.HasPrefix(fmt.Sprint(rep["sub"]), "nid:") {
		t.Errorf("ID token represented %q, want Ola as a person with his pid and a nid: subject", claims["represented"])
	}
	olaSub := fmt.Sprint(rep["sub"])

	// A service exchanges an app's token for one that speaks for Ola.
	rp := ocStartRP(t.Context(), t)
	app := ocNewApp(t)
	c, secret, err := srv.App.OP.CreateClient(t.Context(), op.ClientConfig{
		Name: "Søknadsportalen", RedirectURIs: []string{app.URL + "/callback"},
		GrantTypes: []string{op.GrantAuthorizationCode, op.GrantTokenExchange},
	})
	if err != nil {
		t.Fatalf("CreateClient: %v", err)
	}
	var disc map[string]any
	rp.call(t, map[string]any{"op": "discover", "issuer": srv.URL, "client_id": c.ID, "client_secret": secret}, &disc)
	var start struct {
		URL string `json:"url"`
	}
	rp.call(t, map[string]any{"op": "start", "redirect_uri": app.URL + "/callback", "scope": "openid profile represent"}, &start)
	p.Open(start.URL)
	if !strings.HasPrefix(p.URL(), app.URL+"/callback?") {
		t.Fatalf("the second app's sign-in is at %s (%q), want its callback: the choice (Ola) holds for the session", p.URL(), p.Text("h1"))
	}
	var code struct {
		AccessToken string         `json:"access_token"`
		Claims      map[string]any `json:"claims"`
		Userinfo    map[string]any `json:"userinfo"`
	}
	rp.call(t, map[string]any{"op": "code", "callback": app.last(t, "/callback")}, &code)
	if r, _ := code.Userinfo["represented"].(map[string]any); r["sub"] != olaSub {
		t.Errorf("userinfo represented %v, want Ola (%s)", code.Userinfo["represented"], olaSub)
	}
	var ex struct {
		AccessToken     string         `json:"access_token"`
		IssuedTokenType string         `json:"issued_token_type"`
		Scope           string         `json:"scope"`
		Introspection   map[string]any `json:"introspection"`
	}
	rp.call(t, map[string]any{"op": "exchange", "subject_token": code.AccessToken}, &ex)
	in := ex.Introspection
	if in["active"] != true || in["sub"] != olaSub || in["scope"] != "udi:apply" {
		t.Errorf("the exchanged token introspects %v; want active, sub %s (Ola), scope udi:apply", in, olaSub)
	}
	if a, _ := in["act"].(map[string]any); a["sub"] != acct.ID {
		t.Errorf("the exchanged token's act is %v, want {sub: Kari}", in["act"])
	}
	if ex.IssuedTokenType != "urn:ietf:params:oauth:token-type:access_token" {
		t.Errorf("issued_token_type %q", ex.IssuedTokenType)
	}
	// A right Kari does not hold for Ola is refused.
	if msg := ocCallErr(t, rp, map[string]any{"op": "exchange", "subject_token": code.AccessToken, "scope": "udi:read"}); !strings.Contains(msg, "invalid_scope") {
		t.Errorf("exchange for udi:read (not granted): %s, want invalid_scope", msg)
	}

	// Kari removes Ola.
	p.Open(srv.URL + "/account/representation")
	p.Submit(`#acts-for button[data-action="remove"]`)
	mfaAt(t, p, "/account/representation")
	if got := p.Text(".notice"); !strings.HasPrefix(got, "Ferdig.") {
		t.Errorf("notice after removing %q", got)
	}
	if got := p.Text("#acts-for"); !strings.Contains(got, "Du opptrer ikke på vegne av noen.") {
		t.Errorf("after removing, the list says %q", got)
	}
	if m := box.next(t, "Opptre på vegne av andre hos Portvakt"); !strings.Contains(m.Text, "Du opptrer ikke lenger på vegne av Ola Nordmann.") {
		t.Errorf("the mail after removal says %q", m.Text)
	}

	// Every token that acted for Ola is dead, and the exchange refused.
	var after map[string]any
	rp.call(t, map[string]any{"op": "introspect", "token": code.AccessToken}, &after)
	if after["active"] != false {
		t.Errorf("the app's access token after removal: %v, want inactive", after)
	}
	rp.call(t, map[string]any{"op": "introspect", "token": ex.AccessToken}, &after)
	if after["active"] != false {
		t.Errorf("the exchanged token after removal: %v, want inactive", after)
	}
	if msg := ocCallErr(t, rp, map[string]any{"op": "exchange", "subject_token": code.AccessToken}); !strings.Contains(msg, "invalid_grant") {
		t.Errorf("exchange after removal: %s, want invalid_grant", msg)
	}

	// A new sign-in no longer offers Ola: straight to the app, as Kari.
	mfaSignOut(t, p)
	mfaSignInEmail(t, srv, p, email, pw)
	p.Open(srv.URL + "/demo")
	p.Submit("#demo-login-represent")
	claims = oidcClaims(t, p)
	if claims["sub"] != acct.ID || claims["represented"] != "" || claims["act"] != "" {
		t.Errorf("after removal the ID token has sub %q act %q represented %q; want Kari alone", claims["sub"], claims["act"], claims["represented"])
	}

	// A token of Kari acting for herself cannot be exchanged for anyone.
	rp.call(t, map[string]any{"op": "start", "redirect_uri": app.URL + "/callback", "scope": "openid represent"}, &start)
	p.Open(start.URL)
	if !strings.HasPrefix(p.URL(), app.URL+"/callback?") {
		t.Fatalf("the app's sign-in is at %s (%q), want its callback", p.URL(), p.Text("h1"))
	}
	rp.call(t, map[string]any{"op": "code", "callback": app.last(t, "/callback")}, &code)
	if msg := ocCallErr(t, rp, map[string]any{"op": "exchange", "subject_token": code.AccessToken}); !strings.Contains(msg, "invalid_grant") || !strings.Contains(msg, "does not act for anyone") {
		t.Errorf("exchange of a token acting for nobody: %s, want invalid_grant", msg)
	}
}

// fodselsnummer makes a valid Norwegian fødselsnummer for the birth date
// ddmmyy (born 2000–2039: individual number 500–999).
func fodselsnummer(t *testing.T, ddmmyy string) string {
	t.Helper()
	w1 := []int{3, 7, 6, 1, 8, 9, 4, 5, 2}
	w2 := []int{5, 4, 3, 2, 7, 6, 5, 4, 3, 2}
	for ind := 500; ind < 1000; ind++ {
		s := fmt.Sprintf("%s%03d", ddmmyy, ind)
		k := func(s string, w []int) int {
			sum := 0
			for i, c := range s {
				sum += int(c-'0') * w[i]
			}
			return (11 - sum%11) % 11
		}
		k1 := k(s, w1)
		if k1 == 10 {
			continue
		}
		k2 := k(s+fmt.Sprint(k1), w2)
		if k2 == 10 {
			continue
		}
		return fmt.Sprintf("%s%d%d", s, k1, k2)
	}
	t.Fatalf("no fødselsnummer for %s", ddmmyy)
	return ""
}

// ocCallErr sends a command that must fail and returns its error and
// cause as text; an answer without an error fails the test.
func ocCallErr(t *testing.T, rp *ocRP, cmd map[string]any) string {
	t.Helper()
	b, _ := json.Marshal(cmd)
	if _, err := rp.stdin.Write(append(b, '\n')); err != nil {
		t.Fatalf("rp.mjs %s: %v", cmd["op"], err)
	}
	var line string
	select {
	case l, ok := <-rp.lines:
		if !ok {
			t.Fatalf("rp.mjs %s: the process ended; stderr:\n%s", cmd["op"], rp.stderr)
		}
		line = l
	case <-time.After(testwait.D(20 * time.Second)):
		t.Fatalf("rp.mjs %s: no answer", cmd["op"])
	}
	var e struct {
		Error *string `json:"error"`
	}
	json.Unmarshal([]byte(line), &e)
	if e.Error == nil {
		t.Fatalf("openid-client %s succeeded (%s), want an error", cmd["op"], line)
	}
	return line
}

// Two accounts, in English: Per asks to act for Kari; she is mailed and
// sees the request on her own page, where Per cannot accept it for her;
// she accepts, and Per, signing in to the demo app, may now choose her.
// Kari takes it back, and Per's next request to the app no longer offers
// her, nor acts for her.
func TestJourney_RepresentationAccount(t *testing.T) {
	srv, _ := oidcStartServer(t, func(c *config.Config) {
		c.Representation.Enabled = true
		c.Representation.Rights = []string{"altinn:submit"}
	})
	for _, a := range []flow.NewAccount{{Name: "Kari Nordmann", Email: "kari@example.no", Password: "kari-har-et-langt-passord", Lang: "en"},
		{Name: "Per Hansen", Email: "per@example.no", Password: "per-har-et-langt-passord", Lang: "en"}} {
		if _, err := srv.App.Flows.CreateAccount(t.Context(), a); err != nil {
			t.Fatalf("CreateAccount: %v", err)
		}
	}
	b := browsertest.Shared(t)
	per := b.NewPage(t, browsertest.AcceptLanguage("en"))
	mfaSignInEmail(t, srv, per, "per@example.no", "per-har-et-langt-passord")
	mfaAt(t, per, "/account")
	per.Submit("#represent-open")
	per.Fill("#account", "kari@example.no")
	per.Click(`#add-account input[name="rights"][value="altinn:submit"]`)
	per.Submit("#add-account-submit")
	mfaAt(t, per, "/account/representation")
	if got := per.Text(".notice"); got != "If there is an account with that name or address, they have been asked to accept." {
		t.Errorf("notice after asking %q", got)
	}
	if row := per.Text("#acts-for li"); !strings.Contains(row, "kari@example.no") || !strings.Contains(row, "Waiting for their acceptance") || strings.Contains(row, "Nordmann") {
		t.Errorf("Per's row %q, want the address he typed, waiting, and not Kari's name", row)
	}
	m := openInbox(srv, "kari@example.no").next(t, "Acting on behalf of others at Portvakt")
	if !strings.Contains(m.Text, "Per Hansen asks to act on your behalf.") || !strings.Contains(m.Text, "/account/representation") {
		t.Errorf("the mail to Kari says %q", m.Text)
	}
	// Per's own page has no Accept button for it.
	if per.Exists(`#acts-for button[data-action="accept"]`) {
		t.Errorf("Per's page offers to accept his own request")
	}

	kari := b.NewPage(t, browsertest.AcceptLanguage("en"))
	mfaSignInEmail(t, srv, kari, "kari@example.no", "kari-har-et-langt-passord")
	kari.Open(srv.URL + "/account/representation")
	if row := kari.Text("#acted-for-by li"); !strings.Contains(row, "Per Hansen") || !strings.Contains(row, "altinn:submit") {
		t.Errorf("Kari's page shows %q, want Per's request with the right", row)
	}
	kari.Submit(`#acted-for-by button[data-action="accept"]`)
	mfaAt(t, kari, "/account/representation")
	if got := kari.Text(".notice"); got != "Accepted. They may now act for you." {
		t.Errorf("notice after accepting %q", got)
	}

	// Per may now act for Kari in the demo app.
	per.Open(srv.URL + "/demo")
	per.Submit("#demo-login-represent")
	mfaAt(t, per, "/act-as")
	if got := mfaTexts(per, "#act-as .radio"); len(got) != 2 || got[0] != "Myself (Per Hansen)" || got[1] != "Kari Nordmann" {
		t.Errorf("the chooser offers %q", got)
	}
	per.Click(`#act-as input[data-name="Kari Nordmann"]`)
	per.Submit("#act-as-submit")
	claims := oidcClaims(t, per)
	var rep map[string]any
	json.Unmarshal([]byte(claims["represented"]), &rep)
	if rep["name"] != "Kari Nordmann" || rep["type"] != "person" || rep["pid"] != nil {
		t.Errorf("represented %q, want Kari (an account: no pid)", claims["represented"])
	}

	// Kari takes it back: Per's next sign-in to the app acts for himself.
	kari.Open(srv.URL + "/account/representation")
	kari.Submit(`#acted-for-by button[data-action="revoke"]`)
	mfaAt(t, kari, "/account/representation")
	if got := kari.Text("#acted-for-by"); !strings.Contains(got, "Nobody may act for you.") {
		t.Errorf("after taking it back Kari's page says %q", got)
	}
	per.Open(srv.URL + "/demo")
	per.Submit("#demo-login-represent")
	claims = oidcClaims(t, per)
	if claims["represented"] != "" || claims["act"] != "" {
		t.Errorf("after Kari took it back Per's ID token has act %q represented %q", claims["act"], claims["represented"])
	}
	if m := openInbox(srv, "per@example.no").next(t, "Acting on behalf of others at Portvakt"); !strings.Contains(m.Text, "You asked to act on behalf of kari@example.no") {
		t.Errorf("Per's first mail says %q", m.Text)
	}
}
