package web

import (
	"net/http"
)

// Remembered browsers: forgetting one, or all, from the security settings.

func (s *Server) forgetBrowser(w http.ResponseWriter, r *http.Request) error {
	who, ok := s.who(w, r)
	if !ok {
		return nil
	}
	if err := s.settings().ForgetBrowser(r.Context(), who, r.PostFormValue("id")); err != nil {
		return err
	}
	http.Redirect(w, r, "/account/security?notice=browser-forgotten#browsers", http.StatusSeeOther)
	return nil
}

func (s *Server) forgetAllBrowsers(w http.ResponseWriter, r *http.Request) error {
	who, ok := s.who(w, r)
	if !ok {
		return nil
	}
	if err := s.settings().ForgetAllBrowsers(r.Context(), who.Account.ID); err != nil {
		return err
	}
	http.Redirect(w, r, "/account/security?notice=browser-forgotten#browsers", http.StatusSeeOther)
	return nil
}
