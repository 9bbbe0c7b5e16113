package siteverify_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/portvakt/portvakt/internal/captcha"
	"github.com/portvakt/portvakt/internal/captcha/siteverify"
)

// fake is a siteverify endpoint as the providers document it: a token is
// good once, with the right secret.
func fake(t *testing.T, provider string) (*httptest.Server, *[]map[string]string) {
	var mu sync.Mutex
	seen := map[string]bool{}
	var got []map[string]string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		if err := r.ParseForm(); err != nil {
			t.Error(err)
		}
		mu.Lock()
		defer mu.Unlock()
		got = append(got, map[string]string{"secret": r.PostForm.Get("secret"), "response": r.PostForm.Get("response"), "remoteip": r.PostForm.Get("remoteip"), "sitekey": r.PostForm.Get("sitekey")})
		tok := r.PostForm.Get("response")
		var out struct {
			Success bool     `json:"success"`
			Codes   []string `json:"error-codes"`
		}
		switch {
		case r.PostForm.Get("secret") != "s3cret":
			out.Codes = []string{"invalid-input-secret"}
		case tok == "":
			out.Codes = []string{"missing-input-response"}
		case tok != "good-1" && tok != "good-2":
			out.Codes = []string{"invalid-input-response"}
		case seen[tok]:
			out.Codes = []string{"timeout-or-duplicate"}
		default:
			seen[tok] = true
			out.Success = true
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(out)
	}))
	t.Cleanup(srv.Close)
	return srv, &got
}

func TestVerifiers(t *testing.T) {
	for _, mk := range []func(site, secret string) *siteverify.Verifier{siteverify.Turnstile, siteverify.HCaptcha, siteverify.ReCAPTCHA} {
		v := mk("site-key", "s3cret")
		t.Run(v.Provider, func(t *testing.T) {
			ctx := context.Background()
			srv, got := fake(t, v.Provider)
			v.URL = srv.URL
			ch, err := v.Challenge(ctx)
			if err != nil || ch.Provider != v.Provider || ch.SiteKey != "site-key" {
				t.Fatalf("challenge %+v %v", ch, err)
			}
			if err := v.Verify(ctx, "good-1", "192.0.2.7"); err != nil {
				t.Fatalf("good: %v", err)
			}
			last := (*got)[len(*got)-1]
			if last["remoteip"] != "192.0.2.7" || last["secret"] != "s3cret" || last["response"] != "good-1" {
				t.Fatalf("sent %v", last)
			}
			if (v.Provider == "hcaptcha") != (last["sitekey"] == "site-key") {
				t.Fatalf("sitekey sent %q", last["sitekey"])
			}
			if err := v.Verify(ctx, "good-1", ""); !errors.Is(err, captcha.ErrReplayed) {
				t.Fatalf("replay: %v", err)
			}
			if err := v.Verify(ctx, "forged", ""); !errors.Is(err, captcha.ErrInvalid) {
				t.Fatalf("forged: %v", err)
			}
			n := len(*got)
			if err := v.Verify(ctx, "", ""); !errors.Is(err, captcha.ErrMissing) || len(*got) != n {
				t.Fatalf("missing: %v (asked the provider: %v)", err, len(*got) != n)
			}
			// A wrong secret is our fault: an error, not a refusal.
			v.Secret = "wrong"
			if err := v.Verify(ctx, "good-2", ""); err == nil || captcha.Refused(err) {
				t.Fatalf("wrong secret: %v", err)
			}
			// The provider down: an error, not a pass.
			srv.Close()
			v.Secret = "s3cret"
			if err := v.Verify(ctx, "good-2", ""); err == nil || captcha.Refused(err) {
				t.Fatalf("provider down: %v", err)
			}
		})
	}
}
