package account

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/portvakt/portvakt/internal/audit"
	"github.com/portvakt/portvakt/internal/problem"
	"github.com/portvakt/portvakt/internal/store"
)

// Support and admin operations (issue 15): what the support console
// (/admin), the admin API and the CLI do to someone else's account.
// Every operation takes the Actor who does it and a typed reason, checks
// both, and records an audit event with them, whether it worked or not.
//
// Roles are kept apart from policy groups (store.Roles): "support" may
// look accounts up and help their owners (support code, TOTP reset, end
// sessions, lock, unlock, remove a linked identity, resend an
// invitation); "admin" may do that and also manage roles and OpenID
// clients.

// The roles.
const (
	RoleSupport = "support"
	RoleAdmin   = "admin"
)

// Roles lists the roles, for messages and checks.
func Roles() []string { return []string{RoleSupport, RoleAdmin} }

// ValidRole reports whether r is a role.
func ValidRole(r string) bool { return slices.Contains(Roles(), r) }

// SupportCodeTTL is how long a support code works: half an hour.
const SupportCodeTTL = 30 * time.Minute

// Reason bounds: a reason is a sentence someone typed.
const (
	MinReason = 4
	MaxReason = 500
)

// SupportFlows is the work behind the actions that mail the owner or
// touch their factors (flow.Service).
type SupportFlows interface {
	// SendSupportCode mails a single-use code valid for ttl to the
	// account's verified addresses and returns them masked.
	SendSupportCode(ctx context.Context, accountID, lang string, ttl time.Duration) ([]string, error)
	// ResetTOTP removes the account's authenticator apps and tells the
	// owner; it returns how many went.
	ResetTOTP(ctx context.Context, accountID string) (int, error)
	// ResendInvitation mails a new invitation; it returns the masked
	// address.
	ResendInvitation(ctx context.Context, accountID, lang string) (string, error)
	// UnlockAccount clears a lock after consecutive failed sign-ins.
	UnlockAccount(ctx context.Context, accountID string) error
	// AccountLocked reports that lock.
	AccountLocked(ctx context.Context, accountID string) (bool, error)
	// NationalIDAccounts finds the accounts a national identity number
	// names.
	NationalIDAccounts(ctx context.Context, nid string) ([]string, error)
	// ParsePhone normalises a typed phone number to E.164.
	ParsePhone(in string) (string, error)
}

// SupportStore is the storage the support operations read and change.
type SupportStore interface {
	GetAccount(ctx context.Context, id string) (store.Account, error)
	GetAccountByUsername(ctx context.Context, username string) (store.Account, error)
	UpdateAccount(ctx context.Context, id string, fn func(store.Account) (store.Account, error)) (store.Account, error)
	GetEmail(ctx context.Context, address string) (store.Email, error)
	ListEmails(ctx context.Context, accountID string) ([]store.Email, error)
	ListFactors(ctx context.Context, accountID string) ([]store.Factor, error)
	ListIdentities(ctx context.Context, accountID string) ([]store.FederatedIdentity, error)
	DeleteIdentity(ctx context.Context, accountID, provider, subject string) error
	ListSessions(ctx context.Context, accountID string) ([]store.Session, error)
	GetPassword(ctx context.Context, accountID string) (store.Password, error)
	store.Roles
	store.AccountSearch
	store.Audit
}

// Support runs support and admin operations. Store, Flows and Audit are
// required.
type Support struct {
	Store SupportStore
	Flows SupportFlows
	Audit *audit.Recorder
	// EndAllSessions ends every session of the account (with back-channel
	// logout) and returns how many; nil ends none.
	EndAllSessions func(ctx context.Context, accountID string) (int, error)
	// RevokeTokens revokes every app token of the account; nil when
	// there is no OpenID Provider.
	RevokeTokens func(ctx context.Context, accountID string) error
	Now          func() time.Time
	Logger       *slog.Logger
}

func (s *Support) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Problems of the support operations.
var (
	errReasonRequired = problem.New(problem.Invalid, "reason", "admin.reason_required", problem.Args{"min": MinReason, "max": MaxReason})
	errNoAccount      = problem.New(problem.NotFound, "", "account.not_found", nil)
	errForbidden      = problem.New(problem.Forbidden, "", "admin.forbidden", nil)
	errOutranked      = problem.New(problem.Forbidden, "", "admin.outranked", nil)
)

// CheckReason returns the reason trimmed, or the problem for a missing
// or overlong one.
func CheckReason(reason string) (string, error) {
	reason = strings.TrimSpace(reason)
	if n := utf8.RuneCountInString(reason); n < MinReason || n > MaxReason || !utf8.ValidString(reason) {
		return "", errReasonRequired
	}
	return reason, nil
}

// ActorRoles returns the roles the actor holds: an operator at the
// command line or with the admin token holds both; an account holds what
// store.Roles says.
func (s *Support) ActorRoles(ctx context.Context, actor audit.Actor) ([]string, error) {
	switch actor.Kind {
	case audit.ByOperator:
		return Roles(), nil
	case audit.BySupport, audit.ByAccount:
		if actor.ID == "" {
			return nil, nil
		}
		return s.Store.ListRoles(ctx, actor.ID)
	}
	return nil, nil
}

// allowed checks that actor holds one of roles.
func (s *Support) allowed(ctx context.Context, actor audit.Actor, roles ...string) error {
	have, err := s.ActorRoles(ctx, actor)
	if err != nil {
		return err
	}
	for _, r := range roles {
		if slices.Contains(have, r) {
			return nil
		}
	}
	return errForbidden
}

// do is the frame of every operation: check the reason and the role, get
// the account, run fn, and record the outcome.
func (s *Support) do(ctx context.Context, actor audit.Actor, reason string, kind audit.Kind, accountID string, roles []string,
	fn func(acct store.Account, e *audit.Event) error) error {
	reason, err := CheckReason(reason)
	if err != nil {
		return err
	}
	e := audit.Event{Kind: kind, Actor: actor, Subject: accountID, Reason: reason}
	if err := s.allowed(ctx, actor, roles...); err != nil {
		e.Outcome = audit.Denied
		s.record(ctx, e)
		return err
	}
	acct, err := s.Store.GetAccount(ctx, accountID)
	if errors.Is(err, store.ErrNotFound) {
		return errNoAccount
	}
	if err != nil {
		return err
	}
	if err := s.outranked(ctx, actor, kind, acct.ID); err != nil {
		e.Outcome = audit.Denied
		e.Data = map[string]string{"problem": "admin.outranked"}
		s.record(ctx, e)
		return err
	}
	err = fn(acct, &e)
	if err != nil {
		e.Outcome = audit.Failed
		if p, ok := problem.As(err); ok && p.Kind != problem.Invalid {
			e.Outcome = audit.Denied
		}
		if e.Data == nil {
			e.Data = map[string]string{}
		}
		if p, ok := problem.As(err); ok && len(p.Details) > 0 {
			e.Data["problem"] = p.Details[0].Key
		}
	}
	if rerr := s.record(ctx, e); rerr != nil && err == nil {
		// A support action that cannot be audited is reported: the
		// action happened, but the operator must know the log missed it.
		return rerr
	}
	return err
}

// outranked refuses a support user (without the admin role) changing an
// admin's account: resetting an admin's authenticator, ending their
// sessions, unlinking their identities or locking them would let support
// take over or shut out the role above theirs. Opening the account to
// look is allowed.
func (s *Support) outranked(ctx context.Context, actor audit.Actor, kind audit.Kind, accountID string) error {
	if kind == audit.SupportViewed || actor.Kind == audit.ByOperator {
		return nil
	}
	have, err := s.ActorRoles(ctx, actor)
	if err != nil {
		return err
	}
	if slices.Contains(have, RoleAdmin) {
		return nil
	}
	theirs, err := s.Store.ListRoles(ctx, accountID)
	if err != nil {
		return err
	}
	if slices.Contains(theirs, RoleAdmin) {
		return errOutranked
	}
	return nil
}

func (s *Support) record(ctx context.Context, e audit.Event) error {
	err := s.Audit.Record(ctx, e)
	if err != nil && s.Logger != nil {
		s.Logger.Error("support action not audited", "kind", e.Kind, "subject", e.Subject, "err", err)
	}
	return err
}

// Match is one account a search found, masked until it is opened.
type Match struct {
	AccountID string `json:"id"`
	// Name is the name's initials and the username masked.
	Name     string `json:"name"`
	Username string `json:"username,omitempty"`
	Email    string `json:"email,omitempty"`
	// Matched says what matched: "email", "username", "phone" or
	// "national_id".
	Matched string `json:"matched"`
}

// MaxMatches caps a search's results.
const MaxMatches = 20

// Search finds accounts by exact email address, username, phone number or
// national identity number. Results are masked: Open shows an account,
// with a reason. A query that is none of these finds nothing. Searching
// is recorded (support.search, the query masked) but needs no reason.
func (s *Support) Search(ctx context.Context, actor audit.Actor, query string) ([]Match, error) {
	if err := s.allowed(ctx, actor, RoleSupport, RoleAdmin); err != nil {
		return nil, err
	}
	out, err := s.search(ctx, query)
	if err != nil {
		return nil, err
	}
	s.record(ctx, audit.Event{Kind: audit.SupportSearch, Actor: actor, Target: maskQuery(strings.TrimSpace(query)),
		Reason: "search", Data: map[string]string{"results": fmt.Sprint(len(out))}})
	return out, nil
}

// search is Search without the role check and the audit event.
func (s *Support) search(ctx context.Context, query string) ([]Match, error) {
	query = strings.TrimSpace(query)
	if query == "" || len(query) > 320 {
		return nil, problem.New(problem.Invalid, "q", "admin.query_invalid", nil)
	}
	found := map[string]string{}
	var order []string
	add := func(id, how string) {
		if _, ok := found[id]; !ok && len(order) < MaxMatches {
			found[id] = how
			order = append(order, id)
		}
	}
	if strings.Contains(query, "@") {
		if addr, err := ParseEmail("q", query); err == nil {
			if e, err := s.Store.GetEmail(ctx, addr); err == nil {
				add(e.AccountID, "email")
			} else if !errors.Is(err, store.ErrNotFound) {
				return nil, err
			}
		}
	}
	if a, err := s.Store.GetAccountByUsername(ctx, strings.ToLower(query)); err == nil {
		add(a.ID, "username")
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	digits := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		if r == ' ' || r == '-' || r == '+' || r == '.' {
			return -1
		}
		return 'x'
	}, query)
	if !strings.Contains(digits, "x") && len(digits) >= 6 {
		if len(digits) == 10 || len(digits) == 11 || len(digits) == 12 {
			ids, err := s.Flows.NationalIDAccounts(ctx, strings.ReplaceAll(strings.ReplaceAll(query, " ", ""), "-", ""))
			if err != nil {
				return nil, err
			}
			for _, id := range ids {
				add(id, "national_id")
			}
		}
		if phone, err := s.Flows.ParsePhone(query); err == nil {
			ids, err := s.Store.FindAccountsByPhone(ctx, phone)
			if err != nil {
				return nil, err
			}
			for _, id := range ids {
				add(id, "phone")
			}
		}
	}
	out := make([]Match, 0, len(order))
	for _, id := range order {
		a, err := s.Store.GetAccount(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		m := Match{AccountID: id, Name: initials(a.Name), Username: maskUsername(a.Username), Matched: found[id]}
		if emails, err := s.Store.ListEmails(ctx, id); err == nil {
			for _, e := range emails {
				if e.Primary {
					m.Email = MaskAddress(e.Address)
				}
			}
		}
		out = append(out, m)
	}
	return out, nil
}

// maskQuery keeps an address's shape, not the address.
func maskQuery(q string) string {
	if strings.Contains(q, "@") {
		return MaskAddress(q)
	}
	return q
}

func initials(name string) string {
	var b strings.Builder
	for _, w := range strings.Fields(name) {
		r, _ := utf8.DecodeRuneInString(w)
		b.WriteRune(r)
		b.WriteString(". ")
	}
	return strings.TrimSpace(b.String())
}

func maskUsername(u string) string {
	if u == "" {
		return ""
	}
	if len(u) <= 2 {
		return strings.Repeat("•", len(u))
	}
	r := []rune(u)
	return string(r[0]) + strings.Repeat("•", len(r)-2) + string(r[len(r)-1])
}

// MaskAddress shows an address's first and last letters of each part:
// "kari@example.no" → "k…i@e…e.no".
func MaskAddress(addr string) string {
	local, domain, ok := strings.Cut(addr, "@")
	if !ok {
		return "•••"
	}
	part := func(s string) string {
		r := []rune(s)
		if len(r) <= 2 {
			return strings.Repeat("•", len(r))
		}
		return string(r[0]) + "…" + string(r[len(r)-1])
	}
	host, tld := domain, ""
	if i := strings.LastIndexByte(domain, '.'); i > 0 {
		host, tld = domain[:i], domain[i:]
	}
	return part(local) + "@" + part(host) + tld
}

// SupportView is an account as support sees it after opening it: no secret,
// no password hash, no TOTP seed.
type SupportView struct {
	Account    store.Account
	Emails     []store.Email
	Factors    []FactorView
	Identities []store.FederatedIdentity
	Sessions   []store.Session
	Roles      []string
	// ThrottleLocked is the lock after consecutive failed sign-ins;
	// Account.Disabled is support's lock.
	ThrottleLocked bool
	HasPassword    bool
	Events         []store.AuditEvent
}

// FactorView is a second factor without its secret.
type FactorView struct {
	ID, Kind, Name, Phone string
	CreatedAt, LastUsedAt time.Time
}

// Open shows an account to support, with a reason, and records that it
// was opened.
func (s *Support) Open(ctx context.Context, actor audit.Actor, reason, accountID string) (SupportView, error) {
	var o SupportView
	err := s.do(ctx, actor, reason, audit.SupportViewed, accountID, []string{RoleSupport, RoleAdmin}, func(acct store.Account, e *audit.Event) error {
		var err error
		o, err = s.overview(ctx, acct)
		return err
	})
	return o, err
}

// View is what Open shows, without a reason or an audit event: for the
// page shown after an action, which was audited itself.
func (s *Support) View(ctx context.Context, accountID string) (SupportView, error) {
	acct, err := s.Store.GetAccount(ctx, accountID)
	if errors.Is(err, store.ErrNotFound) {
		return SupportView{}, errNoAccount
	}
	if err != nil {
		return SupportView{}, err
	}
	return s.overview(ctx, acct)
}

// overview reads what Open shows.
func (s *Support) overview(ctx context.Context, acct store.Account) (SupportView, error) {
	o := SupportView{Account: acct}
	var err error
	if o.Emails, err = s.Store.ListEmails(ctx, acct.ID); err != nil {
		return o, err
	}
	factors, err := s.Store.ListFactors(ctx, acct.ID)
	if err != nil {
		return o, err
	}
	for _, f := range factors {
		if f.ConfirmedAt.IsZero() {
			continue
		}
		o.Factors = append(o.Factors, FactorView{ID: f.ID, Kind: f.Kind, Name: f.Name, Phone: audit.Mask(f.Phone), CreatedAt: f.CreatedAt, LastUsedAt: f.LastUsedAt})
	}
	if o.Identities, err = s.Store.ListIdentities(ctx, acct.ID); err != nil {
		return o, err
	}
	for i := range o.Identities {
		o.Identities[i].NationalIDSealed = nil
	}
	if o.Sessions, err = s.Store.ListSessions(ctx, acct.ID); err != nil {
		return o, err
	}
	for i := range o.Sessions {
		o.Sessions[i].TokenHash, o.Sessions[i].Via.IDTokenSealed = nil, nil
	}
	if o.Roles, err = s.Store.ListRoles(ctx, acct.ID); err != nil {
		return o, err
	}
	if _, err := s.Store.GetPassword(ctx, acct.ID); err == nil {
		o.HasPassword = true
	} else if !errors.Is(err, store.ErrNotFound) {
		return o, err
	}
	if o.ThrottleLocked, err = s.Flows.AccountLocked(ctx, acct.ID); err != nil {
		return o, err
	}
	if o.Events, _, err = s.Store.ListAuditEvents(ctx, store.AuditFilter{Subject: acct.ID, Limit: 50}); err != nil {
		return o, err
	}
	return o, nil
}

// IssueSupportCode mails the account's owner a single-use code that
// satisfies the second step once, within SupportCodeTTL. Support never
// sees it. It returns the masked addresses it went to.
func (s *Support) IssueSupportCode(ctx context.Context, actor audit.Actor, reason, accountID, lang string) ([]string, error) {
	var sent []string
	err := s.do(ctx, actor, reason, audit.SupportCodeIssued, accountID, []string{RoleSupport, RoleAdmin}, func(acct store.Account, e *audit.Event) error {
		var err error
		sent, err = s.Flows.SendSupportCode(ctx, acct.ID, lang, SupportCodeTTL)
		e.Target = strings.Join(sent, ", ")
		e.Data = map[string]string{"valid_minutes": fmt.Sprint(int(SupportCodeTTL.Minutes()))}
		return err
	})
	return sent, err
}

// ResetTOTP removes the account's authenticator apps.
func (s *Support) ResetTOTP(ctx context.Context, actor audit.Actor, reason, accountID string) (int, error) {
	var n int
	err := s.do(ctx, actor, reason, audit.TOTPReset, accountID, []string{RoleSupport, RoleAdmin}, func(acct store.Account, e *audit.Event) error {
		var err error
		n, err = s.Flows.ResetTOTP(ctx, acct.ID)
		e.Data = map[string]string{"removed": fmt.Sprint(n)}
		return err
	})
	return n, err
}

// EndSessions signs the account out everywhere.
func (s *Support) EndSessions(ctx context.Context, actor audit.Actor, reason, accountID string) (int, error) {
	var n int
	err := s.do(ctx, actor, reason, audit.SessionEnded, accountID, []string{RoleSupport, RoleAdmin}, func(acct store.Account, e *audit.Event) error {
		var err error
		n, err = s.endAll(ctx, acct.ID)
		e.Data = map[string]string{"ended": fmt.Sprint(n)}
		return err
	})
	return n, err
}

func (s *Support) endAll(ctx context.Context, accountID string) (int, error) {
	n := 0
	if s.EndAllSessions != nil {
		var err error
		if n, err = s.EndAllSessions(ctx, accountID); err != nil {
			return n, err
		}
	}
	if s.RevokeTokens != nil {
		if err := s.RevokeTokens(ctx, accountID); err != nil {
			return n, err
		}
	}
	return n, nil
}

// Lock stops the account from signing in: it is disabled, every session
// ends and every app token is revoked, so introspection and userinfo
// answer inactive. Locking a locked account changes nothing and is not an
// error.
func (s *Support) Lock(ctx context.Context, actor audit.Actor, reason, accountID string) error {
	return s.do(ctx, actor, reason, audit.AccountLocked, accountID, []string{RoleSupport, RoleAdmin}, func(acct store.Account, e *audit.Event) error {
		if err := s.lockedSelf(actor, acct.ID); err != nil {
			return err
		}
		if _, err := s.Store.UpdateAccount(ctx, acct.ID, func(a store.Account) (store.Account, error) {
			a.Disabled, a.UpdatedAt = true, s.now()
			return a, nil
		}); err != nil {
			return err
		}
		n, err := s.endAll(ctx, acct.ID)
		e.Data = map[string]string{"sessions_ended": fmt.Sprint(n)}
		return err
	})
}

// lockedSelf refuses support locking their own account (they would lock
// themselves out of the console).
func (s *Support) lockedSelf(actor audit.Actor, accountID string) error {
	if actor.Kind == audit.BySupport && actor.ID == accountID {
		return problem.New(problem.Conflict, "", "admin.not_yourself", nil)
	}
	return nil
}

// Unlock lets the account sign in again: support's lock is lifted and a
// lock after consecutive failed sign-ins is cleared.
func (s *Support) Unlock(ctx context.Context, actor audit.Actor, reason, accountID string) error {
	return s.do(ctx, actor, reason, audit.AccountUnlocked, accountID, []string{RoleSupport, RoleAdmin}, func(acct store.Account, e *audit.Event) error {
		if _, err := s.Store.UpdateAccount(ctx, acct.ID, func(a store.Account) (store.Account, error) {
			a.Disabled, a.UpdatedAt = false, s.now()
			return a, nil
		}); err != nil {
			return err
		}
		return s.Flows.UnlockAccount(ctx, acct.ID)
	})
}

// RemoveIdentity unlinks one of the account's upstream identities.
func (s *Support) RemoveIdentity(ctx context.Context, actor audit.Actor, reason, accountID, provider, subject string) error {
	return s.do(ctx, actor, reason, audit.IdentityUnlinked, accountID, []string{RoleSupport, RoleAdmin}, func(acct store.Account, e *audit.Event) error {
		e.Target = provider
		err := s.Store.DeleteIdentity(ctx, acct.ID, provider, subject)
		if errors.Is(err, store.ErrNotFound) {
			return problem.New(problem.NotFound, "", "admin.identity_gone", nil)
		}
		return err
	})
}

// ResendInvitation mails a new invitation to an account that has not
// chosen a password yet.
func (s *Support) ResendInvitation(ctx context.Context, actor audit.Actor, reason, accountID, lang string) (string, error) {
	var to string
	err := s.do(ctx, actor, reason, audit.InvitationResent, accountID, []string{RoleSupport, RoleAdmin}, func(acct store.Account, e *audit.Event) error {
		var err error
		to, err = s.Flows.ResendInvitation(ctx, acct.ID, lang)
		e.Target = to
		return err
	})
	return to, err
}

// GrantRole gives the account a role; admins only.
func (s *Support) GrantRole(ctx context.Context, actor audit.Actor, reason, accountID, role string) error {
	if !ValidRole(role) {
		return problem.New(problem.Invalid, "role", "admin.role_invalid", problem.Args{"roles": strings.Join(Roles(), ", ")})
	}
	return s.do(ctx, actor, reason, audit.RoleGranted, accountID, []string{RoleAdmin}, func(acct store.Account, e *audit.Event) error {
		e.Target = role
		return s.Store.GrantRole(ctx, acct.ID, role, s.now())
	})
}

// RevokeRole takes a role away; admins only. An admin cannot take their
// own admin role (someone must be left to manage roles).
func (s *Support) RevokeRole(ctx context.Context, actor audit.Actor, reason, accountID, role string) error {
	if !ValidRole(role) {
		return problem.New(problem.Invalid, "role", "admin.role_invalid", problem.Args{"roles": strings.Join(Roles(), ", ")})
	}
	return s.do(ctx, actor, reason, audit.RoleRevoked, accountID, []string{RoleAdmin}, func(acct store.Account, e *audit.Event) error {
		e.Target = role
		if role == RoleAdmin && actor.Kind == audit.BySupport && actor.ID == acct.ID {
			return problem.New(problem.Conflict, "", "admin.not_yourself", nil)
		}
		err := s.Store.RevokeRole(ctx, acct.ID, role)
		if errors.Is(err, store.ErrNotFound) {
			return problem.New(problem.NotFound, "role", "admin.role_not_held", nil)
		}
		return err
	})
}

// Events lists the audit log for the console and the admin API; support
// and admins may read it.
func (s *Support) Events(ctx context.Context, actor audit.Actor, f store.AuditFilter) ([]store.AuditEvent, string, error) {
	if err := s.allowed(ctx, actor, RoleSupport, RoleAdmin); err != nil {
		return nil, "", err
	}
	list, next, err := s.Store.ListAuditEvents(ctx, f)
	if errors.Is(err, store.ErrNotFound) {
		return nil, "", problem.New(problem.Invalid, "cursor", "admin.cursor_invalid", nil)
	}
	return list, next, err
}

// Resolve turns what an operator typed where an account is expected (an
// account ID, an email address, a username or a national identity
// number) into the account ID. Several accounts matching is a problem,
// not a guess.
func (s *Support) Resolve(ctx context.Context, ref string) (string, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return "", errNoAccount
	}
	if a, err := s.Store.GetAccount(ctx, ref); err == nil {
		return a.ID, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return "", err
	}
	matches, err := s.search(ctx, ref)
	if err != nil {
		if p, ok := problem.As(err); ok && p.Kind == problem.Invalid {
			return "", errNoAccount
		}
		return "", err
	}
	switch len(matches) {
	case 0:
		return "", errNoAccount
	case 1:
		return matches[0].AccountID, nil
	}
	return "", problem.New(problem.Conflict, "", "admin.ambiguous", problem.Args{"count": len(matches)})
}
