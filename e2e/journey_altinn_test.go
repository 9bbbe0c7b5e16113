package e2e

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/portvakt/portvakt/internal/account"
	"github.com/portvakt/portvakt/internal/browsertest"
	"github.com/portvakt/portvakt/internal/flow"
	"github.com/portvakt/portvakt/internal/op"
	"github.com/portvakt/portvakt/internal/secret"
	"github.com/portvakt/portvakt/internal/web"
)

// Altinn (seed 000), issue 14: a person registers an end-user system
// ("fagsystem") for their accounting software under Konto → Avansert:
// systemer and ticks "allow"; the software (a Go program here) signs the
// person in with the system's ID and secret, the fødselsnummer and
// password, and the SMS code, and gets a token with act naming the
// system and the person's rights as scope, which the example resource
// server (examples/resource-server) checks by introspection. Every
// failure has its own key and a Norwegian message.
func TestJourney_Altinn_Systems(t *testing.T) {
	t.Parallel()
	srv := startServer(t, profile(t, "altinn"))
	const fnr, pw, phone = "01017012343", "Hemmeligordetmitt42", "+4791234567"
	const other, otherPhone = "15038512363", "+4791345678"
	mfaAccount(t, srv, flow.NewAccount{Username: fnr, Name: "Kari Nordmann", Email: "kari@example.no", Password: pw, Phone: "912 34 567"})
	mfaAccount(t, srv, flow.NewAccount{Username: other, Name: "Ola Nordmann", Password: pw, Phone: "913 45 678"})
	_, rsSecret, err := srv.App.OP.CreateClient(t.Context(), op.ClientConfig{ID: "altinn-api", Name: "Altinn API", GrantTypes: []string{op.GrantClientCredentials}})
	if err != nil {
		t.Fatalf("CreateClient(altinn-api): %v", err)
	}
	rs := startResourceServer(t, srv.URL, "altinn-api", rsSecret)
	kariSMS, olaSMS := openInbox(srv, phone), openInbox(srv, otherPhone)
	mail := openInbox(srv, "kari@example.no")

	// Kari signs in (fødselsnummer, password, SMS) and opens Systems.
	p := browsertest.Shared(t).NewPage(t, browsertest.AcceptLanguage("nb"))
	p.Open(srv.URL + "/login/username")
	p.Fill("#username", fnr)
	p.Fill("#password", pw)
	p.Submit(`form[action="/login/username"] button[type="submit"]`)
	wantPath(t, p, "/login/factor")
	p.Submit(`form[action="/login/factor/send"] button[type="submit"]`)
	enterCode(t, p, smsCode(t, kariSMS.next(t, "")))
	wantPath(t, p, "/account")
	if got := p.Text("#systems-title"); got != "Avansert: systemer" {
		t.Errorf("the account page's advanced section is titled %q", got)
	}
	p.Submit(`a[href="/account/systems"]`)
	wantPath(t, p, "/account/systems")
	if got := p.Text("#allow-title"); got != "Tillat innlogging fra programmer med brukernavn og passord" {
		t.Errorf("the switch is titled %q", got)
	}
	if got := p.Text("#allow"); !strings.Contains(got, "Av: programmer kan ikke logge deg inn") || !strings.Contains(got, "ingen SMS sendes") {
		t.Errorf("the switch, off by default, says %q", got)
	}

	// The software before the system exists: every ID is wrong.
	sw := &software{t: t, url: srv.URL}
	sw.id, sw.secret = "sys-aaaaaaaaaaaaaaaa", "x"
	sw.wantProblem(sw.login(fnr, pw), 401, "system.credentials_invalid", "System-ID-en eller hemmeligheten")

	// Kari creates the system with both rights, and turns "allow" on.
	sysID, sysSecret := createSystem(t, p, "Maestro regnskap", []string{"altinn:submit", "altinn:download"}, "")
	if m := mail.next(t, "Systemene dine hos Altinn er endret"); !strings.Contains(m.Text, "Maestro regnskap ("+sysID+")") || strings.Contains(m.Text, sysSecret) {
		t.Errorf("the mail about the new system says:\n%s", m.Text)
	}
	sw.id, sw.secret = sysID, sysSecret

	// Not allowed yet: the right password gets person.not_allowed, which
	// says where to turn it on; no SMS goes.
	sw.wantProblem(sw.login(fnr, pw), 403, "person.not_allowed", "Konto → Avansert: systemer")
	p.Submit("#allow-button")
	wantPath(t, p, "/account/systems")
	if got := p.Text("#allow-state"); !strings.HasPrefix(got, "På:") {
		t.Errorf("after turning it on the switch says %q", got)
	}
	mail.next(t, "Systemene dine hos Altinn er endret")

	// A wrong secret, a wrong fødselsnummer, a wrong password: each its
	// own answer, and no SMS.
	sw.secret = sysSecret + "x"
	sw.wantProblem(sw.login(fnr, pw), 401, "system.credentials_invalid", "System-ID-en eller hemmeligheten")
	sw.secret = sysSecret
	nobody := validFnrNotIn(t, fnr, other)
	sw.wantProblem(sw.login(nobody, pw), 401, "person.credentials_invalid", "Ingen SMS-kode er sendt")
	sw.wantProblem(sw.login(fnr, "Feilpassord1234"), 401, "person.credentials_invalid", "Ingen SMS-kode er sendt")
	// Ola has not allowed it (and the system is not his): not_allowed.
	sw.wantProblem(sw.login(other, pw), 403, "person.not_allowed", "Tillat innlogging fra programmer")
	if sent := append(kariSMS.unread(t), olaSMS.unread(t)...); len(sent) > 0 {
		t.Errorf("SMS went out for refused sign-ins: %q", sent)
	}

	// The right password: an SMS code, a wrong code, the right one.
	start := sw.login(fnr, pw)
	if start.status != 200 || start.body["phone"] != "+47 ••• •• 567" || start.body["handle"] == "" {
		t.Fatalf("login = %d %v, want the handle and the masked number", start.status, start.body)
	}
	handle := start.body["handle"].(string)
	code := smsCode(t, kariSMS.next(t, ""))
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	sw.wantProblem(sw.code(handle, wrong), 422, "code.invalid", "SMS-koden er feil")
	done := sw.code(handle, code)
	if done.status != 200 || done.body["token_type"] != "Bearer" || done.body["scope"] != "altinn:download altinn:submit" {
		t.Fatalf("code = %d %v, want a Bearer token with both rights", done.status, done.body)
	}
	if _, ok := done.body["refresh_token"]; ok {
		t.Error("a refresh token was issued, but systems.refresh_tokens is off")
	}
	token := done.body["access_token"].(string)
	sw.wantProblem(sw.code(handle, code), 410, "code.expired", "")

	// Introspection: sub is Kari, act the system; the resource server
	// lets both operations through.
	kari, err := srv.App.DB.GetAccountByUsername(t.Context(), fnr)
	if err != nil {
		t.Fatal(err)
	}
	in := introspect(t, srv.URL, "altinn-api", rsSecret, token)
	if in["active"] != true || in["sub"] != kari.ID || in["scope"] != "altinn:download altinn:submit" {
		t.Errorf("introspection = %v", in)
	}
	if act, _ := in["act"].(map[string]any); act["sub"] != sysID {
		t.Errorf("introspection act = %v, want {sub: %s}", in["act"], sysID)
	}
	if st, body := rs.call(t, "POST", "/submit", token); st != 200 || body["act"] != sysID || body["sub"] != kari.ID {
		t.Errorf("submit with the right = %d %v", st, body)
	}

	// A second system with download only: submit is refused, naming the
	// right.
	dlID, dlSecret := createSystem(t, p, "Maestro arkiv", []string{"altinn:download"}, "")
	dl := &software{t: t, url: srv.URL, id: dlID, secret: dlSecret}
	st := dl.login(fnr, pw)
	dlDone := dl.code(st.body["handle"].(string), smsCode(t, kariSMS.next(t, "")))
	dlToken, _ := dlDone.body["access_token"].(string)
	if dlDone.body["scope"] != "altinn:download" {
		t.Errorf("the download-only system's token has scope %v", dlDone.body["scope"])
	}
	if st, body := rs.call(t, "GET", "/download", dlToken); st != 200 {
		t.Errorf("download with the right = %d %v", st, body)
	}
	if st, body := rs.call(t, "POST", "/submit", dlToken); st != 403 || body["right"] != "altinn:submit" || !strings.Contains(fmt.Sprint(body["detail"]), `"altinn:submit" is needed to submit a form`) {
		t.Errorf("submit without the right = %d %v, want 403 naming altinn:submit", st, body)
	}

	// Kari revokes the first system: its token is inactive at once, the
	// resource server refuses it, and the software's next call fails.
	p.Submit(fmt.Sprintf(`li[data-system=%q] form[action="/account/systems/revoke"] button`, sysID))
	wantPath(t, p, "/account/systems")
	if got := p.Text(fmt.Sprintf(`li[data-system=%q]`, sysID)); !strings.Contains(got, "Trukket tilbake") {
		t.Errorf("the revoked system shows %q", got)
	}
	if in := introspect(t, srv.URL, "altinn-api", rsSecret, token); in["active"] != false {
		t.Errorf("introspection after revocation = %v, want inactive", in)
	}
	if st, _ := rs.call(t, "POST", "/submit", token); st != 401 {
		t.Errorf("submit with the revoked system's token = %d, want 401", st)
	}
	sw.wantProblem(sw.login(fnr, pw), 403, "system.inactive", "trukket tilbake")
	// The other system still works.
	if in := introspect(t, srv.URL, "altinn-api", rsSecret, dlToken); in["active"] != true {
		t.Errorf("the other system's token after revoking the first = %v", in)
	}
	// The password grant stays refused at the token endpoint.
	resp, err := http.PostForm(srv.URL+"/oauth/token", url.Values{"grant_type": {"password"}, "username": {fnr}, "password": {pw}, "client_id": {"altinn-api"}, "client_secret": {rsSecret}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode == 200 || !strings.Contains(string(b), "unsupported_grant_type") {
		t.Errorf("the password grant = %d %s, want unsupported_grant_type", resp.StatusCode, b)
	}
}

// The same through a system that authenticates with private_key_jwt
// (RFC 7523): the public key is pasted on the Systems page; the software
// signs a fresh assertion for each call, and a replayed one is refused.
func TestJourney_Altinn_SystemPrivateKeyJWT(t *testing.T) {
	t.Parallel()
	srv := startServer(t, profile(t, "altinn"))
	const fnr, pw, phone = "01017012343", "Hemmeligordetmitt42", "+4791234567"
	mfaAccount(t, srv, flow.NewAccount{Username: fnr, Name: "Kari Nordmann", Password: pw, Phone: "912 34 567"})
	_, rsSecret, err := srv.App.OP.CreateClient(t.Context(), op.ClientConfig{ID: "altinn-api", Name: "Altinn API", GrantTypes: []string{op.GrantClientCredentials}})
	if err != nil {
		t.Fatal(err)
	}
	sms := openInbox(srv, phone)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := json.Marshal(jose.JSONWebKey{Key: &key.PublicKey, Algorithm: "ES256", Use: "sig"})

	p := browsertest.Shared(t).NewPage(t, browsertest.AcceptLanguage("nb"))
	p.Open(srv.URL + "/login/username")
	p.Fill("#username", fnr)
	p.Fill("#password", pw)
	p.Submit(`form[action="/login/username"] button[type="submit"]`)
	p.Submit(`form[action="/login/factor/send"] button[type="submit"]`)
	enterCode(t, p, smsCode(t, sms.next(t, "")))
	p.Open(srv.URL + "/account/systems")
	p.Submit("#allow-button")
	// A private key pasted by mistake is refused, and kept out of the page.
	priv, _ := json.Marshal(jose.JSONWebKey{Key: key, Algorithm: "ES256"})
	sysID, sec := createSystem(t, p, "Maestro nøkkel", []string{"altinn:submit"}, string(priv))
	if sysID != "" || sec != "" {
		t.Fatalf("a private JWK was accepted as the system's key")
	}
	if got := strings.Join(fieldErrors(t, p, "public_key"), " "); !strings.Contains(got, "aldri en privat nøkkel") {
		t.Errorf("the key error = %q", got)
	}
	sysID, sec = createSystem(t, p, "Maestro nøkkel", []string{"altinn:submit"}, string(pub))
	if sysID == "" || sec != "" {
		t.Fatalf("the key system = %q, secret %q; want an ID and no secret", sysID, sec)
	}

	sign := func(aud string) string {
		sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, (&jose.SignerOptions{}).WithType("JWT"))
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		tok, err := jwt.Signed(sig).Claims(jwt.Claims{Issuer: sysID, Subject: sysID, Audience: jwt.Audience{aud},
			IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(2 * time.Minute)), ID: secret.ID()}).Serialize()
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	sw := &software{t: t, url: srv.URL}
	// The system's ID with a secret instead of an assertion: refused.
	sw.id, sw.secret = sysID, "anything"
	sw.wantProblem(sw.login(fnr, pw), 401, "system.credentials_invalid", "")
	sw.id = ""
	sw.assertion = sign(srv.URL + "/api/v1/systems/login")
	start := sw.login(fnr, pw)
	if start.status != 200 {
		t.Fatalf("login with an assertion = %d %v", start.status, start.body)
	}
	// The same assertion again is a replay.
	sw.wantProblem(sw.login(fnr, pw), 401, "system.credentials_invalid", "")
	// One for another audience is refused.
	sw.assertion = sign("https://elsewhere.example/token")
	sw.wantProblem(sw.login(fnr, pw), 401, "system.credentials_invalid", "")
	sw.assertion = sign(srv.URL + "/api/v1/systems/login/code")
	done := sw.code(start.body["handle"].(string), smsCode(t, sms.next(t, "")))
	if done.status != 200 || done.body["scope"] != "altinn:submit" {
		t.Fatalf("code with an assertion = %d %v", done.status, done.body)
	}
	in := introspect(t, srv.URL, "altinn-api", rsSecret, done.body["access_token"].(string))
	if act, _ := in["act"].(map[string]any); in["active"] != true || act["sub"] != sysID {
		t.Errorf("introspection = %v, want active with act.sub %s", in, sysID)
	}
}

// The code step is exactly once: 20 parallel calls with the right code
// get one token.
func TestJourney_Altinn_SystemCodeOnce(t *testing.T) {
	t.Parallel()
	srv := startServer(t, profile(t, "altinn"))
	const fnr, pw, phone = "01017012343", "Hemmeligordetmitt42", "+4791234567"
	mfaAccount(t, srv, flow.NewAccount{Username: fnr, Password: pw, Phone: "912 34 567"})
	sms := openInbox(srv, phone)
	p := browsertest.Shared(t).NewPage(t, browsertest.AcceptLanguage("nb"))
	p.Open(srv.URL + "/login/username")
	p.Fill("#username", fnr)
	p.Fill("#password", pw)
	p.Submit(`form[action="/login/username"] button[type="submit"]`)
	p.Submit(`form[action="/login/factor/send"] button[type="submit"]`)
	enterCode(t, p, smsCode(t, sms.next(t, "")))
	p.Open(srv.URL + "/account/systems")
	p.Submit("#allow-button")
	id, sec := createSystem(t, p, "Maestro", []string{"altinn:submit"}, "")
	sw := &software{t: t, url: srv.URL, id: id, secret: sec}
	start := sw.login(fnr, pw)
	handle, code := start.body["handle"].(string), smsCode(t, sms.next(t, ""))
	var mu sync.Mutex
	var ok, expired int
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			r := sw.code(handle, code)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case r.status == 200:
				ok++
			case r.status == 410 && r.key() == "code.expired":
				expired++
			default:
				t.Errorf("a parallel code call = %d %v", r.status, r.body)
			}
		})
	}
	wg.Wait()
	if ok != 1 || expired != 19 {
		t.Errorf("20 parallel code calls: %d tokens, %d code.expired; want 1 and 19", ok, expired)
	}
}

// createSystem fills the create form of the person's own systems and
// returns the new system's ID and secret as the page shows them once
// ("" when the page shows a problem instead).
func createSystem(t *testing.T, p *browsertest.Page, name string, rights []string, publicKey string) (id, sec string) {
	t.Helper()
	const form = `form.system-create:has(input[name="org"][value=""])`
	p.Fill(form+` input[name="name"]`, name)
	for _, r := range []string{"altinn:submit", "altinn:download"} {
		sel := fmt.Sprintf(`%s input[name="rights"][value=%q]`, form, r)
		if isChecked(t, p, sel) != slices.Contains(rights, r) {
			p.Click(sel)
		}
	}
	if publicKey != "" {
		var open bool
		p.Eval(`document.querySelector(`+jsQuote(form+" details")+`).open`, &open)
		if !open {
			p.Click(form + " details summary")
		}
		p.Fill(form+` textarea[name="public_key"]`, publicKey)
	}
	p.Submit(form + ` button[type="submit"]`)
	if !p.Exists("#system-id") {
		return "", ""
	}
	id = p.Text("#system-id")
	if p.Exists("#system-secret") {
		sec = p.Text("#system-secret")
		if got := p.Text("#new-secret"); !strings.Contains(got, "Dette er den eneste gangen hemmeligheten vises") {
			t.Errorf("the secret is shown with %q", got)
		}
	}
	return id, sec
}

var smsCodeRE = regexp.MustCompile(`\b\d{6}\b`)

func smsCode(t *testing.T, m web.DevMailJSON) string {
	t.Helper()
	c := smsCodeRE.FindString(m.Text)
	if c == "" {
		t.Fatalf("no code in the SMS %q", m.Text)
	}
	return c
}

// validFnrNotIn returns a valid fødselsnummer that is none of taken.
func validFnrNotIn(t *testing.T, taken ...string) string {
	t.Helper()
	for i := range 1000 {
		c := fmt.Sprintf("020280%03d", i)
		for cd := range 100 {
			n := fmt.Sprintf("%s%02d", c, cd)
			if _, err := account.ParseNationalID("username", account.NationalIDNorway, n); err == nil && !slices.Contains(taken, n) {
				return n
			}
		}
	}
	t.Fatal("no valid fødselsnummer found")
	return ""
}

// software is the accounting software: it calls the API as the system.
type software struct {
	t               *testing.T
	url, id, secret string
	assertion       string
}

type apiAnswer struct {
	status int
	body   map[string]any
}

func (a apiAnswer) key() string {
	errs, _ := a.body["errors"].([]any)
	if len(errs) == 0 {
		return ""
	}
	e, _ := errs[0].(map[string]any)
	k, _ := e["key"].(string)
	return k
}

func (sw *software) post(path string, body map[string]any) apiAnswer {
	sw.t.Helper()
	if sw.assertion != "" {
		body["client_assertion"] = sw.assertion
		body["client_assertion_type"] = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
	}
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", sw.url+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept-Language", "nb")
	if sw.id != "" {
		req.SetBasicAuth(url.QueryEscape(sw.id), url.QueryEscape(sw.secret))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		sw.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return apiAnswer{status: resp.StatusCode, body: out}
}

func (sw *software) login(user, pw string) apiAnswer {
	return sw.post("/api/v1/systems/login", map[string]any{"national_id": user, "password": pw})
}

func (sw *software) code(handle, code string) apiAnswer {
	return sw.post("/api/v1/systems/login/code", map[string]any{"handle": handle, "code": code})
}

// wantProblem checks a problem+json answer: status, key, and a message
// in Norwegian containing msg.
func (sw *software) wantProblem(a apiAnswer, status int, key, msg string) {
	sw.t.Helper()
	if a.status != status || a.key() != key || !strings.Contains(fmt.Sprint(a.body["detail"]), msg) {
		sw.t.Errorf("answer = %d %v; want %d %s with %q", a.status, a.body, status, key, msg)
	}
}

func introspect(t *testing.T, base, id, sec, token string) map[string]any {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/oauth/introspect", strings.NewReader(url.Values{"token": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(id, sec)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return out
}

// resourceServer is examples/resource-server, built and run.
type resourceServer struct{ url string }

func startResourceServer(t *testing.T, issuer, id, sec string) *resourceServer {
	t.Helper()
	bin := t.TempDir() + "/resource-server"
	if out, err := exec.Command("go", "build", "-o", bin, "../examples/resource-server").CombinedOutput(); err != nil {
		t.Fatalf("go build examples/resource-server: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "-issuer", issuer, "-client-id", id, "-client-secret", sec, "-listen", "127.0.0.1:0")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("resource server: %v", err)
	}
	return &resourceServer{url: strings.TrimSpace(strings.TrimPrefix(line, "listening on "))}
}

func (rs *resourceServer) call(t *testing.T, method, path, token string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, rs.url+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}
