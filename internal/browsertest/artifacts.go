package browsertest

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode"

	"github.com/portvakt/portvakt/internal/testwait"
)

// EnvArtifacts names the environment variable holding the directory where
// failure artifacts are saved. Each test gets a subdirectory named after it.
// When unset, <os.TempDir()>/portvakt-artifacts is used.
const EnvArtifacts = "PORTVAKT_TEST_ARTIFACTS"

// artifactTimeout bounds the browser calls made while reporting a
// failure, so a hung page cannot hang the report. It does not depend on
// the page's own timeout, which a test may have shortened for the call
// that failed: a full-page screenshot on a loaded machine takes seconds.
const artifactTimeout = 15 * time.Second

// ArtifactDir returns the directory where failure artifacts of the test
// named name (as in testing.TB.Name) are saved.
func ArtifactDir(name string) string {
	root := os.Getenv(EnvArtifacts)
	if root == "" {
		root = filepath.Join(os.TempDir(), "portvakt-artifacts")
	}
	parts := []string{root}
	for _, seg := range strings.Split(name, "/") { // subtests nest
		parts = append(parts, safeName(seg))
	}
	return filepath.Join(parts...)
}

// safeName maps s to a file name made of letters, digits, '-', '_' and '.',
// that is neither empty nor a dot name.
func safeName(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_' || r == '.' {
			return r
		}
		return '_'
	}, s)
	s = strings.Trim(s, ".")
	if s == "" {
		s = "_"
	}
	return s
}

// saveArtifacts saves a full-page screenshot, the HTML and the console log of
// p to the test's artifact directory and logs where they went. It never
// fails the test: it runs while a failure is already being reported.
func (p *Page) saveArtifacts(reason string) {
	p.tb.Helper()
	p.saved = true
	dir := ArtifactDir(p.tb.Name())
	base := filepath.Join(dir, time.Now().Format("150405.000")+"-"+p.name+"-"+safeName(shortReason(reason)))

	budget := testwait.D(artifactTimeout) // for each call
	var errs []error
	var saved []string
	if png, err := p.screenshot(p.ctx, budget); err != nil {
		errs = append(errs, err)
	} else if err := writeFile(base+".png", png); err != nil {
		errs = append(errs, err)
	} else {
		saved = append(saved, base+".png")
	}
	if html, err := p.html(p.ctx, budget); err != nil {
		errs = append(errs, err)
	} else if err := writeFile(base+".html", []byte(html)); err != nil {
		errs = append(errs, err)
	} else {
		saved = append(saved, base+".html")
	}
	log := "== console of " + p.name + " ==\n" + p.console.String() + "== chromedp ==\n" + p.b.logs.String()
	if err := writeFile(base+".log", []byte(log)); err != nil {
		errs = append(errs, err)
	} else {
		saved = append(saved, base+".log")
	}
	if len(saved) > 0 {
		p.tb.Logf("browsertest: %s %s: saved %s", p.name, reason, strings.Join(saved, " "))
	}
	if err := errors.Join(errs...); err != nil {
		p.tb.Logf("browsertest: could not save all artifacts of %s: %v", p.name, err)
	}
}

// shortReason turns a call like `Click("#login button")` into `Click`, for
// file names.
func shortReason(reason string) string {
	if i := strings.IndexByte(reason, '('); i > 0 {
		return reason[:i]
	}
	return reason
}
