// Package account holds account rules that do not depend on how a request
// arrived: what a valid email address or username is, and (in later
// issues) the account lifecycle.
package account

import (
	"net/mail"
	"strings"
	"unicode/utf8"

	"github.com/portvakt/portvakt/internal/problem"
)

// MaxEmailLength is the longest address accepted (RFC 5321 path limit).
const MaxEmailLength = 254

// ParseEmail checks an email address typed into field and returns it
// trimmed, with the domain lower-cased. A mistake comes back as a
// *problem.Problem that says exactly what is missing, so the user can fix
// it without guessing.
func ParseEmail(field, in string) (string, error) {
	s := strings.TrimSpace(in)
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
	addr, err := mail.ParseAddress(local + "@" + domain)
	if err != nil || addr.Name != "" || addr.Address != local+"@"+domain {
		return "", problem.New(problem.Invalid, field, "email.invalid", problem.Args{"value": s})
	}
	return addr.Address, nil
}
