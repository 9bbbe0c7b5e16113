// Package oidc is the generic OpenID Connect upstream connector, on
// zitadel/oidc's certified relying-party package, with presets for
// ID-porten, Google, Microsoft Entra ID / ADFS and LinkedIn.
//
// A Connector discovers its provider at first use (not at start-up, so
// that a provider that is down does not stop Portvakt) and again after a
// failed discovery. Every sign-in sends state, nonce and a PKCE S256
// challenge; Exchange checks the RFC 9207 iss parameter, redeems the code
// with the verifier, and validates the ID token in full (see package
// upstream).
package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/zitadel/oidc/v3/pkg/client"
	"github.com/zitadel/oidc/v3/pkg/client/rp"
	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"
	"golang.org/x/oauth2"

	"github.com/portvakt/portvakt/internal/upstream"
)

// Connector is an OpenID Provider upstream.
type Connector struct {
	cfg         upstream.Config
	redirectURI string
	hc          *http.Client

	mu  sync.Mutex
	rp  rp.RelyingParty
	iss bool   // the provider advertises RFC 9207 iss
	end string // end_session_endpoint
}

var (
	_ upstream.Connector = (*Connector)(nil)
	_ upstream.Logouter  = (*Connector)(nil)
	_ upstream.Checker   = (*Connector)(nil)
)

// Presets fills in a preset's defaults on cfg: issuer, scopes.
func Presets(cfg upstream.Config) upstream.Config {
	switch cfg.Preset {
	case upstream.PresetIDPorten:
		if len(cfg.Scopes) == 0 {
			cfg.Scopes = []string{"openid", "profile"}
		}
	case upstream.PresetGoogle:
		if cfg.Issuer == "" {
			cfg.Issuer = "https://accounts.google.com"
		}
	case upstream.PresetLinkedIn:
		if cfg.Issuer == "" {
			cfg.Issuer = "https://www.linkedin.com/oauth"
		}
	}
	if len(cfg.Scopes) == 0 {
		cfg.Scopes = []string{"openid", "email", "profile"}
	}
	if len(cfg.SigningAlgs) == 0 {
		cfg.SigningAlgs = []string{"RS256", "ES256"}
	}
	return cfg
}

// Open returns a connector for cfg (after Presets and Resolve) that sends
// users back to redirectURI. hc may be nil (a client with a 10 s timeout).
func Open(cfg upstream.Config, redirectURI string, hc *http.Client) (*Connector, error) {
	cfg = Presets(cfg)
	if cfg.Issuer == "" || cfg.ClientID == "" {
		return nil, fmt.Errorf("upstream %s: issuer and client_id are required", cfg.ID)
	}
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	return &Connector{cfg: cfg, redirectURI: redirectURI, hc: hc}, nil
}

type nonceKey struct{}

// party returns the relying party, discovering the provider the first
// time (and again after a failure).
func (c *Connector) party(ctx context.Context) (rp.RelyingParty, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.rp != nil {
		return c.rp, nil
	}
	var meta struct {
		Issuer             string `json:"issuer"`
		ISSParameter       bool   `json:"authorization_response_iss_parameter_supported"`
		EndSessionEndpoint string `json:"end_session_endpoint"`
	}
	if err := c.getJSON(ctx, strings.TrimSuffix(c.cfg.Issuer, "/")+"/.well-known/openid-configuration", &meta); err != nil {
		return nil, fmt.Errorf("upstream %s: discovery: %w", c.cfg.ID, err)
	}
	// OpenID Connect Discovery §4.3: the issuer in the document must be
	// the one configured, character for character.
	if meta.Issuer != c.cfg.Issuer {
		return nil, fmt.Errorf("upstream %s: discovery names issuer %q, configured %q", c.cfg.ID, meta.Issuer, c.cfg.Issuer)
	}
	opts := []rp.Option{
		rp.WithHTTPClient(c.hc),
		rp.WithVerifierOpts(
			rp.WithSupportedSigningAlgorithms(c.cfg.SigningAlgs...),
			rp.WithNonce(func(ctx context.Context) string { n, _ := ctx.Value(nonceKey{}).(string); return n }),
			rp.WithIssuedAtMaxAge(10*time.Minute),
		),
	}
	if c.cfg.PrivateKeyFile != "" {
		key, err := os.ReadFile(c.cfg.PrivateKeyFile)
		if err != nil {
			return nil, fmt.Errorf("upstream %s: private_key_file: %w", c.cfg.ID, err)
		}
		opts = append(opts, rp.WithJWTProfile(rp.SignerFromKeyAndKeyID(key, c.cfg.PrivateKeyID)))
	}
	party, err := rp.NewRelyingPartyOIDC(ctx, c.cfg.Issuer, c.cfg.ClientID, c.cfg.ClientSecret, c.redirectURI, c.cfg.Scopes, opts...)
	if err != nil {
		return nil, fmt.Errorf("upstream %s: %w", c.cfg.ID, err)
	}
	c.rp, c.iss, c.end = party, meta.ISSParameter, meta.EndSessionEndpoint
	return party, nil
}

func (c *Connector) getJSON(ctx context.Context, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", u, resp.Status)
	}
	return json.NewDecoder(http.MaxBytesReader(nil, resp.Body, 1<<20)).Decode(v)
}

// Check discovers the provider and reports what is wrong.
func (c *Connector) Check(ctx context.Context) error {
	_, err := c.party(ctx)
	return err
}

// AuthURL implements upstream.Connector.
func (c *Connector) AuthURL(ctx context.Context, r upstream.Request) (string, error) {
	if len(r.State) < 22 || len(r.Nonce) < 22 || len(r.Verifier) < 43 {
		return "", errors.New("upstream: state, nonce and verifier must be long random values")
	}
	party, err := c.party(ctx)
	if err != nil {
		return "", err
	}
	opts := []oauth2.AuthCodeOption{
		oauth2.SetAuthURLParam("nonce", r.Nonce),
		oauth2.SetAuthURLParam("code_challenge", zoidc.NewSHACodeChallenge(r.Verifier)),
		oauth2.SetAuthURLParam("code_challenge_method", string(zoidc.CodeChallengeMethodS256)),
	}
	acr := r.ACRValues
	if acr == nil {
		acr = c.cfg.ACRValues
	}
	if len(acr) > 0 {
		opts = append(opts, oauth2.SetAuthURLParam("acr_values", strings.Join(acr, " ")))
	}
	if len(r.Locales) > 0 {
		opts = append(opts, oauth2.SetAuthURLParam("ui_locales", strings.Join(r.Locales, " ")))
	}
	if c.cfg.ResponseMode == upstream.ResponseFormPost {
		opts = append(opts, oauth2.SetAuthURLParam("response_mode", upstream.ResponseFormPost))
	}
	return party.OAuthConfig().AuthCodeURL(r.State, opts...), nil
}

// Exchange implements upstream.Connector.
func (c *Connector) Exchange(ctx context.Context, r upstream.Request, resp upstream.Response) (upstream.Identity, error) {
	if resp.Error != "" {
		return upstream.Identity{}, fmt.Errorf("%w: %s", upstream.ErrCancelled, resp.Error)
	}
	party, err := c.party(ctx)
	if err != nil {
		return upstream.Identity{}, err
	}
	// RFC 9207: the iss parameter names who answered. A mismatch is a
	// mix-up attack; a provider that promises the parameter and leaves
	// it out is treated the same.
	switch {
	case resp.Iss != "" && resp.Iss != c.cfg.Issuer:
		return upstream.Identity{}, fmt.Errorf("%w: iss parameter %q is not %q (mix-up)", upstream.ErrRefused, resp.Iss, c.cfg.Issuer)
	case resp.Iss == "" && c.iss:
		return upstream.Identity{}, fmt.Errorf("%w: the provider promised an iss parameter and sent none", upstream.ErrRefused)
	}
	if resp.Code == "" || r.Nonce == "" || r.Verifier == "" {
		return upstream.Identity{}, fmt.Errorf("%w: no code, nonce or verifier", upstream.ErrRefused)
	}
	opts := []rp.CodeExchangeOpt{rp.WithCodeVerifier(r.Verifier)}
	if signer := party.Signer(); signer != nil {
		assertion, err := client.SignedJWTProfileAssertion(c.cfg.ClientID, []string{c.cfg.Issuer, party.OAuthConfig().Endpoint.TokenURL}, time.Minute, signer)
		if err != nil {
			return upstream.Identity{}, fmt.Errorf("upstream %s: client assertion: %w", c.cfg.ID, err)
		}
		opts = append(opts, rp.WithClientAssertionJWT(assertion))
	}
	tokens, err := rp.CodeExchange[*zoidc.IDTokenClaims](context.WithValue(ctx, nonceKey{}, r.Nonce), resp.Code, party, opts...)
	if err != nil {
		return upstream.Identity{}, fmt.Errorf("%w: %s: %w", upstream.ErrRefused, c.cfg.ID, err)
	}
	claims := tokens.IDTokenClaims
	id := upstream.Identity{
		Provider:      c.cfg.ID,
		Issuer:        claims.Issuer,
		Subject:       claims.Subject,
		Email:         claims.Email,
		EmailVerified: bool(claims.EmailVerified),
		Name:          claims.Name,
		ACR:           claims.AuthenticationContextClassReference,
		AMR:           claims.AuthenticationMethodsReferences,
		IDToken:       tokens.IDToken,
	}
	if id.Email == "" && party.UserinfoEndpoint() != "" && tokens.AccessToken != "" {
		// Providers that keep the address out of the ID token give it at
		// userinfo; rp.Userinfo checks that the sub is the ID token's.
		if info, err := rp.Userinfo[*zoidc.UserInfo](ctx, tokens.AccessToken, tokens.TokenType, claims.Subject, party); err == nil {
			id.Email, id.EmailVerified = info.Email, bool(info.EmailVerified)
			if id.Name == "" {
				id.Name = info.Name
			}
		}
	}
	if id.Name == "" {
		id.Name = strings.TrimSpace(claims.GivenName + " " + claims.FamilyName)
	}
	switch c.cfg.Preset {
	case upstream.PresetIDPorten:
		pid, _ := claims.Claims["pid"].(string)
		if pid == "" {
			return upstream.Identity{}, fmt.Errorf("%w: %s: no pid in the ID token", upstream.ErrRefused, c.cfg.ID)
		}
		id.NationalID = pid
	case upstream.PresetMicrosoft:
		if tid, _ := claims.Claims["tid"].(string); c.cfg.Tenant != "" && tid != c.cfg.Tenant {
			return upstream.Identity{}, fmt.Errorf("%w: %s: tenant %q is not %q", upstream.ErrRefused, c.cfg.ID, tid, c.cfg.Tenant)
		}
	}
	if id.Subject == "" {
		return upstream.Identity{}, fmt.Errorf("%w: %s: no subject", upstream.ErrRefused, c.cfg.ID)
	}
	if !id.EmailVerified {
		// Never keep an address the provider does not vouch for; nobody
		// downstream is then tempted to trust it (SECURITY.md §5.7 NV).
		id.Email = ""
	}
	return id, nil
}

// LogoutURL implements upstream.Logouter.
func (c *Connector) LogoutURL(ctx context.Context, idToken, postLogout, state string) (string, error) {
	if _, err := c.party(ctx); err != nil {
		return "", err
	}
	if c.end == "" {
		return "", nil
	}
	u, err := url.Parse(c.end)
	if err != nil {
		return "", err
	}
	q := u.Query()
	if idToken != "" {
		q.Set("id_token_hint", idToken)
	}
	q.Set("client_id", c.cfg.ClientID)
	if postLogout != "" {
		q.Set("post_logout_redirect_uri", postLogout)
	}
	if state != "" {
		q.Set("state", state)
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}
