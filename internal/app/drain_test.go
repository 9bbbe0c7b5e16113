package app_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/app"
	"github.com/portvakt/portvakt/internal/config"
	"github.com/portvakt/portvakt/internal/testwait"
)

// serving starts an App on a loopback port with drain as its drain
// timeout; cancel is its SIGTERM, and errc receives what Serve returned.
func serving(t *testing.T, drain time.Duration) (a *app.App, addr string, cancel context.CancelFunc, errc chan error) {
	t.Helper()
	cfg := config.Default()
	cfg.Database.DSN = filepath.Join(t.TempDir(), "portvakt.db")
	cfg.Server.DrainTimeout = config.Duration(drain)
	a, err := app.New(t.Context(), cfg, app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc = make(chan error, 1)
	go func() { errc <- a.Serve(ctx, ln) }()
	t.Cleanup(func() { cancel(); a.Close() })
	return a, ln.Addr().String(), cancel, errc
}

const loginBody = `{"email":"kari@example.no"}`

// startSlowRequest sends the headers of a sign-in and waits until its
// handler is reading the body (the server's 100 Continue says so), then
// leaves the body unsent: a request in flight.
func startSlowRequest(t *testing.T, addr string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	fmt.Fprintf(c, "POST /api/v1/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"+
		"Expect: 100-continue\r\nContent-Length: %d\r\n\r\n", len(loginBody))
	r := bufio.NewReader(c)
	line, err := r.ReadString('\n')
	if err != nil || !strings.Contains(line, "100 Continue") {
		t.Fatalf("waiting for 100 Continue: %q, %v", line, err)
	}
	if _, err := r.ReadString('\n'); err != nil { // the blank line after it
		t.Fatal(err)
	}
	return c, r
}

// eventually polls cond for a bounded time.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testwait.For(t, 30*time.Second, what, cond)
}

// TestDrainLetsInFlightRequestsFinish is the shutdown of issue 12: at
// SIGTERM readiness turns 503 and new connections are refused, but a
// request in flight gets its answer, and only then does Serve return
// (and the database close) with no error.
func TestDrainLetsInFlightRequestsFinish(t *testing.T) {
	a, addr, cancel, errc := serving(t, testwait.D(30*time.Second))
	c, r := startSlowRequest(t, addr)

	cancel() // SIGTERM
	eventually(t, "readiness turns 503", func() bool {
		rec := httptest.NewRecorder()
		a.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
		return rec.Code == http.StatusServiceUnavailable && strings.Contains(rec.Body.String(), "draining")
	})
	eventually(t, "new connections are refused", func() bool {
		nc, err := net.Dial("tcp", addr)
		if err == nil {
			nc.Close()
		}
		return err != nil
	})
	select {
	case err := <-errc:
		t.Fatalf("Serve returned (%v) with a request in flight", err)
	default:
	}

	io.WriteString(c, loginBody)
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatalf("the request in flight got no answer: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 500 {
		t.Errorf("the request in flight got %d, want its normal answer", resp.StatusCode)
	}
	select {
	case err := <-errc:
		if err != nil {
			t.Errorf("Serve = %v, want nil", err)
		}
	case <-time.After(testwait.D(30 * time.Second)):
		t.Fatal("Serve did not return after the last request")
	}
	if err := a.DB.Ping(t.Context()); err != nil {
		t.Errorf("the database was closed by Serve (%v); closing is the caller's, after Serve", err)
	}
}

// TestDrainTimeoutCutsOffAndStillExitsCleanly: a request that outlives
// server.drain_timeout is cut off, and Serve still returns nil.
func TestDrainTimeoutCutsOffAndStillExitsCleanly(t *testing.T) {
	const drain = 200 * time.Millisecond
	_, addr, cancel, errc := serving(t, drain)
	c, r := startSlowRequest(t, addr)
	start := time.Now()
	cancel()
	select {
	case err := <-errc:
		if err != nil {
			t.Errorf("Serve = %v, want nil", err)
		}
		if took := time.Since(start); took < drain {
			t.Errorf("Serve returned after %s, before the %s drain timeout", took, drain)
		}
	case <-time.After(drain + testwait.D(30*time.Second)):
		t.Fatal("Serve did not return after the drain timeout")
	}
	c.SetReadDeadline(time.Now().Add(testwait.D(30 * time.Second)))
	if _, err := http.ReadResponse(r, nil); err == nil {
		t.Error("the request that outlived the drain got an answer, want its connection closed")
	}
}
