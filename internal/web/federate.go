package web

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/portvakt/portvakt/internal/flow"
	"github.com/portvakt/portvakt/internal/op"
	"github.com/portvakt/portvakt/internal/problem"
	"github.com/portvakt/portvakt/internal/upstream"
	"github.com/portvakt/portvakt/internal/web/ui"
)

// Sign-in through upstream providers, and "Sign-in methods".
//
//	GET  /login/federated/{id}            → the provider (302)
//	GET  /login/federated/{id}/callback   ← the provider: a session, a choice, or a clear refusal
//	GET  /login/federated/choose?flow=    ask / link / conflict
//	POST /login/federated/{create,link,move,holder,cancel}
//	POST /account/security/identities/link     "Link another" (at full level)
//	GET  /account/security/identities/remove   confirm (trash), after a recent sign-in
//	POST /account/security/identities/remove
//	POST /api/v1/federated/{id}/start  → {"url"}     (native apps; the flow token binds the answer)
//	POST /api/v1/federated/{id}/complete {code, state, iss, flow_token}
//	GET  /service/{name}?return_to=      a service that needs ID-porten at high: back, or the page with its button
//	POST /api/v1/federated/choice {flow_id, flow_token, action: create|link|move|holder|cancel}
//	GET/POST/DELETE /api/v1/account/identities   list, link another ({provider} → {url}), remove
//
// The callback is a top-level GET (response_mode query), so the
// SameSite=Lax browser-binding cookie comes along and CrossOriginProtection
// (which checks unsafe methods only) does not stand in the way. With
// response_mode form_post the provider's page POSTs the answer from its
// site, without Lax cookies: POST /login/federated/{id}/callback (the one
// route CrossOriginProtection lets through from any origin) keeps the
// answer sealed with the sign-in its state names, sets no cookie, and
// sends the browser on with a 303 to the GET callback with the state
// alone, which arrives with the cookies and is checked as in query mode.

// federationRoutes adds the routes above.
func (s *Server) federationRoutes(mux *http.ServeMux) {
	mux.Handle("GET /login/federated/{id}", s.page(s.federatedStart))
	mux.Handle("GET /login/upstream/{id}", s.page(s.federatedStart))
	mux.Handle("GET /login/federated/{id}/callback", s.page(s.federatedCallback))
	mux.Handle(federatedFormPostPattern, s.page(s.federatedFormPost))
	mux.Handle("GET /login/federated/choose", s.page(s.federatedChoose))
	mux.Handle("POST /login/federated/create", s.page(s.federatedCreate))
	mux.Handle("POST /login/federated/link", s.page(s.federatedLink))
	mux.Handle("POST /login/federated/move", s.page(s.federatedMove))
	mux.Handle("POST /login/federated/holder", s.page(s.federatedHolder))
	mux.Handle("POST /login/federated/cancel", s.page(s.federatedCancel))
	mux.Handle("POST /account/security/identities/link", s.page(s.identityLink))
	mux.Handle("GET /account/security/identities/remove", s.page(s.identityRemoveForm))
	mux.Handle("POST /account/security/identities/remove", s.page(s.identityRemove))
	mux.Handle("POST /api/v1/federated/{id}/start", s.api(s.apiFederatedStart))
	mux.Handle("POST /api/v1/federated/{id}/complete", s.api(s.apiFederatedComplete))
	mux.Handle("POST /api/v1/federated/choice", s.api(s.apiFederatedChoice))
	mux.Handle("GET /service/{name}", s.page(s.serviceGate))
	mux.Handle("GET /api/v1/account/identities", s.api(s.apiIdentities))
	mux.Handle("POST /api/v1/account/identities", s.api(s.apiIdentityLink))
	mux.Handle("DELETE /api/v1/account/identities", s.api(s.apiIdentityRemove))
}

// upstreamButtons are the providers in config order.
func (s *Server) upstreamButtons(lang string) []ui.UpstreamButton {
	if s.Flows.Upstreams == nil {
		return nil
	}
	var out []ui.UpstreamButton
	for _, u := range s.Flows.Upstreams.List {
		out = append(out, ui.UpstreamButton{ID: u.Config.ID, Label: u.Config.ButtonLabel(lang)})
	}
	return out
}

func (s *Server) federatedStart(w http.ResponseWriter, r *http.Request) error {
	c := s.client(w, r)
	if rt := r.URL.Query().Get("return_to"); rt != "" && localPath(rt) == rt {
		s.setReturnTo(w, rt)
	}
	// An app's acr_values (ID-porten at high) come along; they can only
	// narrow what the provider's accept_acr lets in (flow.acrAccepted).
	var acr []string
	if v := r.URL.Query().Get("acr_values"); v != "" {
		acr = strings.Fields(v)
	}
	u, err := s.Flows.StartFederated(r.Context(), c, r.PathValue("id"), flow.FederateOptions{Locales: []string{c.Lang}, ACRValues: acr})
	if p := asProblem(err); p != nil {
		return s.flowProblem(w, r, p, "/login")
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, u, http.StatusFound)
	return nil
}

func (s *Server) federatedCallback(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	resp := upstream.Response{Code: q.Get("code"), State: q.Get("state"), Iss: q.Get("iss"), Error: q.Get("error"), ErrorDescription: q.Get("error_description")}
	if q.Has("posted") && resp.Code == "" && resp.Error == "" {
		// Back from federatedFormPost: the answer it kept.
		var err error
		if resp, err = s.Flows.FederatedPosted(r.Context(), r.PathValue("id"), resp.State); err != nil {
			if p := asProblem(err); p != nil {
				return s.federatedProblem(w, r, p)
			}
			return err
		}
	}
	out, err := s.Flows.FederatedCallback(r.Context(), s.client(w, r), r.PathValue("id"), resp)
	if p := asProblem(err); p != nil {
		return s.federatedProblem(w, r, p)
	}
	if err != nil {
		return err
	}
	return s.afterFederated(w, r, out)
}

// federatedFormPostPattern is the form_post callback, the one route
// CrossOriginProtection lets through from the provider's origin.
const federatedFormPostPattern = "POST /login/federated/{id}/callback"

// federatedFormPost takes a form_post answer (see the top of this file).
// It reads no cookie and sets none: the browser's cookies are not sent
// with this cross-site POST, and a new one would replace them.
func (s *Server) federatedFormPost(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return s.federatedProblem(w, r, problem.New(problem.Forbidden, "", "federate.state", nil))
	}
	f := r.PostForm
	resp := upstream.Response{Code: f.Get("code"), State: f.Get("state"), Iss: f.Get("iss"), Error: f.Get("error"), ErrorDescription: f.Get("error_description")}
	id := r.PathValue("id")
	if err := s.Flows.FederatedFormPost(r.Context(), id, resp); err != nil {
		if p := asProblem(err); p != nil {
			return s.federatedProblem(w, r, p)
		}
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, "/login/federated/"+url.PathEscape(id)+"/callback?posted=1&state="+url.QueryEscape(resp.State), http.StatusSeeOther)
	return nil
}

// afterFederated goes where a federated answer leads.
func (s *Server) afterFederated(w http.ResponseWriter, r *http.Request, out flow.Federated) error {
	switch out.Next {
	case flow.NextLinked:
		http.Redirect(w, r, "/account/security?notice=identity-linked#identities", http.StatusSeeOther)
		return nil
	case flow.NextAsk, flow.NextLink, flow.NextConflict:
		http.Redirect(w, r, "/login/federated/choose?flow="+url.QueryEscape(out.Flow), http.StatusSeeOther)
		return nil
	}
	return s.land(w, r, out.Result, "/account")
}

// federatedProblem shows why an upstream sign-in went nowhere, in the
// user's language, with the way on: never "an internal error".
func (s *Server) federatedProblem(w http.ResponseWriter, r *http.Request, p *problem.Problem) error {
	b := s.base(r)
	page := &ui.MessagePage{Base: b, Heading: b.T("federate.problem.title")}
	for _, d := range p.Details {
		if d.Key == "federate.acr_refused" {
			if reason, _ := d.Args["reason"].(string); reason != "" {
				page.Paragraphs = append(page.Paragraphs, reason)
				continue
			}
		}
		page.Paragraphs = append(page.Paragraphs, b.T(d.Key, d.Args))
	}
	page.LinkURL, page.LinkText = "/login", b.T("flow.start_again")
	return s.render(w, r, p.Kind.Status(), "message", page)
}

func (s *Server) federatedPage(w http.ResponseWriter, r *http.Request, flowID string, p *problem.Problem) error {
	out, err := s.Flows.FederatedChoice(r.Context(), s.client(w, r), flowID)
	if pp := asProblem(err); pp != nil {
		return s.flowProblem(w, r, pp, "/login")
	}
	if err != nil {
		return err
	}
	page := &ui.FederatedPage{Base: s.base(r), Flow: out.Flow, Next: out.Next, Label: out.Label, Shown: out.Shown, Holder: out.Holder, NationalID: out.MaskedID != ""}
	if st := stateOf(r); st.Session != nil && st.Account != nil {
		page.SignedInAs = st.Account.Name
	}
	page.Problem = p
	status := http.StatusOK
	if p != nil {
		status = p.Kind.Status()
	}
	return s.render(w, r, status, "federated", page)
}

func (s *Server) federatedChoose(w http.ResponseWriter, r *http.Request) error {
	return s.federatedPage(w, r, r.URL.Query().Get("flow"), nil)
}

func (s *Server) federatedCreate(w http.ResponseWriter, r *http.Request) error {
	id := r.PostFormValue("flow")
	res, err := s.Flows.FederatedCreate(r.Context(), s.client(w, r), id)
	if p := asProblem(err); p != nil {
		return s.flowProblem(w, r, p, "/login")
	}
	if err != nil {
		return err
	}
	return s.land(w, r, res, "/account")
}

// chooseAgain is the choice page of a flow, to come back to after a
// sign-in or re-authentication.
func chooseAgain(flowID string) string {
	return "/login/federated/choose?flow=" + url.QueryEscape(flowID)
}

func (s *Server) federatedLink(w http.ResponseWriter, r *http.Request) error {
	id := r.PostFormValue("flow")
	st := stateOf(r)
	if st.Session == nil {
		// Sign in to the account first (its password and second factor),
		// then come back here.
		s.setReturnTo(w, chooseAgain(id))
		http.Redirect(w, r, "/login?notice=sign-in-to-link", http.StatusSeeOther)
		return nil
	}
	who := flow.Who{Account: *st.Account, Session: *st.Session}
	err := s.Flows.CompleteLink(r.Context(), s.client(w, r), who, id)
	if hasKey(asProblem(err), "reauth.required") {
		http.Redirect(w, r, "/account/reauth?return_to="+url.QueryEscape(chooseAgain(id)), http.StatusSeeOther)
		return nil
	}
	if p := asProblem(err); p != nil {
		return s.flowProblem(w, r, p, "/account/security")
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/account/security?notice=identity-linked#identities", http.StatusSeeOther)
	return nil
}

func (s *Server) federatedMove(w http.ResponseWriter, r *http.Request) error {
	id := r.PostFormValue("flow")
	st := stateOf(r)
	var err error
	if st.Session != nil {
		err = s.Flows.MoveHere(r.Context(), s.client(w, r), flow.Who{Account: *st.Account, Session: *st.Session}, id)
	}
	if st.Session == nil || hasKey(asProblem(err), "federate.move_sign_in_holder") {
		// Prove the account that holds the identity: sign out of this
		// one, sign in to that one in this browser, and come back.
		if st.Session != nil {
			if err := s.Sessions.Revoke(r.Context(), st.Session.ID); err != nil {
				return err
			}
			s.clearSessionCookie(w)
		}
		s.setReturnTo(w, chooseAgain(id))
		http.Redirect(w, r, "/login?notice=sign-in-holder", http.StatusSeeOther)
		return nil
	}
	if hasKey(asProblem(err), "reauth.required") {
		http.Redirect(w, r, "/account/reauth?return_to="+url.QueryEscape(chooseAgain(id)), http.StatusSeeOther)
		return nil
	}
	if p := asProblem(err); p != nil {
		return s.flowProblem(w, r, p, "/login")
	}
	if err != nil {
		return err
	}
	b := s.base(r)
	return s.render(w, r, http.StatusOK, "message", &ui.MessagePage{Base: b, Heading: b.T("federate.moved.title"),
		Paragraphs: []string{b.T("federate.moved.body")}, LinkURL: "/account/security#identities", LinkText: b.T("federate.moved.link")})
}

func (s *Server) federatedHolder(w http.ResponseWriter, r *http.Request) error {
	res, err := s.Flows.SignInHolder(r.Context(), s.client(w, r), r.PostFormValue("flow"))
	if p := asProblem(err); p != nil {
		return s.flowProblem(w, r, p, "/login")
	}
	if err != nil {
		return err
	}
	return s.land(w, r, res, "/account")
}

func (s *Server) federatedCancel(w http.ResponseWriter, r *http.Request) error {
	err := s.Flows.CancelFederated(r.Context(), s.client(w, r), r.PostFormValue("flow"))
	if err != nil && asProblem(err) == nil {
		return err
	}
	dest := "/login"
	if stateOf(r).Session != nil {
		dest = "/account/security#identities"
	}
	http.Redirect(w, r, dest, http.StatusSeeOther)
	return nil
}

// identityItems fills "Sign-in methods" on the security page.
func (s *Server) identityItems(r *http.Request, p *ui.SecurityPage, accountID string) error {
	if s.Flows.Upstreams == nil {
		return nil
	}
	b := p.Base
	list, err := s.Flows.LinkedIdentities(r.Context(), accountID, b.Lang.Tag())
	if err != nil {
		return err
	}
	for _, id := range list {
		used := id.LastUsedAt.UTC().Format("2006-01-02 15:04")
		p.Identities = append(p.Identities, ui.IdentityItem{Provider: id.Provider, Subject: id.Subject, Label: id.Label, Shown: id.Shown,
			Linked: id.LinkedAt.UTC().Format("2006-01-02"), Used: used})
	}
	p.LinkWith = s.upstreamButtons(b.Lang.Tag())
	return nil
}

func (s *Server) identityLink(w http.ResponseWriter, r *http.Request) error {
	who, ok := s.who(w, r)
	if !ok {
		return nil
	}
	c := s.client(w, r)
	u, err := s.Flows.StartFederated(r.Context(), c, r.PostFormValue("provider"),
		flow.FederateOptions{Purpose: flow.PurposeLink, Who: &who, ReturnTo: "/account/security#identities", Locales: []string{c.Lang}})
	if hasKey(asProblem(err), "reauth.required") {
		http.Redirect(w, r, "/account/reauth?return_to="+url.QueryEscape("/account/security#identities"), http.StatusSeeOther)
		return nil
	}
	if p := asProblem(err); p != nil {
		return s.flowProblem(w, r, p, "/account/security")
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, u, http.StatusSeeOther)
	return nil
}

func (s *Server) identityRemoveForm(w http.ResponseWriter, r *http.Request) error {
	who, ok := s.who(w, r)
	if !ok {
		return nil
	}
	// Removing needs a recent sign-in at the account's full level: ask
	// for it before the confirmation, not after.
	if !s.fresh(w, r, who, r.URL.RequestURI()) {
		return nil
	}
	q := r.URL.Query()
	b := s.base(r)
	list, err := s.Flows.LinkedIdentities(r.Context(), who.Account.ID, b.Lang.Tag())
	if err != nil {
		return err
	}
	for _, id := range list {
		if id.Provider == q.Get("provider") && id.Subject == q.Get("subject") {
			return s.render(w, r, http.StatusOK, "unlink", &ui.ConfirmUnlinkPage{Base: b, Provider: id.Provider, Subject: id.Subject, Label: id.Label, Shown: id.Shown})
		}
	}
	return s.flowProblem(w, r, problem.New(problem.NotFound, "", "federate.identity_gone", nil), "/account/security")
}

func (s *Server) identityRemove(w http.ResponseWriter, r *http.Request) error {
	who, ok := s.who(w, r)
	if !ok {
		return nil
	}
	provider, subject := r.PostFormValue("provider"), r.PostFormValue("subject")
	err := s.Flows.Unlink(r.Context(), s.client(w, r), who, provider, subject)
	if hasKey(asProblem(err), "reauth.required") {
		back := "/account/security/identities/remove?" + url.Values{"provider": {provider}, "subject": {subject}}.Encode()
		http.Redirect(w, r, "/account/reauth?return_to="+url.QueryEscape(back), http.StatusSeeOther)
		return nil
	}
	if p := asProblem(err); p != nil {
		return s.flowProblem(w, r, p, "/account/security#identities")
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/account/security?notice=identity-removed#identities", http.StatusSeeOther)
	return nil
}

// ---- JSON twins for native apps ----

// apiFederatedStart returns the provider URL and a flow token: the app
// opens the URL in a browser tab and hands the answer (code, state, iss)
// to complete with the same token.
func (s *Server) apiFederatedStart(w http.ResponseWriter, r *http.Request) error {
	token := newFlowToken()
	c := s.apiClient(r, token)
	u, err := s.Flows.StartFederated(r.Context(), c, r.PathValue("id"), flow.FederateOptions{Locales: []string{c.Lang}})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"url": u, "flow_token": token})
}

func (s *Server) apiFederatedComplete(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Code      string `json:"code"`
		State     string `json:"state"`
		Iss       string `json:"iss"`
		Error     string `json:"error"`
		FlowToken string `json:"flow_token"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	out, err := s.Flows.FederatedCallback(r.Context(), s.apiClient(r, in.FlowToken), r.PathValue("id"),
		upstream.Response{Code: in.Code, State: in.State, Iss: in.Iss, Error: in.Error})
	if err != nil {
		return err
	}
	if out.Next != flow.NextNone {
		return writeJSON(w, http.StatusOK, map[string]any{"next": out.Next, "flow_id": out.Flow, "provider": out.Provider, "identity": out.Shown, "holder": out.Holder})
	}
	return s.apiSignedIn(w, r, out.Result, in.FlowToken)
}

// needUpstream is the page an app's request gets when it asks for an
// upstream's level (ID-porten at high) and the session came another way:
// it says so plainly and offers the button, which comes back here.
func (s *Server) needUpstream(w http.ResponseWriter, r *http.Request, info op.AuthRequestInfo, need *op.NeedError, back string) error {
	b := s.base(r)
	up, ok := s.Flows.Upstreams.Find(need.Upstream)
	if !ok {
		return errNotFound
	}
	label := up.Config.ButtonLabel(b.Lang.Tag())
	start := "/login/federated/" + url.PathEscape(need.Upstream) + "?" + url.Values{"return_to": {back}, "acr_values": {strings.Join(need.ACRValues, " ")}}.Encode()
	page := &ui.MessagePage{Base: b, Heading: b.T("federate.needed.title", "provider", label),
		Paragraphs: []string{b.T("federate.needed.body", "client", info.ClientName, "provider", label)},
		LinkURL:    start, LinkText: b.T("federate.button", "provider", label)}
	return s.render(w, r, http.StatusForbidden, "message", page)
}

// apiFederatedChoice is the choice page's twin: create, link (to the
// signed-in account), move (signed in to the holder), holder (sign in to
// it instead) or cancel.
func (s *Server) apiFederatedChoice(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		FlowID    string `json:"flow_id"`
		FlowToken string `json:"flow_token"`
		Action    string `json:"action"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	c := s.apiClient(r, in.FlowToken)
	switch in.Action {
	case "create", "holder":
		do := s.Flows.FederatedCreate
		if in.Action == "holder" {
			do = s.Flows.SignInHolder
		}
		res, err := do(r.Context(), c, in.FlowID)
		if err != nil {
			return err
		}
		return s.apiSignedIn(w, r, res, in.FlowToken)
	case "link", "move":
		who, err := s.apiWho(r)
		if err != nil {
			return err
		}
		if in.Action == "link" {
			err = s.Flows.CompleteLink(r.Context(), c, who, in.FlowID)
		} else {
			err = s.Flows.MoveHere(r.Context(), c, who, in.FlowID)
		}
		if err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	case "cancel":
		if err := s.Flows.CancelFederated(r.Context(), c, in.FlowID); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	return problem.New(problem.Invalid, "action", "federate.unknown_action", nil)
}

// IdentityJSON is a linked identity in the JSON API.
type IdentityJSON struct {
	Provider   string    `json:"provider"`
	Subject    string    `json:"subject"`
	Label      string    `json:"label"`
	Shown      string    `json:"shown,omitempty"`
	LinkedAt   time.Time `json:"linked_at"`
	LastUsedAt time.Time `json:"last_used_at"`
}

func (s *Server) apiIdentities(w http.ResponseWriter, r *http.Request) error {
	who, err := s.apiWho(r)
	if err != nil {
		return err
	}
	list, err := s.Flows.LinkedIdentities(r.Context(), who.Account.ID, stateOf(r).Lang.Tag())
	if err != nil {
		return err
	}
	out := []IdentityJSON{}
	for _, id := range list {
		out = append(out, IdentityJSON{Provider: id.Provider, Subject: id.Subject, Label: id.Label, Shown: id.Shown, LinkedAt: id.LinkedAt.UTC(), LastUsedAt: id.LastUsedAt.UTC()})
	}
	return writeJSON(w, http.StatusOK, out)
}

// apiIdentityLink starts "link another" for a native app: the URL to open
// and the flow token to complete with.
func (s *Server) apiIdentityLink(w http.ResponseWriter, r *http.Request) error {
	who, err := s.apiWho(r)
	if err != nil {
		return err
	}
	var in struct {
		Provider string `json:"provider"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	token := newFlowToken()
	c := s.apiClient(r, token)
	u, err := s.Flows.StartFederated(r.Context(), c, in.Provider, flow.FederateOptions{Purpose: flow.PurposeLink, Who: &who, Locales: []string{c.Lang}})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"url": u, "flow_token": token})
}

func (s *Server) apiIdentityRemove(w http.ResponseWriter, r *http.Request) error {
	who, err := s.apiWho(r)
	if err != nil {
		return err
	}
	var in struct {
		Provider string `json:"provider"`
		Subject  string `json:"subject"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if err := s.Flows.Unlink(r.Context(), s.apiClient(r, ""), who, in.Provider, in.Subject); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// serviceGate is where a page or app sends the browser before a service
// that needs a sign-in through an upstream at a level (services: in the
// configuration): /service/residence-status?return_to=/residence. A
// session that came that way goes straight back; any other gets a plain
// page, "this service needs ID-porten (BankID, Buypass or Commfides)",
// with the button, which comes back here.
func (s *Server) serviceGate(w http.ResponseWriter, r *http.Request) error {
	returnTo := localPath(r.URL.Query().Get("return_to"))
	up, acr, err := s.Flows.ServiceNeeds(r.PathValue("name"), stateOf(r).Session)
	if p := asProblem(err); p != nil {
		return s.flowProblem(w, r, p, "/")
	}
	if err != nil {
		return err
	}
	if up == nil {
		http.Redirect(w, r, returnTo, http.StatusSeeOther)
		return nil
	}
	b := s.base(r)
	label := up.Config.ButtonLabel(b.Lang.Tag())
	start := "/login/federated/" + url.PathEscape(up.Config.ID) + "?" + url.Values{"return_to": {r.URL.RequestURI()}, "acr_values": {strings.Join(acr, " ")}}.Encode()
	page := &ui.MessagePage{Base: b, Heading: b.T("federate.needed.title", "provider", label),
		Paragraphs: []string{b.T("federate.service_needed.body", "provider", label)},
		LinkURL:    start, LinkText: b.T("federate.button", "provider", label)}
	return s.render(w, r, http.StatusForbidden, "message", page)
}
