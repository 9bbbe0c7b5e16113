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
	"fmt"
	"runtime"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/portvakt/portvakt/internal/authn/password"
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
	// OnlineChecks makes serve check at start that the SMTP server and
	// the SMS provider answer (connect, EHLO, STARTTLS and AUTH as
	// configured; the gateway or Twilio account), and refuse to start if
	// not. serve --skip-online-checks skips them once.
	OnlineChecks bool `yaml:"online_checks"`
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
		Server:      Server{DrainTimeout: Duration(30 * time.Second), OnlineChecks: true},
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
		Systems: defaultSystems(),
		Audit:   defaultAudit(),
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

// Validate checks the whole configuration and returns every mistake (as
// Errors), or nil. Warnings (allowed but worth a second look) come back
// separately and do not make the configuration invalid.
func (c Config) Validate() (warnings []string, err error) {
	k := &checker{}
	// One validator per section, each in validate_<section>.go.
	for _, v := range []func(*checker){
		c.validateServer, c.validateDatabase, c.validateSession, c.validateMail, c.validateOps,
		c.validateOIDC, c.validateLogin, c.validateMFA, c.validateSMS, c.validateCaptcha, c.validateSecrets,
	} {
		v(k)
	}
	add := k.add
	c.validateSystems(add)
	c.validateAudit(add)
	c.validateRepresentation(add)
	k.es = append(k.es, c.Lifecycle.validate()...)
	k.es = append(k.es, c.Alerts.validate()...)
	_, brandErrs := c.Branding.Load()
	k.es = append(k.es, brandErrs...)
	for _, e := range c.Password.Validate() {
		add("password."+e.Path, "%s", e.Message)
	}
	for _, d := range c.Password.Deviations() {
		k.warn("password: " + d)
	}
	for _, e := range upstream.ValidateServices(c.Services, c.Upstreams) {
		path, msg, _ := strings.Cut(e, ": ")
		add(path, "%s", msg)
	}
	for _, e := range upstream.Validate(c.Upstreams) {
		path, msg, _ := strings.Cut(e, ": ")
		add(path, "%s", msg)
	}
	if len(k.es) > 0 {
		return k.warnings, k.es
	}
	return k.warnings, nil
}
