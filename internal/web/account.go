package web

import (
	"net/http"

	"github.com/portvakt/portvakt/internal/flow"
	"github.com/portvakt/portvakt/internal/store"
	"github.com/portvakt/portvakt/internal/web/ui"
)

// The account page and changing the password; and the JSON twins
// (/api/v1/account…).

func (s *Server) accountPage(w http.ResponseWriter, r *http.Request) error {
	who, ok := s.who(w, r)
	if !ok {
		return nil
	}
	emails, err := s.Flows.Emails(r.Context(), who.Account.ID)
	if err != nil {
		return err
	}
	p := &ui.AccountPage{Base: s.base(r), Systems: s.Systems != nil, Representation: s.Representation != nil}
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
	if failed, err := s.formFailed(w, r, err, "", "newpassword", func() (problemPage, error) {
		return s.changePasswordPage(r, who)
	}); failed {
		return err
	}
	s.setSessionCookie(w, token)
	http.Redirect(w, r, "/account?notice=password-changed", http.StatusSeeOther)
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

// AccountJSON is the signed-in account.
type AccountJSON struct {
	ID       string      `json:"id"`
	Username string      `json:"username,omitempty"`
	Name     string      `json:"name"`
	Locale   string      `json:"locale,omitempty"`
	Emails   []EmailJSON `json:"emails"`
}

func (s *Server) apiAccount(w http.ResponseWriter, r *http.Request) error {
	who, err := s.apiWho(r)
	if err != nil {
		return err
	}
	return s.writeAccount(w, r, http.StatusOK, who.Account)
}

func (s *Server) writeAccount(w http.ResponseWriter, r *http.Request, status int, a store.Account) error {
	emails, err := s.Flows.Emails(r.Context(), a.ID)
	if err != nil {
		return err
	}
	out := AccountJSON{ID: a.ID, Username: a.Username, Name: a.Name, Locale: a.Locale, Emails: []EmailJSON{}}
	for _, e := range emails {
		out.Emails = append(out.Emails, EmailJSON{Address: e.Address, Primary: e.Primary})
	}
	return writeJSON(w, status, out)
}

func (s *Server) apiChangePassword(w http.ResponseWriter, r *http.Request) error {
	who, err := s.apiWho(r)
	if err != nil {
		return err
	}
	var in struct {
		Current  string `json:"current_password"`
		Password string `json:"password"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	token, err := s.Flows.ChangePassword(r.Context(), s.apiClient(r, ""), who, in.Current, in.Password)
	if err != nil {
		return err
	}
	s.setSessionCookie(w, token)
	w.WriteHeader(http.StatusNoContent)
	return nil
}
