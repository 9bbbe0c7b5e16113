package app

import (
	"fmt"
	"time"

	"github.com/portvakt/portvakt/internal/captcha"
	"github.com/portvakt/portvakt/internal/captcha/altcha"
	"github.com/portvakt/portvakt/internal/captcha/siteverify"
	"github.com/portvakt/portvakt/internal/config"
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
		key, err := secretsKey(cfg)
		if err != nil {
			return p, fmt.Errorf("captcha: %w", err)
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
