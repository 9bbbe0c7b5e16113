package web

import (
	"encoding/base64"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/portvakt/portvakt/internal/authn"
	"github.com/portvakt/portvakt/internal/flow"
	"github.com/portvakt/portvakt/internal/problem"
	"github.com/portvakt/portvakt/internal/web/ui"
)

// "Sign-in and security": the overview page, setting up an authenticator,
// removing a factor and new recovery codes.

func (s *Server) securityPage(w http.ResponseWriter, r *http.Request) error {
	who, ok := s.who(w, r)
	if !ok {
		return nil
	}
	sec, err := s.Flows.SecurityOverview(r.Context(), who.Account.ID)
	if err != nil {
		return err
	}
	b := s.base(r)
	allowed := func(m authn.Method) bool {
		for _, x := range sec.Allowed {
			if x == m {
				return true
			}
		}
		return false
	}
	p := &ui.SecurityPage{Base: b, TOTPAllowed: allowed(authn.TOTP), RecoveryAllowed: allowed(authn.Recovery), SMSAllowed: allowed(authn.SMS) && s.Flows.SMS != nil,
		EmailAllowed: allowed(authn.Email), RecoveryUnused: sec.RecoveryUnused, RecoveryTotal: sec.RecoveryTotal, RememberDays: sec.RememberDays,
		Level: who.Session.Level, AMR: strings.Join(who.Session.AMR, " "), SignedInWith: signedInWith(b, who.Session.AMR)}
	for _, f := range sec.TOTP {
		p.TOTP = append(p.TOTP, ui.LabelledItem{ID: f.ID, Label: f.Name, Since: f.ConfirmedAt.UTC().Format("2006-01-02")})
	}
	for _, f := range sec.Phones {
		p.Phones = append(p.Phones, ui.LabelledItem{ID: f.ID, Label: flow.MaskPhone(f.Phone)})
	}
	for _, br := range sec.Browsers {
		p.Browsers = append(p.Browsers, ui.LabelledItem{ID: br.ID, Label: b.T("security.browsers.item", "browser", br.UserAgent, "date", br.CreatedAt.UTC().Format("2006-01-02"), "until", br.ExpiresAt.UTC().Format("2006-01-02"))})
	}
	p.KeysAllowed = allowed(authn.WebAuthn) && s.Flows.WebAuthn != nil
	if p.KeysAllowed {
		keys, err := s.Flows.Keys(r.Context(), who.Account.ID)
		if err != nil {
			return err
		}
		for _, k := range keys {
			kind := b.T("security.keys.key")
			if k.Discoverable {
				kind = b.T("security.keys.passkey")
			}
			used := b.T("security.keys.never")
			if !k.LastUsedAt.IsZero() {
				used = k.LastUsedAt.UTC().Format("2006-01-02 15:04")
			}
			sync := b.T("security.keys.single")
			switch {
			case k.BackupState:
				sync = b.T("security.keys.synced")
			case k.BackupEligible:
				sync = b.T("security.keys.eligible")
			}
			p.Keys = append(p.Keys, ui.KeyItem{ID: base64.RawURLEncoding.EncodeToString(k.ID), Name: k.Name, Kind: kind,
				Info: b.T("security.keys.item_plain", "created", k.CreatedAt.UTC().Format("2006-01-02"), "used", used),
				Sync: sync, CloneWarning: k.CloneWarning})
		}
	}
	if err := s.identityItems(r, p, who.Account.ID); err != nil {
		return err
	}
	p.Notice = noticeFrom(r, b)
	return s.render(w, r, http.StatusOK, "security", p)
}

func (s *Server) securityTOTP(w http.ResponseWriter, r *http.Request) error {
	who, ok := s.who(w, r)
	if !ok || !s.fresh(w, r, who, "/account/security") {
		return nil
	}
	e, err := s.Flows.StartTOTP(r.Context(), who)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "totp", &ui.TOTPPage{Base: s.base(r), QR: template.URL(e.QR), Groups: e.Groups, Action: "/account/security/totp/confirm", Hidden: []ui.Hidden{{Name: "factor", Value: e.FactorID}}})
}

func (s *Server) securityTOTPConfirm(w http.ResponseWriter, r *http.Request) error {
	who, ok := s.who(w, r)
	if !ok || !s.fresh(w, r, who, "/account/security") {
		return nil
	}
	codes, err := s.Flows.ConfirmTOTP(r.Context(), s.client(w, r), who, r.PostFormValue("factor"), r.PostFormValue("code"))
	if p := asProblem(err); p != nil {
		if p.Kind == problem.Expired {
			return s.flowProblem(w, r, p, "/account/security")
		}
		e, eerr := s.Flows.StartTOTP(r.Context(), who)
		if eerr != nil {
			return eerr
		}
		page := &ui.TOTPPage{Base: s.base(r), QR: template.URL(e.QR), Groups: e.Groups, Action: "/account/security/totp/confirm", Hidden: []ui.Hidden{{Name: "factor", Value: e.FactorID}}}
		page.Problem = p
		return s.render(w, r, p.Kind.Status(), "totp", page)
	}
	if err != nil {
		return err
	}
	return s.showCodes(w, r, codes, "/account/security?notice=factor-added")
}

func (s *Server) securityRemoveFactor(w http.ResponseWriter, r *http.Request) error {
	who, ok := s.who(w, r)
	if !ok || !s.fresh(w, r, who, "/account/security") {
		return nil
	}
	if err := s.Flows.RemoveFactor(r.Context(), s.client(w, r), who, r.PostFormValue("id")); err != nil {
		return err
	}
	http.Redirect(w, r, "/account/security?notice=factor-removed", http.StatusSeeOther)
	return nil
}

func (s *Server) securityRecovery(w http.ResponseWriter, r *http.Request) error {
	who, ok := s.who(w, r)
	if !ok || !s.fresh(w, r, who, "/account/security") {
		return nil
	}
	codes, err := s.Flows.RegenerateRecoveryCodes(r.Context(), s.client(w, r), who)
	if err != nil {
		return err
	}
	return s.showCodes(w, r, codes, "/account/security")
}

// FactorItemJSON is one of the account's authenticators or phones.
type FactorItemJSON struct {
	ID     string    `json:"id"`
	Method string    `json:"method"`
	Name   string    `json:"name"`
	Since  time.Time `json:"since"`
}

// FactorsJSON lists the account's second factors: its authenticators and
// phones (each removable by id) and how many recovery codes are left.
type FactorsJSON struct {
	Factors        []FactorItemJSON `json:"factors"`
	RecoveryUnused int              `json:"recovery_unused"`
	RecoveryTotal  int              `json:"recovery_total"`
}

// TOTPJSON is an authenticator being set up: the secret to type in, or
// the otpauth URI to put in a QR code. It works once confirmed.
type TOTPJSON struct {
	FactorID string `json:"factor_id"`
	Secret   string `json:"secret"`
	URI      string `json:"uri"`
}

// RecoveryCodesJSON are recovery codes, shown this once. Empty when the
// account already had some.
type RecoveryCodesJSON struct {
	RecoveryCodes []string `json:"recovery_codes"`
}

// apiFactors is the JSON twin of the security page's factor lists.
func (s *Server) apiFactors(w http.ResponseWriter, r *http.Request) error {
	who, err := s.apiWho(r)
	if err != nil {
		return err
	}
	sec, err := s.settings().SecurityOverview(r.Context(), who.Account.ID)
	if err != nil {
		return err
	}
	out := FactorsJSON{Factors: []FactorItemJSON{}, RecoveryUnused: sec.RecoveryUnused, RecoveryTotal: sec.RecoveryTotal}
	for _, m := range sec.Allowed {
		for _, f := range sec.Factors[m] {
			out.Factors = append(out.Factors, FactorItemJSON{ID: f.ID, Method: string(m), Name: f.Name, Since: f.ConfirmedAt.UTC()})
		}
	}
	return writeJSON(w, http.StatusOK, out)
}

// apiTOTPStart is the JSON twin of "Set up an authenticator app".
func (s *Server) apiTOTPStart(w http.ResponseWriter, r *http.Request) error {
	who, err := s.apiWho(r)
	if err != nil {
		return err
	}
	e, err := s.settings().StartTOTP(r.Context(), who)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, TOTPJSON{FactorID: e.FactorID, Secret: e.Secret, URI: e.URL})
}

// apiTOTPConfirm checks the new authenticator's first code.
func (s *Server) apiTOTPConfirm(w http.ResponseWriter, r *http.Request) error {
	who, err := s.apiWho(r)
	if err != nil {
		return err
	}
	var in struct {
		FactorID string `json:"factor_id"`
		Code     string `json:"code"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	codes, err := s.settings().ConfirmTOTP(r.Context(), s.apiClient(r, ""), who, in.FactorID, in.Code)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, RecoveryCodesJSON{RecoveryCodes: append([]string{}, codes...)})
}

// apiRemoveFactor is the JSON twin of removing an authenticator or phone.
func (s *Server) apiRemoveFactor(w http.ResponseWriter, r *http.Request) error {
	who, err := s.apiWho(r)
	if err != nil {
		return err
	}
	var in struct {
		ID string `json:"id"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if err := s.settings().RemoveFactor(r.Context(), s.apiClient(r, ""), who, in.ID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// apiRecoveryCodes is the JSON twin of "Make new recovery codes": the old
// ones stop working.
func (s *Server) apiRecoveryCodes(w http.ResponseWriter, r *http.Request) error {
	who, err := s.apiWho(r)
	if err != nil {
		return err
	}
	codes, err := s.settings().RegenerateRecoveryCodes(r.Context(), s.apiClient(r, ""), who)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, RecoveryCodesJSON{RecoveryCodes: append([]string{}, codes...)})
}
