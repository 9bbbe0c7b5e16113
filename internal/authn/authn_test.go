package authn_test

import (
	"slices"
	"testing"

	"github.com/portvakt/portvakt/internal/authn"
)

// TestAssess pins the rule of the package doc: two factors are two kinds
// through independent channels, and the mailbox never counts.
func TestAssess(t *testing.T) {
	tests := []struct {
		methods []authn.Method
		level   int
		amr     []string
	}{
		{nil, 0, nil},
		{[]authn.Method{authn.Password}, 1, []string{"pwd"}},
		{[]authn.Method{authn.Email}, 1, []string{"mca"}},
		// The mailbox is not a second factor: no mfa, level 1.
		{[]authn.Method{authn.Password, authn.Email}, 1, []string{"pwd", "mca"}},
		{[]authn.Method{authn.Password, authn.SMS}, 2, []string{"pwd", "sms", "mfa"}},
		{[]authn.Method{authn.Password, authn.TOTP}, 3, []string{"pwd", "otp", "mfa"}},
		{[]authn.Method{authn.Password, authn.Recovery}, 3, []string{"pwd", "otp", "mfa"}},
		{[]authn.Method{authn.Password, authn.SMS, authn.TOTP}, 3, []string{"pwd", "sms", "otp", "mfa"}},
		{[]authn.Method{authn.Password, authn.WebAuthn}, 4, []string{"pwd", "hwk", "mfa"}},
		// Two possessions are one kind.
		{[]authn.Method{authn.Email, authn.TOTP}, 1, []string{"mca", "otp"}},
		{[]authn.Method{authn.SMS, authn.TOTP}, 1, []string{"sms", "otp"}},
		{[]authn.Method{authn.Recovery}, 1, []string{"otp"}},
		// A passkey that verified the user is two factors in one.
		{[]authn.Method{authn.WebAuthn, authn.UserVerified}, 4, []string{"hwk", "user", "mfa"}},
		{[]authn.Method{authn.WebAuthn}, 1, []string{"hwk"}},
		// Order of use does not matter.
		{[]authn.Method{authn.TOTP, authn.Password}, 3, []string{"pwd", "otp", "mfa"}},
	}
	for _, tt := range tests {
		got := authn.Levels(nil).Assess(tt.methods)
		if got.Level != tt.level || !slices.Equal(got.AMR, tt.amr) {
			t.Errorf("Assess(%v) = level %d amr %v, want level %d amr %v", tt.methods, got.Level, got.AMR, tt.level, tt.amr)
		}
		if got.MFA != slices.Contains(tt.amr, "mfa") {
			t.Errorf("Assess(%v).MFA = %v, want %v", tt.methods, got.MFA, !got.MFA)
		}
	}
}

func TestLevels(t *testing.T) {
	l := authn.Levels{authn.TOTP: 4}
	if got := l.Assess([]authn.Method{authn.Password, authn.TOTP}).Level; got != 4 {
		t.Errorf("Assess(password, totp) with totp at 4 = %d, want 4", got)
	}
	if got := l.Assess([]authn.Method{authn.Password, authn.SMS}).Level; got != 2 {
		t.Errorf("Assess(password, sms) = %d, want the default 2", got)
	}
	if got := l.Of("nonsense"); got != 0 {
		t.Errorf("Of(nonsense) = %d, want 0", got)
	}
	// A configured email level changes nothing: it is never a second factor.
	if got := (authn.Levels{authn.Email: 3}).Assess([]authn.Method{authn.Password, authn.Email}).Level; got != 1 {
		t.Errorf("Assess(password, email) with email at 3 = %d, want 1", got)
	}
}

func TestModelCoversEveryMethod(t *testing.T) {
	for m := range authn.DefaultLevels {
		if _, ok := authn.SpecOf(m); !ok {
			t.Errorf("method %q has a level but no entry in the model", m)
		}
	}
	for _, m := range authn.SecondFactors {
		if _, ok := authn.SpecOf(m); !ok {
			t.Errorf("second factor %q has no entry in the model", m)
		}
	}
}

// TestAssess_Upstream pins the upstream channel: alone it is one factor,
// with a second factor of the account two, and never more than the local
// factor's level whatever the upstream proved.
func TestAssess_Upstream(t *testing.T) {
	for _, tc := range []struct {
		used  []authn.Method
		level int
		amr   []string
	}{
		{[]authn.Method{authn.Upstream}, 1, []string{"fed"}},
		{[]authn.Method{authn.Upstream, authn.TOTP}, 3, []string{"fed", "otp", "mfa"}},
		{[]authn.Method{authn.Upstream, authn.Email}, 1, []string{"fed", "mca"}},
		{[]authn.Method{authn.Upstream, authn.WebAuthn}, 4, []string{"fed", "hwk", "mfa"}},
	} {
		a := authn.DefaultLevelsAssess(tc.used)
		if a.Level != tc.level || !slices.Equal(a.AMR, tc.amr) {
			t.Errorf("Assess(%v) = level %d amr %v, want %d %v", tc.used, a.Level, a.AMR, tc.level, tc.amr)
		}
	}
	if got := authn.Methods([]string{"upstream"}); !slices.Equal(got, []authn.Method{authn.Upstream}) {
		t.Errorf("Methods([upstream]) = %v: a stored upstream sign-in must read back", got)
	}
}
