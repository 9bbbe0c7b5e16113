package flow

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/portvakt/portvakt/internal/authn"
	"github.com/portvakt/portvakt/internal/authn/totp"
	"github.com/portvakt/portvakt/internal/problem"
	"github.com/portvakt/portvakt/internal/secret"
	"github.com/portvakt/portvakt/internal/store"
)

// Authenticator apps (TOTP): the check at a second-factor step and the
// setting up from the security settings.

// verifyTOTP accepts a code for the factor once: the matched time step is
// stored in the same transaction, and a step at or before the last one is
// refused. Every well-formed try is counted before it is checked
// (reserveAttempt), so parallel guesses cannot run past the limit.
func (s *Service) verifyTOTP(ctx context.Context, factorID, code string) error {
	if !totp.WellFormed(code) {
		return problem.New(problem.Invalid, "code", "totp.format", nil)
	}
	key := "factor:totp:" + factorID
	if err := s.reserveAttempt(ctx, key, "code"); err != nil {
		return err
	}
	// The code is checked against the factor as read, and accepted by a
	// compare and set on its last step: of parallel submissions of one
	// code exactly one advances it, and the others read the factor again
	// and find the code replayed. (Two round trips where UpdateFactor's
	// locking transaction took four.)
	for {
		f, err := s.Store.GetFactor(ctx, factorID)
		if err != nil {
			return err
		}
		seed, err := s.Sealer.Open(f.Secret, []byte("totp:"+f.ID))
		if err != nil {
			return fmt.Errorf("open totp secret: %w", err)
		}
		step, err := totp.Verify(string(seed), code, s.now(), f.LastStep)
		switch {
		case errors.Is(err, totp.ErrFormat):
			return problem.New(problem.Invalid, "code", "totp.format", nil)
		case errors.Is(err, totp.ErrReplayed):
			return problem.New(problem.Invalid, "code", "totp.replayed", nil)
		case errors.Is(err, totp.ErrWrongCode):
			return problem.New(problem.Invalid, "code", "totp.wrong", nil)
		case err != nil:
			return err
		}
		ok, err := s.Store.AdvanceFactorStep(ctx, f.ID, f.LastStep, step, s.now())
		if err != nil {
			return err
		}
		if ok {
			return s.Store.ResetFailures(ctx, key)
		}
		// Another submission moved the step meanwhile: read it again.
	}
}

// TOTPEnrolment is what the set-up page shows.
type TOTPEnrolment struct {
	FactorID string
	Secret   string
	Groups   string
	URL      string
	QR       string
}

// StartTOTP creates an unconfirmed authenticator factor with a new secret.
// It becomes usable only after ConfirmTOTP with a correct code.
func (s *Service) StartTOTP(ctx context.Context, who Who) (TOTPEnrolment, error) {
	if err := s.requireFresh(ctx, who); err != nil {
		return TOTPEnrolment{}, err
	}
	return s.startTOTP(ctx, who)
}

func (s *Service) startTOTP(ctx context.Context, who Who) (TOTPEnrolment, error) {
	if !s.mfa().allowed(authn.TOTP) {
		return TOTPEnrolment{}, problem.New(problem.Forbidden, "", "security.method_not_allowed", nil)
	}
	label := who.Account.Username
	if e, err := s.primaryEmail(ctx, who.Account.ID); err == nil {
		label = e
	} else if !errors.Is(err, store.ErrNotFound) {
		return TOTPEnrolment{}, err
	}
	if label == "" {
		label = who.Account.Name
	}
	key, err := totp.Generate(s.ServiceName, label)
	if err != nil {
		return TOTPEnrolment{}, err
	}
	qr, err := key.QRDataURI()
	if err != nil {
		return TOTPEnrolment{}, err
	}
	// Drop earlier unfinished set-ups.
	factors, err := s.Store.ListFactors(ctx, who.Account.ID)
	if err != nil {
		return TOTPEnrolment{}, err
	}
	for _, f := range factors {
		if f.Kind == store.FactorTOTP && f.ConfirmedAt.IsZero() {
			s.Store.DeleteFactor(ctx, f.ID)
		}
	}
	id := secret.ID()
	f := store.Factor{ID: id, AccountID: who.Account.ID, Kind: store.FactorTOTP, Name: s.Texts.Lang(who.Account.Locale).T("security.totp.default_name"),
		Secret: s.Sealer.Seal([]byte(key.Secret), []byte("totp:"+id)), CreatedAt: s.now()}
	if err := s.Store.CreateFactor(ctx, f); err != nil {
		return TOTPEnrolment{}, err
	}
	return TOTPEnrolment{FactorID: id, Secret: key.Secret, Groups: strings.Join(key.SecretGroups(), " "), URL: key.URL, QR: qr}, nil
}

// ConfirmTOTP activates the factor after a correct code. Other
// authenticators of the account are removed (a new phone replaces the
// old). If the account has no recovery codes yet, a set is made and
// returned, to be shown once.
func (s *Service) ConfirmTOTP(ctx context.Context, c Client, who Who, factorID, code string) ([]string, error) {
	if err := s.requireFresh(ctx, who); err != nil {
		return nil, err
	}
	return s.confirmTOTP(ctx, c, who, factorID, code, false)
}

// confirmTOTP is ConfirmTOTP without the freshness check, for the
// set-up inside a sign-in (atSignIn), whose session does not exist yet.
func (s *Service) confirmTOTP(ctx context.Context, c Client, who Who, factorID, code string, atSignIn bool) ([]string, error) {
	f, err := s.Store.GetFactor(ctx, factorID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (f.AccountID != who.Account.ID || f.Kind != store.FactorTOTP)) {
		return nil, problem.New(problem.Expired, "", "flow.gone", nil)
	}
	if err != nil {
		return nil, err
	}
	seed, err := s.Sealer.Open(f.Secret, []byte("totp:"+f.ID))
	if err != nil {
		return nil, fmt.Errorf("open totp secret: %w", err)
	}
	step, err := totp.Verify(string(seed), code, s.now(), f.LastStep)
	switch {
	case errors.Is(err, totp.ErrFormat):
		return nil, problem.New(problem.Invalid, "code", "totp.format", nil)
	case errors.Is(err, totp.ErrWrongCode), errors.Is(err, totp.ErrReplayed):
		return nil, problem.New(problem.Invalid, "code", "totp.wrong_setup", nil)
	case err != nil:
		return nil, err
	}
	if _, err := s.Store.UpdateFactor(ctx, f.ID, func(f store.Factor) (store.Factor, error) {
		f.ConfirmedAt, f.LastStep = s.now(), step
		return f, nil
	}); err != nil {
		return nil, err
	}
	factors, err := s.Store.ListFactors(ctx, who.Account.ID)
	if err != nil {
		return nil, err
	}
	for _, o := range factors {
		if o.Kind == store.FactorTOTP && o.ID != f.ID {
			if err := s.Store.DeleteFactor(ctx, o.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
				return nil, err
			}
		}
	}
	if !atSignIn {
		if err := s.contain(ctx, who); err != nil {
			return nil, err
		}
	}
	s.notify(ctx, c, who.Account, "factor_added", map[string]any{"factor": s.Texts.Lang(s.lang(who.Account, c)).T("security.totp.title"), "security_url": s.link("/account/security")})
	s.log().Info("factor added", "account", who.Account.ID, "kind", "totp")
	if unused, _, err := s.Store.CountRecoveryCodes(ctx, who.Account.ID); err != nil {
		return nil, err
	} else if unused == 0 && s.mfa().allowed(authn.Recovery) {
		return s.newRecoveryCodes(ctx, who.Account.ID)
	}
	return nil, nil
}

func init() {
	registerSecondFactor(secondFactorKind{
		method: authn.TOTP, order: 10, factor: store.FactorTOTP, lostWith: true,
		fromFactor: func(f store.Factor) Option { return Option{Method: authn.TOTP, Target: f.ID, Label: f.Name} },
		describe:   func(f store.Factor) (string, []any) { return "methods.totp", []any{"name", f.Name} },
		verify: func(s *Service, ctx context.Context, c Client, pf PendingFactor, o Option, code string) error {
			if err := s.verifyTOTP(ctx, o.Target, code); err != nil {
				return s.countWrongFactor(ctx, c, pf.Account, err, "totp.wrong")
			}
			return nil
		},
		view: func(*Service, Option) FactorView {
			return FactorView{Title: "mfa.totp.title", CodeHint: "mfa.totp.hint"}
		},
	})
}
