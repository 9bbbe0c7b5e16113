package config

import (
	"net"
	"net/netip"
	"net/url"
	"strings"

	"github.com/portvakt/portvakt/internal/authn/webauthn"
	"go.yaml.in/yaml/v3"
)

// What the configuration implies: values derived from several keys.

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
