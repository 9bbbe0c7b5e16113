package op_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/op"
	"github.com/portvakt/portvakt/internal/secret"
	"github.com/portvakt/portvakt/internal/store"
)

// kids returns the key IDs /keys publishes.
func (e *env) kids() []string {
	e.t.Helper()
	var jwks struct{ Keys []struct{ Kid, Alg string } }
	if err := json.Unmarshal([]byte(e.get(e.srv.URL+"/keys").body), &jwks); err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, k := range jwks.Keys {
		out = append(out, k.Kid)
	}
	return out
}

// idTokenKid runs a code flow and returns the kid its ID token names.
func (e *env) idTokenKid(t *testing.T) string {
	t.Helper()
	pk := newPKCE()
	tr := e.exchange("web", webSecret, e.code(e.authParams("web", pk, "openid")), pk.verifier)
	h, _ := claims(t, tr.IDToken)
	return h["kid"].(string)
}

// TestKeys_Rotation: after Rotate new tokens name the new key and the old
// one stays published until its tokens have expired; the schedule
// publishes a successor before it signs; keys are sealed at rest.
func TestKeys_Rotation(t *testing.T) {
	e := newEnv(t, envOptions{configure: func(c *op.Config) {
		c.Keys.RotationPeriod = 30 * 24 * time.Hour
		c.Keys.PrePublish = time.Hour
		c.Keys.Overlap = 2 * time.Hour
	}})
	e.signIn("acct-1", 1, "pwd")
	ctx := t.Context()

	t.Run("Rotate signs with a new key and keeps the old one published", func(t *testing.T) {
		defer e.use(t)()
		old := e.idTokenKid(t)
		if err := e.p.Rotate(ctx); err != nil {
			t.Fatal(err)
		}
		cur := e.idTokenKid(t)
		if cur == old {
			t.Fatalf("the ID token after Rotate names the old key %s", old)
		}
		if got := e.kids(); !slices.Contains(got, old) || !slices.Contains(got, cur) {
			t.Errorf("/keys = %v, want both %s (retired) and %s", got, old, cur)
		}
		e.advance(2*time.Hour + time.Minute) // past the overlap
		e.signIn("acct-1", 1, "pwd")
		if err := e.p.EnsureKeys(ctx); err != nil {
			t.Fatal(err)
		}
		if got := e.kids(); slices.Contains(got, old) || !slices.Contains(got, cur) {
			t.Errorf("/keys after the overlap = %v, want only %s", got, cur)
		}
	})
	t.Run("the schedule publishes a successor before it signs", func(t *testing.T) {
		defer e.use(t)()
		cur := e.idTokenKid(t)
		e.advance(30*24*time.Hour - 30*time.Minute) // within PrePublish of the period's end
		e.signIn("acct-1", 1, "pwd")
		if err := e.p.EnsureKeys(ctx); err != nil {
			t.Fatal(err)
		}
		published := e.kids()
		if len(published) != 2 || !slices.Contains(published, cur) {
			t.Fatalf("/keys = %v, want the current key and its successor", published)
		}
		if got := e.idTokenKid(t); got != cur {
			t.Errorf("the successor signs before its time: kid %s, want %s", got, cur)
		}
		e.advance(time.Hour + time.Minute)
		e.signIn("acct-1", 1, "pwd")
		next := e.idTokenKid(t) // no EnsureKeys needed: activation is by time
		if next == cur || !slices.Contains(published, next) {
			t.Errorf("after PrePublish the ID token names %s; want the published successor", next)
		}
		// Calling EnsureKeys again changes nothing.
		if err := e.p.EnsureKeys(ctx); err != nil {
			t.Fatal(err)
		}
		if got := e.kids(); !slices.Equal(got, published) {
			t.Errorf("/keys after a second EnsureKeys = %v, want %v", got, published)
		}
	})
	t.Run("private keys are sealed in the database", func(t *testing.T) {
		defer e.use(t)()
		keys, err := e.st.ListSigningKeys(ctx)
		if err != nil || len(keys) == 0 {
			t.Fatalf("ListSigningKeys: %v, %d keys", err, len(keys))
		}
		for _, k := range keys {
			if k.PrivateKey[0] != 1 || len(k.PrivateKey) < 100 {
				t.Errorf("key %s: private key does not look sealed", k.ID)
			}
		}
	})
}

// TestKeys_TwoNodes: a node that has not seen another node's new key yet
// loads it when a token names it.
func TestKeys_TwoNodes(t *testing.T) {
	e := newEnv(t, envOptions{})
	node2, err := op.New(op.Config{Issuer: e.srv.URL, Keys: op.KeyConfig{Algorithms: []string{"ES256"}},
		Clients: []op.ClientConfig{{ID: "svc", Secret: svcSecret, Scopes: []string{"read"}}}},
		op.Deps{Store: e.st, Sealer: e.sealer, Now: e.now, LoginURL: func(string) string { return "/" }})
	if err != nil {
		t.Fatal(err)
	}
	if err := node2.EnsureKeys(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := e.p.Rotate(t.Context()); err != nil { // on node 1 only
		t.Fatal(err)
	}
	e.advance(2 * time.Second)
	body := url.Values{"grant_type": {"client_credentials"}}.Encode()
	var tr struct {
		AccessToken string `json:"access_token"`
	}
	json.Unmarshal(serve(e.p.Handler(), "/oauth/token", body, "svc", svcSecret).Body.Bytes(), &tr)
	rec := serve(node2.Handler(), "/oauth/introspect", url.Values{"token": {tr.AccessToken}}.Encode(), "svc", svcSecret)
	if !strings.Contains(rec.Body.String(), `"active":true`) {
		t.Errorf("node 2 introspecting a token of node 1's new key: %s", rec.Body)
	}
}

// TestKeys_NeverOnARequestPath: a provider whose EnsureKeys was not called
// refuses to sign rather than make a key.
func TestKeys_NeverOnARequestPath(t *testing.T) {
	e := newEnv(t, envOptions{})
	// A second provider on the same database that never ran EnsureKeys,
	// on an empty key table.
	e.st.UpdateSigningKeys(t.Context(), func([]store.SigningKey) ([]store.SigningKey, error) { return nil, nil })
	p2, err := op.New(op.Config{Issuer: e.srv.URL, Keys: op.KeyConfig{Algorithms: []string{"ES256"}},
		Clients: []op.ClientConfig{{ID: "svc", Secret: svcSecret, Scopes: []string{"read"}}}},
		op.Deps{Store: e.st, Sealer: mustSealer(t), LoginURL: func(string) string { return "/" }})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, "/oauth/token", strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("svc", svcSecret)
	rec := newRecorder()
	p2.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusInternalServerError || !strings.Contains(rec.Body.String(), "server_error") {
		t.Errorf("token request without keys: %d %s; want a JSON 500", rec.Code, rec.Body)
	}
	if keys, _ := e.st.ListSigningKeys(t.Context()); len(keys) != 0 {
		t.Errorf("a request made %d signing keys", len(keys))
	}
}

// TestKeys_Algorithms: every token is ES256 or RS256 as the client says;
// alg none and HS256 are never issued nor accepted.
func TestKeys_Algorithms(t *testing.T) {
	e := newEnv(t, envOptions{algs: []string{"ES256", "RS256"}, configure: func(c *op.Config) {
		c.Clients = append(c.Clients, op.ClientConfig{ID: "rsa", Secret: webSecret, SigningAlg: "RS256",
			RedirectURIs: []string{c.Issuer + "/cb"}, AccessTokenFormat: store.TokenJWT})
	}})
	e.signIn("acct-1", 1, "pwd")
	for client, want := range map[string]string{"web": "ES256", "rsa": "RS256"} {
		pk := newPKCE()
		tr := e.exchange(client, webSecret, e.code(e.authParams(client, pk, "openid offline_access")), pk.verifier)
		for _, tok := range []string{tr.IDToken, tr.AccessToken} {
			if strings.Count(tok, ".") != 2 {
				continue // opaque
			}
			h, _ := claims(t, tok)
			if h["alg"] != want {
				t.Errorf("client %s: token alg %v, want %s", client, h["alg"], want)
			}
		}
	}
	var jwks struct{ Keys []struct{ Alg, Kty string } }
	json.Unmarshal([]byte(e.get(e.srv.URL+"/keys").body), &jwks)
	for _, k := range jwks.Keys {
		if k.Alg != "ES256" && k.Alg != "RS256" {
			t.Errorf("/keys publishes a %s key", k.Alg)
		}
	}
	// An HS256 token "signed" with a public key, or alg none, is not ours.
	for _, forged := range []string{
		"eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJpc3MiOiJ4IiwianRpIjoiY2MteCIsInNjb3BlIjoiIn0.",
		"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJqdGkiOiJjYy14Iiwic2NvcGUiOiIifQ.c2lnbmF0dXJl",
	} {
		if e.active("web", webSecret, forged) {
			t.Errorf("a forged token is active: %s", forged)
		}
	}
}

// TestClients covers client management: secrets of 256 bits shown once
// and stored as SHA-256 digests, configured clients that cannot be
// removed, and registration rules.
func TestClients(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := t.Context()
	c, plain, err := e.p.CreateClient(ctx, op.ClientConfig{Name: "Reports", Scopes: []string{"reports"},
		GrantTypes: []string{op.GrantClientCredentials}})
	if err != nil {
		t.Fatal(err)
	}
	if len(plain) != 43 { // base64url of 32 bytes
		t.Errorf("secret %q is %d characters, want 43 (256 bits)", plain, len(plain))
	}
	stored, err := e.st.GetClient(ctx, c.ID)
	if err != nil || string(stored.SecretHash) != string(secret.Hash(plain)) || strings.Contains(string(stored.SecretHash), plain) {
		t.Errorf("stored client %+v, %v; want the secret's SHA-256 only", stored, err)
	}
	tr := e.token(url.Values{"grant_type": {"client_credentials"}}, c.ID, plain)
	if tr.status != http.StatusOK {
		t.Fatalf("client_credentials of a new client: %d %s", tr.status, tr.Error)
	}
	newSecret, err := e.p.NewClientSecret(ctx, c.ID)
	if err != nil || newSecret == plain {
		t.Fatalf("NewClientSecret: %q, %v", newSecret, err)
	}
	if tr := e.token(url.Values{"grant_type": {"client_credentials"}}, c.ID, plain); tr.Error != "invalid_client" {
		t.Errorf("the old secret after NewClientSecret: %d %s", tr.status, tr.Error)
	}
	list, err := e.p.ListClients(ctx)
	if err != nil || len(list) != 8 || !list[0].Configured || list[7].ID != c.ID || list[7].Configured {
		t.Errorf("ListClients = %d clients, %v", len(list), err)
	}
	if err := e.p.DeleteClient(ctx, "web"); err == nil {
		t.Errorf("DeleteClient(a configured client) = nil error")
	}
	if _, _, err := e.p.CreateClient(ctx, op.ClientConfig{ID: "web", RedirectURIs: []string{"https://x.example/cb"}}); err == nil {
		t.Errorf("CreateClient with a configured client's ID = nil error")
	}
	if err := e.p.DeleteClient(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if tr := e.token(url.Values{"grant_type": {"client_credentials"}}, c.ID, newSecret); tr.Error != "invalid_client" {
		t.Errorf("a deleted client: %d %s", tr.status, tr.Error)
	}
	for _, bad := range []op.ClientConfig{
		{RedirectURIs: []string{"http://app.example/cb"}},    // http off loopback
		{RedirectURIs: []string{"https://app.example/cb#x"}}, // fragment
		{RedirectURIs: []string{"https://app.example/a/../cb"}},
		{RedirectURIs: []string{"https://app.example/cb"}, GrantTypes: []string{"implicit"}},
		{RedirectURIs: []string{"https://app.example/cb"}, GrantTypes: []string{"password"}},
		{Public: true, GrantTypes: []string{op.GrantClientCredentials}},
		{RedirectURIs: []string{"com.example.app:/cb"}}, // private-use scheme: public clients only
		{RedirectURIs: []string{"https://app.example/cb"}, SigningAlg: "HS256"},
		{RedirectURIs: []string{"https://app.example/cb"}, SigningAlg: "none"},
	} {
		if _, _, err := e.p.CreateClient(ctx, bad); err == nil {
			t.Errorf("CreateClient(%+v) = nil error", bad)
		}
	}
	if _, s, err := e.p.CreateClient(ctx, op.ClientConfig{Public: true, RedirectURIs: []string{"com.example.app:/cb", "http://127.0.0.1/cb"}}); err != nil || s != "" {
		t.Errorf("CreateClient(a native app) = %q, %v", s, err)
	}
}

// TestConfig: New reports every problem of the configuration.
func TestConfig(t *testing.T) {
	_, err := op.New(op.Config{
		Issuer:  "http://id.example.org",
		CodeTTL: 5 * time.Minute,
		Clients: []op.ClientConfig{{ID: "a", Secret: "short", RedirectURIs: []string{"https://a.example/cb"}}},
	}, op.Deps{})
	if err == nil {
		t.Fatal("New with a bad configuration = nil error")
	}
	for _, want := range []string{"issuer", "code_ttl", "clients[0]: secret", "Store is required", "Sealer", "LoginURL"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("New error lacks %q:\n%v", want, err)
		}
	}
}
