package app_test

import (
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/app"
	"github.com/portvakt/portvakt/internal/config"
	"github.com/portvakt/portvakt/internal/store"
)

// TestHousekeepingRunsOnOneNode: two Apps (nodes) on one database and one
// clock. Every job runs on exactly one of them in each period; what
// expired (a counter, delivered mail) is collected, what did not stays.
func TestHousekeepingRunsOnOneNode(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	cfg := config.Default()
	cfg.Database.DSN = filepath.Join(t.TempDir(), "portvakt.db")
	var nodes []*app.App
	for range 2 {
		a, err := app.New(t.Context(), cfg, app.Options{Now: clock})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { a.Close() })
		nodes = append(nodes, a)
	}
	db := nodes[0].DB
	ctx := t.Context()
	if _, err := db.AddFailure(ctx, "ip:192.0.2.7", now.Add(-61*time.Minute), time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AddFailure(ctx, "acct:kept", now, 100*365*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"delivered", "unsent"} {
		m := store.Message{ID: id, Channel: "email", To: "kari@example.com", Subject: "s", Text: "t", Locale: "en", CreatedAt: now.Add(-48 * time.Hour), NextAttemptAt: now.Add(24 * time.Hour)}
		if err := db.EnqueueMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.MarkMessageSent(ctx, "delivered", now.Add(-app.SentMailKept-time.Minute)); err != nil {
		t.Fatal(err)
	}

	s0, s1 := nodes[0].Scheduler(), nodes[1].Scheduler()
	runs := map[string]int{}
	step := 30 * time.Second
	for range int(2 * time.Hour / step) {
		for _, name := range append(s0.RunDue(ctx), s1.RunDue(ctx)...) {
			runs[name]++
		}
		mu.Lock()
		now = now.Add(step)
		mu.Unlock()
	}
	want := map[string]int{
		"gc-sessions": 24, "gc-flows": 12, "gc-oidc": 12, "gc-counters": 2,
		"gc-trusted-browsers": 2, "gc-sent-mail": 2, "outbox": 240, "signing-keys": 120,
	}
	for name, w := range want {
		if runs[name] != w {
			t.Errorf("%s ran %d times in two hours on two nodes, want %d", name, runs[name], w)
		}
	}
	if n, _, _ := db.Failures(ctx, "acct:kept", now, 100*365*24*time.Hour); n != 1 {
		t.Errorf("the account counter was collected (count %d)", n)
	}
	if _, last, _ := db.Failures(ctx, "ip:192.0.2.7", now, time.Hour); !last.IsZero() {
		t.Errorf("the expired IP counter is still there (last failure %v)", last)
	}
	msgs, err := db.ListMessages(ctx, store.MessageFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range msgs {
		ids = append(ids, m.ID)
	}
	if slices.Contains(ids, "delivered") || !slices.Contains(ids, "unsent") {
		t.Errorf("messages left = %v, want only the unsent one", ids)
	}
}
