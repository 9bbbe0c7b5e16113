package op

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"unicode"

	"github.com/portvakt/portvakt/internal/store"
)

// Redirect URIs are registered in canonical form and matched as exact
// strings (RFC 9700 §2.1, §4.1.3; OIDC Core §3.1.2.1). The only exception
// is RFC 8252 §7.3: a public (native) client's loopback IP URI matches
// any port.

// checkRedirectURI refuses a URI that cannot be registered: not absolute,
// not in the form url.Parse gives back, with a fragment, user info, white
// space or control characters, a dot segment, or a scheme other than
// https, http on a loopback host, or (for a public client) a private-use
// scheme containing a dot.
func checkRedirectURI(raw string, public bool) error {
	if raw == "" {
		return errors.New("empty")
	}
	if strings.ContainsFunc(raw, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
		return fmt.Errorf("%q contains white space or a control character", raw)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	if u.String() != raw {
		return fmt.Errorf("%q is not in canonical form (%q)", raw, u.String())
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return fmt.Errorf("%q has a fragment", raw)
	}
	if u.User != nil {
		return fmt.Errorf("%q has user info", raw)
	}
	for _, seg := range strings.Split(u.EscapedPath(), "/") {
		if seg == "." || seg == ".." || strings.HasPrefix(seg, "..;") {
			return fmt.Errorf("%q has a dot segment", raw)
		}
	}
	switch {
	case u.Scheme == "https" && u.Host != "":
		return nil
	case u.Scheme == "http" && u.Host != "":
		if isLoopbackHost(u.Hostname(), true) {
			return nil
		}
		return fmt.Errorf("%q is http on a host that is not loopback (RFC 9700 §2.6)", raw)
	case public && strings.Contains(u.Scheme, ".") && u.Opaque == "":
		return nil // RFC 8252 §7.1: com.example.app:/callback
	}
	return fmt.Errorf("%q is not https, http on a loopback host, or (for a public client) a private-use scheme", raw)
}

// isLoopbackHost reports whether host is a loopback IP literal, or, with
// name, "localhost".
func isLoopbackHost(host string, name bool) bool {
	if name && strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// matchRedirectURI reports whether given is one of c's redirect URIs.
func matchRedirectURI(c *store.Client, given string) bool {
	return matchURI(c.RedirectURIs, c.Public, given)
}

func matchURI(registered []string, public bool, given string) bool {
	for _, r := range registered {
		if r == given {
			return true
		}
	}
	if !public {
		return false
	}
	// RFC 8252 §7.3: any port on a loopback IP literal, everything else
	// exactly as registered.
	g, err := url.Parse(given)
	if err != nil || g.Scheme != "http" || g.String() != given || !isLoopbackHost(g.Hostname(), false) {
		return false
	}
	for _, r := range registered {
		ru, err := url.Parse(r)
		if err != nil || ru.Scheme != "http" || !isLoopbackHost(ru.Hostname(), false) {
			continue
		}
		if ru.Hostname() == g.Hostname() && ru.EscapedPath() == g.EscapedPath() && ru.RawQuery == g.RawQuery &&
			g.Fragment == "" && g.User == nil {
			return true
		}
	}
	return false
}
