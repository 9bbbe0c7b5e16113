package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/notify/notifytest"
	"github.com/portvakt/portvakt/internal/testwait"
)

func deadSMTPPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return strconv.Itoa(port)
}

func smtpEnv(dir, port string) []string {
	return []string{
		"PORTVAKT_DATABASE_DSN=" + dir + "/portvakt.db",
		"PORTVAKT_MAIL_TRANSPORT=smtp", "PORTVAKT_MAIL_SMTP_HOST=127.0.0.1", "PORTVAKT_MAIL_SMTP_PORT=" + port,
		"PORTVAKT_MAIL_SMTP_TLS=none",
	}
}

// TestConfigCheckOnline: `config check --online` connects to the SMTP
// server as serve would: a live one passes, a dead port is an error that
// names mail.smtp; without --online the dead port is not noticed.
func TestConfigCheckOnline(t *testing.T) {
	dir := t.TempDir()
	srv := notifytest.StartSMTP(t)
	var stdout, stderr bytes.Buffer
	if code := run(t.Context(), []string{"config", "check", "--online"}, smtpEnv(dir, strconv.Itoa(srv.Port())), nil, &stdout, &stderr); code != 0 {
		t.Fatalf("config check --online with a live server = %d:\n%s%s", code, stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), "the configured services answer") {
		t.Errorf("stdout = %q", stdout.String())
	}
	dead := smtpEnv(dir, deadSMTPPort(t))
	stdout.Reset()
	stderr.Reset()
	if code := run(t.Context(), []string{"config", "check", "--online"}, dead, nil, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), "mail.smtp") {
		t.Errorf("config check --online with a dead port = %d, stderr %q; want 1 naming mail.smtp", code, stderr.String())
	}
	stderr.Reset()
	if code := run(t.Context(), []string{"config", "check"}, dead, nil, io.Discard, &stderr); code != 0 {
		t.Errorf("config check without --online = %d: %s", code, stderr.String())
	}
}

// TestServeRefusesADeadMailServer: serve does not start when the SMTP
// server does not answer, and says how to start anyway; with
// --skip-online-checks it starts.
func TestServeRefusesADeadMailServer(t *testing.T) {
	dir := t.TempDir()
	env := smtpEnv(dir, deadSMTPPort(t))
	addr := freeAddr(t)
	var stderr bytes.Buffer
	if code := run(t.Context(), []string{"serve", "--listen", addr}, env, nil, io.Discard, &stderr); code != 1 ||
		!strings.Contains(stderr.String(), "mail.smtp") || !strings.Contains(stderr.String(), "--skip-online-checks") {
		t.Fatalf("serve with a dead SMTP port = %d, stderr %q; want 1, naming mail.smtp and the way around", code, stderr.String())
	}
	for _, way := range []struct {
		args []string
		env  []string
	}{
		{[]string{"serve", "--skip-online-checks", "--listen", addr}, env},
		{[]string{"serve", "--listen", addr}, append(env[:len(env):len(env)], "PORTVAKT_SERVER_ONLINE_CHECKS=false")},
	} {
		startsAndStops(t, way.args, way.env, addr)
	}
}

// startsAndStops runs serve until it answers /healthz, then stops it.
func startsAndStops(t *testing.T, args, env []string, addr string) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var stderr bytes.Buffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, args, env, nil, io.Discard, &stderr) }()
	deadline := time.Now().Add(testwait.D(20 * time.Second))
	for {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			break
		}
		select {
		case code := <-done:
			t.Fatalf("%v exited %d: %s", args, code, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("%v did not answer: %v\n%s", args, err, stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	<-done
}
