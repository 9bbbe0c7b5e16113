// Package github is the GitHub upstream connector: OAuth 2.0 (with PKCE)
// and the REST API's /user and /user/emails. GitHub issues no ID token,
// so the subject is the numeric user ID (a login can be renamed and
// reused) and the only address trusted is the primary one GitHub says is
// verified.
package github

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

	"golang.org/x/oauth2"

	"github.com/portvakt/portvakt/internal/upstream"
)

// Connector is a GitHub (or GitHub Enterprise) upstream.
type Connector struct {
	upstream.OAuth2
	api string
}

var _ upstream.Connector = (*Connector)(nil)

// Open returns a connector for cfg that sends users back to redirectURI.
// cfg.AuthURL, TokenURL and APIURL override github.com's endpoints.
func Open(cfg upstream.Config, redirectURI string, hc *http.Client) (*Connector, error) {
	o, err := upstream.NewOAuth2(cfg, redirectURI, hc, upstream.OAuth2Endpoints{
		AuthURL: "https://github.com/login/oauth/authorize", TokenURL: "https://github.com/login/oauth/access_token",
		Scopes: []string{"read:user", "user:email"},
	})
	if err != nil {
		return nil, err
	}
	return &Connector{OAuth2: o, api: upstream.OrDefault(cfg.APIURL, "https://api.github.com")}, nil
}

// AuthURL implements upstream.Connector.
func (c *Connector) AuthURL(_ context.Context, r upstream.Request) (string, error) {
	return c.OAuth2.AuthURL(r, oauth2.SetAuthURLParam("allow_signup", "false"))
}

// Exchange implements upstream.Connector.
func (c *Connector) Exchange(ctx context.Context, r upstream.Request, resp upstream.Response) (upstream.Identity, error) {
	tok, err := c.OAuth2.Exchange(ctx, r, resp)
	if err != nil {
		return upstream.Identity{}, err
	}
	var user struct {
		ID    int64  `json:"id"`
		Login string `json:"login"`
		Name  string `json:"name"`
	}
	if err := upstream.GetJSON(ctx, c.HTTP, c.api+"/user", tok.AccessToken, &user); err != nil {
		return upstream.Identity{}, fmt.Errorf("upstream %s: %w", c.ID, err)
	}
	if user.ID == 0 {
		return upstream.Identity{}, fmt.Errorf("%w: %s: no user id", upstream.ErrRefused, c.ID)
	}
	var emails []struct {
		Email    string `json:"email"`
		Primary  bool   `json:"primary"`
		Verified bool   `json:"verified"`
	}
	if err := upstream.GetJSON(ctx, c.HTTP, c.api+"/user/emails", tok.AccessToken, &emails); err != nil {
		return upstream.Identity{}, fmt.Errorf("upstream %s: %w", c.ID, err)
	}
	id := upstream.Identity{Provider: c.ID, Issuer: c.api, Subject: strconv.FormatInt(user.ID, 10), Name: user.Name}
	if id.Name == "" {
		id.Name = user.Login
	}
	for _, e := range emails {
		if e.Primary && e.Verified {
			id.Email, id.EmailVerified = e.Email, true
		}
	}
	return id, nil
}
