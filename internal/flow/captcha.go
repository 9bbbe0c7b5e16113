package flow

import (
	"context"
	"errors"
	"strings"

	"github.com/portvakt/portvakt/internal/store"
	"github.com/portvakt/portvakt/internal/throttle"
)

// SignInFailures is how many failed sign-ins are counted now on the
// client's address, or on the identifier and the account a sign-in is
// for: the email-first flow flowID, or else username. The captcha policy
// (captcha.login_after_failures) asks a challenge from this many on. It
// reads only and tells nothing the answers to sign-in do not: an unknown
// identifier has its own counter, as a known one.
func (s *Service) SignInFailures(ctx context.Context, c Client, flowID, username string) (int, error) {
	th := s.throttle()
	var keys []throttle.Key
	if c.IP != "" {
		keys = append(keys, throttle.Key{Rule: s.rules().IP, ID: c.IP})
	}
	var acct store.Account
	var err error
	switch {
	case flowID != "":
		f, ferr := s.loadFlow(ctx, c, flowID, store.FlowLogin)
		if ferr != nil {
			break // the password step will answer this
		}
		keys = append(keys, throttle.Key{Rule: s.identifierRule(), ID: "email:" + strings.ToLower(f.Email)})
		var e store.Email
		if e, err = s.Store.GetEmail(ctx, f.Email); err == nil {
			acct, err = s.Store.GetAccount(ctx, e.AccountID)
		}
	case strings.TrimSpace(username) != "":
		u, uerr := s.parseUsername(strings.ToLower(strings.TrimSpace(username)))
		if uerr != nil {
			break
		}
		keys = append(keys, throttle.Key{Rule: s.identifierRule(), ID: "user:" + u})
		acct, err = s.Store.GetAccountByUsername(ctx, u)
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return 0, err
	}
	if acct.ID != "" {
		keys = append(keys, s.accountKey(acct.ID))
	}
	most := 0
	for _, k := range keys {
		n, err := th.Count(ctx, k)
		if err != nil {
			return 0, err
		}
		most = max(most, n)
	}
	return most, nil
}
