package flow

import (
	"context"
	"errors"

	"github.com/portvakt/portvakt/internal/authn"
	"github.com/portvakt/portvakt/internal/authn/recovery"
	"github.com/portvakt/portvakt/internal/problem"
	"github.com/portvakt/portvakt/internal/store"
)

// Recovery codes: used at a second-factor step, made again from the
// security settings.

func (s *Service) useRecoveryCode(ctx context.Context, c Client, acct store.Account, code string) error {
	if !recovery.Valid(code) {
		return problem.New(problem.Invalid, "code", "recovery.format", nil)
	}
	key := "factor:recovery:" + acct.ID
	if err := s.reserveAttempt(ctx, key, "code"); err != nil {
		return err
	}
	remaining, err := s.Store.UseRecoveryCode(ctx, acct.ID, recovery.Hash(acct.ID, code), s.now())
	if errors.Is(err, store.ErrNotFound) {
		return problem.New(problem.Invalid, "code", "recovery.wrong", nil)
	}
	if err != nil {
		return err
	}
	if err := s.Store.ResetFailures(ctx, key); err != nil {
		return err
	}
	s.notify(ctx, c, acct, "recovery_code_used", map[string]any{"count": remaining, "security_url": s.link("/account/security")})
	return nil
}

func (s *Service) newRecoveryCodes(ctx context.Context, accountID string) ([]string, error) {
	codes, err := recovery.Generate(10)
	if err != nil {
		return nil, err
	}
	rows := make([]store.RecoveryCode, len(codes))
	for i, c := range codes {
		rows[i] = store.RecoveryCode{AccountID: accountID, Hash: recovery.Hash(accountID, c), CreatedAt: s.now()}
	}
	if err := s.Store.ReplaceRecoveryCodes(ctx, accountID, rows); err != nil {
		return nil, err
	}
	return codes, nil
}

// RegenerateRecoveryCodes makes a new set of ten codes; the old set stops
// working. The codes are returned to be shown once.
func (s *Service) RegenerateRecoveryCodes(ctx context.Context, c Client, who Who) ([]string, error) {
	if err := s.requireFresh(ctx, who); err != nil {
		return nil, err
	}
	if !s.mfa().allowed(authn.Recovery) {
		return nil, problem.New(problem.Forbidden, "", "security.method_not_allowed", nil)
	}
	codes, err := s.newRecoveryCodes(ctx, who.Account.ID)
	if err != nil {
		return nil, err
	}
	if err := s.contain(ctx, who); err != nil {
		return nil, err
	}
	s.notify(ctx, c, who.Account, "recovery_codes_new", map[string]any{"security_url": s.link("/account/security")})
	return codes, nil
}

func init() {
	registerSecondFactor(secondFactorKind{
		method: authn.Recovery, order: 50,
		options: func(s *Service, ctx context.Context, acct store.Account) ([]Option, error) {
			unused, _, err := s.Store.CountRecoveryCodes(ctx, acct.ID)
			if err != nil || unused == 0 {
				return nil, err
			}
			return []Option{{Method: authn.Recovery}}, nil
		},
		verify: func(s *Service, ctx context.Context, c Client, pf PendingFactor, _ Option, code string) error {
			if err := s.useRecoveryCode(ctx, c, pf.Account, code); err != nil {
				return s.countWrongFactor(ctx, c, pf.Account, err, "recovery.wrong")
			}
			return nil
		},
		view: func(*Service, Option) FactorView {
			return FactorView{Title: "mfa.recovery.title", CodeLabel: "mfa.recovery.label", CodeHint: "mfa.recovery.hint", Text: true}
		},
	})
}
