// Package openapitest holds API tests to Portvakt's OpenAPI document
// (internal/web/openapi): every response an API test receives is
// validated against it with kin-openapi, test-only. Import it only from
// _test.go files.
//
// Wrap the server's handler, so that every /api/ answer of every test is
// checked whoever sends the request:
//
//	srv := httptest.NewServer(openapitest.Handler(t, app.Handler()))
//
// or a client's transport, for a server running elsewhere (an e2e test):
//
//	client := &http.Client{Transport: openapitest.Transport(t, nil)}
//
// A response the document does not describe (an undocumented route,
// status, content type or field, a problem key or type not listed) fails
// the test, naming the request.
package openapitest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"github.com/portvakt/portvakt/internal/web/openapi"
)

var (
	docOnce sync.Once
	doc     *openapi3.T
	docErr  error
)

// Doc loads and validates the embedded document once; it fails tb if the
// document is not a valid OpenAPI document.
func Doc(tb testing.TB) *openapi3.T {
	tb.Helper()
	docOnce.Do(func() {
		loader := openapi3.NewLoader()
		doc, docErr = loader.LoadFromData(openapi.Document)
		if docErr == nil {
			docErr = doc.Validate(context.Background())
		}
	})
	if docErr != nil {
		tb.Fatalf("internal/web/openapi/openapi.yaml: %v", docErr)
	}
	return doc
}

// findOperation matches a request to the document's operation: the path
// whose segments match (a literal segment before a {parameter}) and the
// method; nil when the document has none.
func findOperation(doc *openapi3.T, method, path string) (*routers.Route, map[string]string) {
	segs := strings.Split(path, "/")
	var best *routers.Route
	var bestParams map[string]string
	bestLiterals := -1
	for p, item := range doc.Paths.Map() {
		ps := strings.Split(p, "/")
		if len(ps) != len(segs) {
			continue
		}
		params, literals, ok := map[string]string{}, 0, true
		for i, s := range ps {
			if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
				if segs[i] == "" {
					ok = false
					break
				}
				params[s[1:len(s)-1]] = segs[i]
			} else if s == segs[i] {
				literals++
			} else {
				ok = false
				break
			}
		}
		op := item.GetOperation(method)
		if !ok || op == nil || literals <= bestLiterals {
			continue
		}
		best = &routers.Route{Spec: doc, Path: p, PathItem: item, Method: method, Operation: op}
		bestParams, bestLiterals = params, literals
	}
	return best, bestParams
}

// catchAll is the operation of an /api/ request that matches no route:
// the 404 (or 405) problem the "/api/" catch-all answers.
func catchAll(doc *openapi3.T, method string) *routers.Route {
	problemResp := doc.Components.Responses["Problem"]
	responses := openapi3.NewResponses()
	responses.Delete("default")
	responses.Set("404", problemResp)
	responses.Set("405", problemResp)
	return &routers.Route{Spec: doc, Path: "/api/", PathItem: &openapi3.PathItem{}, Method: method,
		Operation: &openapi3.Operation{Responses: responses}}
}

// Check validates one response to r against doc. Only /api/ requests are
// checked; any other gets nil.
func Check(doc *openapi3.T, r *http.Request, status int, header http.Header, body []byte) error {
	if !strings.HasPrefix(r.URL.Path, "/api/") || status == 499 { // 499: the client went away; nothing was answered
		return nil
	}
	route, params := findOperation(doc, r.Method, r.URL.Path)
	if route == nil {
		if status != http.StatusNotFound && status != http.StatusMethodNotAllowed {
			return fmt.Errorf("no operation %s %s in the document", r.Method, r.URL.Path)
		}
		route = catchAll(doc, r.Method)
	}
	req := r.Clone(context.Background())
	req.Body = http.NoBody
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 status,
		Header:                 header,
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	in.SetBodyBytes(body)
	return openapi3filter.ValidateResponse(context.Background(), in)
}

func report(tb testing.TB, r *http.Request, status int, body []byte, err error) {
	tb.Errorf("OpenAPI: %s %s answered %d, which internal/web/openapi/openapi.yaml does not describe: %v\nbody: %.600s",
		r.Method, r.URL.Path, status, err, body)
}

// Handler wraps a server's handler: every response to an /api/ request
// is checked against the document, and a mismatch is a test error.
func Handler(tb testing.TB, h http.Handler) http.Handler {
	d := Doc(tb)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/api/") {
			h.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())
		if err := Check(d, r, rec.Code, rec.Header(), rec.Body.Bytes()); err != nil {
			report(tb, r, rec.Code, rec.Body.Bytes(), err)
		}
	})
}

// Transport wraps a client's transport (nil: http.DefaultTransport):
// every response to an /api/ request is read, checked against the
// document and handed on unchanged; a mismatch is a test error.
func Transport(tb testing.TB, next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return &transport{tb: tb, doc: Doc(tb), next: next}
}

type transport struct {
	tb   testing.TB
	doc  *openapi3.T
	next http.RoundTripper
}

func (t *transport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(r)
	if err != nil || !strings.HasPrefix(r.URL.Path, "/api/") {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if err := Check(t.doc, r, resp.StatusCode, resp.Header, body); err != nil {
		report(t.tb, r, resp.StatusCode, body, err)
	}
	return resp, nil
}
