package flow_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/flow"
	"github.com/portvakt/portvakt/internal/secret"
	"github.com/portvakt/portvakt/internal/session"
	"github.com/portvakt/portvakt/internal/store"
)

// composing is the test mailbox that is also a flow.Composer: codes are
// sent (recorded), security notices are composed into the store's outbox
// inside the change's transaction.
type composing struct {
	*mailbox
	queued atomic.Int32
}

func (c *composing) Compose(to, lang, template string, data map[string]any) (store.Message, error) {
	return store.Message{ID: secret.ID(), Channel: store.ChannelEmail, To: to, Subject: template, Locale: lang,
		CreatedAt: time.Unix(0, 0), NextAttemptAt: time.Unix(0, 0)}, nil
}

func (c *composing) Queued() { c.queued.Add(1) }

// failLast makes every ChangeSecurity fail at its last step (a message
// whose ID is taken), in the real database, as a crash between the steps
// would.
type failLast struct {
	flow.Store
	on bool
}

func (f *failLast) ChangeSecurity(ctx context.Context, c store.SecurityChange) (store.SecurityResult, error) {
	if f.on {
		c.Messages = append(c.Messages, store.Message{ID: "taken", Channel: store.ChannelEmail, To: "x@example.no"})
	}
	return f.Store.ChangeSecurity(ctx, c)
}

// grant gives the account an app grant in the session, as a sign-in to
// client through it would.
func grant(t *testing.T, e *env, id, accountID, sessionID, client string) {
	t.Helper()
	now := e.clock.Now()
	r := store.AuthRequest{ID: "req-" + id, ClientID: client, RedirectURI: "https://app.example/cb", Scopes: []string{"openid"},
		Done: true, AccountID: accountID, SessionID: sessionID, CodeHash: secret.Hash("code " + id),
		CodeExpiresAt: now.Add(time.Minute), CreatedAt: now, ExpiresAt: now.Add(time.Hour), MaxAge: -1}
	if err := e.db.CreateAuthRequest(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	g := store.Grant{ID: id, ClientID: client, AccountID: accountID, SessionID: sessionID, Scopes: []string{"openid"},
		AuthTime: now, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if _, err := e.db.RedeemAuthCode(t.Context(), secret.Hash("code "+id), g); err != nil {
		t.Fatal(err)
	}
}

func revoked(t *testing.T, e *env, id string) bool {
	t.Helper()
	g, err := e.db.GetGrant(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return !g.RevokedAt.IsZero()
}

func outbox(t *testing.T, e *env, to string) []string {
	t.Helper()
	msgs, err := e.db.ListMessages(t.Context(), store.MessageFilter{To: to})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range msgs {
		out = append(out, m.Subject)
	}
	return out
}

// TestPasswordChangeIsOneTransaction: a password change ends the other
// sessions (queueing a back-channel logout for their apps), forgets the
// remembered browsers, drops second steps under way, revokes every app
// token and queues the notice, together; when the transaction fails at
// its last step, none of it happened and the old password still works.
func TestPasswordChangeIsOneTransaction(t *testing.T) {
	dialects(t, func(t *testing.T, e *env) {
		mb := &composing{mailbox: e.mail}
		e.svc.Mailer = mb
		fl := &failLast{Store: e.db}
		e.svc.Store = fl
		res := signUp(t, e, "siri@example.no")
		other := signInAgain(t, e, "siri@example.no")
		otherSess, err := e.svc.Sessions.Load(t.Context(), other)
		if err != nil {
			t.Fatal(err)
		}
		who := flow.Who{Account: res.Account, Session: res.Session}
		grant(t, e, "g-here", res.Account.ID, res.Session.ID, "app-1")
		grant(t, e, "g-there", res.Account.ID, otherSess.ID, "app-2")
		now := e.clock.Now()
		if err := e.db.CreateTrustedBrowser(t.Context(), store.TrustedBrowser{ID: "tb", AccountID: res.Account.ID,
			TokenHash: secret.Hash("tb"), CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if err := e.db.CreateFlow(t.Context(), store.Flow{ID: "mfa-pending", Kind: flow.FlowMFA, AccountID: res.Account.ID,
			CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if err := e.db.EnqueueMessage(t.Context(), store.Message{ID: "taken", Channel: store.ChannelEmail, To: "x@example.no"}); err != nil {
			t.Fatal(err)
		}

		fl.on = true
		if _, err := e.svc.ChangePassword(t.Context(), browserA, who, goodPassword, "a brand new long passphrase"); err == nil {
			t.Fatal("ChangePassword succeeded although its transaction failed")
		}
		if _, err := e.svc.Sessions.Load(t.Context(), other); err != nil {
			t.Errorf("a failed change ended the other session: %v", err)
		}
		if revoked(t, e, "g-here") || revoked(t, e, "g-there") {
			t.Error("a failed change revoked app tokens")
		}
		if got := outbox(t, e, "siri@example.no"); len(got) != 0 {
			t.Errorf("a failed change queued %v", got)
		}
		if _, err := e.db.GetFlow(t.Context(), "mfa-pending"); err != nil {
			t.Errorf("a failed change dropped the pending second step: %v", err)
		}
		lf, _ := e.svc.StartLogin(t.Context(), browserB, "siri@example.no", false)
		if _, err := e.svc.LoginPassword(t.Context(), browserB, lf.ID, goodPassword); err != nil {
			t.Errorf("after a failed change the old password: %v", err)
		}
		other = signInAgain(t, e, "siri@example.no")

		fl.on = false
		token, err := e.svc.ChangePassword(t.Context(), browserA, who, goodPassword, "a brand new long passphrase")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Sessions.Load(t.Context(), other); !errors.Is(err, session.ErrNoSession) {
			t.Errorf("the other session survived: %v", err)
		}
		if _, err := e.svc.Sessions.Load(t.Context(), token); err != nil {
			t.Errorf("this session, rotated: %v", err)
		}
		if !revoked(t, e, "g-here") || !revoked(t, e, "g-there") {
			t.Error("an app token survived the password change")
		}
		if bs, _ := e.db.ListTrustedBrowsers(t.Context(), res.Account.ID); len(bs) != 0 {
			t.Errorf("remembered browsers survived: %v", bs)
		}
		if _, err := e.db.GetFlow(t.Context(), "mfa-pending"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("the pending second step survived: %v", err)
		}
		if got := outbox(t, e, "siri@example.no"); len(got) != 1 || got[0] != "password_changed" {
			t.Errorf("queued for the owner: %v, want the password_changed notice", got)
		}
		if logouts := outbox(t, e, "app-2"); len(logouts) != 1 {
			t.Errorf("back-channel logouts queued for the other session's app: %d, want 1", len(logouts))
		}
		if logouts := outbox(t, e, "app-1"); len(logouts) != 0 {
			t.Errorf("a logout was queued for the session that stays")
		}
		if mb.queued.Load() != 1 {
			t.Errorf("Queued called %d times, want 1", mb.queued.Load())
		}
	})
}

// TestResetRevokesAppTokens: the invariant once kept by the web handlers
// is the flow's own now, so any caller of a reset gets it.
func TestResetRevokesAppTokens(t *testing.T) {
	e := newEnv(t)
	res := signUp(t, e, "eva@example.no")
	grant(t, e, "g-1", res.Account.ID, res.Session.ID, "app-1")
	f, err := e.svc.StartRecovery(t.Context(), browserB, "eva@example.no", flow.MethodCode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.VerifyRecoveryCode(t.Context(), browserB, f.ID, e.mail.last(t, "eva@example.no").Data["code"].(string)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.CompleteRecovery(t.Context(), browserB, f.ID, "a brand new long passphrase"); err != nil {
		t.Fatal(err)
	}
	if !revoked(t, e, "g-1") {
		t.Error("an app token survived the reset")
	}
	if got := outbox(t, e, "app-1"); len(got) != 1 {
		t.Errorf("back-channel logouts queued: %d, want 1", len(got))
	}
	// The used flow is kept, used: its code cannot be replayed.
	if _, err := e.svc.CompleteRecovery(t.Context(), browserB, f.ID, "another brand new passphrase"); err == nil {
		t.Error("the used recovery flow set a password again")
	}
}

// TestAddEmailCodeUsedOnlyWithTheAddress: when the address cannot be added
// (another account holds it), the proven code is not used up; once the
// address is free the same flow finishes without a new code, and then it
// is used.
func TestAddEmailCodeUsedOnlyWithTheAddress(t *testing.T) {
	dialects(t, func(t *testing.T, e *env) {
		res := signUp(t, e, "siri@example.no")
		who := flow.Who{Account: res.Account, Session: res.Session}
		taken := signUp(t, e, "ola@example.no")
		if err := e.db.AddEmail(t.Context(), store.Email{Address: "shared@example.no", AccountID: taken.Account.ID,
			VerifiedAt: e.clock.Now(), CreatedAt: e.clock.Now()}); err != nil {
			t.Fatal(err)
		}
		f, err := e.svc.StartAddEmail(t.Context(), browserA, who, "shared@example.no", goodPassword, true)
		if err != nil {
			t.Fatal(err)
		}
		code := e.mail.last(t, "shared@example.no").Data["code"].(string)
		_, err = e.svc.VerifyAddEmail(t.Context(), browserA, who, f.ID, code)
		wantProblem(t, err, "email.taken")
		if got, _ := e.db.GetFlow(t.Context(), f.ID); !got.ConsumedAt.IsZero() {
			t.Fatal("the code was used up although the address was not added")
		}
		if err := e.db.DeleteEmail(t.Context(), taken.Account.ID, "shared@example.no"); err != nil {
			t.Fatal(err)
		}
		added, err := e.svc.VerifyAddEmail(t.Context(), browserA, who, f.ID, "")
		if err != nil {
			t.Fatalf("finishing the proven flow: %v", err)
		}
		if added.Address != "shared@example.no" || !added.Primary {
			t.Errorf("added %+v", added)
		}
		if _, err := e.svc.VerifyAddEmail(t.Context(), browserA, who, f.ID, code); err == nil {
			t.Error("the used flow added the address again")
		}
		// Another browser cannot finish someone's proven flow.
		f2, err := e.svc.StartAddEmail(t.Context(), browserA, who, "third@example.no", goodPassword, false)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.VerifyAddEmail(t.Context(), browserB, who, f2.ID, e.mail.last(t, "third@example.no").Data["code"].(string)); err == nil {
			t.Error("another browser verified the flow")
		}
	})
}
