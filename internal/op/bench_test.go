package op_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// BenchmarkEndpoints measures the token endpoint (client_credentials and
// refresh) and introspection, on SQLite and on PostgreSQL, through the
// provider's handler in process (no network), with GOMAXPROCS goroutines.
// Each reports operations per second and the 99th percentile latency.
//
//	go test ./internal/op -run '^$' -bench Endpoints -benchtime 3s
func BenchmarkEndpoints(b *testing.B) {
	for _, driver := range []string{"sqlite", "postgres"} {
		b.Run(driver, func(b *testing.B) {
			e := newEnv(b, envOptions{driver: driver})
			e.signIn("acct-1", 1, "pwd")
			h := e.p.Handler()

			b.Run("client_credentials", func(b *testing.B) {
				body := url.Values{"grant_type": {"client_credentials"}, "scope": {"read"}}.Encode()
				measure(b, func() bool {
					rec := serve(h, "/oauth/token", body, "svc", svcSecret)
					return rec.Code == http.StatusOK
				})
			})
			b.Run("client_credentials_opaque", func(b *testing.B) {
				body := url.Values{"grant_type": {"client_credentials"}}.Encode()
				measure(b, func() bool {
					return serve(h, "/oauth/token", body, "svc-opaque", svcSecret).Code == http.StatusOK
				})
			})
			b.Run("refresh", func(b *testing.B) {
				// One refresh token chain per goroutine, made before the
				// clock starts.
				chains := make(chan string, 64)
				for range cap(chains) {
					pk := newPKCE()
					tr := e.exchange("web", webSecret, e.code(e.authParams("web", pk, "openid offline_access")), pk.verifier)
					chains <- tr.RefreshToken
				}
				b.ResetTimer()
				measureWith(b, func() func() bool {
					rt := <-chains
					return func() bool {
						body := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}.Encode()
						rec := serve(h, "/oauth/token", body, "web", webSecret)
						var tr struct {
							RefreshToken string `json:"refresh_token"`
						}
						if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &tr) != nil {
							return false
						}
						rt = tr.RefreshToken
						return true
					}
				})
			})
			b.Run("client_credentials_over_http", func(b *testing.B) {
				// The same through the loopback HTTP server, client and
				// server sharing the two cores.
				client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
				body := url.Values{"grant_type": {"client_credentials"}, "scope": {"read"}}.Encode()
				measure(b, func() bool {
					req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/oauth/token", strings.NewReader(body))
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					req.SetBasicAuth("svc", svcSecret)
					resp, err := client.Do(req)
					if err != nil {
						return false
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					return resp.StatusCode == http.StatusOK
				})
			})
			b.Run("introspection_jwt_cold", func(b *testing.B) {
				// Every token introspected for the first time: the ES256
				// verification is not remembered yet.
				body := url.Values{"grant_type": {"client_credentials"}}.Encode()
				tokens := make(chan string, 1<<17)
				if b.N > cap(tokens) {
					b.Fatalf("b.N = %d: lower -benchtime for the cold run", b.N)
				}
				for range b.N + 4 {
					var tr struct {
						AccessToken string `json:"access_token"`
					}
					json.Unmarshal(serve(h, "/oauth/token", body, "svc", svcSecret).Body.Bytes(), &tr)
					tokens <- tr.AccessToken
				}
				measure(b, func() bool {
					tok := <-tokens
					rec := serve(h, "/oauth/introspect", url.Values{"token": {tok}}.Encode(), "svc", svcSecret)
					return rec.Code == http.StatusOK && strings.Contains(rec.Body.String(), `"active":true`)
				})
			})
			jwt := e.token(url.Values{"grant_type": {"client_credentials"}}, "svc", svcSecret).AccessToken
			opaque := e.offline(&testing.T{}).AccessToken
			for name, tok := range map[string]struct{ token, client, secret string }{
				"introspection_jwt":    {jwt, "svc", svcSecret},
				"introspection_opaque": {opaque, "web", webSecret},
			} {
				b.Run(name, func(b *testing.B) {
					body := url.Values{"token": {tok.token}}.Encode()
					measure(b, func() bool {
						rec := serve(h, "/oauth/introspect", body, tok.client, tok.secret)
						return rec.Code == http.StatusOK && strings.Contains(rec.Body.String(), `"active":true`)
					})
				})
			}
		})
	}
}

// serve posts a form to the handler with HTTP Basic client credentials.
func serve(h http.Handler, path, body, user, pass string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(user, pass)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func measure(b *testing.B, op func() bool) {
	measureWith(b, func() func() bool { return op })
}

// measureWith runs the operation each goroutine's setup returns, in
// parallel, and reports ops/s and the 99th percentile latency in ms.
func measureWith(b *testing.B, setup func() func() bool) {
	var (
		mu    sync.Mutex
		all   []time.Duration
		fails int
	)
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		op := setup()
		var lat []time.Duration
		bad := 0
		for pb.Next() {
			t0 := time.Now()
			if !op() {
				bad++
			}
			lat = append(lat, time.Since(t0))
		}
		mu.Lock()
		all = append(all, lat...)
		fails += bad
		mu.Unlock()
	})
	elapsed := time.Since(start)
	if fails > 0 {
		b.Fatalf("%d of %d operations failed", fails, len(all))
	}
	slices.Sort(all)
	if len(all) > 0 {
		p99 := all[min(len(all)-1, len(all)*99/100)]
		b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
	}
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), "ops/s")
}
