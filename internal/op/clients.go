package op

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/portvakt/portvakt/internal/secret"
	"github.com/portvakt/portvakt/internal/store"
)

// ErrUnknownClient is returned (wrapped) for a client ID that is neither
// configured nor stored.
var ErrUnknownClient = errors.New("op: unknown client")

// client is a client as the provider and zitadel use it.
type client struct {
	c      store.Client
	p      *Provider
	static bool
	// claims are ClientConfig.Claims (configured clients only).
	claims map[string]string
}

var _ zop.Client = (*client)(nil)

func (c *client) GetID() string                    { return c.c.ID }
func (c *client) RedirectURIs() []string           { return c.c.RedirectURIs }
func (c *client) PostLogoutRedirectURIs() []string { return c.c.PostLogoutRedirectURIs }
func (c *client) LoginURL(id string) string        { return c.p.loginURL(id) }
func (c *client) IDTokenLifetime() time.Duration   { return c.p.cfg.IDTokenTTL }
func (c *client) DevMode() bool                    { return false }
func (c *client) ClockSkew() time.Duration         { return 0 }
func (c *client) IsScopeAllowed(s string) bool     { return slices.Contains(c.c.Scopes, s) }

// IDTokenUserinfoClaimsAssertion puts the profile and email claims in the
// ID token too, not only at /userinfo, as most relying parties expect.
func (c *client) IDTokenUserinfoClaimsAssertion() bool { return true }

func (c *client) ApplicationType() zop.ApplicationType {
	if c.c.Public {
		return zop.ApplicationTypeUserAgent
	}
	return zop.ApplicationTypeWeb
}

// AuthMethod: public clients have none; confidential ones send their
// secret by HTTP Basic or in the form (both are accepted).
func (c *client) AuthMethod() oidc.AuthMethod {
	if c.c.Public {
		return oidc.AuthMethodNone
	}
	return oidc.AuthMethodBasic
}

func (c *client) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}

func (c *client) GrantTypes() []oidc.GrantType {
	out := make([]oidc.GrantType, len(c.c.GrantTypes))
	for i, g := range c.c.GrantTypes {
		out[i] = oidc.GrantType(g)
	}
	return out
}

func (c *client) hasGrant(g string) bool { return slices.Contains(c.c.GrantTypes, g) }

// AccessTokenFormatOf returns the format of c's access tokens,
// store.TokenOpaque or store.TokenJWT, its default resolved: tokens for
// users are opaque unless the client says jwt (client), and
// client_credentials tokens are JWTs unless it says opaque (ccClient). For
// a client with both kinds of grant and no format set, it names the
// format of the tokens for users.
func AccessTokenFormatOf(c store.Client) string {
	if c.AccessTokenFormat != "" {
		return c.AccessTokenFormat
	}
	if len(c.GrantTypes) > 0 && !slices.ContainsFunc(c.GrantTypes, func(g string) bool { return g != GrantClientCredentials }) {
		return store.TokenJWT
	}
	return store.TokenOpaque
}

func (c *client) AccessTokenType() zop.AccessTokenType {
	if c.c.AccessTokenFormat == store.TokenJWT {
		return zop.AccessTokenTypeJWT
	}
	return zop.AccessTokenTypeBearer
}

func (c *client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

func (c *client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

func (c *client) accessTokenTTL() time.Duration {
	if c.c.AccessTokenTTL > 0 {
		return c.c.AccessTokenTTL
	}
	return c.p.cfg.AccessTokenTTL
}

func (c *client) refreshTokenTTL() time.Duration {
	if c.c.RefreshTokenTTL > 0 {
		return c.c.RefreshTokenTTL
	}
	return c.p.cfg.RefreshTokenTTL
}

// ccClient is a client in the client credentials grant, whose access
// tokens are self-contained JWTs unless the client asked for opaque ones:
// issuing one writes nothing to the database.
type ccClient struct{ *client }

func (c ccClient) AccessTokenType() zop.AccessTokenType {
	if c.c.AccessTokenFormat == store.TokenOpaque {
		return zop.AccessTokenTypeBearer
	}
	return zop.AccessTokenTypeJWT
}

// clientOf returns the provider's client behind a zitadel one.
func clientOf(zc zop.Client) *client {
	switch c := zc.(type) {
	case *client:
		return c
	case ccClient:
		return c.client
	}
	return nil
}

// clientCache keeps stored clients for Config.ClientCacheTTL, so that the
// token endpoint does not read the client on every request.
type clientCache struct {
	mu sync.RWMutex
	m  map[string]cachedClient
}

type cachedClient struct {
	c     *client
	until time.Time
}

func (cc *clientCache) get(id string, now time.Time) *client {
	cc.mu.RLock()
	e, ok := cc.m[id]
	cc.mu.RUnlock()
	if !ok || !now.Before(e.until) {
		return nil
	}
	return e.c
}

func (cc *clientCache) put(c *client, until time.Time) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if cc.m == nil || len(cc.m) > 10000 {
		cc.m = map[string]cachedClient{} // bounded: start again
	}
	cc.m[c.c.ID] = cachedClient{c, until}
}

func (cc *clientCache) forget(id string) {
	cc.mu.Lock()
	delete(cc.m, id)
	cc.mu.Unlock()
}

// client returns the configured or stored client with the ID, or an error
// wrapping ErrUnknownClient.
func (p *Provider) client(ctx context.Context, id string) (*client, error) {
	if c, ok := p.statics[id]; ok {
		return c, nil
	}
	now := p.now()
	if c := p.clients.get(id, now); c != nil {
		return c, nil
	}
	sc, err := p.st.GetClient(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%w %q", ErrUnknownClient, id)
	}
	if err != nil {
		return nil, fmt.Errorf("op: %w", err)
	}
	c := &client{c: sc, p: p}
	p.clients.put(c, now.Add(p.cfg.ClientCacheTTL))
	return c, nil
}

// errBadClient is the one answer to a failed client authentication: an
// unknown client, a public one, and a wrong secret look alike.
var errBadClient = errors.New("op: client authentication failed")

// authenticate checks a confidential client's secret: the SHA-256 of what
// was sent against the stored digest, in constant time. The secret has
// 256 bits of entropy, so a fast digest is enough.
func (p *Provider) authenticate(ctx context.Context, id, clientSecret string) (*client, error) {
	c, err := p.client(ctx, id)
	if errors.Is(err, ErrUnknownClient) {
		return nil, errBadClient
	}
	if err != nil {
		return nil, err
	}
	if c.c.Public || len(c.c.SecretHash) == 0 || clientSecret == "" {
		return nil, errBadClient
	}
	if !secret.Equal(secret.Hash(clientSecret), c.c.SecretHash) {
		return nil, errBadClient
	}
	return c, nil
}

// ClientInfo is a client as ListClients shows it.
type ClientInfo struct {
	store.Client
	// Configured clients come from the configuration file and cannot be
	// removed with DeleteClient.
	Configured bool
}

// CreateClient checks cc, stores the client and returns it with its
// secret: 256 random bits, base64url, shown this once; only its SHA-256
// digest is stored. A public client gets no secret (""). cc.ID may be
// empty to get a random one; cc.Secret and cc.SecretHash are ignored. The
// error wraps store.ErrConflict if the ID is taken (by a configured client
// too); other errors describe what is wrong with cc.
func (p *Provider) CreateClient(ctx context.Context, cc ClientConfig) (store.Client, string, error) {
	if cc.ID == "" {
		cc.ID = secret.ID()
	}
	if _, ok := p.statics[cc.ID]; ok {
		return store.Client{}, "", fmt.Errorf("op: create client: %w: %q is a configured client", store.ErrConflict, cc.ID)
	}
	cc.Secret, cc.SecretHash = "", ""
	c, err := cc.toClient(p.cfg, false)
	if err != nil {
		return store.Client{}, "", fmt.Errorf("op: create client: %w", err)
	}
	var plain string
	if !c.Public {
		plain = secret.Token()
		c.SecretHash = secret.Hash(plain)
	}
	c.CreatedAt = p.now()
	if err := p.st.CreateClient(ctx, c); err != nil {
		return store.Client{}, "", fmt.Errorf("op: create client: %w", err)
	}
	p.clients.forget(c.ID)
	return c, plain, nil
}

// NewClientSecret gives a stored confidential client a new secret and
// returns it; the old one stops working at once (on other nodes within
// ClientCacheTTL).
func (p *Provider) NewClientSecret(ctx context.Context, id string) (string, error) {
	plain := secret.Token()
	_, err := p.st.UpdateClient(ctx, id, func(c store.Client) (store.Client, error) {
		if c.Public {
			return c, fmt.Errorf("op: client %q is public and has no secret", id)
		}
		c.SecretHash = secret.Hash(plain)
		return c, nil
	})
	if err != nil {
		return "", fmt.Errorf("op: new client secret: %w", err)
	}
	p.clients.forget(id)
	return plain, nil
}

// GetClient returns the configured or stored client with the ID, or an
// error wrapping ErrUnknownClient.
func (p *Provider) GetClient(ctx context.Context, id string) (ClientInfo, error) {
	c, err := p.client(ctx, id)
	if err != nil {
		return ClientInfo{}, err
	}
	return ClientInfo{Client: c.c, Configured: c.static}, nil
}

// ListClients returns the configured clients and then the stored ones,
// each by ID.
func (p *Provider) ListClients(ctx context.Context) ([]ClientInfo, error) {
	var out []ClientInfo
	for _, c := range p.statics {
		out = append(out, ClientInfo{Client: c.c, Configured: true})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	stored, err := p.st.ListClients(ctx)
	if err != nil {
		return nil, fmt.Errorf("op: %w", err)
	}
	for _, c := range stored {
		out = append(out, ClientInfo{Client: c})
	}
	return out, nil
}

// DeleteClient removes a stored client with its grants, tokens and
// consents. The error wraps ErrUnknownClient if there is no stored client
// with the ID, and says so when the client is a configured one.
func (p *Provider) DeleteClient(ctx context.Context, id string) error {
	if _, ok := p.statics[id]; ok {
		return fmt.Errorf("op: client %q is configured; remove it from the configuration file", id)
	}
	err := p.st.DeleteClient(ctx, id)
	p.clients.forget(id)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w %q", ErrUnknownClient, id)
	}
	if err != nil {
		return fmt.Errorf("op: %w", err)
	}
	return nil
}
