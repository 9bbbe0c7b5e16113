package openapitest

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

type recTB struct {
	testing.TB
	errs []string
}

func (r *recTB) Helper() {}
func (r *recTB) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

// Transport checks what a client receives from a server elsewhere and
// hands the body on unchanged; only /api/ answers are checked.
func TestTransport(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v1/session": // documented: a session
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"id":"s","account_id":"a","auth_time":"2026-11-21T12:00:00Z","expires_at":"2026-11-21T13:00:00Z","amr":["pwd"],"level":1}`)
		case "/api/v1/account": // an undocumented field
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"id":"a","name":"Kari","emails":[],"password":"leaked"}`)
		default: // not the API: not checked
			io.WriteString(w, "<p>page</p>")
		}
	}))
	defer srv.Close()
	for _, tt := range []struct {
		path  string
		fails bool
	}{{"/api/v1/session", false}, {"/api/v1/account", true}, {"/login", false}} {
		tb := &recTB{TB: t}
		c := &http.Client{Transport: Transport(tb, nil)}
		resp, err := c.Get(srv.URL + tt.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if len(body) == 0 {
			t.Errorf("GET %s: the body did not reach the client", tt.path)
		}
		if (len(tb.errs) > 0) != tt.fails {
			t.Errorf("GET %s: errors %q, want failure %v", tt.path, tb.errs, tt.fails)
		}
	}
}
