package sms

import (
	"context"
	"errors"
	"net/http"
)

// Check asks the gateway whether it answers, without sending a message:
// a HEAD request to URL with the configured headers (the credentials).
// Any answer counts (many gateways answer HEAD with 404 or 405) except a
// server error (5xx) or a refusal of the credentials (401, 403), which
// are a *ProviderError; a connection that fails or times out is an error
// naming the host. It is meant for the startup check.
func (g *HTTPGateway) Check(ctx context.Context) error {
	if g.body == nil {
		return errors.New("sms: HTTPGateway must be made by NewHTTPGateway")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, g.URL, nil)
	if err != nil {
		return err
	}
	req.Header = g.header.Clone()
	status, _, err := roundTrip(ctx, g.Client, g.Timeout, "http gateway", req)
	if err != nil {
		return err
	}
	if status >= 500 || status == http.StatusUnauthorized || status == http.StatusForbidden {
		return &ProviderError{Provider: "http gateway", StatusCode: status}
	}
	return nil
}
