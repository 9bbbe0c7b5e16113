package web

import (
	"slices"

	"github.com/portvakt/portvakt/internal/web/ui"
)

// amrWords are the i18n keys that name an RFC 8176 method reference in
// the user's words, in the order a sign-in uses them. "mfa" is said by
// the second sentence; "user" (the fingerprint, face or PIN a passkey
// asks for) is part of the passkey.
var amrWords = []struct{ amr, key string }{
	{"fed", "security.session.amr.fed"},
	{"pwd", "security.session.amr.pwd"},
	{"mca", "security.session.amr.mca"},
	{"sms", "security.session.amr.sms"},
	{"otp", "security.session.amr.otp"},
	{"hwk", "security.session.amr.hwk"},
}

// signedInWith says how this session signed in, in the user's language:
// "Signed in with password and SMS code. That is two-step sign-in." The
// level and the amr values stay on the element as data attributes, for
// tools and tests, never as the sentence a person reads.
func signedInWith(b ui.Base, amr []string) string {
	var words []string
	for _, w := range amrWords {
		if slices.Contains(amr, w.amr) {
			words = append(words, b.T(w.key))
		}
	}
	if len(words) == 0 {
		return ""
	}
	s := b.T("security.session.with", "methods", joinAnd(b, words))
	if slices.Contains(amr, "mfa") {
		s += " " + b.T("security.session.two_step")
	}
	return s
}

// joinAnd joins "a", "b", "c" as "a, b and c" in the user's language.
func joinAnd(b ui.Base, words []string) string {
	switch len(words) {
	case 1:
		return words[0]
	}
	out := ""
	for i, w := range words[:len(words)-1] {
		if i > 0 {
			out += ", "
		}
		out += w
	}
	return out + " " + b.T("security.session.and") + " " + words[len(words)-1]
}
