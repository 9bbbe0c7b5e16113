package web

import (
	"net/http"
	"net/netip"
	"testing"
)

func TestClientAddr(t *testing.T) {
	lb := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	tests := []struct {
		name    string
		trusted []netip.Prefix
		remote  string
		header  map[string][]string
		want    string
	}{
		{"no proxies configured: headers ignored", nil, "10.1.2.3:5000",
			map[string][]string{"X-Forwarded-For": {"203.0.113.7"}}, "10.1.2.3"},
		{"from a trusted proxy", lb, "10.1.2.3:5000",
			map[string][]string{"X-Forwarded-For": {"203.0.113.7"}}, "203.0.113.7"},
		{"a client cannot choose its address: leftmost entries are its own", lb, "10.1.2.3:5000",
			map[string][]string{"X-Forwarded-For": {"1.2.3.4, 203.0.113.7"}}, "203.0.113.7"},
		{"a chain of trusted proxies is skipped", lb, "10.1.2.3:5000",
			map[string][]string{"X-Forwarded-For": {"1.2.3.4, 203.0.113.7, 10.9.9.9"}}, "203.0.113.7"},
		{"several header lines are one list", lb, "10.1.2.3:5000",
			map[string][]string{"X-Forwarded-For": {"1.2.3.4", "203.0.113.7, 10.9.9.9"}}, "203.0.113.7"},
		{"a request not from a proxy: its header is a lie", lb, "198.51.100.9:5000",
			map[string][]string{"X-Forwarded-For": {"203.0.113.7"}}, "198.51.100.9"},
		{"only proxies: the leftmost", lb, "10.1.2.3:5000",
			map[string][]string{"X-Forwarded-For": {"10.4.4.4, 10.5.5.5"}}, "10.4.4.4"},
		{"garbage stops the walk at the proxy that passed it", lb, "10.1.2.3:5000",
			map[string][]string{"X-Forwarded-For": {"203.0.113.7, not-an-ip"}}, "10.1.2.3"},
		{"no header from a proxy", lb, "10.1.2.3:5000", nil, "10.1.2.3"},
		{"Forwarded wins over X-Forwarded-For", lb, "10.1.2.3:5000",
			map[string][]string{"Forwarded": {`for=192.0.2.60;proto=https, for="[2001:db8:cafe::17]:4711"`}, "X-Forwarded-For": {"203.0.113.7"}}, "2001:db8:cafe::17"},
		{"Forwarded with a port and a trusted hop", lb, "[fd00::1]:5000",
			map[string][]string{"Forwarded": {`for="192.0.2.60:8080", for="[fd00::2]"`}}, "192.0.2.60"},
		{"Forwarded unknown stops the walk", lb, "10.1.2.3:5000",
			map[string][]string{"Forwarded": {`for=192.0.2.60, for=unknown`}}, "10.1.2.3"},
		{"IPv4-mapped peer", lb, "[::ffff:10.1.2.3]:5000",
			map[string][]string{"X-Forwarded-For": {"203.0.113.7"}}, "203.0.113.7"},
	}
	for _, tt := range tests {
		r := &http.Request{RemoteAddr: tt.remote, Header: http.Header{}}
		for k, vs := range tt.header {
			for _, v := range vs {
				r.Header.Add(k, v)
			}
		}
		if got := clientAddr(r, tt.trusted); got != tt.want {
			t.Errorf("%s: clientAddr = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestClientNetwork(t *testing.T) {
	for in, want := range map[string]string{
		"203.0.113.7":          "203.0.113.0/24",
		"2001:db8:cafe:1:2::3": "2001:db8:cafe:1::/64",
		"::ffff:192.0.2.9":     "192.0.2.0/24",
		"garbage":              "garbage",
	} {
		if got := clientNetwork(in); got != want {
			t.Errorf("clientNetwork(%q) = %q, want %q", in, got, want)
		}
	}
}
