package store

import (
	"context"
	"time"
)

// The records of the OpenID Provider (package op): clients, authorization
// requests, grants with their access and refresh tokens, signing keys and
// consents.
//
// A grant is what one authorization code turns into: the user's permission
// for one client, with how and when they authenticated. Every access and
// refresh token issued from a code, and every token a refresh of it
// issues later, belongs to the code's grant, the token "family" of RFC
// 9700 §4.14. Revoking a grant kills its whole family at once, which is
// how a reused code or a reused refresh token is answered.

// Client access token formats.
const (
	// TokenOpaque is a random reference; introspection looks it up.
	TokenOpaque = "opaque"
	// TokenJWT is a signed JWT that resource servers can check offline.
	TokenJWT = "jwt"
)

// Client is an application registered with the OpenID Provider. Clients
// may also come from the configuration file; those are never stored.
type Client struct {
	ID string
	// SecretHash is the SHA-256 digest of the client secret; nil for a
	// public client, which has no secret. The secret itself is shown once
	// and never stored.
	SecretHash []byte
	Name       string
	// RedirectURIs are compared with a request's redirect_uri as exact
	// strings. Values contain no white space.
	RedirectURIs           []string
	PostLogoutRedirectURIs []string
	// Public clients (single-page and native apps) cannot keep a secret.
	Public bool
	// ThirdParty clients ask the user's consent before they get anything.
	ThirdParty bool
	// PKCEOptional lets a confidential client use the code flow without
	// PKCE; public clients always need it.
	PKCEOptional bool
	// GrantTypes the client may use: "authorization_code",
	// "refresh_token", "client_credentials".
	GrantTypes []string
	// Scopes the client may ask for beyond the standard OpenID ones.
	Scopes []string
	// SigningAlg signs the client's ID tokens and JWTs: "ES256" or "RS256".
	SigningAlg string
	// AccessTokenFormat is TokenOpaque, TokenJWT, or empty for the
	// provider's default.
	AccessTokenFormat string
	// AccessTokenTTL and RefreshTokenTTL override the provider's
	// lifetimes when not zero. Stored to the millisecond.
	AccessTokenTTL  time.Duration
	RefreshTokenTTL time.Duration
	// BackChannelLogoutURI receives logout tokens when a session ends.
	BackChannelLogoutURI string
	CreatedAt            time.Time
}

// OIDCClients stores clients registered through the CLI or the admin API.
type OIDCClients interface {
	// CreateClient inserts c. ErrConflict if the ID is taken.
	CreateClient(ctx context.Context, c Client) error
	// GetClient returns ErrNotFound if no client has the ID.
	GetClient(ctx context.Context, id string) (Client, error)
	// ListClients returns every stored client, ordered by ID.
	ListClients(ctx context.Context) ([]Client, error)
	// UpdateClient has the semantics of Accounts.UpdateAccount.
	UpdateClient(ctx context.Context, id string, fn func(Client) (Client, error)) (Client, error)
	// DeleteClient removes the client together with its grants (and so
	// their tokens), its consents and its pending authorization requests.
	// ErrNotFound if there was no such client.
	DeleteClient(ctx context.Context, id string) error
}

// AuthRequest is an authorization request between the client's redirect
// to /authorize and the redemption of the code it ends in. Until Done the
// browser is signing in; then a code is issued (CodeHash), and redeeming
// the code makes a grant (GrantID).
type AuthRequest struct {
	ID          string
	ClientID    string
	RedirectURI string
	Scopes      []string
	State       string
	Nonce       string
	// CodeChallenge is the PKCE challenge (S256 only); empty without PKCE.
	CodeChallenge       string
	CodeChallengeMethod string
	ResponseMode        string
	// Prompt holds the prompt values: none, login, consent, select_account.
	Prompt []string
	// MaxAge is the max_age parameter in seconds, or -1 if none was sent.
	MaxAge int
	// ACRValues are the requested authentication context classes, from
	// acr_values or the claims parameter; ACREssential is set when the
	// claims parameter marked them essential.
	ACRValues    []string
	ACREssential bool
	UILocales    []string
	LoginHint    string
	// HintSubject is the subject of a valid id_token_hint.
	HintSubject string

	// Set when the browser's session satisfied the request.
	Done      bool
	AccountID string
	SessionID string
	AuthTime  time.Time
	AMR       []string
	ACR       string
	// Error, when set, is the OAuth error code (login_required,
	// access_denied, …) the request ended with instead of a code.
	Error string

	// CodeHash is the SHA-256 digest of the issued code, nil before;
	// unique among requests. CodeExpiresAt is when the code dies.
	CodeHash      []byte
	CodeExpiresAt time.Time
	// GrantID is empty until the code is redeemed.
	GrantID string

	CreatedAt time.Time
	// ExpiresAt is when the record may be swept; it outlives the code so
	// that a code reused after redemption is still recognized.
	ExpiresAt time.Time
}

// AuthRequests stores authorization requests.
type AuthRequests interface {
	// CreateAuthRequest inserts r. ErrConflict if the ID is taken;
	// ErrNotFound if r.AccountID is set and names no account.
	CreateAuthRequest(ctx context.Context, r AuthRequest) error
	// GetAuthRequest returns ErrNotFound if no request has the ID.
	GetAuthRequest(ctx context.Context, id string) (AuthRequest, error)
	// GetAuthRequestByCode finds the request whose code has the digest
	// codeHash; ErrNotFound if none.
	GetAuthRequestByCode(ctx context.Context, codeHash []byte) (AuthRequest, error)
	// UpdateAuthRequest has the semantics of Accounts.UpdateAccount.
	// ErrConflict if the new CodeHash is another request's. fn must not
	// change GrantID: only RedeemAuthCode sets it.
	UpdateAuthRequest(ctx context.Context, id string, fn func(AuthRequest) (AuthRequest, error)) (AuthRequest, error)
	// DeleteAuthRequest returns ErrNotFound if there was no such request.
	DeleteAuthRequest(ctx context.Context, id string) error
	// RedeemAuthCode redeems the code whose digest is codeHash, exactly
	// once: in one transaction it sets the request's GrantID to g.ID and
	// inserts g. Of parallel calls with one code exactly one succeeds. A
	// code that was redeemed already is a replay: the grant its first
	// redemption made is revoked (RevokedAt = g.CreatedAt, which kills
	// every token issued from it) and ErrConflict is returned. ErrNotFound
	// if no request has the code.
	RedeemAuthCode(ctx context.Context, codeHash []byte, g Grant) (AuthRequest, error)
}

// Grant is a user's authorization of one client, made when a code is
// redeemed: the family of every token issued from that code.
type Grant struct {
	ID        string
	ClientID  string
	AccountID string
	// SessionID is the browser session the user authenticated in.
	SessionID string
	Scopes    []string
	AuthTime  time.Time
	AMR       []string
	ACR       string
	CreatedAt time.Time
	// ExpiresAt is the absolute end of the family: no refresh goes
	// beyond it.
	ExpiresAt time.Time
	// RevokedAt is zero while the grant is live.
	RevokedAt time.Time
	// ActingFor is the delegation the person acted under when the grant
	// was made (Session.ActingFor), or empty (or ActingSelf) for
	// themselves.
	ActingFor string
}

// GrantFilter selects grants. Empty fields match everything, but
// RevokeGrants refuses a filter with none set.
type GrantFilter struct {
	ID        string
	AccountID string
	ClientID  string
	SessionID string
}

// AccessToken is the server-side record of an access token. A JWT access
// token of a grant has one too (its jti is the ID), so that revoking the
// grant revokes it; a JWT from the client credentials grant has none and
// is revoked through RevokeTokenID.
type AccessToken struct {
	ID string
	// GrantID is empty for the client credentials grant.
	GrantID  string
	ClientID string
	// Subject is the account ID, or the client ID for client credentials.
	Subject   string
	Scopes    []string
	Audience  []string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// RefreshToken is a refresh token, stored as the SHA-256 digest of the
// random value the client holds. A refresh uses it up (UsedAt) and issues
// the next one in the same grant (rotation).
type RefreshToken struct {
	Hash      []byte
	GrantID   string
	Scopes    []string
	CreatedAt time.Time
	// ExpiresAt is the earlier of the idle limit and the grant's end.
	ExpiresAt time.Time
	// UsedAt is zero until the token is used.
	UsedAt time.Time
}

// Grants stores grants and their tokens.
type Grants interface {
	// GetGrant returns ErrNotFound if no grant has the ID.
	GetGrant(ctx context.Context, id string) (Grant, error)
	// ListGrants returns the grants matching f, revoked ones included,
	// newest first.
	ListGrants(ctx context.Context, f GrantFilter) ([]Grant, error)
	// RevokeGrants revokes, at at, the live grants matching f and returns
	// how many it revoked. A filter with no field set is refused.
	RevokeGrants(ctx context.Context, f GrantFilter, at time.Time) (int, error)

	// CreateAccessToken inserts t. ErrConflict if the ID is taken;
	// ErrNotFound if t.GrantID is set and names no grant.
	CreateAccessToken(ctx context.Context, t AccessToken) error
	// GetAccessToken returns the access token with the ID and its grant
	// (the zero Grant for a token without one), or ErrNotFound if there is
	// no such token or its grant is revoked. Expiry is the caller's to
	// check.
	GetAccessToken(ctx context.Context, id string) (AccessToken, Grant, error)
	// DeleteAccessToken returns ErrNotFound if there was no such token.
	DeleteAccessToken(ctx context.Context, id string) error

	// CreateRefreshToken inserts rt and the access token at issued with
	// it, in one transaction. ErrNotFound if their grant does not exist;
	// ErrConflict if a digest or ID is taken.
	CreateRefreshToken(ctx context.Context, rt RefreshToken, at AccessToken) error
	// GetRefreshToken returns the refresh token with the digest and its
	// grant, used or not, revoked or not; ErrNotFound if none.
	GetRefreshToken(ctx context.Context, hash []byte) (RefreshToken, Grant, error)
	// RotateRefreshToken uses up the refresh token with digest oldHash at
	// usedAt and inserts next and at (of the same grant), in one
	// transaction. Of parallel calls with one token exactly one succeeds.
	// A token that was used already is a replay: its grant is revoked at
	// usedAt and ErrConflict is returned. ErrNotFound if there is no such
	// token or its grant is revoked.
	RotateRefreshToken(ctx context.Context, oldHash []byte, usedAt time.Time, next RefreshToken, at AccessToken) error

	// RevokeTokenID records that the self-contained token with the ID
	// (a JWT's jti) is revoked until expiresAt, when it would have died
	// anyway. Revoking an ID twice is not an error.
	RevokeTokenID(ctx context.Context, id string, expiresAt time.Time) error
	// TokenIDRevoked reports whether RevokeTokenID recorded the ID.
	TokenIDRevoked(ctx context.Context, id string) (bool, error)

	// DeleteExpiredOIDC removes authorization requests, grants (with
	// their tokens), access and refresh tokens and revoked token IDs
	// whose ExpiresAt is not after now, and returns how many rows went.
	DeleteExpiredOIDC(ctx context.Context, now time.Time) (int, error)
}

// Signing key algorithms.
const (
	AlgES256 = "ES256"
	AlgRS256 = "RS256"
)

// SigningKey is a key the provider signs tokens with. A key is published
// in the JWKS from creation until ExpiresAt, signs from ActiveFrom until
// RetiredAt, and its private half is sealed (secret.Sealer) so that the
// database alone cannot sign.
type SigningKey struct {
	// ID is the JWK "kid".
	ID  string
	Alg string
	// PrivateKey is the sealed PKCS #8 private key.
	PrivateKey []byte
	// PublicKey is the PKIX (SubjectPublicKeyInfo) DER public key.
	PublicKey []byte
	CreatedAt time.Time
	// ActiveFrom is when the key starts signing; a later time than
	// CreatedAt publishes it before it is used.
	ActiveFrom time.Time
	// RetiredAt is zero while the key may sign.
	RetiredAt time.Time
	// ExpiresAt is zero until the key is retired, then when it leaves the
	// JWKS: after every token it signed has expired.
	ExpiresAt time.Time
}

// SigningKeys stores signing keys.
type SigningKeys interface {
	// ListSigningKeys returns every key, by ActiveFrom then ID.
	ListSigningKeys(ctx context.Context) ([]SigningKey, error)
	// UpdateSigningKeys passes every key (as ListSigningKeys) to fn and
	// makes the stored set what fn returns: keys with a new ID are
	// inserted, changed ones updated and missing ones deleted, all in one
	// transaction that excludes other UpdateSigningKeys calls, also from
	// other nodes, so two nodes never rotate at once. fn may be called
	// more than once and must not have side effects; its error is
	// returned as it is and nothing is written. Returns the new set.
	UpdateSigningKeys(ctx context.Context, fn func([]SigningKey) ([]SigningKey, error)) ([]SigningKey, error)
}

// Consent is what an account has allowed a client.
type Consent struct {
	AccountID string
	ClientID  string
	Scopes    []string
	GrantedAt time.Time
}

// Consents stores consents, one per account and client.
type Consents interface {
	// SetConsent inserts or replaces the consent of c.AccountID for
	// c.ClientID. ErrNotFound if the account does not exist.
	SetConsent(ctx context.Context, c Consent) error
	// GetConsent returns ErrNotFound if the account has not consented to
	// the client.
	GetConsent(ctx context.Context, accountID, clientID string) (Consent, error)
	// ListConsents returns the account's consents, by client ID.
	ListConsents(ctx context.Context, accountID string) ([]Consent, error)
	// DeleteConsent returns ErrNotFound if there was no such consent.
	DeleteConsent(ctx context.Context, accountID, clientID string) error
}

// OIDC is everything the OpenID Provider stores.
type OIDC interface {
	OIDCClients
	AuthRequests
	Grants
	SigningKeys
	Consents
}
