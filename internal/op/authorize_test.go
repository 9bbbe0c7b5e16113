package op_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/portvakt/portvakt/internal/op"
)

// TestAuthorize_RedirectURIVariants: a redirect_uri that is not exactly a
// registered one is refused with a JSON 400 and no Location, whatever it
// looks like (RFC 9700 §4.1.3; SECURITY.md §3 R1).
func TestAuthorize_RedirectURIVariants(t *testing.T) {
	e := newEnv(t, envOptions{})
	cb := e.srv.URL + "/cb" // registered: http://127.0.0.1:PORT/cb
	u, _ := url.Parse(cb)
	host, port := u.Hostname(), u.Port()
	otherPort := "1"
	if port == "1" {
		otherPort = "2"
	}
	variants := []struct{ name, uri string }{
		{"trailing slash", cb + "/"},
		{"upper-case path", e.srv.URL + "/CB"},
		{"upper-case scheme and host", "HTTP://" + strings.ToUpper(u.Host) + "/cb"},
		{"extra path", cb + "/extra"},
		{"dot-dot-semicolon", cb + "/..;/evil"},
		{"dot-dot", cb + "/../evil"},
		{"encoded slash", cb + "%2F..%2Fevil"},
		{"encoded NUL", cb + "%00"},
		{"query added", cb + "?x=1"},
		{"fragment added", cb + "#f"},
		{"other port", "http://" + host + ":" + otherPort + "/cb"},
		{"https instead of http", "https://" + u.Host + "/cb"},
		{"localhost for 127.0.0.1", "http://localhost:" + port + "/cb"},
		{"other host", "http://evil.example:" + port + "/cb"},
		{"user info", "http://evil.example@" + u.Host + "/cb"},
		{"host as user info", "http://" + u.Host + "@evil.example/cb"},
		{"tab inside", "http://" + u.Host + "/\tcb"},
		{"newline inside", cb + "\n"},
		{"empty", ""},
		{"javascript", "javascript:alert(1)"},
	}
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			params := e.authParams("web", newPKCE(), "openid")
			params.Set("redirect_uri", v.uri)
			h := e.get(e.srv.URL + "/authorize?" + params.Encode())
			if h.status != http.StatusBadRequest || h.location != nil {
				t.Fatalf("redirect_uri %q: %d Location %v; want 400 without a redirect", v.uri, h.status, h.location)
			}
			var body map[string]string
			if err := json.Unmarshal([]byte(h.body), &body); err != nil || body["error"] != "invalid_request" {
				t.Errorf("redirect_uri %q: body %q, want JSON with error invalid_request", v.uri, h.body)
			}
			if ct := h.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q, want application/json", ct)
			}
		})
	}
	t.Run("an unknown client is refused without a redirect", func(t *testing.T) {
		defer e.use(t)()
		params := e.authParams("nobody", newPKCE(), "openid")
		h := e.get(e.srv.URL + "/authorize?" + params.Encode())
		if h.status != http.StatusBadRequest || h.location != nil {
			t.Fatalf("unknown client: %d Location %v; want 400 without a redirect", h.status, h.location)
		}
	})
	t.Run("a repeated redirect_uri is refused without a redirect", func(t *testing.T) {
		defer e.use(t)()
		params := e.authParams("web", newPKCE(), "openid")
		params.Add("redirect_uri", cb)
		h := e.get(e.srv.URL + "/authorize?" + params.Encode())
		if h.status != http.StatusBadRequest || h.location != nil {
			t.Fatalf("repeated redirect_uri: %d Location %v; want 400 without a redirect", h.status, h.location)
		}
	})
}

// TestAuthorize_ErrorsGoBackWithIss: once the client and redirect URI
// are good, errors go back to the client, with state and iss (RFC 9207).
func TestAuthorize_ErrorsGoBackWithIss(t *testing.T) {
	e := newEnv(t, envOptions{})
	tests := []struct {
		name   string
		client string
		change func(url.Values)
		want   string
	}{
		{"implicit flow", "web", func(q url.Values) { q.Set("response_type", "token") }, "unsupported_response_type"},
		{"hybrid flow", "web", func(q url.Values) { q.Set("response_type", "code id_token") }, "unsupported_response_type"},
		{"PKCE plain", "web", func(q url.Values) { q.Set("code_challenge_method", "plain") }, "invalid_request"},
		{"PKCE method missing (plain by default)", "web", func(q url.Values) { q.Del("code_challenge_method") }, "invalid_request"},
		{"no PKCE, public client", "spa", func(q url.Values) { q.Del("code_challenge"); q.Del("code_challenge_method") }, "invalid_request"},
		{"no PKCE, confidential client", "web", func(q url.Values) { q.Del("code_challenge"); q.Del("code_challenge_method") }, "invalid_request"},
		{"challenge too short", "web", func(q url.Values) { q.Set("code_challenge", "abc") }, "invalid_request"},
		{"method without challenge", "legacy", func(q url.Values) { q.Del("code_challenge") }, "invalid_request"},
		{"prompt none with login", "web", func(q url.Values) { q.Set("prompt", "none login") }, "invalid_request"},
		{"unknown prompt", "web", func(q url.Values) { q.Set("prompt", "create") }, "invalid_request"},
		{"bad max_age", "web", func(q url.Values) { q.Set("max_age", "-1") }, "invalid_request"},
		{"request object", "web", func(q url.Values) { q.Set("request", "eyJ") }, "request_not_supported"},
		{"no known scope", "web", func(q url.Values) { q.Set("scope", "admin") }, "invalid_scope"},
		{"essential acr nobody offers", "web", func(q url.Values) {
			q.Set("claims", `{"id_token":{"acr":{"essential":true,"values":["urn:other:loa:9"]}}}`)
		}, "invalid_request"},
		{"client without the code grant", "svc", func(q url.Values) {}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			params := e.authParams(tt.client, newPKCE(), "openid")
			tt.change(params)
			h := e.get(e.srv.URL + "/authorize?" + params.Encode())
			if tt.want == "" {
				// svc has no redirect URIs: nothing to redirect to.
				if h.status != http.StatusBadRequest || h.location != nil {
					t.Fatalf("%d Location %v; want 400 without a redirect", h.status, h.location)
				}
				return
			}
			if h.status != http.StatusSeeOther || h.location == nil || h.location.Path != "/cb" {
				t.Fatalf("%d Location %v %s; want 303 to /cb", h.status, h.location, h.body)
			}
			q := h.location.Query()
			if q.Get("error") != tt.want || q.Get("iss") != e.srv.URL || q.Get("state") != params.Get("state") || q.Get("code") != "" {
				t.Errorf("error response %v; want error=%s, iss=%s, the state and no code", q, tt.want, e.srv.URL)
			}
		})
	}
}

// TestAuthorize_PKCE checks the token endpoint's side of PKCE: the RFC
// 7636 Appendix B vector works, a wrong or missing verifier does not, and
// a verifier for a request that had no challenge is a downgrade (RFC 9700
// §4.8) and refused.
func TestAuthorize_PKCE(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.signIn("acct-1", 1, "pwd")
	rfc := pkce{"dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}

	t.Run("the RFC 7636 vector", func(t *testing.T) {
		defer e.use(t)()
		code := e.code(e.authParams("spa", rfc, "openid"))
		if tr := e.exchange("spa", "", code, rfc.verifier); tr.status != http.StatusOK || tr.AccessToken == "" {
			t.Fatalf("exchange with the RFC 7636 verifier: %d %s %s", tr.status, tr.Error, tr.Description)
		}
	})
	for _, tt := range []struct{ name, verifier string }{
		{"one character changed", "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXK"},
		{"missing", ""},
		{"42 characters", "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjX"},
		{"a character outside the alphabet", "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjX+"},
		{"the challenge itself (plain)", rfc.challenge},
	} {
		t.Run("verifier "+tt.name, func(t *testing.T) {
			code := e.code(e.authParams("web", rfc, "openid"))
			tr := e.exchange("web", webSecret, code, tt.verifier)
			if tr.status != http.StatusBadRequest || tr.Error != "invalid_grant" {
				t.Errorf("exchange with verifier %q: %d %s; want 400 invalid_grant", tt.verifier, tr.status, tr.Error)
			}
		})
	}
	t.Run("a verifier without a challenge is a downgrade", func(t *testing.T) {
		defer e.use(t)()
		params := e.authParams("legacy", rfc, "openid")
		params.Del("code_challenge")
		params.Del("code_challenge_method")
		code := e.code(params)
		tr := e.exchange("legacy", webSecret, code, rfc.verifier)
		if tr.status != http.StatusBadRequest || tr.Error != "invalid_grant" {
			t.Errorf("exchange with a verifier the request had no challenge for: %d %s; want invalid_grant", tr.status, tr.Error)
		}
		// The code is still good without one: the client is let off PKCE.
		if tr := e.exchange("legacy", webSecret, code, ""); tr.status != http.StatusOK {
			t.Errorf("exchange without a verifier for a pkce_optional client: %d %s %s", tr.status, tr.Error, tr.Description)
		}
	})
}

// TestAuthorize_NoCORS: the authorization endpoint never answers CORS
// (RFC 9700 §2.6), while the token endpoint may.
func TestAuthorize_NoCORS(t *testing.T) {
	e := newEnv(t, envOptions{})
	for _, method := range []string{http.MethodOptions, http.MethodGet} {
		req, _ := http.NewRequest(method, e.srv.URL+"/authorize?"+e.authParams("web", newPKCE(), "openid").Encode(), nil)
		req.Header.Set("Origin", "https://evil.example")
		req.Header.Set("Access-Control-Request-Method", "GET")
		resp, err := e.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "" {
			t.Errorf("%s /authorize with an Origin: Access-Control-Allow-Origin %q, want none", method, got)
		}
		if got := resp.Header.Get("Content-Security-Policy"); !strings.Contains(got, "frame-ancestors 'none'") {
			t.Errorf("%s /authorize: Content-Security-Policy %q, want frame-ancestors 'none'", method, got)
		}
	}
}

// TestAuthorize_FormPost: response_mode=form_post answers with a page
// that posts code, state and iss to the redirect URI.
func TestAuthorize_FormPost(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.signIn("acct-1", 1, "pwd")
	params := e.authParams("web", newPKCE(), "openid")
	params.Set("response_mode", "form_post")
	h := e.authorize(params)
	if h.status != http.StatusOK || h.location != nil {
		t.Fatalf("form_post ended with %d %v", h.status, h.location)
	}
	for _, want := range []string{`action="` + e.srv.URL + `/cb"`, `name="code"`, `name="iss" value="` + e.srv.URL + `"`,
		`name="state" value="` + params.Get("state") + `"`} {
		if !strings.Contains(h.body, want) {
			t.Errorf("form_post page lacks %s:\n%s", want, h.body)
		}
	}
	if csp := h.header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action "+e.srv.URL) {
		t.Errorf("form_post Content-Security-Policy = %q", csp)
	}
}

// TestAuthorize_Prompt covers prompt, max_age, acr_values (step-up),
// the essential acr claim, and consent.
func TestAuthorize_Prompt(t *testing.T) {
	e := newEnv(t, envOptions{})
	need := func(t *testing.T, h hop, want string, level int) {
		t.Helper()
		var body struct {
			Need  string
			Level int
		}
		if h.status != http.StatusUnauthorized || json.Unmarshal([]byte(h.body), &body) != nil || body.Need != want || body.Level != level {
			t.Fatalf("login page got %d %s; want Complete to need %s (level %d)", h.status, h.body, want, level)
		}
	}
	errorBack := func(t *testing.T, h hop, want string) {
		t.Helper()
		if h.location == nil || h.location.Path != "/cb" || h.location.Query().Get("error") != want || h.location.Query().Get("iss") != e.srv.URL {
			t.Fatalf("got %d %v %s; want a redirect to /cb with error=%s and iss", h.status, h.location, h.body, want)
		}
	}

	t.Run("no session needs a login", func(t *testing.T) {
		defer e.use(t)()
		e.sess.Store(nil)
		need(t, e.authorize(e.authParams("web", newPKCE(), "openid")), "login", 0)
	})
	t.Run("prompt=none without a session is login_required", func(t *testing.T) {
		defer e.use(t)()
		e.sess.Store(nil)
		params := e.authParams("web", newPKCE(), "openid")
		params.Set("prompt", "none")
		errorBack(t, e.authorize(params), "login_required")
	})
	t.Run("acr_values above the session's level needs a step-up, then completes", func(t *testing.T) {
		defer e.use(t)()
		e.signIn("acct-1", 1, "pwd")
		pk := newPKCE()
		params := e.authParams("web", pk, "openid")
		params.Set("acr_values", "urn:example:unknown "+op.ACRLevel3)
		h := e.authorize(params)
		need(t, h, "step-up", 3) // the weaker of the two will do
		e.stepUp(3, "pwd", "otp", "mfa")
		var body struct{ ID string }
		json.Unmarshal([]byte(h.body), &body)
		code := e.follow(e.srv.URL + "/login?id=" + body.ID).location.Query().Get("code")
		tr := e.exchange("web", webSecret, code, pk.verifier)
		if tr.status != http.StatusOK {
			t.Fatalf("exchange after the step-up: %d %s", tr.status, tr.Error)
		}
		_, c := claims(t, tr.IDToken)
		if c["acr"] != op.ACRLevel3 {
			t.Errorf("acr = %v, want %s (the known value level 3 satisfies)", c["acr"], op.ACRLevel3)
		}
	})
	t.Run("an essential acr claim is a requirement", func(t *testing.T) {
		defer e.use(t)()
		e.signIn("acct-1", 2, "pwd", "sms", "otp", "mfa")
		params := e.authParams("web", newPKCE(), "openid")
		params.Set("claims", `{"id_token":{"acr":{"essential":true,"values":["`+op.ACRLevel4+`"]}}}`)
		need(t, e.authorize(params), "step-up", 4)
	})
	t.Run("an upstream's acr is never granted for a local sign-in", func(t *testing.T) {
		defer e.use(t)()
		// Even a level-4 local session (a security key) is not ID-porten.
		e.signIn("acct-1", 4, "pwd", "hwk", "mfa")
		params := e.authParams("web", newPKCE(), "openid")
		params.Set("claims", `{"id_token":{"acr":{"essential":true,"values":["idporten-loa-high"]}}}`)
		h := e.authorize(params)
		if h.status == http.StatusOK && strings.Contains(h.body, "idporten-loa-high") {
			t.Fatalf("an essential idporten-loa-high was answered: %d %s", h.status, h.body)
		}
		if !strings.Contains(h.location.RawQuery+h.body, "invalid_request") {
			t.Errorf("essential idporten-loa-high = %d %s %v, want invalid_request", h.status, h.body, h.location)
		}
	})
	t.Run("prompt=none with too low a level is login_required", func(t *testing.T) {
		defer e.use(t)()
		e.signIn("acct-1", 1, "pwd")
		params := e.authParams("web", newPKCE(), "openid")
		params.Set("prompt", "none")
		params.Set("acr_values", op.ACRLevel2)
		errorBack(t, e.authorize(params), "login_required")
	})
	t.Run("prompt=login needs a sign-in newer than the request", func(t *testing.T) {
		defer e.use(t)()
		e.signIn("acct-1", 1, "pwd")
		e.advance(2e9) // the session is now older than the request to come
		params := e.authParams("web", newPKCE(), "openid")
		params.Set("prompt", "login")
		need(t, e.authorize(params), "login", 0)
	})
	t.Run("max_age=0 needs a fresh sign-in; a large one does not", func(t *testing.T) {
		defer e.use(t)()
		e.signIn("acct-1", 1, "pwd")
		e.advance(2e9)
		params := e.authParams("web", newPKCE(), "openid")
		params.Set("max_age", "1")
		need(t, e.authorize(params), "login", 0)
		params = e.authParams("web", newPKCE(), "openid")
		params.Set("max_age", "3600")
		e.code(params)
	})
	t.Run("an id_token_hint of another account needs a login", func(t *testing.T) {
		defer e.use(t)()
		e.signIn("acct-1", 1, "pwd")
		pk := newPKCE()
		tr := e.exchange("web", webSecret, e.code(e.authParams("web", pk, "openid")), pk.verifier)
		e.account("acct-2", "ola", "ola@example.no")
		e.signIn("acct-2", 1, "pwd")
		params := e.authParams("web", newPKCE(), "openid")
		params.Set("id_token_hint", tr.IDToken)
		need(t, e.authorize(params), "login", 0)
	})
	t.Run("a forged id_token_hint is refused", func(t *testing.T) {
		defer e.use(t)()
		params := e.authParams("web", newPKCE(), "openid")
		params.Set("id_token_hint", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhY2N0LTEifQ.")
		errorBack(t, e.authorize(params), "invalid_request")
	})
	t.Run("a third-party client needs consent, once", func(t *testing.T) {
		defer e.use(t)()
		e.signIn("acct-1", 1, "pwd")
		params := e.authParams("third", newPKCE(), "openid email")
		params.Set("prompt", "none")
		errorBack(t, e.authorize(params), "consent_required")

		h := e.authorize(e.authParams("third", newPKCE(), "openid email"))
		need(t, h, "consent", 0)
		info, err := e.p.AuthRequest(t.Context(), authRequestID(t, h))
		if err != nil || !info.ThirdParty || info.ClientName != "Third Party" || strings.Join(info.Scopes, " ") != "openid email" {
			t.Fatalf("AuthRequest = %+v, %v", info, err)
		}
		if err := e.p.Consent(t.Context(), "acct-1", "third", info.Scopes); err != nil {
			t.Fatal(err)
		}
		e.follow(e.srv.URL + "/login?id=" + info.ID)
		// Consent given: the next request passes, even with prompt=none.
		params = e.authParams("third", newPKCE(), "openid")
		params.Set("prompt", "none")
		e.code(params)
		// A wider scope asks again.
		need(t, e.authorize(e.authParams("third", newPKCE(), "openid email profile")), "consent", 0)
	})
	t.Run("declining consent is access_denied", func(t *testing.T) {
		defer e.use(t)()
		e.signIn("acct-1", 1, "pwd")
		h := e.authorize(e.authParams("third", newPKCE(), "openid profile"))
		u, err := e.p.Abort(t.Context(), authRequestID(t, h), op.AbortDenied)
		if err != nil {
			t.Fatal(err)
		}
		errorBack(t, e.follow(u), "access_denied")
		if _, err := e.p.Abort(t.Context(), authRequestID(t, h), op.AbortDenied); err == nil {
			t.Errorf("Abort of an answered request = nil error")
		}
	})
	t.Run("a request is answered once", func(t *testing.T) {
		defer e.use(t)()
		e.signIn("acct-1", 1, "pwd")
		toLogin := e.get(e.srv.URL + "/authorize?" + e.authParams("web", newPKCE(), "openid").Encode())
		toCallback := e.get(toLogin.location.String())
		if toCallback.location == nil || toCallback.location.Path != "/authorize/callback" {
			t.Fatalf("login page answered %d %v, want a redirect to the callback", toCallback.status, toCallback.location)
		}
		first := e.get(toCallback.location.String())
		if first.location == nil || first.location.Query().Get("code") == "" {
			t.Fatalf("callback answered %d %v, want a redirect with a code", first.status, first.location)
		}
		again := e.get(toCallback.location.String())
		if again.status != http.StatusBadRequest || again.location != nil || !strings.Contains(again.header.Get("Content-Type"), "json") {
			t.Errorf("second visit of the callback: %d %v %s; want a JSON 400", again.status, again.location, again.body)
		}
		if _, err := e.p.Complete(t.Context(), toCallback.location.Query().Get("id"), e.sess.Load()); err == nil {
			t.Errorf("Complete of an answered request = nil error")
		}
	})
	t.Run("the code goes only to the browser that completed the request", func(t *testing.T) {
		defer e.use(t)()
		// The attacker starts a request and keeps its id; a signed-in
		// victim is made to complete it.
		toLogin := e.get(e.srv.URL + "/authorize?" + e.authParams("web", newPKCE(), "openid").Encode())
		id := toLogin.location.Query().Get("id")
		victim := e.signIn("acct-1", 1, "pwd")
		toCallback := e.get(toLogin.location.String())
		if toCallback.location == nil || toCallback.location.Query().Get("t") == "" {
			t.Fatalf("login page answered %d %v, want a callback with a token", toCallback.status, toCallback.location)
		}
		// The attacker polls the callback with the id alone, with a token
		// of its own request, and with a forged one: no code.
		other := e.get(e.srv.URL + "/authorize?" + e.authParams("web", newPKCE(), "openid").Encode())
		otherBack := e.get(other.location.String())
		for _, q := range []string{"id=" + id, "id=" + id + "&t=" + otherBack.location.Query().Get("t"), "id=" + id + "&t=AAAA"} {
			h := e.get(e.srv.URL + "/authorize/callback?" + q)
			if h.status != http.StatusBadRequest || h.location != nil || !strings.Contains(h.body, "another browser") {
				t.Errorf("callback?%s = %d %v %s; want 400 naming another browser", q, h.status, h.location, h.body)
			}
		}
		// Another session cannot take the completed request over.
		e.signIn("acct-1", 1, "pwd")
		if _, err := e.p.Complete(t.Context(), id, e.sess.Load()); err == nil {
			t.Error("a second session completed a request another had completed")
		}
		e.sess.Store(victim)
		// The victim's own browser, with its token, gets the code.
		back := e.get(toCallback.location.String())
		if back.location == nil || back.location.Query().Get("code") == "" {
			t.Errorf("callback with the token = %d %v, want a code", back.status, back.location)
		}
	})
}

func authRequestID(t *testing.T, h hop) string {
	t.Helper()
	var body struct{ ID string }
	if err := json.Unmarshal([]byte(h.body), &body); err != nil || body.ID == "" {
		t.Fatalf("no request ID in %q", h.body)
	}
	return body.ID
}
