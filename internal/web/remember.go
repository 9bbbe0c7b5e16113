package web

import (
	"net/http"
	"time"
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
