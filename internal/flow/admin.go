package flow

import (
	"cmp"
	"context"
	"errors"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/portvakt/portvakt/internal/account"
	"github.com/portvakt/portvakt/internal/audit"
	"github.com/portvakt/portvakt/internal/authn"
	"github.com/portvakt/portvakt/internal/authn/password"
	"github.com/portvakt/portvakt/internal/authn/sms"
	"github.com/portvakt/portvakt/internal/problem"
	"github.com/portvakt/portvakt/internal/secret"
	"github.com/portvakt/portvakt/internal/store"
)

// NewAccount is what an operator gives to create an account.
type NewAccount struct {
	// Username is optional; IDEP-style portals use numeric ones.
	Username string
	Name     string
	// Email is optional when Username is set; it becomes the verified
	// primary address (the operator vouches for it).
	Email string
	// Password is optional. Without one, and with an email, the account
	// holder is mailed a link to choose their own (an operator should not
	// know users' passwords).
	Password string
	// PasswordHash imports a password hashed elsewhere, instead of
	// Password: an argon2id or argon2i PHC string ($argon2id$v=19$…) or a
	// bcrypt hash ($2a$, $2b$, $2y$). It is upgraded to the current
	// parameters at the first sign-in.
	PasswordHash string
	// Phone, optional, is a mobile number for SMS codes, registered as
	// verified (the operator vouches for it, as portals with registered
	// numbers do).
	Phone string
	// Groups are the account's groups (letters, digits, . _ -).
	Groups []string
	// MFARequired makes the account set up a second factor at its next
	// sign-in, whatever the configured mode.
	MFARequired bool
	// Lang is the account's language preference, which outranks the
	// browser's and the service's default at every later visit; "" (the
	// usual case) is no preference. It is also the invitation's language.
	Lang string
	// InviteLang is the invitation mail's language when Lang is "" (the
	// service's default language).
	InviteLang string
}

var groupPattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`) })

// RequireMFA makes an account set up and use a second factor from its next
// sign-in on (an operator's "enrolment forced at next login").
func (s *Service) RequireMFA(ctx context.Context, accountID string, required bool) error {
	_, err := s.Store.UpdateAccount(ctx, accountID, func(a store.Account) (store.Account, error) {
		a.MFARequired = required
		a.UpdatedAt = s.now()
		return a, nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return problem.New(problem.NotFound, "", "account.not_found", nil)
	}
	return err
}

// InviteTTL is how long an invitation link works.
const InviteTTL = 7 * 24 * time.Hour

var usernamePattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`) })

// CreateAccount creates an account for an operator (the CLI and the admin
// API). Every mistake comes back at once.
func (s *Service) CreateAccount(ctx context.Context, in NewAccount) (store.Account, error) {
	p := &problem.Problem{Kind: problem.Invalid}
	username := strings.ToLower(strings.TrimSpace(in.Username))
	if username != "" && !usernamePattern().MatchString(username) {
		p.Add("username", "account.username_invalid", problem.Args{"max": 64})
	}
	var email string
	if strings.TrimSpace(in.Email) != "" {
		var err error
		if email, err = account.ParseEmail("email", in.Email); err != nil {
			pp, _ := problem.As(err)
			p.Details = append(p.Details, pp.Details...)
		}
	}
	if username == "" && strings.TrimSpace(in.Email) == "" {
		p.Add("username", "account.identifier_required", nil)
	}
	for _, g := range in.Groups {
		if !groupPattern().MatchString(g) {
			p.Add("groups", "account.group_invalid", problem.Args{"group": g})
		}
	}
	name := strings.TrimSpace(in.Name)
	if _, err := account.ParseName("name", name, 200); err != nil {
		// Control characters (CR, LF, …) would reach mail text.
		pp, _ := problem.As(err)
		p.Details = append(p.Details, pp.Details...)
	}
	if in.Password != "" {
		// The account is created with its phone as a confirmed SMS factor
		// (below), so the password is not its only factor.
		hasMFA := strings.TrimSpace(in.Phone) != "" && s.factorAsked(authn.SMS)
		if err := s.Policy.Check(in.Password, password.Context{Field: "password", Email: email, Username: username, Name: name, ServiceName: s.ServiceName, HasMFA: hasMFA}); err != nil {
			pp, ok := problem.As(err)
			if !ok {
				return store.Account{}, err
			}
			p.Details = append(p.Details, pp.Details...)
		}
	}
	if in.PasswordHash != "" {
		if in.Password != "" {
			p.Add("password_hash", "account.hash_and_password", nil)
		} else if err := s.Hasher.CheckImported(in.PasswordHash); errors.Is(err, password.ErrTooCostly) {
			p.Add("password_hash", "account.hash_too_costly", nil)
		} else if err != nil {
			p.Add("password_hash", "account.hash_invalid", nil)
		}
	}
	var phone string
	if strings.TrimSpace(in.Phone) != "" {
		var err error
		if phone, err = sms.ParsePhone(in.Phone, s.SMSLimits.withDefaults().DefaultRegion); err != nil {
			pp, ok := problem.As(err)
			if !ok {
				return store.Account{}, err
			}
			p.Details = append(p.Details, pp.Details...)
		}
	}
	if err := p.OrNil(); err != nil {
		return store.Account{}, err
	}
	now := s.now()
	acct := store.Account{ID: secret.ID(), Username: username, Name: name, Locale: in.Lang, Groups: in.Groups, MFARequired: in.MFARequired, CreatedAt: now, UpdatedAt: now}
	var emails []store.Email
	if email != "" {
		emails = []store.Email{{Address: email, AccountID: acct.ID, Primary: true, VerifiedAt: now, CreatedAt: now}}
	}
	var pw *store.Password
	if in.Password != "" {
		hash, err := s.Hasher.Hash(ctx, s.Policy.Prepare(in.Password))
		if err != nil {
			return store.Account{}, err
		}
		pw = &store.Password{AccountID: acct.ID, Hash: hash, ChangedAt: now}
	}
	if in.PasswordHash != "" {
		pw = &store.Password{AccountID: acct.ID, Hash: in.PasswordHash, ChangedAt: now}
	}
	if err := s.Store.Register(ctx, acct, emails, pw); errors.Is(err, store.ErrConflict) {
		return store.Account{}, problem.New(problem.Conflict, "username", "account.taken", problem.Args{"username": username, "email": email})
	} else if err != nil {
		return store.Account{}, err
	}
	if phone != "" {
		if err := s.Store.CreateFactor(ctx, store.Factor{ID: secret.ID(), AccountID: acct.ID, Kind: store.FactorSMS, Phone: phone, Name: MaskPhone(phone), ConfirmedAt: now, CreatedAt: now}); err != nil {
			return acct, err
		}
	}
	s.log().Info("account created", "account", acct.ID, "via", "operator")
	s.recordCreated(ctx, acct, audit.Operator(""), "operator")
	if pw == nil && email != "" {
		if err := s.invite(ctx, acct, email, cmp.Or(in.Lang, in.InviteLang)); err != nil {
			return acct, err
		}
	}
	return acct, nil
}

// invite mails a link with which the account holder sets a password.
func (s *Service) invite(ctx context.Context, acct store.Account, email, lang string) error {
	now := s.now()
	token := secret.Token()
	f := store.Flow{
		ID: secret.ID(), Kind: store.FlowRecovery, AccountID: acct.ID, Email: email,
		State: stateLinkSent, LinkHash: secret.Hash(token), Sends: 1, LastSentAt: now,
		Data: encodeData(flowData{Method: MethodLink}), CreatedAt: now, ExpiresAt: now.Add(InviteTTL),
	}
	if err := s.Store.CreateFlow(ctx, f); err != nil {
		return err
	}
	return s.Mailer.Send(ctx, email, lang, "invite", map[string]any{
		"name": acct.Name, "username": account.MaskNationalID(s.Config.NationalID, acct.Username), "link": s.link("/recover/link/" + url.PathEscape(token)), "days": int(InviteTTL.Hours() / 24),
	})
}
