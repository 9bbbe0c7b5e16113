// Package web is Portvakt's HTTP front end: routes, middleware, thin
// handlers and the one place where errors become responses.
//
// # How a request travels
//
//	withObservation      request ID, one log line, metrics, panic → 500
//	withSecurityHeaders  CSP with a per-request nonce, frame-ancestors 'none',
//	                     nosniff, no-referrer, no-store, HSTS on https
//	withRequestState     session from the cookie, language negotiation
//	CrossOriginProtection refuses cross-site state-changing requests (CSRF)
//	ServeMux             page(...) or api(...) adapter → handler
//
// # Handlers
//
// A handler decodes its input (form or JSON), calls one domain function,
// and renders the result. It returns an error instead of writing one; the
// page and api adapters (errors.go) map a *problem.Problem to a localized
// 4xx (an HTML page, or application/problem+json per RFC 9457) and
// anything else to a logged 500 with a request ID. A form handler that
// gets a Problem re-renders its own form with the problem and the user's
// input, so nothing typed is lost.
//
// Every self-service page has a JSON twin under /api/v1/ that shares the
// domain call and differs only in decoding and rendering.
//
// # Absolute URLs
//
// The configured public URL is the only source of absolute URLs and of
// the cookie's Secure flag; Host and X-Forwarded-* headers are never used.
package web
