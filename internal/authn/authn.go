// Package authn names the ways a person can prove who they are, how
// strong each way is, and how each is recorded in a session's
// authentication method references (RFC 8176 "amr").
//
// # Levels
//
// Every method has a level (configurable; defaults below). A session's
// level is the highest level among the methods used in it, so a session
// opened with a password and an SMS code is at level 2, and an action
// that needs level 3 (a payment, say) asks for TOTP, a recovery code or a
// security key first: the step-up. A remembered browser skips the second
// factor but adds no level and no amr value: it is a convenience, not an
// authentication (NIST SP 800-63B-4 §5.1).
//
//	method     level  amr
//	password   1      pwd
//	email      2      mca (a one-time link or code by a second channel)
//	sms        2      sms
//	totp       3      otp
//	recovery   3      otp  (a single-use recovery code)
//	support    3      otp  (a one-time code issued by support)
//	webauthn   4      hwk (+ user when the authenticator verified the user)
//
// "mfa" is added to amr when two or more methods were used.
//
// # A deliberate difference from STYLE.md §6
//
// The style guide sketches an authn.Method interface (Begin, Verify) that
// every method implements, with package flow driving them generically.
// The methods turned out too unlike each other for one interface to help:
// a password is checked with a hasher and a throttle, TOTP advances a
// replay counter inside a factor's update, SMS and email codes live on a
// flow with send limits, WebAuthn needs a server-side ceremony half. So
// each method is a small package of pure functions (password, totp,
// recovery, sms, webauthn) and package flow composes them explicitly;
// what is shared is this package's vocabulary of methods, levels and amr.
package authn

import "slices"

// Method is a way to authenticate.
type Method string

// The methods.
const (
	Password Method = "password"
	Email    Method = "email"
	SMS      Method = "sms"
	TOTP     Method = "totp"
	Recovery Method = "recovery"
	Support  Method = "support"
	WebAuthn Method = "webauthn"
)

// SecondFactors lists the methods that can serve as a second factor, in
// the order a user is offered them (strongest first).
var SecondFactors = []Method{WebAuthn, TOTP, SMS, Email, Recovery, Support}

// DefaultLevels are the levels when the configuration sets none.
var DefaultLevels = map[Method]int{
	Password: 1,
	Email:    2,
	SMS:      2,
	TOTP:     3,
	Recovery: 3,
	Support:  3,
	WebAuthn: 4,
}

// Levels maps methods to levels.
type Levels map[Method]int

// Of returns m's level; an unknown method is level 0.
func (l Levels) Of(m Method) int {
	if v, ok := l[m]; ok {
		return v
	}
	return DefaultLevels[m]
}

// Max returns the highest level among methods.
func (l Levels) Max(methods []Method) int {
	n := 0
	for _, m := range methods {
		n = max(n, l.Of(m))
	}
	return n
}

// AMR returns the RFC 8176 values for a set of methods used together, in
// a stable order and without duplicates.
func AMR(methods []Method) []string {
	var out []string
	add := func(v ...string) {
		for _, x := range v {
			if !slices.Contains(out, x) {
				out = append(out, x)
			}
		}
	}
	for _, m := range methods {
		switch m {
		case Password:
			add("pwd")
		case Email:
			add("mca")
		case SMS:
			add("sms")
		case TOTP, Recovery, Support:
			add("otp")
		case WebAuthn:
			add("hwk")
		}
	}
	if distinct(methods) >= 2 {
		add("mfa")
	}
	return out
}

func distinct(methods []Method) int {
	seen := map[Method]bool{}
	for _, m := range methods {
		seen[m] = true
	}
	return len(seen)
}

// Parse returns the method named s, or false.
func Parse(s string) (Method, bool) {
	m := Method(s)
	_, ok := DefaultLevels[m]
	return m, ok
}
