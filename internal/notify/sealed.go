package notify

import (
	"context"
	"encoding/base64"
	"strings"
	"time"

	"github.com/portvakt/portvakt/internal/secret"
	"github.com/portvakt/portvakt/internal/store"
)

// sealedPrefix marks a sealed field in the outbox: the prefix, then the
// sealed bytes in unpadded standard base64. A field without it is read
// as it is (messages queued before sealing).
const sealedPrefix = "sealed1:"

// unreadable stands in for a field that no longer opens (the key changed).
const unreadable = "[sealed with another key]"

// SealedOutbox keeps no live secret at rest in the outbox (issue 10): the
// subject and bodies of a message, which carry codes and links that sign
// someone in, are sealed with Sealer on the way in, bound to the message's
// ID and field, and opened only for the worker (ClaimMessages) and the dev
// mailbox (ListMessages). Once a message is delivered, Forget blanks them,
// so the outbox keeps only what it needs to retry and to count.
type SealedOutbox struct {
	store.Outbox
	Sealer *secret.Sealer
	// Forget blanks the subject and bodies of a delivered message. Nil
	// keeps them (sealed): the dev transport's mail is read in the dev
	// mailbox after delivery.
	Forget func(ctx context.Context, id string) error
}

func (o SealedOutbox) seal(id, field, v string) string {
	if v == "" {
		return ""
	}
	return sealedPrefix + base64.RawStdEncoding.EncodeToString(o.Sealer.Seal([]byte(v), []byte("outbox:"+id+":"+field)))
}

func (o SealedOutbox) open(id, field, v string) string {
	rest, ok := strings.CutPrefix(v, sealedPrefix)
	if !ok {
		return v
	}
	b, err := base64.RawStdEncoding.DecodeString(rest)
	if err != nil {
		return unreadable
	}
	p, err := o.Sealer.Open(b, []byte("outbox:"+id+":"+field))
	if err != nil {
		return unreadable
	}
	return string(p)
}

func (o SealedOutbox) openAll(msgs []store.Message) []store.Message {
	for i := range msgs {
		m := &msgs[i]
		m.Subject = o.open(m.ID, "subject", m.Subject)
		m.Text = o.open(m.ID, "text", m.Text)
		m.HTML = o.open(m.ID, "html", m.HTML)
	}
	return msgs
}

// EnqueueMessage seals m's subject and bodies and queues it.
func (o SealedOutbox) EnqueueMessage(ctx context.Context, m store.Message) error {
	return o.Outbox.EnqueueMessage(ctx, o.Seal(m))
}

// Seal returns m with its subject and bodies sealed as EnqueueMessage
// stores them, for a caller that queues it in a transaction of its own.
func (o SealedOutbox) Seal(m store.Message) store.Message {
	m.Subject = o.seal(m.ID, "subject", m.Subject)
	m.Text = o.seal(m.ID, "text", m.Text)
	m.HTML = o.seal(m.ID, "html", m.HTML)
	return m
}

// ClaimMessages claims due messages and opens them for delivery.
func (o SealedOutbox) ClaimMessages(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]store.Message, error) {
	msgs, err := o.Outbox.ClaimMessages(ctx, now, limit, lease)
	return o.openAll(msgs), err
}

// ListMessages lists messages, opened.
func (o SealedOutbox) ListMessages(ctx context.Context, f store.MessageFilter) ([]store.Message, error) {
	msgs, err := o.Outbox.ListMessages(ctx, f)
	return o.openAll(msgs), err
}

// MarkMessageSent records delivery and then, with Forget set, blanks the
// message's subject and bodies. A failure to blank is not a failure to
// record (the message must not be sent again); housekeeping deletes
// delivered mail a day later in any case.
func (o SealedOutbox) MarkMessageSent(ctx context.Context, id string, at time.Time) error {
	if err := o.Outbox.MarkMessageSent(ctx, id, at); err != nil {
		return err
	}
	if o.Forget != nil {
		_ = o.Forget(ctx, id)
	}
	return nil
}
