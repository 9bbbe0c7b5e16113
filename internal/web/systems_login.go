package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/portvakt/portvakt/internal/flow"
	"github.com/portvakt/portvakt/internal/op"
	"github.com/portvakt/portvakt/internal/problem"
	"github.com/portvakt/portvakt/internal/store"
)

// ---- signing a person in through a system ----

// systemCredentials reads the software's credentials: HTTP Basic
// (system ID and secret, RFC 6749 §2.3.1 encoding), or client_assertion
// with client_assertion_type jwt-bearer in the JSON body.
func systemCredentials(r *http.Request, assertion, assertionType string) (flow.SystemCredentials, bool) {
	if id, sec, ok := r.BasicAuth(); ok {
		if assertion != "" {
			return flow.SystemCredentials{}, false
		}
		return flow.SystemCredentials{ID: formUnescape(id), Secret: formUnescape(sec)}, true
	}
	if assertion != "" && assertionType == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
		return flow.SystemCredentials{Assertion: assertion}, true
	}
	return flow.SystemCredentials{}, false
}

// formUnescape undoes RFC 6749's form encoding of Basic credentials;
// a value that is not encoded is kept.
func formUnescape(v string) string {
	if !strings.ContainsAny(v, "%+") {
		return v
	}
	out, err := url.QueryUnescape(v)
	if err != nil {
		return v
	}
	return out
}

// authSystem authenticates the calling software, or answers 401 with
// system.credentials_invalid.
func (s *Server) authSystem(w http.ResponseWriter, r *http.Request, assertion, assertionType string) (store.System, error) {
	cred, ok := systemCredentials(r, assertion, assertionType)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Basic realm="portvakt-systems"`)
		return store.System{}, problem.New(problem.Unauthorized, "", "system.credentials_invalid", nil)
	}
	sys, err := s.Systems.AuthenticateSystem(r.Context(), s.apiClient(r, ""), cred)
	if hasKey(asProblem(err), "system.credentials_invalid") {
		w.Header().Set("WWW-Authenticate", `Basic realm="portvakt-systems"`)
	}
	return sys, err
}

// SystemLoginJSON is a started sign-in through a system.
type SystemLoginJSON struct {
	Handle    string `json:"handle"`
	Phone     string `json:"phone"`
	ExpiresIn int    `json:"expires_in"`
	Next      string `json:"next"`
}

// systemAssertion is the optional RFC 7523 client assertion a system may
// authenticate with in the body of both steps, instead of HTTP Basic.
type systemAssertion struct {
	ClientAssertion     string `json:"client_assertion"`
	ClientAssertionType string `json:"client_assertion_type"`
}

func (s *Server) apiSystemLogin(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Username   string `json:"username"`
		NationalID string `json:"national_id"`
		Password   string `json:"password"`
		systemAssertion
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	sys, err := s.authSystem(w, r, in.ClientAssertion, in.ClientAssertionType)
	if err != nil {
		return err
	}
	user := in.Username
	if user == "" {
		user = in.NationalID
	}
	started, err := s.Systems.StartSystemLogin(r.Context(), s.apiClient(r, ""), sys, user, in.Password)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusOK, SystemLoginJSON{Handle: started.Handle, Phone: started.Phone,
		ExpiresIn: int(started.ExpiresAt.Sub(s.now()).Seconds()), Next: "code"})
}

func (s *Server) apiSystemLoginCode(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Handle string `json:"handle"`
		Code   string `json:"code"`
		systemAssertion
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	sys, err := s.authSystem(w, r, in.ClientAssertion, in.ClientAssertionType)
	if err != nil {
		return err
	}
	done, err := s.Systems.FinishSystemLogin(r.Context(), s.apiClient(r, ""), sys, in.Handle, in.Code)
	if err != nil {
		return err
	}
	toks, err := s.SystemTokens.Issue(r.Context(), op.SystemGrant{AccountID: done.AccountID, SystemID: sys.ID, Rights: done.Rights, AMR: done.AMR, AuthTime: done.AuthTime})
	if errors.Is(err, store.ErrNotFound) {
		return problem.New(problem.Forbidden, "", "system.inactive", nil)
	}
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	return writeJSON(w, http.StatusOK, toks)
}

// apiSystemRefresh turns a refresh token of the calling system into new
// tokens (only when systems.refresh_tokens is on).
func (s *Server) apiSystemRefresh(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		GrantType           string `json:"grant_type"`
		RefreshToken        string `json:"refresh_token"`
		ClientAssertion     string `json:"client_assertion"`
		ClientAssertionType string `json:"client_assertion_type"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if in.GrantType != "refresh_token" {
		return problem.New(problem.Invalid, "grant_type", "systems.grant_type", nil)
	}
	sys, err := s.authSystem(w, r, in.ClientAssertion, in.ClientAssertionType)
	if err != nil {
		return err
	}
	toks, err := s.SystemTokens.Refresh(r.Context(), sys.ID, in.RefreshToken)
	if errors.Is(err, op.ErrRefreshInvalid) {
		return problem.New(problem.Unauthorized, "refresh_token", "systems.refresh_invalid", nil)
	}
	if err != nil {
		return err
	}
	s.recordRefresh(r, toks.AccountID, sys.ID)
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusOK, toks)
}
