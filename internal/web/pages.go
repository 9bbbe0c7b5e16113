package web

import (
	"errors"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/portvakt/portvakt/internal/i18n"
	"github.com/portvakt/portvakt/internal/problem"
	"github.com/portvakt/portvakt/internal/store"
	"github.com/portvakt/portvakt/internal/web/ui"
)

// base fills the data every page shares.
func (s *Server) base(r *http.Request) ui.Base {
	st := stateOf(r)
	lang := st.Lang
	if lang == nil {
		lang = s.Catalog.Lang(s.DefaultLanguage)
	}
	b := ui.Base{
		Lang:        lang,
		Nonce:       st.Nonce,
		ServiceName: s.ServiceName,
		Path:        switchBack(r),
		SignedIn:    st.Session != nil,
	}
	if st.Account != nil {
		b.AccountName = st.Account.Name
		if b.AccountName == "" {
			b.AccountName = s.displayUsername(st.Account.Username)
		}
	}
	for _, tag := range i18n.Languages {
		// i18n.Name, not each catalog's lang.name: that would parse every
		// language's catalog at the first page (issue 12).
		b.Languages = append(b.Languages, ui.LangOption{Tag: tag, Name: i18n.Name(tag), Current: tag == lang.Tag()})
	}
	if st.Expired {
		b.Notice = lang.T("session.expired")
	}
	return b
}

// notices are the messages a redirect may ask the next page to show, by
// a fixed name in the query, so no text travels in URLs.
var notices = map[string]string{
	"signed-out":        "logout.done",
	"code-resent":       "code.resent",
	"welcome":           "account.welcome",
	"password-changed":  "account.password.changed",
	"email-added":       "account.emails.added",
	"primary-changed":   "account.emails.primary_changed",
	"email-removed":     "account.emails.removed",
	"sign-in-first":     "session.required",
	"set-up-totp":       "security.totp.lost_move",
	"factor-added":      "security.factor_added",
	"factor-removed":    "security.factor_removed",
	"browser-forgotten": "security.browsers.forgotten",
	"key-added":         "security.keys.added",
	"key-renamed":       "security.keys.renamed",
	"identity-linked":   "federate.notice.linked",
	"identity-removed":  "federate.notice.removed",
	"sign-in-to-link":   "federate.notice.sign_in_to_link",
	"sign-in-holder":    "federate.notice.sign_in_holder",
}

func (s *Server) home(w http.ResponseWriter, r *http.Request) error {
	p := &ui.HomePage{Base: s.base(r), SignUp: s.LoginMethods.Email}
	if key, ok := notices[r.URL.Query().Get("notice")]; ok && p.Notice == "" {
		p.Notice = p.T(key)
	}
	return s.render(w, r, http.StatusOK, "home", p)
}

// logout ends the session (if any) and returns to the start page.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) error {
	dest := "/?notice=signed-out"
	if sess := stateOf(r).Session; sess != nil {
		if err := s.Sessions.Revoke(r.Context(), sess.ID); err != nil {
			return err
		}
		s.auditSignOut(r, sess, "sign-out")
		// A session through ID-porten signs out there too (RP-initiated
		// logout), and the upstream sends the browser back here.
		u, err := s.Flows.UpstreamLogoutURL(r.Context(), *sess, strings.TrimRight(s.PublicURL.String(), "/")+dest)
		if err != nil {
			return err
		}
		if u != "" {
			dest = u
		}
	}
	s.clearSessionCookie(w)
	http.Redirect(w, r, dest, http.StatusSeeOther)
	return nil
}

// setLanguage remembers the chosen language in a cookie and, for a
// signed-in user, on the account, then returns to the page the switcher
// was on.
func (s *Server) setLanguage(w http.ResponseWriter, r *http.Request) error {
	tag := s.Catalog.Supported(r.PostFormValue("lang"))
	if tag == "" {
		return problem.New(problem.Invalid, "lang", "lang.unsupported", problem.Args{"supported": strings.Join(i18n.Languages, ", ")})
	}
	// An explicit choice outranks what an app asked for.
	http.SetCookie(w, &http.Cookie{Name: uiLocalesCookie, Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.secure(), SameSite: http.SameSiteLaxMode})
	http.SetCookie(w, &http.Cookie{
		Name:     langCookie,
		Value:    tag,
		Path:     "/",
		MaxAge:   int((365 * 24 * time.Hour).Seconds()),
		HttpOnly: true,
		Secure:   s.secure(),
		SameSite: http.SameSiteLaxMode,
	})
	if acct := stateOf(r).Account; acct != nil {
		_, err := s.Accounts.UpdateAccount(r.Context(), acct.ID, func(a store.Account) (store.Account, error) {
			a.Locale = tag
			return a, nil
		})
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	http.Redirect(w, r, localPath(r.PostFormValue("return_to")), http.StatusSeeOther)
	return nil
}

// localPath returns p if it is a path on this site, and "/" otherwise, so
// a return_to can never send the user to another host. "//evil" and
// "/\evil" are protocol-relative in browsers, and http.Redirect cleans
// "/./\evil" into the latter, so a backslash or control character
// anywhere is refused, as is anything with a scheme or host.
func localPath(p string) string {
	if p == "" || p[0] != '/' || strings.HasPrefix(p, "//") {
		return "/"
	}
	for _, r := range p {
		if r == '\\' || r < 0x20 || r == 0x7f {
			return "/"
		}
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.Opaque != "" || strings.HasPrefix(path.Clean(u.Path), "//") {
		return "/"
	}
	return p
}
