// Package connectors opens an upstream.Config with the connector of its
// type: a plain switch, as dex's server/connector.go map is, with no
// self-registration.
package connectors

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/portvakt/portvakt/internal/upstream"
	"github.com/portvakt/portvakt/internal/upstream/facebook"
	"github.com/portvakt/portvakt/internal/upstream/github"
	"github.com/portvakt/portvakt/internal/upstream/oidc"
)

// CallbackPath is where a provider sends the browser back to.
func CallbackPath(id string) string { return "/login/federated/" + id + "/callback" }

// Open returns the connector for cfg (already Resolved), which sends
// users back to publicURL's callback path for cfg.ID. hc may be nil.
func Open(cfg upstream.Config, publicURL string, hc *http.Client) (upstream.Connector, error) {
	redirect := strings.TrimSuffix(publicURL, "/") + CallbackPath(cfg.ID)
	switch cfg.Kind() {
	case upstream.TypeOIDC:
		return oidc.Open(cfg, redirect, hc)
	case upstream.TypeGitHub:
		return github.Open(cfg, redirect, hc)
	case upstream.TypeFacebook:
		return facebook.Open(cfg, redirect, hc)
	}
	return nil, fmt.Errorf("upstream %s: unknown type %q", cfg.ID, cfg.Type)
}
