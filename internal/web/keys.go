package web

import (
	"encoding/base64"
	"encoding/json"
	"net/http"

	"github.com/portvakt/portvakt/internal/problem"
)

// Security keys and passkeys. The pages post forms as usual; webauthn.js
// first asks an options endpoint (JSON) for the ceremony's options, runs
// navigator.credentials, and puts the browser's answer into the form's
// "response" field before submitting it. Options endpoints answer JSON
// (and problem+json), whatever the Accept header.

// ceremonyJSON is what an options endpoint answers.
type ceremonyJSON struct {
	Flow    string          `json:"flow"`
	Options json.RawMessage `json:"options"`
}

func keyID(s string) ([]byte, error) {
	id, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(id) == 0 {
		return nil, problem.New(problem.NotFound, "", "security.factor_gone", nil)
	}
	return id, nil
}

// keyOptions starts registering a key for the signed-in user.
func (s *Server) keyOptions(w http.ResponseWriter, r *http.Request) error {
	who, err := s.apiWho(r)
	if err != nil {
		return err
	}
	id, opts, err := s.Flows.BeginKeyRegistration(r.Context(), s.client(w, r), who, r.PostFormValue("passkey") == "1")
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, ceremonyJSON{Flow: id, Options: opts})
}

// keyRegister finishes registering a key.
func (s *Server) keyRegister(w http.ResponseWriter, r *http.Request) error {
	who, ok := s.who(w, r)
	if !ok {
		return nil
	}
	_, codes, err := s.Flows.FinishKeyRegistration(r.Context(), s.client(w, r), who, r.PostFormValue("flow"), []byte(r.PostFormValue("response")), r.PostFormValue("name"))
	if p := asProblem(err); p != nil {
		return s.flowProblem(w, r, p, "/account/security#keys")
	}
	if err != nil {
		return err
	}
	// A first strong factor comes with recovery codes, shown once.
	return s.showCodes(w, r, codes, "/account/security?notice=key-added#keys")
}

func (s *Server) keyRename(w http.ResponseWriter, r *http.Request) error {
	who, ok := s.who(w, r)
	if !ok {
		return nil
	}
	id, err := keyID(r.PostFormValue("id"))
	if err != nil {
		return err
	}
	if err := s.Flows.RenameKey(r.Context(), who, id, r.PostFormValue("name")); err != nil {
		return err
	}
	http.Redirect(w, r, "/account/security?notice=key-renamed#keys", http.StatusSeeOther)
	return nil
}

func (s *Server) keyRemove(w http.ResponseWriter, r *http.Request) error {
	who, ok := s.who(w, r)
	if !ok || !s.fresh(w, r, who, "/account/security") {
		return nil
	}
	id, err := keyID(r.PostFormValue("id"))
	if err != nil {
		return err
	}
	if err := s.Flows.RemoveKey(r.Context(), s.client(w, r), who, id); err != nil {
		return err
	}
	http.Redirect(w, r, "/account/security?notice=factor-removed#keys", http.StatusSeeOther)
	return nil
}

// factorKeyOptions starts a security-key assertion in a second-factor step.
func (s *Server) factorKeyOptions(w http.ResponseWriter, r *http.Request) error {
	id := r.PostFormValue("flow")
	opts, err := s.Flows.BeginFactorKey(r.Context(), s.client(w, r), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, ceremonyJSON{Flow: id, Options: opts})
}

func (s *Server) factorKey(w http.ResponseWriter, r *http.Request) error {
	c := s.client(w, r)
	id := r.PostFormValue("flow")
	res, err := s.Flows.VerifyFactorKey(r.Context(), c, id, []byte(r.PostFormValue("response")), r.PostFormValue("remember") != "")
	if p := asProblem(err); p != nil {
		return s.factorError(w, r, c, id, "webauthn", p)
	}
	if err != nil {
		return err
	}
	return s.land(w, r, res, "/account")
}

// passkeyOptions starts a passwordless sign-in.
func (s *Server) passkeyOptions(w http.ResponseWriter, r *http.Request) error {
	id, opts, err := s.Flows.BeginPasskey(r.Context(), s.client(w, r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, ceremonyJSON{Flow: id, Options: opts})
}

func (s *Server) passkeySignIn(w http.ResponseWriter, r *http.Request) error {
	res, err := s.Flows.FinishPasskey(r.Context(), s.client(w, r), r.PostFormValue("flow"), []byte(r.PostFormValue("response")))
	if p := asProblem(err); p != nil {
		return s.flowProblem(w, r, p, "/login")
	}
	if err != nil {
		return err
	}
	return s.land(w, r, res, "/account")
}

// ---- JSON twins ----

// CeremonyAPIJSON starts a WebAuthn ceremony for an API client: pass
// options to navigator.credentials (or the platform API) and send the
// credential's JSON back with the flow.
type CeremonyAPIJSON struct {
	FlowID    string          `json:"flow_id"`
	FlowToken string          `json:"flow_token,omitempty"`
	Options   json.RawMessage `json:"options"`
}

// KeyJSON is a security key or passkey.
type KeyJSON struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	Passkey      bool   `json:"passkey"`
	SignCount    uint32 `json:"sign_count"`
	BackedUp     bool   `json:"backed_up"`
	CloneWarning bool   `json:"clone_warning"`
	// RecoveryCodes, only when the key was the account's first strong
	// factor, are new recovery codes to show once.
	RecoveryCodes []string `json:"recovery_codes,omitempty"`
}

func (s *Server) apiPasskeyOptions(w http.ResponseWriter, r *http.Request) error {
	tok := newFlowToken()
	id, opts, err := s.Flows.BeginPasskey(r.Context(), s.apiClient(r, tok))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, CeremonyAPIJSON{FlowID: id, FlowToken: tok, Options: opts})
}

func (s *Server) apiPasskey(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		flowRef
		Response json.RawMessage `json:"response"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	res, err := s.Flows.FinishPasskey(r.Context(), s.apiClient(r, in.FlowToken), in.FlowID, in.Response)
	if err != nil {
		return err
	}
	return s.apiSignedIn(w, r, res, in.FlowToken)
}

func (s *Server) apiFactorKeyOptions(w http.ResponseWriter, r *http.Request) error {
	var in flowRef
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	opts, err := s.Flows.BeginFactorKey(r.Context(), s.apiClient(r, in.FlowToken), in.FlowID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, CeremonyAPIJSON{FlowID: in.FlowID, Options: opts})
}

func (s *Server) apiFactorKey(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		flowRef
		Response json.RawMessage `json:"response"`
		Remember bool            `json:"remember"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	res, err := s.Flows.VerifyFactorKey(r.Context(), s.apiClient(r, in.FlowToken), in.FlowID, in.Response, in.Remember)
	if err != nil {
		return err
	}
	return s.apiSignedIn(w, r, res, in.FlowToken)
}

func (s *Server) apiKeys(w http.ResponseWriter, r *http.Request) error {
	who, err := s.apiWho(r)
	if err != nil {
		return err
	}
	keys, err := s.Flows.Keys(r.Context(), who.Account.ID)
	if err != nil {
		return err
	}
	out := []KeyJSON{}
	for _, k := range keys {
		out = append(out, KeyJSON{ID: base64.RawURLEncoding.EncodeToString(k.ID), Name: k.Name, Passkey: k.Discoverable, SignCount: k.SignCount, BackedUp: k.BackupState, CloneWarning: k.CloneWarning})
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) apiKeyOptions(w http.ResponseWriter, r *http.Request) error {
	who, err := s.apiWho(r)
	if err != nil {
		return err
	}
	var in struct {
		Passkey bool `json:"passkey"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	tok := newFlowToken()
	id, opts, err := s.Flows.BeginKeyRegistration(r.Context(), s.apiClient(r, tok), who, in.Passkey)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, CeremonyAPIJSON{FlowID: id, FlowToken: tok, Options: opts})
}

func (s *Server) apiKeyRegister(w http.ResponseWriter, r *http.Request) error {
	who, err := s.apiWho(r)
	if err != nil {
		return err
	}
	var in struct {
		flowRef
		Response json.RawMessage `json:"response"`
		Name     string          `json:"name"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	k, codes, err := s.Flows.FinishKeyRegistration(r.Context(), s.apiClient(r, in.FlowToken), who, in.FlowID, in.Response, in.Name)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, KeyJSON{ID: base64.RawURLEncoding.EncodeToString(k.ID), Name: k.Name, Passkey: k.Discoverable, SignCount: k.SignCount, BackedUp: k.BackupState, RecoveryCodes: codes})
}

func (s *Server) apiKeyRemove(w http.ResponseWriter, r *http.Request) error {
	who, err := s.apiWho(r)
	if err != nil {
		return err
	}
	var in struct {
		ID string `json:"id"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	id, err := keyID(in.ID)
	if err != nil {
		return err
	}
	if err := s.Flows.RemoveKey(r.Context(), s.apiClient(r, ""), who, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
