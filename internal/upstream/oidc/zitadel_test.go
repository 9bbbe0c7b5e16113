package oidc_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"

	"github.com/portvakt/portvakt/internal/upstream"
	"github.com/portvakt/portvakt/internal/upstream/oidc"
)

// TestGeneric_AgainstZitadelExampleOP signs in at an OpenID Provider that
// nobody here wrote: the example OP shipped in the zitadel/oidc module,
// with its own login form, storage, keys and token endpoint. The generic
// connector discovers it, sends PKCE, nonce and state, and validates its
// ID token.
func TestGeneric_AgainstZitadelExampleOP(t *testing.T) {
	srv := httptest.NewUnstartedServer(nil)
	issuer := "http://" + srv.Listener.Addr().String()
	const cb = "http://localhost:9999/auth/callback"
	storage.RegisterClients(storage.WebClient("portvakt-generic", "generic-secret", cb))
	srv.Config.Handler = exampleop.SetupServer(issuer, storage.NewStorage(storage.NewUserStore(issuer)), slog.New(slog.NewTextHandler(io.Discard, nil)), false)
	srv.Start()
	defer srv.Close()

	c, err := oidc.Open(upstream.Config{ID: "partner", Type: upstream.TypeOIDC, Issuer: issuer, ClientID: "portvakt-generic", ClientSecret: "generic-secret"}, cb, nil)
	if err != nil {
		t.Fatal(err)
	}
	req := newRequest()
	u, err := c.AuthURL(t.Context(), req)
	if err != nil {
		t.Fatalf("AuthURL: %v", err)
	}
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	next := func(resp *http.Response, err error) *url.URL {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, err := resp.Request.URL.Parse(resp.Header.Get("Location"))
		if err != nil || resp.StatusCode/100 != 3 {
			t.Fatalf("%s %s = %s, Location %q", resp.Request.Method, resp.Request.URL, resp.Status, resp.Header.Get("Location"))
		}
		return loc
	}
	login := next(hc.Get(u)) // to the example OP's login page
	id := login.Query().Get("authRequestID")
	host := strings.Split(strings.TrimPrefix(issuer, "http://"), ":")[0]
	back := next(hc.PostForm(issuer+"/login/username", url.Values{"id": {id}, "username": {"test-user@" + host}, "password": {"verysecure"}}))
	for range 3 { // the OP's own callback, then ours
		if strings.HasPrefix(back.String(), cb) {
			break
		}
		back = next(hc.Get(back.String()))
	}
	q := back.Query()
	if q.Get("state") != req.State || q.Get("code") == "" {
		t.Fatalf("the example OP answered %s", back)
	}
	got, err := c.Exchange(t.Context(), req, upstream.Response{Code: q.Get("code"), State: q.Get("state"), Iss: q.Get("iss")})
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	if got.Subject != "id1" || got.Issuer != issuer || got.Email != "test-user@zitadel.ch" || !got.EmailVerified {
		t.Errorf("identity = %+v; want subject id1 with its verified address", got)
	}
	// The same code once more is refused by the OP.
	if _, err := c.Exchange(t.Context(), req, upstream.Response{Code: q.Get("code"), State: q.Get("state"), Iss: q.Get("iss")}); err == nil {
		t.Error("a replayed code was accepted")
	}
}
