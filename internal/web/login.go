package web

import (
	"net/http"
	"time"

	"github.com/portvakt/portvakt/internal/flow"
	"github.com/portvakt/portvakt/internal/store"
	"github.com/portvakt/portvakt/internal/web/ui"
)

// Sign-in with a password: by address (email first, then password) or by
// username; and the JSON twins (/api/v1/login…).

func (s *Server) loginPage(r *http.Request) *ui.LoginPage {
	b := s.base(r)
	return &ui.LoginPage{Base: b, EmailEnabled: s.LoginMethods.Email, UsernameEnabled: s.LoginMethods.Username, Passkeys: s.Flows.WebAuthn != nil,
		Upstreams: s.upstreamButtons(b.Lang.Tag())}
}

func (s *Server) loginForm(w http.ResponseWriter, r *http.Request) error {
	if !s.LoginMethods.Email {
		http.Redirect(w, r, "/login/username", http.StatusSeeOther)
		return nil
	}
	if rt := r.URL.Query().Get("return_to"); rt != "" && localPath(rt) == rt {
		s.setReturnTo(w, rt)
	}
	p := s.loginPage(r)
	if c, err := r.Cookie(emailCookie); err == nil && r.URL.Query().Get("change") == "" {
		p.Email, p.Remember = c.Value, true
	}
	p.Notice = noticeFrom(r, p.Base)
	return s.render(w, r, http.StatusOK, "login", p)
}

// loginSubmit is the email step. It leads to the password step whether
// or not the address has an account.
func (s *Server) loginSubmit(w http.ResponseWriter, r *http.Request) error {
	if !s.LoginMethods.Email {
		return errNotFound
	}
	email, remember := r.PostFormValue("email"), r.PostFormValue("remember") != ""
	f, err := s.login().StartLogin(r.Context(), s.client(w, r), email, remember)
	if p := asProblem(err); p != nil {
		page := s.loginPage(r)
		page.Email, page.Remember, page.Problem = email, remember, p
		return s.render(w, r, p.Kind.Status(), "login", page)
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/login/password?flow="+f.ID, http.StatusSeeOther)
	return nil
}

func (s *Server) loginPasswordForm(w http.ResponseWriter, r *http.Request) error {
	f, err := s.login().LoginFlow(r.Context(), s.client(w, r), r.URL.Query().Get("flow"))
	if p := asProblem(err); p != nil {
		return s.flowProblem(w, r, p, "/login")
	}
	if err != nil {
		return err
	}
	page := &ui.LoginPasswordPage{Base: s.base(r), Flow: f.ID, Email: f.Email}
	if page.Captcha, err = s.loginWidget(r, s.client(w, r), f.ID, ""); err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "login_password", page)
}

func (s *Server) loginPasswordSubmit(w http.ResponseWriter, r *http.Request) error {
	c := s.client(w, r)
	id := r.PostFormValue("flow")
	f, ferr := s.login().LoginFlow(r.Context(), c, id)
	if p := asProblem(ferr); p != nil {
		return s.flowProblem(w, r, p, "/login")
	}
	if ferr != nil {
		return ferr
	}
	err := s.loginCaptcha(r, c, id, "")
	var res flow.Result
	if err == nil {
		res, err = s.login().LoginPassword(r.Context(), c, id, r.PostFormValue("password"))
		err = s.credentialsWording(err, onEmailPage)
	}
	if failed, err := s.formFailed(w, r, err, "/login", "login_password", func() (problemPage, error) {
		page := &ui.LoginPasswordPage{Base: s.base(r), Flow: f.ID, Email: f.Email}
		var werr error
		page.Captcha, werr = s.loginWidget(r, c, f.ID, "")
		return page, werr
	}); failed {
		return err
	}
	s.rememberEmail(w, f)
	return s.land(w, r, res, "/account")
}

// rememberEmail keeps (or forgets) the address on this device, as the
// user chose on the email step.
func (s *Server) rememberEmail(w http.ResponseWriter, f store.Flow) {
	c := &http.Cookie{Name: emailCookie, Path: "/", HttpOnly: true, Secure: s.secure(), SameSite: http.SameSiteLaxMode}
	if flow.Remembered(f) {
		c.Value, c.MaxAge = f.Email, int((365 * 24 * time.Hour).Seconds())
	} else {
		c.MaxAge = -1
	}
	http.SetCookie(w, c)
}

func (s *Server) loginUsernameForm(w http.ResponseWriter, r *http.Request) error {
	if !s.LoginMethods.Username {
		return errNotFound
	}
	if rt := r.URL.Query().Get("return_to"); rt != "" && localPath(rt) == rt {
		s.setReturnTo(w, rt)
	}
	page := &ui.LoginUsernamePage{Base: s.base(r), EmailEnabled: s.LoginMethods.Email}
	s.usernameField(page.Base, page)
	var err error
	if page.Captcha, err = s.loginWidget(r, s.client(w, r), "", ""); err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "login_username", page)
}

func (s *Server) loginUsernameSubmit(w http.ResponseWriter, r *http.Request) error {
	if !s.LoginMethods.Username {
		return errNotFound
	}
	username := r.PostFormValue("username")
	c := s.client(w, r)
	err := s.loginCaptcha(r, c, "", username)
	var res flow.Result
	if err == nil {
		res, err = s.login().LoginUsername(r.Context(), c, username, r.PostFormValue("password"))
		err = s.credentialsWording(err, onUsernamePage)
	}
	if failed, err := s.formFailed(w, r, err, "", "login_username", func() (problemPage, error) {
		page := &ui.LoginUsernamePage{Base: s.base(r), Username: username, EmailEnabled: s.LoginMethods.Email}
		s.usernameField(page.Base, page)
		var werr error
		page.Captcha, werr = s.loginWidget(r, c, "", username)
		return page, werr
	}); failed {
		return err
	}
	return s.land(w, r, res, "/account")
}

// apiLogin is the email step of email-first sign-in.
func (s *Server) apiLogin(w http.ResponseWriter, r *http.Request) error {
	if !s.LoginMethods.Email {
		return errNotFound
	}
	var in struct {
		Email string `json:"email"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	tok := newFlowToken()
	f, err := s.login().StartLogin(r.Context(), s.apiClient(r, tok), in.Email, false)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, FlowJSON{FlowID: f.ID, FlowToken: tok, Email: f.Email, ExpiresAt: f.ExpiresAt.UTC(), Next: "password"})
}

func (s *Server) apiLoginPassword(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		flowRef
		Password string `json:"password"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	res, err := s.login().LoginPassword(r.Context(), s.apiClient(r, in.FlowToken), in.FlowID, in.Password)
	if err != nil {
		return err
	}
	return s.apiSignedIn(w, r, res, in.FlowToken)
}

func (s *Server) apiLoginUsername(w http.ResponseWriter, r *http.Request) error {
	if !s.LoginMethods.Username {
		return errNotFound
	}
	var in struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	tok := newFlowToken()
	res, err := s.login().LoginUsername(r.Context(), s.apiClient(r, tok), in.Username, in.Password)
	if err != nil {
		return err
	}
	return s.apiSignedIn(w, r, res, tok)
}
