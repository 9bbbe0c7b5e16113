package web

import (
	"context"
	"net/http"

	"github.com/portvakt/portvakt/internal/flow"
	"github.com/portvakt/portvakt/internal/problem"
	"github.com/portvakt/portvakt/internal/store"
	"github.com/portvakt/portvakt/internal/web/ui"
)

// The pages that ask for an emailed code (sign-up, recovery, a new
// address) share one set of handlers; so do their JSON twins.

// codeStep describes one page that asks for an emailed code: the
// sign-up's, the recovery's, and a new address's. One set of handlers
// serves all three.
type codeStep struct {
	heading, action, resend, restart string
	// next is where a right code leads, given the flow ID.
	next func(id string) string
	// done reports a flow that is past this step, and where it went.
	done   func(f store.Flow) (string, bool)
	load   func(r *http.Request, c flow.Client, who flow.Who, id string) (store.Flow, error)
	verify func(r *http.Request, c flow.Client, who flow.Who, id, code string) error
	again  func(r *http.Request, c flow.Client, who flow.Who, id string) error
	// signedIn steps belong to a signed-in user.
	signedIn bool
}

func (s *Server) codeSteps() (signup, recovery, email codeStep) {
	signup = codeStep{heading: "signup.code.title", action: "/signup/code", resend: "/signup/resend", restart: "/signup",
		next: func(id string) string { return "/signup/details?flow=" + id },
		done: func(f store.Flow) (string, bool) { return "/signup/details?flow=" + f.ID, f.State == "verified" },
		load: func(r *http.Request, c flow.Client, _ flow.Who, id string) (store.Flow, error) {
			return s.login().SignupFlow(r.Context(), c, id)
		},
		verify: func(r *http.Request, c flow.Client, _ flow.Who, id, code string) error {
			_, err := s.login().VerifySignupCode(r.Context(), c, id, code)
			return err
		},
		again: func(r *http.Request, c flow.Client, _ flow.Who, id string) error {
			return s.login().ResendSignupCode(r.Context(), c, id)
		},
	}
	recovery = codeStep{heading: "recover.code.title", action: "/recover/code", resend: "/recover/resend", restart: "/recover",
		next: func(id string) string { return "/recover/password?flow=" + id },
		done: func(f store.Flow) (string, bool) { return "/recover/password?flow=" + f.ID, f.State == "verified" },
		load: func(r *http.Request, c flow.Client, _ flow.Who, id string) (store.Flow, error) {
			return s.recovery().RecoveryFlow(r.Context(), c, id)
		},
		verify: func(r *http.Request, c flow.Client, _ flow.Who, id, code string) error {
			_, err := s.recovery().VerifyRecoveryCode(r.Context(), c, id, code)
			return err
		},
		again: func(r *http.Request, c flow.Client, _ flow.Who, id string) error {
			return s.recovery().ResendRecoveryCode(r.Context(), c, id)
		},
	}
	email = codeStep{heading: "account.emails.verify", action: "/account/emails/verify", resend: "/account/emails/resend", restart: "/account/emails/add",
		signedIn: true,
		next:     func(string) string { return "/account?notice=email-added" },
		done:     func(store.Flow) (string, bool) { return "", false },
		load: func(r *http.Request, c flow.Client, who flow.Who, id string) (store.Flow, error) {
			return s.settings().EmailFlow(r.Context(), c, who, id)
		},
		verify: func(r *http.Request, c flow.Client, who flow.Who, id, code string) error {
			_, err := s.settings().VerifyAddEmail(r.Context(), c, who, id, code)
			return err
		},
		again: func(r *http.Request, c flow.Client, who flow.Who, id string) error {
			return s.settings().ResendEmailCode(r.Context(), c, who, id)
		},
	}
	return
}

// codeForm shows a code step.
func (s *Server) codeForm(step codeStep) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var who flow.Who
		if step.signedIn {
			var ok bool
			if who, ok = s.who(w, r); !ok {
				return nil
			}
		}
		f, err := step.load(r, s.client(w, r), who, r.URL.Query().Get("flow"))
		if p := asProblem(err); p != nil {
			return s.flowProblem(w, r, p, step.restart)
		}
		if err != nil {
			return err
		}
		if next, done := step.done(f); done {
			http.Redirect(w, r, next, http.StatusSeeOther)
			return nil
		}
		page := s.codePage(r, f, step.heading, step.action, step.resend, step.restart)
		page.Notice = noticeFrom(r, page.Base)
		return s.render(w, r, http.StatusOK, "code", page)
	}
}

// codeSubmit checks a code: on success on to the next step, on a wrong
// code the same page with the message on the field, on a dead flow the
// start-again page.
func (s *Server) codeSubmit(step codeStep) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var who flow.Who
		if step.signedIn {
			var ok bool
			if who, ok = s.who(w, r); !ok {
				return nil
			}
		}
		c := s.client(w, r)
		id := r.PostFormValue("flow")
		err := step.verify(r, c, who, id, r.PostFormValue("code"))
		if err == nil {
			http.Redirect(w, r, step.next(id), http.StatusSeeOther)
			return nil
		}
		p := asProblem(err)
		if p == nil {
			return err
		}
		if isFlowProblem(p) || p.Kind == problem.Conflict {
			return s.flowProblem(w, r, p, step.restart)
		}
		return s.codeAgain(w, r, step, c, who, id, p)
	}
}

// codeResend sends a new code.
func (s *Server) codeResend(step codeStep) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var who flow.Who
		if step.signedIn {
			var ok bool
			if who, ok = s.who(w, r); !ok {
				return nil
			}
		}
		c := s.client(w, r)
		id := r.PostFormValue("flow")
		err := step.again(r, c, who, id)
		if err == nil {
			http.Redirect(w, r, step.action+"?flow="+id+"&notice=code-resent", http.StatusSeeOther)
			return nil
		}
		p := asProblem(err)
		if p == nil {
			return err
		}
		return s.codeAgain(w, r, step, c, who, id, p)
	}
}

// codeAgain re-renders a code step with a problem on it.
func (s *Server) codeAgain(w http.ResponseWriter, r *http.Request, step codeStep, c flow.Client, who flow.Who, id string, p *problem.Problem) error {
	f, err := step.load(r, c, who, id)
	if lp := asProblem(err); lp != nil {
		return s.flowProblem(w, r, lp, step.restart)
	}
	if err != nil {
		return err
	}
	page := s.codePage(r, f, step.heading, step.action, step.resend, step.restart)
	page.Problem = p
	return s.render(w, r, p.Kind.Status(), "code", page)
}

func (s *Server) codePage(r *http.Request, f store.Flow, heading, action, resend, restart string) *ui.CodePage {
	b := s.base(r)
	return &ui.CodePage{Base: b, Heading: b.T(heading), Flow: f.ID, Email: f.Email, Minutes: int(s.Flows.Config.CodeTTL.Minutes()), Action: action, ResendAction: resend, RestartURL: restart}
}

// apiCode is the JSON twin of a code step: {flow_id, flow_token, code}.
func (s *Server) apiCode(verify func(ctx context.Context, c flow.Client, id, code string) (store.Flow, error), next string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var in struct {
			flowRef
			Code string `json:"code"`
		}
		if err := decodeJSON(r, &in); err != nil {
			return err
		}
		f, err := verify(r.Context(), s.apiClient(r, in.FlowToken), in.FlowID, in.Code)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, FlowJSON{FlowID: f.ID, Email: f.Email, Next: next})
	}
}

// apiResend is the JSON twin of "send a new code": {flow_id, flow_token}.
func (s *Server) apiResend(again func(ctx context.Context, c flow.Client, id string) error) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var in flowRef
		if err := decodeJSON(r, &in); err != nil {
			return err
		}
		if err := again(r.Context(), s.apiClient(r, in.FlowToken), in.FlowID); err != nil {
			return err
		}
		return writeJSON(w, http.StatusAccepted, FlowJSON{FlowID: in.FlowID, Next: "code"})
	}
}
