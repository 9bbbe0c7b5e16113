// Package github is the GitHub upstream connector: OAuth 2.0 (with PKCE)
// and the REST API's /user and /user/emails. GitHub issues no ID token,
// so the subject is the numeric user ID (a login can be renamed and
// reused) and the only address trusted is the primary one GitHub says is
// verified.
package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"golang.org/x/oauth2"

	"github.com/portvakt/portvakt/internal/upstream"
)

// Connector is a GitHub (or GitHub Enterprise) upstream.
type Connector struct {
	cfg upstream.Config
	oc  oauth2.Config
	api string
	hc  *http.Client
}

var _ upstream.Connector = (*Connector)(nil)

// Open returns a connector for cfg that sends users back to redirectURI.
// cfg.AuthURL, TokenURL and APIURL override github.com's endpoints.
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
		scopes = []string{"read:user", "user:email"}
	}
	return &Connector{
		cfg: cfg,
		oc: oauth2.Config{
			ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, RedirectURL: redirectURI, Scopes: scopes,
			Endpoint: oauth2.Endpoint{
				AuthURL:   def(cfg.AuthURL, "https://github.com/login/oauth/authorize"),
				TokenURL:  def(cfg.TokenURL, "https://github.com/login/oauth/access_token"),
				AuthStyle: oauth2.AuthStyleInParams,
			},
		},
		api: def(cfg.APIURL, "https://api.github.com"),
		hc:  upstream.HTTPClient(hc),
	}, nil
}

// AuthURL implements upstream.Connector.
func (c *Connector) AuthURL(_ context.Context, r upstream.Request) (string, error) {
	if len(r.State) < 22 || len(r.Verifier) < 43 {
		return "", errors.New("upstream: state and verifier must be long random values")
	}
	return c.oc.AuthCodeURL(r.State, oauth2.S256ChallengeOption(r.Verifier), oauth2.SetAuthURLParam("allow_signup", "false")), nil
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
	var user struct {
		ID    int64  `json:"id"`
		Login string `json:"login"`
		Name  string `json:"name"`
	}
	if err := upstream.GetJSON(ctx, c.hc, c.api+"/user", tok.AccessToken, &user); err != nil {
		return upstream.Identity{}, fmt.Errorf("upstream %s: %w", c.cfg.ID, err)
	}
	if user.ID == 0 {
		return upstream.Identity{}, fmt.Errorf("%w: %s: no user id", upstream.ErrRefused, c.cfg.ID)
	}
	var emails []struct {
		Email    string `json:"email"`
		Primary  bool   `json:"primary"`
		Verified bool   `json:"verified"`
	}
	if err := upstream.GetJSON(ctx, c.hc, c.api+"/user/emails", tok.AccessToken, &emails); err != nil {
		return upstream.Identity{}, fmt.Errorf("upstream %s: %w", c.cfg.ID, err)
	}
	id := upstream.Identity{Provider: c.cfg.ID, Issuer: c.api, Subject: strconv.FormatInt(user.ID, 10), Name: user.Name}
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
