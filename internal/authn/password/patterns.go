package password

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/portvakt/portvakt/internal/problem"
)

// The pattern rule (issue 10, finding 10). A password that is long enough
// may still be built from a few keystrokes: one character held down
// ("aaaaaaaaaaaaaaa"), a short unit typed again and again
// ("abcabcabcabcabc1") or a run along the alphabet, the digits or a
// keyboard row ("1234567890123456", "qwertyuiopasdfgh"). Such passwords are
// among the first an attacker tries at every length, so the rule applies
// wherever the blocklist does. Each kind has its own message key:
//
//	password.pattern.repeated_char  char      mostly one character
//	password.pattern.repeated       unit      a short unit repeated
//	password.pattern.sequence       sequence  an alphabet, digit or keyboard run

// keyboardRows are the rows whose neighbours count as a sequence, forwards
// or backwards: the digit row and the letter rows of QWERTY, QWERTZ and
// AZERTY and the Nordic layouts.
var keyboardRows = []string{
	"1234567890",
	"qwertyuiopå", "asdfghjkløæ", "asdfghjklöä", "zxcvbnm",
	"qwertzuiopü", "yxcvbnm",
	"azertyuiop", "qsdfghjklm", "wxcvbn",
	"!@#$%^&*()",
}

// minRun is the shortest run that counts towards a sequence, and
// minRepeats the fewest times a unit must appear to count as repeated.
const (
	minRun     = 3
	minRepeats = 3
)

// step returns +1 when b follows a in a sequence, -1 when a follows b, and
// 0 otherwise: the next or the previous letter or digit ("ab", "98"), or
// the next key in either direction on one keyboard row ("qw", "lk", "90").
// A run keeps one direction, so "0101" is no sequence.
func step(a, b rune) int {
	if (unicode.IsLetter(a) && unicode.IsLetter(b)) || (unicode.IsDigit(a) && unicode.IsDigit(b)) {
		switch b - a {
		case 1:
			return 1
		case -1:
			return -1
		}
	}
	for _, row := range keyboardRows {
		var prev rune = -1
		for _, r := range row {
			if prev == a && r == b {
				return 1
			}
			if prev == b && r == a {
				return -1
			}
			prev = r
		}
	}
	return 0
}

// mostly reports whether part of n code points is "most" of them: at
// least three quarters.
func mostly(part, n int) bool { return part*4 >= n*3 }

// pattern returns the message key and arguments of the pattern pw is
// built on, or "" when it is none. pw is the prepared password; case is
// ignored. Only the first scoreRunes code points are looked at, which
// bounds the cost and is enough to see a pattern.
func pattern(pw string) (string, problem.Args) {
	rs := []rune(strings.ToLower(firstRunes(pw, scoreRunes)))
	n := len(rs)
	if n < minRepeats {
		return "", nil
	}

	// Mostly one character: more than half of the password.
	counts := map[rune]int{}
	var top rune
	for _, r := range rs {
		counts[r]++
		if counts[r] > counts[top] {
			top = r
		}
	}
	if counts[top]*2 > n && !unicode.IsSpace(top) {
		return "password.pattern.repeated_char", problem.Args{"char": showRune(top)}
	}

	// A short unit repeated: for each unit length, the longest stretch in
	// which every character equals the one a unit before it. It counts
	// when the unit appears at least minRepeats times and the stretch is
	// most of the password.
	for l := 1; l*minRepeats <= n; l++ {
		best, bestEnd, cur := 0, 0, 0
		for i := l; i < n; i++ {
			if rs[i] == rs[i-l] {
				cur++
				if cur+l > best {
					best, bestEnd = cur+l, i+1
				}
			} else {
				cur = 0
			}
		}
		if best >= minRepeats*l && mostly(best, n) {
			start := bestEnd - best
			return "password.pattern.repeated", problem.Args{"unit": string(rs[start : start+l])}
		}
	}

	// Sequences: runs of at least minRun neighbours covering most of it.
	// A run is a stretch of steps in one direction; a character where the
	// direction turns ends one run and starts the next ("1234321"), so
	// it may count twice.
	covered, run, dir, longest, longestEnd := 0, 1, 0, 0, 0
	flush := func(end int) {
		if run >= minRun {
			covered += run
			if run > longest {
				longest, longestEnd = run, end
			}
		}
	}
	for i := 1; i < n; i++ {
		d := step(rs[i-1], rs[i])
		if d != 0 && (run == 1 || d == dir) {
			run, dir = run+1, d
			continue
		}
		flush(i)
		run, dir = 1, 0
		if d != 0 {
			// The direction turned: rs[i-1] also starts the next run.
			run, dir = 2, d
		}
	}
	flush(n)
	if longest > 0 && mostly(min(covered, n), n) {
		return "password.pattern.sequence", problem.Args{"sequence": string(rs[longestEnd-longest : longestEnd])}
	}
	return "", nil
}

// trimmable reports whether r may be cut from either end of a password
// before it is compared with the blocklist: a digit, punctuation, a symbol
// or a space ("password12345678", "!!dragon2024").
func trimmable(r rune) bool {
	return unicode.IsDigit(r) || unicode.IsPunct(r) || unicode.IsSymbol(r) || unicode.IsSpace(r)
}

// unit returns the shortest string that s is a whole repetition of
// ("passwordpassword" gives "password"), or s itself.
func unit(s string) string {
	n := len(s)
	for l := 1; l <= n/2; l++ {
		if n%l == 0 && strings.Repeat(s[:l], n/l) == s {
			return s[:l]
		}
	}
	return s
}

// minBase is the fewest code points a base must have to be compared with
// the blocklist: shorter entries ("abc", "123") would catch too much.
const minBase = 4

// bases returns the lower-cased password and the words it may be built on:
// with digits, punctuation and spaces cut from both ends, with a repeated
// unit collapsed, and both in turn ("Password2024!", "dragondragon",
// "monkey123monkey123"). Bases shorter than minBase are left out.
func bases(pw string) []string {
	s := strings.ToLower(pw)
	out := []string{s}
	add := func(b string) {
		if utf8.RuneCountInString(b) < minBase {
			return
		}
		for _, o := range out {
			if o == b {
				return
			}
		}
		out = append(out, b)
	}
	trim := func(s string) string { return strings.TrimFunc(s, trimmable) }
	t := trim(s)
	add(t)
	u := unit(s)
	add(u)
	add(trim(u))
	v := unit(t)
	add(v)
	add(trim(v))
	return out
}
