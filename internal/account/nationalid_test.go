package account_test

import (
	"testing"

	"github.com/portvakt/portvakt/internal/account"
	"github.com/portvakt/portvakt/internal/problem"
)

func TestParseNationalID(t *testing.T) {
	tests := []struct {
		name, kind, in string
		want           string // the number as held, or "" for an error
		key            string // the error's key
	}{
		{"fødselsnummer", "no", "01017012343", "01017012343", ""},
		{"fødselsnummer with spaces", "no", " 010170 12343 ", "01017012343", ""},
		{"D-nummer (day + 40)", "no", "41017012337", "41017012337", ""},
		{"29 February", "no", "29020012380", "29020012380", ""},
		{"last of December", "no", "31129912319", "31129912319", ""},
		{"a typing error in a control digit", "no", "01017012345", "", "nationalid.no.control"},
		{"two digits swapped", "no", "10017012343", "", "nationalid.no.control"},
		{"ten digits, as in Sweden", "no", "7001011234", "", "nationalid.no.length"},
		{"month 13", "no", "01137012343", "", "nationalid.no.date"},
		{"day 0", "no", "00017012343", "", "nationalid.no.date"},
		{"31 April", "no", "31047012343", "", "nationalid.no.date"},
		{"letters", "no", "0101701234a", "", "nationalid.no.digits"},
		{"an email address", "no", "kari@example.no", "", "nationalid.no.digits"},
		{"empty", "no", "  ", "", "nationalid.no.required"},
		{"personnummer with a hyphen", "se", "811228-9874", "8112289874", ""},
		{"personnummer with the century", "se", "19121212-1212", "1212121212", ""},
		{"personnummer over 100 (+)", "se", "121212+1212", "1212121212", ""},
		{"samordningsnummer (day + 60)", "se", "701063-2391", "7010632391", ""},
		{"a wrong check digit", "se", "811228-9875", "", "nationalid.se.control"},
		{"eleven digits, as in Norway", "se", "01017012343", "", "nationalid.se.length"},
		{"month 13", "se", "811328-9874", "", "nationalid.se.date"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := account.ParseNationalID("username", tt.kind, tt.in)
			if tt.key == "" {
				if err != nil || got != tt.want {
					t.Errorf("ParseNationalID(%q, %q) = %q, %v, want %q", tt.kind, tt.in, got, err, tt.want)
				}
				return
			}
			p, ok := problem.As(err)
			if !ok || len(p.Details) != 1 || p.Details[0].Key != tt.key || p.Details[0].Field != "username" {
				t.Errorf("ParseNationalID(%q, %q) = %q, %v, want the problem %s on username", tt.kind, tt.in, got, err, tt.key)
			}
			for _, v := range p.Details[0].Args {
				if v == tt.in {
					t.Errorf("the problem echoes the number: %v", p.Details[0].Args)
				}
			}
		})
	}
}

func TestMaskNationalID(t *testing.T) {
	for _, tt := range []struct{ kind, in, want string }{
		{"no", "01017012343", "010170 •••••"},
		{"se", "8112289874", "811228-••••"},
		{"", "kari", "kari"},
	} {
		if got := account.MaskNationalID(tt.kind, tt.in); got != tt.want {
			t.Errorf("MaskNationalID(%q, %q) = %q, want %q", tt.kind, tt.in, got, tt.want)
		}
	}
}
