package op

import (
	"context"
	"errors"
	"fmt"
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
