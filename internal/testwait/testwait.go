// Package testwait scales every wall-clock budget of the tests by one
// setting, so that a test that waits for something (a page to load, a mail
// to arrive, a server to stop) holds on a loaded machine as on an idle one.
//
// A budget is the longest a test waits before it gives up and fails: never
// the time something is expected to take. Write it as the budget an idle
// two-core machine needs with a wide margin, and pass it through D (or
// Until, For):
//
//	deadline := time.Now().Add(testwait.D(10 * time.Second))
//	ctx, cancel := context.WithTimeout(ctx, testwait.D(30*time.Second))
//	testwait.For(t, 10*time.Second, "the mail to kari@example.no", func() bool { … })
//
// PORTVAKT_TEST_TIMEOUT_SCALE multiplies them all: 1 (the default) as
// written, 4 for a CI machine shared with other jobs (make test-stress
// sets it). It never shortens a budget: a value below 1 counts as 1. A
// value that is not a number makes every test that waits fail, naming it.
//
// What is not a budget stays as written: a poll interval, a sleep that lets
// time pass on purpose, a deadline a test expects to be missed, and a
// bound a test asserts something finishes under only when that bound is
// the point of the test (then scale it too, or better, count instead of
// timing; see docs/testing.md).
package testwait

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Env is the environment variable that scales every budget.
const Env = "PORTVAKT_TEST_TIMEOUT_SCALE"

// PollInterval is how often Until and For check their condition.
const PollInterval = 25 * time.Millisecond

var scale = sync.OnceValues(parse)

func parse() (float64, error) {
	v := os.Getenv(Env)
	if v == "" {
		return 1, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f != f || f > 1000 {
		return 1, fmt.Errorf("%s=%q is not a number from 1 to 1000", Env, v)
	}
	return max(f, 1), nil
}

// Scale returns the factor every budget is multiplied by: the value of
// PORTVAKT_TEST_TIMEOUT_SCALE, at least 1. It panics, naming the
// variable, when the value is not a number.
func Scale() float64 {
	f, err := scale()
	if err != nil {
		panic(err)
	}
	return f
}

// D returns the budget d scaled: d × Scale().
func D(d time.Duration) time.Duration {
	return time.Duration(float64(d) * Scale())
}

// Until checks cond every PollInterval until it holds or the scaled
// budget has passed, and reports whether it held. cond is always checked
// at least once, and once more at the end of the budget, so a slow check
// still gets its last word.
func Until(budget time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(D(budget))
	for {
		if cond() {
			return true
		}
		if !time.Now().Before(deadline) {
			return cond()
		}
		time.Sleep(PollInterval)
	}
}

// For is Until that fails tb when cond never held: "waited 40s (10s ×
// PORTVAKT_TEST_TIMEOUT_SCALE 4) for <what>".
func For(tb testing.TB, budget time.Duration, what string, cond func() bool) {
	tb.Helper()
	if !Until(budget, cond) {
		tb.Fatalf("waited %v (%v × %s %g) for %s", D(budget), budget, Env, Scale(), what)
	}
}
