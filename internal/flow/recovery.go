package flow

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"github.com/portvakt/portvakt/internal/account"
	"github.com/portvakt/portvakt/internal/authn"
	"github.com/portvakt/portvakt/internal/authn/password"
	"github.com/portvakt/portvakt/internal/problem"
	"github.com/portvakt/portvakt/internal/secret"
	"github.com/portvakt/portvakt/internal/store"
)

// Recovery methods: the user chooses how to get back in.
const (
	// MethodCode mails a six-digit code to type into the same flow.
	MethodCode = "code"
	// MethodLink mails a link to a page that sets a new password.
	MethodLink = "link"
	// MethodMagic mails a one-time sign-in link (no new password).
	MethodMagic = "magic"
)

const (
	stateLinkSent  = "link_sent"
	stateCancelled = "cancelled"
)

// RecoveryMethods returns the methods offered, in order.
func (s *Service) RecoveryMethods() []string {
	if s.cfg().MagicLinks {
		return []string{MethodCode, MethodLink, MethodMagic}
	}
	return []string{MethodCode, MethodLink}
}

// StartRecovery begins a recovery for an address by the chosen method. The
// answer is the same whether or not the address has an account: a flow
// that waits for a code or a link. If it has none, the mail says so (so a
// user who mistyped learns it in their own mailbox) and nothing in the
// flow will ever work.
//
// Every recovery mail says when, from which address and which browser it
// was asked, and has a "this wasn't me" link that cancels the flow.
func (s *Service) StartRecovery(ctx context.Context, c Client, email, method string) (store.Flow, error) {
	addr, err := account.ParseEmail("email", email)
	if err != nil {
		return store.Flow{}, err
	}
	if !contains(s.RecoveryMethods(), method) {
		return store.Flow{}, problem.New(problem.Invalid, "method", "recovery.method_required", nil)
	}
	cfg := s.cfg()
	f := s.newFlow(store.FlowRecovery, c, addr)
	cancelToken := secret.Token()
	d := flowData{Method: method, RequestIP: c.IP, RequestUA: c.UserAgent, Cancel: [][]byte{secret.Hash(cancelToken)}}
	f.Data = encodeData(d)

	e, err := s.Store.GetEmail(ctx, addr)
	known := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return store.Flow{}, err
	}
	if known {
		f.AccountID = e.AccountID
	}
	data := map[string]any{
		"cancel_url": s.link("/recover/cancel?flow=" + f.ID + "&token=" + cancelToken),
		"signup_url": s.link("/signup"),
	}

	switch method {
	case MethodCode:
		f.State = stateCodeSent
		if err := s.Store.CreateFlow(ctx, f); err != nil {
			return store.Flow{}, err
		}
		template := "recovery_code"
		if !known {
			template = "recovery_unknown"
		}
		if err := s.sendCode(ctx, c, f.ID, store.FlowRecovery, template, data, known); err != nil {
			return store.Flow{}, err
		}
		return s.Store.GetFlow(ctx, f.ID)
	default:
		f.State = stateLinkSent
		token := secret.Token()
		if known {
			// Only a known account gets a live link; an unknown one gets
			// a flow with no link at all, so nothing can consume it.
			f.LinkHash = secret.Hash(token)
		}
		f.ExpiresAt = s.now().Add(cfg.LinkTTL)
		f.Sends, f.LastSentAt = 1, s.now()
		if err := s.mailAllowed(ctx, c, addr, store.FlowRecovery); err != nil {
			return store.Flow{}, err
		}
		if err := s.Store.CreateFlow(ctx, f); err != nil {
			return store.Flow{}, err
		}
		template := "recovery_" + method
		if !known {
			template = "recovery_unknown"
		}
		data["link"] = s.link("/recover/link/" + url.PathEscape(token))
		data["minutes"] = int(cfg.LinkTTL.Minutes())
		for k, v := range s.requestFacts(c) {
			data[k] = v
		}
		if err := s.Mailer.Send(ctx, s.recipient(ctx, addr, f.AccountID), c.Lang, template, data); err != nil {
			return store.Flow{}, err
		}
		return f, nil
	}
}

// RecoveryFlow returns the recovery flow for the page that shows it.
func (s *Service) RecoveryFlow(ctx context.Context, c Client, flowID string) (store.Flow, error) {
	return s.loadFlow(ctx, c, flowID, store.FlowRecovery)
}

// RecoveryMethod is the method the flow was started with.
func RecoveryMethod(f store.Flow) string { return decodeData(f).Method }

// ResendRecoveryCode mails a new code, with the same limits as sign-up.
func (s *Service) ResendRecoveryCode(ctx context.Context, c Client, flowID string) error {
	f, err := s.loadFlow(ctx, c, flowID, store.FlowRecovery)
	if err != nil {
		return err
	}
	if f.State != stateCodeSent {
		return errFlowGone
	}
	template, known := "recovery_code", f.AccountID != ""
	if !known {
		template = "recovery_unknown"
	}
	// The new mail gets its own "this wasn't me" link (only digests are
	// kept, so the first mail's token cannot be sent again); both work.
	cancelToken := secret.Token()
	if _, err := s.Store.UpdateFlow(ctx, f.ID, func(f store.Flow) (store.Flow, error) {
		d := decodeData(f)
		d.Cancel = append(d.Cancel, secret.Hash(cancelToken))
		f.Data = encodeData(d)
		return f, nil
	}); err != nil {
		return err
	}
	return s.sendCode(ctx, c, f.ID, store.FlowRecovery, template, map[string]any{
		"cancel_url": s.link("/recover/cancel?flow=" + f.ID + "&token=" + cancelToken),
		"signup_url": s.link("/signup"),
	}, known)
}

// VerifyRecoveryCode checks the code; the flow may then set a password.
func (s *Service) VerifyRecoveryCode(ctx context.Context, c Client, flowID, code string) (store.Flow, error) {
	return s.checkCode(ctx, c, flowID, store.FlowRecovery, "code", code, s.cfg().CodeTTL, func(f *store.Flow) { f.State = stateVerified })
}

// LinkInfo describes an emailed link without using it, for the page a GET
// shows: mail scanners open links, so only the POST from that page acts.
type LinkInfo struct {
	Method string
	Email  string
	// SameBrowser says the link was opened in the browser that asked for
	// it; only there does it work (elsewhere, see LinkCode).
	SameBrowser bool
}

// InspectLink checks an emailed recovery link without consuming it.
func (s *Service) InspectLink(ctx context.Context, c Client, token string) (LinkInfo, error) {
	f, err := s.Store.GetFlowByLinkHash(ctx, secret.Hash(token))
	if errors.Is(err, store.ErrNotFound) {
		return LinkInfo{}, problem.New(problem.Expired, "", "link.invalid", nil)
	}
	if err != nil {
		return LinkInfo{}, err
	}
	if err := s.linkUsable(f); err != nil {
		return LinkInfo{}, err
	}
	return LinkInfo{Method: decodeData(f).Method, Email: f.Email, SameBrowser: sameBrowser(f, c)}, nil
}

func (s *Service) linkUsable(f store.Flow) error {
	switch {
	case f.State == stateCancelled:
		return problem.New(problem.Expired, "", "link.cancelled", nil)
	case !f.ConsumedAt.IsZero() || f.State != stateLinkSent:
		return problem.New(problem.Expired, "", "link.used", nil)
	case !s.now().Before(f.ExpiresAt):
		return problem.New(problem.Expired, "", "link.expired", problem.Args{"count": int(s.cfg().LinkTTL.Minutes())})
	}
	return nil
}

func sameBrowser(f store.Flow, c Client) bool {
	return f.BrowserHash == nil || secret.Equal(f.BrowserHash, c.Browser)
}

var errLinkElsewhere = problem.New(problem.Forbidden, "", "link.other_browser", nil)

// UseLink consumes an emailed link in the browser that asked for it;
// exactly one of many parallel uses succeeds. A reset link returns the
// flow, whose next step is a new password; a magic link signs the browser
// in and returns the result. Opened in any other browser the link changes
// nothing (link.other_browser): that browser may show a code to type in
// the first one instead (LinkCode, VerifyLinkCode), the same rule as the
// emailed second-factor link.
func (s *Service) UseLink(ctx context.Context, c Client, token string) (store.Flow, *Result, error) {
	f, err := s.Store.GetFlowByLinkHash(ctx, secret.Hash(token))
	if errors.Is(err, store.ErrNotFound) {
		return store.Flow{}, nil, problem.New(problem.Expired, "", "link.invalid", nil)
	}
	if err != nil {
		return store.Flow{}, nil, err
	}
	if !sameBrowser(f, c) {
		return store.Flow{}, nil, errLinkElsewhere
	}
	method := decodeData(f).Method
	f, err = s.Store.UpdateFlow(ctx, f.ID, func(f store.Flow) (store.Flow, error) {
		if err := s.linkUsable(f); err != nil {
			return f, err
		}
		s.linkDone(&f, method)
		return f, nil
	})
	if err != nil {
		return store.Flow{}, nil, err
	}
	return s.afterLink(ctx, c, f, method)
}

// linkDone moves a link flow on once its link (or the code standing in
// for it) is proven in the browser that asked.
func (s *Service) linkDone(f *store.Flow, method string) {
	f.CodeHash = nil
	if method == MethodMagic {
		f.ConsumedAt = s.now()
		return
	}
	f.State = stateVerified
	f.ExpiresAt = s.now().Add(s.cfg().FlowTTL)
}

func (s *Service) afterLink(ctx context.Context, c Client, f store.Flow, method string) (store.Flow, *Result, error) {
	if method != MethodMagic {
		return f, nil, nil
	}
	acct, err := s.Store.GetAccount(ctx, f.AccountID)
	if err != nil {
		return store.Flow{}, nil, err
	}
	if acct.Disabled {
		return store.Flow{}, nil, problem.New(problem.Forbidden, "", "login.disabled", nil)
	}
	res, err := s.finishLogin(ctx, c, acct, []authn.Method{authn.Email})
	if err != nil {
		return store.Flow{}, nil, err
	}
	return f, &res, nil
}

// LinkCode is the way across devices: the link opened in a browser other
// than the one that asked shows a code, to be typed in the first browser
// (VerifyLinkCode). The link itself stays unused; a new code replaces the
// previous one, within the flow's send cap. The code works for LinkTTL
// and with the flow's attempt limit.
func (s *Service) LinkCode(ctx context.Context, c Client, token string) (code string, minutes int, err error) {
	f, err := s.Store.GetFlowByLinkHash(ctx, secret.Hash(token))
	if errors.Is(err, store.ErrNotFound) {
		return "", 0, problem.New(problem.Expired, "", "link.invalid", nil)
	}
	if err != nil {
		return "", 0, err
	}
	cfg := s.cfg()
	code = newCode()
	_, err = s.Store.UpdateFlow(ctx, f.ID, func(f store.Flow) (store.Flow, error) {
		if err := s.linkUsable(f); err != nil {
			return f, err
		}
		if f.Sends >= cfg.MaxSends {
			return f, problem.New(problem.TooManyAttempts, "", "code.send_limit", problem.Args{"max": cfg.MaxSends})
		}
		d := decodeData(f)
		d.Elsewhere = true
		f.Data = encodeData(d)
		f.CodeHash = codeHash(f.ID, code)
		f.Sends++
		f.LastSentAt = s.now()
		return f, nil
	})
	if err != nil {
		return "", 0, err
	}
	return code, int(cfg.LinkTTL.Minutes()), nil
}

// VerifyLinkCode checks, in the browser that asked, the code another
// browser showed for the link (LinkCode), and then goes on as UseLink.
func (s *Service) VerifyLinkCode(ctx context.Context, c Client, flowID, code string) (store.Flow, *Result, error) {
	f, err := s.loadFlow(ctx, c, flowID, store.FlowRecovery)
	if err != nil {
		return store.Flow{}, nil, err
	}
	method := decodeData(f).Method
	if f.State != stateLinkSent || !decodeData(f).Elsewhere {
		return store.Flow{}, nil, problem.New(problem.Invalid, "code", "code.wrong", problem.Args{"count": max(0, s.cfg().CodeAttempts-f.Attempts)})
	}
	f, err = s.checkCode(ctx, c, flowID, store.FlowRecovery, "code", code, s.cfg().LinkTTL, func(f *store.Flow) { s.linkDone(f, method) })
	if err != nil {
		return store.Flow{}, nil, err
	}
	return s.afterLink(ctx, c, f, method)
}

// CompleteRecovery sets a new password for a verified recovery flow.
//
// Recovery never lowers the bar: on an account with a strong second
// factor, the mailbox alone changes nothing. The new password is checked
// and hashed now but kept on the flow, and a second-factor step of
// purpose "recovery" follows (Result.Pending), offering the account's
// factors, its recovery codes and a support code, never the mailbox.
// Until it is passed the old password stays valid. Once the account's
// second step is proven (or at once, for an account without one) the
// password is stored, every session and remembered browser of the account
// ends, a mail lists every sign-in method the account has, and this
// browser is signed in.
func (s *Service) CompleteRecovery(ctx context.Context, c Client, flowID, pw string) (Result, error) {
	f, err := s.loadFlow(ctx, c, flowID, store.FlowRecovery)
	if err != nil {
		return Result{}, err
	}
	if f.State != stateVerified || f.AccountID == "" {
		return Result{}, problem.New(problem.Forbidden, "", "recovery.not_verified", nil)
	}
	acct, err := s.Store.GetAccount(ctx, f.AccountID)
	if err != nil {
		return Result{}, err
	}
	next, err := s.newPassword(ctx, acct, f.Email, "password", pw)
	if err != nil {
		return Result{}, err
	}
	used := []authn.Method{authn.Email}
	strong, err := s.enrolledStrong(ctx, acct.ID)
	if err != nil {
		return Result{}, err
	}
	if len(strong) == 0 {
		return s.applyReset(ctx, c, f.ID, acct, next, used)
	}
	opts, err := s.options(ctx, acct, used, 0, false)
	if err != nil {
		return Result{}, err
	}
	if len(opts) == 0 {
		return Result{}, problem.New(problem.Forbidden, "", "mfa.no_method_left", nil)
	}
	if _, err := s.Store.UpdateFlow(ctx, f.ID, func(f store.Flow) (store.Flow, error) {
		if err := s.checkFlow(f, c); err != nil {
			return f, err
		}
		if f.State != stateVerified {
			return f, problem.New(problem.Forbidden, "", "recovery.not_verified", nil)
		}
		d := decodeData(f)
		d.Pending = &next
		f.Data = encodeData(d)
		return f, nil
	}); err != nil {
		return Result{}, err
	}
	m, err := s.startMFA(ctx, c, acct, mfaData{Used: used, Purpose: "recovery", Recovery: f.ID})
	if err != nil {
		return Result{}, err
	}
	return Result{Account: acct, Pending: m.ID}, nil
}

// finishRecovery is the end of a recovery's second-factor step: the
// password kept on the recovery flow is stored now.
func (s *Service) finishRecovery(ctx context.Context, c Client, recoveryID string, acct store.Account, used []authn.Method) (Result, error) {
	f, err := s.loadFlow(ctx, c, recoveryID, store.FlowRecovery)
	if err != nil {
		return Result{}, err
	}
	d := decodeData(f)
	if f.State != stateVerified || f.AccountID != acct.ID || d.Pending == nil {
		return Result{}, problem.New(problem.Forbidden, "", "recovery.not_verified", nil)
	}
	return s.applyReset(ctx, c, f.ID, acct, *d.Pending, used)
}

// applyReset stores the new password, consumes the flow (exactly once),
// ends every session, remembered browser, second step and other pending
// recovery of the account, revokes every app token and queues the mail to
// the owner, all in one transaction (secure), and signs this browser in.
// The used flow is kept, used, until it expires, so that its link, opened
// again, says it was used rather than that it is not valid.
func (s *Service) applyReset(ctx context.Context, c Client, flowID string, acct store.Account, next store.Password, used []authn.Method) (Result, error) {
	methods, err := s.describeMethods(ctx, acct, mailLang(acct, c))
	if err != nil {
		return Result{}, err
	}
	_, err = s.secure(ctx, c, acct, store.SecurityChange{
		Flow: flowID,
		FlowUpdate: s.consumer(c, store.FlowRecovery, func(f *store.Flow) error {
			d := decodeData(*f)
			d.Pending = nil
			f.Data = encodeData(d)
			return nil
		}),
		Password: &next,
		// A reset ends every other pending recovery too: if an attacker
		// had a foothold, it is gone now.
		DropFlows: []string{store.FlowRecovery},
	}, notice{template: "password_changed", extra: map[string]any{"methods": methods, "security_url": s.link("/account/security")}})
	if errors.Is(err, store.ErrNotFound) {
		return Result{}, errFlowGone
	}
	if err != nil {
		return Result{}, err
	}
	// The owner has recovered the account: a lock after consecutive
	// failures ends (issue 10).
	if err := s.throttle().Reset(ctx, s.accountKey(acct.ID)); err != nil {
		return Result{}, err
	}
	s.log().Info("password reset", "account", acct.ID, "methods", authn.Names(used))
	res, err := s.finishLogin(ctx, c, acct, used)
	res.CredentialsChanged = err == nil
	return res, err
}

// CancelRecovery is the "this wasn't me" link: it kills the flow (and its
// link or code), and tells the user what to do if someone knows their
// address.
func (s *Service) CancelRecovery(ctx context.Context, flowID, token string) error {
	_, err := s.Store.UpdateFlow(ctx, flowID, func(f store.Flow) (store.Flow, error) {
		d := decodeData(f)
		if f.Kind != store.FlowRecovery || !anyEqual(d.Cancel, secret.Hash(token)) {
			return f, problem.New(problem.Expired, "", "link.invalid", nil)
		}
		f.State = stateCancelled
		f.CodeHash = nil
		if f.ConsumedAt.IsZero() {
			f.ConsumedAt = s.now()
		}
		return f, nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return problem.New(problem.Expired, "", "link.invalid", nil)
	}
	if err == nil {
		s.log().Warn("recovery cancelled by the account holder", "flow", flowID)
	}
	return err
}

// setPassword checks pw against the policy and stores it (newPassword).
func (s *Service) setPassword(ctx context.Context, acct store.Account, email, field, pw string) error {
	next, err := s.newPassword(ctx, acct, email, field, pw)
	if err != nil {
		return err
	}
	return s.Store.SetPassword(ctx, next)
}

// newPassword checks pw against the policy (with the account's context,
// its history and whether it has a strong second factor, which may lower
// the minimum length) and returns the record to store: its hash, with the
// old one kept in the history. A store error reading the factors fails
// the change.
func (s *Service) newPassword(ctx context.Context, acct store.Account, email, field, pw string) (store.Password, error) {
	old, err := s.Store.GetPassword(ctx, acct.ID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return store.Password{}, err
	}
	hasMFA, err := s.hasStrongFactor(ctx, acct.ID)
	if err != nil {
		return store.Password{}, err
	}
	history := append([]string{}, old.History...)
	if old.Hash != "" {
		history = append([]string{old.Hash}, history...)
	}
	norm := s.Policy.Prepare(pw)
	var hashErr error
	err = s.Policy.Check(pw, password.Context{
		Field: field, Email: email, Username: acct.Username, Name: acct.Name, ServiceName: s.ServiceName,
		HasMFA: hasMFA,
		Reused: func(string) bool {
			for _, h := range history {
				ok, _, err := s.Hasher.Verify(ctx, norm, h)
				if err != nil {
					// Fail closed: a history that cannot be checked is
					// not taken for "not reused".
					hashErr = err
					return true
				}
				if ok {
					return true
				}
			}
			return false
		},
	})
	if hashErr != nil {
		return store.Password{}, fmt.Errorf("check password history: %w", hashErr)
	}
	if err != nil {
		return store.Password{}, err
	}
	hash, err := s.Hasher.Hash(ctx, norm)
	if err != nil {
		return store.Password{}, err
	}
	if keep := s.Policy.History; len(history) > keep {
		history = history[:keep]
	}
	return store.Password{AccountID: acct.ID, Hash: hash, History: history, ChangedAt: s.now()}, nil
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func anyEqual(list [][]byte, v []byte) bool {
	found := false
	for _, x := range list {
		if secret.Equal(x, v) {
			found = true
		}
	}
	return found
}
