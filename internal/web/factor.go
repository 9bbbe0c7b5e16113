package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/portvakt/portvakt/internal/flow"
	"github.com/portvakt/portvakt/internal/problem"
	"github.com/portvakt/portvakt/internal/web/ui"
)

// The second-factor step of a sign-in, a re-authentication or a step-up:
// the page, sending a code, checking it, the emailed link; and its JSON
// twin (/api/v1/login/factor).

// choice describes an option for the page, as the flow's table of second
// factors says to show it (flow.FactorView): no method is named here.
func (s *Server) choice(b ui.Base, pf flow.PendingFactor, o flow.Option, to string) ui.FactorChoice {
	v := s.mfa().View(o)
	if v.Args == nil {
		v.Args = map[string]any{}
	}
	t := func(key, def string) string {
		if key == "" {
			key = def
		}
		return b.T(key, v.Args)
	}
	c := ui.FactorChoice{Key: o.Key(), Title: t(v.Title, ""), AskCode: !v.Key, IsKey: v.Key, Numeric: !v.Text,
		CodeLabel: t(v.CodeLabel, "code.label"), CodeHint: t(v.CodeHint, "code.hint")}
	if v.Sends() {
		c.NeedsSend, c.SendText = true, t(v.SendText, "")
		c.SendButton, c.SendAgain = t(v.SendButton, ""), t(v.SendAgain, "")
		// The masked address or number is never split across lines.
		if lead, tail, ok := strings.Cut(c.Title, o.Label); ok && o.Label != "" {
			c.TitleLead, c.TitleTarget, c.TitleTail = lead, o.Label, tail
		}
		c.Sent = pf.Sent == c.Key
		c.AskCode = c.Sent
		if c.Sent {
			c.SentText = t(v.Sent, "")
		}
	}
	return c
}

func (s *Server) factorPage(r *http.Request, pf flow.PendingFactor, key string) *ui.FactorPage {
	b := s.base(r)
	p := &ui.FactorPage{Base: b, Flow: pf.Flow.ID, Remember: pf.Remember, RememberDays: pf.RememberDays}
	switch pf.Purpose {
	case "stepup":
		p.Heading, p.Lead = b.T("mfa.stepup.title"), b.T("mfa.stepup.lead")
	case "reauth":
		p.Heading, p.Lead = b.T("reauth.title"), b.T("mfa.reauth.lead")
	case "recovery":
		p.Heading, p.Lead = b.T("mfa.reset.title"), b.T("mfa.reset.lead")
	default:
		p.Heading, p.Lead = b.T("mfa.title"), b.T("mfa.lead")
	}
	if pf.Lost {
		p.Lead = b.T("mfa.lost.lead")
	}
	if key == "" && pf.Sent != "" {
		key = pf.Sent
	}
	for i, o := range pf.Options {
		c := s.choice(b, pf, o, "")
		if (key == "" && i == 0) || c.Key == key {
			cc := c
			p.Current = &cc
		}
	}
	for _, o := range pf.Options {
		if c := s.choice(b, pf, o, ""); p.Current == nil || c.Key != p.Current.Key {
			p.Others = append(p.Others, c)
		}
	}
	if p.Current == nil && len(pf.Options) > 0 {
		c := s.choice(b, pf, pf.Options[0], "")
		p.Current = &c
		p.Others = p.Others[1:]
	}
	p.OfferLost = pf.OfferLost()
	return p
}

func (s *Server) factorForm(w http.ResponseWriter, r *http.Request) error {
	pf, err := s.mfa().Factor(r.Context(), s.client(w, r), r.URL.Query().Get("flow"))
	if p := asProblem(err); p != nil {
		return s.flowProblem(w, r, p, "/login")
	}
	if err != nil {
		return err
	}
	if pf.Enrol {
		return s.render(w, r, http.StatusOK, "enrol", s.enrolPage(r, pf, "", false))
	}
	page := s.factorPage(r, pf, r.URL.Query().Get("method"))
	page.RememberChosen = page.Remember && rememberChosen(r, pf.Flow.ID)
	page.Notice = noticeFrom(r, page.Base)
	return s.render(w, r, http.StatusOK, "factor", page)
}

// factorError re-renders the step with the problem on the chosen option.
func (s *Server) factorError(w http.ResponseWriter, r *http.Request, c flow.Client, flowID, key string, p *problem.Problem) error {
	if isFlowProblem(p) {
		return s.flowProblem(w, r, p, "/login")
	}
	pf, err := s.mfa().Factor(r.Context(), c, flowID)
	if lp := asProblem(err); lp != nil {
		return s.flowProblem(w, r, lp, "/login")
	}
	if err != nil {
		return err
	}
	page := s.factorPage(r, pf, key)
	page.RememberChosen = page.Remember && (r.PostFormValue("remember") != "" || rememberChosen(r, pf.Flow.ID))
	page.Problem = p
	return s.render(w, r, p.Kind.Status(), "factor", page)
}

func (s *Server) factorSend(w http.ResponseWriter, r *http.Request) error {
	c := s.client(w, r)
	id, key := r.PostFormValue("flow"), r.PostFormValue("method")
	err := s.mfa().SendFactorCode(r.Context(), c, id, key)
	if p := asProblem(err); p != nil {
		return s.factorError(w, r, c, id, key, p)
	}
	if err != nil {
		return err
	}
	// "Don't ask again in this browser", chosen before sending, holds for
	// the code typed here and for the emailed link opened in this browser.
	s.setRememberChoice(w, id, r.PostFormValue("remember") != "")
	http.Redirect(w, r, "/login/factor?flow="+id+"&method="+url.QueryEscape(key), http.StatusSeeOther)
	return nil
}

func (s *Server) factorSubmit(w http.ResponseWriter, r *http.Request) error {
	c := s.client(w, r)
	id, key := r.PostFormValue("flow"), r.PostFormValue("method")
	res, err := s.mfa().VerifyFactor(r.Context(), c, id, key, r.PostFormValue("code"), r.PostFormValue("remember") != "")
	if p := asProblem(err); p != nil {
		return s.factorError(w, r, c, id, key, p)
	}
	if err != nil {
		return err
	}
	return s.land(w, r, res, "/account")
}

func (s *Server) factorLost(w http.ResponseWriter, r *http.Request) error {
	id := r.PostFormValue("flow")
	if err := s.mfa().LostAuthenticator(r.Context(), s.client(w, r), id); err != nil {
		if p := asProblem(err); p != nil {
			return s.flowProblem(w, r, p, "/login")
		}
		return err
	}
	http.Redirect(w, r, "/login/factor?flow="+id, http.StatusSeeOther)
	return nil
}

// factorLinkLanding is what the emailed sign-in link opens. In the
// browser that started the sign-in it shows a button (a GET never acts);
// anywhere else it explains where the link works.
func (s *Server) factorLinkLanding(w http.ResponseWriter, r *http.Request) error {
	token := r.PathValue("token")
	same, err := s.mfa().InspectFactorLink(r.Context(), s.client(w, r), token)
	if p := asProblem(err); p != nil {
		return s.flowProblem(w, r, p, "/login")
	}
	if err != nil {
		return err
	}
	b := s.base(r)
	if !same {
		return s.render(w, r, http.StatusForbidden, "message", &ui.MessagePage{Base: b, Heading: b.T("mfa.link.elsewhere.title"),
			Paragraphs: []string{b.T("mfa.link.elsewhere.body"), b.T("mfa.link.elsewhere.how")}})
	}
	page := &ui.MessagePage{Base: b, Heading: b.T("mfa.link.title"), Paragraphs: []string{b.T("mfa.link.body")},
		FormAction: "/login/factor/link", FormButton: b.T("link.magic.button"), Hidden: []ui.Hidden{{Name: "token", Value: token}}}
	if flowID, ok := rememberCookie(r); ok && s.Flows.MFA.RememberDays > 0 {
		page.Paragraphs = append(page.Paragraphs, b.T("mfa.link.remembering", "count", s.Flows.MFA.RememberDays))
		page.Hidden = append(page.Hidden, ui.Hidden{Name: "remember", Value: flowID})
	}
	return s.render(w, r, http.StatusOK, "message", page)
}

func (s *Server) factorLinkUse(w http.ResponseWriter, r *http.Request) error {
	// The choice made before sending, carried by the landing page from
	// this browser's cookie (the link works only in this browser).
	remember := r.PostFormValue("remember") != "" && rememberChosen(r, r.PostFormValue("remember"))
	res, err := s.mfa().UseFactorLink(r.Context(), s.client(w, r), r.PostFormValue("token"), remember)
	if p := asProblem(err); p != nil {
		if len(p.Details) > 0 && p.Details[0].Key == "mfa.link_other_browser" {
			b := s.base(r)
			return s.render(w, r, http.StatusForbidden, "message", &ui.MessagePage{Base: b, Heading: b.T("mfa.link.elsewhere.title"),
				Paragraphs: []string{b.T("mfa.link.elsewhere.body"), b.T("mfa.link.elsewhere.how")}})
		}
		return s.flowProblem(w, r, p, "/login")
	}
	if err != nil {
		return err
	}
	return s.land(w, r, res, "/account")
}

// FactorOptionJSON is one way to pass a second-factor step.
type FactorOptionJSON struct {
	Key    string `json:"key"`
	Method string `json:"method"`
	Label  string `json:"label,omitempty"`
	Level  int    `json:"level"`
}

// FactorJSON describes a second-factor step.
type FactorJSON struct {
	FlowID   string             `json:"flow_id"`
	Purpose  string             `json:"purpose"`
	Options  []FactorOptionJSON `json:"options"`
	Sent     string             `json:"sent,omitempty"`
	Remember int                `json:"remember_days,omitempty"`
	// Enrol says the account must set up a second factor first, with
	// /api/v1/factor/enrol/…; CanEnrol lists what (totp, email).
	Enrol    bool     `json:"enrol,omitempty"`
	CanEnrol []string `json:"can_enrol,omitempty"`
	// ConfirmAddress, during Enrol, is the masked registered address to
	// prove first (POST /api/v1/factor/enrol/email with any email).
	ConfirmAddress string `json:"confirm_address,omitempty"`
}

func (s *Server) apiFactor(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	pf, err := s.mfa().Factor(r.Context(), s.apiClient(r, q.Get("flow_token")), q.Get("flow_id"))
	if err != nil {
		return err
	}
	out := FactorJSON{FlowID: pf.Flow.ID, Purpose: pf.Purpose, Sent: pf.Sent, Options: []FactorOptionJSON{}}
	if pf.Remember {
		out.Remember = pf.RememberDays
	}
	for _, o := range pf.Options {
		out.Options = append(out.Options, FactorOptionJSON{Key: o.Key(), Method: string(o.Method), Label: o.Label, Level: o.Level})
	}
	if pf.Enrol {
		out.Enrol, out.ConfirmAddress = true, pf.ConfirmAddress
		for _, m := range pf.CanEnrol {
			out.CanEnrol = append(out.CanEnrol, string(m))
		}
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) apiFactorSend(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		flowRef
		Method string `json:"method"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if err := s.mfa().SendFactorCode(r.Context(), s.apiClient(r, in.FlowToken), in.FlowID, in.Method); err != nil {
		return err
	}
	return writeJSON(w, http.StatusAccepted, FlowJSON{FlowID: in.FlowID, Next: "factor"})
}

func (s *Server) apiFactorVerify(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		flowRef
		Method   string `json:"method"`
		Code     string `json:"code"`
		Remember bool   `json:"remember"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	res, err := s.mfa().VerifyFactor(r.Context(), s.apiClient(r, in.FlowToken), in.FlowID, in.Method, in.Code, in.Remember)
	if err != nil {
		return err
	}
	return s.apiSignedIn(w, r, res, in.FlowToken)
}
