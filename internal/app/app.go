// Package app is Portvakt's composition root: it builds the whole object
// graph from a config.Config by hand, in one readable function, and runs
// it. cmd/portvakt and the end-to-end tests both use it, so the tests run
// exactly what an operator runs.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/portvakt/portvakt/internal/audit"
	"github.com/portvakt/portvakt/internal/authn"
	"github.com/portvakt/portvakt/internal/authn/sms"
	"github.com/portvakt/portvakt/internal/authn/webauthn"
	"github.com/portvakt/portvakt/internal/config"
	"github.com/portvakt/portvakt/internal/demo"
	"github.com/portvakt/portvakt/internal/flow"
	"github.com/portvakt/portvakt/internal/i18n"
	"github.com/portvakt/portvakt/internal/notify"
	"github.com/portvakt/portvakt/internal/op"
	"github.com/portvakt/portvakt/internal/secret"
	"github.com/portvakt/portvakt/internal/session"
	"github.com/portvakt/portvakt/internal/store"
	"github.com/portvakt/portvakt/internal/store/sqlstore"
	"github.com/portvakt/portvakt/internal/web"
	"github.com/portvakt/portvakt/internal/web/ui"
)

// Options are what the environment, rather than the configuration, hands
// the application. The zero value is fine for production.
type Options struct {
	// Logger, when nil, is built from the log configuration and writes
	// to LogOutput.
	Logger *slog.Logger
	// LogOutput is where that logger writes; nil discards the log.
	LogOutput io.Writer
	// Now is the clock; tests move it. Defaults to time.Now.
	Now func() time.Time
	// MailTransport replaces the configured transport (tests).
	MailTransport notify.Transport
}

// App is a configured, migrated Portvakt. Create it with New, serve it
// with Serve or Handler, and Close it.
type App struct {
	Config   config.Config
	Logger   *slog.Logger
	DB       *sqlstore.DB
	Catalog  *i18n.Catalog
	Sessions *session.Manager
	Mailer   *notify.Mailer
	Worker   *notify.Worker
	// Outbox is the outbox as the app's senders see it: sealed at rest,
	// opened when read through it (DB.ListMessages shows it sealed).
	Outbox store.Outbox
	Flows  *flow.Service
	Audit  *audit.Recorder
	OP     *op.Provider
	Web    *web.Server

	handler http.Handler
	now     func() time.Time
}

// New validates cfg, opens and migrates the database and builds every
// component. Nothing is served until Serve.
func New(ctx context.Context, cfg config.Config, opts Options) (*App, error) {
	if _, err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("invalid configuration:\n%w", err)
	}
	logger := opts.Logger
	if logger == nil {
		logger = NewLogger(cfg.Log, opts.LogOutput)
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	publicURL, err := url.Parse(cfg.PublicURL)
	if err != nil {
		return nil, fmt.Errorf("public_url: %w", err)
	}

	// The catalogs and the page templates are parsed on first use (each
	// language, each page), not here: an idle server holds none of them
	// (issue 12).
	catalog, err := i18n.New(logger)
	if err != nil {
		return nil, err
	}

	db, err := OpenDB(ctx, cfg.Database)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	applied, err := db.Migrate(ctx)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate database: %w", err)
	}
	if len(applied) > 0 {
		logger.Info("database migrated", "driver", cfg.Database.Driver, "applied", applied)
	}

	brand, brandErrs := cfg.Branding.Load()
	if len(brandErrs) > 0 {
		db.Close()
		return nil, brandErrs
	}
	var overrides fs.FS
	if brand.Templates != "" {
		overrides = os.DirFS(brand.Templates)
	}
	pages, err := ui.New(overrides)
	if err != nil {
		db.Close()
		return nil, err
	}
	branding := webBranding(brand)
	if branding.Logo != nil || branding.Favicon != nil || branding.Theme != nil {
		pages.SetBrand(ui.Brand{Logo: branding.Logo != nil, Favicon: branding.Favicon != nil, Theme: branding.Theme != nil, Version: branding.Version()})
	}

	sessions := &session.Manager{
		Store:           db,
		IdleTimeout:     cfg.Session.IdleTimeout.D(),
		AbsoluteTimeout: cfg.Session.AbsoluteTimeout.D(),
		Now:             now,
	}

	sealer, err := sealer(cfg)
	if err != nil {
		db.Close()
		return nil, err
	}
	transport := opts.MailTransport
	if transport == nil {
		transport, err = mailTransport(cfg)
		if err != nil {
			db.Close()
			return nil, err
		}
	}
	outbox := sealedOutbox(db, sealer, transport)
	worker := &notify.Worker{
		Outbox:    outbox,
		Transport: transport,
		Now:       now,
		Logger:    logger.With("component", "mail"),
	}
	mailer, err := notify.New(notify.Config{
		Outbox:      outbox,
		Catalog:     catalog,
		ServiceName: cfg.ServiceName,
		BaseURL:     cfg.PublicURL,
		Now:         now,
		Enqueued:    worker.Kick,
	})
	if err != nil {
		db.Close()
		return nil, err
	}

	policy, err := cfg.Password.Policy()
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("password policy: %w", err)
	}
	hasher, err := cfg.Password.Hasher()
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("password hashing: %w", err)
	}
	smsSender, err := smsSender(cfg, outbox, now)
	if err != nil {
		db.Close()
		return nil, err
	}
	var keys *webauthn.Service
	if cfg.WebAuthnEnabled() {
		keys, err = webauthn.New(cfg.WebAuthnConfig())
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("webauthn: %w", err)
		}
		keys.Now = now
	}
	rec := &audit.Recorder{Store: db, Now: now, Logger: logger.With("component", "audit")}
	flows := &flow.Service{
		Store:    db,
		Sessions: sessions,
		Mailer:   mailer,
		Policy:   policy,
		Hasher:   hasher,
		Config: flow.Config{
			CodeTTL:       cfg.Flows.CodeTTL.D(),
			CodeAttempts:  cfg.Flows.CodeAttempts,
			ResendAfter:   cfg.Flows.ResendAfter.D(),
			LinkTTL:       cfg.Flows.LinkTTL.D(),
			MagicLinks:    cfg.Login.MagicLinks,
			LoginFailures: cfg.Login.Failures,
			LoginWindow:   cfg.Login.Window.D(),
			NationalID:    cfg.Login.UsernameNationalID,
		},
		ServiceName: cfg.ServiceName,
		PublicURL:   cfg.PublicURL,
		Logger:      logger.With("component", "flow"),
		Now:         now,
		MFA:         mfaConfig(cfg),
		SMS:         smsSender,
		SMSLimits: flow.SMSLimits{
			PerNumber: cfg.SMS.PerNumber, PerAccount: cfg.SMS.PerAccount, PerIP: cfg.SMS.PerIP, Global: cfg.SMS.Global,
			Countries: cfg.SMS.Countries, DefaultRegion: cfg.SMS.DefaultRegion,
		},
		Sealer:   sealer,
		Texts:    catalog,
		WebAuthn: keys,
		Ops:      opsConfig(cfg),
	}
	flows.Audit = rec
	if flows.Upstreams, err = openUpstreams(cfg, db); err != nil {
		db.Close()
		return nil, err
	}

	var provider *op.Provider
	if cfg.OIDC.Enabled {
		provider, err = newProvider(ctx, cfg, db, sealer, now, logger, worker.Kick)
		if err != nil {
			db.Close()
			return nil, err
		}
	}
	// Back-channel logouts go through the outbox like mail (logout.go).
	worker.Transport = logoutRouter{next: transport, op: provider}
	if provider != nil {
		// Every session that ends (sign-out, a password change ending
		// the others, a reset) logs its apps out over the back channel.
		sessions.Ended = func(ctx context.Context, id string) {
			if err := provider.BackChannelLogout(ctx, id); err != nil {
				logger.Warn("back-channel logout", "session", id, "err", err)
			}
		}
	}
	reps, err := representation(cfg, db, sealer, mailer, rec, now, logger)
	if err != nil {
		db.Close()
		return nil, err
	}
	if provider != nil && reps != nil {
		provider.SetRepresentation(reps)
	}
	captchaPol, err := captchaPolicy(cfg, db, now)
	if err != nil {
		db.Close()
		return nil, err
	}
	var demoApp http.Handler
	if provider != nil && cfg.DevDemo() {
		d := demo.New(cfg.PublicURL, catalog)
		d.Lang = web.RequestLang
		demoApp = d
	}

	// The heartbeat row names the node; several nodes on one host differ
	// by their listen address.
	host, _ := os.Hostname()
	node := host + " " + cfg.Listen

	var registry *prometheus.Registry
	// /metrics is served only behind a token or on a loopback listener
	// (config.MetricsServed).
	if cfg.MetricsServed() {
		registry = prometheus.NewRegistry()
		registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}

	srv := &web.Server{
		Catalog:            catalog,
		Pages:              pages,
		Branding:           branding,
		Sessions:           sessions,
		Accounts:           db,
		Outbox:             outbox,
		Ready:              func(ctx context.Context) error { return db.Heartbeat(ctx, node, now()) },
		Logger:             logger,
		PublicURL:          publicURL,
		ServiceName:        cfg.ServiceName,
		DefaultLanguage:    cfg.I18n.DefaultLanguage,
		DevMailbox:         cfg.DevMailbox(),
		Metrics:            registry,
		Now:                now,
		Flows:              flows,
		LoginMethods:       web.LoginMethods{Email: cfg.LoginMethod("email"), Username: cfg.LoginMethod("username")},
		AdminTokenSHA256:   cfg.Admin.TokenSHA256,
		OP:                 provider,
		Demo:               demoApp,
		TrustedProxies:     cfg.Server.TrustedProxyPrefixes(),
		Captcha:            captchaPol,
		CaptchaNoJSBudget:  cfg.Captcha.NoJSBudget,
		MetricsTokenSHA256: cfg.Metrics.TokenSHA256,
	}
	srv.Representation = reps
	srv.Audit = rec
	wireSystems(cfg, srv, flows, provider, db, rec)
	srv.Support = newSupport(db, flows, rec, sessions, provider, now, logger)
	return &App{
		Config:   cfg,
		Logger:   logger,
		DB:       db,
		Catalog:  catalog,
		Sessions: sessions,
		Mailer:   mailer,
		Worker:   worker,
		Outbox:   outbox,
		Flows:    flows,
		Audit:    rec,
		OP:       provider,
		Web:      srv,
		handler:  srv.Handler(),
		now:      now,
	}, nil
}

func mailTransport(cfg config.Config) (notify.Transport, error) {
	switch cfg.Mail.Transport {
	case "smtp":
		return notify.NewSMTP(notify.SMTPConfig{
			Host:     cfg.Mail.SMTP.Host,
			Port:     cfg.Mail.SMTP.Port,
			Username: cfg.Mail.SMTP.Username,
			Password: cfg.Mail.SMTP.Password,
			TLS:      cfg.Mail.SMTP.TLS,
			From:     cfg.Mail.From,
		})
	default:
		return notify.Dev{}, nil
	}
}

// newProvider builds the OpenID Provider and makes sure it has signing
// keys before anything is served (a key is never made on a request path).
func newProvider(ctx context.Context, cfg config.Config, db *sqlstore.DB, sealer *secret.Sealer, now func() time.Time, logger *slog.Logger, logoutQueued func()) (*op.Provider, error) {
	oc := op.Config{
		Issuer:          cfg.PublicURL,
		AccessTokenTTL:  cfg.OIDC.AccessTokenTTL.D(),
		RefreshTokenTTL: cfg.OIDC.RefreshTokenTTL.D(),
		Keys:            op.KeyConfig{RotationPeriod: cfg.OIDC.KeyRotation.D()},
		UILocales:       i18n.Languages,
		UpstreamACR:     upstreamACR(cfg),
	}
	for _, c := range cfg.OIDC.Clients {
		oc.Clients = append(oc.Clients, op.ClientConfig{
			ID: c.ID, SecretHash: c.SecretSHA256, Name: c.Name, RedirectURIs: c.RedirectURIs, PostLogoutRedirectURIs: c.PostLogoutRedirectURIs,
			Public: c.Public, ThirdParty: c.ThirdParty, GrantTypes: c.GrantTypes, Scopes: c.Scopes, SigningAlg: c.SigningAlg,
			AccessTokenFormat: c.AccessTokenFormat, BackChannelLogoutURI: c.BackChannelLogoutURI, Claims: c.Claims,
		})
	}
	for _, a := range cfg.OIDC.ACR {
		oc.ACR = append(oc.ACR, op.ACR{Value: a.Value, Level: a.Level, AMR: a.AMR})
	}
	if cfg.DevDemo() {
		oc.Clients = append(oc.Clients, op.ClientConfig{ID: demo.ClientID, Name: "Portvakt demo app", Public: true,
			RedirectURIs: []string{strings.TrimRight(cfg.PublicURL, "/") + "/demo/callback"}})
	}
	p, err := op.New(oc, op.Deps{
		Store: db, Sealer: sealer, Now: now, Logger: logger.With("component", "oidc"),
		LoginURL: web.OIDCLoginURL(cfg.PublicURL), LogoutURL: web.OIDCLogoutURL(cfg.PublicURL),
		LogoutQueued: logoutQueued,
	})
	if err != nil {
		return nil, fmt.Errorf("oidc: %w", err)
	}
	if err := p.EnsureKeys(ctx); err != nil {
		return nil, fmt.Errorf("oidc signing keys: %w", err)
	}
	return p, nil
}

// mfaConfig turns the configuration into the flows' terms.
func mfaConfig(cfg config.Config) flow.MFAConfig {
	m := flow.MFAConfig{
		Mode:         cfg.MFA.Mode,
		RememberDays: cfg.MFA.RememberDays,
		EmailTTL:     cfg.MFA.EmailTTL.D(),
		SMSTTL:       cfg.MFA.SMSTTL.D(),
		ReauthAfter:  cfg.MFA.ReauthAfter.D(),
		Levels: authn.Levels{
			authn.Password: cfg.MFA.Levels.Password, authn.Email: cfg.MFA.Levels.Email, authn.SMS: cfg.MFA.Levels.SMS,
			authn.TOTP: cfg.MFA.Levels.TOTP, authn.Recovery: cfg.MFA.Levels.Recovery, authn.Support: cfg.MFA.Levels.Support,
			authn.WebAuthn: cfg.MFA.Levels.WebAuthn,
		},
		Actions:            map[string]int{},
		RequiredGroups:     cfg.MFA.RequiredGroups,
		EnrolAtFirstSignIn: cfg.MFA.EnrolAtFirstSignIn,
	}
	for _, x := range cfg.MFA.Methods {
		if x == "sms" && cfg.SMS.Sender == "off" {
			continue
		}
		if mm, ok := authn.Parse(x); ok {
			m.Methods = append(m.Methods, mm)
		}
	}
	for name, a := range cfg.MFA.Actions {
		m.Actions[name] = a.MinLevel
	}
	return m
}

// sealer builds the key that seals TOTP seeds: the configured one, or for
// SQLite a key file beside the database, made on first start.
func sealer(cfg config.Config) (*secret.Sealer, error) {
	key, err := secretsKey(cfg)
	if err != nil {
		return nil, err
	}
	return secret.NewSealer(key)
}

// secretsKey is the one secret every derived key comes from: the
// configured secrets.key, or for SQLite a key file beside the database,
// made on first start.
func secretsKey(cfg config.Config) ([]byte, error) {
	var key []byte
	var err error
	switch {
	case cfg.Secrets.Key != "":
		key, err = secret.ParseKey(cfg.Secrets.Key)
	case cfg.Database.Driver == "sqlite":
		key, err = secret.LoadOrCreateKey(strings.TrimPrefix(cfg.Database.DSN, "file:") + ".key")
	default:
		return nil, fmt.Errorf("secrets.key must be set for driver %s", cfg.Database.Driver)
	}
	if err != nil {
		return nil, fmt.Errorf("secrets.key: %w", err)
	}
	return key, nil
}

// smsSender builds the configured SMS sender; nil when SMS is off.
func smsSender(cfg config.Config, outbox store.Outbox, now func() time.Time) (flow.SMSSender, error) {
	switch cfg.SMS.Sender {
	case "dev":
		return sms.Outbox{Outbox: outbox, Now: now}, nil
	case "http":
		h := sms.HTTPGateway{URL: cfg.SMS.HTTP.URL, Method: cfg.SMS.HTTP.Method, BodyTemplate: cfg.SMS.HTTP.BodyTemplate, ContentType: cfg.SMS.HTTP.ContentType}
		if cfg.SMS.HTTP.AuthHeader != "" {
			h.Header = map[string]string{"Authorization": cfg.SMS.HTTP.AuthHeader}
		}
		return sms.NewHTTPGateway(h)
	case "twilio":
		return sms.NewTwilio(sms.Twilio{AccountSID: cfg.SMS.Twilio.AccountSID, AuthToken: cfg.SMS.Twilio.AuthToken, From: cfg.SMS.Twilio.From, BaseURL: cfg.SMS.Twilio.BaseURL})
	default:
		return nil, nil
	}
}

// Handler returns the HTTP handler.
func (a *App) Handler() http.Handler { return a.handler }

// OpenDB opens the configured database with its pool and query timeout,
// without migrating it.
func OpenDB(ctx context.Context, c config.Database) (*sqlstore.DB, error) {
	return sqlstore.OpenWith(ctx, c.Driver, c.DSN, sqlstore.Options{
		MaxOpenConns:    c.MaxOpenConns,
		MaxIdleConns:    c.MaxIdleConns,
		ConnMaxIdleTime: c.ConnMaxIdleTime.D(),
		ConnMaxLifetime: c.ConnMaxLifetime.D(),
		QueryTimeout:    c.QueryTimeout.D(),
	})
}

// Serve serves HTTP on ln and runs the background work (mail delivery,
// session sweeping, key rotation) until ctx is cancelled, then drains:
//
//  1. /readyz answers 503 "draining", so load balancers stop sending;
//  2. the listener closes and idle connections with it;
//  3. in-flight requests get server.drain_timeout to finish; those still
//     running then are cut off (their contexts cancelled) and waited for
//     a little longer, so that none runs on into a closed database;
//  4. the background workers stop (a mail being sent is finished).
//
// Only then does Serve return, and the caller closes the database with
// Close. A drain that had to cut requests off is logged, not returned as
// an error: the shutdown was asked for and happened.
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	var inflight tracker
	hs := &http.Server{
		Handler:           inflight.wrap(a.handler),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(a.Logger.Handler(), slog.LevelWarn),
	}
	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	a.Worker.KickOnly = true // the periodic pass is the scheduler's "outbox" job
	wg.Add(2)
	go func() { defer wg.Done(); a.Worker.Run(bg) }()
	go func() { defer wg.Done(); a.Scheduler().Run(bg, 0) }()
	if a.OP != nil {
		wg.Add(1)
		go func() { defer wg.Done(); a.reloadKeys(bg) }()
	}

	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	a.Logger.Info("serving", "addr", ln.Addr().String(), "public_url", a.Config.PublicURL, "database", a.Config.Database.Driver)

	var err error
	select {
	case err = <-errc:
	case <-ctx.Done():
		drain := a.Config.Server.DrainTimeout.D()
		a.Logger.Info("shutting down", "in_flight", inflight.count(), "drain_timeout", drain.String())
		a.Web.Drain()
		err = a.drain(hs, &inflight, drain)
		<-errc
	}
	stopBG()
	wg.Wait()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	a.Logger.Info("stopped")
	return err
}

// drain stops hs and waits for its requests: up to timeout for them to
// finish, then, if some have not, cuts them off and waits for their
// handlers to return (their database calls end within the query timeout).
func (a *App) drain(hs *http.Server, inflight *tracker, timeout time.Duration) error {
	sctx, cancel := context.WithTimeout(context.Background(), timeout)
	err := hs.Shutdown(sctx)
	cancel()
	if err == nil {
		return nil
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	a.Logger.Warn("drain timeout: cutting off requests still running", "in_flight", inflight.count(), "drain_timeout", timeout.String())
	hs.Close()
	grace := a.Config.Database.QueryTimeout.D() + 5*time.Second
	wctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if inflight.wait(wctx) != nil {
		a.Logger.Error("handlers still running after the drain; closing the database under them", "in_flight", inflight.count())
	}
	return nil
}

// tracker counts the requests being handled, so that the drain knows when
// every handler has returned (http.Server.Shutdown stops waiting at its
// deadline, while the handlers go on).
type tracker struct {
	mu   sync.Mutex
	n    int
	idle chan struct{} // closed when n drops to 0; nil while nobody waits
}

func (t *tracker) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.mu.Lock()
		t.n++
		t.mu.Unlock()
		defer func() {
			t.mu.Lock()
			t.n--
			if t.n == 0 && t.idle != nil {
				close(t.idle)
				t.idle = nil
			}
			t.mu.Unlock()
		}()
		h.ServeHTTP(w, r)
	})
}

func (t *tracker) count() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.n
}

// wait returns nil once no request is being handled, or ctx's error.
func (t *tracker) wait(ctx context.Context) error {
	t.mu.Lock()
	if t.n == 0 {
		t.mu.Unlock()
		return nil
	}
	if t.idle == nil {
		t.idle = make(chan struct{})
	}
	idle := t.idle
	t.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close releases the database.
func (a *App) Close() error { return a.DB.Close() }

// NewLogger builds the slog logger the configuration asks for.
func NewLogger(c config.Log, w io.Writer) *slog.Logger {
	if w == nil {
		w = io.Discard
	}
	var level slog.Level
	switch c.Level {
	case "debug":
		level = slog.LevelDebug
	case "warn":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	}
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// webBranding is the branding the web server serves.
func webBranding(b config.BrandingAssets) web.Branding {
	asset := func(a *config.Asset) *web.BrandAsset {
		if a == nil {
			return nil
		}
		return &web.BrandAsset{Data: a.Data, Type: a.Type}
	}
	return web.Branding{Logo: asset(b.Logo), Favicon: asset(b.Favicon), Theme: b.Theme}
}
