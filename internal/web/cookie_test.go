package web_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/portvakt/portvakt/internal/config"
	"github.com/portvakt/portvakt/internal/flow"
)

// handlerBrowser sends requests straight to the app's handler and keeps
// the cookies it is given by name, whatever their Secure flag, so that
// the flags themselves can be inspected.
type handlerBrowser struct {
	t       *testing.T
	e       *env
	base    string
	cookies map[string]*http.Cookie
	// set are the cookies of the last response.
	set []*http.Cookie
}

func newHandlerBrowser(t *testing.T, e *env, base string) *handlerBrowser {
	return &handlerBrowser{t: t, e: e, base: base, cookies: map[string]*http.Cookie{}}
}

func (b *handlerBrowser) do(method, path string, kv ...string) *http.Response {
	b.t.Helper()
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	req := httptest.NewRequest(method, b.base+path, strings.NewReader(v.Encode()))
	if method == "POST" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Accept-Language", "en")
	for _, c := range b.cookies {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	rec := httptest.NewRecorder()
	b.e.app.Handler().ServeHTTP(rec, req)
	resp := rec.Result()
	if resp.StatusCode >= 500 {
		b.t.Fatalf("%s %s = %d:\n%s", method, path, resp.StatusCode, rec.Body.String())
	}
	b.set = resp.Cookies()
	for _, c := range b.set {
		if c.MaxAge < 0 {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c
		}
	}
	return resp
}

func (b *handlerBrowser) setCookie(name string) *http.Cookie {
	for _, c := range b.set {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// signIn walks the email-first form and returns the password step's
// response.
func (b *handlerBrowser) signIn(email, pw string) *http.Response {
	b.t.Helper()
	resp := b.do("POST", "/login", "email", email)
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode != http.StatusSeeOther || loc.Query().Get("flow") == "" {
		b.t.Fatalf("POST /login = %d → %q, want 303 to the password step", resp.StatusCode, resp.Header.Get("Location"))
	}
	return b.do("POST", "/login/password", "flow", loc.Query().Get("flow"), "password", pw)
}

// Bug 8: the session cookie set at sign-in is HttpOnly, SameSite=Lax,
// host-only on path /, and on https also Secure and __Host- prefixed
// (ASVS 3.3.1–3.3.4). The cookie cleared at logout is checked in
// TestHTTPSPublicURL.
func TestSessionCookieFlagsAtSignIn(t *testing.T) {
	const pw = "correct horse battery staple"
	tests := []struct {
		name, publicURL, cookie string
		secure                  bool
	}{
		{"https", "https://login.example.org", "__Host-portvakt_session", true},
		{"localhost over http", "http://localhost:8080", "portvakt_session", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(c *config.Config) { c.PublicURL = tt.publicURL })
			if _, err := e.app.Flows.CreateAccount(t.Context(), flow.NewAccount{Name: "Kari", Email: "kari@example.no", Password: pw}); err != nil {
				t.Fatal(err)
			}
			b := newHandlerBrowser(t, e, tt.publicURL)
			resp := b.signIn("kari@example.no", pw)
			if resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("POST /login/password = %d, want 303", resp.StatusCode)
			}
			c := b.setCookie(tt.cookie)
			if c == nil {
				t.Fatalf("sign-in set no %s cookie, only %v", tt.cookie, b.set)
			}
			if !c.HttpOnly {
				t.Error("the session cookie is readable by scripts (no HttpOnly)")
			}
			if c.Secure != tt.secure {
				t.Errorf("session cookie Secure = %v, want %v", c.Secure, tt.secure)
			}
			if c.SameSite != http.SameSiteLaxMode {
				t.Errorf("session cookie SameSite = %v, want Lax", c.SameSite)
			}
			if c.Path != "/" || c.Domain != "" {
				t.Errorf("session cookie Path %q Domain %q, want / and none (host-only)", c.Path, c.Domain)
			}
			if _, err := e.app.Sessions.Load(t.Context(), c.Value); err != nil {
				t.Errorf("the session cookie's token does not load: %v", err)
			}
			for _, other := range b.set {
				if other.Name != tt.cookie && strings.HasSuffix(other.Name, "portvakt_session") {
					t.Errorf("sign-in also set %s", other.Name)
				}
			}

			// Signing out deletes the cookie at once (Max-Age below 0),
			// with the same flags.
			b.do("POST", "/logout")
			c = b.setCookie(tt.cookie)
			if c == nil || c.Value != "" || c.MaxAge >= 0 || !c.HttpOnly || c.Secure != tt.secure || c.SameSite != http.SameSiteLaxMode || c.Path != "/" {
				t.Errorf("sign-out's %s cookie = %+v, want it deleted with the same flags", tt.cookie, c)
			}
		})
	}
}
