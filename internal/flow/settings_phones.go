package flow

import (
	"context"
	"errors"

	"github.com/portvakt/portvakt/internal/authn"
	"github.com/portvakt/portvakt/internal/authn/sms"
	"github.com/portvakt/portvakt/internal/problem"
	"github.com/portvakt/portvakt/internal/secret"
	"github.com/portvakt/portvakt/internal/store"
)

// Phone numbers for SMS codes: adding one from the security settings,
// proven by a code sent to it.

// FlowPhone is the kind of flows that verify a new phone number.
const FlowPhone = "phone"

// StartAddPhone checks the number and texts it a code; the phone is a
// factor only once the code is typed (ConfirmPhone).
func (s *Service) StartAddPhone(ctx context.Context, c Client, who Who, input string) (store.Flow, error) {
	if err := s.requireFresh(ctx, who); err != nil {
		return store.Flow{}, err
	}
	if !s.mfa().allowed(authn.SMS) {
		return store.Flow{}, problem.New(problem.Forbidden, "", "security.method_not_allowed", nil)
	}
	l := s.SMSLimits.withDefaults()
	phone, err := sms.ParsePhone(input, l.DefaultRegion)
	if err != nil {
		return store.Flow{}, err
	}
	id := secret.ID()
	if err := s.Store.CreateFactor(ctx, store.Factor{ID: id, AccountID: who.Account.ID, Kind: store.FactorSMS, Phone: phone, Name: MaskPhone(phone), CreatedAt: s.now()}); err != nil {
		return store.Flow{}, err
	}
	f := s.newFlow(FlowPhone, c, "")
	f.AccountID = who.Account.ID
	f.State = id
	if err := s.Store.CreateFlow(ctx, f); err != nil {
		return store.Flow{}, err
	}
	if err := s.textCode(ctx, c, who.Account, f.ID, FlowPhone, phone); err != nil {
		return store.Flow{}, err
	}
	return s.Store.GetFlow(ctx, f.ID)
}

// textCode arms a code on the flow and texts it, within the SMS limits.
func (s *Service) textCode(ctx context.Context, c Client, acct store.Account, flowID, kind, phone string) error {
	if err := s.smsAllowed(ctx, c, acct.ID, phone); err != nil {
		return err
	}
	code := newCode()
	if _, err := s.armFlowCode(ctx, c, flowID, kind, code, true, nil); err != nil {
		return err
	}
	m := s.mfa()
	return s.SMS.Send(ctx, phone, s.Texts.Lang(s.lang(acct, c)).T("sms.code", "code", code, "service", s.ServiceName, "count", int(m.SMSTTL.Minutes())))
}

// PhoneFlow returns an add-phone flow of the account, with its number.
func (s *Service) PhoneFlow(ctx context.Context, c Client, who Who, flowID string) (store.Flow, string, error) {
	f, err := s.loadFlow(ctx, c, flowID, FlowPhone)
	if err != nil {
		return store.Flow{}, "", err
	}
	if f.AccountID != who.Account.ID {
		return store.Flow{}, "", errFlowGone
	}
	factor, err := s.Store.GetFactor(ctx, f.State)
	if err != nil {
		return store.Flow{}, "", errFlowGone
	}
	return f, factor.Phone, nil
}

// ResendPhoneCode texts a new code.
func (s *Service) ResendPhoneCode(ctx context.Context, c Client, who Who, flowID string) error {
	_, phone, err := s.PhoneFlow(ctx, c, who, flowID)
	if err != nil {
		return err
	}
	return s.textCode(ctx, c, who.Account, flowID, FlowPhone, phone)
}

// ConfirmPhone checks the code and makes the phone a second factor.
func (s *Service) ConfirmPhone(ctx context.Context, c Client, who Who, flowID, code string) error {
	if err := s.requireFresh(ctx, who); err != nil {
		return err
	}
	f, phone, err := s.PhoneFlow(ctx, c, who, flowID)
	if err != nil {
		return err
	}
	if _, err := s.checkCode(ctx, c, flowID, FlowPhone, "code", code, s.mfa().SMSTTL, func(f *store.Flow) { f.ConsumedAt = s.now() }); err != nil {
		return err
	}
	if _, err := s.Store.UpdateFactor(ctx, f.State, func(x store.Factor) (store.Factor, error) {
		x.ConfirmedAt = s.now()
		return x, nil
	}); errors.Is(err, store.ErrConflict) {
		s.Store.DeleteFactor(ctx, f.State)
		return problem.New(problem.Conflict, "phone", "security.phone_exists", problem.Args{"phone": MaskPhone(phone)})
	} else if err != nil {
		return err
	}
	if err := s.contain(ctx, who); err != nil {
		return err
	}
	s.notify(ctx, c, who.Account, "factor_added", map[string]any{"factor": MaskPhone(phone), "security_url": s.link("/account/security")})
	s.log().Info("factor added", "account", who.Account.ID, "kind", "sms")
	return nil
}
