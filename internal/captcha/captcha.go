// Package captcha asks a browser or API client to prove it spent some work
// (or, with a third-party verifier, that it passed someone else's check)
// before Portvakt sends mail or checks a password for it (issue 10).
//
// The default is ALTCHA (package captcha/altcha): a proof of work that is
// created, served and verified by Portvakt itself, with the widget's
// JavaScript served from the binary. No third party is involved. Turnstile
// hCaptcha and reCAPTCHA (siteverify over HTTP) are optional alternatives.
//
// Where a challenge is asked is policy (Policy): at sign-up, at forgot
// password, and at sign-in after some failures for the client's address or
// the account.
package captcha

import (
	"context"
	"errors"
	"slices"
)

// Errors of Verify. Callers show one localized message for all of them
// (Key), and keep the user's input.
var (
	// ErrMissing: no solution was sent.
	ErrMissing = errors.New("captcha: no solution")
	// ErrInvalid: the solution is malformed, not signed by us, or wrong.
	ErrInvalid = errors.New("captcha: wrong solution")
	// ErrExpired: the challenge is older than its TTL.
	ErrExpired = errors.New("captcha: challenge expired")
	// ErrReplayed: the solution was already used once.
	ErrReplayed = errors.New("captcha: solution already used")
)

// Refused reports whether err is one of the errors that mean "the client
// did not pass" (as opposed to a failure of the store or of the network).
func Refused(err error) bool {
	return errors.Is(err, ErrMissing) || errors.Is(err, ErrInvalid) ||
		errors.Is(err, ErrExpired) || errors.Is(err, ErrReplayed)
}

// Key is the i18n message key for a refusal.
func Key(err error) string {
	switch {
	case errors.Is(err, ErrMissing):
		return "captcha.missing"
	case errors.Is(err, ErrExpired):
		return "captcha.expired"
	case errors.Is(err, ErrReplayed):
		return "captcha.replayed"
	default:
		return "captcha.invalid"
	}
}

// Challenge is what a client needs to solve. For ALTCHA the first five
// fields are the widget's (v1) challenge, so the JSON can be handed to the
// widget as it is. For a third-party verifier only Provider and SiteKey
// are set.
type Challenge struct {
	Algorithm string `json:"algorithm,omitempty"`
	Challenge string `json:"challenge,omitempty"`
	MaxNumber int64  `json:"maxNumber,omitempty"`
	Salt      string `json:"salt,omitempty"`
	Signature string `json:"signature,omitempty"`

	// Provider is "altcha", "turnstile", "hcaptcha" or "recaptcha".
	Provider string `json:"provider"`
	// SiteKey is the third party's public site key.
	SiteKey string `json:"site_key,omitempty"`
}

// Verifier creates challenges and verifies solutions.
type Verifier interface {
	// Challenge makes a new challenge.
	Challenge(ctx context.Context) (Challenge, error)
	// Verify checks a solution (the widget's form value), sent from ip.
	// A solution is accepted once: a second Verify of it is ErrReplayed.
	Verify(ctx context.Context, payload, ip string) error
}

// Places where a challenge can be asked (captcha.at).
const (
	AtSignup             = "signup"
	AtRecovery           = "recovery"
	AtLoginAfterFailures = "login_after_failures"
)

// Policy says where a challenge is asked. A nil Verifier asks nowhere.
type Policy struct {
	Verifier Verifier
	// At lists the places (AtSignup, AtRecovery, AtLoginAfterFailures).
	At []string
	// LoginAfterFailures is how many failed sign-ins for the client's
	// address or the account make sign-in ask (at least 1).
	LoginAfterFailures int
}

// Asks reports whether the policy asks a challenge at place.
func (p Policy) Asks(place string) bool {
	return p.Verifier != nil && slices.Contains(p.At, place)
}

// LoginThreshold is LoginAfterFailures, at least 1.
func (p Policy) LoginThreshold() int { return max(p.LoginAfterFailures, 1) }
