package account_test

import (
	"testing"

	"github.com/portvakt/portvakt/internal/account"
	"github.com/portvakt/portvakt/internal/problem"
)

func TestParseEmail(t *testing.T) {
	tests := []struct {
		in, want string
		key      string // the problem key, or "" for success
		missing  string // the missing-part reference, if any
	}{
		{in: " Kari.Nordmann@Example.NO ", want: "Kari.Nordmann@example.no"},
		{in: "a+tag@sub.example.com", want: "a+tag@sub.example.com"},
		{in: "", key: "email.required"},
		{in: "   ", key: "email.required"},
		{in: "kari.example.no", key: "email.invalid_missing", missing: "email.missing_at"},
		{in: "@example.no", key: "email.invalid_missing", missing: "email.missing_local"},
		{in: "kari@", key: "email.invalid_missing", missing: "email.missing_domain"},
		{in: "kari@localhost", key: "email.invalid_missing", missing: "email.missing_dot"},
		{in: "kari@example.", key: "email.invalid_missing", missing: "email.missing_dot"},
		{in: "ka ri@example.no", key: "email.invalid"},
		{in: "Kari <kari@example.no>", key: "email.invalid"},
		{in: string(make([]byte, 300)) + "@x.no", key: "email.too_long"},
	}
	for _, tt := range tests {
		got, err := account.ParseEmail("email", tt.in)
		if tt.key == "" {
			if err != nil || got != tt.want {
				t.Errorf("ParseEmail(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
			continue
		}
		p, ok := problem.As(err)
		if !ok || len(p.Details) != 1 {
			t.Errorf("ParseEmail(%q) error = %v, want a problem %s", tt.in, err, tt.key)
			continue
		}
		d := p.Details[0]
		if d.Key != tt.key || d.Field != "email" || p.Kind != problem.Invalid {
			t.Errorf("ParseEmail(%q) = %s on %q, want %s on email", tt.in, d.Key, d.Field, tt.key)
		}
		if tt.missing != "" && d.Args["missing"] != problem.Ref(tt.missing) {
			t.Errorf("ParseEmail(%q) missing = %v, want %s", tt.in, d.Args["missing"], tt.missing)
		}
	}
}
