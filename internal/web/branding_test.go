package web_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/portvakt/portvakt/internal/config"
)

const brandSVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 10"><rect width="40" height="10" fill="#0062ba"/></svg>`

// brandedEnv is a server with every branding key set: an SVG logo, a PNG
// favicon, colours, a stylesheet and a login page of its own.
func brandedEnv(t *testing.T) *env {
	t.Helper()
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	logo := write("logo.svg", brandSVG)
	favicon := write("favicon.png", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
	css := write("site.css", ".brand-logo{max-height:3rem}")
	write("templates/home.html", `{{define "title"}}{{.T "home.title"}}{{end}}{{define "main"}}<h1 class="branded-home">Velkommen til {{.ServiceName}}, our own page</h1>{{end}}`)
	return newEnv(t, func(c *config.Config) {
		c.ServiceName = "Altinn"
		c.Branding = config.Branding{Logo: logo, Favicon: favicon, CSS: css, Templates: filepath.Join(dir, "templates"),
			Colors: config.Colors{Primary: "#0062ba", Background: "#f4f7fb", Text: "#1a1a1a"}}
	})
}

func TestBrandedPage(t *testing.T) {
	e := brandedEnv(t)
	resp, body := e.do(t, "GET", "/login", nil, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("GET /login = %d", resp.StatusCode)
	}
	for _, re := range []string{
		`<link rel="stylesheet" href="/static/style.css">\s*<link rel="stylesheet" href="/branding/theme.css\?v=[0-9a-f]{16}">`,
		`<link rel="icon" href="/branding/favicon\?v=[0-9a-f]{16}">`,
		`<img class="brand-logo" src="/branding/logo\?v=[0-9a-f]{16}" alt="Altinn">`,
	} {
		if !regexp.MustCompile(re).MatchString(body) {
			t.Errorf("the page lacks %s:\n%s", re, body)
		}
	}
	if strings.Contains(body, "style=") || strings.Contains(body, "<style") {
		t.Errorf("the branded page has inline styles:\n%s", body)
	}

	// The CSP is the one an unbranded server sends, without
	// 'unsafe-inline'.
	plain := newEnv(t)
	presp, _ := plain.do(t, "GET", "/login", nil, nil)
	nonce := regexp.MustCompile(`'nonce-[^']+'`)
	got, want := nonce.ReplaceAllString(resp.Header.Get("Content-Security-Policy"), "N"), nonce.ReplaceAllString(presp.Header.Get("Content-Security-Policy"), "N")
	if got != want || strings.Contains(got, "unsafe-inline") {
		t.Errorf("branded CSP %q, want the unbranded %q", got, want)
	}

	// The override template is used; the others stay built in.
	if _, body := e.do(t, "GET", "/", nil, nil); !strings.Contains(body, `<h1 class="branded-home">Velkommen til Altinn, our own page</h1>`) {
		t.Errorf("the override home.html is not used:\n%s", body)
	}

	// Without branding, nothing is linked or served.
	if _, body := plain.do(t, "GET", "/login", nil, nil); strings.Contains(body, "/branding/") {
		t.Errorf("an unbranded page links branding:\n%s", body)
	}
	if resp, _ := plain.do(t, "GET", "/branding/theme.css", nil, nil); resp.StatusCode != 404 {
		t.Errorf("unbranded /branding/theme.css = %d, want 404", resp.StatusCode)
	}
}

func TestBrandingFilesServed(t *testing.T) {
	e := brandedEnv(t)
	cases := []struct{ path, ctype, body string }{
		{"/branding/theme.css", "text/css; charset=utf-8", "--accent:#0062ba;"},
		{"/branding/logo", "image/svg+xml", brandSVG},
		{"/branding/favicon", "image/png", "PNG"},
	}
	for _, c := range cases {
		resp, body := e.do(t, "GET", c.path, nil, nil)
		h := resp.Header
		if resp.StatusCode != 200 || h.Get("Content-Type") != c.ctype || !strings.Contains(body, c.body) {
			t.Errorf("GET %s = %d %q %q", c.path, resp.StatusCode, h.Get("Content-Type"), body)
		}
		if h.Get("X-Content-Type-Options") != "nosniff" || !strings.HasPrefix(h.Get("Cache-Control"), "public, max-age=") || h.Get("ETag") == "" {
			t.Errorf("GET %s headers: %v", c.path, h)
		}
		if c.path != "/branding/theme.css" {
			if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "sandbox") || strings.Contains(csp, "script-src") {
				t.Errorf("GET %s CSP %q, want no script and a sandbox", c.path, csp)
			}
		}
		again, _ := e.do(t, "GET", c.path, nil, map[string]string{"If-None-Match": h.Get("ETag")})
		if again.StatusCode != 304 {
			t.Errorf("GET %s with its ETag = %d, want 304", c.path, again.StatusCode)
		}
	}
	if _, css := e.do(t, "GET", "/branding/theme.css", nil, nil); !strings.Contains(css, "--bg:#f4f7fb;") || !strings.Contains(css, "--fg:#1a1a1a;") || !strings.Contains(css, ".brand-logo{max-height:3rem}") {
		t.Errorf("theme.css lacks the colours or the operator's CSS:\n%s", css)
	}
}
