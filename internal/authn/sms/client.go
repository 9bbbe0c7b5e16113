package sms

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// defaultClient is used when a sender's Client is nil. It does not follow
// redirects: a provider that moves its API should be reconfigured, not
// followed with the credentials, and a POST that becomes a GET after a
// 302 would look like success. A redirect is therefore a non-2xx answer.
var defaultClient = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// maxResponse bounds how much of a provider's answer is read.
const maxResponse = 64 << 10

// checkEndpoint validates an endpoint URL and returns it parsed, or nil
// after recording the mistake. The URL itself is never repeated in a
// message: gateways put API keys in query strings and paths.
func checkEndpoint(c *configErrors, path, raw, credentials string) *url.URL {
	if raw == "" {
		c.add(path, "is required")
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		c.add(path, "must be an absolute https URL, such as https://sms.example.com/send")
		return nil
	}
	if u.User != nil {
		c.add(path, "must not contain a user name or password; set %s instead", credentials)
		return nil
	}
	// Every request carries credentials and a sign-in code.
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		c.add(path, "must use https (http is allowed only to a loopback host), but the host is %q", u.Hostname())
		return nil
	}
	return u
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// roundTrip sends req within timeout and returns the status code and up
// to maxResponse bytes of the body. Transport errors name the provider,
// method and host, never the full URL (which may hold a key).
//
// A failure to read the body of a 2xx answer is not an error: the
// provider has accepted the message, and a retry would send it twice.
func roundTrip(ctx context.Context, client *http.Client, timeout time.Duration, provider string, req *http.Request) (int, []byte, error) {
	if client == nil {
		client = defaultClient
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	resp, err := client.Do(req.WithContext(ctx))
	if err != nil {
		// *url.Error repeats the URL; keep only the cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return 0, nil, fmt.Errorf("sms %s: %s %s: %w", provider, req.Method, req.URL.Host, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	return resp.StatusCode, body, nil
}

func orDefault(d time.Duration) time.Duration {
	if d == 0 {
		return DefaultTimeout
	}
	return d
}
