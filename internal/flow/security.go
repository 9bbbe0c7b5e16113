package flow

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/portvakt/portvakt/internal/authn"
	"github.com/portvakt/portvakt/internal/authn/recovery"
	"github.com/portvakt/portvakt/internal/authn/sms"
	"github.com/portvakt/portvakt/internal/authn/totp"
	"github.com/portvakt/portvakt/internal/problem"
	"github.com/portvakt/portvakt/internal/secret"
	"github.com/portvakt/portvakt/internal/store"
)

// "Sign-in and security": the second factors a user manages themselves.
// Every change needs a recent sign-in (NeedsReauth) and is confirmed by
// mail.

// SMSLimits cap how many SMS codes may be sent in an hour, per number, per
// account, per IP address and in all (SMS pumping, SECURITY.md §5.8), and
// to which countries.
type SMSLimits struct {
	PerNumber, PerAccount, PerIP, Global int
	// PerPrefix caps the SMS to numbers that share all but their last four
	// digits (bursts to adjacent numbers are the mark of SMS pumping);
	// default 20.
	PerPrefix int
	// Countries are the ISO regions numbers may be in (e.g. NO, SE); empty
	// allows the DefaultRegion only, and "*" allows all.
	Countries []string
	// DefaultRegion is the region of numbers typed without a country code.
	DefaultRegion string
}

func (l SMSLimits) withDefaults() SMSLimits {
	def := func(d *int, v int) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&l.PerNumber, 5)
	def(&l.PerPrefix, 20)
	def(&l.PerAccount, 10)
	def(&l.PerIP, 20)
	def(&l.Global, 500)
	if l.DefaultRegion == "" {
		l.DefaultRegion = "NO"
	}
	return l
}

// smsAllowed counts one SMS against every limit and refuses, saying which
// limit holds, when any is exceeded. The counters are fixed one-hour
// windows in the database, so every node sees the same counts.
//
// Against SMS pumping (SECURITY.md §5.8, issue 10 finding 6): only the
// configured countries get SMS, by default the region's own (sms.countries
// "*" allows all); numbers sharing all but their last four digits share a
// budget (PerPrefix); and the global budget is checked and spent last, only
// by a send every other limit allowed, so refused requests (one account
// asking again and again) never stop SMS for everyone.
func (s *Service) smsAllowed(ctx context.Context, c Client, accountID, phone string) error {
	if s.SMS == nil {
		return problem.New(problem.Forbidden, "", "sms.unavailable", nil)
	}
	l := s.SMSLimits.withDefaults()
	countries := l.Countries
	if len(countries) == 0 {
		countries = []string{l.DefaultRegion}
	}
	if !slices.Contains(countries, "*") && !slices.Contains(countries, sms.Country(phone)) {
		return problem.New(problem.Forbidden, "phone", "sms.country_not_allowed", problem.Args{"countries": strings.Join(countries, ", ")})
	}
	hour := s.now().UTC().Format("2006010215")
	type check struct {
		key   string
		limit int
		msg   string
	}
	prefix := phone
	if len(prefix) > 4 {
		prefix = prefix[:len(prefix)-4]
	}
	local := []check{
		{"number:" + phone, l.PerNumber, "sms.limit_number"},
		{"prefix:" + prefix, l.PerPrefix, "sms.limit_number"},
		{"account:" + accountID, l.PerAccount, "sms.limit_account"},
	}
	if c.IP != "" {
		local = append(local, check{"ip:" + c.IP, l.PerIP, "sms.limit_ip"})
	}
	refuse := func(ch check) error {
		minutes := 60 - s.now().UTC().Minute()
		s.log().Warn("sms limit reached", "limit", ch.msg, "account", accountID)
		return problem.New(problem.TooManyAttempts, "", ch.msg, problem.Args{"max": ch.limit, "count": minutes})
	}
	for _, group := range [][]check{local, {{"global", l.Global, "sms.limit_global"}}} {
		// Read first: a refused send spends nothing.
		for _, ch := range group {
			n, _, err := s.Store.Failures(ctx, "sms:"+ch.key+":"+hour, s.now(), time.Hour)
			if err != nil {
				return err
			}
			if n >= ch.limit {
				return refuse(ch)
			}
		}
		// Then spend; a parallel send that took the last place is refused.
		for _, ch := range group {
			n, err := s.Store.AddFailure(ctx, "sms:"+ch.key+":"+hour, s.now(), time.Hour)
			if err != nil {
				return err
			}
			if n > ch.limit {
				return refuse(ch)
			}
		}
	}
	return nil
}

// MaskPhone shows a number as "+47 ••• •• 567".
func MaskPhone(e164 string) string { return sms.Mask(e164) }

// ---- remembered browsers ----

func (s *Service) trusted(ctx context.Context, c Client, accountID string) (bool, error) {
	if c.Trust == nil || s.mfa().RememberDays <= 0 {
		return false, nil
	}
	b, err := s.Store.GetTrustedBrowser(ctx, c.Trust)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return b.AccountID == accountID && s.now().Before(b.ExpiresAt), nil
}

func (s *Service) rememberBrowser(ctx context.Context, c Client, accountID string) (string, error) {
	token := secret.Token()
	now := s.now()
	err := s.Store.CreateTrustedBrowser(ctx, store.TrustedBrowser{
		ID: secret.ID(), AccountID: accountID, TokenHash: secret.Hash(token), UserAgent: describeBrowser(c.UserAgent), IP: c.IP,
		CreatedAt: now, ExpiresAt: now.AddDate(0, 0, s.mfa().RememberDays),
	})
	if err != nil {
		return "", err
	}
	return token, nil
}

// ForgetBrowser stops one remembered browser from skipping the second factor.
func (s *Service) ForgetBrowser(ctx context.Context, who Who, id string) error {
	if err := s.Store.DeleteTrustedBrowser(ctx, who.Account.ID, id); errors.Is(err, store.ErrNotFound) {
		return problem.New(problem.NotFound, "", "security.browser_gone", nil)
	} else if err != nil {
		return err
	}
	return nil
}

// ForgetAllBrowsers stops every remembered browser of the account.
func (s *Service) ForgetAllBrowsers(ctx context.Context, accountID string) error {
	_, err := s.Store.DeleteTrustedBrowsers(ctx, accountID)
	return err
}

// ---- overview ----

// Security is what the "Sign-in and security" page shows.
type Security struct {
	Mode           string
	Allowed        []authn.Method
	TOTP           []store.Factor
	Phones         []store.Factor
	Emails         []store.Email
	RecoveryUnused int
	RecoveryTotal  int
	Browsers       []store.TrustedBrowser
	RememberDays   int
	Levels         authn.Levels
	Actions        map[string]int
}

// SecurityOverview gathers the account's factors.
func (s *Service) SecurityOverview(ctx context.Context, accountID string) (Security, error) {
	m := s.mfa()
	out := Security{Mode: m.Mode, Allowed: m.Methods, RememberDays: m.RememberDays, Levels: m.Levels, Actions: m.Actions}
	factors, err := s.Store.ListFactors(ctx, accountID)
	if err != nil {
		return out, err
	}
	for _, f := range factors {
		if f.ConfirmedAt.IsZero() {
			continue
		}
		switch f.Kind {
		case store.FactorTOTP:
			out.TOTP = append(out.TOTP, f)
		case store.FactorSMS:
			out.Phones = append(out.Phones, f)
		}
	}
	if out.Emails, err = s.Store.ListEmails(ctx, accountID); err != nil {
		return out, err
	}
	if out.RecoveryUnused, out.RecoveryTotal, err = s.Store.CountRecoveryCodes(ctx, accountID); err != nil {
		return out, err
	}
	if out.Browsers, err = s.Store.ListTrustedBrowsers(ctx, accountID); err != nil {
		return out, err
	}
	now := s.now()
	out.Browsers = slices.DeleteFunc(out.Browsers, func(b store.TrustedBrowser) bool { return !now.Before(b.ExpiresAt) })
	return out, nil
}

// Reauth checks the password of a signed-in user before a sensitive
// change. If the account has a second factor, a flow for it follows
// (Result.Pending); otherwise the session is rotated at once.
func (s *Service) Reauth(ctx context.Context, c Client, who Who, pw, returnTo string) (Result, error) {
	hasPW, err := s.hasPassword(ctx, who.Account.ID)
	if err != nil {
		return Result{}, err
	}
	if !hasPW {
		// A passwordless account re-authenticates with its factors alone.
		opts, err := s.options(ctx, who.Account, nil, 0, false)
		if err != nil {
			return Result{}, err
		}
		if len(opts) == 0 {
			return Result{}, problem.New(problem.Forbidden, "", "mfa.no_method_left", nil)
		}
		f, err := s.startMFA(ctx, c, who.Account, mfaData{Purpose: "reauth", Session: who.Session.ID, ReturnTo: returnTo})
		if err != nil {
			return Result{}, err
		}
		return Result{Account: who.Account, Pending: f.ID}, nil
	}
	if err := s.reauthenticate(ctx, who.Account, pw); err != nil {
		return Result{}, err
	}
	used := []authn.Method{authn.Password}
	if need, err := s.secondFactorNeeded(ctx, who.Account, used); err != nil {
		return Result{}, err
	} else if need {
		opts, err := s.options(ctx, who.Account, used, 0, false)
		if err != nil {
			return Result{}, err
		}
		if len(opts) > 0 {
			f, err := s.startMFA(ctx, c, who.Account, mfaData{Used: used, Purpose: "reauth", Session: who.Session.ID, ReturnTo: returnTo})
			if err != nil {
				return Result{}, err
			}
			return Result{Account: who.Account, Pending: f.ID}, nil
		}
	}
	res, err := s.upgradeSession(ctx, who.Account, who.Session.ID, used, true)
	res.ReturnTo = returnTo
	return res, err
}

// ActionLevel returns the level an action needs, or a problem for an
// unknown action.
func (s *Service) ActionLevel(action string) (int, error) {
	lvl, ok := s.mfa().Actions[action]
	if !ok {
		return 0, problem.New(problem.NotFound, "action", "stepup.unknown_action", problem.Args{"action": action})
	}
	return lvl, nil
}

// StepUp prepares an action that needs a higher level than the session
// has. If the session is strong enough it returns a Result with neither
// Token nor Pending. Otherwise it starts a second-factor flow offering
// only methods strong enough (a remembered browser never counts).
func (s *Service) StepUp(ctx context.Context, c Client, who Who, action, returnTo string) (Result, error) {
	lvl, err := s.ActionLevel(action)
	if err != nil {
		return Result{}, err
	}
	return s.StepUpTo(ctx, c, who, lvl, returnTo)
}

// StepUpTo is StepUp for a level rather than a named action (an app's
// acr_values, say).
func (s *Service) StepUpTo(ctx context.Context, c Client, who Who, lvl int, returnTo string) (Result, error) {
	if who.Session.Level >= lvl {
		return Result{Account: who.Account, Session: who.Session}, nil
	}
	// A step-up adds to what the session proved: an option counts for what
	// the session's methods and it are worth together (authn.Assess).
	used := authn.Methods(who.Session.Methods)
	opts, err := s.options(ctx, who.Account, used, lvl, false)
	if err != nil {
		return Result{}, err
	}
	if len(opts) == 0 {
		// Without a first factor in this session (a magic link, say), no
		// second factor can lift it: a full re-authentication may.
		if hasPW, err := s.hasPassword(ctx, who.Account.ID); err != nil {
			return Result{}, err
		} else if hasPW && !slices.Contains(used, authn.Password) {
			if best, err := s.options(ctx, who.Account, []authn.Method{authn.Password}, lvl, false); err == nil && len(best) > 0 {
				return Result{}, errReauth
			}
		}
		return Result{}, problem.New(problem.Forbidden, "", "stepup.no_method", problem.Args{"level": lvl})
	}
	f, err := s.startMFA(ctx, c, who.Account, mfaData{Used: used, Purpose: "stepup", Session: who.Session.ID, MinLevel: lvl, ReturnTo: returnTo})
	if err != nil {
		return Result{}, err
	}
	return Result{Account: who.Account, Pending: f.ID}, nil
}

// ---- authenticator app ----

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

// RemoveFactor removes an authenticator or phone of the account.
func (s *Service) RemoveFactor(ctx context.Context, c Client, who Who, id string) error {
	if err := s.requireFresh(ctx, who); err != nil {
		return err
	}
	f, err := s.Store.GetFactor(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && f.AccountID != who.Account.ID) {
		return problem.New(problem.NotFound, "", "security.factor_gone", nil)
	}
	if err != nil {
		return err
	}
	if err := s.Store.DeleteFactor(ctx, id); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if err := s.contain(ctx, who); err != nil {
		return err
	}
	name := s.Texts.Lang(s.lang(who.Account, c)).T("security.totp.title")
	if f.Kind == store.FactorSMS {
		name = MaskPhone(f.Phone)
	}
	s.notify(ctx, c, who.Account, "factor_removed", map[string]any{"factor": name, "security_url": s.link("/account/security")})
	s.log().Info("factor removed", "account", who.Account.ID, "kind", f.Kind)
	return nil
}

// ---- recovery codes ----

func (s *Service) newRecoveryCodes(ctx context.Context, accountID string) ([]string, error) {
	codes, err := recovery.Generate(10)
	if err != nil {
		return nil, err
	}
	rows := make([]store.RecoveryCode, len(codes))
	for i, c := range codes {
		rows[i] = store.RecoveryCode{AccountID: accountID, Hash: recovery.Hash(accountID, c), CreatedAt: s.now()}
	}
	if err := s.Store.ReplaceRecoveryCodes(ctx, accountID, rows); err != nil {
		return nil, err
	}
	return codes, nil
}

// RegenerateRecoveryCodes makes a new set of ten codes; the old set stops
// working. The codes are returned to be shown once.
func (s *Service) RegenerateRecoveryCodes(ctx context.Context, c Client, who Who) ([]string, error) {
	if err := s.requireFresh(ctx, who); err != nil {
		return nil, err
	}
	if !s.mfa().allowed(authn.Recovery) {
		return nil, problem.New(problem.Forbidden, "", "security.method_not_allowed", nil)
	}
	codes, err := s.newRecoveryCodes(ctx, who.Account.ID)
	if err != nil {
		return nil, err
	}
	if err := s.contain(ctx, who); err != nil {
		return nil, err
	}
	s.notify(ctx, c, who.Account, "recovery_codes_new", map[string]any{"security_url": s.link("/account/security")})
	return codes, nil
}

// ---- phones ----

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
	cfg := s.cfg()
	code := newCode()
	_, err := s.Store.UpdateFlow(ctx, flowID, func(f store.Flow) (store.Flow, error) {
		if f.Kind != kind {
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
		f.CodeHash, f.Sends, f.LastSentAt = codeHash(f.ID, code), f.Sends+1, s.now()
		return f, nil
	})
	if err != nil {
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

// ---- support codes ----

func supportFlowID(accountID string) string { return "support-" + accountID }

// supportTTL is how long a support-issued code works.
const supportTTL = 24 * time.Hour

// IssueSupportCode is what a support agent does after checking who a user
// is: a single-use code goes to the account's main address (the agent
// never sees it). It works once, within 24 hours, as a second factor.
// It returns the masked address it went to.
func (s *Service) IssueSupportCode(ctx context.Context, accountID, lang string) (string, error) {
	acct, err := s.Store.GetAccount(ctx, accountID)
	if errors.Is(err, store.ErrNotFound) {
		return "", problem.New(problem.NotFound, "", "account.not_found", nil)
	}
	if err != nil {
		return "", err
	}
	addr, err := s.primaryEmail(ctx, acct.ID)
	if err != nil {
		return "", problem.New(problem.Conflict, "", "support.no_email", nil)
	}
	codes, err := recovery.Generate(1)
	if err != nil {
		return "", err
	}
	id := supportFlowID(acct.ID)
	if err := s.Store.DeleteFlow(ctx, id); err != nil && !errors.Is(err, store.ErrNotFound) {
		return "", err
	}
	now := s.now()
	if err := s.Store.CreateFlow(ctx, store.Flow{ID: id, Kind: "support", AccountID: acct.ID, CodeHash: recovery.Hash(acct.ID, codes[0]), Sends: 1, LastSentAt: now, CreatedAt: now, ExpiresAt: now.Add(supportTTL)}); err != nil {
		return "", err
	}
	if lang == "" {
		lang = acct.Locale
	}
	if err := s.Mailer.Send(ctx, addr, lang, "support_code", map[string]any{"name": acct.Name, "code": codes[0], "count": int(supportTTL.Hours())}); err != nil {
		return "", err
	}
	s.log().Warn("support code issued", "account", acct.ID)
	return MaskEmail(addr), nil
}

func (s *Service) hasSupportCode(ctx context.Context, accountID string) (bool, error) {
	f, err := s.Store.GetFlow(ctx, supportFlowID(accountID))
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return f.ConsumedAt.IsZero() && s.now().Before(f.ExpiresAt), nil
}

func (s *Service) useSupportCode(ctx context.Context, accountID, code string) error {
	if !recovery.Valid(code) {
		return problem.New(problem.Invalid, "code", "recovery.format", nil)
	}
	var outcome error
	_, err := s.Store.UpdateFlow(ctx, supportFlowID(accountID), func(f store.Flow) (store.Flow, error) {
		outcome = nil
		if !f.ConsumedAt.IsZero() || !s.now().Before(f.ExpiresAt) {
			return f, problem.New(problem.Expired, "code", "support.expired", nil)
		}
		if f.Attempts >= s.cfg().CodeAttempts {
			return f, problem.New(problem.TooManyAttempts, "code", "code.too_many", problem.Args{"max": s.cfg().CodeAttempts})
		}
		if !secret.Equal(f.CodeHash, recovery.Hash(accountID, code)) {
			f.Attempts++
			outcome = problem.New(problem.Invalid, "code", "support.wrong", nil)
			return f, nil
		}
		f.ConsumedAt = s.now()
		return f, nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return problem.New(problem.Expired, "code", "support.expired", nil)
	}
	if err != nil {
		return err
	}
	return outcome
}
