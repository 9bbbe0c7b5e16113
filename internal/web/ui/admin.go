package ui

// Pages of the support console (/admin, issue 15). Every value is text;
// nothing is template.HTML.
func init() {
	Pages = append(Pages, "admin", "admin_account", "admin_audit", "admin_clients")
}

// AdminNav says which console links the viewer may follow.
type AdminNav struct {
	// IsAdmin shows the admin-only parts (clients, roles).
	IsAdmin bool
	// Current is "search", "audit" or "clients".
	Current string
}

// AdminMatch is one search result, masked.
type AdminMatch struct {
	ID, Name, Username, Email, Matched string
}

// AdminPage is the console's start: the search.
type AdminPage struct {
	Base
	Nav      AdminNav
	Query    string
	Searched bool
	Matches  []AdminMatch
}

// AdminAction is one action form on an account: its own reason field,
// with the reason's error when it is the form that failed.
type AdminAction struct {
	// Action is the last path segment it posts to ("lock").
	Action string
	Title  string
	Hint   string
	Button string
	// Hidden are extra fields (name, value).
	Hidden [][2]string
	Danger bool
	// Failed is true on the form whose submission failed; its reason
	// field then has the id "reason" the error summary links to.
	Failed bool
	Errors []FieldError
	// ReasonID is the reason field's id ("reason" on the failed form);
	// ReasonLabel its label.
	ReasonID, ReasonLabel string
}

// AdminAuditRow is one audit event as the console shows it.
type AdminAuditRow struct {
	When, Kind, Actor, Subject, Target, Outcome, Reason, Where string
	SubjectLink                                                string
}

// AdminAccountPage shows one account: a reason form until it is opened,
// then what support may see and do.
type AdminAccountPage struct {
	Base
	Nav AdminNav
	ID  string
	// Opened is false until a reason was given; then the rest is set.
	Opened bool
	// Done is the translated notice of the action just taken.
	Done           string
	Name           string
	Username       string
	Created        string
	Locked         bool
	ThrottleLocked bool
	HasPassword    bool
	Emails         [][3]string // address, "primary"/"", "verified"/""
	Factors        [][4]string // kind, name, added, last used
	Identities     []AdminIdentity
	Sessions       [][4]string // device, network, started, level
	Roles          []string
	Actions        []AdminAction
	Events         []AdminAuditRow
}

// AdminIdentity is a linked identity with its remove form.
type AdminIdentity struct {
	Provider, Shown, Linked string
	Remove                  AdminAction
}

// AdminAuditPage is the audit log query.
type AdminAuditPage struct {
	Base
	Nav                                AdminNav
	Account, Actor, Kind, Since, Until string
	Kinds                              []string
	Events                             []AdminAuditRow
	// Next is the URL of the next page, or "".
	Next string
}

// AdminClient is one OpenID client in the console.
type AdminClient struct {
	ID, Name, Kind string
	Configured     bool
}

// AdminClientsPage lists the OpenID clients and creates one.
type AdminClientsPage struct {
	Base
	Nav     AdminNav
	Clients []AdminClient
	// NewID and NewSecret show a created client's secret, once.
	NewID, NewSecret string
	// Form values kept after a mistake.
	ID, Name, RedirectURIs string
	Public                 bool
	Done                   string
}
