package config

import (
	"fmt"
	"time"
)

// The oidc section (the clients' checks that need more than one field are in oidc_check.go).
func (c Config) validateOIDC(k *checker) {
	if c.OIDC.AccessTokenTTL.D() < time.Minute || c.OIDC.AccessTokenTTL.D() > 24*time.Hour {
		k.add("oidc.access_token_ttl", "must be between 1m and 24h, but is %s", c.OIDC.AccessTokenTTL)
	}
	if c.OIDC.RefreshTokenTTL.D() < time.Hour || c.OIDC.RefreshTokenTTL.D() > 365*24*time.Hour {
		k.add("oidc.refresh_token_ttl", "must be between 1h and 8760h, but is %s", c.OIDC.RefreshTokenTTL)
	}
	if c.OIDC.KeyRotation.D() < 24*time.Hour {
		k.add("oidc.key_rotation", "must be at least 24h, but is %s", c.OIDC.KeyRotation)
	}
	for i, cl := range c.OIDC.Clients {
		path := fmt.Sprintf("oidc.clients[%d]", i)
		if cl.ID == "" {
			k.add(path+".id", "must be set")
		}
		if !cl.Public && cl.SecretSHA256 == "" {
			k.add(path+".secret_sha256", "must be set for a confidential client (or set public: true)")
		}
		if f := cl.AccessTokenFormat; f != "" && f != "opaque" && f != "jwt" {
			k.add(path+".access_token_format", "must be opaque or jwt, but is %q", f)
		}
	}
	k.es = append(k.es, c.oidcProblems()...)
}
