package authn_test

import (
	"slices"
	"testing"

	"github.com/portvakt/portvakt/internal/authn"
)

func TestAMR(t *testing.T) {
	tests := []struct {
		methods []authn.Method
		want    []string
	}{
		{[]authn.Method{authn.Password}, []string{"pwd"}},
		{[]authn.Method{authn.Password, authn.SMS}, []string{"pwd", "sms", "mfa"}},
		{[]authn.Method{authn.Password, authn.TOTP}, []string{"pwd", "otp", "mfa"}},
		{[]authn.Method{authn.Password, authn.Email}, []string{"pwd", "mca", "mfa"}},
		{[]authn.Method{authn.Password, authn.SMS, authn.TOTP}, []string{"pwd", "sms", "otp", "mfa"}},
		{[]authn.Method{authn.Recovery}, []string{"otp"}},
	}
	for _, tt := range tests {
		if got := authn.AMR(tt.methods); !slices.Equal(got, tt.want) {
			t.Errorf("AMR(%v) = %v, want %v", tt.methods, got, tt.want)
		}
	}
}

func TestLevels(t *testing.T) {
	l := authn.Levels{authn.SMS: 1}
	if got := l.Max([]authn.Method{authn.Password, authn.SMS}); got != 1 {
		t.Errorf("Max(password, sms) with sms at 1 = %d, want 1", got)
	}
	if got := l.Max([]authn.Method{authn.Password, authn.TOTP}); got != 3 {
		t.Errorf("Max(password, totp) = %d, want the default 3", got)
	}
	if got := l.Of("nonsense"); got != 0 {
		t.Errorf("Of(nonsense) = %d, want 0", got)
	}
}
