package web

import (
	"net/http"
	"net/url"

	"github.com/portvakt/portvakt/internal/i18n"
)

// journeyKeys are the parameters that hold a journey's place: the flow,
// the OIDC authorization request, where to go afterwards, the step-up's
// action and the chosen second-factor method. The language switcher
// carries them back, so switching language on a code, password,
// second-step or consent page never lands on "expired or already used".
var journeyKeys = []string{"flow", "auth", "return_to", "action", "method", "request", "change", "channel"}

// postPages maps a POST-only path whose handler may render a page (a
// resend, an error re-render) to the GET path that shows the same step.
var postPages = map[string]string{
	"/signup/resend":                  "/signup/code",
	"/recover/resend":                 "/recover/code",
	"/login/factor/send":              "/login/factor",
	"/login/factor/lost":              "/login/factor",
	"/login/factor/link":              "/login/factor",
	"/login/factor/webauthn":          "/login/factor",
	"/login/enrol/email":              "/login/factor",
	"/login/enrol/email/confirm":      "/login/factor",
	"/login/enrol/totp":               "/login/factor",
	"/login/enrol/totp/confirm":       "/login/factor",
	"/login/passkey":                  "/login",
	"/recover/link":                   "/recover",
	"/recover/link/elsewhere":         "/recover",
	"/recover/link-code":              "/recover/code",
	"/account/security/totp":          "/account/security",
	"/account/security/totp/confirm":  "/account/security",
	"/account/security/recovery":      "/account/security",
	"/account/security/phones/resend": "/account/security/phones/verify",
	"/logout":                         "/",
}

// switchBack is where the language switcher returns after setting the
// language: the page the user is on, with its journey parameters. For a
// GET page that is its path and query (less a one-time notice); for a
// page rendered by a POST, the GET page of the same step with the journey
// parameters the form carried. Tokens, codes and passwords are never
// copied from a form.
func switchBack(r *http.Request) string {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		q := r.URL.Query()
		q.Del("notice")
		return withQuery(r.URL.Path, q)
	}
	p := r.URL.Path
	if to, ok := postPages[p]; ok {
		p = to
	}
	q := url.Values{}
	for _, k := range journeyKeys {
		// FormValue reads the query and a form the handler already parsed;
		// a body not parsed (a JSON call) gives nothing.
		if v := r.FormValue(k); v != "" {
			q.Set(k, v)
		}
	}
	return withQuery(p, q)
}

func withQuery(p string, q url.Values) string {
	if len(q) == 0 {
		return p
	}
	return p + "?" + q.Encode()
}

// RequestLang returns the language negotiated for r (OIDC ui_locales, the
// account's preference, the switcher's cookie, the browser, the default),
// for handlers mounted inside the server such as the demo app; nil
// outside the server's middleware.
func RequestLang(r *http.Request) *i18n.Lang { return stateOf(r).Lang }
