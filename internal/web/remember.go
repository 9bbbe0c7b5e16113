package web

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/portvakt/portvakt/internal/authn"
	"github.com/portvakt/portvakt/internal/problem"
)

// rememberChoiceCookie holds, for the length of one second step, that the
// user ticked "don't ask again in this browser" before the code or link
// was sent (IDEP asks before sending). Its value is the flow's ID, so a
// choice never carries over to another sign-in; it grants nothing by
// itself: the flow still decides whether a browser may be remembered.
const rememberChoiceCookie = "portvakt_remember_choice"

// setRememberChoice records (or clears) the choice for flow id.
func (s *Server) setRememberChoice(w http.ResponseWriter, id string, chosen bool) {
	c := &http.Cookie{Name: rememberChoiceCookie, Value: id, Path: "/login/factor", HttpOnly: true, Secure: s.secure(), SameSite: http.SameSiteLaxMode,
		MaxAge: int((s.Flows.MFA.EmailTTL + time.Minute).Seconds())}
	if !chosen {
		c.Value, c.MaxAge = "", -1
	}
	http.SetCookie(w, c)
}

// rememberCookie returns the flow ID the choice was made for.
func rememberCookie(r *http.Request) (string, bool) {
	c, err := r.Cookie(rememberChoiceCookie)
	if err != nil || c.Value == "" {
		return "", false
	}
	return c.Value, true
}

// rememberChosen reports whether the choice was made for flow id.
func rememberChosen(r *http.Request, id string) bool {
	got, ok := rememberCookie(r)
	return ok && id != "" && got == id
}

// smsWording names the SMS in a wrong SMS code's message: the flows share
// "code.wrong" ("check the newest email") with emailed codes.
func smsWording(err error, method string) error {
	p := asProblem(err)
	if p == nil || !strings.HasPrefix(method, string(authn.SMS)) {
		return err
	}
	p = &problem.Problem{Kind: p.Kind, Details: slices.Clone(p.Details)} // never change a shared problem
	for i, d := range p.Details {
		if d.Key == "code.wrong" {
			p.Details[i].Key = "mfa.sms.code_wrong"
		}
	}
	return p
}
