package sms_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/authn/sms"
	"github.com/portvakt/portvakt/internal/store"
	"github.com/portvakt/portvakt/internal/store/sqlstore"
)

// openStore returns a migrated SQLite store in t.TempDir().
func openStore(tb testing.TB) *sqlstore.DB {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "portvakt.db")
	db, err := sqlstore.OpenAndMigrate(tb.Context(), "sqlite", path)
	if err != nil {
		tb.Fatalf("OpenAndMigrate(sqlite, %q): %v", path, err)
	}
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Errorf("Close(): %v", err)
		}
	})
	return db
}

func TestOutbox_Send(t *testing.T) {
	db := openStore(t)
	now := time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)
	s := sms.Outbox{Outbox: db, Now: func() time.Time { return now }}

	if err := s.Send(t.Context(), "+4791234567", "Your Portvakt code is 123456"); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if err := s.Send(t.Context(), "+4791234567", "Your Portvakt code is 654321"); err != nil {
		t.Fatalf("second Send: %v", err)
	}

	msgs, err := db.ListMessages(t.Context(), store.MessageFilter{To: "+4791234567", Channel: store.ChannelSMS})
	if err != nil {
		t.Fatalf("ListMessages: %v", err)
	}
	if len(msgs) != 2 {
		t.Fatalf("ListMessages = %d messages, want 2", len(msgs))
	}
	if msgs[0].ID == msgs[1].ID || len(msgs[0].ID) != 26 {
		t.Errorf("IDs = %q, %q; want two random 26-character IDs", msgs[0].ID, msgs[1].ID)
	}
	for _, m := range msgs {
		if m.Channel != store.ChannelSMS || m.To != "+4791234567" || m.Subject != "" || m.HTML != "" {
			t.Errorf("message = %+v, want an SMS to +4791234567 with no subject or HTML", m)
		}
		if !m.SentAt.Equal(now) || !m.CreatedAt.Equal(now) {
			t.Errorf("SentAt, CreatedAt = %s, %s; want both %s", m.SentAt, m.CreatedAt, now)
		}
	}
	texts := map[string]bool{msgs[0].Text: true, msgs[1].Text: true}
	if !texts["Your Portvakt code is 123456"] || !texts["Your Portvakt code is 654321"] {
		t.Errorf("texts = %v", texts)
	}

	// Marked sent, so a delivery worker never picks them up.
	claimed, err := db.ClaimMessages(t.Context(), now.Add(time.Hour), 10, time.Minute)
	if err != nil || len(claimed) != 0 {
		t.Errorf("ClaimMessages = %v, %v; want nothing to deliver", claimed, err)
	}
}

func TestOutbox_Refuses(t *testing.T) {
	db := openStore(t)
	s := sms.Outbox{Outbox: db}
	if err := s.Send(t.Context(), "91234567", "code"); err == nil {
		t.Error("Send to a national number = nil, want an error")
	}
	if err := s.Send(t.Context(), "+4791234567", ""); err == nil {
		t.Error("Send of an empty text = nil, want an error")
	}
	msgs, err := db.ListMessages(t.Context(), store.MessageFilter{})
	if err != nil || len(msgs) != 0 {
		t.Errorf("ListMessages = %v, %v; want nothing written", msgs, err)
	}
}

// enqueueFails is the real store with EnqueueMessage broken.
type enqueueFails struct {
	store.Outbox
	err error
}

func (f enqueueFails) EnqueueMessage(context.Context, store.Message) error { return f.err }

func TestOutbox_StoreError(t *testing.T) {
	boom := errors.New("disk full")
	s := sms.Outbox{Outbox: enqueueFails{Outbox: openStore(t), err: boom}}
	err := s.Send(t.Context(), "+4791234567", "Your code is 123456")
	if !errors.Is(err, boom) {
		t.Errorf("Send = %v, want it to wrap %v", err, boom)
	}
}
