package app

import (
	"context"
	"strings"

	"github.com/portvakt/portvakt/internal/audit"
	"github.com/portvakt/portvakt/internal/config"
	"github.com/portvakt/portvakt/internal/flow"
	"github.com/portvakt/portvakt/internal/op"
	"github.com/portvakt/portvakt/internal/store/sqlstore"
	"github.com/portvakt/portvakt/internal/web"
)

// wireSystems gives the web server end-user systems (issue 14) when
// systems.enabled is set: flow.Systems for the account page and the
// sign-in through a system, and op.SystemIssuer for its tokens.
func wireSystems(cfg config.Config, srv *web.Server, flows *flow.Service, provider *op.Provider, db *sqlstore.DB, rec *audit.Recorder) {
	if !cfg.Systems.Enabled || provider == nil {
		return
	}
	base := strings.TrimRight(cfg.PublicURL, "/")
	sc := flow.SystemsConfig{
		Personal:      cfg.Rights.Personal,
		HandleTTL:     cfg.Systems.HandleTTL.D(),
		MaxPerAccount: cfg.Systems.MaxPerAccount,
		MaxLifetime:   cfg.Systems.MaxLifetime.D(),
		// A client assertion names the endpoint it is sent to, or the
		// issuer, or the token endpoint (as Maskinporten's do).
		AssertionAudiences: []string{base + "/api/v1/systems/login", base + "/api/v1/systems/login/code",
			base + "/api/v1/systems/token", base, base + "/", base + op.PathToken},
	}
	for _, r := range cfg.Rights.Defined {
		sc.Rights = append(sc.Rights, flow.RightDef{Name: r.Name, Description: r.Description})
	}
	srv.Systems = &flow.Systems{S: flows, Store: db, Config: sc, Audit: rec}
	provider.SetRights(personalRights{srv.Systems})
	srv.SystemTokens = &op.SystemIssuer{P: provider, Audience: cfg.Systems.Audience, AccessTTL: cfg.Systems.AccessTokenTTL.D(),
		RefreshTokens: cfg.Systems.RefreshTokens, RefreshTTL: cfg.Systems.RefreshTokenTTL.D(), MayUse: srv.Systems.MayStillUse}
}

// personalRights is flow.Systems as op.RightsSource: the rights a person
// holds for themselves.
type personalRights struct{ x *flow.Systems }

func (r personalRights) IsRight(name string) bool { return r.x.IsDefined(name) }

func (r personalRights) HeldRights(ctx context.Context, accountID string) ([]string, error) {
	return r.x.RightsOf(ctx, accountID, "")
}
