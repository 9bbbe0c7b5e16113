package op

import (
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/portvakt/portvakt/internal/secret"
	"github.com/portvakt/portvakt/internal/store"
)

// Config is the provider's configuration. Zero fields take the defaults
// named in their comments.
type Config struct {
	// Issuer is the provider's public URL, the "iss" of every token and
	// authorization response: the configured public_url, never taken
	// from a request. https, or http on a loopback host (localhost,
	// 127.0.0.1, [::1]) unless AllowHTTP is set. Required.
	Issuer string
	// AllowHTTP allows an http issuer on any host (development only).
	AllowHTTP bool

	// AuthRequestTTL is how long the user has to sign in. Default 30m.
	AuthRequestTTL time.Duration
	// CodeTTL is the authorization code's lifetime: at most 60s
	// (ASVS 10.4.3 at L3). Default 60s.
	CodeTTL time.Duration
	// AccessTokenTTL is the default access token lifetime. Default 10m.
	AccessTokenTTL time.Duration
	// IDTokenTTL is the ID token lifetime. Default 1h.
	IDTokenTTL time.Duration
	// RefreshTokenTTL is the default absolute lifetime of a refresh token
	// family: no refresh goes beyond it. Default 30 days.
	RefreshTokenTTL time.Duration
	// RefreshTokenIdleTTL ends a refresh token that is not used for that
	// long. Default 14 days (and never more than RefreshTokenTTL).
	RefreshTokenIdleTTL time.Duration

	// Keys is the signing key schedule.
	Keys KeyConfig

	// Clients are the clients from the configuration file. They are not
	// stored; clients created with CreateClient are, and a stored client
	// cannot take the ID of a configured one.
	Clients []ClientConfig
	// ClientCacheTTL is how long a stored client is cached in memory, so
	// a client removed on another node may work here that much longer.
	// Default 10s.
	ClientCacheTTL time.Duration

	// ACR maps authentication context class references to the levels of
	// package authn. The first value of each level is the one ID tokens
	// carry when the client asked for none of that level. Default
	// DefaultACR.
	ACR []ACR
	// UpstreamACR are the acr values of the configured upstreams
	// (upstream_acr.go); none without upstreams.
	UpstreamACR []UpstreamACR

	// UILocales are the languages the login pages speak, for discovery.
	UILocales []string

	// BackChannelLogoutTimeout bounds each logout token delivery.
	// Default 5s.
	BackChannelLogoutTimeout time.Duration
}

// KeyConfig is the signing key schedule. A key signs for RotationPeriod;
// its successor is published PrePublish before it takes over, so that
// every node and every relying party's cached JWKS knows it first; the
// retired key stays published for Overlap, which must outlast every token
// it signed.
type KeyConfig struct {
	// Algorithms are the signing algorithms kept ready: "ES256" (the
	// default for clients) and "RS256". Default both.
	Algorithms []string
	// RotationPeriod is how long a key signs. Default 30 days.
	RotationPeriod time.Duration
	// PrePublish is how long a new key is published before it signs.
	// Default 1h.
	PrePublish time.Duration
	// Overlap is how long a retired key stays in the JWKS; at least the
	// longest token lifetime. Default 24h.
	Overlap time.Duration
}

// ACR is an authentication context class reference and the level
// (package authn) it stands for.
type ACR struct {
	Value string
	Level int
	// AMR, when set, is the amr of an ID token that carries this value,
	// in place of the session's methods: a deployment that publishes its
	// levels under another scheme's names (a test playing ID-porten:
	// idporten-loa-substantial with MinID, idporten-loa-high with BankID).
	AMR []string
}

// The ACR values of the default mapping, one per level of package authn.
const (
	ACRLevel1 = "urn:portvakt:level:1" // password
	ACRLevel2 = "urn:portvakt:level:2" // password and an SMS code
	ACRLevel3 = "urn:portvakt:level:3" // TOTP, recovery or support code
	ACRLevel4 = "urn:portvakt:level:4" // security key or passkey
)

// DefaultACR is the ACR mapping when the configuration sets none: the
// four Portvakt levels (package authn). An upstream's values, such as
// ID-porten's idporten-loa-high, are never mapped to local levels: a
// local security key is not ID-porten, and a token says
// idporten-loa-high only for a session that ID-porten itself signed in at
// that level (store.Session.Via, the federation issue).
var DefaultACR = []ACR{
	{Value: ACRLevel1, Level: 1},
	{Value: ACRLevel2, Level: 2},
	{Value: ACRLevel3, Level: 3},
	{Value: ACRLevel4, Level: 4},
}

// ClientConfig describes a client, from the configuration file or for
// CreateClient.
type ClientConfig struct {
	// ID is the client_id: 1 to 64 of A-Z a-z 0-9 . _ -. CreateClient
	// makes one if it is empty.
	ID string
	// Secret (a configured client's plain secret, at least 32
	// characters, e.g. from an environment variable) or SecretHash (the
	// hex SHA-256 of one) authenticates a confidential configured client.
	// CreateClient ignores both and generates the secret.
	Secret     string
	SecretHash string
	Name       string
	// RedirectURIs are matched exactly. https, or http on a loopback
	// host; a public client may also use a private-use scheme with a dot
	// (com.example.app:/cb, RFC 8252 §7.1), and its http://127.0.0.1 and
	// http://[::1] URIs match any port (RFC 8252 §7.3).
	RedirectURIs           []string
	PostLogoutRedirectURIs []string
	// Public clients have no secret and must use PKCE.
	Public bool
	// ThirdParty clients ask for consent.
	ThirdParty bool
	// PKCEOptional lets a confidential client skip PKCE.
	PKCEOptional bool
	// GrantTypes: "authorization_code", "refresh_token",
	// "client_credentials". Default: the first two when the client has
	// redirect URIs, otherwise client_credentials.
	GrantTypes []string
	// Scopes the client may ask for besides openid, profile, email and
	// offline_access (for client_credentials: the scopes it gets).
	Scopes []string
	// SigningAlg is "ES256" (default) or "RS256".
	SigningAlg string
	// AccessTokenFormat is "opaque" (default for user tokens) or "jwt".
	// client_credentials tokens are JWTs unless this says "opaque".
	AccessTokenFormat string
	// AccessTokenTTL and RefreshTokenTTL override the provider's.
	AccessTokenTTL  time.Duration
	RefreshTokenTTL time.Duration
	// BackChannelLogoutURI receives logout tokens (OpenID Connect
	// Back-Channel Logout 1.0).
	BackChannelLogoutURI string
	// Claims adds claims to the client's ID tokens from the account:
	// claim name → "username", "name" or "email" (the primary address),
	// e.g. {pid: username} where usernames are national identity numbers.
	// A claim the provider sets itself cannot be named. Configured
	// clients only; an empty field adds nothing.
	Claims map[string]string
}

// ClaimSources are the account fields ClientConfig.Claims can name.
var ClaimSources = []string{"username", "name", "email"}

// reservedClaims are set by the provider (or by the protocol) and
// cannot be mapped.
var reservedClaims = []string{"iss", "sub", "aud", "exp", "iat", "nbf", "jti", "nonce", "acr", "amr", "azp",
	"auth_time", "sid", "at_hash", "c_hash", "email_verified", "client_id", "scope"}

// CheckClaims reports the first claim mapping of ClientConfig.Claims that
// is not allowed (config check uses it).
func CheckClaims(m map[string]string) error { return checkClaims(m) }

// checkClaims reports the first claim mapping that is not allowed.
func checkClaims(m map[string]string) error {
	for name, src := range m {
		switch {
		case name == "" || strings.ContainsFunc(name, isSpace):
			return fmt.Errorf("claims: name %q is empty or contains white space", name)
		case slices.Contains(reservedClaims, name):
			return fmt.Errorf("claims: %q is set by the provider and cannot be mapped", name)
		case !slices.Contains(ClaimSources, src):
			return fmt.Errorf("claims.%s: %q is not one of %s", name, src, strings.Join(ClaimSources, ", "))
		}
	}
	return nil
}

// Deps are what the provider needs from the rest of Portvakt. Store,
// Sealer and LoginURL are required.
type Deps struct {
	Store store.Store
	// Sealer encrypts the signing keys' private halves at rest.
	Sealer *secret.Sealer
	// Now defaults to time.Now.
	Now func() time.Time
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// LoginURL is where /authorize sends the browser: the login page,
	// which signs the user in, steps up, asks for consent and then calls
	// Complete. It gets the authorization request's ID.
	LoginURL func(authRequestID string) string
	// LogoutURL is where /end_session sends a browser it cannot log out
	// at once (no valid id_token_hint): a page that asks "Sign out?" and
	// calls EndSession with logoutRequest. With an empty logoutRequest it
	// is the "you are signed out" page. Default: the issuer's "/".
	LogoutURL func(logoutRequest string) string
	// HTTPClient delivers back-channel logout tokens. Default: a client
	// with BackChannelLogoutTimeout.
	HTTPClient *http.Client
	// LogoutQueued, when set, makes back-channel logout durable: each
	// logout goes to the store's outbox as a store.ChannelLogout message
	// (in the same transaction as the change that ended the session,
	// where there is one), the worker delivers it through
	// Provider.DeliverLogout with retries, and LogoutQueued is called
	// after each is queued (the worker's Kick). Nil sends them at once,
	// on the caller's context.
	LogoutQueued func()
}

// Grant types.
const (
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
	GrantClientCredentials = "client_credentials"
)

// withDefaults returns cfg with defaults filled in, or every problem it
// has, each with the field's path.
func (cfg Config) withDefaults() (Config, error) {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&cfg.AuthRequestTTL, 30*time.Minute)
	def(&cfg.CodeTTL, 60*time.Second)
	def(&cfg.AccessTokenTTL, 10*time.Minute)
	def(&cfg.IDTokenTTL, time.Hour)
	def(&cfg.RefreshTokenTTL, 30*24*time.Hour)
	def(&cfg.RefreshTokenIdleTTL, min(14*24*time.Hour, cfg.RefreshTokenTTL))
	def(&cfg.Keys.RotationPeriod, 30*24*time.Hour)
	def(&cfg.Keys.PrePublish, time.Hour)
	def(&cfg.Keys.Overlap, 24*time.Hour)
	def(&cfg.ClientCacheTTL, 10*time.Second)
	def(&cfg.BackChannelLogoutTimeout, 5*time.Second)
	if len(cfg.Keys.Algorithms) == 0 {
		cfg.Keys.Algorithms = []string{store.AlgES256, store.AlgRS256}
	}
	if len(cfg.ACR) == 0 {
		cfg.ACR = DefaultACR
	}

	if err := checkIssuer(cfg.Issuer, cfg.AllowHTTP); err != nil {
		bad("issuer: %v", err)
	}
	for name, d := range map[string]time.Duration{
		"auth_request_ttl": cfg.AuthRequestTTL, "code_ttl": cfg.CodeTTL, "access_token_ttl": cfg.AccessTokenTTL,
		"id_token_ttl": cfg.IDTokenTTL, "refresh_token_ttl": cfg.RefreshTokenTTL,
		"refresh_token_idle_ttl": cfg.RefreshTokenIdleTTL, "keys.rotation_period": cfg.Keys.RotationPeriod,
		"keys.pre_publish": cfg.Keys.PrePublish, "keys.overlap": cfg.Keys.Overlap,
		"client_cache_ttl": cfg.ClientCacheTTL, "backchannel_logout_timeout": cfg.BackChannelLogoutTimeout,
	} {
		if d < 0 {
			bad("%s: %v is negative", name, d)
		}
	}
	if cfg.CodeTTL > time.Minute {
		bad("code_ttl: %v is more than 1m (ASVS 10.4.3)", cfg.CodeTTL)
	}
	if cfg.RefreshTokenIdleTTL > cfg.RefreshTokenTTL {
		bad("refresh_token_idle_ttl: %v is more than refresh_token_ttl %v", cfg.RefreshTokenIdleTTL, cfg.RefreshTokenTTL)
	}
	if cfg.Keys.PrePublish >= cfg.Keys.RotationPeriod {
		bad("keys.pre_publish: %v is not shorter than keys.rotation_period %v", cfg.Keys.PrePublish, cfg.Keys.RotationPeriod)
	}
	for name, d := range map[string]time.Duration{"id_token_ttl": cfg.IDTokenTTL, "access_token_ttl": cfg.AccessTokenTTL} {
		if d > cfg.Keys.Overlap {
			bad("keys.overlap: %v is shorter than %s %v, so its tokens would outlive their key", cfg.Keys.Overlap, name, d)
		}
	}
	for i, alg := range cfg.Keys.Algorithms {
		if alg != store.AlgES256 && alg != store.AlgRS256 {
			bad("keys.algorithms[%d]: %q is not ES256 or RS256", i, alg)
		}
	}
	levels := map[int]bool{}
	for i, a := range cfg.ACR {
		if a.Value == "" || strings.ContainsFunc(a.Value, isSpace) {
			bad("acr[%d]: value %q is empty or contains white space", i, a.Value)
		}
		if a.Level < 1 {
			bad("acr[%d]: level %d is not 1 or more", i, a.Level)
		}
		levels[a.Level] = true
	}
	ids := map[string]bool{}
	for i, cc := range cfg.Clients {
		if _, err := cc.toClient(cfg, true); err != nil {
			bad("clients[%d]: %v", i, err)
		}
		if err := checkClaims(cc.Claims); err != nil {
			bad("clients[%d]: %v", i, err)
		}
		if ids[cc.ID] {
			bad("clients[%d]: id %q is used twice", i, cc.ID)
		}
		ids[cc.ID] = true
	}
	return cfg, errors.Join(errs...)
}

func isSpace(r rune) bool {
	return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\f' || r == '\v'
}

// checkIssuer refuses issuers that are not absolute https URLs (or http on
// a loopback host, or anywhere with allowHTTP), or that carry a query or
// fragment (OpenID Connect Discovery §3).
func checkIssuer(issuer string, allowHTTP bool) error {
	if issuer == "" {
		return errors.New("required")
	}
	u, err := url.Parse(issuer)
	if err != nil {
		return err
	}
	switch {
	case u.Host == "":
		return fmt.Errorf("%q has no host", issuer)
	case u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		return fmt.Errorf("%q has a query, fragment or user", issuer)
	case strings.HasSuffix(issuer, "/"):
		return fmt.Errorf("%q ends in a slash", issuer)
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && (allowHTTP || isLoopbackHost(u.Hostname(), true)):
		return nil
	}
	return fmt.Errorf("%q is not https (http only on a loopback host, or with allow_http)", issuer)
}

// toClient checks cc and returns the client it describes. static is set
// for a configured client, whose secret comes from cc; CreateClient makes
// the secret itself.
func (cc ClientConfig) toClient(cfg Config, static bool) (store.Client, error) {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	c := store.Client{
		ID:                     cc.ID,
		Name:                   cc.Name,
		RedirectURIs:           slices.Clone(cc.RedirectURIs),
		PostLogoutRedirectURIs: slices.Clone(cc.PostLogoutRedirectURIs),
		Public:                 cc.Public,
		ThirdParty:             cc.ThirdParty,
		PKCEOptional:           cc.PKCEOptional,
		GrantTypes:             slices.Clone(cc.GrantTypes),
		Scopes:                 slices.Clone(cc.Scopes),
		SigningAlg:             cc.SigningAlg,
		AccessTokenFormat:      cc.AccessTokenFormat,
		AccessTokenTTL:         cc.AccessTokenTTL,
		RefreshTokenTTL:        cc.RefreshTokenTTL,
		BackChannelLogoutURI:   cc.BackChannelLogoutURI,
	}
	if !validClientID(c.ID) {
		bad("id %q is not 1 to 64 of A-Z a-z 0-9 . _ -", c.ID)
	}
	if c.Name == "" {
		c.Name = c.ID
	}
	if len(c.GrantTypes) == 0 {
		if len(c.RedirectURIs) > 0 {
			c.GrantTypes = []string{GrantAuthorizationCode, GrantRefreshToken}
		} else {
			c.GrantTypes = []string{GrantClientCredentials}
		}
	}
	for _, g := range c.GrantTypes {
		switch g {
		case GrantAuthorizationCode, GrantRefreshToken, GrantClientCredentials:
		case GrantTokenExchange:
			if c.Public {
				bad("a public client cannot use token exchange")
			}
		case "implicit", "password":
			bad("grant type %q is not offered (RFC 9700 §2.1.2, §2.4)", g)
		default:
			bad("grant type %q is not authorization_code, refresh_token or client_credentials", g)
		}
	}
	hasCode := slices.Contains(c.GrantTypes, GrantAuthorizationCode)
	if hasCode && len(c.RedirectURIs) == 0 {
		bad("the authorization_code grant needs at least one redirect URI")
	}
	if slices.Contains(c.GrantTypes, GrantRefreshToken) && !hasCode {
		bad("the refresh_token grant needs the authorization_code grant")
	}
	if c.Public && slices.Contains(c.GrantTypes, GrantClientCredentials) {
		bad("a public client cannot use client_credentials")
	}
	if c.Public && c.PKCEOptional {
		bad("a public client must use PKCE (pkce_optional is for confidential clients)")
	}
	for i, u := range c.RedirectURIs {
		if err := checkRedirectURI(u, c.Public); err != nil {
			bad("redirect_uris[%d]: %v", i, err)
		}
	}
	for i, u := range c.PostLogoutRedirectURIs {
		if err := checkRedirectURI(u, c.Public); err != nil {
			bad("post_logout_redirect_uris[%d]: %v", i, err)
		}
	}
	if c.BackChannelLogoutURI != "" {
		if err := checkRedirectURI(c.BackChannelLogoutURI, false); err != nil {
			bad("backchannel_logout_uri: %v", err)
		}
	}
	for i, s := range c.Scopes {
		if s == "" || strings.ContainsFunc(s, isSpace) || strings.ContainsAny(s, `"\`) {
			bad("scopes[%d]: %q is not a scope token", i, s)
		}
	}
	if c.SigningAlg == "" {
		c.SigningAlg = store.AlgES256
	}
	if !slices.Contains(cfg.Keys.Algorithms, c.SigningAlg) {
		bad("signing_alg %q is not one of the provider's algorithms %v", c.SigningAlg, cfg.Keys.Algorithms)
	}
	switch c.AccessTokenFormat {
	case "", store.TokenOpaque, store.TokenJWT:
	default:
		bad("access_token_format %q is not opaque or jwt", c.AccessTokenFormat)
	}
	if c.AccessTokenTTL < 0 || c.RefreshTokenTTL < 0 {
		bad("token lifetimes must not be negative")
	}
	if c.AccessTokenTTL > cfg.Keys.Overlap {
		bad("access_token_ttl %v is longer than keys.overlap %v", c.AccessTokenTTL, cfg.Keys.Overlap)
	}
	if static {
		switch {
		case c.Public && (cc.Secret != "" || cc.SecretHash != ""):
			bad("a public client has no secret")
		case c.Public:
		case cc.Secret != "" && cc.SecretHash != "":
			bad("set secret or secret_hash, not both")
		case cc.Secret != "":
			if len(cc.Secret) < 32 {
				bad("secret is shorter than 32 characters")
			}
			c.SecretHash = secret.Hash(cc.Secret)
		case cc.SecretHash != "":
			h, err := parseHexDigest(cc.SecretHash)
			if err != nil {
				bad("secret_hash: %v", err)
			}
			c.SecretHash = h
		default:
			bad("a confidential client needs secret or secret_hash")
		}
	}
	return c, errors.Join(errs...)
}

func validClientID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

func parseHexDigest(s string) ([]byte, error) {
	h, err := hex.DecodeString(strings.TrimSpace(s))
	if err != nil || len(h) != 32 {
		return nil, errors.New("not 64 hex digits (a SHA-256 digest)")
	}
	return h, nil
}
