// Package audit is Portvakt's audit log: one Recorder that every flow,
// console action and operator command calls, so that "who did what to
// this account, from where, when, and why" has one answer (issue 15).
//
// An Event names its Kind (a fixed, append-only vocabulary below), its
// Actor (the account itself, a support user, the system, an operator at
// the command line, or nobody known), its Subject (the account it is
// about), an Outcome, and for support actions a Reason. The Recorder
// adds the time from its clock and the request's IP address, user agent
// and request ID from the context (WithRequest, set by the web
// middleware), then cleans the event: keys that name a secret are
// dropped, national identity numbers and phone numbers are masked, and
// every field is bounded. The store (store.Audit) keeps the result,
// append-only.
package audit

import "slices"

// Kind is what happened. The values are append-only, like problem.Kind:
// exports and queries match on their names, so never rename or remove
// one. Add new kinds at the end of their group and to kinds.
type Kind string

// Sign-in and sessions.
const (
	LoginSucceeded Kind = "login.succeeded"
	// LoginFailed is a refused sign-in: a wrong password or second
	// factor, or a locked account. Subject is empty when the identifier
	// named no account.
	LoginFailed Kind = "login.failed"
	// SessionEnded is a session ended by its user (sign-out, "sign out
	// everywhere else"), by support or by the system.
	SessionEnded Kind = "session.ended"
	// StepUp is a session raised to a higher level.
	StepUp Kind = "session.stepped_up"
	// Reauthenticated is a fresh proof before a sensitive change.
	Reauthenticated Kind = "session.reauthenticated"
	// TokenRefreshed is a refresh token exchanged for new tokens by a
	// system (POST /api/v1/systems/token): Target is "system:<id>".
	TokenRefreshed Kind = "token.refreshed"
)

// Credentials and the account's contact details.
const (
	AccountCreated   Kind = "account.created"
	PasswordChanged  Kind = "password.changed"
	PasswordReset    Kind = "password.reset"
	FactorAdded      Kind = "factor.added"
	FactorRemoved    Kind = "factor.removed"
	RecoveryCodesNew Kind = "recovery_codes.generated"
	EmailAdded       Kind = "email.added"
	EmailRemoved     Kind = "email.removed"
	EmailPrimary     Kind = "email.primary_changed"
	PhoneAdded       Kind = "phone.added"
	PhoneRemoved     Kind = "phone.removed"
	IdentityLinked   Kind = "identity.linked"
	IdentityUnlinked Kind = "identity.unlinked"
	// BrowserForgotten is a remembered browser removed.
	BrowserForgotten Kind = "browser.forgotten"
	// SettingsChanged is a change of name, language or another setting
	// that is not a credential.
	SettingsChanged Kind = "settings.changed"
	// ConsentRevoked is an application's access taken back.
	ConsentRevoked Kind = "consent.revoked"
	// ConsentGranted is an application allowed scopes on the consent
	// page (POST /oidc/consent, POST /api/v1/consent): Target is
	// "client:<id>", Data the scopes.
	ConsentGranted Kind = "consent.granted"
)

// Support and operator actions. Each carries a Reason.
const (
	SupportCodeIssued Kind = "support.code_issued"
	// SupportCodeUsed is the one-time support code spent at sign-in.
	SupportCodeUsed   Kind = "support.code_used"
	SupportSearch     Kind = "support.search"
	SupportViewed     Kind = "support.account_viewed"
	AccountLocked     Kind = "account.locked"
	AccountUnlocked   Kind = "account.unlocked"
	TOTPReset         Kind = "totp.reset"
	RoleGranted       Kind = "role.granted"
	RoleRevoked       Kind = "role.revoked"
	InvitationResent  Kind = "invitation.resent"
	AccountUpdated    Kind = "account.updated"
	AccountDeleted    Kind = "account.deleted"
	ClientCreated     Kind = "client.created"
	ClientDeleted     Kind = "client.deleted"
	AuditExported     Kind = "audit.exported"
	MFARequired       Kind = "account.mfa_required"
	ConsoleDenied     Kind = "support.denied"
	AdminAPIRequest   Kind = "admin.api"
	AccountsImported  Kind = "account.imported"
	AuditRetention    Kind = "audit.retention"
	DeletionRequested Kind = "account.deletion_requested"
	DeletionCancelled Kind = "account.deletion_cancelled"
	InactivityWarned  Kind = "account.inactivity_warned"
	DataExported      Kind = "account.data_exported"
	NewDeviceAlerted  Kind = "account.new_device_alerted"
)

// Representation (docs/representation.md): Subject is the agent (who
// acts), Target the delegation, Data the principal's kind and account.
const (
	RepresentationRequested Kind = "representation.requested"
	RepresentationAccepted  Kind = "representation.accepted"
	RepresentationDeclined  Kind = "representation.declined"
	RepresentationAdded     Kind = "representation.added"
	RepresentationApproved  Kind = "representation.approved"
	RepresentationRevoked   Kind = "representation.revoked"
	// RepresentationActing is the agent choosing whom they act for in
	// this session (POST /act-as, POST /api/v1/act-as): Target is the
	// delegation, or "self" when they go back to acting for themselves.
	RepresentationActing Kind = "representation.acting_as"
)

// kinds lists every Kind; Valid and Kinds read it.
var kinds = []Kind{
	LoginSucceeded, LoginFailed, SessionEnded, StepUp, Reauthenticated, TokenRefreshed,
	AccountCreated, PasswordChanged, PasswordReset, FactorAdded, FactorRemoved, RecoveryCodesNew,
	EmailAdded, EmailRemoved, EmailPrimary, PhoneAdded, PhoneRemoved, IdentityLinked, IdentityUnlinked,
	BrowserForgotten, SettingsChanged, ConsentRevoked, ConsentGranted,
	SupportCodeIssued, SupportCodeUsed, SupportSearch, SupportViewed, AccountLocked, AccountUnlocked,
	TOTPReset, RoleGranted, RoleRevoked, InvitationResent, AccountUpdated, AccountDeleted,
	ClientCreated, ClientDeleted, AuditExported, MFARequired, ConsoleDenied, AdminAPIRequest,
	AccountsImported, AuditRetention, DeletionRequested, DeletionCancelled, InactivityWarned,
	DataExported, NewDeviceAlerted,
	RepresentationRequested, RepresentationAccepted, RepresentationDeclined, RepresentationAdded,
	RepresentationApproved, RepresentationRevoked, RepresentationActing,
}

// Valid reports whether k is one of the kinds above.
func (k Kind) Valid() bool { return slices.Contains(kinds, k) }

// Kinds returns every kind, in the order above.
func Kinds() []Kind { return slices.Clone(kinds) }

// SecurityKinds are the kinds a user sees in their own security history:
// sign-ins, failed attempts, and changes of password, factors, addresses
// and links, and what support did to the account.
func SecurityKinds() []Kind {
	return []Kind{
		LoginSucceeded, LoginFailed, SessionEnded, PasswordChanged, PasswordReset,
		FactorAdded, FactorRemoved, RecoveryCodesNew, EmailAdded, EmailRemoved, EmailPrimary,
		PhoneAdded, PhoneRemoved, IdentityLinked, IdentityUnlinked, BrowserForgotten,
		SupportCodeIssued, SupportCodeUsed, AccountLocked, AccountUnlocked, TOTPReset,
		DeletionRequested, DeletionCancelled,
	}
}

// ActorKind says who acted.
type ActorKind string

const (
	// ByAccount is the account's own user, signed in (or signing in).
	ByAccount ActorKind = "account"
	// BySupport is a support user or admin in the console or admin API;
	// Actor.ID is their account.
	BySupport ActorKind = "support"
	// BySystem is Portvakt itself (a job); Actor.ID names the job.
	BySystem ActorKind = "system"
	// ByOperator is someone at the command line (portvakt user …) or the
	// holder of the admin API token; Actor.ID is their login, if known.
	ByOperator ActorKind = "operator"
	// ByAnonymous is nobody known: a failed sign-in, a sign-up.
	ByAnonymous ActorKind = "anonymous"
)

// Valid reports whether a is one of the actor kinds above.
func (a ActorKind) Valid() bool {
	switch a {
	case ByAccount, BySupport, BySystem, ByOperator, ByAnonymous:
		return true
	}
	return false
}

// Actor is who acted.
type Actor struct {
	Kind ActorKind
	ID   string
}

// Account is the account's own user as the actor.
func Account(id string) Actor { return Actor{Kind: ByAccount, ID: id} }

// Support is a support user (an account with a role) as the actor.
func Support(id string) Actor { return Actor{Kind: BySupport, ID: id} }

// System is Portvakt's job named job as the actor.
func System(job string) Actor { return Actor{Kind: BySystem, ID: job} }

// Operator is someone at the command line (or the admin token) as the
// actor; who is their login name, or "" when unknown.
func Operator(who string) Actor { return Actor{Kind: ByOperator, ID: who} }

// Anonymous is an actor nobody knows.
var Anonymous = Actor{Kind: ByAnonymous}

// Outcome is how the action ended.
type Outcome string

const (
	OK Outcome = "ok"
	// Denied is an action refused for a reason the actor could have
	// known: a wrong password, a missing role, a locked account.
	Denied Outcome = "denied"
	// Failed is an action that broke (the mail did not go).
	Failed Outcome = "failed"
)
