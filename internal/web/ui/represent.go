package ui

// DelegationItem is one row on the representation page.
type DelegationItem struct {
	ID string
	// Name is the represented party (on "You act for") or the agent (on
	// "Who may act for you"); Shown the masked national identity number
	// or birth date.
	Name, Shown string
	Rights      []string
	// Expires is the last day in force, or "".
	Expires string
	Status  string
	// Active: in force now; Pending: waiting for the other account.
	Active, Pending bool
}

// RepresentForm keeps what was typed into one of the add forms.
type RepresentForm struct {
	// Kind is "person" or "account": the form the input belongs to.
	Kind                              string
	Account, Name, BirthDate, Expires string
	Rights                            []string
}

// Has reports whether the form had right r ticked.
func (f RepresentForm) Has(r string) bool {
	for _, x := range f.Rights {
		if x == r {
			return true
		}
	}
	return false
}

// RepresentPage is /account/representation.
type RepresentPage struct {
	Base
	ActsFor, ActedForBy []DelegationItem
	// ActingFor names whom this session acts for.
	ActingFor string
	// CanChoose: the person represents someone now.
	CanChoose bool
	// Rights are the rights a delegation may carry.
	Rights []string
	Form   RepresentForm
}

// ActAsChoice is one party on the chooser.
type ActAsChoice struct {
	ID, Name, Shown string
	Rights          []string
	Current         bool
}

// ActAsPage is the chooser "Who are you acting for?".
type ActAsPage struct {
	Base
	// Auth is the authorization request to continue, or "".
	Auth string
	// Client is the app's name when there is one.
	Client      string
	Self        string
	SelfCurrent bool
	Choices     []ActAsChoice
}
