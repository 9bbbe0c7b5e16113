package flow

import (
	"context"
	"errors"
	"slices"

	"github.com/portvakt/portvakt/internal/account"
	"github.com/portvakt/portvakt/internal/authn"
	"github.com/portvakt/portvakt/internal/problem"
	"github.com/portvakt/portvakt/internal/store"
)

// Setting up a second factor inside a sign-in that needs one the account
// does not have yet (MFAConfig.EnrolAtFirstSignIn).

// EnrolTOTP starts setting up an authenticator inside a sign-in that needs
// a second factor the account does not have yet.
func (s *Service) EnrolTOTP(ctx context.Context, c Client, flowID string) (TOTPEnrolment, error) {
	pf, err := s.Factor(ctx, c, flowID)
	if err != nil {
		return TOTPEnrolment{}, err
	}
	if !pf.Enrol || !slices.Contains(pf.CanEnrol, authn.TOTP) {
		return TOTPEnrolment{}, errFlowGone
	}
	e, err := s.startTOTP(ctx, Who{Account: pf.Account})
	if err != nil {
		return TOTPEnrolment{}, err
	}
	err = s.updateMFA(ctx, c, flowID, func(d *mfaData) { d.Factor = e.FactorID })
	return e, err
}

// ConfirmEnrolTOTP checks the first code of the new authenticator and
// finishes the sign-in with it; recovery codes made for the account are
// returned, to be shown once.
func (s *Service) ConfirmEnrolTOTP(ctx context.Context, c Client, flowID, code string) (Result, []string, error) {
	pf, err := s.Factor(ctx, c, flowID)
	if err != nil {
		return Result{}, nil, err
	}
	d := decodeMFA(pf.Flow)
	if !pf.Enrol || d.Factor == "" {
		return Result{}, nil, errFlowGone
	}
	codes, err := s.confirmTOTP(ctx, c, Who{Account: pf.Account}, d.Factor, code, true)
	if err != nil {
		return Result{}, nil, err
	}
	s.log().Warn("second factor bound at sign-in", "account", pf.Account.ID, "kind", "totp", "first_use", s.mfa().EnrolAtFirstSignIn)
	if _, err := s.Sessions.RevokeOthers(ctx, pf.Account.ID, ""); err != nil {
		return Result{}, nil, err
	}
	res, err := s.completeFactor(ctx, c, flowID, authn.TOTP, false)
	return res, codes, err
}

// EnrolEmail adds and verifies an address inside a sign-in that needs an
// email second factor the account does not have yet: a code goes to it.
func (s *Service) EnrolEmail(ctx context.Context, c Client, flowID, email string) error {
	pf, err := s.Factor(ctx, c, flowID)
	if err != nil {
		return err
	}
	var addr string
	switch {
	case pf.ConfirmAddress != "":
		// Proving the registered address: the code goes to it, whatever
		// was typed.
		if addr, err = s.primaryEmail(ctx, pf.Account.ID); err != nil {
			return err
		}
	case !pf.Enrol || !slices.Contains(pf.CanEnrol, authn.Email):
		return errFlowGone
	default:
		if addr, err = account.ParseEmail("email", email); err != nil {
			return err
		}
	}
	// The same budget as the settings' address check (email_verify).
	if err := s.mailAllowed(ctx, c, addr, store.FlowVerifyEmail); err != nil {
		return err
	}
	code := newCode()
	if err := s.armCode(ctx, c, flowID, "enrol-email", code, nil, s.cfg().CodeTTL); err != nil {
		return err
	}
	if err := s.updateMFA(ctx, c, flowID, func(d *mfaData) { d.Email = addr }); err != nil {
		return err
	}
	data := s.requestFacts(c)
	data["name"], data["code"], data["minutes"] = pf.Account.Name, code, int(s.cfg().CodeTTL.Minutes())
	return s.Mailer.Send(ctx, addr, s.lang(pf.Account, c), "email_verify", data)
}

// ConfirmEnrolEmail checks the code sent by EnrolEmail, adds the address
// as the account's (main, if it has none) address and finishes the
// sign-in with it.
func (s *Service) ConfirmEnrolEmail(ctx context.Context, c Client, flowID, code string) (Result, error) {
	pf, err := s.Factor(ctx, c, flowID)
	if err != nil {
		return Result{}, err
	}
	d := decodeMFA(pf.Flow)
	if !pf.Enrol || d.Email == "" {
		return Result{}, errFlowGone
	}
	if pf.ConfirmAddress != "" {
		// The registered address is proven: the mailbox joins the
		// methods used, and the step goes on to setting up a factor.
		if _, err := s.checkCode(ctx, c, flowID, FlowMFA, "code", code, s.cfg().CodeTTL, func(f *store.Flow) {
			d := decodeMFA(*f)
			d.Used = append(d.Used, authn.Email)
			f.Data = encodeMFA(d)
		}); err != nil {
			return Result{}, err
		}
		return Result{Account: pf.Account}, nil
	}
	if _, err := s.checkCode(ctx, c, flowID, FlowMFA, "code", code, s.cfg().CodeTTL, func(*store.Flow) {}); err != nil {
		return Result{}, err
	}
	_, perr := s.primaryEmail(ctx, pf.Account.ID)
	if perr != nil && !errors.Is(perr, store.ErrNotFound) {
		return Result{}, perr
	}
	now := s.now()
	e := store.Email{Address: d.Email, AccountID: pf.Account.ID, Primary: perr != nil, VerifiedAt: now, CreatedAt: now}
	if err := s.Store.AddEmail(ctx, e); errors.Is(err, store.ErrConflict) {
		return Result{}, problem.New(problem.Conflict, "email", "email.taken", problem.Args{"email": d.Email})
	} else if err != nil {
		return Result{}, err
	}
	s.log().Warn("second factor bound at sign-in", "account", pf.Account.ID, "kind", "email", "first_use", true)
	if _, err := s.Sessions.RevokeOthers(ctx, pf.Account.ID, ""); err != nil {
		return Result{}, err
	}
	s.notify(ctx, c, pf.Account, "factor_added", map[string]any{"factor": d.Email, "security_url": s.link("/account/security")})
	return s.completeFactor(ctx, c, flowID, authn.Email, false)
}
