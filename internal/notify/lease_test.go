package notify_test

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/notify"
	"github.com/portvakt/portvakt/internal/store"
	"github.com/portvakt/portvakt/internal/store/sqlstore"
	"github.com/portvakt/portvakt/internal/testwait"
)

// openOutbox returns a migrated SQLite store: the hand-over depends on
// the real claim and renewal statements, so these tests use them.
func openOutbox(t *testing.T) *sqlstore.DB {
	t.Helper()
	db, err := sqlstore.OpenAndMigrate(t.Context(), "sqlite", filepath.Join(t.TempDir(), "p.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func enqueue(t *testing.T, db *sqlstore.DB, id string, at time.Time) {
	t.Helper()
	err := db.EnqueueMessage(t.Context(), store.Message{ID: id, Channel: store.ChannelEmail, To: "kari@example.no",
		Subject: "Kode", Text: "123456", CreatedAt: at, NextAttemptAt: at})
	if err != nil {
		t.Fatal(err)
	}
}

// TestDeadNodesMailIsHandedOver: a node that claimed mail and died holds
// it only until the lease ends; the next pass of another node then sends
// it, within about 30 seconds of the claim.
func TestDeadNodesMailIsHandedOver(t *testing.T) {
	if bound := notify.DefaultLease + notify.DefaultInterval; bound > 30*time.Second {
		t.Errorf("a dead node's mail may wait %s (lease + poll interval), want at most 30s", bound)
	}
	db, c := openOutbox(t), newClock()
	enqueue(t, db, "msg-1", c.Now())
	// Node A claims with the default lease and dies before sending.
	if got, err := db.ClaimMessages(t.Context(), c.Now(), notify.DefaultBatch, notify.DefaultLease); err != nil || len(got) != 1 {
		t.Fatalf("ClaimMessages = %d messages, %v; want 1", len(got), err)
	}
	var delivered atomic.Int32
	b := &notify.Worker{Outbox: db, Now: c.Now,
		Transport: transportFunc(func(store.Message) error { delivered.Add(1); return nil })}
	pass := func(when string, want int) {
		t.Helper()
		if sent, _, err := b.DeliverDue(t.Context()); sent != want || err != nil {
			t.Errorf("node B's pass %s = %d sent, %v; want %d", when, sent, err, want)
		}
	}
	pass("at once", 0)
	c.Advance(notify.DefaultLease - time.Millisecond)
	pass("just before the lease ends", 0)
	c.Advance(time.Millisecond)
	pass("when the lease ends", 1)
	if n := delivered.Load(); n != 1 {
		t.Errorf("delivered %d times, want once", n)
	}
}

// TestLeaseIsRenewedWhileSending: a send that takes longer than several
// leases keeps its claim, so no other node sends the message meanwhile.
func TestLeaseIsRenewedWhileSending(t *testing.T) {
	db, c := openOutbox(t), newClock()
	enqueue(t, db, "msg-1", c.Now())
	entered, release := make(chan struct{}), make(chan struct{})
	var delivered atomic.Int32
	a := &notify.Worker{Outbox: db, Now: c.Now, RenewEvery: 5 * time.Millisecond,
		Transport: transportFunc(func(store.Message) error {
			delivered.Add(1)
			close(entered)
			<-release
			return nil
		})}
	b := &notify.Worker{Outbox: db, Now: c.Now,
		Transport: transportFunc(func(store.Message) error { delivered.Add(1); return nil })}

	type result struct {
		sent int
		err  error
	}
	done := make(chan result, 1)
	go func() {
		sent, _, err := a.DeliverDue(context.Background())
		done <- result{sent, err}
	}()
	<-entered
	for i := range 3 {
		c.Advance(notify.DefaultLease)
		waitRenewed(t, db, c.Now())
		if sent, _, err := b.DeliverDue(t.Context()); sent != 0 || err != nil {
			t.Errorf("lease %d: node B's pass = %d sent, %v; want nothing while A is sending", i+1, sent, err)
		}
	}
	close(release)
	if r := <-done; r.sent != 1 || r.err != nil {
		t.Errorf("node A's pass = %d sent, %v; want 1, nil", r.sent, r.err)
	}
	if n := delivered.Load(); n != 1 {
		t.Errorf("delivered %d times, want once", n)
	}
}

// waitRenewed waits (boundedly) until msg-1's lease ends after now.
func waitRenewed(t *testing.T, db *sqlstore.DB, now time.Time) {
	t.Helper()
	deadline := time.Now().Add(testwait.D(30 * time.Second))
	for {
		msgs, err := db.ListMessages(t.Context(), store.MessageFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) == 1 && msgs[0].NextAttemptAt.After(now) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the lease was not renewed past %s: %+v", now, msgs)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
