package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/app"
	"github.com/portvakt/portvakt/internal/browsertest"
	"github.com/portvakt/portvakt/internal/config"
	"github.com/portvakt/portvakt/internal/notify"
	"github.com/portvakt/portvakt/internal/notify/notifytest"
	"github.com/portvakt/portvakt/internal/testwait"
	"github.com/portvakt/portvakt/internal/web"
	"github.com/portvakt/portvakt/internal/web/openapi/openapitest"
)

func TestMain(m *testing.M) { browsertest.Main(m) }

// server is a running Portvakt.
type server struct {
	App *app.App
	URL string
	// SMTP is the mail server Portvakt delivers to: journeys read mail
	// from the real SMTP exchange, as a user's mail client would.
	SMTP *notifytest.Server
}

// startServer runs the application on a free loopback port with a fresh
// SQLite database and stops it when the test ends.
func startServer(t *testing.T, mod ...func(*config.Config)) *server {
	return runServer(t, app.Options{}, mod...)
}

// runServer runs the application with opts (a clock, say). Mail goes over
// SMTP with STARTTLS and AUTH to an in-process server (notifytest).
func runServer(t *testing.T, opts app.Options, mod ...func(*config.Config)) *server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return runServerOn(t, ln, opts, mod...)
}

// runServerOn is runServer on a listener the test opened first, so that
// another server (an upstream provider) can be told its address.
func runServerOn(t *testing.T, ln net.Listener, opts app.Options, mod ...func(*config.Config)) *server {
	t.Helper()
	cfg := config.Default()
	cfg.Listen = ln.Addr().String()
	cfg.PublicURL = "http://" + ln.Addr().String()
	cfg.Database.DSN = filepath.Join(t.TempDir(), "portvakt.db")
	for _, m := range mod {
		m(&cfg)
	}
	var logOut io.Writer = io.Discard
	if os.Getenv("PORTVAKT_TEST_LOG") != "" {
		logOut = os.Stderr
	}
	mailServer := notifytest.StartSMTP(t, notifytest.WithSTARTTLS(), notifytest.WithAuth("portvakt", "mail-secret"))
	smtpCfg := mailServer.SMTPConfig()
	smtpCfg.From = cfg.Mail.From
	transport, err := notify.NewSMTP(smtpCfg)
	if err != nil {
		t.Fatal(err)
	}
	opts.MailTransport = transport
	opts.Logger = slog.New(slog.NewJSONHandler(logOut, nil))
	a, err := app.New(t.Context(), cfg, opts)
	if err != nil {
		t.Fatalf("app.New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
		a.Close()
	})
	return &server{App: a, URL: cfg.PublicURL, SMTP: mailServer}
}

// mails returns what arrived for to, newest first: emails as the SMTP
// server received them, and SMS texts from the development mailbox (the
// dev SMS sender keeps them there).
func (s *server) mails(t *testing.T, to string) []web.DevMailJSON {
	t.Helper()
	var out []web.DevMailJSON
	received := s.SMTP.Messages()
	for i := len(received) - 1; i >= 0; i-- {
		m := received[i]
		if slices.Contains(m.To, to) {
			out = append(out, web.DevMailJSON{ID: fmt.Sprintf("smtp-%d", i), Channel: "email", To: to, Subject: m.Subject, Text: m.Text, HTML: m.HTML,
				Locale: m.Header.Get("Content-Language"), Sent: true})
		}
	}
	req, _ := http.NewRequest("GET", s.URL+"/dev/mail?channel=sms&to="+url.QueryEscape(to), nil)
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var sms []web.DevMailJSON
	if err := json.NewDecoder(resp.Body).Decode(&sms); err != nil {
		t.Fatalf("dev mailbox: %v", err)
	}
	return append(sms, out...)
}

// apiHTTP is an HTTP client for the JSON API whose every /api/ answer
// must match the OpenAPI document (internal/web/openapi): a mismatch
// fails t. Journeys that call the API use it instead of
// http.DefaultClient.
func apiHTTP(t *testing.T) *http.Client {
	return &http.Client{Transport: openapitest.Transport(t, nil)}
}

// waitMail waits (bounded) for a message to to arrive.
func (s *server) waitMail(t *testing.T, to string) web.DevMailJSON {
	t.Helper()
	var got []web.DevMailJSON
	testwait.For(t, 10*time.Second, "a mail to "+to, func() bool {
		got = s.mails(t, to)
		return len(got) > 0
	})
	return got[0]
}
