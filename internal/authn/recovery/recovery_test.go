package recovery_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"math"
	"regexp"
	"strings"
	"testing"

	"github.com/portvakt/portvakt/internal/authn/recovery"
)

var shape = regexp.MustCompile(`^[0-9a-hjkmnp-tv-z]{4}(-[0-9a-hjkmnp-tv-z]{4}){3}$`)

func mustGenerate(tb testing.TB, n int) []string {
	tb.Helper()
	codes, err := recovery.Generate(n)
	if err != nil {
		tb.Fatalf("Generate(%d): %v", n, err)
	}
	return codes
}

func TestGenerate_CountAndShape(t *testing.T) {
	if got := len(mustGenerate(t, 0)); got != 10 {
		t.Errorf("len(Generate(0)) = %d, want the default 10", got)
	}
	if got := len(mustGenerate(t, 3)); got != 3 {
		t.Errorf("len(Generate(3)) = %d, want 3", got)
	}
	if codes, err := recovery.Generate(-1); err == nil {
		t.Errorf("Generate(-1) = %q, want an error", codes)
	}
	for _, c := range mustGenerate(t, 100) {
		if !shape.MatchString(c) {
			t.Errorf("Generate gave %q, want xxxx-xxxx-xxxx-xxxx in Crockford's lower-case alphabet", c)
		}
		if !recovery.Valid(c) {
			t.Errorf("Valid(%q) = false for a generated code", c)
		}
	}
}

// TestGenerate_Entropy asserts the ≥ 64-bit floor for saved recovery
// codes (SECURITY.md §2.7) from the alphabet and length, and checks that
// every symbol is used about equally in every position, as uniformly random
// 5-bit symbols would be.
func TestGenerate_Entropy(t *testing.T) {
	if len(recovery.Alphabet) != 32 {
		t.Fatalf("len(Alphabet) = %d, want 32", len(recovery.Alphabet))
	}
	bits := float64(recovery.Chars) * math.Log2(float64(len(recovery.Alphabet)))
	if bits < 64 || int(bits) != recovery.Bits {
		t.Errorf("%d characters of a %d-symbol alphabet = %.1f bits; want ≥ 64 and Bits (%d)", recovery.Chars, len(recovery.Alphabet), bits, recovery.Bits)
	}
	for _, confusable := range "ilou" {
		if strings.ContainsRune(recovery.Alphabet, confusable) {
			t.Errorf("Alphabet contains %q", confusable)
		}
	}

	const n = 10000
	codes := mustGenerate(t, n)
	var counts [16][256]int
	for _, c := range codes {
		compact := strings.ReplaceAll(c, "-", "")
		if len(compact) != recovery.Chars {
			t.Fatalf("code %q has %d characters, want %d", c, len(compact), recovery.Chars)
		}
		for i := range len(compact) {
			counts[i][compact[i]]++
		}
	}
	// Each symbol is expected n/32 = 312.5 times per position, standard
	// deviation about 17.4; allow ±6 standard deviations across all
	// 16 × 32 cells (a false failure is far rarer than 1 in 10^6).
	const want, slack = n / 32.0, 105
	for pos := range counts {
		for _, sym := range []byte(recovery.Alphabet) {
			if got := counts[pos][sym]; math.Abs(float64(got)-want) > slack {
				t.Errorf("symbol %q at position %d appeared %d times in %d codes, want %.0f ± %d", sym, pos, got, n, want, slack)
			}
		}
	}
}

func TestGenerate_Unique(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range mustGenerate(t, 10000) {
		if seen[c] {
			t.Fatalf("Generate(10000) repeated %q", c)
		}
		seen[c] = true
	}
	for range 1000 {
		for _, c := range mustGenerate(t, 10) {
			if seen[c] {
				t.Fatalf("Generate(10) repeated %q from an earlier set", c)
			}
			seen[c] = true
		}
	}
}

func TestNormalize(t *testing.T) {
	const code = "k7q4-9xm2-pd3f-h8wa"
	tests := []struct {
		name, input, want string
	}{
		{"a generated code is already normal", code, code},
		{"upper case", "K7Q4-9XM2-PD3F-H8WA", code},
		{"spaces instead of dashes", "k7q4 9xm2 pd3f h8wa", code},
		{"no separators", "k7q49xm2pd3fh8wa", code},
		{"surrounding and doubled white space, mixed case", "  K7q4  9Xm2\tpd3F h8wA\n", code},
		{"separators in odd places", "k7-q49x-m2pd3fh-8wa", code},
		{"an en dash and a no-break space", "k7q4–9xm2\u00a0pd3f-h8wa", code},
		{"full-width characters from an East Asian keyboard", "ｋ７ｑ４－９ｘｍ２－ｐｄ３ｆ－ｈ８ｗａ", code},
		// o, i and l are not in the alphabet, so they can only be misread
		// 0 and 1 (Crockford's decoding rules).
		{"o read for 0", "k7q4-9xm2-pd3f-h8wo", "k7q4-9xm2-pd3f-h8w0"},
		{"upper-case O read for 0", "O000-0000-0000-0000", "0000-0000-0000-0000"},
		{"i and l read for 1", "i1l1-IL11-1111-1111", "1111-1111-1111-1111"},
		{"too short stays too short", "k7q4-9xm", "k7q4-9xm"},
		{"a foreign character is kept whole", "k7q4-9xm2-pd3f-h8wæ", "k7q4-9xm2-pd3f-h8wæ"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := recovery.Normalize(tt.input); got != tt.want {
				t.Errorf("Normalize(%q) = %q, want %q", tt.input, got, tt.want)
			}
		})
	}

	t.Run("round trip of generated codes in every typed form", func(t *testing.T) {
		for _, c := range mustGenerate(t, 200) {
			for _, typed := range []string{
				c,
				strings.ToUpper(c),
				strings.ReplaceAll(c, "-", ""),
				strings.ReplaceAll(c, "-", " "),
				" " + strings.ToUpper(strings.ReplaceAll(c, "-", "")) + " ",
			} {
				if got := recovery.Normalize(typed); got != c {
					t.Errorf("Normalize(%q) = %q, want %q", typed, got, c)
				}
			}
		}
	})
}

func TestValid(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  bool
	}{
		{"a code as shown", "k7q4-9xm2-pd3f-h8wa", true},
		{"upper case without dashes", "K7Q49XM2PD3FH8WA", true},
		{"with confusables o, i, l", "o7q4-9xm2-pd3f-h8wl", true},
		{"15 characters", "k7q4-9xm2-pd3f-h8w", false},
		{"17 characters", "k7q4-9xm2-pd3f-h8wa2", false},
		{"u is not in the alphabet", "k7q4-9xm2-pd3f-h8wu", false},
		{"punctuation", "k7q4-9xm2-pd3f-h8w!", false},
		{"a TOTP code", "123456", false},
		{"a non-ASCII letter", "k7q4-9xm2-pd3f-h8wæ", false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := recovery.Valid(tt.input); got != tt.want {
				t.Errorf("Valid(%q) = %v, want %v", tt.input, got, tt.want)
			}
		})
	}
}

func TestHash(t *testing.T) {
	const code = "k7q4-9xm2-pd3f-h8wa"

	t.Run("is stable across releases", func(t *testing.T) {
		// SHA-256("portvakt/recovery-code/v1\x00acct1\x00k7q49xm2pd3fh8wa"),
		// from sha256sum. Stored hashes depend on this value: changing the
		// prefix or the normalization locks every user out of their codes.
		const want = "85fb6aff104389d2fe85f31b78296ccde5a5627384b4a715b01c68e9b8db933f"
		if got := hex.EncodeToString(recovery.Hash("acct1", code)); got != want {
			t.Errorf("Hash(%q) = %s, want %s", code, got, want)
		}
	})
	t.Run("every typed form of a code has the same hash", func(t *testing.T) {
		want := recovery.Hash("acct1", code)
		for _, typed := range []string{"K7Q4-9XM2-PD3F-H8WA", "k7q49xm2pd3fh8wa", " k7q4 9xm2 pd3f h8wa "} {
			if got := recovery.Hash("acct1", typed); !bytes.Equal(got, want) {
				t.Errorf("Hash(%q) = %x, want %x as for %q", typed, got, want, code)
			}
		}
	})
	t.Run("different codes have different hashes", func(t *testing.T) {
		if bytes.Equal(recovery.Hash("acct1", code), recovery.Hash("acct1", "k7q4-9xm2-pd3f-h8wb")) {
			t.Error("Hash of two codes one character apart is equal")
		}
	})
	t.Run("the account salts the hash", func(t *testing.T) {
		if bytes.Equal(recovery.Hash("acct1", code), recovery.Hash("acct2", code)) {
			t.Error("the same code hashes alike for two accounts")
		}
	})
	t.Run("is not a plain SHA-256 of the code", func(t *testing.T) {
		// The domain prefix keeps it apart from secret.Hash of a token.
		for _, plain := range []string{code, "k7q49xm2pd3fh8wa"} {
			sum := sha256.Sum256([]byte(plain))
			if bytes.Equal(recovery.Hash("acct1", code), sum[:]) {
				t.Errorf("Hash(%q) = SHA-256(%q), want a domain-separated hash", code, plain)
			}
		}
	})
}
