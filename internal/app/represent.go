package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/portvakt/portvakt/internal/account"
	"github.com/portvakt/portvakt/internal/audit"
	"github.com/portvakt/portvakt/internal/config"
	"github.com/portvakt/portvakt/internal/secret"
	"github.com/portvakt/portvakt/internal/store/sqlstore"
)

// representation builds acting on behalf of others
// (docs/representation.md); nil when representation.enabled is off. The
// national identity numbers of persons without an account are looked up
// by the same key as federation's, and sealed by the one sealer.
func representation(cfg config.Config, db *sqlstore.DB, sealer *secret.Sealer, mailer account.DelegationMailer, rec *audit.Recorder, now func() time.Time, logger *slog.Logger) (*account.Delegations, error) {
	if !cfg.Representation.Enabled {
		return nil, nil
	}
	key, err := lookupKey(cfg)
	if err != nil {
		return nil, err
	}
	d := &account.Delegations{
		Store: db, Mailer: mailer, Sealer: sealer, Key: key, PublicURL: cfg.PublicURL,
		Logger: logger.With("component", "representation"), Now: now,
		Config: account.DelegationConfig{
			RequireApproval: cfg.Representation.RequireApproval,
			Rights:          cfg.Representation.Rights,
			MaxDuration:     time.Duration(cfg.Representation.MaxDays) * 24 * time.Hour,
			NationalID:      cfg.Login.UsernameNationalID,
			OrgAdminRights:  cfg.Rights.Names(),
		},
	}
	if rec != nil {
		d.Audit = func(ctx context.Context, kind, actor, subject string, data map[string]string) {
			who := audit.Account(actor)
			switch actor {
			case "admin", "admin-api", "cli":
				who = audit.Operator(actor)
			}
			target := data["delegation"]
			delete(data, "delegation")
			if err := rec.Record(ctx, audit.Event{Kind: audit.Kind(kind), Actor: who, Subject: subject, Target: target, Data: data}); err != nil {
				logger.Error("audit: representation event not recorded", "kind", kind, "err", err)
			}
		}
	}
	return d, nil
}
