package web_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/portvakt/portvakt/internal/captcha/siteverify"
	"github.com/portvakt/portvakt/internal/config"
)

// TestCaptchaReCAPTCHA: with captcha.provider recaptcha the sign-up page
// embeds Google's widget, the CSP allows Google's reCAPTCHA origins and
// no others, and the g-recaptcha-response token is checked by siteverify
// (an httptest fake): good once, then refused as used. Without a
// third-party provider the CSP names no third party at all.
func TestCaptchaReCAPTCHA(t *testing.T) {
	e := newEnv(t, func(c *config.Config) {
		c.Captcha.Provider, c.Captcha.SiteKey, c.Captcha.Secret = "recaptcha", "6Lc-site", "s3cret"
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
			fmt.Fprint(w, `{"success":true,"hostname":"localhost"}`)
		}
	}))
	defer fake.Close()
	v := e.app.Web.Captcha.Verifier.(*siteverify.Verifier)
	if v.Provider != "recaptcha" || v.URL != siteverify.ReCAPTCHAURL {
		t.Fatalf("verifier %s at %s, want recaptcha at %s", v.Provider, v.URL, siteverify.ReCAPTCHAURL)
	}
	v.URL = fake.URL

	resp, page := e.do(t, "GET", "/signup", nil, nil)
	if !strings.Contains(page, `class="g-recaptcha" data-sitekey="6Lc-site"`) || !strings.Contains(page, `src="https://www.google.com/recaptcha/api.js?hl=`) {
		t.Errorf("the sign-up page lacks the reCAPTCHA widget")
	}
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src 'nonce-") || !strings.Contains(csp, "https://www.gstatic.com/recaptcha/") ||
		!strings.Contains(csp, "frame-src https://www.google.com/recaptcha/ https://recaptcha.google.com/recaptcha/;") {
		t.Errorf("CSP %q does not allow the widget", csp)
	}
	if strings.Contains(csp, "cloudflare") || strings.Contains(csp, "hcaptcha") {
		t.Errorf("CSP %q allows another provider", csp)
	}
	if resp, body := e.do(t, "GET", "/api/v1/challenge", nil, nil); resp.StatusCode != 200 || !strings.Contains(body, `"provider":"recaptcha","site_key":"6Lc-site"`) {
		t.Errorf("GET /api/v1/challenge = %d %s", resp.StatusCode, body)
	}
	for _, tc := range []struct {
		token string
		code  int
		want  string
	}{{"forged", 422, "misslyckades"}, {"tok-1", 303, ""}, {"tok-1", 422, "redan använts"}} {
		body, h := form("email", "kari@example.no", "g-recaptcha-response", tc.token)
		resp, page := e.do(t, "POST", "/signup", body, with(h, "Accept-Language", "sv"))
		if resp.StatusCode != tc.code || !strings.Contains(page, tc.want) {
			t.Errorf("token %s: %d, want %d with %q", tc.token, resp.StatusCode, tc.code, tc.want)
		}
	}

	// The default (ALTCHA, served from here) names no third party.
	d := newEnv(t)
	resp, _ = d.do(t, "GET", "/signup", nil, nil)
	if csp := resp.Header.Get("Content-Security-Policy"); strings.Contains(csp, "google") || strings.Contains(csp, "gstatic") || strings.Contains(csp, "frame-src") {
		t.Errorf("default CSP %q names a third party", csp)
	}
}
