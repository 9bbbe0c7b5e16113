package config

import (
	"fmt"
	"regexp"
	"slices"
	"sync"
)

// Representation configures acting on behalf of others (issue 14,
// docs/representation.md): a person may act for another account that
// accepts, or for a person without an account such as their child.
type Representation struct {
	// Enabled serves /account/representation, the chooser after sign-in
	// for apps that ask for the scope represent, and token exchange.
	Enabled bool `yaml:"enabled"`
	// RequireApproval makes a person without an account (a child) that
	// someone records wait for an operator's approval
	// (portvakt representation approve, or the admin API).
	RequireApproval bool `yaml:"require_approval"`
	// Rights are the named rights a delegation may carry (e.g.
	// "udi:apply"); a person picks among them. Empty: delegations carry
	// no named rights, and token exchange issues tokens with no scope.
	Rights []string `yaml:"rights"`
	// MaxDays caps how long a delegation may last; 0 means no cap (and
	// no end is required).
	MaxDays int `yaml:"max_days"`
}

var representRightName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9._:-]{1,64}$`) })

// validateRepresentation adds the errors of the representation section.
func (c Config) validateRepresentation(add func(path, format string, args ...any)) {
	r := c.Representation
	for i, name := range r.Rights {
		switch {
		case !representRightName().MatchString(name):
			add(fmt.Sprintf("representation.rights[%d]", i), "must be 1 to 64 letters, digits or . _ : -, but is %q", name)
		case slices.Contains(r.Rights[:i], name):
			add(fmt.Sprintf("representation.rights[%d]", i), "%q is listed twice", name)
		}
	}
	if len(r.Rights) > 50 {
		add("representation.rights", "lists %d rights, more than 50", len(r.Rights))
	}
	if r.MaxDays < 0 || r.MaxDays > 36600 {
		add("representation.max_days", "must be 0 (no cap) to 36600, but is %d", r.MaxDays)
	}
}
