package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/portvakt/portvakt/internal/account"
	"github.com/portvakt/portvakt/internal/audit"
	"github.com/portvakt/portvakt/internal/problem"
	"github.com/portvakt/portvakt/internal/store"
)

// The admin API's half of the support console (issue 15), behind the
// admin bearer token; the caller is recorded as the operator
// "admin-token". Wherever a path takes an account ({id}), it may also be
// an email address, a username or a national identity number
// (account.Support.Resolve). Every action needs {"reason": "…"}.

// adminTokenActor is the actor of admin API calls.
var adminTokenActor = audit.Operator("admin-token")

// adminAPI checks the bearer token.
func (s *Server) adminAPI(w http.ResponseWriter, r *http.Request) error {
	if !s.adminAuthorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="portvakt-admin"`)
		return problem.New(problem.Unauthorized, "", "admin.unauthorized", nil)
	}
	if s.Support == nil {
		return errNotFound
	}
	return nil
}

// adminAccountID resolves the path's {id}: an account ID, an email
// address, a username or a national identity number.
func (s *Server) adminAccountID(r *http.Request) (string, error) {
	return s.Support.Resolve(r.Context(), r.PathValue("id"))
}

// AuditEventJSON is one audit event in the admin API.
type AuditEventJSON struct {
	ID        string            `json:"id"`
	At        time.Time         `json:"at"`
	Kind      string            `json:"kind"`
	ActorKind string            `json:"actor_kind"`
	ActorID   string            `json:"actor_id,omitempty"`
	Subject   string            `json:"subject,omitempty"`
	Target    string            `json:"target,omitempty"`
	Outcome   string            `json:"outcome"`
	Reason    string            `json:"reason,omitempty"`
	IP        string            `json:"ip,omitempty"`
	UserAgent string            `json:"user_agent,omitempty"`
	RequestID string            `json:"request_id,omitempty"`
	Data      map[string]string `json:"data,omitempty"`
}

// AuditEventOf is e as JSON (the admin API and portvakt audit export).
func AuditEventOf(e store.AuditEvent) AuditEventJSON {
	return AuditEventJSON{ID: e.ID, At: e.At.UTC(), Kind: e.Kind, ActorKind: e.ActorKind, ActorID: e.ActorID, Subject: e.Subject,
		Target: e.Target, Outcome: e.Outcome, Reason: e.Reason, IP: e.IP, UserAgent: e.UserAgent, RequestID: e.RequestID, Data: e.Data}
}

// apiAdminAudit: GET /api/admin/v1/audit?account=&actor=&kind=&since=&until=&limit=&cursor=
// answers {"events": [...], "next_cursor": "…"}, newest first.
func (s *Server) apiAdminAudit(w http.ResponseWriter, r *http.Request) error {
	if err := s.adminAPI(w, r); err != nil {
		return err
	}
	f, err := s.auditFilter(r, r.URL.Query())
	if err != nil {
		return err
	}
	list, next, err := s.Support.Events(r.Context(), adminTokenActor, f)
	if err != nil {
		return err
	}
	out := struct {
		Events []AuditEventJSON `json:"events"`
		Next   string           `json:"next_cursor,omitempty"`
	}{Events: []AuditEventJSON{}, Next: next}
	for _, e := range list {
		out.Events = append(out.Events, AuditEventOf(e))
	}
	return writeJSON(w, http.StatusOK, out)
}

// apiAdminAccount: GET /api/admin/v1/accounts/{id}?reason=… shows an
// account as the console does (opening it is audited, with the reason).
func (s *Server) apiAdminAccount(w http.ResponseWriter, r *http.Request) error {
	if err := s.adminAPI(w, r); err != nil {
		return err
	}
	id, err := s.adminAccountID(r)
	if err != nil {
		return err
	}
	v, err := s.Support.Open(r.Context(), adminTokenActor, r.URL.Query().Get("reason"), id)
	if err != nil {
		return err
	}
	type emailJSON struct {
		Address  string `json:"address"`
		Primary  bool   `json:"primary"`
		Verified bool   `json:"verified"`
	}
	type factorJSON struct {
		ID   string `json:"id"`
		Kind string `json:"kind"`
		Name string `json:"name"`
	}
	type identityJSON struct {
		Provider string    `json:"provider"`
		Subject  string    `json:"subject"`
		Shown    string    `json:"shown"`
		LinkedAt time.Time `json:"linked_at"`
	}
	type sessionJSON struct {
		ID        string    `json:"id"`
		Level     int       `json:"level"`
		CreatedAt time.Time `json:"created_at"`
		IP        string    `json:"ip,omitempty"`
		UserAgent string    `json:"user_agent,omitempty"`
	}
	out := struct {
		ID             string           `json:"id"`
		Username       string           `json:"username,omitempty"`
		Name           string           `json:"name,omitempty"`
		Locked         bool             `json:"locked"`
		ThrottleLocked bool             `json:"throttle_locked"`
		HasPassword    bool             `json:"has_password"`
		Roles          []string         `json:"roles"`
		Emails         []emailJSON      `json:"emails"`
		Factors        []factorJSON     `json:"factors"`
		Identities     []identityJSON   `json:"identities"`
		Sessions       []sessionJSON    `json:"sessions"`
		Events         []AuditEventJSON `json:"events"`
	}{ID: v.Account.ID, Username: v.Account.Username, Name: v.Account.Name, Locked: v.Account.Disabled, ThrottleLocked: v.ThrottleLocked,
		HasPassword: v.HasPassword, Roles: v.Roles, Emails: []emailJSON{}, Factors: []factorJSON{}, Identities: []identityJSON{},
		Sessions: []sessionJSON{}, Events: []AuditEventJSON{}}
	for _, e := range v.Emails {
		out.Emails = append(out.Emails, emailJSON{e.Address, e.Primary, !e.VerifiedAt.IsZero()})
	}
	for _, f := range v.Factors {
		name := f.Name
		if f.Phone != "" {
			name = f.Phone
		}
		out.Factors = append(out.Factors, factorJSON{f.ID, f.Kind, name})
	}
	for _, fi := range v.Identities {
		shown := fi.NationalIDMasked
		if shown == "" {
			shown = fi.Email
		}
		out.Identities = append(out.Identities, identityJSON{fi.Provider, fi.Subject, shown, fi.LinkedAt.UTC()})
	}
	for _, se := range v.Sessions {
		out.Sessions = append(out.Sessions, sessionJSON{se.ID, se.Level, se.CreatedAt.UTC(), se.IP, se.UserAgent})
	}
	for _, e := range v.Events {
		out.Events = append(out.Events, AuditEventOf(e))
	}
	return writeJSON(w, http.StatusOK, out)
}

// apiAdminAction: POST /api/admin/v1/accounts/{id}/{action} with
// {"reason": "…"} and, for some actions, more: support-code, reset-totp,
// end-sessions, lock, remove-identity {"provider", "subject"},
// resend-invitation, grant-role and revoke-role {"role"}. (unlock has its
// own route from issue 10, abuse.go.)
func (s *Server) apiAdminAction(w http.ResponseWriter, r *http.Request) error {
	if err := s.adminAPI(w, r); err != nil {
		return err
	}
	var in struct {
		Reason   string `json:"reason"`
		Provider string `json:"provider"`
		Subject  string `json:"subject"`
		Role     string `json:"role"`
		Lang     string `json:"lang"`
	}
	if r.ContentLength != 0 {
		if err := decodeJSON(r, &in); err != nil {
			return err
		}
	}
	id, err := s.adminAccountID(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	out := map[string]any{"account_id": id}
	switch action := r.PathValue("action"); action {
	case "support-code":
		sent, err := s.Support.IssueSupportCode(ctx, adminTokenActor, in.Reason, id, in.Lang)
		if err != nil {
			return err
		}
		out["sent_to"], out["expires_in"] = strings.Join(sent, ", "), int(account.SupportCodeTTL.Seconds())
		return writeJSON(w, http.StatusAccepted, out)
	case "reset-totp":
		n, err := s.Support.ResetTOTP(ctx, adminTokenActor, in.Reason, id)
		if err != nil {
			return err
		}
		out["removed"] = n
	case "end-sessions":
		n, err := s.Support.EndSessions(ctx, adminTokenActor, in.Reason, id)
		if err != nil {
			return err
		}
		out["ended"] = n
	case "lock":
		if err := s.Support.Lock(ctx, adminTokenActor, in.Reason, id); err != nil {
			return err
		}
		out["locked"] = true
	case "remove-identity":
		if err := s.Support.RemoveIdentity(ctx, adminTokenActor, in.Reason, id, in.Provider, in.Subject); err != nil {
			return err
		}
	case "resend-invitation":
		to, err := s.Support.ResendInvitation(ctx, adminTokenActor, in.Reason, id, in.Lang)
		if err != nil {
			return err
		}
		out["sent_to"] = to
	case "grant-role":
		if err := s.Support.GrantRole(ctx, adminTokenActor, in.Reason, id, in.Role); err != nil {
			return err
		}
	case "revoke-role":
		if err := s.Support.RevokeRole(ctx, adminTokenActor, in.Reason, id, in.Role); err != nil {
			return err
		}
	default:
		return errNotFound
	}
	return writeJSON(w, http.StatusOK, out)
}
