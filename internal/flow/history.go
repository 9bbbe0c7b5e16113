package flow

import (
	"context"
	"time"

	"github.com/portvakt/portvakt/internal/audit"
	"github.com/portvakt/portvakt/internal/store"
	"github.com/portvakt/portvakt/internal/useragent"
)

// The user's own security history (issue 15): the audit log's events
// about their account of the last HistoryDays days, of the kinds a person
// cares about (audit.SecurityKinds: sign-ins, failed attempts, changes of
// password, factors, addresses and links, what support did). Only events
// whose subject is the caller's account are read; addresses appear as the
// audit log keeps them (masked), the IP address as its network.

// HistoryDays is how far back the security history goes.
const HistoryDays = 90

// HistoryLimit is the most events the history shows.
const HistoryLimit = 200

// SecurityEvent is one entry of the security history.
type SecurityEvent struct {
	At   time.Time `json:"at"`
	Kind string    `json:"kind"`
	// Outcome is "ok", "denied" or "failed".
	Outcome string `json:"outcome"`
	// By is who acted: "account" (the user), "support", "system",
	// "operator" or "anonymous".
	By string `json:"by"`
	// Target is what was touched, masked ("ka…ri@ex…no").
	Target string `json:"target,omitempty"`
	// Network is where from, roughly ("192.0.2.x").
	Network string `json:"network,omitempty"`
	Browser string `json:"browser,omitempty"`
	OS      string `json:"os,omitempty"`
	// Method is how a sign-in was made ("password", "totp"), when known.
	Method string `json:"method,omitempty"`
}

// auditReader is the audit log's read side (store.Audit).
type auditReader interface {
	ListAuditEvents(ctx context.Context, f store.AuditFilter) ([]store.AuditEvent, string, error)
}

// SecurityHistory returns the account's security events of the last
// HistoryDays days, newest first, at most HistoryLimit. Without an audit
// log (a store that keeps none) the history is empty.
func (s *Service) SecurityHistory(ctx context.Context, accountID string) ([]SecurityEvent, error) {
	out := []SecurityEvent{}
	r, ok := s.Store.(auditReader)
	if !ok || accountID == "" {
		return out, nil
	}
	var kinds []string
	for _, k := range audit.SecurityKinds() {
		kinds = append(kinds, string(k))
	}
	events, _, err := r.ListAuditEvents(ctx, store.AuditFilter{Subject: accountID, Kinds: kinds,
		Since: s.now().Add(-HistoryDays * 24 * time.Hour), Limit: HistoryLimit})
	if err != nil {
		return nil, err
	}
	for _, e := range events {
		if e.Subject != accountID {
			continue // never another account's, whatever the store did
		}
		ag := useragent.Parse(e.UserAgent)
		x := SecurityEvent{At: e.At.UTC(), Kind: e.Kind, Outcome: e.Outcome, By: e.ActorKind, Target: audit.Mask(e.Target),
			Network: MaskIP(e.IP), Browser: ag.Name(), OS: ag.OS, Method: e.Data["method"]}
		out = append(out, x)
	}
	return out, nil
}
