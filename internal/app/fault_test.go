package app_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/app"
	"github.com/portvakt/portvakt/internal/config"
	"github.com/portvakt/portvakt/internal/pgtest"
	"github.com/portvakt/portvakt/internal/testwait"
)

// TestPostgresOutage is the fault test of issue 12: PostgreSQL stops for a
// while. Users get a 503 in their language within the query timeout (never
// a hang or a 500), /readyz says the node is not ready, and once the server
// is back the same node serves again without a restart.
func TestPostgresOutage(t *testing.T) {
	const queryTimeout = time.Second
	cluster, err := pgtest.StartCluster()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cluster.Stop() })
	dsn := cluster.NewDatabase(t)

	cfg := config.Default()
	cfg.Database.Driver, cfg.Database.DSN = "postgres", dsn
	cfg.Database.QueryTimeout = config.Duration(queryTimeout)
	cfg.Secrets.Key = "uDUUZ8ZlLZP9o6CFQtJGfOF8zVD0gM3bVcpSTNaTyt0="
	a, err := app.New(t.Context(), cfg, app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(func() { srv.Close(); a.Close() })

	get := func(path string) (int, string) {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	signup := func(lang string) (*http.Response, string) {
		req, _ := http.NewRequest("POST", srv.URL+"/signup", strings.NewReader(url.Values{"email": {"kari@example.no"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept-Language", lang)
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		testwait.For(t, 60*time.Second, what, cond)
	}

	if code, body := get("/readyz"); code != 200 {
		t.Fatalf("/readyz before the outage = %d %q", code, body)
	}
	if resp, _ := signup("en"); resp.StatusCode >= 400 {
		t.Fatalf("POST /signup before the outage = %d", resp.StatusCode)
	}

	if err := cluster.StopServer(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	resp, page := signup("nb")
	took := time.Since(start)
	t.Logf("with PostgreSQL down, POST /signup answered %d after %s", resp.StatusCode, took)
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" || !strings.Contains(page, "Vi kan ikke svare akkurat nå") {
		t.Errorf("POST /signup with PostgreSQL down = %d (Retry-After %q), want the Norwegian 503 page:\n%s",
			resp.StatusCode, resp.Header.Get("Retry-After"), page)
	}
	if bound := 20*queryTimeout + testwait.D(10*time.Second); took > bound {
		t.Errorf("POST /signup with PostgreSQL down took %s, want it bounded by the %s query timeout", took, queryTimeout)
	}
	waitFor("/readyz turns 503", func() bool { code, _ := get("/readyz"); return code == 503 })

	if err := cluster.StartServer(); err != nil {
		t.Fatal(err)
	}
	back := time.Now()
	waitFor("/readyz recovers", func() bool { code, _ := get("/readyz"); return code == 200 })
	t.Logf("ready again %s after PostgreSQL accepted connections", time.Since(back))
	if resp, _ := signup("sv"); resp.StatusCode >= 400 {
		t.Errorf("POST /signup after the outage = %d, want the node to serve again", resp.StatusCode)
	}
}
