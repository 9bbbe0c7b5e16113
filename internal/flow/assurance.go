package flow

import (
	"context"
	"errors"
	"slices"

	"github.com/portvakt/portvakt/internal/authn"
	"github.com/portvakt/portvakt/internal/authn/webauthn"
	"github.com/portvakt/portvakt/internal/store"
)

// The assurance model applied to an account (package authn has the model;
// docs/security/assurance.md the table).
//
// An account's second step is its strong factors (authn.Strong: TOTP,
// SMS, security keys and passkeys, with recovery and support codes as
// their fallback) when it has any; otherwise, when the operator requires
// a second step, the mailbox. A sign-in is complete when it proved what
// the account's second step asks. A session is "recent" for a sensitive
// change only when its last authentication was complete, at the account's
// full level, and within mfa.reauth_after; a remembered browser proves
// nothing, so a session it let in is never recent.

// enrolledStrong returns the strong factors the account has set up and
// this configuration allows, strongest first.
func (s *Service) enrolledStrong(ctx context.Context, accountID string) ([]authn.Method, error) {
	m := s.mfa()
	kinds, err := s.enrolledKinds(ctx, accountID)
	if err != nil {
		return nil, err
	}
	var out []authn.Method
	add := func(x authn.Method) {
		if m.allowed(x) && !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	if s.WebAuthn != nil && slices.Contains(kinds, store.EnrolledWebAuthn) {
		add(authn.WebAuthn)
	}
	for _, kind := range factorKinds() {
		if slices.Contains(kinds, kind) {
			add(authn.Method(kind))
		}
	}
	return out, nil
}

// hasPassword reports whether the account has a password (a passkey-only
// account has none).
func (s *Service) hasPassword(ctx context.Context, accountID string) (bool, error) {
	_, err := s.Store.GetPassword(ctx, accountID)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// complete reports whether the methods used satisfy the account's second
// step (see the comment at the top of this file).
func (s *Service) complete(ctx context.Context, acct store.Account, used []authn.Method) (bool, error) {
	if len(used) == 0 {
		return false, nil
	}
	if s.mfa().Mode == MFAOff {
		return true, nil
	}
	strong, err := s.enrolledStrong(ctx, acct.ID)
	if err != nil {
		return false, err
	}
	if len(strong) > 0 {
		return slices.ContainsFunc(used, authn.Strong), nil
	}
	if s.requiredFor(acct) {
		// The operator's second step without a strong factor: the
		// mailbox (IDEP), or, where email is not allowed, one to set up.
		return slices.Contains(used, authn.Email) || slices.ContainsFunc(used, authn.Strong), nil
	}
	return true, nil
}

// fullLevel is the level of the account's weakest complete sign-in with
// its password: what a session must reach before a sensitive change. The
// fallbacks count (recovery codes it has, a support code issued), so a
// user who lost a key can sign in with a code and register a new one. An
// account without a strong factor, or without a password, has full level
// 1 (its complete sign-ins include one-factor ones).
func (s *Service) fullLevel(ctx context.Context, acct store.Account) (int, error) {
	if s.mfa().Mode == MFAOff {
		return 1, nil
	}
	strong, err := s.enrolledStrong(ctx, acct.ID)
	if err != nil || len(strong) == 0 {
		return 1, err
	}
	hasPW, err := s.hasPassword(ctx, acct.ID)
	if err != nil || !hasPW {
		return 1, err
	}
	if unused, _, err := s.Store.CountRecoveryCodes(ctx, acct.ID); err != nil {
		return 0, err
	} else if unused > 0 && s.mfa().allowed(authn.Recovery) {
		strong = append(strong, authn.Recovery)
	}
	if has, err := s.hasSupportCode(ctx, acct.ID); err != nil {
		return 0, err
	} else if has && s.mfa().allowed(authn.Support) {
		strong = append(strong, authn.Support)
	}
	lvl := 0
	for _, m := range strong {
		l := s.mfa().Levels.Assess([]authn.Method{authn.Password, m}).Level
		if lvl == 0 || l < lvl {
			lvl = l
		}
	}
	return lvl, nil
}

// assess is authn.Assess with the configured levels.
func (s *Service) assess(used []authn.Method) authn.Assurance { return s.mfa().Levels.Assess(used) }

// Recent reports whether who's session may make a sensitive change now:
// its last authentication was complete for the account, at the account's
// full level, within mfa.reauth_after. Otherwise the caller sends the user
// through Reauth (web) or answers reauth.required (API).
func (s *Service) Recent(ctx context.Context, who Who) (bool, error) {
	if s.now().Sub(who.Session.FullAuthTime) > s.mfa().ReauthAfter {
		return false, nil
	}
	used := authn.Methods(who.Session.Methods)
	ok, err := s.complete(ctx, who.Account, used)
	if err != nil || !ok {
		return false, err
	}
	full, err := s.fullLevel(ctx, who.Account)
	if err != nil {
		return false, err
	}
	return who.Session.Level >= full, nil
}

// requireFresh refuses a sensitive change unless the session is Recent;
// the web sends the user through /account/reauth first, and an API client
// signs in again. A store error fails closed.
func (s *Service) requireFresh(ctx context.Context, who Who) error {
	ok, err := s.Recent(ctx, who)
	if err != nil {
		return err
	}
	if !ok {
		return errReauth
	}
	return nil
}

// enrolChoices fills in what a sign-in that must set up a second step may
// set up. With first-use binding (MFAConfig.EnrolAtFirstSignIn) that is
// an authenticator or, where email is allowed, a new address. Without it,
// the password alone binds nothing: the account's registered address is
// proven first (ConfirmAddress), and then an authenticator may be set up;
// an account with no address needs an invitation from its operator.
func (s *Service) enrolChoices(ctx context.Context, pf *PendingFactor, d mfaData) error {
	m := s.mfa()
	if m.EnrolAtFirstSignIn {
		for _, x := range []authn.Method{authn.TOTP, authn.Email} {
			if m.allowed(x) {
				pf.CanEnrol = append(pf.CanEnrol, x)
			}
		}
		return nil
	}
	if !slices.Contains(d.Used, authn.Email) {
		addr, err := s.primaryEmail(ctx, pf.Account.ID)
		if errors.Is(err, store.ErrNotFound) {
			pf.NeedInvitation = true
			return nil
		}
		if err != nil {
			return err
		}
		pf.ConfirmAddress = MaskEmail(addr)
		return nil
	}
	if m.allowed(authn.TOTP) {
		pf.CanEnrol = append(pf.CanEnrol, authn.TOTP)
	}
	if len(pf.CanEnrol) == 0 {
		pf.NeedInvitation = true
	}
	return nil
}

// keyMethods are the methods a security-key assertion proved.
func keyMethods(f webauthn.Flags) []authn.Method {
	if f.UserVerified {
		return []authn.Method{authn.WebAuthn, authn.UserVerified}
	}
	return []authn.Method{authn.WebAuthn}
}

// describeMethods lists, in lang, every way the account can sign in or be
// recovered, for the mail after a reset: a method the owner did not add
// stands out there, and can be removed.
func (s *Service) describeMethods(ctx context.Context, acct store.Account, lang string) ([]string, error) {
	t := s.Texts.Lang(lang)
	var out []string
	if has, err := s.hasPassword(ctx, acct.ID); err != nil {
		return nil, err
	} else if has {
		out = append(out, t.T("methods.password"))
	}
	emails, err := s.Store.ListEmails(ctx, acct.ID)
	if err != nil {
		return nil, err
	}
	for _, e := range emails {
		if !e.VerifiedAt.IsZero() {
			out = append(out, t.T("methods.email", "email", e.Address))
		}
	}
	factors, err := s.Store.ListFactors(ctx, acct.ID)
	if err != nil {
		return nil, err
	}
	for _, f := range factors {
		if k, ok := kindOfFactor(f.Kind); ok && !f.ConfirmedAt.IsZero() {
			key, args := k.describe(f)
			out = append(out, t.T(key, args...))
		}
	}
	keys, err := s.Store.ListWebAuthnCredentials(ctx, acct.ID)
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		if k.Discoverable {
			out = append(out, t.T("methods.passkey", "name", k.Name))
		} else {
			out = append(out, t.T("methods.key", "name", k.Name))
		}
	}
	if unused, _, err := s.Store.CountRecoveryCodes(ctx, acct.ID); err != nil {
		return nil, err
	} else if unused > 0 {
		out = append(out, t.T("methods.recovery", "count", unused))
	}
	// Linked upstream identities are ways in too: one an intruder linked
	// (SECURITY.md §5.7, the trojan identifier) stands out here.
	ids, err := s.LinkedIdentities(ctx, acct.ID, lang)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		out = append(out, t.T("methods.upstream", "provider", id.Label, "shown", id.Shown))
	}
	return out, nil
}

// Passwordless reports whether the account signs in without a password
// (a passkey-only account), for the re-authentication page.
func (s *Service) Passwordless(ctx context.Context, accountID string) (bool, error) {
	has, err := s.hasPassword(ctx, accountID)
	return !has, err
}
