package notify_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/notify"
	"github.com/portvakt/portvakt/internal/notify/notifytest"
	"github.com/portvakt/portvakt/internal/store"
	"github.com/portvakt/portvakt/internal/testwait"
)

// transportFunc adapts a function to notify.Transport.
type transportFunc func(m store.Message) error

func (f transportFunc) Deliver(_ context.Context, m store.Message) error { return f(m) }

func TestDefaultBackoff(t *testing.T) {
	want := []time.Duration{10 * time.Second, 20 * time.Second, 40 * time.Second, 80 * time.Second,
		160 * time.Second, 320 * time.Second, 640 * time.Second, 15 * time.Minute, 15 * time.Minute}
	for i, w := range want {
		if got := notify.DefaultBackoff(i + 1); got != w {
			t.Errorf("DefaultBackoff(%d) = %v, want %v", i+1, got, w)
		}
	}
	if got := notify.DefaultBackoff(1000); got != 15*time.Minute {
		t.Errorf("DefaultBackoff(1000) = %v, want 15m", got)
	}
}

// While the server refuses mail, every message stays queued with its
// attempts counted and its next attempt backed off; once the server
// recovers, one pass delivers each exactly once.
func TestWorker_retriesUntilServerRecovers(t *testing.T) {
	srv := notifytest.StartSMTP(t, notifytest.WithSTARTTLS(), notifytest.WithAuth("portvakt", "s3cret"))
	out, c := newOutbox(), newClock()
	m := newMailer(t, out, c)
	var logs bytes.Buffer
	w := &notify.Worker{
		Outbox:    out,
		Transport: newSMTP(t, srv.SMTPConfig()),
		Now:       c.Now,
		Logger:    slog.New(slog.NewTextHandler(&logs, nil)),
		Batch:     2, // smaller than the queue, so a pass takes several claims
	}
	recipients := []string{"ada@example.com", "bo@example.com", "cy@example.com"}
	for i, to := range recipients {
		if err := m.Send(t.Context(), to, []string{"en", "nb", "sv"}[i], notify.TemplateTest, nil); err != nil {
			t.Fatal(err)
		}
	}
	pass := func(wantSent, wantFailed int) {
		t.Helper()
		sent, failed, err := w.DeliverDue(t.Context())
		if err != nil || sent != wantSent || failed != wantFailed {
			t.Fatalf("DeliverDue = %d sent, %d failed, %v; want %d, %d, nil", sent, failed, err, wantSent, wantFailed)
		}
	}
	checkQueued := func(attempts int, next time.Time) {
		t.Helper()
		for _, msg := range out.all(t) {
			if msg.Attempts != attempts || !msg.NextAttemptAt.Equal(next) || !msg.SentAt.IsZero() || !strings.Contains(msg.LastError, "451") {
				t.Errorf("message %s: Attempts %d, NextAttemptAt %v, SentAt %v, LastError %q; want %d, %v, unsent, a 451",
					msg.ID, msg.Attempts, msg.NextAttemptAt, msg.SentAt, msg.LastError, attempts, next)
			}
		}
	}

	srv.SetFailing(true)
	pass(0, 3)
	checkQueued(1, c.Now().Add(10*time.Second))

	// Not due yet: nothing is tried.
	before := srv.Attempts()
	c.Advance(9 * time.Second)
	pass(0, 0)
	if srv.Attempts() != before {
		t.Errorf("the server saw %d attempts before the backoff ended", srv.Attempts()-before)
	}

	c.Advance(time.Second)
	pass(0, 3)
	checkQueued(2, c.Now().Add(20*time.Second))

	srv.SetFailing(false)
	c.Advance(20 * time.Second)
	pass(3, 0)
	pass(0, 0) // and nothing is sent twice

	for _, msg := range out.all(t) {
		if !msg.SentAt.Equal(c.Now()) {
			t.Errorf("message %s: SentAt = %v, want %v", msg.ID, msg.SentAt, c.Now())
		}
	}
	got := srv.Messages()
	if len(got) != 3 {
		t.Fatalf("server received %d messages, want 3", len(got))
	}
	seen := map[string]bool{}
	for _, r := range got {
		id := r.Header.Get("Message-Id")
		if seen[id] {
			t.Errorf("message %s delivered twice", id)
		}
		seen[id] = true
	}
	for _, to := range recipients {
		srv.WaitFor(t, to, time.Second)
	}

	// Failures are logged at warn with the ID and attempt count, and
	// nothing of the message itself.
	log := logs.String()
	if !strings.Contains(log, "level=WARN") || !strings.Contains(log, "attempts=2") {
		t.Errorf("log lacks a warning with attempts=2:\n%s", log)
	}
	for _, msg := range out.all(t) {
		if !strings.Contains(log, msg.ID) {
			t.Errorf("log does not name message %s", msg.ID)
		}
		for _, secret := range []string{msg.To, msg.Subject, "Portvakt."} {
			if strings.Contains(log, secret) {
				t.Errorf("log contains %q", secret)
			}
		}
	}
}

// A wrong password fails the attempt but keeps the message; once the
// credentials are fixed, the next due pass delivers it.
func TestWorker_wrongPasswordIsRetried(t *testing.T) {
	srv := notifytest.StartSMTP(t, notifytest.WithImplicitTLS(), notifytest.WithAuth("portvakt", "s3cret"))
	out, c := newOutbox(), newClock()
	m := newMailer(t, out, c)
	if err := m.Send(t.Context(), "ada@example.com", "nb", notify.TemplateTest, nil); err != nil {
		t.Fatal(err)
	}
	bad := srv.SMTPConfig()
	bad.Password = "wrong"
	w := &notify.Worker{Outbox: out, Transport: newSMTP(t, bad), Now: c.Now}
	if sent, failed, err := w.DeliverDue(t.Context()); sent != 0 || failed != 1 || err != nil {
		t.Fatalf("DeliverDue with a wrong password = %d, %d, %v; want 0, 1, nil", sent, failed, err)
	}
	msg := out.all(t)[0]
	if msg.Attempts != 1 || !strings.Contains(msg.LastError, "535") {
		t.Errorf("Attempts, LastError = %d, %q; want 1 and a 535", msg.Attempts, msg.LastError)
	}

	w.Transport = newSMTP(t, srv.SMTPConfig())
	c.Advance(10 * time.Second)
	if sent, failed, err := w.DeliverDue(t.Context()); sent != 1 || failed != 0 || err != nil {
		t.Fatalf("DeliverDue after the fix = %d, %d, %v; want 1, 0, nil", sent, failed, err)
	}
	if got := srv.WaitFor(t, "ada@example.com", time.Second); got.Subject != "Testmelding fra Portvakt" {
		t.Errorf("Subject = %q, want Testmelding fra Portvakt", got.Subject)
	}
}

// Two workers on one outbox never deliver the same message twice.
func TestWorker_concurrentWorkersShareTheOutbox(t *testing.T) {
	out, c := newOutbox(), newClock()
	m := newMailer(t, out, c)
	for i := range 30 {
		if err := m.Send(t.Context(), fmt.Sprintf("u%d@example.com", i), "en", notify.TemplateTest, nil); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	count := map[string]int{}
	tr := transportFunc(func(msg store.Message) error {
		mu.Lock()
		defer mu.Unlock()
		count[msg.ID]++
		return nil
	})
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			w := &notify.Worker{Outbox: out, Transport: tr, Now: c.Now, Batch: 4}
			if _, _, err := w.DeliverDue(t.Context()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if len(count) != 30 {
		t.Errorf("%d distinct messages delivered, want 30", len(count))
	}
	for id, n := range count {
		if n != 1 {
			t.Errorf("message %s delivered %d times", id, n)
		}
	}
}

// A slow server no longer loses the batch: the lease is renewed while
// the worker sends, so nobody else may claim the rest meanwhile.
func TestWorker_slowServerKeepsTheLease(t *testing.T) {
	out, c := newOutbox(), newClock()
	m := newMailer(t, out, c)
	for range 3 {
		if err := m.Send(t.Context(), "ada@example.com", "en", notify.TemplateTest, nil); err != nil {
			t.Fatal(err)
		}
	}
	delivered := 0
	tr := transportFunc(func(store.Message) error {
		delivered++
		c.Advance(time.Minute) // a slow server, slower than the lease
		return nil
	})
	w := &notify.Worker{Outbox: out, Transport: tr, Now: c.Now, Lease: 90 * time.Second}
	sent, failed, err := w.DeliverDue(t.Context())
	if sent != 3 || failed != 0 || err != nil || delivered != 3 {
		t.Errorf("DeliverDue = %d, %d, %v with %d deliveries; want 3, 0, nil, 3", sent, failed, err, delivered)
	}
}

// A worker whose lease ran out and was taken over sends no more of its
// batch: the other worker has those messages now. (The one it was sending
// goes out twice: delivery is at least once, and a stall past the lease
// is when that shows.)
func TestWorker_stopsWhenLeaseIsTakenOver(t *testing.T) {
	out, c := newOutbox(), newClock()
	m := newMailer(t, out, c)
	for range 3 {
		if err := m.Send(t.Context(), "ada@example.com", "en", notify.TemplateTest, nil); err != nil {
			t.Fatal(err)
		}
	}
	count := map[string]int{}
	other := &notify.Worker{Outbox: out, Now: c.Now, Lease: 90 * time.Second,
		Transport: transportFunc(func(m store.Message) error { count[m.ID]++; return nil })}
	first, inFlight := true, ""
	tr := transportFunc(func(m store.Message) error {
		count[m.ID]++
		if first {
			first = false
			// Stalled past the lease (no renewal ran: RenewEvery is an
			// hour), and another node's pass took the batch over.
			c.Advance(2 * time.Minute)
			if sent, _, err := other.DeliverDue(t.Context()); sent != 3 || err != nil {
				t.Errorf("the other worker's DeliverDue = %d, %v; want all 3", sent, err)
			}
			inFlight = m.ID
		}
		return nil
	})
	w := &notify.Worker{Outbox: out, Transport: tr, Now: c.Now, Lease: 90 * time.Second, RenewEvery: time.Hour}
	sent, _, err := w.DeliverDue(t.Context())
	if sent != 1 || err != nil {
		t.Errorf("DeliverDue = %d, %v; want 1 (the message it was sending), nil", sent, err)
	}
	for id, n := range count {
		if want := map[bool]int{true: 2, false: 1}[id == inFlight]; n != want {
			t.Errorf("message %s delivered %d times, want %d", id, n, want)
		}
	}
}

func TestWorker_outboxErrorsAreReported(t *testing.T) {
	out, c := newOutbox(), newClock()
	m := newMailer(t, out, c)
	if err := m.Send(t.Context(), "ada@example.com", "en", notify.TemplateTest, nil); err != nil {
		t.Fatal(err)
	}
	broken := &failingMarks{memOutbox: out}
	w := &notify.Worker{Outbox: broken, Transport: notify.Dev{}, Now: c.Now}
	sent, _, err := w.DeliverDue(t.Context())
	if sent != 1 || err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("DeliverDue = %d sent, %v; want 1 and the MarkMessageSent error", sent, err)
	}
}

// failingMarks wraps the outbox and fails MarkMessageSent.
type failingMarks struct{ *memOutbox }

func (f *failingMarks) MarkMessageSent(context.Context, string, time.Time) error {
	return errors.New("disk full")
}

// Run delivers promptly after Kick, long before its poll interval.
func TestWorker_Run_deliversAfterKick(t *testing.T) {
	srv := notifytest.StartSMTP(t, notifytest.WithSTARTTLS(), notifytest.WithAuth("portvakt", "s3cret"))
	out := newOutbox()
	w := &notify.Worker{Outbox: out, Transport: newSMTP(t, srv.SMTPConfig()), Interval: time.Hour}
	m := newMailer(t, out, &clock{t: time.Now()}, func(cfg *notify.Config) { cfg.Enqueued = w.Kick })

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- w.Run(ctx) }()
	defer func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run = %v, want nil", err)
			}
		case <-time.After(testwait.D(10 * time.Second)):
			t.Error("Run did not return after cancel")
		}
	}()

	for _, to := range []string{"ada@example.com", "bo@example.com"} {
		if err := m.Send(t.Context(), to, "en", notify.TemplateTest, nil); err != nil {
			t.Fatal(err)
		}
		srv.WaitFor(t, to, 10*time.Second)
	}
}

func TestWorker_Dev(t *testing.T) {
	out, c := newOutbox(), newClock()
	m := newMailer(t, out, c)
	if err := m.Send(t.Context(), "ada@example.com", "en", notify.TemplateTest, nil); err != nil {
		t.Fatal(err)
	}
	w := &notify.Worker{Outbox: out, Transport: notify.Dev{}, Now: c.Now}
	if sent, failed, err := w.DeliverDue(t.Context()); sent != 1 || failed != 0 || err != nil {
		t.Fatalf("DeliverDue = %d, %d, %v; want 1, 0, nil", sent, failed, err)
	}
	// The message stays in the outbox, marked sent, for the dev mailbox.
	if msgs := out.all(t); len(msgs) != 1 || msgs[0].SentAt.IsZero() || msgs[0].HTML == "" {
		t.Errorf("outbox = %+v, want the one message, sent, with its body", msgs)
	}
}
