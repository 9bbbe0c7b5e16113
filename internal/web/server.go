package web

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/portvakt/portvakt/internal/account"
	"github.com/portvakt/portvakt/internal/audit"
	"github.com/portvakt/portvakt/internal/captcha"
	"github.com/portvakt/portvakt/internal/flow"
	"github.com/portvakt/portvakt/internal/i18n"
	"github.com/portvakt/portvakt/internal/op"
	"github.com/portvakt/portvakt/internal/session"
	"github.com/portvakt/portvakt/internal/store"
	"github.com/portvakt/portvakt/internal/web/ui"
)

// Server is Portvakt's HTTP front end. Every field without a "may be nil"
// note is required. Build it once, then call Handler.
type Server struct {
	Catalog  *i18n.Catalog
	Pages    *ui.Renderer
	Sessions *session.Manager
	Accounts store.Accounts
	// Outbox is read by the development mailbox; may be nil when
	// DevMailbox is false.
	Outbox store.Outbox
	// Ready reports whether the server can serve: the database takes a
	// write within ctx's deadline. /readyz calls it (see readyz).
	Ready func(ctx context.Context) error
	// Logger receives one line per request and every internal error.
	Logger *slog.Logger
	// PublicURL is the configured public URL: the only source of absolute
	// URLs and of the cookie's Secure decision.
	PublicURL       *url.URL
	ServiceName     string
	DefaultLanguage string
	// DevMailbox serves /dev/mail.
	DevMailbox bool
	// Metrics, when not nil, is served at /metrics and receives the
	// request counters.
	Metrics *prometheus.Registry
	// Now may be nil (time.Now).
	Now func() time.Time
	// Flows runs sign-up, sign-in, recovery and settings.
	Flows *flow.Service
	// LoginMethods are the sign-in forms offered.
	LoginMethods LoginMethods
	// AdminTokenSHA256 is the hex SHA-256 of the admin API's bearer
	// token; empty closes the admin API.
	AdminTokenSHA256 string
	// OP is the OpenID Provider; nil serves no OpenID Connect.
	OP *op.Provider
	// Demo, when not nil, is mounted at /demo.
	Demo http.Handler
	// MetricsTokenSHA256, when set, is the hex SHA-256 of the bearer
	// token /metrics requires.
	MetricsTokenSHA256 string
	// TrustedProxies are the proxies whose Forwarded / X-Forwarded-For
	// headers are read for the client's address (server.trusted_proxies);
	// empty: the peer is the client.
	TrustedProxies []netip.Prefix
	// Captcha says where the proof-of-work challenge is asked (issue 10);
	// the zero value asks nowhere.
	Captcha captcha.Policy
	// CaptchaNoJSBudget is how many unsolved form submissions (no
	// JavaScript) a client network may make an hour where a challenge is
	// asked; 0 is DefaultCaptchaNoJSBudget.
	CaptchaNoJSBudget int
	// Branding is served under /branding/ (the zero value serves none);
	// Pages must link it (ui.Renderer.SetBrand).
	Branding Branding
	// Systems runs end-user systems and organisations (systems.go), and
	// SystemTokens mints tokens through them; nil Systems serves none.
	Systems      *flow.Systems
	SystemTokens *op.SystemIssuer
	// Audit records console and admin actions (internal/audit); nil
	// records nothing.
	Audit *audit.Recorder
	// Support runs the support console's and the admin API's account
	// operations (admin.go); nil serves no console.
	Support *account.Support
	// Representation runs acting on behalf of others (represent.go); nil
	// serves none of it.
	Representation *account.Delegations

	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	// metricsOnce registers requests and duration on the first Handler.
	metricsOnce sync.Once
	readiness
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// LoginMethods says which sign-in forms are offered.
type LoginMethods struct {
	// Email is email-first sign-in: address, then password.
	Email bool
	// Username is username and password on one page.
	Username bool
}

// secure reports whether cookies must be Secure and may be __Host-
// prefixed: always, unless the public URL is plain http.
func (s *Server) secure() bool { return s.PublicURL.Scheme == "https" }

// Handler returns the HTTP handler with every route and middleware.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()

	// Pages.
	mux.Handle("GET /{$}", s.page(s.home))
	mux.Handle("GET /login", s.page(s.loginForm))
	mux.Handle("POST /login", s.page(s.loginSubmit))
	mux.Handle("GET /login/password", s.page(s.loginPasswordForm))
	mux.Handle("POST /login/password", s.page(s.loginPasswordSubmit))
	mux.Handle("GET /login/username", s.page(s.loginUsernameForm))
	mux.Handle("POST /login/username", s.page(s.loginUsernameSubmit))
	mux.Handle("POST /logout", s.page(s.logout))
	mux.Handle("GET /signup", s.page(s.signupForm))
	mux.Handle("POST /signup", s.page(s.signupSubmit))
	signupCode, recoveryCode, emailCode := s.codeSteps()
	mux.Handle("GET /signup/code", s.page(s.codeForm(signupCode)))
	mux.Handle("POST /signup/code", s.page(s.codeSubmit(signupCode)))
	mux.Handle("POST /signup/resend", s.page(s.codeResend(signupCode)))
	mux.Handle("GET /signup/details", s.page(s.signupDetailsForm))
	mux.Handle("POST /signup/details", s.page(s.signupDetailsSubmit))
	mux.Handle("GET /recover", s.page(s.recoverForm))
	mux.Handle("POST /recover", s.page(s.recoverSubmit))
	mux.Handle("GET /recover/code", s.page(s.codeForm(recoveryCode)))
	mux.Handle("POST /recover/code", s.page(s.codeSubmit(recoveryCode)))
	mux.Handle("POST /recover/resend", s.page(s.codeResend(recoveryCode)))
	mux.Handle("GET /recover/link/{token}", s.page(s.recoverLinkLanding))
	mux.Handle("POST /recover/link", s.page(s.recoverLinkUse))
	mux.Handle("POST /recover/link/elsewhere", s.page(s.recoverLinkElsewhere))
	mux.Handle("POST /recover/link-code", s.page(s.recoverLinkCode))
	mux.Handle("GET /recover/password", s.page(s.recoverPasswordForm))
	mux.Handle("POST /recover/password", s.page(s.recoverPasswordSubmit))
	mux.Handle("GET /recover/cancel", s.page(s.recoverCancelLanding))
	mux.Handle("POST /recover/cancel", s.page(s.recoverCancel))
	mux.Handle("GET /login/factor", s.page(s.factorForm))
	mux.Handle("POST /login/factor", s.page(s.factorSubmit))
	mux.Handle("POST /login/factor/send", s.page(s.factorSend))
	mux.Handle("POST /login/factor/lost", s.page(s.factorLost))
	mux.Handle("GET /login/factor/link/{token}", s.page(s.factorLinkLanding))
	mux.Handle("POST /login/factor/link", s.page(s.factorLinkUse))
	mux.Handle("POST /login/enrol/email", s.page(s.enrolEmail))
	mux.Handle("POST /login/enrol/email/confirm", s.page(s.enrolEmailConfirm))
	mux.Handle("POST /login/enrol/totp", s.page(s.enrolTOTP))
	mux.Handle("POST /login/enrol/totp/confirm", s.page(s.enrolTOTPConfirm))
	mux.Handle("POST /login/factor/webauthn/options", s.api(s.factorKeyOptions))
	mux.Handle("POST /login/factor/webauthn", s.page(s.factorKey))
	mux.Handle("POST /login/passkey/options", s.api(s.passkeyOptions))
	mux.Handle("POST /login/passkey", s.page(s.passkeySignIn))
	mux.Handle("POST /account/security/keys/options", s.api(s.keyOptions))
	mux.Handle("POST /account/security/keys", s.page(s.keyRegister))
	mux.Handle("POST /account/security/keys/rename", s.page(s.keyRename))
	mux.Handle("POST /account/security/keys/remove", s.page(s.keyRemove))
	mux.Handle("GET /stepup", s.page(s.stepUp))
	mux.Handle("GET /account/reauth", s.page(s.reauthForm))
	mux.Handle("POST /account/reauth", s.page(s.reauthSubmit))
	mux.Handle("GET /account/security", s.page(s.securityPage))
	mux.Handle("POST /account/security/totp", s.page(s.securityTOTP))
	mux.Handle("POST /account/security/totp/confirm", s.page(s.securityTOTPConfirm))
	mux.Handle("POST /account/security/factors/remove", s.page(s.securityRemoveFactor))
	mux.Handle("POST /account/security/recovery", s.page(s.securityRecovery))
	mux.Handle("GET /account/security/phones", s.page(s.phoneForm))
	mux.Handle("POST /account/security/phones", s.page(s.phoneSubmit))
	mux.Handle("GET /account/security/phones/verify", s.page(s.phoneVerifyForm))
	mux.Handle("POST /account/security/phones/verify", s.page(s.phoneVerifySubmit))
	mux.Handle("POST /account/security/phones/resend", s.page(s.phoneResend))
	mux.Handle("POST /account/security/browsers/forget", s.page(s.forgetBrowser))
	mux.Handle("POST /account/security/browsers/forget-all", s.page(s.forgetAllBrowsers))
	mux.Handle("GET /account", s.page(s.accountPage))
	mux.Handle("GET /account/password", s.page(s.changePasswordForm))
	mux.Handle("POST /account/password", s.page(s.changePasswordSubmit))
	mux.Handle("GET /account/emails/add", s.page(s.addEmailForm))
	mux.Handle("POST /account/emails/add", s.page(s.addEmailSubmit))
	mux.Handle("GET /account/emails/verify", s.page(s.codeForm(emailCode)))
	mux.Handle("POST /account/emails/verify", s.page(s.codeSubmit(emailCode)))
	mux.Handle("POST /account/emails/resend", s.page(s.codeResend(emailCode)))
	mux.Handle("POST /account/emails/primary", s.page(s.setPrimaryEmail))
	mux.Handle("GET /account/emails/remove", s.page(s.removeEmailForm))
	mux.Handle("POST /account/emails/remove", s.page(s.removeEmailSubmit))
	mux.Handle("POST /lang", s.page(s.setLanguage))
	if s.DevMailbox {
		mux.Handle("GET /dev/mail", s.page(s.devMail))
	}
	mux.Handle("GET /static/", http.StripPrefix("/static/", staticHandler()))
	s.brandingRoutes(mux)

	// JSON API twins.
	mux.Handle("GET /api/openapi.yaml", s.api(s.openAPIDocument))
	mux.Handle("GET /api/v1/challenge", s.api(s.apiChallenge))
	mux.Handle("POST /api/v1/signup", s.api(s.apiCaptcha(captcha.AtSignup, s.apiSignup)))
	mux.Handle("POST /api/v1/signup/code", s.api(s.apiCode(s.Flows.VerifySignupCode, "details")))
	mux.Handle("POST /api/v1/signup/resend", s.api(s.apiResend(s.Flows.ResendSignupCode)))
	mux.Handle("POST /api/v1/signup/complete", s.api(s.apiSignupComplete))
	mux.Handle("POST /api/v1/login", s.api(s.apiLogin))
	mux.Handle("POST /api/v1/login/password", s.api(s.apiCaptcha(captcha.AtLoginAfterFailures, s.apiLoginPassword)))
	mux.Handle("POST /api/v1/login/username", s.api(s.apiCaptcha(captcha.AtLoginAfterFailures, s.apiLoginUsername)))
	mux.Handle("POST /api/v1/recovery", s.api(s.apiCaptcha(captcha.AtRecovery, s.apiRecovery)))
	mux.Handle("POST /api/v1/recovery/code", s.api(s.apiCode(s.Flows.VerifyRecoveryCode, "password")))
	mux.Handle("POST /api/v1/recovery/resend", s.api(s.apiResend(s.Flows.ResendRecoveryCode)))
	mux.Handle("POST /api/v1/recovery/link", s.api(s.apiRecoveryLink))
	mux.Handle("POST /api/v1/recovery/link/elsewhere", s.api(s.apiRecoveryLinkElsewhere))
	mux.Handle("POST /api/v1/recovery/link-code", s.api(s.apiRecoveryLinkCode))
	mux.Handle("POST /api/v1/recovery/password", s.api(s.apiRecoveryPassword))
	mux.Handle("POST /api/v1/recovery/cancel", s.api(s.apiRecoveryCancel))
	mux.Handle("POST /api/v1/password/check", s.api(s.apiPasswordCheck))
	mux.Handle("GET /api/v1/account", s.api(s.apiAccount))
	mux.Handle("POST /api/v1/account/password", s.api(s.apiChangePassword))
	mux.Handle("POST /api/v1/account/emails", s.api(s.apiAddEmail))
	mux.Handle("POST /api/v1/account/emails/verify", s.api(s.apiVerifyEmail))
	mux.Handle("POST /api/v1/account/emails/primary", s.api(s.apiSetPrimaryEmail))
	mux.Handle("DELETE /api/v1/account/emails", s.api(s.apiRemoveEmail))
	mux.Handle("POST /api/admin/v1/accounts", s.api(s.apiAdminCreateAccount))
	mux.Handle("POST /api/admin/v1/accounts/{id}/unlock", s.api(s.apiUnlockAccount))
	mux.Handle("POST /api/admin/v1/clients", s.api(s.apiAdminCreateClient))
	mux.Handle("GET /api/admin/v1/clients", s.api(s.apiAdminListClients))
	s.representRoutes(mux)
	mux.Handle("DELETE /api/admin/v1/clients/{id}", s.api(s.apiAdminDeleteClient))
	mux.Handle("GET /api/v1/factor", s.api(s.apiFactor))
	mux.Handle("POST /api/v1/factor/send", s.api(s.apiFactorSend))
	mux.Handle("POST /api/v1/factor/verify", s.api(s.apiFactorVerify))
	mux.Handle("POST /api/v1/stepup", s.api(s.apiStepUp))
	mux.Handle("POST /api/v1/passkey/options", s.api(s.apiPasskeyOptions))
	mux.Handle("POST /api/v1/passkey", s.api(s.apiPasskey))
	mux.Handle("POST /api/v1/factor/webauthn/options", s.api(s.apiFactorKeyOptions))
	mux.Handle("POST /api/v1/factor/webauthn", s.api(s.apiFactorKey))
	mux.Handle("GET /api/v1/account/keys", s.api(s.apiKeys))
	mux.Handle("POST /api/v1/account/keys/options", s.api(s.apiKeyOptions))
	mux.Handle("POST /api/v1/account/keys", s.api(s.apiKeyRegister))
	mux.Handle("DELETE /api/v1/account/keys", s.api(s.apiKeyRemove))
	mux.Handle("GET /api/v1/session", s.api(s.apiSession))
	mux.Handle("DELETE /api/v1/session", s.api(s.apiLogout))
	s.federationRoutes(mux)
	s.systemRoutes(mux)
	s.securityAPIRoutes(mux) // routes_security_api.go: security settings and in-login enrolment, JSON
	s.adminRoutes(mux)
	s.opsRoutes(mux)
	mux.Handle("/api/", s.api(func(w http.ResponseWriter, r *http.Request) error { return errNotFound }))

	// Operations.
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", s.readyz)
	if s.Metrics != nil {
		// Registered once: Handler may be called again (a second
		// listener, a test), and a second registration panics.
		s.metricsOnce.Do(func() {
			s.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
				Name: "portvakt_http_requests_total",
				Help: "HTTP requests by route pattern and status code.",
			}, []string{"route", "code"})
			s.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
				Name:    "portvakt_http_request_duration_seconds",
				Help:    "HTTP request latency by route pattern.",
				Buckets: prometheus.DefBuckets,
			}, []string{"route"})
			s.Metrics.MustRegister(s.requests, s.duration)
		})
		mux.Handle("GET /metrics", s.metricsGuard(promhttp.HandlerFor(s.Metrics, promhttp.HandlerOpts{})))
	}

	mux.Handle("GET /oidc/continue", s.page(s.oidcContinue))
	mux.Handle("POST /oidc/continue", s.page(s.oidcContinue))
	mux.Handle("POST /oidc/consent", s.page(s.oidcConsent))
	mux.Handle("POST /oidc/cancel", s.page(s.oidcCancel))
	mux.Handle("GET /oidc/logout", s.page(s.oidcLogoutForm))
	mux.Handle("POST /oidc/logout", s.page(s.oidcLogout))
	if s.Demo != nil {
		mux.Handle("/demo", s.Demo)
		mux.Handle("/demo/", s.Demo)
	}

	mux.Handle("/", s.page(func(w http.ResponseWriter, r *http.Request) error { return errNotFound }))

	cop := http.NewCrossOriginProtection()
	if s.OP != nil {
		// The protocol endpoints answer apps, not our pages: SPAs call
		// the token, introspection and revocation endpoints across
		// origins (RFC 9700 relies on PKCE and client authentication
		// there, not on CSRF checks), and form_post logout comes from
		// the app's origin.
		oph := s.OP.Handler()
		for _, p := range []string{op.PathDiscovery, op.PathAuthorize, op.PathCallback, op.PathToken, op.PathIntrospec, op.PathUserinfo, op.PathRevoke, op.PathEndSession, op.PathKeys} {
			mux.Handle(p, oph)
			cop.AddInsecureBypassPattern(p)
		}
	}
	// An upstream's form_post answer comes from the provider's origin;
	// the state it carries is what binds it (federate.go).
	cop.AddInsecureBypassPattern(federatedFormPostPattern)
	if err := cop.AddTrustedOrigin(s.PublicURL.Scheme + "://" + s.PublicURL.Host); err != nil {
		s.Logger.Warn("public URL is not a valid trusted origin", "err", err)
	}
	cop.SetDenyHandler(s.page(func(w http.ResponseWriter, r *http.Request) error { return errCrossOrigin }))

	var h http.Handler = mux
	h = cop.Handler(h)
	h = s.withLimits(h)
	h = s.withRequestState(h)
	h = s.withSecurityHeaders(h)
	h = s.withObservation(h)
	return h
}

// staticHandler serves the embedded static files, never a directory
// listing (issue 10, finding 9): a path ending in "/" (which FileServer
// would list or redirect to) is not found.
func staticHandler() http.Handler {
	fs := http.FileServerFS(ui.Static())
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "" || strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		if f, err := ui.Static().Open(strings.TrimPrefix(r.URL.Path, "/")); err == nil {
			st, err := f.Stat()
			f.Close()
			if err == nil && st.IsDir() {
				http.NotFound(w, r)
				return
			}
		}
		w.Header().Set("Cache-Control", "public, max-age=3600")
		fs.ServeHTTP(w, r)
	})
}
