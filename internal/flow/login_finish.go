package flow

import (
	"context"
	"errors"
	"strings"

	"github.com/portvakt/portvakt/internal/authn"
	"github.com/portvakt/portvakt/internal/problem"
	"github.com/portvakt/portvakt/internal/session"
	"github.com/portvakt/portvakt/internal/store"
)

// Where a sign-in becomes a session: finishLogin decides on a second step,
// openSession opens the session, upgradeSession lifts an existing one.

// secondFactorNeeded decides whether a sign-in that used used must also
// pass a second step: it is not complete for the account (assurance.go).
func (s *Service) secondFactorNeeded(ctx context.Context, acct store.Account, used []authn.Method) (bool, error) {
	ok, err := s.complete(ctx, acct, used)
	return !ok, err
}

// finishLogin is the single place a sign-in becomes a session. If a
// second factor is needed (and this browser is not remembered), it starts
// the second-factor flow instead, so that no path (password, recovery,
// magic link) can skip it.
func (s *Service) finishLogin(ctx context.Context, c Client, acct store.Account, used []authn.Method) (Result, error) {
	return s.finishLoginVia(ctx, c, acct, used, store.Via{})
}

// finishLoginVia is finishLogin for a sign-in that came through an
// upstream: the session, opened now or after the second step, records via.
func (s *Service) finishLoginVia(ctx context.Context, c Client, acct store.Account, used []authn.Method, via store.Via) (Result, error) {
	ctx = withReadMemo(ctx) // the decision reads the factors once (readmemo.go)
	need, err := s.secondFactorNeeded(ctx, acct, used)
	if err != nil {
		return Result{}, err
	}
	if need {
		trusted, err := s.trusted(ctx, c, acct.ID)
		if err != nil {
			return Result{}, err
		}
		if !trusted {
			opts, err := s.options(ctx, acct, used, 0, false)
			if err != nil {
				return Result{}, err
			}
			strong, err := s.enrolledStrong(ctx, acct.ID)
			if err != nil {
				return Result{}, err
			}
			if len(opts) == 0 && len(strong) > 0 {
				// Fail closed: the account's factors cannot be used here.
				return Result{}, problem.New(problem.Forbidden, "", "mfa.no_method_left", nil)
			}
			if len(opts) > 0 || s.requiredFor(acct) {
				// With none to offer, a required second factor is set up
				// now, inside the sign-in (see MFAConfig.EnrolAtFirstSignIn).
				f, err := s.startMFA(ctx, c, acct, mfaData{Used: used, Purpose: "login", Enrol: len(opts) == 0, Via: via})
				if err != nil {
					return Result{}, err
				}
				return Result{Account: acct, Pending: f.ID}, nil
			}
		}
	}
	return s.openSessionVia(ctx, c, acct, used, via)
}

func (s *Service) openSession(ctx context.Context, c Client, acct store.Account, used []authn.Method) (Result, error) {
	return s.openSessionWith(ctx, c, acct, used)
}

// openSessionWith opens a session for the methods used; its level and amr
// are what authn.Assess makes of them.
func (s *Service) openSessionWith(ctx context.Context, c Client, acct store.Account, used []authn.Method) (Result, error) {
	return s.openSessionVia(ctx, c, acct, used, store.Via{})
}

// openSessionVia is openSessionWith for a sign-in through an upstream.
func (s *Service) openSessionVia(ctx context.Context, c Client, acct store.Account, used []authn.Method, via store.Via) (Result, error) {
	a := s.assess(used)
	token, sess, err := s.Sessions.Create(ctx, acct.ID, session.Auth{AMR: a.AMR, Level: a.Level, Methods: authn.Names(used), Via: via}, session.Client{UserAgent: c.UserAgent, IP: c.IP})
	if err != nil {
		return Result{}, err
	}
	s.log().Info("signed in", "account", acct.ID, "session", sess.ID, "amr", strings.Join(a.AMR, " "), "level", sess.Level)
	s.recordSignIn(ctx, acct, sess, via)
	cancelled := s.afterSignIn(ctx, c, acct, sess) // activity, new-device mail (alerts.go)
	return Result{Token: token, Session: sess, Account: acct, DeletionCancelled: cancelled}, nil
}

// upgradeSession rotates a session after a reauth or step-up: a new
// token and a fresh auth time. A re-authentication is a full one, so its
// methods replace the session's and it is "recent" again; a step-up adds
// to them but leaves the time of the last full authentication, so a stale
// session lifted by a second factor alone (a stolen cookie and a swapped
// SIM, say) still needs the password before a sensitive change. Level and amr
// are what authn.Assess makes of the result.
func (s *Service) upgradeSession(ctx context.Context, acct store.Account, sessionID string, methods []authn.Method, replace bool) (Result, error) {
	sess, err := s.Store.GetSession(ctx, sessionID)
	if errors.Is(err, store.ErrNotFound) {
		return Result{}, problem.New(problem.Unauthorized, "", "session.required", nil)
	}
	if err != nil {
		return Result{}, err
	}
	all := methods
	if !replace {
		all = append(authn.Methods(sess.Methods), methods...)
	}
	all = authn.Methods(authn.Names(all))
	a := s.assess(all)
	token, sess, err := s.Sessions.Rotate(ctx, sessionID, &session.Auth{AMR: a.AMR, Level: a.Level, Methods: authn.Names(all), Partial: !replace})
	if err != nil {
		return Result{}, err
	}
	s.log().Info("session upgraded", "account", acct.ID, "session", sess.ID, "amr", strings.Join(a.AMR, " "), "level", a.Level)
	s.recordUpgrade(ctx, acct, sess, methods, replace)
	return Result{Token: token, Session: sess, Account: acct}, nil
}
