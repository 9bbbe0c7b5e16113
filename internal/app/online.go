package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/portvakt/portvakt/internal/config"
)

// onlineChecker is a mail transport or SMS sender that can tell whether
// its service answers without sending anything (notify.SMTP,
// sms.HTTPGateway, sms.Twilio).
type onlineChecker interface {
	Check(ctx context.Context) error
}

// CheckOnline checks that the configured SMTP server and SMS provider
// answer as configured, sending nothing: for mail.transport smtp a
// connection with EHLO, STARTTLS and AUTH as configured; for sms.sender
// http a HEAD request to the gateway; for twilio a read of the account.
// The development transports have nothing to check. The error joins one
// line per service that does not answer, each naming its keys.
func CheckOnline(ctx context.Context, cfg config.Config) error {
	var errs []error
	if cfg.Mail.Transport == "smtp" {
		t, err := mailTransport(cfg)
		if err == nil {
			if c, ok := t.(onlineChecker); ok {
				err = c.Check(ctx)
			}
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("mail.smtp (host %s, port %d, tls %s): %w", cfg.Mail.SMTP.Host, cfg.Mail.SMTP.Port, cfg.Mail.SMTP.TLS, err))
		}
	}
	switch cfg.SMS.Sender {
	case "http", "twilio":
		s, err := smsSender(cfg, nil, nil)
		if err == nil {
			if c, ok := s.(onlineChecker); ok {
				err = c.Check(ctx)
			}
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("sms.%s: %w", cfg.SMS.Sender, err))
		}
	}
	return errors.Join(errs...)
}
