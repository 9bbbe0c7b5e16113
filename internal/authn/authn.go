// Package authn is Portvakt's assurance model: what each way of signing
// in proves, when two of them count as two factors, and what a set of
// proofs used together is worth as a level and as RFC 8176 "amr" values.
// Pages, the OpenID Provider and the JSON API all ask Assess; nothing
// else computes a level. docs/security/assurance.md is the same model as
// a table, and the attack-matrix test in package flow reads its table.
//
// # Methods
//
// Every method is a proof of one kind (knowledge, possession, inherence)
// through one channel. The level is what the method adds as the
// possession factor of a two-factor sign-in (configurable, mfa.levels).
//
//	method    kind        channel        amr   as a second factor
//	password  knowledge   memory         pwd   —  (a first factor)
//	email     possession  mailbox        mca   never (proves the mailbox only)
//	sms       possession  phone          sms   2
//	totp      possession  app            otp   3
//	recovery  possession  paper          otp   3  (single-use recovery codes)
//	support   possession  support desk   otp   3  (a code issued after support checked who you are)
//	webauthn  possession  device         hwk   4  (security key or passkey)
//	user      inherence   device         user  —  (the key verified the user: PIN or biometric)
//	upstream  federated   upstream       fed   —  (a sign-in at an upstream provider: a first factor)
//
// # When two factors count as two
//
// Two proofs are two factors when they are of different kinds and
// neither can be reached through the other's channel. Hence:
//   - The mailbox never counts towards two factors: a password can be
//     reset through it, and everything else mailed to it (links, codes)
//     is the same channel. Password + emailed code is one factor, level 1,
//     amr without "mfa". An operator may still require the emailed step
//     (the IDEP profile): it then proves the mailbox, not a second factor.
//   - Two possessions (an emailed link and an authenticator code, say)
//     are one kind: no "mfa".
//   - A passkey that verified the user (amr hwk + user) is two factors in
//     one device: possession of the key and the PIN or biometric that
//     unlocks it.
//
// # Upstream sign-ins
//
// A sign-in through an upstream identity provider (ID-porten, Google, …)
// is the method Upstream: an assertion from elsewhere, of its own kind
// (federated) through its own channel (the upstream). Locally it stands
// where a password stands: a first factor, level 1 alone, and with one of
// the account's second factors a two-factor sign-in at that factor's
// level. Its amr is "fed" (RFC 8176 registers none for federation).
// What the upstream itself proved (ID-porten's idporten-loa-high with
// BankID, say) is never turned into a local level: the session records it
// as Via (store.Via), and only a token for a session that came through
// that upstream at that level may carry the upstream's acr.
//
// A sign-in that is two factors is at the level of its strongest
// possession factor; anything else that proved something is level 1; no
// proof at all is level 0. A remembered browser skips the second step but
// is not a proof: it adds no level and no amr.
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
// what is shared is this package's model of methods, levels and amr.
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
	// UserVerified is not a method a user chooses: it records that a
	// security key or passkey verified the user (PIN or biometric).
	UserVerified Method = "user"
	// Upstream is a sign-in at an upstream identity provider.
	Upstream Method = "upstream"
)

// Kind is what a proof is.
type Kind string

// The kinds of factor (NIST SP 800-63B-4 §2.2).
const (
	Knowledge  Kind = "knowledge"
	Possession Kind = "possession"
	Inherence  Kind = "inherence"
	// Federated is an assertion by an upstream identity provider.
	Federated Kind = "federated"
)

// Channel is where a proof comes from; two proofs through one channel
// are one factor.
type Channel string

// The channels.
const (
	Memory  Channel = "memory"
	Mailbox Channel = "mailbox"
	Phone   Channel = "phone"
	App     Channel = "app"
	Paper   Channel = "paper"
	Desk    Channel = "support"
	Device  Channel = "device"
	// UpstreamChannel is an upstream identity provider.
	UpstreamChannel Channel = "upstream"
)

// Spec describes a method in the model.
type Spec struct {
	Method  Method
	Kind    Kind
	Channel Channel
	// AMR is the RFC 8176 value the method adds.
	AMR string
	// Second says the method can be the possession factor of a two-factor
	// sign-in; its level (mfa.levels) is then the sign-in's.
	Second bool
}

// Model is the table of methods, in the order a user is offered them as
// a second step (strongest first).
var Model = []Spec{
	{WebAuthn, Possession, Device, "hwk", true},
	{TOTP, Possession, App, "otp", true},
	{SMS, Possession, Phone, "sms", true},
	{Email, Possession, Mailbox, "mca", false},
	{Recovery, Possession, Paper, "otp", true},
	{Support, Possession, Desk, "otp", true},
	{Password, Knowledge, Memory, "pwd", false},
	{UserVerified, Inherence, Device, "user", false},
	{Upstream, Federated, UpstreamChannel, "fed", false},
}

// SpecOf returns m's entry in the model; ok is false for an unknown method.
func SpecOf(m Method) (Spec, bool) {
	for _, s := range Model {
		if s.Method == m {
			return s, true
		}
	}
	return Spec{}, false
}

// SecondFactors lists the methods that can serve in a second step, in
// the order a user is offered them (strongest first). Email is among
// them for the accounts whose operator made it the second step; it never
// makes a sign-in two-factor.
var SecondFactors = []Method{WebAuthn, TOTP, SMS, Email, Recovery, Support}

// Strong reports whether m can be the possession factor of a two-factor
// sign-in (every second step but email).
func Strong(m Method) bool {
	s, ok := SpecOf(m)
	return ok && s.Second
}

// DefaultLevels are the levels when the configuration sets none. Password
// and email are level 1 whatever is configured: alone, they are one factor.
var DefaultLevels = map[Method]int{
	Password: 1,
	Email:    1,
	SMS:      2,
	TOTP:     3,
	Recovery: 3,
	Support:  3,
	WebAuthn: 4,
}

// Levels maps methods to levels.
type Levels map[Method]int

// Of returns m's level as a second factor; an unknown method is level 0.
func (l Levels) Of(m Method) int {
	if v, ok := l[m]; ok {
		return v
	}
	return DefaultLevels[m]
}

// Assurance is what a set of proofs used together is worth.
type Assurance struct {
	// Level is 0 (nothing proven), 1 (one factor) or the level of the
	// strongest possession factor of a two-factor sign-in.
	Level int
	// AMR are the RFC 8176 values, in a stable order, with "mfa" only
	// when MFA is true.
	AMR []string
	// MFA says the proofs are two factors by the rule in the package doc.
	MFA bool
}

// Assess decides the level and amr of a sign-in from the methods actually
// used in it. It is the one place that does.
func (l Levels) Assess(used []Method) Assurance {
	var a Assurance
	first, second := false, 0
	for _, s := range Model {
		if !slices.Contains(used, s.Method) {
			continue
		}
		if !slices.Contains(a.AMR, s.AMR) {
			a.AMR = append(a.AMR, s.AMR)
		}
		switch {
		case s.Kind == Knowledge || s.Kind == Inherence || s.Kind == Federated:
			first = true
		case s.Second:
			second = max(second, l.Of(s.Method))
		}
	}
	a.AMR = orderAMR(a.AMR)
	switch {
	case first && second > 0:
		a.MFA, a.Level = true, max(second, 2)
		a.AMR = append(a.AMR, "mfa")
	case len(a.AMR) > 0:
		a.Level = 1
	}
	return a
}

// amrOrder is the order amr values are listed in: first factors, then
// second factors weakest first.
var amrOrder = []string{"fed", "pwd", "mca", "sms", "otp", "hwk", "user"}

func orderAMR(v []string) []string {
	slices.SortStableFunc(v, func(a, b string) int { return slices.Index(amrOrder, a) - slices.Index(amrOrder, b) })
	return v
}

// AMR returns the RFC 8176 values for a set of methods used together.
func AMR(methods []Method) []string { return DefaultLevelsAssess(methods).AMR }

// DefaultLevelsAssess is Assess with the default levels.
func DefaultLevelsAssess(methods []Method) Assurance { return Levels(nil).Assess(methods) }

// Parse returns the method named s, or false. UserVerified is not a method
// one can configure or choose, so it does not parse.
func Parse(s string) (Method, bool) {
	m := Method(s)
	_, ok := DefaultLevels[m]
	return m, ok
}

// Methods turns stored method names back into methods, dropping unknown
// ones.
func Methods(names []string) []Method {
	var out []Method
	for _, n := range names {
		if _, ok := SpecOf(Method(n)); ok && !slices.Contains(out, Method(n)) {
			out = append(out, Method(n))
		}
	}
	return out
}

// Names turns methods into the strings a session stores.
func Names(methods []Method) []string {
	var out []string
	for _, m := range methods {
		if !slices.Contains(out, string(m)) {
			out = append(out, string(m))
		}
	}
	return out
}
