package ui

// SystemItem is one end-user system on the Systems page.
type SystemItem struct {
	ID, Name string
	// Rights are the rights it may use, described.
	Rights []string
	// Auth says how it signs in; Keyed is true for a public key
	// (rotated by pasting a new key, through the API).
	Auth    string
	Keyed   bool
	Created string
	// Expires is the expiry date, or "".
	Expires string
	// LastUsed is the last sign-in through it, or "".
	LastUsed string
	// Live is false once revoked or expired; Status then says which.
	Live   bool
	Status string
}

// RightOption is a right that can be ticked.
type RightOption struct {
	Name, Description string
	Checked           bool
}

// SystemGroup is the person's own systems, or an organisation's they
// administer.
type SystemGroup struct {
	// OrgID is "" for the person's own systems.
	OrgID, Title string
	Systems      []SystemItem
	Rights       []RightOption
}

// SystemsForm keeps what was typed into the create form.
type SystemsForm struct {
	OrgID, Name, Expires, PublicKey string
}

// SystemsPage is /account/systems, the advanced "Systems" section.
type SystemsPage struct {
	Base
	// Allowed is the "allow sign-in from applications" switch.
	Allowed bool
	Groups  []SystemGroup
	Form    SystemsForm
	// NewSecret, shown once, is the secret of the system just created
	// or rotated (NewSystemID names it).
	NewSecret, NewSystemID string
	// LoginURL is the API endpoint the software calls.
	LoginURL string
}

func init() { Pages = append(Pages, "systems") }
