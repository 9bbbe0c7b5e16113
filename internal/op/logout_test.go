package op_test

import (
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/op"
	"github.com/portvakt/portvakt/internal/store"
	"github.com/portvakt/portvakt/internal/testwait"
)

// TestLogout covers RP-initiated logout and back-channel logout.
func TestLogout(t *testing.T) {
	e := newEnv(t, envOptions{})

	t.Run("an id_token_hint ends the session at once and logs the clients out", func(t *testing.T) {
		defer e.use(t)()
		sess := e.signIn("acct-1", 1, "pwd")
		pk := newPKCE()
		tr := e.exchange("web", webSecret, e.code(e.authParams("web", pk, "openid")), pk.verifier)
		offline := e.offline(t)
		q := url.Values{"id_token_hint": {tr.IDToken}, "post_logout_redirect_uri": {e.srv.URL + "/bye"}, "state": {"s-1"}}
		h := e.get(e.srv.URL + "/end_session?" + q.Encode())
		if h.status != http.StatusFound || h.location == nil || h.location.Path != "/bye" || h.location.Query().Get("state") != "s-1" {
			t.Fatalf("end_session: %d %v %s; want a redirect to /bye with the state", h.status, h.location, h.body)
		}
		if _, err := e.st.GetSession(t.Context(), sess.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetSession after logout: %v, want ErrNotFound", err)
		}
		select {
		case lt := <-e.logouts:
			hdr, c := claims(t, lt)
			events, _ := c["events"].(map[string]any)
			if hdr["typ"] != "logout+jwt" || c["sid"] != sess.ID || c["sub"] != "acct-1" || c["aud"] == nil ||
				c["nonce"] != nil || c["iss"] != e.srv.URL || events["http://schemas.openid.net/event/backchannel-logout"] == nil {
				t.Errorf("logout token header %v claims %v", hdr, c)
			}
		case <-time.After(testwait.D(5 * time.Second)):
			t.Fatalf("no back-channel logout token arrived")
		}
		if e.active("web", webSecret, tr.AccessToken) {
			t.Errorf("the session's access token is active after logout")
		}
		if !e.active("web", webSecret, offline.RefreshToken) {
			t.Errorf("an offline_access refresh token died with the session")
		}
	})
	t.Run("a client hears of the logout after its access token expired", func(t *testing.T) {
		defer e.use(t)()
		sess := e.signIn("acct-1", 1, "pwd")
		pk := newPKCE()
		e.exchange("web", webSecret, e.code(e.authParams("web", pk, "openid")), pk.verifier)
		e.advance(time.Hour) // the access token (10m) is long dead
		if _, err := e.p.Sweep(t.Context()); err != nil {
			t.Fatal(err)
		}
		if err := e.p.BackChannelLogout(t.Context(), sess.ID); err != nil {
			t.Fatal(err)
		}
		select {
		case lt := <-e.logouts:
			if _, c := claims(t, lt); c["sid"] != sess.ID {
				t.Errorf("logout token sid %v, want %s", c["sid"], sess.ID)
			}
		case <-time.After(testwait.D(5 * time.Second)):
			t.Fatalf("no back-channel logout token arrived")
		}
	})
	t.Run("a post_logout_redirect_uri not registered is refused without a redirect", func(t *testing.T) {
		defer e.use(t)()
		e.signIn("acct-1", 1, "pwd")
		pk := newPKCE()
		tr := e.exchange("web", webSecret, e.code(e.authParams("web", pk, "openid")), pk.verifier)
		for _, uri := range []string{e.srv.URL + "/bye/", e.srv.URL + "/BYE", "https://evil.example/bye", e.srv.URL + "/bye/..;/x"} {
			q := url.Values{"id_token_hint": {tr.IDToken}, "post_logout_redirect_uri": {uri}}
			h := e.get(e.srv.URL + "/end_session?" + q.Encode())
			if h.status != http.StatusBadRequest || h.location != nil {
				t.Errorf("post_logout_redirect_uri %q: %d %v; want 400 without a redirect", uri, h.status, h.location)
			}
		}
		q := url.Values{"client_id": {"web"}, "post_logout_redirect_uri": {"https://evil.example/"}}
		if h := e.get(e.srv.URL + "/end_session?" + q.Encode()); h.status != http.StatusBadRequest || h.location != nil {
			t.Errorf("unregistered URI with client_id: %d %v", h.status, h.location)
		}
	})
	t.Run("without an id_token_hint the user confirms first", func(t *testing.T) {
		defer e.use(t)()
		sess := e.signIn("acct-1", 1, "pwd")
		q := url.Values{"client_id": {"web"}, "post_logout_redirect_uri": {e.srv.URL + "/bye"}, "state": {"s-2"}}
		h := e.get(e.srv.URL + "/end_session?" + q.Encode())
		if h.location == nil || h.location.Path != "/signed-out" || h.location.Query().Get("req") == "" {
			t.Fatalf("end_session without a hint: %d %v; want the confirmation page", h.status, h.location)
		}
		if _, err := e.st.GetSession(t.Context(), sess.ID); err != nil {
			t.Errorf("the session ended before the user confirmed: %v", err)
		}
		req := h.location.Query().Get("req")
		if _, err := e.p.EndSession(t.Context(), req+"x", sess); !errors.Is(err, op.ErrBadLogoutRequest) {
			t.Errorf("EndSession(forged request) = %v, want ErrBadLogoutRequest", err)
		}
		to, err := e.p.EndSession(t.Context(), req, sess)
		if err != nil {
			t.Fatal(err)
		}
		if u, _ := url.Parse(to); u == nil || u.Path != "/bye" || u.Query().Get("state") != "s-2" {
			t.Errorf("EndSession redirect %q, want /bye with the state", to)
		}
		if _, err := e.st.GetSession(t.Context(), sess.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("the session is alive after EndSession: %v", err)
		}
		e.advance(time.Hour)
		if _, err := e.p.EndSession(t.Context(), req, nil); !errors.Is(err, op.ErrBadLogoutRequest) {
			t.Errorf("EndSession(an expired request) = %v, want ErrBadLogoutRequest", err)
		}
	})
	t.Run("a forged id_token_hint ends nothing and names no client: the user is asked", func(t *testing.T) {
		defer e.use(t)()
		sess := e.signIn("acct-1", 1, "pwd")
		forged := "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhY2N0LTEiLCJzaWQiOiJ4In0."
		h := e.get(e.srv.URL + "/end_session?" + url.Values{"id_token_hint": {forged}}.Encode())
		if h.location == nil || h.location.Path != "/signed-out" || h.location.Query().Get("req") == "" {
			t.Fatalf("end_session with an alg=none hint: %d %v; want the confirmation page", h.status, h.location)
		}
		if _, err := e.st.GetSession(t.Context(), sess.ID); err != nil {
			t.Errorf("the session ended on a forged hint: %v", err)
		}
		// The forged hint's client is not believed: a redirect still needs
		// client_id.
		q := url.Values{"id_token_hint": {forged}, "post_logout_redirect_uri": {e.srv.URL + "/bye"}}
		if h := e.get(e.srv.URL + "/end_session?" + q.Encode()); h.status != http.StatusBadRequest || h.location != nil {
			t.Errorf("forged hint with a redirect: %d %v; want 400 without a redirect", h.status, h.location)
		}
	})
	t.Run("an expired id_token_hint asks first (issue 10, finding 11)", func(t *testing.T) {
		defer e.use(t)()
		sess := e.signIn("acct-1", 1, "pwd")
		pk := newPKCE()
		tr := e.exchange("web", webSecret, e.code(e.authParams("web", pk, "openid")), pk.verifier)
		e.advance(2 * time.Hour) // past the ID token's hour, within the session's life
		if _, err := e.st.GetSession(t.Context(), sess.ID); err != nil {
			t.Fatalf("the session did not outlive its ID token: %v", err)
		}
		q := url.Values{"id_token_hint": {tr.IDToken}, "post_logout_redirect_uri": {e.srv.URL + "/bye"}, "state": {"s-3"}}
		h := e.get(e.srv.URL + "/end_session?" + q.Encode())
		if h.location == nil || h.location.Path != "/signed-out" || h.location.Query().Get("req") == "" {
			t.Fatalf("end_session with an expired hint: %d %v; want the confirmation page", h.status, h.location)
		}
		if _, err := e.st.GetSession(t.Context(), sess.ID); err != nil {
			t.Errorf("the session ended before the user confirmed: %v", err)
		}
		// Its client is still known (the signature verified), so the
		// confirmed logout goes back to it.
		to, err := e.p.EndSession(t.Context(), h.location.Query().Get("req"), sess)
		if err != nil {
			t.Fatal(err)
		}
		if u, _ := url.Parse(to); u == nil || u.Path != "/bye" || u.Query().Get("state") != "s-3" {
			t.Errorf("EndSession redirect %q, want /bye with the state", to)
		}
	})
}
