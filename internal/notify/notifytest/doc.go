// Package notifytest runs an SMTP server inside a test process, so tests
// can read exactly the mail a user would receive.
//
// StartSMTP listens on a free loopback port and stops when the test ends.
// Options add STARTTLS or implicit TLS (with a certificate made at start
// and trusted through RootCAs), require AUTH PLAIN, and SetFailing makes
// the server refuse mail with a temporary error to exercise retries:
//
//	srv := notifytest.StartSMTP(t, notifytest.WithSTARTTLS(), notifytest.WithAuth("app", "secret"))
//	smtp, err := notify.NewSMTP(srv.SMTPConfig())
//	…
//	got := srv.WaitFor(t, "ada@example.com", 5*time.Second)
//	if !strings.Contains(got.Text, "123456") { … }
//
// It is for tests and e2e only; never import it from production code.
package notifytest
