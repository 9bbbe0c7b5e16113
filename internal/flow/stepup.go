package flow

import (
	"context"
	"slices"

	"github.com/portvakt/portvakt/internal/authn"
	"github.com/portvakt/portvakt/internal/problem"
)

// Re-authentication before a sensitive change (Reauth) and step-up before
// an action that needs a higher level (StepUp): both go through the
// second-factor flow and rotate the existing session.

// Reauth checks the password of a signed-in user before a sensitive
// change. If the account has a second factor, a flow for it follows
// (Result.Pending); otherwise the session is rotated at once.
func (s *Service) Reauth(ctx context.Context, c Client, who Who, pw, returnTo string) (Result, error) {
	hasPW, err := s.hasPassword(ctx, who.Account.ID)
	if err != nil {
		return Result{}, err
	}
	if !hasPW {
		// A passwordless account re-authenticates with its factors alone.
		opts, err := s.options(ctx, who.Account, nil, 0, false)
		if err != nil {
			return Result{}, err
		}
		if len(opts) == 0 {
			return Result{}, problem.New(problem.Forbidden, "", "mfa.no_method_left", nil)
		}
		f, err := s.startMFA(ctx, c, who.Account, mfaData{Purpose: "reauth", Session: who.Session.ID, ReturnTo: returnTo})
		if err != nil {
			return Result{}, err
		}
		return Result{Account: who.Account, Pending: f.ID}, nil
	}
	if err := s.reauthenticate(ctx, who.Account, pw); err != nil {
		return Result{}, err
	}
	used := []authn.Method{authn.Password}
	if need, err := s.secondFactorNeeded(ctx, who.Account, used); err != nil {
		return Result{}, err
	} else if need {
		opts, err := s.options(ctx, who.Account, used, 0, false)
		if err != nil {
			return Result{}, err
		}
		if len(opts) > 0 {
			f, err := s.startMFA(ctx, c, who.Account, mfaData{Used: used, Purpose: "reauth", Session: who.Session.ID, ReturnTo: returnTo})
			if err != nil {
				return Result{}, err
			}
			return Result{Account: who.Account, Pending: f.ID}, nil
		}
	}
	res, err := s.upgradeSession(ctx, who.Account, who.Session.ID, used, true)
	res.ReturnTo = returnTo
	return res, err
}

// ActionLevel returns the level an action needs, or a problem for an
// unknown action.
func (s *Service) ActionLevel(action string) (int, error) {
	lvl, ok := s.mfa().Actions[action]
	if !ok {
		return 0, problem.New(problem.NotFound, "action", "stepup.unknown_action", problem.Args{"action": action})
	}
	return lvl, nil
}

// StepUp prepares an action that needs a higher level than the session
// has. If the session is strong enough it returns a Result with neither
// Token nor Pending. Otherwise it starts a second-factor flow offering
// only methods strong enough (a remembered browser never counts).
func (s *Service) StepUp(ctx context.Context, c Client, who Who, action, returnTo string) (Result, error) {
	lvl, err := s.ActionLevel(action)
	if err != nil {
		return Result{}, err
	}
	return s.StepUpTo(ctx, c, who, lvl, returnTo)
}

// StepUpTo is StepUp for a level rather than a named action (an app's
// acr_values, say).
func (s *Service) StepUpTo(ctx context.Context, c Client, who Who, lvl int, returnTo string) (Result, error) {
	if who.Session.Level >= lvl {
		return Result{Account: who.Account, Session: who.Session}, nil
	}
	// A step-up adds to what the session proved: an option counts for what
	// the session's methods and it are worth together (authn.Assess).
	used := authn.Methods(who.Session.Methods)
	opts, err := s.options(ctx, who.Account, used, lvl, false)
	if err != nil {
		return Result{}, err
	}
	if len(opts) == 0 {
		// Without a first factor in this session (a magic link, say), no
		// second factor can lift it: a full re-authentication may.
		if hasPW, err := s.hasPassword(ctx, who.Account.ID); err != nil {
			return Result{}, err
		} else if hasPW && !slices.Contains(used, authn.Password) {
			if best, err := s.options(ctx, who.Account, []authn.Method{authn.Password}, lvl, false); err == nil && len(best) > 0 {
				return Result{}, errReauth
			}
		}
		return Result{}, problem.New(problem.Forbidden, "", "stepup.no_method", problem.Args{"level": lvl})
	}
	f, err := s.startMFA(ctx, c, who.Account, mfaData{Used: used, Purpose: "stepup", Session: who.Session.ID, MinLevel: lvl, ReturnTo: returnTo})
	if err != nil {
		return Result{}, err
	}
	return Result{Account: who.Account, Pending: f.ID}, nil
}
