package web

import (
	"errors"
	"net/http"
	"time"

	"github.com/portvakt/portvakt/internal/problem"
	"github.com/portvakt/portvakt/internal/store"
)

// ---- admin API: organisations and rights ----

// OrgJSON is an organisation in the admin API.
type OrgJSON struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// MemberJSON is a membership in the admin API.
type MemberJSON struct {
	OrgID     string   `json:"org_id"`
	AccountID string   `json:"account_id"`
	Role      string   `json:"role"`
	Rights    []string `json:"rights"`
}

func (s *Server) adminOnly(w http.ResponseWriter, r *http.Request) error {
	if !s.adminAuthorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="portvakt-admin"`)
		return problem.New(problem.Unauthorized, "", "admin.unauthorized", nil)
	}
	return nil
}

func (s *Server) apiAdminCreateOrg(w http.ResponseWriter, r *http.Request) error {
	if err := s.adminOnly(w, r); err != nil {
		return err
	}
	var in struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	o, err := s.Systems.CreateOrg(r.Context(), in.ID, in.Name)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, OrgJSON{ID: o.ID, Name: o.Name, CreatedAt: o.CreatedAt.UTC()})
}

func (s *Server) apiAdminListOrgs(w http.ResponseWriter, r *http.Request) error {
	if err := s.adminOnly(w, r); err != nil {
		return err
	}
	orgs, err := s.Systems.Store.ListOrgs(r.Context())
	if err != nil {
		return err
	}
	out := []OrgJSON{}
	for _, o := range orgs {
		out = append(out, OrgJSON{ID: o.ID, Name: o.Name, CreatedAt: o.CreatedAt.UTC()})
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) apiAdminPutMember(w http.ResponseWriter, r *http.Request) error {
	if err := s.adminOnly(w, r); err != nil {
		return err
	}
	var in struct {
		Role   string   `json:"role"`
		Rights []string `json:"rights"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	m, err := s.Systems.PutMember(r.Context(), r.PathValue("id"), r.PathValue("account"), in.Role, in.Rights)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, memberJSON(m))
}

func memberJSON(m store.OrgMember) MemberJSON {
	j := MemberJSON{OrgID: m.OrgID, AccountID: m.AccountID, Role: m.Role, Rights: m.Rights}
	if j.Rights == nil {
		j.Rights = []string{}
	}
	return j
}

func (s *Server) apiAdminListMembers(w http.ResponseWriter, r *http.Request) error {
	if err := s.adminOnly(w, r); err != nil {
		return err
	}
	if _, err := s.Systems.Store.GetOrg(r.Context(), r.PathValue("id")); errors.Is(err, store.ErrNotFound) {
		return problem.New(problem.NotFound, "", "orgs.not_found", problem.Args{"id": r.PathValue("id")})
	} else if err != nil {
		return err
	}
	list, err := s.Systems.Store.ListOrgMembers(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	out := []MemberJSON{}
	for _, m := range list {
		out = append(out, memberJSON(m))
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) apiAdminSetRights(w http.ResponseWriter, r *http.Request) error {
	if err := s.adminOnly(w, r); err != nil {
		return err
	}
	var in struct {
		Rights []string `json:"rights"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	rights, err := s.Systems.SetAccountRights(r.Context(), r.PathValue("id"), in.Rights)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"account_id": r.PathValue("id"), "rights": rights})
}
