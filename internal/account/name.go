package account

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/portvakt/portvakt/internal/problem"
)

// ParseName checks a display name (a person's, or a key's label) typed
// into field: trimmed, at most max characters, and without control
// characters (issue 10, finding 10: a CR/LF in a name reached mail text).
// Refused are the C0 and C1 controls (CR, LF, tab, NUL, …), the line and
// paragraph separators, and the bidirectional overrides and isolates that
// can make a name read differently from what it is. A refusal names the
// characters. An empty name is returned as "" without a problem; the
// caller decides whether one is required.
func ParseName(field, in string, maxLen int) (string, error) {
	s := strings.TrimSpace(in)
	var bad []string
	for _, r := range s {
		if forbiddenInName(r) && len(bad) < 5 {
			bad = append(bad, "U+"+hex4(r))
		}
	}
	if len(bad) > 0 {
		return "", problem.New(problem.Invalid, field, "name.control_char", problem.Args{"chars": strings.Join(bad, ", ")})
	}
	if !utf8.ValidString(s) {
		return "", problem.New(problem.Invalid, field, "name.control_char", problem.Args{"chars": "U+FFFD"})
	}
	if maxLen > 0 && utf8.RuneCountInString(s) > maxLen {
		return "", problem.New(problem.Invalid, field, "name.too_long", problem.Args{"max": maxLen})
	}
	return s, nil
}

func forbiddenInName(r rune) bool {
	switch {
	case unicode.IsControl(r):
		return true
	case r == '\u2028' || r == '\u2029':
		return true
	case r >= '\u202A' && r <= '\u202E', r >= '\u2066' && r <= '\u2069', r == '\u200E', r == '\u200F':
		return true
	}
	return false
}

func hex4(r rune) string {
	const digits = "0123456789ABCDEF"
	var b []byte
	for v := uint32(r); v > 0 || len(b) < 4; v >>= 4 {
		b = append([]byte{digits[v&15]}, b...)
	}
	return string(b)
}
