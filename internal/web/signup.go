package web

import (
	"net/http"

	"github.com/portvakt/portvakt/internal/captcha"
	"github.com/portvakt/portvakt/internal/store"
	"github.com/portvakt/portvakt/internal/web/ui"
)

// Sign-up: the address, its emailed code, then name and password; and the
// JSON twins (/api/v1/signup…).

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
		f, err = s.login().StartSignup(r.Context(), c, email)
	}
	if failed, err := s.formFailed(w, r, err, "", "signup", func() (problemPage, error) {
		page := &ui.SignupPage{Base: s.base(r), Email: email}
		page.Captcha = s.captchaWidget(captcha.AtSignup)
		return page, nil
	}); failed {
		return err
	}
	http.Redirect(w, r, "/signup/code?flow="+f.ID, http.StatusSeeOther)
	return nil
}

func (s *Server) signupDetailsPage(r *http.Request, f store.Flow, name string) *ui.NewPasswordPage {
	b := s.base(r)
	return &ui.NewPasswordPage{Base: b, Heading: b.T("signup.details.title"), Lead: b.T("signup.details.lead", "email", f.Email), Action: "/signup/details", Submit: b.T("signup.create"), Flow: f.ID, Email: f.Email, AskName: true, Name: name, Rules: s.rules(b, false)}
}

func (s *Server) signupDetailsForm(w http.ResponseWriter, r *http.Request) error {
	f, err := s.login().SignupFlow(r.Context(), s.client(w, r), r.URL.Query().Get("flow"))
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
	res, err := s.login().CompleteSignup(r.Context(), c, id, name, r.PostFormValue("password"))
	if p := asProblem(err); p != nil {
		f, lerr := s.login().SignupFlow(r.Context(), c, id)
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

func (s *Server) apiSignup(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Email string `json:"email"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	tok := newFlowToken()
	f, err := s.login().StartSignup(r.Context(), s.apiClient(r, tok), in.Email)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, FlowJSON{FlowID: f.ID, FlowToken: tok, Email: f.Email, ExpiresAt: f.ExpiresAt.UTC(), Next: "code"})
}

func (s *Server) apiSignupComplete(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		flowRef
		Name     string `json:"name"`
		Password string `json:"password"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	res, err := s.login().CompleteSignup(r.Context(), s.apiClient(r, in.FlowToken), in.FlowID, in.Name, in.Password)
	if err != nil {
		return err
	}
	return s.apiSignedIn(w, r, res, in.FlowToken)
}

// PasswordCheckJSON answers the live password check.
type PasswordCheckJSON struct {
	OK      bool          `json:"ok"`
	Message string        `json:"message,omitempty"`
	Errors  []ProblemItem `json:"errors"`
}

// apiPasswordCheck tells which rules a password breaks, for the page's
// live check as the user types. The answer is advice: the same check runs
// again when the form is submitted. The minimum length is the one for the
// account whose password is being chosen: the one a verified recovery
// flow of this browser (or of flow_token) resets, else the signed-in one;
// a new account has no second factor.
func (s *Server) apiPasswordCheck(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Password  string `json:"password"`
		Email     string `json:"email"`
		Name      string `json:"name"`
		Flow      string `json:"flow"`
		FlowToken string `json:"flow_token"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	lang := stateOf(r).Lang
	ctx := s.login().PolicyContext(r.Context(), in.Email, in.Name)
	var accountID string
	if in.Flow != "" {
		c := s.apiClient(r, in.FlowToken)
		if in.FlowToken == "" {
			c = s.client(w, r)
		}
		id, err := s.recovery().RecoveringAccount(r.Context(), c, in.Flow)
		if err != nil {
			return err
		}
		accountID = id
	}
	if acct := stateOf(r).Account; acct != nil {
		ctx.Username, ctx.Name = acct.Username, acct.Name
		if accountID == "" {
			accountID = acct.ID
		}
	}
	hasMFA, err := s.login().PasswordHasMFA(r.Context(), accountID)
	if err != nil {
		return err
	}
	ctx.HasMFA = hasMFA
	out := PasswordCheckJSON{OK: true, Errors: []ProblemItem{}}
	if err := s.Flows.Policy.Check(in.Password, ctx); err != nil {
		p := asProblem(err)
		if p == nil {
			return err
		}
		out.OK = false
		for _, d := range p.Details {
			out.Errors = append(out.Errors, ProblemItem{Field: d.Field, Key: d.Key, Message: lang.T(d.Key, d.Args)})
		}
	} else {
		out.Message = lang.T("password.ok")
	}
	return writeJSON(w, http.StatusOK, out)
}
