// Package problem describes a user's mistake in a way every channel can show:
// a Kind (which decides the HTTP status), and one or more Details, each a
// message key with named arguments and the form field it belongs to.
//
// A Problem is rendered next to its field on an HTML page (with the user's
// input kept) and as RFC 9457 application/problem+json for the API. Anything
// that is not a *Problem is an internal error: it is logged with detail and
// the user sees a 500 page with a request ID.
package problem

import (
	"errors"
	"net/http"
	"strings"
)

// Kind classifies a problem. The values are append-only: API clients match
// on their names, so never reorder or remove one.
type Kind int

const (
	Invalid Kind = iota + 1
	Unauthorized
	Forbidden
	NotFound
	Conflict
	TooManyAttempts
	Expired
)

var kindNames = map[Kind]string{
	Invalid:         "invalid",
	Unauthorized:    "unauthorized",
	Forbidden:       "forbidden",
	NotFound:        "not-found",
	Conflict:        "conflict",
	TooManyAttempts: "too-many-attempts",
	Expired:         "expired",
}

// String returns the kind's stable name, used in the problem type URI.
func (k Kind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return "invalid"
}

// Status returns the HTTP status code for the kind.
func (k Kind) Status() int {
	switch k {
	case Unauthorized:
		return http.StatusUnauthorized
	case Forbidden:
		return http.StatusForbidden
	case NotFound:
		return http.StatusNotFound
	case Conflict:
		return http.StatusConflict
	case TooManyAttempts:
		return http.StatusTooManyRequests
	case Expired:
		return http.StatusGone
	default:
		return http.StatusUnprocessableEntity
	}
}

// Args are a message's named arguments, e.g. {"min": 8}.
type Args map[string]any

// Detail is one thing the user must fix. Field is the form field name it
// belongs to ("" for the form as a whole). Key is a message key in the
// i18n catalogs; Args fill its placeholders.
type Detail struct {
	Field string
	Key   string
	Args  Args
}

// Problem is a user-facing error. The zero value is not useful; use New.
type Problem struct {
	Kind    Kind
	Details []Detail
}

// New returns a problem with one detail.
func New(kind Kind, field, key string, args Args) *Problem {
	return &Problem{Kind: kind, Details: []Detail{{Field: field, Key: key, Args: args}}}
}

// Add appends a detail and returns p, so rules can be collected:
//
//	p := &problem.Problem{Kind: problem.Invalid}
//	p.Add("password", "password.too_short", problem.Args{"min": 8})
func (p *Problem) Add(field, key string, args Args) *Problem {
	p.Details = append(p.Details, Detail{Field: field, Key: key, Args: args})
	return p
}

// OrNil returns p if it holds any detail, and nil otherwise. It lets a
// validator collect every broken rule and return nothing when none broke.
func (p *Problem) OrNil() error {
	if p == nil || len(p.Details) == 0 {
		return nil
	}
	return p
}

// Error lists the keys; it is meant for logs and tests, never for users.
func (p *Problem) Error() string {
	keys := make([]string, len(p.Details))
	for i, d := range p.Details {
		if d.Field != "" {
			keys[i] = d.Field + ": " + d.Key
		} else {
			keys[i] = d.Key
		}
	}
	return "problem " + p.Kind.String() + ": " + strings.Join(keys, ", ")
}

// For returns the details that belong to field.
func (p *Problem) For(field string) []Detail {
	var out []Detail
	for _, d := range p.Details {
		if d.Field == field {
			out = append(out, d)
		}
	}
	return out
}

// As reports whether err is or wraps a *Problem and returns it.
func As(err error) (*Problem, bool) {
	var p *Problem
	if errors.As(err, &p) {
		return p, true
	}
	return nil, false
}

// Ref is a message argument that is itself a message key, translated in
// the same language before it is put into the message:
//
//	problem.Args{"missing": problem.Ref("email.missing_at")}
type Ref string

// MessageKey returns the key; the i18n package looks for this method.
func (r Ref) MessageKey() string { return string(r) }
