package web

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/portvakt/portvakt/internal/authn/password"
	"github.com/portvakt/portvakt/internal/store"
)

// readyTimeout bounds one readiness check; load balancers give a probe a
// few seconds.
const readyTimeout = 2 * time.Second

// readyReuse is how long a readiness result answers further probes, so
// that /readyz, which writes to the database, cannot be turned into a
// stream of writes.
const readyReuse = time.Second

// retryAfter is what a 503 tells clients to wait before trying again.
const retryAfter = 5 * time.Second

// readiness is the state behind /readyz: the drain flag and the last
// check's result.
type readiness struct {
	draining atomic.Bool

	mu      sync.Mutex // held while a check runs: concurrent probes share it
	checked time.Time
	err     error
}

// Drain makes /readyz answer 503 "draining" from now on, so that load
// balancers stop sending requests before the server stops accepting
// them. Requests keep being served. It is safe to call at any time.
func (s *Server) Drain() { s.readiness.draining.Store(true) }

// Draining reports whether Drain was called.
func (s *Server) Draining() bool { return s.readiness.draining.Load() }

// readyz answers 200 "ok" when the database takes a write (Ready) within
// readyTimeout, and 503 with the reason otherwise: while draining, when
// the write fails, or when it takes too long. The full error goes to the
// log; the body says only what an operator needs to look further.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if s.Draining() {
		w.Header().Set("Retry-After", strconv.Itoa(int(retryAfter.Seconds())))
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte("not ready: draining (shutting down)\n"))
		return
	}
	if err := s.checkReady(r.Context()); err != nil {
		s.Logger.Warn("readiness check failed", "err", err, "request_id", requestID(r))
		reason := "the database did not take a write"
		if errors.Is(err, context.DeadlineExceeded) {
			reason = "the database did not confirm a write within " + readyTimeout.String()
		}
		w.Header().Set("Retry-After", strconv.Itoa(int(retryAfter.Seconds())))
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte("not ready: " + reason + "\n"))
		return
	}
	w.Write([]byte("ok\n"))
}

// checkReady runs Ready, or returns the result of a check that ended less
// than readyReuse ago. The check does not end with the probe that started
// it, since other probes may be waiting for its result.
func (s *Server) checkReady(ctx context.Context) error {
	rd := &s.readiness
	rd.mu.Lock()
	defer rd.mu.Unlock()
	if !rd.checked.IsZero() && time.Since(rd.checked) < readyReuse {
		return rd.err
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), readyTimeout)
	defer cancel()
	err := s.Ready(ctx)
	if err != nil && ctx.Err() != nil && !errors.Is(err, context.DeadlineExceeded) {
		err = errors.Join(err, context.DeadlineExceeded)
	}
	rd.checked, rd.err = time.Now(), err
	return err
}

// unavailable answers a request the database could not serve (it is down,
// stalled past the query timeout, out of connections or refusing writes):
// 503 with Retry-After and a page, or problem+json, in the user's language
// saying it is not their mistake and to try again shortly. It is logged as
// a warning, not an internal error: the operator's alert is /readyz.
func (s *Server) unavailable(w http.ResponseWriter, r *http.Request, err error) {
	if be := (*password.BusyError)(nil); errors.As(err, &be) {
		s.busy(w, r, be)
		return
	}
	st := stateOf(r)
	s.Logger.Warn("database unavailable", "request_id", st.ID, "route", r.Pattern, "err", err)
	w.Header().Set("Retry-After", strconv.Itoa(int(retryAfter.Seconds())))
	if wantsJSON(r) {
		s.writeProblemJSON(w, r, http.StatusServiceUnavailable, kindUnavailable, nil)
		return
	}
	if st.Lang == nil {
		st.Lang = s.Catalog.Lang(s.DefaultLanguage)
	}
	s.renderError(w, r, http.StatusServiceUnavailable, st.Lang.T("error.unavailable.title"), st.Lang.T("error.unavailable.body"), nil)
}

// kindUnavailable is the problem type of a 503
// (urn:portvakt:problem:unavailable).
const kindUnavailable = "unavailable"

// isUnavailable reports whether err means "the database cannot serve now".
// The password hashing pool refusing to queue a hash (password.ErrBusy)
// is answered the same way, with its own Retry-After (see busy).
func isUnavailable(err error) bool {
	return errors.Is(err, store.ErrUnavailable) || errors.Is(err, password.ErrBusy)
}
