package browsertest_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/portvakt/portvakt/internal/browsertest"
	"github.com/portvakt/portvakt/internal/testwait"
)

func TestMain(m *testing.M) { browsertest.Main(m) }

// formPage is the page served by newFormServer: a labelled text input with
// room for an error, a select and a submit button.
var formPage = template.Must(template.New("form").Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Sign up</title></head>
<body>
<p id="lang">{{.Lang}}</p>
<p id="cookie">{{.Cookie}}</p>
<form method="post" action="/">
  <label for="name">Name</label>
  <input id="name" name="name" value="{{.Name}}"{{if .Error}} aria-invalid="true" aria-describedby="name-error"{{end}}>
  {{if .Error}}<span id="name-error" class="error">{{.Error}}</span>{{end}}
  <label for="colour">Colour</label>
  <select id="colour" name="colour">
    <option value="">Choose</option>
    <option value="red"{{if eq .Colour "red"}} selected{{end}}>Red</option>
    <option value="blue"{{if eq .Colour "blue"}} selected{{end}}>Blue</option>
  </select>
  <input type="hidden" id="token" name="token" value="t0ken">
  <button id="send" type="submit">Send</button>
</form>
<p id="status"></p>
<script>setTimeout(() => { document.getElementById("status").textContent = "Ready to send"; }, 200);</script>
</body>
</html>
`))

var welcomePage = template.Must(template.New("welcome").Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Welcome</title></head>
<body><h1>Hello, {{.Name}}</h1><p id="colour">{{.Colour}}</p></body>
</html>
`))

// newFormServer serves a sign-up form on 127.0.0.1. A name shorter than 3
// characters re-renders the form with an error next to the field, keeping
// what was entered; a good one redirects to a welcome page. Every POST sets
// the cookie "attempts". The form page echoes the request's Accept-Language
// and Cookie headers.
func newFormServer(tb testing.TB) *httptest.Server {
	tb.Helper()
	mux := http.NewServeMux()
	render := func(w http.ResponseWriter, r *http.Request, status int, name, colour, msg string) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(status)
		formPage.Execute(w, map[string]string{
			"Lang":   r.Header.Get("Accept-Language"),
			"Cookie": r.Header.Get("Cookie"),
			"Name":   name,
			"Colour": colour,
			"Error":  msg,
		})
	}
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		render(w, r, http.StatusOK, "", "", "")
	})
	mux.HandleFunc("POST /{$}", func(w http.ResponseWriter, r *http.Request) {
		n := 1
		if c, err := r.Cookie("attempts"); err == nil {
			n, _ = strconv.Atoi(c.Value)
			n++
		}
		http.SetCookie(w, &http.Cookie{Name: "attempts", Value: strconv.Itoa(n), Path: "/", HttpOnly: true})
		name, colour := r.PostFormValue("name"), r.PostFormValue("colour")
		if len([]rune(name)) < 3 {
			render(w, r, http.StatusUnprocessableEntity, name, colour, "Name must be at least 3 characters.")
			return
		}
		http.Redirect(w, r, "/welcome?"+(urlValues{"name": name, "colour": colour}).encode(), http.StatusSeeOther)
	})
	mux.HandleFunc("GET /welcome", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		welcomePage.Execute(w, map[string]string{"Name": r.FormValue("name"), "Colour": r.FormValue("colour")})
	})

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	srv := &httptest.Server{Listener: l, Config: &http.Server{Handler: mux}}
	srv.Start()
	tb.Cleanup(srv.Close)
	return srv
}

type urlValues map[string]string

func (v urlValues) encode() string {
	var b strings.Builder
	for _, k := range []string{"name", "colour"} {
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(k + "=" + template.URLQueryEscaper(v[k]))
	}
	return b.String()
}

func TestPage_Form(t *testing.T) {
	t.Parallel()
	srv := newFormServer(t)
	p := browsertest.Shared(t).NewPage(t)

	p.Open(srv.URL)
	if got, want := p.Title(), "Sign up"; got != want {
		t.Errorf("Title() = %q, want %q", got, want)
	}
	if p.Exists("#name-error") {
		t.Errorf("Exists(%q) = true on a fresh form", "#name-error")
	}
	if got, want := p.Value("#token"), "t0ken"; got != want {
		t.Errorf("Value(%q) of a hidden input = %q, want %q", "#token", got, want)
	}
	p.WaitText("#status", "Ready")

	t.Run("too short a name keeps the input and marks the field", func(t *testing.T) {
		p.Fill("#name", "Bo")
		p.Fill("#colour", "Blue") // by label
		p.Submit("#send")

		if got, want := p.Text("#name-error"), "Name must be at least 3 characters."; got != want {
			t.Errorf("Text(%q) = %q, want %q", "#name-error", got, want)
		}
		if got, want := p.Value("#name"), "Bo"; got != want {
			t.Errorf("Value(%q) = %q, want %q", "#name", got, want)
		}
		if got, want := p.Value("#colour"), "blue"; got != want {
			t.Errorf("Value(%q) = %q, want %q", "#colour", got, want)
		}
		if got, ok := p.Attr("#name", "aria-invalid"); !ok || got != "true" {
			t.Errorf("Attr(%q, %q) = %q, %v, want %q, true", "#name", "aria-invalid", got, ok, "true")
		}
		if _, ok := p.Attr("#name", "disabled"); ok {
			t.Errorf("Attr(%q, %q) reports the attribute present", "#name", "disabled")
		}
	})

	t.Run("a good name replaces the old input and follows the redirect", func(t *testing.T) {
		p.Fill("#name", "Bjørn Ås")
		p.Fill("#colour", "red") // by value
		p.Submit("form")

		if got, want := p.Text("h1"), "Hello, Bjørn Ås"; got != want {
			t.Errorf("Text(%q) = %q, want %q", "h1", got, want)
		}
		if got, want := p.Text("#colour"), "red"; got != want {
			t.Errorf("Text(%q) = %q, want %q", "#colour", got, want)
		}
		if got := p.URL(); !strings.HasPrefix(got, srv.URL+"/welcome?") {
			t.Errorf("URL() = %q, want the welcome page", got)
		}
		if got := p.HTML(); !strings.HasPrefix(got, "<!DOCTYPE html>") || !strings.Contains(got, "<h1>Hello, Bjørn Ås</h1>") {
			t.Errorf("HTML() = %q, want the welcome page's markup", got)
		}
	})

	t.Run("the server's cookie is visible, HttpOnly included", func(t *testing.T) {
		c := findCookie(p.Cookies(), "attempts")
		if c == nil {
			t.Fatalf("Cookies() has no cookie %q", "attempts")
		}
		if c.Value != "2" || !c.HTTPOnly {
			t.Errorf("cookie attempts = %q (HttpOnly %v), want %q (HttpOnly true)", c.Value, c.HTTPOnly, "2")
		}
	})
}

func TestPage_Fill_RejectsUnknownOption(t *testing.T) {
	t.Setenv(browsertest.EnvArtifacts, t.TempDir())
	srv := newFormServer(t)
	fake := newFakeTB(t, "TestFill")
	p := browsertest.Shared(t).NewPage(fake)
	p.Open(srv.URL)
	p.SetTimeout(500 * time.Millisecond) // the call that must fail: no need to wait long
	p.Fill("#colour", "green")
	if len(fake.fatals) != 1 || !strings.Contains(fake.fatals[0], `Fill("#colour", "green")`) {
		t.Errorf("Fill of an unknown option: failures = %q, want one naming the call", fake.fatals)
	}
}

func TestBrowser_NewPage_IsolatesCookies(t *testing.T) {
	t.Parallel()
	srv := newFormServer(t)
	b := browsertest.Shared(t)
	first, second := b.NewPage(t), b.NewPage(t)

	first.Open(srv.URL)
	first.Fill("#name", "Al")
	first.Submit("#send")
	first.Open(srv.URL)
	if got, want := first.Text("#cookie"), "attempts=1"; got != want {
		t.Fatalf("first page: Text(%q) = %q, want %q", "#cookie", got, want)
	}

	second.Open(srv.URL)
	if got := second.Text("#cookie"); got != "" {
		t.Errorf("second page sent Cookie %q, want none", got)
	}
	if c := findCookie(second.Cookies(), "attempts"); c != nil {
		t.Errorf("second page's Cookies() has %q=%q, want no cookie", c.Name, c.Value)
	}
}

func TestAcceptLanguage(t *testing.T) {
	t.Parallel()
	srv := newFormServer(t)
	b := browsertest.Shared(t)

	tests := []struct {
		name     string
		opts     []browsertest.PageOption
		header   string
		language string // navigator.language
	}{
		{"default", nil, "en-US,en;q=0.9", "en-US"},
		{"Norwegian Bokmål", []browsertest.PageOption{browsertest.AcceptLanguage("nb-NO,nb;q=0.9")}, "nb-NO,nb;q=0.9", "nb-NO"},
		// Chromium writes the q-values itself.
		{"Swedish first, then English", []browsertest.PageOption{browsertest.AcceptLanguage("sv-FI, sv;q=0.8, en;q=0.5")}, "sv-FI,sv;q=0.9,en;q=0.8", "sv-FI"},
		{"ordered by q-value", []browsertest.PageOption{browsertest.AcceptLanguage("en;q=0.5, nb")}, "nb,en;q=0.9", "nb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := b.NewPage(t, tt.opts...)
			p.Open(srv.URL)
			if got := p.Text("#lang"); got != tt.header {
				t.Errorf("server saw Accept-Language %q, want %q", got, tt.header)
			}
			var lang string
			p.Eval(`navigator.language`, &lang)
			if lang != tt.language {
				t.Errorf("navigator.language = %q, want %q", lang, tt.language)
			}
		})
	}
}

func TestViewport(t *testing.T) {
	t.Parallel()
	srv := newFormServer(t)
	b := browsertest.Shared(t)

	for _, tt := range []struct {
		name string
		opts []browsertest.PageOption
		want [2]int
	}{
		// The window is 1280×900; its (invisible) toolbars take some of
		// the height.
		{"default is what the window leaves", nil, [2]int{1280, 900}},
		{"phone", []browsertest.PageOption{browsertest.Viewport(390, 844)}, [2]int{390, 844}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := b.NewPage(t, tt.opts...)
			p.Open(srv.URL)
			var got [2]int
			p.Eval(`[window.innerWidth, window.innerHeight]`, &got)
			if got[0] != tt.want[0] || got[1] > tt.want[1] || got[1] < tt.want[1]-200 {
				t.Errorf("inner size = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestPage_Keyboard(t *testing.T) {
	t.Parallel()
	srv := newFormServer(t)
	p := browsertest.Shared(t).NewPage(t)
	p.Open(srv.URL)

	p.Click("#name")
	if got := p.Focused(); got != "name" {
		t.Fatalf("after Click(%q): Focused() = %q, want %q", "#name", got, "name")
	}
	for _, want := range []string{"colour", "send"} {
		p.PressTab()
		if got := p.Focused(); got != want {
			t.Fatalf("after PressTab: Focused() = %q, want %q", got, want)
		}
	}
	p.PressShiftTab()
	p.PressShiftTab()
	if got := p.Focused(); got != "name" {
		t.Fatalf("after two PressShiftTab: Focused() = %q, want %q", got, "name")
	}

	p.PressKey("Eve")
	p.AwaitNavigation(func() { p.PressKey(kb.Enter) })
	if got, want := p.Text("h1"), "Hello, Eve"; got != want {
		t.Errorf("after typing and Enter: Text(%q) = %q, want %q", "h1", got, want)
	}
}

func TestPage_Context(t *testing.T) {
	t.Parallel()
	srv := newFormServer(t)
	p := browsertest.Shared(t).NewPage(t)
	// WebAuthn needs a secure context with a domain name: localhost.
	p.Open(strings.Replace(srv.URL, "127.0.0.1", "localhost", 1))

	t.Run("a virtual authenticator creates a passkey", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(p.Context(), testwait.D(10*time.Second))
		defer cancel()
		var id webauthn.AuthenticatorID
		err := chromedp.Run(ctx, webauthn.Enable(), chromedp.ActionFunc(func(ctx context.Context) error {
			var err error
			id, err = webauthn.AddVirtualAuthenticator(&webauthn.VirtualAuthenticatorOptions{
				Protocol:                    webauthn.AuthenticatorProtocolCtap2,
				Transport:                   webauthn.AuthenticatorTransportInternal,
				HasResidentKey:              true,
				HasUserVerification:         true,
				IsUserVerified:              true,
				AutomaticPresenceSimulation: true,
			}).Do(ctx)
			return err
		}))
		if err != nil {
			t.Fatalf("adding a virtual authenticator: %v", err)
		}

		var credType string
		p.Eval(`navigator.credentials.create({publicKey: {
			rp: {name: "Portvakt"},
			user: {id: new Uint8Array([1, 2, 3]), name: "kari", displayName: "Kari"},
			challenge: new Uint8Array(32),
			pubKeyCredParams: [{type: "public-key", alg: -7}],
			authenticatorSelection: {residentKey: "required", userVerification: "required"},
		}}).then(c => c.type)`, &credType)
		if credType != "public-key" {
			t.Errorf("credentials.create() gave a credential of type %q, want %q", credType, "public-key")
		}

		var creds []*webauthn.Credential
		err = chromedp.Run(ctx, chromedp.ActionFunc(func(ctx context.Context) error {
			var err error
			creds, err = webauthn.GetCredentials(id).Do(ctx)
			return err
		}))
		if err != nil || len(creds) != 1 || creds[0].RpID != "localhost" {
			t.Errorf("GetCredentials = %v, %v, want one credential for localhost", creds, err)
		}
	})
}

func TestPage_FailureSavesArtifacts(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(browsertest.EnvArtifacts, dir)
	srv := newFormServer(t)
	b := browsertest.Shared(t)

	t.Run("a failing helper names the selector and saves a screenshot and the HTML", func(t *testing.T) {
		fake := newFakeTB(t, "TestFake/missing button")
		p := b.NewPage(fake)
		p.Open(srv.URL)
		p.Eval(`console.log("hello from the page")`, nil)
		p.SetTimeout(500 * time.Millisecond) // the call that must fail
		p.Click("#missing")

		if len(fake.fatals) != 1 {
			t.Fatalf("Click of a missing element: %d failures, want 1: %q", len(fake.fatals), fake.fatals)
		}
		msg := fake.fatals[0]
		for _, want := range []string{`Click("#missing")`, srv.URL, `no element matches "#missing"`} {
			if !strings.Contains(msg, want) {
				t.Errorf("failure %q does not mention %q", msg, want)
			}
		}
		artDir := filepath.Join(dir, "TestFake", "missing_button")
		png := checkArtifact(t, artDir, "*-Click.png", []byte("\x89PNG\r\n\x1a\n"))
		checkArtifact(t, artDir, "*-Click.html", []byte(`<label for="name">Name</label>`))
		checkArtifact(t, artDir, "*-Click.log", []byte("console.log: hello from the page"))
		if !fake.logged(png) {
			t.Errorf("the screenshot's path %s was not logged; logs: %q", png, fake.logs)
		}
	})

	t.Run("a click on a covered element fails and names the cover", func(t *testing.T) {
		fake := newFakeTB(t, "TestFake/covered")
		p := b.NewPage(fake)
		p.Open(srv.URL)
		p.Eval(`document.body.insertAdjacentHTML("beforeend",
			'<div id="cookie-banner" style="position:fixed;inset:0;background:#fff8">Accept cookies?</div>')`, nil)
		p.SetTimeout(500 * time.Millisecond) // the call that must fail; a slow page is asked once more, outside the budget
		p.Click("#send")
		if len(fake.fatals) != 1 || !strings.Contains(fake.fatals[0], "covered by <div#cookie-banner>") {
			t.Errorf("Click of a covered button: failures = %q, want one naming the cover", fake.fatals)
		}
		p.SetTimeout(browsertest.DefaultTimeout)
		p.Eval(`document.getElementById("cookie-banner").remove()`, nil)
		p.Submit("#send")
		if got, want := p.Text("#name-error"), "Name must be at least 3 characters."; got != want {
			t.Errorf("once uncovered: Text(%q) = %q, want %q", "#name-error", got, want)
		}
	})

	t.Run("a failed test saves every open page at cleanup", func(t *testing.T) {
		fake := newFakeTB(t, "TestFake/cleanup")
		p1, p2 := b.NewPage(fake), b.NewPage(fake)
		p1.Open(srv.URL)
		p2.Open(srv.URL + "/welcome?name=Two")
		fake.Errorf("the test failed")
		fake.runCleanups()

		artDir := filepath.Join(dir, "TestFake", "cleanup")
		pngs, _ := filepath.Glob(filepath.Join(artDir, "*-at-failure.png"))
		if len(pngs) != 2 {
			t.Errorf("screenshots at cleanup: %q, want 2", pngs)
		}
		htmls, _ := filepath.Glob(filepath.Join(artDir, "*-at-failure.html"))
		var found bool
		for _, h := range htmls {
			data, _ := os.ReadFile(h)
			found = found || bytes.Contains(data, []byte("Hello, Two"))
		}
		if len(htmls) != 2 || !found {
			t.Errorf("HTML at cleanup: %q, want 2 files, one of the second page", htmls)
		}
	})

	t.Run("a passed test saves nothing", func(t *testing.T) {
		fake := newFakeTB(t, "TestFake/passed")
		b.NewPage(fake).Open(srv.URL)
		fake.runCleanups()
		if _, err := os.Stat(filepath.Join(dir, "TestFake", "passed")); !os.IsNotExist(err) {
			t.Errorf("artifact directory of a passed test: Stat = %v, want not exist", err)
		}
	})
}

func TestStart(t *testing.T) {
	t.Run("starts a browser of its own", func(t *testing.T) {
		srv := newFormServer(t)
		p := browsertest.Start(t).NewPage(t)
		p.Open(srv.URL)
		if got, want := p.Title(), "Sign up"; got != want {
			t.Errorf("Title() = %q, want %q", got, want)
		}
	})

	t.Run("without chromium it fails and says how to install it", func(t *testing.T) {
		t.Setenv(browsertest.EnvChromium, "")
		old := *browsertest.Candidates
		*browsertest.Candidates = []string{filepath.Join(t.TempDir(), "chromium"), "no-such-chromium-here"}
		defer func() { *browsertest.Candidates = old }()

		fake := newFakeTB(t, "TestStart/none")
		if b := browsertest.Start(fake); b != nil {
			t.Errorf("Start without chromium returned a browser")
		}
		if len(fake.fatals) != 1 || !strings.Contains(fake.fatals[0], "make test") {
			t.Errorf("Start without chromium: failures = %q, want one that mentions `make test`", fake.fatals)
		}
	})

	t.Run("a bad PORTVAKT_CHROMIUM fails", func(t *testing.T) {
		bad := filepath.Join(t.TempDir(), "nope")
		t.Setenv(browsertest.EnvChromium, bad)
		fake := newFakeTB(t, "TestStart/bad")
		browsertest.Start(fake)
		if len(fake.fatals) != 1 || !strings.Contains(fake.fatals[0], bad) {
			t.Errorf("Start with a bad $%s: failures = %q, want one naming %s", browsertest.EnvChromium, fake.fatals, bad)
		}
	})
}

// BenchmarkStart measures launching and stopping a browser.
func BenchmarkStart(b *testing.B) {
	for b.Loop() {
		fake := newFakeTB(b, "BenchmarkStart")
		browsertest.Start(fake)
		fake.runCleanups()
		if len(fake.fatals) > 0 {
			b.Fatal(fake.fatals)
		}
	}
}

// BenchmarkNewPage measures opening and closing a page, that is a tab in a
// browser context of its own.
func BenchmarkNewPage(b *testing.B) {
	browser := browsertest.Shared(b)
	for b.Loop() {
		fake := newFakeTB(b, "BenchmarkNewPage")
		browser.NewPage(fake)
		fake.runCleanups()
		if len(fake.fatals) > 0 {
			b.Fatal(fake.fatals)
		}
	}
}

// checkArtifact checks that exactly one file matches pattern in dir and
// contains want, and returns its path.
func checkArtifact(tb testing.TB, dir, pattern string, want []byte) string {
	tb.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, pattern))
	if len(files) != 1 {
		all, _ := os.ReadDir(dir)
		tb.Fatalf("files matching %s in %s: %q, want 1 (directory holds %v)", pattern, dir, files, all)
	}
	data, err := os.ReadFile(files[0])
	if err != nil {
		tb.Fatal(err)
	}
	if !bytes.Contains(data, want) {
		tb.Errorf("%s does not contain %q", files[0], want)
	}
	return files[0]
}

func findCookie(cookies []*network.Cookie, name string) *network.Cookie {
	for _, c := range cookies {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// fakeTB records failures, logs and cleanups instead of acting on them, so a
// test can check what a helper does when it fails. Everything else goes to
// the real test.
type fakeTB struct {
	testing.TB
	name string

	mu       sync.Mutex
	failed   bool
	fatals   []string
	logs     []string
	cleanups []func()
}

func newFakeTB(t testing.TB, name string) *fakeTB {
	f := &fakeTB{TB: t, name: name}
	t.Cleanup(f.runCleanups)
	return f
}

func (f *fakeTB) Name() string { return f.name }
func (f *fakeTB) Helper()      {}

func (f *fakeTB) Failed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.failed
}

func (f *fakeTB) Errorf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failed = true
}

func (f *fakeTB) Fatalf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failed = true
	msg := fmt.Sprintf(format, args...)
	f.fatals = append(f.fatals, msg)
	f.TB.Logf("%s: recorded Fatalf: %s", f.name, msg)
}

func (f *fakeTB) Fatal(args ...any) { f.Fatalf("%s", fmt.Sprint(args...)) }

func (f *fakeTB) Logf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.logs = append(f.logs, fmt.Sprintf(format, args...))
}

func (f *fakeTB) Cleanup(fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cleanups = append(f.cleanups, fn)
}

// runCleanups runs the registered cleanups, last first, once.
func (f *fakeTB) runCleanups() {
	f.mu.Lock()
	fns := f.cleanups
	f.cleanups = nil
	f.mu.Unlock()
	for i := len(fns) - 1; i >= 0; i-- {
		fns[i]()
	}
}

func (f *fakeTB) logged(s string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, l := range f.logs {
		if strings.Contains(l, s) {
			return true
		}
	}
	return false
}

// Main bounds the package's parallel tests: -parallel is
// PORTVAKT_BROWSER_PARALLEL (default 2) unless the command line says, and
// no more tests than that run at once however many ask to.
func TestMain_BoundsParallelTests(t *testing.T) {
	want := strconv.Itoa(browsertest.DefaultParallel)
	if v := os.Getenv(browsertest.EnvParallel); v != "" {
		want = v
	}
	flag.Visit(func(f *flag.Flag) {
		if f.Name == "test.parallel" {
			want = f.Value.String() // the command line's, which wins
		}
	})
	if got := flag.Lookup("test.parallel").Value.String(); got != want {
		t.Fatalf("-test.parallel = %s, want %s", got, want)
	}
	bound, _ := strconv.Atoi(want)
	var mu sync.Mutex
	running, most := 0, 0
	t.Run("group", func(t *testing.T) {
		for i := range 3 * bound {
			t.Run(strconv.Itoa(i), func(t *testing.T) {
				t.Parallel()
				mu.Lock()
				running++
				most = max(most, running)
				mu.Unlock()
				time.Sleep(20 * time.Millisecond) // hold the slot a while, so that overlaps happen
				mu.Lock()
				running--
				mu.Unlock()
			})
		}
	})
	if most > bound {
		t.Errorf("%d tests ran at once, want at most %d", most, bound)
	}
}
