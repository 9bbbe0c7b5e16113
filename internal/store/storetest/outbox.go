package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/store"
)

// newMessage returns an unsent email with every other field set, created
// at created and due at once.
func newMessage(id string, created time.Time) store.Message {
	return store.Message{
		ID:            id,
		Channel:       store.ChannelEmail,
		To:            "kari@example.no",
		Subject:       "Din kode",
		Text:          "Koden er 123456.",
		HTML:          "<p>Koden er <b>123456</b>.</p>",
		Locale:        "nb",
		CreatedAt:     created,
		NextAttemptAt: created,
	}
}

func mustEnqueue(tb testing.TB, s store.Store, m store.Message) store.Message {
	tb.Helper()
	must(tb, "EnqueueMessage("+m.ID+")", s.EnqueueMessage(tb.Context(), m))
	return m
}

func messageID(m store.Message) string { return m.ID }

// claimIDs claims and returns the IDs it got, failing the test on error.
func claimIDs(tb testing.TB, s store.Store, now time.Time, limit int, lease time.Duration) []string {
	tb.Helper()
	list, err := s.ClaimMessages(tb.Context(), now, limit, lease)
	must(tb, fmt.Sprintf("ClaimMessages(%v, %d, %v)", now, limit, lease), err)
	return ids(list, messageID)
}

var outboxTests = []subtest{
	{"an enqueued message reads back with every field", func(t *testing.T, s store.Store) {
		want := newMessage("msg-1", T0)
		want.Attempts, want.LastError = 2, "smtp: 421 try later"
		mustEnqueue(t, s, want)
		list, err := s.ListMessages(t.Context(), store.MessageFilter{})
		must(t, "ListMessages({})", err)
		wantEqual(t, "ListMessages({})", list, []store.Message{want})
	}},
	{"a second message with the same ID is a conflict", func(t *testing.T, s store.Store) {
		mustEnqueue(t, s, newMessage("msg-1", T0))
		wantErr(t, `EnqueueMessage("msg-1") again`, s.EnqueueMessage(t.Context(), newMessage("msg-1", T0)), store.ErrConflict)
	}},
	{"claiming returns due messages oldest first up to the limit", func(t *testing.T, s store.Store) {
		for _, m := range []struct {
			id              string
			created, nextAt time.Time
			sent            bool
		}{
			{"due-2nd", T0.Add(-3 * time.Minute), T0.Add(-time.Minute), false},
			{"due-exactly-now", T0.Add(-2 * time.Minute), T0, false},
			{"not-due", T0.Add(-4 * time.Minute), T0.Add(time.Millisecond), false},
			{"due-last", T0.Add(-time.Minute), T0.Add(-10 * time.Minute), false},
			{"sent", T0.Add(-5 * time.Minute), T0.Add(-time.Hour), true},
			{"due-1st", T0.Add(-4*time.Minute - time.Second), T0.Add(-time.Hour), false},
		} {
			msg := newMessage(m.id, m.created)
			msg.NextAttemptAt = m.nextAt
			if m.sent {
				msg.SentAt = T0.Add(-time.Hour)
			}
			mustEnqueue(t, s, msg)
		}
		wantEqual(t, "ClaimMessages(T0, limit 0)", claimIDs(t, s, T0, 0, time.Minute), []string{})

		got, err := s.ClaimMessages(t.Context(), T0, 3, time.Minute)
		must(t, "ClaimMessages(T0, 3, 1m)", err)
		wantEqual(t, "ClaimMessages(T0, 3, 1m) IDs", ids(got, messageID), []string{"due-1st", "due-2nd", "due-exactly-now"})
		for _, m := range got {
			wantEqual(t, "NextAttemptAt of claimed "+m.ID, m.NextAttemptAt, T0.Add(time.Minute))
		}
		wantEqual(t, "ClaimMessages(T0, 3, 1m) again", claimIDs(t, s, T0, 3, time.Minute), []string{"due-last"})
		wantEqual(t, "ClaimMessages(T0, 3, 1m) a third time", claimIDs(t, s, T0, 3, time.Minute), []string{})
	}},
	{"a claimed message is leased until the lease ends", func(t *testing.T, s store.Store) {
		mustEnqueue(t, s, newMessage("msg-1", T0))
		lease := 5 * time.Minute
		wantEqual(t, "first ClaimMessages(T0)", claimIDs(t, s, T0, 10, lease), []string{"msg-1"})
		wantEqual(t, "second ClaimMessages(T0)", claimIDs(t, s, T0, 10, lease), []string{})
		wantEqual(t, "ClaimMessages a millisecond before the lease ends",
			claimIDs(t, s, T0.Add(lease-time.Millisecond), 10, lease), []string{})
		wantEqual(t, "ClaimMessages when the lease ends", claimIDs(t, s, T0.Add(lease), 10, lease), []string{"msg-1"})
	}},
	{"a failed attempt is counted and retried when asked", func(t *testing.T, s store.Store) {
		mustEnqueue(t, s, newMessage("msg-1", T0))
		claimIDs(t, s, T0, 10, time.Minute)
		next := T0.Add(10 * time.Minute)
		must(t, `MarkMessageFailed("msg-1")`, s.MarkMessageFailed(t.Context(), "msg-1", "smtp: 421 try later", next))
		list, err := s.ListMessages(t.Context(), store.MessageFilter{})
		must(t, "ListMessages({})", err)
		want := newMessage("msg-1", T0)
		want.Attempts, want.LastError, want.NextAttemptAt = 1, "smtp: 421 try later", next
		wantEqual(t, "ListMessages({}) after MarkMessageFailed", list, []store.Message{want})

		wantEqual(t, "ClaimMessages before the retry time", claimIDs(t, s, next.Add(-time.Millisecond), 10, time.Minute), []string{})
		wantEqual(t, "ClaimMessages at the retry time", claimIDs(t, s, next, 10, time.Minute), []string{"msg-1"})
		must(t, `MarkMessageFailed("msg-1") again`, s.MarkMessageFailed(t.Context(), "msg-1", "smtp: 550", next.Add(time.Hour)))
		list, err = s.ListMessages(t.Context(), store.MessageFilter{})
		must(t, "ListMessages({})", err)
		if len(list) != 1 || list[0].Attempts != 2 || list[0].LastError != "smtp: 550" {
			t.Errorf("ListMessages({}) after two failures = %+v, want one message with Attempts 2 and LastError %q", list, "smtp: 550")
		}
	}},
	{"a sent message is never claimed again", func(t *testing.T, s store.Store) {
		mustEnqueue(t, s, newMessage("msg-1", T0))
		claimIDs(t, s, T0, 10, time.Minute)
		must(t, `MarkMessageSent("msg-1")`, s.MarkMessageSent(t.Context(), "msg-1", T0.Add(time.Second)))
		wantEqual(t, "ClaimMessages a year later", claimIDs(t, s, T0.AddDate(1, 0, 0), 10, time.Minute), []string{})
		list, err := s.ListMessages(t.Context(), store.MessageFilter{})
		must(t, "ListMessages({})", err)
		if len(list) != 1 || !list[0].SentAt.Equal(T0.Add(time.Second)) {
			t.Errorf("ListMessages({}) after MarkMessageSent = %+v, want one message with SentAt %v", list, T0.Add(time.Second))
		}
	}},
	{"marking a missing message is not found", func(t *testing.T, s store.Store) {
		wantErr(t, `MarkMessageSent("nothing")`, s.MarkMessageSent(t.Context(), "nothing", T0), store.ErrNotFound)
		wantErr(t, `MarkMessageFailed("nothing")`, s.MarkMessageFailed(t.Context(), "nothing", "x", T0), store.ErrNotFound)
	}},
	{"two concurrent claimers never get the same message", func(t *testing.T, s store.Store) {
		const n = 50
		for i := range n {
			mustEnqueue(t, s, newMessage(fmt.Sprintf("msg-%02d", i), T0.Add(time.Duration(i)*time.Millisecond)))
		}
		var (
			mu  sync.Mutex
			got = map[string]int{} // message ID → claimer
		)
		parallel(t, 2, func(claimer int) {
			for {
				list, err := s.ClaimMessages(t.Context(), T0.Add(time.Second), 5, time.Minute)
				if err != nil {
					t.Errorf("claimer %d: ClaimMessages: %v", claimer, err)
					return
				}
				if len(list) == 0 {
					return
				}
				mu.Lock()
				for _, m := range list {
					if other, ok := got[m.ID]; ok {
						t.Errorf("claimer %d got %s, which claimer %d already had", claimer, m.ID, other)
					}
					got[m.ID] = claimer
				}
				mu.Unlock()
			}
		})
		if len(got) != n {
			t.Errorf("the claimers got %d distinct messages, want all %d", len(got), n)
		}
	}},
	{"messages are listed newest first, filtered and limited", func(t *testing.T, s store.Store) {
		for i, m := range []struct{ id, to, channel string }{
			{"kari-mail-1", "kari@example.no", store.ChannelEmail},
			{"ola-mail-1", "ola@example.no", store.ChannelEmail},
			{"kari-sms", "+4799999999", store.ChannelSMS},
			{"kari-mail-2", "kari@example.no", store.ChannelEmail},
			{"ola-mail-2", "ola@example.no", store.ChannelEmail},
		} {
			msg := newMessage(m.id, T0.Add(time.Duration(i)*time.Minute))
			msg.To, msg.Channel = m.to, m.channel
			mustEnqueue(t, s, msg)
		}
		for _, c := range []struct {
			filter store.MessageFilter
			want   []string
		}{
			{store.MessageFilter{}, []string{"ola-mail-2", "kari-mail-2", "kari-sms", "ola-mail-1", "kari-mail-1"}},
			{store.MessageFilter{To: "kari@example.no"}, []string{"kari-mail-2", "kari-mail-1"}},
			{store.MessageFilter{Channel: store.ChannelSMS}, []string{"kari-sms"}},
			{store.MessageFilter{To: "ola@example.no", Channel: store.ChannelEmail}, []string{"ola-mail-2", "ola-mail-1"}},
			{store.MessageFilter{To: "ola@example.no", Channel: store.ChannelSMS}, []string{}},
			{store.MessageFilter{Limit: 2}, []string{"ola-mail-2", "kari-mail-2"}},
			{store.MessageFilter{To: "nobody@example.no"}, []string{}},
		} {
			list, err := s.ListMessages(t.Context(), c.filter)
			call := fmt.Sprintf("ListMessages(%+v)", c.filter)
			must(t, call, err)
			wantEqual(t, call+" IDs", ids(list, messageID), c.want)
		}
	}},
	{"listing messages returns at most 100 unless asked for more", func(t *testing.T, s store.Store) {
		var all []string
		for i := range 101 {
			id := fmt.Sprintf("msg-%03d", i)
			mustEnqueue(t, s, newMessage(id, T0.Add(time.Duration(i)*time.Second)))
			all = append(all, id)
		}
		slices.Reverse(all)
		list, err := s.ListMessages(t.Context(), store.MessageFilter{})
		must(t, "ListMessages({})", err)
		wantEqual(t, "ListMessages({}) IDs", ids(list, messageID), all[:100])
		list, err = s.ListMessages(t.Context(), store.MessageFilter{Limit: 200})
		must(t, "ListMessages({Limit: 200})", err)
		wantEqual(t, "ListMessages({Limit: 200}) IDs", ids(list, messageID), all)
	}},
}
