package sms

import (
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/portvakt/portvakt/internal/problem"
)

// PhoneField is the form field that ParsePhone's problems belong to.
const PhoneField = "phone"

// region is one row of the numbering table: what ParsePhone needs to turn a
// national number into E.164 and to check its length.
type region struct {
	// code is the country calling code, without "+".
	code string
	// trunk is the national (trunk) prefix dialled before a national
	// number and dropped in E.164: "0" in Sweden, "1" in the US, none in
	// Norway.
	trunk string
	// intl is the prefix dialled before a country code from this region.
	intl string
	// minLen and maxLen bound the national significant number (the digits
	// after the country code). They follow libphonenumber's possible
	// lengths, trimmed to numbers that can receive an SMS.
	minLen, maxLen int
}

// regions is deliberately small: the countries Portvakt's operators serve.
// A row is all it takes to add one; Country and the allowlist follow.
var regions = map[string]region{
	"NO": {code: "47", intl: "00", minLen: 8, maxLen: 8},
	"SE": {code: "46", trunk: "0", intl: "00", minLen: 7, maxLen: 9},
	"DK": {code: "45", intl: "00", minLen: 8, maxLen: 8},
	"FI": {code: "358", trunk: "0", intl: "00", minLen: 5, maxLen: 12},
	"IS": {code: "354", intl: "00", minLen: 7, maxLen: 9},
	"DE": {code: "49", trunk: "0", intl: "00", minLen: 6, maxLen: 13},
	"GB": {code: "44", trunk: "0", intl: "00", minLen: 9, maxLen: 10},
	"US": {code: "1", trunk: "1", intl: "011", minLen: 10, maxLen: 10},
}

// byCode maps a calling code to its region name.
var byCode = func() map[string]string {
	m := make(map[string]string, len(regions))
	for name, r := range regions {
		m[r.code] = name
	}
	return m
}()

// nanpOutsideUS maps the area codes of the North American Numbering Plan
// (+1) that are not in the 50 states to their ISO region. Country needs it
// because +1 is shared by 25 countries and territories, and Caribbean +1
// numbers are a classic target of SMS pumping (SECURITY.md §5.8): an
// allowlist of "US" must not let +1 876 (Jamaica) through.
var nanpOutsideUS = map[string]string{
	// Canada, geographic and non-geographic.
	"204": "CA", "226": "CA", "236": "CA", "249": "CA", "250": "CA", "257": "CA", "263": "CA", "289": "CA",
	"306": "CA", "343": "CA", "354": "CA", "365": "CA", "367": "CA", "368": "CA", "382": "CA", "403": "CA",
	"416": "CA", "418": "CA", "428": "CA", "431": "CA", "437": "CA", "438": "CA", "450": "CA", "468": "CA",
	"474": "CA", "506": "CA", "514": "CA", "519": "CA", "548": "CA", "579": "CA", "581": "CA", "584": "CA",
	"587": "CA", "600": "CA", "604": "CA", "613": "CA", "622": "CA", "639": "CA", "647": "CA", "672": "CA",
	"683": "CA", "705": "CA", "709": "CA", "742": "CA", "753": "CA", "778": "CA", "780": "CA", "782": "CA",
	"807": "CA", "819": "CA", "825": "CA", "867": "CA", "873": "CA", "879": "CA", "902": "CA", "905": "CA",
	"942": "CA",
	// The Caribbean, the Atlantic and the Pacific.
	"242": "BS", "246": "BB", "264": "AI", "268": "AG", "284": "VG", "340": "VI", "345": "KY", "441": "BM",
	"473": "GD", "649": "TC", "658": "JM", "876": "JM", "664": "MS", "670": "MP", "671": "GU", "684": "AS",
	"721": "SX", "758": "LC", "767": "DM", "784": "VC", "787": "PR", "939": "PR", "809": "DO", "829": "DO",
	"849": "DO", "868": "TT", "869": "KN",
}

// twoDigitCodes lists the two-digit country calling codes. With "1" and
// "7" (one digit) they are enough to find where any calling code ends:
// every other code has three digits (ITU-T E.164 assigns codes so that
// none is a prefix of another).
var twoDigitCodes = strings.Fields(`20 27 30 31 32 33 34 36 39 40 41 43 44 45 46 47 48 49
	51 52 53 54 55 56 57 58 60 61 62 63 64 65 66 81 82 84 86 90 91 92 93 94 95 98`)

// callingCodeLen returns how many of the leading digits d (at least one
// digit, not starting with 0) form the country calling code.
func callingCodeLen(d string) int {
	switch {
	case d[0] == '1' || d[0] == '7':
		return 1
	case len(d) >= 2 && slices.Contains(twoDigitCodes, d[:2]):
		return 2
	}
	return 3
}

// maxInput bounds what ParsePhone looks at; a phone number with the most
// generous spacing is well under it.
const maxInput = 64

// Regions returns the ISO 3166-1 region codes ParsePhone knows, sorted:
// the values allowed as its defaultRegion and returned by Country (along
// with the +1 regions outside the US).
func Regions() []string {
	out := make([]string, 0, len(regions))
	for name := range regions {
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

// ParsePhone reads a phone number as a person types it and returns it in
// E.164 form, "+4791234567". It accepts
//
//	+47 912 34 567     international, with "+"
//	0047 912 34 567    international, with the region's prefix (011 from the US)
//	912 34 567         national, in defaultRegion ("NO")
//	08-123 456 78      national with the trunk prefix, dropped (SE "0", US "1")
//	4791234567         the country code without "+", when that is the only reading
//	+44 (0)20 7946 0018  the "(0)" some countries write after the code
//
// Spaces (including no-break spaces), dashes, dots, slashes and
// parentheses are ignored. defaultRegion is an ISO region code from
// Regions, in either case, or "" when every number must carry its country
// code.
//
// A number the user got wrong is a *problem.Problem of kind Invalid on
// field PhoneField, with one of the keys
//
//	phone.required         nothing was typed
//	phone.invalid          letters or other characters, a misplaced "+", or no such number
//	phone.missing_country  a national number, and there is no default region
//	phone.unknown_country  {code: "+372"}; the country is not in the table
//	phone.too_short        {min, max, code: "+47", country: "NO"}
//	phone.too_long         {min, max, code: "+47", country: "NO"}
//
// min and max count the digits after the country code. A defaultRegion
// that is not in Regions is the operator's mistake, not the user's: it is
// a plain error (and only when the number needs it). Config validation
// should check the region against Regions at startup.
func ParsePhone(input, defaultRegion string) (string, error) {
	s := strings.TrimSpace(input)
	if s == "" {
		return "", problem.New(problem.Invalid, PhoneField, "phone.required", nil)
	}
	if len(s) > maxInput {
		return "", problem.New(problem.Invalid, PhoneField, "phone.invalid", nil)
	}
	var (
		digits []byte
		plus   bool
	)
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits = append(digits, byte(r))
		case r == '+' || r == '＋':
			// "+" may only come before the first digit, and once.
			if plus || len(digits) > 0 {
				return "", problem.New(problem.Invalid, PhoneField, "phone.invalid", nil)
			}
			plus = true
		case isPhoneSeparator(r):
		default:
			return "", problem.New(problem.Invalid, PhoneField, "phone.invalid", nil)
		}
	}
	d := string(digits)
	if d == "" {
		return "", problem.New(problem.Invalid, PhoneField, "phone.invalid", nil)
	}
	if plus {
		return international(d)
	}
	if defaultRegion == "" {
		if rest, ok := strings.CutPrefix(d, "00"); ok {
			return international(rest)
		}
		return "", problem.New(problem.Invalid, PhoneField, "phone.missing_country", nil)
	}
	name := strings.ToUpper(defaultRegion)
	reg, ok := regions[name]
	if !ok {
		return "", fmt.Errorf("sms: default region %q is not one of %s", defaultRegion, strings.Join(Regions(), ", "))
	}
	if rest, ok := strings.CutPrefix(d, reg.intl); ok {
		return international(rest)
	}
	nsn := d
	if reg.trunk != "" {
		nsn = strings.TrimPrefix(nsn, reg.trunk)
	}
	// Someone who types 4791234567 meant +47. Read it that way only when
	// it cannot be a national number.
	if rest, ok := strings.CutPrefix(d, reg.code); ok && !reg.fits(nsn) && reg.fits(rest) {
		nsn = rest
	}
	return complete(name, reg, nsn)
}

// international reads d, the digits after "+" or an international prefix.
func international(d string) (string, error) {
	if d == "" || d[0] == '0' {
		return "", problem.New(problem.Invalid, PhoneField, "phone.invalid", nil)
	}
	n := callingCodeLen(d)
	if len(d) < n {
		return "", problem.New(problem.Invalid, PhoneField, "phone.invalid", nil)
	}
	name, ok := byCode[d[:n]]
	if !ok {
		return "", problem.New(problem.Invalid, PhoneField, "phone.unknown_country", problem.Args{"code": "+" + d[:n]})
	}
	reg := regions[name]
	nsn := d[n:]
	// "+44 (0)20 …": the trunk prefix written after the country code. A
	// national significant number never starts with 0 in these regions.
	if reg.trunk == "0" {
		nsn = strings.TrimPrefix(nsn, "0")
	}
	return complete(name, reg, nsn)
}

// complete checks the national significant number nsn of region name and
// returns the E.164 number.
func complete(name string, reg region, nsn string) (string, error) {
	lengths := problem.Args{"min": reg.minLen, "max": reg.maxLen, "code": "+" + reg.code, "country": name}
	if len(nsn) < reg.minLen {
		return "", problem.New(problem.Invalid, PhoneField, "phone.too_short", lengths)
	}
	if len(nsn) > reg.maxLen {
		return "", problem.New(problem.Invalid, PhoneField, "phone.too_long", lengths)
	}
	if nsn[0] == '0' {
		return "", problem.New(problem.Invalid, PhoneField, "phone.invalid", nil)
	}
	// North American numbers are NXX NXX XXXX: neither the area code
	// nor the exchange starts with 0 or 1.
	if reg.code == "1" && (nsn[0] < '2' || nsn[3] < '2') {
		return "", problem.New(problem.Invalid, PhoneField, "phone.invalid", nil)
	}
	return "+" + reg.code + nsn, nil
}

func (r region) fits(nsn string) bool {
	return len(nsn) >= r.minLen && len(nsn) <= r.maxLen && nsn[0] != '0'
}

func isPhoneSeparator(r rune) bool {
	switch r {
	case '-', '.', '/', '(', ')', '‐', '‑', '‒', '–', '—', '−':
		return true
	}
	return unicode.IsSpace(r)
}

// e164Digits returns the digits of an E.164 number: "+" and 7 to 15
// digits, the first not 0.
func e164Digits(s string) (string, bool) {
	d, ok := strings.CutPrefix(s, "+")
	if !ok || len(d) < 7 || len(d) > 15 || d[0] == '0' {
		return "", false
	}
	for i := range len(d) {
		if d[i] < '0' || d[i] > '9' {
			return "", false
		}
	}
	return d, true
}

// Country returns the ISO 3166-1 region of an E.164 number, such as "NO"
// for +4791234567, for checking it against a country allowlist before
// anything is sent (SECURITY.md §5.8). It returns "" for a number whose
// country is not in the table, or that is not a valid E.164 number of its
// country, so an allowlist refuses it.
//
// Numbers under +1 are "US" except for the area codes of Canada and the
// Caribbean and Pacific members of the North American Numbering Plan,
// which return their own region ("CA", "JM", "PR", …).
func Country(e164 string) string {
	d, ok := e164Digits(e164)
	if !ok {
		return ""
	}
	n := callingCodeLen(d)
	name, ok := byCode[d[:n]]
	if !ok || !regions[name].fits(d[n:]) {
		return ""
	}
	if name == "US" {
		if other, ok := nanpOutsideUS[d[1:4]]; ok {
			return other
		}
	}
	return name
}

// Mask hides all but the country code and the last three digits of an
// E.164 number, for showing which phone a code went to:
//
//	+4791234567  → +47 ••• •• 567
//	+12025550123 → +1 ••• •• •• 123
//
// A value that is not an E.164 number, or whose national part is shorter
// than six digits, is masked whole as "•••"; "" stays "".
func Mask(e164 string) string {
	if e164 == "" {
		return ""
	}
	d, ok := e164Digits(e164)
	if !ok {
		return "•••"
	}
	n := callingCodeLen(d)
	nsn := d[n:]
	if len(nsn) < 6 {
		return "•••"
	}
	return "+" + d[:n] + " " + bullets(len(nsn)-3) + " " + nsn[len(nsn)-3:]
}

// bullets returns n bullets in groups of three, never leaving a group of
// one: 5 → "••• ••", 4 → "•• ••", 7 → "••• •• ••".
func bullets(n int) string {
	var groups []int
	for n > 0 {
		g := min(n, 3)
		if n == 4 {
			g = 2
		}
		groups = append(groups, g)
		n -= g
	}
	parts := make([]string, len(groups))
	for i, g := range groups {
		parts[i] = strings.Repeat("•", g)
	}
	return strings.Join(parts, " ")
}
