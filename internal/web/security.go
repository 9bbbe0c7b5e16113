package web

import (
	"encoding/base64"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/portvakt/portvakt/internal/authn"
	"github.com/portvakt/portvakt/internal/flow"
	"github.com/portvakt/portvakt/internal/problem"
	"github.com/portvakt/portvakt/internal/web/ui"
)

// ---- the second-factor step ----

// choice describes an option for the page.
func (s *Server) choice(b ui.Base, pf flow.PendingFactor, o flow.Option, to string) ui.FactorChoice {
	c := ui.FactorChoice{Key: o.Key(), AskCode: true, Numeric: true, CodeLabel: b.T("code.label"), CodeHint: b.T("code.hint")}
	switch o.Method {
	case authn.TOTP:
		c.Title = b.T("mfa.totp.title")
		c.CodeHint = b.T("mfa.totp.hint")
	case authn.SMS:
		c.Title = b.T("mfa.sms.title", "phone", o.Label)
		c.NeedsSend, c.SendText = true, b.T("mfa.sms.send_text", "phone", o.Label)
		c.SendButton, c.SendAgain = b.T("mfa.send"), b.T("mfa.send_again")
	case authn.Email:
		c.Title = b.T("mfa.email.title", "email", o.Label)
		c.NeedsSend, c.SendText = true, b.T("mfa.email.send_text", "email", o.Label, "count", int(s.Flows.MFA.EmailTTL.Minutes()))
		c.SendButton, c.SendAgain = b.T("mfa.email.send_button"), b.T("mfa.email.send_again")
	case authn.Recovery:
		c.Title, c.CodeLabel, c.CodeHint, c.Numeric = b.T("mfa.recovery.title"), b.T("mfa.recovery.label"), b.T("mfa.recovery.hint"), false
	case authn.Support:
		c.Title, c.CodeLabel, c.CodeHint, c.Numeric = b.T("mfa.support.title"), b.T("mfa.support.label"), b.T("mfa.support.hint"), false
	case authn.WebAuthn:
		c.Title, c.IsKey, c.AskCode = b.T("mfa.webauthn.title"), true, false
	}
	if c.NeedsSend {
		// The masked address or number is never split across lines.
		if lead, tail, ok := strings.Cut(c.Title, o.Label); ok && o.Label != "" {
			c.TitleLead, c.TitleTarget, c.TitleTail = lead, o.Label, tail
		}
		c.Sent = pf.Sent == c.Key
		c.AskCode = c.Sent
		if c.Sent {
			if o.Method == authn.Email {
				c.SentText = b.T("mfa.email.sent_detail", "email", o.Label, "count", int(s.Flows.MFA.EmailTTL.Minutes()))
			} else {
				c.SentText = b.T("mfa.sms.sent", "phone", o.Label)
			}
		}
	}
	return c
}

func (s *Server) factorPage(r *http.Request, pf flow.PendingFactor, key string) *ui.FactorPage {
	b := s.base(r)
	p := &ui.FactorPage{Base: b, Flow: pf.Flow.ID, Remember: pf.Remember, RememberDays: pf.RememberDays}
	switch pf.Purpose {
	case "stepup":
		p.Heading, p.Lead = b.T("mfa.stepup.title"), b.T("mfa.stepup.lead")
	case "reauth":
		p.Heading, p.Lead = b.T("reauth.title"), b.T("mfa.reauth.lead")
	case "recovery":
		p.Heading, p.Lead = b.T("mfa.reset.title"), b.T("mfa.reset.lead")
	default:
		p.Heading, p.Lead = b.T("mfa.title"), b.T("mfa.lead")
	}
	if pf.Lost {
		p.Lead = b.T("mfa.lost.lead")
	}
	if key == "" && pf.Sent != "" {
		key = pf.Sent
	}
	for i, o := range pf.Options {
		c := s.choice(b, pf, o, "")
		if (key == "" && i == 0) || c.Key == key {
			cc := c
			p.Current = &cc
		}
	}
	for _, o := range pf.Options {
		if c := s.choice(b, pf, o, ""); p.Current == nil || c.Key != p.Current.Key {
			p.Others = append(p.Others, c)
		}
	}
	if p.Current == nil && len(pf.Options) > 0 {
		c := s.choice(b, pf, pf.Options[0], "")
		p.Current = &c
		p.Others = p.Others[1:]
	}
	for _, o := range pf.Options {
		if o.Method == authn.TOTP && !pf.Lost && pf.Purpose == "login" && len(pf.Options) > 1 {
			p.OfferLost = true
		}
	}
	return p
}

func (s *Server) factorForm(w http.ResponseWriter, r *http.Request) error {
	pf, err := s.Flows.Factor(r.Context(), s.client(w, r), r.URL.Query().Get("flow"))
	if p := asProblem(err); p != nil {
		return s.flowProblem(w, r, p, "/login")
	}
	if err != nil {
		return err
	}
	if pf.Enrol {
		return s.render(w, r, http.StatusOK, "enrol", s.enrolPage(r, pf, "", false))
	}
	page := s.factorPage(r, pf, r.URL.Query().Get("method"))
	page.RememberChosen = page.Remember && rememberChosen(r, pf.Flow.ID)
	page.Notice = noticeFrom(r, page.Base)
	return s.render(w, r, http.StatusOK, "factor", page)
}

// factorError re-renders the step with the problem on the chosen option.
func (s *Server) factorError(w http.ResponseWriter, r *http.Request, c flow.Client, flowID, key string, p *problem.Problem) error {
	if isFlowProblem(p) {
		return s.flowProblem(w, r, p, "/login")
	}
	pf, err := s.Flows.Factor(r.Context(), c, flowID)
	if lp := asProblem(err); lp != nil {
		return s.flowProblem(w, r, lp, "/login")
	}
	if err != nil {
		return err
	}
	page := s.factorPage(r, pf, key)
	page.RememberChosen = page.Remember && (r.PostFormValue("remember") != "" || rememberChosen(r, pf.Flow.ID))
	page.Problem = p
	return s.render(w, r, p.Kind.Status(), "factor", page)
}

func (s *Server) factorSend(w http.ResponseWriter, r *http.Request) error {
	c := s.client(w, r)
	id, key := r.PostFormValue("flow"), r.PostFormValue("method")
	err := s.Flows.SendFactorCode(r.Context(), c, id, key)
	if p := asProblem(err); p != nil {
		return s.factorError(w, r, c, id, key, p)
	}
	if err != nil {
		return err
	}
	// "Don't ask again in this browser", chosen before sending, holds for
	// the code typed here and for the emailed link opened in this browser.
	s.setRememberChoice(w, id, r.PostFormValue("remember") != "")
	http.Redirect(w, r, "/login/factor?flow="+id+"&method="+url.QueryEscape(key), http.StatusSeeOther)
	return nil
}

func (s *Server) factorSubmit(w http.ResponseWriter, r *http.Request) error {
	c := s.client(w, r)
	id, key := r.PostFormValue("flow"), r.PostFormValue("method")
	res, err := s.Flows.VerifyFactor(r.Context(), c, id, key, r.PostFormValue("code"), r.PostFormValue("remember") != "")
	err = smsWording(err, key)
	if p := asProblem(err); p != nil {
		return s.factorError(w, r, c, id, key, p)
	}
	if err != nil {
		return err
	}
	return s.land(w, r, res, "/account")
}

func (s *Server) factorLost(w http.ResponseWriter, r *http.Request) error {
	id := r.PostFormValue("flow")
	if err := s.Flows.LostAuthenticator(r.Context(), s.client(w, r), id); err != nil {
		if p := asProblem(err); p != nil {
			return s.flowProblem(w, r, p, "/login")
		}
		return err
	}
	http.Redirect(w, r, "/login/factor?flow="+id, http.StatusSeeOther)
	return nil
}

// factorLinkLanding is what the emailed sign-in link opens. In the
// browser that started the sign-in it shows a button (a GET never acts);
// anywhere else it explains where the link works.
func (s *Server) factorLinkLanding(w http.ResponseWriter, r *http.Request) error {
	token := r.PathValue("token")
	same, err := s.Flows.InspectFactorLink(r.Context(), s.client(w, r), token)
	if p := asProblem(err); p != nil {
		return s.flowProblem(w, r, p, "/login")
	}
	if err != nil {
		return err
	}
	b := s.base(r)
	if !same {
		return s.render(w, r, http.StatusForbidden, "message", &ui.MessagePage{Base: b, Heading: b.T("mfa.link.elsewhere.title"),
			Paragraphs: []string{b.T("mfa.link.elsewhere.body"), b.T("mfa.link.elsewhere.how")}})
	}
	page := &ui.MessagePage{Base: b, Heading: b.T("mfa.link.title"), Paragraphs: []string{b.T("mfa.link.body")},
		FormAction: "/login/factor/link", FormButton: b.T("link.magic.button"), Hidden: []ui.Hidden{{Name: "token", Value: token}}}
	if flowID, ok := rememberCookie(r); ok && s.Flows.MFA.RememberDays > 0 {
		page.Paragraphs = append(page.Paragraphs, b.T("mfa.link.remembering", "count", s.Flows.MFA.RememberDays))
		page.Hidden = append(page.Hidden, ui.Hidden{Name: "remember", Value: flowID})
	}
	return s.render(w, r, http.StatusOK, "message", page)
}

func (s *Server) factorLinkUse(w http.ResponseWriter, r *http.Request) error {
	// The choice made before sending, carried by the landing page from
	// this browser's cookie (the link works only in this browser).
	remember := r.PostFormValue("remember") != "" && rememberChosen(r, r.PostFormValue("remember"))
	res, err := s.Flows.UseFactorLink(r.Context(), s.client(w, r), r.PostFormValue("token"), remember)
	if p := asProblem(err); p != nil {
		if len(p.Details) > 0 && p.Details[0].Key == "mfa.link_other_browser" {
			b := s.base(r)
			return s.render(w, r, http.StatusForbidden, "message", &ui.MessagePage{Base: b, Heading: b.T("mfa.link.elsewhere.title"),
				Paragraphs: []string{b.T("mfa.link.elsewhere.body"), b.T("mfa.link.elsewhere.how")}})
		}
		return s.flowProblem(w, r, p, "/login")
	}
	if err != nil {
		return err
	}
	return s.land(w, r, res, "/account")
}

// ---- setting up a factor inside sign-in ----

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
	err := s.Flows.EnrolEmail(r.Context(), c, id, email)
	pf, lerr := s.Flows.Factor(r.Context(), c, id)
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
	res, err := s.Flows.ConfirmEnrolEmail(r.Context(), c, id, r.PostFormValue("code"))
	if p := asProblem(err); p != nil {
		if isFlowProblem(p) {
			return s.flowProblem(w, r, p, "/login")
		}
		pf, lerr := s.Flows.Factor(r.Context(), c, id)
		if lerr != nil {
			return s.flowProblem(w, r, asProblem(lerr), "/login")
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
	e, err := s.Flows.EnrolTOTP(r.Context(), c, id)
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
	res, codes, err := s.Flows.ConfirmEnrolTOTP(r.Context(), c, id, r.PostFormValue("code"))
	if p := asProblem(err); p != nil {
		if isFlowProblem(p) {
			return s.flowProblem(w, r, p, "/login")
		}
		// A wrong first code: a fresh secret is the simplest honest retry.
		e, eerr := s.Flows.EnrolTOTP(r.Context(), c, id)
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

// ---- re-authentication and step-up ----

func (s *Server) reauthForm(w http.ResponseWriter, r *http.Request) error {
	who, ok := s.who(w, r)
	if !ok {
		return nil
	}
	noPW, err := s.Flows.Passwordless(r.Context(), who.Account.ID)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "reauth", &ui.ReauthPage{Base: s.base(r), ReturnTo: localPath(r.URL.Query().Get("return_to")), NoPassword: noPW})
}

func (s *Server) reauthSubmit(w http.ResponseWriter, r *http.Request) error {
	who, ok := s.who(w, r)
	if !ok {
		return nil
	}
	returnTo := localPath(r.PostFormValue("return_to"))
	res, err := s.Flows.Reauth(r.Context(), s.client(w, r), who, r.PostFormValue("current_password"), returnTo)
	if p := asProblem(err); p != nil {
		page := &ui.ReauthPage{Base: s.base(r), ReturnTo: returnTo}
		page.Problem = p
		return s.render(w, r, p.Kind.Status(), "reauth", page)
	}
	if err != nil {
		return err
	}
	return s.land(w, r, res, returnTo)
}

// fresh sends the browser to re-authenticate when the session's sign-in
// is too old for a sensitive change; it reports whether to go on.
func (s *Server) fresh(w http.ResponseWriter, r *http.Request, who flow.Who, returnTo string) bool {
	ok, err := s.Flows.Recent(r.Context(), who)
	if err != nil {
		s.fail(w, r, err)
		return false
	}
	if ok {
		return true
	}
	http.Redirect(w, r, "/account/reauth?return_to="+url.QueryEscape(returnTo), http.StatusSeeOther)
	return false
}

// stepUp is where an app sends a user before an action that needs a
// stronger sign-in: /stepup?action=payment&return_to=/pay. If the session
// is strong enough the browser goes straight back.
func (s *Server) stepUp(w http.ResponseWriter, r *http.Request) error {
	who, ok := s.who(w, r)
	if !ok {
		return nil
	}
	q := r.URL.Query()
	returnTo := localPath(q.Get("return_to"))
	res, err := s.Flows.StepUp(r.Context(), s.client(w, r), who, q.Get("action"), returnTo)
	if hasKey(asProblem(err), "reauth.required") {
		// The session has no first factor to build on: a full
		// re-authentication, then the step-up again.
		http.Redirect(w, r, "/account/reauth?return_to="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return nil
	}
	if err != nil {
		return err
	}
	if res.Pending != "" {
		http.Redirect(w, r, "/login/factor?flow="+res.Pending, http.StatusSeeOther)
		return nil
	}
	http.Redirect(w, r, returnTo, http.StatusSeeOther)
	return nil
}

// ---- "Sign-in and security" ----

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

func (s *Server) phoneForm(w http.ResponseWriter, r *http.Request) error {
	who, ok := s.who(w, r)
	if !ok || !s.fresh(w, r, who, "/account/security/phones") {
		return nil
	}
	return s.render(w, r, http.StatusOK, "phone", &ui.PhonePage{Base: s.base(r)})
}

func (s *Server) phoneSubmit(w http.ResponseWriter, r *http.Request) error {
	who, ok := s.who(w, r)
	if !ok || !s.fresh(w, r, who, "/account/security/phones") {
		return nil
	}
	phone := r.PostFormValue("phone")
	f, err := s.Flows.StartAddPhone(r.Context(), s.client(w, r), who, phone)
	if p := asProblem(err); p != nil {
		page := &ui.PhonePage{Base: s.base(r), Phone: phone}
		page.Problem = p
		return s.render(w, r, p.Kind.Status(), "phone", page)
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/account/security/phones/verify?flow="+f.ID, http.StatusSeeOther)
	return nil
}

func (s *Server) phoneCodePage(r *http.Request, flowID, phone string) *ui.CodePage {
	b := s.base(r)
	minutes := int(s.Flows.MFA.SMSTTL.Minutes())
	return &ui.CodePage{Base: b, Heading: b.T("security.sms.verify"), Flow: flowID, Email: flow.MaskPhone(phone), Minutes: minutes,
		Action: "/account/security/phones/verify", ResendAction: "/account/security/phones/resend", RestartURL: "/account/security/phones",
		SentText: b.T("security.sms.code_sent", "phone", flow.MaskPhone(phone), "count", minutes), Hint: b.T("security.sms.code_hint"), RestartText: b.T("security.sms.wrong_number")}
}

func (s *Server) phoneVerifyForm(w http.ResponseWriter, r *http.Request) error {
	who, ok := s.who(w, r)
	if !ok {
		return nil
	}
	f, phone, err := s.Flows.PhoneFlow(r.Context(), s.client(w, r), who, r.URL.Query().Get("flow"))
	if p := asProblem(err); p != nil {
		return s.flowProblem(w, r, p, "/account/security/phones")
	}
	if err != nil {
		return err
	}
	page := s.phoneCodePage(r, f.ID, phone)
	page.Notice = noticeFrom(r, page.Base)
	return s.render(w, r, http.StatusOK, "code", page)
}

func (s *Server) phoneVerifySubmit(w http.ResponseWriter, r *http.Request) error {
	who, ok := s.who(w, r)
	if !ok {
		return nil
	}
	c := s.client(w, r)
	id := r.PostFormValue("flow")
	err := s.Flows.ConfirmPhone(r.Context(), c, who, id, r.PostFormValue("code"))
	if p := asProblem(err); p != nil {
		if isFlowProblem(p) || p.Kind == problem.Conflict {
			return s.flowProblem(w, r, p, "/account/security/phones")
		}
		f, phone, lerr := s.Flows.PhoneFlow(r.Context(), c, who, id)
		if lerr != nil {
			return s.flowProblem(w, r, p, "/account/security/phones")
		}
		page := s.phoneCodePage(r, f.ID, phone)
		page.Problem = p
		return s.render(w, r, p.Kind.Status(), "code", page)
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/account/security?notice=factor-added", http.StatusSeeOther)
	return nil
}

func (s *Server) phoneResend(w http.ResponseWriter, r *http.Request) error {
	who, ok := s.who(w, r)
	if !ok {
		return nil
	}
	c := s.client(w, r)
	id := r.PostFormValue("flow")
	err := s.Flows.ResendPhoneCode(r.Context(), c, who, id)
	if p := asProblem(err); p != nil {
		f, phone, lerr := s.Flows.PhoneFlow(r.Context(), c, who, id)
		if lerr != nil {
			return s.flowProblem(w, r, p, "/account/security/phones")
		}
		page := s.phoneCodePage(r, f.ID, phone)
		page.Problem = p
		return s.render(w, r, p.Kind.Status(), "code", page)
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/account/security/phones/verify?flow="+id+"&notice=code-resent", http.StatusSeeOther)
	return nil
}

func (s *Server) forgetBrowser(w http.ResponseWriter, r *http.Request) error {
	who, ok := s.who(w, r)
	if !ok {
		return nil
	}
	if err := s.Flows.ForgetBrowser(r.Context(), who, r.PostFormValue("id")); err != nil {
		return err
	}
	http.Redirect(w, r, "/account/security?notice=browser-forgotten#browsers", http.StatusSeeOther)
	return nil
}

func (s *Server) forgetAllBrowsers(w http.ResponseWriter, r *http.Request) error {
	who, ok := s.who(w, r)
	if !ok {
		return nil
	}
	if err := s.Flows.ForgetAllBrowsers(r.Context(), who.Account.ID); err != nil {
		return err
	}
	http.Redirect(w, r, "/account/security?notice=browser-forgotten#browsers", http.StatusSeeOther)
	return nil
}

// ---- JSON twins ----

// FactorOptionJSON is one way to pass a second-factor step.
type FactorOptionJSON struct {
	Key    string `json:"key"`
	Method string `json:"method"`
	Label  string `json:"label,omitempty"`
	Level  int    `json:"level"`
}

// FactorJSON describes a second-factor step.
type FactorJSON struct {
	FlowID   string             `json:"flow_id"`
	Purpose  string             `json:"purpose"`
	Options  []FactorOptionJSON `json:"options"`
	Sent     string             `json:"sent,omitempty"`
	Remember int                `json:"remember_days,omitempty"`
}

func (s *Server) apiFactor(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	pf, err := s.Flows.Factor(r.Context(), s.apiClient(r, q.Get("flow_token")), q.Get("flow_id"))
	if err != nil {
		return err
	}
	out := FactorJSON{FlowID: pf.Flow.ID, Purpose: pf.Purpose, Sent: pf.Sent, Options: []FactorOptionJSON{}}
	if pf.Remember {
		out.Remember = pf.RememberDays
	}
	for _, o := range pf.Options {
		out.Options = append(out.Options, FactorOptionJSON{Key: o.Key(), Method: string(o.Method), Label: o.Label, Level: o.Level})
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) apiFactorSend(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		flowRef
		Method string `json:"method"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if err := s.Flows.SendFactorCode(r.Context(), s.apiClient(r, in.FlowToken), in.FlowID, in.Method); err != nil {
		return err
	}
	return writeJSON(w, http.StatusAccepted, FlowJSON{FlowID: in.FlowID, Next: "factor"})
}

func (s *Server) apiFactorVerify(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		flowRef
		Method   string `json:"method"`
		Code     string `json:"code"`
		Remember bool   `json:"remember"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	res, err := s.Flows.VerifyFactor(r.Context(), s.apiClient(r, in.FlowToken), in.FlowID, in.Method, in.Code, in.Remember)
	if err := smsWording(err, in.Method); err != nil {
		return err
	}
	return s.apiSignedIn(w, r, res, in.FlowToken)
}

// StepUpJSON answers whether the session may do an action.
type StepUpJSON struct {
	Action    string `json:"action"`
	Required  int    `json:"required_level"`
	Level     int    `json:"level"`
	Satisfied bool   `json:"satisfied"`
	FlowID    string `json:"flow_id,omitempty"`
	FlowToken string `json:"flow_token,omitempty"`
}

// apiStepUp: POST /api/v1/stepup {"action"}: satisfied, or a
// second-factor flow to pass (GET /api/v1/factor, then verify).
func (s *Server) apiStepUp(w http.ResponseWriter, r *http.Request) error {
	who, err := s.apiWho(r)
	if err != nil {
		return err
	}
	var in struct {
		Action string `json:"action"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	tok := newFlowToken()
	res, err := s.Flows.StepUp(r.Context(), s.apiClient(r, tok), who, in.Action, "")
	if err != nil {
		return err
	}
	lvl, _ := s.Flows.ActionLevel(in.Action)
	out := StepUpJSON{Action: in.Action, Required: lvl, Level: who.Session.Level, Satisfied: res.Pending == ""}
	if res.Pending != "" {
		out.FlowID, out.FlowToken = res.Pending, tok
	}
	return writeJSON(w, http.StatusOK, out)
}

// apiSupportCode lets support send a one-time code to a user who lost
// their factors: POST /api/admin/v1/accounts/{id}/support-code.
func (s *Server) apiSupportCode(w http.ResponseWriter, r *http.Request) error {
	if !s.adminAuthorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="portvakt-admin"`)
		return problem.New(problem.Unauthorized, "", "admin.unauthorized", nil)
	}
	masked, err := s.Flows.IssueSupportCode(r.Context(), r.PathValue("id"), "")
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusAccepted, map[string]any{"sent_to": masked, "expires_in": int((24 * time.Hour).Seconds())})
}
