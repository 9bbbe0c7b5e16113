package flow

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"time"

	"github.com/portvakt/portvakt/internal/account"
	"github.com/portvakt/portvakt/internal/audit"
	"github.com/portvakt/portvakt/internal/authn/recovery"
	"github.com/portvakt/portvakt/internal/authn/sms"
	"github.com/portvakt/portvakt/internal/problem"
	"github.com/portvakt/portvakt/internal/store"
)

// The mechanics behind the support console's actions (account.Support
// checks the actor, the reason and the role, and records the audit
// event; these do the work and tell the user). flow.Service implements
// account.SupportFlows.

var _ account.SupportFlows = (*Service)(nil)

// noAudit, as a notice's audit kind, records nothing: the support action
// that caused the notice records its own event, with its actor.
const noAudit = audit.Kind("")

// SendSupportCode mails a single-use support code, valid for ttl, to
// every verified address of the account (support never sees it) and
// returns the addresses masked. A new code replaces an unused one.
func (s *Service) SendSupportCode(ctx context.Context, accountID, lang string, ttl time.Duration) ([]string, error) {
	acct, err := s.Store.GetAccount(ctx, accountID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, problem.New(problem.NotFound, "", "account.not_found", nil)
	}
	if err != nil {
		return nil, err
	}
	emails, err := s.Store.ListEmails(ctx, acct.ID)
	if err != nil {
		return nil, err
	}
	var to []string
	for _, e := range emails {
		if !e.VerifiedAt.IsZero() {
			to = append(to, e.Address)
		}
	}
	if len(to) == 0 {
		return nil, problem.New(problem.Conflict, "", "support.no_email", nil)
	}
	codes, err := recovery.Generate(1)
	if err != nil {
		return nil, err
	}
	id := supportFlowID(acct.ID)
	if err := s.Store.DeleteFlow(ctx, id); err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	now := s.now()
	if err := s.Store.CreateFlow(ctx, store.Flow{ID: id, Kind: "support", AccountID: acct.ID, CodeHash: recovery.Hash(acct.ID, codes[0]),
		Sends: 1, LastSentAt: now, CreatedAt: now, ExpiresAt: now.Add(ttl)}); err != nil {
		return nil, err
	}
	if lang == "" {
		lang = acct.Locale
	}
	data := map[string]any{"name": acct.Name, "code": codes[0], "count": max(1, int(ttl.Hours()))}
	if ttl < time.Hour {
		data["minutes"] = int(ttl.Minutes())
	}
	masked := make([]string, 0, len(to))
	for _, addr := range to {
		if err := s.Mailer.Send(ctx, addr, lang, "support_code", data); err != nil {
			return nil, err
		}
		masked = append(masked, MaskEmail(addr))
	}
	s.log().Warn("support code issued", "account", acct.ID)
	return masked, nil
}

// ResetTOTP removes the account's authenticator apps, ends its sessions
// and remembered browsers (contain), and tells the owner. It returns how
// many went; none is not an error.
func (s *Service) ResetTOTP(ctx context.Context, accountID string) (int, error) {
	acct, err := s.Store.GetAccount(ctx, accountID)
	if errors.Is(err, store.ErrNotFound) {
		return 0, problem.New(problem.NotFound, "", "account.not_found", nil)
	}
	if err != nil {
		return 0, err
	}
	factors, err := s.Store.ListFactors(ctx, acct.ID)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, f := range factors {
		if f.Kind != store.FactorTOTP {
			continue
		}
		if err := s.Store.DeleteFactor(ctx, f.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return n, err
		}
		n++
	}
	if n == 0 {
		return 0, nil
	}
	if err := s.contain(ctx, Who{Account: acct}); err != nil {
		return n, err
	}
	name := s.Texts.Lang(s.lang(acct, Client{})).T("security.totp.title")
	s.notify(ctx, Client{}, acct, "factor_removed", map[string]any{"factor": name, "security_url": s.link("/account/security"), auditKindKey: noAudit})
	return n, nil
}

// ResendInvitation mails a new invitation (a link to choose a password)
// to the primary address of an account that has no password yet, and
// returns the address masked. An earlier invitation's link stops working.
func (s *Service) ResendInvitation(ctx context.Context, accountID, lang string) (string, error) {
	acct, err := s.Store.GetAccount(ctx, accountID)
	if errors.Is(err, store.ErrNotFound) {
		return "", problem.New(problem.NotFound, "", "account.not_found", nil)
	}
	if err != nil {
		return "", err
	}
	if _, err := s.Store.GetPassword(ctx, acct.ID); err == nil {
		return "", problem.New(problem.Conflict, "", "support.no_invitation", nil)
	} else if !errors.Is(err, store.ErrNotFound) {
		return "", err
	}
	addr, err := s.primaryEmail(ctx, acct.ID)
	if err != nil {
		return "", problem.New(problem.Conflict, "", "support.no_email", nil)
	}
	if _, err := s.Store.DeleteAccountFlows(ctx, acct.ID, store.FlowRecovery); err != nil {
		return "", err
	}
	if lang == "" {
		lang = acct.Locale
	}
	if err := s.invite(ctx, acct, addr, lang); err != nil {
		return "", err
	}
	return MaskEmail(addr), nil
}

// NationalIDAccounts returns the accounts a national identity number
// names: the account whose username it is (where usernames are national
// identity numbers) and the accounts with an upstream identity carrying
// it (looked up by its keyed hash, as federated sign-in stores it).
func (s *Service) NationalIDAccounts(ctx context.Context, nid string) ([]string, error) {
	var ids []string
	if s.Config.NationalID != "" {
		if u, err := account.ParseNationalID("q", s.Config.NationalID, nid); err == nil {
			if a, err := s.Store.GetAccountByUsername(ctx, u); err == nil {
				ids = append(ids, a.ID)
			} else if !errors.Is(err, store.ErrNotFound) {
				return nil, err
			}
		}
	}
	if s.Upstreams != nil && s.Upstreams.Identities != nil && len(s.Upstreams.IDKey) > 0 {
		for _, up := range s.Upstreams.List {
			m := hmac.New(sha256.New, s.Upstreams.IDKey)
			m.Write([]byte("national-id\x00" + up.Config.ID + "\x00" + nid))
			fi, err := s.Upstreams.Identities.GetIdentity(ctx, up.Config.ID, "nid:"+hex.EncodeToString(m.Sum(nil)))
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, err
			}
			if !slices.Contains(ids, fi.AccountID) {
				ids = append(ids, fi.AccountID)
			}
		}
	}
	return ids, nil
}

// ParsePhone normalises a typed phone number as SMS sign-in does.
func (s *Service) ParsePhone(in string) (string, error) {
	return sms.ParsePhone(in, s.SMSLimits.withDefaults().DefaultRegion)
}
