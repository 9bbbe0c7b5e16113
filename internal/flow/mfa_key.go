package flow

import (
	"context"

	"github.com/portvakt/portvakt/internal/authn"
	"github.com/portvakt/portvakt/internal/store"
)

// Security keys and passkeys as a second step: offered when the account
// has one and WebAuthn is configured. The assertion itself is checked by
// the security-key ceremony (keys.go), not by a typed answer.

func init() {
	registerSecondFactor(secondFactorKind{
		method: authn.WebAuthn, order: 40,
		options: func(s *Service, ctx context.Context, acct store.Account) ([]Option, error) {
			if s.WebAuthn == nil {
				return nil, nil // no read: keys are not offered anyway
			}
			has, err := s.hasKeys(ctx, acct.ID)
			if err != nil || !has {
				return nil, err
			}
			return []Option{{Method: authn.WebAuthn}}, nil
		},
		view: func(*Service, Option) FactorView { return FactorView{Title: "mfa.webauthn.title", Key: true} },
	})
}
