package flow

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/portvakt/portvakt/internal/account"
	"github.com/portvakt/portvakt/internal/audit"
	"github.com/portvakt/portvakt/internal/authn"
	"github.com/portvakt/portvakt/internal/authn/password"
	"github.com/portvakt/portvakt/internal/problem"
	"github.com/portvakt/portvakt/internal/secret"
	"github.com/portvakt/portvakt/internal/store"
)

// Sign-up states.
const (
	stateCodeSent = "code_sent"
	stateVerified = "verified"
)

// StartSignup begins a sign-up for an email address and mails a six-digit
// code. If the address already has an account, the flow looks the same to
// the caller, but the mail says so (and offers sign-in and recovery), and
// no code will work: the response never tells a stranger whether an
// address is registered.
func (s *Service) StartSignup(ctx context.Context, c Client, email string) (store.Flow, error) {
	addr, err := account.ParseEmail("email", email)
	if err != nil {
		return store.Flow{}, err
	}
	f := s.newFlow(store.FlowSignup, c, addr)
	f.State = stateCodeSent
	if err := s.Store.CreateFlow(ctx, f); err != nil {
		return store.Flow{}, err
	}
	created := readBack(f)
	armed, err := s.sendSignupCode(ctx, c, &created)
	if err != nil {
		return store.Flow{}, err
	}
	return armed, nil
}

// readBack returns a flow just created as the store reads it back: times
// in UTC to the millisecond, empty digests nil.
func readBack(f store.Flow) store.Flow {
	for _, t := range []*time.Time{&f.LastSentAt, &f.CreatedAt, &f.ExpiresAt, &f.ConsumedAt} {
		*t = time.UnixMilli(t.UnixMilli()).UTC()
	}
	for _, b := range []*[]byte{&f.BrowserHash, &f.CodeHash, &f.LinkHash} {
		if len(*b) == 0 {
			*b = nil
		}
	}
	return f
}

// sendSignupCode mails the code of the sign-up f (as stored) and returns
// the flow as the code left it.
func (s *Service) sendSignupCode(ctx context.Context, c Client, f *store.Flow) (store.Flow, error) {
	_, err := s.Store.GetEmail(ctx, f.Email)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return s.sendCodeOn(ctx, c, f, f.ID, store.FlowSignup, "signup_code", nil, true)
	case err != nil:
		return store.Flow{}, err
	default:
		return s.sendCodeOn(ctx, c, f, f.ID, store.FlowSignup, "signup_existing", map[string]any{
			"login_url":   s.link("/login"),
			"recover_url": s.link("/recover"),
		}, false)
	}
}

// ResendSignupCode mails a new code. It refuses during the cool-down,
// saying how many seconds are left, and after MaxSends codes. The count
// of wrong codes is kept: a resend is not a way to more guesses.
func (s *Service) ResendSignupCode(ctx context.Context, c Client, flowID string) error {
	f, err := s.loadFlow(ctx, c, flowID, store.FlowSignup)
	if err != nil {
		return err
	}
	if f.State != stateCodeSent {
		return errFlowGone
	}
	_, err = s.sendSignupCode(ctx, c, &f)
	return err
}

// VerifySignupCode checks the code typed into field "code".
func (s *Service) VerifySignupCode(ctx context.Context, c Client, flowID, code string) (store.Flow, error) {
	f, err := s.loadFlow(ctx, c, flowID, store.FlowSignup)
	if err != nil {
		return store.Flow{}, err
	}
	if f.State == stateVerified {
		return f, nil
	}
	return s.checkCode(ctx, c, flowID, store.FlowSignup, "code", code, s.cfg().CodeTTL, func(f *store.Flow) { f.State = stateVerified })
}

// SignupFlow returns the sign-up flow for the page that shows it.
func (s *Service) SignupFlow(ctx context.Context, c Client, flowID string) (store.Flow, error) {
	return s.loadFlow(ctx, c, flowID, store.FlowSignup)
}

// CompleteSignup creates the account for a verified sign-up, with the
// given name and password, and signs the user in. Every problem with the
// name and every broken password rule come back at once.
func (s *Service) CompleteSignup(ctx context.Context, c Client, flowID, name, pw string) (Result, error) {
	f, err := s.loadFlow(ctx, c, flowID, store.FlowSignup)
	if err != nil {
		return Result{}, err
	}
	if f.State != stateVerified {
		return Result{}, problem.New(problem.Forbidden, "", "signup.not_verified", nil)
	}
	name = strings.TrimSpace(name)
	p := &problem.Problem{Kind: problem.Invalid}
	if name == "" {
		p.Add("name", "signup.name_required", nil)
	} else if len([]rune(name)) > 200 {
		p.Add("name", "signup.name_too_long", problem.Args{"max": 200})
	} else if _, err := account.ParseName("name", name, 200); err != nil {
		// Control characters (CR, LF, …) would reach mail text.
		pp, _ := problem.As(err)
		p.Details = append(p.Details, pp.Details...)
	}
	if err := s.Policy.Check(pw, password.Context{Field: "password", Email: f.Email, Name: name, ServiceName: s.ServiceName}); err != nil {
		pp, ok := problem.As(err)
		if !ok {
			return Result{}, err
		}
		p.Details = append(p.Details, pp.Details...)
	}
	if err := p.OrNil(); err != nil {
		return Result{}, err
	}
	hash, err := s.Hasher.Hash(ctx, s.Policy.Prepare(pw))
	if err != nil {
		return Result{}, err
	}
	// Consume the flow and create the account in one transaction: a crash
	// between the two can neither leave a used flow without its account
	// (the user would have to start again) nor an account whose flow can
	// be completed twice. Of two parallel completions one wins.
	now := s.now()
	acct := store.Account{ID: secret.ID(), Name: name, Locale: c.Lang, CreatedAt: now, UpdatedAt: now}
	_, err = s.Store.RegisterFromFlow(ctx, f.ID, s.consumer(c, store.FlowSignup, func(f *store.Flow) error {
		if f.State != stateVerified {
			return errFlowGone
		}
		return nil
	}), acct,
		[]store.Email{{Address: f.Email, AccountID: acct.ID, Primary: true, VerifiedAt: now, CreatedAt: now}},
		&store.Password{AccountID: acct.ID, Hash: hash, ChangedAt: now})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return Result{}, errFlowGone
	case errors.Is(err, store.ErrConflict):
		return Result{}, problem.New(problem.Conflict, "email", "signup.email_taken", problem.Args{"email": f.Email})
	case err != nil:
		return Result{}, err
	}
	s.log().Info("account created", "account", acct.ID, "via", "signup")
	s.recordCreated(ctx, acct, audit.Actor{}, "signup")
	// The account exists: a welcome that cannot be queued does not undo
	// it, but it is not dropped unseen either.
	if err := s.Mailer.Send(ctx, f.Email, c.Lang, "welcome", map[string]any{"name": name, "login_url": s.link("/login")}); err != nil {
		s.log().Error("welcome mail not queued", "account", acct.ID, "err", err)
	}
	// The sign-up proved the mailbox (its code) and chose the password in
	// one flow: both count, so a required authenticator is set up next
	// without proving the address again.
	return s.finishLogin(ctx, c, acct, []authn.Method{authn.Email, authn.Password})
}

// consume marks a flow used, after check (run inside the update) passes.
// Of parallel calls exactly one succeeds; the rest get errFlowGone.
func (s *Service) consume(ctx context.Context, c Client, id, kind string, check func(*store.Flow) error) (store.Flow, error) {
	f, err := s.Store.UpdateFlow(ctx, id, s.consumer(c, kind, check))
	if errors.Is(err, store.ErrNotFound) {
		return store.Flow{}, errFlowGone
	}
	return f, err
}

// consumer is the updater that consume runs: the flow must be of kind,
// still valid for c, and pass check; then it is marked used.
func (s *Service) consumer(c Client, kind string, check func(*store.Flow) error) func(store.Flow) (store.Flow, error) {
	return func(f store.Flow) (store.Flow, error) {
		if f.Kind != kind {
			return f, errFlowGone
		}
		if err := s.checkFlow(f, c); err != nil {
			return f, err
		}
		if err := check(&f); err != nil {
			return f, err
		}
		f.ConsumedAt = s.now()
		return f, nil
	}
}

// link is an absolute URL on the public site.
func (s *Service) link(path string) string {
	return strings.TrimRight(s.PublicURL, "/") + path
}
