// Package jobs runs housekeeping through one scheduler whose jobs are
// guarded by a lease in the database, so that on any number of nodes
// sharing a database each job runs on exactly one node at a time, once per
// period (issue 10).
//
// A job's lease lasts its period: the node that takes it runs the job, and
// no node, itself included, can take it again until the period has passed.
// A node that dies mid-run delays the job by at most a period. A run is
// cut off (its context cancelled) when its period ends, so it never
// overlaps the next holder's run.
package jobs

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// Leases is the database lease the scheduler takes for each job
// (store.Housekeeping has it).
type Leases interface {
	TakeLease(ctx context.Context, name, holder string, now, until time.Time) (bool, error)
}

// Scheduler runs jobs under leases. Set the fields, add jobs with Every,
// then call Run (or RunDue, for a test's clock).
type Scheduler struct {
	Leases Leases
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger gets one line per failed run; nil means slog.Default().
	Logger *slog.Logger
	// Node names this node in the lease table; empty means the host name
	// and a random suffix.
	Node string

	mu   sync.Mutex
	jobs []job
	node string
}

type job struct {
	name   string
	period time.Duration
	fn     func(context.Context) error
}

// Every adds a job run once per period across all nodes. It panics on a
// period under a second or a name already used, which are programming
// errors.
func (s *Scheduler) Every(name string, period time.Duration, fn func(context.Context) error) {
	if period < time.Second {
		panic(fmt.Sprintf("jobs: period of %q is %v, under a second", name, period))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, j := range s.jobs {
		if j.name == name {
			panic(fmt.Sprintf("jobs: %q added twice", name))
		}
	}
	s.jobs = append(s.jobs, job{name: name, period: period, fn: fn})
}

// RunDue tries each job's lease once and runs, one after another, the jobs
// whose lease it took. It returns their names. A lease that cannot be read
// (the database is down) skips the job until the next call.
func (s *Scheduler) RunDue(ctx context.Context) []string {
	s.mu.Lock()
	jobs := append([]job(nil), s.jobs...)
	s.mu.Unlock()
	var ran []string
	for _, j := range jobs {
		if ctx.Err() != nil {
			break
		}
		now := s.now()
		ok, err := s.Leases.TakeLease(ctx, j.name, s.holder(), now, now.Add(j.period))
		if err != nil {
			if ctx.Err() == nil {
				s.logger().Warn("job lease", "job", j.name, "err", err)
			}
			continue
		}
		if !ok {
			continue
		}
		ran = append(ran, j.name)
		jctx, cancel := context.WithTimeout(ctx, j.period)
		err = j.fn(jctx)
		cancel()
		if err != nil && ctx.Err() == nil {
			s.logger().Warn("job failed", "job", j.name, "err", err)
		}
	}
	return ran
}

// Run calls RunDue every tick until ctx is done. A tick of 0 means a
// tenth of the shortest period, at most 30 seconds, so a job runs at most
// a tick late.
func (s *Scheduler) Run(ctx context.Context, tick time.Duration) {
	if tick <= 0 {
		tick = 30 * time.Second
		s.mu.Lock()
		for _, j := range s.jobs {
			tick = min(tick, max(j.period/10, 100*time.Millisecond))
		}
		s.mu.Unlock()
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		s.RunDue(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *Scheduler) holder() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.node == "" {
		s.node = s.Node
		if s.node == "" {
			host, _ := os.Hostname()
			s.node = host + "/" + rand.Text()[:8]
		}
	}
	return s.node
}

func (s *Scheduler) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Scheduler) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}
