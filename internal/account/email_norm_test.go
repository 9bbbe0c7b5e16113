package account_test

import (
	"testing"

	"github.com/portvakt/portvakt/internal/account"
)

// TestParseEmailNormalises: Unicode and IDN variants of one address come
// out as one form (issue 10, finding 10): NFC, the domain in its IDNA
// ASCII form and lower case; the local part keeps its case.
func TestParseEmailNormalises(t *testing.T) {
	const want = "kari@xn--blbr-roah.no"
	for _, in := range []string{
		"kari@blåbær.no",
		"kari@BLÅBÆR.NO",
		"kari@bla\u030abær.no", // å typed as a + combining ring
		"kari@xn--blbr-roah.no",
		"kari@XN--BLBR-ROAH.NO",
		"kari@ｂｌåｂæｒ.no", // full-width letters
	} {
		got, err := account.ParseEmail("email", in)
		if err != nil || got != want {
			t.Errorf("ParseEmail(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	// The local part is NFC too.
	if got, err := account.ParseEmail("email", "a\u030ase@example.no"); err != nil || got != "\u00e5se@example.no" {
		t.Errorf("ParseEmail(decomposed local part) = %q, %v; want the composed form", got, err)
	}
	// A domain IDNA refuses is an invalid address, said on the field.
	for _, in := range []string{"kari@xn--a.no", "kari@exa_mple.no"} {
		if got, err := account.ParseEmail("email", in); err == nil {
			t.Errorf("ParseEmail(%q) = %q, want an error", in, got)
		}
	}
}

// TestEmailKey: every variant, in any case, has one key; different
// addresses have different keys.
func TestEmailKey(t *testing.T) {
	key := account.EmailKey("Kari.Nordmann@xn--blbr-roah.no")
	for _, v := range []string{"kari.nordmann@blåbær.no", "KARI.NORDMANN@BLA\u030aBÆR.NO", "Kari.Nordmann@XN--BLBR-ROAH.no"} {
		if got := account.EmailKey(v); got != key {
			t.Errorf("EmailKey(%q) = %q, want %q", v, got, key)
		}
	}
	if account.EmailKey("kari@blabaer.no") == key || account.EmailKey("kari.nordman@blåbær.no") == key {
		t.Error("different addresses share a key")
	}
}
