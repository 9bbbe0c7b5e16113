package notify_test

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/store"
)

// memOutbox is an in-memory store.Outbox for these tests, until sqlstore
// exists. It keeps the ClaimMessages lease contract: a claimed message's
// NextAttemptAt moves to now+lease under the lock, so no two claims
// return it.
type memOutbox struct {
	mu   sync.Mutex
	msgs map[string]store.Message

	// failEnqueue, when set, is returned by EnqueueMessage.
	failEnqueue error
}

var _ store.Outbox = (*memOutbox)(nil)

func newOutbox() *memOutbox { return &memOutbox{msgs: map[string]store.Message{}} }

func (o *memOutbox) EnqueueMessage(_ context.Context, m store.Message) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.failEnqueue != nil {
		return o.failEnqueue
	}
	if _, ok := o.msgs[m.ID]; ok {
		return store.ErrConflict
	}
	o.msgs[m.ID] = m
	return nil
}

func (o *memOutbox) ClaimMessages(_ context.Context, now time.Time, limit int, lease time.Duration) ([]store.Message, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var due []store.Message
	for _, m := range o.msgs {
		if m.SentAt.IsZero() && !m.NextAttemptAt.After(now) {
			due = append(due, m)
		}
	}
	slices.SortFunc(due, func(a, b store.Message) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	if len(due) > limit {
		due = due[:limit]
	}
	for i := range due {
		m := o.msgs[due[i].ID]
		m.NextAttemptAt = now.Add(lease)
		o.msgs[m.ID] = m
		due[i] = m
	}
	return due, nil
}

func (o *memOutbox) RenewMessageLeases(_ context.Context, ids []string, held, until time.Time) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for _, id := range ids {
		m, ok := o.msgs[id]
		if ok && m.SentAt.IsZero() && m.NextAttemptAt.Equal(held) {
			m.NextAttemptAt = until
			o.msgs[id] = m
			n++
		}
	}
	return n, nil
}

func (o *memOutbox) MarkMessageSent(_ context.Context, id string, at time.Time) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	m, ok := o.msgs[id]
	if !ok {
		return store.ErrNotFound
	}
	m.SentAt = at
	o.msgs[id] = m
	return nil
}

func (o *memOutbox) MarkMessageFailed(_ context.Context, id string, errText string, next time.Time) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	m, ok := o.msgs[id]
	if !ok {
		return store.ErrNotFound
	}
	m.Attempts++
	m.LastError = errText
	m.NextAttemptAt = next
	o.msgs[id] = m
	return nil
}

func (o *memOutbox) ListMessages(_ context.Context, f store.MessageFilter) ([]store.Message, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []store.Message
	for _, m := range o.msgs {
		if (f.To == "" || f.To == m.To) && (f.Channel == "" || f.Channel == m.Channel) {
			out = append(out, m)
		}
	}
	slices.SortFunc(out, func(a, b store.Message) int {
		return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), cmp.Compare(b.ID, a.ID))
	})
	limit := f.Limit
	if limit == 0 {
		limit = 100
	}
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// all returns every message, oldest first.
func (o *memOutbox) all(tb testing.TB) []store.Message {
	tb.Helper()
	msgs, err := o.ListMessages(context.Background(), store.MessageFilter{Limit: 1 << 20})
	if err != nil {
		tb.Fatal(err)
	}
	slices.Reverse(msgs)
	return msgs
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock {
	return &clock{t: time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
