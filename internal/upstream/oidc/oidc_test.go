package oidc_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/portvakt/portvakt/internal/secret"
	"github.com/portvakt/portvakt/internal/upstream"
	"github.com/portvakt/portvakt/internal/upstream/oidc"
	"github.com/portvakt/portvakt/internal/upstream/upstreamtest"
)

const callback = "http://127.0.0.1:1/login/federated/idporten/callback"

func open(t *testing.T, srv *upstreamtest.Server, preset string) *oidc.Connector {
	t.Helper()
	c, err := oidc.Open(upstream.Config{
		ID: "idporten", Preset: preset, Issuer: srv.Issuer, ClientID: srv.ClientID, ClientSecret: srv.ClientSecret,
		ACRValues: []string{"idporten-loa-high"},
	}, callback, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newRequest() upstream.Request {
	return upstream.Request{State: secret.Token(), Nonce: secret.Token(), Verifier: secret.Token() + secret.Token(), Locales: []string{"nb"}}
}

// authorize follows the connector's URL to the provider and returns the
// response the browser would bring back.
func authorize(t *testing.T, c *oidc.Connector, req upstream.Request) upstream.Response {
	t.Helper()
	u, err := c.AuthURL(t.Context(), req)
	if err != nil {
		t.Fatalf("AuthURL: %v", err)
	}
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize: %s, Location %q", resp.Status, resp.Header.Get("Location"))
	}
	q := loc.Query()
	return upstream.Response{Code: q.Get("code"), State: q.Get("state"), Iss: q.Get("iss"), Error: q.Get("error")}
}

func TestIDPorten_SignInAtHigh(t *testing.T) {
	srv := upstreamtest.New(t)
	srv.SignInAs(upstreamtest.User{Subject: "pairwise-1", PID: "01017012345", ACR: "idporten-loa-high", AMR: []string{"BankID"}, Name: "Kari Nordmann"})
	c := open(t, srv, upstream.PresetIDPorten)
	req := newRequest()
	resp := authorize(t, c, req)
	id, err := c.Exchange(t.Context(), req, resp)
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	if id.NationalID != "01017012345" || id.Key() != "01017012345" || id.ACR != "idporten-loa-high" || !slices.Equal(id.AMR, []string{"BankID"}) || id.Subject != "pairwise-1" || id.Name != "Kari Nordmann" || id.Provider != "idporten" {
		t.Errorf("Exchange = %+v", id)
	}
	seen := srv.Authorizations()
	if len(seen) != 1 {
		t.Fatalf("authorizations = %d", len(seen))
	}
	q := seen[0].Query
	for k, want := range map[string]string{"acr_values": "idporten-loa-high", "ui_locales": "nb", "code_challenge_method": "S256", "nonce": req.Nonce, "state": req.State, "redirect_uri": callback} {
		if got := q.Get(k); got != want {
			t.Errorf("authorization %s = %q, want %q", k, got, want)
		}
	}
	if q.Get("code_challenge") == "" || q.Get("code_challenge") == req.Verifier {
		t.Errorf("code_challenge = %q: want the S256 of the verifier", q.Get("code_challenge"))
	}
	if u, err := c.LogoutURL(t.Context(), id.IDToken, "http://127.0.0.1:1/", "s"); err != nil || u == "" {
		t.Errorf("LogoutURL = %q, %v", u, err)
	}
}

func TestIDPorten_NoPIDIsRefused(t *testing.T) {
	srv := upstreamtest.New(t)
	srv.SignInAs(upstreamtest.User{Subject: "pairwise-1", ACR: "idporten-loa-high"})
	c := open(t, srv, upstream.PresetIDPorten)
	req := newRequest()
	_, err := c.Exchange(t.Context(), req, authorize(t, c, req))
	if !errors.Is(err, upstream.ErrRefused) {
		t.Fatalf("Exchange without pid = %v, want ErrRefused", err)
	}
}

func TestEmail_OnlyWhenVerified(t *testing.T) {
	for _, tc := range []struct {
		name string
		user upstreamtest.User
		want string
	}{
		{"verified", upstreamtest.User{Subject: "s", Email: "kari@example.no", EmailVerified: true}, "kari@example.no"},
		{"email_verified false", upstreamtest.User{Subject: "s", Email: "kari@example.no"}, ""},
		{"email_verified absent", upstreamtest.User{Subject: "s", Email: "kari@example.no", OmitEmailVerified: true}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := upstreamtest.New(t)
			srv.SignInAs(tc.user)
			c := open(t, srv, upstream.PresetGoogle)
			req := newRequest()
			id, err := c.Exchange(t.Context(), req, authorize(t, c, req))
			if err != nil {
				t.Fatal(err)
			}
			if id.Email != tc.want || id.EmailVerified != (tc.want != "") {
				t.Errorf("Email, EmailVerified = %q, %v; want %q", id.Email, id.EmailVerified, tc.want)
			}
		})
	}
}

// TestRefused is the attacker's upstream: each answer must be refused.
func TestRefused(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tamper upstreamtest.Tamper
		// change alters the request or response between the provider and
		// Exchange.
		change func(*upstream.Request, *upstream.Response)
	}{
		{"an ID token from another issuer (mix-up)", upstreamtest.Tamper{Issuer: "https://evil.example"}, nil},
		{"an iss parameter naming another issuer (RFC 9207 mix-up)", upstreamtest.Tamper{ISS: "https://evil.example"}, nil},
		{"no iss parameter from a provider that promised one", upstreamtest.Tamper{OmitISS: true}, nil},
		{"alg none", upstreamtest.Tamper{AlgNone: true}, nil},
		{"a signature by a key not in the JWKS", upstreamtest.Tamper{ForeignKey: true}, nil},
		{"an expired token", upstreamtest.Tamper{Expired: true}, nil},
		{"a token for another client", upstreamtest.Tamper{Audience: "someone-else"}, nil},
		{"a wrong nonce in the token", upstreamtest.Tamper{Nonce: "attacker-nonce"}, nil},
		{"another sign-in's nonce", upstreamtest.Tamper{}, func(r *upstream.Request, _ *upstream.Response) { r.Nonce = secret.Token() }},
		{"a wrong PKCE verifier", upstreamtest.Tamper{}, func(r *upstream.Request, _ *upstream.Response) { r.Verifier = secret.Token() + secret.Token() }},
		{"no code", upstreamtest.Tamper{}, func(_ *upstream.Request, resp *upstream.Response) { resp.Code = "" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := upstreamtest.New(t)
			srv.SignInAs(upstreamtest.User{Subject: "s", PID: "01017012345", ACR: "idporten-loa-high"})
			srv.SetTamper(tc.tamper)
			c := open(t, srv, upstream.PresetIDPorten)
			req := newRequest()
			resp := authorize(t, c, req)
			if tc.change != nil {
				tc.change(&req, &resp)
			}
			id, err := c.Exchange(t.Context(), req, resp)
			if !errors.Is(err, upstream.ErrRefused) {
				t.Fatalf("Exchange = %+v, %v; want ErrRefused", id, err)
			}
		})
	}
}

func TestReplayedCodeIsRefused(t *testing.T) {
	srv := upstreamtest.New(t)
	srv.SignInAs(upstreamtest.User{Subject: "s", PID: "01017012345", ACR: "idporten-loa-high"})
	c := open(t, srv, upstream.PresetIDPorten)
	req := newRequest()
	resp := authorize(t, c, req)
	if _, err := c.Exchange(t.Context(), req, resp); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exchange(t.Context(), req, resp); !errors.Is(err, upstream.ErrRefused) {
		t.Fatalf("second Exchange of one code = %v, want ErrRefused", err)
	}
	if n := srv.Redeemed(); n != 2 {
		t.Errorf("token endpoint saw %d redemptions, want 2", n)
	}
}

func TestCancelledAtProvider(t *testing.T) {
	srv := upstreamtest.New(t)
	c := open(t, srv, upstream.PresetIDPorten) // nobody signs in: access_denied
	req := newRequest()
	if _, err := c.Exchange(t.Context(), req, authorize(t, c, req)); !errors.Is(err, upstream.ErrCancelled) {
		t.Fatalf("Exchange after access_denied = %v, want ErrCancelled", err)
	}
}

func TestMicrosoft_TenantIsChecked(t *testing.T) {
	srv := upstreamtest.New(t)
	srv.SignInAs(upstreamtest.User{Subject: "s", Extra: map[string]any{"tid": "other-tenant"}})
	c, err := oidc.Open(upstream.Config{ID: "adfs", Preset: upstream.PresetMicrosoft, Issuer: srv.Issuer, ClientID: srv.ClientID, ClientSecret: srv.ClientSecret, Tenant: "visma-tenant"}, callback, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	req := newRequest()
	if _, err := c.Exchange(t.Context(), req, authorize(t, c, req)); !errors.Is(err, upstream.ErrRefused) {
		t.Fatalf("Exchange from another tenant = %v, want ErrRefused", err)
	}
}

func TestDiscoveryIssuerMustMatch(t *testing.T) {
	srv := upstreamtest.New(t)
	c, err := oidc.Open(upstream.Config{ID: "x", Preset: upstream.PresetGoogle, Issuer: srv.Issuer + "/", ClientID: "c"}, callback, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Check(t.Context()); err == nil {
		t.Fatal("Check with a trailing-slash issuer succeeded; want the discovery issuer mismatch")
	}
}

// TestPrivateKeyJWT: ID-porten's private_key_jwt client authentication:
// the connector signs an assertion with the configured key instead of
// sending a secret, and a wrong key is refused at the token endpoint.
func TestPrivateKeyJWT(t *testing.T) {
	srv := upstreamtest.New(t)
	srv.SignInAs(upstreamtest.User{Subject: "s", PID: "01017012345", ACR: "idporten-loa-high"})
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "client.pem")
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := oidc.Open(upstream.Config{ID: "idporten", Preset: upstream.PresetIDPorten, Issuer: srv.Issuer, ClientID: srv.ClientID,
		PrivateKeyFile: file, PrivateKeyID: "portvakt-1"}, callback, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	req := newRequest()
	resp := authorize(t, c, req)
	if _, err := c.Exchange(t.Context(), req, resp); !errors.Is(err, upstream.ErrRefused) {
		t.Fatalf("Exchange before the provider knows the key = %v, want ErrRefused", err)
	}
	srv.AcceptClientKey(&key.PublicKey)
	req = newRequest()
	if id, err := c.Exchange(t.Context(), req, authorize(t, c, req)); err != nil || id.NationalID != "01017012345" {
		t.Fatalf("Exchange with private_key_jwt = %+v, %v", id, err)
	}
}
