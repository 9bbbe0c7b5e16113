package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/app"
	"github.com/portvakt/portvakt/internal/config"
	"github.com/portvakt/portvakt/internal/secret"
	"github.com/portvakt/portvakt/internal/session"
	"github.com/portvakt/portvakt/internal/store"
	"github.com/portvakt/portvakt/internal/web"
)

// clock is a settable time source that also steps forward a millisecond
// on every reading (like tailscale's tstest.Clock), so records made in
// one test keep their order when sorted by time.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Millisecond)
	return c.t
}
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type env struct {
	app   *app.App
	srv   *httptest.Server
	clock *clock
	logs  *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func newEnv(t *testing.T, mod ...func(*config.Config)) *env {
	t.Helper()
	cfg := config.Default()
	cfg.Database.DSN = filepath.Join(t.TempDir(), "portvakt.db")
	for _, m := range mod {
		m(&cfg)
	}
	c := &clock{t: time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)}
	logs := &syncBuffer{}
	a, err := app.New(t.Context(), cfg, app.Options{Now: c.Now, Logger: slog.New(slog.NewJSONHandler(logs, nil))})
	if err != nil {
		t.Fatalf("app.New: %v", err)
	}
	srv := httptest.NewServer(validateAPI(t, a.Handler())) // every /api/ answer must match openapi.yaml
	t.Cleanup(func() { srv.Close(); a.Close() })
	return &env{app: a, srv: srv, clock: c, logs: logs}
}

// do sends a request and returns the response with its body read.
func (e *env) do(t *testing.T, method, path string, body io.Reader, header map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if bytes.Contains(b, []byte(".go:")) || bytes.Contains(b, []byte("sql:")) || bytes.Contains(b, []byte("goroutine ")) {
		t.Errorf("%s %s leaks internals: %s", method, path, b)
	}
	return resp, string(b)
}

func form(kv ...string) (io.Reader, map[string]string) {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return strings.NewReader(v.Encode()), map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
}

func with(h map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range h {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

func TestHomePageSpeaksTheBrowsersLanguage(t *testing.T) {
	e := newEnv(t)
	tests := []struct{ accept, lang, text string }{
		{"nb-NO,nb;q=0.9", "nb", "Velkommen til Portvakt"},
		{"sv-SE", "sv", "Välkommen till Portvakt"},
		{"en-GB", "en", "Welcome to Portvakt"},
		{"de-DE", "en", "Welcome to Portvakt"},
	}
	for _, tt := range tests {
		resp, body := e.do(t, "GET", "/", nil, map[string]string{"Accept-Language": tt.accept})
		if resp.StatusCode != 200 {
			t.Fatalf("GET / = %d", resp.StatusCode)
		}
		if !strings.Contains(body, `<html lang="`+tt.lang+`">`) || !strings.Contains(body, tt.text) {
			t.Errorf("GET / with Accept-Language %q: want lang=%s and %q in\n%s", tt.accept, tt.lang, tt.text, body)
		}
		if got := resp.Header.Get("Content-Language"); got != tt.lang {
			t.Errorf("Content-Language = %q, want %q", got, tt.lang)
		}
	}
}

func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t)
	resp, body := e.do(t, "GET", "/login", nil, nil)
	h := resp.Header
	csp := h.Get("Content-Security-Policy")
	for _, want := range []string{"frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'", "script-src 'nonce-"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP allows unsafe-inline: %q", csp)
	}
	for k, want := range map[string]string{
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "no-referrer",
		"Cache-Control":          "no-store",
		"X-Frame-Options":        "DENY",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if h.Get("Strict-Transport-Security") != "" {
		t.Error("HSTS sent on plain http")
	}
	if h.Get("X-Request-Id") == "" {
		t.Error("no X-Request-Id")
	}
	_, body2 := e.do(t, "GET", "/login", nil, nil)
	n1 := regexp.MustCompile(`nonce-([^']+)`).FindStringSubmatch(csp)
	if n1 == nil || strings.Contains(body2, n1[1]) {
		t.Errorf("CSP nonce is missing or reused across requests")
	}
	_ = body
}

func TestHTTPSPublicURL(t *testing.T) {
	e := newEnv(t, func(c *config.Config) { c.PublicURL = "https://login.example.org" })
	resp, _ := e.do(t, "GET", "/", nil, nil)
	if got := resp.Header.Get("Strict-Transport-Security"); !strings.Contains(got, "max-age=31536000") {
		t.Errorf("HSTS = %q, want max-age of a year", got)
	}
	acct := createAccount(t, e, "kari")
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("POST", "https://login.example.org/logout", nil)
	token, _, err := e.app.Sessions.Create(t.Context(), acct.ID, session.Auth{AMR: []string{"pwd"}, Level: 1}, session.Client{})
	if err != nil {
		t.Fatal(err)
	}
	req.AddCookie(&http.Cookie{Name: "__Host-portvakt_session", Value: token})
	e.app.Handler().ServeHTTP(rec, req)
	c := rec.Result().Cookies()
	if len(c) == 0 || c[0].Name != "__Host-portvakt_session" || !c[0].Secure || !c[0].HttpOnly || c[0].Path != "/" || c[0].Domain != "" || c[0].SameSite != http.SameSiteLaxMode {
		t.Errorf("session cookie on https = %+v, want __Host- prefixed, Secure, HttpOnly, Path=/, no Domain, SameSite=Lax", c)
	}
}

func TestLoginFormMistakeIsLocalizedAndKeepsInput(t *testing.T) {
	e := newEnv(t)
	body, h := form("email", "kari.example.no")
	resp, page := e.do(t, "POST", "/login", body, with(h, "Accept-Language", "sv"))
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("POST /login status = %d, want 422", resp.StatusCode)
	}
	for _, want := range []string{
		`saknar tecknet @`,                            // the Swedish rule, naming what is missing
		`value="kari.example.no"`,                     // the input is kept
		`aria-invalid="true"`,                         // the field is marked
		`id="email-error-0"`,                          // the message has an ID …
		`aria-describedby="email-hint email-error-0"`, // … that the input points to
		`class="error-summary"`,                       // and the summary lists it
		`href="#email"`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("POST /login page lacks %s", want)
		}
	}
}

func TestAPIProblems(t *testing.T) {
	e := newEnv(t)
	resp, body := e.do(t, "POST", "/api/v1/login", strings.NewReader(`{"email":"kari@"}`), map[string]string{"Content-Type": "application/json", "Accept-Language": "nb"})
	if resp.StatusCode != 422 || resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("POST /api/v1/login = %d %s, want 422 problem+json", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var p web.ProblemJSON
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		t.Fatal(err)
	}
	if p.Type != "urn:portvakt:problem:invalid" || p.Status != 422 || len(p.Errors) != 1 || p.Errors[0].Field != "email" || p.Errors[0].Key != "email.invalid_missing" || !strings.Contains(p.Errors[0].Message, "delen etter @") || p.RequestID == "" {
		t.Errorf("problem = %+v", p)
	}
	if p.Errors[0].Args["missing"] != "delen etter @" {
		t.Errorf("args = %v, want the missing part translated", p.Errors[0].Args)
	}

	for _, bad := range []string{`{"email":`, `[]`, `{"emial":"x@y.no"}`} {
		resp, body := e.do(t, "POST", "/api/v1/login", strings.NewReader(bad), map[string]string{"Content-Type": "application/json"})
		if resp.StatusCode != 422 || !strings.Contains(body, "api.bad_json") {
			t.Errorf("POST /api/v1/login %s = %d %s, want 422 api.bad_json", bad, resp.StatusCode, body)
		}
	}
	resp, body = e.do(t, "GET", "/api/v1/nothing", nil, nil)
	if resp.StatusCode != 404 || resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("GET /api/v1/nothing = %d %s", resp.StatusCode, body)
	}
}

func TestCrossSiteFormIsRefused(t *testing.T) {
	e := newEnv(t)
	for _, h := range []map[string]string{
		{"Sec-Fetch-Site": "cross-site"},
		{"Origin": "https://evil.example"},
	} {
		body, fh := form("lang", "nb", "return_to", "/")
		resp, page := e.do(t, "POST", "/lang", body, with(fh, append(flat(h), "Accept-Language", "nb")...))
		if resp.StatusCode != 403 || !strings.Contains(page, "Skjemaet kunne ikke sendes") {
			t.Errorf("POST /lang with %v = %d, want 403 with the localized explanation", h, resp.StatusCode)
		}
		if len(resp.Cookies()) != 0 {
			t.Errorf("POST /lang with %v set cookies %v", h, resp.Cookies())
		}
	}
	body, fh := form("lang", "nb", "return_to", "/")
	resp, _ := e.do(t, "POST", "/lang", body, with(fh, "Sec-Fetch-Site", "same-origin"))
	if resp.StatusCode != 303 {
		t.Errorf("same-origin POST /lang = %d, want 303", resp.StatusCode)
	}
}

func flat(m map[string]string) []string {
	var out []string
	for k, v := range m {
		out = append(out, k, v)
	}
	return out
}

func TestLanguageSwitch(t *testing.T) {
	e := newEnv(t)
	tests := []struct{ returnTo, want string }{
		{"/login", "/login"},
		{"//evil.example/x", "/"},
		{"/\\evil.example", "/"},
		{"https://evil.example/", "/"},
		{"/./\\evil.example", "/"},
		{"/a/../\\evil.example", "/"},
		{"/%0d%0aSet-Cookie:x=1", "/%0d%0aSet-Cookie:x=1"},
		{"/\tevil", "/"},
		{"/account?tab=emails", "/account?tab=emails"},
		{"", "/"},
	}
	for _, tt := range tests {
		body, h := form("lang", "sv", "return_to", tt.returnTo)
		resp, _ := e.do(t, "POST", "/lang", body, h)
		if resp.StatusCode != 303 || resp.Header.Get("Location") != tt.want {
			t.Errorf("POST /lang return_to=%q = %d → %q, want 303 → %q", tt.returnTo, resp.StatusCode, resp.Header.Get("Location"), tt.want)
		}
		var found bool
		for _, c := range resp.Cookies() {
			if c.Name == "portvakt_lang" && c.Value == "sv" && c.HttpOnly {
				found = true
			}
		}
		if !found {
			t.Errorf("POST /lang set no language cookie")
		}
	}
	_, page := e.do(t, "GET", "/", nil, map[string]string{"Cookie": "portvakt_lang=sv", "Accept-Language": "nb"})
	if !strings.Contains(page, `<html lang="sv">`) {
		t.Error("the language cookie does not beat Accept-Language")
	}
	body, h := form("lang", "klingon")
	resp, page := e.do(t, "POST", "/lang", body, h)
	if resp.StatusCode != 422 || !strings.Contains(page, "en, nb, sv") {
		t.Errorf("POST /lang lang=klingon = %d, want 422 naming the supported languages", resp.StatusCode)
	}
}

func createAccount(t *testing.T, e *env, username string) store.Account {
	t.Helper()
	a := store.Account{ID: secret.ID(), Username: username, Name: "Kari Nordmann", CreatedAt: e.clock.Now(), UpdatedAt: e.clock.Now()}
	if err := e.app.DB.CreateAccount(t.Context(), a); err != nil {
		t.Fatal(err)
	}
	return a
}

func TestSessionTimeoutsAndLogout(t *testing.T) {
	e := newEnv(t)
	acct := createAccount(t, e, "kari")
	token, _, err := e.app.Sessions.Create(t.Context(), acct.ID, session.Auth{AMR: []string{"pwd"}, Level: 1}, session.Client{UserAgent: "test"})
	if err != nil {
		t.Fatal(err)
	}
	cookie := map[string]string{"Cookie": "portvakt_session=" + token}

	resp, body := e.do(t, "GET", "/api/v1/session", nil, cookie)
	if resp.StatusCode != 200 || !strings.Contains(body, acct.ID) {
		t.Fatalf("GET /api/v1/session = %d %s", resp.StatusCode, body)
	}
	_, page := e.do(t, "GET", "/", nil, cookie)
	if !strings.Contains(page, "signed in as Kari Nordmann") || !strings.Contains(page, `action="/logout"`) {
		t.Error("the home page does not show the signed-in user and a sign-out button")
	}

	// Activity every 25 minutes keeps the session alive past the 30-minute idle timeout …
	for range 4 {
		e.clock.Advance(25 * time.Minute)
		if resp, _ := e.do(t, "GET", "/api/v1/session", nil, cookie); resp.StatusCode != 200 {
			t.Fatalf("session ended after steady activity at %s", e.clock.Now())
		}
	}
	// … but 31 idle minutes end it, and the page says why.
	e.clock.Advance(31 * time.Minute)
	_, page = e.do(t, "GET", "/", nil, with(cookie, "Accept-Language", "nb"))
	if !strings.Contains(page, "inaktiv en stund") {
		t.Error("an idle-expired session does not explain itself")
	}
	if resp, _ := e.do(t, "GET", "/api/v1/session", nil, cookie); resp.StatusCode != 401 {
		t.Errorf("idle session still works: %d", resp.StatusCode)
	}

	// Absolute timeout: steady activity does not extend past 12 hours.
	token, _, _ = e.app.Sessions.Create(t.Context(), acct.ID, session.Auth{Level: 1}, session.Client{})
	cookie = map[string]string{"Cookie": "portvakt_session=" + token}
	for elapsed := time.Duration(0); elapsed < 12*time.Hour-20*time.Minute; elapsed += 20 * time.Minute {
		e.clock.Advance(20 * time.Minute)
		if resp, _ := e.do(t, "GET", "/api/v1/session", nil, cookie); resp.StatusCode != 200 {
			t.Fatalf("active session ended after %s", elapsed)
		}
	}
	e.clock.Advance(25 * time.Minute)
	if resp, _ := e.do(t, "GET", "/api/v1/session", nil, cookie); resp.StatusCode != 401 {
		t.Errorf("session outlived the absolute timeout: %d", resp.StatusCode)
	}

	// Logout ends the session on the server; replaying the cookie fails.
	token, _, _ = e.app.Sessions.Create(t.Context(), acct.ID, session.Auth{Level: 1}, session.Client{})
	cookie = map[string]string{"Cookie": "portvakt_session=" + token}
	resp, _ = e.do(t, "POST", "/logout", nil, cookie)
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/?notice=signed-out" {
		t.Errorf("POST /logout = %d → %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := e.do(t, "GET", "/api/v1/session", nil, cookie); resp.StatusCode != 401 {
		t.Errorf("cookie still works after logout: %d", resp.StatusCode)
	}
	// A forged cookie is simply no session.
	if resp, _ := e.do(t, "GET", "/api/v1/session", nil, map[string]string{"Cookie": "portvakt_session=" + secret.Token()}); resp.StatusCode != 401 {
		t.Errorf("forged cookie: %d, want 401", resp.StatusCode)
	}
}

func TestSessionRotation(t *testing.T) {
	e := newEnv(t)
	acct := createAccount(t, e, "ola")
	old, s, err := e.app.Sessions.Create(t.Context(), acct.ID, session.Auth{AMR: []string{"pwd"}, Level: 1}, session.Client{})
	if err != nil {
		t.Fatal(err)
	}
	fresh, s2, err := e.app.Sessions.Rotate(t.Context(), s.ID, &session.Auth{AMR: []string{"pwd", "otp"}, Level: 3})
	if err != nil {
		t.Fatal(err)
	}
	if fresh == old || s2.Level != 3 {
		t.Fatalf("Rotate gave the same token or kept the level: %v", s2)
	}
	resp, _ := e.do(t, "GET", "/api/v1/session", nil, map[string]string{"Cookie": "portvakt_session=" + old})
	if resp.StatusCode != 401 {
		t.Errorf("the pre-rotation token still works: %d", resp.StatusCode)
	}
	// A request still carrying the old token (one the page sent just
	// before the rotation) must not clear the cookie: its answer may reach
	// the browser after the new token did.
	for _, c := range resp.Cookies() {
		if c.Name == "portvakt_session" {
			t.Errorf("a request with a rotated-away token set the session cookie: %v", c)
		}
	}
	resp, body := e.do(t, "GET", "/api/v1/session", nil, map[string]string{"Cookie": "portvakt_session=" + fresh})
	if resp.StatusCode != 200 || !strings.Contains(body, `"amr":["pwd","otp"]`) || !strings.Contains(body, `"level":3`) {
		t.Errorf("rotated session = %d %s", resp.StatusCode, body)
	}
}

func TestOperationsEndpoints(t *testing.T) {
	e := newEnv(t)
	if resp, body := e.do(t, "GET", "/healthz", nil, nil); resp.StatusCode != 200 || body != "ok\n" {
		t.Errorf("/healthz = %d %q", resp.StatusCode, body)
	}
	if resp, _ := e.do(t, "GET", "/readyz", nil, nil); resp.StatusCode != 200 {
		t.Errorf("/readyz = %d", resp.StatusCode)
	}
	e.do(t, "GET", "/login", nil, nil)
	resp, body := e.do(t, "GET", "/metrics", nil, nil)
	if resp.StatusCode != 200 || !strings.Contains(body, `portvakt_http_requests_total{code="200",route="GET /login"}`) {
		t.Errorf("/metrics lacks the request counter:\n%s", body)
	}
	resp, page := e.do(t, "GET", "/no/such/page", nil, map[string]string{"Accept-Language": "sv"})
	if resp.StatusCode != 404 || !strings.Contains(page, "Sidan hittades inte") {
		t.Errorf("GET /no/such/page = %d, want a localized 404 page", resp.StatusCode)
	}
	if !strings.Contains(e.logs.String(), `"route":"GET /login"`) {
		t.Error("the request log lacks the route")
	}
}

func TestDatabaseFailureIsA500WithARequestID(t *testing.T) {
	e := newEnv(t)
	acct := createAccount(t, e, "per")
	token, _, err := e.app.Sessions.Create(t.Context(), acct.ID, session.Auth{Level: 1}, session.Client{})
	if err != nil {
		t.Fatal(err)
	}
	e.app.DB.Close()
	if resp, _ := e.do(t, "GET", "/readyz", nil, nil); resp.StatusCode != 503 {
		t.Errorf("/readyz with the database closed = %d, want 503", resp.StatusCode)
	}
	resp, page := e.do(t, "GET", "/", nil, map[string]string{"Cookie": "portvakt_session=" + token, "Accept-Language": "nb"})
	id := resp.Header.Get("X-Request-Id")
	if resp.StatusCode != 500 || !strings.Contains(page, "Noe gikk galt hos oss") || !strings.Contains(page, id) {
		t.Errorf("GET / with the database closed = %d; want a localized 500 page that shows request ID %s", resp.StatusCode, id)
	}
	if !strings.Contains(e.logs.String(), `"request_id":"`+id+`"`) || !strings.Contains(e.logs.String(), "internal error") {
		t.Error("the 500 was not logged with its request ID")
	}
	if strings.Contains(e.logs.String(), token) {
		t.Error("the session token was logged")
	}
}

func TestDevMailbox(t *testing.T) {
	e := newEnv(t)
	if err := e.app.Mailer.Send(context.Background(), "kari@example.no", "nb", "test", nil); err != nil {
		t.Fatal(err)
	}
	resp, body := e.do(t, "GET", "/dev/mail?to=kari@example.no", nil, map[string]string{"Accept": "application/json"})
	var msgs []web.DevMailJSON
	if err := json.Unmarshal([]byte(body), &msgs); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /dev/mail = %d %s (%v)", resp.StatusCode, body, err)
	}
	if len(msgs) != 1 || msgs[0].To != "kari@example.no" || !strings.Contains(msgs[0].Subject, "Testmelding") || msgs[0].Text == "" {
		t.Errorf("dev mailbox = %+v", msgs)
	}
	_, page := e.do(t, "GET", "/dev/mail", nil, nil)
	if !strings.Contains(page, "kari@example.no") {
		t.Error("the dev mailbox page does not list the message")
	}

	off := newEnv(t, func(c *config.Config) { c.PublicURL = "https://login.example.org" })
	if resp, _ := off.do(t, "GET", "/dev/mail", nil, nil); resp.StatusCode != 404 {
		t.Errorf("/dev/mail on a public host = %d, want 404", resp.StatusCode)
	}
}
