package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/store"
)

// addFailure adds a failure and returns the new count, failing the test on
// error.
func addFailure(tb testing.TB, s store.Store, key string, now time.Time, window time.Duration) int {
	tb.Helper()
	n, err := s.AddFailure(tb.Context(), key, now, window)
	must(tb, fmt.Sprintf("AddFailure(%q, %v, %v)", key, now, window), err)
	return n
}

// wantFailures fails the test unless Failures returns count and last.
func wantFailures(tb testing.TB, s store.Store, key string, now time.Time, window time.Duration, count int, last time.Time) {
	tb.Helper()
	call := fmt.Sprintf("Failures(%q, %v, %v)", key, now, window)
	n, at, err := s.Failures(tb.Context(), key, now, window)
	must(tb, call, err)
	if n != count || !at.Equal(last) {
		tb.Errorf("%s = %d, %v; want %d, %v", call, n, at, count, last)
	}
}

var counterTests = []subtest{
	{"failures are counted per key", func(t *testing.T, s store.Store) {
		const window = time.Hour
		for i := range 3 {
			got := addFailure(t, s, "login:kari", T0.Add(time.Duration(i)*time.Second), window)
			wantEqual(t, fmt.Sprintf("failure %d of login:kari", i+1), got, i+1)
		}
		wantEqual(t, "first failure of ip:192.0.2.7", addFailure(t, s, "ip:192.0.2.7", T0, window), 1)
		wantFailures(t, s, "login:kari", T0.Add(time.Minute), window, 3, T0.Add(2*time.Second))
		wantFailures(t, s, "ip:192.0.2.7", T0.Add(time.Minute), window, 1, T0)
		wantFailures(t, s, "login:nobody", T0, window, 0, time.Time{})
	}},
	{"a counter starts again after a quiet window", func(t *testing.T, s store.Store) {
		const window = 10 * time.Minute
		const key = "code:flow-1"
		wantEqual(t, "failure at T0", addFailure(t, s, key, T0, window), 1)
		wantEqual(t, "failure at T0+5m", addFailure(t, s, key, T0.Add(5*time.Minute), window), 2)
		// Exactly a window after the last failure is not older than the window.
		wantEqual(t, "failure at T0+15m", addFailure(t, s, key, T0.Add(15*time.Minute), window), 3)
		wantFailures(t, s, key, T0.Add(25*time.Minute), window, 3, T0.Add(15*time.Minute))
		// A millisecond later it is.
		n, _, err := s.Failures(t.Context(), key, T0.Add(25*time.Minute+time.Millisecond), window)
		must(t, "Failures a window and a millisecond after the last failure", err)
		wantEqual(t, "Failures a window and a millisecond after the last failure", n, 0)
		wantEqual(t, "failure at T0+25m+1ms", addFailure(t, s, key, T0.Add(25*time.Minute+time.Millisecond), window), 1)
		wantFailures(t, s, key, T0.Add(25*time.Minute+time.Millisecond), window, 1, T0.Add(25*time.Minute+time.Millisecond))
	}},
	{"resetting a counter sets it back to zero", func(t *testing.T, s store.Store) {
		addFailure(t, s, "login:kari", T0, time.Hour)
		addFailure(t, s, "login:kari", T0, time.Hour)
		addFailure(t, s, "login:ola", T0, time.Hour)
		must(t, `ResetFailures("login:kari")`, s.ResetFailures(t.Context(), "login:kari"))
		wantFailures(t, s, "login:kari", T0, time.Hour, 0, time.Time{})
		wantFailures(t, s, "login:ola", T0, time.Hour, 1, T0)
		wantEqual(t, "failure after the reset", addFailure(t, s, "login:kari", T0.Add(time.Second), time.Hour), 1)
		must(t, `ResetFailures("login:nobody")`, s.ResetFailures(t.Context(), "login:nobody"))
	}},
	{"FailuresOf reads many keys at once and ResetFailures clears many", func(t *testing.T, s store.Store) {
		addFailure(t, s, "login:kari", T0, time.Hour)
		addFailure(t, s, "login:kari", T0.Add(time.Second), time.Hour)
		addFailure(t, s, "ip:192.0.2.7", T0, time.Hour)
		addFailure(t, s, "net:192.0.2.0/24", T0, time.Hour)
		got, err := s.FailuresOf(t.Context(), []string{"login:kari", "ip:192.0.2.7", "login:nobody"})
		must(t, "FailuresOf", err)
		wantEqual(t, "FailuresOf", got, map[string]store.CounterState{
			"login:kari":   {Failures: 2, Last: T0.Add(time.Second)},
			"ip:192.0.2.7": {Failures: 1, Last: T0},
		})
		got, err = s.FailuresOf(t.Context(), nil)
		must(t, "FailuresOf(nil)", err)
		wantEqual(t, "FailuresOf(nil)", len(got), 0)
		must(t, "ResetFailures of three keys", s.ResetFailures(t.Context(), "login:kari", "ip:192.0.2.7", "login:nobody"))
		got, err = s.FailuresOf(t.Context(), []string{"login:kari", "ip:192.0.2.7", "net:192.0.2.0/24"})
		must(t, "FailuresOf after the reset", err)
		wantEqual(t, "FailuresOf after the reset", got, map[string]store.CounterState{"net:192.0.2.0/24": {Failures: 1, Last: T0}})
		many := make([]string, store.MaxCounterKeys+1)
		for i := range many {
			many[i] = fmt.Sprintf("k%d", i)
		}
		if _, err := s.FailuresOf(t.Context(), many); err == nil {
			t.Errorf("FailuresOf(%d keys) = nil error, want a refusal beyond MaxCounterKeys", len(many))
		}
	}},
	{"twenty parallel failures of one key are each counted once", func(t *testing.T, s store.Store) {
		var (
			mu  sync.Mutex
			got []int
		)
		parallel(t, 20, func(i int) {
			n, err := s.AddFailure(t.Context(), "ip:192.0.2.7", T0.Add(time.Duration(i)*time.Millisecond), time.Hour)
			if err != nil {
				t.Errorf(`AddFailure("ip:192.0.2.7"): %v`, err)
				return
			}
			mu.Lock()
			got = append(got, n)
			mu.Unlock()
		})
		slices.Sort(got)
		want := []int{}
		for i := range 20 {
			want = append(want, i+1)
		}
		wantEqual(t, "the counts returned to 20 parallel AddFailure calls, sorted", got, want)
		n, _, err := s.Failures(t.Context(), "ip:192.0.2.7", T0.Add(time.Second), time.Hour)
		must(t, `Failures("ip:192.0.2.7")`, err)
		wantEqual(t, `Failures("ip:192.0.2.7") count`, n, 20)
	}},
	{"AddFailures counts several keys at once, each with its window", func(t *testing.T, s store.Store) {
		const key = "code:flow-1"
		wantEqual(t, "failure at T0", addFailure(t, s, key, T0, 10*time.Minute), 1)
		got, err := s.AddFailures(t.Context(), T0.Add(15*time.Minute), map[string]time.Duration{key: 15 * time.Minute, "ip:192.0.2.7": time.Hour})
		must(t, "AddFailures at T0+15m", err)
		// Exactly a window after the last failure is not older than the window.
		wantEqual(t, "AddFailures at T0+15m", got, map[string]int{key: 2, "ip:192.0.2.7": 1})
		got, err = s.AddFailures(t.Context(), T0.Add(25*time.Minute+time.Millisecond), map[string]time.Duration{key: 10 * time.Minute, "ip:192.0.2.7": time.Hour})
		must(t, "AddFailures at T0+25m+1ms", err)
		// A millisecond later it is: the code's count starts again; the address's does not.
		wantEqual(t, "AddFailures at T0+25m+1ms", got, map[string]int{key: 1, "ip:192.0.2.7": 2})
		wantFailures(t, s, key, T0.Add(25*time.Minute+time.Millisecond), 10*time.Minute, 1, T0.Add(25*time.Minute+time.Millisecond))
		// An earlier failure does not move the last one back.
		_, err = s.AddFailures(t.Context(), T0, map[string]time.Duration{"ip:192.0.2.7": time.Hour})
		must(t, "AddFailures at T0", err)
		wantFailures(t, s, "ip:192.0.2.7", T0.Add(26*time.Minute), time.Hour, 3, T0.Add(25*time.Minute+time.Millisecond))
		got, err = s.AddFailures(t.Context(), T0, nil)
		must(t, "AddFailures of no keys", err)
		wantEqual(t, "AddFailures of no keys", len(got), 0)
	}},
	{"twenty parallel AddFailures over shared keys are each counted once, without deadlock", func(t *testing.T, s store.Store) {
		var (
			mu  sync.Mutex
			got []int
		)
		parallel(t, 20, func(i int) {
			// Each call names the shared keys and one of its own; map order
			// differs from call to call.
			counts, err := s.AddFailures(t.Context(), T0.Add(time.Duration(i)*time.Millisecond), map[string]time.Duration{
				"t:global:all": 15 * time.Minute, "t:net:192.0.2.0/24": 24 * time.Hour, fmt.Sprintf("t:login:%d", i): time.Hour,
			})
			if err != nil {
				t.Errorf("AddFailures %d: %v", i, err)
				return
			}
			if counts[fmt.Sprintf("t:login:%d", i)] != 1 || counts["t:global:all"] != counts["t:net:192.0.2.0/24"] {
				t.Errorf("AddFailures %d = %v", i, counts)
			}
			mu.Lock()
			got = append(got, counts["t:global:all"])
			mu.Unlock()
		})
		slices.Sort(got)
		want := []int{}
		for i := range 20 {
			want = append(want, i+1)
		}
		wantEqual(t, "the global counts returned to 20 parallel AddFailures calls, sorted", got, want)
	}},
	{"ReserveFailure counts only below its limit, and parallel calls never past it", func(t *testing.T, s store.Store) {
		const key, window = "factor:totp:1", 10 * time.Minute
		for i := range 3 {
			n, ok, err := s.ReserveFailure(t.Context(), key, T0.Add(time.Duration(i)*time.Second), window, 3)
			must(t, "ReserveFailure", err)
			wantEqual(t, fmt.Sprintf("ReserveFailure %d", i+1), []any{n, ok}, []any{i + 1, true})
		}
		_, ok, err := s.ReserveFailure(t.Context(), key, T0.Add(time.Minute), window, 3)
		must(t, "ReserveFailure at the limit", err)
		wantEqual(t, "ReserveFailure at the limit", ok, false)
		wantFailures(t, s, key, T0.Add(time.Minute), window, 3, T0.Add(2*time.Second))
		_, ok, _ = s.ReserveFailure(t.Context(), "other", T0, window, 0)
		wantEqual(t, "ReserveFailure with a limit of 0", ok, false)
		wantFailures(t, s, "other", T0, window, 0, time.Time{})
		// A window after the last failure the count starts again.
		n, ok, err := s.ReserveFailure(t.Context(), key, T0.Add(2*time.Second+window+time.Millisecond), window, 3)
		must(t, "ReserveFailure after the window", err)
		wantEqual(t, "ReserveFailure after the window", []any{n, ok}, []any{1, true})

		var mu sync.Mutex
		won := 0
		parallel(t, 20, func(i int) {
			_, ok, err := s.ReserveFailure(t.Context(), "parallel", T0.Add(time.Duration(i)*time.Millisecond), time.Hour, 5)
			if err != nil {
				t.Errorf("ReserveFailure %d: %v", i, err)
			}
			if ok {
				mu.Lock()
				won++
				mu.Unlock()
			}
		})
		wantEqual(t, "parallel ReserveFailure calls that counted, limit 5", won, 5)
		n, _, err = s.Failures(t.Context(), "parallel", T0.Add(time.Second), time.Hour)
		must(t, `Failures("parallel")`, err)
		wantEqual(t, `Failures("parallel")`, n, 5)
	}},
}
