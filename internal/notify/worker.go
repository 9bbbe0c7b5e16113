package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/portvakt/portvakt/internal/store"
)

// Worker defaults, used when the matching field is zero.
const (
	DefaultBatch    = 10
	DefaultLease    = 5 * time.Minute
	DefaultInterval = 5 * time.Second
)

// Backoff bounds for DefaultBackoff.
const (
	backoffFirst = 10 * time.Second
	backoffMax   = 15 * time.Minute
)

// maxErrorText caps Message.LastError.
const maxErrorText = 500

// DefaultBackoff is the delay before the next attempt after attempts
// failed ones: 10s, 20s, 40s, … doubling up to 15 minutes, where it stays.
func DefaultBackoff(attempts int) time.Duration {
	d := backoffFirst
	for i := 1; i < attempts && d < backoffMax; i++ {
		d *= 2
	}
	return min(d, backoffMax)
}

// Worker delivers the outbox. Outbox and Transport are required; every
// other field has a default. Set the fields before the first call and do
// not change them afterwards.
//
// Several workers, in one process or on several nodes, may share an
// outbox: store.Outbox.ClaimMessages leases each message to one of them.
// A message is never dropped; it is retried with backoff until the
// transport accepts it. Delivery is at least once: a message is sent
// twice only if the transport accepted it but the worker could not record
// that (it died, or MarkMessageSent failed).
type Worker struct {
	Outbox    store.Outbox
	Transport Transport
	// Now is the clock for leases and backoff. Nil means time.Now.
	Now func() time.Time
	// Logger receives delivery failures at warn level (message ID, attempt
	// count, error with the recipient's address cut out), never
	// recipients, subjects or bodies. Nil discards.
	Logger *slog.Logger
	// Batch is how many messages one claim takes; 0 means DefaultBatch.
	Batch int
	// Lease is how long claimed messages are reserved for this worker; 0
	// means DefaultLease. It must exceed Batch deliveries at the
	// transport's timeout: a message is not started once its lease ran
	// out, since another worker may have claimed it.
	Lease time.Duration
	// Backoff gives the delay before the next attempt after attempts
	// failed ones (attempts ≥ 1). Nil means DefaultBackoff. Results under
	// a second are raised to a second.
	Backoff func(attempts int) time.Duration
	// Interval is how often Run looks for due messages when not kicked;
	// 0 means DefaultInterval. Kick covers this process's own mail; the
	// interval covers retries and mail enqueued on other nodes.
	Interval time.Duration
	// Attempted, if set, is called after every delivery attempt with its
	// result, e.g. to count sent and failed messages in metrics.
	Attempted func(m store.Message, err error)

	once sync.Once
	kick chan struct{}
}

func (w *Worker) kickChan() chan struct{} {
	w.once.Do(func() { w.kick = make(chan struct{}, 1) })
	return w.kick
}

// Kick wakes Run for an immediate pass. It never blocks, and kicks that
// arrive during a pass fold into one more pass. Pass it to
// Config.Enqueued.
func (w *Worker) Kick() {
	select {
	case w.kickChan() <- struct{}{}:
	default:
	}
}

// Run delivers due messages every Interval and whenever Kick is called,
// until ctx is done; then it returns nil. Errors of a pass are logged and
// the next pass tries again.
func (w *Worker) Run(ctx context.Context) error {
	kick := w.kickChan()
	interval := w.Interval
	if interval <= 0 {
		interval = DefaultInterval
	}
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		case <-kick:
		}
		if _, _, err := w.DeliverDue(ctx); err != nil && ctx.Err() == nil {
			w.logger().ErrorContext(ctx, "outbox pass failed", "err", err)
		}
		timer.Reset(interval)
	}
}

// DeliverDue makes one pass over the outbox: it claims due messages, a
// batch at a time, until none are left, and tries each once. It returns
// how many were sent and how many failed (and were rescheduled). err
// reports an outbox failure or ctx ending; delivery failures are not
// errors of the pass.
func (w *Worker) DeliverDue(ctx context.Context) (sent, failed int, err error) {
	if w.Outbox == nil || w.Transport == nil {
		return 0, 0, errors.New("notify: worker needs an Outbox and a Transport")
	}
	batch := w.Batch
	if batch <= 0 {
		batch = DefaultBatch
	}
	lease := w.Lease
	if lease <= 0 {
		lease = DefaultLease
	}
	var errs []error
	for {
		if err := ctx.Err(); err != nil {
			return sent, failed, err
		}
		claimed := w.now()
		msgs, err := w.Outbox.ClaimMessages(ctx, claimed, batch, lease)
		if err != nil {
			errs = append(errs, fmt.Errorf("notify: claim messages: %w", err))
			return sent, failed, errors.Join(errs...)
		}
		for _, m := range msgs {
			left := lease - w.now().Sub(claimed)
			if left <= 0 || ctx.Err() != nil {
				// The lease ran out: another worker may hold the rest
				// by now. They come back when it expires.
				return sent, failed, errors.Join(append(errs, ctx.Err())...)
			}
			ok, err := w.deliver(ctx, m, left)
			if err != nil {
				errs = append(errs, err)
			}
			if ok {
				sent++
			} else {
				failed++
			}
		}
		if len(msgs) < batch {
			return sent, failed, errors.Join(errs...)
		}
	}
}

// deliver tries m once and records the outcome. ok reports whether the
// transport accepted it; err an outbox failure while recording.
func (w *Worker) deliver(ctx context.Context, m store.Message, left time.Duration) (ok bool, err error) {
	dctx, cancel := context.WithTimeout(ctx, left)
	derr := w.Transport.Deliver(dctx, m)
	cancel()
	if w.Attempted != nil {
		w.Attempted(m, derr)
	}
	now := w.now()
	if derr == nil {
		if err := w.Outbox.MarkMessageSent(ctx, m.ID, now); err != nil {
			// Delivered but not recorded: it is sent again once the
			// lease expires. Say so loudly.
			w.logger().ErrorContext(ctx, "message delivered but not marked sent; it will be sent again",
				"message_id", m.ID, "err", err)
			return true, fmt.Errorf("notify: mark message %s sent: %w", m.ID, err)
		}
		w.logger().DebugContext(ctx, "message delivered", "message_id", m.ID, "attempts", m.Attempts+1)
		return true, nil
	}
	attempts := m.Attempts + 1
	next := now.Add(w.backoff(attempts))
	text := errorText(derr, m.To)
	w.logger().WarnContext(ctx, "message delivery failed; will retry",
		"message_id", m.ID, "channel", m.Channel, "attempts", attempts, "next_attempt_at", next, "err", text)
	if err := w.Outbox.MarkMessageFailed(ctx, m.ID, text, next); err != nil {
		return false, fmt.Errorf("notify: mark message %s failed: %w", m.ID, err)
	}
	return false, nil
}

func (w *Worker) backoff(attempts int) time.Duration {
	f := w.Backoff
	if f == nil {
		f = DefaultBackoff
	}
	return max(f(attempts), time.Second)
}

func (w *Worker) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}

func (w *Worker) logger() *slog.Logger {
	if w.Logger != nil {
		return w.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// errorText makes err fit Message.LastError and the log: the recipient
// (which servers like to quote) replaced by "recipient", valid UTF-8,
// one line, capped.
func errorText(err error, to string) string {
	s := err.Error()
	if to != "" {
		s = regexp.MustCompile(`(?i)`+regexp.QuoteMeta(to)).ReplaceAllLiteralString(s, "recipient")
	}
	s = strings.Join(strings.Fields(strings.ToValidUTF8(s, "?")), " ")
	if len(s) > maxErrorText {
		s = strings.ToValidUTF8(s[:maxErrorText], "") + "…"
	}
	return s
}
