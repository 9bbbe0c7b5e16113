package flow

import (
	"context"
	"errors"
	"strconv"

	"github.com/portvakt/portvakt/internal/audit"
	"github.com/portvakt/portvakt/internal/problem"
	"github.com/portvakt/portvakt/internal/secret"
	"github.com/portvakt/portvakt/internal/store"
)

// Remembered browsers: "don't ask again in this browser" after a second
// step, and forgetting them from the security settings.

func (s *Service) trusted(ctx context.Context, c Client, accountID string) (bool, error) {
	if c.Trust == nil || s.mfa().RememberDays <= 0 {
		return false, nil
	}
	b, err := s.Store.GetTrustedBrowser(ctx, c.Trust)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if b.AccountID != accountID || !s.now().Before(b.ExpiresAt) {
		return false, nil
	}
	// Its last use, for the list of remembered browsers (devices.go).
	if err := s.Store.TouchTrustedBrowser(ctx, accountID, b.ID, s.now()); err != nil {
		s.log().Warn("remembered browser's use not recorded", "account", accountID, "err", err)
	}
	return true, nil
}

func (s *Service) rememberBrowser(ctx context.Context, c Client, accountID string) (string, error) {
	token := secret.Token()
	now := s.now()
	err := s.Store.CreateTrustedBrowser(ctx, store.TrustedBrowser{
		ID: secret.ID(), AccountID: accountID, TokenHash: secret.Hash(token), UserAgent: truncateUA(c.UserAgent), IP: c.IP,
		CreatedAt: now, ExpiresAt: now.AddDate(0, 0, s.mfa().RememberDays),
	})
	if err != nil {
		return "", err
	}
	return token, nil
}

// ForgetBrowser stops one remembered browser from skipping the second factor.
func (s *Service) ForgetBrowser(ctx context.Context, who Who, id string) error {
	if err := s.Store.DeleteTrustedBrowser(ctx, who.Account.ID, id); errors.Is(err, store.ErrNotFound) {
		return problem.New(problem.NotFound, "", "security.browser_gone", nil)
	} else if err != nil {
		return err
	}
	s.record(ctx, audit.Event{Kind: audit.BrowserForgotten, Actor: audit.Account(who.Account.ID), Subject: who.Account.ID,
		Data: map[string]string{"browser": id, "scope": "one"}})
	return nil
}

// ForgetAllBrowsers stops every remembered browser of the account; the
// account's own user asked (the security page), and it is audited.
func (s *Service) ForgetAllBrowsers(ctx context.Context, accountID string) error {
	n, err := s.Store.DeleteTrustedBrowsers(ctx, accountID)
	if err != nil {
		return err
	}
	s.record(ctx, audit.Event{Kind: audit.BrowserForgotten, Actor: audit.Account(accountID), Subject: accountID,
		Data: map[string]string{"scope": "all", "count": strconv.Itoa(n)}})
	return nil
}
