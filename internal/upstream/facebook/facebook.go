// Package facebook is the Facebook upstream connector: OAuth 2.0 (with
// PKCE) and the Graph API's /me. The subject is the app-scoped user ID.
// Facebook does not say whether the address it returns was verified, so
// the address is never reported verified (SECURITY.md §5.7, the
// non-verifying IdP): it is neither linked by nor copied to an account.
package facebook

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/oauth2"

	"github.com/portvakt/portvakt/internal/upstream"
)

// Connector is a Facebook upstream.
type Connector struct {
	cfg upstream.Config
	oc  oauth2.Config
	api string
	hc  *http.Client
}

var _ upstream.Connector = (*Connector)(nil)

// GraphVersion is the Graph API version used.
const GraphVersion = "v21.0"

// Open returns a connector for cfg that sends users back to redirectURI.
func Open(cfg upstream.Config, redirectURI string, hc *http.Client) (*Connector, error) {
	if cfg.ClientID == "" {
		return nil, fmt.Errorf("upstream %s: client_id is required", cfg.ID)
	}
	def := func(v, d string) string {
		if v == "" {
			return d
		}
		return strings.TrimSuffix(v, "/")
	}
	scopes := cfg.Scopes
	if len(scopes) == 0 {
		scopes = []string{"public_profile", "email"}
	}
	api := def(cfg.APIURL, "https://graph.facebook.com/"+GraphVersion)
	return &Connector{
		cfg: cfg,
		oc: oauth2.Config{
			ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, RedirectURL: redirectURI, Scopes: scopes,
			Endpoint: oauth2.Endpoint{
				AuthURL:   def(cfg.AuthURL, "https://www.facebook.com/"+GraphVersion+"/dialog/oauth"),
				TokenURL:  def(cfg.TokenURL, api+"/oauth/access_token"),
				AuthStyle: oauth2.AuthStyleInParams,
			},
		},
		api: api,
		hc:  upstream.HTTPClient(hc),
	}, nil
}

// AuthURL implements upstream.Connector.
func (c *Connector) AuthURL(_ context.Context, r upstream.Request) (string, error) {
	if len(r.State) < 22 || len(r.Verifier) < 43 {
		return "", errors.New("upstream: state and verifier must be long random values")
	}
	return c.oc.AuthCodeURL(r.State, oauth2.S256ChallengeOption(r.Verifier)), nil
}

// Exchange implements upstream.Connector.
func (c *Connector) Exchange(ctx context.Context, r upstream.Request, resp upstream.Response) (upstream.Identity, error) {
	if resp.Error != "" {
		return upstream.Identity{}, fmt.Errorf("%w: %s", upstream.ErrCancelled, resp.Error)
	}
	if resp.Code == "" || r.Verifier == "" {
		return upstream.Identity{}, fmt.Errorf("%w: no code or verifier", upstream.ErrRefused)
	}
	tok, err := c.oc.Exchange(context.WithValue(ctx, oauth2.HTTPClient, c.hc), resp.Code, oauth2.VerifierOption(r.Verifier))
	if err != nil {
		return upstream.Identity{}, fmt.Errorf("%w: %s: %w", upstream.ErrRefused, c.cfg.ID, err)
	}
	var me struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	if err := upstream.GetJSON(ctx, c.hc, c.api+"/me?"+url.Values{"fields": {"id,name"}}.Encode(), tok.AccessToken, &me); err != nil {
		return upstream.Identity{}, fmt.Errorf("upstream %s: %w", c.cfg.ID, err)
	}
	if me.ID == "" {
		return upstream.Identity{}, fmt.Errorf("%w: %s: no user id", upstream.ErrRefused, c.cfg.ID)
	}
	return upstream.Identity{Provider: c.cfg.ID, Issuer: c.api, Subject: me.ID, Name: me.Name}, nil
}
