package config

import (
	"fmt"
	"time"
)

// The mfa section and the assurance levels.
func (c Config) validateMFA(k *checker) {
	k.oneOf("mfa.mode", c.MFA.Mode, "off", "optional", "required")
	for _, m := range c.MFA.Methods {
		switch m {
		case "webauthn", "totp", "recovery", "sms", "email", "support":
		default:
			k.add("mfa.methods", "must list only webauthn, totp, recovery, sms, email and support, but has %q", m)
		}
	}
	if c.MFA.Mode == "required" && len(c.MFA.Methods) == 0 {
		k.add("mfa.methods", "must list at least one method when mfa.mode is required")
	}
	if c.MFA.RememberDays < 0 || c.MFA.RememberDays > 90 {
		k.add("mfa.remember_days", "must be between 0 and 90, but is %d", c.MFA.RememberDays)
	}
	if c.MFA.RememberDays > 30 {
		k.warn(fmt.Sprintf("mfa.remember_days: %d days without a second factor is longer than the 30 days NIST SP 800-63B-4 allows for a remembered device at AAL2", c.MFA.RememberDays))
	}
	if c.MFA.SMSTTL.D() < time.Minute || c.MFA.SMSTTL.D() > 10*time.Minute {
		k.add("mfa.sms_ttl", "must be between 1m and 10m, but is %s", c.MFA.SMSTTL)
	}
	if c.MFA.EmailTTL.D() < time.Minute || c.MFA.EmailTTL.D() > 24*time.Hour {
		k.add("mfa.email_ttl", "must be between 1m and 24h, but is %s", c.MFA.EmailTTL)
	}
	if c.MFA.ReauthAfter.D() < time.Minute || c.MFA.ReauthAfter.D() > 12*time.Hour {
		k.add("mfa.reauth_after", "must be between 1m and 12h, but is %s", c.MFA.ReauthAfter)
	}
	// The assurance model (docs/security/assurance.md): a password or an
	// emailed code is one factor, level 1, whatever is configured; a
	// second factor makes a two-factor sign-in, level 2 at least.
	for name, lvl := range map[string]int{"password": c.MFA.Levels.Password, "email": c.MFA.Levels.Email} {
		if lvl != 1 {
			k.add("mfa.levels."+name, "must be 1 (alone it is one factor; see docs/security/assurance.md), but is %d", lvl)
		}
	}
	for name, lvl := range map[string]int{"sms": c.MFA.Levels.SMS, "totp": c.MFA.Levels.TOTP, "recovery": c.MFA.Levels.Recovery, "support": c.MFA.Levels.Support, "webauthn": c.MFA.Levels.WebAuthn} {
		if lvl < 2 || lvl > 4 {
			k.add("mfa.levels."+name, "must be between 2 and 4 (a second factor makes two), but is %d", lvl)
		}
	}
	for name, a := range c.MFA.Actions {
		if a.MinLevel < 1 || a.MinLevel > 4 {
			k.add("mfa.actions."+name+".min_level", "must be between 1 and 4, but is %d", a.MinLevel)
		}
	}
}
