// Package upstreamtest is a real OpenID Provider over HTTP for tests:
// discovery, JWKS, an authorization endpoint that signs in whoever the
// test chose (no page), a token endpoint that checks the client, the code
// (single use), the redirect URI and PKCE S256, and RS256-signed ID tokens
// with the acr, amr and pid the test chose. Knobs let a test play the
// attacker's upstream: another issuer in the token, alg none, an expired
// token, a wrong audience, a wrong nonce, a wrong or missing RFC 9207 iss.
// It follows dex's connector/oidc/oidc_test.go.
package upstreamtest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// User is who signs in at the provider next.
type User struct {
	Subject       string
	Email         string
	EmailVerified bool
	// OmitEmailVerified leaves email_verified out of the token.
	OmitEmailVerified bool
	Name              string
	// ACR and AMR are put in the ID token as they are (ID-porten:
	// idporten-loa-high with BankID, idporten-loa-substantial with MinID).
	ACR string
	AMR []string
	// PID is ID-porten's national identity number claim; empty leaves it out.
	PID string
	// Extra claims (tid for Microsoft, say).
	Extra map[string]any
}

// Tamper changes an answer the way a broken or hostile provider would.
type Tamper struct {
	// Issuer, when set, is the token's iss.
	Issuer string
	// Audience, when set, is the token's aud.
	Audience string
	// Nonce, when set, replaces the nonce.
	Nonce string
	// AlgNone sends an unsigned token (alg none).
	AlgNone bool
	// Expired sends a token that expired an hour ago.
	Expired bool
	// ISS, when set, is the RFC 9207 iss parameter on the response; with
	// OmitISS none is sent.
	ISS     string
	OmitISS bool
	// ForeignKey signs with a key not in the JWKS.
	ForeignKey bool
}

// Authorization is what the provider saw at its authorization endpoint.
type Authorization struct {
	Query url.Values
}

// Server is the provider. Its zero value is not usable; call New.
type Server struct {
	*httptest.Server
	// Issuer is the server's URL; ClientID and ClientSecret the only
	// client it knows.
	Issuer       string
	ClientID     string
	ClientSecret string

	key, foreign *rsa.PrivateKey

	mu     sync.Mutex
	user   User
	tamper Tamper
	codes  map[string]grant
	seen   []Authorization
	// redeemed counts codes redeemed, replays included.
	redeemed int
	logouts  []url.Values
	// clientKey, when set, authenticates the client by private_key_jwt.
	clientKey *rsa.PublicKey
}

type grant struct {
	clientID, redirectURI, nonce, challenge string
	user                                    User
	used                                    bool
}

// The keys are made once per test binary: RSA key generation is slow, and
// each provider's tokens are still checked against its own JWKS.
var (
	keysOnce     sync.Once
	key, foreign *rsa.PrivateKey
	keyErr       error
)

// New starts a provider, stopped at the end of the test. ISS parameter
// support (RFC 9207) is advertised and sent.
func New(tb testing.TB) *Server {
	tb.Helper()
	s := &Server{ClientID: "portvakt", ClientSecret: "upstream-secret", codes: map[string]grant{}}
	keysOnce.Do(func() {
		if key, keyErr = rsa.GenerateKey(rand.Reader, 2048); keyErr == nil {
			foreign, keyErr = rsa.GenerateKey(rand.Reader, 2048)
		}
	})
	if keyErr != nil {
		tb.Fatal(keyErr)
	}
	s.key, s.foreign = key, foreign
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", s.discovery)
	mux.HandleFunc("GET /keys", s.keys)
	mux.HandleFunc("GET /authorize", s.authorize)
	mux.HandleFunc("POST /token", s.token)
	mux.HandleFunc("GET /logout", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.logouts = append(s.logouts, r.URL.Query())
		s.mu.Unlock()
		if u := r.URL.Query().Get("post_logout_redirect_uri"); u != "" {
			http.Redirect(w, r, u, http.StatusFound)
			return
		}
		w.Write([]byte("signed out"))
	})
	s.Server = httptest.NewServer(mux)
	s.Issuer = s.URL
	tb.Cleanup(s.Close)
	return s
}

// SignInAs makes u the person who signs in next (and after).
func (s *Server) SignInAs(u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.user = u
}

// SetTamper makes the provider misbehave as t says from now on.
func (s *Server) SetTamper(t Tamper) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tamper = t
}

// Authorizations returns what the authorization endpoint saw, in order.
func (s *Server) Authorizations() []Authorization {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Authorization(nil), s.seen...)
}

// AcceptClientKey lets the client authenticate with private_key_jwt
// signed by the key's private half.
func (s *Server) AcceptClientKey(pub *rsa.PublicKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clientKey = pub
}

func (s *Server) clientAssertionValid(assertion string) bool {
	s.mu.Lock()
	pub := s.clientKey
	s.mu.Unlock()
	if pub == nil {
		return false
	}
	jws, err := jose.ParseSigned(assertion, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return false
	}
	payload, err := jws.Verify(pub)
	if err != nil {
		return false
	}
	var c struct {
		Iss, Sub string
		Aud      any
		Exp      int64
	}
	if json.Unmarshal(payload, &c) != nil || c.Iss != s.ClientID || c.Sub != s.ClientID || c.Exp < time.Now().Unix() {
		return false
	}
	switch aud := c.Aud.(type) {
	case string:
		return aud == s.Issuer || aud == s.Issuer+"/token"
	case []any:
		for _, a := range aud {
			if a == s.Issuer || a == s.Issuer+"/token" {
				return true
			}
		}
	}
	return false
}

// Logouts returns the queries of the RP-initiated logouts seen, in order.
func (s *Server) Logouts() []url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]url.Values(nil), s.logouts...)
}

// Redeemed returns how many times the token endpoint was asked to redeem
// a code (replays included).
func (s *Server) Redeemed() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.redeemed
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (s *Server) discovery(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, 200, map[string]any{
		"issuer":                                         s.Issuer,
		"authorization_endpoint":                         s.Issuer + "/authorize",
		"token_endpoint":                                 s.Issuer + "/token",
		"jwks_uri":                                       s.Issuer + "/keys",
		"end_session_endpoint":                           s.Issuer + "/logout",
		"response_types_supported":                       []string{"code"},
		"subject_types_supported":                        []string{"pairwise"},
		"id_token_signing_alg_values_supported":          []string{"RS256"},
		"code_challenge_methods_supported":               []string{"S256"},
		"token_endpoint_auth_methods_supported":          []string{"client_secret_basic", "client_secret_post"},
		"acr_values_supported":                           []string{"idporten-loa-substantial", "idporten-loa-high"},
		"authorization_response_iss_parameter_supported": true,
	})
}

func (s *Server) keys(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, 200, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &s.key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
}

func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	s.seen = append(s.seen, Authorization{Query: q})
	user, tamper := s.user, s.tamper
	s.mu.Unlock()
	redirect := q.Get("redirect_uri")
	if q.Get("client_id") != s.ClientID || redirect == "" {
		http.Error(w, "unknown client or redirect_uri", http.StatusBadRequest)
		return
	}
	back, err := url.Parse(redirect)
	if err != nil {
		http.Error(w, "bad redirect_uri", http.StatusBadRequest)
		return
	}
	v := back.Query()
	v.Set("state", q.Get("state"))
	switch {
	case q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "":
		v.Set("error", "invalid_request")
	case user.Subject == "":
		v.Set("error", "access_denied")
	default:
		code := randomString()
		s.mu.Lock()
		s.codes[code] = grant{clientID: s.ClientID, redirectURI: redirect, nonce: q.Get("nonce"), challenge: q.Get("code_challenge"), user: user}
		s.mu.Unlock()
		v.Set("code", code)
	}
	switch {
	case tamper.OmitISS:
	case tamper.ISS != "":
		v.Set("iss", tamper.ISS)
	default:
		v.Set("iss", s.Issuer)
	}
	if q.Get("response_mode") == "form_post" {
		// OAuth 2.0 Form Post Response Mode: a page that POSTs the answer
		// to the redirect URI as soon as it loads.
		formPost(w, redirect, v)
		return
	}
	back.RawQuery = v.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

// formPost writes the page of the form_post response mode.
func formPost(w http.ResponseWriter, action string, v url.Values) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	var b strings.Builder
	b.WriteString(`<!doctype html><html><head><title>Submit This Form</title></head><body onload="document.forms[0].submit()"><form method="post" action="`)
	b.WriteString(html.EscapeString(action))
	b.WriteString(`">`)
	for k, vals := range v {
		for _, val := range vals {
			fmt.Fprintf(&b, `<input type="hidden" name="%s" value="%s">`, html.EscapeString(k), html.EscapeString(val))
		}
	}
	b.WriteString(`<noscript><button type="submit">Continue</button></noscript></form></body></html>`)
	io.WriteString(w, b.String())
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeJSON(w, 400, map[string]string{"error": "invalid_request"})
		return
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if r.PostForm.Get("client_assertion_type") == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
		// private_key_jwt (RFC 7523): the assertion replaces the secret.
		if s.clientAssertionValid(r.PostForm.Get("client_assertion")) {
			id, secret = s.ClientID, s.ClientSecret
		} else {
			id = ""
		}
	}
	if id != s.ClientID || secret != s.ClientSecret {
		writeJSON(w, 401, map[string]string{"error": "invalid_client"})
		return
	}
	s.mu.Lock()
	s.redeemed++
	code := r.PostForm.Get("code")
	g, found := s.codes[code]
	if found {
		s.codes[code] = grant{used: true}
	}
	tamper := s.tamper
	s.mu.Unlock()
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	switch {
	case r.PostForm.Get("grant_type") != "authorization_code", !found, g.used,
		g.redirectURI != r.PostForm.Get("redirect_uri"),
		base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge:
		writeJSON(w, 400, map[string]string{"error": "invalid_grant"})
		return
	}
	now := time.Now()
	claims := map[string]any{
		"iss": s.Issuer, "sub": g.user.Subject, "aud": s.ClientID,
		"iat": now.Unix(), "exp": now.Add(2 * time.Minute).Unix(), "auth_time": now.Unix(),
		"nonce": g.nonce,
	}
	if g.user.Email != "" {
		claims["email"] = g.user.Email
		if !g.user.OmitEmailVerified {
			claims["email_verified"] = g.user.EmailVerified
		}
	}
	if g.user.Name != "" {
		claims["name"] = g.user.Name
	}
	if g.user.ACR != "" {
		claims["acr"] = g.user.ACR
	}
	if len(g.user.AMR) > 0 {
		claims["amr"] = g.user.AMR
	}
	if g.user.PID != "" {
		claims["pid"] = g.user.PID
	}
	for k, v := range g.user.Extra {
		claims[k] = v
	}
	if tamper.Issuer != "" {
		claims["iss"] = tamper.Issuer
	}
	if tamper.Audience != "" {
		claims["aud"] = tamper.Audience
	}
	if tamper.Nonce != "" {
		claims["nonce"] = tamper.Nonce
	}
	if tamper.Expired {
		claims["iat"], claims["exp"] = now.Add(-2*time.Hour).Unix(), now.Add(-time.Hour).Unix()
	}
	idToken, err := s.sign(claims, tamper)
	if err != nil {
		writeJSON(w, 500, map[string]string{"error": "server_error"})
		return
	}
	writeJSON(w, 200, map[string]any{
		"access_token": randomString(), "token_type": "Bearer", "expires_in": 120, "id_token": idToken,
	})
}

func (s *Server) sign(claims map[string]any, t Tamper) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	if t.AlgNone {
		head := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
		return head + "." + base64.RawURLEncoding.EncodeToString(payload) + ".", nil
	}
	key := s.key
	if t.ForeignKey {
		key = s.foreign
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: "k1"}}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", err
	}
	obj, err := signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return obj.CompactSerialize()
}

func randomString() string {
	b := make([]byte, 24)
	rand.Read(b)
	return strings.TrimRight(base64.RawURLEncoding.EncodeToString(b), "=")
}
