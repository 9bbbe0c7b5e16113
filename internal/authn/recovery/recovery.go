package recovery

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"strings"
	"unicode"
)

const (
	// DefaultCount is how many codes Generate makes when asked for 0.
	DefaultCount = 10
	// Chars is the number of alphabet characters in a code.
	Chars = 16
	// Bits is the entropy of a code: Chars × 5 bits.
	Bits = Chars * 5
	// group is the number of characters between dashes.
	group = 4
)

// Alphabet is Crockford's base32 alphabet in lower case: the digits and
// the letters without i, l, o and u. i, l and o are left out because they
// are easily read as 1 and 0, u so that codes do not spell common English
// obscenities.
const Alphabet = "0123456789abcdefghjkmnpqrstvwxyz"

var encoding = base32.NewEncoding(Alphabet).WithPadding(base32.NoPadding)

// hashDomain prefixes every hashed code, so that a recovery code's hash
// can never equal the hash of another kind of token, even if the same
// string turned up as both.
const hashDomain = "portvakt/recovery-code/v1\x00"

// Generate returns n new recovery codes (DefaultCount if n is 0), each
// Bits random bits from crypto/rand, formatted as four groups of four
// characters joined by dashes ("k7q4-9xm2-pd3f-h8wa"). The codes in one
// set are distinct. Generate returns an error only for a negative n.
func Generate(n int) ([]string, error) {
	if n < 0 {
		return nil, fmt.Errorf("recovery codes: count %d is negative", n)
	}
	if n == 0 {
		n = DefaultCount
	}
	codes := make([]string, 0, n)
	seen := make(map[string]bool, n)
	var raw [Bits / 8]byte
	for len(codes) < n {
		rand.Read(raw[:]) // never returns an error (crypto/rand, Go 1.24+)
		c := format(encoding.EncodeToString(raw[:]))
		if seen[c] {
			continue // a 2^-80 event, but a set must not repeat a code
		}
		seen[c] = true
		codes = append(codes, c)
	}
	return codes, nil
}

// Normalize returns the canonical form of a code as a user typed it:
// letters in lower case (full-width letters and digits count as their
// ASCII forms), white space, dashes and invisible characters removed, the
// look-alikes o → 0 and i, l → 1 replaced (Crockford's decoding rules), and
// the result regrouped by four with dashes. For a generated code,
// Normalize(code) == code, and so is Normalize of the code in upper case,
// with spaces instead of dashes, or with no separators at all.
//
// Characters outside the alphabet (u, punctuation, other scripts) are
// kept, so that such an input stays invalid (see Valid) and cannot
// collide with a real code.
func Normalize(input string) string {
	return format(compact(input))
}

// Valid reports whether input, once normalized, has the shape of a
// recovery code: exactly Chars characters of Alphabet. It says nothing
// about whether the code is one of the user's; use it to tell the user
// "that is not a recovery code" before spending one of their attempts.
func Valid(input string) bool {
	c := compact(input)
	if len(c) != Chars {
		return false
	}
	for i := range len(c) {
		if strings.IndexByte(Alphabet, c[i]) < 0 {
			return false
		}
	}
	return true
}

// Hash returns the SHA-256 digest of the normalized code (without
// separators) behind a fixed domain prefix: the form in which codes are
// stored and looked up. Any two inputs that Normalize to the same code
// have the same hash; Hash is deterministic, so the lookup is an indexed
// equality on the hash, and the comparison happens in the database, not
// byte by byte in Go.
//
// Why no slow hash. A password hash exists to make guessing a
// low-entropy secret expensive; these codes are 80 uniformly random bits,
// so inverting one digest offline takes about 2^80 SHA-256 evaluations,
// which is out of reach, and a slow hash would only multiply that by a
// constant while costing every check. The account ID is the salt: it is
// hashed in with the code, so one guess against a stolen database tests
// one account's codes, not every account's at once (no multi-target
// discount, as ASVS 6.5.2 asks), while a check stays one indexed lookup.
// Online guessing is bounded by the rate limiter, not by the hash.
func Hash(accountID, code string) []byte {
	sum := sha256.Sum256([]byte(hashDomain + accountID + "\x00" + compact(code)))
	return sum[:]
}

// compact applies Normalize's character rules without regrouping.
func compact(input string) string {
	return strings.Map(func(r rune) rune {
		if r >= '\uff01' && r <= '\uff5e' {
			r -= '\uff01' - '!' // full-width ASCII
		}
		if r == '-' || r == '\u2212' || r == '\u200b' || r == '\u200c' || r == '\u200d' ||
			r == '\u2060' || r == '\ufeff' || unicode.IsSpace(r) || unicode.Is(unicode.Pd, r) {
			return -1
		}
		if r >= 'A' && r <= 'Z' {
			r += 'a' - 'A'
		}
		switch r {
		case 'o':
			return '0'
		case 'i', 'l':
			return '1'
		}
		return r
	}, input)
}

// format groups s by four characters (runes, so that a stray non-ASCII
// character is never split) with dashes.
func format(s string) string {
	var b strings.Builder
	n := 0
	for _, r := range s {
		if n > 0 && n%group == 0 {
			b.WriteByte('-')
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}
