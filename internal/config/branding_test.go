package config

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// pngHeader is enough of a PNG for content sniffing.
var pngHeader = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")

func TestBrandingValidation(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	logo := write("logo.png", pngHeader)
	svg := write("logo.svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="10" height="10" fill="#0062ba"/></svg>`))
	big := write("big.png", append(pngHeader, bytes.Repeat([]byte{0}, MaxLogoSize)...))
	text := write("logo.txt", []byte("hello"))
	css := write("site.css", []byte(".brand{font-weight:900}"))
	bigCSS := write("big.css", bytes.Repeat([]byte("a"), MaxCSSSize+1))
	good := filepath.Join(dir, "good")
	write("good/home.html", []byte(`{{define "title"}}Home{{end}}{{define "main"}}<p>Welcome</p>{{end}}`))
	unknown := filepath.Join(dir, "unknown")
	write("unknown/frontpage.html", []byte(`{{define "main"}}{{end}}`))
	broken := filepath.Join(dir, "broken")
	write("broken/login.html", []byte(`{{define "main"}}{{if}}{{end}}`))

	cases := []struct {
		name string
		mod  func(*Branding)
		path string // "" if valid
		msg  string
	}{
		{"defaults", func(*Branding) {}, "", ""},
		{"everything", func(b *Branding) {
			b.Logo, b.Favicon, b.CSS, b.Templates = svg, logo, css, good
			b.Colors = Colors{Primary: "#0062BA", PrimaryText: "#fff", Background: "#ffffff", Text: "#111", Error: "#b3261e"}
		}, "", ""},
		{"bad colour", func(b *Branding) { b.Colors.Primary = "red" }, "branding.colors.primary", "must be a colour such as"},
		{"colour that injects CSS", func(b *Branding) { b.Colors.Background = "#fff;}body{x:y" }, "branding.colors.background", "must be a colour"},
		{"short hex", func(b *Branding) { b.Colors.Text = "#12345" }, "branding.colors.text", "must be a colour"},
		{"missing logo", func(b *Branding) { b.Logo = filepath.Join(dir, "nope.png") }, "branding.logo", "does not exist"},
		{"logo too big", func(b *Branding) { b.Logo = big }, "branding.logo", "larger than 512 KiB"},
		{"logo not an image", func(b *Branding) { b.Logo = text }, "branding.logo", "is not a PNG, SVG, JPEG or WebP image"},
		{"logo a directory", func(b *Branding) { b.Logo = dir }, "branding.logo", "not a regular file"},
		{"missing favicon", func(b *Branding) { b.Favicon = filepath.Join(dir, "nope.ico") }, "branding.favicon", "does not exist"},
		{"css too big", func(b *Branding) { b.CSS = bigCSS }, "branding.css", "larger than 256 KiB"},
		{"templates not a directory", func(b *Branding) { b.Templates = css }, "branding.templates", "is not a directory"},
		{"unknown template name", func(b *Branding) { b.Templates = unknown }, "branding.templates", "frontpage.html overrides no page template"},
		{"template parse error", func(b *Branding) { b.Templates = broken }, "branding.templates", "parse page login (branding.templates/login.html)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Default()
			cfg.Database.DSN = filepath.Join(t.TempDir(), "p.db")
			tc.mod(&cfg.Branding)
			_, err := cfg.Validate()
			if tc.path == "" {
				if err != nil {
					t.Fatalf("valid branding refused: %v", err)
				}
				return
			}
			es, ok := err.(Errors)
			if !ok {
				t.Fatalf("got %v, want an error at %s", err, tc.path)
			}
			for _, e := range es {
				if e.Path == tc.path && strings.Contains(e.Message, tc.msg) {
					return
				}
			}
			t.Fatalf("got %v, want %s: …%s…", err, tc.path, tc.msg)
		})
	}
}

func TestBrandingTheme(t *testing.T) {
	dir := t.TempDir()
	css := filepath.Join(dir, "site.css")
	os.WriteFile(css, []byte(".brand{letter-spacing:.1em}"), 0o600)
	b := Branding{Colors: Colors{Primary: "#0062BA", Background: "#fafafa"}, CSS: css}
	a, errs := b.Load()
	if errs != nil {
		t.Fatal(errs)
	}
	theme := string(a.Theme)
	for _, want := range []string{"--accent:#0062ba;", "--bg:#fafafa;", ".brand{letter-spacing:.1em}"} {
		if !strings.Contains(theme, want) {
			t.Errorf("theme lacks %q:\n%s", want, theme)
		}
	}
	if strings.Contains(theme, "--fg") {
		t.Errorf("an unset colour is in the theme:\n%s", theme)
	}
	if a, _ := (Branding{}).Load(); a.Theme != nil || a.Logo != nil || a.Favicon != nil {
		t.Errorf("no branding made assets: %+v", a)
	}
}

func TestBrandingEnv(t *testing.T) {
	cfg, err := Load("", []string{"PORTVAKT_BRANDING_COLORS_PRIMARY=#123456", "PORTVAKT_BRANDING_LOGO=/srv/logo.svg"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Branding.Colors.Primary != "#123456" || cfg.Branding.Logo != "/srv/logo.svg" {
		t.Errorf("environment not applied: %+v", cfg.Branding)
	}
}
