package op_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"testing"

	"github.com/zitadel/oidc/v3/pkg/client/rp"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"golang.org/x/oauth2"

	"github.com/portvakt/portvakt/internal/op"
)

// TestCodeFlow_RelyingParty runs the code flow with PKCE through
// zitadel's certified relying party: discovery, the authorization
// request, the code exchange with ID token validation (signature through
// the JWKS, iss, aud, exp, nonce), userinfo and a refresh.
func TestCodeFlow_RelyingParty(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := t.Context()
	pk := newPKCE()
	nonce := "n-" + t.Name()
	relying, err := rp.NewRelyingPartyOIDC(ctx, e.srv.URL, "web", webSecret, e.srv.URL+"/cb",
		[]string{"openid", "profile", "email", "offline_access"},
		rp.WithVerifierOpts(rp.WithSupportedSigningAlgorithms("ES256"), rp.WithNonce(func(ctx context.Context) string {
			// The nonce binds the authentication; a refresh has none.
			n, _ := ctx.Value(nonceKey{}).(string)
			return n
		})),
		rp.WithHTTPClient(e.http))
	if err != nil {
		t.Fatalf("NewRelyingPartyOIDC: %v", err)
	}
	sess := e.signIn("acct-1", 3, "pwd", "otp", "mfa")

	authURL := rp.AuthURL("state-1", relying, rp.WithCodeChallenge(pk.challenge),
		authParam("nonce", nonce), authParam("acr_values", op.ACRLevel2))
	h := e.follow(authURL)
	if h.location == nil || h.location.Path != "/cb" {
		t.Fatalf("authorization ended with %d %s, want a redirect to /cb", h.status, h.body)
	}
	q := h.location.Query()
	if q.Get("iss") != e.srv.URL || q.Get("state") != "state-1" || q.Get("code") == "" {
		t.Fatalf("authorization response %v: want code, state=state-1 and iss=%s", q, e.srv.URL)
	}

	tokens, err := rp.CodeExchange[*oidc.IDTokenClaims](context.WithValue(ctx, nonceKey{}, nonce), q.Get("code"), relying, rp.WithCodeVerifier(pk.verifier))
	if err != nil {
		t.Fatalf("CodeExchange: %v", err)
	}
	c := tokens.IDTokenClaims
	if c.Subject != "acct-1" || c.Issuer != e.srv.URL || !slices.Equal([]string(c.Audience), []string{"web"}) {
		t.Errorf("ID token sub=%q iss=%q aud=%v; want acct-1, %s, [web]", c.Subject, c.Issuer, c.Audience, e.srv.URL)
	}
	// acr: of the values asked for, the strongest the session's level 3
	// satisfies (only level 2 was asked for).
	if c.AuthenticationContextClassReference != op.ACRLevel2 {
		t.Errorf("ID token acr = %q, want %q", c.AuthenticationContextClassReference, op.ACRLevel2)
	}
	if !slices.Equal([]string(c.AuthenticationMethodsReferences), []string{"pwd", "otp", "mfa"}) {
		t.Errorf("ID token amr = %v, want [pwd otp mfa]", c.AuthenticationMethodsReferences)
	}
	if got := c.AuthTime.AsTime(); got.Unix() != sess.AuthTime.Unix() {
		t.Errorf("ID token auth_time = %v, want the session's %v", got, sess.AuthTime)
	}
	if c.SessionID != sess.ID {
		t.Errorf("ID token sid = %q, want the session's %q", c.SessionID, sess.ID)
	}
	if c.Nonce != nonce || c.AccessTokenHash == "" || c.CodeHash == "" {
		t.Errorf("ID token nonce=%q at_hash=%q c_hash=%q; want the nonce and both hashes", c.Nonce, c.AccessTokenHash, c.CodeHash)
	}
	if c.Email != "kari@example.no" || !bool(c.EmailVerified) || c.PreferredUsername != "kari" {
		t.Errorf("ID token email=%q verified=%v preferred_username=%q", c.Email, c.EmailVerified, c.PreferredUsername)
	}
	if tokens.RefreshToken == "" {
		t.Fatalf("no refresh token for offline_access")
	}

	info, err := rp.Userinfo[*oidc.UserInfo](ctx, tokens.AccessToken, oidc.BearerToken, "acct-1", relying)
	if err != nil {
		t.Fatalf("Userinfo: %v", err)
	}
	if info.Email != "kari@example.no" || info.Name != "Kari Nordmann" || info.Locale.String() != "nb" {
		t.Errorf("userinfo = %+v", info)
	}

	refreshed, err := rp.RefreshTokens[*oidc.IDTokenClaims](ctx, relying, tokens.RefreshToken, "", "")
	if err != nil {
		t.Fatalf("RefreshTokens: %v", err)
	}
	if refreshed.RefreshToken == "" || refreshed.RefreshToken == tokens.RefreshToken {
		t.Errorf("refresh gave refresh token %q; want a new one (rotation)", refreshed.RefreshToken)
	}
	rc := refreshed.IDTokenClaims
	if rc == nil {
		t.Fatalf("no ID token from the refresh")
	}
	if rc.AuthTime.AsTime().Unix() != sess.AuthTime.Unix() || rc.SessionID != sess.ID || rc.AuthenticationContextClassReference != op.ACRLevel2 {
		t.Errorf("refreshed ID token auth_time=%v sid=%q acr=%q; want the original authentication's", rc.AuthTime.AsTime(), rc.SessionID, rc.AuthenticationContextClassReference)
	}
	if rc.Subject != "acct-1" {
		t.Errorf("refreshed ID token sub = %q", rc.Subject)
	}
}

type nonceKey struct{}

func authParam(k, v string) rp.AuthURLOpt {
	return func() []oauth2.AuthCodeOption { return []oauth2.AuthCodeOption{oauth2.SetAuthURLParam(k, v)} }
}

// TestDiscovery checks the metadata: the issuer, the endpoints, code only,
// S256 only, RFC 9207's iss flag, and a JWKS with the signing keys.
func TestDiscovery(t *testing.T) {
	e := newEnv(t, envOptions{})
	h := e.get(e.srv.URL + "/.well-known/openid-configuration")
	if h.status != http.StatusOK {
		t.Fatalf("discovery answered %d %s", h.status, h.body)
	}
	var d map[string]any
	if err := json.Unmarshal([]byte(h.body), &d); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"issuer":                 e.srv.URL,
		"authorization_endpoint": e.srv.URL + "/authorize",
		"token_endpoint":         e.srv.URL + "/oauth/token",
		"jwks_uri":               e.srv.URL + "/keys",
		"end_session_endpoint":   e.srv.URL + "/end_session",
		"authorization_response_iss_parameter_supported": true,
		"backchannel_logout_supported":                   true,
		"backchannel_logout_session_supported":           true,
	}
	for k, v := range want {
		if d[k] != v {
			t.Errorf("discovery %s = %v, want %v", k, d[k], v)
		}
	}
	list := func(k string) []string {
		var out []string
		for _, v := range d[k].([]any) {
			out = append(out, v.(string))
		}
		return out
	}
	if got := list("response_types_supported"); !slices.Equal(got, []string{"code"}) {
		t.Errorf("response_types_supported = %v, want [code] (no implicit)", got)
	}
	if got := list("code_challenge_methods_supported"); !slices.Equal(got, []string{"S256"}) {
		t.Errorf("code_challenge_methods_supported = %v, want [S256]", got)
	}
	for _, g := range list("grant_types_supported") {
		if g == "implicit" || g == "password" {
			t.Errorf("grant_types_supported has %q", g)
		}
	}
	if got := list("acr_values_supported"); slices.Contains(got, "idporten-loa-high") || !slices.Contains(got, op.ACRLevel4) {
		t.Errorf("acr_values_supported = %v", got)
	}
	keys := e.get(e.srv.URL + "/keys")
	var jwks struct {
		Keys []struct {
			Kid, Alg, Use, Kty string
		}
	}
	if err := json.Unmarshal([]byte(keys.body), &jwks); err != nil || len(jwks.Keys) != 1 {
		t.Fatalf("/keys = %s (%v), want one key", keys.body, err)
	}
	if k := jwks.Keys[0]; k.Alg != "ES256" || k.Use != "sig" || k.Kty != "EC" || k.Kid == "" {
		t.Errorf("/keys has %+v, want an ES256 signing key with a kid", k)
	}
	// Scripts may call the token endpoint from any origin, but never with
	// credentials (no cookie is read there).
	req, _ := http.NewRequest(http.MethodOptions, e.srv.URL+"/oauth/token", nil)
	req.Header.Set("Origin", "https://spa.example")
	req.Header.Set("Access-Control-Request-Method", "POST")
	resp, err := e.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("Access-Control-Allow-Origin") != "*" || resp.Header.Get("Access-Control-Allow-Credentials") != "" {
		t.Errorf("CORS preflight of the token endpoint: %v", resp.Header)
	}
}
