package config

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/portvakt/portvakt/internal/op"
)

// oidcProblems checks oidc.acr and oidc.clients[].claims as the OpenID
// Provider will, so that config check names them before serve fails.
func (c Config) oidcProblems() []Error {
	var es []Error
	seen := map[string]bool{}
	for i, a := range c.OIDC.ACR {
		path := fmt.Sprintf("oidc.acr[%d]", i)
		if a.Value == "" || strings.ContainsFunc(a.Value, unicode.IsSpace) {
			es = append(es, Error{Path: path + ".value", Message: fmt.Sprintf("must be set and contain no white space, but is %q", a.Value)})
		} else if seen[a.Value] {
			es = append(es, Error{Path: path + ".value", Message: fmt.Sprintf("%q is listed twice", a.Value)})
		}
		seen[a.Value] = true
		if a.Level < 1 {
			es = append(es, Error{Path: path + ".level", Message: fmt.Sprintf("must be 1 or more, but is %d", a.Level)})
		}
		for _, m := range a.AMR {
			if m == "" || strings.ContainsFunc(m, unicode.IsSpace) {
				es = append(es, Error{Path: path + ".amr", Message: fmt.Sprintf("%q is empty or contains white space", m)})
			}
		}
	}
	for i, cl := range c.OIDC.Clients {
		if err := op.CheckClaims(cl.Claims); err != nil {
			es = append(es, Error{Path: fmt.Sprintf("oidc.clients[%d]", i), Message: err.Error()})
		}
	}
	return es
}
