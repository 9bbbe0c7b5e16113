package flow

import (
	"context"

	"github.com/portvakt/portvakt/internal/authn/password"
	"github.com/portvakt/portvakt/internal/store"
)

// The faces of the Service. Service is one core (a store, the session
// manager, the mailer, the clock and the configuration) with many
// journeys on it; a caller sees only the face of the journey it drives.
// web reaches the flows through these (web/faces.go), so a handler of the
// second-factor step cannot call a settings change, and a new journey
// (federation, systems, the support console) is a new face over the same
// core rather than more methods on one surface. Each face is checked
// against Service at compile time below.

// Login is the face of signing up and signing in with a password or a
// passkey (signup.go, login.go, keys.go).
type Login interface {
	StartSignup(ctx context.Context, c Client, email string) (store.Flow, error)
	SignupFlow(ctx context.Context, c Client, flowID string) (store.Flow, error)
	VerifySignupCode(ctx context.Context, c Client, flowID, code string) (store.Flow, error)
	ResendSignupCode(ctx context.Context, c Client, flowID string) error
	CompleteSignup(ctx context.Context, c Client, flowID, name, pw string) (Result, error)
	StartLogin(ctx context.Context, c Client, email string, remember bool) (store.Flow, error)
	LoginFlow(ctx context.Context, c Client, flowID string) (store.Flow, error)
	LoginPassword(ctx context.Context, c Client, flowID, pw string) (Result, error)
	LoginUsername(ctx context.Context, c Client, username, pw string) (Result, error)
	BeginPasskey(ctx context.Context, c Client) (string, []byte, error)
	FinishPasskey(ctx context.Context, c Client, flowID string, response []byte) (Result, error)
	PolicyContext(ctx context.Context, email, name string) password.Context
	PasswordHasMFA(ctx context.Context, accountID string) (bool, error)
}

// Recovery is the face of recovering a forgotten password (recovery.go).
type Recovery interface {
	StartRecovery(ctx context.Context, c Client, email, method string) (store.Flow, error)
	RecoveryFlow(ctx context.Context, c Client, flowID string) (store.Flow, error)
	VerifyRecoveryCode(ctx context.Context, c Client, flowID, code string) (store.Flow, error)
	ResendRecoveryCode(ctx context.Context, c Client, flowID string) error
	InspectLink(ctx context.Context, c Client, token string) (LinkInfo, error)
	UseLink(ctx context.Context, c Client, token string) (store.Flow, *Result, error)
	LinkCode(ctx context.Context, c Client, token string) (code string, minutes int, err error)
	VerifyLinkCode(ctx context.Context, c Client, flowID, code string) (store.Flow, *Result, error)
	CompleteRecovery(ctx context.Context, c Client, flowID, pw string) (Result, error)
	CancelRecovery(ctx context.Context, flowID, token string) error
	RecoveringAccount(ctx context.Context, c Client, flowID string) (string, error)
	RecoveryMethods() []string
}

// MFA is the face of the second-factor step of a sign-in, a re-
// authentication or a step-up, including setting up a factor inside a sign-
// in (mfa_*.go, stepup.go).
type MFA interface {
	Factor(ctx context.Context, c Client, flowID string) (PendingFactor, error)
	View(o Option) FactorView
	SendFactorCode(ctx context.Context, c Client, flowID, key string) error
	VerifyFactor(ctx context.Context, c Client, flowID, key, code string, remember bool) (Result, error)
	LostAuthenticator(ctx context.Context, c Client, flowID string) error
	UseFactorLink(ctx context.Context, c Client, token string, remember bool) (Result, error)
	InspectFactorLink(ctx context.Context, c Client, token string) (sameBrowser bool, err error)
	BeginFactorKey(ctx context.Context, c Client, flowID string) ([]byte, error)
	VerifyFactorKey(ctx context.Context, c Client, flowID string, response []byte, remember bool) (Result, error)
	EnrolTOTP(ctx context.Context, c Client, flowID string) (TOTPEnrolment, error)
	ConfirmEnrolTOTP(ctx context.Context, c Client, flowID, code string) (Result, []string, error)
	EnrolEmail(ctx context.Context, c Client, flowID, email string) error
	ConfirmEnrolEmail(ctx context.Context, c Client, flowID, code string) (Result, error)
	Reauth(ctx context.Context, c Client, who Who, pw, returnTo string) (Result, error)
	StepUp(ctx context.Context, c Client, who Who, action, returnTo string) (Result, error)
	StepUpTo(ctx context.Context, c Client, who Who, lvl int, returnTo string) (Result, error)
	ActionLevel(action string) (int, error)
}

// Settings is the face of the signed-in user's own credentials: password,
// addresses, authenticators, phones, recovery codes, remembered browsers,
// security keys and linked identities (settings*.go, mfa_totp.go,
// mfa_recovery.go, keys.go, link.go).
type Settings interface {
	ChangePassword(ctx context.Context, c Client, who Who, current, next string) (string, error)
	Emails(ctx context.Context, accountID string) ([]store.Email, error)
	StartAddEmail(ctx context.Context, c Client, who Who, email, current string, makePrimary bool) (store.Flow, error)
	EmailFlow(ctx context.Context, c Client, who Who, flowID string) (store.Flow, error)
	VerifyAddEmail(ctx context.Context, c Client, who Who, flowID, code string) (store.Email, error)
	ResendEmailCode(ctx context.Context, c Client, who Who, flowID string) error
	SetPrimaryEmail(ctx context.Context, c Client, who Who, address string) error
	RemoveEmail(ctx context.Context, c Client, who Who, address, current string) error
	SecurityOverview(ctx context.Context, accountID string) (Security, error)
	StartTOTP(ctx context.Context, who Who) (TOTPEnrolment, error)
	ConfirmTOTP(ctx context.Context, c Client, who Who, factorID, code string) ([]string, error)
	RemoveFactor(ctx context.Context, c Client, who Who, id string) error
	RegenerateRecoveryCodes(ctx context.Context, c Client, who Who) ([]string, error)
	StartAddPhone(ctx context.Context, c Client, who Who, input string) (store.Flow, error)
	PhoneFlow(ctx context.Context, c Client, who Who, flowID string) (store.Flow, string, error)
	ResendPhoneCode(ctx context.Context, c Client, who Who, flowID string) error
	ConfirmPhone(ctx context.Context, c Client, who Who, flowID, code string) error
	ForgetBrowser(ctx context.Context, who Who, id string) error
	ForgetAllBrowsers(ctx context.Context, accountID string) error
	Keys(ctx context.Context, accountID string) ([]store.WebAuthnCredential, error)
	BeginKeyRegistration(ctx context.Context, c Client, who Who, passkey bool) (string, []byte, error)
	FinishKeyRegistration(ctx context.Context, c Client, who Who, flowID string, response []byte, name string) (store.WebAuthnCredential, []string, error)
	RenameKey(ctx context.Context, who Who, id []byte, name string) error
	RemoveKey(ctx context.Context, c Client, who Who, id []byte) error
	LinkedIdentities(ctx context.Context, accountID, lang string) ([]LinkedIdentity, error)
	Unlink(ctx context.Context, c Client, who Who, provider, subject string) error
}

var (
	_ Login    = (*Service)(nil)
	_ Recovery = (*Service)(nil)
	_ MFA      = (*Service)(nil)
	_ Settings = (*Service)(nil)
)
