// Package facebook is the Facebook upstream connector: OAuth 2.0 (with
// PKCE) and the Graph API's /me. The subject is the app-scoped user ID.
// Facebook does not say whether the address it returns was verified, so
// the address is never reported verified (SECURITY.md §5.7, the
// non-verifying IdP): it is neither linked by nor copied to an account.
package facebook

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/portvakt/portvakt/internal/upstream"
)

// Connector is a Facebook upstream.
type Connector struct {
	upstream.OAuth2
	api string
}

var _ upstream.Connector = (*Connector)(nil)

// GraphVersion is the Graph API version used.
const GraphVersion = "v21.0"

// Open returns a connector for cfg that sends users back to redirectURI.
// cfg.AuthURL, TokenURL and APIURL override facebook.com's endpoints.
func Open(cfg upstream.Config, redirectURI string, hc *http.Client) (*Connector, error) {
	api := upstream.OrDefault(cfg.APIURL, "https://graph.facebook.com/"+GraphVersion)
	o, err := upstream.NewOAuth2(cfg, redirectURI, hc, upstream.OAuth2Endpoints{
		AuthURL: "https://www.facebook.com/" + GraphVersion + "/dialog/oauth", TokenURL: api + "/oauth/access_token",
		Scopes: []string{"public_profile", "email"},
	})
	if err != nil {
		return nil, err
	}
	return &Connector{OAuth2: o, api: api}, nil
}

// AuthURL implements upstream.Connector.
func (c *Connector) AuthURL(_ context.Context, r upstream.Request) (string, error) {
	return c.OAuth2.AuthURL(r)
}

// Exchange implements upstream.Connector.
func (c *Connector) Exchange(ctx context.Context, r upstream.Request, resp upstream.Response) (upstream.Identity, error) {
	tok, err := c.OAuth2.Exchange(ctx, r, resp)
	if err != nil {
		return upstream.Identity{}, err
	}
	var me struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	if err := upstream.GetJSON(ctx, c.HTTP, c.api+"/me?"+url.Values{"fields": {"id,name"}}.Encode(), tok.AccessToken, &me); err != nil {
		return upstream.Identity{}, fmt.Errorf("upstream %s: %w", c.ID, err)
	}
	if me.ID == "" {
		return upstream.Identity{}, fmt.Errorf("%w: %s: no user id", upstream.ErrRefused, c.ID)
	}
	return upstream.Identity{Provider: c.ID, Issuer: c.api, Subject: me.ID, Name: me.Name}, nil
}
