package e2e

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/portvakt/portvakt/internal/browsertest"
	"github.com/portvakt/portvakt/internal/config"
)

// A branded portal (Altinn's profile with a logo of its own): under the
// pages' strict CSP the logo loads and the buttons take the profile's
// primary colour from /branding/theme.css. The screenshot of the sign-in
// page is kept in the journey's artifacts.
func TestJourney_Branding(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	logo := filepath.Join(dir, "logo.svg")
	os.WriteFile(logo, []byte(`<svg xmlns="http://www.w3.org/2000/svg" width="120" height="32" viewBox="0 0 120 32"><rect width="32" height="32" rx="6" fill="#0062ba"/><text x="40" y="23" font-family="sans-serif" font-size="18" fill="#0062ba">Altinn</text></svg>`), 0o600)
	srv := startServer(t, profile(t, "altinn"), func(c *config.Config) {
		c.Branding.Logo, c.Branding.Favicon = logo, logo
	})
	p := browsertest.Shared(t).NewPage(t, browsertest.AcceptLanguage("nb"))
	p.Open(srv.URL + "/login")
	var got struct {
		Alt    string `json:"alt"`
		Width  int    `json:"width"`
		Button string `json:"button"`
	}
	p.Eval(`(() => {
		const img = document.querySelector(".brand img");
		const b = document.querySelector("main button[type=submit]");
		return {alt: img ? img.alt : "", width: img ? img.naturalWidth : 0, button: b ? getComputedStyle(b).backgroundColor : ""};
	})()`, &got)
	if got.Alt != "Altinn" || got.Width == 0 {
		t.Errorf("the logo: alt %q, natural width %d; want alt Altinn and a loaded image", got.Alt, got.Width)
	}
	if got.Button != "rgb(0, 98, 186)" {
		t.Errorf("the sign-in button is %s, want Altinn's #0062ba", got.Button)
	}
	p.Screenshot(filepath.Join(browsertest.ArtifactDir(t.Name()), "altinn-sign-in-branded.png"))
}
