package flow

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/portvakt/portvakt/internal/authn"
	"github.com/portvakt/portvakt/internal/authn/sms"
	"github.com/portvakt/portvakt/internal/problem"
	"github.com/portvakt/portvakt/internal/secret"
	"github.com/portvakt/portvakt/internal/store"
)

// Second factors proven with a code sent by SMS or email: the send (within
// the send cap, cool-down and budgets), the check, and the email link.

// SendFactorCode sends a code (SMS) or a link and a code (email) for the
// chosen option. The previous code of the flow stops working.
func (s *Service) SendFactorCode(ctx context.Context, c Client, flowID, key string) error {
	pf, err := s.Factor(ctx, c, flowID)
	if err != nil {
		return err
	}
	o, ok := findOption(pf.Options, key)
	if !ok {
		return errChoose()
	}
	k, ok := kindOf(o.Method)
	if !ok || k.send == nil {
		return errChoose()
	}
	return k.send(s, ctx, c, pf, o)
}

func init() {
	registerSecondFactor(secondFactorKind{
		method: authn.SMS, order: 20, factor: store.FactorSMS,
		fromFactor: func(f store.Factor) Option {
			return Option{Method: authn.SMS, Target: f.ID, Label: MaskPhone(f.Phone)}
		},
		describe: func(f store.Factor) (string, []any) { return "methods.sms", []any{"phone", MaskPhone(f.Phone)} },
		send:     (*Service).sendSMSFactor,
		verify: func(s *Service, ctx context.Context, c Client, pf PendingFactor, o Option, code string) error {
			return smsWording(s.verifySentCode(ctx, c, pf, o, code, s.mfa().SMSTTL))
		},
		view: func(s *Service, o Option) FactorView {
			return FactorView{Title: "mfa.sms.title", SendText: "mfa.sms.send_text", SendButton: "mfa.send", SendAgain: "mfa.send_again",
				Sent: "mfa.sms.sent", Args: map[string]any{"phone": o.Label}}
		},
	})
	registerSecondFactor(secondFactorKind{
		method: authn.Email, order: 30,
		options: (*Service).emailOptions,
		send:    (*Service).sendEmailFactor,
		verify: func(s *Service, ctx context.Context, c Client, pf PendingFactor, o Option, code string) error {
			return s.verifySentCode(ctx, c, pf, o, code, s.mfa().EmailTTL)
		},
		view: func(s *Service, o Option) FactorView {
			return FactorView{Title: "mfa.email.title", SendText: "mfa.email.send_text", SendButton: "mfa.email.send_button",
				SendAgain: "mfa.email.send_again", Sent: "mfa.email.sent_detail",
				Args: map[string]any{"email": o.Label, "count": int(s.mfa().EmailTTL.Minutes())}}
		},
	})
}

// emailOptions are the account's addresses, as a second step only on an
// account with nothing stronger whose operator requires one (IDEP); never
// a fallback for an authenticator, a phone or a key (the mailbox alone
// would beat them).
func (s *Service) emailOptions(ctx context.Context, acct store.Account) ([]Option, error) {
	strong, err := s.enrolledStrong(ctx, acct.ID)
	if err != nil || len(strong) > 0 || !s.requiredFor(acct) {
		return nil, err
	}
	emails, err := s.Store.ListEmails(ctx, acct.ID)
	if err != nil {
		return nil, err
	}
	var out []Option
	for _, e := range emails {
		out = append(out, Option{Method: authn.Email, Target: e.Address, Label: MaskEmail(e.Address), key: emailKey(acct.ID, e.Address)})
	}
	return out, nil
}

// sendSMSFactor texts a code for an SMS option, within the SMS limits.
func (s *Service) sendSMSFactor(ctx context.Context, c Client, pf PendingFactor, o Option) error {
	m := s.mfa()
	factor, err := s.Store.GetFactor(ctx, o.Target)
	if err != nil {
		return err
	}
	if err := s.smsAllowed(ctx, c, pf.Account.ID, factor.Phone); err != nil {
		return err
	}
	code := newCode()
	if err := s.armCode(ctx, c, pf.Flow.ID, o.Key(), code, nil, m.SMSTTL); err != nil {
		return err
	}
	lang := s.lang(pf.Account, c)
	text := s.Texts.Lang(lang).T("sms.code", "code", code, "service", s.ServiceName, "count", int(m.SMSTTL.Minutes()))
	return s.SMS.Send(ctx, factor.Phone, text)
}

// sendEmailFactor mails a link and a code for an email option.
func (s *Service) sendEmailFactor(ctx context.Context, c Client, pf PendingFactor, o Option) error {
	m := s.mfa()
	// The mail budgets (per address and kind, per client address,
	// global) before a code is made, as for every emailed code.
	if err := s.mailAllowed(ctx, c, o.Target, "mfa_email"); err != nil {
		return err
	}
	code := newCode()
	token := secret.Token()
	if err := s.armCode(ctx, c, pf.Flow.ID, o.Key(), code, secret.Hash(token), m.EmailTTL); err != nil {
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

// smsWording names the SMS in a wrong SMS code's message: the flows share
// "code.wrong" ("check the newest email") with emailed codes.
func smsWording(err error) error {
	p, ok := problem.As(err)
	if !ok {
		return err
	}
	p = &problem.Problem{Kind: p.Kind, Details: slices.Clone(p.Details)} // never change a shared problem
	for i, d := range p.Details {
		if d.Key == "code.wrong" {
			p.Details[i].Key = "mfa.sms.code_wrong"
		}
	}
	return p
}

// armCode puts a fresh code (and, for email, a link) on the flow, within
// the send cap and cool-down of the flow configuration.
func (s *Service) armCode(ctx context.Context, c Client, flowID, key, code string, linkHash []byte, ttl time.Duration) error {
	_, err := s.armFlowCode(ctx, c, flowID, FlowMFA, code, true, func(f *store.Flow) {
		d := decodeMFA(*f)
		d.Sent = key
		f.Data = encodeMFA(d)
		f.LinkHash = linkHash
		if exp := s.now().Add(ttl); exp.After(f.ExpiresAt) {
			f.ExpiresAt = exp
		}
	})
	return err
}

func (s *Service) lang(acct store.Account, c Client) string { return mailLang(acct, c) }

// checkFactorCode checks an SMS or email code with the factor's lifetime.
func (s *Service) checkFactorCode(ctx context.Context, c Client, flowID, code string, ttl time.Duration) (store.Flow, error) {
	return s.checkCode(ctx, c, flowID, FlowMFA, "code", code, ttl, func(f *store.Flow) { f.LinkHash = nil })
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
