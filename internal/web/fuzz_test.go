package web_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/app"
	"github.com/portvakt/portvakt/internal/config"
	"github.com/portvakt/portvakt/internal/secret"
	"github.com/portvakt/portvakt/internal/session"
	"github.com/portvakt/portvakt/internal/store"
)

// fuzzApp is an app on SQLite with a cheap hash, served in-process.
func fuzzApp(tb testing.TB) (*app.App, *syncBuffer) {
	tb.Helper()
	cfg := config.Default()
	cfg.Database.DSN = filepath.Join(tb.TempDir(), "portvakt.db")
	cfg.Password.Argon2.Memory, cfg.Password.Argon2.Time = 64, 1
	logs := &syncBuffer{}
	c := &clock{t: time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)}
	a, err := app.New(context.Background(), cfg, app.Options{Now: c.Now, Logger: slog.New(slog.NewJSONHandler(logs, nil))})
	if err != nil {
		tb.Fatalf("app.New: %v", err)
	}
	tb.Cleanup(func() { a.Close() })
	return a, logs
}

// fuzzRoutes are the routes whose bodies the fuzzers send: every
// parser of a form or JSON body is behind one of them.
var fuzzRoutes = []struct{ path, contentType string }{
	{"/login", "application/x-www-form-urlencoded"},
	{"/login/password", "application/x-www-form-urlencoded"},
	{"/signup", "application/x-www-form-urlencoded"},
	{"/signup/code", "application/x-www-form-urlencoded"},
	{"/signup/details", "application/x-www-form-urlencoded"},
	{"/recover", "application/x-www-form-urlencoded"},
	{"/recover/code", "application/x-www-form-urlencoded"},
	{"/login/factor", "application/x-www-form-urlencoded"},
	{"/account/security/phones", "application/x-www-form-urlencoded"},
	{"/account/password", "application/x-www-form-urlencoded"},
	{"/lang", "application/x-www-form-urlencoded"},
	{"/login", "multipart/form-data; boundary=xx"},
	{"/api/v1/signup", "application/json"},
	{"/api/v1/signup/code", "application/json"},
	{"/api/v1/signup/complete", "application/json"},
	{"/api/v1/login", "application/json"},
	{"/login/passkey/options", "application/json"},
	{"/login/passkey", "application/x-www-form-urlencoded"},
}

// FuzzRequestBodies: a form or JSON body, a Cookie header and ui_locales
// of any shape are the client's business: the answer is never a 500 and
// nothing is logged as an internal error.
func FuzzRequestBodies(f *testing.F) {
	a, logs := fuzzApp(f)
	h := a.Handler()
	acct := store.Account{ID: secret.ID(), Username: "fuzz", Name: "Fuzz", CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := a.DB.CreateAccount(context.Background(), acct); err != nil {
		f.Fatal(err)
	}
	token, _, err := a.Sessions.Create(context.Background(), acct.ID, session.Auth{Level: 1}, session.Client{})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(uint8(0), "identifier=per%40example.no&remember=on", "portvakt_lang=nb", "sv")
	f.Add(uint8(1), "password=%FF%FE&&&=", "portvakt_session="+token, "")
	f.Add(uint8(2), "email=a@b.c&email=d@e.f", "portvakt_lang="+strings.Repeat("1abc-", 200), "x-"+strings.Repeat("a-", 100))
	f.Add(uint8(8), "phone=%2B47+912+34+567", "portvakt_session="+token+"; portvakt_ui_locales=nb", "nb")
	f.Add(uint8(9), "current=a&new=b&confirm=b", "portvakt_session="+token, "")
	f.Add(uint8(10), "lang=zz-"+strings.Repeat("x", 80), `a="b; c=d;;; =;`, "")
	f.Add(uint8(11), "--xx\r\nContent-Disposition: form-data; name=\"identifier\"\r\n\r\nper\r\n--xx--\r\n", "", "")
	f.Add(uint8(12), `{"email":"per@example.no","password":"x"}`, "", "")
	f.Add(uint8(13), `{"flow":"`+strings.Repeat("a", 100)+`","code":123}`, "", "")
	f.Add(uint8(15), `{"identifier":1e999,"password":null,"x":{}}`, "portvakt_session="+token, "")
	f.Add(uint8(16), `[[[[[[[[[[[[[[[[[[[[`, "", "")
	f.Fuzz(func(t *testing.T, route uint8, body, cookie, uiLocales string) {
		rt := fuzzRoutes[int(route)%len(fuzzRoutes)]
		req := httptest.NewRequest("POST", "http://localhost:8080"+rt.path+"?ui_locales="+urlQuery(uiLocales), strings.NewReader(body))
		req.Header.Set("Content-Type", rt.contentType)
		req.Header.Set("Origin", "http://localhost:8080")
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 && rec.Code != http.StatusServiceUnavailable {
			t.Fatalf("POST %s (%s) %q with Cookie %q = %d", rt.path, rt.contentType, body, cookie, rec.Code)
		}
		if strings.Contains(logs.String(), `"internal error"`) || strings.Contains(logs.String(), "panic") {
			t.Fatalf("POST %s %q logged a fault:\n%s", rt.path, body, logs.String())
		}
	})
}

func urlQuery(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' {
			b.WriteByte(c)
		} else {
			b.WriteString("%" + strings.ToUpper(string("0123456789abcdef"[c>>4])+string("0123456789abcdef"[c&15])))
		}
	}
	return b.String()
}

// A client that disconnects while its request waits (here: for the
// session's lookup) is not an internal error: nothing is logged at error
// level, and the request line says 499.
func TestClientThatGoesAwayIsNotAnInternalError(t *testing.T) {
	a, logs := fuzzApp(t)
	acct := store.Account{ID: secret.ID(), Username: "per", Name: "Per", CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := a.DB.CreateAccount(t.Context(), acct); err != nil {
		t.Fatal(err)
	}
	token, _, err := a.Sessions.Create(t.Context(), acct.ID, session.Auth{Level: 1}, session.Client{})
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/", "/account", "/api/v1/login"} {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		method := "GET"
		if strings.HasPrefix(path, "/api/") {
			method = "POST"
		}
		req := httptest.NewRequest(method, "http://localhost:8080"+path, strings.NewReader(`{"identifier":"per","password":"x"}`)).WithContext(ctx)
		req.Header.Set("Cookie", "portvakt_session="+token)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", "http://localhost:8080")
		rec := httptest.NewRecorder()
		a.Handler().ServeHTTP(rec, req)
		if rec.Code == http.StatusInternalServerError {
			t.Errorf("%s %s from a client that went away = 500", method, path)
		}
	}
	if strings.Contains(logs.String(), `"level":"ERROR"`) {
		t.Errorf("a client that went away was logged as an error:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), `"status":499`) {
		t.Errorf("no request line says 499:\n%s", logs.String())
	}
}
