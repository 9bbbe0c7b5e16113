package config_test

import (
	"strings"
	"testing"

	"github.com/portvakt/portvakt/internal/config"
)

func TestCaptchaValidation(t *testing.T) {
	ok := config.Default()
	if _, err := ok.Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	for name, tc := range map[string]struct {
		mod  func(*config.Captcha)
		want string
	}{
		"provider":         {func(c *config.Captcha) { c.Provider = "friendlycaptcha" }, "captcha.provider"},
		"place":            {func(c *config.Captcha) { c.At = []string{"signup", "everywhere"} }, "captcha.at"},
		"failures":         {func(c *config.Captcha) { c.LoginAfterFailures = 0 }, "captcha.login_after_failures"},
		"work":             {func(c *config.Captcha) { c.MaxNumber = 10 }, "captcha.max_number"},
		"ttl":              {func(c *config.Captcha) { c.TTL = 0 }, "captcha.ttl"},
		"third party keys": {func(c *config.Captcha) { c.Provider = "hcaptcha" }, "needs site_key and secret"},
		"recaptcha keys":   {func(c *config.Captcha) { c.Provider, c.SiteKey = "recaptcha", "site" }, "provider recaptcha needs site_key and secret"},
	} {
		c := config.Default()
		tc.mod(&c.Captcha)
		if _, err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error naming %s", name, err, tc.want)
		}
	}
	for _, p := range []string{"recaptcha", "hcaptcha"} {
		c := config.Default()
		c.Captcha.Provider, c.Captcha.SiteKey, c.Captcha.Secret = p, "site", "very-secret"
		if _, err := c.Validate(); err != nil {
			t.Errorf("provider %s: %v", p, err)
		}
	}
	c := config.Default()
	c.Captcha.Provider, c.Captcha.SiteKey, c.Captcha.Secret = "turnstile", "site", "very-secret"
	if _, err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	out, err := c.Marshal()
	if err != nil || strings.Contains(string(out), "very-secret") {
		t.Errorf("Marshal shows the captcha secret: %s %v", out, err)
	}
}
