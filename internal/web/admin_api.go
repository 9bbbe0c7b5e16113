package web

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"

	"github.com/portvakt/portvakt/internal/audit"
	"github.com/portvakt/portvakt/internal/flow"
	"github.com/portvakt/portvakt/internal/op"
	"github.com/portvakt/portvakt/internal/problem"
	"github.com/portvakt/portvakt/internal/store"
)

// The admin API (/api/admin/v1): accounts and OIDC clients, behind the
// admin bearer token.

// apiAdminCreateAccount lets an operator's system create accounts:
//
//	POST /api/admin/v1/accounts
//	Authorization: Bearer <admin token>
//	{"username": "12345", "name": "…", "email": "…", "password": "…"}
//
// Without a password, the account holder is mailed a link to choose one.
func (s *Server) apiAdminCreateAccount(w http.ResponseWriter, r *http.Request) error {
	if !s.adminAuthorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="portvakt-admin"`)
		return problem.New(problem.Unauthorized, "", "admin.unauthorized", nil)
	}
	var in struct {
		Username string `json:"username"`
		Name     string `json:"name"`
		Email    string `json:"email"`
		Password string `json:"password"`
		// PasswordHash imports a bcrypt or argon2 PHC hash instead.
		PasswordHash string   `json:"password_hash"`
		Phone        string   `json:"phone"`
		Groups       []string `json:"groups"`
		MFARequired  bool     `json:"mfa_required"`
		Language     string   `json:"language"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	// Without a language the account has no preference (the person's
	// browser and the service's default decide), and the invitation is in
	// the service's default language, not the admin client's.
	a, err := s.Flows.CreateAccount(r.Context(), flow.NewAccount{Username: in.Username, Name: in.Name, Email: in.Email, Password: in.Password, PasswordHash: in.PasswordHash, Phone: in.Phone, Groups: in.Groups, MFARequired: in.MFARequired,
		Lang: s.Catalog.Supported(in.Language), InviteLang: s.Catalog.Supported(s.DefaultLanguage)})
	if err != nil {
		return err
	}
	return s.writeAccount(w, r, http.StatusCreated, a)
}

// adminAuthorized checks the bearer token against the configured SHA-256
// digest, in constant time. With no digest configured, the admin API is
// closed.
func (s *Server) adminAuthorized(r *http.Request) bool {
	if s.AdminTokenSHA256 == "" {
		return false
	}
	want, err := hex.DecodeString(s.AdminTokenSHA256)
	if err != nil {
		return false
	}
	auth := r.Header.Get("Authorization")
	token, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok || token == "" {
		return false
	}
	got := sha256.Sum256([]byte(token))
	return subtle.ConstantTimeCompare(got[:], want) == 1
}

// ClientJSON is an app as the admin API shows it.
type ClientJSON struct {
	ID           string   `json:"client_id"`
	Secret       string   `json:"client_secret,omitempty"`
	Name         string   `json:"name"`
	Public       bool     `json:"public"`
	ThirdParty   bool     `json:"third_party"`
	RedirectURIs []string `json:"redirect_uris"`
	GrantTypes   []string `json:"grant_types"`
	// AccessTokenFormat is the format the client's access tokens take,
	// "opaque" or "jwt", the default resolved (op.AccessTokenFormatOf).
	AccessTokenFormat string `json:"access_token_format"`
	Configured        bool   `json:"configured,omitempty"`
}

func (s *Server) adminOP(w http.ResponseWriter, r *http.Request) error {
	if !s.adminAuthorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="portvakt-admin"`)
		return problem.New(problem.Unauthorized, "", "admin.unauthorized", nil)
	}
	if s.OP == nil {
		return errNotFound
	}
	return nil
}

// apiAdminCreateClient registers an app: POST /api/admin/v1/clients. The
// secret is in this answer only.
func (s *Server) apiAdminCreateClient(w http.ResponseWriter, r *http.Request) error {
	if err := s.adminOP(w, r); err != nil {
		return err
	}
	var in struct {
		ID                     string   `json:"client_id"`
		Name                   string   `json:"name"`
		Public                 bool     `json:"public"`
		ThirdParty             bool     `json:"third_party"`
		RedirectURIs           []string `json:"redirect_uris"`
		PostLogoutRedirectURIs []string `json:"post_logout_redirect_uris"`
		GrantTypes             []string `json:"grant_types"`
		Scopes                 []string `json:"scopes"`
		SigningAlg             string   `json:"signing_alg"`
		AccessTokenFormat      string   `json:"access_token_format"`
		BackChannelLogoutURI   string   `json:"backchannel_logout_uri"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	c, secret, err := s.OP.CreateClient(r.Context(), op.ClientConfig{ID: in.ID, Name: in.Name, Public: in.Public, ThirdParty: in.ThirdParty,
		RedirectURIs: in.RedirectURIs, PostLogoutRedirectURIs: in.PostLogoutRedirectURIs, GrantTypes: in.GrantTypes, Scopes: in.Scopes,
		SigningAlg: in.SigningAlg, AccessTokenFormat: in.AccessTokenFormat, BackChannelLogoutURI: in.BackChannelLogoutURI})
	if errors.Is(err, store.ErrConflict) {
		return problem.New(problem.Conflict, "client_id", "admin.client_taken", problem.Args{"id": in.ID})
	}
	if err != nil {
		return problem.New(problem.Invalid, "", "admin.client_invalid", problem.Args{"error": err.Error()})
	}
	s.Audit.Record(r.Context(), audit.Event{Kind: audit.ClientCreated, Actor: adminTokenActor, Target: c.ID})
	return writeJSON(w, http.StatusCreated, ClientJSON{ID: c.ID, Secret: secret, Name: c.Name, Public: c.Public, ThirdParty: c.ThirdParty, RedirectURIs: c.RedirectURIs, GrantTypes: c.GrantTypes,
		AccessTokenFormat: op.AccessTokenFormatOf(c)})
}

func (s *Server) apiAdminListClients(w http.ResponseWriter, r *http.Request) error {
	if err := s.adminOP(w, r); err != nil {
		return err
	}
	list, err := s.OP.ListClients(r.Context())
	if err != nil {
		return err
	}
	out := []ClientJSON{}
	for _, c := range list {
		out = append(out, ClientJSON{ID: c.ID, Name: c.Name, Public: c.Public, ThirdParty: c.ThirdParty, RedirectURIs: c.RedirectURIs, GrantTypes: c.GrantTypes,
			AccessTokenFormat: op.AccessTokenFormatOf(c.Client), Configured: c.Configured})
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) apiAdminDeleteClient(w http.ResponseWriter, r *http.Request) error {
	if err := s.adminOP(w, r); err != nil {
		return err
	}
	if err := s.OP.DeleteClient(r.Context(), r.PathValue("id")); errors.Is(err, store.ErrNotFound) {
		return errNotFound
	} else if err != nil {
		return problem.New(problem.Conflict, "", "admin.client_invalid", problem.Args{"error": err.Error()})
	}
	s.Audit.Record(r.Context(), audit.Event{Kind: audit.ClientDeleted, Actor: adminTokenActor, Target: r.PathValue("id")})
	w.WriteHeader(http.StatusNoContent)
	return nil
}
