package flow

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"strings"
	"time"

	"github.com/portvakt/portvakt/internal/audit"
	"github.com/portvakt/portvakt/internal/authn/password"
	"github.com/portvakt/portvakt/internal/authn/webauthn"
	"github.com/portvakt/portvakt/internal/i18n"
	"github.com/portvakt/portvakt/internal/problem"
	"github.com/portvakt/portvakt/internal/secret"
	"github.com/portvakt/portvakt/internal/session"
	"github.com/portvakt/portvakt/internal/store"
	"github.com/portvakt/portvakt/internal/throttle"
)

// Store is the slice of storage the flows use.
type Store interface {
	store.Accounts
	store.Emails
	store.Passwords
	store.Flows
	store.Counters
	store.Registrar
	store.Factors
	store.RecoveryCodes
	store.TrustedBrowsers
	store.WebAuthnCredentials
	// Security makes a credential change in one transaction (credentials.go).
	store.Security
	// Devices and Lifecycles serve the session list, new-device mails
	// and account deletion (devices.go, lifecycle.go).
	store.Devices
	store.Lifecycles
	GetSession(ctx context.Context, id string) (store.Session, error)
}

// Mailer sends a localized templated mail (notify.Mailer).
type Mailer interface {
	Send(ctx context.Context, to, lang, template string, data map[string]any) error
}

// Config holds the lifetimes and limits of the flows. Zero fields take
// the defaults documented on each.
type Config struct {
	// CodeTTL is how long an emailed code works; default 10 minutes.
	CodeTTL time.Duration
	// CodeAttempts is how many wrong codes kill a flow; default 5.
	CodeAttempts int
	// ResendAfter is the cool-down between two codes; default 60 seconds.
	ResendAfter time.Duration
	// MaxSends caps the codes sent in one flow; default 5.
	MaxSends int
	// LinkTTL is how long an emailed link works; default 30 minutes.
	LinkTTL time.Duration
	// FlowTTL is how long a sign-in or sign-up may take in all; default 1 hour.
	FlowTTL time.Duration
	// MagicLinks offers a one-time login link in recovery.
	MagicLinks bool
	// LoginFailures is how many failed sign-ins per identifier within
	// LoginWindow make further tries wait; default 10 in 15 minutes.
	LoginFailures int
	LoginWindow   time.Duration
	// NationalID says usernames are national identity numbers of this
	// kind (account.NationalIDNorway, account.NationalIDSweden): sign-in
	// checks a username's form and control digits before the password.
	NationalID string
}

func (c Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	defInt := func(d *int, v int) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.CodeTTL, 10*time.Minute)
	def(&c.ResendAfter, time.Minute)
	def(&c.LinkTTL, 30*time.Minute)
	def(&c.FlowTTL, time.Hour)
	def(&c.LoginWindow, 15*time.Minute)
	defInt(&c.CodeAttempts, 5)
	defInt(&c.MaxSends, 5)
	defInt(&c.LoginFailures, 10)
	return c
}

// Service runs the self-service flows. Every field but Logger and Now is
// required. It is safe for concurrent use.
type Service struct {
	Store       Store
	Sessions    *session.Manager
	Mailer      Mailer
	Policy      password.Policy
	Hasher      *password.Hasher
	Config      Config
	ServiceName string
	// PublicURL is the base of every link in a mail.
	PublicURL string
	Logger    *slog.Logger
	Now       func() time.Time

	// MFA says when a second factor is needed and which.
	MFA MFAConfig
	// SMS sends SMS codes; nil when SMS is not configured.
	SMS SMSSender
	// SMSLimits cap SMS sends against pumping.
	SMSLimits SMSLimits
	// Sealer encrypts TOTP seeds at rest.
	Sealer *secret.Sealer
	// Texts translates SMS texts.
	Texts *i18n.Catalog
	// WebAuthn runs security-key and passkey ceremonies; nil turns them off.
	WebAuthn *webauthn.Service
	// Rules are the throttle's rules (per account, address, network,
	// global, emailed codes); nil means throttle.DefaultRules.
	Rules *throttle.Rules
	// Upstreams are the upstream identity providers (federate.go); nil
	// offers none.
	Upstreams *Upstreams
	// Audit records what the flows do (internal/audit); nil records
	// nothing.
	Audit *audit.Recorder
	// Ops configures new-device mails and account deletion (alerts.go,
	// lifecycle.go); the zero value is the default.
	Ops OpsConfig
}

// SMSSender sends a text message (package sms).
type SMSSender interface {
	Send(ctx context.Context, to, text string) error
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) cfg() Config { return s.Config.withDefaults() }

func (s *Service) log() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// Client is what the flows know of the caller.
type Client struct {
	// Browser is the SHA-256 of the browser-binding cookie (HTML) or of
	// the flow token (API). A flow answers only to the one that started
	// it.
	Browser []byte
	IP      string
	// UserAgent is shown in mails ("asked from Firefox on Linux").
	UserAgent string
	// Lang is the language of the mails the flow sends.
	Lang string
	// Trust is the digest of the remembered-browser cookie, if any.
	Trust []byte
	// Device is the digest of the browser's long-lived marker cookie, for
	// new-device mails (alerts.go); nil means Browser is it. NoDevice says
	// the client has none (a JSON client without the browser cookie).
	Device   []byte
	NoDevice bool
}

// Result is a finished sign-in: the session token for the cookie. When
// Pending is set there is no session yet: the sign-in needs a second
// factor, in the flow Pending names.
type Result struct {
	Token   string
	Session store.Session
	Account store.Account
	Pending string
	// TrustToken, when set, is the remembered-browser cookie to set.
	TrustToken string
	// LostAuthenticator says the user signed in without their lost
	// authenticator and should set up a new one now.
	LostAuthenticator bool
	// ReturnTo is where a reauth or step-up goes back to.
	ReturnTo string
	// CredentialsChanged says the sign-in changed the password (a reset).
	// The reset's own transaction ended the other sessions and revoked
	// every app token (secure); callers need do nothing more.
	CredentialsChanged bool
	// DeletionCancelled says the sign-in cancelled the deletion of the
	// account the user had asked for (lifecycle.go): tell them.
	DeletionCancelled bool
}

// Problems shared by the flows.
var (
	errFlowGone      = problem.New(problem.Expired, "", "flow.gone", nil)
	errFlowElsewhere = problem.New(problem.Forbidden, "", "flow.other_browser", nil)
)

// loadFlow returns the flow if it exists, is of kind, belongs to this
// browser and has not expired or been used. Every failure is a Problem
// that tells the user to start again.
func (s *Service) loadFlow(ctx context.Context, c Client, id, kind string) (store.Flow, error) {
	f, err := s.Store.GetFlow(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && f.Kind != kind) {
		return store.Flow{}, errFlowGone
	}
	if err != nil {
		return store.Flow{}, err
	}
	if err := s.checkFlow(f, c); err != nil {
		return store.Flow{}, err
	}
	return f, nil
}

func (s *Service) checkFlow(f store.Flow, c Client) error {
	if !f.ConsumedAt.IsZero() || !s.now().Before(f.ExpiresAt) {
		return errFlowGone
	}
	if f.Data != "" && !json.Valid([]byte(f.Data)) {
		// A flow whose server-side state does not parse would read as
		// zero values (no pending password, no purpose, no remembered
		// factor): it is refused, never half-understood.
		s.log().Error("flow data does not parse; the flow is refused", "flow", f.ID, "kind", f.Kind)
		return errFlowGone
	}
	if f.BrowserHash != nil && !secret.Equal(f.BrowserHash, c.Browser) {
		return errFlowElsewhere
	}
	return nil
}

// consumeNow marks a flow used in one statement (store.ConsumeFlow)
// where consume takes a transaction of four: for a flow with nothing to
// check but what loadFlow checks (kind, unused, unexpired, this browser,
// data that parses). Of parallel calls exactly one succeeds; the rest get
// the problem loadFlow gives for the flow as it is then.
func (s *Service) consumeNow(ctx context.Context, c Client, id, kind string) (store.Flow, error) {
	f, err := s.Store.ConsumeFlow(ctx, id, kind, c.Browser, s.now())
	if errors.Is(err, store.ErrNotFound) {
		if _, err := s.loadFlow(ctx, c, id, kind); err != nil {
			return store.Flow{}, err // gone, or another browser's
		}
		return store.Flow{}, errFlowGone
	}
	if err != nil {
		return store.Flow{}, err
	}
	if f.Data != "" && !json.Valid([]byte(f.Data)) {
		s.log().Error("flow data does not parse; the flow is refused", "flow", f.ID, "kind", f.Kind)
		return store.Flow{}, errFlowGone
	}
	return f, nil
}

// newFlow starts a flow bound to the client.
func (s *Service) newFlow(kind string, c Client, email string) store.Flow {
	now := s.now()
	return store.Flow{
		ID:          secret.ID(),
		Kind:        kind,
		BrowserHash: c.Browser,
		Email:       email,
		CreatedAt:   now,
		ExpiresAt:   now.Add(s.cfg().FlowTTL),
	}
}

// newCode returns a random six-digit code.
func newCode() string {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		panic(err)
	}
	return fmt.Sprintf("%06d", n.Int64())
}

// codeHash binds a code to its flow, so a code from one flow never works
// in another. A six-digit code has too few values for a digest to hide it
// from someone who reads the database; what protects it is its short life
// and the attempt limit.
func codeHash(flowID, code string) []byte {
	sum := sha256.Sum256([]byte("portvakt-code\x00" + flowID + "\x00" + code))
	return sum[:]
}

// normalizeCode accepts what people type: spaces, dashes, full-width digits.
func normalizeCode(in string) string {
	var b strings.Builder
	for _, r := range in {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r >= '０' && r <= '９':
			b.WriteRune('0' + (r - '０'))
		}
	}
	return b.String()
}

// checkCode verifies a code against the flow inside UpdateFlow, so that
// parallel submissions are serialized: the attempt count cannot be
// outrun, and a right code is accepted once. On success the flow's code
// is cleared and next is applied.
func (s *Service) checkCode(ctx context.Context, c Client, id, kind, field, code string, ttl time.Duration, next func(*store.Flow)) (store.Flow, error) {
	cfg := s.cfg()
	code = normalizeCode(code)
	if len(code) != 6 {
		return store.Flow{}, problem.New(problem.Invalid, field, "code.format", problem.Args{"digits": 6})
	}
	// A client whose wrong tries (of any secret) passed its address's or
	// network's limit waits before any code of it is checked.
	if d, err := s.throttle().Check(ctx, s.sourceKeys(c)...); err != nil {
		return store.Flow{}, err
	} else if !d.Allowed() {
		return store.Flow{}, s.throttled(field, d)
	}
	// Every code tried for the flow's account (or address) is counted
	// first, right or wrong, against the emailed-code budget that bounds
	// guessing (docs/security/abuse.md); a try beyond it is refused
	// unchecked. A success does not clear it.
	if before, err := s.Store.GetFlow(ctx, id); err == nil && before.Kind == kind {
		budget := s.codeKey(before)
		fs, err := s.throttle().Failed(ctx, budget)
		if err != nil {
			return store.Flow{}, err
		}
		if fs[0].Beyond() {
			d, err := s.throttle().Check(ctx, budget)
			if err != nil {
				return store.Flow{}, err
			}
			return store.Flow{}, s.throttled(field, d)
		}
	}
	var outcome error
	var wrong bool
	var flowAccount string
	f, err := s.Store.UpdateFlow(ctx, id, func(f store.Flow) (store.Flow, error) {
		outcome, wrong = nil, false
		flowAccount = f.AccountID
		if f.Kind != kind {
			return f, errFlowGone
		}
		if err := s.checkFlow(f, c); err != nil {
			return f, err
		}
		if f.Attempts >= cfg.CodeAttempts {
			return f, problem.New(problem.TooManyAttempts, field, "code.too_many", problem.Args{"max": cfg.CodeAttempts})
		}
		if f.CodeHash != nil && !s.now().Before(f.LastSentAt.Add(ttl)) {
			return f, problem.New(problem.Expired, field, "code.expired", problem.Args{"count": int(ttl.Minutes())})
		}
		if f.CodeHash == nil || !secret.Equal(f.CodeHash, codeHash(f.ID, code)) {
			wrong = true
			f.Attempts++
			left := cfg.CodeAttempts - f.Attempts
			if left <= 0 {
				outcome = problem.New(problem.TooManyAttempts, field, "code.too_many", problem.Args{"max": cfg.CodeAttempts})
			} else {
				outcome = problem.New(problem.Invalid, field, "code.wrong", problem.Args{"count": left})
			}
			return f, nil // keep the counted attempt
		}
		f.CodeHash = nil
		next(&f)
		return f, nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return store.Flow{}, errFlowGone
	}
	if err != nil {
		return store.Flow{}, err
	}
	if wrong {
		// A wrong code counts on the client's address and network and on
		// the account's consecutive failures like a wrong password.
		keys := s.sourceKeys(c)
		if flowAccount != "" {
			keys = append(keys, s.accountKey(flowAccount))
		}
		if err := s.failed(ctx, c, nil, field, keys...); err != nil {
			return store.Flow{}, err
		}
	}
	if outcome != nil {
		return store.Flow{}, outcome
	}
	return f, nil
}

// sendCode puts a fresh code on the flow (the old one stops working) and
// mails it. The cool-down and the send cap are checked inside the update;
// the attempt count is never reset. When live is false no code is set and
// template is a mail without one (the address has no account, or already
// has one): the flow then looks and times the same to the caller, but no
// code will ever work in it.
func (s *Service) sendCode(ctx context.Context, c Client, id, kind, template string, data map[string]any, live bool) error {
	_, err := s.sendCodeOn(ctx, c, nil, id, kind, template, data, live)
	return err
}

// sendCodeOn is sendCode for a flow the caller may already hold as it is
// stored (before; nil to read it), and returns the flow as the code left
// it: a sign-up that has just created its flow reads it neither before
// nor after.
func (s *Service) sendCodeOn(ctx context.Context, c Client, before *store.Flow, id, kind, template string, data map[string]any, live bool) (store.Flow, error) {
	cfg := s.cfg()
	// The mail budgets (a few mails of a kind per address and hour, per
	// client address, global) come before the code is made, so a refused
	// mail makes no code; the flow's own limits (below) answer first.
	var err error
	if before == nil {
		var f store.Flow
		if f, err = s.Store.GetFlow(ctx, id); err == nil {
			before = &f
		}
	}
	if err == nil && before.Kind == kind && s.sendAllowed(*before) == nil {
		if err := s.mailAllowed(ctx, c, before.Email, kind); err != nil {
			return store.Flow{}, err
		}
	}
	code := newCode()
	f, err := s.armFlowCode(ctx, c, id, kind, code, live, nil)
	if err != nil {
		return store.Flow{}, err
	}
	if data == nil {
		data = map[string]any{}
	}
	if live {
		data["code"] = code
	}
	data["minutes"] = int(cfg.CodeTTL.Minutes())
	for k, v := range s.requestFacts(c) {
		data[k] = v
	}
	return f, s.Mailer.Send(ctx, s.recipient(ctx, f.Email, f.AccountID), c.Lang, template, data)
}

// recipient is where mail about address goes: the address as the account
// stored it when it is accountID's (it may differ from what was typed in
// the case of its local part; ParseEmail made the rest one form), else
// address as given. The flow itself keeps the typed form, so the page
// never shows which form an account has.
func (s *Service) recipient(ctx context.Context, address, accountID string) string {
	if accountID == "" {
		return address
	}
	if e, err := s.Store.GetEmail(ctx, address); err == nil && e.AccountID == accountID {
		return e.Address
	}
	return address
}

// requestFacts describes the request for mails: when, from where, with
// what. The IP is shown whole (it is the user's own) but never logged
// together with codes.
func (s *Service) requestFacts(c Client) map[string]any {
	return map[string]any{
		"when":    s.now().UTC().Format("2006-01-02 15:04 UTC"),
		"ip":      c.IP,
		"browser": describeBrowser(c.UserAgent),
	}
}

// flowData is the server-only JSON kept on a flow.
type flowData struct {
	Remember  bool   `json:"remember,omitempty"`
	Method    string `json:"method,omitempty"`
	MakePrim  bool   `json:"make_primary,omitempty"`
	RequestIP string `json:"ip,omitempty"`
	RequestUA string `json:"ua,omitempty"`
	// Cancel holds the digests of the "this wasn't me" links mailed so
	// far; any of them cancels the flow.
	Cancel [][]byte `json:"cancel,omitempty"`
	// Pending is a recovery's new password (its hash), kept until the
	// account's second factor is proven (CompleteRecovery).
	Pending *store.Password `json:"pending,omitempty"`
	// Elsewhere is set on a link flow whose link was opened in another
	// browser: that browser showed a code to type here (UseLink).
	Elsewhere bool `json:"elsewhere,omitempty"`
}

func decodeData(f store.Flow) flowData {
	var d flowData
	decodeJSON(f.Data, &d)
	return d
}

func encodeData(d flowData) string { return encodeJSON(d) }

func encodeJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only plain structs are encoded
	}
	return string(b)
}

// decodeJSON reads what encodeJSON wrote. A flow whose data does not
// parse never gets here (checkFlow refuses it); the error is for callers
// that read data outside a checked flow.
func decodeJSON(s string, v any) error {
	if s == "" {
		return nil
	}
	if err := json.Unmarshal([]byte(s), v); err != nil {
		return fmt.Errorf("flow data: %w", err)
	}
	return nil
}

// describeBrowser turns a User-Agent into "Firefox on Linux" for mails.
func describeBrowser(ua string) string {
	if ua == "" {
		return "unknown"
	}
	browser := "a browser"
	for _, b := range []struct{ needle, name string }{
		{"Edg/", "Edge"}, {"OPR/", "Opera"}, {"Firefox/", "Firefox"}, {"Chrome/", "Chrome"}, {"Safari/", "Safari"}, {"curl/", "curl"},
	} {
		if strings.Contains(ua, b.needle) {
			browser = b.name
			break
		}
	}
	osName := ""
	for _, o := range []struct{ needle, name string }{
		{"Android", "Android"}, {"iPhone", "iOS"}, {"iPad", "iPadOS"}, {"Windows", "Windows"}, {"Mac OS X", "macOS"}, {"Linux", "Linux"},
	} {
		if strings.Contains(ua, o.needle) {
			osName = o.name
			break
		}
	}
	if osName == "" {
		return browser
	}
	return browser + " / " + osName
}
