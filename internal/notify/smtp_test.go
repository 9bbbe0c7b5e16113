package notify_test

import (
	"strings"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/notify"
	"github.com/portvakt/portvakt/internal/notify/notifytest"
	"github.com/portvakt/portvakt/internal/store"
)

func newSMTP(tb testing.TB, cfg notify.SMTPConfig) *notify.SMTP {
	tb.Helper()
	s, err := notify.NewSMTP(cfg)
	if err != nil {
		tb.Fatalf("NewSMTP: %v", err)
	}
	return s
}

// sendOne enqueues the test mail to ada@example.com in lang and runs one
// worker pass through tr; it returns the outbox message.
func sendOne(t *testing.T, tr notify.Transport, lang string) (store.Message, int, int) {
	t.Helper()
	out, c := newOutbox(), newClock()
	m := newMailer(t, out, c)
	if err := m.Send(t.Context(), "ada@example.com", lang, notify.TemplateTest, nil); err != nil {
		t.Fatalf("Send: %v", err)
	}
	w := &notify.Worker{Outbox: out, Transport: tr, Now: c.Now}
	sent, failed, err := w.DeliverDue(t.Context())
	if err != nil {
		t.Fatalf("DeliverDue: %v", err)
	}
	return out.all(t)[0], sent, failed
}

func TestSMTP_Deliver(t *testing.T) {
	tests := []struct {
		name    string
		opts    []notifytest.Option
		wantTLS bool
	}{
		{"STARTTLS with AUTH PLAIN", []notifytest.Option{notifytest.WithSTARTTLS(), notifytest.WithAuth("portvakt", "s3cret")}, true},
		{"implicit TLS with AUTH PLAIN", []notifytest.Option{notifytest.WithImplicitTLS(), notifytest.WithAuth("portvakt", "s3cret")}, true},
		// Plain text is allowed to loopback only (see TestSMTPConfig_Validate).
		{"no TLS to loopback", []notifytest.Option{notifytest.WithAuth("portvakt", "s3cret")}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := notifytest.StartSMTP(t, tt.opts...)
			msg, sent, failed := sendOne(t, newSMTP(t, srv.SMTPConfig()), "sv")
			if sent != 1 || failed != 0 {
				t.Fatalf("DeliverDue = %d sent, %d failed; want 1, 0 (last error %q)", sent, failed, msg.LastError)
			}
			if msg.SentAt.IsZero() {
				t.Error("message not marked sent in the outbox")
			}

			got := srv.WaitFor(t, "ada@example.com", 5*time.Second)
			if got.TLS != tt.wantTLS || got.AuthUser != "portvakt" {
				t.Errorf("TLS, AuthUser = %v, %q; want %v, portvakt", got.TLS, got.AuthUser, tt.wantTLS)
			}
			if got.From != "no-reply@portvakt.test" || len(got.To) != 1 || got.To[0] != "ada@example.com" {
				t.Errorf("envelope = %q → %q, want no-reply@portvakt.test → [ada@example.com]", got.From, got.To)
			}
			if got.Subject != msg.Subject || got.Subject != "Testmeddelande från Portvakt" {
				t.Errorf("Subject = %q, want %q", got.Subject, msg.Subject)
			}
			// The text may pass through quoted-printable and back; it must
			// arrive as rendered.
			if got.Text != msg.Text {
				t.Errorf("text part differs from the outbox:\n got %q\nwant %q", got.Text, msg.Text)
			}
			if got.HTML != msg.HTML {
				t.Errorf("HTML part differs from the outbox:\n got %q\nwant %q", got.HTML, msg.HTML)
			}
			h := got.Header
			checks := []struct{ header, want string }{
				{"Message-Id", "<" + msg.ID + "@portvakt.test>"},
				{"Content-Language", "sv"},
				{"Auto-Submitted", "auto-generated"},
				{"X-Auto-Response-Suppress", "All"},
				{"To", "<ada@example.com>"},
				{"From", `"Portvakt" <no-reply@portvakt.test>`},
			}
			for _, c := range checks {
				if g := h.Get(c.header); g != c.want {
					t.Errorf("header %s = %q, want %q", c.header, g, c.want)
				}
			}
			if d, err := h.Date(); err != nil || !d.Equal(msg.CreatedAt) {
				t.Errorf("Date = %v (%v), want %v", d, err, msg.CreatedAt)
			}
			if ct := h.Get("Content-Type"); !strings.HasPrefix(ct, "multipart/alternative") {
				t.Errorf("Content-Type = %q, want multipart/alternative", ct)
			}
			for _, leak := range []string{"User-Agent", "X-Mailer"} {
				if h.Get(leak) != "" {
					t.Errorf("header %s = %q, want none", leak, h.Get(leak))
				}
			}
		})
	}
}

func TestSMTP_Deliver_fails(t *testing.T) {
	tests := []struct {
		name    string
		opts    []notifytest.Option
		cfg     func(*notify.SMTPConfig)
		wantErr string
	}{
		{
			name:    "wrong password",
			opts:    []notifytest.Option{notifytest.WithSTARTTLS(), notifytest.WithAuth("portvakt", "s3cret")},
			cfg:     func(c *notify.SMTPConfig) { c.Password = "wrong" },
			wantErr: "535",
		},
		{
			// No silent downgrade: starttls means STARTTLS or nothing.
			name:    "starttls required but not offered",
			cfg:     func(c *notify.SMTPConfig) { c.TLS = notify.TLSStartTLS },
			wantErr: "STARTTLS",
		},
		{
			name:    "certificate not trusted",
			opts:    []notifytest.Option{notifytest.WithSTARTTLS()},
			cfg:     func(c *notify.SMTPConfig) { c.RootCAs = nil },
			wantErr: "certificate",
		},
		{
			name:    "server refuses with 451",
			cfg:     func(*notify.SMTPConfig) {},
			wantErr: "451",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := notifytest.StartSMTP(t, tt.opts...)
			srv.SetFailing(tt.name == "server refuses with 451")
			cfg := srv.SMTPConfig()
			tt.cfg(&cfg)
			msg, sent, failed := sendOne(t, newSMTP(t, cfg), "en")
			if sent != 0 || failed != 1 {
				t.Fatalf("DeliverDue = %d sent, %d failed; want 0, 1", sent, failed)
			}
			if !strings.Contains(msg.LastError, tt.wantErr) {
				t.Errorf("LastError = %q, want it to mention %q", msg.LastError, tt.wantErr)
			}
			if cfg.Password != "" && strings.Contains(msg.LastError, cfg.Password) {
				t.Errorf("LastError %q contains the password", msg.LastError)
			}
			if msg.Attempts != 1 || !msg.SentAt.IsZero() {
				t.Errorf("Attempts, SentAt = %d, %v; want 1 and unsent", msg.Attempts, msg.SentAt)
			}
			if n := len(srv.Messages()); n != 0 {
				t.Errorf("server accepted %d messages, want 0", n)
			}
		})
	}
}

func TestSMTPConfig_Validate(t *testing.T) {
	ok := notify.SMTPConfig{Host: "smtp.example.com", From: "Portvakt <no-reply@id.example.com>"}
	tests := []struct {
		name string
		edit func(*notify.SMTPConfig)
		want []string // substrings of the error; nil means valid
	}{
		{"starttls by default", func(*notify.SMTPConfig) {}, nil},
		{"implicit with credentials", func(c *notify.SMTPConfig) { c.TLS, c.Username, c.Password = "implicit", "u", "p" }, nil},
		{"none to loopback", func(c *notify.SMTPConfig) { c.Host, c.TLS, c.Port = "127.0.0.1", "none", 1025 }, nil},
		{"opportunistic without password", func(c *notify.SMTPConfig) { c.TLS = "opportunistic" }, nil},
		{"IPv6 host", func(c *notify.SMTPConfig) { c.Host = "::1"; c.TLS = "none" }, nil},
		{"everything missing", func(c *notify.SMTPConfig) { *c = notify.SMTPConfig{} }, []string{"host is required", "from is required"}},
		{"host with port", func(c *notify.SMTPConfig) { c.Host = "smtp.example.com:587" }, []string{"must not include a port"}},
		{"port out of range", func(c *notify.SMTPConfig) { c.Port = 70000 }, []string{"port 70000"}},
		{"unknown TLS mode", func(c *notify.SMTPConfig) { c.TLS = "ssl" }, []string{`tls "ssl"`}},
		// Clear text over the network exposes every code and link.
		{"none to a remote host", func(c *notify.SMTPConfig) { c.TLS = "none" }, []string{"loopback"}},
		{"opportunistic with password", func(c *notify.SMTPConfig) { c.TLS, c.Username, c.Password = "opportunistic", "u", "p" }, []string{"password in clear text"}},
		{"username without password", func(c *notify.SMTPConfig) { c.Username = "u" }, []string{"set together"}},
		{"bad from", func(c *notify.SMTPConfig) { c.From = "no-reply" }, []string{"from"}},
		{"negative timeout", func(c *notify.SMTPConfig) { c.Timeout = -time.Second }, []string{"timeout"}},
		{"several problems at once", func(c *notify.SMTPConfig) { c.Port, c.TLS, c.From = -1, "tls", "" }, []string{"port -1", `tls "tls"`, "from is required"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := ok
			tt.edit(&cfg)
			err := cfg.Validate()
			if tt.want == nil {
				if err != nil {
					t.Errorf("Validate() = %v, want nil", err)
				}
				if _, err := notify.NewSMTP(cfg); err != nil {
					t.Errorf("NewSMTP = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want an error mentioning %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate() = %q, want it to mention %q", err, w)
				}
			}
			if _, nerr := notify.NewSMTP(cfg); nerr == nil {
				t.Error("NewSMTP accepted a config Validate rejects")
			}
		})
	}
}

func TestByChannel(t *testing.T) {
	var got []string
	rec := func(name string) notify.Transport {
		return transportFunc(func(m store.Message) error { got = append(got, name+":"+m.ID); return nil })
	}
	b := notify.ByChannel{store.ChannelEmail: rec("email"), store.ChannelSMS: rec("sms")}
	for _, m := range []store.Message{{ID: "1", Channel: "email"}, {ID: "2", Channel: "sms"}} {
		if err := b.Deliver(t.Context(), m); err != nil {
			t.Fatal(err)
		}
	}
	if strings.Join(got, " ") != "email:1 sms:2" {
		t.Errorf("delivered %v, want [email:1 sms:2]", got)
	}
	if err := b.Deliver(t.Context(), store.Message{ID: "3", Channel: "pigeon"}); err == nil {
		t.Error("Deliver on an unknown channel succeeded, want an error")
	}
}
