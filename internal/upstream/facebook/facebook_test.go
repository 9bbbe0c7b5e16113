package facebook_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/portvakt/portvakt/internal/secret"
	"github.com/portvakt/portvakt/internal/upstream"
	"github.com/portvakt/portvakt/internal/upstream/facebook"
)

// TestFacebook_AddressIsNeverVerified runs a sign-in against a server
// speaking the Graph API's documented endpoints; the address Facebook
// returns is never trusted.
func TestFacebook_AddressIsNeverVerified(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /dialog/oauth", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		http.Redirect(w, r, q.Get("redirect_uri")+"?code=fb-code&state="+url.QueryEscape(q.Get("state")), http.StatusFound)
	})
	mux.HandleFunc("POST /oauth/access_token", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		w.Header().Set("Content-Type", "application/json")
		if r.PostForm.Get("code") != "fb-code" || r.PostForm.Get("code_verifier") == "" {
			w.WriteHeader(400)
			json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"message": "bad code"}})
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"access_token": "fb-token", "token_type": "bearer", "expires_in": 5000})
	})
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer fb-token" {
			w.WriteHeader(401)
			return
		}
		json.NewEncoder(w).Encode(map[string]string{"id": "10225", "name": "Kari Nordmann", "email": "kari@example.no"})
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c, err := facebook.Open(upstream.Config{ID: "facebook", Type: upstream.TypeFacebook, ClientID: "fb", ClientSecret: "s",
		AuthURL: srv.URL + "/dialog/oauth", APIURL: srv.URL}, "http://127.0.0.1:1/cb", srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	req := upstream.Request{State: secret.Token(), Verifier: secret.Token() + secret.Token()}
	u, _ := c.AuthURL(t.Context(), req)
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := hc.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	loc, _ := url.Parse(res.Header.Get("Location"))
	id, err := c.Exchange(t.Context(), req, upstream.Response{Code: loc.Query().Get("code"), State: loc.Query().Get("state")})
	if err != nil {
		t.Fatal(err)
	}
	if id.Subject != "10225" || id.Name != "Kari Nordmann" || id.Email != "" || id.EmailVerified {
		t.Errorf("identity = %+v, want subject 10225 and no address", id)
	}
}
