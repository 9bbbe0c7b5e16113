package ui

// UpstreamButton is a "Sign in with …" button (or a "Link …" one on the
// security page), in the order of the configuration.
type UpstreamButton struct {
	ID, Label string
}

// IdentityItem is one linked identity under "Sign-in methods".
type IdentityItem struct {
	Provider, Subject string
	// Label is the provider's name; Shown the masked national ID or the
	// upstream address.
	Label, Shown string
	Linked, Used string
}

// FederatedPage is the choice after an upstream sign-in: a new identity
// (ask: create or link; link: sign in to link) or one already linked to
// another account (conflict: move it here, sign in to that one, cancel).
type FederatedPage struct {
	Base
	Flow  string
	Next  string
	Label string
	// Shown is the identity masked; Holder the other account masked.
	Shown, Holder string
	// NationalID says Shown is a masked national identity number.
	NationalID bool
	// SignedIn reports the browser is signed in (a link goes to this
	// account).
	SignedInAs string
}

// ConfirmUnlinkPage asks before a linked identity is removed.
type ConfirmUnlinkPage struct {
	Base
	Provider, Subject, Label, Shown string
}
