package web

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/portvakt/portvakt/internal/flow"
	"github.com/portvakt/portvakt/internal/problem"
	"github.com/portvakt/portvakt/internal/store"
	"github.com/portvakt/portvakt/internal/web/ui"
)

// End-user systems (issue 14, docs/systems.md): the advanced "Systems"
// section of the account page with its JSON twin, the sign-in of a
// person through a system (POST /api/v1/systems/login, …/code), and the
// admin API for organisations and rights.

// systemRoutes registers the routes of this file when systems are on.
func (s *Server) systemRoutes(mux *http.ServeMux) {
	if s.Systems == nil {
		return
	}
	mux.Handle("GET /account/systems", s.page(s.systemsPage))
	mux.Handle("POST /account/systems", s.page(s.systemsCreate))
	mux.Handle("POST /account/systems/rotate", s.page(s.systemsRotate))
	mux.Handle("POST /account/systems/revoke", s.page(s.systemsRevoke))
	mux.Handle("POST /account/systems/allow", s.page(s.systemsAllow))
	mux.Handle("GET /api/v1/account/systems", s.api(s.apiSystems))
	mux.Handle("POST /api/v1/account/systems", s.api(s.apiSystemCreate))
	mux.Handle("POST /api/v1/account/systems/{id}/rotate", s.api(s.apiSystemRotate))
	mux.Handle("DELETE /api/v1/account/systems/{id}", s.api(s.apiSystemRevoke))
	mux.Handle("PUT /api/v1/account/systems/allowed", s.api(s.apiSystemsAllowed))
	mux.Handle("POST /api/v1/systems/login", s.api(s.apiSystemLogin))
	mux.Handle("POST /api/v1/systems/login/code", s.api(s.apiSystemLoginCode))
	mux.Handle("POST /api/v1/systems/token", s.api(s.apiSystemRefresh))
	mux.Handle("POST /api/admin/v1/orgs", s.api(s.apiAdminCreateOrg))
	mux.Handle("GET /api/admin/v1/orgs", s.api(s.apiAdminListOrgs))
	mux.Handle("PUT /api/admin/v1/orgs/{id}/members/{account}", s.api(s.apiAdminPutMember))
	mux.Handle("GET /api/admin/v1/orgs/{id}/members", s.api(s.apiAdminListMembers))
	mux.Handle("PUT /api/admin/v1/accounts/{id}/rights", s.api(s.apiAdminSetRights))
}

// ---- the Systems page ----

func (s *Server) systemsPageData(r *http.Request, who flow.Who) (*ui.SystemsPage, error) {
	o, err := s.Systems.Overview(r.Context(), who.Account.ID)
	if err != nil {
		return nil, err
	}
	b := s.base(r)
	p := &ui.SystemsPage{Base: b, Allowed: o.Allowed, LoginURL: s.PublicURL.JoinPath("/api/v1/systems/login").String()}
	now := s.now()
	group := func(orgID, title string, list []store.System, rights []string) ui.SystemGroup {
		g := ui.SystemGroup{OrgID: orgID, Title: title}
		for _, sys := range list {
			it := ui.SystemItem{ID: sys.ID, Name: sys.Name, Auth: b.T("systems.auth.secret"), Created: sysDay(sys.CreatedAt), Live: sys.Live(now)}
			if sys.PublicKey != "" {
				it.Auth, it.Keyed = b.T("systems.auth.key"), true
			}
			for _, rt := range sys.Rights {
				it.Rights = append(it.Rights, s.Systems.Describe(rt))
			}
			if !sys.ExpiresAt.IsZero() {
				it.Expires = sysDay(sys.ExpiresAt)
			}
			if !sys.LastUsedAt.IsZero() && sys.LastUsedAt.After(sys.CreatedAt) {
				it.LastUsed = sysDay(sys.LastUsedAt)
			}
			switch {
			case !sys.RevokedAt.IsZero():
				it.Status = b.T("systems.status.revoked", "date", sysDay(sys.RevokedAt))
			case !it.Live:
				it.Status = b.T("systems.status.expired")
			}
			g.Systems = append(g.Systems, it)
		}
		for _, rt := range rights {
			g.Rights = append(g.Rights, ui.RightOption{Name: rt, Description: s.Systems.Describe(rt)})
		}
		return g
	}
	p.Groups = append(p.Groups, group("", b.T("systems.own"), o.Own, o.Rights))
	for _, og := range o.Orgs {
		p.Groups = append(p.Groups, group(og.Org.ID, b.T("systems.org", "name", og.Org.Name, "number", og.Org.ID), og.Systems, og.Rights))
	}
	return p, nil
}

func sysDay(t time.Time) string { return t.UTC().Format("2006-01-02") }

func (s *Server) systemsPage(w http.ResponseWriter, r *http.Request) error {
	who, ok := s.who(w, r)
	if !ok {
		return nil
	}
	p, err := s.systemsPageData(r, who)
	if err != nil {
		return err
	}
	p.Notice = noticeFrom(r, p.Base)
	return s.render(w, r, http.StatusOK, "systems", p)
}

// systemsShow renders the page after a change, with the problem on the
// form (status 422 and the like) or the secret to show once.
func (s *Server) systemsShow(w http.ResponseWriter, r *http.Request, who flow.Who, err error, form ui.SystemsForm, rights []string, sysID, sec string) error {
	p, perr := s.systemsPageData(r, who)
	if perr != nil {
		return perr
	}
	status := http.StatusOK
	if err != nil {
		pr, ok := problem.As(err)
		if !ok {
			return err
		}
		p.Problem, p.Form, status = pr, form, pr.Kind.Status()
		for gi := range p.Groups {
			if p.Groups[gi].OrgID != form.OrgID {
				continue
			}
			for ri := range p.Groups[gi].Rights {
				p.Groups[gi].Rights[ri].Checked = slices.Contains(rights, p.Groups[gi].Rights[ri].Name)
			}
		}
	}
	p.NewSystemID, p.NewSecret = sysID, sec
	w.Header().Set("Cache-Control", "no-store")
	return s.render(w, r, status, "systems", p)
}

var dateRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// parseExpiry reads a date (the end of that day, UTC) or "".
func parseExpiry(v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse("2006-01-02", v)
	if !dateRE.MatchString(v) || err != nil {
		return time.Time{}, problem.New(problem.Invalid, "expires", "systems.expiry_invalid", nil)
	}
	return t.Add(24*time.Hour - time.Second), nil
}

func (s *Server) systemsCreate(w http.ResponseWriter, r *http.Request) error {
	who, ok := s.who(w, r)
	if !ok || !s.fresh(w, r, who, "/account/systems") {
		return nil
	}
	form := ui.SystemsForm{OrgID: r.PostFormValue("org"), Name: r.PostFormValue("name"), Expires: r.PostFormValue("expires"), PublicKey: r.PostFormValue("public_key")}
	rights := r.PostForm["rights"]
	if len(rights) > 64 {
		rights = rights[:64]
	}
	exp, err := parseExpiry(form.Expires)
	if err != nil {
		return s.systemsShow(w, r, who, err, form, rights, "", "")
	}
	sys, sec, err := s.Systems.CreateSystem(r.Context(), s.client(w, r), who, flow.NewSystem{Name: form.Name, Rights: rights, OrgID: form.OrgID, ExpiresAt: exp, PublicKey: form.PublicKey})
	if hasKey(asProblem(err), "reauth.required") {
		http.Redirect(w, r, "/account/reauth?return_to=%2Faccount%2Fsystems", http.StatusSeeOther)
		return nil
	}
	if err != nil {
		return s.systemsShow(w, r, who, err, form, rights, "", "")
	}
	return s.systemsShow(w, r, who, nil, ui.SystemsForm{}, nil, sys.ID, sec)
}

func (s *Server) systemsRotate(w http.ResponseWriter, r *http.Request) error {
	who, ok := s.who(w, r)
	if !ok || !s.fresh(w, r, who, "/account/systems") {
		return nil
	}
	sys, sec, err := s.Systems.RotateSystem(r.Context(), s.client(w, r), who, r.PostFormValue("id"), r.PostFormValue("public_key"))
	if err != nil {
		return s.systemsShow(w, r, who, err, ui.SystemsForm{}, nil, "", "")
	}
	return s.systemsShow(w, r, who, nil, ui.SystemsForm{}, nil, sys.ID, sec)
}

func (s *Server) systemsRevoke(w http.ResponseWriter, r *http.Request) error {
	who, ok := s.who(w, r)
	if !ok || !s.fresh(w, r, who, "/account/systems") {
		return nil
	}
	if err := s.Systems.RevokeSystem(r.Context(), s.client(w, r), who, r.PostFormValue("id")); err != nil {
		return s.systemsShow(w, r, who, err, ui.SystemsForm{}, nil, "", "")
	}
	http.Redirect(w, r, "/account/systems?notice=system-revoked", http.StatusSeeOther)
	return nil
}

func (s *Server) systemsAllow(w http.ResponseWriter, r *http.Request) error {
	who, ok := s.who(w, r)
	if !ok {
		return nil
	}
	on := r.PostFormValue("allowed") == "on"
	if on && !s.fresh(w, r, who, "/account/systems") {
		return nil
	}
	if err := s.Systems.SetAllowed(r.Context(), s.client(w, r), who, on); err != nil {
		return s.systemsShow(w, r, who, err, ui.SystemsForm{}, nil, "", "")
	}
	notice := "system-login-off"
	if on {
		notice = "system-login-on"
	}
	http.Redirect(w, r, "/account/systems?notice="+notice, http.StatusSeeOther)
	return nil
}

// ---- the JSON twin ----

// SystemJSON is an end-user system in the API.
type SystemJSON struct {
	ID     string   `json:"system_id"`
	Name   string   `json:"name"`
	OrgID  string   `json:"org_id,omitempty"`
	Rights []string `json:"rights"`
	// Auth is "client_secret_basic" or "private_key_jwt".
	Auth       string     `json:"auth"`
	Secret     string     `json:"secret,omitempty"`
	PublicKey  any        `json:"public_key,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	Live       bool       `json:"live"`
}

func (s *Server) systemJSON(sys store.System, sec string) SystemJSON {
	opt := func(t time.Time) *time.Time {
		if t.IsZero() {
			return nil
		}
		u := t.UTC()
		return &u
	}
	j := SystemJSON{ID: sys.ID, Name: sys.Name, OrgID: sys.OrgID, Rights: sys.Rights, Auth: "client_secret_basic", Secret: sec,
		CreatedAt: sys.CreatedAt.UTC(), ExpiresAt: opt(sys.ExpiresAt), RevokedAt: opt(sys.RevokedAt), Live: sys.Live(s.now())}
	if sys.LastUsedAt.After(sys.CreatedAt) {
		j.LastUsedAt = opt(sys.LastUsedAt)
	}
	if j.Rights == nil {
		j.Rights = []string{}
	}
	if sys.PublicKey != "" {
		j.Auth, j.PublicKey = "private_key_jwt", rawJSON(sys.PublicKey)
	}
	return j
}

type rawJSON string

func (r rawJSON) MarshalJSON() ([]byte, error) { return []byte(r), nil }

// SystemsJSON is the Systems section.
type SystemsJSON struct {
	Allowed bool         `json:"allowed"`
	Rights  []string     `json:"rights"`
	Systems []SystemJSON `json:"systems"`
}

func (s *Server) apiSystems(w http.ResponseWriter, r *http.Request) error {
	who, err := s.apiWho(r)
	if err != nil {
		return err
	}
	o, err := s.Systems.Overview(r.Context(), who.Account.ID)
	if err != nil {
		return err
	}
	out := SystemsJSON{Allowed: o.Allowed, Rights: o.Rights, Systems: []SystemJSON{}}
	for _, sys := range o.Own {
		out.Systems = append(out.Systems, s.systemJSON(sys, ""))
	}
	for _, og := range o.Orgs {
		for _, sys := range og.Systems {
			out.Systems = append(out.Systems, s.systemJSON(sys, ""))
		}
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) apiSystemCreate(w http.ResponseWriter, r *http.Request) error {
	who, err := s.apiWho(r)
	if err != nil {
		return err
	}
	var in struct {
		Name      string   `json:"name"`
		Rights    []string `json:"rights"`
		OrgID     string   `json:"org_id"`
		ExpiresAt string   `json:"expires_at"`
		PublicKey any      `json:"public_key"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	var exp time.Time
	if in.ExpiresAt != "" {
		if exp, err = time.Parse(time.RFC3339, in.ExpiresAt); err != nil {
			if exp, err = parseExpiry(in.ExpiresAt); err != nil {
				return err
			}
		}
	}
	if len(in.Rights) > 64 {
		in.Rights = in.Rights[:64]
	}
	sys, sec, err := s.Systems.CreateSystem(r.Context(), s.apiClient(r, ""), who, flow.NewSystem{Name: in.Name, Rights: in.Rights, OrgID: in.OrgID, ExpiresAt: exp, PublicKey: keyText(in.PublicKey)})
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusCreated, s.systemJSON(sys, sec))
}

// keyText accepts a public key as a JWK object or a string (JWK or PEM).
func keyText(v any) string {
	switch k := v.(type) {
	case string:
		return k
	case map[string]any:
		b, err := json.Marshal(k)
		if err != nil {
			return "{invalid"
		}
		return string(b)
	case nil:
		return ""
	}
	return "{invalid"
}

func (s *Server) apiSystemRotate(w http.ResponseWriter, r *http.Request) error {
	who, err := s.apiWho(r)
	if err != nil {
		return err
	}
	var in struct {
		PublicKey any `json:"public_key"`
	}
	if r.ContentLength != 0 {
		if err := decodeJSON(r, &in); err != nil {
			return err
		}
	}
	sys, sec, err := s.Systems.RotateSystem(r.Context(), s.apiClient(r, ""), who, r.PathValue("id"), keyText(in.PublicKey))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusOK, s.systemJSON(sys, sec))
}

func (s *Server) apiSystemRevoke(w http.ResponseWriter, r *http.Request) error {
	who, err := s.apiWho(r)
	if err != nil {
		return err
	}
	if err := s.Systems.RevokeSystem(r.Context(), s.apiClient(r, ""), who, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) apiSystemsAllowed(w http.ResponseWriter, r *http.Request) error {
	who, err := s.apiWho(r)
	if err != nil {
		return err
	}
	var in struct {
		Allowed *bool `json:"allowed"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if in.Allowed == nil {
		return problem.New(problem.Invalid, "allowed", "systems.allowed_required", nil)
	}
	if err := s.Systems.SetAllowed(r.Context(), s.apiClient(r, ""), who, *in.Allowed); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]bool{"allowed": *in.Allowed})
}

func init() {
	notices["system-revoked"] = "systems.notice.revoked"
	notices["system-login-on"] = "systems.notice.login_on"
	notices["system-login-off"] = "systems.notice.login_off"
}
