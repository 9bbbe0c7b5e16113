package web_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestHandlerTwice: the server's handler can be built more than once (a
// second listener, a test) without registering its metrics twice, which
// panicked; both handlers count into the one registry.
func TestHandlerTwice(t *testing.T) {
	e := newEnv(t)
	if e.app.Web.Metrics == nil {
		t.Fatal("metrics are off in the test configuration: the test cannot fail")
	}
	var second http.Handler
	func() {
		defer func() {
			if p := recover(); p != nil {
				t.Fatalf("the second Handler() panicked: %v", p)
			}
		}()
		second = e.app.Web.Handler()
	}()
	srv := httptest.NewServer(second)
	defer srv.Close()
	for range 2 {
		resp, err := http.Get(srv.URL + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	resp, body := e.do(t, "GET", "/metrics", nil, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `portvakt_http_requests_total{code="200",route="GET /healthz"} 2`) {
		t.Errorf("GET /metrics = %d; want the second handler's two requests counted:\n%s", resp.StatusCode, grepLines(body, "portvakt_http_requests_total"))
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
