package config

import (
	"net"
	"net/url"
	"strings"

	"github.com/portvakt/portvakt/internal/secret"
)

// The secrets and webauthn sections.
func (c Config) validateSecrets(k *checker) {
	if c.Secrets.Key != "" {
		if _, err := secret.ParseKey(c.Secrets.Key); err != nil {
			k.add("secrets.key", "must be 32 bytes in base64 (e.g. the output of: head -c 32 /dev/urandom | base64)")
		}
	} else if c.Database.Driver == "postgres" {
		k.add("secrets.key", "must be set for driver postgres, the same on every node (e.g. the output of: head -c 32 /dev/urandom | base64)")
	}
	if c.WebAuthnEnabled() {
		for _, e := range c.WebAuthnConfig().Validate() {
			path, msg, _ := strings.Cut(e, ": ")
			k.add("webauthn."+path, "%s", msg)
		}
	} else if u, err := url.Parse(c.PublicURL); err == nil && net.ParseIP(u.Hostname()) != nil {
		k.warn("webauthn: security keys and passkeys are off, because public_url's host is an IP address and WebAuthn needs a domain; set webauthn.rp_id (and webauthn.origins) to use them")
	}
}
