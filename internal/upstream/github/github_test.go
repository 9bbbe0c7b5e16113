package github_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/portvakt/portvakt/internal/secret"
	"github.com/portvakt/portvakt/internal/upstream"
	"github.com/portvakt/portvakt/internal/upstream/github"
)

type email struct {
	Email    string `json:"email"`
	Primary  bool   `json:"primary"`
	Verified bool   `json:"verified"`
}

// fakeGitHub speaks GitHub's documented OAuth and REST endpoints.
func fakeGitHub(t *testing.T, emails []email) *httptest.Server {
	var challenge string
	used := map[string]bool{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login/oauth/authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("code_challenge_method") != "S256" {
			http.Error(w, "PKCE required", 400)
			return
		}
		challenge = q.Get("code_challenge")
		http.Redirect(w, r, q.Get("redirect_uri")+"?code=gh-code&state="+url.QueryEscape(q.Get("state")), http.StatusFound)
	})
	mux.HandleFunc("POST /login/oauth/access_token", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
		w.Header().Set("Content-Type", "application/json")
		if r.PostForm.Get("client_secret") != "gh-secret" || r.PostForm.Get("code") != "gh-code" || used["gh-code"] ||
			base64.RawURLEncoding.EncodeToString(sum[:]) != challenge {
			json.NewEncoder(w).Encode(map[string]string{"error": "bad_verification_code"})
			return
		}
		used["gh-code"] = true
		json.NewEncoder(w).Encode(map[string]string{"access_token": "gh-token", "token_type": "bearer"})
	})
	auth := func(h http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "Bearer gh-token" {
				http.Error(w, `{"message":"Bad credentials"}`, 401)
				return
			}
			h(w, r)
		}
	}
	mux.HandleFunc("GET /user", auth(func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"id": 583231, "login": "octocat", "name": "The Octocat"})
	}))
	mux.HandleFunc("GET /user/emails", auth(func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(emails)
	}))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func signIn(t *testing.T, srv *httptest.Server, change func(*upstream.Request, *upstream.Response)) (upstream.Identity, error) {
	t.Helper()
	c, err := github.Open(upstream.Config{ID: "github", Type: upstream.TypeGitHub, ClientID: "gh-client", ClientSecret: "gh-secret",
		AuthURL: srv.URL + "/login/oauth/authorize", TokenURL: srv.URL + "/login/oauth/access_token", APIURL: srv.URL}, "http://127.0.0.1:1/cb", srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	req := upstream.Request{State: secret.Token(), Verifier: secret.Token() + secret.Token()}
	u, err := c.AuthURL(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := hc.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	loc, _ := url.Parse(res.Header.Get("Location"))
	resp := upstream.Response{Code: loc.Query().Get("code"), State: loc.Query().Get("state")}
	if resp.State != req.State {
		t.Fatalf("state came back as %q", resp.State)
	}
	if change != nil {
		change(&req, &resp)
	}
	return c.Exchange(t.Context(), req, resp)
}

func TestGitHub_VerifiedPrimaryEmailOnly(t *testing.T) {
	for _, tc := range []struct {
		name   string
		emails []email
		want   string
	}{
		{"a verified primary address", []email{{"other@example.no", false, true}, {"octo@example.no", true, true}}, "octo@example.no"},
		{"an unverified primary, a verified secondary", []email{{"octo@example.no", true, false}, {"other@example.no", false, true}}, ""},
		{"no addresses", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, err := signIn(t, fakeGitHub(t, tc.emails), nil)
			if err != nil {
				t.Fatal(err)
			}
			if id.Subject != "583231" || id.Name != "The Octocat" || id.Email != tc.want || id.EmailVerified != (tc.want != "") {
				t.Errorf("identity = %+v, want subject 583231 and email %q", id, tc.want)
			}
		})
	}
}

func TestGitHub_WrongVerifierIsRefused(t *testing.T) {
	_, err := signIn(t, fakeGitHub(t, nil), func(r *upstream.Request, _ *upstream.Response) { r.Verifier = secret.Token() + secret.Token() })
	if !errors.Is(err, upstream.ErrRefused) {
		t.Fatalf("Exchange with another verifier = %v, want ErrRefused", err)
	}
}
