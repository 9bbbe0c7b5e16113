package account

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/portvakt/portvakt/internal/problem"
	"github.com/portvakt/portvakt/internal/store"
)

// Pending lists the delegations waiting for an operator's approval.
func (s *Delegations) Pending(ctx context.Context, limit int) ([]store.Delegation, error) {
	return s.Store.ListDelegations(ctx, store.DelegationFilter{PendingApproval: true, Limit: limit})
}

// RepresentationOverview is what a person's representation page shows.
type RepresentationOverview struct {
	// ActsFor are those the person represents or asked to (not revoked).
	ActsFor []store.Delegation
	// ActedForBy are those who may act, or asked to act, for the person.
	ActedForBy []store.Delegation
}

// Overview lists both sides of accountID's representation.
func (s *Delegations) Overview(ctx context.Context, accountID string) (RepresentationOverview, error) {
	var o RepresentationOverview
	var err error
	if o.ActsFor, err = s.Store.ListDelegations(ctx, store.DelegationFilter{AgentID: accountID}); err != nil {
		return o, err
	}
	o.ActedForBy, err = s.Store.ListDelegations(ctx, store.DelegationFilter{PrincipalAccountID: accountID})
	return o, err
}

// Offerable lists the delegations agentID may act under now: accepted,
// approved where needed, not revoked, not expired; then the
// organisations the account is a member of.
func (s *Delegations) Offerable(ctx context.Context, agentID string) ([]store.Delegation, error) {
	list, err := s.Store.ListDelegations(ctx, store.DelegationFilter{AgentID: agentID, Limit: MaxDelegations})
	if err != nil {
		return nil, err
	}
	now := s.now()
	list = slices.DeleteFunc(list, func(d store.Delegation) bool { return !d.Active(now) })
	ms, err := s.Store.ListMemberships(ctx, agentID)
	if err != nil {
		return nil, err
	}
	for _, m := range ms[:min(len(ms), MaxDelegations)] {
		d, err := s.orgDelegation(ctx, m)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		list = append(list, d)
	}
	return list, nil
}

// OrgPrefix starts the ID of an organisation's "delegation": a member
// acts for the organisation through the membership itself
// (store.OrgMember), which the organisation's administrators manage; it
// is in force exactly while the membership is.
const OrgPrefix = "org:"

// orgDelegation is a membership as a delegation: the organisation is the
// principal, its number the reference, the membership's rights (every
// right for an administrator) the rights.
func (s *Delegations) orgDelegation(ctx context.Context, m store.OrgMember) (store.Delegation, error) {
	org, err := s.Store.GetOrg(ctx, m.OrgID)
	if err != nil {
		return store.Delegation{}, err
	}
	rights := slices.Clone(m.Rights)
	if m.Role == store.RoleAdmin {
		rights = slices.Clone(s.Config.OrgAdminRights)
	}
	slices.Sort(rights)
	return store.Delegation{
		ID: OrgPrefix + org.ID, AgentID: m.AccountID, PrincipalKind: store.PrincipalOrganisation,
		PrincipalRef: OrgPrefix + org.ID, PrincipalName: org.Name, PrincipalMasked: org.ID, Rights: rights,
		CreatedBy: m.AccountID, CreatedAt: m.AddedAt, AcceptedAt: m.AddedAt,
	}, nil
}

// ActiveFor returns delegation id if agentID may act under it now, or
// problem NotFound ("represent.gone") if not: revoked, expired, not
// accepted or approved, or someone else's.
func (s *Delegations) ActiveFor(ctx context.Context, agentID, id string) (store.Delegation, error) {
	if orgID, ok := strings.CutPrefix(id, OrgPrefix); ok {
		m, err := s.Store.GetOrgMember(ctx, orgID, agentID)
		if err == nil {
			var d store.Delegation
			if d, err = s.orgDelegation(ctx, m); err == nil {
				return d, nil
			}
		}
		if errors.Is(err, store.ErrNotFound) {
			return store.Delegation{}, errDelegationGone
		}
		return store.Delegation{}, err
	}
	d, err := s.Store.GetDelegation(ctx, id)
	if errors.Is(err, store.ErrNotFound) || err == nil && (d.AgentID != agentID || !d.Active(s.now())) {
		return store.Delegation{}, errDelegationGone
	}
	return d, err
}

// changed mails both sides that have an account and records the event.
func (s *Delegations) changed(ctx context.Context, event, actor string, d store.Delegation, lang string) {
	s.log().Info("representation "+event, "delegation", d.ID, "agent", d.AgentID, "principal_kind", d.PrincipalKind,
		"principal_account", d.PrincipalAccountID, "by", actor)
	if s.Audit != nil {
		s.Audit(ctx, "representation."+event, actor, d.AgentID, map[string]string{
			"delegation": d.ID, "principal_kind": d.PrincipalKind, "principal_account": d.PrincipalAccountID,
			"rights": strings.Join(d.Rights, " ")})
	}
	agent, err := s.Store.GetAccount(ctx, d.AgentID)
	if err != nil {
		s.log().Error("representation mail not queued: agent unreadable", "delegation", d.ID, "err", err)
		return
	}
	principal := d.PrincipalName
	s.mail(ctx, agent, lang, event, "agent", map[string]any{"agent": agent.Name, "principal": principal})
	if d.PrincipalAccountID != "" {
		p, err := s.Store.GetAccount(ctx, d.PrincipalAccountID)
		if err != nil {
			s.log().Error("representation mail not queued: principal unreadable", "delegation", d.ID, "err", err)
			return
		}
		s.mail(ctx, p, lang, event, "principal", map[string]any{"agent": agentLabel(agent), "principal": p.Name})
	}
}

func agentLabel(a store.Account) string {
	if a.Name != "" {
		return a.Name
	}
	return a.Username
}

// mail sends the representation mail about event to every verified
// address of acct; side is "agent" or "principal".
func (s *Delegations) mail(ctx context.Context, acct store.Account, lang, event, side string, data map[string]any) {
	if s.Mailer == nil {
		return
	}
	emails, err := s.Store.ListEmails(ctx, acct.ID)
	if err != nil {
		s.log().Error("representation mail not queued: addresses unreadable", "account", acct.ID, "err", err)
		return
	}
	if acct.Locale != "" {
		lang = acct.Locale
	}
	if lang == "" {
		lang = "en"
	}
	data["name"] = acct.Name
	data["event"] = "mail.representation." + side + "." + event
	data["link"] = strings.TrimRight(s.PublicURL, "/") + "/account/representation"
	for k, v := range data {
		if v == "" {
			data[k] = "–"
		}
	}
	data["name"] = acct.Name
	for _, e := range emails {
		if e.VerifiedAt.IsZero() {
			continue
		}
		if err := s.Mailer.Send(ctx, e.Address, lang, DelegationMailTemplate, data); err != nil {
			s.log().Error("representation mail not queued", "account", acct.ID, "err", err)
		}
	}
}

// joinProblems merges the problems among errs into one (every mistake on
// the form at once); any other error is returned as it is.
func joinProblems(errs []error) error {
	var out *problem.Problem
	for _, err := range errs {
		if err == nil {
			continue
		}
		p, ok := problem.As(err)
		if !ok {
			return err
		}
		if out == nil {
			out = &problem.Problem{Kind: p.Kind}
		}
		out.Details = append(out.Details, p.Details...)
	}
	return out.OrNil()
}
