package config

import (
	"fmt"
	"strings"
)

// checker collects what one Validate run finds: every mistake, and the
// warnings (allowed, but worth a second look).
type checker struct {
	es       Errors
	warnings []string
}

// add records a mistake at path.
func (k *checker) add(path, format string, args ...any) {
	k.es = append(k.es, Error{Path: path, Message: fmt.Sprintf(format, args...)})
}

// oneOf records a mistake unless v is one of allowed.
func (k *checker) oneOf(path, v string, allowed ...string) {
	for _, a := range allowed {
		if v == a {
			return
		}
	}
	k.add(path, "must be one of %s, but is %q", strings.Join(allowed, ", "), v)
}

// warn records a warning.
func (k *checker) warn(w string) { k.warnings = append(k.warnings, w) }

// Error is one configuration mistake.
type Error struct {
	Path    string
	Message string
}

func (e Error) String() string { return e.Path + ": " + e.Message }

// Errors is every mistake found by Validate.
type Errors []Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.String()
	}
	return strings.Join(lines, "\n")
}
