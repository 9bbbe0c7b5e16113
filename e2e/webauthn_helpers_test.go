package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"github.com/portvakt/portvakt/internal/browsertest"
	"github.com/portvakt/portvakt/internal/config"
	"github.com/portvakt/portvakt/internal/testwait"
)

// Steps of the security-key and passkey journeys. Every name here starts
// with wa, so they do not collide with the other journeys' helpers.

// waStartServer is startServer with the public URL http://localhost:PORT
// instead of http://127.0.0.1:PORT. WebAuthn needs a relying party ID that
// is a domain (an IP address is not one) and a secure context, which
// http://localhost is. The server still listens on 127.0.0.1; the browser
// and the mailbox reach it by the name localhost, and the RP ID defaults
// to "localhost".
func waStartServer(t *testing.T, mod ...func(*config.Config)) *server {
	t.Helper()
	local := func(c *config.Config) {
		c.PublicURL = strings.Replace(c.PublicURL, "://127.0.0.1:", "://localhost:", 1)
	}
	srv := startServer(t, append([]func(*config.Config){local}, mod...)...)
	if !strings.HasPrefix(srv.URL, "http://localhost:") {
		t.Fatalf("the server's public URL is %s, want http://localhost:PORT", srv.URL)
	}
	return srv
}

// waAuthenticator is a virtual authenticator attached to one page (one
// browser), as if the user's security key were plugged into it or its
// device had a built-in passkey provider. It answers at once, as if the
// user touched the key or confirmed with a fingerprint.
type waAuthenticator struct {
	p  *browsertest.Page
	id webauthn.AuthenticatorID
}

// waSecurityKey plugs a USB security key (CTAP2) into the page's browser:
// it keeps no credentials of its own (no resident keys) and has no PIN or
// fingerprint, like a basic U2F/FIDO2 key.
func waSecurityKey(t *testing.T, p *browsertest.Page) *waAuthenticator {
	t.Helper()
	return waAttach(t, p, &webauthn.VirtualAuthenticatorOptions{
		Protocol:                    webauthn.AuthenticatorProtocolCtap2,
		Transport:                   webauthn.AuthenticatorTransportUsb,
		AutomaticPresenceSimulation: true,
	})
}

// waPlatform gives the page's browser a built-in passkey provider (a
// laptop's fingerprint reader, say): it stores passkeys (resident keys)
// and verifies the user, successfully.
func waPlatform(t *testing.T, p *browsertest.Page) *waAuthenticator {
	t.Helper()
	return waAttach(t, p, &webauthn.VirtualAuthenticatorOptions{
		Protocol:                    webauthn.AuthenticatorProtocolCtap2,
		Transport:                   webauthn.AuthenticatorTransportInternal,
		HasResidentKey:              true,
		HasUserVerification:         true,
		IsUserVerified:              true,
		AutomaticPresenceSimulation: true,
	})
}

func waAttach(t *testing.T, p *browsertest.Page, opts *webauthn.VirtualAuthenticatorOptions) *waAuthenticator {
	t.Helper()
	a := &waAuthenticator{p: p}
	err := waRun(p, webauthn.Enable(), chromedp.ActionFunc(func(ctx context.Context) error {
		var err error
		a.id, err = webauthn.AddVirtualAuthenticator(opts).Do(ctx)
		return err
	}))
	if err != nil {
		t.Fatalf("adding a virtual authenticator: %v", err)
	}
	return a
}

// credentials lists what the authenticator holds.
func (a *waAuthenticator) credentials(t *testing.T) []*webauthn.Credential {
	t.Helper()
	var creds []*webauthn.Credential
	err := waRun(a.p, chromedp.ActionFunc(func(ctx context.Context) error {
		var err error
		creds, err = webauthn.GetCredentials(a.id).Do(ctx)
		return err
	}))
	if err != nil {
		t.Fatalf("reading the virtual authenticator's credentials: %v", err)
	}
	return creds
}

// waRun runs raw CDP actions on the page, bounded.
func waRun(p *browsertest.Page, actions ...chromedp.Action) error {
	ctx, cancel := context.WithTimeout(p.Context(), testwait.D(10*time.Second))
	defer cancel()
	return chromedp.Run(ctx, actions...)
}

// waIgnoreAutofillJS stands in for the passkey autofill of a real
// browser in which the user does not pick anything from the list. The
// virtual authenticator answers a conditional request (mediation
// "conditional") at once, as if the user had picked the first passkey, so
// pages that offer autofill would sign in by themselves. This keeps such a
// request waiting until the page withdraws it (its AbortSignal), and, as
// Credential Management requires of browsers, refuses another request
// while one is waiting ("A request is already pending", NotAllowedError).
// Other requests reach the virtual authenticator.
//
// window.waAutofill counts the requests: offered, withdrawn (aborted) and
// refused.
const waIgnoreAutofillJS = `(() => {
	const realGet = navigator.credentials.get.bind(navigator.credentials);
	const st = window.waAutofill = {offered: 0, waiting: 0, withdrawn: 0, refused: 0};
	navigator.credentials.get = function (opts) {
		opts = opts || {};
		if (opts.mediation === "conditional") {
			st.offered++;
			return new Promise((resolve, reject) => {
				const sig = opts.signal;
				if (sig && sig.aborted) {
					st.withdrawn++;
					reject(new DOMException("The operation was aborted.", "AbortError"));
					return;
				}
				st.waiting++;
				if (sig) sig.addEventListener("abort", () => {
					st.waiting--;
					st.withdrawn++;
					reject(new DOMException("The operation was aborted.", "AbortError"));
				}, {once: true});
			});
		}
		if (st.waiting > 0) {
			st.refused++;
			return Promise.reject(new DOMException("A request is already pending.", "NotAllowedError"));
		}
		return realGet(opts);
	};
})();`

// waIgnoreAutofill makes the user of the page ignore the passkey autofill
// from the next document on (see waIgnoreAutofillJS); undo stops that.
func waIgnoreAutofill(t *testing.T, p *browsertest.Page) (undo func()) {
	t.Helper()
	var id page.ScriptIdentifier
	err := waRun(p, chromedp.ActionFunc(func(ctx context.Context) error {
		var err error
		id, err = page.AddScriptToEvaluateOnNewDocument(waIgnoreAutofillJS).Do(ctx)
		return err
	}))
	if err != nil {
		t.Fatalf("installing the autofill stand-in: %v", err)
	}
	return func() {
		t.Helper()
		if err := waRun(p, page.RemoveScriptToEvaluateOnNewDocument(id)); err != nil {
			t.Fatalf("removing the autofill stand-in: %v", err)
		}
	}
}

// waAutofillOffered waits (bounded) until the sign-in page has offered
// the passkey autofill, which it does in the background after loading.
func waAutofillOffered(t *testing.T, p *browsertest.Page) {
	t.Helper()
	err := waRun(p, chromedp.Poll(`window.waAutofill && window.waAutofill.waiting === 1`, nil,
		chromedp.WithPollingInterval(25*time.Millisecond), chromedp.WithPollingTimeout(testwait.D(5*time.Second))))
	if err != nil {
		var st map[string]int
		p.Eval(`window.waAutofill || {}`, &st)
		t.Fatalf("the sign-in page did not offer passkey autofill (%v); requests: %v", err, st)
	}
}

// waCeremony presses the button of a form[data-webauthn] (sel) and
// waits until the next document is completely loaded, as Submit does, but
// fails at once, with the message the page shows under the button, if the
// ceremony fails in the browser (the script then stays on the page).
func waCeremony(t *testing.T, p *browsertest.Page, sel string) {
	t.Helper()
	p.Eval(`window.waOldDocument = true`, nil)
	p.Click(sel)
	type state struct {
		Old      bool           `json:"old"`
		Ready    string         `json:"ready"`
		Error    string         `json:"error"`
		Autofill map[string]int `json:"autofill"`
	}
	var st state
	err := waRun(p, chromedp.ActionFunc(func(ctx context.Context) error {
		for {
			err := chromedp.Evaluate(`({old: !!window.waOldDocument, ready: document.readyState,
				error: [...document.querySelectorAll("[data-webauthn-error]")].filter(e => !e.hidden).map(e => e.textContent).join(" "),
				autofill: window.waAutofill || null})`, &st).Do(ctx)
			switch {
			case err == nil && !st.Old && st.Ready == "complete":
				return nil
			case err == nil && st.Old && st.Error != "":
				return nil
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(25 * time.Millisecond):
			}
		}
	}))
	switch {
	case err != nil:
		t.Fatalf("pressing %s: no new page within 10s (%v); the page is %s", sel, err, p.URL())
	case st.Old:
		t.Fatalf("pressing %s: the browser's ceremony failed; the page says %q (autofill requests: %v)", sel, st.Error, st.Autofill)
	}
}

// waKeys is the security page's list of keys: each key's name and kind.
type waKey struct{ Name, Kind, Info string }

func waKeys(p *browsertest.Page) []waKey {
	var out []waKey
	p.Eval(`[...document.querySelectorAll("#keys li.key")].map(li => ({
		Name: li.querySelector(".key-name").innerText.trim(),
		Kind: li.firstElementChild.nextSibling.textContent.replace(/^\s*—\s*/, "").trim(),
		Info: li.querySelector("p.hint").innerText.trim(),
	}))`, &out)
	return out
}

// waRegisterForm is the selector of the security page's form that adds a
// security key (passkey false) or creates a passkey (true).
func waRegisterForm(passkey bool) string {
	v := "0"
	if passkey {
		v = "1"
	}
	return `#keys form[data-webauthn="register"]:has(input[name="passkey"][value="` + v + `"])`
}

// waAddKey names a new key and presses the form's button; the browser
// talks to the authenticator and the page reloads.
func waAddKey(t *testing.T, p *browsertest.Page, passkey bool, name, wantButton string) {
	t.Helper()
	mfaAt(t, p, "/account/security")
	form := waRegisterForm(passkey)
	if got := p.Text(form + ` button[type="submit"]`); got != wantButton {
		t.Errorf("the button reads %q, want %q", got, wantButton)
	}
	p.Fill(form+` input[name="name"]`, name)
	waCeremony(t, p, form+` button[type="submit"]`)
	// A first strong factor comes with recovery codes, shown once, so a
	// lost key is no dead end.
	if p.Text("h1") == "Recovery codes" {
		p.Submit(`main a[href^="/account/security"]`)
	}
	mfaAt(t, p, "/account/security")
}

// waSessionLevel is the security page's "This sign-in" line, as
// "Strength N, methods: a b c." from the line's data attributes (the
// person reads it in words: "Signed in with password and SMS code.").
func waSessionLevel(t *testing.T, srv *server, p *browsertest.Page) string {
	t.Helper()
	p.Open(srv.URL + "/account/security")
	mfaAt(t, p, "/account/security")
	return sessionLevel(t, p)
}

// sessionLevel reads the security page's session line's level and amr
// as "Strength N, methods: a b c.".
func sessionLevel(t *testing.T, p *browsertest.Page) string {
	t.Helper()
	level, _ := p.Attr("#session-level", "data-level")
	amr, _ := p.Attr("#session-level", "data-amr")
	return "Strength " + level + ", methods: " + amr + "."
}

// waAMR is the methods of a "Strength N, methods: a b c." line.
func waAMR(level string) []string {
	_, m, _ := strings.Cut(level, "methods: ")
	return strings.Fields(strings.TrimSuffix(m, "."))
}
