package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/portvakt/portvakt/internal/store"
)

// Worker defaults, used when the matching field is zero.
//
// The lease is short so that the mail of a node that dies is handed over
// quickly: its claimed messages become due again when the lease ends, and
// another node's next pass (within DefaultInterval) sends them, so they go
// out within DefaultLease + DefaultInterval (25 s; emailed codes last
// minutes). A live worker renews its lease while it sends.
const (
	DefaultBatch    = 10
	DefaultLease    = 20 * time.Second
	DefaultInterval = 5 * time.Second
	// DefaultDeliverTimeout bounds one delivery attempt, whatever the
	// transport's own timeouts.
	DefaultDeliverTimeout = 2 * time.Minute
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
	// Lease is how long claimed messages are reserved for this worker
	// without a renewal; 0 means DefaultLease. The worker renews the lease
	// of its batch every RenewEvery while it sends, and before each
	// message; once a renewal finds that another worker took messages
	// over (the lease ran out, say while the database was away), it sends
	// no more of the batch.
	Lease time.Duration
	// RenewEvery is how often the lease is renewed during a send; 0 means
	// a third of Lease.
	RenewEvery time.Duration
	// DeliverTimeout bounds one delivery attempt; 0 means
	// DefaultDeliverTimeout.
	DeliverTimeout time.Duration
	// Backoff gives the delay before the next attempt after attempts
	// failed ones (attempts ≥ 1). Nil means DefaultBackoff. Results under
	// a second are raised to a second.
	Backoff func(attempts int) time.Duration
	// Interval is how often Run looks for due messages when not kicked;
	// 0 means DefaultInterval. Kick covers this process's own mail; the
	// interval covers retries and mail enqueued on other nodes.
	Interval time.Duration
	// KickOnly makes Run pass over the outbox only at its start and on
	// Kick, leaving the periodic pass (retries, other nodes' mail) to the
	// caller's scheduler, which runs DeliverDue on one node at a time.
	KickOnly bool
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
		if !w.KickOnly {
			timer.Reset(interval)
		}
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
		msgs, err := w.Outbox.ClaimMessages(ctx, w.now(), batch, lease)
		if err != nil {
			errs = append(errs, fmt.Errorf("notify: claim messages: %w", err))
			return sent, failed, errors.Join(errs...)
		}
		s, f, err := w.deliverBatch(ctx, msgs, lease)
		sent, failed = sent+s, failed+f
		if err != nil {
			errs = append(errs, err)
		}
		if len(msgs) < batch || ctx.Err() != nil {
			return sent, failed, errors.Join(errs...)
		}
	}
}

// deliverBatch tries each claimed message once while keeping their lease
// alive. It stops early when the lease is lost or ctx ends; the messages
// not tried come back when their lease ends.
func (w *Worker) deliverBatch(ctx context.Context, msgs []store.Message, lease time.Duration) (sent, failed int, err error) {
	if len(msgs) == 0 {
		return 0, 0, nil
	}
	l := &heldLease{w: w, d: lease, held: msgs[0].NextAttemptAt}
	for _, m := range msgs {
		l.ids = append(l.ids, m.ID)
	}
	every := w.RenewEvery
	if every <= 0 {
		every = lease / 3
	}
	rctx, stop := context.WithCancel(ctx)
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-rctx.Done():
				return
			case <-t.C:
				l.renew(rctx)
			}
		}
	}()
	defer func() { stop(); <-renewed }()

	var errs []error
	for _, m := range msgs {
		if ctx.Err() != nil {
			return sent, failed, errors.Join(append(errs, ctx.Err())...)
		}
		// Renewing first also tells whether another worker took the
		// batch over while this one was busy with the previous message.
		if !l.renew(ctx) {
			return sent, failed, errors.Join(errs...)
		}
		ok, err := w.deliver(ctx, m, l)
		if err != nil {
			errs = append(errs, err)
		}
		if ok {
			sent++
		} else {
			failed++
		}
	}
	return sent, failed, errors.Join(errs...)
}

// heldLease is the lease on a claimed batch: the messages not yet marked
// and the lease end the store holds for them.
type heldLease struct {
	w *Worker
	d time.Duration

	mu   sync.Mutex // held across renewals and marks, so they do not cross
	held time.Time
	ids  []string
	lost bool
}

// renew moves the lease of the unmarked messages to now+d and reports
// whether the batch is still this worker's. A renewal that fails on a
// database error keeps the batch as long as its lease has not run out.
func (l *heldLease) renew(ctx context.Context) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lost {
		return false
	}
	if len(l.ids) == 0 {
		return true
	}
	now := l.w.now()
	until := now.Add(l.d)
	n, err := l.w.Outbox.RenewMessageLeases(ctx, l.ids, l.held, until)
	switch {
	case err != nil:
		if !now.Before(l.held) {
			l.lost = true
		}
		if ctx.Err() == nil {
			l.w.logger().WarnContext(ctx, "outbox lease not renewed", "messages", len(l.ids), "lost", l.lost, "err", err)
		}
	case n < len(l.ids):
		// Another worker claimed some after the lease ran out; the
		// rest come back when theirs ends.
		l.lost = true
		l.w.logger().WarnContext(ctx, "outbox lease lost to another worker", "messages", len(l.ids), "still_held", n)
	default:
		l.held = until
	}
	return !l.lost
}

// mark runs fn, which records the outcome of message id, and drops id
// from the lease, without a renewal in between.
func (l *heldLease) mark(id string, fn func() error) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ids = slices.DeleteFunc(l.ids, func(x string) bool { return x == id })
	return fn()
}

// deliver tries m once and records the outcome. ok reports whether the
// transport accepted it; err an outbox failure while recording.
func (w *Worker) deliver(ctx context.Context, m store.Message, l *heldLease) (ok bool, err error) {
	timeout := w.DeliverTimeout
	if timeout <= 0 {
		timeout = DefaultDeliverTimeout
	}
	dctx, cancel := context.WithTimeout(ctx, timeout)
	derr := w.Transport.Deliver(dctx, m)
	cancel()
	if w.Attempted != nil {
		w.Attempted(m, derr)
	}
	now := w.now()
	if derr == nil {
		if err := l.mark(m.ID, func() error { return w.Outbox.MarkMessageSent(ctx, m.ID, now) }); err != nil {
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
	if err := l.mark(m.ID, func() error { return w.Outbox.MarkMessageFailed(ctx, m.ID, text, next) }); err != nil {
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
