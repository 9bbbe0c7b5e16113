package config

import (
	"fmt"
	"regexp"
	"slices"
	"sync"
	"time"
)

// Rights are the deployment's named rights (issue 14): what a person
// holds for themselves or for an organisation, what an end-user system
// may use, and what access tokens carry as their scope.
type Rights struct {
	// Defined lists every right of the deployment, each with a name
	// ("altinn:submit") and a description shown to users.
	Defined []Right `yaml:"defined"`
	// Personal are the defined rights every person holds for themselves.
	Personal []string `yaml:"personal"`
}

// Right is one named right.
type Right struct {
	// Name is letters, digits and . _ : - (no spaces), at most 64.
	Name string `yaml:"name"`
	// Description says in a few words what it allows ("Submit forms").
	Description string `yaml:"description"`
}

// Names returns the defined rights' names.
func (r Rights) Names() []string {
	out := make([]string, 0, len(r.Defined))
	for _, d := range r.Defined {
		out = append(out, d.Name)
	}
	return out
}

// Systems configures end-user systems and signing a person in through
// one (issue 14, docs/systems.md).
type Systems struct {
	// Enabled shows "Systems" on the account page and serves
	// /api/v1/systems/login.
	Enabled bool `yaml:"enabled"`
	// Audience are the client IDs (resource servers) whose introspection
	// sees tokens issued through systems.
	Audience []string `yaml:"audience"`
	// AccessTokenTTL is the lifetime of such a token.
	AccessTokenTTL Duration `yaml:"access_token_ttl"`
	// RefreshTokens issues a refresh token with the access token;
	// RefreshTokenTTL is the whole grant's lifetime.
	RefreshTokens   bool     `yaml:"refresh_tokens"`
	RefreshTokenTTL Duration `yaml:"refresh_token_ttl"`
	// HandleTTL is how long the handle of a started sign-in (and its SMS
	// code) works.
	HandleTTL Duration `yaml:"handle_ttl"`
	// MaxPerAccount caps the systems one person (or organisation) has.
	MaxPerAccount int `yaml:"max_per_account"`
	// MaxLifetime caps a system's expiry; 0 allows systems without one.
	MaxLifetime Duration `yaml:"max_lifetime"`
}

func defaultSystems() Systems {
	return Systems{
		AccessTokenTTL:  Duration(10 * time.Minute),
		RefreshTokenTTL: Duration(8 * time.Hour),
		HandleTTL:       Duration(5 * time.Minute),
		MaxPerAccount:   20,
	}
}

var rightName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9._:-]{1,64}$`) })

// validateSystems adds the errors of the rights and systems sections.
func (c Config) validateSystems(add func(path, format string, args ...any)) {
	var names []string
	for i, d := range c.Rights.Defined {
		switch {
		case !rightName().MatchString(d.Name):
			add(fmt.Sprintf("rights.defined[%d].name", i), "must be 1 to 64 letters, digits or . _ : -, but is %q", d.Name)
		case slices.Contains(names, d.Name):
			add(fmt.Sprintf("rights.defined[%d].name", i), "%q is defined twice", d.Name)
		case slices.Contains([]string{"openid", "profile", "email", "phone", "address", "offline_access"}, d.Name):
			add(fmt.Sprintf("rights.defined[%d].name", i), "%q is a standard OpenID scope, not a right", d.Name)
		}
		names = append(names, d.Name)
	}
	for i, p := range c.Rights.Personal {
		if !slices.Contains(names, p) {
			add(fmt.Sprintf("rights.personal[%d]", i), "%q is not in rights.defined", p)
		}
	}
	s := c.Systems
	if s.Enabled && len(names) == 0 {
		add("systems.enabled", "needs rights.defined: a system acts through named rights")
	}
	if s.Enabled && !c.OIDC.Enabled {
		add("systems.enabled", "needs oidc.enabled: tokens issued through systems are the OpenID Provider's")
	}
	if time.Duration(s.AccessTokenTTL) < time.Minute || time.Duration(s.AccessTokenTTL) > 24*time.Hour {
		add("systems.access_token_ttl", "must be between 1m and 24h, but is %s", time.Duration(s.AccessTokenTTL))
	}
	if s.RefreshTokens && time.Duration(s.RefreshTokenTTL) < time.Duration(s.AccessTokenTTL) {
		add("systems.refresh_token_ttl", "must be at least systems.access_token_ttl")
	}
	if time.Duration(s.HandleTTL) < time.Minute || time.Duration(s.HandleTTL) > 30*time.Minute {
		add("systems.handle_ttl", "must be between 1m and 30m, but is %s", time.Duration(s.HandleTTL))
	}
	if s.MaxPerAccount < 1 || s.MaxPerAccount > 1000 {
		add("systems.max_per_account", "must be between 1 and 1000, but is %d", s.MaxPerAccount)
	}
	if s.MaxLifetime < 0 {
		add("systems.max_lifetime", "must not be negative")
	}
}
