package password_test

import (
	"testing"

	"github.com/portvakt/portvakt/internal/authn/password"
	"github.com/portvakt/portvakt/internal/problem"
)

// RulesFor shows the one minimum length that Check applies to the account,
// and the rule shown agrees with Check at the boundary.
func TestPolicy_RulesFor(t *testing.T) {
	cat := catalog(t)
	en := cat.Lang("en")
	tests := []struct {
		preset  string
		hasMFA  bool
		wantKey string
		want    string
		min     int
	}{
		{"altinn", true, "password.rule.min_length_has_mfa", "At least 8 characters, since your account uses two-step verification", 8},
		{"altinn", false, "password.rule.min_length", "At least 15 characters", 15},
		{"nist", true, "password.rule.min_length_has_mfa", "At least 8 characters, since your account uses two-step verification", 8},
		{"nist", false, "password.rule.min_length", "At least 15 characters", 15},
		// A second factor does not lower visma's minimum: nothing to explain.
		{"visma", true, "password.rule.min_length", "At least 8 characters", 8},
		{"visma", false, "password.rule.min_length", "At least 8 characters", 8},
	}
	for _, tt := range tests {
		p := mustPolicy(t, password.Config{Preset: tt.preset})
		rules := p.RulesFor(tt.hasMFA)
		all := p.Rules()
		if len(rules) != len(all) {
			t.Fatalf("%s RulesFor(%v) has %d rules, Rules() %d", tt.preset, tt.hasMFA, len(rules), len(all))
		}
		for i, r := range rules {
			checkRendered(t, cat, r.Key, r.Args)
			if i > 0 && r.Key != all[i].Key {
				t.Errorf("%s RulesFor(%v)[%d] = %s, want Rules()'s %s", tt.preset, tt.hasMFA, i, r.Key, all[i].Key)
			}
			if r.Key == "password.rule.min_length_mfa" {
				t.Errorf("%s RulesFor(%v) names both lengths", tt.preset, tt.hasMFA)
			}
		}
		if rules[0].Key != tt.wantKey || en.T(rules[0].Key, rules[0].Args) != tt.want {
			t.Errorf("%s RulesFor(%v)[0] = %s %q, want %s %q", tt.preset, tt.hasMFA, rules[0].Key, en.T(rules[0].Key, rules[0].Args), tt.wantKey, tt.want)
		}
		// The rule shown is the rule applied: min characters pass the
		// length rule, one fewer does not.
		ctx := password.Context{HasMFA: tt.hasMFA}
		if ds := details(t, p.Check("Kq7vRb2xWm9pLz4tNc6h"[:tt.min], ctx)); hasKey(ds, "password.too_short") {
			t.Errorf("%s with HasMFA=%v refuses %d characters as too short", tt.preset, tt.hasMFA, tt.min)
		}
		if ds := details(t, p.Check("Kq7vRb2xWm9pLz4tNc6h"[:tt.min-1], ctx)); !hasKey(ds, "password.too_short") {
			t.Errorf("%s with HasMFA=%v accepts %d characters", tt.preset, tt.hasMFA, tt.min-1)
		}
	}
	// Rules, for a page that does not know whose password it is, still
	// names both.
	if r := mustPolicy(t, password.Config{Preset: "altinn"}).Rules()[0]; r.Key != "password.rule.min_length_mfa" {
		t.Errorf("altinn Rules()[0] = %s, want min_length_mfa", r.Key)
	}
}

func hasKey(ds []problem.Detail, key string) bool {
	for _, d := range ds {
		if d.Key == key {
			return true
		}
	}
	return false
}
