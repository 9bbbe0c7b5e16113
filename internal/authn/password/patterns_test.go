package password_test

import (
	"strings"
	"testing"

	"github.com/portvakt/portvakt/internal/authn/password"
	"github.com/portvakt/portvakt/internal/problem"
)

// TestCheck_commonAndPatterns: the blocklist matters at every length
// (issue 10, finding 10). A common password with digits or punctuation
// around it, or repeated, is refused, and so is a password built on one
// repeated character, a short repeated unit or a sequence, each with its
// own key and arguments, in every preset with a blocklist; ordinary
// passphrases pass.
func TestCheck_commonAndPatterns(t *testing.T) {
	cases := []struct {
		pw   string
		key  string // "" means accepted
		args problem.Args
	}{
		{"password12345678", "password.blocklisted", nil},
		{"Password!2024!!!", "password.blocklisted", nil},
		{"1234dragon!!!!!!", "password.blocklisted", nil},
		{"monkeymonkeymonkey", "password.blocklisted", nil},
		{"iloveyou123iloveyou123", "password.blocklisted", nil},
		{"aaaaaaaaaaaaaaaaaaaa", "password.pattern.repeated_char", problem.Args{"char": "a"}},
		{"zzzzzzzzzzzzzzz1x!", "password.pattern.repeated_char", problem.Args{"char": "z"}},
		{"abcabcabcabcabc1", "password.pattern.repeated", problem.Args{"unit": "abc"}},
		{"xy7Xy7xy7xY7xy7xy7", "password.pattern.repeated", problem.Args{"unit": "xy7"}},
		{"1234567890123456", "password.pattern.sequence", problem.Args{"sequence": "1234567890123456"}},
		{"abcdefghijklmnopq", "password.pattern.sequence", problem.Args{"sequence": "abcdefghijklmnopq"}},
		{"qwertyuiopasdfghjkl", "password.pattern.sequence", problem.Args{"sequence": "qwertyuiop"}},
		{"zyxwvutsrqponmlk!", "password.pattern.sequence", problem.Args{"sequence": "zyxwvutsrqponmlk"}},
		{"9876543210poiuytr", "password.pattern.sequence", problem.Args{"sequence": "9876543210"}},
		{"Fy0101Kx7019Bq0101", "", nil}, // 0101 turns at every step: no sequence
		{"correct horse battery staple", "", nil},
		{"nordlys over lofoten i januar", "", nil},
		{"blå hest på grønn eng i juni", "", nil},
		{"tre små kinesere på høyden", "", nil},
		{"Kaffe og 2 kanelboller 1999!", "", nil},
	}
	for _, preset := range password.Presets() {
		p := mustPolicy(t, password.Config{Preset: preset})
		for _, c := range cases {
			ds := details(t, p.Check(c.pw, password.Context{}))
			var got *problem.Detail
			for i, d := range ds {
				if d.Key == "password.blocklisted" || (len(d.Key) > 17 && d.Key[:17] == "password.pattern.") {
					if got != nil {
						t.Errorf("%s: Check(%q) gave both %s and %s", preset, c.pw, got.Key, d.Key)
					}
					got = &ds[i]
				}
			}
			switch {
			case c.key == "" && got != nil:
				t.Errorf("%s: Check(%q) gave %s %v, want no blocklist or pattern detail", preset, c.pw, got.Key, got.Args)
			case c.key != "" && got == nil:
				t.Errorf("%s: Check(%q) = %v, want %s", preset, c.pw, keys(ds), c.key)
			case c.key != "" && got.Key != c.key:
				t.Errorf("%s: Check(%q) gave %s %v, want %s", preset, c.pw, got.Key, got.Args, c.key)
			case c.key != "" && c.args != nil && !sameArgs(got.Args, c.args):
				t.Errorf("%s: Check(%q) %s args = %v, want %v", preset, c.pw, c.key, got.Args, c.args)
			}
		}
	}
	// nist accepts the passphrases outright.
	p := mustPolicy(t, password.Config{})
	for _, c := range cases {
		if c.key == "" {
			if err := p.Check(c.pw, password.Context{}); err != nil {
				t.Errorf("nist: Check(%q) = %v, want nil", c.pw, err)
			}
		}
	}
	// A policy without the blocklist checks no patterns either.
	if err := (password.Policy{MinLength: 15}).Check("aaaaaaaaaaaaaaaaaaaa", password.Context{}); err != nil {
		t.Errorf("Policy without blocklist: Check(twenty a) = %v, want nil", err)
	}
}

func sameArgs(a, b problem.Args) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range b {
		if a[k] != v {
			return false
		}
	}
	return true
}

// TestPatternMessages: every pattern key and the rule are in every
// catalog, with their arguments filled in.
func TestPatternMessages(t *testing.T) {
	cat := catalog(t)
	p := mustPolicy(t, password.Config{})
	for _, pw := range []string{"aaaaaaaaaaaaaaaaaaaa", "abcabcabcabcabc1", "1234567890123456"} {
		ds := details(t, p.Check(pw, password.Context{}))
		for _, lang := range []string{"en", "nb", "sv"} {
			for _, d := range ds {
				msg := cat.Lang(lang).T(d.Key, d.Args)
				if msg == "" || msg == d.Key || strings.Contains(msg, "{{") || strings.Contains(msg, "<no value>") {
					t.Errorf("%s %s: %q", lang, d.Key, msg)
				}
			}
			if msg := cat.Lang(lang).T("password.rule.patterns"); msg == "" || msg == "password.rule.patterns" {
				t.Errorf("%s password.rule.patterns: %q", lang, msg)
			}
		}
	}
}
