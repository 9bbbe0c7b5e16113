package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/store"
)

func auditEvent(id, kind, subject string, at time.Time) store.AuditEvent {
	return store.AuditEvent{
		ID: id, At: at, Kind: kind, ActorKind: "account", ActorID: subject, Subject: subject,
		Target: "kari@example.no", Outcome: "ok", Reason: "", IP: "192.0.2.1", UserAgent: "Firefox",
		RequestID: "req-" + id, Data: map[string]string{"method": "password"},
	}
}

func mustAppend(tb testing.TB, s store.Store, e store.AuditEvent) {
	tb.Helper()
	must(tb, "AppendAuditEvent("+e.ID+")", s.AppendAuditEvent(tb.Context(), e))
}

func listAudit(tb testing.TB, s store.Store, f store.AuditFilter) ([]string, string) {
	tb.Helper()
	list, next, err := s.ListAuditEvents(tb.Context(), f)
	must(tb, "ListAuditEvents", err)
	return ids(list, func(e store.AuditEvent) string { return e.ID }), next
}

// auditTests pin the append-only audit log: listing newest first with
// filters and a cursor, retention, and the pseudonymisation of a deleted
// account's events; and operator roles.
var auditTests = []subtest{
	{"an audit event reads back as it was appended", func(t *testing.T, s store.Store) {
		e := auditEvent("e1", "login.succeeded", "acc-1", T0)
		e.ActorKind, e.ActorID, e.Reason = "support", "sup-1", "called from a known number"
		e.Data = map[string]string{"method": "password", "level": "3"}
		mustAppend(t, s, e)
		list, next, err := s.ListAuditEvents(t.Context(), store.AuditFilter{})
		must(t, "ListAuditEvents", err)
		wantEqual(t, "ListAuditEvents", list, []store.AuditEvent{e})
		wantEqual(t, "next cursor of the only page", next, "")
		wantErr(t, "AppendAuditEvent(same ID)", s.AppendAuditEvent(t.Context(), e), store.ErrConflict)
		// No Data reads back as an empty map, not nil.
		e2 := auditEvent("e2", "login.failed", "", T0.Add(time.Second))
		e2.Data = nil
		mustAppend(t, s, e2)
		list, _, err = s.ListAuditEvents(t.Context(), store.AuditFilter{Kinds: []string{"login.failed"}})
		must(t, "ListAuditEvents", err)
		if len(list) != 1 || list[0].Data == nil || len(list[0].Data) != 0 {
			t.Errorf("event without data = %+v, want Data = {}", list)
		}
	}},
	{"audit events list newest first, filtered, in pages", func(t *testing.T, s store.Store) {
		// Two events share a millisecond: the later appended is newer.
		mustAppend(t, s, auditEvent("a1", "login.succeeded", "acc-a", T0))
		mustAppend(t, s, auditEvent("b1", "login.succeeded", "acc-b", T0.Add(time.Second)))
		mustAppend(t, s, auditEvent("a2", "password.changed", "acc-a", T0.Add(2*time.Second)))
		mustAppend(t, s, auditEvent("a3", "login.failed", "acc-a", T0.Add(2*time.Second)))
		sup := auditEvent("s1", "account.locked", "acc-a", T0.Add(3*time.Second))
		sup.ActorKind, sup.ActorID, sup.Reason = "support", "sup-1", "fraud report"
		mustAppend(t, s, sup)

		all, _ := listAudit(t, s, store.AuditFilter{})
		wantEqual(t, "all", all, []string{"s1", "a3", "a2", "b1", "a1"})
		got, _ := listAudit(t, s, store.AuditFilter{Subject: "acc-a"})
		wantEqual(t, "subject acc-a", got, []string{"s1", "a3", "a2", "a1"})
		got, _ = listAudit(t, s, store.AuditFilter{ActorKind: "support"})
		wantEqual(t, "support actors", got, []string{"s1"})
		got, _ = listAudit(t, s, store.AuditFilter{ActorID: "acc-b"})
		wantEqual(t, "actor acc-b", got, []string{"b1"})
		got, _ = listAudit(t, s, store.AuditFilter{Kinds: []string{"login.succeeded", "login.failed"}})
		wantEqual(t, "sign-ins", got, []string{"a3", "b1", "a1"})
		got, _ = listAudit(t, s, store.AuditFilter{Since: T0.Add(time.Second), Until: T0.Add(3 * time.Second)})
		wantEqual(t, "Since <= At < Until", got, []string{"a3", "a2", "b1"})
		got, _ = listAudit(t, s, store.AuditFilter{Subject: "acc-a", Kinds: []string{"login.failed"}, Since: T0})
		wantEqual(t, "filters combined", got, []string{"a3"})
		got, _ = listAudit(t, s, store.AuditFilter{Subject: "nobody"})
		wantEqual(t, "unknown subject", got, []string{})

		// Pages of two walk the whole log once, in order.
		var walked []string
		cursor := ""
		for page := 0; ; page++ {
			if page > 5 {
				t.Fatal("paging does not end")
			}
			got, next := listAudit(t, s, store.AuditFilter{Limit: 2, Cursor: cursor})
			walked = append(walked, got...)
			if next == "" {
				break
			}
			cursor = next
		}
		wantEqual(t, "pages of two", walked, all)
		// A cursor keeps its filter's meaning.
		p1, next := listAudit(t, s, store.AuditFilter{Subject: "acc-a", Limit: 3})
		p2, last := listAudit(t, s, store.AuditFilter{Subject: "acc-a", Limit: 3, Cursor: next})
		wantEqual(t, "subject page 1", p1, []string{"s1", "a3", "a2"})
		wantEqual(t, "subject page 2", p2, []string{"a1"})
		wantEqual(t, "cursor after the last page", last, "")

		_, _, err := s.ListAuditEvents(t.Context(), store.AuditFilter{Cursor: "not a cursor!"})
		wantErr(t, "ListAuditEvents(bad cursor)", err, store.ErrNotFound)
	}},
	{"audit listings are capped", func(t *testing.T, s store.Store) {
		for i := range 60 {
			mustAppend(t, s, auditEvent(fmt.Sprintf("e%02d", i), "login.succeeded", "acc", T0.Add(time.Duration(i)*time.Second)))
		}
		got, next := listAudit(t, s, store.AuditFilter{})
		if len(got) != 50 || next == "" {
			t.Errorf("default listing = %d events, next %q; want 50 and a cursor", len(got), next)
		}
		got, _ = listAudit(t, s, store.AuditFilter{Limit: 100000})
		if len(got) != 60 {
			t.Errorf("listing with a huge limit = %d events, want all 60", len(got))
		}
	}},
	{"audit retention deletes old events in batches", func(t *testing.T, s store.Store) {
		for i := range 5 {
			mustAppend(t, s, auditEvent(fmt.Sprintf("old%d", i), "login.succeeded", "acc", T0.Add(time.Duration(i)*time.Second)))
		}
		mustAppend(t, s, auditEvent("edge", "login.succeeded", "acc", T0.Add(time.Hour)))
		mustAppend(t, s, auditEvent("new", "login.succeeded", "acc", T0.Add(2*time.Hour)))
		n, err := s.DeleteAuditEventsBefore(t.Context(), T0.Add(time.Hour), 3)
		must(t, "DeleteAuditEventsBefore", err)
		if n != 3 {
			t.Errorf("first batch = %d, want 3", n)
		}
		got, _ := listAudit(t, s, store.AuditFilter{})
		wantEqual(t, "after one batch (oldest go first)", got, []string{"new", "edge", "old4", "old3"})
		n, err = s.DeleteAuditEventsBefore(t.Context(), T0.Add(time.Hour), 0)
		must(t, "DeleteAuditEventsBefore", err)
		if n != 2 {
			t.Errorf("second batch = %d, want 2", n)
		}
		got, _ = listAudit(t, s, store.AuditFilter{})
		wantEqual(t, "an event exactly at the cut stays", got, []string{"new", "edge"})
	}},
	{"a deleted account's audit events are pseudonymised", func(t *testing.T, s store.Store) {
		mine := auditEvent("m1", "password.changed", "acc-gone", T0)
		byMe := auditEvent("m2", "account.locked", "acc-other", T0.Add(time.Second))
		byMe.ActorKind, byMe.ActorID, byMe.Reason = "support", "acc-gone", "fraud"
		toMe := auditEvent("m3", "totp.reset", "acc-gone", T0.Add(2*time.Second))
		toMe.ActorKind, toMe.ActorID, toMe.Reason = "support", "sup-1", "lost phone"
		other := auditEvent("o1", "login.succeeded", "acc-other", T0.Add(3*time.Second))
		for _, e := range []store.AuditEvent{mine, byMe, toMe, other} {
			mustAppend(t, s, e)
		}
		n, err := s.PseudonymiseAuditEvents(t.Context(), "acc-gone", "deleted-1")
		must(t, "PseudonymiseAuditEvents", err)
		if n != 3 {
			t.Errorf("PseudonymiseAuditEvents = %d, want 3", n)
		}
		list, _, err := s.ListAuditEvents(t.Context(), store.AuditFilter{})
		must(t, "ListAuditEvents", err)
		byID := map[string]store.AuditEvent{}
		for _, e := range list {
			byID[e.ID] = e
		}
		wantMine := mine
		wantMine.Subject, wantMine.ActorID = "deleted-1", "deleted-1"
		wantMine.Target, wantMine.IP, wantMine.UserAgent, wantMine.Data = "", "", "", map[string]string{}
		wantEqual(t, "the account's own event", byID["m1"], wantMine)
		wantByMe := byMe
		wantByMe.ActorID = "deleted-1"
		wantEqual(t, "an event the account caused on another (only the actor changes)", byID["m2"], wantByMe)
		wantToMe := toMe
		wantToMe.Subject = "deleted-1"
		wantToMe.Target, wantToMe.IP, wantToMe.UserAgent, wantToMe.Data = "", "", "", map[string]string{}
		wantEqual(t, "support's event on the account (reason and actor kept)", byID["m3"], wantToMe)
		wantEqual(t, "another account's event", byID["o1"], other)
		got, _ := listAudit(t, s, store.AuditFilter{Subject: "acc-gone"})
		wantEqual(t, "events under the old ID", got, []string{})
	}},
	{"roles are granted, listed and revoked", func(t *testing.T, s store.Store) {
		ctx := t.Context()
		for _, id := range []string{"a", "b"} {
			must(t, "CreateAccount", s.CreateAccount(ctx, newAccount(id, "")))
		}
		must(t, "GrantRole", s.GrantRole(ctx, "a", "support", T0))
		must(t, "GrantRole", s.GrantRole(ctx, "a", "admin", T0))
		must(t, "GrantRole again", s.GrantRole(ctx, "a", "admin", T0))
		must(t, "GrantRole", s.GrantRole(ctx, "b", "support", T0))
		wantErr(t, "GrantRole(no account)", s.GrantRole(ctx, "nobody", "admin", T0), store.ErrNotFound)
		roles, err := s.ListRoles(ctx, "a")
		must(t, "ListRoles", err)
		wantEqual(t, "roles of a", roles, []string{"admin", "support"})
		holders, err := s.ListRoleHolders(ctx, "support")
		must(t, "ListRoleHolders", err)
		wantEqual(t, "support holders", holders, []string{"a", "b"})
		must(t, "RevokeRole", s.RevokeRole(ctx, "a", "support"))
		wantErr(t, "RevokeRole again", s.RevokeRole(ctx, "a", "support"), store.ErrNotFound)
		roles, err = s.ListRoles(ctx, "a")
		must(t, "ListRoles", err)
		wantEqual(t, "roles of a after revoke", roles, []string{"admin"})
		must(t, "DeleteAccount", s.DeleteAccount(ctx, "b"))
		holders, err = s.ListRoleHolders(ctx, "support")
		must(t, "ListRoleHolders", err)
		wantEqual(t, "a deleted account holds no role", holders, []string{})
		roles, err = s.ListRoles(ctx, "nobody")
		must(t, "ListRoles(nobody)", err)
		wantEqual(t, "roles of nobody", roles, []string{})
	}},
	{"accounts are found by a factor's phone number", func(t *testing.T, s store.Store) {
		ctx := t.Context()
		for _, id := range []string{"a", "b", "c"} {
			must(t, "CreateAccount", s.CreateAccount(ctx, newAccount(id, "")))
		}
		for i, f := range []store.Factor{
			{ID: "f1", AccountID: "b", Kind: "sms", Phone: "+4791234567"},
			{ID: "f2", AccountID: "a", Kind: "sms", Phone: "+4791234567"},
			{ID: "f4", AccountID: "c", Kind: "sms", Phone: "+4799999999"},
			{ID: "f5", AccountID: "c", Kind: "sms", Phone: "+4791234567", ConfirmedAt: time.Time{}},
		} {
			f.Name, f.CreatedAt = fmt.Sprint("phone ", i), T0
			if f.ID != "f5" {
				f.ConfirmedAt = T0
			}
			must(t, "CreateFactor", s.CreateFactor(ctx, f))
		}
		got, err := s.FindAccountsByPhone(ctx, "+4791234567")
		must(t, "FindAccountsByPhone", err)
		wantEqual(t, "accounts with the number confirmed", got, []string{"a", "b"})
		got, err = s.FindAccountsByPhone(ctx, "+4700000000")
		must(t, "FindAccountsByPhone", err)
		wantEqual(t, "no account", got, []string{})
		got, err = s.FindAccountsByPhone(ctx, "")
		must(t, "FindAccountsByPhone(empty)", err)
		wantEqual(t, "empty number", got, []string{})
	}},
}
