package web

import "net/http"

// securityAPIRoutes are the JSON twins of the security settings, of
// setting up a factor inside a sign-in, and of an app's consent page
// (security.go, phones.go, enrol.go, oidc.go).
func (s *Server) securityAPIRoutes(mux *http.ServeMux) {
	mux.Handle("GET /api/v1/account/factors", s.api(s.apiFactors))
	mux.Handle("DELETE /api/v1/account/factors", s.api(s.apiRemoveFactor))
	mux.Handle("POST /api/v1/account/totp", s.api(s.apiTOTPStart))
	mux.Handle("POST /api/v1/account/totp/confirm", s.api(s.apiTOTPConfirm))
	mux.Handle("POST /api/v1/account/recovery-codes", s.api(s.apiRecoveryCodes))
	mux.Handle("POST /api/v1/account/phones", s.api(s.apiPhoneAdd))
	mux.Handle("POST /api/v1/account/phones/verify", s.api(s.apiPhoneVerify))
	mux.Handle("POST /api/v1/account/phones/resend", s.api(s.apiPhoneResend))
	mux.Handle("POST /api/v1/factor/enrol/totp", s.api(s.apiEnrolTOTP))
	mux.Handle("POST /api/v1/factor/enrol/totp/confirm", s.api(s.apiEnrolTOTPConfirm))
	mux.Handle("POST /api/v1/factor/enrol/email", s.api(s.apiEnrolEmail))
	mux.Handle("POST /api/v1/factor/enrol/email/confirm", s.api(s.apiEnrolEmailConfirm))
	mux.Handle("GET /api/v1/consent", s.api(s.apiConsent))
	mux.Handle("POST /api/v1/consent", s.api(s.apiConsentAnswer))
}
