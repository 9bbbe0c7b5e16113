package config_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/config"
)

const validKey = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=" // 32 bytes
const validDigest = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

func d(s string) config.Duration {
	v, err := time.ParseDuration(s)
	if err != nil {
		panic(err)
	}
	return config.Duration(v)
}

// rule is one validation rule: a change to the defaults that breaks it,
// and the key its error names. Each rule of validate_<section>.go has at
// least one.
type rule struct {
	name   string
	path   string
	mutate func(c *config.Config)
}

// also are other keys a rule's change breaks too.
var also = map[string][]string{
	"public_url plain http on a public host": {"webauthn.origins[0]"},
	"service_name blank":                     {"webauthn.rp_name"},
}

var rules = []rule{
	// validate_server.go
	{"listen without a port", "listen", func(c *config.Config) { c.Listen = "localhost" }},
	{"public_url relative", "public_url", func(c *config.Config) { c.PublicURL = "/login" }},
	{"public_url ftp", "public_url", func(c *config.Config) { c.PublicURL = "ftp://id.example.org" }},
	{"public_url with a query", "public_url", func(c *config.Config) { c.PublicURL = "https://id.example.org/?x=1" }},
	{"public_url with a fragment", "public_url", func(c *config.Config) { c.PublicURL = "https://id.example.org/#top" }},
	{"public_url plain http on a public host", "public_url", func(c *config.Config) { c.PublicURL = "http://id.example.org" }},
	{"service_name blank", "service_name", func(c *config.Config) { c.ServiceName = "  " }},
	{"server.drain_timeout negative", "server.drain_timeout", func(c *config.Config) { c.Server.DrainTimeout = d("-1s") }},
	{"server.drain_timeout too long", "server.drain_timeout", func(c *config.Config) { c.Server.DrainTimeout = d("11m") }},
	{"server.trusted_proxies garbage", "server.trusted_proxies[1]", func(c *config.Config) { c.Server.TrustedProxies = []string{"10.0.0.0/8", "proxy.local"} }},

	// validate_database.go
	{"database.driver unknown", "database.driver", func(c *config.Config) { c.Database.Driver = "mysql" }},
	{"database.dsn empty", "database.dsn", func(c *config.Config) { c.Database.DSN = "" }},
	{"database.dsn not postgres", "database.dsn", func(c *config.Config) {
		c.Database.Driver, c.Database.DSN, c.Secrets.Key = "postgres", "portvakt.db", validKey
	}},
	{"database.max_open_conns negative", "database.max_open_conns", func(c *config.Config) { c.Database.MaxOpenConns = -1 }},
	{"database.max_open_conns too many", "database.max_open_conns", func(c *config.Config) { c.Database.MaxOpenConns = 1001 }},
	{"database.max_idle_conns negative", "database.max_idle_conns", func(c *config.Config) { c.Database.MaxIdleConns = -1 }},
	{"database.max_idle_conns above open", "database.max_idle_conns", func(c *config.Config) { c.Database.MaxOpenConns, c.Database.MaxIdleConns = 4, 5 }},
	{"database.conn_max_idle_time negative", "database.conn_max_idle_time", func(c *config.Config) { c.Database.ConnMaxIdleTime = d("-1s") }},
	{"database.conn_max_lifetime negative", "database.conn_max_lifetime", func(c *config.Config) { c.Database.ConnMaxLifetime = d("-1s") }},
	{"database.conn_max_lifetime too short", "database.conn_max_lifetime", func(c *config.Config) { c.Database.ConnMaxLifetime = d("30s") }},
	{"database.query_timeout too short", "database.query_timeout", func(c *config.Config) { c.Database.QueryTimeout = d("50ms") }},
	{"database.query_timeout too long", "database.query_timeout", func(c *config.Config) { c.Database.QueryTimeout = d("6m") }},

	// validate_session.go
	{"session.idle_timeout too short", "session.idle_timeout", func(c *config.Config) { c.Session.IdleTimeout = d("30s") }},
	{"session.idle_timeout too long", "session.idle_timeout", func(c *config.Config) { c.Session.IdleTimeout, c.Session.AbsoluteTimeout = d("25h"), d("48h") }},
	{"session.absolute_timeout below idle", "session.absolute_timeout", func(c *config.Config) { c.Session.AbsoluteTimeout = d("10m") }},
	{"session.absolute_timeout too long", "session.absolute_timeout", func(c *config.Config) { c.Session.AbsoluteTimeout = d("721h") }},

	// validate_mail.go
	{"mail.transport unknown", "mail.transport", func(c *config.Config) { c.Mail.Transport = "sendmail" }},
	{"mail.from empty", "mail.from", func(c *config.Config) { c.Mail.From = "" }},
	{"mail.smtp.host missing", "mail.smtp.host", func(c *config.Config) { c.Mail.Transport = "smtp" }},
	{"mail.smtp.port zero", "mail.smtp.port", func(c *config.Config) {
		c.Mail.Transport, c.Mail.SMTP.Host, c.Mail.SMTP.Port = "smtp", "smtp.example.org", 0
	}},
	{"mail.smtp.port too high", "mail.smtp.port", func(c *config.Config) {
		c.Mail.Transport, c.Mail.SMTP.Host, c.Mail.SMTP.Port = "smtp", "smtp.example.org", 65536
	}},
	{"mail.smtp.tls unknown", "mail.smtp.tls", func(c *config.Config) {
		c.Mail.Transport, c.Mail.SMTP.Host, c.Mail.SMTP.TLS = "smtp", "smtp.example.org", "ssl"
	}},
	{"mail.smtp.tls none on a public host", "mail.smtp.tls", func(c *config.Config) {
		c.Mail.Transport, c.Mail.SMTP.Host, c.Mail.SMTP.TLS = "smtp", "smtp.example.org", "none"
	}},
	{"mail.smtp.username without password", "mail.smtp.password", func(c *config.Config) {
		c.Mail.Transport, c.Mail.SMTP.Host, c.Mail.SMTP.Username = "smtp", "smtp.example.org", "portvakt"
	}},

	// validate_ops.go
	{"i18n.default_language unknown", "i18n.default_language", func(c *config.Config) { c.I18n.DefaultLanguage = "de" }},
	{"log.level unknown", "log.level", func(c *config.Config) { c.Log.Level = "trace" }},
	{"log.format unknown", "log.format", func(c *config.Config) { c.Log.Format = "xml" }},
	{"dev.mailbox unknown", "dev.mailbox", func(c *config.Config) { c.Dev.Mailbox = "yes" }},
	{"dev.demo unknown", "dev.demo", func(c *config.Config) { c.Dev.Demo = "yes" }},
	{"metrics.token_sha256 not hex", "metrics.token_sha256", func(c *config.Config) { c.Metrics.TokenSHA256 = "secret" }},
	{"metrics.token_sha256 too short", "metrics.token_sha256", func(c *config.Config) { c.Metrics.TokenSHA256 = validDigest[:62] }},
	{"admin.token_sha256 not a digest", "admin.token_sha256", func(c *config.Config) { c.Admin.TokenSHA256 = "admin" }},

	// validate_oidc.go
	{"oidc.access_token_ttl too short", "oidc.access_token_ttl", func(c *config.Config) { c.OIDC.AccessTokenTTL = d("30s") }},
	{"oidc.access_token_ttl too long", "oidc.access_token_ttl", func(c *config.Config) { c.OIDC.AccessTokenTTL = d("25h") }},
	{"oidc.refresh_token_ttl too short", "oidc.refresh_token_ttl", func(c *config.Config) { c.OIDC.RefreshTokenTTL = d("30m") }},
	{"oidc.refresh_token_ttl too long", "oidc.refresh_token_ttl", func(c *config.Config) { c.OIDC.RefreshTokenTTL = d("8761h") }},
	{"oidc.key_rotation too short", "oidc.key_rotation", func(c *config.Config) { c.OIDC.KeyRotation = d("23h") }},
	{"oidc client without id", "oidc.clients[0].id", func(c *config.Config) { c.OIDC.Clients = []config.OIDCClient{{Public: true}} }},
	{"oidc confidential client without secret", "oidc.clients[0].secret_sha256", func(c *config.Config) { c.OIDC.Clients = []config.OIDCClient{{ID: "app"}} }},
	{"oidc client access_token_format unknown", "oidc.clients[0].access_token_format", func(c *config.Config) {
		c.OIDC.Clients = []config.OIDCClient{{ID: "app", Public: true, AccessTokenFormat: "saml"}}
	}},

	// validate_login.go
	{"login.methods empty", "login.methods", func(c *config.Config) { c.Login.Methods = nil }},
	{"login.methods unknown", "login.methods", func(c *config.Config) { c.Login.Methods = []string{"email", "phone"} }},
	{"login.username_national_id unknown", "login.username_national_id", func(c *config.Config) { c.Login.UsernameNationalID = "dk" }},
	{"login.failures zero", "login.failures", func(c *config.Config) { c.Login.Failures = 0 }},
	{"login.failures above NIST", "login.failures", func(c *config.Config) { c.Login.Failures = 101 }},
	{"login.window too short", "login.window", func(c *config.Config) { c.Login.Window = d("30s") }},
	{"flows.code_ttl too short", "flows.code_ttl", func(c *config.Config) { c.Flows.CodeTTL = d("30s") }},
	{"flows.code_ttl too long", "flows.code_ttl", func(c *config.Config) { c.Flows.CodeTTL = d("61m") }},
	{"flows.code_attempts zero", "flows.code_attempts", func(c *config.Config) { c.Flows.CodeAttempts = 0 }},
	{"flows.code_attempts too many", "flows.code_attempts", func(c *config.Config) { c.Flows.CodeAttempts = 11 }},
	{"flows.resend_after negative", "flows.resend_after", func(c *config.Config) { c.Flows.ResendAfter = d("-1s") }},
	{"flows.resend_after too long", "flows.resend_after", func(c *config.Config) { c.Flows.ResendAfter = d("11m") }},
	{"flows.link_ttl too short", "flows.link_ttl", func(c *config.Config) { c.Flows.LinkTTL = d("4m") }},
	{"flows.link_ttl too long", "flows.link_ttl", func(c *config.Config) { c.Flows.LinkTTL = d("25h") }},

	// validate_mfa.go
	{"mfa.mode unknown", "mfa.mode", func(c *config.Config) { c.MFA.Mode = "always" }},
	{"mfa.methods unknown", "mfa.methods", func(c *config.Config) { c.MFA.Methods = []string{"totp", "carrier-pigeon"} }},
	{"mfa.methods empty when required", "mfa.methods", func(c *config.Config) { c.MFA.Mode, c.MFA.Methods = "required", nil }},
	{"mfa.remember_days negative", "mfa.remember_days", func(c *config.Config) { c.MFA.RememberDays = -1 }},
	{"mfa.remember_days too long", "mfa.remember_days", func(c *config.Config) { c.MFA.RememberDays = 91 }},
	{"mfa.sms_ttl too short", "mfa.sms_ttl", func(c *config.Config) { c.MFA.SMSTTL = d("30s") }},
	{"mfa.sms_ttl too long", "mfa.sms_ttl", func(c *config.Config) { c.MFA.SMSTTL = d("11m") }},
	{"mfa.email_ttl too short", "mfa.email_ttl", func(c *config.Config) { c.MFA.EmailTTL = d("30s") }},
	{"mfa.email_ttl too long", "mfa.email_ttl", func(c *config.Config) { c.MFA.EmailTTL = d("25h") }},
	{"mfa.reauth_after too short", "mfa.reauth_after", func(c *config.Config) { c.MFA.ReauthAfter = d("30s") }},
	{"mfa.reauth_after too long", "mfa.reauth_after", func(c *config.Config) { c.MFA.ReauthAfter = d("13h") }},
	{"mfa.levels.password not one", "mfa.levels.password", func(c *config.Config) { c.MFA.Levels.Password = 2 }},
	{"mfa.levels.email not one", "mfa.levels.email", func(c *config.Config) { c.MFA.Levels.Email = 2 }},
	{"mfa.levels.sms one", "mfa.levels.sms", func(c *config.Config) { c.MFA.Levels.SMS = 1 }},
	{"mfa.levels.totp five", "mfa.levels.totp", func(c *config.Config) { c.MFA.Levels.TOTP = 5 }},
	{"mfa.levels.recovery one", "mfa.levels.recovery", func(c *config.Config) { c.MFA.Levels.Recovery = 1 }},
	{"mfa.levels.support one", "mfa.levels.support", func(c *config.Config) { c.MFA.Levels.Support = 1 }},
	{"mfa.levels.webauthn five", "mfa.levels.webauthn", func(c *config.Config) { c.MFA.Levels.WebAuthn = 5 }},
	{"mfa.actions min_level zero", "mfa.actions.pay.min_level", func(c *config.Config) { c.MFA.Actions = map[string]config.Action{"pay": {MinLevel: 0}} }},
	{"mfa.actions min_level five", "mfa.actions.pay.min_level", func(c *config.Config) { c.MFA.Actions = map[string]config.Action{"pay": {MinLevel: 5}} }},

	// validate_sms.go
	{"sms.sender unknown", "sms.sender", func(c *config.Config) { c.SMS.Sender = "carrier" }},
	{"sms.http.url missing", "sms.http.url", func(c *config.Config) { c.SMS.Sender = "http" }},
	{"sms.twilio.account_sid missing", "sms.twilio.account_sid", func(c *config.Config) {
		c.SMS.Sender, c.SMS.Twilio.AuthToken, c.SMS.Twilio.From = "twilio", "token", "+4712345678"
	}},
	{"sms.twilio.auth_token missing", "sms.twilio.auth_token", func(c *config.Config) {
		c.SMS.Sender, c.SMS.Twilio.AccountSID, c.SMS.Twilio.From = "twilio", "AC123", "+4712345678"
	}},
	{"sms.twilio.from missing", "sms.twilio.from", func(c *config.Config) {
		c.SMS.Sender, c.SMS.Twilio.AccountSID, c.SMS.Twilio.AuthToken = "twilio", "AC123", "token"
	}},
	{"sms.per_number_hour zero", "sms.per_number_hour", func(c *config.Config) { c.SMS.PerNumber = 0 }},
	{"sms.per_account_hour zero", "sms.per_account_hour", func(c *config.Config) { c.SMS.PerAccount = 0 }},
	{"sms.per_ip_hour zero", "sms.per_ip_hour", func(c *config.Config) { c.SMS.PerIP = 0 }},
	{"sms.global_hour zero", "sms.global_hour", func(c *config.Config) { c.SMS.Global = 0 }},

	// validate_captcha.go
	{"captcha.provider unknown", "captcha.provider", func(c *config.Config) { c.Captcha.Provider = "friendly" }},
	{"captcha.at unknown", "captcha.at", func(c *config.Config) { c.Captcha.At = []string{"signup", "everywhere"} }},
	{"captcha.login_after_failures zero", "captcha.login_after_failures", func(c *config.Config) { c.Captcha.LoginAfterFailures = 0 }},
	{"captcha.max_number too small", "captcha.max_number", func(c *config.Config) { c.Captcha.MaxNumber = 999 }},
	{"captcha.max_number too big", "captcha.max_number", func(c *config.Config) { c.Captcha.MaxNumber = 10_000_001 }},
	{"captcha.ttl too short", "captcha.ttl", func(c *config.Config) { c.Captcha.TTL = d("30s") }},
	{"captcha.nojs_budget negative", "captcha.nojs_budget", func(c *config.Config) { c.Captcha.NoJSBudget = -1 }},
	{"captcha third-party provider without keys", "captcha", func(c *config.Config) { c.Captcha.Provider = "turnstile" }},

	// validate_secrets.go
	{"secrets.key not base64 of 32 bytes", "secrets.key", func(c *config.Config) { c.Secrets.Key = "c2hvcnQ=" }},
	{"secrets.key missing on postgres", "secrets.key", func(c *config.Config) {
		c.Database.Driver, c.Database.DSN = "postgres", "postgres://portvakt@db/portvakt"
	}},
	{"webauthn origin not https", "webauthn.", func(c *config.Config) {
		c.PublicURL, c.WebAuthn.RPID, c.WebAuthn.Origins = "https://id.example.org", "id.example.org", []string{"http://id.example.org"}
	}},
}

// TestEveryRuleHasAFailingCase: each rule's case is refused with an error
// at its key, and only there (the defaults are valid, so the error is the
// rule's own).
func TestEveryRuleHasAFailingCase(t *testing.T) {
	for _, r := range rules {
		t.Run(r.name, func(t *testing.T) {
			c := config.Default()
			r.mutate(&c)
			_, err := c.Validate()
			es, ok := err.(config.Errors)
			if !ok {
				t.Fatalf("Validate = %v, want an error at %s", err, r.path)
			}
			found := false
			for _, e := range es {
				if e.Path == r.path || (strings.HasSuffix(r.path, ".") && strings.HasPrefix(e.Path, r.path)) {
					found = true
				} else if !slices.Contains(also[r.name], e.Path) && (!strings.HasPrefix(e.Path, "session.") || !strings.HasPrefix(r.path, "session.")) {
					t.Errorf("unexpected error besides the rule's: %s", e)
				}
			}
			if !found {
				t.Errorf("Validate = %v, want an error at %s", es, r.path)
			}
		})
	}
}

// TestEveryWarning: each warning has a case that gives it, and the
// defaults give none.
func TestEveryWarning(t *testing.T) {
	for _, w := range []struct {
		prefix string
		mutate func(c *config.Config)
	}{
		{"session.idle_timeout:", func(c *config.Config) { c.Session.IdleTimeout = d("2h") }},
		{"session.absolute_timeout:", func(c *config.Config) { c.Session.AbsoluteTimeout = d("48h") }},
		{"dev.mailbox: off", func(c *config.Config) { c.Listen = "0.0.0.0:8080" }},
		{"dev.demo: off", func(c *config.Config) { c.Listen, c.Dev.Demo = "0.0.0.0:8080", "on" }},
		{"metrics: /metrics is not served", func(c *config.Config) { c.Listen, c.Metrics.Enabled = "0.0.0.0:8080", true }},
		{"dev.mailbox: on while public_url", func(c *config.Config) { c.PublicURL, c.Dev.Mailbox = "https://id.example.org", "on" }},
		{"flows.code_ttl:", func(c *config.Config) { c.Flows.CodeTTL = d("15m") }},
		{"mfa.remember_days:", func(c *config.Config) { c.MFA.RememberDays = 31 }},
		{"sms.sender: dev", func(c *config.Config) {
			c.PublicURL, c.SMS.Sender, c.MFA.Methods = "https://id.example.org", "dev", []string{"sms"}
		}},
		{"webauthn: security keys and passkeys are off", func(c *config.Config) { c.PublicURL = "http://127.0.0.1:8080" }},
	} {
		t.Run(w.prefix, func(t *testing.T) {
			c := config.Default()
			w.mutate(&c)
			warnings, _ := c.Validate()
			for _, got := range warnings {
				if strings.HasPrefix(got, w.prefix) {
					return
				}
			}
			t.Errorf("warnings = %q, want one starting %q", warnings, w.prefix)
		})
	}
}
