package app_test

import (
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/app"
	"github.com/portvakt/portvakt/internal/audit"
	"github.com/portvakt/portvakt/internal/clocktest"
	"github.com/portvakt/portvakt/internal/config"
	"github.com/portvakt/portvakt/internal/store"
)

// TestAuditRetention: the scheduler's "audit-retention" job deletes the
// events older than audit.retention, keeps the rest, and notes the run
// in the log itself; it runs once per period however many nodes share
// the database.
func TestAuditRetention(t *testing.T) {
	clock := clocktest.New(time.Date(2027, 12, 4, 12, 0, 0, 0, time.UTC))
	cfg := config.Default()
	cfg.Database.DSN = filepath.Join(t.TempDir(), "portvakt.db")
	cfg.Audit.Retention = config.Duration(30 * 24 * time.Hour)
	var nodes []*app.App
	for range 2 {
		a, err := app.New(t.Context(), cfg, app.Options{Now: clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { a.Close() })
		nodes = append(nodes, a)
	}
	ctx := t.Context()
	rec := nodes[0].Audit
	for _, age := range []time.Duration{31 * 24 * time.Hour, 30*24*time.Hour + time.Minute, 29 * 24 * time.Hour, time.Hour} {
		if err := rec.Record(ctx, audit.Event{Kind: audit.LoginSucceeded, Actor: audit.Account("acc"), Subject: "acc", At: clock.Now().Add(-age)}); err != nil {
			t.Fatal(err)
		}
	}
	ran := 0
	for _, n := range nodes {
		if slices.Contains(n.Scheduler().RunDue(ctx), "audit-retention") {
			ran++
		}
	}
	if ran != 1 {
		t.Fatalf("audit-retention ran on %d nodes, want 1", ran)
	}
	left, _, err := nodes[0].DB.ListAuditEvents(ctx, store.AuditFilter{Subject: "acc"})
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 2 {
		t.Errorf("%d events of the account left, want the 2 younger than 30 days", len(left))
	}
	notes, _, err := nodes[0].DB.ListAuditEvents(ctx, store.AuditFilter{Kinds: []string{string(audit.AuditRetention)}})
	if err != nil {
		t.Fatal(err)
	}
	if len(notes) != 1 || notes[0].Data["deleted"] != "2" || notes[0].ActorKind != "system" {
		t.Errorf("retention note = %+v, want one system event with deleted=2", notes)
	}
}
