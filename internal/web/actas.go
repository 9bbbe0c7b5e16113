package web

import (
	"net/http"
	"net/url"
	"slices"

	"github.com/portvakt/portvakt/internal/flow"
	"github.com/portvakt/portvakt/internal/op"
	"github.com/portvakt/portvakt/internal/store"
	"github.com/portvakt/portvakt/internal/web/ui"
)

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
		if err := s.setActing(r, who, store.ActingSelf); err != nil {
			return err
		}
		s.recordActing(r, who.Account.ID, nil)
		return nil
	}
	d, err := s.Representation.ActiveFor(r.Context(), who.Account.ID, choice)
	if err != nil {
		return err
	}
	if err := s.setActing(r, who, choice); err != nil {
		return err
	}
	s.recordActing(r, who.Account.ID, &d)
	return nil
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
