package i18n_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/portvakt/portvakt/internal/i18n"
)

// FuzzNegotiate: whatever a request sends as ui_locales, cookie or
// Accept-Language, negotiation picks a supported language and never
// panics; a tag it maps is mapped the same way again.
func FuzzNegotiate(f *testing.F) {
	cat, err := i18n.New(nil)
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range [][4]string{
		{"fr sv", "", "", ""},
		{"", "nb", "sv", "nb-NO,nb;q=0.9,en;q=0.5"},
		{"", "", "xx-yy-zz", ";;;"},
		{"", "", "en-" + strings.Repeat("1abc-", 40) + "x", "sv-FI;q=0.8,*"},
		{"nn-NO-x-private", "", "en-u-ca-gregory-nu-latn", "de-DE,sv;q=0.8"},
		{"\x00", "", "-", ",,,,q=1"},
	} {
		f.Add(s[0], s[1], s[2], s[3])
	}
	f.Fuzz(func(t *testing.T, ui, account, cookie, accept string) {
		got := cat.Negotiate(ui, account, cookie, accept, "")
		if !slices.Contains(i18n.Languages, got) {
			t.Fatalf("Negotiate(%q, %q, %q, %q) = %q, not a supported language", ui, account, cookie, accept, got)
		}
		for _, tag := range []string{ui, account, cookie} {
			l := cat.Supported(tag)
			if l == "" {
				continue
			}
			if !slices.Contains(i18n.Languages, l) || cat.Supported(l) != l {
				t.Fatalf("Supported(%q) = %q, which maps to %q", tag, l, cat.Supported(l))
			}
		}
	})
}

// TestNegotiationIsInputBounded: a language cookie, ui_locales or
// Accept-Language of 880 KB costs no more allocations than one of 4 KB
// (x/text's parser is quadratic in a tag's variants, so an unbounded tag
// cost about a second of CPU). Counted, not timed.
func TestNegotiationIsInputBounded(t *testing.T) {
	cat, err := i18n.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	tag := func(n int) string { return "en-" + strings.Repeat("1abc-", n/5) + "x" }
	list := func(n int) string { return strings.Repeat("zz-ZZ ", n/6) + "sv" }
	accept := func(n int) string { return strings.Repeat("de-DE;q=0.5,", n/12) + "sv" }
	small, big := 4<<10, 880<<10
	for _, c := range []struct {
		name string
		in   func(n int) [3]string
	}{
		{"cookie", func(n int) [3]string { return [3]string{"", tag(n), ""} }},
		{"ui_locales tag", func(n int) [3]string { return [3]string{tag(n), "", ""} }},
		{"ui_locales list", func(n int) [3]string { return [3]string{list(n), "", ""} }},
		{"Accept-Language", func(n int) [3]string { return [3]string{"", "", accept(n)} }},
		{"Accept-Language tag", func(n int) [3]string { return [3]string{"", "", tag(n)} }},
	} {
		s, b := c.in(small), c.in(big)
		as := testing.AllocsPerRun(3, func() { cat.Negotiate(s[0], "", s[1], s[2], "") })
		ab := testing.AllocsPerRun(3, func() { cat.Negotiate(b[0], "", b[1], b[2], "") })
		if ab > as+16 {
			t.Errorf("%s: %.0f allocations for 880 KB, %.0f for %d bytes; negotiation must be bounded", c.name, ab, as, small)
		}
	}
	if got := cat.Supported("sv-" + strings.Repeat("x", i18n.MaxTagLen)); got != "" {
		t.Errorf("Supported(a tag over MaxTagLen) = %q, want none", got)
	}
	if got := cat.Negotiate(strings.Repeat("zz ", i18n.MaxTags)+"sv", "", "", "", ""); got != "en" {
		t.Errorf("ui_locales: the entry after MaxTags was read (%q)", got)
	}
}

// BenchmarkNegotiateHugeCookie is what an 880 KB language cookie costs
// on every route.
func BenchmarkNegotiateHugeCookie(b *testing.B) {
	cat, err := i18n.New(nil)
	if err != nil {
		b.Fatal(err)
	}
	cookie := "en-" + strings.Repeat("1abc-", 880<<10/5) + "x"
	for b.Loop() {
		cat.Negotiate("", "", cookie, "nb-NO,nb;q=0.9", "")
	}
}
