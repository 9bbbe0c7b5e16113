package app

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"github.com/portvakt/portvakt/internal/account"
	"github.com/portvakt/portvakt/internal/audit"
	"github.com/portvakt/portvakt/internal/flow"
	"github.com/portvakt/portvakt/internal/jobs"
	"github.com/portvakt/portvakt/internal/op"
	"github.com/portvakt/portvakt/internal/session"
	"github.com/portvakt/portvakt/internal/store/sqlstore"
)

// AuditRetentionPeriod is how often the "audit-retention" job deletes
// the audit events older than audit.retention.
const AuditRetentionPeriod = time.Hour

// auditBatch is how many events one delete statement removes, and
// auditMaxBatches bounds one run (10 million events); the next run goes
// on where a cut-off one stopped.
const (
	auditBatch      = 10000
	auditMaxBatches = 1000
)

// auditJobs adds the audit log's retention to the scheduler.
func (a *App) auditJobs(s *jobs.Scheduler) {
	s.Every("audit-retention", AuditRetentionPeriod, a.AuditRetention)
}

// AuditRetention deletes the audit events older than audit.retention, in
// batches, and records how many went (an event of its own, by the
// system, which the next years' runs delete in turn).
func (a *App) AuditRetention(ctx context.Context) error {
	cut := a.now().Add(-a.Config.Audit.Retention.D())
	total := 0
	for range auditMaxBatches {
		n, err := a.DB.DeleteAuditEventsBefore(ctx, cut, auditBatch)
		total += n
		if err != nil {
			return err
		}
		if n < auditBatch {
			break
		}
	}
	if total == 0 {
		return nil
	}
	a.Logger.Info("housekeeping", "removed", "audit events", "count", total)
	return a.Audit.Record(ctx, audit.Event{
		Kind: audit.AuditRetention, Actor: audit.System("audit-retention"),
		Data: map[string]string{"deleted": strconv.Itoa(total), "before": cut.UTC().Format(time.RFC3339)},
	})
}

// newSupport builds the support operations (account.Support): sessions
// end through the session manager (with back-channel logout), app tokens
// are revoked through the OpenID Provider when there is one.
func newSupport(db *sqlstore.DB, flows *flow.Service, rec *audit.Recorder, sessions *session.Manager, provider *op.Provider,
	now func() time.Time, logger *slog.Logger) *account.Support {
	sp := &account.Support{Store: db, Flows: flows, Audit: rec, Now: now, Logger: logger.With("component", "support"),
		EndAllSessions: func(ctx context.Context, accountID string) (int, error) {
			return sessions.RevokeOthers(ctx, accountID, "")
		}}
	if provider != nil {
		sp.RevokeTokens = provider.RevokeAccount
	}
	return sp
}
