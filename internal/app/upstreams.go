package app

import (
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"os"

	"github.com/portvakt/portvakt/internal/config"
	"github.com/portvakt/portvakt/internal/flow"
	"github.com/portvakt/portvakt/internal/op"
	"github.com/portvakt/portvakt/internal/store/sqlstore"
	"github.com/portvakt/portvakt/internal/upstream/connectors"
)

// openUpstreams opens the configured upstream providers, in config order
// (the order of the sign-in buttons); nil when there are none. Secrets
// come from PORTVAKT_UPSTREAMS_<ID>_CLIENT_SECRET, client_secret_file or
// client_secret. Providers are discovered at first use, so one that is
// down does not stop Portvakt.
func openUpstreams(cfg config.Config, db *sqlstore.DB) (*flow.Upstreams, error) {
	if len(cfg.Upstreams) == 0 {
		return nil, nil
	}
	key, err := lookupKey(cfg)
	if err != nil {
		return nil, err
	}
	ups := &flow.Upstreams{Identities: db, IDKey: key, Services: cfg.Services}
	for _, c := range cfg.Upstreams {
		c, err := c.Resolve(os.Getenv)
		if err != nil {
			return nil, err
		}
		conn, err := connectors.Open(c, cfg.PublicURL, nil)
		if err != nil {
			return nil, fmt.Errorf("upstreams: %w", err)
		}
		ups.List = append(ups.List, flow.Upstream{Config: c, Connector: conn})
	}
	return ups, nil
}

// lookupKey derives the key of the national-ID lookup hash from the
// sealing key (secrets.key, or the key file beside SQLite), so that a
// copy of the database alone cannot test guessed numbers.
func lookupKey(cfg config.Config) ([]byte, error) {
	key, err := secretsKey(cfg)
	if err != nil {
		return nil, err
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte("portvakt national-id lookup v1"))
	return m.Sum(nil), nil
}

// upstreamACR lists each configured upstream's acr values for the OpenID
// Provider, weakest first (none without upstreams).
func upstreamACR(cfg config.Config) []op.UpstreamACR {
	var out []op.UpstreamACR
	for _, c := range cfg.Upstreams {
		if v := c.ACRLadder(); len(v) > 0 {
			out = append(out, op.UpstreamACR{Upstream: c.ID, Values: v})
		}
	}
	return out
}
