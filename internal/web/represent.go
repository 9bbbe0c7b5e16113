package web

import (
	"net/http"
	"time"

	"github.com/portvakt/portvakt/internal/account"
	"github.com/portvakt/portvakt/internal/flow"
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
