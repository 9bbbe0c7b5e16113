package config

import (
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
)

// Listen address, public URL, service name and the server section.
func (c Config) validateServer(k *checker) {
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		k.add("listen", "must be host:port such as 127.0.0.1:8080, but is %q", c.Listen)
	}
	u, err := url.Parse(c.PublicURL)
	switch {
	case err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https"):
		k.add("public_url", "must be an absolute http or https URL such as https://login.example.org, but is %q", c.PublicURL)
	case u.RawQuery != "" || u.Fragment != "":
		k.add("public_url", "must not have a query or fragment, but is %q", c.PublicURL)
	case u.Scheme == "http" && !IsLoopbackHost(u.Hostname()):
		k.add("public_url", "must use https unless the host is localhost or a loopback address, but is %q", c.PublicURL)
	}
	if strings.TrimSpace(c.ServiceName) == "" {
		k.add("service_name", "must not be empty")
	}

	if d := c.Server.DrainTimeout.D(); d < 0 || d > 10*time.Minute {
		k.add("server.drain_timeout", "must be between 0s and 10m, but is %s", c.Server.DrainTimeout)
	}
	for i, v := range c.Server.TrustedProxies {
		if _, err := parseProxy(v); err != nil {
			k.add(fmt.Sprintf("server.trusted_proxies[%d]", i), "must be an address or a CIDR such as 10.0.0.0/8 or fd00::/8, but is %q", v)
		}
	}
}
