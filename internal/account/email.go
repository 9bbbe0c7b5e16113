// Package account holds account rules that do not depend on how a request
// arrived: what a valid email address or username is, and (in later
// issues) the account lifecycle.
package account

import (
	"net/mail"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/text/unicode/norm"

	"github.com/portvakt/portvakt/internal/problem"
)

// MaxEmailLength is the longest address accepted (RFC 5321 path limit).
const MaxEmailLength = 254

// ParseEmail checks an email address typed into field and returns it
// trimmed and in one form (issue 10, finding 10): NFC, the domain through
// IDNA (UTS #46 lookup: lower-cased, full-width and other compatibility
// forms mapped) in its ASCII form, so "Kari@BLÅBÆR.no", "kari@blåbær.no"
// typed decomposed and "kari@xn--blbr-roa2b.no" are one address. The
// local part keeps its case here; the store compares it case-insensitively
// (EmailKey). A mistake comes back as a
// *problem.Problem that says exactly what is missing, so the user can fix
// it without guessing.
func ParseEmail(field, in string) (string, error) {
	s := norm.NFC.String(strings.TrimSpace(in))
	if s == "" {
		return "", problem.New(problem.Invalid, field, "email.required", nil)
	}
	if utf8.RuneCountInString(s) > MaxEmailLength {
		return "", problem.New(problem.Invalid, field, "email.too_long", problem.Args{"max": MaxEmailLength})
	}
	missing := func(what string) error {
		return problem.New(problem.Invalid, field, "email.invalid_missing", problem.Args{"value": s, "missing": problem.Ref(what)})
	}
	at := strings.LastIndexByte(s, '@')
	switch {
	case at < 0:
		return "", missing("email.missing_at")
	case at == 0:
		return "", missing("email.missing_local")
	case at == len(s)-1:
		return "", missing("email.missing_domain")
	}
	local, domain := s[:at], strings.ToLower(s[at+1:])
	if !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") {
		return "", missing("email.missing_dot")
	}
	ascii, err := idna.Lookup.ToASCII(domain)
	if err != nil || ascii == "" {
		return "", problem.New(problem.Invalid, field, "email.invalid", problem.Args{"value": s})
	}
	domain = ascii
	if utf8.RuneCountInString(local)+1+len(domain) > MaxEmailLength {
		return "", problem.New(problem.Invalid, field, "email.too_long", problem.Args{"max": MaxEmailLength})
	}
	addr, err := mail.ParseAddress(local + "@" + domain)
	if err != nil || addr.Name != "" || addr.Address != local+"@"+domain {
		return "", problem.New(problem.Invalid, field, "email.invalid", problem.Args{"value": s})
	}
	return addr.Address, nil
}

// EmailKey is the form in which two addresses are the same one: as
// ParseEmail gives it, lower-cased whole (local parts are compared
// case-insensitively, as every mail provider users meet treats them). It
// also normalises an address that did not come through ParseEmail (one
// stored before it normalised, or from an upstream).
func EmailKey(address string) string {
	address = norm.NFC.String(address)
	if at := strings.LastIndexByte(address, '@'); at >= 0 {
		if ascii, err := idna.Lookup.ToASCII(address[at+1:]); err == nil && ascii != "" {
			address = address[:at+1] + ascii
		}
	}
	return strings.ToLower(address)
}
