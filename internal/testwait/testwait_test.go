package testwait

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// withScale makes Scale read v, for one test (not parallel: it swaps the
// package's once-read value).
func withScale(t *testing.T, v string) {
	t.Setenv(Env, v)
	old := scale
	scale = sync.OnceValues(parse)
	t.Cleanup(func() { scale = old })
}

func TestScale(t *testing.T) {
	for _, tt := range []struct {
		env  string
		want float64
		bad  bool
	}{
		{"", 1, false},
		{"4", 4, false},
		{"2.5", 2.5, false},
		{"0.5", 1, false}, // never shorter than written
		{"0", 1, false},
		{"fast", 0, true},
		{"NaN", 0, true},
		{"1e9", 0, true},
	} {
		t.Run(tt.env, func(t *testing.T) {
			withScale(t, tt.env)
			defer func() {
				if r := recover(); (r != nil) != tt.bad {
					t.Errorf("%s=%q: panic %v, want a panic: %v", Env, tt.env, r, tt.bad)
				}
			}()
			if got := Scale(); got != tt.want {
				t.Errorf("%s=%q: Scale() = %v, want %v", Env, tt.env, got, tt.want)
			}
			if got, want := D(10*time.Second), time.Duration(tt.want*float64(10*time.Second)); got != want {
				t.Errorf("D(10s) = %v, want %v", got, want)
			}
		})
	}
}

// Until counts checks, not time: a condition that holds at once is checked
// once; one that holds on the third check is checked three times; one that
// never holds is checked again after the budget has passed.
func TestUntil(t *testing.T) {
	withScale(t, "")
	n := 0
	if !Until(time.Hour, func() bool { n++; return true }) || n != 1 {
		t.Errorf("a condition that holds at once: Until = false or %d checks, want true after 1", n)
	}
	n = 0
	if !Until(time.Hour, func() bool { n++; return n == 3 }) || n != 3 {
		t.Errorf("a condition that holds on the third check: %d checks, want 3", n)
	}
	n = 0
	if Until(0, func() bool { n++; return false }) || n != 2 {
		t.Errorf("a condition that never holds, no budget: %d checks, want 2 (first and last)", n)
	}
}

func TestForFailsNamingTheScale(t *testing.T) {
	withScale(t, "3")
	fake := &fakeTB{TB: t}
	func() {
		defer func() { recover() }()
		For(fake, 0, "the mail", func() bool { return false })
	}()
	if want := "waited 0s (0s × PORTVAKT_TEST_TIMEOUT_SCALE 3) for the mail"; fake.msg != want {
		t.Errorf("For's failure = %q, want %q", fake.msg, want)
	}
}

type fakeTB struct {
	testing.TB
	msg string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	panic("fatal")
}
