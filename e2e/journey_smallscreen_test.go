package e2e

import (
	"path/filepath"
	"testing"

	"github.com/portvakt/portvakt/internal/browsertest"
	"github.com/portvakt/portvakt/internal/flow"
)

// On a 375 px phone screen the language switcher stays on one line, a long
// masked address does not push the second step's heading past the screen,
// and nothing scrolls sideways. The screenshots are kept in the journey's
// artifacts (PORTVAKT_ARTIFACTS, or $TMPDIR/portvakt-artifacts).
func TestJourney_SmallScreen(t *testing.T) {
	t.Parallel()
	srv := startServer(t, profile(t, "idep"))
	const user, pw = "10088", "statistik-arsbok-1958"
	const email = "marianne.gustafsson-eriksdotter.statistikavdelningen@utrikeshandelsstatistik-scb.example.se"
	mfaAccount(t, srv, flow.NewAccount{Username: user, Name: "Marianne", Email: email, Password: pw})
	p := browsertest.Shared(t).NewPage(t, browsertest.AcceptLanguage("sv"), browsertest.Viewport(375, 812))
	dir := browsertest.ArtifactDir(t.Name())

	check := func(where string) {
		t.Helper()
		var m struct {
			ScrollWidth int      `json:"scrollWidth"`
			Width       int      `json:"width"`
			Tops        []int    `json:"tops"`
			Overflowing []string `json:"overflowing"`
		}
		p.Eval(`({
			scrollWidth: document.documentElement.scrollWidth,
			width: window.innerWidth,
			tops: [...document.querySelectorAll(".lang-switch > *:not(input)")].map(e => Math.round(e.getBoundingClientRect().top)),
			overflowing: [...document.querySelectorAll("h1, h2, label, p, button, a")]
				.filter(e => e.getBoundingClientRect().right > window.innerWidth + 1 || e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflow === "visible" && e.tagName !== "A")
				.map(e => e.tagName + (e.id ? "#" + e.id : "") + ": " + e.innerText.slice(0, 60)),
		})`, &m)
		if m.ScrollWidth > m.Width {
			t.Errorf("%s: the page is %d px wide on a %d px screen", where, m.ScrollWidth, m.Width)
		}
		for _, top := range m.Tops {
			if top != m.Tops[0] {
				t.Errorf("%s: the language switcher wraps (tops %v)", where, m.Tops)
				break
			}
		}
		if len(m.Overflowing) > 0 {
			t.Errorf("%s: past the screen's edge: %q", where, m.Overflowing)
		}
	}

	p.Open(srv.URL + "/login")
	check("sign-in")
	p.Screenshot(filepath.Join(dir, "375px-sign-in.png"))
	p.Fill("#username", user)
	p.Fill("#password", pw)
	p.Submit(`form[action="/login/username"] button[type="submit"]`)
	mfaAt(t, p, "/login/factor")
	check("second step")
	// The masked address in the heading is on one line.
	var lines int
	p.Eval(`document.querySelector("#factor-title .nowrap").getClientRects().length`, &lines)
	if lines != 1 {
		t.Errorf("the masked address in the heading is split over %d lines", lines)
	}
	p.Screenshot(filepath.Join(dir, "375px-second-step.png"))
	p.Submit(`form[action="/login/factor/send"] button`)
	check("second step, sent")
	p.Screenshot(filepath.Join(dir, "375px-second-step-sent.png"))
}
