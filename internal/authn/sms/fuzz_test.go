package sms_test

import (
	"strings"
	"testing"

	"github.com/portvakt/portvakt/internal/authn/sms"
	"github.com/portvakt/portvakt/internal/problem"
)

// FuzzParsePhone: any input either becomes an E.164 number (a "+", then
// 8 to 15 digits) that parses to itself again, with a country, or is
// refused as the user's mistake; a region that is not supported is the
// operator's. Never a panic.
func FuzzParsePhone(f *testing.F) {
	for _, s := range [][2]string{
		{"+47 912 34 567", ""}, {"912 34 567", "NO"}, {"0046 70 123 45 67", ""},
		{"070-123 45 67", "SE"}, {"4791234567", "no"}, {"+＋1", "US"}, {"(0)8 123", "SE"},
		{"１２３", "NO"}, {"+" + strings.Repeat("9", 70), ""}, {"12345678", "XX"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, in, region string) {
		got, err := sms.ParsePhone(in, region)
		if err != nil {
			if _, ok := problem.As(err); !ok && !strings.Contains(err.Error(), "default region") {
				t.Fatalf("ParsePhone(%q, %q): %v is neither a problem nor a region error", in, region, err)
			}
			return
		}
		if len(got) < 9 || len(got) > 16 || got[0] != '+' || strings.Trim(got[1:], "0123456789") != "" {
			t.Fatalf("ParsePhone(%q, %q) = %q, not E.164", in, region, got)
		}
		again, err := sms.ParsePhone(got, "")
		if err != nil || again != got {
			t.Fatalf("ParsePhone(%q) = %q, %v; E.164 must parse to itself", got, again, err)
		}
		if sms.Country(got) == "" {
			t.Fatalf("Country(%q) is empty", got)
		}
		_ = sms.Mask(got)
	})
}
