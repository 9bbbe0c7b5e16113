package web

import (
	"net/http"

	"github.com/portvakt/portvakt/internal/problem"
)

// The form adapter: the one answer of a form whose action failed, instead
// of the same branches written out in every handler.

// problemPage is a page that can show the user's mistakes: every page,
// through ui.Base.
type problemPage interface{ SetProblem(*problem.Problem) }

// formFailed answers a form whose action returned err, and reports
// whether it did. With no error it reports false and the handler goes on.
// A fault is returned as is, for the error page. A problem about the flow
// as a whole (it expired, was used, is another browser's) shows "start
// again" with a link to restart, when restart is set. Any other problem
// renders tmpl again: the page page makes, with the problem on it, at the
// problem's status (a page that cannot be made is a fault).
func (s *Server) formFailed(w http.ResponseWriter, r *http.Request, err error, restart, tmpl string, page func() (problemPage, error)) (bool, error) {
	if err == nil {
		return false, nil
	}
	p := asProblem(err)
	if p == nil {
		return true, err
	}
	if restart != "" && isFlowProblem(p) {
		return true, s.flowProblem(w, r, p, restart)
	}
	pg, perr := page()
	if perr != nil {
		return true, perr
	}
	pg.SetProblem(p)
	return true, s.render(w, r, p.Kind.Status(), tmpl, pg)
}
