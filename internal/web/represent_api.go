package web

import (
	"net/http"
	"time"

	"github.com/portvakt/portvakt/internal/account"
	"github.com/portvakt/portvakt/internal/flow"
	"github.com/portvakt/portvakt/internal/problem"
	"github.com/portvakt/portvakt/internal/store"
)

// ---- JSON twins ----

// DelegationJSON is a delegation as the API shows it.
type DelegationJSON struct {
	ID string `json:"id"`
	// Kind is "account", "person" or "organisation".
	Kind string `json:"kind"`
	// Agent is the account that acts; Principal the account represented
	// (kind account).
	Agent     string   `json:"agent"`
	Principal string   `json:"principal_account,omitempty"`
	Name      string   `json:"name"`
	Shown     string   `json:"shown,omitempty"`
	Rights    []string `json:"rights"`
	// Status is "active", "waiting_accept", "waiting_approval" or
	// "ended" (expired or revoked).
	Status     string     `json:"status"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
	AcceptedAt *time.Time `json:"accepted_at,omitempty"`
	ApprovedAt *time.Time `json:"approved_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func (s *Server) delegationJSON(d store.Delegation) DelegationJSON {
	out := DelegationJSON{ID: d.ID, Kind: d.PrincipalKind, Agent: d.AgentID, Principal: d.PrincipalAccountID,
		Name: d.PrincipalName, Shown: d.PrincipalMasked, Rights: d.Rights, CreatedAt: d.CreatedAt,
		ExpiresAt: timePtr(d.ExpiresAt), AcceptedAt: timePtr(d.AcceptedAt), ApprovedAt: timePtr(d.ApprovedAt),
		RevokedAt: timePtr(d.RevokedAt)}
	if out.Rights == nil {
		out.Rights = []string{}
	}
	switch {
	case d.Active(s.now()):
		out.Status = "active"
	case !d.RevokedAt.IsZero():
		out.Status = "ended"
	case d.AcceptedAt.IsZero():
		out.Status = "waiting_accept"
	case d.ApprovalRequired && d.ApprovedAt.IsZero():
		out.Status = "waiting_approval"
	default:
		out.Status = "ended"
	}
	return out
}

func (s *Server) delegationsJSON(list []store.Delegation) []DelegationJSON {
	out := []DelegationJSON{}
	for _, d := range list {
		out = append(out, s.delegationJSON(d))
	}
	return out
}

// RepresentationJSON is GET /api/v1/account/representation.
type RepresentationJSON struct {
	// ActingFor is the delegation this session acts under, or "" for the
	// person themselves.
	ActingFor  string           `json:"acting_for"`
	ActsFor    []DelegationJSON `json:"acts_for"`
	ActedForBy []DelegationJSON `json:"acted_for_by"`
	// Rights are the rights a delegation may carry.
	Rights []string `json:"rights"`
}

func (s *Server) apiRepresentation(w http.ResponseWriter, r *http.Request) error {
	if err := s.representOn(); err != nil {
		return err
	}
	who, err := s.apiWho(r)
	if err != nil {
		return err
	}
	o, err := s.Representation.Overview(r.Context(), who.Account.ID)
	if err != nil {
		return err
	}
	out := RepresentationJSON{ActsFor: s.delegationsJSON(o.ActsFor), ActedForBy: s.delegationsJSON(o.ActedForBy),
		Rights: append([]string{}, s.Representation.Config.Rights...)}
	if d, ok := s.currentActing(r, who); ok {
		out.ActingFor = d.ID
	}
	return writeJSON(w, http.StatusOK, out)
}

// delegationIn is the body that adds a delegation.
type delegationIn struct {
	Account    string   `json:"account"`
	Name       string   `json:"name"`
	NationalID string   `json:"national_id"`
	BirthDate  string   `json:"birth_date"`
	Rights     []string `json:"rights"`
	// Expires is the last day in force, YYYY-MM-DD.
	Expires string `json:"expires"`
}

func (s *Server) apiFresh(r *http.Request, who flow.Who) error {
	ok, err := s.Flows.Recent(r.Context(), who)
	if err != nil {
		return err
	}
	if !ok {
		return problem.New(problem.Forbidden, "", "represent.reauth", nil)
	}
	return nil
}

// delegationInput is what adding a delegation starts with: the feature
// on, a signed-in account, a body that decodes and a recent sign-in.
func (s *Server) delegationInput(r *http.Request) (flow.Who, delegationIn, error) {
	var in delegationIn
	if err := s.representOn(); err != nil {
		return flow.Who{}, in, err
	}
	who, err := s.apiWho(r)
	if err != nil {
		return flow.Who{}, in, err
	}
	if err := decodeJSON(r, &in); err != nil {
		return flow.Who{}, in, err
	}
	return who, in, s.apiFresh(r, who)
}

func (s *Server) apiRepresentAddPerson(w http.ResponseWriter, r *http.Request) error {
	who, in, err := s.delegationInput(r)
	if err != nil {
		return err
	}
	d, err := s.Representation.AddPerson(r.Context(), who.Account, account.DelegationRequest{Name: in.Name,
		NationalID: in.NationalID, BirthDate: in.BirthDate, Rights: in.Rights, Expires: in.Expires})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, s.delegationJSON(d))
}

func (s *Server) apiRepresentRequest(w http.ResponseWriter, r *http.Request) error {
	who, in, err := s.delegationInput(r)
	if err != nil {
		return err
	}
	if _, err := s.Representation.RequestAccount(r.Context(), who.Account, account.DelegationRequest{Account: in.Account,
		Rights: in.Rights, Expires: in.Expires, Lang: stateOf(r).Lang.Tag()}); err != nil {
		return err
	}
	// The same answer whether or not the account exists.
	return writeJSON(w, http.StatusAccepted, map[string]bool{"requested": true})
}

func (s *Server) apiRepresentAnswer(yes bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if err := s.representOn(); err != nil {
			return err
		}
		who, err := s.apiWho(r)
		if err != nil {
			return err
		}
		var d store.Delegation
		if yes {
			if err := s.apiFresh(r, who); err != nil {
				return err
			}
			d, err = s.Representation.Accept(r.Context(), who.Account, r.PathValue("id"))
		} else {
			d, err = s.Representation.Decline(r.Context(), who.Account, r.PathValue("id"))
		}
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, s.delegationJSON(d))
	}
}

func (s *Server) apiRepresentRevoke(w http.ResponseWriter, r *http.Request) error {
	if err := s.representOn(); err != nil {
		return err
	}
	who, err := s.apiWho(r)
	if err != nil {
		return err
	}
	if _, err := s.Representation.Revoke(r.Context(), who.Account, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// ActAsJSON is GET /api/v1/act-as: whom the person may act for now, and
// the current choice ("" not chosen, "self", or a delegation ID).
type ActAsJSON struct {
	ActingFor string           `json:"acting_for"`
	Choices   []DelegationJSON `json:"choices"`
}

func (s *Server) apiActAs(w http.ResponseWriter, r *http.Request) error {
	if err := s.representOn(); err != nil {
		return err
	}
	who, err := s.apiWho(r)
	if err != nil {
		return err
	}
	list, err := s.Representation.Offerable(r.Context(), who.Account.ID)
	if err != nil {
		return err
	}
	cur := who.Session.ActingFor
	if _, ok := s.currentActing(r, who); !ok && cur != store.ActingSelf {
		cur = ""
	}
	return writeJSON(w, http.StatusOK, ActAsJSON{ActingFor: cur, Choices: s.delegationsJSON(list)})
}

func (s *Server) apiActAsChoose(w http.ResponseWriter, r *http.Request) error {
	if err := s.representOn(); err != nil {
		return err
	}
	who, err := s.apiWho(r)
	if err != nil {
		return err
	}
	var in struct {
		ActingFor string `json:"acting_for"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if err := s.choose(r, who, in.ActingFor); err != nil {
		return err
	}
	if in.ActingFor == "" {
		in.ActingFor = store.ActingSelf
	}
	return writeJSON(w, http.StatusOK, ActAsJSON{ActingFor: in.ActingFor, Choices: []DelegationJSON{}})
}

func (s *Server) adminRepresent(w http.ResponseWriter, r *http.Request) error {
	if !s.adminAuthorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="portvakt-admin"`)
		return problem.New(problem.Unauthorized, "", "admin.unauthorized", nil)
	}
	return s.representOn()
}

func (s *Server) apiAdminRepresentPending(w http.ResponseWriter, r *http.Request) error {
	if err := s.adminRepresent(w, r); err != nil {
		return err
	}
	list, err := s.Representation.Pending(r.Context(), 200)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, s.delegationsJSON(list))
}

func (s *Server) apiAdminRepresentApprove(w http.ResponseWriter, r *http.Request) error {
	if err := s.adminRepresent(w, r); err != nil {
		return err
	}
	d, err := s.Representation.Approve(r.Context(), r.PathValue("id"), "admin-api")
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, s.delegationJSON(d))
}

func (s *Server) apiAdminRepresentRevoke(w http.ResponseWriter, r *http.Request) error {
	if err := s.adminRepresent(w, r); err != nil {
		return err
	}
	if _, err := s.Representation.RevokeAsOperator(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
