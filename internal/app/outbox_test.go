package app_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portvakt/portvakt/internal/app"
	"github.com/portvakt/portvakt/internal/config"
	"github.com/portvakt/portvakt/internal/store"
)

type nowhere struct{ got []store.Message }

func (n *nowhere) Deliver(_ context.Context, m store.Message) error {
	n.got = append(n.got, m)
	return nil
}

// TestOutboxIsSealedAndForgotten: through the app's wiring, a queued
// mail's code is sealed in the database, the transport gets it in the
// clear, and once delivered the stored subject and bodies are blank.
func TestOutboxIsSealedAndForgotten(t *testing.T) {
	cfg := config.Default()
	cfg.Database.DSN = filepath.Join(t.TempDir(), "portvakt.db")
	tr := &nowhere{}
	a, err := app.New(t.Context(), cfg, app.Options{MailTransport: tr})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ctx := t.Context()
	data := map[string]any{"name": "Kari", "code": "31415926", "link": "https://id.example.com/l?t=abc", "count": 10,
		"when": "now", "ip": "192.0.2.7", "browser": "Firefox", "recover_url": "https://id.example.com/recover"}
	if err := a.Mailer.Send(ctx, "kari@example.com", "en", "mfa_email", data); err != nil {
		t.Fatal(err)
	}
	raw, err := a.DB.ListMessages(ctx, store.MessageFilter{})
	if err != nil || len(raw) != 1 {
		t.Fatalf("ListMessages = %d, %v", len(raw), err)
	}
	if strings.Contains(raw[0].Text, "31415926") || !strings.HasPrefix(raw[0].Text, "sealed1:") || !strings.HasPrefix(raw[0].Subject, "sealed1:") {
		t.Errorf("queued mail at rest: subject %q, text %.40q; want sealed", raw[0].Subject, raw[0].Text)
	}
	if _, _, err := a.Worker.DeliverDue(ctx); err != nil {
		t.Fatal(err)
	}
	if len(tr.got) != 1 || !strings.Contains(tr.got[0].Text, "31415926") {
		t.Fatalf("transport got %d messages, want the opened one", len(tr.got))
	}
	raw, err = a.DB.ListMessages(ctx, store.MessageFilter{})
	if err != nil || len(raw) != 1 || raw[0].SentAt.IsZero() {
		t.Fatalf("after delivery ListMessages = %+v, %v", raw, err)
	}
	if raw[0].Subject != "" || raw[0].Text != "" || raw[0].HTML != "" {
		t.Errorf("delivered mail still holds subject %q, text %.40q, html %.40q", raw[0].Subject, raw[0].Text, raw[0].HTML)
	}
}
