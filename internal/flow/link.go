package flow

import (
	"context"
	"errors"
	"slices"

	"github.com/portvakt/portvakt/internal/audit"
	"github.com/portvakt/portvakt/internal/problem"
	"github.com/portvakt/portvakt/internal/store"
)

// Linked upstream identities from the security settings: the list, linking
// one (see federate_choice.go for the choice that makes it), and
// unlinking, which never leaves an account without a way in.

func (s *Service) identityRecord(provider, accountID string, fi fedIdentity) store.FederatedIdentity {
	now := s.now()
	return store.FederatedIdentity{Provider: provider, Subject: fi.Subject, AccountID: accountID, Email: fi.Email,
		NationalIDMasked: fi.Masked, NationalIDSealed: fi.Sealed, LinkedAt: now, LastUsedAt: now}
}

// linkIdentity links the identity to who's account, ends its other
// sessions and mails every verified address.
func (s *Service) linkIdentity(ctx context.Context, c Client, who Who, provider string, fi fedIdentity, label string) error {
	err := s.Upstreams.Identities.CreateIdentity(ctx, s.identityRecord(provider, who.Account.ID, fi))
	if errors.Is(err, store.ErrConflict) {
		return problem.New(problem.Conflict, "", "federate.linked_elsewhere_now", problem.Args{"provider": label})
	}
	if err != nil {
		return err
	}
	if err := s.contain(ctx, who); err != nil {
		return err
	}
	s.notify(ctx, c, who.Account, "factor_added", map[string]any{"factor": describeIdentity(label, fi.Masked, fi.Email), "security_url": s.link("/account/security"), auditKindKey: audit.IdentityLinked})
	s.log().Info("upstream identity linked", "account", who.Account.ID, "provider", provider)
	return nil
}

func describeIdentity(label, masked, email string) string {
	switch {
	case masked != "":
		return label + " (" + masked + ")"
	case email != "":
		return label + " (" + email + ")"
	}
	return label
}

// LinkedIdentity is a linked identity as the security page shows it.
type LinkedIdentity struct {
	store.FederatedIdentity
	// Label is the provider's name; Shown the masked national ID or the
	// upstream address.
	Label string
	Shown string
}

// LinkedIdentities lists the account's linked identities, oldest first.
func (s *Service) LinkedIdentities(ctx context.Context, accountID, lang string) ([]LinkedIdentity, error) {
	if s.Upstreams == nil {
		return nil, nil
	}
	list, err := s.Upstreams.Identities.ListIdentities(ctx, accountID)
	if err != nil {
		return nil, err
	}
	out := make([]LinkedIdentity, 0, len(list))
	for _, id := range list {
		up, _ := s.Upstreams.Find(id.Provider)
		label := up.Config.ButtonLabel(lang)
		if label == "" {
			label = id.Provider
		}
		shown := id.NationalIDMasked
		if shown == "" {
			shown = id.Email
		}
		out = append(out, LinkedIdentity{FederatedIdentity: id, Label: label, Shown: shown})
	}
	return out, nil
}

// Unlink removes a linked identity from who's account. It needs a session
// recent at the account's full level (re-authentication with the password
// and second factor); the last way to sign in cannot be removed. The
// account's other sessions end and its addresses are mailed.
func (s *Service) Unlink(ctx context.Context, c Client, who Who, provider, subject string) error {
	if err := s.requireFresh(ctx, who); err != nil {
		return err
	}
	list, err := s.Upstreams.Identities.ListIdentities(ctx, who.Account.ID)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(list, func(id store.FederatedIdentity) bool { return id.Provider == provider && id.Subject == subject })
	if i < 0 {
		return problem.New(problem.NotFound, "", "federate.identity_gone", nil)
	}
	if len(list) == 1 {
		if other, err := s.otherWayIn(ctx, who.Account.ID); err != nil {
			return err
		} else if !other {
			return problem.New(problem.Conflict, "", "federate.last_method", nil)
		}
	}
	if err := s.Upstreams.Identities.DeleteIdentity(ctx, who.Account.ID, provider, subject); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if err := s.contain(ctx, who); err != nil {
		return err
	}
	up, _ := s.Upstreams.Find(provider)
	name := describeIdentity(up.Config.ButtonLabel(s.lang(who.Account, c)), list[i].NationalIDMasked, list[i].Email)
	s.notify(ctx, c, who.Account, "factor_removed", map[string]any{"factor": name, "security_url": s.link("/account/security"), auditKindKey: audit.IdentityUnlinked})
	s.log().Info("upstream identity unlinked", "account", who.Account.ID, "provider", provider)
	return nil
}

// otherWayIn reports whether the account can sign in without upstream
// identities: a password or a passkey.
func (s *Service) otherWayIn(ctx context.Context, accountID string) (bool, error) {
	if has, err := s.hasPassword(ctx, accountID); err != nil || has {
		return has, err
	}
	keys, err := s.Store.ListWebAuthnCredentials(ctx, accountID)
	if err != nil {
		return false, err
	}
	return slices.ContainsFunc(keys, func(k store.WebAuthnCredential) bool { return k.Discoverable }), nil
}
