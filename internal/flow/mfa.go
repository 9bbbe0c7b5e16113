package flow

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/portvakt/portvakt/internal/account"
	"github.com/portvakt/portvakt/internal/authn"
	"github.com/portvakt/portvakt/internal/authn/recovery"
	"github.com/portvakt/portvakt/internal/authn/totp"
	"github.com/portvakt/portvakt/internal/problem"
	"github.com/portvakt/portvakt/internal/secret"
	"github.com/portvakt/portvakt/internal/session"
	"github.com/portvakt/portvakt/internal/store"
)

// The second-factor step.
//
// After the first factor, finishLogin decides whether the sign-in needs a
// second one. If it does, it starts a flow of kind FlowMFA and returns its
// ID in Result.Pending instead of a session; the user then picks one of
// Options and proves it with Verify (after Send, for SMS and email). The
// same flow serves re-authentication before a sensitive change (Reauth)
// and step-up before an action that needs a higher level (StepUp): those
// rotate the existing session instead of creating one.

// FlowMFA is the kind of second-factor flows.
const FlowMFA = "mfa"

// MFA modes.
const (
	MFAOff      = "off"
	MFAOptional = "optional"
	MFARequired = "required"
)

// MFAConfig says when a second factor is asked for.
type MFAConfig struct {
	// Mode is off, optional (asked when the user has set one up) or
	// required (every sign-in; users without one must set one up).
	Mode string
	// Methods are the second factors allowed, e.g. totp, recovery, sms,
	// email.
	Methods []authn.Method
	// Levels are the method strengths.
	Levels authn.Levels
	// RememberDays, when above zero, offers "don't ask again in this
	// browser for N days" at the second-factor step.
	RememberDays int
	// EmailTTL is how long an emailed sign-in link and code work; default
	// 30 minutes.
	EmailTTL time.Duration
	// SMSTTL is how long an SMS code works; default 5 minutes.
	SMSTTL time.Duration
	// ReauthAfter is how old a sign-in may be before a sensitive change
	// asks for it again; default 10 minutes.
	ReauthAfter time.Duration
	// Actions name the minimum level an action needs, e.g. payment: 3.
	Actions map[string]int
	// RequiredGroups make a second factor required for members of these
	// groups, whatever Mode says (except off).
	RequiredGroups []string
	// EnrolAtFirstSignIn lets an account that must have a second step but
	// has none bind one (an authenticator, or a new address where email
	// is allowed) at its first sign-in with the password alone: trust on
	// first use, which the operator must choose (the IDEP profile does).
	// Without it, such an account first proves its registered address in
	// the same sign-in, and one without an address needs an invitation.
	EnrolAtFirstSignIn bool
}

func (m MFAConfig) allowed(x authn.Method) bool { return slices.Contains(m.Methods, x) }

func (m MFAConfig) withDefaults() MFAConfig {
	if m.Mode == "" {
		m.Mode = MFAOptional
	}
	if m.Levels == nil {
		m.Levels = authn.Levels{}
	}
	if m.EmailTTL <= 0 {
		m.EmailTTL = 30 * time.Minute
	}
	if m.SMSTTL <= 0 {
		m.SMSTTL = 5 * time.Minute
	}
	if m.ReauthAfter <= 0 {
		m.ReauthAfter = 10 * time.Minute
	}
	return m
}

// Option is one way to finish a second-factor step.
type Option struct {
	Method authn.Method
	// Target identifies what to send to or use: a factor ID (TOTP, SMS)
	// or an email address. Empty for recovery and support codes.
	Target string
	// Label is what the user sees: a masked phone number or address, or
	// the authenticator's name.
	Label string
	Level int
	// key, when set, is the option's Key: an email option's key names the
	// address without spelling it (see emailKey).
	key string
}

// Key is a stable identifier of the option for forms. It goes into pages,
// URLs and the JSON API, so it never holds an email address: a
// second-factor step shows the address only masked, to someone who may
// know no more than the password.
func (o Option) Key() string {
	if o.key != "" {
		return o.key
	}
	if o.Target == "" {
		return string(o.Method)
	}
	return string(o.Method) + ":" + o.Target
}

// emailKey is the key of an account's email option: a digest of the
// address salted with the account ID (which the step does not show), so
// the key neither spells the address nor confirms a guessed one.
func emailKey(accountID, addr string) string {
	sum := sha256.Sum256([]byte("mfa-email-option\x00" + accountID + "\x00" + strings.ToLower(addr)))
	return string(authn.Email) + ":" + hex.EncodeToString(sum[:10])
}

// mfaData is the server-side state of a second-factor flow, kept in the
// flow's Data.
type mfaData struct {
	Used []authn.Method `json:"used"`
	// Purpose is "login", "reauth", "stepup" or "recovery".
	Purpose string `json:"purpose"`
	// Session is the session a reauth or step-up rotates.
	Session string `json:"session,omitempty"`
	// MinLevel is the level a step-up needs.
	MinLevel int `json:"min_level,omitempty"`
	// Sent is the option a code was last sent for.
	Sent string `json:"sent,omitempty"`
	// Lost is set when the user lost their authenticator: after the
	// step, they are sent to set up a new one.
	Lost bool `json:"lost,omitempty"`
	// ReturnTo is where a reauth or step-up goes back to (a local path).
	ReturnTo string `json:"return_to,omitempty"`
	// Enrol is set when the account has no second factor yet and the
	// configuration requires one: the step sets one up.
	Enrol bool `json:"enrol,omitempty"`
	// Factor is the authenticator being set up during Enrol.
	Factor string `json:"factor,omitempty"`
	// Email is the address being added during Enrol.
	Email string `json:"email,omitempty"`
	// Key is the server half of a security-key assertion under way.
	Key []byte `json:"key,omitempty"`
	// Recovery is the recovery flow a "recovery" step completes: its new
	// password is stored only once the second factor is proven.
	Recovery string `json:"recovery,omitempty"`
	// Via is the upstream a sign-in came through, for the session the
	// second step opens.
	Via store.Via `json:"via,omitempty"`
}

// PendingFactor describes a second-factor flow for its page.
type PendingFactor struct {
	Flow    store.Flow
	Account store.Account
	Options []Option
	// Sent is the key of the option a code was sent for ("" if none).
	Sent    string
	Purpose string
	// ReturnTo is where a reauth or step-up goes back to.
	ReturnTo string
	// Enrol says the user must set up a second factor first; CanEnrol
	// lists what they may set up (totp, email).
	Enrol    bool
	CanEnrol []authn.Method
	// ConfirmAddress, during Enrol, is the masked registered address the
	// user must prove before setting anything up (no first-use binding).
	ConfirmAddress string
	// NeedInvitation, during Enrol, says nothing can be set up here: the
	// account has no address to prove and first-use binding is off.
	NeedInvitation bool
	// Remember says the "don't ask again" box may be offered.
	Remember     bool
	RememberDays int
	Lost         bool
}

func (s *Service) mfa() MFAConfig { return s.MFA.withDefaults() }

// options returns the second factors the account can use now, strongest
// first, leaving out methods already used and, for a step-up, those too
// weak.
func (s *Service) options(ctx context.Context, acct store.Account, used []authn.Method, minLevel int, lost bool) ([]Option, error) {
	m := s.mfa()
	var out []Option
	add := func(o Option) {
		o.Level = m.Levels.Of(o.Method)
		if !m.allowed(o.Method) || slices.Contains(used, o.Method) {
			return
		}
		if minLevel > 0 && s.assess(append(slices.Clone(used), o.Method)).Level < minLevel {
			return
		}
		if lost && o.Method == authn.TOTP {
			return
		}
		out = append(out, o)
	}
	factors, err := s.Store.ListFactors(ctx, acct.ID)
	if err != nil {
		return nil, err
	}
	for _, f := range factors {
		if f.ConfirmedAt.IsZero() {
			continue
		}
		switch f.Kind {
		case store.FactorTOTP:
			add(Option{Method: authn.TOTP, Target: f.ID, Label: f.Name})
		case store.FactorSMS:
			add(Option{Method: authn.SMS, Target: f.ID, Label: MaskPhone(f.Phone)})
		}
	}
	// The mailbox is a second step only on an account with nothing
	// stronger whose operator requires one (IDEP); never a fallback for an
	// authenticator, a phone or a key (the mailbox alone would beat them).
	strong, err := s.enrolledStrong(ctx, acct.ID)
	if err != nil {
		return nil, err
	}
	if len(strong) == 0 && s.requiredFor(acct) {
		emails, err := s.Store.ListEmails(ctx, acct.ID)
		if err != nil {
			return nil, err
		}
		for _, e := range emails {
			add(Option{Method: authn.Email, Target: e.Address, Label: MaskEmail(e.Address), key: emailKey(acct.ID, e.Address)})
		}
	}
	if has, err := s.hasKeys(ctx, acct.ID); err != nil {
		return nil, err
	} else if has && s.WebAuthn != nil {
		add(Option{Method: authn.WebAuthn})
	}
	if unused, _, err := s.Store.CountRecoveryCodes(ctx, acct.ID); err != nil {
		return nil, err
	} else if unused > 0 {
		add(Option{Method: authn.Recovery})
	}
	if has, err := s.hasSupportCode(ctx, acct.ID); err != nil {
		return nil, err
	} else if has {
		add(Option{Method: authn.Support})
	}
	slices.SortStableFunc(out, func(a, b Option) int { return b.Level - a.Level })
	return out, nil
}

// requiredFor reports whether the account must use a second factor: the
// mode says so, or one of its groups does, or an operator asked for it.
func (s *Service) requiredFor(acct store.Account) bool {
	m := s.mfa()
	if m.Mode == MFAOff {
		return false
	}
	if m.Mode == MFARequired || acct.MFARequired {
		return true
	}
	for _, g := range acct.Groups {
		if slices.Contains(m.RequiredGroups, g) {
			return true
		}
	}
	return false
}

// secondFactorNeeded decides whether a sign-in that used used must also
// pass a second step: it is not complete for the account (assurance.go).
func (s *Service) secondFactorNeeded(ctx context.Context, acct store.Account, used []authn.Method) (bool, error) {
	ok, err := s.complete(ctx, acct, used)
	return !ok, err
}

// finishLogin is the single place a sign-in becomes a session. If a
// second factor is needed (and this browser is not remembered), it starts
// the second-factor flow instead, so that no path (password, recovery,
// magic link) can skip it.
func (s *Service) finishLogin(ctx context.Context, c Client, acct store.Account, used []authn.Method) (Result, error) {
	return s.finishLoginVia(ctx, c, acct, used, store.Via{})
}

// finishLoginVia is finishLogin for a sign-in that came through an
// upstream: the session, opened now or after the second step, records via.
func (s *Service) finishLoginVia(ctx context.Context, c Client, acct store.Account, used []authn.Method, via store.Via) (Result, error) {
	need, err := s.secondFactorNeeded(ctx, acct, used)
	if err != nil {
		return Result{}, err
	}
	if need {
		trusted, err := s.trusted(ctx, c, acct.ID)
		if err != nil {
			return Result{}, err
		}
		if !trusted {
			opts, err := s.options(ctx, acct, used, 0, false)
			if err != nil {
				return Result{}, err
			}
			strong, err := s.enrolledStrong(ctx, acct.ID)
			if err != nil {
				return Result{}, err
			}
			if len(opts) == 0 && len(strong) > 0 {
				// Fail closed: the account's factors cannot be used here.
				return Result{}, problem.New(problem.Forbidden, "", "mfa.no_method_left", nil)
			}
			if len(opts) > 0 || s.requiredFor(acct) {
				// With none to offer, a required second factor is set up
				// now, inside the sign-in (see MFAConfig.EnrolAtFirstSignIn).
				f, err := s.startMFA(ctx, c, acct, mfaData{Used: used, Purpose: "login", Enrol: len(opts) == 0, Via: via})
				if err != nil {
					return Result{}, err
				}
				return Result{Account: acct, Pending: f.ID}, nil
			}
		}
	}
	return s.openSessionVia(ctx, c, acct, used, via)
}

func (s *Service) openSession(ctx context.Context, c Client, acct store.Account, used []authn.Method) (Result, error) {
	return s.openSessionWith(ctx, c, acct, used)
}

// openSessionWith opens a session for the methods used; its level and amr
// are what authn.Assess makes of them.
func (s *Service) openSessionWith(ctx context.Context, c Client, acct store.Account, used []authn.Method) (Result, error) {
	return s.openSessionVia(ctx, c, acct, used, store.Via{})
}

// openSessionVia is openSessionWith for a sign-in through an upstream.
func (s *Service) openSessionVia(ctx context.Context, c Client, acct store.Account, used []authn.Method, via store.Via) (Result, error) {
	a := s.assess(used)
	token, sess, err := s.Sessions.Create(ctx, acct.ID, session.Auth{AMR: a.AMR, Level: a.Level, Methods: authn.Names(used), Via: via}, session.Client{UserAgent: c.UserAgent, IP: c.IP})
	if err != nil {
		return Result{}, err
	}
	s.log().Info("signed in", "account", acct.ID, "session", sess.ID, "amr", strings.Join(a.AMR, " "), "level", sess.Level)
	return Result{Token: token, Session: sess, Account: acct}, nil
}

func (s *Service) startMFA(ctx context.Context, c Client, acct store.Account, d mfaData) (store.Flow, error) {
	f := s.newFlow(FlowMFA, c, "")
	f.AccountID = acct.ID
	f.State = "factor"
	f.Data = encodeMFA(d)
	if err := s.Store.CreateFlow(ctx, f); err != nil {
		return store.Flow{}, err
	}
	return f, nil
}

func encodeMFA(d mfaData) string { return encodeJSON(d) }

func decodeMFA(f store.Flow) mfaData {
	var d mfaData
	decodeJSON(f.Data, &d)
	return d
}

// Factor returns the second-factor flow for its page.
func (s *Service) Factor(ctx context.Context, c Client, flowID string) (PendingFactor, error) {
	f, err := s.loadFlow(ctx, c, flowID, FlowMFA)
	if err != nil {
		return PendingFactor{}, err
	}
	acct, err := s.Store.GetAccount(ctx, f.AccountID)
	if err != nil {
		return PendingFactor{}, err
	}
	d := decodeMFA(f)
	opts, err := s.options(ctx, acct, d.Used, d.MinLevel, d.Lost)
	if err != nil {
		return PendingFactor{}, err
	}
	m := s.mfa()
	pf := PendingFactor{Flow: f, Account: acct, Options: opts, Sent: d.Sent, Purpose: d.Purpose, ReturnTo: d.ReturnTo,
		Remember: m.RememberDays > 0 && d.Purpose == "login", RememberDays: m.RememberDays, Lost: d.Lost,
		Enrol: d.Enrol && len(opts) == 0}
	if pf.Enrol {
		if err := s.enrolChoices(ctx, &pf, d); err != nil {
			return PendingFactor{}, err
		}
	}
	return pf, nil
}

// LostAuthenticator marks the flow as "I have permanently lost my
// authenticator": the authenticator is no longer offered, and after the
// step the user is asked to set up a new one.
func (s *Service) LostAuthenticator(ctx context.Context, c Client, flowID string) error {
	_, err := s.Store.UpdateFlow(ctx, flowID, func(f store.Flow) (store.Flow, error) {
		if f.Kind != FlowMFA {
			return f, errFlowGone
		}
		if err := s.checkFlow(f, c); err != nil {
			return f, err
		}
		d := decodeMFA(f)
		d.Lost = true
		f.Data = encodeMFA(d)
		return f, nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return errFlowGone
	}
	return err
}

func findOption(opts []Option, key string) (Option, bool) {
	for _, o := range opts {
		if o.Key() == key {
			return o, true
		}
	}
	return Option{}, false
}

// SendFactorCode sends a code (SMS) or a link and a code (email) for the
// chosen option. The previous code of the flow stops working.
func (s *Service) SendFactorCode(ctx context.Context, c Client, flowID, key string) error {
	pf, err := s.Factor(ctx, c, flowID)
	if err != nil {
		return err
	}
	o, ok := findOption(pf.Options, key)
	if !ok || (o.Method != authn.SMS && o.Method != authn.Email) {
		return problem.New(problem.Invalid, "method", "mfa.choose", nil)
	}
	m := s.mfa()
	switch o.Method {
	case authn.SMS:
		factor, err := s.Store.GetFactor(ctx, o.Target)
		if err != nil {
			return err
		}
		if err := s.smsAllowed(ctx, c, pf.Account.ID, factor.Phone); err != nil {
			return err
		}
		code := newCode()
		if err := s.armCode(ctx, c, flowID, key, code, nil, m.SMSTTL); err != nil {
			return err
		}
		lang := s.lang(pf.Account, c)
		text := s.Texts.Lang(lang).T("sms.code", "code", code, "service", s.ServiceName, "count", int(m.SMSTTL.Minutes()))
		return s.SMS.Send(ctx, factor.Phone, text)
	default:
		// The mail budgets (per address and kind, per client address,
		// global) before a code is made, as for every emailed code.
		if err := s.mailAllowed(ctx, c, o.Target, "mfa_email"); err != nil {
			return err
		}
		code := newCode()
		token := secret.Token()
		if err := s.armCode(ctx, c, flowID, key, code, secret.Hash(token), m.EmailTTL); err != nil {
			return err
		}
		data := s.requestFacts(c)
		data["name"] = pf.Account.Name
		data["code"] = code
		data["link"] = s.link("/login/factor/link/" + url.PathEscape(token))
		data["count"] = int(m.EmailTTL.Minutes())
		data["recover_url"] = s.link("/recover")
		return s.Mailer.Send(ctx, o.Target, s.lang(pf.Account, c), "mfa_email", data)
	}
}

// armCode puts a fresh code (and, for email, a link) on the flow, within
// the send cap and cool-down of the flow configuration.
func (s *Service) armCode(ctx context.Context, c Client, flowID, key, code string, linkHash []byte, ttl time.Duration) error {
	cfg := s.cfg()
	_, err := s.Store.UpdateFlow(ctx, flowID, func(f store.Flow) (store.Flow, error) {
		if f.Kind != FlowMFA {
			return f, errFlowGone
		}
		if err := s.checkFlow(f, c); err != nil {
			return f, err
		}
		if f.Sends >= cfg.MaxSends {
			return f, problem.New(problem.TooManyAttempts, "", "code.send_limit", problem.Args{"max": cfg.MaxSends})
		}
		if f.Sends > 0 {
			if wait := f.LastSentAt.Add(cfg.ResendAfter).Sub(s.now()); wait > 0 {
				return f, problem.New(problem.TooManyAttempts, "", "code.resend_wait", problem.Args{"count": int((wait + time.Second - 1) / time.Second)})
			}
		}
		d := decodeMFA(f)
		d.Sent = key
		f.Data = encodeMFA(d)
		f.CodeHash = codeHash(f.ID, code)
		f.LinkHash = linkHash
		f.Sends++
		f.LastSentAt = s.now()
		if exp := s.now().Add(ttl); exp.After(f.ExpiresAt) {
			f.ExpiresAt = exp
		}
		return f, nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return errFlowGone
	}
	return err
}

func (s *Service) lang(acct store.Account, c Client) string { return mailLang(acct, c) }

// VerifyFactor checks the code for the chosen option. On success a login
// flow opens a session (and, if asked, remembers the browser); a reauth or
// step-up rotates the existing session. Exactly one of parallel correct
// submissions succeeds.
func (s *Service) VerifyFactor(ctx context.Context, c Client, flowID, key, code string, remember bool) (Result, error) {
	pf, err := s.Factor(ctx, c, flowID)
	if err != nil {
		return Result{}, err
	}
	o, ok := findOption(pf.Options, key)
	if !ok {
		return Result{}, problem.New(problem.Invalid, "method", "mfa.choose", nil)
	}
	m := s.mfa()
	switch o.Method {
	case authn.TOTP:
		if err := s.verifyTOTP(ctx, o.Target, code); err != nil {
			return Result{}, s.countWrongFactor(ctx, c, pf.Account, err, "totp.wrong")
		}
	case authn.Recovery:
		if err := s.useRecoveryCode(ctx, c, pf.Account, code); err != nil {
			return Result{}, s.countWrongFactor(ctx, c, pf.Account, err, "recovery.wrong")
		}
	case authn.Support:
		if err := s.useSupportCode(ctx, pf.Account.ID, code); err != nil {
			return Result{}, err
		}
	case authn.SMS, authn.Email:
		d := decodeMFA(pf.Flow)
		if d.Sent != key {
			return Result{}, problem.New(problem.Invalid, "code", "mfa.send_first", nil)
		}
		ttl := m.SMSTTL
		if o.Method == authn.Email {
			ttl = m.EmailTTL
		}
		if _, err := s.checkFactorCode(ctx, c, flowID, code, ttl); err != nil {
			return Result{}, err
		}
	default:
		return Result{}, problem.New(problem.Invalid, "method", "mfa.choose", nil)
	}
	return s.completeFactor(ctx, c, flowID, o.Method, remember)
}

// checkFactorCode checks an SMS or email code with the factor's lifetime.
func (s *Service) checkFactorCode(ctx context.Context, c Client, flowID, code string, ttl time.Duration) (store.Flow, error) {
	return s.checkCode(ctx, c, flowID, FlowMFA, "code", code, ttl, func(f *store.Flow) { f.LinkHash = nil })
}

// completeFactor ends the flow (exactly once) and opens or upgrades the
// session, or, for a recovery, sets the new password and signs in.
func (s *Service) completeFactor(ctx context.Context, c Client, flowID string, used authn.Method, remember bool) (Result, error) {
	return s.completeFactorWith(ctx, c, flowID, remember, used)
}

// completeFactorWith is completeFactor for one or more methods proven
// together (a security key and, when it verified the user, UserVerified).
func (s *Service) completeFactorWith(ctx context.Context, c Client, flowID string, remember bool, used ...authn.Method) (Result, error) {
	f, err := s.consume(ctx, c, flowID, FlowMFA, func(*store.Flow) error { return nil })
	if err != nil {
		return Result{}, err
	}
	d := decodeMFA(f)
	acct, err := s.Store.GetAccount(ctx, f.AccountID)
	if err != nil {
		return Result{}, err
	}
	methods := append(slices.Clone(d.Used), used...)
	var res Result
	switch d.Purpose {
	case "reauth":
		res, err = s.upgradeSession(ctx, acct, d.Session, methods, true)
	case "stepup":
		res, err = s.upgradeSession(ctx, acct, d.Session, methods, false)
	case "recovery":
		res, err = s.finishRecovery(ctx, c, d.Recovery, acct, methods)
	default:
		res, err = s.openSessionVia(ctx, c, acct, methods, d.Via)
		if err == nil && remember && s.mfa().RememberDays > 0 {
			res.TrustToken, err = s.rememberBrowser(ctx, c, acct.ID)
		}
	}
	if err != nil {
		return Result{}, err
	}
	res.LostAuthenticator = d.Lost
	res.ReturnTo = d.ReturnTo
	return res, nil
}

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

func (s *Service) updateMFA(ctx context.Context, c Client, flowID string, fn func(*mfaData)) error {
	_, err := s.Store.UpdateFlow(ctx, flowID, func(f store.Flow) (store.Flow, error) {
		if f.Kind != FlowMFA {
			return f, errFlowGone
		}
		if err := s.checkFlow(f, c); err != nil {
			return f, err
		}
		d := decodeMFA(f)
		fn(&d)
		f.Data = encodeMFA(d)
		return f, nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return errFlowGone
	}
	return err
}

// upgradeSession rotates a session after a reauth or step-up: a new
// token and a fresh auth time. A re-authentication is a full one, so its
// methods replace the session's and it is "recent" again; a step-up adds
// to them but leaves the time of the last full authentication, so a stale
// session lifted by a second factor alone (a stolen cookie and a swapped
// SIM, say) still needs the password before a sensitive change. Level and amr
// are what authn.Assess makes of the result.
func (s *Service) upgradeSession(ctx context.Context, acct store.Account, sessionID string, methods []authn.Method, replace bool) (Result, error) {
	sess, err := s.Store.GetSession(ctx, sessionID)
	if errors.Is(err, store.ErrNotFound) {
		return Result{}, problem.New(problem.Unauthorized, "", "session.required", nil)
	}
	if err != nil {
		return Result{}, err
	}
	all := methods
	if !replace {
		all = append(authn.Methods(sess.Methods), methods...)
	}
	all = authn.Methods(authn.Names(all))
	a := s.assess(all)
	token, sess, err := s.Sessions.Rotate(ctx, sessionID, &session.Auth{AMR: a.AMR, Level: a.Level, Methods: authn.Names(all), Partial: !replace})
	if err != nil {
		return Result{}, err
	}
	s.log().Info("session upgraded", "account", acct.ID, "session", sess.ID, "amr", strings.Join(a.AMR, " "), "level", a.Level)
	return Result{Token: token, Session: sess, Account: acct}, nil
}

// UseFactorLink completes an email second factor from its link. The link
// works only in the browser that started the sign-in (IDEP's rule, made
// clear): opened elsewhere it changes nothing and the page says to open it
// in the first browser or type the code there.
func (s *Service) UseFactorLink(ctx context.Context, c Client, token string, remember bool) (Result, error) {
	f, err := s.Store.GetFlowByLinkHash(ctx, secret.Hash(token))
	if errors.Is(err, store.ErrNotFound) {
		return Result{}, problem.New(problem.Expired, "", "link.invalid", nil)
	}
	if err != nil {
		return Result{}, err
	}
	if f.BrowserHash != nil && !secret.Equal(f.BrowserHash, c.Browser) {
		return Result{}, problem.New(problem.Forbidden, "", "mfa.link_other_browser", nil)
	}
	if err := s.checkFlow(f, c); err != nil {
		return Result{}, err
	}
	if !s.now().Before(f.LastSentAt.Add(s.mfa().EmailTTL)) {
		return Result{}, problem.New(problem.Expired, "", "link.expired", problem.Args{"count": int(s.mfa().EmailTTL.Minutes())})
	}
	return s.completeFactor(ctx, c, f.ID, authn.Email, remember)
}

// InspectFactorLink tells the link page whether the link belongs to this
// browser, without using it.
func (s *Service) InspectFactorLink(ctx context.Context, c Client, token string) (sameBrowser bool, err error) {
	f, err := s.Store.GetFlowByLinkHash(ctx, secret.Hash(token))
	if errors.Is(err, store.ErrNotFound) {
		return false, problem.New(problem.Expired, "", "link.invalid", nil)
	}
	if err != nil {
		return false, err
	}
	if !f.ConsumedAt.IsZero() {
		return false, problem.New(problem.Expired, "", "link.used", nil)
	}
	if !s.now().Before(f.ExpiresAt) {
		return false, problem.New(problem.Expired, "", "link.expired", problem.Args{"count": int(s.mfa().EmailTTL.Minutes())})
	}
	return f.BrowserHash == nil || secret.Equal(f.BrowserHash, c.Browser), nil
}

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
	var outcome error
	_, err := s.Store.UpdateFactor(ctx, factorID, func(f store.Factor) (store.Factor, error) {
		outcome = nil
		seed, err := s.Sealer.Open(f.Secret, []byte("totp:"+f.ID))
		if err != nil {
			return f, fmt.Errorf("open totp secret: %w", err)
		}
		step, err := totp.Verify(string(seed), code, s.now(), f.LastStep)
		switch {
		case errors.Is(err, totp.ErrFormat):
			outcome = problem.New(problem.Invalid, "code", "totp.format", nil)
			return f, outcome
		case errors.Is(err, totp.ErrReplayed):
			outcome = problem.New(problem.Invalid, "code", "totp.replayed", nil)
			return f, outcome
		case errors.Is(err, totp.ErrWrongCode):
			outcome = problem.New(problem.Invalid, "code", "totp.wrong", nil)
			return f, outcome
		case err != nil:
			return f, err
		}
		f.LastStep = step
		f.LastUsedAt = s.now()
		return f, nil
	})
	if outcome != nil {
		return outcome
	}
	if err != nil {
		return err
	}
	return s.Store.ResetFailures(ctx, key)
}

func (s *Service) useRecoveryCode(ctx context.Context, c Client, acct store.Account, code string) error {
	if !recovery.Valid(code) {
		return problem.New(problem.Invalid, "code", "recovery.format", nil)
	}
	key := "factor:recovery:" + acct.ID
	if err := s.reserveAttempt(ctx, key, "code"); err != nil {
		return err
	}
	remaining, err := s.Store.UseRecoveryCode(ctx, acct.ID, recovery.Hash(acct.ID, code), s.now())
	if errors.Is(err, store.ErrNotFound) {
		return problem.New(problem.Invalid, "code", "recovery.wrong", nil)
	}
	if err != nil {
		return err
	}
	if err := s.Store.ResetFailures(ctx, key); err != nil {
		return err
	}
	s.notify(ctx, c, acct, "recovery_code_used", map[string]any{"count": remaining, "security_url": s.link("/account/security")})
	return nil
}

// notify mails every verified address of the account about a security
// event: an intruder who added an address of their own cannot keep the
// owner's other addresses from hearing of it.
func (s *Service) notify(ctx context.Context, c Client, acct store.Account, template string, extra map[string]any) {
	emails, err := s.Store.ListEmails(ctx, acct.ID)
	if err != nil {
		s.log().Error("security mail not queued: addresses unreadable", "template", template, "account", acct.ID, "err", err)
		return
	}
	data := s.requestFacts(c)
	data["name"] = acct.Name
	data["recover_url"] = s.link("/recover")
	for k, v := range extra {
		data[k] = v
	}
	for _, e := range emails {
		if e.VerifiedAt.IsZero() {
			continue
		}
		if err := s.Mailer.Send(ctx, e.Address, s.lang(acct, c), template, data); err != nil {
			s.log().Error("security mail not queued", "template", template, "account", acct.ID, "err", err)
		}
	}
}

// MaskEmail shows enough of an address to recognise it and too little to
// harvest it: "ma…ge@sc…se" for "mariage@scb.se" (IDEP's style). See the
// table test for the rules.
func MaskEmail(addr string) string {
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return maskPart(addr)
	}
	local, domain := addr[:at], addr[at+1:]
	return maskPart(local) + "@" + maskPart(domain)
}

// maskPart keeps the first two and last two characters of s (fewer for
// short strings) and puts "…" between.
func maskPart(s string) string {
	r := []rune(s)
	switch n := len(r); {
	case n <= 2:
		return string(r[:1]) + "…"
	case n <= 4:
		return string(r[:1]) + "…" + string(r[n-1:])
	default:
		return string(r[:2]) + "…" + string(r[n-2:])
	}
}
