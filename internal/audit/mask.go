package audit

import "strings"

// Mask hides the national identity numbers and phone numbers in s: every
// run of eight or more digits (a Norwegian fødselsnummer, a Swedish
// personnummer, a phone number with or without its country code, with up
// to three single spaces, hyphens or plus signs between digit groups)
// keeps only its last two digits, the others becoming "•". A leading "+"
// and the two digits after it (a country code) stay. Runs that touch a
// letter or digit on either side (part of an identifier, such as an
// account ID) and shorter runs (a year, a count) are left alone.
//
//	"+4791234567"   → "+47••••••67"
//	"01017012345"   → "•••••••••45"
//	"700101-1234"   → "••••••-••34"
func Mask(s string) string {
	if !strings.ContainsAny(s, "0123456789") {
		return s
	}
	b := []byte(s)
	var out strings.Builder
	out.Grow(len(s) + 16)
	i := 0
	for i < len(b) {
		start := i
		plus := false
		if b[i] == '+' && i+1 < len(b) && isDigit(b[i+1]) && (i == 0 || !isAlnum(b[i-1])) {
			plus = true
			i++
		} else if !isDigit(b[i]) || (i > 0 && isAlnum(b[i-1])) {
			out.WriteByte(b[i])
			i++
			continue
		}
		// Consume digits with at most three single separators.
		end, digits, seps := i, 0, 0
		for end < len(b) {
			if isDigit(b[end]) {
				digits++
				end++
				continue
			}
			if seps < 3 && (b[end] == ' ' || b[end] == '-' || b[end] == '+') && end+1 < len(b) && isDigit(b[end+1]) {
				seps++
				end++
				continue
			}
			break
		}
		run := b[start:end]
		if digits < 8 || (end < len(b) && isAlnum(b[end])) {
			out.Write(run)
			i = end
			continue
		}
		keepHead := 0
		if plus {
			keepHead = 2
		}
		seen := 0
		for _, c := range run {
			if !isDigit(c) {
				out.WriteByte(c)
				continue
			}
			seen++
			if seen <= keepHead || seen > digits-2 {
				out.WriteByte(c)
			} else {
				out.WriteString("•")
			}
		}
		i = end
	}
	return out.String()
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isAlnum(c byte) bool {
	return isDigit(c) || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}
