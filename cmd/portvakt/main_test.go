package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/testwait"
)

// freeAddr returns a loopback address that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// The README's first command with no configuration: SQLite in the working
// directory, a localized home page, and a clean exit on shutdown.
func TestServeWithNoConfiguration(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(t.Context())
	var stderr bytes.Buffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"serve", "--listen", addr}, nil, nil, io.Discard, &stderr) }()

	var resp *http.Response
	deadline := time.Now().Add(testwait.D(20 * time.Second))
	for {
		req, _ := http.NewRequest("GET", "http://"+addr+"/", nil)
		req.Header.Set("Accept-Language", "nb-NO,nb;q=0.9")
		var err error
		resp, err = http.DefaultClient.Do(req)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("server did not answer: %v\n%s", err, stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "Velkommen til Portvakt") {
		t.Errorf("GET / = %d, want the Bokmål home page:\n%s", resp.StatusCode, body)
	}
	if _, err := os.Stat(filepath.Join(dir, "portvakt.db")); err != nil {
		t.Errorf("no portvakt.db in the working directory: %v", err)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("serve exited %d:\n%s", code, stderr.String())
		}
	case <-time.After(testwait.D(15 * time.Second)):
		t.Fatal("serve did not shut down")
	}
	if !strings.Contains(stderr.String(), `"msg":"shutting down"`) {
		t.Errorf("no JSON shutdown log line:\n%s", stderr.String())
	}
}

func TestConfigCheckListsEveryError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(path, []byte("public_url: ftp://x\ndatabase:\n  driver: oracle\nlog:\n  format: xml\n"), 0o600)
	var stdout, stderr bytes.Buffer
	code := run(t.Context(), []string{"config", "check", "--config", path}, nil, nil, &stdout, &stderr)
	if code != 1 {
		t.Errorf("config check exit = %d, want 1", code)
	}
	for _, want := range []string{"3 error(s)", "public_url:", "database.driver: must be one of sqlite, postgres", "log.format: must be one of json, text"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("config check output lacks %q:\n%s", want, stderr.String())
		}
	}

	stdout.Reset()
	code = run(t.Context(), []string{"config", "check"}, []string{"PORTVAKT_SESSION_IDLE_TIMEOUT=2h"}, nil, &stdout, &stderr)
	if code != 0 || !strings.Contains(stdout.String(), "warning: session.idle_timeout") || !strings.Contains(stdout.String(), "configuration is valid") {
		t.Errorf("config check with a long idle timeout = %d:\n%s", code, stdout.String())
	}
}

func TestMigrateAndVersion(t *testing.T) {
	dsn := filepath.Join(t.TempDir(), "m.db")
	env := []string{"PORTVAKT_DATABASE_DSN=" + dsn}
	var out bytes.Buffer
	if code := run(t.Context(), []string{"migrate"}, env, nil, &out, &out); code != 0 || !strings.Contains(out.String(), "applied") {
		t.Fatalf("migrate = %d:\n%s", code, out.String())
	}
	out.Reset()
	if code := run(t.Context(), []string{"migrate"}, env, nil, &out, &out); code != 0 || !strings.Contains(out.String(), "up to date") {
		t.Errorf("second migrate = %d:\n%s", code, out.String())
	}
	out.Reset()
	if code := run(t.Context(), []string{"version"}, nil, nil, &out, &out); code != 0 || !strings.HasPrefix(out.String(), "portvakt ") {
		t.Errorf("version = %d %q", code, out.String())
	}
	if code := run(t.Context(), []string{"frobnicate"}, nil, nil, &out, &out); code != 2 {
		t.Errorf("unknown command exit = %d, want 2", code)
	}
}
