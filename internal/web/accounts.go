package web

import (
	"net/http"
	"net/url"
	"time"

	"github.com/portvakt/portvakt/internal/captcha"
	"github.com/portvakt/portvakt/internal/flow"
	"github.com/portvakt/portvakt/internal/problem"
	"github.com/portvakt/portvakt/internal/secret"
	"github.com/portvakt/portvakt/internal/store"
	"github.com/portvakt/portvakt/internal/web/ui"
)

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
	if res.CredentialsChanged {
		if err := s.credentialsChanged(r, res.Account.ID); err != nil {
			return err
		}
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

// asProblem returns err as a problem, or nil if it is a fault.
func asProblem(err error) *problem.Problem {
	p, _ := problem.As(err)
	return p
}

// flowGone shows "start again" for a flow that expired, was used or
// belongs to another browser.
func (s *Server) flowProblem(w http.ResponseWriter, r *http.Request, p *problem.Problem, restart string) error {
	b := s.base(r)
	page := &ui.MessagePage{Base: b, Heading: b.T("problem.title." + p.Kind.String())}
	for _, d := range p.Details {
		page.Paragraphs = append(page.Paragraphs, b.T(d.Key, d.Args))
	}
	page.LinkURL, page.LinkText = restart, b.T("flow.start_again")
	return s.render(w, r, p.Kind.Status(), "message", page)
}

// isFlowProblem reports whether p is about the flow as a whole (it
// expired, was used, is another browser's) rather than about a field.
// hasKey reports whether p (which may be nil) holds a detail with key.
func hasKey(p *problem.Problem, key string) bool {
	if p == nil {
		return false
	}
	for _, d := range p.Details {
		if d.Key == key {
			return true
		}
	}
	return false
}

func isFlowProblem(p *problem.Problem) bool {
	for _, d := range p.Details {
		if d.Field != "" && d.Field != "code" {
			return false
		}
	}
	return len(p.Details) > 0 && (p.Kind == problem.Expired || p.Kind == problem.Forbidden || (p.Kind == problem.TooManyAttempts && p.Details[0].Key == "code.too_many"))
}

// rules lists the password rules for a page, with the one minimum length
// that applies: hasMFA when the password is for an account with a strong
// second factor (flow.Service.PasswordHasMFA), false for a new account.
func (s *Server) rules(b ui.Base, hasMFA bool) []ui.Rule {
	var out []ui.Rule
	for _, r := range s.Flows.Policy.RulesFor(hasMFA) {
		out = append(out, ui.Rule{Key: r.Key, Text: b.T(r.Key, r.Args)})
	}
	return out
}

// ---- sign-up ----

func (s *Server) signupForm(w http.ResponseWriter, r *http.Request) error {
	page := &ui.SignupPage{Base: s.base(r)}
	page.Captcha = s.captchaWidget(captcha.AtSignup)
	return s.render(w, r, http.StatusOK, "signup", page)
}

func (s *Server) signupSubmit(w http.ResponseWriter, r *http.Request) error {
	email := r.PostFormValue("email")
	c := s.client(w, r)
	err := s.formCaptcha(r, c, captcha.AtSignup)
	var f store.Flow
	if err == nil {
		f, err = s.Flows.StartSignup(r.Context(), c, email)
	}
	if p := asProblem(err); p != nil {
		page := &ui.SignupPage{Base: s.base(r), Email: email}
		page.Captcha = s.captchaWidget(captcha.AtSignup)
		page.Problem = p
		return s.render(w, r, p.Kind.Status(), "signup", page)
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/signup/code?flow="+f.ID, http.StatusSeeOther)
	return nil
}

// codeStep describes one page that asks for an emailed code: the
// sign-up's, the recovery's, and a new address's. One set of handlers
// serves all three.
type codeStep struct {
	heading, action, resend, restart string
	// next is where a right code leads, given the flow ID.
	next func(id string) string
	// done reports a flow that is past this step, and where it went.
	done   func(f store.Flow) (string, bool)
	load   func(r *http.Request, c flow.Client, who flow.Who, id string) (store.Flow, error)
	verify func(r *http.Request, c flow.Client, who flow.Who, id, code string) error
	again  func(r *http.Request, c flow.Client, who flow.Who, id string) error
	// signedIn steps belong to a signed-in user.
	signedIn bool
}

func (s *Server) codeSteps() (signup, recovery, email codeStep) {
	signup = codeStep{heading: "signup.code.title", action: "/signup/code", resend: "/signup/resend", restart: "/signup",
		next: func(id string) string { return "/signup/details?flow=" + id },
		done: func(f store.Flow) (string, bool) { return "/signup/details?flow=" + f.ID, f.State == "verified" },
		load: func(r *http.Request, c flow.Client, _ flow.Who, id string) (store.Flow, error) {
			return s.Flows.SignupFlow(r.Context(), c, id)
		},
		verify: func(r *http.Request, c flow.Client, _ flow.Who, id, code string) error {
			_, err := s.Flows.VerifySignupCode(r.Context(), c, id, code)
			return err
		},
		again: func(r *http.Request, c flow.Client, _ flow.Who, id string) error {
			return s.Flows.ResendSignupCode(r.Context(), c, id)
		},
	}
	recovery = codeStep{heading: "recover.code.title", action: "/recover/code", resend: "/recover/resend", restart: "/recover",
		next: func(id string) string { return "/recover/password?flow=" + id },
		done: func(f store.Flow) (string, bool) { return "/recover/password?flow=" + f.ID, f.State == "verified" },
		load: func(r *http.Request, c flow.Client, _ flow.Who, id string) (store.Flow, error) {
			return s.Flows.RecoveryFlow(r.Context(), c, id)
		},
		verify: func(r *http.Request, c flow.Client, _ flow.Who, id, code string) error {
			_, err := s.Flows.VerifyRecoveryCode(r.Context(), c, id, code)
			return err
		},
		again: func(r *http.Request, c flow.Client, _ flow.Who, id string) error {
			return s.Flows.ResendRecoveryCode(r.Context(), c, id)
		},
	}
	email = codeStep{heading: "account.emails.verify", action: "/account/emails/verify", resend: "/account/emails/resend", restart: "/account/emails/add",
		signedIn: true,
		next:     func(string) string { return "/account?notice=email-added" },
		done:     func(store.Flow) (string, bool) { return "", false },
		load: func(r *http.Request, c flow.Client, who flow.Who, id string) (store.Flow, error) {
			return s.Flows.EmailFlow(r.Context(), c, who, id)
		},
		verify: func(r *http.Request, c flow.Client, who flow.Who, id, code string) error {
			_, err := s.Flows.VerifyAddEmail(r.Context(), c, who, id, code)
			return err
		},
		again: func(r *http.Request, c flow.Client, who flow.Who, id string) error {
			return s.Flows.ResendEmailCode(r.Context(), c, who, id)
		},
	}
	return
}

// codeForm shows a code step.
func (s *Server) codeForm(step codeStep) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var who flow.Who
		if step.signedIn {
			var ok bool
			if who, ok = s.who(w, r); !ok {
				return nil
			}
		}
		f, err := step.load(r, s.client(w, r), who, r.URL.Query().Get("flow"))
		if p := asProblem(err); p != nil {
			return s.flowProblem(w, r, p, step.restart)
		}
		if err != nil {
			return err
		}
		if next, done := step.done(f); done {
			http.Redirect(w, r, next, http.StatusSeeOther)
			return nil
		}
		page := s.codePage(r, f, step.heading, step.action, step.resend, step.restart)
		page.Notice = noticeFrom(r, page.Base)
		return s.render(w, r, http.StatusOK, "code", page)
	}
}

// codeSubmit checks a code: on success on to the next step, on a wrong
// code the same page with the message on the field, on a dead flow the
// start-again page.
func (s *Server) codeSubmit(step codeStep) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var who flow.Who
		if step.signedIn {
			var ok bool
			if who, ok = s.who(w, r); !ok {
				return nil
			}
		}
		c := s.client(w, r)
		id := r.PostFormValue("flow")
		err := step.verify(r, c, who, id, r.PostFormValue("code"))
		if err == nil {
			http.Redirect(w, r, step.next(id), http.StatusSeeOther)
			return nil
		}
		p := asProblem(err)
		if p == nil {
			return err
		}
		if isFlowProblem(p) || p.Kind == problem.Conflict {
			return s.flowProblem(w, r, p, step.restart)
		}
		return s.codeAgain(w, r, step, c, who, id, p)
	}
}

// codeResend sends a new code.
func (s *Server) codeResend(step codeStep) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var who flow.Who
		if step.signedIn {
			var ok bool
			if who, ok = s.who(w, r); !ok {
				return nil
			}
		}
		c := s.client(w, r)
		id := r.PostFormValue("flow")
		err := step.again(r, c, who, id)
		if err == nil {
			http.Redirect(w, r, step.action+"?flow="+id+"&notice=code-resent", http.StatusSeeOther)
			return nil
		}
		p := asProblem(err)
		if p == nil {
			return err
		}
		return s.codeAgain(w, r, step, c, who, id, p)
	}
}

// codeAgain re-renders a code step with a problem on it.
func (s *Server) codeAgain(w http.ResponseWriter, r *http.Request, step codeStep, c flow.Client, who flow.Who, id string, p *problem.Problem) error {
	f, err := step.load(r, c, who, id)
	if lp := asProblem(err); lp != nil {
		return s.flowProblem(w, r, lp, step.restart)
	}
	if err != nil {
		return err
	}
	page := s.codePage(r, f, step.heading, step.action, step.resend, step.restart)
	page.Problem = p
	return s.render(w, r, p.Kind.Status(), "code", page)
}

func (s *Server) codePage(r *http.Request, f store.Flow, heading, action, resend, restart string) *ui.CodePage {
	b := s.base(r)
	return &ui.CodePage{Base: b, Heading: b.T(heading), Flow: f.ID, Email: f.Email, Minutes: int(s.Flows.Config.CodeTTL.Minutes()), Action: action, ResendAction: resend, RestartURL: restart}
}

func (s *Server) signupDetailsPage(r *http.Request, f store.Flow, name string) *ui.NewPasswordPage {
	b := s.base(r)
	return &ui.NewPasswordPage{Base: b, Heading: b.T("signup.details.title"), Lead: b.T("signup.details.lead", "email", f.Email), Action: "/signup/details", Submit: b.T("signup.create"), Flow: f.ID, Email: f.Email, AskName: true, Name: name, Rules: s.rules(b, false)}
}

func (s *Server) signupDetailsForm(w http.ResponseWriter, r *http.Request) error {
	f, err := s.Flows.SignupFlow(r.Context(), s.client(w, r), r.URL.Query().Get("flow"))
	if p := asProblem(err); p != nil {
		return s.flowProblem(w, r, p, "/signup")
	}
	if err != nil {
		return err
	}
	if f.State != "verified" {
		http.Redirect(w, r, "/signup/code?flow="+f.ID, http.StatusSeeOther)
		return nil
	}
	return s.render(w, r, http.StatusOK, "newpassword", s.signupDetailsPage(r, f, ""))
}

func (s *Server) signupDetailsSubmit(w http.ResponseWriter, r *http.Request) error {
	c := s.client(w, r)
	id, name := r.PostFormValue("flow"), r.PostFormValue("name")
	res, err := s.Flows.CompleteSignup(r.Context(), c, id, name, r.PostFormValue("password"))
	if p := asProblem(err); p != nil {
		f, lerr := s.Flows.SignupFlow(r.Context(), c, id)
		if lp := asProblem(lerr); lp != nil || isFlowProblem(p) {
			if lp == nil {
				lp = p
			}
			return s.flowProblem(w, r, lp, "/signup")
		}
		if lerr != nil {
			return lerr
		}
		page := s.signupDetailsPage(r, f, name)
		page.Problem = p
		return s.render(w, r, p.Kind.Status(), "newpassword", page)
	}
	if err != nil {
		return err
	}
	return s.land(w, r, res, "/account?notice=welcome")
}

// ---- sign-in ----

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
	f, err := s.Flows.StartLogin(r.Context(), s.client(w, r), email, remember)
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
	f, err := s.Flows.LoginFlow(r.Context(), s.client(w, r), r.URL.Query().Get("flow"))
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
	f, ferr := s.Flows.LoginFlow(r.Context(), c, id)
	if p := asProblem(ferr); p != nil {
		return s.flowProblem(w, r, p, "/login")
	}
	if ferr != nil {
		return ferr
	}
	err := s.loginCaptcha(r, c, id, "")
	var res flow.Result
	if err == nil {
		res, err = s.Flows.LoginPassword(r.Context(), c, id, r.PostFormValue("password"))
		err = s.credentialsWording(err, onEmailPage)
	}
	if p := asProblem(err); p != nil {
		if isFlowProblem(p) {
			return s.flowProblem(w, r, p, "/login")
		}
		page := &ui.LoginPasswordPage{Base: s.base(r), Flow: f.ID, Email: f.Email}
		var werr error
		if page.Captcha, werr = s.loginWidget(r, c, f.ID, ""); werr != nil {
			return werr
		}
		page.Problem = p
		return s.render(w, r, p.Kind.Status(), "login_password", page)
	}
	if err != nil {
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
		res, err = s.Flows.LoginUsername(r.Context(), c, username, r.PostFormValue("password"))
		err = s.credentialsWording(err, onUsernamePage)
	}
	if p := asProblem(err); p != nil {
		page := &ui.LoginUsernamePage{Base: s.base(r), Username: username, EmailEnabled: s.LoginMethods.Email}
		s.usernameField(page.Base, page)
		var werr error
		if page.Captcha, werr = s.loginWidget(r, c, "", username); werr != nil {
			return werr
		}
		page.Problem = p
		return s.render(w, r, p.Kind.Status(), "login_username", page)
	}
	if err != nil {
		return err
	}
	return s.land(w, r, res, "/account")
}

// ---- recovery ----

func (s *Server) recoverPage(r *http.Request, email, method string) *ui.RecoverPage {
	b := s.base(r)
	p := &ui.RecoverPage{Base: b, Email: email}
	p.Captcha = s.captchaWidget(captcha.AtRecovery)
	for _, m := range s.Flows.RecoveryMethods() {
		p.Methods = append(p.Methods, ui.Choice{Value: m, Label: b.T("recover.method." + m), Hint: b.T("recover.method." + m + ".hint"), Checked: m == method})
	}
	return p
}

func (s *Server) recoverForm(w http.ResponseWriter, r *http.Request) error {
	return s.render(w, r, http.StatusOK, "recover", s.recoverPage(r, r.URL.Query().Get("email"), flow.MethodCode))
}

func (s *Server) recoverSubmit(w http.ResponseWriter, r *http.Request) error {
	email, method := r.PostFormValue("email"), r.PostFormValue("method")
	c := s.client(w, r)
	err := s.formCaptcha(r, c, captcha.AtRecovery)
	var f store.Flow
	if err == nil {
		f, err = s.Flows.StartRecovery(r.Context(), c, email, method)
	}
	if p := asProblem(err); p != nil {
		page := s.recoverPage(r, email, method)
		page.Problem = p
		return s.render(w, r, p.Kind.Status(), "recover", page)
	}
	if err != nil {
		return err
	}
	if method == flow.MethodCode {
		http.Redirect(w, r, "/recover/code?flow="+f.ID, http.StatusSeeOther)
		return nil
	}
	return s.render(w, r, http.StatusOK, "message", s.linkSentPage(r, f.ID, f.Email))
}

// linkSentPage is "check your mail" for a link, with the field for the
// code that the link shows when opened in another browser.
func (s *Server) linkSentPage(r *http.Request, flowID, email string) *ui.MessagePage {
	b := s.base(r)
	return &ui.MessagePage{
		Base:       b,
		Heading:    b.T("recover.sent.title"),
		Paragraphs: []string{b.T("recover.sent.body", "email", email, "count", int(s.Flows.Config.LinkTTL.Minutes())), b.T("code.spam_hint")},
		FormAction: "/recover/link-code", FormButton: b.T("recovery.link_code.submit"), CodeLabel: b.T("recovery.link_code.label"),
		Hidden: []ui.Hidden{{Name: "flow", Value: flowID}},
	}
}

// recoverLinkCode takes, in the browser that asked, the code that the
// link showed in another browser.
func (s *Server) recoverLinkCode(w http.ResponseWriter, r *http.Request) error {
	c := s.client(w, r)
	id := r.PostFormValue("flow")
	f, res, err := s.Flows.VerifyLinkCode(r.Context(), c, id, r.PostFormValue("code"))
	if p := asProblem(err); p != nil {
		if isFlowProblem(p) {
			return s.flowProblem(w, r, p, "/recover")
		}
		lf, lerr := s.Flows.RecoveryFlow(r.Context(), c, id)
		if lp := asProblem(lerr); lp != nil {
			return s.flowProblem(w, r, lp, "/recover")
		}
		if lerr != nil {
			return lerr
		}
		page := s.linkSentPage(r, id, lf.Email)
		page.Problem = p
		return s.render(w, r, p.Kind.Status(), "message", page)
	}
	if err != nil {
		return err
	}
	return s.afterLink(w, r, f, res)
}

// afterLink goes on from a link (or the code standing in for it): a magic
// link has signed in, a reset link leads to the new password.
func (s *Server) afterLink(w http.ResponseWriter, r *http.Request, f store.Flow, res *flow.Result) error {
	if res != nil {
		return s.land(w, r, *res, "/account")
	}
	http.Redirect(w, r, "/recover/password?flow="+f.ID, http.StatusSeeOther)
	return nil
}

// linkElsewherePage explains a link opened in a browser other than the
// one that asked, and offers a code to carry back to that one.
func (s *Server) linkElsewherePage(r *http.Request, token string) *ui.MessagePage {
	b := s.base(r)
	return &ui.MessagePage{Base: b, Heading: b.T("link.other_browser.title"), Paragraphs: []string{b.T("link.other_browser.lead")},
		FormAction: "/recover/link/elsewhere", FormButton: b.T("link.other_browser.reveal"), Hidden: []ui.Hidden{{Name: "token", Value: token}}}
}

// recoverLinkElsewhere shows the code for the browser that asked.
func (s *Server) recoverLinkElsewhere(w http.ResponseWriter, r *http.Request) error {
	code, minutes, err := s.Flows.LinkCode(r.Context(), s.client(w, r), r.PostFormValue("token"))
	if p := asProblem(err); p != nil {
		return s.flowProblem(w, r, p, "/recover")
	}
	if err != nil {
		return err
	}
	b := s.base(r)
	return s.render(w, r, http.StatusOK, "message", &ui.MessagePage{Base: b, Heading: b.T("link.other_browser.title"),
		Paragraphs: []string{b.T("link.other_browser.lead"), b.T("link.other_browser.code", "code", code), b.T("link.other_browser.expiry", "count", minutes)},
		Code:       code})
}

// recoverLinkLanding is what an emailed link opens. It only shows a
// button: mail scanners follow links, and a GET must never use one up.
func (s *Server) recoverLinkLanding(w http.ResponseWriter, r *http.Request) error {
	token := r.PathValue("token")
	info, err := s.Flows.InspectLink(r.Context(), s.client(w, r), token)
	b := s.base(r)
	if p := asProblem(err); p != nil {
		return s.flowProblem(w, r, p, "/recover")
	}
	if err != nil {
		return err
	}
	if !info.SameBrowser {
		return s.render(w, r, http.StatusOK, "message", s.linkElsewherePage(r, token))
	}
	page := &ui.MessagePage{Base: b, FormAction: "/recover/link", Hidden: []ui.Hidden{{Name: "token", Value: token}}}
	if info.Method == flow.MethodMagic {
		page.Heading, page.FormButton = b.T("link.magic.title"), b.T("link.magic.button")
		page.Paragraphs = []string{b.T("link.magic.body", "email", info.Email)}
	} else {
		page.Heading, page.FormButton = b.T("link.reset.title"), b.T("link.reset.button")
		page.Paragraphs = []string{b.T("link.reset.body", "email", info.Email)}
	}
	return s.render(w, r, http.StatusOK, "message", page)
}

func (s *Server) recoverLinkUse(w http.ResponseWriter, r *http.Request) error {
	f, res, err := s.Flows.UseLink(r.Context(), s.client(w, r), r.PostFormValue("token"))
	if p := asProblem(err); hasKey(p, "link.other_browser") {
		return s.render(w, r, http.StatusForbidden, "message", s.linkElsewherePage(r, r.PostFormValue("token")))
	}
	if p := asProblem(err); p != nil {
		return s.flowProblem(w, r, p, "/recover")
	}
	if err != nil {
		return err
	}
	return s.afterLink(w, r, f, res)
}

func (s *Server) recoverPasswordPage(r *http.Request, f store.Flow) (*ui.NewPasswordPage, error) {
	hasMFA, err := s.Flows.PasswordHasMFA(r.Context(), f.AccountID)
	if err != nil {
		return nil, err
	}
	b := s.base(r)
	return &ui.NewPasswordPage{Base: b, Heading: b.T("recover.password.title"), Lead: b.T("recover.password.lead", "email", f.Email), Action: "/recover/password", Submit: b.T("recover.password.submit"), Flow: f.ID, Email: f.Email, Rules: s.rules(b, hasMFA)}, nil
}

func (s *Server) recoverPasswordForm(w http.ResponseWriter, r *http.Request) error {
	f, err := s.Flows.RecoveryFlow(r.Context(), s.client(w, r), r.URL.Query().Get("flow"))
	if p := asProblem(err); p != nil {
		return s.flowProblem(w, r, p, "/recover")
	}
	if err != nil {
		return err
	}
	if f.State != "verified" {
		http.Redirect(w, r, "/recover/code?flow="+f.ID, http.StatusSeeOther)
		return nil
	}
	page, err := s.recoverPasswordPage(r, f)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "newpassword", page)
}

func (s *Server) recoverPasswordSubmit(w http.ResponseWriter, r *http.Request) error {
	c := s.client(w, r)
	id := r.PostFormValue("flow")
	res, err := s.Flows.CompleteRecovery(r.Context(), c, id, r.PostFormValue("password"))
	if p := asProblem(err); p != nil {
		f, lerr := s.Flows.RecoveryFlow(r.Context(), c, id)
		if lp := asProblem(lerr); lp != nil || isFlowProblem(p) {
			if lp == nil {
				lp = p
			}
			return s.flowProblem(w, r, lp, "/recover")
		}
		if lerr != nil {
			return lerr
		}
		page, err := s.recoverPasswordPage(r, f)
		if err != nil {
			return err
		}
		page.Problem = p
		return s.render(w, r, p.Kind.Status(), "newpassword", page)
	}
	if err != nil {
		return err
	}
	return s.land(w, r, res, "/account?notice=password-changed")
}

// recoverCancelLanding is the "this wasn't me" link; like every emailed
// link, the GET shows a button and only the POST acts.
func (s *Server) recoverCancelLanding(w http.ResponseWriter, r *http.Request) error {
	b := s.base(r)
	q := r.URL.Query()
	return s.render(w, r, http.StatusOK, "message", &ui.MessagePage{
		Base: b, Heading: b.T("recover.cancel.title"), Paragraphs: []string{b.T("recover.cancel.body")},
		FormAction: "/recover/cancel", FormButton: b.T("recover.cancel.button"),
		Hidden: []ui.Hidden{{Name: "flow", Value: q.Get("flow")}, {Name: "token", Value: q.Get("token")}},
	})
}

func (s *Server) recoverCancel(w http.ResponseWriter, r *http.Request) error {
	err := s.Flows.CancelRecovery(r.Context(), r.PostFormValue("flow"), r.PostFormValue("token"))
	if p := asProblem(err); p != nil {
		return s.flowProblem(w, r, p, "/recover")
	}
	if err != nil {
		return err
	}
	b := s.base(r)
	return s.render(w, r, http.StatusOK, "message", &ui.MessagePage{
		Base: b, Heading: b.T("recover.cancelled.title"), Paragraphs: []string{b.T("recover.cancelled.body")},
		LinkURL: "/recover", LinkText: b.T("recover.cancelled.change"),
	})
}

// ---- account settings ----

// who returns the signed-in caller, or sends the browser to sign in.
func (s *Server) who(w http.ResponseWriter, r *http.Request) (flow.Who, bool) {
	st := stateOf(r)
	if st.Session == nil {
		http.Redirect(w, r, "/login?notice=sign-in-first", http.StatusSeeOther)
		return flow.Who{}, false
	}
	return flow.Who{Account: *st.Account, Session: *st.Session}, true
}

func (s *Server) accountPage(w http.ResponseWriter, r *http.Request) error {
	who, ok := s.who(w, r)
	if !ok {
		return nil
	}
	emails, err := s.Flows.Emails(r.Context(), who.Account.ID)
	if err != nil {
		return err
	}
	p := &ui.AccountPage{Base: s.base(r)}
	for _, e := range emails {
		p.Emails = append(p.Emails, ui.EmailRow{Address: e.Address, Primary: e.Primary})
	}
	p.Notice = noticeFrom(r, p.Base)
	return s.render(w, r, http.StatusOK, "account", p)
}

func (s *Server) changePasswordPage(r *http.Request, who flow.Who) (*ui.NewPasswordPage, error) {
	hasMFA, err := s.Flows.PasswordHasMFA(r.Context(), who.Account.ID)
	if err != nil {
		return nil, err
	}
	b := s.base(r)
	return &ui.NewPasswordPage{Base: b, Heading: b.T("account.password.title"), Action: "/account/password", Submit: b.T("account.password.submit"), AskCurrent: true, Rules: s.rules(b, hasMFA)}, nil
}

func (s *Server) changePasswordForm(w http.ResponseWriter, r *http.Request) error {
	who, ok := s.who(w, r)
	if !ok || !s.fresh(w, r, who, "/account/password") {
		return nil
	}
	page, err := s.changePasswordPage(r, who)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "newpassword", page)
}

func (s *Server) changePasswordSubmit(w http.ResponseWriter, r *http.Request) error {
	who, ok := s.who(w, r)
	if !ok || !s.fresh(w, r, who, "/account/password") {
		return nil
	}
	token, err := s.Flows.ChangePassword(r.Context(), s.client(w, r), who, r.PostFormValue("current_password"), r.PostFormValue("password"))
	if p := asProblem(err); p != nil {
		page, err := s.changePasswordPage(r, who)
		if err != nil {
			return err
		}
		page.Problem = p
		return s.render(w, r, p.Kind.Status(), "newpassword", page)
	}
	if err != nil {
		return err
	}
	if err := s.credentialsChanged(r, who.Account.ID); err != nil {
		return err
	}
	s.setSessionCookie(w, token)
	http.Redirect(w, r, "/account?notice=password-changed", http.StatusSeeOther)
	return nil
}

func (s *Server) addEmailPage(r *http.Request, email string, primary bool) *ui.AccountEmailPage {
	b := s.base(r)
	return &ui.AccountEmailPage{Base: b, Heading: b.T("account.emails.add"), Action: "/account/emails/add", Submit: b.T("signup.send_code"), Email: email, MakePrimary: primary}
}

func (s *Server) addEmailForm(w http.ResponseWriter, r *http.Request) error {
	if who, ok := s.who(w, r); !ok || !s.fresh(w, r, who, "/account/emails/add") {
		return nil
	}
	return s.render(w, r, http.StatusOK, "account_email", s.addEmailPage(r, "", false))
}

func (s *Server) addEmailSubmit(w http.ResponseWriter, r *http.Request) error {
	who, ok := s.who(w, r)
	if !ok || !s.fresh(w, r, who, "/account/emails/add") {
		return nil
	}
	email, primary := r.PostFormValue("email"), r.PostFormValue("primary") != ""
	f, err := s.Flows.StartAddEmail(r.Context(), s.client(w, r), who, email, r.PostFormValue("current_password"), primary)
	if p := asProblem(err); p != nil {
		page := s.addEmailPage(r, email, primary)
		page.Problem = p
		return s.render(w, r, p.Kind.Status(), "account_email", page)
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/account/emails/verify?flow="+f.ID, http.StatusSeeOther)
	return nil
}

func (s *Server) setPrimaryEmail(w http.ResponseWriter, r *http.Request) error {
	who, ok := s.who(w, r)
	if !ok || !s.fresh(w, r, who, "/account") {
		return nil
	}
	if err := s.Flows.SetPrimaryEmail(r.Context(), s.client(w, r), who, r.PostFormValue("email")); err != nil {
		return err
	}
	http.Redirect(w, r, "/account?notice=primary-changed", http.StatusSeeOther)
	return nil
}

func (s *Server) removeEmailPage(r *http.Request, email string) *ui.AccountEmailPage {
	b := s.base(r)
	return &ui.AccountEmailPage{Base: b, Heading: b.T("account.emails.remove_title"), Action: "/account/emails/remove", Submit: b.T("account.emails.remove"), Email: email, Remove: true}
}

func (s *Server) removeEmailForm(w http.ResponseWriter, r *http.Request) error {
	if who, ok := s.who(w, r); !ok || !s.fresh(w, r, who, "/account/emails/remove?email="+url.QueryEscape(r.URL.Query().Get("email"))) {
		return nil
	}
	return s.render(w, r, http.StatusOK, "account_email", s.removeEmailPage(r, r.URL.Query().Get("email")))
}

func (s *Server) removeEmailSubmit(w http.ResponseWriter, r *http.Request) error {
	who, ok := s.who(w, r)
	if !ok || !s.fresh(w, r, who, "/account") {
		return nil
	}
	email := r.PostFormValue("email")
	err := s.Flows.RemoveEmail(r.Context(), s.client(w, r), who, email, r.PostFormValue("current_password"))
	if p := asProblem(err); p != nil {
		page := s.removeEmailPage(r, email)
		page.Problem = p
		return s.render(w, r, p.Kind.Status(), "account_email", page)
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/account?notice=email-removed", http.StatusSeeOther)
	return nil
}

// noticeFrom translates the ?notice= a redirect asked for.
func noticeFrom(r *http.Request, b ui.Base) string {
	if b.Notice != "" {
		return b.Notice
	}
	if key, ok := notices[r.URL.Query().Get("notice")]; ok {
		return b.T(key)
	}
	return ""
}
