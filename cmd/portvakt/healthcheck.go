package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// healthcheck asks the server this configuration describes for /readyz on
// its listen address (a wildcard address is asked on loopback), so a
// container's HEALTHCHECK needs no curl: exit 0 on 200, 1 otherwise with
// the server's reason.
func healthcheck(ctx context.Context, args, environ []string, stdout, stderr io.Writer) int {
	fs := newFlags("healthcheck", stderr)
	url := fs.String("url", "", "`URL` to ask instead (default: /readyz on the configured listen address)")
	timeout := fs.Duration("timeout", 5*time.Second, "how long to wait for the answer")
	cfg, _, ok := loadConfig(fs, args, environ, stderr)
	if !ok {
		return 2
	}
	target := *url
	if target == "" {
		host, port, err := net.SplitHostPort(cfg.Listen)
		if err != nil {
			fmt.Fprintf(stderr, "portvakt: listen %q: %v\n", cfg.Listen, err)
			return 2
		}
		if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
			host = "127.0.0.1"
			if ip != nil && ip.To4() == nil {
				host = "::1"
			}
		}
		target = "http://" + net.JoinHostPort(host, port) + "/readyz"
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		fmt.Fprintln(stderr, "portvakt:", err)
		return 2
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintf(stderr, "not ready: %s: %v\n", target, err)
		return 1
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(stderr, "not ready: %s answered %d %s\n", target, resp.StatusCode, strings.TrimSpace(string(body)))
		return 1
	}
	fmt.Fprintf(stdout, "ready: %s\n", target)
	return 0
}
