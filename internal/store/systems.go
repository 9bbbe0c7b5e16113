package store

import (
	"context"
	"time"
)

// Rights, organisations and end-user systems (issue 14).
//
// A right is a name such as "altinn:submit", defined per deployment. A
// person holds rights for themselves (the deployment's personal rights
// plus those an operator gave the account: AccountRights), or for an
// organisation through their membership (OrgMember.Rights; an
// organisation's administrator holds every right for it).
//
// An end-user system ("fagsystem") is software a person, or an
// organisation's administrator, registered to act through: it has a
// generated ID, a secret (only its SHA-256 is stored) or a public key for
// private_key_jwt, and the rights it may use, a subset of its owner's.

// Organisation roles.
const (
	// RoleAdmin manages the organisation: adds members, gives rights,
	// creates systems. An administrator holds every right for it.
	RoleAdmin = "admin"
	// RoleMember holds the rights the membership lists.
	RoleMember = "member"
)

// Organisation is a legal person (a company) that people act for.
type Organisation struct {
	// ID is the organisation number ("912345678"), digits only.
	ID        string
	Name      string
	CreatedAt time.Time
}

// OrgMember is an account's membership of an organisation.
type OrgMember struct {
	OrgID     string
	AccountID string
	// Role is RoleAdmin or RoleMember.
	Role string
	// Rights are the rights the member holds for the organisation (an
	// administrator holds all, whatever this says). Names contain no
	// white space.
	Rights    []string
	AddedAt   time.Time
	UpdatedAt time.Time
}

// Organisations stores organisations and their members.
type Organisations interface {
	// CreateOrg inserts o. ErrConflict if the ID is taken.
	CreateOrg(ctx context.Context, o Organisation) error
	// GetOrg returns ErrNotFound if no organisation has the ID.
	GetOrg(ctx context.Context, id string) (Organisation, error)
	// ListOrgs returns every organisation, by ID.
	ListOrgs(ctx context.Context) ([]Organisation, error)
	// DeleteOrg removes the organisation with its memberships and its
	// systems. ErrNotFound if there was no such organisation.
	DeleteOrg(ctx context.Context, id string) error
	// PutOrgMember inserts or replaces the membership of m.AccountID in
	// m.OrgID (AddedAt of an existing membership is kept). ErrNotFound if
	// the organisation or the account does not exist.
	PutOrgMember(ctx context.Context, m OrgMember) (OrgMember, error)
	// GetOrgMember returns ErrNotFound if the account is not a member.
	GetOrgMember(ctx context.Context, orgID, accountID string) (OrgMember, error)
	// ListOrgMembers returns the organisation's members, by account ID.
	ListOrgMembers(ctx context.Context, orgID string) ([]OrgMember, error)
	// ListMemberships returns the account's memberships, by
	// organisation ID.
	ListMemberships(ctx context.Context, accountID string) ([]OrgMember, error)
	// DeleteOrgMember returns ErrNotFound if the account was not a member.
	DeleteOrgMember(ctx context.Context, orgID, accountID string) error
}

// AccountRights stores the rights an operator gave an account for
// itself, beyond the deployment's personal rights.
type AccountRights interface {
	// SetAccountRights replaces the account's own rights. ErrNotFound if
	// the account does not exist.
	SetAccountRights(ctx context.Context, accountID string, rights []string) error
	// GetAccountRights returns the account's own rights, sorted; none is
	// an empty list, not an error.
	GetAccountRights(ctx context.Context, accountID string) ([]string, error)
}

// System is an end-user system: software signing people in and acting
// through the rights it was given.
type System struct {
	// ID is the system ID the owner types into the software; generated,
	// unique, shown to the owner.
	ID string
	// OwnerAccount created it and manages it (for an organisation's
	// system, the administrator who did).
	OwnerAccount string
	// OrgID is the organisation the system acts for; empty for a
	// person's own system.
	OrgID string
	Name  string
	// SecretHash is the SHA-256 of the secret (256 random bits, shown
	// once); nil for a system that authenticates with a key.
	SecretHash []byte
	// PublicKey is the public JWK (JSON) private_key_jwt assertions are
	// verified with; empty for a system with a secret.
	PublicKey string
	// Rights it may use, a subset of its owner's.
	Rights    []string
	CreatedAt time.Time
	// RotatedAt is when the secret or key was last replaced.
	RotatedAt time.Time
	// ExpiresAt is zero for a system without an expiry.
	ExpiresAt time.Time
	// RevokedAt is zero while the system is live.
	RevokedAt  time.Time
	LastUsedAt time.Time
}

// Live reports whether the system may be used at now.
func (s System) Live(now time.Time) bool {
	return s.RevokedAt.IsZero() && (s.ExpiresAt.IsZero() || now.Before(s.ExpiresAt))
}

// Systems stores end-user systems and the tokens issued through them.
type Systems interface {
	// CreateSystem inserts s. ErrConflict if the ID is taken; ErrNotFound
	// if the owner (or the organisation) does not exist.
	CreateSystem(ctx context.Context, s System) error
	// GetSystem returns ErrNotFound if no system has the ID, revoked
	// ones included.
	GetSystem(ctx context.Context, id string) (System, error)
	// ListSystems returns the systems the account owns (orgID empty:
	// its own, not an organisation's) or the organisation's (orgID set),
	// revoked ones included, newest first.
	ListSystems(ctx context.Context, accountID, orgID string) ([]System, error)
	// UpdateSystem has the semantics of Accounts.UpdateAccount; fn must
	// not change ID, OwnerAccount or OrgID.
	UpdateSystem(ctx context.Context, id string, fn func(System) (System, error)) (System, error)
	// RevokeSystem marks the system revoked at at and, in the same
	// transaction, revokes every grant issued through it (so their
	// tokens die). Revoking a revoked system changes nothing and is not
	// an error. ErrNotFound if there is no such system.
	RevokeSystem(ctx context.Context, id string, at time.Time) error
	// CreateSystemGrant inserts a grant issued through a system (its
	// ClientID is the system ID) with its access token and, when rt is
	// not nil, its first refresh token, in one transaction. ErrNotFound
	// if the system or the account does not exist, or the system is
	// revoked.
	CreateSystemGrant(ctx context.Context, g Grant, at AccessToken, rt *RefreshToken) error

	// SetSystemLoginAllowed records whether the account allows sign-in
	// through systems with its username and password. ErrNotFound if the
	// account does not exist.
	SetSystemLoginAllowed(ctx context.Context, accountID string, allowed bool, at time.Time) error
	// SystemLoginAllowed reports the account's choice (false when it
	// never made one) and when it was made.
	SystemLoginAllowed(ctx context.Context, accountID string) (bool, time.Time, error)
}
