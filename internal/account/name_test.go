package account_test

import (
	"testing"

	"github.com/portvakt/portvakt/internal/account"
	"github.com/portvakt/portvakt/internal/problem"
)

func TestParseName(t *testing.T) {
	for in, want := range map[string]string{
		"  Kari Nordmann ":  "Kari Nordmann",
		"Åsa Öberg-Ødegård": "Åsa Öberg-Ødegård",
		"👩‍💻 Ada":           "👩‍💻 Ada", // a zero-width joiner is part of the emoji
		"":                  "",
	} {
		got, err := account.ParseName("name", in, 200)
		if err != nil || got != want {
			t.Errorf("ParseName(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for in, chars := range map[string]string{
		"Kari\r\nBcc: all@example.org": "U+000D, U+000A",
		"Kari\x00":                     "U+0000",
		"Ka\u0085ri":                   "U+0085",
		"Kari\u2028Line":               "U+2028",
		"evil\u202Egnp.exe":            "U+202E",
		"Kari\tNordmann":               "U+0009",
	} {
		_, err := account.ParseName("name", in, 200)
		p, ok := problem.As(err)
		if !ok || p.Details[0].Key != "name.control_char" || p.Details[0].Args["chars"] != chars || p.Details[0].Field != "name" {
			t.Errorf("ParseName(%q) = %v, want name.control_char naming %s", in, err, chars)
		}
	}
	if _, err := account.ParseName("name", string(make([]rune, 201)), 200); err == nil {
		t.Error("201 NULs accepted")
	}
}
