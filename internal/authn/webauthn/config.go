package webauthn

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
)

// Timeouts of a ceremony: how long the browser waits for the
// authenticator, and how long the server keeps the session open.
const (
	DefaultTimeout = 5 * time.Minute
	MinTimeout     = 30 * time.Second
	MaxTimeout     = 10 * time.Minute
)

// Config is the relying party: the site that passkeys and security keys
// are registered for.
type Config struct {
	// RPID is the relying party ID, a domain ("example.com"). A credential
	// is bound to it for good: changing it later makes every registered
	// credential unusable. It must be the host of every origin or a parent
	// domain of it, so "example.com" serves https://id.example.com.
	RPID string
	// RPName is the name the browser shows while registering ("Portvakt").
	RPName string
	// Origins are the origins ("https://id.example.com") the browser may
	// run a ceremony on. Each must be https, or http on localhost.
	Origins []string
	// Attestation is what the server asks the authenticator to prove about
	// its make and model: "none" (the default; the browser may anonymize),
	// "indirect" or "direct". The answer is recorded in
	// WebAuthnCredential.AttestationType but not checked against a
	// metadata service.
	Attestation string
	// Timeout is how long a ceremony may take, from Begin to Finish; zero
	// means DefaultTimeout. It must lie between MinTimeout and MaxTimeout.
	Timeout time.Duration
}

// Validate returns every mistake in c, or nil. Each is a line
// "path: message" with the path relative to the WebAuthn section
// ("rp_id", "origins[1]"); prefix it when reporting.
//
// Validate checks that RPID is a domain name and that it is the host of
// every origin or a parent domain of it, as browsers require. It cannot
// tell a public suffix ("co.uk") from a registrable domain; browsers
// refuse a public suffix as an RP ID at registration.
func (c Config) Validate() []string {
	var errs []string
	add := func(path, format string, args ...any) {
		errs = append(errs, path+": "+fmt.Sprintf(format, args...))
	}
	rpIDOK := false
	switch {
	case c.RPID == "":
		add("rp_id", "must be set to the site's domain, such as example.com")
	case strings.ToLower(c.RPID) != c.RPID:
		add("rp_id", "must be lower case, but is %q", c.RPID)
	default:
		if err := protocol.ValidateRPID(c.RPID); err != nil {
			add("rp_id", "%q is not a domain name (%v); write the domain alone, such as example.com", c.RPID, err)
		} else {
			rpIDOK = true
		}
	}
	if strings.TrimSpace(c.RPName) == "" {
		add("rp_name", "must be set to the name the browser shows, such as Portvakt")
	}
	if len(c.Origins) == 0 {
		example := "https://id.example.com"
		if rpIDOK {
			example = "https://" + c.RPID
		}
		add("origins", "must list at least one origin, such as %s", example)
	}
	for i, o := range c.Origins {
		path := fmt.Sprintf("origins[%d]", i)
		u, err := url.Parse(o)
		if err != nil || u.Host == "" || u.Opaque != "" {
			add(path, "%q is not an origin; write scheme://host[:port], such as https://id.example.com", o)
			continue
		}
		if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			add(path, "%q must be an origin alone, without a path, query or fragment", o)
			continue
		}
		host := strings.ToLower(u.Hostname())
		local := host == "localhost" || strings.HasSuffix(host, ".localhost")
		if u.Scheme != "https" && !(u.Scheme == "http" && local) {
			add(path, "%q must use https; plain http is allowed only for localhost", o)
		}
		if rpIDOK && host != c.RPID && !strings.HasSuffix(host, "."+c.RPID) {
			add(path, "host %q is neither rp_id %q nor a subdomain of it, so browsers refuse the ceremony there", host, c.RPID)
		}
	}
	switch c.Attestation {
	case "", "none", "indirect", "direct":
	default:
		add("attestation", "must be none, indirect or direct, but is %q", c.Attestation)
	}
	if c.Timeout != 0 && (c.Timeout < MinTimeout || c.Timeout > MaxTimeout) {
		add("timeout", "must be between %s and %s, but is %s", MinTimeout, MaxTimeout, c.Timeout)
	}
	return errs
}

// withDefaults returns c with the defaults filled in and the origins
// without a trailing slash. c must be valid.
func (c Config) withDefaults() Config {
	if c.Attestation == "" {
		c.Attestation = "none"
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	origins := make([]string, len(c.Origins))
	for i, o := range c.Origins {
		origins[i] = strings.TrimSuffix(o, "/")
	}
	c.Origins = origins
	return c
}
