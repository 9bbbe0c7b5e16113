package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/portvakt/portvakt/internal/op"
	"github.com/portvakt/portvakt/internal/problem"
	"github.com/portvakt/portvakt/internal/web/ui"
)

// The browser's side of OpenID Connect. /authorize (package op) sends the
// browser to /oidc/continue?auth=<id>; that page asks the provider what
// the request still needs from this browser's session (a sign-in, a
// stronger factor for acr_values, consent for a third-party app) and
// sends the browser there, back to itself afterwards (the return cookie
// carries it through every way of signing in), and at last to the
// provider's callback, which gives the app its code.

// oidcContinueURL is where the provider sends the browser for a request.
func oidcContinueURL(id string) string { return "/oidc/continue?auth=" + url.QueryEscape(id) }

// OIDCLoginURL is op.Deps.LoginURL: the absolute continue page.
func OIDCLoginURL(publicURL string) func(string) string {
	base := strings.TrimRight(publicURL, "/")
	return func(id string) string { return base + oidcContinueURL(id) }
}

// OIDCLogoutURL is op.Deps.LogoutURL: the sign-out confirmation page.
func OIDCLogoutURL(publicURL string) func(string) string {
	base := strings.TrimRight(publicURL, "/")
	return func(req string) string { return base + "/oidc/logout?request=" + url.QueryEscape(req) }
}

func (s *Server) oidcGone(w http.ResponseWriter, r *http.Request) error {
	b := s.base(r)
	return s.render(w, r, http.StatusBadRequest, "message", &ui.MessagePage{Base: b, Heading: b.T("oidc.gone.title"), Paragraphs: []string{b.T("oidc.gone.body")}})
}

// crossSite reports whether the browser says the request came from
// another site (Sec-Fetch-Site cross-site or same-site: another origin).
// A request without the header (not a browser, or a browser too old to
// send it) is not treated as cross-site.
func crossSite(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "cross-site", "same-site":
		return true
	}
	return false
}

// oidcContinue takes an authorization request on (GET from /authorize and
// back from each step; POST from its own "Continue to <app>" page). A
// signed-in browser that arrives by a cross-site GET completes nothing:
// another site may have started the request (issue 10, finding 11), so
// the user is asked first, and the answer is a POST, which only this
// origin can send (CrossOriginProtection). prompt=none cannot ask, so it
// gets interaction_required.
func (s *Server) oidcContinue(w http.ResponseWriter, r *http.Request) error {
	if s.OP == nil {
		return errNotFound
	}
	id := r.URL.Query().Get("auth")
	if r.Method == http.MethodPost {
		id = r.PostFormValue("auth")
	}
	st := stateOf(r)
	info, err := s.OP.AuthRequest(r.Context(), id)
	if errors.Is(err, op.ErrUnknownRequest) {
		return s.oidcGone(w, r)
	}
	if err != nil {
		return err
	}
	s.oidcLanguage(w, r, info)
	if r.Method == http.MethodGet && st.Session != nil && crossSite(r) {
		if info.PromptNone {
			next, err := s.OP.Abort(r.Context(), id, op.AbortInteractionRequired)
			if errors.Is(err, op.ErrUnknownRequest) {
				return s.oidcGone(w, r)
			}
			if err != nil {
				return err
			}
			http.Redirect(w, r, next, http.StatusSeeOther)
			return nil
		}
		b := s.base(r)
		client := info.ClientName
		if client == "" {
			client = info.ClientID
		}
		return s.render(w, r, http.StatusOK, "message", &ui.MessagePage{Base: b,
			Heading:    b.T("oidc.continue.title", "client", client),
			Paragraphs: []string{b.T("oidc.continue.body", "client", client)},
			FormAction: "/oidc/continue", FormButton: b.T("oidc.continue.button", "client", client),
			Hidden: []ui.Hidden{{Name: "auth", Value: id}}})
	}
	if asked, err := s.actAsNeeded(w, r, info, id); asked || err != nil {
		return err // the chooser first (represent.go)
	}
	next, err := s.OP.Complete(r.Context(), id, st.Session)
	var need *op.NeedError
	switch {
	case errors.Is(err, op.ErrUnknownRequest):
		return s.oidcGone(w, r)
	case errors.As(err, &need):
		back := oidcContinueURL(id)
		switch need.Need {
		case op.NeedLogin:
			if st.Session != nil && info.HintSubject == "" || st.Session != nil && info.HintSubject == st.Session.AccountID {
				// prompt=login or max_age: the same user signs in again.
				http.Redirect(w, r, "/account/reauth?return_to="+url.QueryEscape(back), http.StatusSeeOther)
				return nil
			}
			s.setReturnTo(w, back)
			dest := "/login"
			if !s.LoginMethods.Email {
				dest = "/login/username"
			}
			http.Redirect(w, r, dest, http.StatusSeeOther)
			return nil
		case op.NeedStepUp:
			who, ok := s.who(w, r)
			if !ok {
				return nil
			}
			res, err := s.Flows.StepUpTo(r.Context(), s.client(w, r), who, need.Level, back)
			if p := asProblem(err); p != nil {
				// No method strong enough: say so, and offer the way
				// back to the app rather than a dead end.
				b := s.base(r)
				page := &ui.MessagePage{Base: b, Heading: b.T("oidc.stepup.title"), FormAction: "/oidc/cancel",
					FormButton: b.T("oidc.back_to_app", "client", info.ClientName), Hidden: []ui.Hidden{{Name: "auth", Value: id}},
					LinkURL: "/account/security", LinkText: b.T("account.security.open")}
				for _, d := range p.Details {
					page.Paragraphs = append(page.Paragraphs, b.T(d.Key, d.Args))
				}
				return s.render(w, r, p.Kind.Status(), "message", page)
			}
			if err != nil {
				return err
			}
			if res.Pending == "" {
				http.Redirect(w, r, back, http.StatusSeeOther)
				return nil
			}
			http.Redirect(w, r, "/login/factor?flow="+res.Pending, http.StatusSeeOther)
			return nil
		case op.NeedConsent:
			return s.render(w, r, http.StatusOK, "consent", s.consentPage(r, info))
		case op.NeedUpstream:
			return s.needUpstream(w, r, info, need, back)
		}
		return err
	case err != nil:
		return err
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

// oidcLanguage makes the pages the continue page shows itself (consent,
// or why a step-up cannot be done) speak the language the app asked for
// with ui_locales (OIDC Core §3.1.2.1), which comes before the account's,
// the switcher's and the browser's. The middleware reads ui_locales only
// from the page's own query, and the provider's redirect here carries
// just the request's ID.
func (s *Server) oidcLanguage(w http.ResponseWriter, r *http.Request, info op.AuthRequestInfo) {
	if r.URL.Query().Get("ui_locales") != "" {
		return
	}
	for _, tag := range info.UILocales {
		if l := s.Catalog.Supported(tag); l != "" {
			stateOf(r).Lang = s.Catalog.Lang(l)
			// The sign-in pages that follow speak it too (the cookie
			// lasts the browser session; ui_locales outranks the
			// account's and the switcher's choice, per OIDC Core).
			http.SetCookie(w, &http.Cookie{Name: uiLocalesCookie, Value: l, Path: "/", HttpOnly: true, Secure: s.secure(), SameSite: http.SameSiteLaxMode})
			return
		}
	}
}

// uiLocalesCookie carries an app's ui_locales across the sign-in pages.
const uiLocalesCookie = "portvakt_ui_locales"

// oidcCancel gives up an authorization request the user cannot satisfy
// (a level their account has no method for) or does not want: the app
// hears access_denied and the browser goes back to it.
func (s *Server) oidcCancel(w http.ResponseWriter, r *http.Request) error {
	if s.OP == nil {
		return errNotFound
	}
	next, err := s.OP.Abort(r.Context(), r.PostFormValue("auth"), op.AbortDenied)
	if errors.Is(err, op.ErrUnknownRequest) {
		return s.oidcGone(w, r)
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

func (s *Server) consentPage(r *http.Request, info op.AuthRequestInfo) *ui.ConsentPage {
	b := s.base(r)
	p := &ui.ConsentPage{Base: b, Auth: info.ID, Client: info.ClientName}
	if p.Client == "" {
		p.Client = info.ClientID
	}
	for _, sc := range info.Scopes {
		key := "oidc.scope." + sc
		if !s.Catalog.Has(key) {
			key = "oidc.scope.other"
		}
		p.Scopes = append(p.Scopes, b.T(key, "scope", sc))
	}
	return p
}

// oidcConsent records the user's answer on the consent page.
func (s *Server) oidcConsent(w http.ResponseWriter, r *http.Request) error {
	if s.OP == nil {
		return errNotFound
	}
	who, ok := s.who(w, r)
	if !ok {
		return nil
	}
	id := r.PostFormValue("auth")
	info, err := s.OP.AuthRequest(r.Context(), id)
	if errors.Is(err, op.ErrUnknownRequest) {
		return s.oidcGone(w, r)
	}
	if err != nil {
		return err
	}
	if r.PostFormValue("decision") != "allow" {
		next, err := s.OP.Abort(r.Context(), id, op.AbortDenied)
		if errors.Is(err, op.ErrUnknownRequest) {
			return s.oidcGone(w, r)
		}
		if err != nil {
			return err
		}
		http.Redirect(w, r, next, http.StatusSeeOther)
		return nil
	}
	if err := s.OP.Consent(r.Context(), who.Account.ID, info.ClientID, info.Scopes); err != nil {
		return err
	}
	s.recordConsent(r, who.Account.ID, info.ClientID, info.Scopes)
	http.Redirect(w, r, oidcContinueURL(id), http.StatusSeeOther)
	return nil
}

// oidcLogoutForm asks before signing out at an app's request
// (RP-initiated logout); a GET never signs anyone out.
func (s *Server) oidcLogoutForm(w http.ResponseWriter, r *http.Request) error {
	if s.OP == nil {
		return errNotFound
	}
	b := s.base(r)
	return s.render(w, r, http.StatusOK, "message", &ui.MessagePage{Base: b, Heading: b.T("oidc.logout.title"), Paragraphs: []string{b.T("oidc.logout.body")},
		FormAction: "/oidc/logout", FormButton: b.T("nav.logout"), Hidden: []ui.Hidden{{Name: "request", Value: r.URL.Query().Get("request")}}})
}

func (s *Server) oidcLogout(w http.ResponseWriter, r *http.Request) error {
	if s.OP == nil {
		return errNotFound
	}
	next, err := s.OP.EndSession(r.Context(), r.PostFormValue("request"), stateOf(r).Session)
	if errors.Is(err, op.ErrBadLogoutRequest) {
		return s.oidcGone(w, r)
	}
	if err != nil {
		return err
	}
	s.auditSignOut(r, stateOf(r).Session, "app")
	s.clearSessionCookie(w)
	if next == "" {
		next = "/?notice=signed-out"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

// ConsentJSON is what an app asks the signed-in user to allow.
type ConsentJSON struct {
	Auth     string             `json:"auth"`
	Client   string             `json:"client"`
	ClientID string             `json:"client_id"`
	Scopes   []ConsentScopeJSON `json:"scopes"`
}

// ConsentScopeJSON is one scope and what it means, in the user's language.
type ConsentScopeJSON struct {
	Scope string `json:"scope"`
	Text  string `json:"text"`
}

// RedirectJSON says where the client goes next: the app's callback (with
// a code, or access_denied), or the continue page when the request needs
// more first.
type RedirectJSON struct {
	Redirect string `json:"redirect"`
}

// errRequestGone is the JSON answer for a sign-in request that is
// unknown, expired or already answered.
var errRequestGone = problem.New(problem.Expired, "", "oidc.gone.body", nil)

// apiConsent is the JSON twin of the consent page: the app and the scopes
// of the sign-in request auth, for the signed-in user.
func (s *Server) apiConsent(w http.ResponseWriter, r *http.Request) error {
	if s.OP == nil {
		return errNotFound
	}
	if _, err := s.apiWho(r); err != nil {
		return err
	}
	info, err := s.OP.AuthRequest(r.Context(), r.URL.Query().Get("auth"))
	if errors.Is(err, op.ErrUnknownRequest) {
		return errRequestGone
	}
	if err != nil {
		return err
	}
	page := s.consentPage(r, info)
	out := ConsentJSON{Auth: info.ID, Client: page.Client, ClientID: info.ClientID, Scopes: []ConsentScopeJSON{}}
	for i, sc := range info.Scopes {
		out.Scopes = append(out.Scopes, ConsentScopeJSON{Scope: sc, Text: page.Scopes[i]})
	}
	return writeJSON(w, http.StatusOK, out)
}

// apiConsentAnswer records the user's answer, as the consent page's form
// does: allow gives the app the scopes and goes on with the request;
// anything else refuses it (the app hears access_denied).
func (s *Server) apiConsentAnswer(w http.ResponseWriter, r *http.Request) error {
	if s.OP == nil {
		return errNotFound
	}
	who, err := s.apiWho(r)
	if err != nil {
		return err
	}
	var in struct {
		Auth     string `json:"auth"`
		Decision string `json:"decision"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	info, err := s.OP.AuthRequest(r.Context(), in.Auth)
	if errors.Is(err, op.ErrUnknownRequest) {
		return errRequestGone
	}
	if err != nil {
		return err
	}
	if in.Decision != "allow" {
		next, err := s.OP.Abort(r.Context(), in.Auth, op.AbortDenied)
		if errors.Is(err, op.ErrUnknownRequest) {
			return errRequestGone
		}
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, RedirectJSON{Redirect: next})
	}
	if err := s.OP.Consent(r.Context(), who.Account.ID, info.ClientID, info.Scopes); err != nil {
		return err
	}
	s.recordConsent(r, who.Account.ID, info.ClientID, info.Scopes)
	next, err := s.OP.Complete(r.Context(), in.Auth, &who.Session)
	var need *op.NeedError
	switch {
	case errors.Is(err, op.ErrUnknownRequest):
		return errRequestGone
	case errors.As(err, &need):
		// More than consent (a step-up, say): the continue page asks.
		return writeJSON(w, http.StatusOK, RedirectJSON{Redirect: oidcContinueURL(in.Auth)})
	case err != nil:
		return err
	}
	return writeJSON(w, http.StatusOK, RedirectJSON{Redirect: next})
}
