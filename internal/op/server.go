package op

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"

	"github.com/portvakt/portvakt/internal/secret"
	"github.com/portvakt/portvakt/internal/store"
)

// server is zitadel's LegacyServer with the endpoints Portvakt answers
// itself: code exchange (strict PKCE, replay revocation), introspection,
// userinfo, revocation, end session and discovery. The token endpoint's
// parsing, client authentication and token minting stay zitadel's.
type server struct {
	*zop.LegacyServer
	p *Provider
}

// discovery is the provider metadata, with RFC 9207's flag, which
// zitadel's type lacks.
type discovery struct {
	*oidc.DiscoveryConfiguration
	AuthorizationResponseIssParameterSupported bool `json:"authorization_response_iss_parameter_supported"`
}

func (s *server) Discovery(ctx context.Context, _ *zop.Request[struct{}]) (*zop.Response, error) {
	p := s.p
	algs := p.cfg.Keys.Algorithms
	var locales oidc.Locales
	for _, l := range p.cfg.UILocales {
		if tag, err := language.Parse(l); err == nil {
			locales = append(locales, tag)
		}
	}
	return zop.NewResponse(discovery{
		DiscoveryConfiguration: &oidc.DiscoveryConfiguration{
			Issuer:                                    p.cfg.Issuer,
			AuthorizationEndpoint:                     p.absolute(PathAuthorize, nil),
			TokenEndpoint:                             p.absolute(PathToken, nil),
			IntrospectionEndpoint:                     p.absolute(PathIntrospec, nil),
			UserinfoEndpoint:                          p.absolute(PathUserinfo, nil),
			RevocationEndpoint:                        p.absolute(PathRevoke, nil),
			EndSessionEndpoint:                        p.absolute(PathEndSession, nil),
			JwksURI:                                   p.absolute(PathKeys, nil),
			ScopesSupported:                           standardScopes,
			ResponseTypesSupported:                    []string{string(oidc.ResponseTypeCode)},
			ResponseModesSupported:                    []string{string(oidc.ResponseModeQuery), string(oidc.ResponseModeFormPost)},
			GrantTypesSupported:                       []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken, oidc.GrantTypeClientCredentials, oidc.GrantTypeTokenExchange},
			ACRValuesSupported:                        append(slices.Clone(p.acr.values), p.up.values...),
			SubjectTypesSupported:                     []string{"public"},
			IDTokenSigningAlgValuesSupported:          algs,
			TokenEndpointAuthMethodsSupported:         []oidc.AuthMethod{oidc.AuthMethodBasic, oidc.AuthMethodPost, oidc.AuthMethodNone},
			RevocationEndpointAuthMethodsSupported:    []oidc.AuthMethod{oidc.AuthMethodBasic, oidc.AuthMethodPost, oidc.AuthMethodNone},
			IntrospectionEndpointAuthMethodsSupported: []oidc.AuthMethod{oidc.AuthMethodBasic, oidc.AuthMethodPost},
			ClaimsSupported:                           []string{"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "azp", "sid", "at_hash", "c_hash", "name", "preferred_username", "locale", "updated_at", "email", "email_verified", "act", "represented"},
			ClaimsParameterSupported:                  true,
			CodeChallengeMethodsSupported:             []oidc.CodeChallengeMethod{oidc.CodeChallengeMethodS256},
			UILocalesSupported:                        locales,
			RequestParameterSupported:                 false,
			RequestURIParameterSupported:              false,
			BackChannelLogoutSupported:                true,
			BackChannelLogoutSessionSupported:         true,
		},
		AuthorizationResponseIssParameterSupported: true,
	}), nil
}

// VerifyAuthRequest refuses: Portvakt's own handler serves /authorize,
// and this is reached only if zitadel's router gets the request anyway.
func (s *server) VerifyAuthRequest(context.Context, *zop.Request[oidc.AuthRequest]) (*zop.ClientRequest[oidc.AuthRequest], error) {
	return nil, zop.NewStatusError(oidc.ErrInvalidRequestRedirectURI().WithDescription("not served here"), http.StatusNotFound)
}

// VerifyClient is zitadel's, with a failed client authentication answered
// by 401 as RFC 6749 §5.2 says (basicChallenge adds the header).
func (s *server) VerifyClient(ctx context.Context, r *zop.Request[zop.ClientCredentials]) (zop.Client, error) {
	c, err := s.LegacyServer.VerifyClient(ctx, r)
	var oe *oidc.Error
	if errors.As(err, &oe) && oe.ErrorType == oidc.InvalidClient {
		return nil, zop.NewStatusError(oe, http.StatusUnauthorized)
	}
	return c, err
}

// codeVerifierRE is compiled on first use, as are the other packages'
// patterns: a counted repetition compiles to a large program, and
// compiling them all in package init was about 400 KB of start-up heap in
// every process (issue 12).
var codeVerifierRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9._~-]{43,128}$`) })

// CodeExchange redeems an authorization code. The code must be the
// client's, unexpired, sent with the same redirect_uri, and with the PKCE
// verifier when the request had a challenge, and without one when it had
// none (a downgrade, RFC 9700 §4.8). The code is redeemed exactly once;
// a second redemption revokes everything the first one issued (RFC 6749
// §4.1.2).
func (s *server) CodeExchange(ctx context.Context, r *zop.ClientRequest[oidc.AccessTokenRequest]) (*zop.Response, error) {
	p := s.p
	c := clientOf(r.Client)
	if c == nil {
		return nil, oidc.ErrInvalidClient()
	}
	ctx = withAlg(ctx, c)
	codeHash := secret.Hash(r.Data.Code)
	ar, err := p.st.GetAuthRequestByCode(ctx, codeHash)
	if errors.Is(err, store.ErrNotFound) {
		return nil, oidc.ErrInvalidGrant().WithDescription("the code is invalid")
	}
	if err != nil {
		return nil, fmt.Errorf("op: %w", err)
	}
	now := p.now()
	if ar.GrantID != "" {
		if _, err := p.st.RevokeGrants(ctx, store.GrantFilter{ID: ar.GrantID}, now); err != nil {
			return nil, fmt.Errorf("op: %w", err)
		}
		p.log.Warn("authorization code replayed; grant revoked", "grant", ar.GrantID, "client", ar.ClientID)
		return nil, oidc.ErrInvalidGrant().WithDescription("the code was used already; the tokens issued for it are revoked")
	}
	switch {
	case ar.ClientID != c.c.ID:
		return nil, oidc.ErrInvalidGrant().WithDescription("the code was issued to another client")
	case !now.Before(ar.CodeExpiresAt):
		return nil, oidc.ErrInvalidGrant().WithDescription("the code expired")
	case r.Data.RedirectURI != ar.RedirectURI:
		return nil, oidc.ErrInvalidGrant().WithDescription("redirect_uri is not the one of the authorization request")
	case ar.CodeChallenge == "" && r.Data.CodeVerifier != "":
		return nil, oidc.ErrInvalidGrant().WithDescription("code_verifier without a code_challenge in the authorization request")
	case ar.CodeChallenge == "" && (c.c.Public || !c.c.PKCEOptional):
		return nil, oidc.ErrInvalidGrant().WithDescription("PKCE is required")
	case ar.CodeChallenge != "" && !pkceOK(r.Data.CodeVerifier, ar.CodeChallenge):
		return nil, oidc.ErrInvalidGrant().WithDescription("code_verifier is missing or does not match the code_challenge")
	}
	g := store.Grant{
		ID:        secret.ID(),
		ClientID:  ar.ClientID,
		AccountID: ar.AccountID,
		SessionID: ar.SessionID,
		Scopes:    ar.Scopes,
		AuthTime:  ar.AuthTime,
		AMR:       ar.AMR,
		ACR:       ar.ACR,
		CreatedAt: now,
		ExpiresAt: now.Add(c.accessTokenTTL()),
	}
	// A right is a scope only while the person holds it (systems.go).
	if g.Scopes, err = p.heldScopes(ctx, ar.AccountID, ar.Scopes); err != nil {
		return nil, err
	}
	if g.ActingFor, err = p.grantActingFor(ctx, ar); errors.Is(err, errRepresentationEnded) {
		return nil, oidc.ErrInvalidGrant().WithDescription("the person no longer acts for the party they chose")
	} else if err != nil {
		return nil, err
	}
	if slices.Contains(ar.Scopes, oidc.ScopeOfflineAccess) && c.hasGrant(GrantRefreshToken) {
		g.ExpiresAt = now.Add(c.refreshTokenTTL())
	} else if sess, err := p.st.GetSession(ctx, ar.SessionID); err == nil && sess.ExpiresAt.After(g.ExpiresAt) {
		// Kept while the browser session lives, so that its end still
		// reaches the client by back-channel logout.
		g.ExpiresAt = sess.ExpiresAt
	}
	ar, err = p.st.RedeemAuthCode(ctx, codeHash, g)
	if errors.Is(err, store.ErrConflict) {
		p.log.Warn("authorization code replayed; grant revoked", "client", c.c.ID)
		return nil, oidc.ErrInvalidGrant().WithDescription("the code was used already; the tokens issued for it are revoked")
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, oidc.ErrInvalidGrant().WithDescription("the code is invalid")
	}
	if err != nil {
		return nil, fmt.Errorf("op: %w", err)
	}
	ar.Scopes = g.Scopes
	resp, err := zop.CreateTokenResponse(ctx, &authRequest{r: ar, g: g}, r.Client, s.Provider(), true, r.Data.Code, "")
	if err != nil {
		return nil, err
	}
	return zop.NewResponse(resp), nil
}

// pkceOK checks an RFC 7636 verifier against an S256 challenge.
func pkceOK(verifier, challenge string) bool {
	if !codeVerifierRE().MatchString(verifier) {
		return false
	}
	sum := sha256.Sum256([]byte(verifier))
	return subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(challenge)) == 1
}

func (s *server) RefreshToken(ctx context.Context, r *zop.ClientRequest[oidc.RefreshTokenRequest]) (*zop.Response, error) {
	return s.LegacyServer.RefreshToken(withAlg(ctx, clientOf(r.Client)), r)
}

func (s *server) ClientCredentialsExchange(ctx context.Context, r *zop.ClientRequest[oidc.ClientCredentialsRequest]) (*zop.Response, error) {
	return s.LegacyServer.ClientCredentialsExchange(withAlg(ctx, clientOf(r.Client)), r)
}

// JWTProfile refuses the JWT bearer grant (RFC 7523), which Portvakt does
// not offer.
func (s *server) JWTProfile(context.Context, *zop.Request[oidc.JWTProfileGrantRequest]) (*zop.Response, error) {
	return nil, oidc.ErrUnsupportedGrantType().WithDescription("urn:ietf:params:oauth:grant-type:jwt-bearer is not offered")
}

// Introspect answers RFC 7662 token introspection for a confidential
// client, about tokens issued to it (or naming it in their audience);
// every other token is {"active": false}.
func (s *server) Introspect(ctx context.Context, r *zop.Request[zop.IntrospectionRequest]) (*zop.Response, error) {
	p := s.p
	cc := r.Data.ClientCredentials
	if cc.ClientAssertion != "" {
		return nil, zop.NewStatusError(oidc.ErrInvalidClient().WithDescription("client assertions are not accepted"), http.StatusUnauthorized)
	}
	c, err := p.authenticate(ctx, cc.ClientID, cc.ClientSecret)
	if errors.Is(err, errBadClient) {
		return nil, zop.NewStatusError(oidc.ErrInvalidClient().WithDescription("invalid client_id / client_secret"), http.StatusUnauthorized)
	}
	if err != nil {
		return nil, err
	}
	t, err := p.lookupToken(ctx, r.Data.IntrospectionRequest.Token, r.Form.Get("token_type_hint"))
	if err != nil {
		return nil, err
	}
	if t == nil || (t.clientID != c.c.ID && !slices.Contains(t.audience, c.c.ID)) {
		return zop.NewResponse(introspection{}), nil
	}
	resp := introspection{
		Active:    true,
		Scope:     strings.Join(t.scopes, " "),
		ClientID:  t.clientID,
		Subject:   t.subject,
		Audience:  t.audience,
		Issuer:    p.cfg.Issuer,
		ExpiresAt: t.expiresAt.Unix(),
		IssuedAt:  t.issuedAt.Unix(),
	}
	if t.kind == kindAccess {
		resp.TokenType = oidc.BearerToken
	}
	if t.grant != nil {
		resp.AuthTime, resp.AMR, resp.ACR = t.grant.AuthTime.Unix(), t.grant.AMR, t.grant.ACR
		if _, err := p.actingFor(ctx, t.grant); errors.Is(err, errRepresentationEnded) {
			return zop.NewResponse(introspection{}), nil
		} else if err != nil {
			return nil, err
		}
		rc, err := p.representClaims(ctx, t.grant, t.grant.Scopes)
		if err != nil {
			return nil, err
		}
		resp.Act, resp.Represented = rc["act"], rc["represented"]
		// A token issued through an end-user system names the system
		// as its actor, and dies with it (systems.go).
		act, live, err := p.systemActor(ctx, t)
		if err != nil {
			return nil, err
		}
		if !live {
			return zop.NewResponse(introspection{}), nil
		}
		if act != nil {
			resp.Act = act
		}
	}
	return zop.NewResponse(resp), nil
}

// introspection is an RFC 7662 response. zitadel's type merges extra
// claims by encoding, decoding and encoding again, which cost a fifth of
// an introspection's CPU; acr is a field here.
type introspection struct {
	Active    bool     `json:"active"`
	Scope     string   `json:"scope,omitempty"`
	ClientID  string   `json:"client_id,omitempty"`
	TokenType string   `json:"token_type,omitempty"`
	ExpiresAt int64    `json:"exp,omitempty"`
	IssuedAt  int64    `json:"iat,omitempty"`
	Subject   string   `json:"sub,omitempty"`
	Audience  []string `json:"aud,omitempty"`
	Issuer    string   `json:"iss,omitempty"`
	AuthTime  int64    `json:"auth_time,omitempty"`
	ACR       string   `json:"acr,omitempty"`
	AMR       []string `json:"amr,omitempty"`
	// Act and Represented: represent.go.
	Act         any `json:"act,omitempty"`
	Represented any `json:"represented,omitempty"`
}

// UserInfo answers with the claims of the scopes of a user's access
// token that has the openid scope.
func (s *server) UserInfo(ctx context.Context, r *zop.Request[oidc.UserInfoRequest]) (*zop.Response, error) {
	p := s.p
	invalid := func(desc string) error {
		return zop.NewStatusError(&oidc.Error{ErrorType: "invalid_token", Description: desc}, http.StatusUnauthorized)
	}
	t, err := p.lookupToken(ctx, r.Data.AccessToken, "access_token")
	if err != nil {
		return nil, err
	}
	if t == nil || t.kind != kindAccess {
		return nil, invalid("the access token is invalid or expired")
	}
	if t.grant == nil || t.subject != t.grant.AccountID {
		return nil, invalid("the access token is not a user's")
	}
	rc, err := p.representClaims(ctx, t.grant, t.scopes)
	if errors.Is(err, errRepresentationEnded) {
		return nil, invalid(err.Error())
	}
	if err != nil {
		return nil, err
	}
	if !slices.Contains(t.scopes, oidc.ScopeOpenID) {
		return nil, zop.NewStatusError(&oidc.Error{ErrorType: "insufficient_scope", Description: "the openid scope is required"}, http.StatusForbidden)
	}
	acct, err := p.st.GetAccount(ctx, t.subject)
	if errors.Is(err, store.ErrNotFound) || (err == nil && acct.Disabled) {
		return nil, invalid("the account is gone or disabled")
	}
	if err != nil {
		return nil, fmt.Errorf("op: %w", err)
	}
	ui := &oidc.UserInfo{}
	if err := p.userinfo(ctx, ui, t.subject, t.scopes); err != nil {
		return nil, err
	}
	for k, v := range rc {
		ui.AppendClaims(k, v)
	}
	return zop.NewResponse(ui), nil
}

// Revocation revokes a token of the calling client (RFC 7009): a refresh
// token revokes its whole grant, with every access token of it; an access
// token only itself. An unknown token is fine (200); another client's
// token is refused.
func (s *server) Revocation(ctx context.Context, r *zop.ClientRequest[oidc.RevocationRequest]) (*zop.Response, error) {
	p := s.p
	c := clientOf(r.Client)
	t, err := p.findToken(ctx, r.Data.Token, r.Data.TokenTypeHint)
	if err != nil {
		return nil, err
	}
	if t == nil {
		return zop.NewResponse(nil), nil
	}
	if c == nil || t.clientID != c.c.ID {
		return nil, oidc.ErrUnauthorizedClient().WithDescription("the token was not issued to this client")
	}
	now := p.now()
	switch {
	case t.kind == kindRefresh:
		_, err = p.st.RevokeGrants(ctx, store.GrantFilter{ID: t.grant.ID}, now)
	case t.stateless:
		err = p.st.RevokeTokenID(ctx, t.id, t.expiresAt)
	default:
		err = p.st.DeleteAccessToken(ctx, t.id)
		if errors.Is(err, store.ErrNotFound) {
			err = nil
		}
	}
	if err != nil {
		return nil, fmt.Errorf("op: revoke: %w", err)
	}
	return zop.NewResponse(nil), nil
}
