package account_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/portvakt/portvakt/internal/account"
	"github.com/portvakt/portvakt/internal/problem"
)

// FuzzParseEmail: an address is accepted trimmed, within the length cap,
// with one "@" splitting a local part from a lower-case domain, and
// accepted again unchanged; anything else is refused as the user's
// mistake on the field.
func FuzzParseEmail(f *testing.F) {
	for _, s := range []string{"per@Example.NO", " a@b.c ", "@", "a@", "@b", "a@@b", "æøå@blåbær.no", strings.Repeat("x", 300) + "@y.z", "a b@c.d", "\x00@\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := account.ParseEmail("email", in)
		if err != nil {
			p, ok := problem.As(err)
			if !ok || len(p.Details) == 0 || p.Details[0].Field != "email" {
				t.Fatalf("ParseEmail(%q): %v is not a problem on the field", in, err)
			}
			return
		}
		at := strings.LastIndexByte(got, '@')
		if at <= 0 || at == len(got)-1 || utf8.RuneCountInString(got) > account.MaxEmailLength || got != strings.TrimSpace(got) {
			t.Fatalf("ParseEmail(%q) = %q", in, got)
		}
		if again, err := account.ParseEmail("email", got); err != nil || again != got {
			t.Fatalf("ParseEmail(%q) = %q, %v; want it unchanged", got, again, err)
		}
	})
}
