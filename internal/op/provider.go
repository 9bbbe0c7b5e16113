package op

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/rs/cors"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/portvakt/portvakt/internal/secret"
	"github.com/portvakt/portvakt/internal/store"
)

// Provider is the OpenID Provider. Create it with New; it is safe for
// concurrent use.
type Provider struct {
	cfg        Config
	st         store.Store
	sealer     *secret.Sealer
	nowFunc    func() time.Time
	log        *slog.Logger
	loginURL   func(string) string
	logoutURL  func(string) string
	httpClient *http.Client
	// logoutQueued: see Deps.LogoutQueued.
	logoutQueued func()

	statics map[string]*client
	clients clientCache
	jwts    jwtCache
	acr     acrTable
	up      upstreamTable
	// rights filters rights out of app tokens (systems.go).
	rights RightsSource

	ring       atomic.Pointer[keyring]
	keysLoaded atomic.Int64 // UnixNano of the last load

	zp      *zop.Provider
	handler http.Handler

	// rep answers about delegations (SetRepresentation); nil: none.
	rep Representation
}

// The provider's endpoints, relative to the issuer URL.
const (
	PathDiscovery  = "/.well-known/openid-configuration"
	PathAuthorize  = "/authorize"
	PathCallback   = "/authorize/callback"
	PathToken      = "/oauth/token"
	PathIntrospec  = "/oauth/introspect"
	PathUserinfo   = "/userinfo"
	PathRevoke     = "/revoke"
	PathEndSession = "/end_session"
	PathKeys       = "/keys"
)

// Paths lists the paths Handler serves, for mounting them on a mux.
func Paths() []string {
	return []string{PathDiscovery, PathAuthorize, PathCallback, PathToken, PathIntrospec, PathUserinfo,
		PathRevoke, PathEndSession, PathKeys}
}

// New checks cfg and deps and returns a provider. It neither touches the
// database nor makes keys: call EnsureKeys before serving, and run Run.
// The error lists every problem with cfg, each with its field's path.
func New(cfg Config, deps Deps) (*Provider, error) {
	cfg, err := cfg.withDefaults()
	var errs []error
	if err != nil {
		errs = append(errs, err)
	}
	if deps.Store == nil {
		errs = append(errs, errors.New("deps: Store is required"))
	}
	if deps.Sealer == nil {
		errs = append(errs, errors.New("deps: Sealer is required"))
	}
	if deps.LoginURL == nil {
		errs = append(errs, errors.New("deps: LoginURL is required"))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("op: %w", errors.Join(errs...))
	}
	p := &Provider{
		cfg:          cfg,
		st:           deps.Store,
		sealer:       deps.Sealer,
		nowFunc:      deps.Now,
		log:          deps.Logger,
		loginURL:     deps.LoginURL,
		logoutURL:    deps.LogoutURL,
		httpClient:   deps.HTTPClient,
		logoutQueued: deps.LogoutQueued,
		statics:      map[string]*client{},
		acr:          newACRTable(cfg.ACR),
		up:           newUpstreamTable(cfg.UpstreamACR),
	}
	if p.nowFunc == nil {
		p.nowFunc = time.Now
	}
	if p.log == nil {
		p.log = slog.Default()
	}
	if p.logoutURL == nil {
		p.logoutURL = func(string) string { return cfg.Issuer + "/" }
	}
	if p.httpClient == nil {
		p.httpClient = &http.Client{
			Timeout: cfg.BackChannelLogoutTimeout,
			// A logout endpoint that redirects is misconfigured; do not
			// follow it anywhere.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	for _, cc := range cfg.Clients {
		c, _ := cc.toClient(cfg, true) // checked by withDefaults
		c.CreatedAt = time.Time{}
		p.statics[c.ID] = &client{c: c, p: p, static: true, claims: maps.Clone(cc.Claims)}
	}

	algs := cfg.Keys.Algorithms
	opts := []zop.Option{
		zop.WithCrypto(opaqueCrypto{}),
		zop.WithIDTokenHintKeySet(keySet{p}),
		zop.WithIDTokenHintVerifierOpts(zop.WithSupportedIDTokenHintSigningAlgorithms(algs...)),
		zop.WithAccessTokenKeySet(keySet{p}),
		zop.WithAccessTokenVerifierOpts(zop.WithSupportedAccessTokenSigningAlgorithms(algs...)),
	}
	if strings.HasPrefix(cfg.Issuer, "http:") {
		opts = append(opts, zop.WithAllowInsecure())
	}
	zcfg := &zop.Config{
		CodeMethodS256:                    true,
		AuthMethodPost:                    true,
		GrantTypeRefreshToken:             true,
		BackChannelLogoutSupported:        true,
		BackChannelLogoutSessionSupported: true,
	}
	p.zp, err = zop.NewProvider(zcfg, &storage{p}, zop.StaticIssuer(cfg.Issuer), opts...)
	if err != nil {
		return nil, fmt.Errorf("op: %w", err)
	}
	rel := func(path string) *zop.Endpoint { return zop.NewEndpoint(strings.TrimPrefix(path, "/")) }
	endpoints := zop.Endpoints{
		Authorization: rel(PathAuthorize),
		Token:         rel(PathToken),
		Introspection: rel(PathIntrospec),
		Userinfo:      rel(PathUserinfo),
		Revocation:    rel(PathRevoke),
		EndSession:    rel(PathEndSession),
		JwksURI:       rel(PathKeys),
	}
	srv := &server{LegacyServer: zop.NewLegacyServer(p.zp, endpoints), p: p}
	// CORS for the endpoints browsers' scripts call (token, userinfo,
	// revocation, keys, discovery), without credentials: none of them
	// reads a cookie. The authorization endpoint has its own handler
	// below and no CORS at all (RFC 9700 §2.6).
	corsOpts := &cors.Options{
		AllowedOrigins: []string{"*"},
		AllowedMethods: []string{http.MethodGet, http.MethodHead, http.MethodPost},
		AllowedHeaders: []string{"Authorization", "Content-Type", "Accept"},
	}
	zh := zop.RegisterLegacyServer(srv, p.callback, zop.WithServerCORSOptions(corsOpts))

	mux := http.NewServeMux()
	mux.HandleFunc(PathAuthorize, p.authorize)
	mux.HandleFunc(PathCallback, p.callback)
	mux.Handle(PathUserinfo, bearerChallenge(zh))
	mux.Handle(PathToken, basicChallenge(zh))
	mux.Handle(PathIntrospec, basicChallenge(requireClientAuth(zh)))
	mux.Handle(PathRevoke, basicChallenge(zh))
	for _, path := range []string{PathDiscovery, PathEndSession, PathKeys} {
		mux.Handle(path, zh)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSONError(w, http.StatusNotFound, "invalid_request", "no such endpoint")
	})
	p.handler = securityHeaders(mux)
	return p, nil
}

// Handler serves the provider's endpoints (see Paths) at their paths
// relative to the issuer URL; if the issuer has a path, strip it before
// (http.StripPrefix). Every error, other than on the authorization
// endpoint when it must redirect to the client, is JSON.
func (p *Provider) Handler() http.Handler { return p.handler }

// Issuer returns the issuer URL.
func (p *Provider) Issuer() string { return p.cfg.Issuer }

func (p *Provider) now() time.Time { return p.nowFunc() }

// Run does the provider's housekeeping until ctx ends: every minute it
// reloads the signing keys (other nodes may have rotated) and applies the
// key schedule (EnsureKeys), and every ten minutes it deletes expired
// requests, grants and tokens. Errors are logged and retried.
func (p *Provider) Run(ctx context.Context) {
	tick := time.NewTicker(time.Minute)
	defer tick.Stop()
	n := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if err := p.EnsureKeys(ctx); err != nil && ctx.Err() == nil {
			p.log.Error("signing keys", "err", err)
		}
		if n%10 == 0 {
			if _, err := p.Sweep(ctx); err != nil && ctx.Err() == nil {
				p.log.Error("sweep expired OpenID records", "err", err)
			}
		}
		n++
	}
}

// Sweep deletes expired authorization requests, grants and tokens and
// returns how many records went.
func (p *Provider) Sweep(ctx context.Context) (int, error) {
	n, err := p.st.DeleteExpiredOIDC(ctx, p.now())
	if err != nil {
		return n, fmt.Errorf("op: %w", err)
	}
	return n, nil
}

// securityHeaders sets what every response of the provider carries: no
// caching (tokens, codes and errors are per request), no MIME sniffing,
// no framing (RFC 9700 §4.16) and no referrer leaking the URL.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		if r.URL.Path != PathDiscovery && r.URL.Path != PathKeys {
			h.Set("Cache-Control", "no-store")
		}
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		if h.Get("Content-Security-Policy") == "" {
			h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
		}
		next.ServeHTTP(w, r)
	})
}

// challengeWriter adds a WWW-Authenticate header to 401 responses.
type challengeWriter struct {
	http.ResponseWriter
	challenge string
}

func (w challengeWriter) WriteHeader(status int) {
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", w.challenge)
	}
	w.ResponseWriter.WriteHeader(status)
}

// bearerChallenge answers a 401 at /userinfo the RFC 6750 way.
func bearerChallenge(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(challengeWriter{w, `Bearer error="invalid_token"`}, r)
	})
}

// basicChallenge answers a failed client authentication with 401 and a
// Basic challenge (RFC 6749 §5.2).
func basicChallenge(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(challengeWriter{w, `Basic realm="portvakt"`}, r)
	})
}

// requireClientAuth answers a request without client credentials (HTTP
// Basic, or client_secret in the form) with 401 invalid_client, before
// zitadel would answer 400.
func requireClientAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, _, ok := r.BasicAuth(); !ok && r.PostFormValue("client_secret") == "" {
			w.Header().Set("WWW-Authenticate", `Basic realm="portvakt"`)
			writeJSONError(w, http.StatusUnauthorized, "invalid_client", "client authentication is required")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// absolute returns the provider's URL of path.
func (p *Provider) absolute(path string, q url.Values) string {
	u := p.cfg.Issuer + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}
