package flow

import (
	"context"
	"slices"
	"time"

	"github.com/portvakt/portvakt/internal/authn"
	"github.com/portvakt/portvakt/internal/problem"
	"github.com/portvakt/portvakt/internal/store"
)

// The table of second-factor kinds. Everything the second-factor step
// knows about a method is in its entry, registered from the method's own
// file (mfa_totp.go, mfa_code.go for SMS and email, mfa_recovery.go,
// mfa_key.go, mfa_support.go): which options an account has, how a code
// is sent, how the answer is checked, and how the option is shown. The
// step itself (mfa_step.go, mfa_options.go) and the web page
// (web/factor.go) go through the table and name no method.

// secondFactorKind is one way to pass the second-factor step.
type secondFactorKind struct {
	method authn.Method
	// order places the method's options among others of the same level
	// (lower first). Factor-held methods keep the order of the account's
	// factors among themselves.
	order int
	// factor, for a method held as a store.Factor (an authenticator, a
	// phone), is the factor kind; fromFactor makes the option of one
	// confirmed factor of that kind.
	factor     string
	fromFactor func(f store.Factor) Option
	// describe names one such factor in the list of an account's ways in
	// (the mail after a reset): a message key and its arguments.
	describe func(f store.Factor) (key string, args []any)
	// options, for a method not held as a store.Factor, lists the
	// account's options of this method (none when it has none).
	options func(s *Service, ctx context.Context, acct store.Account) ([]Option, error)
	// send, when set, sends a code (and perhaps a link) for the option:
	// the method must be sent before it is verified.
	send func(s *Service, ctx context.Context, c Client, pf PendingFactor, o Option) error
	// verify checks the answer typed for the option. Nil for a method
	// proven another way (a security key's assertion, keys.go).
	verify func(s *Service, ctx context.Context, c Client, pf PendingFactor, o Option, answer string) error
	// lostWith says the method is what "I have lost my authenticator"
	// gives up: it is not offered once the user says so, and the step
	// offers that way out while the method is among several.
	lostWith bool
	// view is how the step shows an option of this method.
	view func(s *Service, o Option) FactorView
}

// FactorView is how the second-factor step shows one option: message keys
// and the arguments they take. The web page renders it as is.
type FactorView struct {
	// Title names the option, e.g. "Code from your authenticator app".
	Title string
	// CodeLabel and CodeHint are the code box's label and hint ("" for
	// the defaults, code.label and code.hint).
	CodeLabel, CodeHint string
	// Text says the code has letters (recovery and support codes), not
	// digits only.
	Text bool
	// Key says the option is proven by a security key: no code box.
	Key bool
	// For an option that is sent first: where it goes (SendText), the
	// buttons (SendButton, SendAgain) and what the page says once sent
	// (Sent).
	SendText, SendButton, SendAgain, Sent string
	// Args are the arguments of every key above: the masked target under
	// its name (phone, email) and counts.
	Args map[string]any
}

// Sends says the option must be sent before it is verified.
func (v FactorView) Sends() bool { return v.SendText != "" }

// secondFactorKinds is the table, in order; see registerSecondFactor.
var secondFactorKinds []secondFactorKind

// registerSecondFactor adds a method to the table. It is called from the
// method's file, at package initialisation only.
func registerSecondFactor(k secondFactorKind) {
	if slices.ContainsFunc(secondFactorKinds, func(x secondFactorKind) bool { return x.method == k.method }) {
		panic("flow: second factor registered twice: " + string(k.method))
	}
	if k.view == nil {
		panic("flow: second factor without a view: " + string(k.method))
	}
	if k.factor != "" && (k.fromFactor == nil || k.describe == nil) {
		panic("flow: factor-held second factor without fromFactor or describe: " + string(k.method))
	}
	secondFactorKinds = append(secondFactorKinds, k)
	slices.SortStableFunc(secondFactorKinds, func(a, b secondFactorKind) int { return a.order - b.order })
}

// kindOf returns the table's entry for a method.
func kindOf(m authn.Method) (secondFactorKind, bool) {
	i := slices.IndexFunc(secondFactorKinds, func(k secondFactorKind) bool { return k.method == m })
	if i < 0 {
		return secondFactorKind{}, false
	}
	return secondFactorKinds[i], true
}

// kindOfFactor returns the entry of the method a store.Factor holds.
func kindOfFactor(kind string) (secondFactorKind, bool) {
	i := slices.IndexFunc(secondFactorKinds, func(k secondFactorKind) bool { return k.factor != "" && k.factor == kind })
	if i < 0 {
		return secondFactorKind{}, false
	}
	return secondFactorKinds[i], true
}

// factorKinds lists the store.Factor kinds of the table's methods.
func factorKinds() []string {
	var out []string
	for _, k := range secondFactorKinds {
		if k.factor != "" {
			out = append(out, k.factor)
		}
	}
	return out
}

// View is how the second-factor step shows the option.
func (s *Service) View(o Option) FactorView {
	k, ok := kindOf(o.Method)
	if !ok {
		return FactorView{Title: "mfa.choose"}
	}
	return k.view(s, o)
}

// errChoose is the answer to an option that is not offered, or cannot do
// what was asked (sending to an authenticator).
func errChoose() error { return problem.New(problem.Invalid, "method", "mfa.choose", nil) }

// verifySentCode is the verify of the methods whose code was sent (SMS,
// email): the code of the option sent last, within ttl.
func (s *Service) verifySentCode(ctx context.Context, c Client, pf PendingFactor, o Option, code string, ttl time.Duration) error {
	if decodeMFA(pf.Flow).Sent != o.Key() {
		return problem.New(problem.Invalid, "code", "mfa.send_first", nil)
	}
	_, err := s.checkFactorCode(ctx, c, pf.Flow.ID, code, ttl)
	return err
}

// OfferLost says the step may offer "I have lost my authenticator": a
// sign-in whose options include a method that gives up (lostWith) among
// others, not yet given up.
func (pf PendingFactor) OfferLost() bool {
	if pf.Lost || pf.Purpose != "login" || len(pf.Options) < 2 {
		return false
	}
	return slices.ContainsFunc(pf.Options, func(o Option) bool {
		k, _ := kindOf(o.Method)
		return k.lostWith
	})
}
