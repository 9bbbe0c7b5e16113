package web

import (
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/portvakt/portvakt/internal/account"
	"github.com/portvakt/portvakt/internal/flow"
	"github.com/portvakt/portvakt/internal/op"
	"github.com/portvakt/portvakt/internal/problem"
	"github.com/portvakt/portvakt/internal/store"
	"github.com/portvakt/portvakt/internal/web/ui"
)

// Representation: /account/representation lists whom the person acts for
// and who may act for them, and adds, accepts and ends delegations
// (account.Delegations); /act-as is the chooser "Who are you acting for?"
// that an app asking for the scope represent shows after sign-in
// (oidcContinue calls actAsNeeded). Every page has its JSON twin under
// /api/v1. The account pages always act as the person signed in; the
// choice only goes into the tokens of apps that ask.

const representPath = "/account/representation"

// representRoutes registers the representation pages and API.
func (s *Server) representRoutes(mux *http.ServeMux) {
	mux.Handle("GET "+representPath, s.page(s.representPage))
	mux.Handle("POST "+representPath+"/person", s.page(s.representAddPerson))
	mux.Handle("POST "+representPath+"/request", s.page(s.representRequest))
	mux.Handle("POST "+representPath+"/accept", s.page(s.representAnswer(true)))
	mux.Handle("POST "+representPath+"/decline", s.page(s.representAnswer(false)))
	mux.Handle("POST "+representPath+"/revoke", s.page(s.representRevoke))
	mux.Handle("GET /act-as", s.page(s.actAsPage))
	mux.Handle("POST /act-as", s.page(s.actAsChoose))

	mux.Handle("GET /api/v1/account/representation", s.api(s.apiRepresentation))
	mux.Handle("POST /api/v1/account/representation/persons", s.api(s.apiRepresentAddPerson))
	mux.Handle("POST /api/v1/account/representation/requests", s.api(s.apiRepresentRequest))
	mux.Handle("POST /api/v1/account/representation/{id}/accept", s.api(s.apiRepresentAnswer(true)))
	mux.Handle("POST /api/v1/account/representation/{id}/decline", s.api(s.apiRepresentAnswer(false)))
	mux.Handle("DELETE /api/v1/account/representation/{id}", s.api(s.apiRepresentRevoke))
	mux.Handle("GET /api/v1/act-as", s.api(s.apiActAs))
	mux.Handle("POST /api/v1/act-as", s.api(s.apiActAsChoose))
	mux.Handle("GET /api/admin/v1/representation/pending", s.api(s.apiAdminRepresentPending))
	mux.Handle("POST /api/admin/v1/representation/{id}/approve", s.api(s.apiAdminRepresentApprove))
	mux.Handle("DELETE /api/admin/v1/representation/{id}", s.api(s.apiAdminRepresentRevoke))
}

func (s *Server) representOn() error {
	if s.Representation == nil {
		return errNotFound
	}
	return nil
}

// ---- the account page ----

func (s *Server) delegationItem(r *http.Request, b ui.Base, d store.Delegation, side string) ui.DelegationItem {
	it := ui.DelegationItem{ID: d.ID, Name: d.PrincipalName, Shown: d.PrincipalMasked, Rights: d.Rights}
	if side == "principal" {
		it.Name = ""
		if a, err := s.Accounts.GetAccount(r.Context(), d.AgentID); err == nil {
			it.Name = a.Name
			if it.Name == "" {
				it.Name = a.Username
			}
		}
	}
	if !d.ExpiresAt.IsZero() {
		it.Expires = d.ExpiresAt.Add(-time.Second).UTC().Format("2006-01-02")
	}
	now := s.now()
	switch {
	case d.Active(now):
		it.Status, it.Active = b.T("represent.status.active"), true
	case d.AcceptedAt.IsZero():
		it.Status, it.Pending = b.T("represent.status.waiting_accept"), true
	case d.ApprovalRequired && d.ApprovedAt.IsZero():
		it.Status = b.T("represent.status.waiting_approval")
	default:
		it.Status = b.T("represent.status.expired")
	}
	return it
}

func (s *Server) representView(r *http.Request, who flow.Who, b ui.Base) (*ui.RepresentPage, error) {
	o, err := s.Representation.Overview(r.Context(), who.Account.ID)
	if err != nil {
		return nil, err
	}
	p := &ui.RepresentPage{Base: b, Rights: s.Representation.Config.Rights, Form: ui.RepresentForm{}}
	for _, d := range o.ActsFor {
		p.ActsFor = append(p.ActsFor, s.delegationItem(r, b, d, "agent"))
	}
	for _, d := range o.ActedForBy {
		p.ActedForBy = append(p.ActedForBy, s.delegationItem(r, b, d, "principal"))
	}
	p.ActingFor = b.T("represent.acting.self")
	if d, ok := s.currentActing(r, who); ok {
		p.ActingFor = d.PrincipalName
	}
	offer, err := s.Representation.Offerable(r.Context(), who.Account.ID)
	if err != nil {
		return nil, err
	}
	p.CanChoose = len(offer) > 0
	return p, nil
}

// currentActing returns the delegation the session acts under, if any
// and still in force.
func (s *Server) currentActing(r *http.Request, who flow.Who) (store.Delegation, bool) {
	id := who.Session.ActingFor
	if id == "" || id == store.ActingSelf {
		return store.Delegation{}, false
	}
	d, err := s.Representation.ActiveFor(r.Context(), who.Account.ID, id)
	return d, err == nil
}

func (s *Server) representPage(w http.ResponseWriter, r *http.Request) error {
	if err := s.representOn(); err != nil {
		return err
	}
	who, ok := s.who(w, r)
	if !ok {
		return nil
	}
	b := s.base(r)
	b.Notice = representNotice(b, r.URL.Query().Get("notice"))
	p, err := s.representView(r, who, b)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "represent", p)
}

func representNotice(b ui.Base, n string) string {
	switch n {
	case "added", "requested", "accepted", "declined", "revoked", "chosen":
		return b.T("represent.notice." + n)
	}
	return ""
}

// representFormError shows the page again with the mistakes and the
// input kept.
func (s *Server) representFormError(w http.ResponseWriter, r *http.Request, who flow.Who, p *problem.Problem, form ui.RepresentForm) error {
	b := s.base(r)
	b.Problem = p
	page, err := s.representView(r, who, b)
	if err != nil {
		return err
	}
	page.Form = form
	return s.render(w, r, p.Kind.Status(), "represent", page)
}

func formRequest(r *http.Request) (account.DelegationRequest, ui.RepresentForm) {
	r.ParseForm()
	rights := r.PostForm["rights"]
	if len(rights) > 20 {
		rights = rights[:21]
	}
	req := account.DelegationRequest{
		Account: r.PostFormValue("account"), Name: r.PostFormValue("name"), NationalID: r.PostFormValue("national_id"),
		BirthDate: r.PostFormValue("birth_date"), Rights: rights, Expires: r.PostFormValue("expires"),
		Lang: stateOf(r).Lang.Tag(),
	}
	return req, ui.RepresentForm{Kind: r.PostFormValue("kind"), Account: req.Account, Name: req.Name,
		BirthDate: req.BirthDate, Rights: rights, Expires: req.Expires}
}

func (s *Server) representAddPerson(w http.ResponseWriter, r *http.Request) error {
	if err := s.representOn(); err != nil {
		return err
	}
	who, ok := s.who(w, r)
	if !ok || !s.fresh(w, r, who, representPath) {
		return nil
	}
	req, form := formRequest(r)
	form.Kind = "person"
	_, err := s.Representation.AddPerson(r.Context(), who.Account, req)
	if p := asProblem(err); p != nil {
		return s.representFormError(w, r, who, p, form)
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, representPath+"?notice=added", http.StatusSeeOther)
	return nil
}

func (s *Server) representRequest(w http.ResponseWriter, r *http.Request) error {
	if err := s.representOn(); err != nil {
		return err
	}
	who, ok := s.who(w, r)
	if !ok || !s.fresh(w, r, who, representPath) {
		return nil
	}
	req, form := formRequest(r)
	form.Kind = "account"
	_, err := s.Representation.RequestAccount(r.Context(), who.Account, req)
	if p := asProblem(err); p != nil {
		return s.representFormError(w, r, who, p, form)
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, representPath+"?notice=requested", http.StatusSeeOther)
	return nil
}

func (s *Server) representAnswer(yes bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if err := s.representOn(); err != nil {
			return err
		}
		who, ok := s.who(w, r)
		// Accepting lets someone act for this person: it needs a recent
		// sign-in, as adding a factor does (a stolen session accepts
		// nothing). Declining never does.
		if !ok || yes && !s.fresh(w, r, who, representPath) {
			return nil
		}
		notice := "declined"
		var err error
		if yes {
			notice = "accepted"
			_, err = s.Representation.Accept(r.Context(), who.Account, r.PostFormValue("id"))
		} else {
			_, err = s.Representation.Decline(r.Context(), who.Account, r.PostFormValue("id"))
		}
		if err != nil {
			return err
		}
		http.Redirect(w, r, representPath+"?notice="+notice, http.StatusSeeOther)
		return nil
	}
}

func (s *Server) representRevoke(w http.ResponseWriter, r *http.Request) error {
	if err := s.representOn(); err != nil {
		return err
	}
	who, ok := s.who(w, r)
	if !ok {
		return nil
	}
	if _, err := s.Representation.Revoke(r.Context(), who.Account, r.PostFormValue("id")); err != nil {
		return err
	}
	http.Redirect(w, r, representPath+"?notice=revoked", http.StatusSeeOther)
	return nil
}

// ---- the chooser ----

// actAsNeeded is oidcContinue's step after sign-in: an app that asks for
// the scope represent, from a person who represents someone and has not
// chosen in this session, gets the chooser first. A choice whose
// delegation has ended since is forgotten, and the person asked again
// (or, with nobody left to act for, acts as themselves). It reports
// whether it answered the request.
func (s *Server) actAsNeeded(w http.ResponseWriter, r *http.Request, info op.AuthRequestInfo, authID string) (bool, error) {
	st := stateOf(r)
	if s.Representation == nil || st.Session == nil || info.PromptNone || !slices.Contains(info.Scopes, op.ScopeRepresent) {
		return false, nil
	}
	if info.HintSubject != "" && info.HintSubject != st.Session.AccountID {
		return false, nil // another user is asked for: the sign-in comes first
	}
	who := flow.Who{Account: *st.Account, Session: *st.Session}
	switch id := who.Session.ActingFor; {
	case id == store.ActingSelf:
		return false, nil
	case id != "":
		if _, ok := s.currentActing(r, who); ok {
			return false, nil
		}
		if err := s.setActing(r, who, ""); err != nil {
			return false, err
		}
	}
	list, err := s.Representation.Offerable(r.Context(), who.Account.ID)
	if err != nil || len(list) == 0 {
		return false, err
	}
	http.Redirect(w, r, "/act-as?auth="+url.QueryEscape(authID), http.StatusSeeOther)
	return true, nil
}

func (s *Server) setActing(r *http.Request, who flow.Who, to string) error {
	_, err := s.Sessions.Store.UpdateSession(r.Context(), who.Session.ID, func(x store.Session) (store.Session, error) {
		x.ActingFor = to
		return x, nil
	})
	if err == nil {
		stateOf(r).Session.ActingFor = to
	}
	return err
}

func (s *Server) actAsPage(w http.ResponseWriter, r *http.Request) error {
	if err := s.representOn(); err != nil {
		return err
	}
	who, ok := s.who(w, r)
	if !ok {
		return nil
	}
	list, err := s.Representation.Offerable(r.Context(), who.Account.ID)
	if err != nil {
		return err
	}
	b := s.base(r)
	p := &ui.ActAsPage{Base: b, Auth: r.URL.Query().Get("auth"), Self: who.Account.Name}
	if p.Self == "" {
		p.Self = who.Account.Username
	}
	current := who.Session.ActingFor
	p.SelfCurrent = current == "" || current == store.ActingSelf
	for _, d := range list {
		p.Choices = append(p.Choices, ui.ActAsChoice{ID: d.ID, Name: d.PrincipalName, Shown: d.PrincipalMasked,
			Rights: d.Rights, Current: d.ID == current})
	}
	if p.Auth != "" && s.OP != nil {
		if info, err := s.OP.AuthRequest(r.Context(), p.Auth); err == nil {
			p.Client = info.ClientName
			if p.Client == "" {
				p.Client = info.ClientID
			}
		}
	}
	return s.render(w, r, http.StatusOK, "actas", p)
}

// choose records the choice: "self" or a delegation the person may act
// under now.
func (s *Server) choose(r *http.Request, who flow.Who, choice string) error {
	if choice == "" || choice == store.ActingSelf {
		return s.setActing(r, who, store.ActingSelf)
	}
	if _, err := s.Representation.ActiveFor(r.Context(), who.Account.ID, choice); err != nil {
		return err
	}
	return s.setActing(r, who, choice)
}

func (s *Server) actAsChoose(w http.ResponseWriter, r *http.Request) error {
	if err := s.representOn(); err != nil {
		return err
	}
	who, ok := s.who(w, r)
	if !ok {
		return nil
	}
	if err := s.choose(r, who, r.PostFormValue("acting_for")); err != nil {
		return err
	}
	if auth := r.PostFormValue("auth"); auth != "" {
		http.Redirect(w, r, oidcContinueURL(auth), http.StatusSeeOther)
		return nil
	}
	http.Redirect(w, r, representPath+"?notice=chosen", http.StatusSeeOther)
	return nil
}

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

func (s *Server) apiRepresentAddPerson(w http.ResponseWriter, r *http.Request) error {
	if err := s.representOn(); err != nil {
		return err
	}
	who, err := s.apiWho(r)
	if err != nil {
		return err
	}
	var in delegationIn
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if err := s.apiFresh(r, who); err != nil {
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
	if err := s.representOn(); err != nil {
		return err
	}
	who, err := s.apiWho(r)
	if err != nil {
		return err
	}
	var in delegationIn
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if err := s.apiFresh(r, who); err != nil {
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
