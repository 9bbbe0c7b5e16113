package web

import (
	"net/http"
	"time"

	"github.com/portvakt/portvakt/internal/problem"
)

// SessionJSON describes the caller's session.
type SessionJSON struct {
	ID        string    `json:"id"`
	AccountID string    `json:"account_id"`
	AuthTime  time.Time `json:"auth_time"`
	ExpiresAt time.Time `json:"expires_at"`
	AMR       []string  `json:"amr"`
	Level     int       `json:"level"`
}

// apiSession returns the caller's session, or 401.
func (s *Server) apiSession(w http.ResponseWriter, r *http.Request) error {
	st := stateOf(r)
	if st.Session == nil {
		return errUnauthorized(st)
	}
	sess := st.Session
	return writeJSON(w, http.StatusOK, SessionJSON{
		ID: sess.ID, AccountID: sess.AccountID, AuthTime: sess.AuthTime.UTC(),
		ExpiresAt: sess.ExpiresAt.UTC(), AMR: sess.AMR, Level: sess.Level,
	})
}

// apiLogout ends the caller's session.
func (s *Server) apiLogout(w http.ResponseWriter, r *http.Request) error {
	st := stateOf(r)
	if st.Session == nil {
		return errUnauthorized(st)
	}
	if err := s.Sessions.Revoke(r.Context(), st.Session.ID); err != nil {
		return err
	}
	s.clearSessionCookie(w)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func errUnauthorized(*state) error {
	return problem.New(problem.Unauthorized, "", "session.required", nil)
}
