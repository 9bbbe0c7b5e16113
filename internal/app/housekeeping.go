package app

import (
	"context"
	"time"

	"github.com/portvakt/portvakt/internal/jobs"
)

// Housekeeping periods. Each job runs once per period on one node of the
// cluster, whichever takes its lease (internal/jobs).
const (
	SessionGCPeriod = 5 * time.Minute
	FlowGCPeriod    = 10 * time.Minute
	OIDCGCPeriod    = 10 * time.Minute
	CounterGCPeriod = time.Hour
	BrowserGCPeriod = time.Hour
	MailGCPeriod    = time.Hour
	// OutboxPeriod is the pass that retries failed mail and sends what
	// another node enqueued but did not send; fresh mail goes at once on
	// the node that enqueued it (Worker.Kick).
	OutboxPeriod = 30 * time.Second
	KeysPeriod   = time.Minute
	// SentMailKept is how long a delivered message stays in the outbox
	// (for the admin's and the dev mailbox's view) before it is deleted.
	SentMailKept = 24 * time.Hour
)

// Scheduler returns the housekeeping scheduler: garbage collection of
// sessions, flows, OpenID records, failure counters, remembered browsers
// and delivered mail, the outbox's periodic pass and the signing-key
// schedule, each under a lease in the database.
func (a *App) Scheduler() *jobs.Scheduler {
	s := &jobs.Scheduler{Leases: a.DB, Now: a.now, Logger: a.Logger}
	gc := func(what string, fn func(context.Context) (int, error)) func(context.Context) error {
		return func(ctx context.Context) error {
			n, err := fn(ctx)
			if err == nil && n > 0 {
				a.Logger.Info("housekeeping", "removed", what, "count", n)
			}
			return err
		}
	}
	s.Every("gc-sessions", SessionGCPeriod, gc("sessions", a.Sessions.Sweep))
	s.Every("gc-flows", FlowGCPeriod, gc("flows", func(ctx context.Context) (int, error) {
		return a.DB.DeleteExpiredFlows(ctx, a.now())
	}))
	s.Every("gc-counters", CounterGCPeriod, gc("counters", func(ctx context.Context) (int, error) {
		return a.DB.DeleteExpiredCounters(ctx, a.now())
	}))
	s.Every("gc-trusted-browsers", BrowserGCPeriod, gc("trusted browsers", func(ctx context.Context) (int, error) {
		return a.DB.DeleteExpiredTrustedBrowsers(ctx, a.now())
	}))
	s.Every("gc-sent-mail", MailGCPeriod, gc("sent messages", func(ctx context.Context) (int, error) {
		return a.DB.DeleteSentMessages(ctx, a.now().Add(-SentMailKept))
	}))
	s.Every("lifecycle", LifecyclePeriod, a.runLifecycle)
	s.Every("outbox", OutboxPeriod, func(ctx context.Context) error {
		_, _, err := a.Worker.DeliverDue(ctx)
		return err
	})
	a.auditJobs(s)
	if a.OP != nil {
		s.Every("gc-oidc", OIDCGCPeriod, gc("OpenID records", a.OP.Sweep))
		s.Every("signing-keys", KeysPeriod, a.OP.EnsureKeys)
	}
	return s
}

// reloadKeys reloads the signing keys on this node every KeysPeriod, so
// that a key the "signing-keys" job published on another node is served
// here too. It writes nothing.
func (a *App) reloadKeys(ctx context.Context) {
	t := time.NewTicker(KeysPeriod)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := a.OP.ReloadKeys(ctx); err != nil && ctx.Err() == nil {
				a.Logger.Warn("reload signing keys", "err", err)
			}
		}
	}
}
