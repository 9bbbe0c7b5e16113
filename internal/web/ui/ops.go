package ui

// Pages of the account's operations (issue 15): where the account is
// signed in, its security history, and deleting it. They are listed here
// rather than in Pages' literal so that the areas do not edit one line.
func init() {
	Pages = append(Pages, "sessions", "history", "delete")
}

// SessionItem is one signed-in session on the sessions page.
type SessionItem struct {
	ID string
	// Device is the browser and system in words ("Firefox 140 on Linux").
	Device  string
	Network string
	Started string
	Used    string
	// SignedInWith says how it signed in, in words; Level and AMR are the
	// same for tools (data attributes).
	SignedInWith string
	Level        int
	AMR          string
	Via          string
	Current      bool
}

// BrowserItem is one remembered browser on the sessions page.
type BrowserItem struct {
	ID      string
	Device  string
	Network string
	Since   string
	Used    string
	Until   string
	Current bool
}

// SessionsPage is "Where you're signed in".
type SessionsPage struct {
	Base
	Sessions []SessionItem
	// More counts the sessions not listed (beyond the list's bound).
	More         int
	Browsers     []BrowserItem
	MoreBrowsers int
	// RememberDays is 0 when browsers are never remembered.
	RememberDays int
	// Others says there are sessions (or browsers) other than this one,
	// for "sign out everywhere else".
	Others, OtherBrowsers bool
}

// HistoryItem is one event on the security history page.
type HistoryItem struct {
	When, What, Detail, Where string
	// Warning marks events the user should look at (a refused sign-in).
	Warning bool
	Kind    string
}

// HistoryPage is the user's security history.
type HistoryPage struct {
	Base
	Days   int
	Events []HistoryItem
}

// DeletePage asks before the account is deleted, or says when it will
// be.
type DeletePage struct {
	Base
	// Days is the grace period; Due the date a pending deletion happens.
	Days int
	Due  string
}
