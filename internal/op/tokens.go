package op

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/portvakt/portvakt/internal/secret"
	"github.com/portvakt/portvakt/internal/store"
)

// Token kinds.
const (
	kindAccess  = "access_token"
	kindRefresh = "refresh_token"
)

// tokenInfo is what the provider knows about a token it issued.
type tokenInfo struct {
	kind string
	// id is the stored ID (an access token's) or the jti of a stateless
	// JWT.
	id        string
	stateless bool
	clientID  string
	subject   string
	scopes    []string
	audience  []string
	issuedAt  time.Time
	expiresAt time.Time
	usedAt    time.Time // refresh tokens
	// grant is the token's grant; nil for client credentials.
	grant *store.Grant
}

// lookupToken returns the token if it is live: issued here, unexpired,
// unrevoked, and (a refresh token) unused. nil if not.
func (p *Provider) lookupToken(ctx context.Context, token, hint string) (*tokenInfo, error) {
	t, err := p.findToken(ctx, token, hint)
	if t == nil || err != nil {
		return nil, err
	}
	if !p.now().Before(t.expiresAt) {
		return nil, nil
	}
	switch {
	case t.stateless:
		revoked, err := p.st.TokenIDRevoked(ctx, t.id)
		if err != nil {
			return nil, fmt.Errorf("op: %w", err)
		}
		if revoked {
			return nil, nil
		}
	case t.kind == kindRefresh:
		if !t.usedAt.IsZero() || !t.grant.RevokedAt.IsZero() {
			return nil, nil
		}
	}
	return t, nil
}

// findToken identifies a token issued here, live or not (a refresh
// token's grant may be revoked, a stateless JWT on the revocation list),
// or returns nil. hint ("access_token", "refresh_token") says which kind
// to try first.
func (p *Provider) findToken(ctx context.Context, token, hint string) (*tokenInfo, error) {
	if token == "" || len(token) > 8192 {
		return nil, nil
	}
	if strings.Count(token, ".") == 2 {
		return p.findJWT(ctx, token)
	}
	order := []string{kindAccess, kindRefresh}
	if hint == kindRefresh {
		order = []string{kindRefresh, kindAccess}
	}
	for _, kind := range order {
		var (
			t   *tokenInfo
			err error
		)
		if kind == kindAccess {
			t, err = p.findAccessToken(ctx, tokenKey(token))
		} else {
			t, err = p.findRefreshToken(ctx, token)
		}
		if t != nil || err != nil {
			return t, err
		}
	}
	return nil, nil
}

// findAccessToken looks up a stored access token by its ID; one whose
// grant is revoked is not found.
func (p *Provider) findAccessToken(ctx context.Context, id string) (*tokenInfo, error) {
	at, g, err := p.st.GetAccessToken(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("op: %w", err)
	}
	t := &tokenInfo{
		kind: kindAccess, id: at.ID, clientID: at.ClientID, subject: at.Subject, scopes: at.Scopes,
		audience: at.Audience, issuedAt: at.CreatedAt, expiresAt: at.ExpiresAt,
	}
	if at.GrantID != "" {
		t.grant = &g
	}
	return t, nil
}

func (p *Provider) findRefreshToken(ctx context.Context, token string) (*tokenInfo, error) {
	rt, g, err := p.st.GetRefreshToken(ctx, secret.Hash(token))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("op: %w", err)
	}
	return &tokenInfo{
		kind: kindRefresh, clientID: g.ClientID, subject: g.AccountID, scopes: rt.Scopes,
		audience: []string{g.ClientID}, issuedAt: rt.CreatedAt, expiresAt: rt.ExpiresAt, usedAt: rt.UsedAt,
		grant: &g,
	}, nil
}

// accessClaims are the claims of a JWT access token that matter here.
type accessClaims struct {
	Issuer   string        `json:"iss"`
	Subject  string        `json:"sub"`
	Audience oidc.Audience `json:"aud"`
	Expiry   int64         `json:"exp"`
	IssuedAt int64         `json:"iat"`
	ID       string        `json:"jti"`
	ClientID string        `json:"client_id"`
	Scope    *string       `json:"scope"`
}

// findJWT verifies a JWT access token of this provider. An ID token, or
// any JWT without a jti and a scope claim, is not an access token.
func (p *Provider) findJWT(ctx context.Context, token string) (*tokenInfo, error) {
	c, ok := p.verifyJWT(ctx, token)
	if !ok || c.Issuer != p.cfg.Issuer || c.ID == "" || c.Scope == nil {
		return nil, nil
	}
	if !strings.HasPrefix(c.ID, statelessPrefix) {
		return p.findAccessToken(ctx, c.ID)
	}
	return &tokenInfo{
		kind: kindAccess, id: c.ID, stateless: true, clientID: c.ClientID, subject: c.Subject,
		scopes: strings.Fields(*c.Scope), audience: c.Audience, issuedAt: time.Unix(c.IssuedAt, 0),
		expiresAt: time.Unix(c.Expiry, 0),
	}, nil
}

// verifyJWT checks a JWT's signature with the published keys and returns
// its claims. Verified tokens are remembered (jwtCache): a resource
// server introspects the same token on every call it gets, and an ES256
// verification is most of an introspection's cost. A remembered token is
// trusted only while its key is still published; expiry and revocation
// are checked by the caller every time.
func (p *Provider) verifyJWT(ctx context.Context, token string) (accessClaims, bool) {
	sum := sha256.Sum256([]byte(token))
	if e, ok := p.jwts.get(sum); ok && p.ring.Load().find(e.kid, p.now()) != nil {
		return e.claims, true
	}
	jws, err := jose.ParseSigned(token, []jose.SignatureAlgorithm{jose.ES256, jose.RS256})
	if err != nil || len(jws.Signatures) != 1 {
		return accessClaims{}, false
	}
	k, err := p.verificationKey(ctx, jws.Signatures[0].Header)
	if err != nil {
		return accessClaims{}, false
	}
	payload, err := jws.Verify(k.pub)
	if err != nil {
		return accessClaims{}, false
	}
	var c accessClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		return accessClaims{}, false
	}
	p.jwts.put(sum, verifiedJWT{claims: c, kid: k.id})
	return c, true
}

// jwtCache remembers verified JWTs by their SHA-256, up to a bound; when
// full it starts again (the tokens that matter come back at once).
type jwtCache struct {
	mu sync.RWMutex
	m  map[[32]byte]verifiedJWT
}

type verifiedJWT struct {
	claims accessClaims
	kid    string
}

const jwtCacheSize = 10000

func (c *jwtCache) get(k [32]byte) (verifiedJWT, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	e, ok := c.m[k]
	return e, ok
}

func (c *jwtCache) put(k [32]byte, e verifiedJWT) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= jwtCacheSize {
		c.m = make(map[[32]byte]verifiedJWT)
	}
	c.m[k] = e
}
