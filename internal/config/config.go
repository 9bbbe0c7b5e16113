// Package config is Portvakt's configuration: a typed struct read from YAML,
// overridden key by key by PORTVAKT_… environment variables, filled with
// defaults, and validated with every error reported at once with its path
// and the allowed values.
//
// With no file and no environment the defaults give a working server:
// SQLite in ./portvakt.db, listening on 127.0.0.1:8080, public URL
// http://localhost:8080 and mail kept in the built-in development mailbox.
//
// # Environment
//
// Every scalar key has an environment variable named after its YAML path,
// upper-cased, with dots as underscores and a PORTVAKT_ prefix:
//
//	database.dsn        PORTVAKT_DATABASE_DSN
//	session.idle_timeout PORTVAKT_SESSION_IDLE_TIMEOUT
//	mail.smtp.password  PORTVAKT_MAIL_SMTP_PASSWORD
//
// Lists take a comma-separated value. The environment wins over the file.
package config

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"os"
	"reflect"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/portvakt/portvakt/internal/authn/password"
	"github.com/portvakt/portvakt/internal/authn/webauthn"
	"github.com/portvakt/portvakt/internal/secret"
	"github.com/portvakt/portvakt/internal/upstream"
)

// Config is the whole configuration. Field docs are the reference; the
// README's configuration section is generated from the same names.
type Config struct {
	// Listen is the address the HTTP server binds.
	Listen string `yaml:"listen"`
	// PublicURL is the only source of absolute URLs in mails, redirects and
	// metadata. Host and X-Forwarded-* headers are never used for them.
	PublicURL string `yaml:"public_url"`
	// ServiceName is shown to users in pages and mails.
	ServiceName string `yaml:"service_name"`

	Server   Server   `yaml:"server"`
	Database Database `yaml:"database"`
	Session  Session  `yaml:"session"`
	Mail     Mail     `yaml:"mail"`
	I18n     I18n     `yaml:"i18n"`
	Log      Log      `yaml:"log"`
	Dev      Dev      `yaml:"dev"`
	Metrics  Metrics  `yaml:"metrics"`
	Login    Login    `yaml:"login"`
	Flows    Flows    `yaml:"flows"`
	Admin    Admin    `yaml:"admin"`
	// Password is the password policy and hashing (see package password).
	Password password.Config `yaml:"password"`
	MFA      MFA             `yaml:"mfa"`
	SMS      SMS             `yaml:"sms"`
	Secrets  Secrets         `yaml:"secrets"`
	Captcha  Captcha         `yaml:"captcha"`
	WebAuthn WebAuthn        `yaml:"webauthn"`
	OIDC     OIDC            `yaml:"oidc"`
	Branding Branding        `yaml:"branding"`
	// Upstreams are the upstream identity providers, in the order of the
	// sign-in buttons (package upstream has the fields).
	Upstreams []upstream.Config `yaml:"upstreams"`
	// Services name pages and apps that need a sign-in through an
	// upstream at a level: services.residence-status: {via: idporten,
	// min_acr: idporten-loa-high}. /service/{name}?return_to=… checks it.
	Services map[string]upstream.Service `yaml:"services"`
	// Representation is acting on behalf of others (representation.go).
	Representation Representation `yaml:"representation"`
	// Audit is the audit log (audit.go).
	Audit Audit `yaml:"audit"`
	// Rights and Systems: named rights and end-user systems (systems.go).
	Rights  Rights  `yaml:"rights"`
	Systems Systems `yaml:"systems"`
	// Lifecycle and Alerts: deleting unused accounts, the grace of a
	// requested deletion, new-device mails (lifecycle.go, alerts.go).
	Lifecycle Lifecycle `yaml:"lifecycle"`
	Alerts    Alerts    `yaml:"alerts"`
}

// OIDC configures the OpenID Provider for the organisation's apps.
type OIDC struct {
	// Enabled serves the provider (discovery, /authorize, tokens …).
	Enabled bool `yaml:"enabled"`
	// AccessTokenTTL and RefreshTokenTTL (absolute) bound tokens.
	AccessTokenTTL  Duration `yaml:"access_token_ttl"`
	RefreshTokenTTL Duration `yaml:"refresh_token_ttl"`
	// KeyRotation is how often signing keys are replaced.
	KeyRotation Duration `yaml:"key_rotation"`
	// Clients are apps configured in the file (more can be added with
	// portvakt client add or the admin API). File only.
	Clients []OIDCClient `yaml:"clients"`
	// ACR replaces the acr values published for the levels (default
	// urn:portvakt:level:1 to :4): value, level, and optionally the amr
	// an ID token with that value carries instead of the methods used.
	ACR []OIDCACR `yaml:"acr"`
}

// OIDCACR is one acr value of oidc.acr.
type OIDCACR struct {
	Value string   `yaml:"value"`
	Level int      `yaml:"level"`
	AMR   []string `yaml:"amr"`
}

// OIDCClient is an app in the configuration file.
type OIDCClient struct {
	ID string `yaml:"id"`
	// SecretSHA256 is the hex SHA-256 of a confidential client's secret;
	// none for a public client.
	SecretSHA256           string   `yaml:"secret_sha256"`
	Name                   string   `yaml:"name"`
	RedirectURIs           []string `yaml:"redirect_uris"`
	PostLogoutRedirectURIs []string `yaml:"post_logout_redirect_uris"`
	Public                 bool     `yaml:"public"`
	ThirdParty             bool     `yaml:"third_party"`
	GrantTypes             []string `yaml:"grant_types"`
	Scopes                 []string `yaml:"scopes"`
	SigningAlg             string   `yaml:"signing_alg"`
	// AccessTokenFormat is "opaque" (a reference that introspection
	// looks up; the default for tokens for users) or "jwt" (signed, for
	// resource servers that check offline; the default for
	// client_credentials).
	AccessTokenFormat    string `yaml:"access_token_format"`
	BackChannelLogoutURI string `yaml:"backchannel_logout_uri"`
	// Claims adds ID token claims from the account: claim → username,
	// name or email, e.g. {pid: username} where usernames are national
	// identity numbers.
	Claims map[string]string `yaml:"claims"`
}

// WebAuthn configures security keys and passkeys.
type WebAuthn struct {
	// RPID is the domain credentials are bound to; empty means the host
	// of public_url. Changing it later makes every registered credential
	// unusable.
	RPID string `yaml:"rp_id"`
	// RPName is shown by the browser while registering; empty means
	// service_name.
	RPName string `yaml:"rp_name"`
	// Origins may run ceremonies; empty means the origin of public_url.
	Origins []string `yaml:"origins"`
	// Attestation is none (the default), indirect or direct.
	Attestation string `yaml:"attestation"`
}

// WebAuthnEnabled reports whether security keys and passkeys are on:
// always when webauthn.rp_id is set, otherwise when the public URL's host
// is a domain name (WebAuthn has no place for an IP address).
func (c Config) WebAuthnEnabled() bool {
	if c.WebAuthn.RPID != "" {
		return true
	}
	u, err := url.Parse(c.PublicURL)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && net.ParseIP(u.Hostname()) == nil
}

// WebAuthnConfig returns the WebAuthn settings with the defaults from the
// public URL filled in.
func (c Config) WebAuthnConfig() webauthn.Config {
	w := webauthn.Config{RPID: c.WebAuthn.RPID, RPName: c.WebAuthn.RPName, Origins: c.WebAuthn.Origins, Attestation: c.WebAuthn.Attestation}
	if u, err := url.Parse(c.PublicURL); err == nil {
		if w.RPID == "" {
			w.RPID = u.Hostname()
		}
		if len(w.Origins) == 0 {
			w.Origins = []string{u.Scheme + "://" + u.Host}
		}
	}
	if w.RPName == "" {
		w.RPName = c.ServiceName
	}
	if w.Attestation == "" {
		w.Attestation = "none"
	}
	return w
}

// MFA configures second factors.
type MFA struct {
	// Mode is off, optional (asked for when the user has set one up) or
	// required (every sign-in; users without one set one up at sign-in).
	Mode string `yaml:"mode"`
	// Methods are the second factors offered: webauthn, totp, recovery,
	// sms, email, support.
	Methods []string `yaml:"methods"`
	// RememberDays, when above zero, offers "don't ask again in this
	// browser for N days" at the second step.
	RememberDays int `yaml:"remember_days"`
	// EmailTTL is how long an emailed sign-in link and code work.
	EmailTTL Duration `yaml:"email_ttl"`
	// SMSTTL is how long an SMS code works.
	SMSTTL Duration `yaml:"sms_ttl"`
	// ReauthAfter is how old a sign-in may be before changing sign-in
	// methods asks for it again.
	ReauthAfter Duration `yaml:"reauth_after"`
	// Levels are the methods' strengths (1–4).
	Levels Levels `yaml:"levels"`
	// Actions name the minimum level of an action, e.g.
	// {payment: {min_level: 3}} (file only; no environment variables).
	Actions map[string]Action `yaml:"actions"`
	// RequiredGroups make a second factor required for members of these
	// groups when mode is optional.
	RequiredGroups []string `yaml:"required_groups"`
	// EnrolAtFirstSignIn lets an account that must have a second step but
	// has none bind one at its first sign-in with the password alone
	// (trust on first use; the IDEP profile). Off, the account first
	// proves its registered address, or needs an invitation.
	EnrolAtFirstSignIn bool `yaml:"enrol_at_first_sign_in"`
}

// Levels are method strengths.
type Levels struct {
	Password int `yaml:"password"`
	Email    int `yaml:"email"`
	SMS      int `yaml:"sms"`
	TOTP     int `yaml:"totp"`
	Recovery int `yaml:"recovery"`
	Support  int `yaml:"support"`
	WebAuthn int `yaml:"webauthn"`
}

// Action is a named action apps may ask a step-up for.
type Action struct {
	MinLevel int `yaml:"min_level"`
}

// SMS configures SMS codes.
type SMS struct {
	// Sender is dev (kept in the development mailbox), http (a generic
	// gateway), twilio, or off.
	Sender string `yaml:"sender"`
	// DefaultRegion is the country of numbers typed without a country
	// code (ISO code, e.g. NO).
	DefaultRegion string `yaml:"default_region"`
	// Countries are the ISO codes numbers may be in; empty allows all.
	Countries []string `yaml:"countries"`
	// Hourly limits: per number, per account, per IP address, in all.
	PerNumber  int       `yaml:"per_number_hour"`
	PerAccount int       `yaml:"per_account_hour"`
	PerIP      int       `yaml:"per_ip_hour"`
	Global     int       `yaml:"global_hour"`
	HTTP       SMSHTTP   `yaml:"http"`
	Twilio     SMSTwilio `yaml:"twilio"`
}

// SMSHTTP is a generic HTTP SMS gateway.
type SMSHTTP struct {
	URL string `yaml:"url"`
	// Method defaults to POST.
	Method string `yaml:"method"`
	// AuthHeader is sent as the Authorization header, e.g. "Bearer …".
	AuthHeader string `yaml:"auth_header"`
	// BodyTemplate is a Go text/template over .To and .Text, with a json
	// function: {"to": {{json .To}}, "message": {{json .Text}}}.
	BodyTemplate string `yaml:"body_template"`
	ContentType  string `yaml:"content_type"`
}

// SMSTwilio is Twilio's (or a compatible) Messages API.
type SMSTwilio struct {
	AccountSID string `yaml:"account_sid"`
	AuthToken  string `yaml:"auth_token"`
	From       string `yaml:"from"`
	BaseURL    string `yaml:"base_url"`
}

// Secrets configures encryption of secrets at rest.
type Secrets struct {
	// Key is a base64 32-byte key that seals TOTP seeds in the database.
	// With SQLite and no key, one is made and kept in a file beside the
	// database (<dsn>.key); PostgreSQL deployments must set it, the same
	// on every node.
	Key string `yaml:"key"`
}

// Captcha configures the proof-of-work challenge (issue 10; package
// captcha): where it is asked and who verifies it.
type Captcha struct {
	// Provider is altcha (self-hosted proof of work, the widget served
	// from the binary), off, or a third party whose siteverify checks the
	// solution: turnstile, hcaptcha or recaptcha (v2; site_key and secret
	// then needed).
	Provider string `yaml:"provider"`
	// At lists where it is asked: signup, recovery, login_after_failures.
	At []string `yaml:"at"`
	// LoginAfterFailures is how many failed sign-ins on the client's
	// address, the identifier or the account make sign-in ask it.
	LoginAfterFailures int `yaml:"login_after_failures"`
	// MaxNumber is ALTCHA's difficulty (about half as many hashes on
	// average); TTL how long a challenge may be used.
	MaxNumber int64    `yaml:"max_number"`
	TTL       Duration `yaml:"ttl"`
	// NoJSBudget is how many unsolved submissions (a browser without
	// JavaScript) one client network may make an hour.
	NoJSBudget int `yaml:"nojs_budget"`
	// SiteKey and Secret are the third party's keys.
	SiteKey string `yaml:"site_key"`
	Secret  string `yaml:"secret"`
}

// Login configures sign-in.
type Login struct {
	// Methods are the sign-in forms offered: email (email-first) and/or
	// username (username and password on one page).
	Methods []string `yaml:"methods"`
	// MagicLinks offers a one-time sign-in link in "forgot password".
	MagicLinks bool `yaml:"magic_links"`
	// UsernameNationalID says the username is a national identity
	// number: "no" (fødselsnummer or D-nummer, Altinn) or "se"
	// (personnummer). The sign-in page labels it so, checks its format and
	// control digits before any password, and shows it masked. Empty: an
	// ordinary username.
	UsernameNationalID string `yaml:"username_national_id"`
	// Failures is how many failed sign-ins per identifier within Window
	// make further tries wait.
	Failures int      `yaml:"failures"`
	Window   Duration `yaml:"window"`
}

// Flows configures codes and links.
type Flows struct {
	// CodeTTL is how long an emailed code works.
	CodeTTL Duration `yaml:"code_ttl"`
	// CodeAttempts is how many wrong codes end a flow.
	CodeAttempts int `yaml:"code_attempts"`
	// ResendAfter is the cool-down between two codes.
	ResendAfter Duration `yaml:"resend_after"`
	// LinkTTL is how long an emailed link works.
	LinkTTL Duration `yaml:"link_ttl"`
}

// Admin configures the admin API.
type Admin struct {
	// TokenSHA256 is the hex SHA-256 digest of the admin API's bearer
	// token (generate a token, store only its digest). Empty closes the
	// admin API.
	TokenSHA256 string `yaml:"token_sha256"`
}

// Server configures the HTTP server's life cycle.
type Server struct {
	// DrainTimeout is how long in-flight requests may take to finish after
	// SIGTERM (readiness has turned 503 and no new connections are taken)
	// before they are cut off. Workers stop and the database closes only
	// after the drain.
	DrainTimeout Duration `yaml:"drain_timeout"`
	// TrustedProxies are the addresses (CIDRs, or single addresses) of the
	// reverse proxies and load balancers in front of Portvakt. Only a
	// request from one of them has its Forwarded or X-Forwarded-For header
	// read, right to left, skipping these proxies; the first other address
	// is the client's. Empty: headers are ignored and the peer is the
	// client. Every per-IP rule uses the result.
	TrustedProxies []string `yaml:"trusted_proxies"`
}

// TrustedProxyPrefixes returns TrustedProxies parsed; a single address is
// its own /32 or /128. Entries that do not parse are left out (Validate
// reports them).
func (s Server) TrustedProxyPrefixes() []netip.Prefix {
	var out []netip.Prefix
	for _, v := range s.TrustedProxies {
		if p, err := parseProxy(v); err == nil {
			out = append(out, p)
		}
	}
	return out
}

func parseProxy(v string) (netip.Prefix, error) {
	v = strings.TrimSpace(v)
	if strings.Contains(v, "/") {
		p, err := netip.ParsePrefix(v)
		if err != nil {
			return netip.Prefix{}, err
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(v)
	if err != nil {
		return netip.Prefix{}, err
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// Database selects the store and sizes its connection pool.
type Database struct {
	// Driver is "sqlite" (embedded, the default) or "postgres".
	Driver string `yaml:"driver"`
	// DSN is a file path (SQLite) or a connection URL (PostgreSQL).
	DSN string `yaml:"dsn"`
	// MaxOpenConns caps the connections this process opens to PostgreSQL
	// (on SQLite: the read connections; writes always share one). 0 means
	// 4 per core, at least 8 and at most 32. Every node opens up to this
	// many, so nodes × max_open_conns plus the CLI's few must stay below
	// the server's max_connections minus its reserved connections.
	MaxOpenConns int `yaml:"max_open_conns"`
	// MaxIdleConns is how many connections are kept open while idle; 0
	// means max_open_conns, so that a busy node does not reconnect.
	MaxIdleConns int `yaml:"max_idle_conns"`
	// ConnMaxIdleTime closes a connection idle this long (PostgreSQL; 0
	// keeps it).
	ConnMaxIdleTime Duration `yaml:"conn_max_idle_time"`
	// ConnMaxLifetime replaces a connection this old (PostgreSQL; 0 keeps
	// it), so that a fail-over or DNS change is picked up and server-side
	// caches do not grow without end.
	ConnMaxLifetime Duration `yaml:"conn_max_lifetime"`
	// QueryTimeout bounds every database call: a statement, a transaction
	// or the wait for a free connection. A call that takes longer fails
	// and the user gets a 503 page asking to try again shortly.
	QueryTimeout Duration `yaml:"query_timeout"`
}

// DefaultMaxOpenConns is the pool size used when database.max_open_conns
// is 0: four connections per core (a request waits on the database far
// more than it computes), at least 8 and at most 32.
func DefaultMaxOpenConns() int { return min(32, max(8, 4*runtime.GOMAXPROCS(0))) }

// Pool returns the pool size with the defaults resolved: open and idle
// connections.
func (d Database) Pool() (maxOpen, maxIdle int) {
	maxOpen = d.MaxOpenConns
	if maxOpen <= 0 {
		maxOpen = DefaultMaxOpenConns()
	}
	maxIdle = d.MaxIdleConns
	if maxIdle <= 0 || maxIdle > maxOpen {
		maxIdle = maxOpen
	}
	return maxOpen, maxIdle
}

// Session holds browser session lifetimes.
type Session struct {
	// IdleTimeout ends a session after this long without a request.
	IdleTimeout Duration `yaml:"idle_timeout"`
	// AbsoluteTimeout ends a session this long after sign-in, however active.
	AbsoluteTimeout Duration `yaml:"absolute_timeout"`
}

// Mail configures outgoing email.
type Mail struct {
	// Transport is "dev" (kept in the development mailbox only) or "smtp".
	Transport string `yaml:"transport"`
	// From is the sender address, e.g. "Portvakt <no-reply@example.org>".
	From string `yaml:"from"`
	SMTP SMTP   `yaml:"smtp"`
}

// SMTP is an SMTP relay.
type SMTP struct {
	Host     string `yaml:"host"`
	Port     int    `yaml:"port"`
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	// TLS is "starttls" (required STARTTLS), "implicit" (SMTPS) or "none"
	// (plain text; allowed only to a loopback host).
	TLS string `yaml:"tls"`
}

// I18n sets languages.
type I18n struct {
	// DefaultLanguage is used when the browser asks for none we have.
	DefaultLanguage string `yaml:"default_language"`
}

// Log sets logging.
type Log struct {
	// Level is debug, info, warn or error.
	Level string `yaml:"level"`
	// Format is json or text.
	Format string `yaml:"format"`
}

// Dev holds development conveniences.
type Dev struct {
	// Mailbox is "auto" (on when the public URL is on localhost), "on" or
	// "off". It serves /dev/mail, a page (and JSON) of every sent message.
	Mailbox string `yaml:"mailbox"`
	// Demo is "auto" (on with the mailbox), "on" or "off": a demo app at
	// /demo that signs in with Portvakt and shows the ID token's claims.
	Demo string `yaml:"demo"`
}

// Metrics configures the Prometheus endpoint.
type Metrics struct {
	// Enabled serves /metrics.
	Enabled bool `yaml:"enabled"`
	// TokenSHA256 is the hex SHA-256 of a bearer token that /metrics
	// requires. Without it /metrics is served only when the listen address
	// is loopback (issue 10, finding 9: it was public).
	TokenSHA256 string `yaml:"token_sha256"`
}

// MetricsServed reports whether /metrics is served on the listener: when
// enabled, and either behind a token or on a loopback listener.
func (c Config) MetricsServed() bool {
	return c.Metrics.Enabled && (c.Metrics.TokenSHA256 != "" || c.ListenIsLoopback())
}

// ListenIsLoopback reports whether the listen address is a loopback one
// (127.0.0.1:8080, [::1]:8080, localhost:8080); an empty host (":8080",
// every interface) is not.
func (c Config) ListenIsLoopback() bool {
	host, _, err := net.SplitHostPort(c.Listen)
	if err != nil {
		host = c.Listen
	}
	return host != "" && IsLoopbackHost(host)
}

// Duration is a time.Duration written as "30m" or "12h" in YAML.
type Duration time.Duration

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

func (d Duration) String() string { return time.Duration(d).String() }

// MarshalYAML writes the duration as text.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// UnmarshalYAML reads "30m", "12h", "1h30m".
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("%q is not a duration such as 30m or 12h", n.Value)
	}
	*d = Duration(v)
	return nil
}

// Default returns the zero-configuration defaults.
func Default() Config {
	return Config{
		Listen:      "127.0.0.1:8080",
		PublicURL:   "http://localhost:8080",
		ServiceName: "Portvakt",
		Server:      Server{DrainTimeout: Duration(30 * time.Second)},
		Database: Database{Driver: "sqlite", DSN: "portvakt.db",
			ConnMaxIdleTime: Duration(5 * time.Minute), ConnMaxLifetime: Duration(time.Hour),
			QueryTimeout: Duration(5 * time.Second)},
		Session: Session{
			IdleTimeout:     Duration(30 * time.Minute),
			AbsoluteTimeout: Duration(12 * time.Hour),
		},
		Mail: Mail{
			Transport: "dev",
			From:      "Portvakt <no-reply@localhost>",
			SMTP:      SMTP{Port: 587, TLS: "starttls"},
		},
		Audit:   defaultAudit(),
		Systems: defaultSystems(),
		I18n:    I18n{DefaultLanguage: "en"},
		Log:     Log{Level: "info", Format: "json"},
		Dev:     Dev{Mailbox: "auto", Demo: "auto"},
		Metrics: Metrics{Enabled: true},
		Login:   Login{Methods: []string{"email"}, MagicLinks: true, Failures: 10, Window: Duration(15 * time.Minute)},
		Flows: Flows{
			CodeTTL:      Duration(10 * time.Minute),
			CodeAttempts: 5,
			ResendAfter:  Duration(time.Minute),
			LinkTTL:      Duration(30 * time.Minute),
		},
		Password: password.Config{Preset: "nist"},
		MFA: MFA{
			Mode:        "optional",
			Methods:     []string{"webauthn", "totp", "recovery", "sms", "email", "support"},
			EmailTTL:    Duration(30 * time.Minute),
			SMSTTL:      Duration(5 * time.Minute),
			ReauthAfter: Duration(10 * time.Minute),
			Levels:      Levels{Password: 1, Email: 1, SMS: 2, TOTP: 3, Recovery: 3, Support: 3, WebAuthn: 4},
		},

		Lifecycle: defaultLifecycle(),
		Alerts:    defaultAlerts(),

		Captcha: Captcha{Provider: "off", At: []string{"signup", "recovery", "login_after_failures"},
			LoginAfterFailures: 3, MaxNumber: 100_000, TTL: Duration(10 * time.Minute), NoJSBudget: 5},
		SMS:  SMS{Sender: "dev", DefaultRegion: "NO", PerNumber: 5, PerAccount: 10, PerIP: 20, Global: 500},
		OIDC: OIDC{Enabled: true, AccessTokenTTL: Duration(10 * time.Minute), RefreshTokenTTL: Duration(30 * 24 * time.Hour), KeyRotation: Duration(30 * 24 * time.Hour)},
	}
}

// Load reads the file at path (none if path is ""), applies the
// environment (from environ, in os.Environ form) and returns the result
// with defaults for what neither set. It does not validate; call Validate.
// Errors name the file, line and key.
func Load(path string, environ []string) (Config, error) {
	cfg := Default()
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return cfg, fmt.Errorf("read config: %w", err)
		}
		if err := decodeYAML(b, &cfg); err != nil {
			return cfg, fmt.Errorf("%s: %w", path, err)
		}
	}
	if err := applyEnv(&cfg, environ); err != nil {
		return cfg, err
	}
	return cfg, nil
}

func decodeYAML(b []byte, cfg *Config) error {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

// EnvName returns the environment variable for a YAML path such as
// "database.dsn".
func EnvName(path string) string {
	return "PORTVAKT_" + strings.ToUpper(strings.ReplaceAll(path, ".", "_"))
}

// Keys returns every scalar key path, sorted, for documentation and tests.
func Keys() []string {
	var out []string
	walk(reflect.ValueOf(new(Config)).Elem(), "", func(path string, _ reflect.Value) {
		out = append(out, path)
	})
	sort.Strings(out)
	return out
}

func walk(v reflect.Value, prefix string, fn func(path string, f reflect.Value)) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		name := strings.Split(sf.Tag.Get("yaml"), ",")[0]
		if name == "" || name == "-" {
			continue
		}
		path := name
		if prefix != "" {
			path = prefix + "." + name
		}
		f := v.Field(i)
		if f.Kind() == reflect.Struct {
			walk(f, path, fn)
			continue
		}
		fn(path, f)
	}
}

func applyEnv(cfg *Config, environ []string) error {
	env := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "PORTVAKT_") {
			env[k] = v
		}
	}
	var errs []string
	walk(reflect.ValueOf(cfg).Elem(), "", func(path string, f reflect.Value) {
		raw, ok := env[EnvName(path)]
		if !ok {
			return
		}
		if err := setScalar(f, raw); err != nil {
			errs = append(errs, fmt.Sprintf("%s (%s): %v", EnvName(path), path, err))
		}
	})
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "\n"))
	}
	return nil
}

func setScalar(f reflect.Value, raw string) error {
	if f.Type() == reflect.TypeOf(Duration(0)) {
		d, err := time.ParseDuration(raw)
		if err != nil {
			return fmt.Errorf("%q is not a duration such as 30m or 12h", raw)
		}
		f.SetInt(int64(d))
		return nil
	}
	switch f.Kind() {
	case reflect.String:
		f.SetString(raw)
	case reflect.Int, reflect.Int64:
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not a whole number", raw)
		}
		f.SetInt(n)
	case reflect.Bool:
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return fmt.Errorf("%q is not true or false", raw)
		}
		f.SetBool(b)
	case reflect.Slice:
		if f.Type().Elem().Kind() != reflect.String {
			return fmt.Errorf("unsupported list type")
		}
		var items []string
		for _, s := range strings.Split(raw, ",") {
			if s = strings.TrimSpace(s); s != "" {
				items = append(items, s)
			}
		}
		f.Set(reflect.ValueOf(items))
	default:
		return fmt.Errorf("unsupported type %s", f.Type())
	}
	return nil
}

// Error is one configuration mistake.
type Error struct {
	Path    string
	Message string
}

func (e Error) String() string { return e.Path + ": " + e.Message }

// Errors is every mistake found by Validate.
type Errors []Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.String()
	}
	return strings.Join(lines, "\n")
}

// Validate checks the whole configuration and returns every mistake (as
// Errors), or nil. Warnings (allowed but worth a second look) come back
// separately and do not make the configuration invalid.
func (c Config) Validate() (warnings []string, err error) {
	var es Errors
	add := func(path, format string, args ...any) {
		es = append(es, Error{Path: path, Message: fmt.Sprintf(format, args...)})
	}
	oneOf := func(path, v string, allowed ...string) {
		for _, a := range allowed {
			if v == a {
				return
			}
		}
		add(path, "must be one of %s, but is %q", strings.Join(allowed, ", "), v)
	}

	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		add("listen", "must be host:port such as 127.0.0.1:8080, but is %q", c.Listen)
	}
	u, err := url.Parse(c.PublicURL)
	switch {
	case err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https"):
		add("public_url", "must be an absolute http or https URL such as https://login.example.org, but is %q", c.PublicURL)
	case u.RawQuery != "" || u.Fragment != "":
		add("public_url", "must not have a query or fragment, but is %q", c.PublicURL)
	case u.Scheme == "http" && !IsLoopbackHost(u.Hostname()):
		add("public_url", "must use https unless the host is localhost or a loopback address, but is %q", c.PublicURL)
	}
	if strings.TrimSpace(c.ServiceName) == "" {
		add("service_name", "must not be empty")
	}

	oneOf("database.driver", c.Database.Driver, "sqlite", "postgres")
	if c.Database.DSN == "" {
		add("database.dsn", "must be set: a file path for sqlite, a postgres:// URL for postgres")
	} else if c.Database.Driver == "postgres" && !strings.HasPrefix(c.Database.DSN, "postgres://") && !strings.HasPrefix(c.Database.DSN, "postgresql://") && !strings.Contains(c.Database.DSN, "host=") {
		add("database.dsn", "must be a postgres:// URL or a key=value connection string for driver postgres")
	}

	if c.Database.MaxOpenConns < 0 || c.Database.MaxOpenConns > 1000 {
		add("database.max_open_conns", "must be between 0 (4 per core, 8 to 32) and 1000, but is %d", c.Database.MaxOpenConns)
	}
	if c.Database.MaxIdleConns < 0 {
		add("database.max_idle_conns", "must be 0 (as many as max_open_conns) or more, but is %d", c.Database.MaxIdleConns)
	} else if c.Database.MaxOpenConns > 0 && c.Database.MaxIdleConns > c.Database.MaxOpenConns {
		add("database.max_idle_conns", "must not exceed database.max_open_conns (%d), but is %d", c.Database.MaxOpenConns, c.Database.MaxIdleConns)
	}
	if c.Database.ConnMaxIdleTime.D() < 0 {
		add("database.conn_max_idle_time", "must be 0s (keep idle connections) or more, but is %s", c.Database.ConnMaxIdleTime)
	}
	if c.Database.ConnMaxLifetime.D() < 0 {
		add("database.conn_max_lifetime", "must be 0s (keep connections) or more, but is %s", c.Database.ConnMaxLifetime)
	} else if l := c.Database.ConnMaxLifetime.D(); l > 0 && l < time.Minute {
		add("database.conn_max_lifetime", "must be 0s or at least 1m (shorter reconnects all the time), but is %s", c.Database.ConnMaxLifetime)
	}
	if q := c.Database.QueryTimeout.D(); q < 100*time.Millisecond || q > 5*time.Minute {
		add("database.query_timeout", "must be between 100ms and 5m, but is %s", c.Database.QueryTimeout)
	}
	if d := c.Server.DrainTimeout.D(); d < 0 || d > 10*time.Minute {
		add("server.drain_timeout", "must be between 0s and 10m, but is %s", c.Server.DrainTimeout)
	}
	for i, v := range c.Server.TrustedProxies {
		if _, err := parseProxy(v); err != nil {
			add(fmt.Sprintf("server.trusted_proxies[%d]", i), "must be an address or a CIDR such as 10.0.0.0/8 or fd00::/8, but is %q", v)
		}
	}

	if c.Session.IdleTimeout.D() < time.Minute || c.Session.IdleTimeout.D() > 24*time.Hour {
		add("session.idle_timeout", "must be between 1m and 24h, but is %s", c.Session.IdleTimeout)
	}
	if c.Session.AbsoluteTimeout.D() < c.Session.IdleTimeout.D() || c.Session.AbsoluteTimeout.D() > 30*24*time.Hour {
		add("session.absolute_timeout", "must be at least session.idle_timeout (%s) and at most 720h, but is %s", c.Session.IdleTimeout, c.Session.AbsoluteTimeout)
	}
	if c.Session.IdleTimeout.D() > time.Hour {
		warnings = append(warnings, "session.idle_timeout: "+c.Session.IdleTimeout.String()+" is longer than the 1h NIST SP 800-63B-4 allows at AAL2")
	}
	if c.Session.AbsoluteTimeout.D() > 24*time.Hour {
		warnings = append(warnings, "session.absolute_timeout: "+c.Session.AbsoluteTimeout.String()+" is longer than the 24h NIST SP 800-63B-4 allows at AAL2")
	}

	oneOf("mail.transport", c.Mail.Transport, "dev", "smtp")
	if c.Mail.From == "" {
		add("mail.from", "must be set, e.g. \"Portvakt <no-reply@example.org>\"")
	}
	if c.Mail.Transport == "smtp" {
		if c.Mail.SMTP.Host == "" {
			add("mail.smtp.host", "must be set when mail.transport is smtp")
		}
		if c.Mail.SMTP.Port < 1 || c.Mail.SMTP.Port > 65535 {
			add("mail.smtp.port", "must be between 1 and 65535, but is %d", c.Mail.SMTP.Port)
		}
		oneOf("mail.smtp.tls", c.Mail.SMTP.TLS, "starttls", "implicit", "none")
		if c.Mail.SMTP.TLS == "none" && c.Mail.SMTP.Host != "" && !IsLoopbackHost(c.Mail.SMTP.Host) {
			add("mail.smtp.tls", "none is allowed only for a loopback host, but mail.smtp.host is %q", c.Mail.SMTP.Host)
		}
		if (c.Mail.SMTP.Username == "") != (c.Mail.SMTP.Password == "") {
			add("mail.smtp.password", "mail.smtp.username and mail.smtp.password must be set together")
		}
	}

	oneOf("i18n.default_language", c.I18n.DefaultLanguage, "en", "nb", "sv")
	oneOf("log.level", c.Log.Level, "debug", "info", "warn", "error")
	oneOf("log.format", c.Log.Format, "json", "text")
	oneOf("dev.mailbox", c.Dev.Mailbox, "auto", "on", "off")
	oneOf("dev.demo", c.Dev.Demo, "auto", "on", "off")
	if c.OIDC.AccessTokenTTL.D() < time.Minute || c.OIDC.AccessTokenTTL.D() > 24*time.Hour {
		add("oidc.access_token_ttl", "must be between 1m and 24h, but is %s", c.OIDC.AccessTokenTTL)
	}
	if c.OIDC.RefreshTokenTTL.D() < time.Hour || c.OIDC.RefreshTokenTTL.D() > 365*24*time.Hour {
		add("oidc.refresh_token_ttl", "must be between 1h and 8760h, but is %s", c.OIDC.RefreshTokenTTL)
	}
	if c.OIDC.KeyRotation.D() < 24*time.Hour {
		add("oidc.key_rotation", "must be at least 24h, but is %s", c.OIDC.KeyRotation)
	}
	for i, cl := range c.OIDC.Clients {
		path := fmt.Sprintf("oidc.clients[%d]", i)
		if cl.ID == "" {
			add(path+".id", "must be set")
		}
		if !cl.Public && cl.SecretSHA256 == "" {
			add(path+".secret_sha256", "must be set for a confidential client (or set public: true)")
		}
		if f := cl.AccessTokenFormat; f != "" && f != "opaque" && f != "jwt" {
			add(path+".access_token_format", "must be opaque or jwt, but is %q", f)
		}
	}
	es = append(es, c.oidcProblems()...)
	if c.Dev.Mailbox != "off" && !c.ListenIsLoopback() {
		warnings = append(warnings, "dev.mailbox: off, because listen ("+c.Listen+") is not a loopback address: the mailbox would show every code and link to anyone who can reach it")
	}
	if c.Dev.Demo == "on" && !c.ListenIsLoopback() {
		warnings = append(warnings, "dev.demo: off, because listen ("+c.Listen+") is not a loopback address")
	}
	if c.Metrics.Enabled && !c.MetricsServed() {
		warnings = append(warnings, "metrics: /metrics is not served, because listen ("+c.Listen+") is not a loopback address and metrics.token_sha256 is empty")
	}
	if c.Metrics.TokenSHA256 != "" {
		if b, err := hex.DecodeString(c.Metrics.TokenSHA256); err != nil || len(b) != 32 {
			add("metrics.token_sha256", "must be 64 hex digits (the SHA-256 of the token)")
		}
	}
	if c.Dev.Mailbox == "on" && !c.PublicIsLoopback() {
		warnings = append(warnings, "dev.mailbox: on while public_url is not on localhost shows every sent mail, codes included, to anyone")
	}
	if len(c.Login.Methods) == 0 {
		add("login.methods", "must list at least one of email, username")
	}
	for _, m := range c.Login.Methods {
		if m != "email" && m != "username" {
			add("login.methods", "must list only email and username, but has %q", m)
		}
	}
	if c.Login.UsernameNationalID != "" {
		oneOf("login.username_national_id", c.Login.UsernameNationalID, "no", "se")
	}
	if c.Login.Failures < 1 || c.Login.Failures > 100 {
		add("login.failures", "must be between 1 and 100 (NIST SP 800-63B-4 allows at most 100 failures), but is %d", c.Login.Failures)
	}
	if c.Login.Window.D() < time.Minute {
		add("login.window", "must be at least 1m, but is %s", c.Login.Window)
	}
	if c.Flows.CodeTTL.D() < time.Minute || c.Flows.CodeTTL.D() > time.Hour {
		add("flows.code_ttl", "must be between 1m and 1h, but is %s", c.Flows.CodeTTL)
	}
	if c.Flows.CodeTTL.D() > 10*time.Minute {
		warnings = append(warnings, "flows.code_ttl: "+c.Flows.CodeTTL.String()+" is longer than the 10 minutes NIST SP 800-63B-4 allows for an emailed code")
	}
	if c.Flows.CodeAttempts < 1 || c.Flows.CodeAttempts > 10 {
		add("flows.code_attempts", "must be between 1 and 10, but is %d", c.Flows.CodeAttempts)
	}
	if c.Flows.ResendAfter.D() < 0 || c.Flows.ResendAfter.D() > 10*time.Minute {
		add("flows.resend_after", "must be between 0s and 10m, but is %s", c.Flows.ResendAfter)
	}
	if c.Flows.LinkTTL.D() < 5*time.Minute || c.Flows.LinkTTL.D() > 24*time.Hour {
		add("flows.link_ttl", "must be between 5m and 24h, but is %s", c.Flows.LinkTTL)
	}
	if t := c.Admin.TokenSHA256; t != "" {
		if b, err := hex.DecodeString(t); err != nil || len(b) != 32 {
			add("admin.token_sha256", "must be 64 hexadecimal characters (a SHA-256 digest)")
		}
	}
	oneOf("mfa.mode", c.MFA.Mode, "off", "optional", "required")
	for _, m := range c.MFA.Methods {
		switch m {
		case "webauthn", "totp", "recovery", "sms", "email", "support":
		default:
			add("mfa.methods", "must list only webauthn, totp, recovery, sms, email and support, but has %q", m)
		}
	}
	if c.MFA.Mode == "required" && len(c.MFA.Methods) == 0 {
		add("mfa.methods", "must list at least one method when mfa.mode is required")
	}
	if c.MFA.RememberDays < 0 || c.MFA.RememberDays > 90 {
		add("mfa.remember_days", "must be between 0 and 90, but is %d", c.MFA.RememberDays)
	}
	if c.MFA.RememberDays > 30 {
		warnings = append(warnings, fmt.Sprintf("mfa.remember_days: %d days without a second factor is longer than the 30 days NIST SP 800-63B-4 allows for a remembered device at AAL2", c.MFA.RememberDays))
	}
	if c.MFA.SMSTTL.D() < time.Minute || c.MFA.SMSTTL.D() > 10*time.Minute {
		add("mfa.sms_ttl", "must be between 1m and 10m, but is %s", c.MFA.SMSTTL)
	}
	if c.MFA.EmailTTL.D() < time.Minute || c.MFA.EmailTTL.D() > 24*time.Hour {
		add("mfa.email_ttl", "must be between 1m and 24h, but is %s", c.MFA.EmailTTL)
	}
	if c.MFA.ReauthAfter.D() < time.Minute || c.MFA.ReauthAfter.D() > 12*time.Hour {
		add("mfa.reauth_after", "must be between 1m and 12h, but is %s", c.MFA.ReauthAfter)
	}
	// The assurance model (docs/security/assurance.md): a password or an
	// emailed code is one factor, level 1, whatever is configured; a
	// second factor makes a two-factor sign-in, level 2 at least.
	for name, lvl := range map[string]int{"password": c.MFA.Levels.Password, "email": c.MFA.Levels.Email} {
		if lvl != 1 {
			add("mfa.levels."+name, "must be 1 (alone it is one factor; see docs/security/assurance.md), but is %d", lvl)
		}
	}
	for name, lvl := range map[string]int{"sms": c.MFA.Levels.SMS, "totp": c.MFA.Levels.TOTP, "recovery": c.MFA.Levels.Recovery, "support": c.MFA.Levels.Support, "webauthn": c.MFA.Levels.WebAuthn} {
		if lvl < 2 || lvl > 4 {
			add("mfa.levels."+name, "must be between 2 and 4 (a second factor makes two), but is %d", lvl)
		}
	}
	for name, a := range c.MFA.Actions {
		if a.MinLevel < 1 || a.MinLevel > 4 {
			add("mfa.actions."+name+".min_level", "must be between 1 and 4, but is %d", a.MinLevel)
		}
	}
	oneOf("sms.sender", c.SMS.Sender, "off", "dev", "http", "twilio")
	switch c.SMS.Sender {
	case "http":
		if c.SMS.HTTP.URL == "" {
			add("sms.http.url", "must be set when sms.sender is http")
		}
	case "twilio":
		if c.SMS.Twilio.AccountSID == "" {
			add("sms.twilio.account_sid", "must be set when sms.sender is twilio")
		}
		if c.SMS.Twilio.AuthToken == "" {
			add("sms.twilio.auth_token", "must be set when sms.sender is twilio")
		}
		if c.SMS.Twilio.From == "" {
			add("sms.twilio.from", "must be set when sms.sender is twilio (an E.164 number or a messaging service)")
		}
	case "dev":
		// Only where SMS codes are a method: IDEP's profile sends none.
		if !c.PublicIsLoopback() && slices.Contains(c.MFA.Methods, "sms") {
			warnings = append(warnings, "sms.sender: dev keeps SMS codes in the development mailbox; nobody receives them on a public server")
		}
	}
	for name, n := range map[string]int{"per_number_hour": c.SMS.PerNumber, "per_account_hour": c.SMS.PerAccount, "per_ip_hour": c.SMS.PerIP, "global_hour": c.SMS.Global} {
		if n < 1 {
			add("sms."+name, "must be at least 1, but is %d", n)
		}
	}
	oneOf("captcha.provider", c.Captcha.Provider, "altcha", "off", "turnstile", "hcaptcha", "recaptcha")
	for _, at := range c.Captcha.At {
		oneOf("captcha.at", at, "signup", "recovery", "login_after_failures")
	}
	if c.Captcha.LoginAfterFailures < 1 {
		add("captcha.login_after_failures", "must be at least 1, but is %d", c.Captcha.LoginAfterFailures)
	}
	if c.Captcha.MaxNumber < 1000 || c.Captcha.MaxNumber > 10_000_000 {
		add("captcha.max_number", "must be between 1000 and 10000000, but is %d", c.Captcha.MaxNumber)
	}
	if c.Captcha.TTL.D() < time.Minute {
		add("captcha.ttl", "must be at least 1m")
	}
	if c.Captcha.NoJSBudget < 0 {
		add("captcha.nojs_budget", "must not be negative")
	}
	if slices.Contains([]string{"turnstile", "hcaptcha", "recaptcha"}, c.Captcha.Provider) && (c.Captcha.SiteKey == "" || c.Captcha.Secret == "") {
		add("captcha", "provider %s needs site_key and secret", c.Captcha.Provider)
	}
	if c.Secrets.Key != "" {
		if _, err := secret.ParseKey(c.Secrets.Key); err != nil {
			add("secrets.key", "must be 32 bytes in base64 (e.g. the output of: head -c 32 /dev/urandom | base64)")
		}
	} else if c.Database.Driver == "postgres" {
		add("secrets.key", "must be set for driver postgres, the same on every node (e.g. the output of: head -c 32 /dev/urandom | base64)")
	}
	if c.WebAuthnEnabled() {
		for _, e := range c.WebAuthnConfig().Validate() {
			path, msg, _ := strings.Cut(e, ": ")
			add("webauthn."+path, "%s", msg)
		}
	} else if u, err := url.Parse(c.PublicURL); err == nil && net.ParseIP(u.Hostname()) != nil {
		warnings = append(warnings, "webauthn: security keys and passkeys are off, because public_url's host is an IP address and WebAuthn needs a domain; set webauthn.rp_id (and webauthn.origins) to use them")
	}
	c.validateAudit(add)
	c.validateSystems(add)
	c.validateRepresentation(add)
	es = append(es, c.Lifecycle.validate()...)
	es = append(es, c.Alerts.validate()...)
	_, brandErrs := c.Branding.Load()
	es = append(es, brandErrs...)
	for _, e := range c.Password.Validate() {
		add("password."+e.Path, "%s", e.Message)
	}
	for _, d := range c.Password.Deviations() {
		warnings = append(warnings, "password: "+d)
	}
	for _, e := range upstream.ValidateServices(c.Services, c.Upstreams) {
		path, msg, _ := strings.Cut(e, ": ")
		add(path, "%s", msg)
	}
	for _, e := range upstream.Validate(c.Upstreams) {
		path, msg, _ := strings.Cut(e, ": ")
		add(path, "%s", msg)
	}
	if len(es) > 0 {
		return warnings, es
	}
	return warnings, nil
}

// LoginMethod reports whether sign-in method m is enabled.
func (c Config) LoginMethod(m string) bool {
	for _, x := range c.Login.Methods {
		if x == m {
			return true
		}
	}
	return false
}

// PublicIsLoopback reports whether the public URL's host is localhost or a
// loopback address.
func (c Config) PublicIsLoopback() bool {
	u, err := url.Parse(c.PublicURL)
	return err == nil && IsLoopbackHost(u.Hostname())
}

// DevMailbox reports whether /dev/mail is served.
//
// Never on a listener that is not loopback, whatever dev.mailbox says:
// the mailbox shows every code and link sent (issue 10, finding 9).
func (c Config) DevMailbox() bool {
	if !c.ListenIsLoopback() {
		return false
	}
	switch c.Dev.Mailbox {
	case "on":
		return true
	case "off":
		return false
	}
	return c.PublicIsLoopback()
}

// DevDemo reports whether /demo is served.
func (c Config) DevDemo() bool {
	if !c.ListenIsLoopback() {
		return false
	}
	switch c.Dev.Demo {
	case "on":
		return c.OIDC.Enabled
	case "off":
		return false
	}
	return c.OIDC.Enabled && c.DevMailbox()
}

// IsLoopbackHost reports whether host is "localhost" or a loopback IP.
func IsLoopbackHost(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Marshal returns the configuration as YAML, with secrets replaced.
func (c Config) Marshal() ([]byte, error) {
	if c.Mail.SMTP.Password != "" {
		c.Mail.SMTP.Password = "(set)"
	}
	if c.Captcha.Secret != "" {
		c.Captcha.Secret = "(set)"
	}
	return yaml.Marshal(c)
}
