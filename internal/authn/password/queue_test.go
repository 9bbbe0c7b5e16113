package password_test

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/authn/password"
	"github.com/portvakt/portvakt/internal/testwait"
)

// TestHasher_FloodFromOneSourceDoesNotStarveAnother replays issue 10,
// finding 5 at the pool: one source queues far more hashes than the pool
// can do within MaxWait. Those beyond it are refused at once with a
// BusyError (while the rest still wait), and a hash from another source
// is served after at most one more of the flood's: the pool takes sources
// in turn. On a FIFO pool the other source would wait behind the whole
// flood.
func TestHasher_FloodFromOneSourceDoesNotStarveAnother(t *testing.T) {
	p := password.Argon2Params{Memory: 1024, Time: 8}
	h := newHasher(t, p, 1024<<10) // room for one hash at a time
	h.SetMaxWait(time.Second)
	const flood = 400
	flooder := password.WithSource(t.Context(), "192.0.2.0/24")

	var refused, done atomic.Int64
	var wg sync.WaitGroup
	for range flood {
		wg.Go(func() {
			_, err := h.Hash(flooder, "guess")
			var be *password.BusyError
			switch {
			case errors.As(err, &be):
				if !errors.Is(err, password.ErrBusy) || be.RetryAfter < time.Second {
					t.Errorf("refusal = %v (Retry-After %v), want ErrBusy and at least a second", err, be.RetryAfter)
				}
				refused.Add(1)
			case err != nil:
				t.Error(err)
			}
			done.Add(1)
		})
	}
	// Wait (bounded) until every flood hash was refused, is waiting, or runs.
	settled := false
	for deadline := time.Now().Add(testwait.D(20 * time.Second)); time.Now().Before(deadline); {
		s := h.Stats()
		if refused.Load()+s.Waiting+s.InUse/(1024<<10)+(done.Load()-refused.Load()) >= flood {
			settled = true
			break
		}
		time.Sleep(time.Millisecond)
	}
	if !settled {
		t.Fatalf("the flood never settled: %+v, %d refused", h.Stats(), refused.Load())
	}
	s := h.Stats()
	if refused.Load() == 0 || s.Waiting == 0 {
		t.Fatalf("after the flood: %d refused, %d waiting; want some refused at once while others still wait", refused.Load(), s.Waiting)
	}

	started := done.Load()
	other := password.WithSource(t.Context(), "198.51.100.0/24")
	if _, err := h.Hash(other, "the user's password"); err != nil {
		t.Fatalf("Hash from another source during the flood = %v, want it served", err)
	}
	// Hashes of the flood that finished while the other source's waited:
	// the one running when it arrived and one more in turn (a little slack
	// for a hash that ended between the two readings).
	ahead := done.Load() - started
	if ahead > 3 {
		t.Errorf("%d of the flood's hashes finished before the other source's; want at most 3 (round-robin)", ahead)
	}
	wg.Wait()
	t.Logf("flood of %d from one source: %d refused at once, %d hashed; the other source waited for %d of them",
		flood, refused.Load(), flood-refused.Load(), ahead)
	if s := h.Stats(); s.Waiting != 0 || s.InUse != 0 || s.Busy != refused.Load() {
		t.Errorf("Stats() after the flood = %+v, want nothing waiting or in use and Busy = %d", s, refused.Load())
	}
}
