package flow

import (
	"context"
	"errors"
	"slices"

	"github.com/portvakt/portvakt/internal/authn"
	"github.com/portvakt/portvakt/internal/problem"
	"github.com/portvakt/portvakt/internal/store"
)

// "Sign-in and security": the overview of an account's second factors, and
// removing one. Every change needs a recent sign-in (NeedsReauth) and is
// confirmed by mail.

// Security is what the "Sign-in and security" page shows.
type Security struct {
	Mode    string
	Allowed []authn.Method
	// Factors are the account's confirmed factors by method; TOTP and
	// Phones are its authenticators and phones, for the page's sections.
	Factors        map[authn.Method][]store.Factor
	TOTP           []store.Factor
	Phones         []store.Factor
	Emails         []store.Email
	RecoveryUnused int
	RecoveryTotal  int
	Browsers       []store.TrustedBrowser
	RememberDays   int
	Levels         authn.Levels
	Actions        map[string]int
}

// SecurityOverview gathers the account's factors.
func (s *Service) SecurityOverview(ctx context.Context, accountID string) (Security, error) {
	m := s.mfa()
	out := Security{Mode: m.Mode, Allowed: m.Methods, RememberDays: m.RememberDays, Levels: m.Levels, Actions: m.Actions,
		Factors: map[authn.Method][]store.Factor{}}
	factors, err := s.Store.ListFactors(ctx, accountID)
	if err != nil {
		return out, err
	}
	for _, f := range factors {
		if f.ConfirmedAt.IsZero() {
			continue
		}
		if k, ok := kindOfFactor(f.Kind); ok {
			out.Factors[k.method] = append(out.Factors[k.method], f)
		}
	}
	out.TOTP, out.Phones = out.Factors[authn.TOTP], out.Factors[authn.SMS]
	if out.Emails, err = s.Store.ListEmails(ctx, accountID); err != nil {
		return out, err
	}
	if out.RecoveryUnused, out.RecoveryTotal, err = s.Store.CountRecoveryCodes(ctx, accountID); err != nil {
		return out, err
	}
	if out.Browsers, err = s.Store.ListTrustedBrowsers(ctx, accountID); err != nil {
		return out, err
	}
	now := s.now()
	out.Browsers = slices.DeleteFunc(out.Browsers, func(b store.TrustedBrowser) bool { return !now.Before(b.ExpiresAt) })
	return out, nil
}

// RemoveFactor removes an authenticator or phone of the account.
func (s *Service) RemoveFactor(ctx context.Context, c Client, who Who, id string) error {
	if err := s.requireFresh(ctx, who); err != nil {
		return err
	}
	f, err := s.Store.GetFactor(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && f.AccountID != who.Account.ID) {
		return problem.New(problem.NotFound, "", "security.factor_gone", nil)
	}
	if err != nil {
		return err
	}
	if err := s.Store.DeleteFactor(ctx, id); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if err := s.contain(ctx, who); err != nil {
		return err
	}
	name := s.Texts.Lang(s.lang(who.Account, c)).T("security.totp.title")
	if f.Kind == store.FactorSMS {
		name = MaskPhone(f.Phone)
	}
	s.notify(ctx, c, who.Account, "factor_removed", map[string]any{"factor": name, "security_url": s.link("/account/security")})
	s.log().Info("factor removed", "account", who.Account.ID, "kind", f.Kind)
	return nil
}
