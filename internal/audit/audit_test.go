package audit_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/audit"
	"github.com/portvakt/portvakt/internal/clocktest"
	"github.com/portvakt/portvakt/internal/store"
	"github.com/portvakt/portvakt/internal/store/sqlstore"
)

func openStore(t *testing.T) *sqlstore.DB {
	t.Helper()
	db, err := sqlstore.OpenAndMigrate(t.Context(), "sqlite", filepath.Join(t.TempDir(), "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestMask(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"+4791234567", "+47••••••67"},
		{"phone +47 912 34 567 added", "phone +47 ••• •• •67 added"},
		{"01017012345", "•••••••••45"},
		{"fnr 010170 12345.", "fnr •••••• •••45."},
		{"700101-1234", "••••••-••34"},
		{"19700101-1234", "••••••••-••34"},
		{"91234567", "••••••67"},
		// Not national IDs or phone numbers: left alone.
		{"1234567", "1234567"},
		{"2026-12-04T21:00:00Z", "2026-12-04T21:00:00Z"},
		{"192.168.100.200", "192.168.100.200"},
		{"abcd12345678901efg", "abcd12345678901efg"},
		{"level 3 of 4", "level 3 of 4"},
		{"", ""},
	} {
		if got := audit.Mask(c.in); got != c.want {
			t.Errorf("Mask(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestRecordStampsCleansAndStores(t *testing.T) {
	db := openStore(t)
	clock := clocktest.New(time.Date(2026, 12, 4, 21, 0, 0, 0, time.UTC))
	r := &audit.Recorder{Store: db, Now: clock.Now}
	ctx := audit.WithRequest(t.Context(), audit.Request{IP: "192.0.2.7", UserAgent: "Firefox/140", RequestID: "req1"})
	err := r.Record(ctx, audit.Event{
		Kind:    audit.AccountLocked,
		Actor:   audit.Support("sup-1"),
		Subject: "acc-1",
		Target:  "+4791234567",
		Reason:  "caller gave fnr 01017012345\nand asked",
		Data: map[string]string{
			"password": "hunter2", "new_password": "x", "code": "123456", "access_token": "t",
			"totp_seed": "s", "method": "sms", "phone": "+4791234567",
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	list, _, err := db.ListAuditEvents(t.Context(), store.AuditFilter{Subject: "acc-1"})
	if err != nil || len(list) != 1 {
		t.Fatalf("ListAuditEvents = %v, %v", list, err)
	}
	e := list[0]
	if e.At != clock.Now() || e.ID == "" || e.Outcome != "ok" || e.ActorKind != "support" || e.ActorID != "sup-1" {
		t.Errorf("stamped event = %+v", e)
	}
	if e.IP != "192.0.2.7" || e.UserAgent != "Firefox/140" || e.RequestID != "req1" {
		t.Errorf("request metadata = %q %q %q, want the context's", e.IP, e.UserAgent, e.RequestID)
	}
	if e.Target != "+47••••••67" {
		t.Errorf("Target = %q, want the phone masked", e.Target)
	}
	if e.Reason != "caller gave fnr •••••••••45and asked" {
		t.Errorf("Reason = %q, want the national ID masked and the newline gone", e.Reason)
	}
	want := map[string]string{"method": "sms", "phone": "+47••••••67"}
	if len(e.Data) != len(want) || e.Data["method"] != want["method"] || e.Data["phone"] != want["phone"] {
		t.Errorf("Data = %v, want %v (secret keys dropped)", e.Data, want)
	}
	for _, s := range []string{"hunter2", "123456", "01017012345", "91234567"} {
		if strings.Contains(e.Reason+e.Target+e.Data["phone"]+e.Data["method"], s) {
			t.Errorf("event still holds %q", s)
		}
	}
}

func TestRecordRefuses(t *testing.T) {
	db := openStore(t)
	r := &audit.Recorder{Store: db}
	for name, e := range map[string]audit.Event{
		"unknown kind":           {Kind: "login.maybe", Subject: "a"},
		"unknown actor":          {Kind: audit.LoginSucceeded, Actor: audit.Actor{Kind: "robot"}},
		"unknown outcome":        {Kind: audit.LoginSucceeded, Outcome: "meh"},
		"support without reason": {Kind: audit.TOTPReset, Actor: audit.Support("s"), Reason: "  "},
	} {
		if err := r.Record(t.Context(), e); err == nil {
			t.Errorf("%s: Record = nil, want an error", name)
		}
	}
	list, _, _ := db.ListAuditEvents(t.Context(), store.AuditFilter{})
	if len(list) != 0 {
		t.Errorf("refused events were written: %+v", list)
	}
	// A nil recorder records nothing and does not fail.
	var nilRec *audit.Recorder
	if err := nilRec.Record(t.Context(), audit.Event{Kind: audit.LoginSucceeded}); err != nil {
		t.Errorf("nil Recorder: %v", err)
	}
}

func TestRecordBoundsFields(t *testing.T) {
	db := openStore(t)
	r := &audit.Recorder{Store: db}
	data := map[string]string{}
	for i := range 40 {
		data[strings.Repeat("k", 1+i%30)+string(rune('a'+i%26))] = strings.Repeat("v", 5000)
	}
	if err := r.Record(t.Context(), audit.Event{Kind: audit.SettingsChanged, Subject: "a",
		Reason: strings.Repeat("why ", 1000), UserAgent: strings.Repeat("ua", 5000), Data: data}); err != nil {
		t.Fatal(err)
	}
	list, _, _ := db.ListAuditEvents(t.Context(), store.AuditFilter{})
	e := list[0]
	if len(e.Reason) > 510 || len(e.UserAgent) > 310 || len(e.Data) > 16 {
		t.Errorf("unbounded: reason %d, user agent %d, %d data keys", len(e.Reason), len(e.UserAgent), len(e.Data))
	}
	for k, v := range e.Data {
		if len(v) > 210 {
			t.Errorf("data %q is %d bytes", k, len(v))
		}
	}
}

type failingStore struct{ store.Audit }

func (failingStore) AppendAuditEvent(context.Context, store.AuditEvent) error {
	return store.ErrUnavailable
}

func TestRecordReportsStoreFailure(t *testing.T) {
	r := &audit.Recorder{Store: failingStore{}}
	err := r.Record(t.Context(), audit.Event{Kind: audit.LoginSucceeded})
	if !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Record = %v, want ErrUnavailable", err)
	}
}

func TestKindsAreUniqueAndDotted(t *testing.T) {
	seen := map[audit.Kind]bool{}
	for _, k := range audit.Kinds() {
		if seen[k] || !strings.Contains(string(k), ".") {
			t.Errorf("kind %q repeated or not area.verb", k)
		}
		seen[k] = true
	}
	for _, k := range audit.SecurityKinds() {
		if !k.Valid() {
			t.Errorf("security kind %q is not a kind", k)
		}
	}
}
