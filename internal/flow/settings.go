package flow

import (
	"context"
	"errors"
	"strings"

	"github.com/portvakt/portvakt/internal/account"
	"github.com/portvakt/portvakt/internal/problem"
	"github.com/portvakt/portvakt/internal/store"
)

// Who is a signed-in caller of a settings change.
type Who struct {
	Account store.Account
	Session store.Session
}

// ChangePassword replaces the password after checking the current one
// and, in the same transaction (secure), ends every other session of the
// account, forgets its remembered browsers (bound to the password that
// opened them), drops second steps begun with the old password, revokes
// every app token and queues the confirmation mail. It returns the new
// token for this session, which is rotated.
func (s *Service) ChangePassword(ctx context.Context, c Client, who Who, current, next string) (string, error) {
	if err := s.requireFresh(ctx, who); err != nil {
		return "", err
	}
	if err := s.reauthenticate(ctx, who.Account, current); err != nil {
		return "", err
	}
	primary, err := s.primaryEmail(ctx, who.Account.ID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return "", err
	}
	pw, err := s.newPassword(ctx, who.Account, primary, "password", next)
	if err != nil {
		return "", err
	}
	if _, err := s.secure(ctx, c, who.Account, store.SecurityChange{Keep: who.Session.ID, Password: &pw},
		notice{template: "password_changed"}); err != nil {
		return "", err
	}
	token, _, err := s.Sessions.Rotate(ctx, who.Session.ID, nil)
	if err != nil {
		return "", err
	}
	s.log().Info("password changed", "account", who.Account.ID)
	return token, nil
}

// errReauth asks for a fresh sign-in before a change to how the account
// signs in or is recovered (ASVS 5.0 V7.5.3): a session left open must not
// be enough, even with the password, when the account has a second factor.
var errReauth = problem.New(problem.Forbidden, "", "reauth.required", nil)

// reauthenticate checks the current password of a signed-in user before
// a sensitive change, throttled like sign-in.
func (s *Service) reauthenticate(ctx context.Context, acct store.Account, pw string) error {
	if pw == "" {
		return problem.New(problem.Invalid, "current_password", "settings.current_password_required", nil)
	}
	_, err := s.checkPassword(ctx, Client{}, "account:"+acct.ID, pw, s.withPassword(ctx, func() (store.Account, error) { return acct, nil }))
	if p, ok := problem.As(err); ok && p.Kind == problem.Unauthorized {
		return problem.New(problem.Invalid, "current_password", "settings.current_password_wrong", nil)
	}
	if p, ok := problem.As(err); ok {
		for i := range p.Details {
			p.Details[i].Field = "current_password"
		}
	}
	return err
}

func (s *Service) primaryEmail(ctx context.Context, accountID string) (string, error) {
	emails, err := s.Store.ListEmails(ctx, accountID)
	if err != nil {
		return "", err
	}
	for _, e := range emails {
		if e.Primary {
			return e.Address, nil
		}
	}
	return "", store.ErrNotFound
}

// mailLang is the language for mails about an account: its preference,
// else the request's.
func mailLang(acct store.Account, c Client) string {
	if acct.Locale != "" {
		return acct.Locale
	}
	return c.Lang
}

// Emails lists the account's addresses, primary first.
func (s *Service) Emails(ctx context.Context, accountID string) ([]store.Email, error) {
	return s.Store.ListEmails(ctx, accountID)
}

// StartAddEmail begins adding an address to the signed-in account: the
// current password is checked, and a code is mailed to the new address,
// which is stored only once the code is typed.
func (s *Service) StartAddEmail(ctx context.Context, c Client, who Who, email, current string, makePrimary bool) (store.Flow, error) {
	addr, err := account.ParseEmail("email", email)
	if err != nil {
		return store.Flow{}, err
	}
	if err := s.requireFresh(ctx, who); err != nil {
		return store.Flow{}, err
	}
	if err := s.reauthenticate(ctx, who.Account, current); err != nil {
		return store.Flow{}, err
	}
	if e, err := s.Store.GetEmail(ctx, addr); err == nil && e.AccountID == who.Account.ID {
		return store.Flow{}, problem.New(problem.Conflict, "email", "email.already_yours", problem.Args{"email": addr})
	}
	f := s.newFlow(store.FlowVerifyEmail, c, addr)
	f.AccountID = who.Account.ID
	f.State = stateCodeSent
	f.Data = encodeData(flowData{MakePrim: makePrimary})
	if err := s.Store.CreateFlow(ctx, f); err != nil {
		return store.Flow{}, err
	}
	if err := s.sendCode(ctx, c, f.ID, store.FlowVerifyEmail, "email_verify", map[string]any{"name": who.Account.Name}, true); err != nil {
		return store.Flow{}, err
	}
	return s.Store.GetFlow(ctx, f.ID)
}

// EmailFlow returns an add-email flow of the account.
func (s *Service) EmailFlow(ctx context.Context, c Client, who Who, flowID string) (store.Flow, error) {
	f, err := s.loadFlow(ctx, c, flowID, store.FlowVerifyEmail)
	if err == nil && f.AccountID != who.Account.ID {
		return store.Flow{}, errFlowGone
	}
	return f, err
}

// ResendEmailCode mails a new code for an add-email flow.
func (s *Service) ResendEmailCode(ctx context.Context, c Client, who Who, flowID string) error {
	if _, err := s.EmailFlow(ctx, c, who, flowID); err != nil {
		return err
	}
	return s.sendCode(ctx, c, flowID, store.FlowVerifyEmail, "email_verify", map[string]any{"name": who.Account.Name}, true)
}

// VerifyAddEmail checks the code and adds the address. If the flow asked
// for it, the address becomes primary and every address is told. The
// code is used up in the transaction that adds the address (secure): if
// the address cannot be added (another account took it meanwhile, the
// database failed), the proven flow stays open and a retry finishes it
// without another code.
func (s *Service) VerifyAddEmail(ctx context.Context, c Client, who Who, flowID, code string) (store.Email, error) {
	if err := s.requireFresh(ctx, who); err != nil {
		return store.Email{}, err
	}
	f, err := s.EmailFlow(ctx, c, who, flowID)
	if err != nil {
		return store.Email{}, err
	}
	if f.State != stateVerified || !f.ConsumedAt.IsZero() {
		f, err = s.checkCode(ctx, c, flowID, store.FlowVerifyEmail, "code", code, s.cfg().CodeTTL, func(f *store.Flow) {
			f.State = stateVerified
		})
		if err != nil {
			return store.Email{}, err
		}
	}
	old, err := s.primaryEmail(ctx, who.Account.ID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return store.Email{}, err
	}
	now := s.now()
	e := store.Email{Address: f.Email, AccountID: who.Account.ID, VerifiedAt: now, CreatedAt: now}
	add := e // added as it is, then made primary (PrimaryEmail) if asked
	ch := store.SecurityChange{
		Keep: who.Session.ID, AddEmail: &add, Flow: flowID,
		FlowUpdate: s.consumer(c, store.FlowVerifyEmail, func(f *store.Flow) error {
			if f.State != stateVerified {
				return errFlowGone
			}
			return nil
		}),
	}
	// An address can sign in and reset the password: the addresses the
	// account has hear of it.
	notices := []notice{{template: "factor_added", extra: map[string]any{"factor": f.Email, "security_url": s.link("/account")}}}
	if decodeData(f).MakePrim {
		ch.PrimaryEmail = f.Email
		e.Primary = true
		if old != "" && !strings.EqualFold(old, f.Email) {
			notices = append(notices, notice{template: "email_primary_changed", extra: map[string]any{"new_email": f.Email}, also: []string{f.Email}})
		}
	}
	_, err = s.secure(ctx, c, who.Account, ch, notices...)
	if errors.Is(err, store.ErrConflict) {
		return store.Email{}, problem.New(problem.Conflict, "email", "email.taken", problem.Args{"email": f.Email})
	}
	if errors.Is(err, store.ErrNotFound) {
		return store.Email{}, errFlowGone
	}
	if err != nil {
		return store.Email{}, err
	}
	s.log().Info("email added", "account", who.Account.ID)
	return e, nil
}

// SetPrimaryEmail makes one of the account's addresses primary and tells
// the previous primary address.
func (s *Service) SetPrimaryEmail(ctx context.Context, c Client, who Who, address string) error {
	if err := s.requireFresh(ctx, who); err != nil {
		return err
	}
	return s.setPrimaryEmail(ctx, c, who, address)
}

func (s *Service) setPrimaryEmail(ctx context.Context, c Client, who Who, address string) error {
	old, err := s.primaryEmail(ctx, who.Account.ID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	var notices []notice
	if old != "" && !strings.EqualFold(old, address) {
		// Every address hears of it, the old main one included.
		notices = append(notices, notice{template: "email_primary_changed", extra: map[string]any{"new_email": address}})
	}
	_, err = s.secure(ctx, c, who.Account, store.SecurityChange{Keep: who.Session.ID, PrimaryEmail: address}, notices...)
	if errors.Is(err, store.ErrNotFound) {
		return problem.New(problem.NotFound, "email", "email.not_yours", problem.Args{"email": address})
	}
	return err
}

// RemoveEmail removes an address after checking the current password. The
// primary address cannot be removed (make another primary first). The
// removed address is told.
func (s *Service) RemoveEmail(ctx context.Context, c Client, who Who, address, current string) error {
	if err := s.requireFresh(ctx, who); err != nil {
		return err
	}
	if err := s.reauthenticate(ctx, who.Account, current); err != nil {
		return err
	}
	e, err := s.Store.GetEmail(ctx, address)
	if errors.Is(err, store.ErrNotFound) || (err == nil && e.AccountID != who.Account.ID) {
		return problem.New(problem.NotFound, "email", "email.not_yours", problem.Args{"email": address})
	}
	if err != nil {
		return err
	}
	if e.Primary {
		return problem.New(problem.Conflict, "email", "email.remove_primary", problem.Args{"email": e.Address})
	}
	// The removed address is told, and the addresses that remain.
	_, err = s.secure(ctx, c, who.Account, store.SecurityChange{Keep: who.Session.ID, DeleteEmail: e.Address},
		notice{template: "email_removed", also: []string{e.Address}})
	if errors.Is(err, store.ErrNotFound) {
		return problem.New(problem.NotFound, "email", "email.not_yours", problem.Args{"email": address})
	}
	return err
}
