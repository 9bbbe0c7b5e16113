package app

import (
	"context"
	"strings"
	"time"

	"github.com/portvakt/portvakt/internal/config"
	"github.com/portvakt/portvakt/internal/flow"
	"github.com/portvakt/portvakt/internal/lifecycle"
)

// LifecyclePeriod is how often the account lifecycle runs (warnings and
// deletions, package lifecycle), on one node at a time.
const LifecyclePeriod = time.Hour

// opsConfig is the flows' part of the lifecycle and alerts configuration.
func opsConfig(cfg config.Config) flow.OpsConfig {
	return flow.OpsConfig{
		NoDeviceAlerts: !cfg.Alerts.NewDevice,
		DeletionGrace:  cfg.Lifecycle.DeletionGrace.D(),
		NotMeTTL:       cfg.Alerts.NotMeTTL.D(),
	}
}

// Lifecycle returns the runner of the account lifecycle: the scheduler's
// "lifecycle" job, and portvakt lifecycle run.
func (a *App) Lifecycle() *lifecycle.Runner {
	return &lifecycle.Runner{
		Store:           a.DB,
		Mailer:          a.Mailer,
		Config:          lifecycle.Config{InactiveAfter: a.Config.Lifecycle.InactiveAfter.D(), WarnBefore: a.Config.Lifecycle.Warnings()},
		PublicURL:       strings.TrimRight(a.Config.PublicURL, "/"),
		DefaultLanguage: a.Config.I18n.DefaultLanguage,
		EndSessions: func(ctx context.Context, accountID string) error {
			_, err := a.Sessions.RevokeOthers(ctx, accountID, "")
			return err
		},
		Audit:  a.Audit,
		Now:    a.now,
		Logger: a.Logger.With("component", "lifecycle"),
	}
}

// runLifecycle is the scheduler's job.
func (a *App) runLifecycle(ctx context.Context) error {
	_, err := a.Lifecycle().Run(ctx, false)
	return err
}
