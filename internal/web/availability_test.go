package web_test

import (
	"database/sql"
	"encoding/json"
	"html"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/config"
	"github.com/portvakt/portvakt/internal/testwait"
	"github.com/portvakt/portvakt/internal/web"
)

// queryTimeout is the database deadline of these tests: short, so that
// they are quick; every wall-clock bound below is scaled from it.
const queryTimeout = 300 * time.Millisecond

// lockDatabase takes SQLite's write lock from another connection, as the
// admin CLI or a backup in another process would, and returns the release.
// Writes then wait for the query timeout and fail; reads go on.
func lockDatabase(t *testing.T, path string) (release func()) {
	t.Helper()
	other, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	other.SetMaxOpenConns(1)
	if _, err := other.ExecContext(t.Context(), "BEGIN EXCLUSIVE"); err != nil {
		t.Fatal(err)
	}
	released := false
	release = func() {
		if !released {
			released = true
			other.ExecContext(t.Context(), "ROLLBACK")
			other.Close()
		}
	}
	t.Cleanup(release)
	return release
}

// newFaultEnv is newEnv with the short query timeout; it returns the
// database file too.
func newFaultEnv(t *testing.T, mod ...func(*config.Config)) (*env, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "portvakt.db")
	e := newEnv(t, append([]func(*config.Config){func(c *config.Config) {
		c.Database.DSN = path
		c.Database.QueryTimeout = config.Duration(queryTimeout)
	}}, mod...)...)
	return e, path
}

// within fails the test unless fn returns within a bound scaled from the
// query timeout: generous for a loaded machine, but far from a hang.
func within(t *testing.T, what string, fn func()) {
	t.Helper()
	start := time.Now()
	fn()
	if took, bound := time.Since(start), 20*queryTimeout+testwait.D(10*time.Second); took > bound {
		t.Errorf("%s took %s, want it bounded by the query timeout (%s)", what, took, queryTimeout)
	}
}

func TestUnavailableDatabaseIsALocalized503(t *testing.T) {
	e, path := newFaultEnv(t)
	lockDatabase(t, path)
	for _, tt := range []struct{ lang, title string }{
		{"en", "We can't answer right now"},
		{"nb", "Vi kan ikke svare akkurat nå"},
		{"sv", "Vi kan inte svara just nu"},
	} {
		t.Run(tt.lang, func(t *testing.T) {
			body, h := form("email", "kari@example.no")
			within(t, "POST /signup with the database locked", func() {
				resp, page := e.do(t, "POST", "/signup", body, with(h, "Accept-Language", tt.lang))
				id := resp.Header.Get("X-Request-Id")
				if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "5" {
					t.Errorf("POST /signup = %d, Retry-After %q; want 503 and 5", resp.StatusCode, resp.Header.Get("Retry-After"))
				}
				if !strings.Contains(page, html.EscapeString(tt.title)) || !strings.Contains(page, id) {
					t.Errorf("503 page lacks the %s title %q or the request ID %s:\n%s", tt.lang, tt.title, id, page)
				}
				if resp.Header.Get("Content-Language") != tt.lang {
					t.Errorf("Content-Language = %q, want %q", resp.Header.Get("Content-Language"), tt.lang)
				}
			})
		})
	}
	if strings.Contains(e.logs.String(), `"msg":"internal error"`) {
		t.Error("an unavailable database was logged as an internal error")
	}
	if !strings.Contains(e.logs.String(), `"msg":"database unavailable"`) {
		t.Error("the 503 was not logged")
	}
}

func TestUnavailableDatabaseIsAProblem503(t *testing.T) {
	e, path := newFaultEnv(t)
	lockDatabase(t, path)
	within(t, "POST /api/v1/signup with the database locked", func() {
		resp, body := e.do(t, "POST", "/api/v1/signup", strings.NewReader(`{"email":"kari@example.no"}`),
			map[string]string{"Content-Type": "application/json", "Accept-Language": "sv"})
		if resp.StatusCode != 503 || resp.Header.Get("Content-Type") != "application/problem+json" || resp.Header.Get("Retry-After") != "5" {
			t.Fatalf("POST /api/v1/signup = %d %s, Retry-After %q; want 503 problem+json with Retry-After 5",
				resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Retry-After"))
		}
		var p web.ProblemJSON
		if err := json.Unmarshal([]byte(body), &p); err != nil {
			t.Fatal(err)
		}
		if p.Type != "urn:portvakt:problem:unavailable" || p.Status != 503 || p.Title != "Vi kan inte svara just nu" || p.Detail == "" || p.RequestID == "" {
			t.Errorf("problem = %+v", p)
		}
	})
}

func TestReadinessProvesAWrite(t *testing.T) {
	e, path := newFaultEnv(t)
	if resp, body := e.do(t, "GET", "/readyz", nil, nil); resp.StatusCode != 200 || body != "ok\n" {
		t.Fatalf("/readyz = %d %q, want 200 ok", resp.StatusCode, body)
	}
	release := lockDatabase(t, path)
	// A result is reused for a second, so wait for a fresh check.
	resp, body := poll(t, e, "/readyz", 503)
	if !strings.HasPrefix(body, "not ready: the database did not") || resp.Header.Get("Retry-After") == "" {
		t.Errorf("/readyz with the database locked = %d %q, want 503 naming the failed write", resp.StatusCode, body)
	}
	// Reads still work: a ping would have said ready.
	if resp, _ := e.do(t, "GET", "/login", nil, nil); resp.StatusCode != 200 {
		t.Errorf("GET /login with the write lock taken = %d, want 200", resp.StatusCode)
	}
	release()
	poll(t, e, "/readyz", 200)
}

func TestReadinessFailsOnAReadOnlyDatabase(t *testing.T) {
	key := "uDUUZ8ZlLZP9o6CFQtJGfOF8zVD0gM3bVcpSTNaTyt0="
	first, path := newFaultEnv(t, func(c *config.Config) { c.Secrets.Key = key })
	first.app.Close()
	e := newEnv(t, func(c *config.Config) {
		// What SQLite falls back to for a file the process may not write.
		c.Database.DSN = "file:" + path + "?mode=ro"
		c.Secrets.Key = key
		// The provider writes its signing keys at start; the database
		// here is one that turned read-only while the server ran.
		c.OIDC.Enabled = false
	})
	if resp, _ := e.do(t, "GET", "/login", nil, nil); resp.StatusCode != 200 {
		t.Errorf("GET /login on a read-only database = %d, want 200 (reads work)", resp.StatusCode)
	}
	if resp, body := e.do(t, "GET", "/readyz", nil, nil); resp.StatusCode != 503 || !strings.HasPrefix(body, "not ready:") {
		t.Errorf("/readyz on a read-only database = %d %q, want 503 with the reason", resp.StatusCode, body)
	}
}

func TestDrainingTurnsReadinessOffFirst(t *testing.T) {
	e := newEnv(t)
	e.app.Web.Drain()
	if resp, body := e.do(t, "GET", "/readyz", nil, nil); resp.StatusCode != 503 || body != "not ready: draining (shutting down)\n" {
		t.Errorf("/readyz while draining = %d %q, want 503 draining", resp.StatusCode, body)
	}
	if resp, _ := e.do(t, "GET", "/login", nil, nil); resp.StatusCode != 200 {
		t.Errorf("GET /login while draining = %d, want 200: requests are still served", resp.StatusCode)
	}
	if resp, _ := e.do(t, "GET", "/healthz", nil, nil); resp.StatusCode != 200 {
		t.Errorf("/healthz while draining = %d, want 200: the process is alive", resp.StatusCode)
	}
}

// poll requests path until it answers want, for a bounded number of tries
// (readiness results are reused for a second), and returns that answer.
func poll(t *testing.T, e *env, path string, want int) (*http.Response, string) {
	t.Helper()
	deadline := time.Now().Add(20*queryTimeout + testwait.D(20*time.Second))
	for {
		r, b := e.do(t, "GET", path, nil, nil)
		if r.StatusCode == want {
			return r, b
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s = %d %q, still not %d", path, r.StatusCode, b, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
