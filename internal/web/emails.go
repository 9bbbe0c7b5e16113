package web

import (
	"net/http"
	"net/url"

	"github.com/portvakt/portvakt/internal/web/ui"
)

// An account's addresses: adding one (proven by a code), choosing the main
// one, removing one; and the JSON twins (/api/v1/account/emails…).

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
	f, err := s.settings().StartAddEmail(r.Context(), s.client(w, r), who, email, r.PostFormValue("current_password"), primary)
	if failed, err := s.formFailed(w, r, err, "", "account_email", func() (problemPage, error) {
		return s.addEmailPage(r, email, primary), nil
	}); failed {
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
	if err := s.settings().SetPrimaryEmail(r.Context(), s.client(w, r), who, r.PostFormValue("email")); err != nil {
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
	err := s.settings().RemoveEmail(r.Context(), s.client(w, r), who, email, r.PostFormValue("current_password"))
	if failed, err := s.formFailed(w, r, err, "", "account_email", func() (problemPage, error) {
		return s.removeEmailPage(r, email), nil
	}); failed {
		return err
	}
	http.Redirect(w, r, "/account?notice=email-removed", http.StatusSeeOther)
	return nil
}

// EmailJSON is one address.
type EmailJSON struct {
	Address string `json:"address"`
	Primary bool   `json:"primary"`
}

func (s *Server) apiAddEmail(w http.ResponseWriter, r *http.Request) error {
	who, err := s.apiWho(r)
	if err != nil {
		return err
	}
	var in struct {
		Email   string `json:"email"`
		Current string `json:"current_password"`
		Primary bool   `json:"primary"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	tok := newFlowToken()
	f, err := s.settings().StartAddEmail(r.Context(), s.apiClient(r, tok), who, in.Email, in.Current, in.Primary)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, FlowJSON{FlowID: f.ID, FlowToken: tok, Email: f.Email, ExpiresAt: f.ExpiresAt.UTC(), Next: "code"})
}

func (s *Server) apiVerifyEmail(w http.ResponseWriter, r *http.Request) error {
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
	e, err := s.settings().VerifyAddEmail(r.Context(), s.apiClient(r, in.FlowToken), who, in.FlowID, in.Code)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, EmailJSON{Address: e.Address, Primary: e.Primary})
}

func (s *Server) apiSetPrimaryEmail(w http.ResponseWriter, r *http.Request) error {
	who, err := s.apiWho(r)
	if err != nil {
		return err
	}
	var in struct {
		Email string `json:"email"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if err := s.settings().SetPrimaryEmail(r.Context(), s.apiClient(r, ""), who, in.Email); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) apiRemoveEmail(w http.ResponseWriter, r *http.Request) error {
	who, err := s.apiWho(r)
	if err != nil {
		return err
	}
	var in struct {
		Email   string `json:"email"`
		Current string `json:"current_password"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if err := s.settings().RemoveEmail(r.Context(), s.apiClient(r, ""), who, in.Email, in.Current); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
