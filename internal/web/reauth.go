package web

import (
	"net/http"
	"net/url"

	"github.com/portvakt/portvakt/internal/flow"
	"github.com/portvakt/portvakt/internal/web/ui"
)

// Re-authentication before a sensitive change and step-up before an action
// that needs a higher level; and the step-up's JSON twin.

func (s *Server) reauthForm(w http.ResponseWriter, r *http.Request) error {
	who, ok := s.who(w, r)
	if !ok {
		return nil
	}
	noPW, err := s.Flows.Passwordless(r.Context(), who.Account.ID)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "reauth", &ui.ReauthPage{Base: s.base(r), ReturnTo: localPath(r.URL.Query().Get("return_to")), NoPassword: noPW})
}

func (s *Server) reauthSubmit(w http.ResponseWriter, r *http.Request) error {
	who, ok := s.who(w, r)
	if !ok {
		return nil
	}
	returnTo := localPath(r.PostFormValue("return_to"))
	res, err := s.mfa().Reauth(r.Context(), s.client(w, r), who, r.PostFormValue("current_password"), returnTo)
	if failed, err := s.formFailed(w, r, err, "", "reauth", func() (problemPage, error) {
		return &ui.ReauthPage{Base: s.base(r), ReturnTo: returnTo}, nil
	}); failed {
		return err
	}
	return s.land(w, r, res, returnTo)
}

// fresh sends the browser to re-authenticate when the session's sign-in
// is too old for a sensitive change; it reports whether to go on.
func (s *Server) fresh(w http.ResponseWriter, r *http.Request, who flow.Who, returnTo string) bool {
	ok, err := s.Flows.Recent(r.Context(), who)
	if err != nil {
		s.fail(w, r, err)
		return false
	}
	if ok {
		return true
	}
	http.Redirect(w, r, "/account/reauth?return_to="+url.QueryEscape(returnTo), http.StatusSeeOther)
	return false
}

// stepUp is where an app sends a user before an action that needs a
// stronger sign-in: /stepup?action=payment&return_to=/pay. If the session
// is strong enough the browser goes straight back.
func (s *Server) stepUp(w http.ResponseWriter, r *http.Request) error {
	who, ok := s.who(w, r)
	if !ok {
		return nil
	}
	q := r.URL.Query()
	returnTo := localPath(q.Get("return_to"))
	res, err := s.mfa().StepUp(r.Context(), s.client(w, r), who, q.Get("action"), returnTo)
	if hasKey(asProblem(err), "reauth.required") {
		// The session has no first factor to build on: a full
		// re-authentication, then the step-up again.
		http.Redirect(w, r, "/account/reauth?return_to="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return nil
	}
	if err != nil {
		return err
	}
	if res.Pending != "" {
		http.Redirect(w, r, "/login/factor?flow="+res.Pending, http.StatusSeeOther)
		return nil
	}
	http.Redirect(w, r, returnTo, http.StatusSeeOther)
	return nil
}

// StepUpJSON answers whether the session may do an action.
type StepUpJSON struct {
	Action    string `json:"action"`
	Required  int    `json:"required_level"`
	Level     int    `json:"level"`
	Satisfied bool   `json:"satisfied"`
	FlowID    string `json:"flow_id,omitempty"`
	FlowToken string `json:"flow_token,omitempty"`
}

// apiStepUp: POST /api/v1/stepup {"action"}: satisfied, or a
// second-factor flow to pass (GET /api/v1/factor, then verify).
func (s *Server) apiStepUp(w http.ResponseWriter, r *http.Request) error {
	who, err := s.apiWho(r)
	if err != nil {
		return err
	}
	var in struct {
		Action string `json:"action"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	tok := newFlowToken()
	res, err := s.mfa().StepUp(r.Context(), s.apiClient(r, tok), who, in.Action, "")
	if err != nil {
		return err
	}
	lvl, _ := s.mfa().ActionLevel(in.Action)
	out := StepUpJSON{Action: in.Action, Required: lvl, Level: who.Session.Level, Satisfied: res.Pending == ""}
	if res.Pending != "" {
		out.FlowID, out.FlowToken = res.Pending, tok
	}
	return writeJSON(w, http.StatusOK, out)
}
