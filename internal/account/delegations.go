package account

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/portvakt/portvakt/internal/problem"
	"github.com/portvakt/portvakt/internal/secret"
	"github.com/portvakt/portvakt/internal/store"
)

// Representation: a person (the agent) may act on behalf of another
// party (the principal).
//
//   - For another account: the agent asks, with the rights and an
//     optional end; the other account accepts (or declines) on its own
//     account page, signed in. Nothing is in force until then, and
//     whoever holds only the other person's mailbox accepts nothing: the
//     mail only points to the page.
//   - For a person without an account, such as a child: the agent (a
//     guardian) records the name and a national identity number or a
//     birth date. The number is checked (control digits), stored as a
//     keyed hash for lookup and sealed for the tokens of apps that ask,
//     and shown masked; it is never logged. Where the operator requires
//     approval (representation.require_approval) an operator approves it
//     (CLI or admin API) before it is in force.
//
// Either side may end it at any time: the agent ("remove"), the
// represented account ("revoke"). Every change is mailed to both sides
// that have an account, and logged (Audit).

// DelegationMailTemplate is the mail sent about representation changes
// (notify.TemplateRepresentation).
const DelegationMailTemplate = "representation"

// Delegation events, the body of the mail and the Audit kind's suffix.
const (
	EventRequested = "requested"
	EventAccepted  = "accepted"
	EventDeclined  = "declined"
	EventAdded     = "added"
	EventApproved  = "approved"
	EventRevoked   = "revoked"
)

// DelegationStore is the storage the representation service needs.
type DelegationStore interface {
	store.Delegations
	GetAccount(ctx context.Context, id string) (store.Account, error)
	GetAccountByUsername(ctx context.Context, username string) (store.Account, error)
	GetEmail(ctx context.Context, address string) (store.Email, error)
	ListEmails(ctx context.Context, accountID string) ([]store.Email, error)
	// AddFailure counts requests to other accounts (requestBudget).
	AddFailure(ctx context.Context, key string, now time.Time, window time.Duration) (int, error)
	// Organisations: a member acts for their organisation (orgDelegation).
	GetOrg(ctx context.Context, id string) (store.Organisation, error)
	GetOrgMember(ctx context.Context, orgID, accountID string) (store.OrgMember, error)
	ListMemberships(ctx context.Context, accountID string) ([]store.OrgMember, error)
}

// DelegationMailer sends a localized templated mail (notify.Mailer).
type DelegationMailer interface {
	Send(ctx context.Context, to, lang, template string, data map[string]any) error
}

// DelegationConfig is the operator's policy (config representation.*).
type DelegationConfig struct {
	// RequireApproval makes a delegation for a person without an account
	// wait for an operator's approval.
	RequireApproval bool
	// Rights are the rights an agent may ask for; none means a
	// delegation carries no named rights.
	Rights []string
	// MaxDuration caps how long a delegation may last; 0 means no cap
	// (and no end is required).
	MaxDuration time.Duration
	// NationalID is the kind of national identity number of persons
	// without an account (NationalIDNorway by default).
	NationalID string
	// OrgAdminRights are the rights an organisation's administrator
	// holds for it (every defined right); a member holds those of the
	// membership.
	OrgAdminRights []string
}

// MaxDelegations caps the standing delegations of one agent.
const MaxDelegations = 50

// Delegations runs representation. Store, Mailer, Sealer and Key are
// required; Key is the national-ID lookup key (the one federation uses).
type Delegations struct {
	Store     DelegationStore
	Mailer    DelegationMailer
	Sealer    *secret.Sealer
	Key       []byte
	Config    DelegationConfig
	PublicURL string
	Logger    *slog.Logger
	Now       func() time.Time
	// Audit, when set, records each change: kind is
	// "representation.<event>", actor the account that acted ("admin"
	// for an operator), subject the delegation's agent.
	Audit func(ctx context.Context, kind, actor, subject string, data map[string]string)
}

func (s *Delegations) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Delegations) log() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

// DelegationRequest is what an agent asks for.
type DelegationRequest struct {
	// Account is the other account's username or email address (kind
	// account).
	Account string
	// Name, NationalID and BirthDate describe a person without an
	// account: a name and either a national identity number or a birth
	// date (YYYY-MM-DD).
	Name, NationalID, BirthDate string
	Rights                      []string
	// Expires is the last day in force (YYYY-MM-DD, inclusive), or "".
	Expires string
	// Lang is the language of the mails to a new principal account
	// without a preference.
	Lang string
}

// checkRights refuses a right the operator does not allow, naming it.
func (s *Delegations) checkRights(rights []string) ([]string, error) {
	if len(rights) > 20 {
		return nil, problem.New(problem.Invalid, "rights", "represent.rights_too_many", problem.Args{"count": 20})
	}
	var out []string
	for _, r := range rights {
		r = strings.TrimSpace(r)
		if r == "" || slices.Contains(out, r) {
			continue
		}
		if !slices.Contains(s.Config.Rights, r) {
			return nil, problem.New(problem.Invalid, "rights", "represent.right_unknown", problem.Args{"right": bounded(r, 64)})
		}
		out = append(out, r)
	}
	slices.Sort(out)
	return out, nil
}

func bounded(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// parseExpiry reads the last day in force; a delegation ends at the
// start of the next day (UTC).
func (s *Delegations) parseExpiry(in string) (time.Time, error) {
	now := s.now()
	in = strings.TrimSpace(in)
	if in == "" {
		if s.Config.MaxDuration > 0 {
			return now.Add(s.Config.MaxDuration), nil
		}
		return time.Time{}, nil
	}
	d, err := time.Parse("2006-01-02", in)
	if err != nil {
		return time.Time{}, problem.New(problem.Invalid, "expires", "represent.expires_invalid", nil)
	}
	end := d.AddDate(0, 0, 1)
	if !end.After(now) {
		return time.Time{}, problem.New(problem.Invalid, "expires", "represent.expires_past", nil)
	}
	if s.Config.MaxDuration > 0 && end.After(now.Add(s.Config.MaxDuration)) {
		return time.Time{}, problem.New(problem.Invalid, "expires", "represent.expires_too_late",
			problem.Args{"days": int(s.Config.MaxDuration / (24 * time.Hour))})
	}
	return end, nil
}

func (s *Delegations) standing(ctx context.Context, agentID string) error {
	list, err := s.Store.ListDelegations(ctx, store.DelegationFilter{AgentID: agentID, Limit: MaxDelegations + 1})
	if err != nil {
		return err
	}
	if len(list) >= MaxDelegations {
		return problem.New(problem.Invalid, "", "represent.too_many", problem.Args{"count": MaxDelegations})
	}
	return nil
}

// MaxRequestsPerDay caps the requests to other accounts one agent makes
// (until a day passes without one), whether or not the address has an
// account: each mails someone, and the agent's list shows the requests
// made, so without a cap a signed-in user could probe addresses without
// end.
const MaxRequestsPerDay = 10

func (s *Delegations) requestBudget(ctx context.Context, agentID string) error {
	// Every request counts, for an address with an account or without:
	// the budget is the same either way, so it says nothing either.
	n, err := s.Store.AddFailure(ctx, "represent-request:"+agentID, s.now(), 24*time.Hour)
	if err != nil {
		return err
	}
	if n > MaxRequestsPerDay {
		return problem.New(problem.TooManyAttempts, "account", "represent.too_many_requests", problem.Args{"count": MaxRequestsPerDay})
	}
	return nil
}

// RequestAccount asks the account named by req.Account to let agent act
// for it. The answer is the same whether or not such an account exists
// (the delegation is nil then), so the form cannot be used to find out
// who has an account; the pending request shows on the agent's page only
// when it was made.
func (s *Delegations) RequestAccount(ctx context.Context, agent store.Account, req DelegationRequest) (*store.Delegation, error) {
	ident := strings.TrimSpace(req.Account)
	if ident == "" {
		return nil, problem.New(problem.Invalid, "account", "represent.account_required", nil)
	}
	if len(ident) > 254 {
		return nil, problem.New(problem.Invalid, "account", "represent.account_invalid", nil)
	}
	rights, err := s.checkRights(req.Rights)
	if err != nil {
		return nil, err
	}
	expires, err := s.parseExpiry(req.Expires)
	if err != nil {
		return nil, err
	}
	if err := s.standing(ctx, agent.ID); err != nil {
		return nil, err
	}
	if err := s.requestBudget(ctx, agent.ID); err != nil {
		return nil, err
	}
	var principal store.Account
	if strings.Contains(ident, "@") {
		addr, err := ParseEmail("account", ident)
		if err != nil {
			return nil, err
		}
		e, err := s.Store.GetEmail(ctx, addr)
		if errors.Is(err, store.ErrNotFound) || err == nil && e.VerifiedAt.IsZero() {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		principal, err = s.Store.GetAccount(ctx, e.AccountID)
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
	} else {
		principal, err = s.Store.GetAccountByUsername(ctx, strings.ToLower(ident))
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
	}
	if principal.ID == agent.ID {
		return nil, problem.New(problem.Invalid, "account", "represent.self", nil)
	}
	if principal.Disabled {
		return nil, nil
	}
	now := s.now()
	d := store.Delegation{
		ID: secret.ID(), AgentID: agent.ID, PrincipalKind: store.PrincipalAccount, PrincipalRef: "acct:" + principal.ID,
		// Until the other person accepts, the agent sees only what they
		// typed, not the account's name.
		PrincipalAccountID: principal.ID, PrincipalName: ident, Rights: rights, CreatedBy: agent.ID,
		CreatedAt: now, ExpiresAt: expires,
	}
	if err := s.Store.CreateDelegation(ctx, d); errors.Is(err, store.ErrConflict) {
		return nil, problem.New(problem.Conflict, "account", "represent.exists", nil)
	} else if err != nil {
		return nil, err
	}
	s.changed(ctx, EventRequested, agent.ID, d, req.Lang)
	return &d, nil
}

// AddPerson records that agent represents a person without an account.
func (s *Delegations) AddPerson(ctx context.Context, agent store.Account, req DelegationRequest) (store.Delegation, error) {
	var errs []error
	name, err := ParseName("name", req.Name, 200)
	if err == nil && name == "" {
		err = problem.New(problem.Invalid, "name", "represent.name_required", nil)
	}
	errs = append(errs, err)
	kind := s.Config.NationalID
	if kind == "" {
		kind = NationalIDNorway
	}
	var nid, dob string
	switch {
	case strings.TrimSpace(req.NationalID) != "":
		nid, err = ParseNationalID("national_id", kind, req.NationalID)
		errs = append(errs, err)
	case strings.TrimSpace(req.BirthDate) != "":
		t, err := time.Parse("2006-01-02", strings.TrimSpace(req.BirthDate))
		if err != nil || t.After(s.now()) || t.Year() < 1900 {
			errs = append(errs, problem.New(problem.Invalid, "birth_date", "represent.birth_date_invalid", nil))
		} else {
			dob = t.Format("2006-01-02")
		}
	default:
		errs = append(errs, problem.New(problem.Invalid, "national_id", "represent.person_id_required", nil))
	}
	rights, err := s.checkRights(req.Rights)
	errs = append(errs, err)
	expires, err := s.parseExpiry(req.Expires)
	errs = append(errs, err)
	if err := joinProblems(errs); err != nil {
		return store.Delegation{}, err
	}
	if err := s.standing(ctx, agent.ID); err != nil {
		return store.Delegation{}, err
	}
	now := s.now()
	d := store.Delegation{
		ID: secret.ID(), AgentID: agent.ID, PrincipalKind: store.PrincipalPerson, PrincipalName: name,
		Rights: rights, CreatedBy: agent.ID, CreatedAt: now, ExpiresAt: expires, AcceptedAt: now,
		ApprovalRequired: s.Config.RequireApproval,
	}
	if nid != "" {
		d.PrincipalRef = s.PersonRef(nid)
		d.PrincipalMasked = MaskNationalID(kind, nid)
		d.PrincipalSealed = s.Sealer.Seal([]byte(nid), []byte("delegation-principal:"+d.ID))
	} else {
		d.PrincipalRef = "dob:" + s.keyed("person-dob", strings.ToLower(name)+"\x00"+dob)
		d.PrincipalMasked = dob
	}
	if err := s.Store.CreateDelegation(ctx, d); errors.Is(err, store.ErrConflict) {
		return store.Delegation{}, problem.New(problem.Conflict, "national_id", "represent.exists", nil)
	} else if err != nil {
		return store.Delegation{}, err
	}
	s.changed(ctx, EventAdded, agent.ID, d, "")
	return d, nil
}

// PersonRef is the principal reference of a person with the national
// identity number nid: a keyed hash, so the number is not stored in
// clear and the same person is the same principal for every agent.
func (s *Delegations) PersonRef(nid string) string { return "nid:" + s.keyed("person-nid", nid) }

func (s *Delegations) keyed(purpose, v string) string {
	m := hmac.New(sha256.New, s.Key)
	m.Write([]byte("representation\x00" + purpose + "\x00" + v))
	return hex.EncodeToString(m.Sum(nil))
}

// NationalID opens the national identity number of a person principal;
// "" for other kinds or when it cannot be opened.
func (s *Delegations) NationalID(d store.Delegation) string {
	if len(d.PrincipalSealed) == 0 || s.Sealer == nil {
		return ""
	}
	b, err := s.Sealer.Open(d.PrincipalSealed, []byte("delegation-principal:"+d.ID))
	if err != nil {
		s.log().Error("representation: a sealed national identity number does not open", "delegation", d.ID)
		return ""
	}
	return string(b)
}

var errDelegationGone = problem.New(problem.NotFound, "", "represent.gone", nil)

// Accept is the principal account's yes to a request. Only the account
// the request is addressed to, signed in, can accept it.
func (s *Delegations) Accept(ctx context.Context, principal store.Account, id string) (store.Delegation, error) {
	return s.answer(ctx, principal, id, true)
}

// Decline is the principal account's no: the request is ended.
func (s *Delegations) Decline(ctx context.Context, principal store.Account, id string) (store.Delegation, error) {
	return s.answer(ctx, principal, id, false)
}

func (s *Delegations) answer(ctx context.Context, principal store.Account, id string, yes bool) (store.Delegation, error) {
	now := s.now()
	d, err := s.Store.UpdateDelegation(ctx, id, func(d store.Delegation) (store.Delegation, error) {
		if d.PrincipalKind != store.PrincipalAccount || d.PrincipalAccountID != principal.ID || !d.RevokedAt.IsZero() {
			return d, errDelegationGone
		}
		if !d.AcceptedAt.IsZero() {
			return d, problem.New(problem.Conflict, "", "represent.already_accepted", nil)
		}
		if !d.ExpiresAt.IsZero() && !now.Before(d.ExpiresAt) {
			return d, problem.New(problem.Invalid, "", "represent.expired", nil)
		}
		d.AcceptHash = nil
		if yes {
			d.AcceptedAt = now
			if principal.Name != "" {
				d.PrincipalName = principal.Name
			}
		} else {
			d.RevokedAt, d.RevokedBy = now, principal.ID
		}
		return d, nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return store.Delegation{}, errDelegationGone
	}
	if err != nil {
		return store.Delegation{}, err
	}
	ev := EventAccepted
	if !yes {
		ev = EventDeclined
	}
	s.changed(ctx, ev, principal.ID, d, "")
	return d, nil
}

// Revoke ends a delegation. The agent (removing someone they represent)
// and the represented account may; anyone else finds nothing.
func (s *Delegations) Revoke(ctx context.Context, who store.Account, id string) (store.Delegation, error) {
	return s.revoke(ctx, who.ID, id, func(d store.Delegation) bool {
		return d.AgentID == who.ID || d.PrincipalAccountID != "" && d.PrincipalAccountID == who.ID
	})
}

// RevokeAsOperator ends any delegation (CLI, admin API).
func (s *Delegations) RevokeAsOperator(ctx context.Context, id string) (store.Delegation, error) {
	return s.revoke(ctx, "admin", id, func(store.Delegation) bool { return true })
}

func (s *Delegations) revoke(ctx context.Context, by, id string, may func(store.Delegation) bool) (store.Delegation, error) {
	now := s.now()
	d, err := s.Store.UpdateDelegation(ctx, id, func(d store.Delegation) (store.Delegation, error) {
		if !may(d) || !d.RevokedAt.IsZero() {
			return d, errDelegationGone
		}
		d.RevokedAt, d.RevokedBy, d.AcceptHash = now, by, nil
		return d, nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return store.Delegation{}, errDelegationGone
	}
	if err != nil {
		return store.Delegation{}, err
	}
	s.changed(ctx, EventRevoked, by, d, "")
	return d, nil
}

// Approve is an operator's approval of a delegation that needs one.
func (s *Delegations) Approve(ctx context.Context, id, by string) (store.Delegation, error) {
	if by == "" {
		by = "admin"
	}
	now := s.now()
	d, err := s.Store.UpdateDelegation(ctx, id, func(d store.Delegation) (store.Delegation, error) {
		if !d.RevokedAt.IsZero() {
			return d, errDelegationGone
		}
		if !d.ApprovalRequired || !d.ApprovedAt.IsZero() {
			return d, problem.New(problem.Conflict, "", "represent.no_approval_pending", nil)
		}
		d.ApprovedAt, d.ApprovedBy = now, by
		return d, nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return store.Delegation{}, errDelegationGone
	}
	if err != nil {
		return store.Delegation{}, err
	}
	s.changed(ctx, EventApproved, by, d, "")
	return d, nil
}
