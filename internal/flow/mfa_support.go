package flow

import (
	"context"

	"github.com/portvakt/portvakt/internal/authn"
	"github.com/portvakt/portvakt/internal/store"
)

// A support code as a second step: offered while one issued by support
// (IssueSupportCode) is unused, and it works once.

func init() {
	registerSecondFactor(secondFactorKind{
		method: authn.Support, order: 60,
		options: func(s *Service, ctx context.Context, acct store.Account) ([]Option, error) {
			has, err := s.hasSupportCode(ctx, acct.ID)
			if err != nil || !has {
				return nil, err
			}
			return []Option{{Method: authn.Support}}, nil
		},
		verify: func(s *Service, ctx context.Context, _ Client, pf PendingFactor, _ Option, code string) error {
			return s.useSupportCode(ctx, pf.Account.ID, code)
		},
		view: func(*Service, Option) FactorView {
			return FactorView{Title: "mfa.support.title", CodeLabel: "mfa.support.label", CodeHint: "mfa.support.hint", Text: true}
		},
	})
}
