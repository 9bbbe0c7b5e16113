package throttle_test

import (
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/throttle"
)

func TestRuleDelayIsProgressive(t *testing.T) {
	r := throttle.Rule{Limit: 30, Base: time.Minute, Max: time.Hour}
	for n, want := range map[int]time.Duration{
		0: 0, 29: 0, 30: time.Minute, 31: 2 * time.Minute, 32: 4 * time.Minute, 35: 32 * time.Minute, 36: time.Hour, 1000: time.Hour,
	} {
		if got := r.Delay(n); got != want {
			t.Errorf("Delay(%d) = %v, want %v", n, got, want)
		}
	}
}

func TestDefaultsBoundEmailedCodeGuessing(t *testing.T) {
	// docs/security/abuse.md: at most Codes.Limit codes per account are
	// checked in any 30 days, each a 1 in 10^6 chance.
	r := throttle.DefaultRules()
	if r.Codes.Window < 30*24*time.Hour || r.Codes.Delay(r.Codes.Limit) < 30*24*time.Hour {
		t.Errorf("Codes rule %+v does not wait 30 days once spent", r.Codes)
	}
	if p := float64(r.Codes.Limit) / 1e6; p > 1.0/10000 {
		t.Errorf("chance of guessing an emailed code in 30 days = %g, want at most 1/10000", p)
	}
	if !r.Account.Lock || r.Account.Limit > 100 {
		t.Errorf("Account rule %+v: want a lock at no more than 100 consecutive failures", r.Account)
	}
}

func TestNetwork(t *testing.T) {
	for in, want := range map[string]string{
		"203.0.113.7": "203.0.113.0/24", "2001:db8:cafe:1:2::3": "2001:db8:cafe:1::/64", "::ffff:192.0.2.9": "192.0.2.0/24", "x": "x",
	} {
		if got := throttle.Network(in); got != want {
			t.Errorf("Network(%q) = %q, want %q", in, got, want)
		}
	}
}
