package config

import (
	"time"
)

// The session section.
func (c Config) validateSession(k *checker) {
	if c.Session.IdleTimeout.D() < time.Minute || c.Session.IdleTimeout.D() > 24*time.Hour {
		k.add("session.idle_timeout", "must be between 1m and 24h, but is %s", c.Session.IdleTimeout)
	}
	if c.Session.AbsoluteTimeout.D() < c.Session.IdleTimeout.D() || c.Session.AbsoluteTimeout.D() > 30*24*time.Hour {
		k.add("session.absolute_timeout", "must be at least session.idle_timeout (%s) and at most 720h, but is %s", c.Session.IdleTimeout, c.Session.AbsoluteTimeout)
	}
	if c.Session.IdleTimeout.D() > time.Hour {
		k.warn("session.idle_timeout: " + c.Session.IdleTimeout.String() + " is longer than the 1h NIST SP 800-63B-4 allows at AAL2")
	}
	if c.Session.AbsoluteTimeout.D() > 24*time.Hour {
		k.warn("session.absolute_timeout: " + c.Session.AbsoluteTimeout.String() + " is longer than the 24h NIST SP 800-63B-4 allows at AAL2")
	}
}
