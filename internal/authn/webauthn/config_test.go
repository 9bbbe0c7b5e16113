package webauthn_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/authn/webauthn"
)

func TestConfig_Validate(t *testing.T) {
	valid := webauthn.Config{RPID: "example.com", RPName: "Portvakt", Origins: []string{"https://id.example.com"}}
	tests := []struct {
		name   string
		change func(c *webauthn.Config)
		// want are the paths of the problems, in order; nil for none.
		want []string
	}{
		{"a subdomain origin is valid", func(c *webauthn.Config) {}, nil},
		{"the RP ID's own origin, with a port and a slash, is valid", func(c *webauthn.Config) {
			c.Origins = []string{"https://example.com:8443/", "https://a.b.example.com"}
		}, nil},
		{"localhost over http is valid", func(c *webauthn.Config) {
			c.RPID, c.Origins = "localhost", []string{"http://localhost:8080", "https://localhost"}
		}, nil},
		{"every attestation preference and timeout in range is valid", func(c *webauthn.Config) {
			c.Attestation, c.Timeout = "direct", webauthn.MinTimeout
		}, nil},
		{"an empty configuration lists every missing setting", func(c *webauthn.Config) { *c = webauthn.Config{} },
			[]string{"rp_id", "rp_name", "origins"}},
		{"an RP ID with a scheme is not a domain", func(c *webauthn.Config) { c.RPID = "https://example.com" }, []string{"rp_id"}},
		{"an IP address is not an RP ID", func(c *webauthn.Config) {
			c.RPID, c.Origins = "192.0.2.1", []string{"https://192.0.2.1"}
		}, []string{"rp_id"}},
		{"an upper-case RP ID is refused", func(c *webauthn.Config) { c.RPID = "Example.com" }, []string{"rp_id"}},
		{"plain http off localhost is refused", func(c *webauthn.Config) { c.Origins = []string{"http://id.example.com"} },
			[]string{"origins[0]"}},
		{"an origin with a path is refused", func(c *webauthn.Config) {
			c.Origins = []string{"https://id.example.com", "https://id.example.com/login"}
		}, []string{"origins[1]"}},
		{"an origin that is not a URL is refused", func(c *webauthn.Config) { c.Origins = []string{"id.example.com"} },
			[]string{"origins[0]"}},
		// example.com is not a suffix of notexample.com: the match is by
		// whole labels.
		{"an origin outside the RP ID's domain is refused", func(c *webauthn.Config) {
			c.Origins = []string{"https://notexample.com", "https://example.org", "https://id.example.com"}
		}, []string{"origins[0]", "origins[1]"}},
		{"an origin on a parent of the RP ID is refused", func(c *webauthn.Config) {
			c.RPID = "id.example.com"
			c.Origins = []string{"https://example.com"}
		}, []string{"origins[0]"}},
		{"enterprise attestation is refused", func(c *webauthn.Config) { c.Attestation = "enterprise" }, []string{"attestation"}},
		{"a timeout out of range is refused", func(c *webauthn.Config) { c.Timeout = time.Hour }, []string{"timeout"}},
		{"several mistakes are all listed", func(c *webauthn.Config) {
			c.RPName, c.Origins, c.Attestation, c.Timeout = " ", []string{"http://evil.test"}, "full", time.Second
		}, []string{"rp_name", "origins[0]", "origins[0]", "attestation", "timeout"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := valid
			c.Origins = slices.Clone(valid.Origins)
			tt.change(&c)
			errs := c.Validate()
			var paths []string
			for _, e := range errs {
				path, msg, ok := strings.Cut(e, ": ")
				if !ok || msg == "" {
					t.Errorf("Validate() has %q, want \"path: message\"", e)
				}
				paths = append(paths, path)
			}
			if !slices.Equal(paths, tt.want) {
				t.Errorf("Validate() = %q, want problems at %q", errs, tt.want)
			}
			_, err := webauthn.New(c)
			if (err == nil) != (tt.want == nil) {
				t.Errorf("New() = %v, want an error exactly when Validate reports one", err)
			}
		})
	}
}
