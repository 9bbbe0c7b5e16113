package notifytest_test

import (
	"crypto/tls"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/portvakt/portvakt/internal/notify/notifytest"
)

// A nested multipart message with a base64 HTML part and a
// quoted-printable text part, as some mailers send.
const nested = "From: a@example.com\r\n" +
	"To: b@example.com\r\n" +
	"Subject: =?UTF-8?q?Gr=C3=BC=C3=9Fe?=\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: multipart/mixed; boundary=outer\r\n" +
	"\r\n" +
	"--outer\r\n" +
	"Content-Type: multipart/alternative; boundary=inner\r\n" +
	"\r\n" +
	"--inner\r\n" +
	"Content-Type: text/plain; charset=utf-8\r\n" +
	"Content-Transfer-Encoding: quoted-printable\r\n" +
	"\r\n" +
	"Bl=C3=A5b=C3=A6r, a long line that is soft=\r\n" +
	" wrapped.\r\n" +
	"--inner\r\n" +
	"Content-Type: text/html; charset=utf-8\r\n" +
	"Content-Transfer-Encoding: base64\r\n" +
	"\r\n" +
	"PHA+QmzDpWLDpnI8L3A+\r\n" +
	"--inner--\r\n" +
	"--outer--\r\n"

// sendPlain sends over plain SMTP (smtp.SendMail insists on STARTTLS).
func sendPlain(addr, from string, to []string, body *strings.Reader) error {
	c, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	return c.SendMail(from, to, body)
}

func TestServer_parsesMIME(t *testing.T) {
	srv := notifytest.StartSMTP(t)
	if err := sendPlain(srv.Addr(), "a@example.com", []string{"b@example.com"}, strings.NewReader(nested)); err != nil {
		t.Fatalf("SendMail: %v", err)
	}
	got := srv.WaitFor(t, "B@example.com", 5*time.Second)
	if got.Subject != "Grüße" {
		t.Errorf("Subject = %q, want Grüße", got.Subject)
	}
	if got.Text != "Blåbær, a long line that is soft wrapped." {
		t.Errorf("Text = %q", got.Text)
	}
	if got.HTML != "<p>Blåbær</p>" {
		t.Errorf("HTML = %q", got.HTML)
	}
	if got.From != "a@example.com" || got.TLS || got.AuthUser != "" {
		t.Errorf("From, TLS, AuthUser = %q, %v, %q; want a@example.com, false, none", got.From, got.TLS, got.AuthUser)
	}
}

func TestServer_WaitForReadsOneMessageAtATime(t *testing.T) {
	srv := notifytest.StartSMTP(t)
	for _, subject := range []string{"one", "two"} {
		msg := "Subject: " + subject + "\r\n\r\nbody\r\n"
		if err := sendPlain(srv.Addr(), "a@example.com", []string{"b@example.com"}, strings.NewReader(msg)); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []string{"one", "two"} {
		if got := srv.WaitFor(t, "b@example.com", time.Second); got.Subject != want {
			t.Errorf("WaitFor Subject = %q, want %q", got.Subject, want)
		}
	}
	if n := len(srv.Messages()); n != 2 {
		t.Errorf("Messages() has %d, want 2", n)
	}
}

func TestServer_STARTTLSAndAuth(t *testing.T) {
	srv := notifytest.StartSMTP(t, notifytest.WithSTARTTLS(), notifytest.WithAuth("app", "secret"))
	send := func(pass string) error {
		c, err := smtp.DialStartTLS(srv.Addr(), &tls.Config{RootCAs: srv.RootCAs(), ServerName: srv.Host()})
		if err != nil {
			return err
		}
		defer c.Close()
		if err := c.Auth(sasl.NewPlainClient("", "app", pass)); err != nil {
			return err
		}
		return c.SendMail("a@example.com", []string{"b@example.com"}, strings.NewReader("Subject: hi\r\n\r\nhi\r\n"))
	}
	if err := send("wrong"); err == nil || !strings.Contains(err.Error(), "535") {
		t.Errorf("send with a wrong password = %v, want 535", err)
	}
	if err := send("secret"); err != nil {
		t.Fatalf("send with the right password = %v", err)
	}
	got := srv.WaitFor(t, "b@example.com", time.Second)
	if !got.TLS || got.AuthUser != "app" {
		t.Errorf("TLS, AuthUser = %v, %q; want true, app", got.TLS, got.AuthUser)
	}

	// Without authenticating, MAIL FROM is refused.
	c, err := smtp.DialStartTLS(srv.Addr(), &tls.Config{RootCAs: srv.RootCAs(), ServerName: srv.Host()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Mail("a@example.com", nil); err == nil {
		t.Error("MAIL FROM without AUTH succeeded")
	}
}

func TestServer_SetFailing(t *testing.T) {
	srv := notifytest.StartSMTP(t)
	srv.SetFailing(true)
	err := sendPlain(srv.Addr(), "a@example.com", []string{"b@example.com"}, strings.NewReader("Subject: x\r\n\r\nx\r\n"))
	if err == nil || !strings.Contains(err.Error(), "451") {
		t.Errorf("SendMail while failing = %v, want 451", err)
	}
	srv.SetFailing(false)
	if err := sendPlain(srv.Addr(), "a@example.com", []string{"b@example.com"}, strings.NewReader("Subject: x\r\n\r\nx\r\n")); err != nil {
		t.Errorf("SendMail after recovery = %v", err)
	}
	if got, want := srv.Attempts(), 2; got != want {
		t.Errorf("Attempts() = %d, want %d", got, want)
	}
	if n := len(srv.Messages()); n != 1 {
		t.Errorf("Messages() has %d, want only the accepted one", n)
	}
}
