package flow

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/portvakt/portvakt/internal/account"
	"github.com/portvakt/portvakt/internal/authn"
	"github.com/portvakt/portvakt/internal/authn/password"
	"github.com/portvakt/portvakt/internal/problem"
	"github.com/portvakt/portvakt/internal/store"
	"github.com/portvakt/portvakt/internal/throttle"
)

// Sign-in states.
const statePassword = "password"

// StartLogin is the email step of email-first sign-in. It never looks the
// address up: whether or not an account has it, the next step is the
// password, so the answer tells a stranger nothing.
func (s *Service) StartLogin(ctx context.Context, c Client, email string, remember bool) (store.Flow, error) {
	addr, err := account.ParseEmail("email", email)
	if err != nil {
		return store.Flow{}, err
	}
	f := s.newFlow(store.FlowLogin, c, addr)
	f.State = statePassword
	f.Data = encodeData(flowData{Remember: remember})
	if err := s.Store.CreateFlow(ctx, f); err != nil {
		return store.Flow{}, err
	}
	return f, nil
}

// LoginFlow returns the sign-in flow for the password page.
func (s *Service) LoginFlow(ctx context.Context, c Client, flowID string) (store.Flow, error) {
	return s.loadFlow(ctx, c, flowID, store.FlowLogin)
}

// Remembered reports whether the user asked to remember the address of
// the flow on this device.
func Remembered(f store.Flow) bool { return decodeData(f).Remember }

// LoginPassword is the password step of email-first sign-in.
func (s *Service) LoginPassword(ctx context.Context, c Client, flowID, pw string) (Result, error) {
	f, err := s.loadFlow(ctx, c, flowID, store.FlowLogin)
	if err != nil {
		return Result{}, err
	}
	acct, err := s.checkPassword(ctx, c, "email:"+strings.ToLower(f.Email), pw, func(lc store.LoginCounters) (store.Account, store.Password, map[string]store.CounterState, error) {
		return s.Store.GetLoginCountingByEmail(ctx, f.Email, lc)
	})
	if err != nil {
		return Result{}, err
	}
	if _, err := s.consumeNow(ctx, c, f.ID, store.FlowLogin); err != nil {
		return Result{}, err
	}
	return s.finishLogin(ctx, c, acct, []authn.Method{authn.Password})
}

// LoginUsername signs in with a username and password in one step (IDEP
// uses numeric usernames).
func (s *Service) LoginUsername(ctx context.Context, c Client, username, pw string) (Result, error) {
	username = strings.ToLower(strings.TrimSpace(username))
	p := &problem.Problem{Kind: problem.Invalid}
	if username == "" {
		p.Add("username", "login.username_required", nil)
	}
	if pw == "" {
		p.Add("password", "login.password_required", nil)
	}
	if err := p.OrNil(); err != nil {
		return Result{}, err
	}
	username, err := s.parseUsername(username) // a national ID's digits (nationalid.go)
	if err != nil {
		return Result{}, err
	}
	acct, err := s.checkPassword(ctx, c, "user:"+username, pw, func(lc store.LoginCounters) (store.Account, store.Password, map[string]store.CounterState, error) {
		return s.Store.GetLoginCountingByUsername(ctx, username, lc)
	})
	if err != nil {
		return Result{}, err
	}
	return s.finishLogin(ctx, c, acct, []authn.Method{authn.Password})
}

// errWrongCredentials is the one answer for an unknown account, a wrong
// password, an account without a password and a locked account, so none
// can be told apart.
var errWrongCredentials = problem.New(problem.Unauthorized, "password", "login.wrong_credentials", nil)

// checkPassword verifies pw for the account lookup finds (with its
// password, a zero one if it has none, and the counters it is asked for,
// or nil to have them read apart), throttled (see
// package throttle) per identifier key, per account across all its
// identifiers and flows, per client address and network, and globally.
//
// Throttle the wrong, not the many: a try is checked against the counters
// before the hash and counted only when it was wrong; a wrong try whose
// count went beyond a limit (parallel tries took the last free places) is
// answered as throttled, and a right one is accepted only if the counters
// still allow it after the hash. So parallel guesses get no more answers
// than the limit, and a right password is never refused because other
// right tries are in flight. The check before the hash reads the counters
// in the lookup's statement; the one after must read them again, since
// wrong tries may have been counted during the hash.
//
// An unknown account costs the same hash as a known one, and its tries are
// counted on the identifier too, so the answers reveal nothing. A locked
// account (100 consecutive failures) gets the answer of a wrong password,
// after the same hash, even for the right one; the owner was mailed when it
// locked. It fails closed: if a counter cannot be read or written, the
// sign-in is refused.
func (s *Service) checkPassword(ctx context.Context, c Client, key, pw string, lookup func(store.LoginCounters) (store.Account, store.Password, map[string]store.CounterState, error)) (store.Account, error) {
	if pw == "" {
		return store.Account{}, problem.New(problem.Invalid, "password", "login.password_required", nil)
	}
	th := s.throttle()
	keys := append([]throttle.Key{{Rule: s.identifierRule(), ID: key}}, s.sourceKeys(c)...)
	acct, stored, states, err := lookup(store.LoginCounters{Names: th.Names(keys...), AccountPrefix: s.rules().Account.Prefix()})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return store.Account{}, err
	}
	known := err == nil && stored.AccountID != "" // an account with a password
	if known {
		keys = append(keys, s.accountKey(acct.ID))
	}
	// The lookup read the counters with the account, or without one: an
	// unknown account costs the same round trips. A lookup that reads
	// none (re-authentication, a username that is no username) has them
	// read apart.
	var d throttle.Decision
	if states != nil {
		d = th.Decide(states, keys...)
	} else if d, err = th.Check(ctx, keys...); err != nil {
		return store.Account{}, err
	}
	if !d.Allowed() && !d.Locked {
		return store.Account{}, s.throttled("password", d)
	}
	var ok, rehash bool
	switch {
	case s.Policy.TooLong(pw):
		// No password this long can be set, so it is wrong for every
		// account alike; it costs neither normalisation nor a hash.
	case !known || d.Locked:
		// A busy pool refuses the dummy as it would the real hash, so
		// that a refusal tells nothing about the account either.
		if err := s.Hasher.VerifyDummy(ctx, s.Policy.Prepare(pw)); err != nil {
			return store.Account{}, err
		}
	default:
		if ok, rehash, err = s.Hasher.Verify(ctx, s.Policy.Prepare(pw), stored.Hash); err != nil {
			return store.Account{}, err
		}
	}
	if !ok {
		var owner *store.Account
		if known {
			owner = &acct
		}
		if err := s.failed(ctx, c, owner, "password", keys...); err != nil {
			return store.Account{}, err
		}
		return store.Account{}, errWrongCredentials
	}
	// Right: accepted only if the counters still allow it now; then the
	// identifier's and the account's failures are cleared.
	if d, err = th.Accept(ctx, []throttle.Key{keys[0], s.accountKey(acct.ID)}, keys...); err != nil {
		return store.Account{}, err
	} else if d.Locked {
		return store.Account{}, errWrongCredentials
	} else if !d.Allowed() {
		return store.Account{}, s.throttled("password", d)
	}
	if acct.Disabled {
		s.recordRefused(ctx, acct, "locked")
		return store.Account{}, problem.New(problem.Forbidden, "", "login.disabled", nil)
	}
	if rehash {
		s.rehash(ctx, acct.ID, stored.Hash, pw)
	}
	return acct, nil
}

// withPassword makes a lookup for checkPassword of one that finds the
// account only; it reads no counters.
func (s *Service) withPassword(ctx context.Context, get func() (store.Account, error)) func(store.LoginCounters) (store.Account, store.Password, map[string]store.CounterState, error) {
	return func(store.LoginCounters) (store.Account, store.Password, map[string]store.CounterState, error) {
		acct, err := get()
		if err != nil {
			return acct, store.Password{}, nil, err
		}
		p, err := s.Store.GetPassword(ctx, acct.ID)
		if errors.Is(err, store.ErrNotFound) {
			return acct, store.Password{}, nil, nil
		}
		return acct, p, nil, err
	}
}

// reserveAttempt counts one try at a secret (a password, an authenticator
// or recovery code) before it is checked; the caller resets the count when
// the secret was right. After LoginFailures tries within LoginWindow
// further tries wait, the right secret too. A try refused while waiting
// is not counted, so waiting does not make the wait longer.
func (s *Service) reserveAttempt(ctx context.Context, key, field string) error {
	cfg := s.cfg()
	// One statement that counts only below the limit, so parallel tries
	// cannot take more places than there are; a refusal reads when the
	// last failure was, for the wait.
	if _, ok, err := s.Store.ReserveFailure(ctx, key, s.now(), cfg.LoginWindow, cfg.LoginFailures); err != nil || ok {
		return err
	}
	_, last, err := s.Store.Failures(ctx, key, s.now(), cfg.LoginWindow)
	if err != nil {
		return err
	}
	wait := last.Add(cfg.LoginWindow).Sub(s.now())
	return problem.New(problem.TooManyAttempts, field, "login.throttled", problem.Args{"count": max(1, int((wait+time.Minute-1)/time.Minute))})
}

// rehash upgrades a stored hash to the current parameters after a
// successful sign-in. It is best effort: a failure is logged, and a
// concurrent password change is never overwritten.
func (s *Service) rehash(ctx context.Context, accountID, old, pw string) {
	h, err := s.Hasher.Hash(ctx, s.Policy.Prepare(pw))
	if err != nil {
		s.log().Warn("rehash failed", "account", accountID, "err", err)
		return
	}
	_, err = s.Store.UpdatePassword(ctx, accountID, func(p store.Password) (store.Password, error) {
		if p.Hash != old {
			return p, errors.New("password changed meanwhile")
		}
		p.Hash = h
		return p, nil
	})
	if err != nil {
		s.log().Warn("rehash not stored", "account", accountID, "err", err)
		return
	}
	s.log().Info("password rehashed with current parameters", "account", accountID)
}

// PolicyContext is the password-policy context for an address and name
// typed into a form (for the live check as the user types).
func (s *Service) PolicyContext(ctx context.Context, email, name string) password.Context {
	return password.Context{Field: "password", Email: strings.TrimSpace(email), Name: strings.TrimSpace(name), ServiceName: s.ServiceName}
}
