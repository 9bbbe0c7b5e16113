package flow

import (
	"context"
	"errors"
	"time"

	"github.com/portvakt/portvakt/internal/authn/recovery"
	"github.com/portvakt/portvakt/internal/problem"
	"github.com/portvakt/portvakt/internal/secret"
	"github.com/portvakt/portvakt/internal/store"
)

// Support codes: a single-use second factor a support agent has sent to
// the account's main address after checking who the user is. (The rest of
// what this file held lives in settings_*.go, stepup.go and mfa_*.go.)

func supportFlowID(accountID string) string { return "support-" + accountID }

// supportTTL is how long a support-issued code works (issue 15: the
// Visma case, half an hour).
const supportTTL = 30 * time.Minute

// IssueSupportCode is what a support agent does after checking who a user
// is: a single-use code goes to the account's verified addresses (the
// agent never sees it). It works once, within supportTTL, as a second
// factor. It returns the first masked address it went to. The support
// console goes through account.Support, which adds the actor, the reason
// and the audit event; this is SendSupportCode for older callers.
func (s *Service) IssueSupportCode(ctx context.Context, accountID, lang string) (string, error) {
	sent, err := s.SendSupportCode(ctx, accountID, lang, supportTTL)
	if err != nil {
		return "", err
	}
	return sent[0], nil
}

func (s *Service) hasSupportCode(ctx context.Context, accountID string) (bool, error) {
	f, err := s.Store.GetFlow(ctx, supportFlowID(accountID))
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return f.ConsumedAt.IsZero() && s.now().Before(f.ExpiresAt), nil
}

func (s *Service) useSupportCode(ctx context.Context, accountID, code string) error {
	if !recovery.Valid(code) {
		return problem.New(problem.Invalid, "code", "recovery.format", nil)
	}
	var outcome error
	_, err := s.Store.UpdateFlow(ctx, supportFlowID(accountID), func(f store.Flow) (store.Flow, error) {
		outcome = nil
		if !f.ConsumedAt.IsZero() || !s.now().Before(f.ExpiresAt) {
			return f, problem.New(problem.Expired, "code", "support.expired", nil)
		}
		if f.Attempts >= s.cfg().CodeAttempts {
			return f, problem.New(problem.TooManyAttempts, "code", "code.too_many", problem.Args{"max": s.cfg().CodeAttempts})
		}
		if !secret.Equal(f.CodeHash, recovery.Hash(accountID, code)) {
			f.Attempts++
			outcome = problem.New(problem.Invalid, "code", "support.wrong", nil)
			return f, nil
		}
		f.ConsumedAt = s.now()
		return f, nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return problem.New(problem.Expired, "code", "support.expired", nil)
	}
	if err != nil {
		return err
	}
	return outcome
}
