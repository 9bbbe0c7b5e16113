package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/portvakt/portvakt/internal/problem"
	"github.com/portvakt/portvakt/internal/web/ui"
)

// Errors a handler may return besides a *problem.Problem. They are not
// the user's mistake but are not faults either.
var (
	errNotFound    = errors.New("not found")
	errCrossOrigin = errors.New("cross-origin request refused")
)

// handlerFunc is a handler that returns its failure instead of writing it.
// One adapter per channel (page, api) turns the error into a response:
//
//   - *problem.Problem: the user's mistake; a 4xx with the localized
//     message. HTML handlers that show a form render the problem on the
//     form themselves (to keep the input) and return nil.
//   - errNotFound, errCrossOrigin: 404 and 403 with a localized page.
//   - store.ErrUnavailable (the database is down, stalled, out of
//     connections or read-only): 503 with Retry-After and a localized
//     page (see Server.unavailable).
//   - anything else: a fault; logged with the request ID and shown as a
//     500 page that gives the user the ID and nothing internal.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// page adapts an HTML handler.
func (s *Server) page(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := h(w, r)
		if err == nil {
			return
		}
		st := stateOf(r)
		if p, ok := problem.As(err); ok {
			s.renderError(w, r, p.Kind.Status(), st.Lang.T("problem.title."+p.Kind.String()), firstMessage(st, p), p)
			return
		}
		switch {
		case errors.Is(err, errNotFound):
			s.renderError(w, r, http.StatusNotFound, st.Lang.T("error.notfound.title"), st.Lang.T("error.notfound.body"), nil)
		case errors.Is(err, errCrossOrigin):
			s.renderError(w, r, http.StatusForbidden, st.Lang.T("error.csrf.title"), st.Lang.T("error.csrf.body"), nil)
		case errors.Is(err, errTooLarge):
			s.tooLarge(w, r)
		default:
			s.fail(w, r, err)
		}
	})
}

func firstMessage(st *state, p *problem.Problem) string {
	if len(p.Details) == 0 {
		return ""
	}
	return st.Lang.T(p.Details[0].Key, p.Details[0].Args)
}

// fail logs an internal error and answers 500 in the request's channel;
// a database that cannot serve now gets 503 instead (unavailable).
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	if s.clientGone(w, r, err) {
		return
	}
	if isUnavailable(err) {
		s.unavailable(w, r, err)
		return
	}
	st := stateOf(r)
	s.Logger.Error("internal error", "request_id", st.ID, "route", r.Pattern, "err", err)
	if wantsJSON(r) {
		s.writeProblemJSON(w, r, http.StatusInternalServerError, "internal", nil)
		return
	}
	if st.Lang == nil {
		st.Lang = s.Catalog.Lang(s.DefaultLanguage)
	}
	s.renderError(w, r, http.StatusInternalServerError, st.Lang.T("error.server.title"), st.Lang.T("error.server.body", "request_id", st.ID), nil)
}

// clientGone reports (and logs at debug level) a request that failed
// because its client went away: net/http cancels a request's context when
// the connection closes, and whatever the handler was waiting for then
// fails with context.Canceled. That is not a fault of ours: the request
// line logs status 499 (nginx's "client closed request") at info level,
// and nothing is rendered for nobody.
func (s *Server) clientGone(w http.ResponseWriter, r *http.Request, err error) bool {
	if !errors.Is(r.Context().Err(), context.Canceled) {
		return false
	}
	s.Logger.Debug("client went away", "request_id", stateOf(r).ID, "route", r.Pattern, "err", err)
	w.WriteHeader(statusClientClosed)
	return true
}

// statusClientClosed is the status logged for a request whose client
// went away before the answer.
const statusClientClosed = 499

// renderError renders the error page; if even that fails it writes plain
// text, so the user always gets the request ID.
func (s *Server) renderError(w http.ResponseWriter, r *http.Request, status int, title, body string, p *problem.Problem) {
	st := stateOf(r)
	data := &ui.ErrorPage{Base: s.base(r), Status: status, Title: title, Body: body}
	data.Problem = nil
	if status >= 500 {
		data.RequestID = st.ID
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := s.Pages.Render(w, "error", data); err != nil {
		s.Logger.Error("render error page", "request_id", st.ID, "err", err)
		w.Write([]byte(title + "\n" + body + "\n"))
	}
}

// render writes a page, or a 500 if the template fails.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, page string, data any) error {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	var buf bytes.Buffer
	if err := s.Pages.Render(&buf, page, data); err != nil {
		return err
	}
	w.WriteHeader(status)
	_, err := buf.WriteTo(w)
	return err
}

// api adapts a JSON handler: every error becomes application/problem+json
// (RFC 9457).
func (s *Server) api(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := h(w, r)
		if err == nil {
			return
		}
		if p, ok := problem.As(err); ok {
			s.writeProblemJSON(w, r, p.Kind.Status(), p.Kind.String(), p)
			return
		}
		switch {
		case errors.Is(err, errNotFound):
			s.writeProblemJSON(w, r, http.StatusNotFound, problem.NotFound.String(), nil)
		case errors.Is(err, errCrossOrigin):
			s.writeProblemJSON(w, r, http.StatusForbidden, problem.Forbidden.String(), nil)
		case errors.Is(err, errTooLarge):
			s.tooLarge(w, r)
		case s.clientGone(w, r, err):
		case isUnavailable(err):
			s.unavailable(w, r, err)
		default:
			s.Logger.Error("internal error", "request_id", requestID(r), "route", r.Pattern, "err", err)
			s.writeProblemJSON(w, r, http.StatusInternalServerError, "internal", nil)
		}
	})
}

// ProblemJSON is the RFC 9457 body Portvakt sends. Errors lists every
// detail with its stable key and arguments (for clients that translate
// themselves) and the message in the negotiated language.
type ProblemJSON struct {
	Type      string        `json:"type"`
	Title     string        `json:"title"`
	Status    int           `json:"status"`
	Detail    string        `json:"detail,omitempty"`
	RequestID string        `json:"request_id"`
	Errors    []ProblemItem `json:"errors,omitempty"`
}

// ProblemItem is one detail of a ProblemJSON.
type ProblemItem struct {
	Field   string         `json:"field,omitempty"`
	Key     string         `json:"key"`
	Args    map[string]any `json:"args,omitempty"`
	Message string         `json:"message"`
}

func (s *Server) writeProblemJSON(w http.ResponseWriter, r *http.Request, status int, kind string, p *problem.Problem) {
	st := stateOf(r)
	lang := st.Lang
	if lang == nil {
		lang = s.Catalog.Lang(s.DefaultLanguage)
	}
	body := ProblemJSON{
		Type:      "urn:portvakt:problem:" + kind,
		Status:    status,
		RequestID: st.ID,
	}
	switch kind {
	case "internal":
		body.Title = lang.T("error.server.title")
		body.Detail = lang.T("error.server.body", "request_id", st.ID)
	case kindUnavailable:
		body.Title = lang.T("error.unavailable.title")
		body.Detail = lang.T("error.unavailable.body")
	case problem.NotFound.String():
		body.Title = lang.T("error.notfound.title")
	case problem.Forbidden.String():
		body.Title = lang.T("problem.title.forbidden")
	default:
		body.Title = lang.T("problem.title." + kind)
	}
	if p != nil {
		for _, d := range p.Details {
			args := map[string]any{}
			for k, v := range d.Args {
				if ref, ok := v.(problem.Ref); ok {
					args[k] = lang.T(string(ref))
				} else {
					args[k] = v
				}
			}
			if len(args) == 0 {
				args = nil
			}
			body.Errors = append(body.Errors, ProblemItem{Field: d.Field, Key: d.Key, Args: args, Message: lang.T(d.Key, d.Args)})
		}
		if len(body.Errors) > 0 {
			body.Detail = body.Errors[0].Message
		}
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(body)
}

func wantsJSON(r *http.Request) bool {
	if len(r.URL.Path) >= 5 && r.URL.Path[:5] == "/api/" {
		return true
	}
	accept := r.Header.Get("Accept")
	return accept == "application/json" || accept == "application/problem+json"
}

// writeJSON writes v with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}

// decodeJSON reads a JSON body into v. A malformed body is the client's
// mistake and comes back as a problem naming it.
func decodeJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, maxJSONBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
			return errTooLarge
		}
		return problem.New(problem.Invalid, "", "api.bad_json", problem.Args{"error": err.Error()})
	}
	return nil
}

// asProblem returns err as a problem, or nil if it is a fault.
func asProblem(err error) *problem.Problem {
	p, _ := problem.As(err)
	return p
}

// flowGone shows "start again" for a flow that expired, was used or
// belongs to another browser.
func (s *Server) flowProblem(w http.ResponseWriter, r *http.Request, p *problem.Problem, restart string) error {
	b := s.base(r)
	page := &ui.MessagePage{Base: b, Heading: b.T("problem.title." + p.Kind.String())}
	for _, d := range p.Details {
		page.Paragraphs = append(page.Paragraphs, b.T(d.Key, d.Args))
	}
	page.LinkURL, page.LinkText = restart, b.T("flow.start_again")
	return s.render(w, r, p.Kind.Status(), "message", page)
}

// isFlowProblem reports whether p is about the flow as a whole (it
// expired, was used, is another browser's) rather than about a field.
// hasKey reports whether p (which may be nil) holds a detail with key.
func hasKey(p *problem.Problem, key string) bool {
	if p == nil {
		return false
	}
	for _, d := range p.Details {
		if d.Key == key {
			return true
		}
	}
	return false
}

func isFlowProblem(p *problem.Problem) bool {
	for _, d := range p.Details {
		if d.Field != "" && d.Field != "code" {
			return false
		}
	}
	return len(p.Details) > 0 && (p.Kind == problem.Expired || p.Kind == problem.Forbidden || (p.Kind == problem.TooManyAttempts && p.Details[0].Key == "code.too_many"))
}
