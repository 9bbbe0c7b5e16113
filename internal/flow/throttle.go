package flow

import (
	"context"
	"strings"
	"time"

	"github.com/portvakt/portvakt/internal/problem"
	"github.com/portvakt/portvakt/internal/store"
	"github.com/portvakt/portvakt/internal/throttle"
)

// throttle returns the shared throttle over the store's counters.
func (s *Service) throttle() *throttle.Throttle {
	return &throttle.Throttle{Counters: s.Store, Now: s.now}
}

// rules returns the throttle's rules: Service.Rules, or the defaults.
func (s *Service) rules() throttle.Rules {
	if s.Rules != nil {
		return *s.Rules
	}
	return throttle.DefaultRules()
}

// identifierRule is sign-in's rule per identifier (an address, a
// username): Config.LoginFailures free, then wait until a LoginWindow
// after the last failure.
func (s *Service) identifierRule() throttle.Rule {
	cfg := s.cfg()
	return throttle.Rule{Name: "login", Limit: cfg.LoginFailures, Base: cfg.LoginWindow, Max: cfg.LoginWindow, Window: cfg.LoginWindow}
}

// sourceKeys are the keys of a client: its address, its network, and the
// global counter.
func (s *Service) sourceKeys(c Client) []throttle.Key {
	r := s.rules()
	keys := []throttle.Key{{Rule: r.Global, ID: "all"}}
	if c.IP != "" {
		keys = append(keys, throttle.Key{Rule: r.IP, ID: c.IP}, throttle.Key{Rule: r.Network, ID: throttle.Network(c.IP)})
	}
	return keys
}

// accountKey is the account's key: every secret of the account counts on
// it, whatever identifier or flow was used.
func (s *Service) accountKey(accountID string) throttle.Key {
	return throttle.Key{Rule: s.rules().Account, ID: accountID}
}

// throttled is the problem for a refused try.
func (s *Service) throttled(field string, d throttle.Decision) error {
	wait := d.Wait(s.now())
	return problem.New(problem.TooManyAttempts, field, "login.throttled", problem.Args{"count": max(1, int((wait+time.Minute-1)/time.Minute))})
}

// failed counts a wrong secret on keys. It returns the problem to answer
// instead of "wrong" when the failure was beyond a limit (a parallel try
// took the last free place), and mails the owner when this failure locked
// the account.
func (s *Service) failed(ctx context.Context, c Client, acct *store.Account, field string, keys ...throttle.Key) error {
	s.recordFailure(ctx, acct, field)
	fs, err := s.throttle().Failed(ctx, keys...)
	if err != nil {
		return err
	}
	var beyond bool
	for _, f := range fs {
		if f.Reached() && acct != nil {
			s.log().Warn("account locked after consecutive failures", "account", acct.ID, "failures", f.Count)
			s.notify(ctx, c, *acct, "account_locked", map[string]any{"failures": f.Count})
		}
		if f.Beyond() && !f.Key.Rule.Lock {
			beyond = true
		}
	}
	if beyond {
		d, err := s.throttle().Check(ctx, keys...)
		if err != nil {
			return err
		}
		if d.Until.IsZero() {
			d.Until = s.now().Add(time.Minute)
		}
		return s.throttled(field, d)
	}
	return nil
}

// UnlockAccount clears the account's consecutive-failure count, for
// support (the admin API) and after the owner recovered the account.
func (s *Service) UnlockAccount(ctx context.Context, accountID string) error {
	if _, err := s.Store.GetAccount(ctx, accountID); err != nil {
		return err
	}
	if err := s.throttle().Reset(ctx, s.accountKey(accountID)); err != nil {
		return err
	}
	s.log().Info("account unlocked", "account", accountID)
	return nil
}

// AccountLocked reports whether the account is locked after consecutive
// failures.
func (s *Service) AccountLocked(ctx context.Context, accountID string) (bool, error) {
	d, err := s.throttle().Check(ctx, s.accountKey(accountID))
	return d.Locked, err
}

// codeKey is the emailed-code budget of a flow's account, or of its
// address before an account exists.
func (s *Service) codeKey(f store.Flow) throttle.Key {
	r := s.rules().Codes
	if f.AccountID != "" {
		return throttle.Key{Rule: r, ID: "acct:" + f.AccountID}
	}
	return throttle.Key{Rule: r, ID: "addr:" + strings.ToLower(f.Email)}
}

// countWrongFactor counts a wrong authenticator or recovery code (err, a
// problem with the key wrongKey) on the account's consecutive failures and
// the client's address and network, as a wrong password is; it returns the
// error to answer.
func (s *Service) countWrongFactor(ctx context.Context, c Client, acct store.Account, err error, wrongKey string) error {
	p, ok := problem.As(err)
	if !ok || len(p.Details) == 0 || p.Details[0].Key != wrongKey {
		return err
	}
	keys := append(s.sourceKeys(c), s.accountKey(acct.ID))
	if ferr := s.failed(ctx, c, &acct, "code", keys...); ferr != nil {
		return ferr
	}
	return err
}

// mailAllowed spends one place of the mail budgets for a mail of kind to
// addr asked for by c, or returns the problem that says when the next is
// possible. The recipient's and the client's budgets are checked and
// spent first; only a mail both allow reaches the global budget, so
// refused requests never spend it. A refusal is the same whether or not
// the address has an account.
func (s *Service) mailAllowed(ctx context.Context, c Client, addr, kind string) error {
	r := s.rules()
	th := s.throttle()
	local := []throttle.Key{{Rule: r.MailRecipient, ID: kind + ":" + strings.ToLower(addr)}}
	if c.IP != "" {
		local = append(local, throttle.Key{Rule: r.MailIP, ID: c.IP})
	}
	for _, keys := range [][]throttle.Key{local, {{Rule: r.MailGlobal, ID: "all"}}} {
		d, err := th.Check(ctx, keys...)
		if err != nil {
			return err
		}
		if !d.Allowed() {
			return s.mailRefused(d)
		}
		fs, err := th.Failed(ctx, keys...)
		if err != nil {
			return err
		}
		for _, f := range fs {
			if f.Beyond() {
				d, err := th.Check(ctx, keys...)
				if err != nil {
					return err
				}
				return s.mailRefused(d)
			}
		}
	}
	return nil
}

func (s *Service) mailRefused(d throttle.Decision) error {
	wait := d.Wait(s.now())
	s.log().Warn("mail refused by its budget", "key", d.Key.Rule.Name, "wait", wait.Round(time.Second))
	return problem.New(problem.TooManyAttempts, "email", "mail.budget", problem.Args{
		"count": max(1, int((wait+time.Minute-1)/time.Minute)),
		"at":    d.Until.UTC().Format("15:04 UTC"),
	})
}
