package web_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/app"
	"github.com/portvakt/portvakt/internal/config"
	"github.com/portvakt/portvakt/internal/flow"
	"github.com/portvakt/portvakt/internal/web"
)

// volatile matches what differs between any two responses (flow IDs,
// nonces, request IDs), so that the rest can be compared byte for byte.
var volatile = regexp.MustCompile(`flow=[a-z0-9]+|name="flow" value="[a-z0-9]+"|nonce="[^"]+"|[a-z0-9]{20}</code>`)

func normalize(s string) string { return volatile.ReplaceAllString(s, "…") }

type browser struct {
	tb     testing.TB
	e      *env
	client *http.Client
}

func newBrowser(tb testing.TB, e *env) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{tb: tb, e: e, client: &http.Client{Jar: jar}}
}

// post submits a form like a browser (following the redirect) and returns
// the final status and body.
func (b *browser) post(path string, form url.Values) (int, string) {
	b.tb.Helper()
	req, _ := http.NewRequest("POST", b.e.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept-Language", "en")
	resp, err := b.client.Do(req)
	if err != nil {
		b.tb.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

var addresses = [2]string{"known@example.no", "unknown@example.no"}

// passwordStep takes a new browser through the email step and returns it
// with the flow of the password step.
func passwordStep(tb testing.TB, e *env, addr string) (*browser, string) {
	tb.Helper()
	b := newBrowser(tb, e)
	status, body := b.post("/login", url.Values{"email": {addr}})
	m := regexp.MustCompile(`name="flow" value="([a-z0-9]+)"`).FindStringSubmatch(body)
	if status != 200 || m == nil || !strings.Contains(body, `name="password"`) {
		tb.Fatalf("email step for %s = %d, want the password page", addr, status)
	}
	return b, m[1]
}

// hashes is how many password hashes a request cost: all verifications,
// and the dummy ones among them.
type hashes struct{ verifications, dummies int64 }

func countHashes(e *env, fn func()) hashes {
	before := e.app.Flows.Hasher.Stats()
	fn()
	after := e.app.Flows.Hasher.Stats()
	return hashes{after.Verifications - before.Verifications, after.Dummies - before.Dummies}
}

// Neither sign-in nor password recovery tells a stranger whether an
// address has an account: not by the page, not by the status, and not by
// the work done, which is counted rather than timed: a wrong password for
// an unknown address costs exactly one dummy verification, as a known
// address costs one real one (SECURITY.md §7 item 8). The time itself is
// measured by BenchmarkEnumerationTiming.
func TestNoAccountEnumeration(t *testing.T) {
	e := newEnv(t, func(c *config.Config) { c.Login.Methods = []string{"email", "username"} })
	if _, err := e.app.Flows.CreateAccount(t.Context(), flow.NewAccount{Username: "known", Name: "Kari", Email: "known@example.no", Password: "correct horse battery staple"}); err != nil {
		t.Fatal(err)
	}

	// Username and password on one page, and the JSON twins: the same
	// answer and the same work for a known and an unknown name.
	t.Run("username sign-in", func(t *testing.T) {
		var bodies [2]string
		var statuses [2]int
		var cost [2]hashes
		for j, name := range [2]string{"known", "unknown"} {
			b := newBrowser(t, e)
			var body string
			cost[j] = countHashes(e, func() {
				statuses[j], body = b.post("/login/username", url.Values{"username": {name}, "password": {"wrong horse battery staple"}})
			})
			bodies[j] = normalize(strings.ReplaceAll(body, name, "NAME"))
		}
		if statuses[0] != statuses[1] || statuses[0] != http.StatusUnauthorized || bodies[0] != bodies[1] {
			t.Errorf("username sign-in: known %d, unknown %d; the pages differ: %v", statuses[0], statuses[1], bodies[0] != bodies[1])
		}
		if cost[0] != (hashes{1, 0}) || cost[1] != (hashes{1, 1}) {
			t.Errorf("hashes for a wrong password by username: known %+v, unknown %+v; want one verification each, the unknown one a dummy", cost[0], cost[1])
		}
	})
	t.Run("JSON API", func(t *testing.T) {
		var problems [2]string
		var statuses [2]int
		var cost [2]hashes
		for j, addr := range addresses {
			c := newAPIClient(t, e, "en")
			var f web.FlowJSON
			if status, body := c.call("POST", "/api/v1/login", map[string]string{"email": addr}, &f); status != 201 || f.Next != "password" {
				t.Fatalf("API email step for %s = %d %s", addr, status, body)
			}
			var body string
			cost[j] = countHashes(e, func() {
				statuses[j], body = c.call("POST", "/api/v1/login/password", map[string]string{"flow_id": f.FlowID, "flow_token": f.FlowToken, "password": "wrong horse battery staple"}, nil)
			})
			var p web.ProblemJSON
			if err := json.Unmarshal([]byte(body), &p); err != nil {
				t.Fatalf("API password step for %s: %v in %s", addr, err, body)
			}
			p.RequestID = ""
			problems[j] = strings.ReplaceAll(fmt.Sprintf("%+v", p), addr, "ADDRESS")
		}
		if statuses[0] != statuses[1] || statuses[0] != http.StatusUnauthorized || problems[0] != problems[1] {
			t.Errorf("API sign-in: known %d %s\nunknown %d %s", statuses[0], problems[0], statuses[1], problems[1])
		}
		if cost[0] != (hashes{1, 0}) || cost[1] != (hashes{1, 1}) {
			t.Errorf("API hashes for a wrong password: known %+v, unknown %+v; want one verification each, the unknown one a dummy", cost[0], cost[1])
		}
	})

	t.Run("sign-in", func(t *testing.T) {
		var bodies [2]string
		var statuses [2]int
		var cost [2]hashes
		for j, addr := range addresses {
			b, flowID := passwordStep(t, e, addr)
			var body string
			cost[j] = countHashes(e, func() {
				statuses[j], body = b.post("/login/password", url.Values{"flow": {flowID}, "password": {"wrong horse battery staple"}})
			})
			body = strings.ReplaceAll(strings.ReplaceAll(body, addr, "ADDRESS"), url.QueryEscape(addr), "ADDRESS")
			bodies[j] = normalize(body)
		}
		if statuses[0] != statuses[1] || statuses[0] != http.StatusUnauthorized {
			t.Errorf("statuses: known %d, unknown %d; want both 401", statuses[0], statuses[1])
		}
		if bodies[0] != bodies[1] {
			t.Errorf("the pages differ:\nknown:   %s\nunknown: %s", bodies[0], bodies[1])
		}
		if cost[0] != (hashes{1, 0}) || cost[1] != (hashes{1, 1}) {
			t.Errorf("hashes for a wrong password: known %+v, unknown %+v; want one verification each, the unknown one a dummy", cost[0], cost[1])
		}
	})

	t.Run("recovery", func(t *testing.T) {
		for _, method := range []string{flow.MethodCode, flow.MethodLink, flow.MethodMagic} {
			var bodies [2]string
			var statuses [2]int
			var cost [2]hashes
			for j, addr := range addresses {
				b := newBrowser(t, e)
				var body string
				cost[j] = countHashes(e, func() {
					statuses[j], body = b.post("/recover", url.Values{"email": {addr}, "method": {method}})
				})
				bodies[j] = normalize(strings.ReplaceAll(body, addr, "ADDRESS"))
			}
			if statuses[0] != statuses[1] || statuses[0] != 200 {
				t.Errorf("%s: statuses known %d, unknown %d; want both 200", method, statuses[0], statuses[1])
			}
			if bodies[0] != bodies[1] {
				t.Errorf("%s: the pages differ:\nknown:   %s\nunknown: %s", method, bodies[0], bodies[1])
			}
			if cost[0] != cost[1] {
				t.Errorf("%s: hashes known %+v, unknown %+v; want the same", method, cost[0], cost[1])
			}
		}
	})
}

// newBenchEnv is newEnv for a benchmark.
func newBenchEnv(b *testing.B) *env {
	b.Helper()
	cfg := config.Default()
	cfg.Database.DSN = filepath.Join(b.TempDir(), "portvakt.db")
	c := &clock{t: time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)}
	a, err := app.New(b.Context(), cfg, app.Options{Now: c.Now, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatalf("app.New: %v", err)
	}
	srv := httptest.NewServer(a.Handler())
	b.Cleanup(func() { srv.Close(); a.Close() })
	return &env{app: a, srv: srv, clock: c, logs: &syncBuffer{}}
}

// BenchmarkEnumerationTiming times what TestNoAccountEnumeration counts: a
// wrong password, and each kind of recovery request, for a known and an
// unknown address at the production hashing parameters. The known and
// unknown figures of each pair should be close; compare them with
//
//	go test -run '^$' -bench EnumerationTiming -count 5 ./internal/web/
func BenchmarkEnumerationTiming(b *testing.B) {
	e := newBenchEnv(b)
	if _, err := e.app.Flows.CreateAccount(b.Context(), flow.NewAccount{Name: "Kari", Email: "known@example.no", Password: "correct horse battery staple"}); err != nil {
		b.Fatal(err)
	}
	names := [2]string{"known", "unknown"}
	for j, addr := range addresses {
		b.Run("sign-in/"+names[j], func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				e.clock.Advance(time.Hour) // stay clear of the failure throttle
				br, flowID := passwordStep(b, e, addr)
				b.StartTimer()
				if status, _ := br.post("/login/password", url.Values{"flow": {flowID}, "password": {"wrong horse battery staple"}}); status != http.StatusUnauthorized {
					b.Fatalf("wrong password for %s = %d", addr, status)
				}
			}
		})
	}
	for _, method := range []string{flow.MethodCode, flow.MethodLink, flow.MethodMagic} {
		for j, addr := range addresses {
			b.Run("recovery-"+method+"/"+names[j], func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					br := newBrowser(b, e)
					b.StartTimer()
					if status, _ := br.post("/recover", url.Values{"email": {addr}, "method": {method}}); status != 200 {
						b.Fatalf("recovery for %s = %d", addr, status)
					}
				}
			})
		}
	}
}
