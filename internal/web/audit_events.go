package web

import (
	"net/http"
	"strings"

	"github.com/portvakt/portvakt/internal/audit"
	"github.com/portvakt/portvakt/internal/store"
)

// Audit events of routes whose work is done outside a flow that records
// (issue 15): the consent page (op.Provider.Consent keeps no log), the
// act-as chooser (a change of the session) and a system's refresh (op
// mints the tokens). The recorder logs its own
// failures; the action already happened.

// recordConsent records that the account allowed the client scopes.
func (s *Server) recordConsent(r *http.Request, accountID, clientID string, scopes []string) {
	s.Audit.Record(r.Context(), audit.Event{Kind: audit.ConsentGranted, Actor: audit.Account(accountID), Subject: accountID,
		Target: "client:" + clientID, Data: map[string]string{"scopes": strings.Join(scopes, " ")}})
}

// recordActing records whom the agent now acts for in this session: d's
// principal, or themselves when d is nil.
func (s *Server) recordActing(r *http.Request, agentID string, d *store.Delegation) {
	e := audit.Event{Kind: audit.RepresentationActing, Actor: audit.Account(agentID), Subject: agentID, Target: store.ActingSelf}
	if d != nil {
		e.Target = d.ID
		e.Data = map[string]string{"principal_kind": d.PrincipalKind, "principal_account": d.PrincipalAccountID}
	}
	s.Audit.Record(r.Context(), e)
}

// recordRefresh records a system's refresh token exchanged for new
// tokens for the person accountID.
func (s *Server) recordRefresh(r *http.Request, accountID, systemID string) {
	s.Audit.Record(r.Context(), audit.Event{Kind: audit.TokenRefreshed, Actor: audit.Account(accountID), Subject: accountID,
		Target: "system:" + systemID})
}
