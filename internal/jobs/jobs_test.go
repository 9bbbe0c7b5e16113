package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/clocktest"
	"github.com/portvakt/portvakt/internal/jobs"
	"github.com/portvakt/portvakt/internal/store/sqlstore"
)

// clock is a test clock shared by the nodes.
type clock = clocktest.Clock

// nodes opens n connections to one SQLite database, as n nodes would.
func nodes(t *testing.T, n int) []*sqlstore.DB {
	t.Helper()
	dsn := filepath.Join(t.TempDir(), "p.db")
	var dbs []*sqlstore.DB
	for range n {
		db, err := sqlstore.OpenAndMigrate(t.Context(), "sqlite", dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		dbs = append(dbs, db)
	}
	return dbs
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// TestEachJobRunsOncePerPeriodAcrossNodes: three schedulers on one
// database, driven by one clock in steps of a minute, concurrently at each
// step; over 60 minutes a 5-minute job runs 12 times, a 10-minute one 6
// times and an hourly one once, in all, whichever node ran them.
func TestEachJobRunsOncePerPeriodAcrossNodes(t *testing.T) {
	c := clocktest.New(time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC))
	periods := map[string]time.Duration{"sessions": 5 * time.Minute, "flows": 10 * time.Minute, "keys": time.Hour}
	var runs sync.Map // job name -> *atomic.Int32
	perNode := make([]atomic.Int32, 3)
	var scheds []*jobs.Scheduler
	for i, db := range nodes(t, 3) {
		s := &jobs.Scheduler{Leases: db, Now: c.Now, Logger: quiet, Node: fmt.Sprintf("node-%d", i)}
		for name, p := range periods {
			s.Every(name, p, func(context.Context) error {
				n, _ := runs.LoadOrStore(name, new(atomic.Int32))
				n.(*atomic.Int32).Add(1)
				perNode[i].Add(1)
				return nil
			})
		}
		scheds = append(scheds, s)
	}
	for range 60 {
		var wg sync.WaitGroup
		for _, s := range scheds {
			wg.Add(1)
			go func() { defer wg.Done(); s.RunDue(t.Context()) }()
		}
		wg.Wait()
		c.Advance(time.Minute)
	}
	want := map[string]int32{"sessions": 12, "flows": 6, "keys": 1}
	for name, w := range want {
		var got int32
		if n, ok := runs.Load(name); ok {
			got = n.(*atomic.Int32).Load()
		}
		if got != w {
			t.Errorf("%s ran %d times in 60 minutes, want %d", name, got, w)
		}
	}
	t.Logf("runs per node: %d %d %d", perNode[0].Load(), perNode[1].Load(), perNode[2].Load())
}

// TestALeaseOutlivesItsHolder: a node that took a job and died (never
// comes back) holds it only for the period; another node runs it then,
// and not before.
func TestALeaseOutlivesItsHolder(t *testing.T) {
	c := clocktest.New(time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC))
	dbs := nodes(t, 2)
	var ranA, ranB int
	a := &jobs.Scheduler{Leases: dbs[0], Now: c.Now, Logger: quiet, Node: "a"}
	a.Every("gc", 10*time.Minute, func(context.Context) error { ranA++; return nil })
	b := &jobs.Scheduler{Leases: dbs[1], Now: c.Now, Logger: quiet, Node: "b"}
	b.Every("gc", 10*time.Minute, func(context.Context) error { ranB++; return errors.New("a failed run is logged, not retried early") })
	a.RunDue(t.Context())
	for range 9 {
		c.Advance(time.Minute)
		if got := b.RunDue(t.Context()); len(got) != 0 {
			t.Fatalf("b ran %v within a's lease", got)
		}
	}
	c.Advance(time.Minute)
	if got := b.RunDue(t.Context()); len(got) != 1 {
		t.Fatalf("b ran %v when a's lease ended, want [gc]", got)
	}
	c.Advance(time.Minute)
	if got := b.RunDue(t.Context()); len(got) != 0 {
		t.Errorf("b ran %v again a minute after a failed run", got)
	}
	if ranA != 1 || ranB != 1 {
		t.Errorf("runs: a %d, b %d; want 1 and 1", ranA, ranB)
	}
}

// TestARunIsCutOffAtItsPeriod: a job's context ends with its period.
func TestARunIsCutOffAtItsPeriod(t *testing.T) {
	dbs := nodes(t, 1)
	s := &jobs.Scheduler{Leases: dbs[0], Logger: quiet}
	var deadline time.Time
	var had bool
	s.Every("slow", time.Hour, func(ctx context.Context) error { deadline, had = ctx.Deadline(); return nil })
	before := time.Now()
	s.RunDue(t.Context())
	if !had || deadline.Before(before.Add(time.Hour)) || deadline.After(time.Now().Add(time.Hour)) {
		t.Errorf("job context deadline = %v (set %v), want its period from the start", deadline, had)
	}
}
