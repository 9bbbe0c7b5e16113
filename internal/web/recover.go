package web

import (
	"net/http"

	"github.com/portvakt/portvakt/internal/captcha"
	"github.com/portvakt/portvakt/internal/flow"
	"github.com/portvakt/portvakt/internal/store"
	"github.com/portvakt/portvakt/internal/web/ui"
)

// Recovery of a forgotten password: the address, the emailed link or code,
// the new password, and cancelling; and the JSON twins (/api/v1/recovery…).

func (s *Server) recoverPage(r *http.Request, email, method string) *ui.RecoverPage {
	b := s.base(r)
	p := &ui.RecoverPage{Base: b, Email: email}
	p.Captcha = s.captchaWidget(captcha.AtRecovery)
	for _, m := range s.recovery().RecoveryMethods() {
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
		f, err = s.recovery().StartRecovery(r.Context(), c, email, method)
	}
	if failed, err := s.formFailed(w, r, err, "", "recover", func() (problemPage, error) {
		return s.recoverPage(r, email, method), nil
	}); failed {
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
	f, res, err := s.recovery().VerifyLinkCode(r.Context(), c, id, r.PostFormValue("code"))
	if p := asProblem(err); p != nil {
		if isFlowProblem(p) {
			return s.flowProblem(w, r, p, "/recover")
		}
		lf, lerr := s.recovery().RecoveryFlow(r.Context(), c, id)
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
	code, minutes, err := s.recovery().LinkCode(r.Context(), s.client(w, r), r.PostFormValue("token"))
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
	info, err := s.recovery().InspectLink(r.Context(), s.client(w, r), token)
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
	f, res, err := s.recovery().UseLink(r.Context(), s.client(w, r), r.PostFormValue("token"))
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
	hasMFA, err := s.login().PasswordHasMFA(r.Context(), f.AccountID)
	if err != nil {
		return nil, err
	}
	b := s.base(r)
	return &ui.NewPasswordPage{Base: b, Heading: b.T("recover.password.title"), Lead: b.T("recover.password.lead", "email", f.Email), Action: "/recover/password", Submit: b.T("recover.password.submit"), Flow: f.ID, Email: f.Email, Rules: s.rules(b, hasMFA)}, nil
}

func (s *Server) recoverPasswordForm(w http.ResponseWriter, r *http.Request) error {
	f, err := s.recovery().RecoveryFlow(r.Context(), s.client(w, r), r.URL.Query().Get("flow"))
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
	res, err := s.recovery().CompleteRecovery(r.Context(), c, id, r.PostFormValue("password"))
	if p := asProblem(err); p != nil {
		f, lerr := s.recovery().RecoveryFlow(r.Context(), c, id)
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
	err := s.recovery().CancelRecovery(r.Context(), r.PostFormValue("flow"), r.PostFormValue("token"))
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

func (s *Server) apiRecovery(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Email  string `json:"email"`
		Method string `json:"method"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	tok := newFlowToken()
	f, err := s.recovery().StartRecovery(r.Context(), s.apiClient(r, tok), in.Email, in.Method)
	if err != nil {
		return err
	}
	next := "code"
	if in.Method != flow.MethodCode {
		next = "check_mail"
	}
	return writeJSON(w, http.StatusCreated, FlowJSON{FlowID: f.ID, FlowToken: tok, Email: f.Email, ExpiresAt: f.ExpiresAt.UTC(), Next: next})
}

// apiRecoveryLink uses an emailed link's token, with the flow token of the
// client that asked for it (a link works only where it was asked for). A
// reset link continues the flow; a magic link signs in.
func (s *Server) apiRecoveryLink(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Token     string `json:"token"`
		FlowToken string `json:"flow_token"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	f, res, err := s.recovery().UseLink(r.Context(), s.apiClient(r, in.FlowToken), in.Token)
	if err != nil {
		return err
	}
	return s.apiAfterLink(w, r, f, res, in.FlowToken)
}

func (s *Server) apiAfterLink(w http.ResponseWriter, r *http.Request, f store.Flow, res *flow.Result, tok string) error {
	if res != nil {
		return s.apiSignedIn(w, r, *res, tok)
	}
	return writeJSON(w, http.StatusOK, FlowJSON{FlowID: f.ID, FlowToken: tok, Email: f.Email, ExpiresAt: f.ExpiresAt.UTC(), Next: "password"})
}

// apiRecoveryLinkElsewhere is the link opened by a client other than the
// one that asked: it answers a code to type there (flow.LinkCode).
func (s *Server) apiRecoveryLinkElsewhere(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Token string `json:"token"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	code, minutes, err := s.recovery().LinkCode(r.Context(), s.apiClient(r, ""), in.Token)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"code": code, "minutes": minutes})
}

// apiRecoveryLinkCode takes, in the client that asked, the code another
// client got for the link.
func (s *Server) apiRecoveryLinkCode(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		flowRef
		Code string `json:"code"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	f, res, err := s.recovery().VerifyLinkCode(r.Context(), s.apiClient(r, in.FlowToken), in.FlowID, in.Code)
	if err != nil {
		return err
	}
	return s.apiAfterLink(w, r, f, res, in.FlowToken)
}

func (s *Server) apiRecoveryPassword(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		flowRef
		Password string `json:"password"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	res, err := s.recovery().CompleteRecovery(r.Context(), s.apiClient(r, in.FlowToken), in.FlowID, in.Password)
	if err != nil {
		return err
	}
	// Nothing changed while a second step is pending; the reset, once
	// stored, revoked every app token in its transaction (flow.secure).
	return s.apiSignedIn(w, r, res, in.FlowToken)
}

func (s *Server) apiRecoveryCancel(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		FlowID string `json:"flow_id"`
		Token  string `json:"token"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if err := s.recovery().CancelRecovery(r.Context(), in.FlowID, in.Token); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
