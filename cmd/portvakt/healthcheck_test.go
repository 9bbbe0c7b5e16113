package main

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
)

// healthcheck exits 0 while the configured server is ready, and 1 with
// the reason when nothing answers.
func TestHealthcheck(t *testing.T) {
	addr := freeAddr(t)
	env := []string{"PORTVAKT_DATABASE_DSN=" + filepath.Join(t.TempDir(), "h.db"), "PORTVAKT_LISTEN=" + addr}
	var stdout, stderr bytes.Buffer
	if code := run(t.Context(), []string{"healthcheck"}, env, nil, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), "not ready: http://"+addr+"/readyz") {
		t.Errorf("healthcheck with no server = %d, want 1 and the reason:\n%s", code, stderr.String())
	}
	ctx, cancel := context.WithCancel(t.Context())
	srvErr := new(syncBuffer)
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"serve"}, env, nil, io.Discard, srvErr) }()
	defer func() {
		cancel()
		<-done
	}()
	waitGet(t, "http://"+addr+"/healthz", srvErr)
	stdout.Reset()
	stderr.Reset()
	if code := run(t.Context(), []string{"healthcheck"}, env, nil, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), "ready: http://"+addr+"/readyz") {
		t.Errorf("healthcheck of a running server = %d:\n%s%s", code, stdout.String(), stderr.String())
	}
	// A wildcard listen address is asked on loopback.
	_, port, _ := strings.Cut(addr, ":")
	stdout.Reset()
	if code := run(t.Context(), []string{"healthcheck"}, append(env, "PORTVAKT_LISTEN=0.0.0.0:"+port), nil, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), "http://127.0.0.1:"+port+"/readyz") {
		t.Errorf("healthcheck with listen 0.0.0.0 = %d:\n%s%s", code, stdout.String(), stderr.String())
	}
}
