package upstream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// GetJSON fetches u with the bearer token and decodes the JSON answer
// into v, reading at most 1 MiB; for OAuth 2.0 connectors' user APIs.
func GetJSON(ctx context.Context, hc *http.Client, u, token string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", req.URL.Path, resp.Status)
	}
	return json.NewDecoder(http.MaxBytesReader(nil, resp.Body, 1<<20)).Decode(v)
}

// HTTPClient returns hc, or a client with a 10-second timeout when nil.
func HTTPClient(hc *http.Client) *http.Client {
	if hc != nil {
		return hc
	}
	return &http.Client{Timeout: 10 * time.Second}
}

// OAuth2 is the plain OAuth 2.0 half (authorization code with PKCE S256)
// that providers without OpenID Connect (GitHub, Facebook) share; each
// keeps only its user API.
type OAuth2 struct {
	ID     string
	Config oauth2.Config
	HTTP   *http.Client
}

// OAuth2Endpoints are a provider's defaults, each overridable by the
// upstream's config (auth_url, token_url).
type OAuth2Endpoints struct {
	AuthURL, TokenURL string
	Scopes            []string
}

// NewOAuth2 checks cfg and builds the OAuth 2.0 client for it.
func NewOAuth2(cfg Config, redirectURI string, hc *http.Client, def OAuth2Endpoints) (OAuth2, error) {
	if cfg.ClientID == "" {
		return OAuth2{}, fmt.Errorf("upstream %s: client_id is required", cfg.ID)
	}
	scopes := cfg.Scopes
	if len(scopes) == 0 {
		scopes = def.Scopes
	}
	return OAuth2{
		ID: cfg.ID,
		Config: oauth2.Config{
			ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, RedirectURL: redirectURI, Scopes: scopes,
			Endpoint: oauth2.Endpoint{
				AuthURL:   OrDefault(cfg.AuthURL, def.AuthURL),
				TokenURL:  OrDefault(cfg.TokenURL, def.TokenURL),
				AuthStyle: oauth2.AuthStyleInParams,
			},
		},
		HTTP: HTTPClient(hc),
	}, nil
}

// OrDefault is v without a trailing slash, or d when v is empty.
func OrDefault(v, d string) string {
	if v == "" {
		return d
	}
	return strings.TrimSuffix(v, "/")
}

// AuthURL is where the browser goes; state and verifier must be long
// random values.
func (o OAuth2) AuthURL(r Request, opts ...oauth2.AuthCodeOption) (string, error) {
	if len(r.State) < 22 || len(r.Verifier) < 43 {
		return "", errors.New("upstream: state and verifier must be long random values")
	}
	return o.Config.AuthCodeURL(r.State, append([]oauth2.AuthCodeOption{oauth2.S256ChallengeOption(r.Verifier)}, opts...)...), nil
}

// Exchange turns the callback's code into an access token, with the PKCE
// verifier; a cancelled or refused answer is ErrCancelled or ErrRefused.
func (o OAuth2) Exchange(ctx context.Context, r Request, resp Response) (*oauth2.Token, error) {
	if resp.Error != "" {
		return nil, fmt.Errorf("%w: %s", ErrCancelled, resp.Error)
	}
	if resp.Code == "" || r.Verifier == "" {
		return nil, fmt.Errorf("%w: no code or verifier", ErrRefused)
	}
	tok, err := o.Config.Exchange(context.WithValue(ctx, oauth2.HTTPClient, o.HTTP), resp.Code, oauth2.VerifierOption(r.Verifier))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrRefused, o.ID, err)
	}
	return tok, nil
}
