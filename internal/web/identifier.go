package web

import (
	"slices"

	"github.com/portvakt/portvakt/internal/account"
	"github.com/portvakt/portvakt/internal/problem"
	"github.com/portvakt/portvakt/internal/web/ui"
)

// The sign-in page a message is shown on, for credentialsWording.
const (
	onEmailPage    = "email"
	onUsernamePage = "username"
)

// credentialsWording makes a sign-in mistake name only what the page
// asked for: the flows answer every failed sign-in with one key
// ("login.wrong_credentials": "the email address, username or password is
// wrong"), so none can be told apart; the page knows which of those it
// showed. On a portal whose usernames are national identity numbers the
// username is called by its name.
func (s *Server) credentialsWording(err error, page string) error {
	p := asProblem(err)
	if p == nil {
		return err
	}
	// The flows' problems may be shared values (errWrongCredentials is one
	// var): change a copy.
	p = &problem.Problem{Kind: p.Kind, Details: slices.Clone(p.Details)}
	kind := s.Flows.Config.NationalID
	for i, d := range p.Details {
		switch {
		case d.Key == "login.wrong_credentials" && page == onEmailPage:
			p.Details[i].Key = "login.wrong_credentials_email"
		case d.Key == "login.wrong_credentials" && kind != "":
			p.Details[i].Key = "login.wrong_credentials_nationalid_" + kind
		case d.Key == "login.wrong_credentials":
			p.Details[i].Key = "login.wrong_credentials_username"
		case d.Key == "login.username_required" && kind != "":
			p.Details[i].Key = "nationalid." + kind + ".required"
		}
	}
	return p
}

// usernameField labels the username field: "National identity number
// (11 digits)" where usernames are national IDs, "Username" elsewhere.
func (s *Server) usernameField(b ui.Base, page *ui.LoginUsernamePage) {
	switch kind := s.Flows.Config.NationalID; kind {
	case account.NationalIDNorway, account.NationalIDSweden:
		page.UsernameLabel, page.UsernameHint, page.Numeric = b.T("nationalid."+kind+".label"), b.T("nationalid."+kind+".hint"), true
	default:
		page.UsernameLabel = b.T("login.username.label")
	}
}

// displayUsername is how a username is shown to people: a national
// identity number masked to its birth date.
func (s *Server) displayUsername(u string) string {
	return account.MaskNationalID(s.Flows.Config.NationalID, u)
}
