package web

import (
	"net/http"

	"github.com/portvakt/portvakt/internal/flow"
	"github.com/portvakt/portvakt/internal/problem"
	"github.com/portvakt/portvakt/internal/web/ui"
)

// Phone numbers for SMS codes: adding one from the security settings and
// proving it with a code.

func (s *Server) phoneForm(w http.ResponseWriter, r *http.Request) error {
	who, ok := s.who(w, r)
	if !ok || !s.fresh(w, r, who, "/account/security/phones") {
		return nil
	}
	return s.render(w, r, http.StatusOK, "phone", &ui.PhonePage{Base: s.base(r)})
}

func (s *Server) phoneSubmit(w http.ResponseWriter, r *http.Request) error {
	who, ok := s.who(w, r)
	if !ok || !s.fresh(w, r, who, "/account/security/phones") {
		return nil
	}
	phone := r.PostFormValue("phone")
	f, err := s.settings().StartAddPhone(r.Context(), s.client(w, r), who, phone)
	if failed, err := s.formFailed(w, r, err, "", "phone", func() (problemPage, error) {
		return &ui.PhonePage{Base: s.base(r), Phone: phone}, nil
	}); failed {
		return err
	}
	http.Redirect(w, r, "/account/security/phones/verify?flow="+f.ID, http.StatusSeeOther)
	return nil
}

func (s *Server) phoneCodePage(r *http.Request, flowID, phone string) *ui.CodePage {
	b := s.base(r)
	minutes := int(s.Flows.MFA.SMSTTL.Minutes())
	return &ui.CodePage{Base: b, Heading: b.T("security.sms.verify"), Flow: flowID, Email: flow.MaskPhone(phone), Minutes: minutes,
		Action: "/account/security/phones/verify", ResendAction: "/account/security/phones/resend", RestartURL: "/account/security/phones",
		SentText: b.T("security.sms.code_sent", "phone", flow.MaskPhone(phone), "count", minutes), Hint: b.T("security.sms.code_hint"), RestartText: b.T("security.sms.wrong_number")}
}

func (s *Server) phoneVerifyForm(w http.ResponseWriter, r *http.Request) error {
	who, ok := s.who(w, r)
	if !ok {
		return nil
	}
	f, phone, err := s.settings().PhoneFlow(r.Context(), s.client(w, r), who, r.URL.Query().Get("flow"))
	if p := asProblem(err); p != nil {
		return s.flowProblem(w, r, p, "/account/security/phones")
	}
	if err != nil {
		return err
	}
	page := s.phoneCodePage(r, f.ID, phone)
	page.Notice = noticeFrom(r, page.Base)
	return s.render(w, r, http.StatusOK, "code", page)
}

func (s *Server) phoneVerifySubmit(w http.ResponseWriter, r *http.Request) error {
	who, ok := s.who(w, r)
	if !ok {
		return nil
	}
	c := s.client(w, r)
	id := r.PostFormValue("flow")
	err := s.settings().ConfirmPhone(r.Context(), c, who, id, r.PostFormValue("code"))
	if p := asProblem(err); p != nil {
		if isFlowProblem(p) || p.Kind == problem.Conflict {
			return s.flowProblem(w, r, p, "/account/security/phones")
		}
		f, phone, lerr := s.settings().PhoneFlow(r.Context(), c, who, id)
		if lerr != nil {
			return s.flowProblem(w, r, p, "/account/security/phones")
		}
		page := s.phoneCodePage(r, f.ID, phone)
		page.Problem = p
		return s.render(w, r, p.Kind.Status(), "code", page)
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/account/security?notice=factor-added", http.StatusSeeOther)
	return nil
}

func (s *Server) phoneResend(w http.ResponseWriter, r *http.Request) error {
	who, ok := s.who(w, r)
	if !ok {
		return nil
	}
	c := s.client(w, r)
	id := r.PostFormValue("flow")
	err := s.settings().ResendPhoneCode(r.Context(), c, who, id)
	if p := asProblem(err); p != nil {
		f, phone, lerr := s.settings().PhoneFlow(r.Context(), c, who, id)
		if lerr != nil {
			return s.flowProblem(w, r, p, "/account/security/phones")
		}
		page := s.phoneCodePage(r, f.ID, phone)
		page.Problem = p
		return s.render(w, r, p.Kind.Status(), "code", page)
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/account/security/phones/verify?flow="+id+"&notice=code-resent", http.StatusSeeOther)
	return nil
}

// apiPhoneAdd is the JSON twin of adding a phone: a code is texted to it,
// and the answer is the flow that confirms it (next: code).
func (s *Server) apiPhoneAdd(w http.ResponseWriter, r *http.Request) error {
	who, err := s.apiWho(r)
	if err != nil {
		return err
	}
	var in struct {
		Phone string `json:"phone"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	tok := newFlowToken()
	f, err := s.settings().StartAddPhone(r.Context(), s.apiClient(r, tok), who, in.Phone)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, FlowJSON{FlowID: f.ID, FlowToken: tok, ExpiresAt: f.ExpiresAt.UTC(), Next: "code"})
}

// apiPhoneVerify confirms the phone with the texted code.
func (s *Server) apiPhoneVerify(w http.ResponseWriter, r *http.Request) error {
	who, err := s.apiWho(r)
	if err != nil {
		return err
	}
	var in struct {
		flowRef
		Code string `json:"code"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if err := s.settings().ConfirmPhone(r.Context(), s.apiClient(r, in.FlowToken), who, in.FlowID, in.Code); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// apiPhoneResend texts a new code, within the flow's send cap and
// cool-down and the SMS limits.
func (s *Server) apiPhoneResend(w http.ResponseWriter, r *http.Request) error {
	who, err := s.apiWho(r)
	if err != nil {
		return err
	}
	var in flowRef
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if err := s.settings().ResendPhoneCode(r.Context(), s.apiClient(r, in.FlowToken), who, in.FlowID); err != nil {
		return err
	}
	return writeJSON(w, http.StatusAccepted, FlowJSON{FlowID: in.FlowID, Next: "code"})
}
