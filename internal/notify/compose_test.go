package notify_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portvakt/portvakt/internal/notify"
	"github.com/portvakt/portvakt/internal/store"
	"github.com/portvakt/portvakt/internal/store/sqlstore"
)

// TestComposeQueuesSealedInATransaction: a composed message is sealed as
// Send would seal it, queued in someone else's transaction
// (store.SecurityChange), opened for the worker, and Queued kicks it.
// Compose refuses what Send refuses.
func TestComposeQueuesSealedInATransaction(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.db")
	db, err := sqlstore.OpenAndMigrate(t.Context(), "sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.CreateAccount(t.Context(), store.Account{ID: "acct-1"}); err != nil {
		t.Fatal(err)
	}
	out := notify.SealedOutbox{Outbox: db, Sealer: newSealer(t), Forget: db.ForgetMessage}
	c := newClock()
	m := newMailer(t, out, c)
	const code = "73920418"
	msg, err := m.Compose("kari@example.com", "en", "mfa_email", mfaData(code, "https://id.example.com/x?token=Zq8vP3kLmN2x"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(msg.Text, "sealed1:") || !strings.HasPrefix(msg.Subject, "sealed1:") || strings.Contains(msg.HTML, code) {
		t.Fatalf("composed message is not sealed: %+v", msg)
	}
	if _, err := db.ChangeSecurity(t.Context(), store.SecurityChange{AccountID: "acct-1", At: c.Now(), Messages: []store.Message{msg}}); err != nil {
		t.Fatal(err)
	}
	if got := findInDatabase(t, path, code, "token=Zq8v"); len(got) != 0 {
		t.Errorf("the code is in plaintext in %v", got)
	}
	tr := &captured{}
	w := &notify.Worker{Outbox: out, Transport: tr, Now: c.Now}
	if sent, _, err := w.DeliverDue(t.Context()); err != nil || sent != 1 {
		t.Fatalf("DeliverDue = %d, %v; want 1 sent", sent, err)
	}
	if len(tr.msgs) != 1 || !strings.Contains(tr.msgs[0].Text, code) {
		t.Fatalf("the transport did not get the opened mail: %+v", tr.msgs)
	}
	if _, err := m.Compose("Kari <kari@example.com>", "en", "mfa_email", mfaData(code, "x")); !errors.Is(err, notify.ErrBadRecipient) {
		t.Errorf("Compose to a named address: err = %v, want ErrBadRecipient", err)
	}
	if _, err := m.Compose("kari@example.com", "en", "no_such_template", nil); err == nil {
		t.Error("Compose of an unknown template: no error")
	}
}
