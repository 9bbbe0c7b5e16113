package op_test

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/op"
	"github.com/portvakt/portvakt/internal/store"
)

// offline runs a code flow of the web client for openid offline_access
// and returns its tokens.
func (e *env) offline(t *testing.T) tokenResponse {
	t.Helper()
	pk := newPKCE()
	tr := e.exchange("web", webSecret, e.code(e.authParams("web", pk, "openid offline_access api")), pk.verifier)
	if tr.status != http.StatusOK || tr.RefreshToken == "" {
		t.Fatalf("code exchange: %d %s %s, refresh token %q", tr.status, tr.Error, tr.Description, tr.RefreshToken)
	}
	return tr
}

// TestToken_CodeReplay: a code works once; the second redemption is
// refused and revokes what the first issued (RFC 6749 §4.1.2, ASVS
// 10.4.2); of twenty parallel redemptions exactly one gets tokens.
func TestToken_CodeReplay(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.signIn("acct-1", 1, "pwd")

	t.Run("a replayed code revokes the tokens it gave", func(t *testing.T) {
		defer e.use(t)()
		pk := newPKCE()
		code := e.code(e.authParams("web", pk, "openid offline_access"))
		first := e.exchange("web", webSecret, code, pk.verifier)
		if first.status != http.StatusOK {
			t.Fatalf("first exchange: %d %s", first.status, first.Error)
		}
		if !e.active("web", webSecret, first.AccessToken) {
			t.Fatalf("the access token is not active after the first exchange")
		}
		second := e.exchange("web", webSecret, code, pk.verifier)
		if second.status != http.StatusBadRequest || second.Error != "invalid_grant" || second.AccessToken != "" {
			t.Fatalf("second exchange: %d %s; want 400 invalid_grant and no tokens", second.status, second.Error)
		}
		if e.active("web", webSecret, first.AccessToken) {
			t.Errorf("the first access token is still active after the code was replayed")
		}
		if status, _ := e.userinfo(first.AccessToken); status != http.StatusUnauthorized {
			t.Errorf("userinfo with the first access token: %d, want 401", status)
		}
		if tr := e.refresh("web", webSecret, first.RefreshToken); tr.Error != "invalid_grant" {
			t.Errorf("refresh with the first refresh token: %d %s, want invalid_grant", tr.status, tr.Error)
		}
	})
	t.Run("twenty parallel redemptions give tokens once", func(t *testing.T) {
		defer e.use(t)()
		pk := newPKCE()
		code := e.code(e.authParams("web", pk, "openid"))
		var (
			mu      sync.Mutex
			ok, bad int
			tokens  []string
		)
		parallelDo(20, func(int) {
			tr := e.exchange("web", webSecret, code, pk.verifier)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case tr.status == http.StatusOK:
				ok++
				tokens = append(tokens, tr.AccessToken)
			case tr.Error == "invalid_grant":
				bad++
			default:
				t.Errorf("parallel exchange: %d %s %s", tr.status, tr.Error, tr.Description)
			}
		})
		if ok != 1 || bad != 19 {
			t.Fatalf("of 20 parallel redemptions %d succeeded and %d were refused; want 1 and 19", ok, bad)
		}
		if e.active("web", webSecret, tokens[0]) {
			t.Errorf("the winner's access token is active although the code was replayed")
		}
	})
	t.Run("a code is bound to its client, redirect URI and lifetime", func(t *testing.T) {
		defer e.use(t)()
		pk := newPKCE()
		code := e.code(e.authParams("web", pk, "openid"))
		if tr := e.exchange("third", webSecret, code, pk.verifier); tr.Error != "invalid_grant" {
			t.Errorf("another client's code: %d %s, want invalid_grant", tr.status, tr.Error)
		}
		form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {pk.verifier},
			"redirect_uri": {e.srv.URL + "/cb/"}}
		if tr := e.token(form, "web", webSecret); tr.Error != "invalid_grant" {
			t.Errorf("another redirect_uri: %d %s, want invalid_grant", tr.status, tr.Error)
		}
		pk = newPKCE()
		code = e.code(e.authParams("web", pk, "openid"))
		e.advance(61 * time.Second)
		if tr := e.exchange("web", webSecret, code, pk.verifier); tr.Error != "invalid_grant" {
			t.Errorf("a code 61s old: %d %s, want invalid_grant", tr.status, tr.Error)
		}
	})
	t.Run("a wrong or missing client secret is 401 invalid_client", func(t *testing.T) {
		defer e.use(t)()
		pk := newPKCE()
		code := e.code(e.authParams("web", pk, "openid"))
		for _, secret := range []string{"wrong", ""} {
			form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {pk.verifier},
				"redirect_uri": {e.srv.URL + "/cb"}, "client_id": {"web"}}
			var tr tokenResponse
			if secret == "" {
				tr = e.token(form, "", "")
			} else {
				tr = e.token(form, "web", secret)
			}
			if tr.status != http.StatusUnauthorized || tr.Error != "invalid_client" {
				t.Errorf("secret %q: %d %s, want 401 invalid_client", secret, tr.status, tr.Error)
			}
		}
		if tr := e.exchange("web", webSecret, code, pk.verifier); tr.status != http.StatusOK {
			t.Errorf("the code after failed client authentications: %d %s", tr.status, tr.Error)
		}
	})
}

// TestToken_RefreshRotation: every refresh rotates the refresh token; a
// reused one revokes the whole family, the newest token included (RFC
// 9700 §4.14); the family has an absolute end.
func TestToken_RefreshRotation(t *testing.T) {
	e := newEnv(t, envOptions{configure: func(c *op.Config) {
		c.RefreshTokenTTL = 48 * time.Hour
		c.RefreshTokenIdleTTL = 24 * time.Hour
	}})
	e.signIn("acct-1", 1, "pwd")

	t.Run("reuse revokes the family", func(t *testing.T) {
		defer e.use(t)()
		rt1 := e.offline(t)
		r2 := e.refresh("web", webSecret, rt1.RefreshToken)
		if r2.status != http.StatusOK || r2.RefreshToken == "" || r2.RefreshToken == rt1.RefreshToken {
			t.Fatalf("refresh 1: %d %s, refresh token %q", r2.status, r2.Error, r2.RefreshToken)
		}
		if !e.active("web", webSecret, r2.AccessToken) || !e.active("web", webSecret, r2.RefreshToken) {
			t.Fatalf("the new tokens are not active")
		}
		if e.active("web", webSecret, rt1.RefreshToken) {
			t.Errorf("the used refresh token is still active")
		}
		replay := e.refresh("web", webSecret, rt1.RefreshToken)
		if replay.status != http.StatusBadRequest || replay.Error != "invalid_grant" {
			t.Fatalf("reusing the first refresh token: %d %s, want invalid_grant", replay.status, replay.Error)
		}
		for name, tok := range map[string]string{"newest refresh token": r2.RefreshToken, "newest access token": r2.AccessToken,
			"first access token": rt1.AccessToken} {
			if e.active("web", webSecret, tok) {
				t.Errorf("the %s is still active after the reuse", name)
			}
		}
		if tr := e.refresh("web", webSecret, r2.RefreshToken); tr.Error != "invalid_grant" {
			t.Errorf("refresh with the newest token after the reuse: %d %s, want invalid_grant", tr.status, tr.Error)
		}
	})
	t.Run("twenty parallel refreshes rotate once and revoke the family", func(t *testing.T) {
		defer e.use(t)()
		rt1 := e.offline(t)
		var (
			mu      sync.Mutex
			ok, bad int
			winner  string
		)
		parallelDo(20, func(int) {
			tr := e.refresh("web", webSecret, rt1.RefreshToken)
			mu.Lock()
			defer mu.Unlock()
			if tr.status == http.StatusOK {
				ok++
				winner = tr.RefreshToken
			} else if tr.Error == "invalid_grant" {
				bad++
			}
		})
		if ok > 1 || ok+bad != 20 {
			t.Fatalf("of 20 parallel refreshes %d succeeded and %d were refused; want at most 1 success", ok, bad)
		}
		// The losers were reuse: the family is gone, the winner's token too.
		if winner != "" && e.active("web", webSecret, winner) {
			t.Errorf("the winner's refresh token is active although the token was reused in parallel")
		}
	})
	t.Run("a wider scope is invalid_scope, a narrower one narrows the access token", func(t *testing.T) {
		defer e.use(t)()
		rt := e.offline(t)
		form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt.RefreshToken}, "scope": {"openid profile"}}
		if tr := e.token(form, "web", webSecret); tr.Error != "invalid_scope" {
			t.Errorf("refresh for a wider scope: %d %s, want invalid_scope", tr.status, tr.Error)
		}
		form.Set("scope", "openid api")
		tr := e.token(form, "web", webSecret)
		if tr.status != http.StatusOK {
			t.Fatalf("refresh for a narrower scope: %d %s", tr.status, tr.Error)
		}
		if got := e.introspect("web", webSecret, tr.AccessToken)["scope"]; got != "openid api" {
			t.Errorf("narrowed access token scope %v, want openid api", got)
		}
		if got := e.introspect("web", webSecret, tr.RefreshToken)["scope"]; got != "openid offline_access api" {
			t.Errorf("the new refresh token's scope %v, want the grant's openid offline_access api", got)
		}
	})
	t.Run("another client cannot use the refresh token", func(t *testing.T) {
		defer e.use(t)()
		rt := e.offline(t)
		if tr := e.refresh("third", webSecret, rt.RefreshToken); tr.Error != "invalid_grant" && tr.Error != "unauthorized_client" {
			t.Errorf("refresh by another client: %d %s", tr.status, tr.Error)
		}
	})
	t.Run("idle and absolute limits", func(t *testing.T) {
		defer e.use(t)()
		e.signIn("acct-1", 1, "pwd")
		rt := e.offline(t)
		e.advance(25 * time.Hour)
		if tr := e.refresh("web", webSecret, rt.RefreshToken); tr.Error != "invalid_grant" {
			t.Errorf("refresh after 25h idle: %d %s, want invalid_grant", tr.status, tr.Error)
		}
		e.signIn("acct-1", 1, "pwd")
		rt = e.offline(t)
		for i := range 3 {
			e.advance(20 * time.Hour) // never idle for a day, but 48h in all
			tr := e.refresh("web", webSecret, rt.RefreshToken)
			if i < 2 && tr.status != http.StatusOK {
				t.Fatalf("refresh %d within the absolute limit: %d %s", i, tr.status, tr.Error)
			}
			if i == 2 && tr.Error != "invalid_grant" {
				t.Fatalf("refresh past the absolute limit (60h > 48h): %d %s, want invalid_grant", tr.status, tr.Error)
			}
			rt = tr
		}
	})
	t.Run("a disabled account cannot refresh", func(t *testing.T) {
		defer e.use(t)()
		e.signIn("acct-1", 1, "pwd")
		rt := e.offline(t)
		e.st.UpdateAccount(t.Context(), "acct-1", func(a store.Account) (store.Account, error) { a.Disabled = true; return a, nil })
		defer e.st.UpdateAccount(t.Context(), "acct-1", func(a store.Account) (store.Account, error) { a.Disabled = false; return a, nil })
		if tr := e.refresh("web", webSecret, rt.RefreshToken); tr.Error != "invalid_grant" {
			t.Errorf("refresh of a disabled account: %d %s, want invalid_grant", tr.status, tr.Error)
		}
	})
	t.Run("RevokeAccount kills every token", func(t *testing.T) {
		defer e.use(t)()
		e.signIn("acct-1", 1, "pwd")
		rt := e.offline(t)
		if err := e.p.RevokeAccount(t.Context(), "acct-1"); err != nil {
			t.Fatal(err)
		}
		if e.active("web", webSecret, rt.AccessToken) || e.refresh("web", webSecret, rt.RefreshToken).Error != "invalid_grant" {
			t.Errorf("tokens live after RevokeAccount")
		}
	})
}

// TestToken_GrantsRefused: no password grant, no JWT bearer grant, no
// refresh token for a client without the refresh grant or without
// offline_access, no client credentials for a public client.
func TestToken_GrantsRefused(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.signIn("acct-1", 1, "pwd")
	for _, tt := range []struct {
		name, grant, user, pass, want string
		status                        int
	}{
		{"password", "password", "web", webSecret, "unsupported_grant_type", 400},
		{"jwt bearer", "urn:ietf:params:oauth:grant-type:jwt-bearer", "web", webSecret, "unsupported_grant_type", 400},
		{"implicit", "implicit", "web", webSecret, "unsupported_grant_type", 400},
		{"client credentials by a code client", "client_credentials", "web", webSecret, "unauthorized_client", 400},
		{"refresh_token by a client without it", "refresh_token", "legacy", webSecret, "unauthorized_client", 400},
	} {
		t.Run(tt.name, func(t *testing.T) {
			form := url.Values{"grant_type": {tt.grant}, "username": {"kari"}, "password": {"x"}, "refresh_token": {"x"},
				"assertion": {"x.y.z"}}
			tr := e.token(form, tt.user, tt.pass)
			if tr.status != tt.status || tr.Error != tt.want || tr.AccessToken != "" {
				t.Errorf("grant_type=%s: %d %s %s; want %d %s", tt.grant, tr.status, tr.Error, tr.Description, tt.status, tt.want)
			}
			if !strings.HasPrefix(tr.contentType, "application/json") {
				t.Errorf("Content-Type %q, want JSON", tr.contentType)
			}
		})
	}
	t.Run("a public client cannot use client_credentials", func(t *testing.T) {
		defer e.use(t)()
		tr := e.token(url.Values{"grant_type": {"client_credentials"}, "client_id": {"spa"}}, "", "")
		if tr.AccessToken != "" || tr.status < 400 {
			t.Errorf("client_credentials for a public client: %d %s", tr.status, tr.Error)
		}
	})
	t.Run("no refresh token without offline_access or the refresh grant", func(t *testing.T) {
		defer e.use(t)()
		pk := newPKCE()
		if tr := e.exchange("web", webSecret, e.code(e.authParams("web", pk, "openid")), pk.verifier); tr.RefreshToken != "" {
			t.Errorf("a refresh token without offline_access")
		}
		params := e.authParams("legacy", pk, "openid offline_access")
		if tr := e.exchange("legacy", webSecret, e.code(params), pk.verifier); tr.RefreshToken != "" || tr.status != http.StatusOK {
			t.Errorf("legacy (no refresh grant): %d %s, refresh token %q", tr.status, tr.Error, tr.RefreshToken)
		}
	})
}

// TestToken_ClientCredentials: JWT access tokens without a database
// write, introspectable until revoked; opaque ones on request.
func TestToken_ClientCredentials(t *testing.T) {
	e := newEnv(t, envOptions{})
	cc := func(id, secret string, scope string) tokenResponse {
		form := url.Values{"grant_type": {"client_credentials"}}
		if scope != "" {
			form.Set("scope", scope)
		}
		return e.token(form, id, secret)
	}
	tr := cc("svc", svcSecret, "read")
	if tr.status != http.StatusOK || tr.TokenType != "Bearer" || tr.RefreshToken != "" || tr.IDToken != "" {
		t.Fatalf("client_credentials: %+v", tr)
	}
	h, c := claims(t, tr.AccessToken)
	if h["alg"] != "ES256" || c["sub"] != "svc" || c["client_id"] != "svc" || c["scope"] != "read" || c["iss"] != e.srv.URL {
		t.Errorf("client credentials JWT header %v claims %v", h, c)
	}
	if !strings.HasPrefix(c["jti"].(string), "cc-") {
		t.Errorf("jti %v", c["jti"])
	}
	in := e.introspect("svc", svcSecret, tr.AccessToken)
	if in["active"] != true || in["client_id"] != "svc" || in["scope"] != "read" || in["token_type"] != "Bearer" {
		t.Errorf("introspection %v", in)
	}
	if e.active("web", webSecret, tr.AccessToken) {
		t.Errorf("another client sees svc's token as active")
	}
	if all := cc("svc", svcSecret, ""); all.Scope != "read write" {
		t.Errorf("no scope asked: scope %q, want all of the client's", all.Scope)
	}
	if bad := cc("svc", svcSecret, "admin"); bad.Error != "invalid_scope" {
		t.Errorf("a scope the client may not have: %d %s, want invalid_scope", bad.status, bad.Error)
	}
	if bad := cc("svc", "wrong", ""); bad.status != http.StatusUnauthorized || bad.Error != "invalid_client" {
		t.Errorf("wrong secret: %d %s, want 401 invalid_client", bad.status, bad.Error)
	}
	if status, _ := e.userinfo(tr.AccessToken); status != http.StatusUnauthorized {
		t.Errorf("userinfo with a client's token: %d, want 401", status)
	}

	status, _, _ := e.post("/revoke", url.Values{"token": {tr.AccessToken}}, "svc", svcSecret)
	if status != http.StatusOK {
		t.Fatalf("revoke: %d", status)
	}
	if e.active("svc", svcSecret, tr.AccessToken) {
		t.Errorf("the revoked JWT is still active")
	}

	opq := cc("svc-opaque", svcSecret, "")
	if strings.Count(opq.AccessToken, ".") != 0 || !e.active("svc-opaque", svcSecret, opq.AccessToken) {
		t.Errorf("svc-opaque token %q: want an opaque, active token", opq.AccessToken)
	}
}

// TestToken_IntrospectionAndRevocation covers RFC 7662 and RFC 7009 for a
// user's tokens.
func TestToken_IntrospectionAndRevocation(t *testing.T) {
	e := newEnv(t, envOptions{})
	sess := e.signIn("acct-1", 3, "pwd", "otp", "mfa")
	tr := e.offline(t)
	in := e.introspect("web", webSecret, tr.AccessToken)
	want := map[string]any{"active": true, "client_id": "web", "sub": "acct-1", "scope": "openid offline_access api",
		"token_type": "Bearer", "iss": e.srv.URL}
	for k, v := range want {
		if in[k] != v {
			t.Errorf("introspection %s = %v, want %v", k, in[k], v)
		}
	}
	if in["auth_time"] != float64(sess.AuthTime.Unix()) {
		t.Errorf("introspection auth_time %v, want %d", in["auth_time"], sess.AuthTime.Unix())
	}
	for name, check := range map[string]func() bool{
		"a public client may not introspect": func() bool {
			status, _, _ := e.post("/oauth/introspect", url.Values{"token": {tr.AccessToken}, "client_id": {"spa"}}, "", "")
			return status == http.StatusUnauthorized
		},
		"no credentials": func() bool {
			status, _, _ := e.post("/oauth/introspect", url.Values{"token": {tr.AccessToken}}, "", "")
			return status == http.StatusUnauthorized || status == http.StatusBadRequest
		},
		"a wrong secret": func() bool {
			status, h, _ := e.post("/oauth/introspect", url.Values{"token": {tr.AccessToken}}, "web", "wrong")
			return status == http.StatusUnauthorized && strings.HasPrefix(h.Get("WWW-Authenticate"), "Basic")
		},
		"garbage is inactive": func() bool { return !e.active("web", webSecret, "garbage") },
		"an ID token is not an access token": func() bool {
			return !e.active("web", webSecret, tr.IDToken)
		},
	} {
		if !check() {
			t.Errorf("%s: failed", name)
		}
	}
	status, info := e.userinfo(tr.AccessToken)
	if status != http.StatusOK || info["sub"] != "acct-1" {
		t.Errorf("userinfo: %d %v", status, info)
	}

	// Revoking the access token kills it, not the refresh token.
	if status, _, body := e.post("/revoke", url.Values{"token": {tr.AccessToken}}, "third", webSecret); status == http.StatusOK {
		t.Errorf("another client revoking web's token: 200 %s, want a refusal", body)
	}
	if status, _, _ := e.post("/revoke", url.Values{"token": {tr.AccessToken}}, "web", webSecret); status != http.StatusOK {
		t.Fatalf("revoke access token: %d", status)
	}
	if e.active("web", webSecret, tr.AccessToken) || !e.active("web", webSecret, tr.RefreshToken) {
		t.Errorf("after revoking the access token: access active=%v refresh active=%v; want false, true",
			e.active("web", webSecret, tr.AccessToken), e.active("web", webSecret, tr.RefreshToken))
	}
	if status, _ := e.userinfo(tr.AccessToken); status != http.StatusUnauthorized {
		t.Errorf("userinfo with a revoked token: %d", status)
	}
	// Revoking the refresh token revokes its grant.
	r2 := e.refresh("web", webSecret, tr.RefreshToken)
	status, _, _ = e.post("/revoke", url.Values{"token": {r2.RefreshToken}, "token_type_hint": {"refresh_token"}}, "web", webSecret)
	if status != http.StatusOK {
		t.Fatalf("revoke refresh token: %d", status)
	}
	if e.active("web", webSecret, r2.AccessToken) || e.active("web", webSecret, r2.RefreshToken) {
		t.Errorf("tokens of the grant active after revoking its refresh token")
	}
	if status, _, _ := e.post("/revoke", url.Values{"token": {"unknown"}}, "web", webSecret); status != http.StatusOK {
		t.Errorf("revoking an unknown token: %d, want 200", status)
	}

	// A JWT access token of a user is revoked with its grant too.
	pk := newPKCE()
	jt := e.exchange("jwtweb", webSecret, e.code(e.authParams("jwtweb", pk, "openid")), pk.verifier)
	_, jc := claims(t, jt.AccessToken)
	if jc["sub"] != "acct-1" || jc["sid"] != sess.ID || jc["acr"] == nil || jc["auth_time"] == nil {
		t.Errorf("user JWT access token claims %v; want sub, sid, acr, auth_time", jc)
	}
	if !e.active("jwtweb", webSecret, jt.AccessToken) {
		t.Fatalf("the user's JWT access token is not active")
	}
	if err := e.p.RevokeConsent(t.Context(), "acct-1", "jwtweb"); err != nil {
		t.Fatal(err)
	}
	if e.active("jwtweb", webSecret, jt.AccessToken) {
		t.Errorf("the JWT access token is active after RevokeConsent revoked its grant")
	}
}
