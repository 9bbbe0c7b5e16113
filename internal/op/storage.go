package op

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/portvakt/portvakt/internal/secret"
	"github.com/portvakt/portvakt/internal/store"
)

// storage is the provider as zitadel's op.Storage. zitadel calls it from
// the token endpoint (issuing tokens, refreshing, client credentials),
// for keys and for ID token claims. The endpoints Portvakt serves itself
// (authorize, callback, introspection, userinfo, revocation, end session)
// do not go through the methods that say so.
type storage struct{ p *Provider }

var (
	_ zop.Storage                        = (*storage)(nil)
	_ zop.ClientCredentialsStorage       = (*storage)(nil)
	_ zop.CanSetUserinfoFromRequest      = (*storage)(nil)
	_ zop.CanGetPrivateClaimsFromRequest = (*storage)(nil)
)

var errNotUsed = errors.New("op: not used by Portvakt's provider")

// --- Token requests ---------------------------------------------------

// authRequest is a redeemed authorization request with its new grant.
type authRequest struct {
	r store.AuthRequest
	g store.Grant
}

var _ zop.AuthRequest = (*authRequest)(nil)

func (a *authRequest) GetID() string          { return a.r.ID }
func (a *authRequest) GetACR() string         { return a.r.ACR }
func (a *authRequest) GetAMR() []string       { return a.r.AMR }
func (a *authRequest) GetAudience() []string  { return []string{a.r.ClientID} }
func (a *authRequest) GetAuthTime() time.Time { return a.r.AuthTime }
func (a *authRequest) GetClientID() string    { return a.r.ClientID }
func (a *authRequest) GetNonce() string       { return a.r.Nonce }
func (a *authRequest) GetRedirectURI() string { return a.r.RedirectURI }
func (a *authRequest) GetScopes() []string    { return a.r.Scopes }
func (a *authRequest) GetState() string       { return a.r.State }
func (a *authRequest) GetSubject() string     { return a.r.AccountID }
func (a *authRequest) Done() bool             { return a.r.Done }
func (a *authRequest) GetResponseType() oidc.ResponseType {
	return oidc.ResponseTypeCode
}
func (a *authRequest) GetResponseMode() oidc.ResponseMode {
	return oidc.ResponseMode(a.r.ResponseMode)
}
func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge {
	if a.r.CodeChallenge == "" {
		return nil
	}
	return &oidc.CodeChallenge{Challenge: a.r.CodeChallenge, Method: oidc.CodeChallengeMethod(a.r.CodeChallengeMethod)}
}

// refreshRequest is a refresh token being used, with its grant.
type refreshRequest struct {
	g      store.Grant
	rt     store.RefreshToken
	scopes []string // the access token's, narrowed by the request's scope
}

var _ zop.RefreshTokenRequest = (*refreshRequest)(nil)

func (r *refreshRequest) GetAMR() []string            { return r.g.AMR }
func (r *refreshRequest) GetAudience() []string       { return []string{r.g.ClientID} }
func (r *refreshRequest) GetAuthTime() time.Time      { return r.g.AuthTime }
func (r *refreshRequest) GetClientID() string         { return r.g.ClientID }
func (r *refreshRequest) GetScopes() []string         { return r.scopes }
func (r *refreshRequest) GetSubject() string          { return r.g.AccountID }
func (r *refreshRequest) SetCurrentScopes(s []string) { r.scopes = s }

// ccRequest is a client credentials token request.
type ccRequest struct {
	c      *client
	scopes []string
}

func (r *ccRequest) GetSubject() string    { return r.c.c.ID }
func (r *ccRequest) GetAudience() []string { return []string{r.c.c.ID} }
func (r *ccRequest) GetScopes() []string   { return r.scopes }

// grantOf returns the grant behind a user token request.
func grantOf(req any) (store.Grant, bool) {
	switch r := req.(type) {
	case *authRequest:
		return r.g, true
	case *refreshRequest:
		return r.g, true
	}
	return store.Grant{}, false
}

// --- Signing algorithm per client ---------------------------------------

type algKey struct{}

// withAlg makes the signing key chosen in ctx the one of the client's
// algorithm (zitadel asks the storage for "the" signing key).
func withAlg(ctx context.Context, c *client) context.Context {
	if c == nil {
		return ctx
	}
	return context.WithValue(ctx, algKey{}, c.c.SigningAlg)
}

func (s *storage) alg(ctx context.Context) string {
	if a, ok := ctx.Value(algKey{}).(string); ok && a != "" {
		return a
	}
	return s.p.cfg.Keys.Algorithms[0]
}

// --- Opaque access tokens -----------------------------------------------

// An opaque access token is 256 random bits (base64url); the database
// keeps only its SHA-256 (tokenKey) as the token's ID. zitadel makes a
// bearer token as Encrypt(tokenID + ":" + subject); opaqueCrypto returns
// the random part, which is the token.
type opaqueCrypto struct{}

func (opaqueCrypto) Encrypt(s string) (string, error) {
	token, _, ok := strings.Cut(s, ":")
	if !ok || token == "" {
		return "", errors.New("op: unexpected bearer token input")
	}
	return token, nil
}

func (opaqueCrypto) Decrypt(string) (string, error) { return "", errNotUsed }

// tokenKey is the stored ID of an opaque access token.
func tokenKey(token string) string {
	h := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

// statelessPrefix marks the jti of a client credentials JWT that has no
// database record.
const statelessPrefix = "cc-"

// newAccessToken makes an access token of grant g (empty for client
// credentials) for subject, in the format jwt says. It returns the token
// ID zitadel expects (the jti of a JWT, or the opaque token itself) and
// the record to store.
func (s *storage) newAccessToken(c *client, jwt bool, grantID, subject string, scopes []string, now time.Time) (string, store.AccessToken) {
	at := store.AccessToken{
		GrantID:   grantID,
		ClientID:  c.c.ID,
		Subject:   subject,
		Scopes:    scopes,
		Audience:  []string{c.c.ID},
		CreatedAt: now,
		ExpiresAt: now.Add(c.accessTokenTTL()),
	}
	if jwt {
		at.ID = secret.ID()
		return at.ID, at
	}
	token := secret.Token()
	at.ID = tokenKey(token)
	return token, at
}

// --- AuthStorage --------------------------------------------------------

func (s *storage) CreateAuthRequest(context.Context, *oidc.AuthRequest, string) (zop.AuthRequest, error) {
	return nil, errNotUsed // Portvakt serves /authorize itself
}

func (s *storage) AuthRequestByID(ctx context.Context, id string) (zop.AuthRequest, error) {
	r, err := s.p.st.GetAuthRequest(ctx, id)
	if err != nil {
		return nil, err
	}
	return &authRequest{r: r}, nil
}

func (s *storage) AuthRequestByCode(context.Context, string) (zop.AuthRequest, error) {
	return nil, errNotUsed // server.CodeExchange redeems codes
}

func (s *storage) SaveAuthCode(context.Context, string, string) error {
	return errNotUsed // the callback issues codes
}

// DeleteAuthRequest keeps the request: its code must stay recognizable so
// that a replay revokes the grant. Sweep removes it when it expires.
func (s *storage) DeleteAuthRequest(context.Context, string) error { return nil }

// CreateAccessToken issues an access token without a refresh token: for
// an authorization code without offline_access, and for client
// credentials, whose JWTs are not stored at all.
func (s *storage) CreateAccessToken(ctx context.Context, req zop.TokenRequest) (string, time.Time, error) {
	now := s.p.now()
	switch r := req.(type) {
	case *ccRequest:
		cc := ccClient{r.c}
		if cc.AccessTokenType() == zop.AccessTokenTypeJWT {
			return statelessPrefix + secret.ID(), now.Add(r.c.accessTokenTTL()), nil
		}
		id, at := s.newAccessToken(r.c, false, "", r.c.c.ID, r.scopes, now)
		if err := s.p.st.CreateAccessToken(ctx, at); err != nil {
			return "", time.Time{}, fmt.Errorf("op: %w", err)
		}
		return id, at.ExpiresAt, nil
	case *authRequest:
		c, err := s.p.client(ctx, r.r.ClientID)
		if err != nil {
			return "", time.Time{}, err
		}
		id, at := s.newAccessToken(c, c.AccessTokenType() == zop.AccessTokenTypeJWT, r.g.ID, r.r.AccountID, r.r.Scopes, now)
		if err := s.p.st.CreateAccessToken(ctx, at); err != nil {
			return "", time.Time{}, fmt.Errorf("op: %w", err)
		}
		return id, at.ExpiresAt, nil
	}
	return "", time.Time{}, fmt.Errorf("op: no access tokens for a %T", req)
}

// CreateAccessAndRefreshTokens issues the first refresh token of a grant
// (currentRefreshToken empty) or rotates one: the old token is used up,
// exactly once, and a replay of it revokes the whole family.
func (s *storage) CreateAccessAndRefreshTokens(ctx context.Context, req zop.TokenRequest, currentRefreshToken string) (string, string, time.Time, error) {
	now := s.p.now()
	g, ok := grantOf(req)
	if !ok {
		return "", "", time.Time{}, fmt.Errorf("op: no refresh tokens for a %T", req)
	}
	c, err := s.p.client(ctx, g.ClientID)
	if err != nil {
		return "", "", time.Time{}, err
	}
	refresh := secret.Token()
	rt := store.RefreshToken{
		Hash:      secret.Hash(refresh),
		GrantID:   g.ID,
		Scopes:    g.Scopes,
		CreatedAt: now,
		ExpiresAt: minTime(now.Add(s.p.cfg.RefreshTokenIdleTTL), g.ExpiresAt),
	}
	jwt := c.AccessTokenType() == zop.AccessTokenTypeJWT
	id, at := s.newAccessToken(c, jwt, g.ID, g.AccountID, req.GetScopes(), now)
	if currentRefreshToken == "" {
		err = s.p.st.CreateRefreshToken(ctx, rt, at)
	} else {
		// A refresh keeps the grant's scope (RFC 6749 §6); a narrower
		// scope only narrows the access token.
		rt.Scopes = req.(*refreshRequest).rt.Scopes
		err = s.p.st.RotateRefreshToken(ctx, secret.Hash(currentRefreshToken), now, rt, at)
		switch {
		case errors.Is(err, store.ErrConflict):
			s.p.log.Warn("refresh token replayed; grant revoked", "grant", g.ID, "client", g.ClientID)
			return "", "", time.Time{}, oidc.ErrInvalidGrant().WithDescription("the refresh token was used already; every token of its grant is revoked")
		case errors.Is(err, store.ErrNotFound):
			return "", "", time.Time{}, oidc.ErrInvalidGrant().WithDescription("the refresh token is invalid")
		}
	}
	if err != nil {
		return "", "", time.Time{}, fmt.Errorf("op: %w", err)
	}
	return id, refresh, at.ExpiresAt, nil
}

// TokenRequestByRefreshToken checks a refresh token. A used one is a
// replay (RFC 9700 §4.14): its grant is revoked, so the token that
// replaced it dies too.
func (s *storage) TokenRequestByRefreshToken(ctx context.Context, token string) (zop.RefreshTokenRequest, error) {
	rt, g, err := s.p.st.GetRefreshToken(ctx, secret.Hash(token))
	if err != nil {
		return nil, err
	}
	now := s.p.now()
	switch {
	case !g.RevokedAt.IsZero():
		return nil, errors.New("the grant is revoked")
	case !rt.UsedAt.IsZero():
		if _, err := s.p.st.RevokeGrants(ctx, store.GrantFilter{ID: g.ID}, now); err != nil {
			return nil, err
		}
		s.p.log.Warn("refresh token replayed; grant revoked", "grant", g.ID, "client", g.ClientID)
		return nil, errors.New("the refresh token was used already; every token of its grant is revoked")
	case !now.Before(rt.ExpiresAt):
		return nil, errors.New("the refresh token expired")
	}
	acct, err := s.p.st.GetAccount(ctx, g.AccountID)
	if err != nil || acct.Disabled {
		return nil, errors.New("the account is gone or disabled")
	}
	if _, err := s.p.actingFor(ctx, &g); err != nil {
		// The person no longer acts for the party the grant speaks for
		// (represent.go): the app must sign the person in again.
		return nil, err
	}
	return &refreshRequest{g: g, rt: rt, scopes: rt.Scopes}, nil
}

func (s *storage) TerminateSession(context.Context, string, string) error {
	return errNotUsed // server.EndSession
}

func (s *storage) RevokeToken(context.Context, string, string, string) *oidc.Error {
	return oidc.ErrServerError().WithParent(errNotUsed) // server.Revocation
}

func (s *storage) GetRefreshTokenInfo(context.Context, string, string) (string, string, error) {
	return "", "", zop.ErrInvalidRefreshToken // server.Revocation
}

// SigningKey returns the key that signs now for the algorithm of the
// client in ctx (withAlg). It never makes a key: without EnsureKeys there
// is none, and signing fails.
func (s *storage) SigningKey(ctx context.Context) (zop.SigningKey, error) {
	alg := s.alg(ctx)
	k := s.p.ring.Load().signer(alg, s.p.now())
	if k == nil {
		return nil, fmt.Errorf("op: no %s signing key (was EnsureKeys called at start-up?)", alg)
	}
	return zopSigningKey{k}, nil
}

func (s *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	out := make([]jose.SignatureAlgorithm, len(s.p.cfg.Keys.Algorithms))
	for i, a := range s.p.cfg.Keys.Algorithms {
		out[i] = jose.SignatureAlgorithm(a)
	}
	return out, nil
}

func (s *storage) KeySet(context.Context) ([]zop.Key, error) { return s.p.jwks(), nil }

// --- OPStorage ----------------------------------------------------------

func (s *storage) GetClientByClientID(ctx context.Context, id string) (zop.Client, error) {
	c, err := s.p.client(ctx, id)
	if errors.Is(err, ErrUnknownClient) {
		return nil, oidc.ErrInvalidClient().WithDescription("unknown client")
	}
	if err != nil {
		return nil, err
	}
	return c, nil
}

func (s *storage) AuthorizeClientIDSecret(ctx context.Context, id, clientSecret string) error {
	_, err := s.p.authenticate(ctx, id, clientSecret)
	return err
}

func (s *storage) SetUserinfoFromScopes(_ context.Context, ui *oidc.UserInfo, userID, _ string, _ []string) error {
	ui.Subject = userID
	return nil
}

// SetUserinfoFromRequest fills the ID token's claims: those of the
// profile and email scopes, and sid and acr (the latter zitadel sets
// itself only for a code, not for a refresh).
func (s *storage) SetUserinfoFromRequest(ctx context.Context, ui *oidc.UserInfo, req zop.IDTokenRequest, scopes []string) error {
	if err := s.p.userinfo(ctx, ui, req.GetSubject(), scopes); err != nil {
		return err
	}
	if g, ok := grantOf(req); ok {
		ui.AppendClaims("sid", g.SessionID)
		if g.ACR != "" {
			ui.AppendClaims("acr", g.ACR)
		}
		rc, err := s.p.representClaims(ctx, &g, scopes)
		if err != nil {
			return oidc.ErrInvalidGrant().WithDescription("%v", err)
		}
		for k, v := range rc {
			ui.AppendClaims(k, v)
		}
	}
	return s.p.mappedClaims(ctx, ui, req.GetClientID(), req.GetSubject())
}

func (s *storage) SetUserinfoFromToken(context.Context, *oidc.UserInfo, string, string, string) error {
	return errNotUsed // server.UserInfo
}

func (s *storage) SetIntrospectionFromToken(context.Context, *oidc.IntrospectionResponse, string, string, string) error {
	return errNotUsed // server.Introspect
}

func (s *storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

// GetPrivateClaimsFromRequest adds to a JWT access token its scope, and
// for a user's token how and when the user authenticated, so that a
// resource server can require a level (ASVS 10.3.4).
func (s *storage) GetPrivateClaimsFromRequest(ctx context.Context, req zop.TokenRequest, _ []string) (map[string]any, error) {
	claims := map[string]any{"scope": strings.Join(req.GetScopes(), " ")}
	if g, ok := grantOf(req); ok {
		rc, err := s.p.representClaims(ctx, &g, req.GetScopes())
		if err != nil {
			return nil, oidc.ErrInvalidGrant().WithDescription("%v", err)
		}
		for k, v := range rc {
			claims[k] = v
		}
		claims["sid"] = g.SessionID
		claims["auth_time"] = g.AuthTime.Unix()
		if len(g.AMR) > 0 {
			claims["amr"] = g.AMR
		}
		if g.ACR != "" {
			claims["acr"] = g.ACR
		}
	}
	return claims, nil
}

func (s *storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errors.New("op: JWT client authentication is not offered")
}

func (s *storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errors.New("op: the JWT bearer grant is not offered")
}

func (s *storage) Health(ctx context.Context) error { return s.p.st.Ping(ctx) }

// --- ClientCredentialsStorage -------------------------------------------

// ClientCredentials authenticates a client for the client credentials
// grant.
func (s *storage) ClientCredentials(ctx context.Context, id, clientSecret string) (zop.Client, error) {
	c, err := s.p.authenticate(ctx, id, clientSecret)
	if err != nil {
		return nil, oidc.ErrInvalidClient().WithDescription("invalid client_id / client_secret").WithParent(err)
	}
	return ccClient{c}, nil
}

// ClientCredentialsTokenRequest checks the scopes: none asks for every
// scope of the client; one the client may not have is invalid_scope.
func (s *storage) ClientCredentialsTokenRequest(ctx context.Context, id string, scopes []string) (zop.TokenRequest, error) {
	c, err := s.p.client(ctx, id)
	if err != nil {
		return nil, oidc.ErrInvalidClient().WithParent(err)
	}
	if len(scopes) == 0 {
		scopes = c.c.Scopes
	}
	for _, sc := range scopes {
		if !slices.Contains(c.c.Scopes, sc) {
			return nil, oidc.ErrInvalidScope().WithDescription("the client may not have scope %q", sc)
		}
	}
	return &ccRequest{c: c, scopes: slices.Clone(scopes)}, nil
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
