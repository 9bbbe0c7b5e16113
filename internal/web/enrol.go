package web

import (
	"encoding/base64"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/portvakt/portvakt/internal/authn"
	"github.com/portvakt/portvakt/internal/flow"
	"github.com/portvakt/portvakt/internal/web/ui"
)

// Setting up a second factor inside a sign-in that needs one the account
// does not have yet (an authenticator, or an address).

func (s *Server) enrolPage(r *http.Request, pf flow.PendingFactor, email string, sent bool) *ui.EnrolPage {
	p := &ui.EnrolPage{Base: s.base(r), Flow: pf.Flow.ID, Email: email, EmailSent: sent, Minutes: int(s.Flows.Config.CodeTTL.Minutes()),
		ConfirmAddress: pf.ConfirmAddress, NeedInvitation: pf.NeedInvitation, PhoneHow: slices.Contains(s.Flows.MFA.Methods, authn.SMS)}
	for _, m := range pf.CanEnrol {
		p.CanEmail = p.CanEmail || m == authn.Email
		p.CanTOTP = p.CanTOTP || m == authn.TOTP
	}
	return p
}

func (s *Server) enrolEmail(w http.ResponseWriter, r *http.Request) error {
	c := s.client(w, r)
	id, email := r.PostFormValue("flow"), r.PostFormValue("email")
	err := s.mfa().EnrolEmail(r.Context(), c, id, email)
	pf, lerr := s.mfa().Factor(r.Context(), c, id)
	if lp := asProblem(lerr); lp != nil {
		return s.flowProblem(w, r, lp, "/login")
	}
	if lerr != nil {
		return lerr
	}
	if p := asProblem(err); p != nil {
		page := s.enrolPage(r, pf, email, false)
		page.Problem = p
		return s.render(w, r, p.Kind.Status(), "enrol", page)
	}
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "enrol", s.enrolPage(r, pf, strings.TrimSpace(email), true))
}

func (s *Server) enrolEmailConfirm(w http.ResponseWriter, r *http.Request) error {
	c := s.client(w, r)
	id := r.PostFormValue("flow")
	res, err := s.mfa().ConfirmEnrolEmail(r.Context(), c, id, r.PostFormValue("code"))
	if p := asProblem(err); p != nil {
		if isFlowProblem(p) {
			return s.flowProblem(w, r, p, "/login")
		}
		pf, lerr := s.mfa().Factor(r.Context(), c, id)
		if lp := asProblem(lerr); lp != nil {
			return s.flowProblem(w, r, lp, "/login")
		}
		if lerr != nil {
			// A fault (the database), not a problem with the flow.
			return lerr
		}
		page := s.enrolPage(r, pf, "", true)
		page.Problem = p
		return s.render(w, r, p.Kind.Status(), "enrol", page)
	}
	if err != nil {
		return err
	}
	if res.Token == "" && res.Pending == "" {
		// The registered address is proven; on to setting up a factor.
		http.Redirect(w, r, "/login/factor?flow="+url.QueryEscape(id), http.StatusSeeOther)
		return nil
	}
	return s.land(w, r, res, "/account?notice=email-added")
}

func (s *Server) enrolTOTP(w http.ResponseWriter, r *http.Request) error {
	c := s.client(w, r)
	id := r.PostFormValue("flow")
	e, err := s.mfa().EnrolTOTP(r.Context(), c, id)
	if p := asProblem(err); p != nil {
		return s.flowProblem(w, r, p, "/login")
	}
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "totp", &ui.TOTPPage{Base: s.base(r), QR: template.URL(e.QR), Groups: e.Groups, Action: "/login/enrol/totp/confirm", Hidden: []ui.Hidden{{Name: "flow", Value: id}}})
}

func (s *Server) enrolTOTPConfirm(w http.ResponseWriter, r *http.Request) error {
	c := s.client(w, r)
	id := r.PostFormValue("flow")
	res, codes, err := s.mfa().ConfirmEnrolTOTP(r.Context(), c, id, r.PostFormValue("code"))
	if p := asProblem(err); p != nil {
		if isFlowProblem(p) {
			return s.flowProblem(w, r, p, "/login")
		}
		// A wrong first code: a fresh secret is the simplest honest retry.
		e, eerr := s.mfa().EnrolTOTP(r.Context(), c, id)
		if eerr != nil {
			return s.flowProblem(w, r, p, "/login")
		}
		page := &ui.TOTPPage{Base: s.base(r), QR: template.URL(e.QR), Groups: e.Groups, Action: "/login/enrol/totp/confirm", Hidden: []ui.Hidden{{Name: "flow", Value: id}}}
		page.Problem = p
		return s.render(w, r, p.Kind.Status(), "totp", page)
	}
	if err != nil {
		return err
	}
	if err := s.signIn(w, r, res); err != nil {
		return err
	}
	return s.showCodes(w, r, codes, "/account")
}

// showCodes shows new recovery codes once, with a download.
func (s *Server) showCodes(w http.ResponseWriter, r *http.Request, codes []string, next string) error {
	if len(codes) == 0 {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return nil
	}
	text := strings.Join(codes, "\r\n") + "\r\n"
	return s.render(w, r, http.StatusOK, "codes", &ui.CodesPage{Base: s.base(r), Codes: codes, Next: next,
		Download: template.URL("data:text/plain;charset=utf-8;base64," + base64.StdEncoding.EncodeToString([]byte(text)))})
}

// EnrolledJSON is a sign-in finished by setting up an authenticator: the
// session, and the recovery codes made with it (shown this once).
type EnrolledJSON struct {
	Session       SessionJSON `json:"session"`
	RecoveryCodes []string    `json:"recovery_codes"`
}

// apiEnrolTOTP is the JSON twin of setting up an authenticator inside a
// sign-in that needs one (GET /api/v1/factor says enrol and can_enrol).
func (s *Server) apiEnrolTOTP(w http.ResponseWriter, r *http.Request) error {
	var in flowRef
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	e, err := s.mfa().EnrolTOTP(r.Context(), s.apiClient(r, in.FlowToken), in.FlowID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, TOTPJSON{FactorID: e.FactorID, Secret: e.Secret, URI: e.URL})
}

// apiEnrolTOTPConfirm checks the new authenticator's first code and
// finishes the sign-in with it.
func (s *Server) apiEnrolTOTPConfirm(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		flowRef
		Code string `json:"code"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	res, codes, err := s.mfa().ConfirmEnrolTOTP(r.Context(), s.apiClient(r, in.FlowToken), in.FlowID, in.Code)
	if err != nil {
		return err
	}
	if err := s.signIn(w, r, res); err != nil {
		return err
	}
	sess := res.Session
	return writeJSON(w, http.StatusOK, EnrolledJSON{
		Session:       SessionJSON{ID: sess.ID, AccountID: sess.AccountID, AuthTime: sess.AuthTime.UTC(), ExpiresAt: sess.ExpiresAt.UTC(), AMR: sess.AMR, Level: sess.Level},
		RecoveryCodes: append([]string{}, codes...),
	})
}

// apiEnrolEmail sends a code to the address being added (or, when the
// step asks to prove the registered address, to that one).
func (s *Server) apiEnrolEmail(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		flowRef
		Email string `json:"email"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if err := s.mfa().EnrolEmail(r.Context(), s.apiClient(r, in.FlowToken), in.FlowID, in.Email); err != nil {
		return err
	}
	return writeJSON(w, http.StatusAccepted, FlowJSON{FlowID: in.FlowID, Next: "code"})
}

// apiEnrolEmailConfirm checks the code: it finishes the sign-in with the
// new address, or, when it proved the registered address, answers
// next: factor (now set up a factor).
func (s *Server) apiEnrolEmailConfirm(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		flowRef
		Code string `json:"code"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	res, err := s.mfa().ConfirmEnrolEmail(r.Context(), s.apiClient(r, in.FlowToken), in.FlowID, in.Code)
	if err != nil {
		return err
	}
	if res.Token == "" && res.Pending == "" {
		return writeJSON(w, http.StatusOK, FlowJSON{FlowID: in.FlowID, FlowToken: in.FlowToken, Next: "factor"})
	}
	return s.apiSignedIn(w, r, res, in.FlowToken)
}
