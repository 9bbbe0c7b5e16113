package flow

import "github.com/portvakt/portvakt/internal/account"

// parseUsername checks a username typed at sign-in where usernames are
// national identity numbers (Config.NationalID), before any password is
// looked at or any try is counted, and returns it in the form accounts
// hold (digits only). A number that cannot be one (wrong length, no date,
// control digits that do not match) is the user's typing mistake and says
// so; it reveals nothing about accounts. Other usernames pass unchanged.
func (s *Service) parseUsername(username string) (string, error) {
	if s.Config.NationalID == "" {
		return username, nil
	}
	return account.ParseNationalID("username", s.Config.NationalID, username)
}
