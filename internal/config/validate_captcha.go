package config

import (
	"slices"
	"time"
)

// The captcha section.
func (c Config) validateCaptcha(k *checker) {
	k.oneOf("captcha.provider", c.Captcha.Provider, "altcha", "off", "turnstile", "hcaptcha", "recaptcha")
	for _, at := range c.Captcha.At {
		k.oneOf("captcha.at", at, "signup", "recovery", "login_after_failures")
	}
	if c.Captcha.LoginAfterFailures < 1 {
		k.add("captcha.login_after_failures", "must be at least 1, but is %d", c.Captcha.LoginAfterFailures)
	}
	if c.Captcha.MaxNumber < 1000 || c.Captcha.MaxNumber > 10_000_000 {
		k.add("captcha.max_number", "must be between 1000 and 10000000, but is %d", c.Captcha.MaxNumber)
	}
	if c.Captcha.TTL.D() < time.Minute {
		k.add("captcha.ttl", "must be at least 1m")
	}
	if c.Captcha.NoJSBudget < 0 {
		k.add("captcha.nojs_budget", "must not be negative")
	}
	if slices.Contains([]string{"turnstile", "hcaptcha", "recaptcha"}, c.Captcha.Provider) && (c.Captcha.SiteKey == "" || c.Captcha.Secret == "") {
		k.add("captcha", "provider %s needs site_key and secret", c.Captcha.Provider)
	}
}
