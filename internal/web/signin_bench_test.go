package web_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/app"
	"github.com/portvakt/portvakt/internal/config"
	"github.com/portvakt/portvakt/internal/flow"
)

// BenchmarkAPISignInOverhead is the benchmark's password login (POST
// /api/v1/login, then POST /api/v1/login/password) served by the whole
// handler on SQLite, with a near-free hash and no network: what a sign-in
// costs the server besides its hash (issue 12). The flow package's
// BenchmarkSignInOverhead measures the flow alone on both databases.
//
//	go test -run '^$' -bench APISignInOverhead -benchmem ./internal/web/
func BenchmarkAPISignInOverhead(b *testing.B) {
	cfg := config.Default()
	cfg.Database.DSN = filepath.Join(b.TempDir(), "portvakt.db")
	cfg.Password.Argon2 = config.Default().Password.Argon2
	cfg.Password.Argon2.Memory, cfg.Password.Argon2.Time, cfg.Password.Argon2.Threads = 8, 1, 1
	a, err := app.New(b.Context(), cfg, app.Options{Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { a.Close() })
	const pw = "correct horse battery staple"
	if _, err := a.Flows.CreateAccount(b.Context(), flow.NewAccount{Name: "Kari", Email: "kari@example.no", Password: pw}); err != nil {
		b.Fatal(err)
	}
	h := a.Handler()
	post := func(path, body string, want int) string {
		req := httptest.NewRequest("POST", path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.RemoteAddr = "192.0.2.1:40000"
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != want {
			b.Fatalf("POST %s = %d %s", path, rec.Code, rec.Body)
		}
		return rec.Body.String()
	}
	field := func(body, name string) string {
		_, v, _ := strings.Cut(body, `"`+name+`":"`)
		v, _, _ = strings.Cut(v, `"`)
		return v
	}
	b.ReportAllocs()
	cpu := processCPU()
	for b.Loop() {
		f := post("/api/v1/login", `{"email":"kari@example.no"}`, http.StatusCreated)
		post("/api/v1/login/password", `{"flow_id":"`+field(f, "flow_id")+`","flow_token":"`+field(f, "flow_token")+`","password":"`+pw+`"}`, http.StatusOK)
	}
	b.ReportMetric(float64((processCPU()-cpu).Microseconds())/float64(b.N), "cpu-µs/op")
}

// processCPU is the user and system CPU this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
