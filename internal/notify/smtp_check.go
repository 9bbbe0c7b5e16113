package notify

import (
	"context"
	"fmt"

	gomail "github.com/wneessen/go-mail"
)

// Check connects to the server as a delivery would, without sending
// anything: the connection (TLS at once for implicit), the greeting,
// EHLO, STARTTLS when configured and AUTH when a username is set, then
// QUIT. serve and `portvakt config check --online` run it at start, so
// that a wrong host, port, certificate or password stops the server
// with a clear message instead of failing the first mail in the
// background. Connecting is bounded by ctx and the DialTimeout.
func (s *SMTP) Check(ctx context.Context) error {
	client, err := gomail.NewClient(s.cfg.Host, s.opts...)
	if err != nil {
		return fmt.Errorf("notify: smtp client: %w", err)
	}
	dctx, cancel := context.WithTimeout(ctx, s.dial)
	defer cancel()
	if err := client.DialWithContext(dctx); err != nil {
		return fmt.Errorf("smtp %s: %w", s.addr, err)
	}
	if err := client.Close(); err != nil {
		return fmt.Errorf("smtp %s: quit: %w", s.addr, err)
	}
	return nil
}
