// Package siteverify is the optional third-party captcha.Verifier:
// Cloudflare Turnstile, hCaptcha or Google reCAPTCHA (v2, the checkbox),
// whose widget the operator embeds and
// whose siteverify endpoint checks the token over HTTP. Unlike ALTCHA it
// sends the token and the client's address to that third party.
package siteverify

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/portvakt/portvakt/internal/captcha"
)

// Endpoints of the providers.
const (
	TurnstileURL = "https://challenges.cloudflare.com/turnstile/v0/siteverify"
	HCaptchaURL  = "https://api.hcaptcha.com/siteverify"
	ReCAPTCHAURL = "https://www.google.com/recaptcha/api/siteverify"
)

// Verifier asks a siteverify endpoint.
type Verifier struct {
	// Provider is "turnstile", "hcaptcha" or "recaptcha".
	Provider string
	// URL is the siteverify endpoint (TurnstileURL, HCaptchaURL or
	// ReCAPTCHAURL; a test server in tests).
	URL     string
	SiteKey string
	Secret  string
	// Client may be nil (a client with a 10 s timeout).
	Client *http.Client
}

// Turnstile returns a Verifier for Cloudflare Turnstile.
func Turnstile(siteKey, secret string) *Verifier {
	return &Verifier{Provider: "turnstile", URL: TurnstileURL, SiteKey: siteKey, Secret: secret}
}

// HCaptcha returns a Verifier for hCaptcha.
func HCaptcha(siteKey, secret string) *Verifier {
	return &Verifier{Provider: "hcaptcha", URL: HCaptchaURL, SiteKey: siteKey, Secret: secret}
}

// ReCAPTCHA returns a Verifier for Google reCAPTCHA v2 (the "I'm not a
// robot" checkbox). Its siteverify takes secret, response and remoteip and
// answers like Turnstile's, with "timeout-or-duplicate" for a used token.
func ReCAPTCHA(siteKey, secret string) *Verifier {
	return &Verifier{Provider: "recaptcha", URL: ReCAPTCHAURL, SiteKey: siteKey, Secret: secret}
}

var defaultClient = &http.Client{Timeout: 10 * time.Second}

// Challenge names the provider and its site key; the provider's widget
// makes the challenge.
func (v *Verifier) Challenge(context.Context) (captcha.Challenge, error) {
	return captcha.Challenge{Provider: v.Provider, SiteKey: v.SiteKey}, nil
}

type response struct {
	Success    bool     `json:"success"`
	ErrorCodes []string `json:"error-codes"`
}

// Verify posts the token to siteverify. The providers accept a token
// once, so a replay comes back as "timeout-or-duplicate" (ErrReplayed;
// hCaptcha's "already-seen-response" too).
func (v *Verifier) Verify(ctx context.Context, payload, ip string) error {
	if payload == "" {
		return captcha.ErrMissing
	}
	if len(payload) > 4096 {
		return captcha.ErrInvalid
	}
	form := url.Values{"secret": {v.Secret}, "response": {payload}}
	if ip != "" {
		form.Set("remoteip", ip)
	}
	if v.Provider == "hcaptcha" {
		form.Set("sitekey", v.SiteKey)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, v.URL, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	c := v.Client
	if c == nil {
		c = defaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("%s siteverify: %w", v.Provider, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s siteverify: status %d", v.Provider, resp.StatusCode)
	}
	var r response
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&r); err != nil {
		return fmt.Errorf("%s siteverify: %w", v.Provider, err)
	}
	switch {
	case r.Success:
		return nil
	case slices.Contains(r.ErrorCodes, "timeout-or-duplicate") || slices.Contains(r.ErrorCodes, "already-seen-response"):
		return captcha.ErrReplayed
	case slices.Contains(r.ErrorCodes, "missing-input-response"):
		return captcha.ErrMissing
	case slices.Contains(r.ErrorCodes, "invalid-input-secret") || slices.Contains(r.ErrorCodes, "missing-input-secret") ||
		slices.Contains(r.ErrorCodes, "sitekey-secret-mismatch"):
		// Our configuration is wrong, not the user's answer.
		return fmt.Errorf("%s siteverify: %v", v.Provider, r.ErrorCodes)
	default:
		return captcha.ErrInvalid
	}
}

var _ captcha.Verifier = (*Verifier)(nil)
