package op_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/notify"
	"github.com/portvakt/portvakt/internal/op"
	"github.com/portvakt/portvakt/internal/store"
)

// deliverFunc adapts Provider.DeliverLogout to notify.Transport.
type deliverFunc func(context.Context, store.Message) error

func (f deliverFunc) Deliver(ctx context.Context, m store.Message) error { return f(ctx, m) }

// flakyRP is a relying party's back-channel logout endpoint that answers
// 503 to the first `fail` posts and keeps the tokens it took.
type flakyRP struct {
	fail   atomic.Int32
	posts  atomic.Int32
	mu     sync.Mutex
	tokens []string
}

func (rp *flakyRP) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rp.posts.Add(1)
	if rp.fail.Add(-1) >= 0 {
		http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
		return
	}
	r.ParseForm()
	rp.mu.Lock()
	rp.tokens = append(rp.tokens, r.PostForm.Get("logout_token"))
	rp.mu.Unlock()
}

func (rp *flakyRP) taken() []string {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	return append([]string(nil), rp.tokens...)
}

// TestQueuedBackChannelLogout: with Deps.LogoutQueued, a credential
// change's logouts (queued by store.ChangeSecurity in its transaction) and
// a plain sign-out's are delivered by the outbox worker, retried while the
// relying party is down, with a token signed at delivery; stale messages
// and messages for clients without a back-channel URI are dropped, not
// retried for ever.
func TestQueuedBackChannelLogout(t *testing.T) {
	rp := &flakyRP{}
	rpSrv := httptest.NewServer(rp)
	t.Cleanup(rpSrv.Close)
	var queued atomic.Int32
	e := newEnv(t, envOptions{
		configure: func(cfg *op.Config) { cfg.Clients[0].BackChannelLogoutURI = rpSrv.URL + "/bcl" },
		deps:      func(d *op.Deps) { d.LogoutQueued = func() { queued.Add(1) } },
	})
	w := &notify.Worker{Outbox: e.st, Transport: notify.ByChannel{store.ChannelLogout: deliverFunc(e.p.DeliverLogout)}, Now: e.now}

	t.Run("a credential change's logouts are retried until the app takes them", func(t *testing.T) {
		defer e.use(t)()
		sess := e.signIn("acct-1", 1, "pwd")
		pk := newPKCE()
		tr := e.exchange("web", webSecret, e.code(e.authParams("web", pk, "openid")), pk.verifier)
		res, err := e.st.ChangeSecurity(t.Context(), store.SecurityChange{AccountID: "acct-1", At: e.now()})
		if err != nil {
			t.Fatal(err)
		}
		if res.Logouts != 1 {
			t.Fatalf("ChangeSecurity queued %d logouts, want 1", res.Logouts)
		}
		if e.active("web", webSecret, tr.AccessToken) {
			t.Errorf("the app's access token is active after the credential change")
		}
		rp.fail.Store(2)
		for i := range 2 {
			if sent, failed, err := w.DeliverDue(t.Context()); err != nil || sent != 0 || failed != 1 {
				t.Fatalf("pass %d while the app is down: sent %d failed %d err %v; want 1 failed", i, sent, failed, err)
			}
			e.advance(time.Hour) // past any backoff
		}
		if sent, _, err := w.DeliverDue(t.Context()); err != nil || sent != 1 {
			t.Fatalf("pass once the app is back: sent %d, %v; want 1", sent, err)
		}
		got := rp.taken()
		if len(got) != 1 {
			t.Fatalf("the app took %d logout tokens, want 1", len(got))
		}
		hdr, c := claims(t, got[0])
		if hdr["typ"] != "logout+jwt" || c["sid"] != sess.ID || c["sub"] != "acct-1" {
			t.Errorf("logout token header %v claims %v", hdr, c)
		}
		// Signed at delivery, not when queued two hours earlier.
		if iat, _ := c["iat"].(float64); time.Unix(int64(iat), 0).Before(e.now().Add(-time.Minute)) {
			t.Errorf("logout token iat %v is from the queueing, not the delivery (now %v)", iat, e.now())
		}
		if sent, failed, _ := w.DeliverDue(t.Context()); sent+failed != 0 {
			t.Errorf("a delivered logout went again: sent %d failed %d", sent, failed)
		}
	})

	t.Run("a sign-out queues instead of posting on the request", func(t *testing.T) {
		defer e.use(t)()
		sess := e.signIn("acct-1", 1, "pwd")
		pk := newPKCE()
		e.exchange("web", webSecret, e.code(e.authParams("web", pk, "openid")), pk.verifier)
		before, posts := queued.Load(), rp.posts.Load()
		if err := e.p.BackChannelLogout(t.Context(), sess.ID); err != nil {
			t.Fatal(err)
		}
		if queued.Load() != before+1 || rp.posts.Load() != posts {
			t.Fatalf("BackChannelLogout: queued %d→%d, posts %d→%d; want queued, not posted",
				before, queued.Load(), posts, rp.posts.Load())
		}
		if sent, _, err := w.DeliverDue(t.Context()); err != nil || sent != 1 {
			t.Fatalf("DeliverDue: sent %d, %v; want 1", sent, err)
		}
		if n := len(rp.taken()); n != 2 {
			t.Errorf("the app has %d tokens, want 2", n)
		}
	})

	t.Run("stale, unknown-client and unreadable messages are dropped", func(t *testing.T) {
		defer e.use(t)()
		posts := rp.posts.Load()
		now := e.now()
		for _, m := range []store.Message{
			{ID: "stale", Channel: store.ChannelLogout, To: "web", Text: `{"sub":"acct-1","sid":"s"}`, CreatedAt: now.Add(-op.LogoutGiveUp - time.Minute)},
			{ID: "gone", Channel: store.ChannelLogout, To: "no-such-client", Text: `{"sub":"acct-1","sid":"s"}`, CreatedAt: now},
			{ID: "no-uri", Channel: store.ChannelLogout, To: "spa", Text: `{"sub":"acct-1","sid":"s"}`, CreatedAt: now},
			{ID: "garbled", Channel: store.ChannelLogout, To: "web", Text: `{"sub":`, CreatedAt: now},
		} {
			m.NextAttemptAt = now
			if err := e.st.EnqueueMessage(t.Context(), m); err != nil {
				t.Fatal(err)
			}
		}
		if sent, failed, err := w.DeliverDue(t.Context()); err != nil || sent != 4 || failed != 0 {
			t.Errorf("DeliverDue: sent %d failed %d err %v; want all 4 settled", sent, failed, err)
		}
		if rp.posts.Load() != posts {
			t.Errorf("a dropped message was posted")
		}
		if err := e.p.DeliverLogout(t.Context(), store.Message{Channel: store.ChannelEmail}); err == nil {
			t.Errorf("DeliverLogout of a mail: no error")
		}
	})
}
