package flow

import (
	"context"

	"github.com/portvakt/portvakt/internal/authn"
	"github.com/portvakt/portvakt/internal/problem"
	"github.com/portvakt/portvakt/internal/store"
)

// The password policy knows the account: a password that is not the only
// factor may be shorter (password.Policy.MinLengthWithMFA, NIST SP
// 800-63B-4 §3.1.1.2), so every place that checks or shows the rules for
// an account asks hasStrongFactor. A mailbox is not a second factor here
// (it is also how a password is reset), and neither are recovery or
// support codes (they stand in for a factor, they are not one).

// factorAsked reports whether a factor of method m, once the account has
// one, is asked at every sign-in in this configuration: second factors are
// not off, m is among mfa.methods, and security keys are set up at all. A
// factor that is never asked protects nothing, so it does not lower the
// length.
func (s *Service) factorAsked(m authn.Method) bool {
	c := s.mfa()
	if c.Mode == MFAOff || !c.allowed(m) {
		return false
	}
	return m != authn.WebAuthn || s.WebAuthn != nil
}

// hasStrongFactor reports whether the account has a strong second factor
// that sign-in asks for: a confirmed authenticator app (TOTP) or phone
// (SMS), or a security key or passkey. An error reading the store is
// returned, never taken for either answer.
func (s *Service) hasStrongFactor(ctx context.Context, accountID string) (bool, error) {
	if accountID == "" {
		return false, nil
	}
	factors, err := s.Store.ListFactors(ctx, accountID)
	if err != nil {
		return false, err
	}
	for _, f := range factors {
		if f.ConfirmedAt.IsZero() {
			continue
		}
		if (f.Kind == store.FactorTOTP || f.Kind == store.FactorSMS) && s.factorAsked(authn.Method(f.Kind)) {
			return true, nil
		}
	}
	if !s.factorAsked(authn.WebAuthn) {
		return false, nil
	}
	creds, err := s.Store.ListWebAuthnCredentials(ctx, accountID)
	if err != nil {
		return false, err
	}
	return len(creds) > 0, nil
}

// PasswordHasMFA reports whether a new password of accountID is checked
// with password.Context.HasMFA ("", an account not yet created, has no
// factor). Pages show password.Policy.RulesFor it, and the live check as
// the user types checks with it.
func (s *Service) PasswordHasMFA(ctx context.Context, accountID string) (bool, error) {
	return s.hasStrongFactor(ctx, accountID)
}

// RecoveringAccount returns the account whose password the recovery flow
// is about to set: the flow is this browser's and verified (the code or
// link was right). Otherwise it returns "": before that step the flow's
// account is not the browser's business.
func (s *Service) RecoveringAccount(ctx context.Context, c Client, flowID string) (string, error) {
	f, err := s.loadFlow(ctx, c, flowID, store.FlowRecovery)
	if err != nil {
		if _, ok := problem.As(err); ok {
			return "", nil
		}
		return "", err
	}
	if f.State != stateVerified {
		return "", nil
	}
	return f.AccountID, nil
}
