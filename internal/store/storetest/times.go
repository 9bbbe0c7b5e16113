package storetest

import (
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/store"
)

var timeTests = []subtest{
	{"a time in another zone keeps its instant", func(t *testing.T, s store.Store) {
		ny, err := time.LoadLocation("America/New_York")
		must(t, `time.LoadLocation("America/New_York")`, err)
		inNY := T0.In(ny).Add(time.Hour) // 08:00 in New York, 13:00 UTC

		a := newAccount("acct-1", "")
		a.CreatedAt = inNY
		mustCreateAccount(t, s, a)
		gotA, err := s.GetAccount(t.Context(), "acct-1")
		must(t, `GetAccount("acct-1")`, err)
		if !gotA.CreatedAt.Equal(inNY) {
			t.Errorf(`GetAccount("acct-1").CreatedAt = %v, want the instant %v`, gotA.CreatedAt, inNY)
		}

		sess := newSession("sess-1", "acct-1", T0)
		sess.ExpiresAt = inNY
		mustCreateSession(t, s, sess)
		gotS, err := s.GetSession(t.Context(), "sess-1")
		must(t, `GetSession("sess-1")`, err)
		if !gotS.ExpiresAt.Equal(inNY) {
			t.Errorf(`GetSession("sess-1").ExpiresAt = %v, want the instant %v`, gotS.ExpiresAt, inNY)
		}
		// Comparisons are by instant too: 12:59:59.999 UTC is before 08:00 in New York.
		n, err := s.DeleteExpiredSessions(t.Context(), inNY.UTC().Add(-time.Millisecond), time.Time{})
		must(t, "DeleteExpiredSessions(a moment before the expiry, in UTC)", err)
		wantEqual(t, "DeleteExpiredSessions(a moment before the expiry, in UTC) count", n, 0)
		n, err = s.DeleteExpiredSessions(t.Context(), inNY.UTC(), time.Time{})
		must(t, "DeleteExpiredSessions(the expiry, in UTC)", err)
		wantEqual(t, "DeleteExpiredSessions(the expiry, in UTC) count", n, 1)

		m := newMessage("msg-1", T0)
		m.NextAttemptAt = inNY
		mustEnqueue(t, s, m)
		claimed, err := s.ClaimMessages(t.Context(), inNY.UTC(), 10, time.Minute)
		must(t, "ClaimMessages(the due time, in UTC)", err)
		wantEqual(t, "ClaimMessages(the due time, in UTC) IDs", ids(claimed, messageID), []string{"msg-1"})
	}},
	{"times are kept to the millisecond", func(t *testing.T, s store.Store) {
		fine := T0.Add(123*time.Millisecond + 456789*time.Nanosecond)
		want := T0.Add(123 * time.Millisecond)

		a := newAccount("acct-1", "")
		a.CreatedAt, a.UpdatedAt = fine, fine
		mustCreateAccount(t, s, a)
		gotA, err := s.GetAccount(t.Context(), "acct-1")
		must(t, `GetAccount("acct-1")`, err)
		wantEqual(t, `GetAccount("acct-1").CreatedAt`, gotA.CreatedAt, want)

		sess := newSession("sess-1", "acct-1", T0)
		sess.AuthTime = fine
		mustCreateSession(t, s, sess)
		gotS, err := s.GetSession(t.Context(), "sess-1")
		must(t, `GetSession("sess-1")`, err)
		wantEqual(t, `GetSession("sess-1").AuthTime`, gotS.AuthTime, want)

		// What an update returns is what a read returns.
		upd, err := s.UpdateSession(t.Context(), "sess-1", func(sess store.Session) (store.Session, error) {
			sess.LastSeenAt = fine
			return sess, nil
		})
		must(t, `UpdateSession("sess-1")`, err)
		wantEqual(t, `UpdateSession("sess-1").LastSeenAt`, upd.LastSeenAt, want)
		gotS, err = s.GetSession(t.Context(), "sess-1")
		must(t, `GetSession("sess-1")`, err)
		wantEqual(t, `GetSession("sess-1") after the update`, gotS, upd)

		m := newMessage("msg-1", fine)
		mustEnqueue(t, s, m)
		list, err := s.ListMessages(t.Context(), store.MessageFilter{})
		must(t, "ListMessages({})", err)
		if len(list) == 1 {
			wantEqual(t, "ListMessages({})[0].CreatedAt", list[0].CreatedAt, want)
		}
	}},
	{"zero times read back as zero", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, store.Account{ID: "acct-1"})
		gotA, err := s.GetAccount(t.Context(), "acct-1")
		must(t, `GetAccount("acct-1")`, err)
		wantEqual(t, `GetAccount("acct-1") of a zero account but the ID`, gotA, store.Account{ID: "acct-1"})
		if !gotA.CreatedAt.IsZero() || !gotA.UpdatedAt.IsZero() {
			t.Errorf(`GetAccount("acct-1") times = %v, %v; want zero`, gotA.CreatedAt, gotA.UpdatedAt)
		}

		sess := store.Session{ID: "sess-1", TokenHash: hash("t"), AccountID: "acct-1"}
		mustCreateSession(t, s, sess)
		gotS, err := s.GetSession(t.Context(), "sess-1")
		must(t, `GetSession("sess-1")`, err)
		for name, v := range map[string]time.Time{
			"CreatedAt": gotS.CreatedAt, "LastSeenAt": gotS.LastSeenAt,
			"ExpiresAt": gotS.ExpiresAt, "AuthTime": gotS.AuthTime,
		} {
			if !v.IsZero() {
				t.Errorf(`GetSession("sess-1").%s = %v, want zero`, name, v)
			}
		}

		mustEnqueue(t, s, store.Message{ID: "msg-1", Channel: store.ChannelEmail, To: "kari@example.no"})
		list, err := s.ListMessages(t.Context(), store.MessageFilter{})
		must(t, "ListMessages({})", err)
		wantEqual(t, "ListMessages({}) of a message with zero times", list,
			[]store.Message{{ID: "msg-1", Channel: store.ChannelEmail, To: "kari@example.no"}})
	}},
}
