package flow_test

import (
	"testing"

	"github.com/portvakt/portvakt/internal/flow"
)

// MaskIP shows the network, never the whole address.
func TestMaskIP(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.7":                 "192.0.2.x",
		"::ffff:198.51.100.20":      "198.51.100.x",
		"2001:db8:1234:5678::1":     "2001:db8:1234::/48",
		"2001:db8:1234:5678::1%eth": "2001:db8:1234::/48",
		"":                          "",
		"not an address":            "",
	} {
		if got := flow.MaskIP(in); got != want {
			t.Errorf("MaskIP(%q) = %q, want %q", in, got, want)
		}
	}
}
