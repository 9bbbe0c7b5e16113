package web_test

import (
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/captcha"
	"github.com/portvakt/portvakt/internal/captcha/altcha"
	"github.com/portvakt/portvakt/internal/captcha/siteverify"
	"github.com/portvakt/portvakt/internal/config"
	"github.com/portvakt/portvakt/internal/flow"
	"github.com/portvakt/portvakt/internal/web"
)

func captchaEnv(t *testing.T, mod ...func(*config.Config)) *env {
	return newEnv(t, append([]func(*config.Config){func(c *config.Config) {
		c.Captcha.Provider = "altcha"
		c.Captcha.MaxNumber = 1000 // quick to solve in tests
		c.Captcha.LoginAfterFailures = 2
		c.Captcha.NoJSBudget = 2
	}}, mod...)...)
}

// solve fetches a challenge from the JSON API and solves it with
// altcha-lib-go's solver, as the widget would.
func solve(t *testing.T, e *env) string {
	t.Helper()
	resp, body := e.do(t, "GET", "/api/v1/challenge", nil, nil)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("GET /api/v1/challenge = %d %s", resp.StatusCode, body)
	}
	var ch captcha.Challenge
	if err := json.Unmarshal([]byte(body), &ch); err != nil {
		t.Fatal(err)
	}
	p, err := altcha.Solve(ch)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCaptchaAtSignupAndRecovery(t *testing.T) {
	e := captchaEnv(t)
	sv := "Accept-Language"

	resp, page := e.do(t, "GET", "/signup", nil, map[string]string{sv: "sv"})
	nonce := regexp.MustCompile(`'nonce-([^']+)'`).FindStringSubmatch(resp.Header.Get("Content-Security-Policy"))
	if nonce == nil || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "worker-src 'self'") {
		t.Fatalf("CSP %q", resp.Header.Get("Content-Security-Policy"))
	}
	for _, want := range []string{`data-captcha`, `data-challenge="/api/v1/challenge"`, `data-label="Jag är inte en robot"`,
		`name="captcha_nojs" value="1"`, `<link rel="stylesheet" href="/static/altcha/altcha.css">`} {
		if !strings.Contains(page, want) {
			t.Errorf("GET /signup lacks %s", want)
		}
	}
	for _, src := range []string{"/static/altcha/altcha.min.js", "/static/captcha.js"} {
		m := regexp.MustCompile(`<script src="` + regexp.QuoteMeta(src) + `" nonce="([^"]+)"`).FindStringSubmatch(page)
		if m == nil || html.UnescapeString(m[1]) != nonce[1] {
			t.Errorf("GET /signup: %s is not loaded with the CSP nonce %q: %v", src, nonce[1], m)
		}
	}
	for _, f := range []string{"/static/altcha/altcha.min.js", "/static/altcha/sha.js", "/static/altcha/altcha.css", "/static/altcha/LICENSE.txt", "/static/captcha.js"} {
		if resp, _ := e.do(t, "GET", f, nil, nil); resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s = %d", f, resp.StatusCode)
		}
	}

	expired := solve(t, e)
	e.clock.Advance(11 * time.Minute)
	good := solve(t, e)
	for _, tc := range []struct{ name, solution, want string }{
		{"missing", "", "Bekräfta att du inte är en robot"},
		{"wrong", "eyJub3QiOiJpdCJ9", "Kontrollen av att du inte är en robot misslyckades"},
		{"expired", expired, "har gått ut"},
	} {
		for _, path := range []string{"/signup", "/recover"} {
			body, h := form("email", "kari@example.no", "method", "code", "captcha", tc.solution)
			resp, page := e.do(t, "POST", path, body, with(h, sv, "sv"))
			if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, tc.want) || !strings.Contains(page, `value="kari@example.no"`) || !strings.Contains(page, "data-captcha") {
				t.Errorf("%s %s: %d, want 422 with %q, the input kept and a new widget", tc.name, path, resp.StatusCode, tc.want)
			}
		}
	}

	body, h := form("email", "kari@example.no", "captcha", good)
	if resp, _ := e.do(t, "POST", "/signup", body, h); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/signup/code?flow=") {
		t.Fatalf("right solution: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	body, h = form("email", "kari@example.no", "captcha", good)
	if resp, page := e.do(t, "POST", "/signup", body, with(h, sv, "sv")); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, "redan använts") {
		t.Fatalf("replayed: %d", resp.StatusCode)
	}
	body, h = form("email", "kari@example.no", "method", "code", "captcha", solve(t, e))
	if resp, _ := e.do(t, "POST", "/recover", body, h); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("recover with a right solution: %d", resp.StatusCode)
	}
}

// Without JavaScript the form posts captcha_nojs=1: it works, within a
// small hourly budget per network.
func TestCaptchaWithoutJavaScriptHasAStricterBudget(t *testing.T) {
	e := captchaEnv(t)
	for i := range 3 {
		body, h := form("email", "kari@example.no", "method", "code", "captcha_nojs", "1")
		resp, page := e.do(t, "POST", "/recover", body, with(h, "Accept-Language", "sv"))
		if i < 2 && resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("unsolved submission %d: %d", i+1, resp.StatusCode)
		}
		if i == 2 && (resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(page, "Utan JavaScript") || !strings.Contains(page, `value="kari@example.no"`)) {
			t.Fatalf("beyond the budget: %d", resp.StatusCode)
		}
	}
	// A solved challenge still passes.
	body, h := form("email", "kari@example.no", "method", "code", "captcha", solve(t, e))
	if resp, _ := e.do(t, "POST", "/recover", body, h); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("solved after the budget: %d", resp.StatusCode)
	}
}

func TestCaptchaJSONAPI(t *testing.T) {
	e := captchaEnv(t)
	js := map[string]string{"Content-Type": "application/json", "Accept-Language": "nb"}
	post := func(path, body string) (int, web.ProblemJSON) {
		resp, b := e.do(t, "POST", path, strings.NewReader(body), js)
		var p web.ProblemJSON
		_ = json.Unmarshal([]byte(b), &p)
		return resp.StatusCode, p
	}
	if code, p := post("/api/v1/signup", `{"email":"kari@example.no"}`); code != 422 || len(p.Errors) != 1 || p.Errors[0].Field != "captcha" || p.Errors[0].Key != "captcha.missing" || !strings.Contains(p.Errors[0].Message, "robot") {
		t.Fatalf("no solution: %d %+v", code, p)
	}
	good := solve(t, e)
	if code, p := post("/api/v1/signup", `{"email":"kari@example.no","captcha":"`+good+`"}`); code != 201 {
		t.Fatalf("right solution: %d %+v", code, p)
	}
	if code, p := post("/api/v1/recovery", `{"email":"kari@example.no","method":"code","captcha":"`+good+`"}`); code != 422 || p.Errors[0].Key != "captcha.replayed" {
		t.Fatalf("replayed: %d %+v", code, p)
	}
	if code, p := post("/api/v1/recovery", `{"email":"kari@example.no","method":"code","captcha":"`+solve(t, e)+`"}`); code != 201 {
		t.Fatalf("recovery: %d %+v", code, p)
	}
	// Other fields are still checked by the endpoint.
	if code, p := post("/api/v1/signup", `{"emial":"kari@example.no","captcha":"`+solve(t, e)+`"}`); code != 422 || p.Errors[0].Key != "api.bad_json" {
		t.Fatalf("unknown field: %d %+v", code, p)
	}

	off := newEnv(t)
	if resp, _ := off.do(t, "GET", "/api/v1/challenge", nil, nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("challenge with captcha off: %d", resp.StatusCode)
	}
	if resp, _ := off.do(t, "POST", "/api/v1/signup", strings.NewReader(`{"email":"kari@example.no"}`), js); resp.StatusCode != 201 {
		t.Fatalf("signup with captcha off: %d", resp.StatusCode)
	}
}

// Sign-in asks only after captcha.login_after_failures failures.
func TestCaptchaAtSignInAfterFailures(t *testing.T) {
	e := captchaEnv(t, func(c *config.Config) { c.Login.Methods = []string{"email", "username"} })
	createAccount(t, e, "kari")
	try := func(solution string) (int, string) {
		body, h := form("username", "kari", "password", "wrong password here", "captcha", solution)
		resp, page := e.do(t, "POST", "/login/username", body, with(h, "Accept-Language", "sv"))
		return resp.StatusCode, page
	}
	for i := range 2 {
		code, page := try("")
		if code != http.StatusUnauthorized || strings.Contains(page, "data-captcha") != (i == 1) {
			t.Fatalf("failure %d: %d, widget shown %v", i+1, code, strings.Contains(page, "data-captcha"))
		}
	}
	if _, page := e.do(t, "GET", "/login/username", nil, nil); !strings.Contains(page, "data-captcha") {
		t.Errorf("the sign-in page after 2 failures from this address has no widget")
	}
	code, page := try("")
	if code != http.StatusUnprocessableEntity || !strings.Contains(page, "Bekräfta att du inte är en robot") || !strings.Contains(page, `value="kari"`) {
		t.Fatalf("third try without a solution: %d", code)
	}
	code, page = try(solve(t, e))
	if code != http.StatusUnauthorized || strings.Contains(page, "Bekräfta att du inte är en robot") {
		t.Fatalf("third try with a solution: %d (the password is wrong, so it must be refused for that)", code)
	}
}

// Email-first sign-in: after two wrong passwords the password page shows
// the widget; an unsolved try is refused before any hash, and the right
// password with a solution signs in.
func TestCaptchaAtEmailFirstSignIn(t *testing.T) {
	e := captchaEnv(t)
	if _, err := e.app.Flows.CreateAccount(t.Context(), flow.NewAccount{Name: "Kari", Email: "kari@example.no", Password: "correct horse battery staple"}); err != nil {
		t.Fatal(err)
	}
	b, flowID := passwordStep(t, e, "kari@example.no")
	for i := range 2 {
		status, body := b.post("/login/password", url.Values{"flow": {flowID}, "password": {"wrong horse battery staple"}})
		if status != http.StatusUnauthorized || strings.Contains(body, "data-captcha") != (i == 1) {
			t.Fatalf("wrong password %d: %d, widget %v", i+1, status, strings.Contains(body, "data-captcha"))
		}
	}
	var status int
	var body string
	cost := countHashes(e, func() {
		status, body = b.post("/login/password", url.Values{"flow": {flowID}, "password": {"correct horse battery staple"}})
	})
	if status != http.StatusUnprocessableEntity || !strings.Contains(body, "Confirm that you are not a robot") || cost.verifications != 0 {
		t.Fatalf("unsolved: %d, %d hashes", status, cost.verifications)
	}
	status, body = b.post("/login/password", url.Values{"flow": {flowID}, "password": {"correct horse battery staple"}, "captcha": {solve(t, e)}})
	if status != http.StatusOK || strings.Contains(body, `name="password"`) {
		t.Fatalf("solved with the right password: %d", status)
	}
}

// With captcha.provider: turnstile the page embeds Cloudflare's widget
// (its origin allowed by the CSP) and the token is checked by siteverify
// (an httptest fake here): good once, then refused as used.
func TestCaptchaTurnstile(t *testing.T) {
	e := newEnv(t, func(c *config.Config) {
		c.Captcha.Provider, c.Captcha.SiteKey, c.Captcha.Secret = "turnstile", "0x-site", "s3cret"
		c.Captcha.At = []string{"signup"}
	})
	seen := map[string]bool{}
	var mu sync.Mutex
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		tok := r.PostFormValue("response")
		switch {
		case r.PostFormValue("secret") != "s3cret" || tok != "tok-1":
			fmt.Fprint(w, `{"success":false,"error-codes":["invalid-input-response"]}`)
		case seen[tok]:
			fmt.Fprint(w, `{"success":false,"error-codes":["timeout-or-duplicate"]}`)
		default:
			seen[tok] = true
			fmt.Fprint(w, `{"success":true}`)
		}
	}))
	defer fake.Close()
	e.app.Web.Captcha.Verifier.(*siteverify.Verifier).URL = fake.URL

	resp, page := e.do(t, "GET", "/signup", nil, nil)
	if !strings.Contains(page, `class="cf-turnstile" data-sitekey="0x-site"`) || !strings.Contains(page, `src="https://challenges.cloudflare.com/turnstile/v0/api.js"`) {
		t.Errorf("the sign-up page lacks the Turnstile widget")
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'nonce-") || !strings.Contains(csp, "frame-src https://challenges.cloudflare.com;") {
		t.Errorf("CSP %q does not allow the widget", csp)
	}
	if resp, body := e.do(t, "GET", "/api/v1/challenge", nil, nil); resp.StatusCode != 200 || !strings.Contains(body, `"provider":"turnstile","site_key":"0x-site"`) {
		t.Errorf("GET /api/v1/challenge = %d %s", resp.StatusCode, body)
	}
	for _, tc := range []struct {
		token string
		code  int
		want  string
	}{{"forged", 422, "misslyckades"}, {"tok-1", 303, ""}, {"tok-1", 422, "redan använts"}} {
		body, h := form("email", "kari@example.no", "cf-turnstile-response", tc.token)
		resp, page := e.do(t, "POST", "/signup", body, with(h, "Accept-Language", "sv"))
		if resp.StatusCode != tc.code || !strings.Contains(page, tc.want) {
			t.Errorf("token %s: %d, want %d with %q", tc.token, resp.StatusCode, tc.code, tc.want)
		}
	}
	fake.Close()
	body, h := form("email", "kari@example.no", "cf-turnstile-response", "tok-2")
	if resp, page := e.do(t, "POST", "/signup", body, with(h, "Accept-Language", "sv")); resp.StatusCode != 422 || !strings.Contains(page, "inte tillgänglig") {
		t.Errorf("Turnstile unreachable: %d, want 422 captcha.unavailable", resp.StatusCode)
	}
}
