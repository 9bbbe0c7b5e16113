package notify_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/portvakt/portvakt/internal/notify"
	"github.com/portvakt/portvakt/internal/secret"
	"github.com/portvakt/portvakt/internal/store"
	"github.com/portvakt/portvakt/internal/store/sqlstore"
)

// captured is a transport that keeps what it delivered.
type captured struct {
	mu   sync.Mutex
	msgs []store.Message
}

func (c *captured) Deliver(_ context.Context, m store.Message) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.msgs = append(c.msgs, m)
	return nil
}

// findInDatabase returns "table.column" for every text or blob value in
// the SQLite database at path that contains any of needles.
func findInDatabase(t *testing.T, path string, needles ...string) []string {
	t.Helper()
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var tables []string
	rows, err := raw.Query("SELECT name FROM sqlite_master WHERE type = 'table'")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, n)
	}
	rows.Close()
	var found []string
	seen := 0
	for _, table := range tables {
		rows, err := raw.Query(fmt.Sprintf("SELECT * FROM %q", table))
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for i, v := range vals {
				var s string
				switch v := v.(type) {
				case string:
					s = v
				case []byte:
					s = string(v)
				default:
					continue
				}
				seen++
				for _, n := range needles {
					if strings.Contains(s, n) {
						found = append(found, table+"."+cols[i])
					}
				}
			}
		}
		rows.Close()
	}
	if seen == 0 {
		t.Fatal("no text values read: the search cannot fail")
	}
	return found
}

func mfaData(code, link string) map[string]any {
	return map[string]any{"name": "Kari", "code": code, "link": link, "count": 10, "when": "now", "ip": "192.0.2.7",
		"browser": "Firefox", "recover_url": "https://id.example.com/recover"}
}

func newSealer(t *testing.T) *secret.Sealer {
	t.Helper()
	s, err := secret.NewSealer([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestNoLiveSecretAtRest: an emailed second-factor code and its link are
// never in the database in plaintext, neither while the mail is queued nor
// after; after delivery the sealed copies are gone too, while the worker
// delivered the plaintext.
func TestNoLiveSecretAtRest(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.db")
	db, err := sqlstore.OpenAndMigrate(t.Context(), "sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	out := notify.SealedOutbox{Outbox: db, Sealer: newSealer(t), Forget: db.ForgetMessage}
	c := newClock()
	m := newMailer(t, out, c)
	const code = "73920418"
	const link = "https://id.example.com/mfa/email?token=Zq8vP3kLmN2xR7tY"
	if err := m.Send(t.Context(), "kari@example.com", "en", "mfa_email", mfaData(code, link)); err != nil {
		t.Fatal(err)
	}
	if got := findInDatabase(t, path, code, link, "token=Zq8v"); len(got) != 0 {
		t.Errorf("while queued, the code or link is in plaintext in %v", got)
	}
	if got := findInDatabase(t, path, "sealed1:"); len(got) == 0 {
		t.Fatal("the queued mail holds no sealed field: is this the outbox?")
	}
	tr := &captured{}
	w := &notify.Worker{Outbox: out, Transport: tr, Now: c.Now}
	if sent, _, err := w.DeliverDue(t.Context()); err != nil || sent != 1 {
		t.Fatalf("DeliverDue = %d, %v; want 1 sent", sent, err)
	}
	if len(tr.msgs) != 1 || !strings.Contains(tr.msgs[0].Text, code) || !strings.Contains(tr.msgs[0].Text, link) || !strings.Contains(tr.msgs[0].HTML, code) {
		t.Fatalf("the transport did not get the opened mail with its code and link: %+v", tr.msgs)
	}
	if got := findInDatabase(t, path, code, link, "token=Zq8v", "sealed1:"); len(got) != 0 {
		t.Errorf("after delivery, the code, link or a sealed copy is still in %v", got)
	}
	msgs, err := db.ListMessages(t.Context(), store.MessageFilter{})
	if err != nil || len(msgs) != 1 || msgs[0].To != "kari@example.com" || msgs[0].SentAt.IsZero() {
		t.Errorf("after delivery the outbox row = %+v, %v; want the delivered record kept", msgs, err)
	}
}

// TestSealedOutboxForDevMailbox: without Forget (the dev transport), a
// delivered message stays sealed and the dev mailbox's listing opens it;
// a field sealed under another key reads as unreadable, not as garbage.
func TestSealedOutboxForDevMailbox(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.db")
	db, err := sqlstore.OpenAndMigrate(t.Context(), "sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	out := notify.SealedOutbox{Outbox: db, Sealer: newSealer(t)}
	c := newClock()
	if err := newMailer(t, out, c).Send(t.Context(), "kari@example.com", "en", "mfa_email", mfaData("55501234", "https://id.example.com/x")); err != nil {
		t.Fatal(err)
	}
	w := &notify.Worker{Outbox: out, Transport: notify.Dev{}, Now: c.Now}
	if _, _, err := w.DeliverDue(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := findInDatabase(t, path, "55501234"); len(got) != 0 {
		t.Errorf("the dev outbox holds the code in plaintext in %v", got)
	}
	msgs, err := out.ListMessages(t.Context(), store.MessageFilter{})
	if err != nil || len(msgs) != 1 || !strings.Contains(msgs[0].Text, "55501234") || msgs[0].Subject == "" {
		t.Fatalf("dev mailbox listing = %+v, %v; want the opened mail", msgs, err)
	}
	other, err := secret.NewSealer([]byte("fedcba9876543210fedcba9876543210"))
	if err != nil {
		t.Fatal(err)
	}
	msgs, _ = notify.SealedOutbox{Outbox: db, Sealer: other}.ListMessages(t.Context(), store.MessageFilter{})
	if len(msgs) != 1 || strings.Contains(msgs[0].Text, "55501234") || strings.HasPrefix(msgs[0].Text, "sealed1:") {
		t.Errorf("listing with another key = %q", msgs[0].Text)
	}
}
