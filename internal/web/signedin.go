package web

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/portvakt/portvakt/internal/flow"
	"github.com/portvakt/portvakt/internal/secret"
)

// What every handler of a journey shares: the browser-binding cookie
// (client), landing a finished sign-in (land, signIn), where to go back
// to (setReturnTo), and the signed-in user (who).

const (
	browserCookieBase = "portvakt_browser"
	emailCookie       = "portvakt_email"
)

func (s *Server) browserCookieName() string {
	if s.secure() {
		return "__Host-" + browserCookieBase
	}
	return browserCookieBase
}

// client describes the request to the flows. The browser-binding cookie
// is created on first need: a random token whose digest the flows store,
// so a flow answers only to the browser that started it.
func (s *Server) client(w http.ResponseWriter, r *http.Request) flow.Client {
	var token string
	if c, err := r.Cookie(s.browserCookieName()); err == nil && len(c.Value) >= 40 {
		token = c.Value
	} else {
		token = secret.Token()
		http.SetCookie(w, &http.Cookie{
			Name: s.browserCookieName(), Value: token, Path: "/", MaxAge: int((400 * 24 * time.Hour).Seconds()),
			HttpOnly: true, Secure: s.secure(), SameSite: http.SameSiteLaxMode,
		})
		// Make the cookie visible to the rest of this request too.
		r.AddCookie(&http.Cookie{Name: s.browserCookieName(), Value: token})
	}
	c := flow.Client{Browser: secret.Hash(token), IP: clientIP(r), UserAgent: r.UserAgent(), Lang: stateOf(r).Lang.Tag()}
	if t, err := r.Cookie(s.trustCookieName()); err == nil && t.Value != "" {
		c.Trust = secret.Hash(t.Value)
	}
	return c
}

// land finishes a sign-in: to the second-factor step if one is needed,
// otherwise the session cookie (and the remembered-browser cookie if the
// user asked) and on to dest, or to where a reauth or step-up came from.
func (s *Server) land(w http.ResponseWriter, r *http.Request, res flow.Result, dest string) error {
	if res.Pending != "" {
		http.Redirect(w, r, "/login/factor?flow="+res.Pending, http.StatusSeeOther)
		return nil
	}
	if err := s.signIn(w, r, res); err != nil {
		return err
	}
	if res.TrustToken != "" {
		http.SetCookie(w, &http.Cookie{
			Name: s.trustCookieName(), Value: res.TrustToken, Path: "/", MaxAge: s.Flows.MFA.RememberDays * 24 * 3600,
			HttpOnly: true, Secure: s.secure(), SameSite: http.SameSiteLaxMode,
		})
	}
	switch {
	case res.LostAuthenticator:
		dest = "/account/security?notice=set-up-totp#totp"
	case res.ReturnTo != "":
		dest = localPath(res.ReturnTo)
	default:
		if c, err := r.Cookie(returnCookie); err == nil && c.Value != "" {
			if v, err := url.QueryUnescape(c.Value); err == nil {
				dest = localPath(v)
			}
			s.setReturnTo(w, "")
		}
	}
	if res.DeletionCancelled && (dest == "/account" || strings.HasPrefix(dest, "/account?")) {
		// Signing in cancelled the deletion the user had asked for: say so.
		dest = "/account?notice=deletion-cancelled"
	}
	http.Redirect(w, r, dest, http.StatusSeeOther)
	return nil
}

// returnCookie remembers where a sign-in started from (an app's
// authorization request, a step-up) across the sign-in's pages, whichever
// way the user signs in (password, passkey, magic link, sign-up).
const returnCookie = "portvakt_return"

// setReturnTo keeps a local path to go back to after sign-in; "" forgets it.
func (s *Server) setReturnTo(w http.ResponseWriter, path string) {
	c := &http.Cookie{Name: returnCookie, Path: "/", HttpOnly: true, Secure: s.secure(), SameSite: http.SameSiteLaxMode}
	if path == "" {
		c.MaxAge = -1
	} else {
		c.Value, c.MaxAge = url.QueryEscape(localPath(path)), 3600
	}
	http.SetCookie(w, c)
}

func (s *Server) trustCookieName() string {
	if s.secure() {
		return "__Host-portvakt_trust"
	}
	return "portvakt_trust"
}

// signIn replaces whatever session the browser had with the new one
// (never reusing a token from before sign-in: session fixation). A
// reauth or step-up rotates the same session, which also gets the new
// cookie.
func (s *Server) signIn(w http.ResponseWriter, r *http.Request, res flow.Result) error {
	if old := stateOf(r).Session; old != nil && old.ID != res.Session.ID {
		if err := s.Sessions.Revoke(r.Context(), old.ID); err != nil {
			return err
		}
	}
	s.setSessionCookie(w, res.Token)
	return nil
}

// who returns the signed-in caller, or sends the browser to sign in.
func (s *Server) who(w http.ResponseWriter, r *http.Request) (flow.Who, bool) {
	st := stateOf(r)
	if st.Session == nil {
		// The signed-in pages' one gate remembers the page asked for, so
		// the sign-in comes back to it (land). A form's POST cannot be
		// replayed: it starts again from the account page.
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			s.setReturnTo(w, r.URL.RequestURI())
		}
		http.Redirect(w, r, "/login?notice=sign-in-first", http.StatusSeeOther)
		return flow.Who{}, false
	}
	return flow.Who{Account: *st.Account, Session: *st.Session}, true
}
