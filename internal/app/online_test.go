package app_test

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/portvakt/portvakt/internal/app"
	"github.com/portvakt/portvakt/internal/config"
	"github.com/portvakt/portvakt/internal/notify/notifytest"
)

// deadPort returns a loopback port nothing listens on.
func deadPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}

func smtpConfig(host string, port int, tls, user, pass string) config.Config {
	c := config.Default()
	c.Mail.Transport = "smtp"
	c.Mail.From = "Portvakt <no-reply@example.org>"
	c.Mail.SMTP = config.SMTP{Host: host, Port: port, TLS: tls, Username: user, Password: pass}
	return c
}

// TestCheckOnlineSMTP: against a real SMTP server on loopback the check
// connects, says EHLO and authenticates, and sends no mail; a dead port, a
// wrong password and a certificate nobody trusts each fail with an error
// naming mail.smtp.
func TestCheckOnlineSMTP(t *testing.T) {
	srv := notifytest.StartSMTP(t, notifytest.WithAuth("portvakt", "right password"))
	good := smtpConfig(srv.Host(), srv.Port(), "none", "portvakt", "right password")
	if _, err := good.Validate(); err != nil {
		t.Fatalf("the test's configuration: %v", err)
	}
	if err := app.CheckOnline(t.Context(), good); err != nil {
		t.Fatalf("CheckOnline against a live server: %v", err)
	}
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("the check sent %d messages", n)
	}

	for name, cfg := range map[string]config.Config{
		"dead port":      smtpConfig("127.0.0.1", deadPort(t), "none", "", ""),
		"wrong password": smtpConfig(srv.Host(), srv.Port(), "none", "portvakt", "wrong password"),
		"untrusted certificate": func() config.Config {
			tlsSrv := notifytest.StartSMTP(t, notifytest.WithSTARTTLS())
			return smtpConfig(tlsSrv.Host(), tlsSrv.Port(), "starttls", "", "")
		}(),
	} {
		t.Run(name, func(t *testing.T) {
			err := app.CheckOnline(t.Context(), cfg)
			if err == nil || !strings.Contains(err.Error(), "mail.smtp") {
				t.Errorf("CheckOnline = %v, want an error naming mail.smtp", err)
			}
		})
	}
}

// TestCheckOnlineSMSGateway: an HTTP gateway that answers passes without
// being sent a message; one that is down (a dead port), failing (5xx) or
// refusing the credentials fails with an error naming sms.http.
func TestCheckOnlineSMSGateway(t *testing.T) {
	var status atomic.Int32
	var posts atomic.Int32
	var auth atomic.Value
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodHead {
			posts.Add(1)
		}
		auth.Store(r.Header.Get("Authorization"))
		w.WriteHeader(int(status.Load()))
	}))
	defer gw.Close()
	cfg := func(url string) config.Config {
		c := config.Default()
		c.SMS.Sender = "http"
		c.SMS.HTTP = config.SMSHTTP{URL: url, Method: "POST", BodyTemplate: `{"to": {{json .To}}, "text": {{json .Text}}}`,
			ContentType: "application/json", AuthHeader: "Bearer gateway-key"}
		return c
	}
	for _, tt := range []struct {
		name   string
		status int
		url    string
		ok     bool
	}{
		{"answers 200", 200, gw.URL, true},
		{"answers 405 to HEAD", 405, gw.URL, true},
		{"server error", 503, gw.URL, false},
		{"credentials refused", 401, gw.URL, false},
		{"dead port", 200, "http://127.0.0.1:" + strconv.Itoa(deadPort(t)) + "/send", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status.Store(int32(tt.status))
			c := cfg(tt.url)
			if _, err := c.Validate(); err != nil {
				t.Fatalf("the test's configuration: %v", err)
			}
			err := app.CheckOnline(t.Context(), c)
			if tt.ok && err != nil {
				t.Errorf("CheckOnline = %v, want nil", err)
			}
			if !tt.ok && (err == nil || !strings.Contains(err.Error(), "sms.http")) {
				t.Errorf("CheckOnline = %v, want an error naming sms.http", err)
			}
		})
	}
	if posts.Load() != 0 {
		t.Errorf("the check sent %d messages", posts.Load())
	}
	if got, _ := auth.Load().(string); got != "Bearer gateway-key" {
		t.Errorf("the check sent Authorization %q, want the configured one", got)
	}
}
