package sms_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/portvakt/portvakt/internal/authn/sms"
	"github.com/portvakt/portvakt/internal/problem"
)

func TestParsePhone(t *testing.T) {
	tests := []struct {
		name   string
		input  string
		region string
		want   string
	}{
		{"Norwegian mobile with +", "+47 912 34 567", "NO", "+4791234567"},
		{"Norwegian mobile with 00", "0047 912 34 567", "NO", "+4791234567"},
		{"Norwegian national", "912 34 567", "NO", "+4791234567"},
		{"national region in lower case", "91234567", "no", "+4791234567"},
		{"dots, dashes and parentheses", "(912) 34-5.67", "NO", "+4791234567"},
		{"no-break and thin spaces", "912\u00a034\u2009567", "NO", "+4791234567"},
		{"surrounding white space", "  +4791234567\n", "NO", "+4791234567"},
		{"plus inside parentheses", "(+47) 91234567", "NO", "+4791234567"},
		{"fullwidth plus", "＋4791234567", "", "+4791234567"},
		// Someone typed the country code without the plus; 10 digits
		// cannot be a Norwegian national number.
		{"country code without plus", "47 91 23 45 67", "NO", "+4791234567"},
		{"foreign number from another default region", "+47 912 34 567", "SE", "+4791234567"},
		{"00 with no default region", "0046 70 123 45 67", "", "+46701234567"},
		{"Swedish national with trunk 0", "070-123 45 67", "SE", "+46701234567"},
		{"Swedish with 00", "0046 70 123 45 67", "SE", "+46701234567"},
		{"Swedish landline of 8 digits", "08-123 456 7", "SE", "+4681234567"},
		{"Danish", "+45 20 12 34 56", "DK", "+4520123456"},
		{"Danish national", "20 12 34 56", "DK", "+4520123456"},
		{"Finnish national with trunk 0", "040 123 4567", "FI", "+358401234567"},
		{"Finnish international", "+358 40 123 4567", "NO", "+358401234567"},
		{"Icelandic", "+354 611 1234", "", "+3546111234"},
		{"Icelandic national", "611 1234", "IS", "+3546111234"},
		{"German mobile", "0151 23456789", "DE", "+4915123456789"},
		{"German with slash", "030/1234567", "DE", "+49301234567"},
		{"British mobile", "07911 123456", "GB", "+447911123456"},
		// "(0)" after the country code is a trunk prefix to drop.
		{"British with (0)", "+44 (0)7911 123456", "NO", "+447911123456"},
		{"US national", "(202) 555-0123", "US", "+12025550123"},
		{"US with trunk 1", "1-202-555-0123", "US", "+12025550123"},
		{"US with 011 to Norway", "011 47 91234567", "US", "+4791234567"},
		{"Jamaica under +1", "+1 876 555 0123", "NO", "+18765550123"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := sms.ParsePhone(tt.input, tt.region)
			if err != nil || got != tt.want {
				t.Errorf("ParsePhone(%q, %q) = %q, %v; want %q", tt.input, tt.region, got, err, tt.want)
			}
		})
	}
}

func TestParsePhone_Problems(t *testing.T) {
	tests := []struct {
		name   string
		input  string
		region string
		key    string
		args   problem.Args
	}{
		{"empty", "", "NO", "phone.required", nil},
		{"only spaces", "   ", "NO", "phone.required", nil},
		{"letters", "912 34 ABC", "NO", "phone.invalid", nil},
		{"an email address", "ola@example.no", "NO", "phone.invalid", nil},
		{"only separators", "--- ()", "NO", "phone.invalid", nil},
		{"plus in the middle", "47+91234567", "NO", "phone.invalid", nil},
		{"two plusses", "++4791234567", "NO", "phone.invalid", nil},
		{"extension", "+47 912 34 567 ext 12", "NO", "phone.invalid", nil},
		{"plus zero", "+0 123 45 678", "NO", "phone.invalid", nil},
		{"only a plus", "+", "NO", "phone.invalid", nil},
		{"very long input", strings.Repeat("1 ", 40), "NO", "phone.invalid", nil},
		{"Arabic-Indic digits", "٩١٢٣٤٥٦٧", "NO", "phone.invalid", nil},
		// Norwegian numbers have no trunk prefix, so a leading 0 makes 9 digits.
		{"Norwegian with a leading 0", "091234567", "NO", "phone.too_long",
			problem.Args{"min": 8, "max": 8, "code": "+47", "country": "NO"}},
		{"Norwegian too short", "912 34 56", "NO", "phone.too_short",
			problem.Args{"min": 8, "max": 8, "code": "+47", "country": "NO"}},
		{"Norwegian too long", "+47 912 34 56 78", "NO", "phone.too_long",
			problem.Args{"min": 8, "max": 8, "code": "+47", "country": "NO"}},
		{"country code alone", "+47", "NO", "phone.too_short",
			problem.Args{"min": 8, "max": 8, "code": "+47", "country": "NO"}},
		{"Swedish too short", "070-123", "SE", "phone.too_short",
			problem.Args{"min": 7, "max": 9, "code": "+46", "country": "SE"}},
		{"Danish too long", "+45 20 12 34 56 7", "NO", "phone.too_long",
			problem.Args{"min": 8, "max": 8, "code": "+45", "country": "DK"}},
		{"US too short", "202 555 012", "US", "phone.too_short",
			problem.Args{"min": 10, "max": 10, "code": "+1", "country": "US"}},
		{"US area code starting with 1", "+1 123 555 0123", "NO", "phone.invalid", nil},
		{"US exchange starting with 0", "+1 202 055 0123", "NO", "phone.invalid", nil},
		{"Estonia is not in the table", "+372 5123 4567", "NO", "phone.unknown_country", problem.Args{"code": "+372"}},
		{"France is not in the table", "0033 6 12 34 56 78", "NO", "phone.unknown_country", problem.Args{"code": "+33"}},
		{"Russia, a one-digit code", "+7 912 345 67 89", "NO", "phone.unknown_country", problem.Args{"code": "+7"}},
		{"national number without a default region", "912 34 567", "", "phone.missing_country", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := sms.ParsePhone(tt.input, tt.region)
			p, ok := problem.As(err)
			if !ok {
				t.Fatalf("ParsePhone(%q, %q) = %q, %v; want a problem %s", tt.input, tt.region, got, err, tt.key)
			}
			want := []problem.Detail{{Field: "phone", Key: tt.key, Args: tt.args}}
			if p.Kind != problem.Invalid || !reflect.DeepEqual(p.Details, want) {
				t.Errorf("ParsePhone(%q, %q) = %v %+v; want invalid %+v", tt.input, tt.region, p.Kind, p.Details, want)
			}
		})
	}
}

func TestParsePhone_UnknownDefaultRegion(t *testing.T) {
	// The operator's mistake is not the user's: a plain error naming the
	// allowed regions, not a problem.
	_, err := sms.ParsePhone("912 34 567", "XX")
	if err == nil {
		t.Fatal(`ParsePhone(…, "XX") = nil error`)
	}
	if _, ok := problem.As(err); ok || !strings.Contains(err.Error(), "NO") {
		t.Errorf(`ParsePhone(…, "XX") = %v; want a plain error listing the regions`, err)
	}
	// A number with its country code does not need the default region.
	if got, err := sms.ParsePhone("+4791234567", "XX"); err != nil || got != "+4791234567" {
		t.Errorf(`ParsePhone("+4791234567", "XX") = %q, %v`, got, err)
	}
}

func TestRegions(t *testing.T) {
	got := sms.Regions()
	want := []string{"DE", "DK", "FI", "GB", "IS", "NO", "SE", "US"}
	if !slices.Equal(got, want) {
		t.Errorf("Regions() = %v, want %v", got, want)
	}
}

func TestCountry(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"Norway", "+4791234567", "NO"},
		{"Sweden", "+46701234567", "SE"},
		{"Denmark", "+4520123456", "DK"},
		{"Finland", "+358401234567", "FI"},
		{"Iceland", "+3546111234", "IS"},
		{"Germany", "+4915123456789", "DE"},
		{"United Kingdom", "+447911123456", "GB"},
		{"United States", "+12025550123", "US"},
		// +1 numbers outside the US must not pass a "US" allowlist.
		{"Canada", "+14165550123", "CA"},
		{"Jamaica", "+18765550123", "JM"},
		{"Dominican Republic", "+18095550123", "DO"},
		{"Puerto Rico", "+17875550123", "PR"},
		{"a country not in the table", "+37251234567", ""},
		{"wrong length for Norway", "+479123456", ""},
		{"not E.164", "91234567", ""},
		{"letters", "+47abcdefgh", ""},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sms.Country(tt.in); got != tt.want {
				t.Errorf("Country(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestMask(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"Norway", "+4791234567", "+47 ••• •• 567"},
		{"Sweden, 9 digits", "+46701234567", "+46 ••• ••• 567"},
		{"Iceland, 7 digits", "+3546111234", "+354 •• •• 234"},
		{"Finland", "+358401234567", "+358 ••• ••• 567"},
		{"Germany, 11 digits", "+4915123456789", "+49 ••• ••• •• 789"},
		{"United States", "+12025550123", "+1 ••• •• •• 123"},
		// Too short to hide anything once three digits show.
		{"short national part", "+4712345", "•••"},
		{"not E.164", "91234567", "•••"},
		{"garbage", "+47 912 34 567", "•••"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sms.Mask(tt.in); got != tt.want {
				t.Errorf("Mask(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// Every number ParsePhone returns has a country and can be masked.
func TestParsePhone_RoundTrip(t *testing.T) {
	for _, in := range []string{"+4791234567", "+46701234567", "+4520123456", "+358401234567",
		"+3546111234", "+4915123456789", "+447911123456", "+12025550123"} {
		got, err := sms.ParsePhone(in, "")
		if err != nil || got != in {
			t.Errorf("ParsePhone(%q) = %q, %v", in, got, err)
		}
		if sms.Country(got) == "" || strings.ContainsAny(sms.Mask(got)[len(sms.Mask(got))-3:], "•") {
			t.Errorf("Country(%q) = %q, Mask = %q", got, sms.Country(got), sms.Mask(got))
		}
	}
}
