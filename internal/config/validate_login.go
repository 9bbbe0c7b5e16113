package config

import (
	"time"
)

// The login and flows sections.
func (c Config) validateLogin(k *checker) {
	if len(c.Login.Methods) == 0 {
		k.add("login.methods", "must list at least one of email, username")
	}
	for _, m := range c.Login.Methods {
		if m != "email" && m != "username" {
			k.add("login.methods", "must list only email and username, but has %q", m)
		}
	}
	if c.Login.UsernameNationalID != "" {
		k.oneOf("login.username_national_id", c.Login.UsernameNationalID, "no", "se")
	}
	if c.Login.Failures < 1 || c.Login.Failures > 100 {
		k.add("login.failures", "must be between 1 and 100 (NIST SP 800-63B-4 allows at most 100 failures), but is %d", c.Login.Failures)
	}
	if c.Login.Window.D() < time.Minute {
		k.add("login.window", "must be at least 1m, but is %s", c.Login.Window)
	}
	if c.Flows.CodeTTL.D() < time.Minute || c.Flows.CodeTTL.D() > time.Hour {
		k.add("flows.code_ttl", "must be between 1m and 1h, but is %s", c.Flows.CodeTTL)
	}
	if c.Flows.CodeTTL.D() > 10*time.Minute {
		k.warn("flows.code_ttl: " + c.Flows.CodeTTL.String() + " is longer than the 10 minutes NIST SP 800-63B-4 allows for an emailed code")
	}
	if c.Flows.CodeAttempts < 1 || c.Flows.CodeAttempts > 10 {
		k.add("flows.code_attempts", "must be between 1 and 10, but is %d", c.Flows.CodeAttempts)
	}
	if c.Flows.ResendAfter.D() < 0 || c.Flows.ResendAfter.D() > 10*time.Minute {
		k.add("flows.resend_after", "must be between 0s and 10m, but is %s", c.Flows.ResendAfter)
	}
	if c.Flows.LinkTTL.D() < 5*time.Minute || c.Flows.LinkTTL.D() > 24*time.Hour {
		k.add("flows.link_ttl", "must be between 5m and 24h, but is %s", c.Flows.LinkTTL)
	}
}
