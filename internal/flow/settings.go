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

// ChangePassword replaces the password after checking the current one,
// ends every other session of the account, and mails a confirmation.
// It returns the new token for this session, which is rotated.
func (s *Service) ChangePassword(ctx context.Context, c Client, who Who, current, next string) (string, error) {
	if err := s.requireFresh(ctx, who); err != nil {
		return "", err
	}
	if err := s.reauthenticate(ctx, who.Account, current); err != nil {
		return "", err
	}
	primary, _ := s.primaryEmail(ctx, who.Account.ID)
	if err := s.setPassword(ctx, who.Account, primary, "password", next); err != nil {
		return "", err
	}
	// Other sessions end, remembered browsers (bound to the password that
	// opened them) are forgotten, and a second step begun with the old
	// password cannot finish.
	if err := s.contain(ctx, who); err != nil {
		return "", err
	}
	token, _, err := s.Sessions.Rotate(ctx, who.Session.ID, nil)
	if err != nil {
		return "", err
	}
	s.notifyPasswordChanged(ctx, c, who.Account)
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
	_, err := s.checkPassword(ctx, Client{}, "account:"+acct.ID, pw, func() (store.Account, error) { return acct, nil })
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

// notifyPasswordChanged tells every verified address (an account without
// one, operator-made, has nowhere to be told).
func (s *Service) notifyPasswordChanged(ctx context.Context, c Client, acct store.Account) {
	s.notify(ctx, c, acct, "password_changed", nil)
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
// for it, the address becomes primary and the old primary address is told.
func (s *Service) VerifyAddEmail(ctx context.Context, c Client, who Who, flowID, code string) (store.Email, error) {
	if err := s.requireFresh(ctx, who); err != nil {
		return store.Email{}, err
	}
	if _, err := s.EmailFlow(ctx, c, who, flowID); err != nil {
		return store.Email{}, err
	}
	f, err := s.checkCode(ctx, c, flowID, store.FlowVerifyEmail, "code", code, s.cfg().CodeTTL, func(f *store.Flow) {
		f.State = stateVerified
		f.ConsumedAt = s.now()
	})
	if err != nil {
		return store.Email{}, err
	}
	now := s.now()
	e := store.Email{Address: f.Email, AccountID: who.Account.ID, VerifiedAt: now, CreatedAt: now}
	if err := s.Store.AddEmail(ctx, e); errors.Is(err, store.ErrConflict) {
		return store.Email{}, problem.New(problem.Conflict, "email", "email.taken", problem.Args{"email": f.Email})
	} else if err != nil {
		return store.Email{}, err
	}
	if err := s.contain(ctx, who); err != nil {
		return store.Email{}, err
	}
	s.log().Info("email added", "account", who.Account.ID)
	// An address can sign in and reset the password: the primary address
	// hears of it before anything else changes.
	s.notify(ctx, c, who.Account, "factor_added", map[string]any{"factor": f.Email, "security_url": s.link("/account")})
	if decodeData(f).MakePrim {
		if err := s.setPrimaryEmail(ctx, c, who, f.Email); err != nil {
			return store.Email{}, err
		}
		e.Primary = true
	}
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
	old, _ := s.primaryEmail(ctx, who.Account.ID)
	if err := s.Store.SetPrimaryEmail(ctx, who.Account.ID, address); errors.Is(err, store.ErrNotFound) {
		return problem.New(problem.NotFound, "email", "email.not_yours", problem.Args{"email": address})
	} else if err != nil {
		return err
	}
	if err := s.contain(ctx, who); err != nil {
		return err
	}
	if old != "" && !strings.EqualFold(old, address) {
		// Every address hears of it, the old main one included.
		s.notify(ctx, c, who.Account, "email_primary_changed", map[string]any{"new_email": address})
	}
	return nil
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
	if err := s.Store.DeleteEmail(ctx, who.Account.ID, e.Address); err != nil {
		return err
	}
	if err := s.contain(ctx, who); err != nil {
		return err
	}
	data := s.requestFacts(c)
	data["name"] = who.Account.Name
	data["recover_url"] = s.link("/recover")
	if err := s.Mailer.Send(ctx, e.Address, mailLang(who.Account, c), "email_removed", data); err != nil {
		s.log().Error("security mail not queued", "template", "email_removed", "account", who.Account.ID, "err", err)
	}
	// And the addresses that remain.
	s.notify(ctx, c, who.Account, "email_removed", nil)
	return nil
}

// contain is what every change to how the account signs in or is
// recovered does besides the change itself: the account's other sessions
// end (this one, if any, stays) and every remembered browser is
// forgotten, and second steps under way are dropped, so an intruder's
// foothold does not outlive the owner's fix.
func (s *Service) contain(ctx context.Context, who Who) error {
	if _, err := s.Sessions.RevokeOthers(ctx, who.Account.ID, who.Session.ID); err != nil {
		return err
	}
	// A second step someone began with the password must not finish now.
	if _, err := s.Store.DeleteAccountFlows(ctx, who.Account.ID, FlowMFA); err != nil {
		return err
	}
	return s.ForgetAllBrowsers(ctx, who.Account.ID)
}
