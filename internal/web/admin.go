package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/portvakt/portvakt/internal/account"
	"github.com/portvakt/portvakt/internal/audit"
	"github.com/portvakt/portvakt/internal/flow"
	"github.com/portvakt/portvakt/internal/op"
	"github.com/portvakt/portvakt/internal/problem"
	"github.com/portvakt/portvakt/internal/store"
	"github.com/portvakt/portvakt/internal/useragent"
	"github.com/portvakt/portvakt/internal/web/ui"
)

// The support console at /admin (issue 15): open to accounts with the
// support or admin role (account.Support, store.Roles) whose session is
// at ConsoleLevel or above; a lower session is sent through step-up
// first. Every action takes a typed reason and is audited with the
// support user as the actor (account.Support does both). Search results
// are masked; an account is shown only after a reason to open it.

// ConsoleLevel is the assurance level the console needs.
const ConsoleLevel = 3

// adminRoutes adds the console's pages and the admin API's audit and
// account actions.
func (s *Server) adminRoutes(mux *http.ServeMux) {
	mux.Handle("GET /admin", s.page(s.adminHome))
	mux.Handle("GET /admin/accounts/{id}", s.page(s.adminAccount))
	mux.Handle("POST /admin/accounts/{id}/{action}", s.page(s.adminAction))
	mux.Handle("GET /admin/audit", s.page(s.adminAudit))
	mux.Handle("GET /admin/clients", s.page(s.adminClients))
	mux.Handle("POST /admin/clients", s.page(s.adminCreateClient))
	mux.Handle("POST /admin/clients/{id}/delete", s.page(s.adminDeleteClient))
	mux.Handle("GET /api/admin/v1/audit", s.api(s.apiAdminAudit))
	mux.Handle("GET /api/admin/v1/accounts/{id}", s.api(s.apiAdminAccount))
	mux.Handle("POST /api/admin/v1/accounts/{id}/{action}", s.api(s.apiAdminAction))
}

// adminGate lets a support user or admin with a strong enough session
// through: it answers everyone else (sign in, step up, or a 403 page)
// and reports false.
func (s *Server) adminGate(w http.ResponseWriter, r *http.Request) (flow.Who, audit.Actor, ui.AdminNav, bool) {
	who, ok := s.who(w, r)
	if !ok || s.Support == nil {
		if ok {
			s.fail(w, r, errors.New("web: no support service"))
		}
		return who, audit.Actor{}, ui.AdminNav{}, false
	}
	ctx := r.Context()
	actor := audit.Support(who.Account.ID)
	roles, err := s.Support.ActorRoles(ctx, actor)
	if err != nil {
		s.fail(w, r, err)
		return who, actor, ui.AdminNav{}, false
	}
	nav := ui.AdminNav{IsAdmin: contains(roles, account.RoleAdmin)}
	if !nav.IsAdmin && !contains(roles, account.RoleSupport) {
		s.Audit.Record(ctx, audit.Event{Kind: audit.ConsoleDenied, Actor: audit.Account(who.Account.ID), Subject: who.Account.ID,
			Outcome: audit.Denied, Data: map[string]string{"path": r.URL.Path}})
		l := stateOf(r).Lang
		s.renderError(w, r, http.StatusForbidden, l.T("console.forbidden.title"), l.T("console.forbidden.body"), nil)
		return who, actor, nav, false
	}
	if who.Session.Level >= ConsoleLevel {
		return who, actor, nav, true
	}
	returnTo := "/admin"
	if r.Method == http.MethodGet {
		returnTo = r.URL.RequestURI()
	}
	res, err := s.Flows.StepUpTo(ctx, s.client(w, r), who, ConsoleLevel, returnTo)
	switch p := asProblem(err); {
	case hasKey(p, "reauth.required"):
		http.Redirect(w, r, "/account/reauth?return_to="+url.QueryEscape("/stepup?return_to="+url.QueryEscape(returnTo)), http.StatusSeeOther)
	case p != nil:
		l := stateOf(r).Lang
		s.renderError(w, r, http.StatusForbidden, l.T("console.level.title"), l.T("console.level.body", "level", ConsoleLevel), nil)
	case err != nil:
		s.fail(w, r, err)
	case res.Pending != "":
		http.Redirect(w, r, "/login/factor?flow="+res.Pending, http.StatusSeeOther)
	default:
		return who, actor, nav, true
	}
	return who, actor, nav, false
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func (s *Server) adminHome(w http.ResponseWriter, r *http.Request) error {
	_, actor, nav, ok := s.adminGate(w, r)
	if !ok {
		return nil
	}
	nav.Current = "search"
	page := &ui.AdminPage{Base: s.base(r), Nav: nav, Query: r.URL.Query().Get("q")}
	if !r.URL.Query().Has("q") {
		return s.render(w, r, http.StatusOK, "admin", page)
	}
	page.Searched = true
	matches, err := s.Support.Search(r.Context(), actor, page.Query)
	if p := asProblem(err); p != nil {
		page.Problem, page.Searched = p, false
		return s.render(w, r, p.Kind.Status(), "admin", page)
	}
	if err != nil {
		return err
	}
	for _, m := range matches {
		page.Matches = append(page.Matches, ui.AdminMatch{ID: m.AccountID, Name: m.Name, Username: m.Username, Email: m.Email, Matched: m.Matched})
	}
	return s.render(w, r, http.StatusOK, "admin", page)
}

// adminAccount asks for a reason, then shows the account.
func (s *Server) adminAccount(w http.ResponseWriter, r *http.Request) error {
	_, actor, nav, ok := s.adminGate(w, r)
	if !ok {
		return nil
	}
	nav.Current = "search"
	id := r.PathValue("id")
	page := &ui.AdminAccountPage{Base: s.base(r), Nav: nav, ID: id}
	if !r.URL.Query().Has("reason") {
		return s.render(w, r, http.StatusOK, "admin_account", page)
	}
	view, err := s.Support.Open(r.Context(), actor, r.URL.Query().Get("reason"), id)
	if p := asProblem(err); p != nil {
		if p.Kind == problem.NotFound {
			return errNotFound
		}
		page.Problem = p
		return s.render(w, r, p.Kind.Status(), "admin_account", page)
	}
	if err != nil {
		return err
	}
	s.fillAdminAccount(r, page, view, "", nil)
	return s.render(w, r, http.StatusOK, "admin_account", page)
}

// adminActions are the console's actions on an account, in the order
// shown. Admin-only ones are marked.
var adminActions = []struct {
	name      string
	adminOnly bool
	danger    bool
}{
	{"support-code", false, false},
	{"end-sessions", false, false},
	{"reset-totp", false, true},
	{"lock", false, true},
	{"unlock", false, false},
	{"resend-invitation", false, false},
	{"grant-support", true, false},
	{"grant-admin", true, false},
	{"revoke-support", true, true},
	{"revoke-admin", true, true},
}

// fillAdminAccount puts view on the page; failed names the action whose
// submission failed with p.
func (s *Server) fillAdminAccount(r *http.Request, page *ui.AdminAccountPage, v account.SupportView, failed string, p *problem.Problem) {
	b := &page.Base
	when := func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	}
	page.Opened = true
	page.Name, page.Username, page.Created = v.Account.Name, s.displayUsername(v.Account.Username), when(v.Account.CreatedAt)
	page.Locked, page.ThrottleLocked, page.HasPassword, page.Roles = v.Account.Disabled, v.ThrottleLocked, v.HasPassword, v.Roles
	page.Emails, page.Factors, page.Identities, page.Sessions = nil, nil, nil, nil
	for _, e := range v.Emails {
		row := [3]string{e.Address, "", ""}
		if e.Primary {
			row[1] = "primary"
		}
		if !e.VerifiedAt.IsZero() {
			row[2] = "verified"
		}
		page.Emails = append(page.Emails, row)
	}
	for _, f := range v.Factors {
		kind := b.T("console.factor." + f.Kind)
		name := f.Name
		if f.Phone != "" {
			name = f.Phone
		}
		page.Factors = append(page.Factors, [4]string{kind, name, when(f.CreatedAt), when(f.LastUsedAt)})
	}
	action := func(name, path string, hidden [][2]string, danger bool) ui.AdminAction {
		a := ui.AdminAction{Action: path, Title: b.T("console.action." + name + ".title"), Hint: b.T("console.action." + name + ".hint"),
			Button: b.T("console.action." + name + ".button"), Hidden: hidden, Danger: danger,
			ReasonID: "reason-" + name, ReasonLabel: b.T("console.reason.label")}
		if name == failed && p != nil {
			a.Failed, a.ReasonID = true, "reason"
			a.Errors = b.Errors("reason")
		}
		return a
	}
	for _, fi := range v.Identities {
		shown := fi.NationalIDMasked
		if shown == "" {
			shown = fi.Email
		}
		page.Identities = append(page.Identities, ui.AdminIdentity{Provider: fi.Provider, Shown: shown, Linked: when(fi.LinkedAt),
			Remove: action("remove-identity", "/admin/accounts/"+v.Account.ID+"/remove-identity",
				[][2]string{{"provider", fi.Provider}, {"subject", fi.Subject}}, true)})
	}
	for _, se := range v.Sessions {
		page.Sessions = append(page.Sessions, [4]string{useragent.Parse(se.UserAgent).String(), se.IP, when(se.CreatedAt), strconv.Itoa(se.Level)})
	}
	page.Actions = nil
	for _, a := range adminActions {
		if a.adminOnly && !page.Nav.IsAdmin {
			continue
		}
		switch {
		case a.name == "lock" && v.Account.Disabled,
			a.name == "unlock" && !v.Account.Disabled && !v.ThrottleLocked,
			a.name == "resend-invitation" && v.HasPassword,
			a.name == "grant-support" && contains(v.Roles, account.RoleSupport),
			a.name == "grant-admin" && contains(v.Roles, account.RoleAdmin),
			a.name == "revoke-support" && !contains(v.Roles, account.RoleSupport),
			a.name == "revoke-admin" && !contains(v.Roles, account.RoleAdmin):
			continue
		}
		page.Actions = append(page.Actions, action(a.name, "/admin/accounts/"+v.Account.ID+"/"+a.name, nil, a.danger))
	}
	page.Events = s.auditRows(b, v.Events, false)
}

// auditRows turns events into table rows; links adds a link to each
// event's account.
func (s *Server) auditRows(b *ui.Base, events []store.AuditEvent, links bool) []ui.AdminAuditRow {
	var out []ui.AdminAuditRow
	for _, e := range events {
		row := ui.AdminAuditRow{When: e.At.UTC().Format("2006-01-02 15:04:05 UTC"), Kind: e.Kind, Outcome: e.Outcome,
			Target: e.Target, Reason: e.Reason, Where: e.IP}
		row.Actor = e.ActorKind
		if e.ActorID != "" {
			row.Actor += " " + e.ActorID
		}
		if links && e.Subject != "" {
			row.Subject, row.SubjectLink = e.Subject, "/admin/accounts/"+url.PathEscape(e.Subject)
		}
		out = append(out, row)
	}
	return out
}

// adminAction runs one action on an account and shows the account again,
// with a notice or with the problem in the action's form.
func (s *Server) adminAction(w http.ResponseWriter, r *http.Request) error {
	_, actor, nav, ok := s.adminGate(w, r)
	if !ok {
		return nil
	}
	nav.Current = "search"
	ctx := r.Context()
	id, name := r.PathValue("id"), r.PathValue("action")
	reason := r.PostFormValue("reason")
	lang := ""
	var err error
	done := "console.done." + name
	var args []any
	switch name {
	case "support-code":
		var sent []string
		sent, err = s.Support.IssueSupportCode(ctx, actor, reason, id, lang)
		args = []any{"to", strings.Join(sent, ", ")}
	case "reset-totp":
		var n int
		n, err = s.Support.ResetTOTP(ctx, actor, reason, id)
		args = []any{"count", n}
	case "end-sessions":
		var n int
		n, err = s.Support.EndSessions(ctx, actor, reason, id)
		args = []any{"count", n}
	case "lock":
		err = s.Support.Lock(ctx, actor, reason, id)
	case "unlock":
		err = s.Support.Unlock(ctx, actor, reason, id)
	case "remove-identity":
		err = s.Support.RemoveIdentity(ctx, actor, reason, id, r.PostFormValue("provider"), r.PostFormValue("subject"))
	case "resend-invitation":
		var to string
		to, err = s.Support.ResendInvitation(ctx, actor, reason, id, lang)
		args = []any{"to", to}
	case "grant-support", "grant-admin":
		err = s.Support.GrantRole(ctx, actor, reason, id, strings.TrimPrefix(name, "grant-"))
	case "revoke-support", "revoke-admin":
		err = s.Support.RevokeRole(ctx, actor, reason, id, strings.TrimPrefix(name, "revoke-"))
	default:
		return errNotFound
	}
	p := asProblem(err)
	if err != nil && p == nil {
		return err
	}
	if p != nil && p.Kind == problem.NotFound && hasKey(p, "account.not_found") {
		return errNotFound
	}
	if p != nil && p.Kind == problem.Forbidden {
		l := stateOf(r).Lang
		s.renderError(w, r, http.StatusForbidden, l.T("console.forbidden.title"), l.T(p.Details[0].Key), nil)
		return nil
	}
	page := &ui.AdminAccountPage{Base: s.base(r), Nav: nav, ID: id}
	status := http.StatusOK
	if p != nil {
		page.Problem, status = p, p.Kind.Status()
	} else {
		page.Done = page.T(done, args...)
	}
	view, verr := s.Support.View(ctx, id)
	if verr != nil {
		return verr
	}
	s.fillAdminAccount(r, page, view, name, p)
	return s.render(w, r, status, "admin_account", page)
}

// auditFilter reads the audit query's filter: account and actor may be
// an account ID, an email address, a username or a national identity
// number; since and until are dates (YYYY-MM-DD, until inclusive) or RFC
// 3339 times.
func (s *Server) auditFilter(r *http.Request, q url.Values) (store.AuditFilter, error) {
	f := store.AuditFilter{Cursor: q.Get("cursor")}
	p := &problem.Problem{Kind: problem.Invalid}
	ctx := r.Context()
	if ref := strings.TrimSpace(q.Get("account")); ref != "" {
		id, err := s.Support.Resolve(ctx, ref)
		if pp := asProblem(err); pp != nil {
			p.Add("account", "console.audit.no_account", nil)
		} else if err != nil {
			return f, err
		}
		f.Subject = id
	}
	if ref := strings.TrimSpace(q.Get("actor")); ref != "" {
		switch ref {
		case "system", "operator", "anonymous", "support", "account":
			f.ActorKind = ref
		default:
			id, err := s.Support.Resolve(ctx, ref)
			if pp := asProblem(err); pp != nil {
				p.Add("actor", "console.audit.no_account", nil)
			} else if err != nil {
				return f, err
			}
			f.ActorID = id
		}
	}
	if k := q.Get("kind"); k != "" {
		if !audit.Kind(k).Valid() {
			p.Add("kind", "console.audit.bad_kind", nil)
		}
		f.Kinds = []string{k}
	}
	parse := func(field, v string, end bool) time.Time {
		if v == "" {
			return time.Time{}
		}
		if t, err := time.Parse(time.RFC3339, v); err == nil {
			return t
		}
		t, err := time.Parse("2006-01-02", v)
		if err != nil {
			p.Add(field, "console.audit.bad_date", nil)
			return time.Time{}
		}
		if end {
			t = t.AddDate(0, 0, 1)
		}
		return t
	}
	f.Since, f.Until = parse("since", q.Get("since"), false), parse("until", q.Get("until"), true)
	if n, err := strconv.Atoi(q.Get("limit")); err == nil && n > 0 {
		f.Limit = min(n, store.AuditEventLimit)
	}
	return f, p.OrNil()
}

func (s *Server) adminAudit(w http.ResponseWriter, r *http.Request) error {
	_, actor, nav, ok := s.adminGate(w, r)
	if !ok {
		return nil
	}
	nav.Current = "audit"
	q := r.URL.Query()
	page := &ui.AdminAuditPage{Base: s.base(r), Nav: nav, Account: q.Get("account"), Actor: q.Get("actor"), Kind: q.Get("kind"),
		Since: q.Get("since"), Until: q.Get("until")}
	for _, k := range audit.Kinds() {
		page.Kinds = append(page.Kinds, string(k))
	}
	f, err := s.auditFilter(r, q)
	if p := asProblem(err); p != nil {
		page.Problem = p
		return s.render(w, r, p.Kind.Status(), "admin_audit", page)
	}
	if err != nil {
		return err
	}
	list, next, err := s.Support.Events(r.Context(), actor, f)
	if p := asProblem(err); p != nil {
		page.Problem = p
		return s.render(w, r, p.Kind.Status(), "admin_audit", page)
	}
	if err != nil {
		return err
	}
	page.Events = s.auditRows(&page.Base, list, true)
	if next != "" {
		q.Set("cursor", next)
		page.Next = "/admin/audit?" + q.Encode()
	}
	return s.render(w, r, http.StatusOK, "admin_audit", page)
}

// adminClientsGate is the console's gate plus the admin role and an
// OpenID Provider.
func (s *Server) adminClientsGate(w http.ResponseWriter, r *http.Request) (audit.Actor, ui.AdminNav, bool) {
	_, actor, nav, ok := s.adminGate(w, r)
	if !ok {
		return actor, nav, false
	}
	if !nav.IsAdmin {
		l := stateOf(r).Lang
		s.renderError(w, r, http.StatusForbidden, l.T("console.forbidden.title"), l.T("admin.forbidden"), nil)
		return actor, nav, false
	}
	if s.OP == nil {
		s.fail(w, r, errNotFound)
		return actor, nav, false
	}
	nav.Current = "clients"
	return actor, nav, true
}

func (s *Server) adminClientsPage(r *http.Request, nav ui.AdminNav) (*ui.AdminClientsPage, error) {
	page := &ui.AdminClientsPage{Base: s.base(r), Nav: nav}
	list, err := s.OP.ListClients(r.Context())
	if err != nil {
		return nil, err
	}
	for _, c := range list {
		kind := page.T("console.clients.confidential")
		if c.Public {
			kind = page.T("console.clients.public_kind")
		}
		page.Clients = append(page.Clients, ui.AdminClient{ID: c.ID, Name: c.Name, Kind: kind, Configured: c.Configured})
	}
	return page, nil
}

func (s *Server) adminClients(w http.ResponseWriter, r *http.Request) error {
	_, nav, ok := s.adminClientsGate(w, r)
	if !ok {
		return nil
	}
	page, err := s.adminClientsPage(r, nav)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "admin_clients", page)
}

func (s *Server) adminCreateClient(w http.ResponseWriter, r *http.Request) error {
	actor, nav, ok := s.adminClientsGate(w, r)
	if !ok {
		return nil
	}
	ctx := r.Context()
	id, name := strings.TrimSpace(r.PostFormValue("client_id")), strings.TrimSpace(r.PostFormValue("name"))
	public := r.PostFormValue("public") != ""
	uris := strings.Fields(r.PostFormValue("redirect_uris"))
	if len(uris) > 20 {
		uris = uris[:20]
	}
	reason, err := account.CheckReason(r.PostFormValue("reason"))
	var c store.Client
	var sec string
	if err == nil {
		c, sec, err = s.OP.CreateClient(ctx, op.ClientConfig{ID: id, Name: name, Public: public, RedirectURIs: uris})
		switch {
		case errors.Is(err, store.ErrConflict):
			err = problem.New(problem.Conflict, "client_id", "admin.client_taken", problem.Args{"id": id})
		case err != nil && asProblem(err) == nil:
			err = problem.New(problem.Invalid, "client_id", "admin.client_invalid", problem.Args{"error": err.Error()})
		}
		e := audit.Event{Kind: audit.ClientCreated, Actor: actor, Target: id, Reason: reason}
		if err != nil {
			e.Outcome = audit.Denied
		} else {
			e.Target = c.ID
		}
		s.Audit.Record(ctx, e)
	}
	page, lerr := s.adminClientsPage(r, nav)
	if lerr != nil {
		return lerr
	}
	if p := asProblem(err); p != nil {
		page.Problem, page.ID, page.Name, page.RedirectURIs, page.Public = p, id, name, strings.Join(uris, "\n"), public
		return s.render(w, r, p.Kind.Status(), "admin_clients", page)
	}
	if err != nil {
		return err
	}
	page.NewID, page.NewSecret = c.ID, sec
	return s.render(w, r, http.StatusCreated, "admin_clients", page)
}

func (s *Server) adminDeleteClient(w http.ResponseWriter, r *http.Request) error {
	actor, nav, ok := s.adminClientsGate(w, r)
	if !ok {
		return nil
	}
	ctx := r.Context()
	id := r.PathValue("id")
	reason, err := account.CheckReason(r.PostFormValue("reason"))
	if err == nil {
		err = s.OP.DeleteClient(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return errNotFound
		}
		if err != nil {
			err = problem.New(problem.Conflict, "", "admin.client_invalid", problem.Args{"error": err.Error()})
		}
		e := audit.Event{Kind: audit.ClientDeleted, Actor: actor, Target: id, Reason: reason}
		if err != nil {
			e.Outcome = audit.Denied
		}
		s.Audit.Record(ctx, e)
	}
	page, lerr := s.adminClientsPage(r, nav)
	if lerr != nil {
		return lerr
	}
	if p := asProblem(err); p != nil {
		page.Problem = p
		return s.render(w, r, p.Kind.Status(), "admin_clients", page)
	}
	page.Done = page.T("console.clients.deleted", "id", id)
	return s.render(w, r, http.StatusOK, "admin_clients", page)
}

// auditSignOut records a session its user ended (sign-out here, or
// through an app's RP-initiated logout).
func (s *Server) auditSignOut(r *http.Request, sess *store.Session, how string) {
	if sess == nil {
		return
	}
	s.Audit.Record(r.Context(), audit.Event{Kind: audit.SessionEnded, Actor: audit.Account(sess.AccountID), Subject: sess.AccountID,
		Data: map[string]string{"how": how, "session": sess.ID}})
}
