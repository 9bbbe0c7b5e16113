package web

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/portvakt/portvakt/internal/audit"
	"github.com/portvakt/portvakt/internal/authn/password"
	"github.com/portvakt/portvakt/internal/i18n"
	"github.com/portvakt/portvakt/internal/secret"
	"github.com/portvakt/portvakt/internal/session"
	"github.com/portvakt/portvakt/internal/store"
)

// state is what the middleware learns about a request; handlers read it
// with stateOf.
type state struct {
	ID    string
	Nonce string
	// IP is the client's address (clientAddr: the peer, or from a trusted
	// proxy's forwarding headers).
	IP   string
	Lang *i18n.Lang
	// Session and Account are set when the request carries a live session.
	Session *store.Session
	Account *store.Account
	// Expired is true when the request carried a session that timed out.
	Expired bool
}

type stateKey struct{}

func stateOf(r *http.Request) *state {
	if st, ok := r.Context().Value(stateKey{}).(*state); ok {
		return st
	}
	return &state{}
}

func requestID(r *http.Request) string { return stateOf(r).ID }

// recorder remembers the status code for logs and metrics.
type recorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (rw *recorder) WriteHeader(code int) {
	if !rw.wrote {
		rw.status, rw.wrote = code, true
	}
	rw.ResponseWriter.WriteHeader(code)
}

func (rw *recorder) Write(b []byte) (int, error) {
	if !rw.wrote {
		rw.status, rw.wrote = http.StatusOK, true
	}
	return rw.ResponseWriter.Write(b)
}

func (rw *recorder) Unwrap() http.ResponseWriter { return rw.ResponseWriter }

// withObservation gives the request an ID, logs one line when it is done,
// counts it, and turns a panic into a logged 500.
//
// The log line names the route pattern, never the raw path or query:
// later routes carry tokens in their paths and queries.
func (s *Server) withObservation(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		st := &state{ID: secret.ID()[:20], Nonce: nonce(), IP: clientAddr(r, s.TrustedProxies)}
		ctx := context.WithValue(r.Context(), stateKey{}, st)
		// The password hashing pool serves sources in turn and refuses a
		// source whose own queue would pass a few seconds, so a flood from
		// one network cannot starve sign-ins from others (issue 10,
		// finding 5). A source is the client's /24 or /64: the client's
		// address as the trusted proxies tell it (st.IP), not the peer's,
		// or every user behind a load balancer would share one source
		// and be refused as a flood.
		ctx = password.WithSource(ctx, clientNetwork(st.IP))
		// What the audit log records of the request (internal/audit).
		ctx = audit.WithRequest(ctx, audit.Request{IP: st.IP, UserAgent: r.UserAgent(), RequestID: st.ID})
		r = r.WithContext(ctx)
		w.Header().Set("X-Request-Id", st.ID)
		rw := &recorder{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.Logger.Error("panic serving request", "request_id", st.ID, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				if !rw.wrote {
					http.Error(rw, "internal error, request "+st.ID, http.StatusInternalServerError)
				}
			}
			route := r.Pattern
			if route == "" {
				route = "unmatched"
			}
			elapsed := time.Since(start)
			if s.requests != nil {
				s.requests.WithLabelValues(route, strconv.Itoa(rw.status)).Inc()
				s.duration.WithLabelValues(route).Observe(elapsed.Seconds())
			}
			level := slog.LevelInfo
			if rw.status >= 500 {
				level = slog.LevelError
			}
			s.Logger.LogAttrs(r.Context(), level, "request",
				slog.String("request_id", st.ID),
				slog.String("method", r.Method),
				slog.String("route", route),
				slog.Int("status", rw.status),
				slog.Duration("duration", elapsed),
				slog.String("remote", clientIP(r)),
			)
		}()
		next.ServeHTTP(rw, r)
	})
}

func nonce() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawStdEncoding.EncodeToString(b)
}

// withSecurityHeaders sets the headers every response carries. Pages get
// a nonce-based CSP (the only scripts Portvakt ever runs are its own,
// for WebAuthn) and are never cached: they show personal data and
// one-time codes.
func (s *Server) withSecurityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		st := stateOf(r)
		// worker-src: the ALTCHA widget's proof of work runs in a worker
		// served from /static/altcha/; a third-party captcha widget
		// (captcha.provider) adds its script and frame origins.
		csScript, csFrame := s.thirdPartyCSP()
		frame := ""
		if csFrame != "" {
			frame = " frame-src" + csFrame + ";"
		}
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'nonce-"+st.Nonce+"'"+csScript+"; style-src 'self'; img-src 'self' data:; connect-src 'self'"+csScript+"; worker-src 'self';"+frame+" frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
		if s.secure() {
			h.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
		}
		h.Set("Cache-Control", "no-store")
		h.Set("Vary", "Cookie, Accept-Language")
		next.ServeHTTP(w, r)
	})
}

// Cookie names. A __Host- cookie must be Secure, so on plain-http
// localhost (development) the names lose the prefix.
const (
	sessionCookieBase = "portvakt_session"
	langCookie        = "portvakt_lang"
)

func (s *Server) sessionCookieName() string {
	if s.secure() {
		return "__Host-" + sessionCookieBase
	}
	return sessionCookieBase
}

func (s *Server) setSessionCookie(w http.ResponseWriter, token string) {
	http.SetCookie(w, &http.Cookie{
		Name:     s.sessionCookieName(),
		Value:    token,
		Path:     "/",
		HttpOnly: true,
		Secure:   s.secure(),
		SameSite: http.SameSiteLaxMode,
	})
}

func (s *Server) clearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{
		Name:     s.sessionCookieName(),
		Value:    "",
		Path:     "/",
		MaxAge:   -1,
		HttpOnly: true,
		Secure:   s.secure(),
		SameSite: http.SameSiteLaxMode,
	})
}

// withRequestState loads the session (if any) and chooses the language.
// A database failure while loading the session is an internal error: the
// request fails closed rather than being served as signed out.
func (s *Server) withRequestState(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st := stateOf(r)
		var cookieLang string
		if c, err := r.Cookie(langCookie); err == nil {
			cookieLang = c.Value
		}
		uiLocales := r.URL.Query().Get("ui_locales")
		if c, err := r.Cookie(uiLocalesCookie); err == nil && uiLocales == "" {
			uiLocales = c.Value
		}
		negotiate := func(accountLang string) *i18n.Lang {
			return s.Catalog.Lang(s.Catalog.Negotiate(uiLocales, accountLang, cookieLang, r.Header.Get("Accept-Language"), s.DefaultLanguage))
		}
		// The language is chosen before the session is loaded, so that
		// even a failure to load it is explained in the user's language.
		st.Lang = negotiate("")
		if c, err := r.Cookie(s.sessionCookieName()); err == nil && c.Value != "" && !isStatic(r) {
			sess, err := s.Sessions.Load(r.Context(), c.Value)
			switch {
			case err == nil:
				acct, aerr := s.Accounts.GetAccount(r.Context(), sess.AccountID)
				if aerr != nil || acct.Disabled {
					if aerr != nil && !errors.Is(aerr, store.ErrNotFound) {
						s.fail(w, r, fmt.Errorf("load session account: %w", aerr))
						return
					}
					s.Sessions.Revoke(r.Context(), sess.ID)
					s.clearSessionCookie(w)
					break
				}
				st.Session, st.Account = &sess, &acct
				if acct.Locale != "" {
					st.Lang = negotiate(acct.Locale)
				}
			case errors.Is(err, session.ErrExpired):
				st.Expired = true
				s.clearSessionCookie(w)
			case errors.Is(err, session.ErrNoSession):
				// An unknown token is treated as no session, but its
				// cookie is left alone: the request may be one the page
				// sent (a live password check, say) just before the
				// session's token was rotated, and clearing the cookie in
				// its answer would sign the browser out of the new token.
			default:
				s.fail(w, r, err)
				return
			}
		}
		w.Header().Set("Content-Language", st.Lang.Tag())
		next.ServeHTTP(w, r)
	})
}

func isStatic(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, "/static/") || strings.HasPrefix(r.URL.Path, "/branding/")
}

// clientIP is the client's address as withObservation found it (see
// clientAddr); every per-IP rule uses it.
func clientIP(r *http.Request) string {
	if ip := stateOf(r).IP; ip != "" {
		return ip
	}
	return peerAddr(r)
}
