package flow

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"time"

	"github.com/portvakt/portvakt/internal/authn"
	"github.com/portvakt/portvakt/internal/store"
)

// The second-factor options: which methods the configuration allows, and
// which of them an account can use at a step.

// MFA modes.
const (
	MFAOff      = "off"
	MFAOptional = "optional"
	MFARequired = "required"
)

// MFAConfig says when a second factor is asked for.
type MFAConfig struct {
	// Mode is off, optional (asked when the user has set one up) or
	// required (every sign-in; users without one must set one up).
	Mode string
	// Methods are the second factors allowed, e.g. totp, recovery, sms,
	// email.
	Methods []authn.Method
	// Levels are the method strengths.
	Levels authn.Levels
	// RememberDays, when above zero, offers "don't ask again in this
	// browser for N days" at the second-factor step.
	RememberDays int
	// EmailTTL is how long an emailed sign-in link and code work; default
	// 30 minutes.
	EmailTTL time.Duration
	// SMSTTL is how long an SMS code works; default 5 minutes.
	SMSTTL time.Duration
	// ReauthAfter is how old a sign-in may be before a sensitive change
	// asks for it again; default 10 minutes.
	ReauthAfter time.Duration
	// Actions name the minimum level an action needs, e.g. payment: 3.
	Actions map[string]int
	// RequiredGroups make a second factor required for members of these
	// groups, whatever Mode says (except off).
	RequiredGroups []string
	// EnrolAtFirstSignIn lets an account that must have a second step but
	// has none bind one (an authenticator, or a new address where email
	// is allowed) at its first sign-in with the password alone: trust on
	// first use, which the operator must choose (the IDEP profile does).
	// Without it, such an account first proves its registered address in
	// the same sign-in, and one without an address needs an invitation.
	EnrolAtFirstSignIn bool
}

func (m MFAConfig) allowed(x authn.Method) bool { return slices.Contains(m.Methods, x) }

func (m MFAConfig) withDefaults() MFAConfig {
	if m.Mode == "" {
		m.Mode = MFAOptional
	}
	if m.Levels == nil {
		m.Levels = authn.Levels{}
	}
	if m.EmailTTL <= 0 {
		m.EmailTTL = 30 * time.Minute
	}
	if m.SMSTTL <= 0 {
		m.SMSTTL = 5 * time.Minute
	}
	if m.ReauthAfter <= 0 {
		m.ReauthAfter = 10 * time.Minute
	}
	return m
}

// Option is one way to finish a second-factor step.
type Option struct {
	Method authn.Method
	// Target identifies what to send to or use: a factor ID (TOTP, SMS)
	// or an email address. Empty for recovery and support codes.
	Target string
	// Label is what the user sees: a masked phone number or address, or
	// the authenticator's name.
	Label string
	Level int
	// key, when set, is the option's Key: an email option's key names the
	// address without spelling it (see emailKey).
	key string
}

// Key is a stable identifier of the option for forms. It goes into pages,
// URLs and the JSON API, so it never holds an email address: a
// second-factor step shows the address only masked, to someone who may
// know no more than the password.
func (o Option) Key() string {
	if o.key != "" {
		return o.key
	}
	if o.Target == "" {
		return string(o.Method)
	}
	return string(o.Method) + ":" + o.Target
}

// emailKey is the key of an account's email option: a digest of the
// address salted with the account ID (which the step does not show), so
// the key neither spells the address nor confirms a guessed one.
func emailKey(accountID, addr string) string {
	sum := sha256.Sum256([]byte("mfa-email-option\x00" + accountID + "\x00" + strings.ToLower(addr)))
	return string(authn.Email) + ":" + hex.EncodeToString(sum[:10])
}

func (s *Service) mfa() MFAConfig { return s.MFA.withDefaults() }

// options returns the second factors the account can use now, strongest
// first, leaving out methods already used and, for a step-up, those too
// weak.
func (s *Service) options(ctx context.Context, acct store.Account, used []authn.Method, minLevel int, lost bool) ([]Option, error) {
	m := s.mfa()
	var out []Option
	add := func(o Option) {
		o.Level = m.Levels.Of(o.Method)
		if !m.allowed(o.Method) || slices.Contains(used, o.Method) {
			return
		}
		if minLevel > 0 && s.assess(append(slices.Clone(used), o.Method)).Level < minLevel {
			return
		}
		if k, _ := kindOf(o.Method); lost && k.lostWith {
			return
		}
		out = append(out, o)
	}
	// The account's authenticators and phones, in the order it has them;
	// then the methods not held as factors, in the table's order.
	factors, err := s.listFactors(ctx, acct.ID)
	if err != nil {
		return nil, err
	}
	for _, f := range factors {
		if k, ok := kindOfFactor(f.Kind); ok && !f.ConfirmedAt.IsZero() {
			add(k.fromFactor(f))
		}
	}
	for _, k := range secondFactorKinds {
		if k.options == nil || !m.allowed(k.method) {
			continue
		}
		opts, err := k.options(s, ctx, acct)
		if err != nil {
			return nil, err
		}
		for _, o := range opts {
			add(o)
		}
	}
	slices.SortStableFunc(out, func(a, b Option) int { return b.Level - a.Level })
	return out, nil
}

// requiredFor reports whether the account must use a second factor: the
// mode says so, or one of its groups does, or an operator asked for it.
func (s *Service) requiredFor(acct store.Account) bool {
	m := s.mfa()
	if m.Mode == MFAOff {
		return false
	}
	if m.Mode == MFARequired || acct.MFARequired {
		return true
	}
	for _, g := range acct.Groups {
		if slices.Contains(m.RequiredGroups, g) {
			return true
		}
	}
	return false
}

func findOption(opts []Option, key string) (Option, bool) {
	for _, o := range opts {
		if o.Key() == key {
			return o, true
		}
	}
	return Option{}, false
}
