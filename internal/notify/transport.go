package notify

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/portvakt/portvakt/internal/store"
)

// Transport delivers one message from the outbox. Deliver returns nil
// only when the message has been handed over for good (for SMTP: the
// server accepted the data); any error makes the Worker retry later.
// Implementations must be safe for concurrent use and must honour ctx.
type Transport interface {
	Deliver(ctx context.Context, m store.Message) error
}

var (
	_ Transport = (*SMTP)(nil)
	_ Transport = Dev{}
	_ Transport = ByChannel{}
)

// Dev is the transport for development: it delivers nowhere. Each message
// is marked sent and stays in the outbox, where the dev mailbox page reads
// it. It logs the message ID at info level, never the subject or body,
// which may hold a code or a link that signs someone in.
type Dev struct {
	// Logger may be nil.
	Logger *slog.Logger
}

// Deliver implements Transport and never fails.
func (d Dev) Deliver(ctx context.Context, m store.Message) error {
	if d.Logger != nil {
		d.Logger.InfoContext(ctx, "dev mail kept in the outbox", "message_id", m.ID, "channel", m.Channel)
	}
	return nil
}

// ByChannel routes each message to the transport for its Channel
// (store.ChannelEmail, store.ChannelSMS), so one Worker can serve the
// whole outbox:
//
//	notify.ByChannel{store.ChannelEmail: smtp, store.ChannelSMS: gateway}
//
// A message on a channel without a transport fails, and is retried, so it
// is delivered once that channel is configured.
type ByChannel map[string]Transport

// Deliver implements Transport.
func (b ByChannel) Deliver(ctx context.Context, m store.Message) error {
	t, ok := b[m.Channel]
	if !ok || t == nil {
		return fmt.Errorf("notify: no transport for channel %q", m.Channel)
	}
	return t.Deliver(ctx, m)
}
