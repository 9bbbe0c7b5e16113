package op

import (
	"slices"
	"strings"
	"testing"
)

// FuzzClaimsAndACRValues: whatever arrives as the claims parameter or
// acr_values, reading it never panics; values with whitespace are never
// taken; the level a request demands is one the table knows; and the acr
// an ID token would carry is a configured value at or below the session's
// level.
func FuzzClaimsAndACRValues(f *testing.F) {
	for _, s := range [][2]string{
		{`{"id_token":{"acr":{"essential":true,"values":["urn:portvakt:level:2"]}}}`, ""},
		{`{"id_token":{"acr":{"value":"urn:portvakt:level:3","values":["x"," y"]}}}`, "urn:portvakt:level:1"},
		{`{"id_token":{"acr":null}}`, "urn:portvakt:level:4 urn:portvakt:level:1"},
		{`{"userinfo":{"email":null}}`, "idporten-loa-high"},
		{`[]`, "\t\n"},
		{`{"id_token":{"acr":{"values":[1,2]}}}`, ""},
	} {
		f.Add(s[0], s[1], 2)
	}
	table := newACRTable(DefaultACR)
	f.Fuzz(func(t *testing.T, claims, acrValues string, level int) {
		vals, essential, ok, err := claimsACR(claims)
		if err != nil && (ok || essential || vals != nil) {
			t.Fatalf("claimsACR(%q) failed but returned values %q", claims, vals)
		}
		if ok != (len(vals) > 0) {
			t.Fatalf("claimsACR(%q): ok=%v with %d values", claims, ok, len(vals))
		}
		for _, v := range vals {
			if v == "" || slices.ContainsFunc([]rune(v), func(r rune) bool { return isSpace(r) }) {
				t.Fatalf("claimsACR(%q) took %q", claims, v)
			}
		}
		for _, values := range [][]string{vals, strings.Fields(acrValues)} {
			l, known := table.required(values)
			if known && table.levelOf(table.canonical[l]) != l {
				t.Fatalf("required(%q) = %d, not a configured level", values, l)
			}
			if a := table.acr(level, values); a != "" && (!slices.Contains(table.values, a) || table.levelOf(a) > level) {
				t.Fatalf("acr(%d, %q) = %q", level, values, a)
			}
		}
	})
}
