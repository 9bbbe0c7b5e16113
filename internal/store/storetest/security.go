package storetest

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/store"
)

// A credential change leaves nothing else of the account standing
// (store.Security): not the other sessions, the remembered browsers, the
// second steps under way or a single app token, and it queues a logout
// message for every app of every session it ended. Either all of it
// happens or none of it does.

// footholds gives acct-1 everything an intruder could hold: three
// sessions ("sess-keep", the owner's, and "sess-a", "sess-b"), two
// remembered browsers, a pending second step and a recovery under way,
// and app grants with access and refresh tokens in each of the three
// sessions (two clients in sess-a). acct-2 gets a session, a browser, a
// flow and a grant of its own, which must survive.
func footholds(t *testing.T, s store.Store) {
	t.Helper()
	ctx := t.Context()
	mustCreateAccount(t, s, newAccount("acct-1", "kari"))
	mustCreateAccount(t, s, newAccount("acct-2", "ola"))
	mustAddEmail(t, s, newEmail("kari@example.no", "acct-1", true, T0))
	mustSetPassword(t, s, newPassword("acct-1"))
	for _, id := range []string{"sess-keep", "sess-a", "sess-b"} {
		mustCreateSession(t, s, newSession(id, "acct-1", T0))
	}
	mustCreateSession(t, s, newSession("sess-other", "acct-2", T0))
	mustCreateBrowser(t, s, newBrowser("tb-1", "acct-1", T0))
	mustCreateBrowser(t, s, newBrowser("tb-2", "acct-1", T0))
	mustCreateBrowser(t, s, newBrowser("tb-other", "acct-2", T0))
	mustCreateFlow(t, s, newFlow("mfa-1", "mfa", "acct-1"))
	mustCreateFlow(t, s, newFlow("rec-1", store.FlowRecovery, "acct-1"))
	mustCreateFlow(t, s, newFlow("add-1", store.FlowVerifyEmail, "acct-1"))
	mustCreateFlow(t, s, newFlow("mfa-other", "mfa", "acct-2"))
	for _, g := range []struct{ id, account, session, client string }{
		{"g-keep", "acct-1", "sess-keep", "client-1"},
		{"g-a1", "acct-1", "sess-a", "client-1"},
		{"g-a2", "acct-1", "sess-a", "client-2"},
		{"g-b1", "acct-1", "sess-b", "client-1"},
		{"g-gone", "acct-1", "sess-ended-earlier", "client-3"},
		{"g-other", "acct-2", "sess-other", "client-1"},
	} {
		r := newAuthRequest("req-" + g.id)
		r.ClientID, r.AccountID, r.SessionID = g.client, g.account, g.session
		must(t, "CreateAuthRequest(req-"+g.id+")", s.CreateAuthRequest(ctx, r))
		gr := newGrant(g.id, g.account)
		gr.ClientID, gr.SessionID = g.client, g.session
		_, err := s.RedeemAuthCode(ctx, hash("code of req-"+g.id), gr)
		must(t, "RedeemAuthCode(req-"+g.id+")", err)
		at := newAccessToken("at-"+g.id, g.id)
		at.ClientID, at.Subject = g.client, g.account
		must(t, "CreateAccessToken(at-"+g.id+")", s.CreateAccessToken(ctx, at))
		rat := newAccessToken("rat-"+g.id, g.id)
		rat.ClientID, rat.Subject = g.client, g.account
		must(t, "CreateRefreshToken(rt-"+g.id+")", s.CreateRefreshToken(ctx, newRefreshToken(g.id, g.id), rat))
	}
}

// wantTokens checks whether the access and refresh tokens of each grant
// still work.
func wantTokens(t *testing.T, s store.Store, live bool, grants ...string) {
	t.Helper()
	for _, g := range grants {
		_, _, err := s.GetAccessToken(t.Context(), "at-"+g)
		if live {
			must(t, "GetAccessToken(at-"+g+")", err)
		} else {
			wantErr(t, "GetAccessToken(at-"+g+") after the change", err, store.ErrNotFound)
		}
		_, gr, err := s.GetRefreshToken(t.Context(), hash("refresh token "+g))
		must(t, "GetRefreshToken("+g+")", err)
		if gr.RevokedAt.IsZero() != live {
			t.Errorf("refresh token of %s: grant RevokedAt = %v, want live = %v", g, gr.RevokedAt, live)
		}
		err = s.RotateRefreshToken(t.Context(), hash("refresh token "+g), T0.Add(2*time.Minute),
			newRefreshToken(g+"-next", g), newAccessToken("at-"+g+"-next", g))
		if live {
			must(t, "RotateRefreshToken("+g+")", err)
		} else {
			wantErr(t, "RotateRefreshToken("+g+") after the change", err, store.ErrNotFound)
		}
	}
}

func sessionIDs(t *testing.T, s store.Store, account string) []string {
	t.Helper()
	list, err := s.ListSessions(t.Context(), account)
	must(t, "ListSessions("+account+")", err)
	out := ids(list, sessionID)
	slices.Sort(out)
	return out
}

func sorted(s []string) []string {
	slices.Sort(s)
	return s
}

var allFlows = []string{"mfa-1", "rec-1", "add-1", "mfa-other"}

// logouts returns the queued back-channel logout messages as
// "client sub sid", sorted.
func logouts(t *testing.T, s store.Store) []string {
	t.Helper()
	msgs, err := s.ListMessages(t.Context(), store.MessageFilter{Channel: store.ChannelLogout})
	must(t, "ListMessages(logout)", err)
	out := []string{}
	for _, m := range msgs {
		var l store.Logout
		if err := json.Unmarshal([]byte(m.Text), &l); err != nil {
			t.Fatalf("logout message %s: text %q: %v", m.ID, m.Text, err)
		}
		if !m.NextAttemptAt.Equal(T0) || !m.SentAt.IsZero() {
			t.Errorf("logout message %s: due %v, sent %v; want due at T0 and unsent", m.ID, m.NextAttemptAt, m.SentAt)
		}
		out = append(out, m.To+" "+l.Subject+" "+l.SessionID)
	}
	slices.Sort(out)
	return out
}

var securityTests = []subtest{
	{"a credential change leaves nothing else of the account", func(t *testing.T, s store.Store) {
		footholds(t, s)
		pw := store.Password{AccountID: "acct-1", Hash: "$argon2id$new", History: []string{newPassword("acct-1").Hash}, ChangedAt: T0}
		notice := newMessage("notice-1", T0)
		res, err := s.ChangeSecurity(t.Context(), store.SecurityChange{
			AccountID: "acct-1", Keep: "sess-keep", At: T0,
			Password:  &pw,
			DropFlows: []string{"mfa", store.FlowRecovery},
			Messages:  []store.Message{notice},
		})
		must(t, "ChangeSecurity", err)

		got, err := s.GetPassword(t.Context(), "acct-1")
		must(t, "GetPassword", err)
		wantEqual(t, "password after the change", got.Hash, pw.Hash)
		wantEqual(t, "sessions of acct-1", sessionIDs(t, s, "acct-1"), []string{"sess-keep"})
		wantEqual(t, "sessions of acct-2", sessionIDs(t, s, "acct-2"), []string{"sess-other"})
		wantEqual(t, "ended", res.Ended, []string{"sess-a", "sess-b"})
		wantEqual(t, "browsers of acct-1", listBrowsers(t, s, "acct-1"), []string{})
		wantEqual(t, "browsers of acct-2", listBrowsers(t, s, "acct-2"), []string{"tb-other"})
		// The add-email flow was not among the kinds dropped.
		wantFlows(t, s, "flows after the change", allFlows, "add-1", "mfa-other")
		// Every app token of the account, the keeping session's too.
		wantEqual(t, "revoked", res.Revoked, 5)
		wantTokens(t, s, false, "g-keep", "g-a1", "g-a2", "g-b1", "g-gone")
		wantTokens(t, s, true, "g-other")
		// One logout per app of each ended session; none for the session
		// that stays, or one that had ended before.
		wantEqual(t, "logouts", logouts(t, s), []string{
			"client-1 acct-1 sess-a", "client-1 acct-1 sess-b", "client-2 acct-1 sess-a",
		})
		wantEqual(t, "res.Logouts", res.Logouts, 3)
		msgs, err := s.ListMessages(t.Context(), store.MessageFilter{Channel: store.ChannelEmail})
		must(t, "ListMessages(email)", err)
		wantEqual(t, "queued mail", ids(msgs, messageID), []string{"notice-1"})
	}},

	{"without a session to keep every session ends", func(t *testing.T, s store.Store) {
		footholds(t, s)
		res, err := s.ChangeSecurity(t.Context(), store.SecurityChange{AccountID: "acct-1", At: T0})
		must(t, "ChangeSecurity", err)
		wantEqual(t, "sessions of acct-1", sessionIDs(t, s, "acct-1"), []string{})
		wantEqual(t, "ended", res.Ended, []string{"sess-a", "sess-b", "sess-keep"})
		wantEqual(t, "logouts", len(logouts(t, s)), 4)
		wantEqual(t, "browsers", listBrowsers(t, s, "acct-1"), []string{})
		// No kinds named, no flow dropped.
		wantFlows(t, s, "flows", allFlows, allFlows...)
	}},

	{"a failing later step leaves no half-change", func(t *testing.T, s store.Store) {
		footholds(t, s)
		// The last step (the notices) fails: the message ID is taken.
		mustEnqueue(t, s, newMessage("taken", T0))
		pw := store.Password{AccountID: "acct-1", Hash: "$argon2id$new", ChangedAt: T0}
		_, err := s.ChangeSecurity(t.Context(), store.SecurityChange{
			AccountID: "acct-1", Keep: "sess-keep", At: T0, Password: &pw,
			AddEmail:  &store.Email{Address: "new@example.no", AccountID: "acct-1", VerifiedAt: T0, CreatedAt: T0},
			DropFlows: []string{"mfa"},
			Messages:  []store.Message{newMessage("fresh", T0), newMessage("taken", T0)},
		})
		wantErr(t, "ChangeSecurity with a taken message ID", err, store.ErrConflict)
		got, err := s.GetPassword(t.Context(), "acct-1")
		must(t, "GetPassword", err)
		wantEqual(t, "password", got.Hash, newPassword("acct-1").Hash)
		wantEqual(t, "emails", listEmails(t, s, "acct-1"), []string{"kari@example.no"})
		wantEqual(t, "sessions", sessionIDs(t, s, "acct-1"), []string{"sess-a", "sess-b", "sess-keep"})
		wantEqual(t, "browsers", sorted(listBrowsers(t, s, "acct-1")), []string{"tb-1", "tb-2"})
		wantFlows(t, s, "flows", allFlows, allFlows...)
		wantTokens(t, s, true, "g-keep", "g-a1", "g-b1")
		wantEqual(t, "logouts", logouts(t, s), []string{})
		msgs, err := s.ListMessages(t.Context(), store.MessageFilter{})
		must(t, "ListMessages", err)
		wantEqual(t, "messages", ids(msgs, messageID), []string{"taken"})
	}},

	{"an address is added and its code consumed together, or neither", func(t *testing.T, s store.Store) {
		footholds(t, s)
		consume := func(f store.Flow) (store.Flow, error) {
			if !f.ConsumedAt.IsZero() {
				return f, errBoom
			}
			f.ConsumedAt, f.State = T0, "verified"
			return f, nil
		}
		add := store.Email{Address: "Ny@Example.no", AccountID: "acct-1", VerifiedAt: T0, CreatedAt: T0}
		// The address is another account's: nothing happens, the code
		// is not used up.
		mustAddEmail(t, s, newEmail("ny@example.no", "acct-2", true, T0))
		_, err := s.ChangeSecurity(t.Context(), store.SecurityChange{
			AccountID: "acct-1", Keep: "sess-keep", At: T0, Flow: "add-1", FlowUpdate: consume, AddEmail: &add,
		})
		wantErr(t, "ChangeSecurity adding a taken address", err, store.ErrConflict)
		f, err := s.GetFlow(t.Context(), "add-1")
		must(t, "GetFlow(add-1)", err)
		if !f.ConsumedAt.IsZero() {
			t.Errorf("flow consumed although the address was not added")
		}
		wantEqual(t, "sessions", sessionIDs(t, s, "acct-1"), []string{"sess-a", "sess-b", "sess-keep"})

		must(t, "DeleteEmail(acct-2)", s.DeleteEmail(t.Context(), "acct-2", "ny@example.no"))
		res, err := s.ChangeSecurity(t.Context(), store.SecurityChange{
			AccountID: "acct-1", Keep: "sess-keep", At: T0, Flow: "add-1", FlowUpdate: consume, AddEmail: &add,
			PrimaryEmail: "ny@example.no",
		})
		must(t, "ChangeSecurity", err)
		wantEqual(t, "consumed", res.Flow.ConsumedAt, T0)
		wantEqual(t, "emails", listEmails(t, s, "acct-1"), []string{"Ny@Example.no", "kari@example.no"})
		wantEqual(t, "primary", primaries(t, s, "acct-1"), []string{"Ny@Example.no"})
		wantEqual(t, "sessions", sessionIDs(t, s, "acct-1"), []string{"sess-keep"})
		// The updater's own error comes back as it is; the code is used.
		_, err = s.ChangeSecurity(t.Context(), store.SecurityChange{
			AccountID: "acct-1", Keep: "sess-keep", At: T0, Flow: "add-1", FlowUpdate: consume,
		})
		if !errors.Is(err, errBoom) || err != errBoom {
			t.Errorf("ChangeSecurity with a used flow: err = %v, want errBoom unwrapped", err)
		}
		// Another account's flow is refused.
		_, err = s.ChangeSecurity(t.Context(), store.SecurityChange{AccountID: "acct-2", At: T0, Flow: "add-1", FlowUpdate: consume})
		wantErr(t, "ChangeSecurity on acct-1's flow for acct-2", err, store.ErrNotFound)
	}},

	{"an address is removed or made primary with the rest", func(t *testing.T, s store.Store) {
		footholds(t, s)
		mustAddEmail(t, s, newEmail("second@example.no", "acct-1", false, T0))
		_, err := s.ChangeSecurity(t.Context(), store.SecurityChange{AccountID: "acct-1", Keep: "sess-keep", At: T0, DeleteEmail: "nobody@example.no"})
		wantErr(t, "ChangeSecurity removing an address not owned", err, store.ErrNotFound)
		wantEqual(t, "sessions", sessionIDs(t, s, "acct-1"), []string{"sess-a", "sess-b", "sess-keep"})
		_, err = s.ChangeSecurity(t.Context(), store.SecurityChange{AccountID: "acct-1", Keep: "sess-keep", At: T0, PrimaryEmail: "nobody@example.no"})
		wantErr(t, "ChangeSecurity making an address not owned primary", err, store.ErrNotFound)
		_, err = s.ChangeSecurity(t.Context(), store.SecurityChange{AccountID: "acct-1", Keep: "sess-keep", At: T0,
			PrimaryEmail: "SECOND@example.no", DeleteEmail: "kari@example.no"})
		must(t, "ChangeSecurity", err)
		wantEqual(t, "emails", listEmails(t, s, "acct-1"), []string{"second@example.no"})
		wantEqual(t, "primary", primaries(t, s, "acct-1"), []string{"second@example.no"})
		wantEqual(t, "sessions", sessionIDs(t, s, "acct-1"), []string{"sess-keep"})
	}},

	{"an unknown account is not found and nothing changes", func(t *testing.T, s store.Store) {
		footholds(t, s)
		_, err := s.ChangeSecurity(t.Context(), store.SecurityChange{AccountID: "nobody", At: T0, Messages: []store.Message{newMessage("m", T0)}})
		wantErr(t, "ChangeSecurity(nobody)", err, store.ErrNotFound)
		msgs, err := s.ListMessages(t.Context(), store.MessageFilter{})
		must(t, "ListMessages", err)
		wantEqual(t, "messages", len(msgs), 0)
	}},

	{"two changes to one account at once both hold", func(t *testing.T, s store.Store) {
		footholds(t, s)
		parallel(t, 8, func(i int) {
			pw := store.Password{AccountID: "acct-1", Hash: "$argon2id$" + string(rune('a'+i)), ChangedAt: T0}
			_, err := s.ChangeSecurity(t.Context(), store.SecurityChange{AccountID: "acct-1", Keep: "sess-keep", At: T0, Password: &pw})
			if err != nil {
				t.Errorf("ChangeSecurity %d: %v", i, err)
			}
		})
		wantEqual(t, "sessions", sessionIDs(t, s, "acct-1"), []string{"sess-keep"})
		// Each session's apps heard once, whoever ended it.
		wantEqual(t, "logouts", len(logouts(t, s)), 3)
	}},
}
