package flow

import (
	"context"
	"errors"
	"slices"

	"github.com/portvakt/portvakt/internal/authn"
	"github.com/portvakt/portvakt/internal/store"
)

// The second-factor step.
//
// After the first factor, finishLogin decides whether the sign-in needs a
// second one. If it does, it starts a flow of kind FlowMFA and returns its
// ID in Result.Pending instead of a session; the user then picks one of
// Options and proves it with Verify (after Send, for SMS and email). The
// same flow serves re-authentication before a sensitive change (Reauth)
// and step-up before an action that needs a higher level (StepUp): those
// rotate the existing session instead of creating one.

// FlowMFA is the kind of second-factor flows.
const FlowMFA = "mfa"

// mfaData is the server-side state of a second-factor flow, kept in the
// flow's Data.
type mfaData struct {
	Used []authn.Method `json:"used"`
	// Purpose is "login", "reauth", "stepup" or "recovery".
	Purpose string `json:"purpose"`
	// Session is the session a reauth or step-up rotates.
	Session string `json:"session,omitempty"`
	// MinLevel is the level a step-up needs.
	MinLevel int `json:"min_level,omitempty"`
	// Sent is the option a code was last sent for.
	Sent string `json:"sent,omitempty"`
	// Lost is set when the user lost their authenticator: after the
	// step, they are sent to set up a new one.
	Lost bool `json:"lost,omitempty"`
	// ReturnTo is where a reauth or step-up goes back to (a local path).
	ReturnTo string `json:"return_to,omitempty"`
	// Enrol is set when the account has no second factor yet and the
	// configuration requires one: the step sets one up.
	Enrol bool `json:"enrol,omitempty"`
	// Factor is the authenticator being set up during Enrol.
	Factor string `json:"factor,omitempty"`
	// Email is the address being added during Enrol.
	Email string `json:"email,omitempty"`
	// Key is the server half of a security-key assertion under way.
	Key []byte `json:"key,omitempty"`
	// Recovery is the recovery flow a "recovery" step completes: its new
	// password is stored only once the second factor is proven.
	Recovery string `json:"recovery,omitempty"`
	// Via is the upstream a sign-in came through, for the session the
	// second step opens.
	Via store.Via `json:"via,omitempty"`
}

// PendingFactor describes a second-factor flow for its page.
type PendingFactor struct {
	Flow    store.Flow
	Account store.Account
	Options []Option
	// Sent is the key of the option a code was sent for ("" if none).
	Sent    string
	Purpose string
	// ReturnTo is where a reauth or step-up goes back to.
	ReturnTo string
	// Enrol says the user must set up a second factor first; CanEnrol
	// lists what they may set up (totp, email).
	Enrol    bool
	CanEnrol []authn.Method
	// ConfirmAddress, during Enrol, is the masked registered address the
	// user must prove before setting anything up (no first-use binding).
	ConfirmAddress string
	// NeedInvitation, during Enrol, says nothing can be set up here: the
	// account has no address to prove and first-use binding is off.
	NeedInvitation bool
	// Remember says the "don't ask again" box may be offered.
	Remember     bool
	RememberDays int
	Lost         bool
}

func (s *Service) startMFA(ctx context.Context, c Client, acct store.Account, d mfaData) (store.Flow, error) {
	f := s.newFlow(FlowMFA, c, "")
	f.AccountID = acct.ID
	f.State = "factor"
	f.Data = encodeMFA(d)
	if err := s.Store.CreateFlow(ctx, f); err != nil {
		return store.Flow{}, err
	}
	return f, nil
}

func encodeMFA(d mfaData) string { return encodeJSON(d) }

func decodeMFA(f store.Flow) mfaData {
	var d mfaData
	decodeJSON(f.Data, &d)
	return d
}

// Factor returns the second-factor flow for its page.
func (s *Service) Factor(ctx context.Context, c Client, flowID string) (PendingFactor, error) {
	ctx = withReadMemo(ctx) // the page reads the factors once (readmemo.go)
	f, err := s.loadFlow(ctx, c, flowID, FlowMFA)
	if err != nil {
		return PendingFactor{}, err
	}
	acct, err := s.Store.GetAccount(ctx, f.AccountID)
	if err != nil {
		return PendingFactor{}, err
	}
	d := decodeMFA(f)
	opts, err := s.options(ctx, acct, d.Used, d.MinLevel, d.Lost)
	if err != nil {
		return PendingFactor{}, err
	}
	m := s.mfa()
	pf := PendingFactor{Flow: f, Account: acct, Options: opts, Sent: d.Sent, Purpose: d.Purpose, ReturnTo: d.ReturnTo,
		Remember: m.RememberDays > 0 && d.Purpose == "login", RememberDays: m.RememberDays, Lost: d.Lost,
		Enrol: d.Enrol && len(opts) == 0}
	if pf.Enrol {
		if err := s.enrolChoices(ctx, &pf, d); err != nil {
			return PendingFactor{}, err
		}
	}
	return pf, nil
}

// LostAuthenticator marks the flow as "I have permanently lost my
// authenticator": the authenticator is no longer offered, and after the
// step the user is asked to set up a new one.
func (s *Service) LostAuthenticator(ctx context.Context, c Client, flowID string) error {
	_, err := s.Store.UpdateFlow(ctx, flowID, func(f store.Flow) (store.Flow, error) {
		if f.Kind != FlowMFA {
			return f, errFlowGone
		}
		if err := s.checkFlow(f, c); err != nil {
			return f, err
		}
		d := decodeMFA(f)
		d.Lost = true
		f.Data = encodeMFA(d)
		return f, nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return errFlowGone
	}
	return err
}

// VerifyFactor checks the code for the chosen option. On success a login
// flow opens a session (and, if asked, remembers the browser); a reauth or
// step-up rotates the existing session. Exactly one of parallel correct
// submissions succeeds.
func (s *Service) VerifyFactor(ctx context.Context, c Client, flowID, key, code string, remember bool) (Result, error) {
	pf, err := s.Factor(ctx, c, flowID)
	if err != nil {
		return Result{}, err
	}
	o, ok := findOption(pf.Options, key)
	if !ok {
		return Result{}, errChoose()
	}
	k, ok := kindOf(o.Method)
	if !ok || k.verify == nil {
		return Result{}, errChoose()
	}
	if err := k.verify(s, ctx, c, pf, o, code); err != nil {
		return Result{}, err
	}
	return s.completeFactor(ctx, c, flowID, o.Method, remember)
}

// completeFactor ends the flow (exactly once) and opens or upgrades the
// session, or, for a recovery, sets the new password and signs in.
func (s *Service) completeFactor(ctx context.Context, c Client, flowID string, used authn.Method, remember bool) (Result, error) {
	return s.completeFactorWith(ctx, c, flowID, remember, used)
}

// completeFactorWith is completeFactor for one or more methods proven
// together (a security key and, when it verified the user, UserVerified).
func (s *Service) completeFactorWith(ctx context.Context, c Client, flowID string, remember bool, used ...authn.Method) (Result, error) {
	f, err := s.consumeNow(ctx, c, flowID, FlowMFA)
	if err != nil {
		return Result{}, err
	}
	d := decodeMFA(f)
	acct, err := s.Store.GetAccount(ctx, f.AccountID)
	if err != nil {
		return Result{}, err
	}
	methods := append(slices.Clone(d.Used), used...)
	var res Result
	switch d.Purpose {
	case "reauth":
		res, err = s.upgradeSession(ctx, acct, d.Session, methods, true)
	case "stepup":
		res, err = s.upgradeSession(ctx, acct, d.Session, methods, false)
	case "recovery":
		res, err = s.finishRecovery(ctx, c, d.Recovery, acct, methods)
	default:
		res, err = s.openSessionVia(ctx, c, acct, methods, d.Via)
		if err == nil && remember && s.mfa().RememberDays > 0 {
			res.TrustToken, err = s.rememberBrowser(ctx, c, acct.ID)
		}
	}
	if err != nil {
		return Result{}, err
	}
	res.LostAuthenticator = d.Lost
	res.ReturnTo = d.ReturnTo
	return res, nil
}

func (s *Service) updateMFA(ctx context.Context, c Client, flowID string, fn func(*mfaData)) error {
	_, err := s.Store.UpdateFlow(ctx, flowID, func(f store.Flow) (store.Flow, error) {
		if f.Kind != FlowMFA {
			return f, errFlowGone
		}
		if err := s.checkFlow(f, c); err != nil {
			return f, err
		}
		d := decodeMFA(f)
		fn(&d)
		f.Data = encodeMFA(d)
		return f, nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return errFlowGone
	}
	return err
}
