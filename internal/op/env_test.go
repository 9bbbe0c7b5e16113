package op_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/op"
	"github.com/portvakt/portvakt/internal/pgtest"
	"github.com/portvakt/portvakt/internal/secret"
	"github.com/portvakt/portvakt/internal/store"
	"github.com/portvakt/portvakt/internal/store/sqlstore"
)

// TestMain lets the PostgreSQL benchmarks share one throwaway cluster.
// zitadel logs through slog's default logger; only errors are worth
// seeing in test output.
func TestMain(m *testing.M) {
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))
	pgtest.Main(m)
}

// Secrets of the configured test clients (at least 32 characters).
const (
	webSecret = "web-secret-0123456789abcdefghijklmnop"
	svcSecret = "svc-secret-0123456789abcdefghijklmnop"
)

// env is a provider on SQLite (or PostgreSQL) behind an httptest server
// on 127.0.0.1, with a fake login page and a relying party's endpoints:
//
//	/login?id=…  calls Complete with the browser session the test set
//	             (env.setSession); a *NeedError comes back as 401 JSON
//	/cb          the clients' redirect URI (answers 200)
//	/bye         their post-logout redirect URI
//	/bcl         the back-channel logout endpoint; tokens go to env.logouts
type env struct {
	t       testing.TB
	srv     *httptest.Server
	p       *op.Provider
	st      store.Store
	sealer  *secret.Sealer
	offset  atomic.Int64 // added to the real clock
	sess    atomic.Pointer[store.Session]
	logouts chan string
	// http never follows redirects: the tests look at each hop.
	http *http.Client
}

type envOptions struct {
	driver    string // "sqlite" (default) or "postgres"
	algs      []string
	configure func(cfg *op.Config)
	deps      func(d *op.Deps)
}

func newEnv(tb testing.TB, opts envOptions) *env {
	tb.Helper()
	e := &env{t: tb, logouts: make(chan string, 16)}
	e.http = &http.Client{
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       30 * time.Second,
	}
	var handler atomic.Pointer[http.Handler]
	mux := http.NewServeMux()
	mux.HandleFunc("/login", e.login)
	mux.HandleFunc("/cb", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "rp callback") })
	mux.HandleFunc("/bye", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "bye") })
	mux.HandleFunc("/signed-out", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "signed out") })
	mux.HandleFunc("/bcl", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		select {
		case e.logouts <- r.PostForm.Get("logout_token"):
		default:
		}
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { (*handler.Load()).ServeHTTP(w, r) })
	e.srv = httptest.NewServer(mux)
	tb.Cleanup(e.srv.Close)

	dsn, driver := filepath.Join(tb.TempDir(), "portvakt.db"), "sqlite"
	if opts.driver == "postgres" {
		dsn, driver = pgtest.Shared(tb).NewDatabase(tb), "postgres"
	}
	db, err := sqlstore.OpenAndMigrate(context.Background(), driver, dsn)
	if err != nil {
		tb.Fatalf("OpenAndMigrate(%s): %v", driver, err)
	}
	tb.Cleanup(func() { db.Close() })
	e.st = db

	key := make([]byte, secret.KeySize)
	rand.Read(key)
	sealer, err := secret.NewSealer(key)
	if err != nil {
		tb.Fatal(err)
	}
	e.sealer = sealer
	algs := opts.algs
	if algs == nil {
		algs = []string{store.AlgES256}
	}
	u := e.srv.URL
	cfg := op.Config{
		Issuer: u,
		Keys:   op.KeyConfig{Algorithms: algs},
		Clients: []op.ClientConfig{
			{ID: "web", Secret: webSecret, Name: "Web App", RedirectURIs: []string{u + "/cb"},
				PostLogoutRedirectURIs: []string{u + "/bye"}, Scopes: []string{"api"}, BackChannelLogoutURI: u + "/bcl"},
			{ID: "spa", Public: true, Name: "Single Page", RedirectURIs: []string{u + "/cb"},
				PostLogoutRedirectURIs: []string{u + "/bye"}},
			{ID: "third", Secret: webSecret, Name: "Third Party", ThirdParty: true, RedirectURIs: []string{u + "/cb"}},
			{ID: "legacy", Secret: webSecret, Name: "No PKCE", PKCEOptional: true, RedirectURIs: []string{u + "/cb"},
				GrantTypes: []string{op.GrantAuthorizationCode}},
			{ID: "jwtweb", Secret: webSecret, RedirectURIs: []string{u + "/cb"}, AccessTokenFormat: store.TokenJWT},
			{ID: "svc", Secret: svcSecret, Scopes: []string{"read", "write"}},
			{ID: "svc-opaque", Secret: svcSecret, Scopes: []string{"read"}, AccessTokenFormat: store.TokenOpaque},
		},
		UILocales: []string{"en", "nb", "sv"},
	}
	if opts.configure != nil {
		opts.configure(&cfg)
	}
	deps := op.Deps{
		Store:     db,
		Sealer:    sealer,
		Now:       e.now,
		LoginURL:  func(id string) string { return u + "/login?id=" + url.QueryEscape(id) },
		LogoutURL: func(req string) string { return u + "/signed-out?req=" + url.QueryEscape(req) },
	}
	if opts.deps != nil {
		opts.deps(&deps)
	}
	e.p, err = op.New(cfg, deps)
	if err != nil {
		tb.Fatalf("op.New: %v", err)
	}
	h := e.p.Handler()
	handler.Store(&h)
	if err := e.p.EnsureKeys(context.Background()); err != nil {
		tb.Fatalf("EnsureKeys: %v", err)
	}
	e.account("acct-1", "kari", "kari@example.no")
	return e
}

// use makes e report failures to t (a subtest) until the returned func
// runs: defer e.use(t)().
func (e *env) use(t testing.TB) func() {
	prev := e.t
	e.t = t
	return func() { e.t = prev }
}

func (e *env) now() time.Time { return time.Now().Add(time.Duration(e.offset.Load())) }

// advance moves the provider's clock.
func (e *env) advance(d time.Duration) { e.offset.Add(int64(d)) }

// account creates an account with a primary address.
func (e *env) account(id, username, email string) {
	e.t.Helper()
	ctx := context.Background()
	now := e.now()
	err := e.st.Register(ctx, store.Account{ID: id, Username: username, Name: "Kari Nordmann", Locale: "nb",
		CreatedAt: now, UpdatedAt: now},
		[]store.Email{{Address: email, AccountID: id, Primary: true, VerifiedAt: now, CreatedAt: now}}, nil)
	if err != nil {
		e.t.Fatalf("Register(%s): %v", id, err)
	}
}

// signIn gives the fake browser a new session of the account at level,
// authenticated now.
func (e *env) signIn(accountID string, level int, amr ...string) *store.Session {
	e.t.Helper()
	now := e.now()
	s := &store.Session{ID: secret.ID(), TokenHash: secret.Hash(secret.Token()), AccountID: accountID,
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(24 * time.Hour), AuthTime: now, AMR: amr, Level: level}
	if err := e.st.CreateSession(context.Background(), *s); err != nil {
		e.t.Fatalf("CreateSession: %v", err)
	}
	e.sess.Store(s)
	return s
}

// stepUp raises the browser session's level, as a second factor does.
func (e *env) stepUp(level int, amr ...string) {
	e.t.Helper()
	cur := e.sess.Load()
	now := e.now()
	s, err := e.st.UpdateSession(context.Background(), cur.ID, func(s store.Session) (store.Session, error) {
		s.Level, s.AMR, s.AuthTime = level, amr, now
		return s, nil
	})
	if err != nil {
		e.t.Fatalf("UpdateSession: %v", err)
	}
	e.sess.Store(&s)
}

func (e *env) login(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("id")
	u, err := e.p.Complete(r.Context(), id, e.sess.Load())
	var need *op.NeedError
	switch {
	case errors.As(err, &need):
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		json.NewEncoder(w).Encode(map[string]any{"need": need.Need.String(), "level": need.Level, "id": id})
	case err != nil:
		http.Error(w, err.Error(), http.StatusBadRequest)
	default:
		http.Redirect(w, r, u, http.StatusSeeOther)
	}
}

// pkce is a PKCE verifier and its S256 challenge.
type pkce struct{ verifier, challenge string }

func newPKCE() pkce {
	v := secret.Token() // 43 characters of base64url
	sum := sha256.Sum256([]byte(v))
	return pkce{v, base64.RawURLEncoding.EncodeToString(sum[:])}
}

// authParams returns the parameters of a code flow request of client
// with PKCE pk.
func (e *env) authParams(clientID string, pk pkce, scope string) url.Values {
	return url.Values{
		"client_id":             {clientID},
		"redirect_uri":          {e.srv.URL + "/cb"},
		"response_type":         {"code"},
		"scope":                 {scope},
		"state":                 {"state-" + secret.ID()},
		"nonce":                 {"nonce-" + secret.ID()},
		"code_challenge":        {pk.challenge},
		"code_challenge_method": {"S256"},
	}
}

// hop is one response of a redirect chain.
type hop struct {
	status   int
	location *url.URL
	body     string
	header   http.Header
}

func (e *env) get(rawURL string) hop {
	e.t.Helper()
	resp, err := e.http.Get(rawURL)
	if err != nil {
		e.t.Fatalf("GET %s: %v", rawURL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	h := hop{status: resp.StatusCode, body: string(b), header: resp.Header}
	if loc := resp.Header.Get("Location"); loc != "" {
		h.location, err = resp.Request.URL.Parse(loc)
		if err != nil {
			e.t.Fatalf("GET %s: Location %q: %v", rawURL, loc, err)
		}
	}
	return h
}

// follow starts at rawURL and follows redirects until a response that is
// not one, or one to the relying party's /cb, which it returns.
func (e *env) follow(rawURL string) hop {
	e.t.Helper()
	for i := 0; i < 10; i++ {
		h := e.get(rawURL)
		if h.location == nil {
			return h
		}
		if h.status == http.StatusTemporaryRedirect || h.status == http.StatusPermanentRedirect {
			e.t.Errorf("GET %s answered %d; a 307/308 must never be used (RFC 9700 §4.12)", rawURL, h.status)
		}
		if h.location.Path == "/cb" || h.location.Path == "/bye" {
			return h
		}
		rawURL = h.location.String()
	}
	e.t.Fatalf("more than 10 redirects from %s", rawURL)
	return hop{}
}

// authorize runs /authorize with params and returns the last hop.
func (e *env) authorize(params url.Values) hop {
	e.t.Helper()
	return e.follow(e.srv.URL + "/authorize?" + params.Encode())
}

// code runs a code flow and returns the code, failing unless the flow
// ends at /cb with one.
func (e *env) code(params url.Values) string {
	e.t.Helper()
	h := e.authorize(params)
	if h.location == nil || h.location.Path != "/cb" || h.location.Query().Get("code") == "" {
		e.t.Fatalf("code flow ended with %d %v %s; want a redirect to /cb with a code", h.status, h.location, h.body)
	}
	q := h.location.Query()
	if q.Get("iss") != e.srv.URL || q.Get("state") != params.Get("state") {
		e.t.Errorf("authorization response iss=%q state=%q; want %q and %q", q.Get("iss"), q.Get("state"), e.srv.URL, params.Get("state"))
	}
	return q.Get("code")
}

// tokenResponse is a token endpoint answer, success or error.
type tokenResponse struct {
	status       int
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	IDToken      string `json:"id_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	Scope        string `json:"scope"`
	Error        string `json:"error"`
	Description  string `json:"error_description"`
	contentType  string
}

// post posts a form to path, with HTTP Basic credentials when user is set.
func (e *env) post(path string, form url.Values, user, pass string) (int, http.Header, []byte) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(url.QueryEscape(user), url.QueryEscape(pass))
	}
	resp, err := e.http.Do(req)
	if err != nil {
		e.t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

func (e *env) token(form url.Values, user, pass string) tokenResponse {
	e.t.Helper()
	status, h, b := e.post("/oauth/token", form, user, pass)
	var tr tokenResponse
	if err := json.Unmarshal(b, &tr); err != nil {
		e.t.Fatalf("token endpoint answered %d %q: %v", status, b, err)
	}
	tr.status, tr.contentType = status, h.Get("Content-Type")
	return tr
}

// exchange redeems a code of client (with secret, unless public).
func (e *env) exchange(clientID, clientSecret, code, verifier string) tokenResponse {
	e.t.Helper()
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {e.srv.URL + "/cb"}}
	if verifier != "" {
		form.Set("code_verifier", verifier)
	}
	if clientSecret == "" {
		form.Set("client_id", clientID)
		return e.token(form, "", "")
	}
	return e.token(form, clientID, clientSecret)
}

func (e *env) refresh(clientID, clientSecret, rt string) tokenResponse {
	e.t.Helper()
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
	if clientSecret == "" {
		form.Set("client_id", clientID)
		return e.token(form, "", "")
	}
	return e.token(form, clientID, clientSecret)
}

// introspect returns the introspection answer for token, asked by client.
func (e *env) introspect(clientID, clientSecret, token string) map[string]any {
	e.t.Helper()
	status, _, b := e.post("/oauth/introspect", url.Values{"token": {token}}, clientID, clientSecret)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil || status != http.StatusOK {
		e.t.Fatalf("introspection answered %d %q (%v)", status, b, err)
	}
	return m
}

func (e *env) active(clientID, clientSecret, token string) bool {
	e.t.Helper()
	return e.introspect(clientID, clientSecret, token)["active"] == true
}

// userinfo calls /userinfo with the access token.
func (e *env) userinfo(token string) (int, map[string]any) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := e.http.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

// claims decodes a JWT's header and payload without checking anything.
func claims(tb testing.TB, jwt string) (header, payload map[string]any) {
	tb.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		tb.Fatalf("%q is not a JWS", jwt)
	}
	for i, dst := range []*map[string]any{&header, &payload} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			tb.Fatal(err)
		}
		if err := json.Unmarshal(b, dst); err != nil {
			tb.Fatal(err)
		}
	}
	return header, payload
}

// parallelDo runs fn(i) for i in [0, n) at once.
func parallelDo(n int, fn func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			fn(i)
		})
	}
	close(start)
	wg.Wait()
}

func mustSealer(tb testing.TB) *secret.Sealer {
	tb.Helper()
	key := make([]byte, secret.KeySize)
	rand.Read(key)
	s, err := secret.NewSealer(key)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func newRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }
