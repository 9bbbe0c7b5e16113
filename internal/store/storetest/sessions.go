package storetest

import (
	"crypto/sha256"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/store"
)

// hash returns the token digest used for a test session.
func hash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// newSession returns a session with every field set, created at created.
func newSession(id, accountID string, created time.Time) store.Session {
	return store.Session{
		ID:         id,
		TokenHash:  hash("token of " + id),
		AccountID:  accountID,
		CreatedAt:  created,
		LastSeenAt: created.Add(time.Minute),
		ExpiresAt:  created.Add(30 * 24 * time.Hour),
		AuthTime:   created,
		// A step-up after the sign-in: the full one was earlier.
		FullAuthTime: created.Add(-time.Minute),
		AMR:          []string{"pwd", "otp"},
		Level:        2,
		Methods:      []string{"password", "totp"},
		Via:          store.Via{Upstream: "idporten", ACR: "idporten-loa-high", AMR: []string{"BankID"}, IDTokenSealed: []byte{1, 2, 3}},
		UserAgent:    "Mozilla/5.0 (X11; Linux x86_64)",
		IP:           "192.0.2.7",
	}
}

func mustCreateSession(tb testing.TB, s store.Store, sess store.Session) store.Session {
	tb.Helper()
	must(tb, "CreateSession("+sess.ID+")", s.CreateSession(tb.Context(), sess))
	return sess
}

func sessionID(s store.Session) string { return s.ID }

var sessionTests = []subtest{
	{"a created session reads back by ID and by token hash", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		want := mustCreateSession(t, s, newSession("sess-1", "acct-1", T0))
		got, err := s.GetSession(t.Context(), "sess-1")
		must(t, `GetSession("sess-1")`, err)
		wantEqual(t, `GetSession("sess-1")`, got, want)
		got, err = s.GetSessionByTokenHash(t.Context(), want.TokenHash)
		must(t, "GetSessionByTokenHash(hash of sess-1)", err)
		wantEqual(t, "GetSessionByTokenHash(hash of sess-1)", got, want)
	}},
	{"a session for an unknown account is not found", func(t *testing.T, s store.Store) {
		err := s.CreateSession(t.Context(), newSession("sess-1", "nobody", T0))
		wantErr(t, `CreateSession("sess-1") for account "nobody"`, err, store.ErrNotFound)
		_, err = s.GetSession(t.Context(), "sess-1")
		wantErr(t, `GetSession("sess-1") after the failed create`, err, store.ErrNotFound)
	}},
	{"a second session with the same ID is a conflict", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		mustCreateSession(t, s, newSession("sess-1", "acct-1", T0))
		again := newSession("sess-1", "acct-1", T0)
		again.TokenHash = hash("another token")
		wantErr(t, `CreateSession("sess-1") again`, s.CreateSession(t.Context(), again), store.ErrConflict)
	}},
	{"a second session with the same token hash is a conflict", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		first := mustCreateSession(t, s, newSession("sess-1", "acct-1", T0))
		second := newSession("sess-2", "acct-1", T0)
		second.TokenHash = first.TokenHash
		wantErr(t, `CreateSession("sess-2") with the token hash of sess-1`, s.CreateSession(t.Context(), second), store.ErrConflict)
	}},
	{"a missing session is not found", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		mustCreateSession(t, s, newSession("sess-1", "acct-1", T0))
		_, err := s.GetSession(t.Context(), "nothing")
		wantErr(t, `GetSession("nothing")`, err, store.ErrNotFound)
		_, err = s.GetSessionByTokenHash(t.Context(), hash("nothing"))
		wantErr(t, `GetSessionByTokenHash(hash("nothing"))`, err, store.ErrNotFound)
		_, err = s.UpdateSession(t.Context(), "nothing", func(sess store.Session) (store.Session, error) {
			t.Errorf(`UpdateSession("nothing") called the updater with %+v`, sess)
			return sess, nil
		})
		wantErr(t, `UpdateSession("nothing")`, err, store.ErrNotFound)
		wantErr(t, `DeleteSession("nothing")`, s.DeleteSession(t.Context(), "nothing"), store.ErrNotFound)
		must(t, `DeleteSession("sess-1")`, s.DeleteSession(t.Context(), "sess-1"))
		wantErr(t, `DeleteSession("sess-1") twice`, s.DeleteSession(t.Context(), "sess-1"), store.ErrNotFound)
	}},
	{"rotating a session's token hash retires the old one", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		old := mustCreateSession(t, s, newSession("sess-1", "acct-1", T0))
		got, err := s.UpdateSession(t.Context(), "sess-1", func(sess store.Session) (store.Session, error) {
			sess.TokenHash = hash("rotated")
			sess.LastSeenAt = T0.Add(time.Hour)
			sess.AuthTime = T0.Add(time.Hour)
			sess.AMR = append(sess.AMR, "hwk")
			sess.Level = 3
			sess.IP = "2001:db8::1"
			return sess, nil
		})
		must(t, `UpdateSession("sess-1")`, err)
		want := old
		want.TokenHash, want.LastSeenAt, want.AuthTime = hash("rotated"), T0.Add(time.Hour), T0.Add(time.Hour)
		want.AMR, want.Level, want.IP = []string{"pwd", "otp", "hwk"}, 3, "2001:db8::1"
		wantEqual(t, `UpdateSession("sess-1") result`, got, want)
		got, err = s.GetSessionByTokenHash(t.Context(), hash("rotated"))
		must(t, "GetSessionByTokenHash(new hash)", err)
		wantEqual(t, "GetSessionByTokenHash(new hash)", got, want)
		_, err = s.GetSessionByTokenHash(t.Context(), old.TokenHash)
		wantErr(t, "GetSessionByTokenHash(old hash)", err, store.ErrNotFound)
	}},
	{"rotating to a token hash that is taken is a conflict", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		first := mustCreateSession(t, s, newSession("sess-1", "acct-1", T0))
		want := mustCreateSession(t, s, newSession("sess-2", "acct-1", T0))
		_, err := s.UpdateSession(t.Context(), "sess-2", func(sess store.Session) (store.Session, error) {
			sess.TokenHash = first.TokenHash
			return sess, nil
		})
		wantErr(t, `UpdateSession("sess-2") to the token hash of sess-1`, err, store.ErrConflict)
		got, err := s.GetSession(t.Context(), "sess-2")
		must(t, `GetSession("sess-2")`, err)
		wantEqual(t, `GetSession("sess-2") after the conflict`, got, want)
	}},
	{"an updater error aborts the session update and writes nothing", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		want := mustCreateSession(t, s, newSession("sess-1", "acct-1", T0))
		_, err := s.UpdateSession(t.Context(), "sess-1", func(sess store.Session) (store.Session, error) {
			sess.TokenHash, sess.Level = hash("rotated"), 9
			return sess, errBoom
		})
		wantErr(t, `UpdateSession("sess-1") with a failing updater`, err, errBoom)
		got, err := s.GetSession(t.Context(), "sess-1")
		must(t, `GetSession("sess-1")`, err)
		wantEqual(t, `GetSession("sess-1") after the failed update`, got, want)
	}},
	{"sessions are listed newest first", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		mustCreateAccount(t, s, newAccount("acct-2", ""))
		mustCreateSession(t, s, newSession("middle", "acct-1", T0.Add(time.Hour)))
		oldest := mustCreateSession(t, s, newSession("oldest", "acct-1", T0))
		mustCreateSession(t, s, newSession("newest", "acct-1", T0.Add(2*time.Hour)))
		mustCreateSession(t, s, newSession("other", "acct-2", T0.Add(time.Hour)))
		list, err := s.ListSessions(t.Context(), "acct-1")
		must(t, `ListSessions("acct-1")`, err)
		wantEqual(t, `ListSessions("acct-1") IDs`, ids(list, sessionID), []string{"newest", "middle", "oldest"})
		if len(list) == 3 {
			wantEqual(t, `ListSessions("acct-1")[2]`, list[2], oldest)
		}
		list, err = s.ListSessions(t.Context(), "nobody")
		must(t, `ListSessions("nobody")`, err)
		wantEqual(t, `ListSessions("nobody") IDs`, ids(list, sessionID), []string{})
	}},
	{"deleting an account's sessions can spare one", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		mustCreateAccount(t, s, newAccount("acct-2", ""))
		for i, id := range []string{"a", "b", "c"} {
			mustCreateSession(t, s, newSession(id, "acct-1", T0.Add(time.Duration(i)*time.Minute)))
		}
		mustCreateSession(t, s, newSession("other", "acct-2", T0))

		n, err := s.DeleteAccountSessions(t.Context(), "acct-1", "b")
		must(t, `DeleteAccountSessions("acct-1", "b")`, err)
		wantEqual(t, `DeleteAccountSessions("acct-1", "b") count`, n, 2)
		list, err := s.ListSessions(t.Context(), "acct-1")
		must(t, `ListSessions("acct-1")`, err)
		wantEqual(t, `ListSessions("acct-1") IDs after sparing "b"`, ids(list, sessionID), []string{"b"})

		n, err = s.DeleteAccountSessions(t.Context(), "acct-1", "")
		must(t, `DeleteAccountSessions("acct-1", "")`, err)
		wantEqual(t, `DeleteAccountSessions("acct-1", "") count`, n, 1)
		n, err = s.DeleteAccountSessions(t.Context(), "acct-1", "")
		must(t, `DeleteAccountSessions("acct-1", "") again`, err)
		wantEqual(t, `DeleteAccountSessions("acct-1", "") count again`, n, 0)

		_, err = s.GetSession(t.Context(), "other")
		must(t, `GetSession("other") of another account`, err)
	}},
	{"expired sessions are deleted by absolute and by idle timeout", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		now, idleBefore := T0, T0.Add(-30*time.Minute)
		for _, c := range []struct {
			id                  string
			lastSeen, expiresAt time.Time
		}{
			{"fresh", now.Add(-time.Minute), now.Add(time.Hour)},
			{"active just after the idle bound", idleBefore.Add(time.Millisecond), now.Add(time.Hour)},
			{"expired", now.Add(-time.Minute), now.Add(-time.Millisecond)},
			// "not after now": expiring exactly now counts as expired.
			{"expiring now", now.Add(-time.Minute), now},
			{"idle", idleBefore.Add(-time.Minute), now.Add(time.Hour)},
			{"idle exactly at the bound", idleBefore, now.Add(time.Hour)},
		} {
			sess := newSession(c.id, "acct-1", T0.Add(-2*time.Hour))
			sess.LastSeenAt, sess.ExpiresAt = c.lastSeen, c.expiresAt
			mustCreateSession(t, s, sess)
		}
		n, err := s.DeleteExpiredSessions(t.Context(), now, idleBefore)
		must(t, "DeleteExpiredSessions(T0, T0-30m)", err)
		wantEqual(t, "DeleteExpiredSessions(T0, T0-30m) count", n, 4)
		list, err := s.ListSessions(t.Context(), "acct-1")
		must(t, `ListSessions("acct-1")`, err)
		wantEqual(t, "sessions left after DeleteExpiredSessions", ids(list, sessionID),
			[]string{"fresh", "active just after the idle bound"})
	}},
	{"twenty parallel updates of one session are all applied", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		sess := newSession("sess-1", "acct-1", T0)
		sess.Level = 0
		mustCreateSession(t, s, sess)
		parallel(t, 20, func(int) {
			_, err := s.UpdateSession(t.Context(), "sess-1", func(sess store.Session) (store.Session, error) {
				sess.Level++
				return sess, nil
			})
			if err != nil {
				t.Errorf(`UpdateSession("sess-1"): %v`, err)
			}
		})
		got, err := s.GetSession(t.Context(), "sess-1")
		must(t, `GetSession("sess-1")`, err)
		if got.Level != 20 {
			t.Errorf(`GetSession("sess-1").Level = %d after 20 parallel increments from 0, want 20`, got.Level)
		}
	}},
	{"an empty AMR reads back as empty", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		sess := newSession("sess-1", "acct-1", T0)
		sess.AMR = nil
		mustCreateSession(t, s, sess)
		got, err := s.GetSession(t.Context(), "sess-1")
		must(t, `GetSession("sess-1")`, err)
		if len(got.AMR) != 0 {
			t.Errorf(`GetSession("sess-1").AMR = %q, want empty`, got.AMR)
		}
	}},
}
