package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/portvakt/portvakt/internal/captcha"
	"github.com/portvakt/portvakt/internal/captcha/siteverify"
	"github.com/portvakt/portvakt/internal/flow"
	"github.com/portvakt/portvakt/internal/problem"
	"github.com/portvakt/portvakt/internal/throttle"
	"github.com/portvakt/portvakt/internal/web/ui"
)

// The proof-of-work challenge (issue 10; package captcha). Forms that
// ask it post the widget's solution as "captcha"; the JSON API takes it
// as the "captcha" field of the same endpoints. Without JavaScript a form
// posts captcha_nojs=1 instead, and is let through within a small budget
// per client network (CaptchaNoJSBudget an hour), so the page still works
// but is cheap to abuse no more.

// DefaultCaptchaNoJSBudget is how many unsolved form submissions a client
// network may make an hour.
const DefaultCaptchaNoJSBudget = 5

const captchaNoJSWindow = time.Hour

// captchaWidget is the widget for a form at place, nil if none is asked.
func (s *Server) captchaWidget(place string) *ui.Captcha {
	if !s.Captcha.Asks(place) {
		return nil
	}
	return s.widget()
}

// widget describes the configured provider's widget.
func (s *Server) widget() *ui.Captcha {
	w := &ui.Captcha{ChallengeURL: "/api/v1/challenge", Provider: "altcha"}
	if sv, ok := s.Captcha.Verifier.(*siteverify.Verifier); ok {
		w.Provider, w.SiteKey = sv.Provider, sv.SiteKey
	}
	return w
}

// thirdPartyCSP is what the CSP must allow for a third-party widget's
// script and frame ("" for ALTCHA, which is served from here).
func (s *Server) thirdPartyCSP() (script, frame string) {
	sv, ok := s.Captcha.Verifier.(*siteverify.Verifier)
	switch {
	case !ok:
		return "", ""
	case sv.Provider == "turnstile":
		return " https://challenges.cloudflare.com", " https://challenges.cloudflare.com"
	case sv.Provider == "recaptcha":
		// Google's list for reCAPTCHA under a CSP.
		return " https://www.google.com/recaptcha/ https://www.gstatic.com/recaptcha/", " https://www.google.com/recaptcha/ https://recaptcha.google.com/recaptcha/"
	default:
		return " https://hcaptcha.com https://*.hcaptcha.com", " https://hcaptcha.com https://*.hcaptcha.com"
	}
}

// loginAsks reports whether a sign-in for flowID or username must be
// solved first: captcha.login_after_failures failures on the client's
// address, the identifier or the account.
func (s *Server) loginAsks(r *http.Request, c flow.Client, flowID, username string) (bool, error) {
	if !s.Captcha.Asks(captcha.AtLoginAfterFailures) {
		return false, nil
	}
	n, err := s.Flows.SignInFailures(r.Context(), c, flowID, username)
	if err != nil {
		return false, err
	}
	return n >= s.Captcha.LoginThreshold(), nil
}

// checkCaptcha verifies a solution. A refusal is a *problem.Problem on
// the field "captcha" (the page keeps the user's input); other errors are
// internal. nojs is a form's captcha_nojs=1: without a solution it spends
// the network's hourly budget instead.
func (s *Server) checkCaptcha(r *http.Request, c flow.Client, solution string, nojs bool) error {
	v := s.Captcha.Verifier
	if v == nil {
		return nil
	}
	if solution == "" && nojs {
		budget := s.CaptchaNoJSBudget
		if budget == 0 {
			budget = DefaultCaptchaNoJSBudget
		}
		n, err := s.Flows.Store.AddFailure(r.Context(), "captcha:nojs:"+throttle.Network(c.IP), s.now(), captchaNoJSWindow)
		if err != nil {
			return err
		}
		if n > budget {
			return problem.New(problem.TooManyAttempts, "captcha", "captcha.nojs_throttled", problem.Args{"count": int(captchaNoJSWindow.Minutes())})
		}
		return nil
	}
	err := v.Verify(r.Context(), solution, c.IP)
	if captcha.Refused(err) {
		return problem.New(problem.Invalid, "captcha", captcha.Key(err), nil)
	}
	if err != nil {
		s.Logger.Warn("captcha verifier", "err", err)
		return problem.New(problem.Invalid, "captcha", "captcha.unavailable", nil)
	}
	return nil
}

// formCaptcha checks a form's solution at place, if the policy asks.
func (s *Server) formCaptcha(r *http.Request, c flow.Client, place string) error {
	if !s.Captcha.Asks(place) {
		return nil
	}
	return s.checkCaptcha(r, c, formSolution(r), r.PostFormValue("captcha_nojs") == "1")
}

// formSolution is the widget's value: ours ("captcha"), or a third-party
// widget's own field name.
func formSolution(r *http.Request) string {
	for _, name := range []string{"captcha", "cf-turnstile-response", "h-captcha-response", "g-recaptcha-response"} {
		if v := r.PostFormValue(name); v != "" {
			return v
		}
	}
	return ""
}

// apiChallenge is GET /api/v1/challenge: a new challenge, in the widget's
// format ({"algorithm","challenge","maxNumber","salt","signature",
// "provider"}), or {"provider","site_key"} for a third-party verifier.
// 404 when no captcha is configured.
func (s *Server) apiChallenge(w http.ResponseWriter, r *http.Request) error {
	if s.Captcha.Verifier == nil {
		return errNotFound
	}
	ch, err := s.Captcha.Verifier.Challenge(r.Context())
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusOK, ch)
}

// apiCaptcha wraps a JSON endpoint: it takes the "captcha" field out of
// the body (the endpoint itself refuses unknown fields) and, when the
// policy asks at place, verifies it first. For sign-in (place
// AtLoginAfterFailures) it is asked only after the failures the policy
// names, for the body's flow_id or username.
func (s *Server) apiCaptcha(place string, next handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if s.Captcha.Verifier == nil {
			return next(w, r)
		}
		body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxJSONBody))
		if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
			return errTooLarge
		} else if err != nil {
			return problem.New(problem.Invalid, "", "api.bad_json", problem.Args{"error": err.Error()})
		}
		var fields map[string]json.RawMessage
		var solution, flowID, username, flowToken string
		if json.Unmarshal(body, &fields) == nil && fields != nil {
			if raw, ok := fields["captcha"]; ok {
				if json.Unmarshal(raw, &solution) != nil {
					return problem.New(problem.Invalid, "captcha", "captcha.invalid", nil)
				}
				delete(fields, "captcha")
				if body, err = json.Marshal(fields); err != nil {
					return err
				}
			}
			_ = json.Unmarshal(fields["flow_id"], &flowID)
			_ = json.Unmarshal(fields["flow_token"], &flowToken)
			_ = json.Unmarshal(fields["username"], &username)
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		c := s.apiClient(r, flowToken)
		ask := s.Captcha.Asks(place)
		if ask && place == captcha.AtLoginAfterFailures {
			if ask, err = s.loginAsks(r, c, flowID, username); err != nil {
				return err
			}
		}
		if ask {
			if err := s.checkCaptcha(r, c, solution, false); err != nil {
				return err
			}
		}
		return next(w, r)
	}
}

// loginWidget is the widget for a sign-in form, when loginAsks.
func (s *Server) loginWidget(r *http.Request, c flow.Client, flowID, username string) (*ui.Captcha, error) {
	ask, err := s.loginAsks(r, c, flowID, username)
	if err != nil || !ask {
		return nil, err
	}
	return s.widget(), nil
}

// loginCaptcha checks a sign-in form's solution, when loginAsks.
func (s *Server) loginCaptcha(r *http.Request, c flow.Client, flowID, username string) error {
	ask, err := s.loginAsks(r, c, flowID, username)
	if err != nil || !ask {
		return err
	}
	return s.checkCaptcha(r, c, formSolution(r), r.PostFormValue("captcha_nojs") == "1")
}
