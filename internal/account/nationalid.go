package account

import (
	"strings"
	"time"

	"github.com/portvakt/portvakt/internal/problem"
)

// National identity number kinds a portal may use as its username
// (login.username_national_id).
const (
	// NationalIDNorway is a Norwegian fødselsnummer or D-nummer: 11
	// digits, DDMMYY plus a three-digit individual number and two mod-11
	// control digits. A D-nummer adds 4 to the first digit.
	NationalIDNorway = "no"
	// NationalIDSweden is a Swedish personnummer or samordningsnummer:
	// YYMMDD-NNNC (10 digits) or YYYYMMDDNNNC (12 digits), the last digit a
	// Luhn check digit over the 10-digit form. A samordningsnummer adds 60
	// to the day.
	NationalIDSweden = "se"
)

// ParseNationalID checks a national identity number of kind typed into
// field, before any password is looked at, and returns it in the form
// accounts hold: digits only (11 for Norway; 10 for Sweden, YYMMDDNNNC).
// Spaces, and the "-" or "+" of a personnummer, are allowed. A mistake
// comes back as a *problem.Problem that says what is wrong: the number of
// digits, a date that is no date, or control digits that do not match (a
// typing error, most likely). The number itself is never put in a
// message, so it is not echoed or logged.
func ParseNationalID(field, kind, in string) (string, error) {
	s := strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\u00a0', '-', '+', '.':
			return -1
		}
		return r
	}, strings.TrimSpace(in))
	if s == "" {
		return "", problem.New(problem.Invalid, field, "nationalid."+kind+".required", nil)
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return "", problem.New(problem.Invalid, field, "nationalid."+kind+".digits", nil)
		}
	}
	switch kind {
	case NationalIDNorway:
		if len(s) != 11 {
			return "", problem.New(problem.Invalid, field, "nationalid.no.length", problem.Args{"count": len(s)})
		}
		if !validDate(s[0:2], s[2:4], 40, 40) {
			return "", problem.New(problem.Invalid, field, "nationalid.no.date", nil)
		}
		if !fodselsnummerControl(s) {
			return "", problem.New(problem.Invalid, field, "nationalid.no.control", nil)
		}
		return s, nil
	case NationalIDSweden:
		if len(s) == 12 {
			s = s[2:]
		}
		if len(s) != 10 {
			return "", problem.New(problem.Invalid, field, "nationalid.se.length", problem.Args{"count": len(s)})
		}
		if !validDate(s[4:6], s[2:4], 60, 0) {
			return "", problem.New(problem.Invalid, field, "nationalid.se.date", nil)
		}
		if !luhn(s) {
			return "", problem.New(problem.Invalid, field, "nationalid.se.control", nil)
		}
		return s, nil
	}
	return s, nil
}

// validDate reports whether day dd and month mm (two digits each) can be
// a birth date; dayShift (D-nummer 40, samordningsnummer 60) and
// monthShift (Norway's H-numbers and synthetic test numbers add 40 or 80
// to the month) are taken off first.
func validDate(dd, mm string, dayShift, monthShift int) bool {
	d := int(dd[0]-'0')*10 + int(dd[1]-'0')
	m := int(mm[0]-'0')*10 + int(mm[1]-'0')
	if d > dayShift && dayShift > 0 && d-dayShift <= 31 {
		d -= dayShift
	}
	for _, shift := range []int{monthShift, 2 * monthShift} {
		if monthShift > 0 && m > shift && m-shift <= 12 {
			m -= shift
			break
		}
	}
	if m < 1 || m > 12 || d < 1 {
		return false
	}
	// 2000 is a leap year, so 29 February is accepted for any century.
	return d <= time.Date(2000, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// fodselsnummerControl checks the two mod-11 control digits of an
// 11-digit Norwegian number.
func fodselsnummerControl(s string) bool {
	digit := func(i int) int { return int(s[i] - '0') }
	control := func(weights []int) int {
		sum := 0
		for i, w := range weights {
			sum += w * digit(i)
		}
		k := 11 - sum%11
		if k == 11 {
			k = 0
		}
		return k // 10 means no valid number has these digits
	}
	k1 := control([]int{3, 7, 6, 1, 8, 9, 4, 5, 2})
	k2 := control([]int{5, 4, 3, 2, 7, 6, 5, 4, 3, 2})
	return k1 != 10 && k1 == digit(9) && k2 != 10 && k2 == digit(10)
}

// luhn checks the Luhn check digit of a 10-digit Swedish number.
func luhn(s string) bool {
	sum := 0
	for i := 0; i < len(s); i++ {
		d := int(s[i] - '0')
		if i%2 == 0 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}

// MaskNationalID shows a national identity number as the birth date with
// the personal part hidden: "010170 •••••" (Norway), "700101-••••"
// (Sweden). Anything else is returned as it is.
func MaskNationalID(kind, s string) string {
	switch {
	case kind == NationalIDNorway && len(s) == 11:
		return s[:6] + " •••••"
	case kind == NationalIDSweden && len(s) == 10:
		return s[:6] + "-••••"
	}
	return s
}
