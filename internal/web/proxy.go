package web

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// clientAddr finds the client's address (issue 10, finding 6: behind a
// load balancer every client had the balancer's address, so every per-IP
// limit was one shared limit).
//
// The peer (RemoteAddr) is the client unless it is one of trusted, the
// configured proxies. From a trusted proxy the forwarding headers are read
// right to left (Forwarded if present, else X-Forwarded-For; each proxy
// appends the address it got the request from), skipping trusted proxies;
// the first other address is the client. Addresses further left were
// written by the client itself and are never believed. An entry that is
// not an address (a Forwarded "unknown" or "_hidden", garbage) stops the
// walk at the last address known: the proxy that passed it on.
func clientAddr(r *http.Request, trusted []netip.Prefix) string {
	peer := peerAddr(r)
	if len(trusted) == 0 {
		return peer
	}
	a, err := netip.ParseAddr(peer)
	if err != nil || !isTrusted(a.Unmap(), trusted) {
		return peer
	}
	hops := forwardedFor(r.Header)
	last := a.Unmap()
	for i := len(hops) - 1; i >= 0; i-- {
		h, ok := parseHop(hops[i])
		if !ok {
			break
		}
		last = h
		if !isTrusted(h, trusted) {
			break
		}
	}
	return last.String()
}

func peerAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// forwardedFor lists the forwarded-for hops, leftmost first: the "for"
// parameters of RFC 7239 Forwarded if any such header is present,
// otherwise the entries of X-Forwarded-For. Several header lines are one
// list in order.
func forwardedFor(h http.Header) []string {
	var hops []string
	if fwd := h.Values("Forwarded"); len(fwd) > 0 {
		for _, line := range fwd {
			for _, elem := range strings.Split(line, ",") {
				for _, pair := range strings.Split(elem, ";") {
					k, v, ok := strings.Cut(strings.TrimSpace(pair), "=")
					if ok && strings.EqualFold(k, "for") {
						hops = append(hops, v)
					}
				}
			}
		}
		return hops
	}
	for _, line := range h.Values("X-Forwarded-For") {
		for _, v := range strings.Split(line, ",") {
			hops = append(hops, v)
		}
	}
	return hops
}

// parseHop parses one forwarded address: 192.0.2.1, 192.0.2.1:4711,
// 2001:db8::1, [2001:db8::1]:4711, optionally quoted.
func parseHop(v string) (netip.Addr, bool) {
	v = strings.Trim(strings.TrimSpace(v), `"`)
	if a, err := netip.ParseAddr(v); err == nil {
		return a.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(v); err == nil {
		return ap.Addr().Unmap(), true
	}
	if strings.HasPrefix(v, "[") && strings.HasSuffix(v, "]") {
		if a, err := netip.ParseAddr(v[1 : len(v)-1]); err == nil {
			return a.Unmap(), true
		}
	}
	return netip.Addr{}, false
}
