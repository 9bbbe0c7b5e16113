package flow

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/portvakt/portvakt/internal/audit"
	"github.com/portvakt/portvakt/internal/problem"
	"github.com/portvakt/portvakt/internal/secret"
	"github.com/portvakt/portvakt/internal/store"
)

// End-user systems (issue 14, docs/systems.md): software a person
// registers under "Systems" on the account page, and the sign-in of a
// person through one: the system's credentials, then the person's
// username (or national ID) and password, then an SMS code to the
// person's verified phone. Only a person who turned on "allow sign-in
// from applications with username and password" can be signed in so.

// RightDef is a named right of the deployment.
type RightDef struct {
	Name        string
	Description string
}

// SystemsConfig configures Systems. Zero durations and counts take the
// defaults documented on each.
type SystemsConfig struct {
	// Rights are the deployment's rights; Personal the names every
	// person holds for themselves.
	Rights   []RightDef
	Personal []string
	// HandleTTL is how long a started sign-in (and its code) works;
	// default 5 minutes.
	HandleTTL time.Duration
	// MaxPerAccount caps a person's (or organisation's) live systems;
	// default 20.
	MaxPerAccount int
	// MaxLifetime, when set, is the longest expiry a system may have
	// (and a system must have one).
	MaxLifetime time.Duration
	// AssertionAudiences are the aud values a client assertion may
	// carry (the login endpoints' URLs, the issuer).
	AssertionAudiences []string
}

// SystemStore is the storage Systems needs besides the flows'.
type SystemStore interface {
	store.Systems
	store.Organisations
	store.AccountRights
}

// Systems manages end-user systems and signs people in through them. S
// is the flow service whose throttle, SMS sender, mailer and password
// check it uses.
type Systems struct {
	S      *Service
	Store  SystemStore
	Config SystemsConfig
	// Audit records every change and sign-in; nil records nothing.
	Audit *audit.Recorder
}

// Kinds and problems of this file.
const (
	// FlowSystemLogin is the kind of a started sign-in through a system;
	// its State is the system's ID.
	FlowSystemLogin = "system_login"
	// systemIDPrefix starts every system ID, so an ID is recognizable in
	// a token's client_id (op) and never mistaken for an app's.
	systemIDPrefix = "sys-"
	maxSystemName  = 80
	maxPublicKey   = 8 << 10
)

var (
	errSystemCredentials = problem.New(problem.Unauthorized, "", "system.credentials_invalid", nil)
	errPersonCredentials = problem.New(problem.Unauthorized, "password", "person.credentials_invalid", nil)
	errPersonNotAllowed  = problem.New(problem.Forbidden, "", "person.not_allowed", nil)
	errPersonNoPhone     = problem.New(problem.Forbidden, "", "person.no_phone", nil)
	errSystemNotFound    = problem.New(problem.NotFound, "", "system.not_found", nil)
)

// IsSystemID reports whether id has the form of a system ID.
func IsSystemID(id string) bool { return strings.HasPrefix(id, systemIDPrefix) }

func (x *Systems) cfg() SystemsConfig {
	c := x.Config
	if c.HandleTTL <= 0 {
		c.HandleTTL = 5 * time.Minute
	}
	if c.MaxPerAccount <= 0 {
		c.MaxPerAccount = 20
	}
	return c
}

func (x *Systems) defined(name string) bool {
	return slices.ContainsFunc(x.Config.Rights, func(d RightDef) bool { return d.Name == name })
}

// RightsOf returns the rights the account holds for itself (orgID empty)
// or for the organisation: sorted, defined ones only. A person who is not
// a member of the organisation holds none for it.
func (x *Systems) RightsOf(ctx context.Context, accountID, orgID string) ([]string, error) {
	var out []string
	if orgID == "" {
		own, err := x.Store.GetAccountRights(ctx, accountID)
		if err != nil {
			return nil, err
		}
		out = append(slices.Clone(x.Config.Personal), own...)
	} else {
		m, err := x.Store.GetOrgMember(ctx, orgID, accountID)
		if errors.Is(err, store.ErrNotFound) {
			return []string{}, nil
		}
		if err != nil {
			return nil, err
		}
		if m.Role == store.RoleAdmin {
			for _, d := range x.Config.Rights {
				out = append(out, d.Name)
			}
		} else {
			out = m.Rights
		}
	}
	out = slices.DeleteFunc(slices.Clone(out), func(r string) bool { return !x.defined(r) })
	slices.Sort(out)
	return slices.Compact(out), nil
}

// IsDefined reports whether name is one of the deployment's rights.
func (x *Systems) IsDefined(name string) bool { return x.defined(name) }

// Describe returns the description of a right, or its name.
func (x *Systems) Describe(name string) string {
	for _, d := range x.Config.Rights {
		if d.Name == name {
			return d.Description
		}
	}
	return name
}

// ---- the account page's section ----

// SystemsOverview is what the Systems section shows.
type SystemsOverview struct {
	// Allowed is the "allow sign-in from applications" switch.
	Allowed bool
	// Own are the person's systems; Orgs the organisations they
	// administer, each with its systems.
	Own  []store.System
	Orgs []OrgSystems
	// Rights are the rights the person holds for themselves.
	Rights []string
}

// OrgSystems is an organisation the person administers, with its systems
// and the rights it can give them.
type OrgSystems struct {
	Org     store.Organisation
	Systems []store.System
	Rights  []string
}

// Overview lists the person's systems and those of the organisations
// they administer.
func (x *Systems) Overview(ctx context.Context, accountID string) (SystemsOverview, error) {
	var o SystemsOverview
	var err error
	if o.Allowed, _, err = x.Store.SystemLoginAllowed(ctx, accountID); err != nil {
		return o, err
	}
	if o.Own, err = x.Store.ListSystems(ctx, accountID, ""); err != nil {
		return o, err
	}
	if o.Rights, err = x.RightsOf(ctx, accountID, ""); err != nil {
		return o, err
	}
	ms, err := x.Store.ListMemberships(ctx, accountID)
	if err != nil {
		return o, err
	}
	for _, m := range ms {
		if m.Role != store.RoleAdmin {
			continue
		}
		org, err := x.Store.GetOrg(ctx, m.OrgID)
		if err != nil {
			return o, err
		}
		sys, err := x.Store.ListSystems(ctx, "", m.OrgID)
		if err != nil {
			return o, err
		}
		rights, err := x.RightsOf(ctx, accountID, m.OrgID)
		if err != nil {
			return o, err
		}
		o.Orgs = append(o.Orgs, OrgSystems{Org: org, Systems: sys, Rights: rights})
	}
	return o, nil
}

// NewSystem is what a person fills in to create a system.
type NewSystem struct {
	Name string
	// Rights it may use: a non-empty subset of the owner's.
	Rights []string
	// OrgID, when set, creates the system for an organisation the person
	// administers.
	OrgID string
	// ExpiresAt is zero for no expiry.
	ExpiresAt time.Time
	// PublicKey, when set, is a public JWK (JSON) or a PEM public key for
	// private_key_jwt; the system then has no secret.
	PublicKey string
}

// CreateSystem creates a system and returns it with its secret, which is
// shown once (empty for a system with a key). It needs a recent sign-in
// at full level, and is mailed and logged.
func (x *Systems) CreateSystem(ctx context.Context, c Client, who Who, in NewSystem) (store.System, string, error) {
	s := x.S
	if err := s.requireFresh(ctx, who); err != nil {
		return store.System{}, "", err
	}
	cfg := x.cfg()
	now := s.now()
	p := &problem.Problem{Kind: problem.Invalid}
	name := strings.TrimSpace(in.Name)
	switch {
	case name == "":
		p.Add("name", "systems.name_required", nil)
	case utf8.RuneCountInString(name) > maxSystemName || strings.ContainsFunc(name, func(r rune) bool { return r < ' ' }):
		p.Add("name", "systems.name_invalid", problem.Args{"max": maxSystemName})
	}
	if in.OrgID != "" {
		m, err := x.Store.GetOrgMember(ctx, in.OrgID, who.Account.ID)
		if errors.Is(err, store.ErrNotFound) || (err == nil && m.Role != store.RoleAdmin) {
			return store.System{}, "", problem.New(problem.Forbidden, "", "orgs.not_admin", nil)
		}
		if err != nil {
			return store.System{}, "", err
		}
	}
	held, err := x.RightsOf(ctx, who.Account.ID, in.OrgID)
	if err != nil {
		return store.System{}, "", err
	}
	rights := slices.Compact(slices.Sorted(slices.Values(in.Rights)))
	if len(rights) == 0 {
		p.Add("rights", "systems.rights_required", nil)
	}
	for _, r := range rights {
		if !slices.Contains(held, r) {
			p.Add("rights", "rights.missing", problem.Args{"right": r, "operation": problem.Ref("systems.op_create")})
			break
		}
	}
	switch {
	case !in.ExpiresAt.IsZero() && !in.ExpiresAt.After(now):
		p.Add("expires", "systems.expiry_past", nil)
	case cfg.MaxLifetime > 0 && (in.ExpiresAt.IsZero() || in.ExpiresAt.After(now.Add(cfg.MaxLifetime))):
		p.Add("expires", "systems.expiry_too_far", problem.Args{"count": int(cfg.MaxLifetime.Hours() / 24)})
	}
	var jwk string
	if strings.TrimSpace(in.PublicKey) != "" {
		if jwk, err = ParsePublicKey(in.PublicKey); err != nil {
			p.Add("public_key", "systems.key_invalid", nil)
		}
	}
	if err := p.OrNil(); err != nil {
		return store.System{}, "", err
	}
	existing, err := x.Store.ListSystems(ctx, who.Account.ID, in.OrgID)
	if err != nil {
		return store.System{}, "", err
	}
	live := 0
	for _, e := range existing {
		if e.Live(now) {
			live++
		}
	}
	if live >= cfg.MaxPerAccount {
		return store.System{}, "", problem.New(problem.Conflict, "", "systems.too_many", problem.Args{"max": cfg.MaxPerAccount})
	}
	sys := store.System{
		ID: newSystemID(), OwnerAccount: who.Account.ID, OrgID: in.OrgID, Name: name, Rights: rights,
		CreatedAt: now, RotatedAt: now, ExpiresAt: in.ExpiresAt, PublicKey: jwk,
	}
	var sec string
	if jwk == "" {
		sec = secret.Token()
		sys.SecretHash = secret.Hash(sec)
	}
	if err := x.Store.CreateSystem(ctx, sys); err != nil {
		return store.System{}, "", err
	}
	x.changed(ctx, c, who, sys, "created")
	return sys, sec, nil
}

// ownSystem returns a system the person may manage: their own, or an
// organisation's they administer. Anything else is not found.
func (x *Systems) ownSystem(ctx context.Context, who Who, id string) (store.System, error) {
	sys, err := x.Store.GetSystem(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.System{}, errSystemNotFound
	}
	if err != nil {
		return store.System{}, err
	}
	if sys.OrgID == "" {
		if sys.OwnerAccount != who.Account.ID {
			return store.System{}, errSystemNotFound
		}
		return sys, nil
	}
	m, err := x.Store.GetOrgMember(ctx, sys.OrgID, who.Account.ID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && m.Role != store.RoleAdmin) {
		return store.System{}, errSystemNotFound
	}
	return sys, err
}

// RotateSystem replaces a live system's secret (returned, shown once) or,
// when publicKey is set, its key. The old one stops working at once.
func (x *Systems) RotateSystem(ctx context.Context, c Client, who Who, id, publicKey string) (store.System, string, error) {
	s := x.S
	if err := s.requireFresh(ctx, who); err != nil {
		return store.System{}, "", err
	}
	sys, err := x.ownSystem(ctx, who, id)
	if err != nil {
		return store.System{}, "", err
	}
	if !sys.Live(s.now()) {
		return store.System{}, "", problem.New(problem.Conflict, "", "system.inactive", nil)
	}
	var jwk, sec string
	if strings.TrimSpace(publicKey) != "" {
		if jwk, err = ParsePublicKey(publicKey); err != nil {
			return store.System{}, "", problem.New(problem.Invalid, "public_key", "systems.key_invalid", nil)
		}
	} else if sys.PublicKey != "" {
		// A system with a key gets a new key, never a secret by mistake.
		return store.System{}, "", problem.New(problem.Invalid, "public_key", "systems.key_invalid", nil)
	} else {
		sec = secret.Token()
	}
	sys, err = x.Store.UpdateSystem(ctx, id, func(v store.System) (store.System, error) {
		v.PublicKey, v.SecretHash, v.RotatedAt = jwk, nil, s.now()
		if sec != "" {
			v.SecretHash = secret.Hash(sec)
		}
		return v, nil
	})
	if err != nil {
		return store.System{}, "", err
	}
	x.changed(ctx, c, who, sys, "rotated")
	return sys, sec, nil
}

// RevokeSystem revokes a system and every token issued through it.
func (x *Systems) RevokeSystem(ctx context.Context, c Client, who Who, id string) error {
	s := x.S
	if err := s.requireFresh(ctx, who); err != nil {
		return err
	}
	sys, err := x.ownSystem(ctx, who, id)
	if err != nil {
		return err
	}
	if err := x.Store.RevokeSystem(ctx, id, s.now()); err != nil {
		return err
	}
	x.changed(ctx, c, who, sys, "revoked")
	return nil
}

// SetAllowed turns "allow sign-in from applications with username and
// password" on or off. Turning it on needs a recent sign-in; turning it
// off never does. Both are mailed and logged.
func (x *Systems) SetAllowed(ctx context.Context, c Client, who Who, on bool) error {
	s := x.S
	if on {
		if err := s.requireFresh(ctx, who); err != nil {
			return err
		}
	}
	if err := x.Store.SetSystemLoginAllowed(ctx, who.Account.ID, on, s.now()); err != nil {
		return err
	}
	state := "off"
	if on {
		state = "on"
	}
	s.notify(ctx, c, who.Account, "system_changed", map[string]any{"event": "mail.system_changed.allowed_" + state, "system": "", "system_id": "", "rights": "", "systems_url": s.link("/account/systems")})
	x.record(ctx, audit.Event{Kind: audit.SettingsChanged, Actor: audit.Account(who.Account.ID), Subject: who.Account.ID,
		Target: "system_login", Data: map[string]string{"allowed": state}})
	s.log().Info("sign-in through systems switched", "account", who.Account.ID, "allowed", on)
	return nil
}

// changed mails and logs a change of a system.
func (x *Systems) changed(ctx context.Context, c Client, who Who, sys store.System, action string) {
	s := x.S
	s.notify(ctx, c, who.Account, "system_changed", map[string]any{
		"event": "mail.system_changed." + action, "system": sys.Name, "system_id": sys.ID, "rights": strings.Join(sys.Rights, ", "), "systems_url": s.link("/account/systems"),
	})
	data := map[string]string{"action": "system." + action, "rights": strings.Join(sys.Rights, " ")}
	if sys.OrgID != "" {
		data["org"] = sys.OrgID
	}
	x.record(ctx, audit.Event{Kind: audit.SettingsChanged, Actor: audit.Account(who.Account.ID), Subject: who.Account.ID,
		Target: "system:" + sys.ID, Data: data})
	s.log().Info("system "+action, "account", who.Account.ID, "system", sys.ID)
}

func (x *Systems) record(ctx context.Context, e audit.Event) {
	if x.Audit != nil {
		x.Audit.Record(ctx, e) // logged by the recorder when it fails
	}
}

// newSystemID returns "sys-" and 16 lower-case base32 characters (80
// bits): easy to type, impossible to guess.
func newSystemID() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz234567"
	b := make([]byte, 16)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[b[i]&31]
	}
	return systemIDPrefix + string(b)
}

// ParsePublicKey accepts a public JWK (JSON) or a PEM "PUBLIC KEY" (an
// EC P-256/P-384, RSA of at least 2048 bits, or Ed25519 key) and returns
// it as a public JWK in JSON. Private keys are refused.
func ParsePublicKey(in string) (string, error) {
	in = strings.TrimSpace(in)
	if len(in) > maxPublicKey {
		return "", errors.New("key too long")
	}
	var k jose.JSONWebKey
	if strings.HasPrefix(in, "{") {
		if err := k.UnmarshalJSON([]byte(in)); err != nil {
			return "", err
		}
		if !k.IsPublic() {
			return "", errors.New("not a public key")
		}
	} else {
		block, _ := pem.Decode([]byte(in))
		if block == nil || block.Type != "PUBLIC KEY" {
			return "", errors.New("not a PEM public key")
		}
		pub, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return "", err
		}
		k = jose.JSONWebKey{Key: pub}
	}
	switch pub := k.Key.(type) {
	case *ecdsa.PublicKey:
		if pub.Curve != elliptic.P256() && pub.Curve != elliptic.P384() {
			return "", errors.New("unsupported curve")
		}
	case *rsa.PublicKey:
		if pub.N.BitLen() < 2048 {
			return "", errors.New("RSA key shorter than 2048 bits")
		}
	case ed25519.PublicKey:
	default:
		return "", fmt.Errorf("unsupported key type %T", k.Key)
	}
	if k.KeyID == "" {
		tp, err := k.Thumbprint(crypto.SHA256)
		if err != nil {
			return "", err
		}
		k.KeyID = base64.RawURLEncoding.EncodeToString(tp)
	}
	k.Use, k.Algorithm = "sig", ""
	b, err := k.MarshalJSON()
	return string(b), err
}
