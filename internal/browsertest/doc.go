// Package browsertest drives a headless Chromium from Go tests, for the
// end-to-end journeys in e2e/ and for tests of pages that need a real
// browser. Import it only from _test.go files and e2e/.
//
// # Browsers
//
// Start launches one chromium for a test and stops it in the test's cleanup.
// It takes about 0.8 s to start and stop on the CI machines, so a package
// with more than a couple of browser tests should share one process instead:
// its TestMain calls Main, and each test calls Shared, which launches the
// process on first use. Sharing is safe because every page is isolated (see
// below), and Shared may be called from parallel tests.
//
//	func TestMain(m *testing.M) { browsertest.Main(m) }
//
//	func TestLogin(t *testing.T) {
//		t.Parallel()
//		p := browsertest.Shared(t).NewPage(t)
//		…
//	}
//
// The binary is $PORTVAKT_CHROMIUM if set, else the first of
// /usr/bin/chromium, chromium and chromium-browser found. Without one the
// test fails, asking to run `make test`, which installs Debian's chromium;
// browser tests never skip. Chromium runs headless, without sandbox, GPU,
// QUIC or any background networking, with a fresh profile in a temporary
// directory, a 1280×900 window and an en-US user interface.
//
// # Pages
//
// NewPage opens a tab in a browser context of its own, so it shares no
// cookies, storage or cache with any other page: two pages in one test are
// two different browsers, for instance a user and an administrator, or the
// phone and the laptop of one user. Opening one takes about 0.2 s. Options
// set the page's languages (AcceptLanguage), viewport (Viewport) and
// timeout (Timeout). The page is closed by the test's cleanup.
//
// # Helpers
//
// Selectors are CSS selectors, and a helper acts on the first element that
// matches. Helpers wait for what they need (the element to exist, to be
// visible, to be clickable, the next document to load) up to the page's
// timeout, 10 s by default, and then fail the test. They never return
// errors. Waiting is done by polling, so no test needs a sleep.
//
// Every budget here (the page timeout, starting and stopping chromium,
// saving artifacts) is multiplied by PORTVAKT_TEST_TIMEOUT_SCALE
// (internal/testwait), so a loaded machine gets the same number of polls in
// as an idle one; make test-stress runs the browser tests with it raised
// beside two CPU hogs. A test that expects a helper to fail shortens the
// wait for that call only (Page.SetTimeout), never for the steps before it.
//
// Main also bounds how many tests of the package run at once: go test's
// -parallel becomes PORTVAKT_BROWSER_PARALLEL, 2 by default, unless the
// command line sets it.
//
//   - Open(url) navigates and waits until the document is completely loaded.
//   - Fill(sel, value) types into a text field (after clearing it), picks
//     an option of a select by value or label, or sets another input's value.
//   - Click(sel) clicks the element with the mouse, once it is visible,
//     enabled, still and not covered by something like a cookie banner.
//   - Submit(sel) clicks and waits until a new document is completely
//     loaded; AwaitNavigation does the same around any action, such as
//     pressing Enter.
//   - Text, Value, Attr, Exists, URL, Title and HTML read the page;
//     WaitVisible and WaitText wait for it to change.
//   - PressTab, PressShiftTab, PressKey and Focused test keyboard-only use.
//   - Cookies lists the page's cookies, HttpOnly ones included.
//   - Eval runs JavaScript and awaits its promise.
//   - Screenshot saves a PNG of the whole page.
//   - Context gives the raw chromedp context, for anything else, such as a
//     WebAuthn virtual authenticator (cdproto/webauthn).
//
// A Page, like a testing.T, belongs to the goroutine of its test. The helpers
// call tb.Fatalf, so they must not run on other goroutines.
//
// # Example
//
//	func TestSignIn_WrongPassword(t *testing.T) {
//		t.Parallel()
//		app := startApp(t) // the app on 127.0.0.1:0
//		p := browsertest.Shared(t).NewPage(t, browsertest.AcceptLanguage("nb-NO,nb;q=0.9"))
//
//		p.Open(app.URL + "/login")
//		p.Fill("#username", "kari")
//		p.Fill("#password", "wrong")
//		p.Submit("button[type=submit]")
//
//		if got, want := p.Text("#password-error"), "Feil brukernavn eller passord."; got != want {
//			t.Errorf("Text(%q) = %q, want %q", "#password-error", got, want)
//		}
//		if got := p.Value("#username"); got != "kari" {
//			t.Errorf("username after a failed sign-in = %q, want %q", got, "kari")
//		}
//		if got := p.Focused(); got != "password" {
//			t.Errorf("focus after a failed sign-in is on %q, want the password field", got)
//		}
//	}
//
// # Failures
//
// When a helper fails, or a test with open pages has failed by the time its
// cleanup runs, a full-page screenshot (.png), the current HTML (.html) and
// the page's console output and uncaught exceptions (.log) are saved, and
// their paths are logged. They go to $PORTVAKT_TEST_ARTIFACTS/<test name>/,
// or <os.TempDir()>/portvakt-artifacts/<test name>/ when that is unset;
// subtests get subdirectories. File names start with the time, so reruns do
// not overwrite them.
//
// Failure messages name the call, the page's URL and the reason:
//
//	browsertest: Click("#send") on http://127.0.0.1:41337/login: timed out after 10s: the element is covered by <div#cookie-banner>
package browsertest
