package password

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// ErrBusy means the hashing pool would make the caller wait longer than
// the Hasher's MaxWait: the request is refused at once instead of queueing
// (issue 10, finding 5). errors.As finds a *BusyError with a Retry-After.
var ErrBusy = errors.New("password hashing is busy")

// BusyError is the error Hash and Verify return instead of queueing for
// longer than MaxWait.
type BusyError struct {
	// RetryAfter is the estimated wait, rounded up to a whole second.
	RetryAfter time.Duration
}

func (e *BusyError) Error() string {
	return fmt.Sprintf("%v: try again in %s", ErrBusy, e.RetryAfter)
}

// Is makes errors.Is(err, ErrBusy) true.
func (e *BusyError) Is(target error) bool { return target == ErrBusy }

// DefaultMaxWait is how long a hash may expect to queue before the Hasher
// refuses it with ErrBusy.
const DefaultMaxWait = 3 * time.Second

// minQueuedPerSource is how many waiters a source may always have,
// whatever the estimate.
const minQueuedPerSource = 4

// maxQueued bounds the callers waiting in all: beyond it every newcomer is
// refused, whatever the estimate says.
const maxQueued = 4096

type sourceKey struct{}

// WithSource names the source of the hashes done under ctx, typically the
// client's network (a /24 or /64, see the web package). The pool serves
// waiting sources in turn, one hash each, so a flood from one source
// delays another source's hash by at most one round, and refuses a
// source's hash at once when its own queue would keep it waiting longer
// than MaxWait.
func WithSource(ctx context.Context, source string) context.Context {
	return context.WithValue(ctx, sourceKey{}, source)
}

// SourceOf returns the source WithSource gave ctx ("" if none).
func SourceOf(ctx context.Context) string {
	s, _ := ctx.Value(sourceKey{}).(string)
	return s
}

func sourceOf(ctx context.Context) string { return SourceOf(ctx) }

// pool books hash memory for callers, fairly between sources: a weighted
// semaphore whose waiters queue per source and are granted round-robin.
type pool struct {
	mu      sync.Mutex
	limit   int64
	inUse   int64
	queues  map[string][]*waiter
	order   []string // sources with waiters, in turn order
	next    int      // index into order of the source served next
	waiting int
	// perHash is the running mean of how long one hash took (its weight
	// normalised to the pool's full budget, see estimate).
	perHash time.Duration
	maxWait time.Duration
}

type waiter struct {
	weight  int64
	source  string
	ready   chan struct{}
	granted bool
}

func newPool(limit int64, firstHash time.Duration) *pool {
	return &pool{limit: limit, queues: map[string][]*waiter{}, perHash: max(firstHash, time.Millisecond), maxWait: DefaultMaxWait}
}

// acquire books weight bytes for source, or refuses at once with a
// *BusyError when the estimated wait passes maxWait. A caller already
// queued gives up at ctx's end or after 2×maxWait (then ErrBusy too).
func (p *pool) acquire(ctx context.Context, source string, weight int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p.mu.Lock()
	if p.waiting == 0 && p.inUse+weight <= p.limit {
		p.inUse += weight
		p.mu.Unlock()
		return nil
	}
	// A source with few waiters is always admitted: the refusal is for a
	// flood, not for a slow machine (a busy CPU makes every estimate long).
	if est := p.estimate(source, weight); (est > p.maxWait && len(p.queues[source]) >= minQueuedPerSource) || p.waiting >= maxQueued {
		p.mu.Unlock()
		return &BusyError{RetryAfter: roundUpSecond(est)}
	}
	w := &waiter{weight: weight, source: source, ready: make(chan struct{})}
	if len(p.queues[source]) == 0 {
		p.order = append(p.order, source)
	}
	p.queues[source] = append(p.queues[source], w)
	p.waiting++
	p.mu.Unlock()

	timer := time.NewTimer(2 * p.maxWait)
	defer timer.Stop()
	var err error
	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
		err = ctx.Err()
	case <-timer.C:
		err = &BusyError{RetryAfter: roundUpSecond(p.maxWait)}
	}
	p.mu.Lock()
	if w.granted {
		// Granted while giving up: hand the room back.
		p.inUse -= w.weight
	} else {
		p.remove(w)
	}
	p.dispatch()
	p.mu.Unlock()
	return err
}

// release returns weight bytes booked for a hash that took d.
func (p *pool) release(weight int64, d time.Duration) {
	p.mu.Lock()
	p.inUse -= weight
	// A running mean over about the last 4 hashes, so that it follows the
	// slowdown when a burst makes hashes share the cores. Weights differ
	// little in practice, and the estimate only decides "more than a few
	// seconds".
	p.perHash += (d - p.perHash) / 4
	p.dispatch()
	p.mu.Unlock()
}

// estimate is the expected wait of a new waiter of source: the memory
// booked ahead of it (what runs now, plus, round-robin, from each other
// source as many hashes as the source has queued before it and one more)
// in units of the whole budget, times the time of one hash.
func (p *pool) estimate(source string, weight int64) time.Duration {
	k := len(p.queues[source])
	ahead := p.inUse + weight
	for _, q := range p.queues {
		n := min(len(q), k+1)
		for _, w := range q[:n] {
			ahead += w.weight
		}
	}
	rounds := (ahead + p.limit - 1) / p.limit
	return time.Duration(rounds) * p.perHash
}

// dispatch grants waiters round-robin between sources while there is
// room. A waiter too big for the room left blocks the turn (so it is not
// starved by smaller ones).
func (p *pool) dispatch() {
	for len(p.order) > 0 {
		if p.next >= len(p.order) {
			p.next = 0
		}
		src := p.order[p.next]
		q := p.queues[src]
		w := q[0]
		if p.inUse+w.weight > p.limit {
			return
		}
		p.inUse += w.weight
		w.granted = true
		close(w.ready)
		p.waiting--
		if len(q) == 1 {
			delete(p.queues, src)
			p.order = append(p.order[:p.next], p.order[p.next+1:]...)
		} else {
			p.queues[src] = q[1:]
			p.next++
		}
	}
}

func (p *pool) remove(w *waiter) {
	q := p.queues[w.source]
	for i, x := range q {
		if x != w {
			continue
		}
		p.waiting--
		if len(q) == 1 {
			delete(p.queues, w.source)
			for j, s := range p.order {
				if s == w.source {
					p.order = append(p.order[:j], p.order[j+1:]...)
					if j < p.next {
						p.next--
					}
					break
				}
			}
			return
		}
		p.queues[w.source] = append(q[:i:i], q[i+1:]...)
		return
	}
}

func (p *pool) stats() (inUse int64, waiting int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.inUse, p.waiting
}

func roundUpSecond(d time.Duration) time.Duration {
	return max(time.Second, (d+time.Second-1)/time.Second*time.Second)
}
