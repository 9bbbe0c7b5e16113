package sms

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/portvakt/portvakt/internal/secret"
	"github.com/portvakt/portvakt/internal/store"
)

// Sender hands one text message to a provider. Send returns nil once the
// provider has accepted the message; that says nothing about delivery to
// the phone. to must be an E.164 number (as ParsePhone returns) and text
// at most MaxTextLength characters; anything else is an error before the
// provider is called.
//
// Errors never contain the number or the text: both may be logged, and a
// text holds a sign-in code. Implementations are safe for concurrent use
// and honour ctx.
type Sender interface {
	Send(ctx context.Context, to, text string) error
}

var (
	_ Sender = Outbox{}
	_ Sender = (*HTTPGateway)(nil)
	_ Sender = (*Twilio)(nil)
)

// MaxTextLength is the most characters Send accepts: Twilio's limit,
// about ten concatenated segments. Portvakt's messages are one segment;
// the cap keeps a template mistake from becoming a bill.
const MaxTextLength = 1600

// DefaultTimeout bounds one request to a provider, including reading the
// answer, when the sender's Timeout is zero.
const DefaultTimeout = 10 * time.Second

// checkMessage is what every Send checks before doing anything.
func checkMessage(to, text string) error {
	if _, ok := e164Digits(to); !ok {
		return errors.New("sms: recipient is not an E.164 number")
	}
	if text == "" {
		return errors.New("sms: empty text")
	}
	if n := utf8.RuneCountInString(text); n > MaxTextLength {
		return fmt.Errorf("sms: text has %d characters, more than %d", n, MaxTextLength)
	}
	return nil
}

// Outbox is the development sender: it delivers nowhere. Each message is
// written to the outbox on channel store.ChannelSMS, already marked sent,
// so the development mailbox lists it next to the mail and no worker
// tries to deliver it.
//
// Outbox is required; Now may be nil (time.Now).
type Outbox struct {
	Outbox store.Outbox
	Now    func() time.Time
}

// Send implements Sender. It returns the outbox's error, wrapped.
func (o Outbox) Send(ctx context.Context, to, text string) error {
	if err := checkMessage(to, text); err != nil {
		return err
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	t := now()
	m := store.Message{
		ID:            secret.ID(),
		Channel:       store.ChannelSMS,
		To:            to,
		Text:          text,
		CreatedAt:     t,
		NextAttemptAt: t,
		SentAt:        t,
	}
	if err := o.Outbox.EnqueueMessage(ctx, m); err != nil {
		return fmt.Errorf("sms: keep message %s in the outbox: %w", m.ID, err)
	}
	return nil
}

// Transport delivers SMS messages from the outbox through a Sender. It
// has the method set of notify.Transport, so a Worker can send both mail
// and SMS:
//
//	notify.ByChannel{store.ChannelEmail: smtp, store.ChannelSMS: sms.Transport{Sender: twilio}}
//
// Do not wrap the Outbox sender in it: that would write each message
// back to the outbox.
type Transport struct {
	Sender Sender
}

// Deliver sends m.Text to m.To. A message on another channel is an error.
func (t Transport) Deliver(ctx context.Context, m store.Message) error {
	if m.Channel != store.ChannelSMS {
		return fmt.Errorf("sms: message %s is on channel %q, not %q", m.ID, m.Channel, store.ChannelSMS)
	}
	return t.Sender.Send(ctx, m.To, m.Text)
}

// ProviderError is returned when a provider answered but did not accept
// the message. Message is the provider's explanation (Twilio's JSON
// "message") with anything that looks like a phone number replaced by
// "[number]"; the HTTP gateway's response body is never read into it.
type ProviderError struct {
	// Provider is "http gateway" or "twilio".
	Provider   string
	StatusCode int
	// Code is the provider's error code (e.g. Twilio's 21211), or 0.
	Code    int
	Message string
}

func (e *ProviderError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "sms %s: status %d %s", e.Provider, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Code != 0 {
		fmt.Fprintf(&b, ": code %d", e.Code)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	return b.String()
}

// Temporary reports whether trying again later may succeed: the provider
// was overloaded (429) or failed (5xx). Other statuses mean the request
// or the account is wrong and retrying will not help.
func (e *ProviderError) Temporary() bool {
	return e.StatusCode == http.StatusTooManyRequests || e.StatusCode >= 500
}

// numberLike matches a run of digits, possibly with "+", spaces, dashes,
// dots and parentheses in it.
var numberLike = regexp.MustCompile(`\+?\(?\d[\d\s().-]*\d`)

// maxProviderMessage bounds how much of a provider's explanation is kept.
const maxProviderMessage = 300

// redact makes a provider's message safe to log: runs of six or more
// digits (phone numbers, however formatted) become "[number]", and the
// message is cut to a bounded length.
func redact(msg string) string {
	msg = numberLike.ReplaceAllStringFunc(msg, func(s string) string {
		n := 0
		for _, r := range s {
			if r >= '0' && r <= '9' {
				n++
			}
		}
		if n < 6 {
			return s
		}
		return "[number]"
	})
	msg = strings.Join(strings.Fields(msg), " ")
	if len(msg) > maxProviderMessage {
		cut := maxProviderMessage
		for cut > 0 && !utf8.RuneStart(msg[cut]) {
			cut--
		}
		msg = msg[:cut] + "…"
	}
	return msg
}

// FieldError is one mistake in a sender's configuration. Path is the
// field's key relative to the sender's section ("url",
// "header.Authorization"); prefix it with the section when reporting.
type FieldError struct {
	Path    string
	Message string
}

func (e FieldError) String() string { return e.Path + ": " + e.Message }

// ConfigError is every mistake in a sender's configuration, returned by
// NewHTTPGateway and NewTwilio. Messages never repeat a secret.
type ConfigError struct {
	// Sender is "http gateway" or "twilio".
	Sender string
	Fields []FieldError
}

func (e *ConfigError) Error() string {
	msgs := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		msgs[i] = f.String()
	}
	return "sms: invalid " + e.Sender + " config: " + strings.Join(msgs, "; ")
}

// configErrors collects FieldErrors.
type configErrors struct {
	sender string
	fields []FieldError
}

func (c *configErrors) add(path, format string, args ...any) {
	c.fields = append(c.fields, FieldError{Path: path, Message: fmt.Sprintf(format, args...)})
}

func (c *configErrors) err() error {
	if len(c.fields) == 0 {
		return nil
	}
	return &ConfigError{Sender: c.sender, Fields: c.fields}
}
