package app

import (
	"fmt"
	"strings"
	"time"

	"github.com/portvakt/portvakt/internal/captcha"
	"github.com/portvakt/portvakt/internal/captcha/altcha"
	"github.com/portvakt/portvakt/internal/captcha/siteverify"
	"github.com/portvakt/portvakt/internal/config"
	"github.com/portvakt/portvakt/internal/secret"
	"github.com/portvakt/portvakt/internal/store"
)

// captchaPolicy builds captcha.* (issue 10): ALTCHA signs with a key
// derived from the secrets key (the same key sealer uses), so every node
// accepts every node's challenges.
func captchaPolicy(cfg config.Config, counters store.Counters, now func() time.Time) (captcha.Policy, error) {
	c := cfg.Captcha
	p := captcha.Policy{At: c.At, LoginAfterFailures: c.LoginAfterFailures}
	switch c.Provider {
	case "", "off":
		return captcha.Policy{}, nil
	case "altcha":
		var key []byte
		var err error
		switch {
		case cfg.Secrets.Key != "":
			key, err = secret.ParseKey(cfg.Secrets.Key)
		case cfg.Database.Driver == "sqlite":
			key, err = secret.LoadOrCreateKey(strings.TrimPrefix(cfg.Database.DSN, "file:") + ".key")
		default:
			return p, fmt.Errorf("captcha: secrets.key must be set for driver %s", cfg.Database.Driver)
		}
		if err != nil {
			return p, fmt.Errorf("captcha: secrets.key: %w", err)
		}
		p.Verifier = &altcha.Verifier{HMACKey: altcha.DeriveKey(key), Counters: counters, MaxNumber: c.MaxNumber, TTL: c.TTL.D(), Now: now}
	case "turnstile":
		p.Verifier = siteverify.Turnstile(c.SiteKey, c.Secret)
	case "hcaptcha":
		p.Verifier = siteverify.HCaptcha(c.SiteKey, c.Secret)
	case "recaptcha":
		p.Verifier = siteverify.ReCAPTCHA(c.SiteKey, c.Secret)
	default:
		return p, fmt.Errorf("captcha.provider: unknown %q", c.Provider)
	}
	return p, nil
}
