package throttle_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/store"
	"github.com/portvakt/portvakt/internal/throttle"
)

// counters is an in-memory store.Counters that records its resets.
type counters struct {
	m      map[string]store.CounterState
	resets [][]string
}

func (c *counters) AddFailure(_ context.Context, key string, now time.Time, _ time.Duration) (int, error) {
	st := c.m[key]
	st.Failures++
	st.Last = now
	c.m[key] = st
	return st.Failures, nil
}

func (c *counters) AddFailures(ctx context.Context, now time.Time, windows map[string]time.Duration) (map[string]int, error) {
	out := map[string]int{}
	for k, w := range windows {
		out[k], _ = c.AddFailure(ctx, k, now, w)
	}
	return out, nil
}

func (c *counters) ReserveFailure(ctx context.Context, key string, now time.Time, window time.Duration, limit int) (int, bool, error) {
	if c.m[key].Failures >= limit {
		return 0, false, nil
	}
	n, err := c.AddFailure(ctx, key, now, window)
	return n, true, err
}

func (c *counters) Failures(_ context.Context, key string, _ time.Time, _ time.Duration) (int, time.Time, error) {
	return c.m[key].Failures, c.m[key].Last, nil
}

func (c *counters) FailuresOf(_ context.Context, keys []string) (map[string]store.CounterState, error) {
	out := map[string]store.CounterState{}
	for _, k := range keys {
		if st, ok := c.m[k]; ok {
			out[k] = st
		}
	}
	return out, nil
}

func (c *counters) ResetFailures(_ context.Context, keys ...string) error {
	c.resets = append(c.resets, keys)
	for _, k := range keys {
		delete(c.m, k)
	}
	return nil
}

// Accept clears the keys it is given only when the try is allowed, and
// writes nothing for keys without a counter.
func TestAcceptResetsOnlyCountersThatExist(t *testing.T) {
	now := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
	c := &counters{m: map[string]store.CounterState{}}
	th := &throttle.Throttle{Counters: c, Now: func() time.Time { return now }}
	rule := throttle.Rule{Name: "login", Limit: 3, Base: time.Minute, Max: time.Minute, Window: time.Hour}
	id, acct, ip := throttle.Key{Rule: rule, ID: "kari"}, throttle.Key{Rule: rule, ID: "acct-1"}, throttle.Key{Rule: rule, ID: "192.0.2.1"}

	// No failures anywhere: allowed, and no write.
	d, err := th.Accept(t.Context(), []throttle.Key{id, acct}, id, acct, ip)
	if err != nil || !d.Allowed() || len(c.resets) != 0 {
		t.Fatalf("Accept without failures = %+v, %v; resets %q, want allowed and none", d, err, c.resets)
	}
	// A failure on the identifier and one on the address: the identifier's
	// is cleared, the address's is kept.
	th.Failed(t.Context(), id, ip)
	d, err = th.Accept(t.Context(), []throttle.Key{id, acct}, id, acct, ip)
	if err != nil || !d.Allowed() || !slices.Equal(c.resets[len(c.resets)-1], []string{id.String()}) {
		t.Fatalf("Accept after a failure = %+v, %v; resets %q, want allowed and the identifier's counter cleared", d, err, c.resets)
	}
	if n, _ := th.Count(t.Context(), ip); n != 1 {
		t.Errorf("the address's count after Accept = %d, want 1", n)
	}
	// Refused: nothing is cleared.
	resets := len(c.resets)
	th.Failed(t.Context(), id)
	th.Failed(t.Context(), id)
	th.Failed(t.Context(), id)
	d, err = th.Accept(t.Context(), []throttle.Key{id, acct}, id, acct, ip)
	if err != nil || d.Allowed() || len(c.resets) != resets {
		t.Fatalf("Accept over the limit = %+v, %v; resets %q, want refused and nothing cleared", d, err, c.resets[resets:])
	}
	if n, _ := th.Count(t.Context(), id); n != 3 {
		t.Errorf("the identifier's count after a refused Accept = %d, want 3", n)
	}
}

// Decide on counters read elsewhere decides as Check does, and reads
// nothing.
func TestDecideIsCheckOnCountersGiven(t *testing.T) {
	now := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
	c := &counters{m: map[string]store.CounterState{}}
	th := &throttle.Throttle{Counters: c, Now: func() time.Time { return now }}
	rule := throttle.Rule{Name: "login", Limit: 2, Base: time.Minute, Max: time.Hour, Window: time.Hour}
	lock := throttle.Rule{Name: "acct", Limit: 3, Lock: true, Window: time.Hour}
	id, acct := throttle.Key{Rule: rule, ID: "kari"}, throttle.Key{Rule: lock, ID: "acct-1"}
	if got := th.Names(id, acct, id, throttle.Key{Rule: rule}); !slices.Equal(got, []string{"t:login:kari", "t:acct:acct-1"}) {
		t.Errorf("Names = %q", got)
	}
	if p := lock.Prefix() + acct.ID; p != acct.String() {
		t.Errorf("Prefix and ID = %q, want the key's name %q", p, acct)
	}
	for i := range 4 {
		want, err := th.Check(t.Context(), id, acct)
		if err != nil {
			t.Fatal(err)
		}
		states, _ := c.FailuresOf(t.Context(), th.Names(id, acct))
		if got := th.Decide(states, id, acct); got != want {
			t.Errorf("after %d failures: Decide = %+v, Check = %+v", i, got, want)
		}
		th.Failed(t.Context(), id, acct)
	}
}
