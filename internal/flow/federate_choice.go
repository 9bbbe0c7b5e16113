package flow

import (
	"context"
	"errors"
	"slices"

	"github.com/portvakt/portvakt/internal/audit"
	"github.com/portvakt/portvakt/internal/problem"
	"github.com/portvakt/portvakt/internal/store"
)

// The choices after an upstream answer that named no linked account (ask,
// link) or one linked elsewhere (conflict): create, link to the signed-in
// account, move here, sign in to the holder, or cancel. The identity waits
// on the parked flow until one is made.

// loadParked returns a federation flow waiting in one of states.
func (s *Service) loadParked(ctx context.Context, c Client, flowID string, states ...string) (store.Flow, fedData, error) {
	f, err := s.loadFlow(ctx, c, flowID, FlowFederate)
	if err != nil {
		return store.Flow{}, fedData{}, err
	}
	var d fedData
	decodeJSON(f.Data, &d)
	if !slices.Contains(states, f.State) || d.Identity == nil {
		return store.Flow{}, fedData{}, errFlowGone
	}
	return f, d, nil
}

// consumeParked ends a parked flow exactly once.
func (s *Service) consumeParked(ctx context.Context, c Client, flowID string, states ...string) (fedData, error) {
	var d fedData
	_, err := s.consume(ctx, c, flowID, FlowFederate, func(f *store.Flow) error {
		d = fedData{}
		decodeJSON(f.Data, &d)
		if !slices.Contains(states, f.State) || d.Identity == nil {
			return errFlowGone
		}
		return nil
	})
	return d, err
}

// FederatedChoice describes a flow waiting for the user's choice, for its
// page.
func (s *Service) FederatedChoice(ctx context.Context, c Client, flowID string) (Federated, error) {
	f, d, err := s.loadParked(ctx, c, flowID, NextAsk, NextLink, NextConflict)
	if err != nil {
		return Federated{}, err
	}
	up, _ := s.Upstreams.Find(d.Provider)
	out := Federated{Flow: f.ID, Next: f.State, Provider: d.Provider, Label: up.Config.ButtonLabel(c.Lang),
		Shown: shown(*d.Identity), MaskedID: d.Identity.Masked}
	if d.Holder != "" {
		if out.Holder, err = s.maskedAccount(ctx, d.Holder); err != nil {
			return Federated{}, err
		}
	}
	return out, nil
}

// FederatedCreate makes a new account for the identity waiting on the
// flow (first_login ask) and signs in.
func (s *Service) FederatedCreate(ctx context.Context, c Client, flowID string) (Result, error) {
	d, err := s.consumeParked(ctx, c, flowID, NextAsk)
	if err != nil {
		return Result{}, err
	}
	res, err := s.createFederated(ctx, c, d.Provider, *d.Identity)
	res.ReturnTo = d.ReturnTo
	return res, err
}

// CompleteLink links the identity waiting on the flow (first_login link
// or ask) to who's account. who must have signed in to it recently at its
// full level, in this browser: the password alone of an account with a
// second factor links nothing.
func (s *Service) CompleteLink(ctx context.Context, c Client, who Who, flowID string) error {
	if _, _, err := s.loadParked(ctx, c, flowID, NextAsk, NextLink); err != nil {
		return err
	}
	if err := s.requireFresh(ctx, who); err != nil {
		return err
	}
	d, err := s.consumeParked(ctx, c, flowID, NextAsk, NextLink)
	if err != nil {
		return err
	}
	up, _ := s.Upstreams.Find(d.Provider)
	return s.linkIdentity(ctx, c, who, d.Provider, *d.Identity, up.Config.ButtonLabel(s.lang(who.Account, c)))
}

// MoveHere resolves a conflict: the identity the user proved at the
// provider is linked to another account (the holder). who must be signed
// in to the holder, recently and at its full level, in the browser that
// started the link; the link then moves to the account that asked for it
// in one transaction, both accounts are mailed, and the move is logged.
func (s *Service) MoveHere(ctx context.Context, c Client, who Who, flowID string) error {
	_, d, err := s.loadParked(ctx, c, flowID, NextConflict)
	if err != nil {
		return err
	}
	if who.Account.ID != d.Holder {
		return problem.New(problem.Forbidden, "", "federate.move_sign_in_holder", problem.Args{"holder": maskedOrEmpty(s.maskedAccount(ctx, d.Holder))})
	}
	if err := s.requireFresh(ctx, who); err != nil {
		return err
	}
	if d, err = s.consumeParked(ctx, c, flowID, NextConflict); err != nil {
		return err
	}
	target, err := s.Store.GetAccount(ctx, d.Target)
	if err != nil {
		return err
	}
	moved, err := s.Upstreams.Identities.MoveIdentity(ctx, d.Provider, d.Identity.Subject, d.Holder, d.Target, s.now())
	if errors.Is(err, store.ErrNotFound) {
		return problem.New(problem.Conflict, "", "federate.moved_meanwhile", nil)
	}
	if err != nil {
		return err
	}
	if err := s.contain(ctx, who); err != nil {
		return err
	}
	if _, err := s.Sessions.RevokeOthers(ctx, target.ID, ""); err != nil {
		return err
	}
	up, _ := s.Upstreams.Find(d.Provider)
	name := describeIdentity(up.Config.ButtonLabel(s.lang(who.Account, c)), moved.NationalIDMasked, moved.Email)
	// Audited as what happened: the identity left one account and was
	// linked to the other (the mails say "removed" and "added").
	s.notify(ctx, c, who.Account, "factor_removed", map[string]any{"factor": name, "security_url": s.link("/account/security"), auditKindKey: audit.IdentityUnlinked})
	s.notify(ctx, c, target, "factor_added", map[string]any{"factor": name, "security_url": s.link("/account/security"), auditKindKey: audit.IdentityLinked})
	s.log().Info("upstream identity moved", "provider", d.Provider, "from", d.Holder, "to", d.Target)
	return nil
}

func maskedOrEmpty(s string, _ error) string { return s }

// SignInHolder resolves a conflict the other way: the user signs in to
// the account that holds the identity, with the identity just proven (and
// that account's second step).
func (s *Service) SignInHolder(ctx context.Context, c Client, flowID string) (Result, error) {
	d, err := s.consumeParked(ctx, c, flowID, NextConflict)
	if err != nil {
		return Result{}, err
	}
	acct, err := s.Store.GetAccount(ctx, d.Holder)
	if err != nil {
		return Result{}, err
	}
	if err := s.Upstreams.Identities.TouchIdentity(ctx, d.Provider, d.Identity.Subject, s.now()); err != nil && !errors.Is(err, store.ErrNotFound) {
		return Result{}, err
	}
	return s.federatedSession(ctx, c, acct, d.Identity.Via)
}

// CancelFederated forgets a flow waiting for a choice.
func (s *Service) CancelFederated(ctx context.Context, c Client, flowID string) error {
	f, err := s.loadFlow(ctx, c, flowID, FlowFederate)
	if err != nil {
		return err
	}
	return s.Store.DeleteFlow(ctx, f.ID)
}
