package flow

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/portvakt/portvakt/internal/audit"
	"github.com/portvakt/portvakt/internal/problem"
	"github.com/portvakt/portvakt/internal/secret"
	"github.com/portvakt/portvakt/internal/store"
	"github.com/portvakt/portvakt/internal/throttle"
)

// ---- signing a person in through a system ----

// SystemCredentials are how the software authenticates as the system:
// its ID and secret (HTTP Basic), or a client assertion (RFC 7523).
type SystemCredentials struct {
	ID, Secret string
	Assertion  string
}

// systemRule throttles wrong credentials of one system ID.
func (s *Service) systemRule() throttle.Rule {
	r := s.identifierRule()
	r.Name = "system"
	return r
}

// peopleRule throttles the wrong person passwords sent through one
// system: a valid system credential is no unthrottled password oracle.
func (s *Service) peopleRule() throttle.Rule {
	r := s.identifierRule()
	r.Name, r.Limit = "system_people", 2*r.Limit
	return r
}

var assertionAlgs = []jose.SignatureAlgorithm{jose.ES256, jose.ES384, jose.RS256, jose.PS256, jose.EdDSA}

// AuthenticateSystem checks the software's credentials, throttled per
// system ID and per client address, and returns the live system. Every
// wrong credential, unknown ID included, is system.credentials_invalid.
func (x *Systems) AuthenticateSystem(ctx context.Context, c Client, cred SystemCredentials) (store.System, error) {
	s := x.S
	var claims jwt.Claims
	var tok *jwt.JSONWebToken
	if cred.Assertion != "" {
		var err error
		if len(cred.Assertion) > 8192 {
			return store.System{}, errSystemCredentials
		}
		if tok, err = jwt.ParseSigned(cred.Assertion, assertionAlgs); err != nil {
			return store.System{}, errSystemCredentials
		}
		if err := tok.UnsafeClaimsWithoutVerification(&claims); err != nil || claims.Subject == "" || claims.Issuer != claims.Subject ||
			(cred.ID != "" && cred.ID != claims.Subject) {
			return store.System{}, errSystemCredentials
		}
		cred.ID = claims.Subject
	}
	if cred.ID == "" || len(cred.ID) > 64 || (cred.Secret == "" && tok == nil) || len(cred.Secret) > 256 {
		return store.System{}, errSystemCredentials
	}
	th := s.throttle()
	keys := append([]throttle.Key{{Rule: s.systemRule(), ID: cred.ID}}, s.sourceKeys(c)...)
	if d, err := th.Check(ctx, keys...); err != nil {
		return store.System{}, err
	} else if !d.Allowed() {
		return store.System{}, s.throttled("", d)
	}
	sys, err := x.Store.GetSystem(ctx, cred.ID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return store.System{}, err
	}
	ok := false
	switch {
	case err != nil:
		secret.Equal(secret.Hash(cred.Secret), make([]byte, sha256.Size)) // the same work as a known ID
	case tok != nil:
		ok, err = x.verifyAssertion(ctx, sys, tok)
		if err != nil {
			return store.System{}, err
		}
	default:
		ok = sys.SecretHash != nil && secret.Equal(sys.SecretHash, secret.Hash(cred.Secret))
	}
	if !ok {
		if _, err := th.Failed(ctx, keys...); err != nil {
			return store.System{}, err
		}
		x.record(ctx, audit.Event{Kind: audit.LoginFailed, Outcome: audit.Denied, Target: "system:" + bound(cred.ID),
			Data: map[string]string{"step": "system"}})
		return store.System{}, errSystemCredentials
	}
	if err := th.Reset(ctx, keys[0]); err != nil {
		return store.System{}, err
	}
	if !sys.Live(s.now()) {
		return store.System{}, problem.New(problem.Forbidden, "", "system.inactive", nil)
	}
	return sys, nil
}

func bound(id string) string {
	if len(id) > 64 {
		return id[:64]
	}
	return id
}

// verifyAssertion checks an RFC 7523 client assertion: signed by the
// system's key, iss = sub = the system ID, aud one of the endpoints, not
// expired, at most 10 minutes long, and its jti never seen before.
func (x *Systems) verifyAssertion(ctx context.Context, sys store.System, tok *jwt.JSONWebToken) (bool, error) {
	if sys.PublicKey == "" {
		return false, nil
	}
	var k jose.JSONWebKey
	if err := k.UnmarshalJSON([]byte(sys.PublicKey)); err != nil {
		return false, nil
	}
	var claims jwt.Claims
	if err := tok.Claims(k.Key, &claims); err != nil {
		return false, nil
	}
	now := x.S.now()
	if claims.Expiry == nil || claims.ID == "" || len(claims.ID) > 256 {
		return false, nil
	}
	exp := claims.Expiry.Time()
	if exp.Sub(now) > 10*time.Minute {
		return false, nil
	}
	if claims.ValidateWithLeeway(jwt.Expected{Issuer: sys.ID, Subject: sys.ID, Time: now}, 30*time.Second) != nil {
		return false, nil
	}
	audOK := false
	for _, a := range x.Config.AssertionAudiences {
		if claims.Audience.Contains(a) {
			audOK = true
		}
	}
	if !audOK {
		return false, nil
	}
	// A jti is used once: the counter of (system, jti) lives until the
	// assertion would have expired anyway.
	n, err := x.S.Store.AddFailure(ctx, "jti:"+sys.ID+":"+claims.ID, now, exp.Sub(now)+time.Minute)
	if err != nil {
		return false, err
	}
	return n == 1, nil
}

// SystemLoginStarted is a started sign-in through a system: the handle
// the code step sends back, and where the code went.
type SystemLoginStarted struct {
	Handle    string
	Phone     string // masked
	ExpiresAt time.Time
}

// handleFlowID is the flow ID of a handle; the handle itself is never
// stored.
func handleFlowID(handle string) string {
	sum := sha256.Sum256([]byte("portvakt-system-login\x00" + handle))
	return "sl-" + base64.RawURLEncoding.EncodeToString(sum[:18])
}

// StartSystemLogin checks the person's username (or national ID) and
// password through the authenticated system sys. Only when the password
// is right, the person allows sign-in through systems, may be signed in
// through this system and has a verified phone, an SMS code goes to the
// phone. A wrong username or password sends nothing and is
// person.credentials_invalid, whether or not the person exists (the same
// hash is computed either way); it counts on the person's, the client's
// and the system's counters.
func (x *Systems) StartSystemLogin(ctx context.Context, c Client, sys store.System, username, pw string) (SystemLoginStarted, error) {
	s := x.S
	username = strings.ToLower(strings.TrimSpace(username))
	p := &problem.Problem{Kind: problem.Invalid}
	if username == "" {
		p.Add("username", "login.username_required", nil)
	}
	if pw == "" {
		p.Add("password", "login.password_required", nil)
	}
	if err := p.OrNil(); err != nil {
		return SystemLoginStarted{}, err
	}
	if len(username) > 256 {
		return SystemLoginStarted{}, errPersonCredentials
	}
	th := s.throttle()
	people := throttle.Key{Rule: s.peopleRule(), ID: sys.ID}
	if d, err := th.Check(ctx, people); err != nil {
		return SystemLoginStarted{}, err
	} else if !d.Allowed() {
		return SystemLoginStarted{}, s.throttled("password", d)
	}
	var acct store.Account
	name, perr := s.parseUsername(username)
	if perr != nil {
		// Not a national ID at all: as wrong as a wrong password, after
		// the same work, and counted alike.
		name = username
	}
	acct, err := s.checkPassword(ctx, c, "user:"+name, pw, func(lc store.LoginCounters) (store.Account, store.Password, map[string]store.CounterState, error) {
		if perr != nil {
			return store.Account{}, store.Password{}, nil, store.ErrNotFound
		}
		return s.Store.GetLoginCountingByUsername(ctx, name, lc)
	})
	if pr, ok := problem.As(err); ok && len(pr.Details) > 0 && pr.Details[0].Key == "login.wrong_credentials" {
		if _, ferr := th.Failed(ctx, people); ferr != nil {
			return SystemLoginStarted{}, ferr
		}
		x.record(ctx, audit.Event{Kind: audit.LoginFailed, Outcome: audit.Denied, Subject: acct.ID,
			Data: map[string]string{"via": "system", "system": sys.ID, "step": "password"}})
		return SystemLoginStarted{}, errPersonCredentials
	}
	if err != nil {
		return SystemLoginStarted{}, err
	}
	if err := x.mayUse(ctx, sys, acct.ID); err != nil {
		x.record(ctx, audit.Event{Kind: audit.LoginFailed, Outcome: audit.Denied, Subject: acct.ID,
			Data: map[string]string{"via": "system", "system": sys.ID, "step": "allowed"}})
		return SystemLoginStarted{}, err
	}
	phone, err := x.verifiedPhone(ctx, acct.ID)
	if err != nil {
		return SystemLoginStarted{}, err
	}
	handle := secret.Token()
	now := s.now()
	f := store.Flow{
		ID: handleFlowID(handle), Kind: FlowSystemLogin, AccountID: acct.ID, State: sys.ID,
		Data: encodeData(flowData{RequestIP: c.IP, RequestUA: c.UserAgent}), CreatedAt: now, ExpiresAt: now.Add(x.cfg().HandleTTL),
	}
	if err := s.Store.CreateFlow(ctx, f); err != nil {
		return SystemLoginStarted{}, err
	}
	if err := s.textCode(ctx, c, acct, f.ID, FlowSystemLogin, phone); err != nil {
		s.Store.DeleteFlow(ctx, f.ID)
		return SystemLoginStarted{}, err
	}
	return SystemLoginStarted{Handle: handle, Phone: MaskPhone(phone), ExpiresAt: f.ExpiresAt}, nil
}

// MayStillUse is mayUse for a refresh through the system: the account
// must still exist and not be locked, and mayUse hold.
func (x *Systems) MayStillUse(ctx context.Context, systemID, accountID string) error {
	sys, err := x.Store.GetSystem(ctx, systemID)
	if errors.Is(err, store.ErrNotFound) {
		return errPersonCredentials
	}
	if err != nil {
		return err
	}
	acct, err := x.S.Store.GetAccount(ctx, accountID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && acct.Disabled) {
		return errPersonCredentials
	}
	if err != nil {
		return err
	}
	return x.mayUse(ctx, sys, acct.ID)
}

// mayUse checks that the person allows sign-in through systems and may
// be signed in through sys: it is their own system, or their
// organisation's and they are a member; and that they hold at least one
// of its rights.
func (x *Systems) mayUse(ctx context.Context, sys store.System, accountID string) error {
	allowed, _, err := x.Store.SystemLoginAllowed(ctx, accountID)
	if err != nil {
		return err
	}
	if !allowed {
		return errPersonNotAllowed
	}
	if sys.OrgID == "" && sys.OwnerAccount != accountID {
		return problem.New(problem.Forbidden, "", "system.not_yours", nil)
	}
	rights, err := x.grantable(ctx, sys, accountID)
	if err != nil {
		return err
	}
	if len(rights) == 0 {
		if sys.OrgID != "" {
			if _, err := x.Store.GetOrgMember(ctx, sys.OrgID, accountID); errors.Is(err, store.ErrNotFound) {
				return problem.New(problem.Forbidden, "", "system.not_yours", nil)
			}
		}
		return problem.New(problem.Forbidden, "", "rights.missing", problem.Args{"right": strings.Join(sys.Rights, ", "), "operation": problem.Ref("systems.op_login")})
	}
	return nil
}

// grantable is what a token through sys for the person carries: the
// system's rights the person holds (for themselves, or for the system's
// organisation).
func (x *Systems) grantable(ctx context.Context, sys store.System, accountID string) ([]string, error) {
	held, err := x.RightsOf(ctx, accountID, sys.OrgID)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, r := range sys.Rights {
		if slices.Contains(held, r) {
			out = append(out, r)
		}
	}
	return out, nil
}

// verifiedPhone returns the person's first confirmed SMS number.
func (x *Systems) verifiedPhone(ctx context.Context, accountID string) (string, error) {
	fs, err := x.S.Store.ListFactors(ctx, accountID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return "", err
	}
	for _, f := range fs {
		if f.Kind == store.FactorSMS && !f.ConfirmedAt.IsZero() && f.Phone != "" {
			return f.Phone, nil
		}
	}
	return "", errPersonNoPhone
}

// codeExpired is the answer to a handle that is unknown, expired or used:
// the software starts again.
func (x *Systems) codeExpired() error {
	return problem.New(problem.Expired, "code", "code.expired", problem.Args{"count": int(min(x.S.mfa().SMSTTL, x.cfg().HandleTTL).Minutes())})
}

// SystemLogin is a finished sign-in through a system: what the token
// says.
type SystemLogin struct {
	AccountID string
	System    store.System
	Rights    []string
	AMR       []string
	AuthTime  time.Time
}

// FinishSystemLogin checks the code sent for handle, through the same
// system that started it. Of parallel calls with the right code exactly
// one succeeds (the flow is consumed in the update that checks the
// code). The person's choice and rights are read again: a switch turned
// off meanwhile stops it.
func (x *Systems) FinishSystemLogin(ctx context.Context, c Client, sys store.System, handle, code string) (SystemLogin, error) {
	s := x.S
	if handle == "" || len(handle) > 128 {
		return SystemLogin{}, x.codeExpired()
	}
	id := handleFlowID(handle)
	f, err := s.Store.GetFlow(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (f.Kind != FlowSystemLogin || f.State != sys.ID)) {
		return SystemLogin{}, x.codeExpired()
	}
	if err != nil {
		return SystemLogin{}, err
	}
	now := s.now()
	_, err = s.checkCode(ctx, c, id, FlowSystemLogin, "code", code, min(s.mfa().SMSTTL, x.cfg().HandleTTL), func(f *store.Flow) { f.ConsumedAt = now })
	if pr, ok := problem.As(err); ok && len(pr.Details) > 0 {
		switch pr.Details[0].Key {
		case "code.wrong":
			return SystemLogin{}, problem.New(problem.Invalid, "code", "code.invalid", pr.Details[0].Args)
		case "flow.gone", "code.expired":
			return SystemLogin{}, x.codeExpired()
		}
	}
	if err != nil {
		return SystemLogin{}, err
	}
	acct, err := s.Store.GetAccount(ctx, f.AccountID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && acct.Disabled) {
		return SystemLogin{}, errPersonCredentials
	}
	if err != nil {
		return SystemLogin{}, err
	}
	if err := x.mayUse(ctx, sys, acct.ID); err != nil {
		return SystemLogin{}, err
	}
	rights, err := x.grantable(ctx, sys, acct.ID)
	if err != nil {
		return SystemLogin{}, err
	}
	x.record(ctx, audit.Event{Kind: audit.LoginSucceeded, Actor: audit.Account(acct.ID), Subject: acct.ID,
		Data: map[string]string{"via": "system", "system": sys.ID, "rights": strings.Join(rights, " ")}})
	s.log().Info("signed in through a system", "account", acct.ID, "system", sys.ID)
	return SystemLogin{AccountID: acct.ID, System: sys, Rights: rights, AMR: []string{"pwd", "sms", "mfa"}, AuthTime: now}, nil
}
