package op

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"golang.org/x/text/language"

	"github.com/portvakt/portvakt/internal/store"
)

// userinfo fills ui with the claims of scopes about the account: sub
// always; name, preferred_username, locale and updated_at for profile;
// the primary address for email (only verified addresses are stored, so
// email_verified is true).
func (p *Provider) userinfo(ctx context.Context, ui *oidc.UserInfo, accountID string, scopes []string) error {
	ui.Subject = accountID
	profile, email := slices.Contains(scopes, oidc.ScopeProfile), slices.Contains(scopes, oidc.ScopeEmail)
	if profile {
		acct, err := p.st.GetAccount(ctx, accountID)
		if err != nil {
			return fmt.Errorf("op: userinfo: %w", err)
		}
		ui.Name = acct.Name
		ui.PreferredUsername = acct.Username
		ui.UpdatedAt = oidc.FromTime(acct.UpdatedAt)
		if tag, err := language.Parse(acct.Locale); err == nil && acct.Locale != "" {
			ui.Locale = oidc.NewLocale(tag)
		}
	}
	if email {
		emails, err := p.st.ListEmails(ctx, accountID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("op: userinfo: %w", err)
		}
		for _, e := range emails {
			if e.Primary {
				ui.Email, ui.EmailVerified = e.Address, true
				break
			}
		}
	}
	return nil
}

// mappedClaims adds a configured client's ClientConfig.Claims from the
// account. An empty field adds nothing.
func (p *Provider) mappedClaims(ctx context.Context, ui *oidc.UserInfo, clientID, accountID string) error {
	c, ok := p.statics[clientID]
	if !ok || len(c.claims) == 0 {
		return nil
	}
	acct, err := p.st.GetAccount(ctx, accountID)
	if err != nil {
		return fmt.Errorf("op: claims: %w", err)
	}
	var primary string
	for _, src := range c.claims {
		if src == "email" {
			emails, err := p.st.ListEmails(ctx, accountID)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("op: claims: %w", err)
			}
			for _, e := range emails {
				if e.Primary {
					primary = e.Address
				}
			}
			break
		}
	}
	for _, name := range slices.Sorted(maps.Keys(c.claims)) {
		v := map[string]string{"username": acct.Username, "name": acct.Name, "email": primary}[c.claims[name]]
		if v != "" {
			ui.AppendClaims(name, v)
		}
	}
	return nil
}
