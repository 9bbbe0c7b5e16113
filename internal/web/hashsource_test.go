package web

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/portvakt/portvakt/internal/authn/password"
)

// TestHashSourceIsTheClientBehindATrustedProxy: the hashing pool's source
// is the client's network as the trusted proxy says, not the proxy's. It
// was the proxy's, so behind a load balancer every user shared one source
// and 64 people signing in at once were refused as one network's flood
// (issue 12's benchmark found it: 503s at 64 clients).
func TestHashSourceIsTheClientBehindATrustedProxy(t *testing.T) {
	s := &Server{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}
	var got string
	h := s.withObservation(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = password.SourceOf(r.Context()) }))
	for _, c := range []struct{ peer, xff, want string }{
		{"127.0.0.1:5000", "198.51.100.7", "198.51.100.0/24"},
		{"127.0.0.1:5000", "203.0.113.9", "203.0.113.0/24"},
		{"192.0.2.44:5000", "198.51.100.7", "192.0.2.0/24"}, // not a trusted proxy: its own address counts
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.peer
		r.Header.Set("X-Forwarded-For", c.xff)
		h.ServeHTTP(httptest.NewRecorder(), r)
		if got != c.want {
			t.Errorf("peer %s, X-Forwarded-For %s: hash source %q, want %q", c.peer, c.xff, got, c.want)
		}
	}
}
