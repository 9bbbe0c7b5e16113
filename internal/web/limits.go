package web

import (
	"errors"
	"mime"
	"net/http"
	"strconv"

	"github.com/portvakt/portvakt/internal/authn/password"
	"github.com/portvakt/portvakt/internal/throttle"
)

// Body limits (issue 10, finding 2). Every form Portvakt serves fits in a
// few kilobytes and every JSON body (WebAuthn attestations included) in a
// few tens; anything larger is refused with 413 before it is read.
const (
	maxFormBody = 64 << 10
	maxJSONBody = 1 << 20
)

// errTooLarge is a body over its limit; the adapters answer 413.
var errTooLarge = errors.New("request body too large")

// kindTooLarge is the problem type of a 413
// (urn:portvakt:problem:too-large).
const kindTooLarge = "too-large"

// bodyLimit is the most bytes a request's body may have, by its type.
func bodyLimit(r *http.Request) int64 {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt == "application/json" || (len(mt) > 5 && mt[len(mt)-5:] == "+json") {
		return maxJSONBody
	}
	return maxFormBody
}

// withLimits bounds every request's body. (The request's source for the
// password hashing pool is named in withObservation, which makes the
// request's context: a handler changing the request here would hide the
// route pattern from the request log.)
//
// A body that announces more than its limit is answered 413 at once,
// unread. A body of unknown length (chunked) is cut at the limit: a form
// is parsed here, so that the cut is a 413 rather than a form that seems
// empty, and decodeJSON does the same for JSON.
func (s *Server) withLimits(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody {
			next.ServeHTTP(w, r)
			return
		}
		limit := bodyLimit(r)
		if r.ContentLength > limit {
			w.Header().Set("Connection", "close")
			s.tooLarge(w, r)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		if r.ContentLength < 0 {
			mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
			if mt == "application/x-www-form-urlencoded" {
				var mbe *http.MaxBytesError
				if err := r.ParseForm(); errors.As(err, &mbe) {
					s.tooLarge(w, r)
					return
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// tooLarge answers 413 in the request's channel.
func (s *Server) tooLarge(w http.ResponseWriter, r *http.Request) {
	if wantsJSON(r) {
		s.writeProblemJSON(w, r, http.StatusRequestEntityTooLarge, kindTooLarge, nil)
		return
	}
	st := stateOf(r)
	if st.Lang == nil {
		st.Lang = s.Catalog.Lang(s.DefaultLanguage)
	}
	s.renderError(w, r, http.StatusRequestEntityTooLarge, st.Lang.T("error.too_large.title"), st.Lang.T("error.too_large.body"), nil)
}

// busy answers 503 with Retry-After when the password hashing pool
// refused a hash rather than queue it for more than a few seconds.
func (s *Server) busy(w http.ResponseWriter, r *http.Request, be *password.BusyError) {
	secs := max(1, int(be.RetryAfter.Seconds()))
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	st := stateOf(r)
	if st.Lang == nil {
		st.Lang = s.Catalog.Lang(s.DefaultLanguage)
	}
	if wantsJSON(r) {
		s.writeProblemJSON(w, r, http.StatusServiceUnavailable, kindUnavailable, nil)
		return
	}
	s.renderError(w, r, http.StatusServiceUnavailable, st.Lang.T("error.busy.title"), st.Lang.T("error.busy.body", "seconds", secs), nil)
}

// clientNetwork is the network a client address belongs to for per-source
// rules (throttle.Network: its /24 or /64).
func clientNetwork(ip string) string { return throttle.Network(ip) }
