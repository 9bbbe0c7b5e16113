package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/portvakt/portvakt/internal/flow"
	"github.com/portvakt/portvakt/internal/problem"
	"github.com/portvakt/portvakt/internal/secret"
	"github.com/portvakt/portvakt/internal/useragent"
	"github.com/portvakt/portvakt/internal/web/ui"
)

// The account's operations (issue 15): where it is signed in (sessions
// and remembered browsers, ending them), the "this wasn't me" link of a
// new-device mail, the security history, downloading one's data and
// deleting the account. Every page has its JSON twin under /api/v1.

// opsRoutes adds the pages and their JSON twins.
func (s *Server) opsRoutes(mux *http.ServeMux) {
	mux.Handle("GET /account/sessions", s.page(s.sessionsPage))
	mux.Handle("POST /account/sessions/end", s.page(s.sessionsEnd))
	mux.Handle("POST /account/sessions/end-others", s.page(s.sessionsEndOthers))
	mux.Handle("POST /account/sessions/browsers/forget", s.page(s.sessionsForgetBrowser))
	mux.Handle("POST /account/sessions/browsers/forget-others", s.page(s.sessionsForgetOtherBrowsers))
	mux.Handle("GET /account/history", s.page(s.historyPage))
	mux.Handle("GET /account/data", s.page(s.dataDownload))
	mux.Handle("GET /account/delete", s.page(s.deleteForm))
	mux.Handle("POST /account/delete", s.page(s.deleteSubmit))
	mux.Handle("GET /not-me/{token}", s.page(s.notMeLanding))
	mux.Handle("POST /not-me", s.page(s.notMeSubmit))

	mux.Handle("GET /api/v1/sessions", s.api(s.apiSessions))
	mux.Handle("DELETE /api/v1/sessions/{id}", s.api(s.apiEndSession))
	mux.Handle("POST /api/v1/sessions/end-others", s.api(s.apiEndOtherSessions))
	mux.Handle("GET /api/v1/remembered-browsers", s.api(s.apiBrowsers))
	mux.Handle("DELETE /api/v1/remembered-browsers/{id}", s.api(s.apiForgetBrowser))
	mux.Handle("POST /api/v1/remembered-browsers/forget-others", s.api(s.apiForgetOtherBrowsers))
	mux.Handle("GET /api/v1/account/history", s.api(s.apiHistory))
	mux.Handle("GET /api/v1/account/export", s.api(s.apiExport))
	mux.Handle("GET /api/v1/account/deletion", s.api(s.apiDeletion))
	mux.Handle("POST /api/v1/account/deletion", s.api(s.apiRequestDeletion))
	mux.Handle("POST /api/v1/not-me", s.api(s.apiNotMe))
}

func init() {
	for k, v := range map[string]string{
		"session-ended":        "sessions.ended",
		"sessions-ended":       "sessions.ended_others",
		"browsers-forgotten":   "sessions.browsers.forgotten_others",
		"deletion-cancelled":   "delete.cancelled",
		"deletion-scheduled":   "delete.scheduled",
		"session-already-gone": "sessions.gone",
		"not-me":               "not_me.ended",
	} {
		notices[k] = v
	}
}

// trustDigest is the digest of this browser's remembered-browser cookie,
// or nil.
func (s *Server) trustDigest(r *http.Request) []byte {
	if c, err := r.Cookie(s.trustCookieName()); err == nil && c.Value != "" {
		return secret.Hash(c.Value)
	}
	return nil
}

func day(t time.Time) string     { return t.UTC().Format("2006-01-02") }
func dayTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }
func deviceWords(s *Server, b ui.Base, a useragent.Agent) string {
	return s.Flows.DescribeAgent(b.Lang.Tag(), a)
}

// ---- where you're signed in ----

func (s *Server) sessionsPage(w http.ResponseWriter, r *http.Request) error {
	who, ok := s.who(w, r)
	if !ok {
		return nil
	}
	list, total, err := s.Flows.SignedIn(r.Context(), who)
	if err != nil {
		return err
	}
	browsers, btotal, err := s.Flows.RememberedBrowsers(r.Context(), who, s.trustDigest(r))
	if err != nil {
		return err
	}
	b := s.base(r)
	p := &ui.SessionsPage{Base: b, More: total - len(list), MoreBrowsers: btotal - len(browsers), RememberDays: s.Flows.MFA.RememberDays}
	for _, x := range list {
		p.Sessions = append(p.Sessions, ui.SessionItem{ID: x.ID, Device: deviceWords(s, b, x.Agent), Network: x.Network,
			Started: dayTime(x.CreatedAt), Used: dayTime(x.LastSeenAt), SignedInWith: signedInWith(b, x.AMR),
			Level: x.Level, AMR: strings.Join(x.AMR, " "), Via: s.upstreamLabel(b, x.Via), Current: x.Current})
		p.Others = p.Others || !x.Current
	}
	for _, x := range browsers {
		p.Browsers = append(p.Browsers, ui.BrowserItem{ID: x.ID, Device: deviceWords(s, b, x.Agent), Network: x.Network,
			Since: day(x.CreatedAt), Used: day(x.LastUsedAt), Until: day(x.ExpiresAt), Current: x.Current})
		p.OtherBrowsers = p.OtherBrowsers || !x.Current
	}
	if p.RememberDays == 0 && len(p.Browsers) > 0 {
		p.RememberDays = -1 // none are remembered any more, but list what is
	}
	p.Notice = noticeFrom(r, b)
	return s.render(w, r, http.StatusOK, "sessions", p)
}

// upstreamLabel names an upstream for the page: its configured label, or
// its ID.
func (s *Server) upstreamLabel(b ui.Base, id string) string {
	if id == "" {
		return ""
	}
	if u, ok := s.Flows.Upstreams.Find(id); ok {
		return u.Config.ButtonLabel(b.Lang.Tag())
	}
	return id
}

func (s *Server) sessionsEnd(w http.ResponseWriter, r *http.Request) error {
	who, ok := s.who(w, r)
	if !ok {
		return nil
	}
	own, err := s.Flows.EndSession(r.Context(), s.client(w, r), who, r.PostFormValue("id"))
	if hasKey(asProblem(err), "sessions.gone") {
		http.Redirect(w, r, "/account/sessions?notice=session-already-gone", http.StatusSeeOther)
		return nil
	}
	if err != nil {
		return err
	}
	if own {
		s.clearSessionCookie(w)
		http.Redirect(w, r, "/?notice=signed-out", http.StatusSeeOther)
		return nil
	}
	http.Redirect(w, r, "/account/sessions?notice=session-ended", http.StatusSeeOther)
	return nil
}

func (s *Server) sessionsEndOthers(w http.ResponseWriter, r *http.Request) error {
	who, ok := s.who(w, r)
	if !ok {
		return nil
	}
	if _, err := s.Flows.EndOtherSessions(r.Context(), s.client(w, r), who); err != nil {
		return err
	}
	http.Redirect(w, r, "/account/sessions?notice=sessions-ended", http.StatusSeeOther)
	return nil
}

func (s *Server) sessionsForgetBrowser(w http.ResponseWriter, r *http.Request) error {
	who, ok := s.who(w, r)
	if !ok {
		return nil
	}
	if err := s.Flows.ForgetBrowser(r.Context(), who, r.PostFormValue("id")); err != nil {
		return err
	}
	http.Redirect(w, r, "/account/sessions?notice=browser-forgotten#remembered", http.StatusSeeOther)
	return nil
}

func (s *Server) sessionsForgetOtherBrowsers(w http.ResponseWriter, r *http.Request) error {
	who, ok := s.who(w, r)
	if !ok {
		return nil
	}
	if _, err := s.Flows.ForgetOtherBrowsers(r.Context(), who, s.trustDigest(r)); err != nil {
		return err
	}
	http.Redirect(w, r, "/account/sessions?notice=browsers-forgotten#remembered", http.StatusSeeOther)
	return nil
}

// SessionListJSON is GET /api/v1/sessions.
type SessionListJSON struct {
	Sessions []SessionItemJSON `json:"sessions"`
	// Total counts every live session; at most flow.MaxListed are listed.
	Total int `json:"total"`
}

// SessionItemJSON is one signed-in session.
type SessionItemJSON struct {
	ID         string    `json:"id"`
	Browser    string    `json:"browser"`
	Version    string    `json:"browser_version,omitempty"`
	OS         string    `json:"os"`
	Mobile     bool      `json:"mobile"`
	Network    string    `json:"network"`
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
	Methods    []string  `json:"methods"`
	AMR        []string  `json:"amr"`
	Level      int       `json:"level"`
	Upstream   string    `json:"upstream,omitempty"`
	Current    bool      `json:"current"`
}

func orEmpty(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

func (s *Server) apiSessions(w http.ResponseWriter, r *http.Request) error {
	who, err := s.apiWho(r)
	if err != nil {
		return err
	}
	list, total, err := s.Flows.SignedIn(r.Context(), who)
	if err != nil {
		return err
	}
	out := SessionListJSON{Sessions: []SessionItemJSON{}, Total: total}
	for _, x := range list {
		out.Sessions = append(out.Sessions, SessionItemJSON{ID: x.ID, Browser: x.Agent.Browser, Version: x.Agent.Version, OS: x.Agent.OS,
			Mobile: x.Agent.Mobile, Network: x.Network, CreatedAt: x.CreatedAt.UTC(), LastSeenAt: x.LastSeenAt.UTC(),
			Methods: orEmpty(x.Methods), AMR: orEmpty(x.AMR), Level: x.Level, Upstream: x.Via, Current: x.Current})
	}
	return writeJSON(w, http.StatusOK, out)
}

// apiEndSession: DELETE /api/v1/sessions/{id}. Ending the caller's own
// session signs it out (and clears the cookie).
func (s *Server) apiEndSession(w http.ResponseWriter, r *http.Request) error {
	who, err := s.apiWho(r)
	if err != nil {
		return err
	}
	own, err := s.Flows.EndSession(r.Context(), s.apiClient(r, ""), who, r.PathValue("id"))
	if err != nil {
		return err
	}
	if own {
		s.clearSessionCookie(w)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) apiEndOtherSessions(w http.ResponseWriter, r *http.Request) error {
	who, err := s.apiWho(r)
	if err != nil {
		return err
	}
	n, err := s.Flows.EndOtherSessions(r.Context(), s.apiClient(r, ""), who)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]int{"ended": n})
}

// BrowserListJSON is GET /api/v1/remembered-browsers.
type BrowserListJSON struct {
	Browsers []BrowserItemJSON `json:"browsers"`
	Total    int               `json:"total"`
}

// BrowserItemJSON is one remembered browser.
type BrowserItemJSON struct {
	ID         string    `json:"id"`
	Browser    string    `json:"browser"`
	Version    string    `json:"browser_version,omitempty"`
	OS         string    `json:"os"`
	Network    string    `json:"network"`
	CreatedAt  time.Time `json:"created_at"`
	LastUsedAt time.Time `json:"last_used_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	Current    bool      `json:"current"`
}

func (s *Server) apiBrowsers(w http.ResponseWriter, r *http.Request) error {
	who, err := s.apiWho(r)
	if err != nil {
		return err
	}
	list, total, err := s.Flows.RememberedBrowsers(r.Context(), who, s.trustDigest(r))
	if err != nil {
		return err
	}
	out := BrowserListJSON{Browsers: []BrowserItemJSON{}, Total: total}
	for _, x := range list {
		out.Browsers = append(out.Browsers, BrowserItemJSON{ID: x.ID, Browser: x.Agent.Browser, Version: x.Agent.Version, OS: x.Agent.OS,
			Network: x.Network, CreatedAt: x.CreatedAt.UTC(), LastUsedAt: x.LastUsedAt.UTC(), ExpiresAt: x.ExpiresAt.UTC(), Current: x.Current})
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) apiForgetBrowser(w http.ResponseWriter, r *http.Request) error {
	who, err := s.apiWho(r)
	if err != nil {
		return err
	}
	if err := s.Flows.ForgetBrowser(r.Context(), who, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) apiForgetOtherBrowsers(w http.ResponseWriter, r *http.Request) error {
	who, err := s.apiWho(r)
	if err != nil {
		return err
	}
	n, err := s.Flows.ForgetOtherBrowsers(r.Context(), who, s.trustDigest(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]int{"forgotten": n})
}

// ---- "this wasn't me" ----

// notMeLanding is what the new-device mail's link opens: what happened,
// and a button (a GET never acts, so a mail scanner following the link
// ends nothing).
func (s *Server) notMeLanding(w http.ResponseWriter, r *http.Request) error {
	token := r.PathValue("token")
	info, err := s.Flows.InspectNotMe(r.Context(), token)
	b := s.base(r)
	if p := asProblem(err); p != nil {
		return s.render(w, r, p.Kind.Status(), "message", &ui.MessagePage{Base: b, Heading: b.T("not_me.gone_title"),
			Paragraphs: []string{b.T("not_me.gone"), b.T("not_me.gone_how")}, LinkURL: "/recover", LinkText: b.T("mail.common.recover_link")})
	}
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "message", &ui.MessagePage{Base: b, Heading: b.T("not_me.title"),
		Paragraphs: []string{
			b.T("not_me.what", "when", dayTime(info.At), "device", deviceWords(s, b, info.Agent), "ip", info.IP),
			b.T("not_me.lead"),
		},
		FormAction: "/not-me", FormButton: b.T("not_me.button"), Hidden: []ui.Hidden{{Name: "token", Value: token}}})
}

func (s *Server) notMeSubmit(w http.ResponseWriter, r *http.Request) error {
	c := s.client(w, r)
	res, err := s.Flows.NotMe(r.Context(), c, r.PostFormValue("token"))
	b := s.base(r)
	if p := asProblem(err); p != nil {
		return s.render(w, r, p.Kind.Status(), "message", &ui.MessagePage{Base: b, Heading: b.T("not_me.gone_title"),
			Paragraphs: []string{b.T("not_me.gone"), b.T("not_me.gone_how")}, LinkURL: "/recover", LinkText: b.T("mail.common.recover_link")})
	}
	if err != nil {
		return err
	}
	if res.RecoveryErr == nil && res.Recovery.ID != "" {
		if res.Method == flow.MethodCode {
			http.Redirect(w, r, "/recover/code?flow="+url.QueryEscape(res.Recovery.ID)+"&notice=not-me", http.StatusSeeOther)
			return nil
		}
		page := s.linkSentPage(r, res.Recovery.ID, res.Recovery.Email)
		page.Paragraphs = append([]string{b.T("not_me.ended")}, page.Paragraphs...)
		return s.render(w, r, http.StatusOK, "message", page)
	}
	paras := []string{b.T("not_me.ended")}
	if p := asProblem(res.RecoveryErr); p != nil {
		paras = append(paras, firstMessage(stateOf(r), p))
	} else if res.RecoveryErr != nil {
		return res.RecoveryErr
	}
	return s.render(w, r, http.StatusOK, "message", &ui.MessagePage{Base: b, Heading: b.T("not_me.done_title"), Paragraphs: paras,
		LinkURL: "/recover", LinkText: b.T("mail.common.recover_link")})
}

// NotMeJSON answers POST /api/v1/not-me: the session ended, and the
// password reset started (continue it with POST /api/v1/recovery/code
// and the flow token), or why none started.
type NotMeJSON struct {
	SessionEnded bool      `json:"session_ended"`
	Recovery     *FlowJSON `json:"recovery,omitempty"`
	// RecoveryRefused says why no reset started, in the caller's
	// language.
	RecoveryRefused string `json:"recovery_refused,omitempty"`
}

func (s *Server) apiNotMe(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Token string `json:"token"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	tok := newFlowToken()
	res, err := s.Flows.NotMe(r.Context(), s.apiClient(r, tok), in.Token)
	if err != nil {
		return err
	}
	out := NotMeJSON{SessionEnded: res.Ended}
	if res.RecoveryErr == nil && res.Recovery.ID != "" {
		next := "code"
		if res.Method != flow.MethodCode {
			next = "check_mail"
		}
		out.Recovery = &FlowJSON{FlowID: res.Recovery.ID, FlowToken: tok, Next: next}
	} else if p := asProblem(res.RecoveryErr); p != nil {
		out.RecoveryRefused = firstMessage(stateOf(r), p)
	} else if res.RecoveryErr != nil {
		return res.RecoveryErr
	}
	return writeJSON(w, http.StatusOK, out)
}

// ---- security history ----

// historyKinds name each audit kind the history shows, and whether a
// "denied" outcome is one to look at.
func (s *Server) historyWhat(b ui.Base, e flow.SecurityEvent) (what string, warning bool) {
	key := "history.kind." + strings.ReplaceAll(e.Kind, ".", "_")
	what = e.Kind
	if s.Catalog.Has(key) {
		what = b.T(key)
	}
	if e.Outcome != "ok" {
		what += " — " + b.T("history.outcome."+e.Outcome)
		warning = true
	}
	return what, warning
}

func (s *Server) historyPage(w http.ResponseWriter, r *http.Request) error {
	who, ok := s.who(w, r)
	if !ok {
		return nil
	}
	events, err := s.Flows.SecurityHistory(r.Context(), who.Account.ID)
	if err != nil {
		return err
	}
	b := s.base(r)
	p := &ui.HistoryPage{Base: b, Days: flow.HistoryDays}
	for _, e := range events {
		what, warn := s.historyWhat(b, e)
		var detail []string
		if e.Target != "" {
			detail = append(detail, e.Target)
		}
		if e.By != "account" && e.By != "anonymous" {
			detail = append(detail, b.T("history.by."+e.By))
		}
		where := e.Network
		if d := deviceWords(s, b, useragent.Agent{Browser: e.Browser, OS: e.OS}); e.Browser != "" || e.OS != "" {
			where = strings.TrimSpace(d + " " + e.Network)
		}
		p.Events = append(p.Events, ui.HistoryItem{When: dayTime(e.At), What: what, Detail: strings.Join(detail, " · "), Where: where, Warning: warn, Kind: e.Kind})
	}
	return s.render(w, r, http.StatusOK, "history", p)
}

func (s *Server) apiHistory(w http.ResponseWriter, r *http.Request) error {
	who, err := s.apiWho(r)
	if err != nil {
		return err
	}
	events, err := s.Flows.SecurityHistory(r.Context(), who.Account.ID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"days": flow.HistoryDays, "events": events})
}

// ---- download my data ----

// dataDownload sends the account's data as a JSON file, after a fresh
// sign-in.
func (s *Server) dataDownload(w http.ResponseWriter, r *http.Request) error {
	who, ok := s.who(w, r)
	if !ok || !s.fresh(w, r, who, "/account/data") {
		return nil
	}
	out, err := s.Flows.ExportData(r.Context(), who)
	if err != nil {
		return err
	}
	return writeExport(w, out)
}

func writeExport(w http.ResponseWriter, out flow.Export) error {
	body, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="account-`+out.ExportedAt.Format("2006-01-02")+`.json"`)
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(append(body, '\n'))
	return err
}

func (s *Server) apiExport(w http.ResponseWriter, r *http.Request) error {
	who, err := s.apiWho(r)
	if err != nil {
		return err
	}
	out, err := s.Flows.ExportData(r.Context(), who)
	if err != nil {
		return err
	}
	return writeExport(w, out)
}

// ---- delete my account ----

func (s *Server) deleteForm(w http.ResponseWriter, r *http.Request) error {
	who, ok := s.who(w, r)
	if !ok {
		return nil
	}
	due, err := s.Flows.PendingDeletion(r.Context(), who.Account.ID)
	if err != nil {
		return err
	}
	p := &ui.DeletePage{Base: s.base(r), Days: int(s.Flows.DeletionGrace() / (24 * time.Hour))}
	if !due.IsZero() {
		p.Due = day(due)
	}
	p.Notice = noticeFrom(r, p.Base)
	return s.render(w, r, http.StatusOK, "delete", p)
}

var errDeleteConfirm = problem.New(problem.Invalid, "confirm", "delete.confirm_required", nil)

func (s *Server) deleteSubmit(w http.ResponseWriter, r *http.Request) error {
	who, ok := s.who(w, r)
	if !ok || !s.fresh(w, r, who, "/account/delete") {
		return nil
	}
	if r.PostFormValue("confirm") != "yes" {
		p := &ui.DeletePage{Base: s.base(r), Days: int(s.Flows.DeletionGrace() / (24 * time.Hour))}
		p.Problem = errDeleteConfirm
		return s.render(w, r, http.StatusUnprocessableEntity, "delete", p)
	}
	due, err := s.Flows.RequestDeletion(r.Context(), s.client(w, r), who)
	if err != nil {
		return err
	}
	s.clearSessionCookie(w)
	b := s.base(r)
	b.SignedIn, b.AccountName = false, ""
	return s.render(w, r, http.StatusOK, "message", &ui.MessagePage{Base: b, Heading: b.T("delete.scheduled_title"),
		Paragraphs: []string{b.T("delete.scheduled_body", "date", day(due)), b.T("delete.scheduled_keep")},
		LinkURL:    "/login", LinkText: b.T("delete.sign_in")})
}

// DeletionJSON says whether the account is to be deleted, and when.
type DeletionJSON struct {
	Scheduled bool      `json:"scheduled"`
	DueAt     time.Time `json:"due_at,omitzero"`
	GraceDays int       `json:"grace_days"`
}

func (s *Server) apiDeletion(w http.ResponseWriter, r *http.Request) error {
	who, err := s.apiWho(r)
	if err != nil {
		return err
	}
	due, err := s.Flows.PendingDeletion(r.Context(), who.Account.ID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, DeletionJSON{Scheduled: !due.IsZero(), DueAt: due.UTC(), GraceDays: int(s.Flows.DeletionGrace() / (24 * time.Hour))})
}

// apiRequestDeletion: POST /api/v1/account/deletion {"confirm": true}
// schedules the deletion and ends every session (this one too).
func (s *Server) apiRequestDeletion(w http.ResponseWriter, r *http.Request) error {
	who, err := s.apiWho(r)
	if err != nil {
		return err
	}
	var in struct {
		Confirm bool `json:"confirm"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if !in.Confirm {
		return errDeleteConfirm
	}
	due, err := s.Flows.RequestDeletion(r.Context(), s.apiClient(r, ""), who)
	if err != nil {
		return err
	}
	s.clearSessionCookie(w)
	return writeJSON(w, http.StatusAccepted, DeletionJSON{Scheduled: true, DueAt: due.UTC(), GraceDays: int(s.Flows.DeletionGrace() / (24 * time.Hour))})
}
