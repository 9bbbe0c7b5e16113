package web

import (
	"net/http"
	"time"

	"github.com/portvakt/portvakt/internal/flow"
	"github.com/portvakt/portvakt/internal/problem"
	"github.com/portvakt/portvakt/internal/secret"
)

// The JSON twins of the account pages live beside their HTML handlers, one
// file per area (login.go, signup.go, recover.go, factor.go, …). A flow
// started through the API is bound to a flow token returned when it starts
// (instead of a browser cookie); every later call of that flow sends it
// back with the flow ID. A finished sign-in sets the session cookie,
// exactly as for a browser: the session token never appears in a response
// body.

// SessionJSON describes the caller's session.
type SessionJSON struct {
	ID        string    `json:"id"`
	AccountID string    `json:"account_id"`
	AuthTime  time.Time `json:"auth_time"`
	ExpiresAt time.Time `json:"expires_at"`
	AMR       []string  `json:"amr"`
	Level     int       `json:"level"`
	// DeletionCancelled says this sign-in cancelled the deletion of the
	// account its user had asked for (issue 15): tell them.
	DeletionCancelled bool `json:"deletion_cancelled,omitempty"`
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
	s.auditSignOut(r, st.Session, "sign-out")
	s.clearSessionCookie(w)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func errUnauthorized(*state) error {
	return problem.New(problem.Unauthorized, "", "session.required", nil)
}

// FlowJSON is a started or advanced flow.
type FlowJSON struct {
	FlowID    string    `json:"flow_id"`
	FlowToken string    `json:"flow_token,omitempty"`
	Email     string    `json:"email,omitempty"`
	ExpiresAt time.Time `json:"expires_at,omitempty"`
	// Next names the next call: "code", "details", "password", "done",
	// or "check_mail".
	Next string `json:"next"`
}

// flowRef identifies an API flow.
type flowRef struct {
	FlowID    string `json:"flow_id"`
	FlowToken string `json:"flow_token"`
}

func (s *Server) apiClient(r *http.Request, flowToken string) flow.Client {
	c := flow.Client{Browser: secret.Hash("api:" + flowToken), IP: clientIP(r), UserAgent: r.UserAgent(), Lang: stateOf(r).Lang.Tag(), NoDevice: true}
	// A browser's own script sends the browser cookie: that is the device.
	if bc, err := r.Cookie(s.browserCookieName()); err == nil && len(bc.Value) >= 40 {
		c.Device, c.NoDevice = secret.Hash(bc.Value), false
	}
	return c
}

func newFlowToken() string { return secret.Token() }

// apiSignedIn answers a finished sign-in: the cookie, and the session.
// When a second factor is needed it answers the flow instead (next:
// "factor"), which continues under the same flow token.
func (s *Server) apiSignedIn(w http.ResponseWriter, r *http.Request, res flow.Result, flowToken string) error {
	if res.Pending != "" {
		return writeJSON(w, http.StatusOK, FlowJSON{FlowID: res.Pending, FlowToken: flowToken, Next: "factor"})
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
	sess := res.Session
	return writeJSON(w, http.StatusOK, SessionJSON{ID: sess.ID, AccountID: sess.AccountID, AuthTime: sess.AuthTime.UTC(), ExpiresAt: sess.ExpiresAt.UTC(), AMR: sess.AMR, Level: sess.Level,
		DeletionCancelled: res.DeletionCancelled})
}

func (s *Server) apiWho(r *http.Request) (flow.Who, error) {
	st := stateOf(r)
	if st.Session == nil {
		return flow.Who{}, errUnauthorized(st)
	}
	return flow.Who{Account: *st.Account, Session: *st.Session}, nil
}
